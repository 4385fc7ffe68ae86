"""Demo insured people for the embedded mode: valid ID numbers and phones, Lanzhou districts."""

from __future__ import annotations

from datetime import date

from app.people.identity import make_id_number
from app.people.services import PersonInput, build_person

# name, region code, birth date, sequence (odd: man), phones, insurance type, status, unit, district, notes
DEMO_PEOPLE = [
    ("王建国", "620102", date(1968, 4, 17), 315, ["13800000001", "0931-8451234"], "employee", "active",
     "兰州市城关区某某商贸有限公司", "城关区", "多次来电询问住院报销进度"),
    ("李秀兰", "620102", date(1956, 9, 2), 228, ["13909311234"], "employee", "active", "（退休）", "城关区", None),
    ("张伟", "620103", date(1990, 1, 23), 137, ["18609312345"], "employee", "active", "甘肃某某建设集团", "七里河区", None),
    ("刘芳", "620103", date(1987, 6, 30), 246, ["13519312222"], "resident", "active", None, "七里河区", None),
    ("陈志强", "620104", date(1975, 12, 8), 411, ["15393123456", "0931-7556789"], "employee", "suspended",
     "兰州某某石化配套公司", "西固区", "单位暂停缴费"),
    ("杨丽娟", "620104", date(1982, 3, 15), 522, ["17793121111"], "resident", "arrears", None, "西固区",
     "2026 年度居民医保未缴费"),
    ("赵磊", "620105", date(1995, 7, 19), 333, ["13893123333"], "employee", "active", "兰州某某大学", "安宁区", None),
    ("孙婷", "620105", date(1998, 11, 26), 104, ["18193124444"], "resident", "active", None, "安宁区", None),
    ("周海军", "620111", date(1963, 2, 11), 219, ["13309315555"], "employee", "terminated", None, "红古区",
     "已转往外省参保"),
    ("吴桂英", "620111", date(1949, 8, 5), 308, ["0931-6223456"], "resident", "active", None, "红古区",
     "老年人，来电请放慢语速"),
    ("郑浩", "620121", date(2001, 5, 9), 151, ["15809316666"], "resident", "active", None, "永登县", None),
    ("马晓燕", "620121", date(1979, 10, 14), 262, ["13919317777"], "employee", "active", "永登县人民医院", "永登县", None),
    ("何建平", "620122", date(1971, 1, 29), 377, ["18919318888"], "resident", "suspended", None, "皋兰县", None),
    ("罗春梅", "620122", date(1985, 4, 3), 486, ["13609319999"], "resident", "active", None, "皋兰县", None),
    ("高文斌", "620123", date(1966, 6, 21), 199, ["13993120001"], "employee", "active", "榆中县某某合作社", "榆中县", None),
    ("林静", "620123", date(1993, 9, 17), 288, ["17309310002"], "resident", "active", None, "榆中县", None),
    ("梁志明", "620102", date(1958, 12, 24), 413, ["13830310003"], "employee", "active", "（退休）", "城关区",
     "门诊慢特病：高血压"),
    ("宋雅琴", "620103", date(2008, 2, 14), 226, ["13830310004"], "resident", "active", "兰州市第某中学（学生）", "七里河区",
     None),
    ("谢国栋", "620104", date(1973, 7, 7), 557, ["13830310005", "13830310006"], "employee", "arrears",
     "兰州某某运输公司", "西固区", None),
    ("韩梅", "620105", date(1988, 8, 8), 608, ["13830310007"], "employee", "active", "兰州新区某某科技公司", "安宁区", None),
]


def seed_demo_people() -> int:
    """Add the demo people to the session (the caller commits, and seeds only an empty database)."""
    for name, region, born, seq, phones, kind, status, unit, district, notes in DEMO_PEOPLE:
        build_person(PersonInput(name=name, id_number=make_id_number(region, born, seq), insurance_type=kind,
                                 insured_status=status, phones=phones, unit=unit, region=district, notes=notes))
    return len(DEMO_PEOPLE)
