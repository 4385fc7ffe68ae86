"""运营报表: a day's, a week's or a month's work — contacts by hour (or day) and channel, the calls'
answer rate, service level, abandoned, handle and wrap-up times, tickets by category and by
department with each department's on-time acceptance and completion (按时签收 / 按时办结), the
re-dispatch rate, satisfaction, and the hot topics (categories and words most asked about, against
the period before)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, exists, func, select

from app.chats.indicators import SATISFIED_RATINGS
from app.extensions import db
from app.models import Contact, Department, SlaEvent, Ticket
from app.models.tickets import CATEGORIES, CHANNELS
from app.monitor.services import SATISFIED_SCORES, call_figures
from app.reports.tally import hours_since, literal_time
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


def contacts(s: Span) -> tuple[dict, dict]:
    """Contacts by bucket and channel (stacked bars), and the span's satisfaction — one pass of the
    database over the span's contacts, grouped by hour and channel."""
    buckets = _buckets(s)
    counts = {channel: [0] * len(buckets) for channel in CHANNELS}
    hour = hours_since(Contact.started_at, literal_time(s.start))
    rated = Counter()
    for h, channel, n, phone_good, phone_rated, chat_good, chat_rated in db.session.execute(
            select(hour, Contact.channel, func.count(),
                   func.count().filter(Contact.survey_score.in_(SATISFIED_SCORES)),
                   func.count().filter(Contact.survey_score.is_not(None)),
                   func.count().filter(Contact.chat_rating.in_(SATISFIED_RATINGS)),
                   func.count().filter(Contact.chat_rating.is_not(None)))
            .where(Contact.started_at >= s.start, Contact.started_at < s.end).group_by(hour, Contact.channel)):
        # the hour's local start: exact for a zone whose offset changes by whole hours (China keeps one)
        local = (s.start + timedelta(hours=int(h))).astimezone(display_zone())
        index = local.hour if s.kind == "day" else (local.date() - s.first).days
        if channel in counts and 0 <= index < len(buckets):
            counts[channel][index] += n
        if channel == "phone":
            rated.update({"phone_good": phone_good, "phone": phone_rated})
        elif channel in chats.CHANNELS:
            rated.update({"chat_good": chat_good, "chat": chat_rated})
    series = [(CHANNELS[c], values) for c, values in counts.items() if any(values)]
    volume = {"labels": [b[0] for b in buckets], "series": series, "total": sum(sum(v) for _n, v in series)}
    satisfaction = {"phone": rated["phone_good"] / rated["phone"] if rated["phone"] else None,
                    "phone_rated": rated["phone"],
                    "chat": rated["chat_good"] / rated["chat"] if rated["chat"] else None, "chat_rated": rated["chat"]}
    return volume, satisfaction


def tickets(s: Span) -> dict:
    created = and_(Ticket.created_at >= s.start, Ticket.created_at < s.end)
    count, redispatched, archived = db.session.execute(select(
        func.count(), func.count().filter(Ticket.redispatch_count > 0),
        func.count().filter(Ticket.status == "archived")).where(created)).one()
    by_category = sorted(((CATEGORIES.get(category, category), n) for category, n in db.session.execute(
        select(Ticket.category, func.count()).where(created).group_by(Ticket.category))), key=lambda c: (-c[1], c[0]))

    # 按时签收 / 按时办结: the tickets dispatched to each department in the span, less those whose
    # acceptance or handling deadline passed (an accept_overdue / handle_overdue event).
    def late(kind: str):
        return exists().where(SlaEvent.ticket_id == Ticket.id, SlaEvent.kind == kind)

    names = dict(db.session.execute(select(Department.id, Department.name)).all())
    departments = {names.get(department_id, "—"): {"count": n, "accepted": n - accept_late, "handled": n - handle_late}
                   for department_id, n, accept_late, handle_late in db.session.execute(
                       select(Ticket.department_id, func.count(), func.count().filter(late("accept_overdue")),
                              func.count().filter(late("handle_overdue")))
                       .where(created, Ticket.department_id.is_not(None)).group_by(Ticket.department_id))}
    return {"count": count, "by_category": by_category,
            "redispatch_rate": redispatched / count if count else None, "redispatched": redispatched,
            "departments": sorted(departments.items(), key=lambda item: -item[1]["count"]), "archived": archived}


def hot_topics(s: Span) -> dict:
    """What was asked about most, against the period before: categories, and words of the tickets'
    subjects. The words come from the knowledge base's own cutting (so 异地就医 stays one word); a
    word counts for every subject that contains it, and a word inside a longer one with the same
    count (异地 in 异地就医) is left out as saying nothing more."""
    from app.knowledge.search import words

    def subjects(period: Span) -> tuple[Counter, Counter]:
        """Tickets by category, and by subject (the same subject is cut into words once)."""
        created = and_(Ticket.created_at >= period.start, Ticket.created_at < period.end)
        categories = Counter({CATEGORIES.get(category, category): n for category, n in db.session.execute(
            select(Ticket.category, func.count()).where(created).group_by(Ticket.category))})
        texts = Counter(dict(db.session.execute(select(Ticket.subject, func.count()).where(created)
                                                .group_by(Ticket.subject)).all()))
        return categories, texts

    now_categories, now_texts = subjects(s)
    before_categories, before_texts = subjects(s.previous())
    cut = {text: set(words(text or "")) for text in now_texts}
    candidates = set().union(*cut.values()) if cut else set()

    def asked(texts: Counter) -> Counter:
        found = Counter()
        for text, n in texts.items():
            for w in candidates:
                if w in (text or ""):
                    found[w] += n
        return found

    now, before = asked(now_texts), asked(before_texts)
    telling = [w for w in now if not any(w != other and w in other and now[other] == now[w] for other in now)]
    ranked = sorted(telling, key=lambda w: (-now[w], -len(w), w))[:HOT_WORDS]
    return {"categories": [(name, n, before_categories.get(name, 0)) for name, n in now_categories.most_common()],
            "words": [(w, now[w], before.get(w, 0)) for w in ranked]}


def report(kind: str, day: date) -> dict:
    s = span(kind, day)
    volume, satisfaction = contacts(s)
    return {"span": s, "volume": volume, "calls": call_figures(s.start, s.end), "tickets": tickets(s),
            "satisfaction": satisfaction, "hot": hot_topics(s), "kinds": KINDS,
            "tickets_total": db.session.scalar(select(func.count(Ticket.id)).where(
                Ticket.created_at >= s.start, Ticket.created_at < s.end))}
