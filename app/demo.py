"""Demo data for the embedded mode: a Lanzhou-like organisation and one login per role."""

from __future__ import annotations

from sqlalchemy import func, select

from app.auth.passwords import hash_password
from app.extensions import db
from app.models import CallQueue, Department, IvrNode, Skill, Team, User, UserSkill

DEMO_PASSWORD = "demo12393"  # noqa: S105 - printed on start-up; demo installations only

DEPARTMENTS = [
    # code, name, kind, parent code
    ("YB", "兰州市医疗保障服务中心", "centre", None),
    ("RX", "12393 医保服务热线", "section", "YB"),
    ("DY", "待遇保障科", "section", "YB"),
    ("CB", "参保登记科", "section", "YB"),
    ("JJ", "基金稽核科", "section", "YB"),
    ("YY", "医药服务管理科", "section", "YB"),
    ("CG", "城关区医疗保障局", "district_bureau", "YB"),
    ("QLH", "七里河区医疗保障局", "district_bureau", "YB"),
    ("XG", "西固区医疗保障局", "district_bureau", "YB"),
    ("AN", "安宁区医疗保障局", "district_bureau", "YB"),
    ("CG-JD", "城关区医保局 经办窗口", "section", "CG"),
]

SKILLS = [
    ("zh", "普通话", "language"), ("en", "英语", "language"),
    ("voice", "语音", "channel"), ("chat", "在线客服", "channel"), ("video", "视频", "channel"),
    ("enrol", "参保登记", "business"), ("benefit", "待遇报销", "business"),
    ("offsite", "异地就医", "business"), ("complaint", "投诉建议", "business"),
]

# username, name, roles, department codes, team, skills
USERS = [
    ("admin", "系统管理员", ["admin"], ["YB"], None, {}),
    ("agent1", "李娜", ["agent"], ["RX"], "一班", {"zh": 5, "voice": 4, "benefit": 3, "chat": 3, "video": 3}),
    ("agent2", "王强", ["agent"], ["RX"], "一班", {"zh": 4, "en": 4, "voice": 3, "offsite": 4}),
    ("lead1", "赵敏", ["team_lead"], ["RX"], "一班", {"zh": 5, "voice": 5, "complaint": 5}),
    ("qa1", "陈静", ["qa"], ["RX"], None, {}),
    ("handler_dy", "刘洋", ["dept_handler"], ["DY"], None, {}),
    ("handler_cg", "张伟", ["dept_handler"], ["CG"], None, {}),
    ("manager1", "孙丽", ["manager"], ["YB"], None, {}),
    ("auditor1", "周敏", ["auditor"], ["YB"], None, {}),
]


def has_any_user() -> bool:
    return (db.session.scalar(select(func.count(User.id))) or 0) > 0


def seed_demo_data() -> bool:
    """Fill an empty database with the demo organisation; False when there already are users."""
    if has_any_user():
        return False
    depts: dict[str, Department] = {}
    for order, (code, name, kind, parent) in enumerate(DEPARTMENTS):
        dept = Department(code=code, name=name, kind=kind, parent=depts.get(parent) if parent else None,
                          sort_order=order, active=True)
        db.session.add(dept)
        depts[code] = dept
    skills = {code: Skill(code=code, name=name, kind=kind, active=True) for code, name, kind in SKILLS}
    db.session.add_all(skills.values())
    team = Team(name="一班", department=depts["RX"], active=True)
    db.session.add(team)
    password_hash = hash_password(DEMO_PASSWORD)
    for username, name, roles, dept_codes, team_name, levels in USERS:
        user = User(username=username, display_name=name, password_hash=password_hash, active=True,
                    must_change_password=False, failed_login_count=0, session_version=1,
                    team=team if team_name else None)
        user.set_roles(roles)
        user.departments = [depts[c] for c in dept_codes]
        user.skills = [UserSkill(skill=skills[c], level=lvl) for c, lvl in levels.items()]
        db.session.add(user)
        if "team_lead" in roles:
            team.leader = user
    # The five queues of the voice menu: key → queue, served by the business skill, with the
    # general voice skill as overflow after a minute and a callback offer after three.
    for code, name, skill, digit in (("enrol", "参保登记", "enrol", "1"), ("benefit", "待遇报销", "benefit", "2"),
                                     ("offsite", "异地就医", "offsite", "3"), ("complaint", "投诉建议", "complaint", "4"),
                                     ("english", "English", "en", "9")):
        db.session.add(CallQueue(code=code, name=name, skill=skills[skill], min_level=1, overflow_skill=skills["voice"],
                                 overflow_after_seconds=60, max_wait_seconds=180, ivr_digit=digit, active=True))
    # The chat channels' queues (微信, 微博, 网页), served by the 在线客服 skill: agent1 takes chats.
    for code, name in (("wechat", "微信客服"), ("weibo", "微博客服"), ("web_chat", "网页客服")):
        db.session.add(CallQueue(code=code, name=name, skill=skills["chat"], min_level=1, active=True))
    # English web chats (the page in English) go to the 英语坐席: agent2 speaks English.
    db.session.add(CallQueue(code="web_chat_en", name="English web chat", skill=skills["en"], min_level=1, active=True))
    # 视频服务 (/video/): agent1 takes video sessions; in English they go to the English speaker.
    db.session.add(CallQueue(code="video", name="视频客服", skill=skills["video"], min_level=1, active=True))
    db.session.add(CallQueue(code="video_en", name="English video", skill=skills["en"], min_level=1, active=True))
    from app.chats.settings import DEFAULT_CANNED, DEFAULT_CANNED_EN
    from app.models import CannedReply

    db.session.add_all(CannedReply(text=text, position=n) for n, text in enumerate(DEFAULT_CANNED, 1))
    db.session.add_all(CannedReply(text=text, position=n, language="en")
                       for n, text in enumerate(DEFAULT_CANNED_EN, len(DEFAULT_CANNED) + 1))
    db.session.flush()
    _seed_voice_menu()
    _seed_shifts()
    from app.people.demo import seed_demo_people

    seed_demo_people()
    db.session.commit()
    from app.knowledge.demo import seed_knowledge

    seed_knowledge()  # the demo FAQ, published, so search and intake suggestions work at once
    return True


def _seed_shifts() -> None:
    """This week and the next on the 排班表: agent1 early, agent2 late, lead1 in the office hours."""
    from datetime import timedelta

    from app.models import Shift
    from app.timefmt import local_today
    from app.workforce.schedule import parse_time, shift_times
    from workflows import clock

    users = {u.username: u for u in db.session.scalars(select(User))}
    today = local_today(clock.now())
    monday = today - timedelta(days=today.weekday())
    plan = (("agent1", "08:00", "16:00", "早班"), ("agent2", "16:00", "00:00", "晚班"), ("lead1", "08:30", "17:30", ""))
    for n in range(14):
        day = monday + timedelta(days=n)
        for username, start, end, label in plan:
            if username == "lead1" and day.weekday() >= 5:
                continue
            begins, ends = shift_times(day, parse_time(start), parse_time(end))
            db.session.add(Shift(user_id=users[username].id, starts_at=begins, ends_at=ends, label=label,
                                 updated_at=clock.now()))


def _seed_voice_menu() -> None:
    """The demo voice menu: one key per queue, a self-service message and a callback request."""
    queues = {q.code: q for q in db.session.scalars(select(CallQueue))}
    root = IvrNode(kind="menu", label="欢迎", prompt=(
        "您好，欢迎致电12393医保服务热线。参保登记请按1，待遇报销请按2，异地就医请按3，投诉建议请按4，"
        "办公时间与地址请按0，预约回拨请按8，For English service, press 9."))
    db.session.add(root)
    db.session.flush()
    for digit, label, code in (("1", "参保登记", "enrol"), ("2", "待遇报销", "benefit"), ("3", "异地就医", "offsite"),
                               ("4", "投诉建议", "complaint"), ("9", "English", "english")):
        db.session.add(IvrNode(parent_id=root.id, digit=digit, kind="queue", label=label, queue_id=queues[code].id,
                               prompt="正在为您转接人工服务，请稍候。"))
    db.session.add(IvrNode(parent_id=root.id, digit="0", kind="message", label="办公时间与地址",
                           prompt="医保经办大厅工作日上午九点至十二点、下午一点半至五点半办公。"))
    db.session.add(IvrNode(parent_id=root.id, digit="8", kind="callback", label="预约回拨",
                           prompt="已为您登记预约回拨，我们将在工作时间内尽快回电。"))


def demo_logins() -> list[tuple[str, str, str]]:
    from app.roles import ROLE_LABELS

    return [(u, DEMO_PASSWORD, "、".join(ROLE_LABELS[r] for r in roles)) for u, _n, roles, *_ in USERS]
