"""The FreeSWITCH adapter, for sites whose switch is FreeSWITCH with mod_callcenter: an Event
Socket (ESL) client that turns channel and call-centre events into the platform's call events,
and sends the switch the few commands the platform needs (agent status, transfer, consult,
three-way). Nothing here decides: events go to `calls.ingest` like any other switch's."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import unquote

from telephony_adapter.events import CallEvent

SUBSCRIPTION = ("CHANNEL_CREATE CHANNEL_HOLD CHANNEL_UNHOLD CHANNEL_HANGUP_COMPLETE DTMF RECORD_STOP "
                "CUSTOM callcenter::info")
# Arguments put into a switch command: identifiers only, so no value can add a command of its own.
_SAFE = re.compile(r"^[A-Za-z0-9@._+-]{1,128}$")
AGENT_STATUS = {"ready": "Available", "not_ready": "On Break", "logged_out": "Logged Out"}


class EslError(Exception):
    pass


def _read_block(stream) -> tuple[dict[str, str], str]:
    """One ESL message: its headers, then the body announced by Content-Length."""
    headers: dict[str, str] = {}
    while True:
        line = stream.readline()
        if not line:
            raise EslError("FreeSWITCH closed the event socket")
        line = line.decode("utf-8", "replace").rstrip("\r\n")
        if not line:
            if headers:
                break
            continue
        name, _, value = line.partition(":")
        headers[name.strip()] = unquote(value.strip())
    length = int(headers.get("Content-Length", "0") or 0)
    body = stream.read(length).decode("utf-8", "replace") if length else ""
    return headers, body


def parse_event(body: str) -> dict[str, str]:
    """A `text/event-plain` body: URL-encoded `Name: value` lines."""
    fields: dict[str, str] = {}
    for line in body.splitlines():
        name, sep, value = line.partition(":")
        if sep:
            fields[name.strip()] = unquote(value.strip())
    return fields


def _moment(fields: dict[str, str]) -> datetime:
    micros = fields.get("Event-Date-Timestamp", "")
    return datetime.fromtimestamp(int(micros) / 1e6, UTC) if micros.isdigit() else datetime.now(UTC)


def to_call_event(fields: dict[str, str], source: str = "freeswitch") -> CallEvent | None:
    """The platform's call event for one FreeSWITCH event, or None for events it does not need."""
    name = fields.get("Event-Name", "")
    event_id = f"{fields.get('Core-UUID', '')}:{fields.get('Event-Sequence', '')}"
    uuid = fields.get("Unique-ID", "")
    at = _moment(fields)
    if name == "CUSTOM" and fields.get("Event-Subclass") == "callcenter::info":
        action, member = fields.get("CC-Action", ""), fields.get("CC-Member-Session-UUID", uuid)
        queue = fields.get("CC-Queue", "").split("@")[0]
        agent = fields.get("CC-Agent", "").split("@")[0]
        if action == "member-queue-start":
            return CallEvent(source, event_id, "queued", member, at, {"queue": queue})
        if action == "agent-offering":
            return CallEvent(source, event_id, "offered", member, at, {"agent": agent})
        if action == "bridge-agent-start":
            return CallEvent(source, event_id, "answered", member, at, {"agent": agent})
        if action == "member-queue-end" and fields.get("CC-Cause") == "Cancel":
            return CallEvent(source, event_id, "hangup", member, at, {"cause": "caller_cancel"})
        return None
    if name == "CHANNEL_CREATE" and fields.get("Call-Direction") == "inbound":
        return CallEvent(source, event_id, "incoming", uuid, at, {
            "caller": fields.get("Caller-Caller-ID-Number", ""), "dialled": fields.get("Caller-Destination-Number", "")})
    if name == "CHANNEL_HOLD":
        return CallEvent(source, event_id, "held", uuid, at, {})
    if name == "CHANNEL_UNHOLD":
        return CallEvent(source, event_id, "resumed", uuid, at, {})
    if name == "DTMF":
        return CallEvent(source, event_id, "dtmf", uuid, at, {"digit": fields.get("DTMF-Digit", "")[:4]})
    if name == "RECORD_STOP":
        return CallEvent(source, event_id, "recording_ready", uuid, at, {"file": fields.get("Record-File-Path", "")})
    if name == "CHANNEL_HANGUP_COMPLETE" and fields.get("Call-Direction") == "inbound":
        cause = {"NORMAL_CLEARING": "normal", "ORIGINATOR_CANCEL": "caller_cancel"}.get(
            fields.get("Hangup-Cause", ""), fields.get("Hangup-Cause", "normal").lower())
        return CallEvent(source, event_id, "hangup", uuid, at, {"cause": cause})
    return None


def _safe(*values: str) -> None:
    for value in values:
        if not _SAFE.match(value or ""):
            raise ValueError(f"unsafe argument for a FreeSWITCH command: {value!r}")


class EventSocket:
    """One connection to FreeSWITCH's Event Socket (mod_event_socket, TCP 8021 by default)."""

    def __init__(self, host: str, port: int, password: str, timeout: float = 10.0) -> None:
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.stream = self.sock.makefile("rb")
        headers, _ = _read_block(self.stream)
        if headers.get("Content-Type") != "auth/request":
            raise EslError("not a FreeSWITCH event socket")
        self._command(f"auth {password}")

    def _command(self, text: str) -> str:
        self.sock.sendall(f"{text}\n\n".encode())
        headers, body = _read_block(self.stream)
        reply = headers.get("Reply-Text", body)
        if headers.get("Content-Type") == "command/reply" and not reply.startswith("+OK"):
            raise EslError(f"FreeSWITCH refused “{text.split()[0]}”: {reply}")
        return body or reply

    def subscribe(self) -> None:
        self._command(f"event plain {SUBSCRIPTION}")

    def events(self) -> Iterator[dict[str, str]]:
        """Event fields as they arrive, until the switch closes the socket."""
        while True:
            try:
                headers, body = _read_block(self.stream)
            except EslError:
                return
            if headers.get("Content-Type") == "text/event-plain":
                yield parse_event(body)

    def api(self, command: str) -> str:
        return self._command(f"api {command}")

    # --- the platform's commands -----------------------------------------------------------------
    def set_agent_status(self, agent: str, state: str) -> str:
        _safe(agent)
        return self.api(f"callcenter_config agent set status {agent} '{AGENT_STATUS[state]}'")

    def transfer(self, call_uuid: str, destination: str) -> str:
        _safe(call_uuid, destination)
        return self.api(f"uuid_transfer {call_uuid} {destination} XML default")

    def consult(self, agent_uuid: str, department_number: str) -> str:
        """The agent's leg calls a department while the caller waits on hold (咨询)."""
        _safe(agent_uuid, department_number)
        return self.api(f"uuid_broadcast {agent_uuid} att_xfer::{{origination_cancel_key=#}}sofia/gateway/"
                        f"hotline/{department_number} aleg")

    def three_way(self, call_uuid: str, department_number: str) -> str:
        """Caller, agent and department in one conference (三方通话)."""
        _safe(call_uuid, department_number)
        room = f"hotline-{call_uuid}"
        self.api(f"uuid_transfer {call_uuid} -both conference:{room}@default inline")
        return self.api(f"originate sofia/gateway/hotline/{department_number} &conference({room}@default)")

    def close(self) -> None:
        try:
            self.sock.sendall(b"exit\n\n")
        except OSError:
            pass
        self.stream.close()
        self.sock.close()
