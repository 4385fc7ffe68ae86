"""The media component's own call to the ACD (acd-<contact id>): the second leg of a bridged call.

pyVoIP answers callers well, but as a caller it only knows a registrar that answers at once: it
waits for 100/180 inside `invite`, acknowledges a 200 with a fresh To tag and no route set, and
cannot cancel. This leg therefore writes its few requests itself (INVITE, ACK, CANCEL, BYE, as
RFC 3261 §12–13 has them) and keeps pyVoIP for what it does well: parsing, the socket and RTP.
Responses and requests for the leg's Call-ID reach it through `MediaServer`'s hook."""

from __future__ import annotations

import logging
import random
import threading
import time
import uuid

from pyVoIP import RTP
from pyVoIP.SIP import SIPMessage, SIPMessageType
from pyVoIP.VoIP import CallState, VoIPCall

log = logging.getLogger(__name__)
T1 = 0.5  # RFC 3261's round-trip estimate: an unanswered INVITE goes again after T1, 2·T1, 4·T1 …
TIMER_B = 64 * T1  # … and with no answer at all by then, the call has failed
COMPACT = {"i": "call-id", "f": "from", "t": "to", "v": "via", "m": "contact"}


def headers(raw: bytes) -> tuple[str, list[tuple[str, str]]]:
    """The first line and the header lines (lower-case names, compact forms expanded)."""
    head = raw.decode("utf8", errors="replace").split("\r\n\r\n", 1)[0].split("\r\n")
    found = []
    for line in head[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        found.append((COMPACT.get(name, name), value.strip()))
    return head[0], found


def header(found: list[tuple[str, str]], name: str) -> list[str]:
    return [value for key, value in found if key == name]


def _tag(value: str) -> str:
    for part in value.split(";")[1:]:
        key, _, tag = part.strip().partition("=")
        if key.lower() == "tag":
            return tag
    return ""


def _uri(value: str) -> str:
    return value[value.index("<") + 1:value.index(">")] if "<" in value else value.split(";")[0].strip()


class AgentLeg:
    """One outgoing call through the proxy. `state`: dialing, answered, ended; `call` is the
    pyVoIP call (RTP) once answered; `final_status` the failure's status code, if it failed."""

    def __init__(self, phone, number: str) -> None:
        self.phone = phone
        self.sip = phone.sip
        self.call_id = f"{uuid.uuid4().hex}@{phone.myIP}"
        self.local_tag = uuid.uuid4().hex[:12]
        self.branch = f"z9hG4bK{uuid.uuid4().hex}"
        self.uri = f"sip:{number}@{phone.server}:{phone.port}"
        self.port = phone.request_port()
        self.media = {self.port: {0: RTP.PayloadType.PCMU, 101: RTP.PayloadType.EVENT}}
        self.session = random.randint(1, 2**31)  # noqa: S311 - an SDP session id, not a secret
        self.state = "dialing"
        self.final_status: int | None = None
        self.call: VoIPCall | None = None
        self.remote_tag = ""
        self.remote_target = ""
        self.route_set: list[str] = []
        self.ended = threading.Event()
        self._heard = threading.Event()  # any response to the INVITE: stop sending it again
        self._lock = threading.Lock()
        self._invite = self._request("INVITE", self.uri, self.branch, 1, body=self._sdp())

    def start(self) -> None:
        """Send the INVITE (once the media server routes this Call-ID's messages here)."""
        log.info("leg %s dialling %s", self.call_id, self.uri)
        self._send(self._invite)
        threading.Thread(target=self._retransmit, daemon=True, name=f"invite-{self.call_id[:8]}").start()

    def _retransmit(self) -> None:
        """Over UDP a request may be lost: the INVITE is sent again at T1, 2·T1, 4·T1 … until any
        response arrives; with none within Timer B the leg fails as 408 (RFC 3261 §17.1.1.2).
        Kamailio absorbs a copy of an INVITE it already relayed, and the platform answers a
        repeated routing question the same."""
        interval, deadline = T1, time.monotonic() + TIMER_B
        while not self._heard.wait(min(interval, max(0.0, deadline - time.monotonic()))):
            with self._lock:
                if self.state != "dialing":
                    return
                if time.monotonic() >= deadline:
                    log.warning("leg %s to %s: no answer to the INVITE", self.call_id, self.uri)
                    self.final_status = 408
                    self._end()
                    return
                self._send(self._invite)
            interval *= 2

    # --- what the proxy says ------------------------------------------------------------------

    def on_message(self, message: SIPMessage) -> None:
        first, found = headers(message.raw)
        log.debug("leg %s: %s", self.call_id, first)
        if message.type == SIPMessageType.MESSAGE:
            self._on_request(message.method, found)
            return
        code = int(first.split(" ", 2)[1])
        if not header(found, "cseq") or not header(found, "cseq")[0].upper().endswith("INVITE"):
            return  # the answer to our BYE or CANCEL: nothing more to do
        self._heard.set()
        with self._lock:
            if code < 200:
                return
            log.info("leg %s to %s: %s", self.call_id, self.uri, first)
            if code < 300:
                self._answered(message, found)
            else:
                self._failed(code, found)

    def _answered(self, message: SIPMessage, found: list[tuple[str, str]]) -> None:
        if self.state != "dialing":  # a retransmitted 200: acknowledge it again
            if self.state == "answered":
                self._send(self._ack())
            return
        self.remote_tag = _tag(header(found, "to")[0])
        self.remote_target = _uri(header(found, "contact")[0]) if header(found, "contact") else self.uri
        routes = [part.strip() for value in header(found, "record-route") for part in value.split(",")]
        self.route_set = list(reversed(routes))  # the caller's side reads Record-Route backwards
        self.call = VoIPCall(self.phone, CallState.DIALING, SIPMessage(self._invite.encode()), self.session,
                             self.phone.myIP, ms=self.media, sendmode="sendrecv")
        self.call.answered(message)
        self.state = "answered"
        self._send(self._ack())

    def _failed(self, code: int, found: list[tuple[str, str]]) -> None:
        # A final failure is acknowledged on the INVITE's own branch (a hop-by-hop ACK).
        to = header(found, "to")[0] if header(found, "to") else f"<{self.uri}>"
        self._send(self._request("ACK", self.uri, self.branch, 1, to=to))
        if self.state == "dialing":
            self.final_status = code
            self._end()

    def _on_request(self, method: str, found: list[tuple[str, str]]) -> None:
        if method == "BYE":
            lines = [f"{name.title() if name != 'call-id' else 'Call-ID'}: {value}" for name, value in found
                     if name in ("via", "from", "to", "call-id", "cseq")]
            self.sip.out.sendto(("SIP/2.0 200 OK\r\n" + "\r\n".join(lines) + "\r\nContent-Length: 0\r\n\r\n")
                                .encode(), (self.phone.server, self.phone.port))
            with self._lock:
                self._end()

    # --- what the media component does --------------------------------------------------------

    def hang_up(self) -> None:
        """BYE when answered, CANCEL while it still rings or waits in the queue."""
        with self._lock:
            if self.state == "answered":
                self._send(self._request("BYE", self.remote_target, f"z9hG4bK{uuid.uuid4().hex}", 2,
                                         to=f"<{self.uri}>;tag={self.remote_tag}", routes=self.route_set))
                self._end()
            elif self.state == "dialing":
                self._send(self._request("CANCEL", self.uri, self.branch, 1))
                self.state = "cancelling"  # the 487 that follows ends it

    def _end(self) -> None:
        if self.call is not None:
            for client in self.call.RTPClients:
                client.stop()
            self.call.state = CallState.ENDED
            self.phone.release_ports(self.call)
            self.call.assignedPorts = {}  # released: pyVoIP's __del__ would release them a second time
        elif self.port in self.phone.assignedPorts:
            self.phone.assignedPorts.remove(self.port)
        self.state = "ended"
        self.ended.set()
        self._heard.set()

    # --- the requests -------------------------------------------------------------------------

    def _ack(self) -> str:
        return self._request("ACK", self.remote_target, f"z9hG4bK{uuid.uuid4().hex}", 1,
                             to=f"<{self.uri}>;tag={self.remote_tag}", routes=self.route_set)

    def _request(self, method: str, target: str, branch: str, cseq: int, to: str | None = None,
                 routes: list[str] | None = None, body: str = "") -> str:
        me = f"{self.phone.myIP}:{self.sip.myPort}"
        lines = [f"{method} {target} SIP/2.0", f"Via: SIP/2.0/UDP {me};branch={branch};rport"]
        lines += [f"Route: {route}" for route in routes or []]
        lines += ["Max-Forwards: 70", f"From: <sip:{self.phone.username}@{self.phone.myIP}>;tag={self.local_tag}",
                  f"To: {to or f'<{self.uri}>'}", f"Call-ID: {self.call_id}", f"CSeq: {cseq} {method}",
                  f"Contact: <sip:{self.phone.username}@{me}>", "User-Agent: hotline-media (pyVoIP)"]
        if body:
            lines.append("Content-Type: application/sdp")
        lines.append(f"Content-Length: {len(body.encode())}")
        return "\r\n".join(lines) + "\r\n\r\n" + body

    def _sdp(self) -> str:
        ip = self.phone.myIP
        return "\r\n".join([
            "v=0", f"o=hotline {self.session} {self.session} IN IP4 {ip}", "s=hotline media", f"c=IN IP4 {ip}",
            "t=0 0", f"m=audio {self.port} RTP/AVP 0 101", "a=rtpmap:0 PCMU/8000",
            "a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-15", "a=ptime:20", "a=sendrecv", ""])

    def _send(self, text: str) -> None:
        self.sip.out.sendto(text.encode(), (self.phone.server, self.phone.port))
