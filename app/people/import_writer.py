"""Writing checked import rows into the register, fast: per chunk of rows, one query finds the people
already there (by ID hash) and one their phones; new people, phones and change-history rows go in
as bulk inserts (COPY on PostgreSQL), changed people as one executemany UPDATE per set of columns.
A row that changes nothing writes nothing — which makes importing the same file twice a no-op."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import ARRAY, any_, bindparam, insert, select, text, update
from sqlalchemy.exc import SQLAlchemyError

from app.extensions import db
from app.models import Person, PersonChange, PersonImport, PersonPhone
from app.models.types import utcnow
from app.people import crypto, importer
from app.people.identity import mask
from app.people.services import display_value

log = logging.getLogger(__name__)

COMPARED = ("name", "insurance_type", "insured_status", "unit", "region", "notes")


def refresh_statistics() -> None:
    """PostgreSQL: ANALYZE the tables a bulk load is growing. Until statistics exist (autovacuum off,
    or not yet caught up) the planner takes `person` for empty and scans it whole for every chunk's
    lookup of 1,000 ID hashes instead of using the unique index — seconds per chunk at 100,000 rows.
    Run on a doubling schedule (2k, 4k, 8k … new rows), so a load pays for it ~log n times."""
    if db.engine.dialect.name != "postgresql":
        return
    try:
        with db.session.begin_nested():
            db.session.execute(text("ANALYZE person"))
            db.session.execute(text("ANALYZE person_phone"))
        db.session.commit()
    except SQLAlchemyError:  # not the tables' owner: the load is slower, not wrong
        log.warning("could not ANALYZE person tables", exc_info=True)


@dataclass(slots=True)
class Snapshot:
    id: int
    name: str
    insurance_type: str
    insured_status: str
    unit: str | None
    region: str | None
    notes: str | None
    phones: set[str]


def _among(column, values: list):
    """column IN values — on PostgreSQL as `= ANY(array)`: one parameter, one cached plan, instead of
    a 1,000-parameter statement compiled and parsed again for every chunk."""
    if db.engine.dialect.name == "postgresql":
        return column == any_(bindparam(None, values, type_=ARRAY(column.type)))
    return column.in_(values)


def existing(rows: list[importer.ValidRow]) -> dict[str, Snapshot]:
    """The people of this chunk already in the register, by ID hash: one query, plus one for phones."""
    found = {r.id_number_hash: Snapshot(r.id, r.name, r.insurance_type, r.insured_status, r.unit, r.region, r.notes,
                                         set())
             for r in db.session.execute(select(Person.id, Person.id_number_hash, Person.name, Person.insurance_type,
                                                Person.insured_status, Person.unit, Person.region, Person.notes)
                                         .where(_among(Person.id_number_hash, [row.id_hash for row in rows])))}
    if found:
        by_id = {s.id: s for s in found.values()}
        for person_id, digest in db.session.execute(select(PersonPhone.person_id, PersonPhone.value_hash)
                                                    .where(_among(PersonPhone.person_id, list(by_id)))):
            by_id[person_id].phones.add(digest)
    return found


def _insert_many(table, rows: list[dict]) -> None:
    """Bulk insert in the session's transaction: COPY on PostgreSQL (psycopg's executemany sends one
    INSERT per row), executemany elsewhere (SQLite's runs in C)."""
    if not rows:
        return
    if db.engine.dialect.name != "postgresql":
        db.session.execute(insert(table), rows)
        return
    names = list(rows[0])
    driver = db.session.connection().connection.driver_connection
    with driver.cursor() as cursor, cursor.copy(
            f"COPY {table.name} ({', '.join(names)}) FROM STDIN") as copy:  # names are the table's own columns
        for row in rows:
            copy.write_row([row[n] for n in names])


def differences(row: importer.ValidRow, snapshot: Snapshot) -> tuple[dict[str, str], list[tuple[str, str, str]]]:
    """What the row would change: differing fields (blank optional cells keep what is there) and new phones."""
    changes = {}
    for name in COMPARED:
        value = getattr(row, name)
        if value is not None and value != getattr(snapshot, name):
            changes[name] = value
    return changes, [phone for phone in row.phones if phone[2] not in snapshot.phones]


def write_chunk(rows: list[importer.ValidRow], imp: PersonImport, keys: crypto.DataKeys) -> tuple[int, int]:
    found, now, user_id = existing(rows), utcnow(), imp.committed_by_id
    new_people, new_phones, updates, phones, changes = [], [], [], [], []

    def phone_row(person_id: int, kind: str, value: str, digest: str) -> dict:
        return {"person_id": person_id, "kind": kind, "value_enc": crypto.encrypt(value, crypto.PHONE, keys),
                "value_hash": digest, "created_at": now}

    def change_row(person_id: int, name: str, old: str, new: str) -> dict:
        return {"person_id": person_id, "changed_at": now, "user_id": user_id, "import_id": imp.id, "field": name,
                "old_value": old, "new_value": new}

    for row in rows:
        snapshot = found.get(row.id_hash)
        if snapshot is None:
            new_people.append({"name": row.name, "id_number_enc": crypto.encrypt(row.id_number, crypto.ID_NUMBER, keys),
                               "id_number_hash": row.id_hash, "birth_date": row.birth_date, "gender": row.gender,
                               "insurance_type": row.insurance_type, "insured_status": row.insured_status,
                               "unit": row.unit, "region": row.region, "notes": row.notes, "created_by_id": user_id,
                               "import_id": imp.id, "created_at": now, "updated_at": now})
            new_phones.append(row.phones)
            continue
        fields, added = differences(row, snapshot)
        if not fields and not added:
            continue
        updates.append({"id": snapshot.id, "updated_at": now, **fields})
        changes += [change_row(snapshot.id, name, display_value(name, getattr(snapshot, name)),
                               display_value(name, value)) for name, value in fields.items()]
        for kind, value, digest in added:
            phones.append(phone_row(snapshot.id, kind, value, digest))
            changes.append(change_row(snapshot.id, "phone", "", mask(value)))
    # Bulk inserts and one query for the new ids: an ORM insert with RETURNING in parameter order
    # runs row by row on SQLite.
    person = Person.__table__
    if new_people:
        _insert_many(person, new_people)
        ids = dict(db.session.execute(select(person.c.id_number_hash, person.c.id).where(
            _among(person.c.id_number_hash, [p["id_number_hash"] for p in new_people]))).all())
        phones += [phone_row(ids[p["id_number_hash"]], *phone)
                   for p, row_phones in zip(new_people, new_phones, strict=True) for phone in row_phones]
    for group in _same_keys(updates):
        columns = {name: bindparam(f"new_{name}") for name in group[0] if name != "id"}
        db.session.execute(update(person).where(person.c.id == bindparam("person_id")).values(columns),
                           [{"person_id": item["id"]} | {f"new_{k}": v for k, v in item.items() if k != "id"}
                            for item in group])
    _insert_many(PersonPhone.__table__, phones)
    _insert_many(PersonChange.__table__, changes)
    return len(new_people), len(updates)


def _same_keys(updates: list[dict]) -> list[list[dict]]:
    groups: dict[tuple, list[dict]] = {}
    for item in updates:
        groups.setdefault(tuple(sorted(item)), []).append(item)
    return list(groups.values())
