"""运营报表: a day's, a week's or a month's work — contacts by hour (or day) and channel, the calls'
answer rate, service level, abandoned, handle and wrap-up times, tickets by category and by
department with each department's on-time acceptance and completion (按时签收 / 按时办结), the
re-dispatch rate, satisfaction, and the hot topics (categories and words most asked about, against
the period before)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from app.extensions import db
from app.models import Contact, Department, SlaEvent, Ticket
from app.models.tickets import CATEGORIES, CHANNELS
from app.monitor.services import call_figures
from app.timefmt import display_zone, local_midnight
from app.workforce.attendance import month_bounds
from telephony_adapter import chats

KINDS = {"day": "日报", "week": "周报", "month": "月报"}
HOT_WORDS = 10


@dataclass(frozen=True)
class Span:
    kind: str
    first: date
    start: datetime
    end: datetime

    @property
    def title(self) -> str:
        if self.kind == "day":
            return f"{self.first:%Y-%m-%d} 日报"
        if self.kind == "week":
            return f"{self.first:%Y-%m-%d} 起周报"
        return f"{self.first:%Y 年 %m 月}月报"

    def previous(self) -> Span:
        return span(self.kind, self.first - timedelta(days=1))


def span(kind: str, day: date) -> Span:
    if kind == "week":
        first = day - timedelta(days=day.weekday())
        return Span(kind, first, local_midnight(first), local_midnight(first + timedelta(days=7)))
    if kind == "month":
        start, end = month_bounds(day)
        return Span(kind, day.replace(day=1), start, end)
    return Span("day", day, local_midnight(day), local_midnight(day + timedelta(days=1)))


def _buckets(s: Span) -> list[tuple[str, datetime, datetime]]:
    """Hours of a day; days of a week or month."""
    if s.kind == "day":
        return [(f"{h:02d}", s.start + timedelta(hours=h), s.start + timedelta(hours=h + 1)) for h in range(24)]
    days = (s.end - s.start).days
    return [((s.first + timedelta(days=n)).strftime("%m-%d"), local_midnight(s.first + timedelta(days=n)),
             local_midnight(s.first + timedelta(days=n + 1))) for n in range(days)]


def volume(s: Span) -> dict:
    """Contacts by bucket and channel (stacked bars)."""
    buckets = _buckets(s)
    counts = {channel: [0] * len(buckets) for channel in CHANNELS}
    zone = display_zone()
    for channel, started in db.session.execute(select(Contact.channel, Contact.started_at).where(
            Contact.started_at >= s.start, Contact.started_at < s.end)):
        local = started.astimezone(zone)
        index = local.hour if s.kind == "day" else (local.date() - s.first).days
        if channel in counts and 0 <= index < len(buckets):
            counts[channel][index] += 1
    series = [(CHANNELS[c], values) for c, values in counts.items() if any(values)]
    return {"labels": [b[0] for b in buckets], "series": series, "total": sum(sum(v) for _n, v in series)}


def tickets(s: Span) -> dict:
    created = [t for t in db.session.scalars(select(Ticket).where(Ticket.created_at >= s.start,
                                                                 Ticket.created_at < s.end))]
    by_category = Counter(CATEGORIES.get(t.category, t.category) for t in created)
    redispatched = sum(1 for t in created if t.redispatch_count)
    # 按时签收 / 按时办结: the tickets dispatched to each department in the span, less those whose
    # acceptance or handling deadline passed (an accept_overdue / handle_overdue event).
    dispatched = [t for t in created if t.department_id]
    late = {(ticket_id, kind) for ticket_id, kind in db.session.execute(
        select(SlaEvent.ticket_id, SlaEvent.kind).where(SlaEvent.ticket_id.in_([t.id for t in dispatched]),
                                                        SlaEvent.kind.in_(("accept_overdue", "handle_overdue"))))}
    names = dict(db.session.execute(select(Department.id, Department.name)).all())
    departments: dict[str, dict] = {}
    for t in dispatched:
        row = departments.setdefault(names.get(t.department_id, "—"), {"count": 0, "accepted": 0, "handled": 0})
        row["count"] += 1
        row["accepted"] += (t.id, "accept_overdue") not in late
        row["handled"] += (t.id, "handle_overdue") not in late
    return {"count": len(created), "by_category": by_category.most_common(),
            "redispatch_rate": redispatched / len(created) if created else None, "redispatched": redispatched,
            "departments": sorted(departments.items(), key=lambda item: -item[1]["count"]),
            "archived": sum(1 for t in created if t.status == "archived")}


def satisfaction(s: Span) -> dict:
    scores = Counter(score for (score,) in db.session.execute(select(Contact.survey_score).where(
        Contact.channel == "phone", Contact.survey_score.is_not(None), Contact.started_at >= s.start,
        Contact.started_at < s.end)))
    ratings = Counter(rating for (rating,) in db.session.execute(select(Contact.chat_rating).where(
        Contact.channel.in_(chats.CHANNELS), Contact.chat_rating.is_not(None), Contact.started_at >= s.start,
        Contact.started_at < s.end)))
    phone = sum(scores.values())
    chat = sum(ratings.values())
    return {"phone": (scores[1] + scores[2]) / phone if phone else None, "phone_rated": phone,
            "chat": (ratings["satisfied"] + ratings["basic"]) / chat if chat else None, "chat_rated": chat}


def hot_topics(s: Span) -> dict:
    """What was asked about most, against the period before: categories, and words of the tickets'
    subjects. The words come from the knowledge base's own cutting (so 异地就医 stays one word); a
    word counts for every subject that contains it, and a word inside a longer one with the same
    count (异地 in 异地就医) is left out as saying nothing more."""
    from app.knowledge.search import words

    def subjects(period: Span) -> tuple[Counter, list[str]]:
        categories, texts = Counter(), []
        for category, subject in db.session.execute(select(Ticket.category, Ticket.subject).where(
                Ticket.created_at >= period.start, Ticket.created_at < period.end)):
            categories[CATEGORIES.get(category, category)] += 1
            texts.append(subject or "")
        return categories, texts

    now_categories, now_texts = subjects(s)
    before_categories, before_texts = subjects(s.previous())
    candidates = {w for text in now_texts for w in words(text)}
    now = Counter(w for text in now_texts for w in candidates if w in text)
    before = Counter(w for text in before_texts for w in candidates if w in text)
    telling = [w for w in now if not any(w != other and w in other and now[other] == now[w] for other in now)]
    ranked = sorted(telling, key=lambda w: (-now[w], -len(w), w))[:HOT_WORDS]
    return {"categories": [(name, n, before_categories.get(name, 0)) for name, n in now_categories.most_common()],
            "words": [(w, now[w], before.get(w, 0)) for w in ranked]}


def report(kind: str, day: date) -> dict:
    s = span(kind, day)
    return {"span": s, "volume": volume(s), "calls": call_figures(s.start, s.end), "tickets": tickets(s),
            "satisfaction": satisfaction(s), "hot": hot_topics(s), "kinds": KINDS,
            "tickets_total": db.session.scalar(select(func.count(Ticket.id)).where(
                Ticket.created_at >= s.start, Ticket.created_at < s.end))}
