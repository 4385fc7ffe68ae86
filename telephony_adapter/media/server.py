"""The media component's process: one registered pyVoIP phone, a thread per caller, and the
agent legs it dialled (their SIP messages are routed to them by Call-ID)."""

from __future__ import annotations

import hmac
import json
import logging
import socket
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

import requests
from pyVoIP.SIP import SIPMessage
from pyVoIP.VoIP import NoPortsAvailableError, VoIPCall, VoIPPhone

from telephony_adapter.media.agent_leg import AgentLeg
from telephony_adapter.media.conversation import Conversation
from telephony_adapter.media.prompts import Prompts
from telephony_adapter.media.talk import CommandRefused, Talk

log = logging.getLogger(__name__)


class PlatformClient:
    """/cti/ivr/next on the platform, with the switch's bearer token. A platform that cannot be
    reached gets the caller a polite goodbye, not silence."""

    def __init__(self, url: str, token: str, source: str = "kamailio", timeout: float = 3.0) -> None:
        self.base = url.rstrip("/")
        self.url = self.base + "/cti/ivr/next"
        self.events_url = url.rstrip("/") + "/cti/events"
        self.source, self.timeout = source, timeout
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"

    def event(self, call_id: str, kind: str, key: str, data: dict) -> None:
        """A call event the proxy cannot see (a transfer, the end of a colleague's leg), in the
        platform's vocabulary; the id makes a repeat harmless."""
        body = {"source": self.source, "event_id": f"{call_id}:{key}", "kind": kind, "call_id": call_id,
                "at": datetime.now(UTC).isoformat(), "data": data}
        try:
            self.session.post(self.events_url, json=body, timeout=self.timeout).raise_for_status()
        except requests.RequestException as exc:
            log.error("platform did not take the %s event of call %s: %s", kind, call_id, exc)

    def recording(self, path: str) -> bytes | None:
        """An uploaded prompt (phone audio) by the path the platform gave, e.g. /cti/ivr/audio/3?v=…"""
        try:
            answer = self.session.get(self.base + path, timeout=self.timeout * 3)
            answer.raise_for_status()
            return answer.content
        except requests.RequestException as exc:
            log.error("recorded prompt %s not fetched: %s", path, exc)
            return None

    def next(self, call_id: str, digit: str | None = None) -> dict:
        body = {"call_id": call_id, "source": self.source}
        if digit:
            body["digit"] = digit
        try:
            answer = self.session.post(self.url, json=body, timeout=self.timeout)
            answer.raise_for_status()
            return answer.json()
        except (requests.RequestException, ValueError) as exc:
            log.error("platform unreachable for call %s: %s", call_id, exc)
            return {"action": "error"}


class MediaPhone(VoIPPhone):
    """pyVoIP's phone, choosing only RTP ports that can be bound now. pyVoIP picks at random among
    the ports it has not handed out itself; one another program holds (a browser's WebRTC, a
    phone's RTP) failed the call's audio when it started: the caller heard nothing, or the 200 from
    a colleague's phone was never acknowledged and the consult hung."""

    def request_port(self, blocking: bool = True) -> int:
        held: list[int] = []
        try:
            for _ in range(self.rtpPortHigh - self.rtpPortLow + 1):
                port = super().request_port(blocking)
                if _bindable(self.myIP, port):
                    return port
                held.append(port)  # kept in assignedPorts while looking further, so not drawn again
            raise NoPortsAvailableError("every RTP port of the range is in use")
        finally:
            for port in held:
                self.assignedPorts.remove(port)


def _bindable(ip: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.bind((ip, port))
        except OSError:
            return False
    return True


class MediaServer:
    def __init__(self, proxy: tuple[str, int], extension: str, platform, prompts: Prompts,
                 my_ip: str = "127.0.0.1", sip_port: int = 5070, rtp_ports: tuple[int, int] = (30000, 30999)) -> None:
        self.platform = platform
        self.prompts = prompts
        self.phone = MediaPhone(proxy[0], proxy[1], extension, "", myIP=my_ip, callCallback=self._caller,
                               sipPort=sip_port, rtpPortLow=rtp_ports[0], rtpPortHigh=rtp_ports[1])
        self.legs: dict[str, AgentLeg] = {}
        self.talks: dict[str, Talk] = {}  # by the caller's Call-ID: the calls an agent is talking on
        self._legs_lock = threading.Lock()
        parse = self.phone.sip.parse_message

        def route_by_call_id(message: SIPMessage) -> None:
            leg = self.legs.get(message.headers.get("Call-ID", ""))
            if leg is not None:
                leg.on_message(message)
            else:
                parse(message)

        self.phone.sip.parse_message = route_by_call_id  # the agent legs are ours, the rest pyVoIP's

    def start(self) -> None:
        self.phone.start()

    def stop(self) -> None:
        for leg in list(self.legs.values()):
            leg.hang_up()
        self.phone.stop()

    def dial(self, number: str) -> AgentLeg:
        leg = AgentLeg(self.phone, number)
        with self._legs_lock:
            self.legs[leg.call_id] = leg
        leg.start()  # only now: an answer that came before the leg is known here would go to pyVoIP
        return leg

    def forget(self, leg: AgentLeg) -> None:
        def later() -> None:  # keep routing the leg's last messages (487, BYE's 200) for a moment
            leg.ended.wait(5)
            self.legs.pop(leg.call_id, None)

        threading.Thread(target=later, daemon=True).start()

    def _caller(self, call: VoIPCall) -> None:
        try:
            Conversation(self, call).run()
        except Exception:  # one caller's trouble must not take the component down
            log.exception("call %s failed", call.request.headers.get("Call-ID"))


def control_server(server: MediaServer, port: int, token: str, host: str = "127.0.0.1") -> ThreadingHTTPServer:
    """The platform's commands for a call in progress: POST /calls/<caller's Call-ID>/<action>
    with {"target": username} and the switch's bearer token. 200 when taken, 404 for a call this
    component is not carrying a talk for, 409 when the talk cannot do it now."""
    expected = f"Bearer {token}".encode()

    class Control(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - the library's name
            if not hmac.compare_digest(self.headers.get("Authorization", "").encode(), expected):
                return self._answer(401, "未授权")
            parts = self.path.strip("/").split("/")
            if len(parts) != 3 or parts[0] != "calls":
                return self._answer(404, "未知的地址")
            talk = server.talks.get(unquote(parts[1]))
            if talk is None:
                return self._answer(404, "该通话不在语音平台上或已结束")
            try:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}") if 0 <= length <= 4096 else {}
                talk.command(parts[2], body.get("target") if isinstance(body, dict) else None)
            except CommandRefused as refused:
                return self._answer(409, str(refused))
            except ValueError:
                return self._answer(400, "请求体须为 JSON")
            return self._answer(200, "ok")

        def _answer(self, status: int, message: str) -> None:
            payload = json.dumps({"message": message}, ensure_ascii=False).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args) -> None:
            log.info("control: %s", args[0] % args[1:] if len(args) > 1 else args[0])

    http = ThreadingHTTPServer((host, port), Control)
    threading.Thread(target=http.serve_forever, daemon=True, name="media-control").start()
    return http
