"""Benchmark: importing insured people (参保人) — a 100,000-row .xlsx, end to end.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/hotline_bench_people .venv/bin/python bench/people_import.py \
        [--rows 100000] [--no-reimport]

It generates a valid workbook (ID numbers with correct check digits, one or two phones per person,
both insurance types, every status), then runs the import through the service functions exactly
as the rq jobs do (app/people/imports.py with background=False): read the file, check every row
(ID format and check digit, phones, duplicates, existing people: one query per chunk), write the
encrypted check result, then write in chunks of 1,000 rows per transaction (bulk INSERT … RETURNING
for people, bulk inserts for phones, AES-GCM and HMAC computed in Python). Generating the file is
not timed. Then the same file is imported again: every row is found unchanged and nothing is
written (the idempotent path). The last line printed is one JSON object; `import_rows_per_s` is
rows / (check + write seconds).

The benchmark writes only into a database of its own: it refuses one that holds users other than
its own `bench_people` or people it did not import, and empties its own people before each run.
DATABASE_URL unset: a temporary SQLite file. REDIS_URL is not needed (no job is queued).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

BENCH_USER = "bench_people"
REGIONS = ["620102", "620103", "620104", "620105", "620111", "620121", "620122", "620123", "110105", "440305"]
DISTRICTS = ["城关区", "七里河区", "西固区", "安宁区", "红古区", "永登县", "皋兰县", "榆中县"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰建国志红梅海波春燕文斌辉林晓宁"
STATUSES = ["参保缴费"] * 14 + ["暂停参保", "欠费", "终止参保"]


def workbook(rows: int) -> bytes:
    from openpyxl import Workbook

    from app.people.identity import make_id_number

    rng = random.Random(20261123)
    book = Workbook(write_only=True)
    sheet = book.create_sheet("参保人")
    sheet.append(["姓名", "身份证号", "手机号码", "参保类型", "参保状态", "单位", "区县", "备注"])
    for i in range(rows):
        # (birth day, sequence) is distinct for every row: 1,000 sequence numbers per birth day.
        born = date(1940, 1, 1) + timedelta(days=(i // 1000) * 97 % 24000)
        id_number = make_id_number(REGIONS[i % len(REGIONS)], born, i % 1000)
        phones = f"13{i:09d}" + (f"；0931-{8000000 + i % 1000000}" if i % 3 == 0 else "")
        employee = rng.random() < 0.45
        name = SURNAMES[rng.randrange(len(SURNAMES))] + "".join(rng.choice(GIVEN) for _ in range(rng.randint(1, 2)))
        sheet.append([name, id_number, phones, "职工医保" if employee else "城乡居民医保", rng.choice(STATUSES),
                      f"兰州市第{i % 500}号单位" if employee else "", DISTRICTS[i % len(DISTRICTS)],
                      "慢特病" if i % 50 == 0 else ""])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _prepare():
    """The bench's own user; refuse a database holding anyone else's users or people."""
    from sqlalchemy import delete, func, select

    from app.auth.passwords import hash_password
    from app.extensions import db
    from app.models import Person, PersonAccess, PersonChange, PersonImport, PersonPhone, User

    others = db.session.scalar(select(func.count()).select_from(User).where(User.username != BENCH_USER))
    bench = db.session.scalar(select(User).where(User.username == BENCH_USER))
    foreign_imports = db.session.scalar(select(func.count()).select_from(PersonImport).where(
        PersonImport.created_by_id != (bench.id if bench else -1)))
    foreign_people = db.session.scalar(select(func.count()).select_from(Person).where(Person.import_id.is_(None)))
    if others or foreign_imports or foreign_people:
        raise SystemExit(f"refusing to run: the database holds {others} other users, {foreign_imports} other imports and "
                         f"{foreign_people} people not imported by the benchmark — give it a database of its own")
    for model in (PersonAccess, PersonChange, PersonPhone, Person, PersonImport):  # the previous run's data
        db.session.execute(delete(model))
    if bench is None:
        bench = User(username=BENCH_USER, display_name="导入基准测试", password_hash=hash_password(os.urandom(16).hex()),
                     active=True, must_change_password=False, failed_login_count=0, session_version=1)
        bench.set_roles(["manager"])
        db.session.add(bench)
    db.session.commit()
    return bench


def run_import(user, data: bytes) -> tuple[object, float, float]:
    from app.people import imports

    started = time.perf_counter()
    imp = imports.start(user, "bench-people.xlsx", data, "strict", background=False)
    checked = time.perf_counter()
    if imp.status != "previewed":
        raise SystemExit(f"import {imp.id} ended as {imp.status}: {imp.message}")
    imports.commit(user, imp, "strict", background=False)
    written = time.perf_counter()
    if imp.status != "done":
        raise SystemExit(f"import {imp.id} ended as {imp.status}: {imp.message}")
    return imp, checked - started, written - checked


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000, help="rows in the generated workbook (default 100000)")
    parser.add_argument("--no-reimport", action="store_true", help="skip importing the same file a second time")
    args = parser.parse_args()

    folder = tempfile.mkdtemp(prefix="hotline-bench-people-")
    if not os.environ.get("DATABASE_URL"):
        print(f"DATABASE_URL unset: temporary SQLite in {folder}")
    os.environ["HOTLINE_INSTANCE_PATH"] = folder
    os.environ.setdefault("HOTLINE_ENV", "development")
    os.environ.setdefault("SECRET_KEY", "bench-people-only")
    os.environ.setdefault("HOTLINE_DATA_KEY", "bench-people-data-key-only-for-benchmarks")
    os.environ["HOTLINE_SEED_DEMO_DATA"] = "0"

    from sqlalchemy import func, select

    from app import create_app
    from app.extensions import db
    from app.models import Person, PersonPhone
    from app.people.identity import make_id_number
    from app.people.services import id_hash
    from app.setup import apply_migrations
    from config import config_from_env

    app = create_app(config_from_env())
    with app.app_context():
        apply_migrations()
        dialect = db.engine.dialect.name
        user = _prepare()
        t0 = time.perf_counter()
        data = workbook(args.rows)
        print(f"generated {args.rows:,} rows ({len(data) / 1e6:.1f} MB .xlsx) in {time.perf_counter() - t0:.1f} s")

        imp, check_s, write_s = run_import(user, data)
        people = db.session.scalar(select(func.count()).select_from(Person))
        phones = db.session.scalar(select(func.count()).select_from(PersonPhone))
        assert people == args.rows == imp.created_rows, (people, imp.created_rows)
        seventh = make_id_number(REGIONS[7], date(1940, 1, 1), 7)  # row 7 of the generated file
        assert db.session.scalar(select(Person.id).where(Person.id_number_hash == id_hash(seventh))) is not None
        total = check_s + write_s
        print(f"import on {dialect}: {args.rows:,} rows, {phones:,} phones — check (read + validate + plan) "
              f"{check_s:.1f} s, write {write_s:.1f} s, total {total:.1f} s = {args.rows / total:,.0f} rows/s")
        figures = {"database": dialect, "rows": args.rows, "seconds": round(total, 2),
                   "check_seconds": round(check_s, 2), "write_seconds": round(write_s, 2),
                   "import_rows_per_s": round(args.rows / total), "write_rows_per_s": round(args.rows / write_s)}
        if not args.no_reimport:
            again, check2, write2 = run_import(user, data)
            assert again.written_rows == 0 and db.session.scalar(select(func.count()).select_from(Person)) == people
            print(f"re-import of the same file: nothing written, {check2 + write2:.1f} s = "
                  f"{args.rows / (check2 + write2):,.0f} rows/s")
            figures["reimport_rows_per_s"] = round(args.rows / (check2 + write2))
        db.session.remove()
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
