"""Backup and restore, once for real on the suite's database (PostgreSQL in CI: pg_dump and
pg_restore; SQLite otherwise): a night's backup, a bad morning, and the restore that brings back the
tickets, their audit chain and the call recordings exactly as they were."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Contact, Ticket
from tests import factories
from tests.loop import COMPLAINT
from workflows import engine
from workflows.audit_trail import Actor


@pytest.fixture
def recordings(app, tmp_path):
    """The site's shared folders: recordings and attachments (HOTLINE_RECORDINGS_DIR / _ATTACHMENTS_DIR)."""
    folder = tmp_path / "recordings"
    (folder / "pcaps").mkdir(parents=True)
    saved = {key: app.config.get(key) for key in ("RECORDINGS_DIR", "ATTACHMENTS_DIR")}
    app.config.update(RECORDINGS_DIR=str(folder), ATTACHMENTS_DIR=str(tmp_path / "attachments"))
    yield folder
    app.config.update(saved)


def _tickets() -> list[str]:
    db.session.expire_all()
    return list(db.session.scalars(select(Ticket.number).order_by(Ticket.id)))


def test_a_backup_restores_the_tickets_their_audit_chain_and_the_recordings(app, recordings, tmp_path):
    agent = factories.user("agent1", ["agent"])
    actor = Actor(agent.id, "agent1", "agent")
    kept = engine.start_ticket(COMPLAINT, actor)
    audio = bytes(range(256)) * 40
    (recordings / "pcaps" / "call-1.pcap").write_bytes(audio)
    db.session.add(Contact(source="kamailio", call_id="call-1", caller="13800000001", state="ended",
                           recording="pcaps/call-1.pcap", ticket_id=kept.id))
    db.session.commit()
    import io

    from werkzeug.datastructures import FileStorage

    from app.models import Ticket as TicketModel
    from app.tickets import attachments

    receipt = attachments.add(db.session.get(TicketModel, kept.id), agent,
                              FileStorage(io.BytesIO(b"%PDF-1.4 receipt"), filename="回执.pdf"), actor)
    stored = attachments.path_for(receipt.sha256)
    assert stored.is_relative_to(tmp_path / "attachments")  # in the shared folder the site configured
    runner = app.test_cli_runner()
    night = tmp_path / "backup-night"
    done = runner.invoke(args=["backup", str(night)])
    assert done.exit_code == 0, done.output
    manifest = json.loads((night / "manifest.json").read_text())
    assert "recordings/pcaps/call-1.pcap" in manifest["files"] and manifest["revision"]
    assert runner.invoke(args=["backup", str(night)]).exit_code != 0  # never over an earlier backup

    # The bad morning: a ticket recorded after the backup, a recording lost, another overwritten.
    engine.start_ticket({**COMPLAINT, "subject": "备份之后的工单"}, actor)
    (recordings / "pcaps" / "call-1.pcap").unlink()
    stored.unlink()
    assert len(_tickets()) == 2

    # A damaged backup is refused before anything is touched.
    damaged = tmp_path / "backup-damaged"
    import shutil

    shutil.copytree(night, damaged)
    (damaged / "recordings" / "pcaps" / "call-1.pcap").write_bytes(b"garbage")
    refused = runner.invoke(args=["restore", str(damaged), "--yes"])
    assert refused.exit_code != 0 and "已损坏或被改动" in refused.output
    assert len(_tickets()) == 2

    restored = runner.invoke(args=["restore", str(night), "--yes"])
    assert restored.exit_code == 0, restored.output
    db.session.remove()
    assert _tickets() == [kept.number]
    assert (recordings / "pcaps" / "call-1.pcap").read_bytes() == audio
    assert stored.read_bytes() == b"%PDF-1.4 receipt"
    assert db.session.scalar(select(func.count(Contact.id))) == 1
    verified = runner.invoke(args=["audit-verify"])
    assert verified.exit_code == 0 and "审计链完整" in verified.output
    # The platform carries on from the restored state: the next ticket is numbered after the kept one.
    later = engine.start_ticket(COMPLAINT, actor)
    assert later.id > kept.id and later.number != kept.number
