"""The media component's process: one registered pyVoIP phone, a thread per caller, and the
agent legs it dialled (their SIP messages are routed to them by Call-ID)."""

from __future__ import annotations

import logging
import threading

import requests
from pyVoIP.SIP import SIPMessage
from pyVoIP.VoIP import VoIPCall, VoIPPhone

from telephony_adapter.media.agent_leg import AgentLeg
from telephony_adapter.media.conversation import Conversation
from telephony_adapter.media.prompts import Prompts

log = logging.getLogger(__name__)


class PlatformClient:
    """/cti/ivr/next on the platform, with the switch's bearer token. A platform that cannot be
    reached gets the caller a polite goodbye, not silence."""

    def __init__(self, url: str, token: str, source: str = "kamailio", timeout: float = 3.0) -> None:
        self.url = url.rstrip("/") + "/cti/ivr/next"
        self.source, self.timeout = source, timeout
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"

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


class MediaServer:
    def __init__(self, proxy: tuple[str, int], extension: str, platform, prompts: Prompts,
                 my_ip: str = "127.0.0.1", sip_port: int = 5070, rtp_ports: tuple[int, int] = (30000, 30999)) -> None:
        self.platform = platform
        self.prompts = prompts
        self.phone = VoIPPhone(proxy[0], proxy[1], extension, "", myIP=my_ip, callCallback=self._caller,
                               sipPort=sip_port, rtpPortLow=rtp_ports[0], rtpPortHigh=rtp_ports[1])
        self.legs: dict[str, AgentLeg] = {}
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
        with self._legs_lock:
            leg = AgentLeg(self.phone, number)
            self.legs[leg.call_id] = leg
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
