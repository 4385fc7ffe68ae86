"""月度考核: for a month, each indicator against its target and the deduction the seed's rules
give (扣费), the major events (重大事件), the total; and what a manager adds — a record left out
with its reason, a force majeure day left out everywhere, a note — every one audited.

The rules, as read from seed 002 (rounding: a started point or second counts as whole):
- 满意率 below 97 %: from 95 % up, 1,000 CNY per point below 97 %; from 90 % up, 3,000 per point
  below 97 %; below 90 %, a major item (重大事项, no sum set here).
- 接通率 below 80 %: a major item; three months running, the whole service fee is withheld.
- 平均话后处理时长 at 10 s or more: 200 CNY per second over, at most 3,000.
- 工单初次处理时限: 100 CNY per ticket late, at most 1,000. 工单超期: 10,000 CNY and a major event each.
- 工时利用率: 1,000 CNY per point below 75 %, for each agent below. 排班工时: 1,000 CNY per agent short.
- 遵时度 below 95 %: 1,000 CNY per point.
- 首次应答回复时长: 1,000 CNY per breach; 人工挂机时长: 200 CNY per breach.
- 质检准确率 below 97 %: 100 CNY per point, and besides 200 per common-sense error and 100 per
  ticket-form error (in samples whose error stands after any appeal).
- 工单记录准确率: 500 CNY per wrongly recorded ticket that led to a bad outcome.
- 业务拨测准确率 below 95 %: 1,000 CNY per point.
- 投诉 (upheld, the agent responsible): the centre's own channel 200 CNY, or 1,000 for attitude;
  outside channels 500, or 2,000 for attitude.
- 培训考核: 1,000 CNY per person failing the exam, 2,000 per person failing the first retake;
  failing the second retake means the person must be replaced.
- 知识库录入及时率: 1,000 CNY per document per working day late.
- 在线满意率 has a target but no deduction in the seed."""

from __future__ import annotations

import math
import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import AssessmentMark, User
from app.refusals import Refused
from app.reports import indicators
from app.reports.indicators import EVERY, Evaluation, Period
from workflows import audit_trail

MAX_REASON = 500


class MarkRefused(Refused):
    """An exclusion or note that cannot be recorded."""


@dataclass
class Deduction:
    amount: int  # CNY
    major: bool = False
    how: str = ""  # the rule as applied, for the evidence


def _points_below(value: float | None, goal_percent: float) -> int:
    if value is None:
        return 0
    return max(0, math.ceil(round(goal_percent - value * 100, 6)))


def deduction(e: Evaluation, period: Period, history: dict[str, list[float | None]]) -> Deduction | None:
    code, figure = e.indicator.code, e.figure
    if figure is None:
        return None
    if figure.value is None:
        return Deduction(0, False, "本期无可计量的记录")
    value = figure.value
    if code == "satisfaction":
        points = _points_below(value, 97)
        if value * 100 < 90:
            return Deduction(0, True, "低于 90%：列入重大事项考核")
        per_point = 1000 if value * 100 >= 95 else 3000
        return Deduction(points * per_point, False, f"低于标准 {points} 个百分点 × {per_point:,}" if points else "达标")
    if code == "answer_rate":
        months = [value] + history.get("answer_rate", [])
        if value >= 0.80:
            return Deduction(0, False, "达标")
        running = len(months) >= 3 and all(v is not None and v < 0.80 for v in months[:3])
        withheld = "；已连续三个月低于 80%（扣除全部服务费）" if running else ""
        return Deduction(0, True, "低于 80%：按重大事项考核" + withheld)
    if code == "acw":
        over = max(0, math.ceil(round(value - 10, 6))) if value >= 10 else 0
        return Deduction(min(3000, 200 * over), False, f"超 {over} 秒 × 200，封顶 3,000" if over else "达标")
    if code == "first_handling":
        return Deduction(min(1000, 100 * int(value)), False, f"{int(value)} 件 × 100，封顶 1,000")
    if code == "overdue_ticket":
        return Deduction(10_000 * int(value), value > 0, f"{int(value)} 件 × 10,000（重大事件）")
    if code == "utilisation":
        below = indicators.below_utilisation(e.kept)
        points = sum(_points_below(u, 75) for u in below.values())
        return Deduction(1000 * points, False, f"{len(below)} 人共低 {points} 个百分点 × 1,000")
    if code == "scheduled_hours":
        return Deduction(1000 * int(value), False, f"{int(value)} 人 × 1,000")
    if code == "adherence":
        points = _points_below(value, 95)
        return Deduction(1000 * points, False, f"低 {points} 个百分点 × 1,000")
    if code == "kb_timeliness":
        days = sum(indicators.days_late(c, period.now) for c in e.kept)
        return Deduction(1000 * days, False, f"逾期共 {days} 个工作日 × 1,000")
    if code == "record_accuracy":
        bad = sum(1 for r in e.kept if r.faulty and r.bad_outcome)
        return Deduction(500 * bad, False, f"造成不良后果的记录错误 {bad} 件 × 500")
    if code == "test_call_accuracy":
        points = _points_below(value, 95)
        return Deduction(1000 * points, False, f"低 {points} 个百分点 × 1,000")
    if code == "complaints":
        from app.quality.records import COMPLAINT_COST

        upheld = [c for c in e.kept if c.upheld]
        return Deduction(sum(COMPLAINT_COST[(c.source, c.attitude)] for c in upheld), False,
                         f"成立有责 {len(upheld)} 件（按渠道与是否服务态度计）")
    if code == "training_pass_rate":
        first = sum(1 for x in e.kept if x.attempt == 1 and not x.passed)
        retake = sum(1 for x in e.kept if x.attempt == 2 and not x.passed)
        last = sum(1 for x in e.kept if x.attempt == 3 and not x.passed)
        how = f"首次未通过 {first} 人 × 1,000 + 第一次补考未通过 {retake} 人 × 2,000"
        return Deduction(1000 * first + 2000 * retake, False,
                         how + (f"；第二次补考未通过 {last} 人，须解除劳动合同或更换坐席" if last else ""))
    if code == "qa_accuracy":
        points = _points_below(value, 97)
        counted = [s for s in e.kept if s.correct is False]
        common = sum(1 for s in counted if "common_sense" in s.error_codes)
        form = sum(1 for s in counted if "ticket_form" in s.error_codes)
        return Deduction(100 * points + 200 * common + 100 * form, False,
                         f"低 {points} 点 × 100 + 基本常识错误 {common} × 200 + 工单填写错误 {form} × 100")
    if code == "chat_first_response":
        return Deduction(1000 * int(value), False, f"{int(value)} 次 × 1,000")
    if code == "chat_close":
        return Deduction(200 * int(value), False, f"{int(value)} 次 × 200")
    return Deduction(0, False, "招标文件未规定扣费")


@dataclass
class Line:
    evaluation: Evaluation
    deduction: Deduction | None
    notes: list[AssessmentMark]


@dataclass
class Assessment:
    period: Period
    lines: list[Line]
    days: list[AssessmentMark]  # force majeure days

    @property
    def total(self) -> int:
        return sum(line.deduction.amount for line in self.lines if line.deduction)

    @property
    def major_events(self) -> list[Line]:
        return [line for line in self.lines if line.deduction and line.deduction.major]


def marks(month: date) -> list[AssessmentMark]:
    return list(db.session.scalars(select(AssessmentMark).where(AssessmentMark.month == month)
                                   .order_by(AssessmentMark.created_at, AssessmentMark.id)))


def apply_marks(period: Period) -> list[AssessmentMark]:
    """Put the exclusions of the period's months into it; returns all their marks."""
    found = [mark for month in period.months for mark in marks(month)]
    for mark in found:
        if mark.kind != "exclude":
            continue
        if mark.indicator == EVERY and mark.item.startswith("day:"):
            period.excluded_days.add(date.fromisoformat(mark.item[4:]))
        else:
            period.excluded_items.setdefault(mark.indicator, set()).add(mark.item)
    return found


def _previous_months(month: date, count: int) -> list[date]:
    months, current = [], month
    for _ in range(count):
        current = (current - timedelta(days=1)).replace(day=1)
        months.append(current)
    return months


def assess(month: date, now: datetime, agent_ids: list[int] | None = None) -> Assessment:
    period = Period.of_month(month, now, agent_ids)
    found = apply_marks(period)
    history = {"answer_rate": []}
    for earlier in _previous_months(period.month, 2):
        before = Period.of_month(earlier, now, agent_ids)
        apply_marks(before)
        history["answer_rate"].append(indicators.evaluate(indicators.BY_CODE["answer_rate"], before).figure.value)
    lines = []
    for evaluation in indicators.compute_all(period):
        notes = [m for m in found if m.kind == "note" and m.indicator == evaluation.indicator.code]
        lines.append(Line(evaluation, deduction(evaluation, period, history), notes))
    days = [m for m in found if m.kind == "exclude" and m.indicator == EVERY]
    return Assessment(period, lines, days)


def _reason(text: str) -> str:
    text = " ".join((text or "").split())
    if not text:
        raise MarkRefused("请填写理由")
    if len(text) > MAX_REASON:
        raise MarkRefused(f"理由最多 {MAX_REASON} 个字")
    return text


def exclude(user: User, month: date, indicator: str, item: str, reason: str, ip: str | None) -> AssessmentMark:
    """Leave a record out of an indicator (or, with indicator ``*`` and item ``day:…``, a force
    majeure day out of every indicator)."""
    reason = _reason(reason)
    if indicator == EVERY:
        try:
            day = date.fromisoformat(item.removeprefix("day:"))
        except ValueError as exc:
            raise MarkRefused("请选择日期") from exc
        if day.replace(day=1) != month:
            raise MarkRefused("日期不在考核月份内")
        item, label = f"day:{day.isoformat()}", f"不可抗力日 {day.isoformat()}"
    else:
        found = indicators.BY_CODE.get(indicator)
        if found is None or not found.measured or ":" not in item:
            raise MarkRefused("没有这项指标或记录")
        label = f"{found.name} 的记录 {item}"
    existing = db.session.scalar(select(AssessmentMark).where(
        AssessmentMark.month == month, AssessmentMark.indicator == indicator, AssessmentMark.item == item,
        AssessmentMark.kind == "exclude"))
    if existing is not None:
        raise MarkRefused("该记录已排除")
    mark = AssessmentMark(month=month, indicator=indicator, item=item, kind="exclude", reason=reason,
                          author_id=user.id)
    db.session.add(mark)
    db.session.flush()
    audit_trail.append(audit_trail.Actor.of(user, ip, "manager"), "assessment.exclude",
                       summary=f"{month:%Y-%m} 考核排除{label}：{reason[:60]}",
                       data={"mark_id": mark.id, "month": month.isoformat(), "indicator": indicator, "item": item,
                             "reason": reason})
    db.session.commit()
    return mark


def note(user: User, month: date, indicator: str, text: str, ip: str | None) -> AssessmentMark:
    text = _reason(text)
    if indicator not in indicators.BY_CODE:
        raise MarkRefused("没有这项指标")
    mark = AssessmentMark(month=month, indicator=indicator, item=f"note:{uuid.uuid4().hex[:12]}", kind="note",
                          reason=text, author_id=user.id)
    db.session.add(mark)
    db.session.flush()
    audit_trail.append(audit_trail.Actor.of(user, ip, "manager"), "assessment.note",
                       summary=f"{month:%Y-%m} 考核备注（{indicators.BY_CODE[indicator].name}）：{text[:60]}",
                       data={"mark_id": mark.id, "month": month.isoformat(), "indicator": indicator, "text": text})
    db.session.commit()
    return mark


def remove(user: User, mark_id: int, ip: str | None) -> AssessmentMark:
    mark = db.session.get(AssessmentMark, mark_id)
    if mark is None:
        raise MarkRefused("该标记已不存在")
    audit_trail.append(audit_trail.Actor.of(user, ip, "manager"), "assessment.unmark",
                       summary=f"{mark.month:%Y-%m} 考核撤销{'排除' if mark.kind == 'exclude' else '备注'} {mark.item}",
                       data={"mark_id": mark.id, "month": mark.month.isoformat(), "indicator": mark.indicator,
                             "item": mark.item, "reason": mark.reason})
    db.session.delete(mark)
    db.session.commit()
    return mark


class MonthRefused(Refused):
    """A month the assessment cannot be given for: 400 when it is not a month, 404 when there is no
    assessment for it (not begun yet, or before the platform's time)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


MONTH = re.compile(r"^([0-9]{4})-(0[1-9]|1[0-2])$")


def month_of(text: str, now: datetime) -> date:
    """`YYYY-MM`, a month that has begun (the current one is reported so far)."""
    from app.timefmt import local_today

    found = MONTH.match(text or "")
    if found is None:
        raise MonthRefused("month 须为 YYYY-MM")
    year, number = int(found.group(1)), int(found.group(2))
    if year < 2000:
        raise MonthRefused("没有该月份的考核结果", 404)
    month = date(year, number, 1)
    if month > local_today(now).replace(day=1):
        raise MonthRefused("该月份尚未开始，没有考核结果", 404)
    return month


def as_json(result: Assessment) -> dict:
    """The month's assessment as the integration API returns it: each indicator's figure against
    its target, the deduction with the rule applied, the total and the major events."""
    lines = []
    for line in result.lines:
        evaluation, figure, cut = line.evaluation, line.evaluation.figure, line.deduction
        lines.append({
            "code": evaluation.indicator.code, "name": evaluation.indicator.name,
            "target": evaluation.indicator.target, "measured": figure is not None,
            "value": figure.value if figure else None, "shown": figure.shown if figure else None,
            "met": figure.met if figure else None, "numerator": figure.numerator if figure else None,
            "denominator": figure.denominator if figure else None, "left_out": evaluation.left_out,
            "deduction_cny": cut.amount if cut else 0, "major": bool(cut and cut.major),
            "rule": cut.how if cut else None,
            "notes": [m.reason for m in line.notes]})
    return {"month": result.period.month.strftime("%Y-%m"), "total_deduction_cny": result.total,
            "major_events": len(result.major_events), "force_majeure_days": [m.item for m in result.days],
            "indicators": lines}
