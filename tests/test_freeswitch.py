"""A site on FreeSWITCH: its Event Socket's frames, sent over a real loopback socket, become the
platform's call events; commands to the switch carry identifiers only."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import CallQueue, Contact, UserSkill
from telephony_adapter import calls
from telephony_adapter.freeswitch import EslError, EventSocket, to_call_event
from tests import factories

FRAMES = Path(__file__).resolve().parent / "fixtures" / "freeswitch_call.events"


def _events() -> list[str]:
    text = "\n".join(line for line in FRAMES.read_text().splitlines() if not line.startswith("#"))
    return [block.strip() + "\n" for block in text.split("\n\n") if block.strip()]


class FakeEventSocket:
    """A loopback TCP server speaking FreeSWITCH's Event Socket protocol: auth, subscription,
    api replies, then the event frames; it records every command it was sent."""

    def __init__(self, password: str = "ClueCon", refuse: set[str] | None = None) -> None:
        self.password, self.refuse, self.commands = password, refuse or set(), []
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        conn, _ = self.server.accept()
        with conn, conn.makefile("rb") as stream:
            conn.sendall(b"Content-Type: auth/request\n\n")
            while True:
                lines = []
                while (line := stream.readline()) not in (b"\n", b""):
                    lines.append(line.decode().strip())
                if not lines:
                    return
                command = lines[0]
                self.commands.append(command)
                if command.startswith("auth"):
                    ok = command == f"auth {self.password}"
                    conn.sendall(f"Content-Type: command/reply\nReply-Text: {'+OK accepted' if ok else '-ERR invalid'}\n\n"
                                 .encode())
                elif command.startswith("event"):
                    conn.sendall(b"Content-Type: command/reply\nReply-Text: +OK event listener enabled plain\n\n")
                    for body in _events():
                        data = body.encode()
                        conn.sendall(f"Content-Length: {len(data)}\nContent-Type: text/event-plain\n\n".encode() + data)
                    return
                elif command.startswith("api"):
                    body = b"+OK\n" if command.split()[1] not in self.refuse else b"-ERR no such command\n"
                    conn.sendall(f"Content-Type: api/response\nContent-Length: {len(body)}\n\n".encode() + body)
                elif command == "exit":
                    return


def test_a_call_through_freeswitch_callcenter_becomes_a_complete_call_record(app):
    skill = factories.skill("benefit", "待遇报销")
    db.session.add(CallQueue(code="benefit", name="待遇报销", skill_id=skill.id, min_level=1))
    li = factories.user("li", ["agent"])
    db.session.add(UserSkill(user_id=li.id, skill_id=skill.id, level=3))
    db.session.commit()
    switch = FakeEventSocket()
    esl = EventSocket("127.0.0.1", switch.port, "ClueCon")
    esl.subscribe()
    outcomes = [calls.ingest(event).result for fields in esl.events() if (event := to_call_event(fields))]
    esl.close()
    assert outcomes == ["applied"] * 9
    call = db.session.scalar(select(Contact).where(Contact.call_id == "9b1d-caller-leg"))
    assert (call.caller, call.dialled, call.queue.code, call.agent_id, call.state) == (
        "13800000001", "12393", "benefit", li.id, "ended")
    assert (call.wait_seconds, call.ring_seconds, call.hold_seconds, call.talk_seconds) == (7, 3, 10, 70)
    assert call.recording == "/var/lib/freeswitch/recordings/9b1d-caller-leg.wav"
    assert switch.commands[:2] == ["auth ClueCon", "event plain CHANNEL_CREATE CHANNEL_HOLD CHANNEL_UNHOLD "
                                   "CHANNEL_HANGUP_COMPLETE DTMF RECORD_STOP CUSTOM callcenter::info"]


def test_commands_to_freeswitch_carry_identifiers_only_and_a_refusal_is_an_error(app):
    switch = FakeEventSocket(refuse={"uuid_transfer"})
    esl = EventSocket("127.0.0.1", switch.port, "ClueCon")
    assert esl.set_agent_status("li@default", "not_ready").startswith("+OK")
    assert switch.commands[-1] == "api callcenter_config agent set status li@default 'On Break'"
    with pytest.raises(ValueError):
        esl.transfer("9b1d-caller-leg", "1000 XML default\n\napi system rm")  # an injected second command
    with pytest.raises(ValueError):
        esl.set_agent_status("li'; hupall", "ready")
    assert esl.transfer("9b1d-caller-leg", "8001").startswith("-ERR")  # the switch's own refusal is returned
    esl.close()


def test_a_wrong_password_is_refused():
    switch = FakeEventSocket(password="secret")
    with pytest.raises(EslError):
        EventSocket("127.0.0.1", switch.port, "guess")
