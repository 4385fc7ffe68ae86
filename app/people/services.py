"""Insured people: finding them (phone, ID number, name), reading them masked, revealing, editing.

Every function that shows personal data records the look (app/people/access.py) and commits it
together with its own work. Identifiers leave this module masked — except from `reveal`.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date

from openpyxl import Workbook
from sqlalchemy import or_, select

from app.auth.scope import scope_to_departments
from app.extensions import db
from app.models import Person, PersonChange, PersonPhone, Ticket, User
from app.models.people import INSURANCE_TYPES, INSURED_STATUSES
from app.models.types import utcnow
from app.people import access, crypto
from app.people.access import Access
from app.people.identity import InvalidIdentifier, mask, parse_id_number, parse_phone, split_phones

SEARCH_LIMIT = 50
NAME_MIN = 2
TICKETS_SHOWN = 20
FIELD_LABELS: dict[str, str] = {
    "name": "姓名", "id_number": "身份证号", "phone": "联系电话", "insurance_type": "参保类型",
    "insured_status": "参保状态", "unit": "单位", "region": "区县", "notes": "备注",
}
SEARCH_KINDS: dict[str, str] = {"phone": "按电话号码查询", "id_number": "按身份证号查询", "name": "按姓名查询"}
_ID_CHARS = set("0123456789Xx")


def id_hash(value: str) -> str:
    return crypto.lookup_hash(value, crypto.ID_NUMBER)


def phone_hash(value: str) -> str:
    return crypto.lookup_hash(value, crypto.PHONE)


def id_number_of(person: Person) -> str:
    return crypto.decrypt(person.id_number_enc, crypto.ID_NUMBER)


def phone_value(phone: PersonPhone) -> str:
    return crypto.decrypt(phone.value_enc, crypto.PHONE)


def display_value(name: str, value) -> str:
    """How a field's value is written into the change history: labels for codes, identifiers masked."""
    if value in (None, ""):
        return ""
    if name in ("id_number", "phone"):
        return mask(value)
    return {"insurance_type": INSURANCE_TYPES, "insured_status": INSURED_STATUSES}.get(name, {}).get(value, str(value))


@dataclass
class PhoneView:
    id: int
    kind_label: str
    shown: str  # masked, or the full number right after a reveal


@dataclass
class PersonView:
    person: Person
    id_number: str
    phones: list[PhoneView]
    revealed: bool = False

    def summary(self, url: str) -> dict:
        """The JSON shape of a person (screen pop, intake lookup): masked identifiers only."""
        p = self.person
        return {"id": p.id, "name": p.name, "id_number": self.id_number, "gender": p.gender_label,
                "birth_year": p.birth_date.year, "insurance_type": p.insurance_type,
                "insurance_type_label": p.insurance_type_label, "insured_status": p.insured_status,
                "insured_status_label": p.insured_status_label, "region": p.region or "", "unit": p.unit or "",
                "phones": [ph.shown for ph in self.phones], "url": url}


def view_of(person: Person, reveal: bool = False) -> PersonView:
    shown = (lambda v: v) if reveal else mask
    return PersonView(person, shown(id_number_of(person)),
                      [PhoneView(ph.id, ph.kind_label, shown(phone_value(ph))) for ph in person.phones], reveal)


# --- finding people ---------------------------------------------------------------------------
@dataclass
class SearchOutcome:
    kind: str = ""
    key: str | None = None  # the lookup hash (phone, ID number) or the name searched for
    shown: str = ""  # the query as the page may show it: identifiers masked
    people: list[PersonView] = field(default_factory=list)
    problem: str | None = None
    truncated: bool = False


def classify(query: str) -> SearchOutcome:
    """What the query is — phone, ID number or name — with its lookup key, or a problem."""
    text = query.strip()
    compact = "".join(text.split()).replace("-", "").replace("+", "")
    if compact and set(compact) <= _ID_CHARS | set("０１２３４５６７８９Ｘ"):
        if len(compact) in (15, 18):  # phones have 10–12 digits
            try:
                value = parse_id_number(compact).value
            except InvalidIdentifier as exc:
                return SearchOutcome("id_number", shown=mask(compact), problem=f"{exc}。")
            return SearchOutcome("id_number", id_hash(value), mask(value))
        try:
            value = parse_phone(text).value
        except InvalidIdentifier:
            return SearchOutcome(shown=mask(compact), problem="请输入完整的手机号码、带区号的固定电话或身份证号"
                                                              "（证件与电话只支持完整号码精确查询）。")
        return SearchOutcome("phone", phone_hash(value), mask(value))
    if len(text) < NAME_MIN:
        return SearchOutcome(shown=text, problem=f"按姓名查询至少输入 {NAME_MIN} 个字。")
    return SearchOutcome("name", text, text)


def _matching(kind: str, value: str) -> list[Person]:
    if kind == "id_number":
        query = select(Person).where(Person.id_number_hash == value)
    elif kind == "phone":
        query = select(Person).join(PersonPhone).where(PersonPhone.value_hash == value).distinct()
    else:
        query = select(Person).where(Person.name.contains(value, autoescape=True))
    return list(db.session.scalars(query.order_by(Person.name, Person.id).limit(SEARCH_LIMIT + 1)))


def search(user: User, query: str, grounds: Access | None, ip: str | None) -> SearchOutcome:
    """Masked matches; each one shown is logged as a search hit."""
    outcome = classify(query)
    if outcome.problem or outcome.key is None:
        return outcome
    people = _matching(outcome.kind, outcome.key)
    outcome.people, outcome.truncated = [view_of(p) for p in people[:SEARCH_LIMIT]], len(people) > SEARCH_LIMIT
    access.record_many(user, "search_hit", [v.person.id for v in outcome.people], grounds, ip, SEARCH_KINDS[outcome.kind])
    db.session.commit()
    return outcome


def lookup_phone(user: User, phone_text: str, grounds: Access | None, ip: str | None) -> tuple[str, list[PersonView]]:
    """The people with this number (screen pop, intake): raises InvalidIdentifier for a bad number."""
    phone = parse_phone(phone_text)
    people = _matching("phone", phone_hash(phone.value))[:SEARCH_LIMIT]
    access.record_many(user, "search_hit", [p.id for p in people], grounds, ip, "来电号码查询")
    db.session.commit()
    return mask(phone.value), [view_of(p) for p in people]


def open_person(user: User, person: Person, grounds: Access, ip: str | None) -> PersonView:
    access.record(user, "view", person.id, grounds, ip)
    db.session.commit()
    return view_of(person)


def reveal(user: User, person: Person, reason: str, ip: str | None) -> PersonView:
    """The full ID number and phones, for this one response; the reveal and its reason are logged."""
    access.record(user, "reveal", person.id, Access(reason=reason), ip, "身份证号、联系电话")
    db.session.commit()
    return view_of(person, reveal=True)


def tickets_of(user: User, person: Person) -> list[Ticket]:
    """The person's tickets: linked to them, or called in from one of their numbers (department scope)."""
    numbers = []
    for phone in person.phones:
        value = phone_value(phone)
        numbers += [value, value.replace("-", "")]
    condition = Ticket.person_id == person.id
    if numbers:
        condition = or_(condition, Ticket.caller_phone.in_(numbers))
    query = scope_to_departments(select(Ticket).where(condition), user, Ticket.department_id)
    return list(db.session.scalars(query.order_by(Ticket.created_at.desc()).limit(TICKETS_SHOWN)))


def changes_of(person: Person) -> list[PersonChange]:
    query = select(PersonChange).where(PersonChange.person_id == person.id)
    return list(db.session.scalars(query.order_by(PersonChange.changed_at.desc(), PersonChange.id.desc())))


def export_search(user: User, kind: str, key: str, reason: str, ip: str | None) -> tuple[bytes, int]:
    """A search's matches (by kind and lookup key, so no identifier travels in the form) as .xlsx,
    masked; one export row per person in the access log."""
    people = [view_of(p) for p in _matching(kind, key)[:SEARCH_LIMIT]] if kind in SEARCH_KINDS else []
    book = Workbook()
    sheet = book.active
    sheet.title = "参保人"
    sheet.append(["姓名", "身份证号", "性别", "出生年份", "参保类型", "参保状态", "单位", "区县", "联系电话"])
    for v in people:
        p = v.person
        sheet.append([p.name, v.id_number, p.gender_label, p.birth_date.year, p.insurance_type_label,
                      p.insured_status_label, p.unit or "", p.region or "", "、".join(ph.shown for ph in v.phones)])
    for column, width in zip("ABCDEFGHI", (10, 22, 6, 9, 14, 10, 28, 12, 34), strict=True):
        sheet.column_dimensions[column].width = width
    access.record_many(user, "export", [v.person.id for v in people], Access(reason=reason), ip,
                       f"导出查询结果（{SEARCH_KINDS.get(kind, '查询')}）")
    db.session.commit()
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue(), len(people)


# --- writing people -------------------------------------------------------------------------------
@dataclass
class PersonInput:
    name: str
    id_number: str
    insurance_type: str
    insured_status: str
    phones: list[str] = field(default_factory=list)
    unit: str | None = None
    region: str | None = None
    notes: str | None = None


def add_person(data: PersonInput, user: User | None = None) -> Person:
    """Create one person (tests, later a 新建 form); raises InvalidIdentifier."""
    person = build_person(data, user)
    db.session.commit()
    return person


def build_person(data: PersonInput, user: User | None = None) -> Person:
    """A new person added to the session, not committed (demo data commits with the rest)."""
    ident = parse_id_number(data.id_number)
    now = utcnow()
    person = Person(name=data.name.strip(), id_number_enc=crypto.encrypt(ident.value, crypto.ID_NUMBER),
                    id_number_hash=id_hash(ident.value), birth_date=ident.birth_date, gender=ident.gender,
                    insurance_type=data.insurance_type, insured_status=data.insured_status, unit=data.unit,
                    region=data.region, notes=data.notes, created_by_id=user.id if user else None,
                    created_at=now, updated_at=now)
    seen = set()
    for text in data.phones:
        phone = parse_phone(text)
        digest = phone_hash(phone.value)
        if digest not in seen:
            seen.add(digest)
            person.phones.append(PersonPhone(kind=phone.kind, value_enc=crypto.encrypt(phone.value, crypto.PHONE),
                                             value_hash=digest, created_at=now))
    db.session.add(person)
    return person


@dataclass
class EditInput:
    name: str
    insurance_type: str
    insured_status: str
    unit: str = ""
    region: str = ""
    notes: str = ""
    new_id_number: str = ""
    add_phones: str = ""
    remove_phone_ids: list[int] = field(default_factory=list)


def update_person(user: User, person: Person, data: EditInput, grounds: Access, ip: str | None) -> list[str]:
    """Apply an edit; every changed field becomes a PersonChange (identifiers masked). Errors in Chinese."""
    errors: list[str] = []
    name = " ".join(data.name.split())
    if not 1 <= len(name) <= 64:
        errors.append("姓名：请填写姓名（最多 64 个字）")
    if data.insurance_type not in INSURANCE_TYPES:
        errors.append("参保类型：请选择")
    if data.insured_status not in INSURED_STATUSES:
        errors.append("参保状态：请选择")
    ident = None
    if data.new_id_number.strip():
        try:
            ident = parse_id_number(data.new_id_number)
        except InvalidIdentifier as exc:
            errors.append(f"身份证号：{exc}")
        else:
            other = db.session.scalar(select(Person.id).where(Person.id_number_hash == id_hash(ident.value)))
            if other is not None and other != person.id:
                errors.append("身份证号：该身份证号已属于另一位参保人")
    new_phones = []
    for text in split_phones(data.add_phones):
        try:
            new_phones.append(parse_phone(text))
        except InvalidIdentifier as exc:
            errors.append(f"新增电话“{mask(text)}”：{exc}")
    if errors:
        return errors

    changes: list[tuple[str, str, str]] = []
    for name_, value in (("name", name), ("insurance_type", data.insurance_type),
                         ("insured_status", data.insured_status), ("unit", data.unit.strip() or None),
                         ("region", data.region.strip() or None), ("notes", data.notes.strip() or None)):
        old = getattr(person, name_)
        if (old or None) != (value or None):
            changes.append((name_, display_value(name_, old), display_value(name_, value)))
            setattr(person, name_, value)
    if ident is not None:
        old_id = id_number_of(person)
        if old_id != ident.value:
            changes.append(("id_number", mask(old_id), mask(ident.value)))
            person.id_number_enc = crypto.encrypt(ident.value, crypto.ID_NUMBER)
            person.id_number_hash = id_hash(ident.value)
            person.birth_date, person.gender = ident.birth_date, ident.gender
    _edit_phones(person, new_phones, set(data.remove_phone_ids), changes)
    if changes:
        now = utcnow()
        person.updated_at = now
        for name_, old, new in changes:
            db.session.add(PersonChange(person_id=person.id, changed_at=now, user_id=user.id, field=name_,
                                        old_value=old, new_value=new))
        access.record(user, "edit", person.id, grounds, ip, "修改：" + "、".join(
            dict.fromkeys(FIELD_LABELS[c[0]] for c in changes)))
    db.session.commit()
    return []


def _edit_phones(person: Person, new_phones: list, remove_ids: set[int], changes: list) -> None:
    for phone in list(person.phones):
        if phone.id in remove_ids:
            changes.append(("phone", mask(phone_value(phone)), ""))
            person.phones.remove(phone)
    have = {ph.value_hash for ph in person.phones}
    for phone in new_phones:
        digest = phone_hash(phone.value)
        if digest not in have:
            have.add(digest)
            person.phones.append(PersonPhone(kind=phone.kind, value_enc=crypto.encrypt(phone.value, crypto.PHONE),
                                             value_hash=digest, created_at=utcnow()))
            changes.append(("phone", "", mask(phone.value)))


def age_text(person: Person, today: date | None = None) -> str:
    today = today or date.today()
    return f"{person.age_on(today)} 岁（{person.birth_date.year} 年 {person.birth_date.month} 月生）"
