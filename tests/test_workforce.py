"""排班与考勤: a hand-built week in the National Day holiday (three holidays, a night shift across
midnight, the adjusted working Saturday) — the adherence and utilisation the platform computes
equal the ones worked out by hand below; the schedule is edited in the grid and imported from
Excel, all or nothing."""

from __future__ import annotations

import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from app.extensions import db
from app.models import AgentPresence, AuditEntry, Contact, Shift
from app.workforce import attendance
from tests import factories
from tests.conftest import csrf_token
from workflows import clock

BEIJING = ZoneInfo("Asia/Shanghai")


def local(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=BEIJING)


def shift(user, start: str, end: str, label: str = "") -> Shift:
    row = Shift(user_id=user.id, starts_at=local(start), ends_at=local(end), label=label, updated_at=local(start))
    db.session.add(row)
    db.session.commit()
    return row


def states(user, *steps: tuple[str, str]) -> None:
    """The agent's state moves at these local times (as the bar and the switch would move it)."""
    from telephony_adapter import presence

    for at, state in steps:
        row = presence.presence(user.id, lock=True)
        presence.move(row, state, local(at), reason="meal" if state == "not_ready" else None)
        db.session.commit()


@pytest.fixture
def week(app):
    team = factories.team("一班")
    li = factories.user("li", ["agent"], display_name="李娜")
    wang = factories.user("wang", ["agent"], display_name="王强")
    li.team_id = wang.team_id = team.id
    db.session.commit()
    # Mon 10-05 (holiday): 08:30–17:30, in at 08:31, out at 17:29 — both on time.
    shift(li, "2026-10-05 08:30", "2026-10-05 17:30", "早班")
    states(li, ("2026-10-05 08:31", "ready"), ("2026-10-05 09:00", "talking"), ("2026-10-05 09:30", "after_call_work"),
           ("2026-10-05 09:31", "ready"), ("2026-10-05 12:00", "not_ready"), ("2026-10-05 13:00", "ready"),
           ("2026-10-05 14:10", "talking"), ("2026-10-05 14:30", "ready"), ("2026-10-05 17:29", "logged_out"))
    # a web chat 14:00–14:20, half under the 14:10 call: counted once
    db.session.add(Contact(channel="web", source="web", call_id="w:1", party="w1", state="ended", ivr_path="",
                           agent_id=li.id, started_at=local("2026-10-05 13:59"), offered_at=local("2026-10-05 14:00"),
                           ended_at=local("2026-10-05 14:20")))
    # Tue 10-06 22:00 – Wed 06:00 (night, holiday): in at 22:05 (late), out at 06:00; a call across midnight.
    shift(li, "2026-10-06 22:00", "2026-10-07 06:00", "夜班")
    states(li, ("2026-10-06 22:05", "ready"), ("2026-10-06 23:50", "talking"), ("2026-10-07 00:20", "after_call_work"),
           ("2026-10-07 00:21", "ready"), ("2026-10-07 06:00", "logged_out"))
    # Sat 10-10 (调休 working day): in at 08:25, out at 17:00 (early).
    shift(li, "2026-10-10 08:30", "2026-10-10 17:30", "早班")
    states(li, ("2026-10-10 08:25", "ready"), ("2026-10-10 10:00", "talking"), ("2026-10-10 11:00", "ready"),
           ("2026-10-10 17:00", "logged_out"))
    # Sun 10-11 08:30–12:30, in progress at 10:00 when the lead looks: only its start counts yet.
    shift(li, "2026-10-11 08:30", "2026-10-11 12:30")
    states(li, ("2026-10-11 08:30", "ready"))
    # 王强: Thu 10-08 08:30–17:30 and never signed in.
    shift(wang, "2026-10-08 08:30", "2026-10-08 17:30")
    return {"li": li, "wang": wang, "team": team}


NOW = "2026-10-11 10:00"


def test_adherence_and_utilisation_of_a_hand_built_week_equal_the_hand_computed_values(week):
    li, wang = week["li"], week["wang"]
    figures = attendance.by_agent(local(NOW).date(), local(NOW))
    mine = figures[li.id]
    days = [(r.in_due, r.in_on_time, r.out_due, r.out_on_time) for r in mine.days]
    assert days == [(True, True, True, True),  # holiday, both on time
                    (True, False, True, True),  # night shift: 3 minutes late in, on time out
                    (True, True, True, False),  # 调休 Saturday: out 30 minutes early
                    (True, True, False, False)]  # in progress: its end is not due yet
    assert [round(r.serving_seconds / 60) for r in mine.days] == [61, 31, 60, 0]
    assert [r.signed_in_at for r in mine.days[:3]] == [local("2026-10-05 08:31"), local("2026-10-06 22:05"),
                                                       local("2026-10-10 08:25")]
    assert mine.days[1].signed_out_at == local("2026-10-07 06:00")
    assert mine.days[3].signed_out_at is None  # still signed in
    assert mine.adherence == pytest.approx(5 / 7)
    # serving 61 + 31 + 60 minutes over the three ended shifts' 9 + 8 + 9 hours
    assert mine.utilisation == pytest.approx((61 + 31 + 60) * 60 / ((9 + 8 + 9) * 3600))
    assert mine.scheduled_hours == pytest.approx(9 + 8 + 9 + 4)
    assert figures[wang.id].adherence == 0 and figures[wang.id].utilisation == 0
    assert attendance.quarter_hours(local(NOW).date()) == {li.id: pytest.approx(30), wang.id: pytest.approx(9)}
    assert figures[li.id].days[1].shift.label == "夜班"


def test_the_month_page_shows_each_agent_and_the_team_and_one_agents_days(client, auth, week):
    factories.user("sun", ["team_lead"])
    auth.login("sun")
    with clock.frozen_at(local(NOW)):
        page = client.get("/workforce/attendance", query_string={"month": "2026-10"}).get_data(as_text=True)
        days = client.get("/workforce/attendance", query_string={"month": "2026-10", "agent": week["li"].id}
                          ).get_data(as_text=True)
    table = page[page.index('id="attendance-table"'):]
    li_row = table[table.index("李娜"):table.index("</tr>", table.index("李娜"))]
    assert "71.4%" in li_row and "9.7%" in li_row  # 5/7; 152 min / 26 h
    assert "30.0" in li_row
    assert "一班 合计" in table and "55.6%" in table and "7.2%" in table  # 5/9; 152 min / 35 h
    assert days.count("迟到") == 1 and days.count("早退") == 1 and "10-06 22:05" in days and "夜班" in days


def test_the_week_grid_shows_the_shifts_holidays_coverage_and_hours(client, auth, week):
    factories.user("sun", ["team_lead"])
    auth.login("sun")
    with clock.frozen_at(local(NOW)):
        page = client.get("/workforce/schedule", query_string={"week": "2026-10-07"}).get_data(as_text=True)
    assert "2026-10-05 – 2026-10-11" in page
    assert page.count("节假日") >= 3 and "调休上班" in page
    assert "22:00–06:00<sup>+1</sup>" in page and "夜班" in page
    # at 02:30 on Wednesday only 李娜's night shift covers the line; on Thursday 02:30 nobody
    assert 'title="2:00–3:00 在岗 1 人"' in page and 'class="gap" title="2:00–3:00 在岗 0 人"' in page


def test_a_lead_adds_moves_and_deletes_a_shift_and_overlaps_are_refused(client, auth, week):
    factories.user("sun", ["team_lead"])
    auth.login("sun")
    token = csrf_token(client, "/workforce/schedule")
    wang = week["wang"]
    made = client.post("/workforce/shifts", data={"csrf_token": token, "agent_id": wang.id, "day": "2026-10-09",
                                                  "start": "22:00", "end": "06:00", "label": "夜班"},
                       follow_redirects=True).get_data(as_text=True)
    assert "班次已保存。" in made
    night = db.session.scalar(select(Shift).where(Shift.user_id == wang.id, Shift.label == "夜班"))
    assert (night.starts_at, night.ends_at) == (local("2026-10-09 22:00"), local("2026-10-10 06:00"))
    clash = client.post("/workforce/shifts", data={"csrf_token": token, "agent_id": wang.id, "day": "2026-10-10",
                                                   "start": "05:00", "end": "09:00"}, follow_redirects=True)
    assert "与已有班次重叠（10-09 22:00 起）" in clash.get_data(as_text=True)
    moved = client.post(f"/workforce/shifts/{night.id}", data={"csrf_token": token, "agent_id": wang.id,
                                                               "day": "2026-10-09", "start": "20:00", "end": "04:00"},
                        follow_redirects=True)
    assert "班次已保存。" in moved.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Shift, night.id).ends_at == local("2026-10-10 04:00")
    night_id = night.id
    client.post(f"/workforce/shifts/{night_id}/delete", data={"csrf_token": token})
    db.session.expire_all()
    assert db.session.get(Shift, night_id) is None
    actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("schedule.%"))
                                 .order_by(AuditEntry.seq)).all()
    assert actions == ["schedule.shift_saved", "schedule.shift_saved", "schedule.shift_deleted"]


def _sheet(rows: list[list]) -> io.BytesIO:
    book = Workbook()
    book.active.append(["账号*", "日期*", "上班*", "下班*", "班次"])
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    buffer.seek(0)
    return buffer


def test_an_excel_schedule_is_imported_whole_or_not_at_all_and_again_changes_nothing(client, auth, week):
    factories.user("boss", ["manager"])
    auth.login("boss")
    token = csrf_token(client, "/workforce/schedule/import")
    before = db.session.scalar(select(func.count(Shift.id)))
    bad = [["wang", "2026-10-12", "08:30", "17:30", "早班"],
           ["nobody", "2026-10-12", "08:30", "17:30", ""],
           ["wang", "2026-10-12", "17:00", "23:00", "晚班"],  # overlaps row 2
           ["li", "2026-10-12", "8点半", "17:30", ""]]
    page = client.post("/workforce/schedule/import", data={"csrf_token": token, "file": (_sheet(bad), "排班.xlsx")},
                       content_type="multipart/form-data").get_data(as_text=True)
    assert "找不到坐席账号“nobody”" in page and "与第 2 行的班次重叠" in page and "上下班时间须为 08:30" in page
    assert db.session.scalar(select(func.count(Shift.id))) == before  # nothing written
    good = [["wang", "2026-10-12", "08:30", "17:30", "早班"],
            ["li", datetime(2026, 10, 12), "22:00", "06:00", "夜班"]]  # a date cell, as Excel keeps it
    done = client.post("/workforce/schedule/import", data={"csrf_token": token, "file": (_sheet(good), "排班.xlsx")},
                       content_type="multipart/form-data", follow_redirects=True).get_data(as_text=True)
    assert "已导入 2 个班次（0 个已在排班中，未改动）。" in done
    again = client.post("/workforce/schedule/import", data={"csrf_token": token, "file": (_sheet(good), "排班.xlsx")},
                        content_type="multipart/form-data", follow_redirects=True).get_data(as_text=True)
    assert "已导入 0 个班次（2 个已在排班中，未改动）。" in again
    assert db.session.scalar(select(func.count(Shift.id))) == before + 2
    night = db.session.scalar(select(Shift).where(Shift.user_id == week["li"].id, Shift.label == "夜班",
                                                  Shift.starts_at == local("2026-10-12 22:00")))
    assert night.ends_at == local("2026-10-13 06:00")
    junk = client.post("/workforce/schedule/import", data={"csrf_token": token,
                                                           "file": (io.BytesIO(b"not excel"), "x.xlsx")},
                       content_type="multipart/form-data").get_data(as_text=True)
    assert "文件不是有效的 Excel (.xlsx) 文件" in junk


def test_agents_may_not_edit_the_schedule(client, auth, week):
    auth.login("li")
    assert client.get("/workforce/schedule").status_code == 403
    assert db.session.get(AgentPresence, week["li"].id) is not None


def test_the_demo_starts_with_two_weeks_on_the_schedule(client, auth, app):
    from app.demo import seed_demo_data

    assert seed_demo_data()
    auth.login("lead1", "demo12393")
    page = client.get("/workforce/schedule").get_data(as_text=True)
    assert page.count("<small>早班</small>") == 7 and page.count("<small>晚班</small>") == 7
    assert "16:00–00:00<sup>+1</sup>" in page
