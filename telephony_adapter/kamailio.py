"""The Kamailio switch adapter: render its configuration, answer its routing questions, and tell
it to connect a call that waited in the queue.

Kamailio asks over HTTP (`http_client_query`, first line of the answer) because its script cannot
hold business rules; the platform's ACD decides. The answers are one line: `agent:<username>`,
`wait` or `reject`."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import requests
from sqlalchemy import select

from app.extensions import db
from app.models import Contact, User
from telephony_adapter import ivr
from telephony_adapter.calls import ingest
from telephony_adapter.events import CallEvent

log = logging.getLogger(__name__)
TEMPLATE = Path(__file__).resolve().parent / "sip" / "kamailio.cfg"
SOURCE = "kamailio"


@dataclass(frozen=True)
class KamailioSettings:
    sip_port: int
    xhttp_port: int
    platform_url: str
    token: str
    hotline_number: str = "12393"
    rtpengine_socket: str | None = None  # e.g. "udp:127.0.0.1:2223": record every call by Call-ID
    websocket_port: int | None = None  # browser softphones (SIP over WebSocket); needs rtpengine

    def __post_init__(self) -> None:
        if self.websocket_port and not self.rtpengine_socket:
            raise ValueError("浏览器软电话需要 rtpengine（WebRTC 媒体与普通 RTP 之间的转换）")


# rtpengine's flags for each direction of a call's media. A browser speaks WebRTC (ICE, DTLS-SRTP,
# rtcp-mux on one port, a=mid); desk phones and the caller's side speak plain RTP.
PLAIN = "replace-origin replace-session-connection"
TO_BROWSER = ("ICE=force DTLS=passive SDES-off rtcp-mux-require generate-mid "
              f"transport-protocol=UDP/TLS/RTP/SAVPF {PLAIN}")
FROM_BROWSER = f"ICE=remove DTLS=off SDES-off rtcp-mux-demux transport-protocol=RTP/AVP {PLAIN}"


def module_path() -> str:
    """Debian installs Kamailio's modules under the machine's multiarch folder."""
    found = sorted(Path("/usr/lib").glob("*/kamailio/modules"))
    return f"{found[0]}/" if found else "/usr/lib/x86_64-linux-gnu/kamailio/modules/"


def _by_direction(call: str, toward: str, away: str, plain: str) -> str:
    """$avp(webrtc): 1 = the request goes toward a browser, 2 = it comes from one, 0 = neither."""
    return (f'if ($avp(webrtc) == 1) {{ {call}("{toward}"); }} '
            f'else if ($avp(webrtc) == 2) {{ {call}("{away}"); }} else {{ {call}("{plain}"); }}')


def _media(settings: KamailioSettings) -> dict[str, str]:
    if not settings.rtpengine_socket:
        routes = ("RTPENGINE_OFFER", "RTPENGINE_ANSWER", "RTPENGINE_BRIDGE", "RTPENGINE_REOFFER", "RTPENGINE_REANSWER",
                  "RTPENGINE_DELETE")
        return dict.fromkeys(routes, "return;") | {"RTPENGINE_LOAD": "", "RTPENGINE_PARAMS": ""}
    platform = settings.platform_url.rstrip("/")
    # A re-INVITE (hold) may come from the browser or go toward it; note which before offering.
    direction = ('$avp(webrtc) = 0; if (proto == WS || proto == WSS) { $avp(webrtc) = 2; } '
                 'else if ($du =~ "transport=wss?" || $ru =~ "transport=wss?") { $avp(webrtc) = 1; } ')
    return {
        "RTPENGINE_LOAD": 'loadmodule "rtpengine.so"',
        "RTPENGINE_PARAMS": f'modparam("rtpengine", "rtpengine_sock", "{settings.rtpengine_socket}")',
        "RTPENGINE_OFFER": _by_direction("rtpengine_offer", f"{TO_BROWSER} record-call=yes",
                                         f"{FROM_BROWSER} record-call=yes", f"{PLAIN} record-call=yes"),
        "RTPENGINE_BRIDGE": f'rtpengine_offer("{TO_BROWSER}");',  # an internal call to a browser: not recorded
        # the answer travels back: the browser's answer is made plain for the caller, and the reverse
        "RTPENGINE_ANSWER": _by_direction("rtpengine_answer", FROM_BROWSER, TO_BROWSER, PLAIN),
        "RTPENGINE_REOFFER": direction + _by_direction("rtpengine_offer", TO_BROWSER, FROM_BROWSER, PLAIN),
        "RTPENGINE_REANSWER": _by_direction("rtpengine_answer", FROM_BROWSER, TO_BROWSER, PLAIN),
        "RTPENGINE_DELETE": (
            'rtpengine_delete(); $var(q) = "kind=recording_ready&call_id=" + $(ci{s.escape.param}); '
            f'http_client_query("{platform}/cti/kamailio/event?$var(q)", "", '
            f'"Authorization: Bearer {settings.token}", "$var(ok)");'),
    }


def _softphones(settings: KamailioSettings) -> dict[str, str]:
    """SIP over WebSocket for browser softphones: the handshake on its own port, a registration only
    with the platform's token, the browser's contact aliased to its connection, no dialling out."""
    port = settings.websocket_port
    if not port:
        return dict.fromkeys(("WS_LISTEN", "WS_LOAD", "WS_PARAMS"), "") | dict.fromkeys(
            ("SOFTPHONE_REQUEST", "SOFTPHONE_TARGET", "SOFTPHONE_REPLY", "SOFTPHONE_HANDSHAKE"), "return;")
    platform, token = settings.platform_url.rstrip("/"), settings.token
    return {
        "WS_LISTEN": f"listen=tcp:127.0.0.1:{port}",
        "WS_LOAD": 'loadmodule "websocket.so"\nloadmodule "nathelper.so"',
        "WS_PARAMS": 'modparam("nathelper|registrar", "received_avp", "$avp(RECEIVED)")',
        "SOFTPHONE_REQUEST": (
            'if (proto != WS && proto != WSS) { return; } force_rport(); '
            'if (is_method("REGISTER")) { '
            '$var(q) = "user=" + $(tU{s.escape.param}) + "&token=" + $(hdr(X-Hotline-Token){s.escape.param}); '
            f'http_client_query("{platform}/cti/kamailio/softphone?$var(q)", "", "Authorization: Bearer {token}", '
            '"$var(ok)"); '
            'if ($var(ok) != "ok") { sl_send_reply("403", "Softphone Not Allowed"); exit; } '
            'fix_nated_register(); save("location", "0x04"); exit; } '  # 0x04: the browser is the agent's one phone
            'if (!has_totag() && !is_method("ACK|CANCEL")) { sl_send_reply("403", "Softphones Only Answer"); exit; } '
            'if (is_method("INVITE")) { add_contact_alias(); }'),
        "SOFTPHONE_TARGET": 'if ($ru =~ "alias=") { handle_ruri_alias(); }',
        "SOFTPHONE_REPLY": "if (proto == WS || proto == WSS) { add_contact_alias(); }",
        "SOFTPHONE_HANDSHAKE": (
            f"if ($Rp != {port}) {{ return; }} "
            'if ($rm == "GET" && $hdr(Upgrade) =~ "websocket" && $hdr(Connection) =~ "Upgrade") { '
            "if (ws_handle_handshake()) { exit; } } "
            'xhttp_reply("404", "Not Found", "text/plain", "softphones only\n"); exit;'),
    }


def render_config(settings: KamailioSettings) -> str:
    text = TEMPLATE.read_text()
    values = {
        "SIP_PORT": str(settings.sip_port), "XHTTP_PORT": str(settings.xhttp_port),
        "XHTTP": f"http://127.0.0.1:{settings.xhttp_port}", "MPATH": module_path(),
        "PLATFORM": settings.platform_url.rstrip("/"), "TOKEN": settings.token, "HOTLINE": settings.hotline_number,
    } | _media(settings) | _softphones(settings)
    for name, value in values.items():
        text = text.replace(f"@@{name}@@", value)
    return text


AGENT_LEG_PREFIX = "acd-"  # the media component dials acd-<contact id> to reach the ACD for its caller


def route(call_id: str, caller: str, dialled: str, at: datetime, ivr_extension: str | None = None) -> str:
    """An INVITE to the hotline number: record the call; with a voice menu and its media component
    (`ivr_extension`), answer `ivr:<extension>` so the caller hears the menu first; otherwise
    queue it by the dialled number and say which agent's phone to ring, or that it waits.
    An INVITE to acd-<contact id> is the media component's own leg for a caller it queued."""
    if dialled.startswith(AGENT_LEG_PREFIX):
        return _agent_leg(call_id, dialled.removeprefix(AGENT_LEG_PREFIX))
    incoming = ingest(CallEvent(SOURCE, f"{call_id}:incoming", "incoming", call_id, at,
                                {"caller": caller, "dialled": dialled}))
    if ivr_extension and incoming.contact is not None and incoming.contact.state == "ivr" and ivr.root() is not None:
        return f"ivr:{ivr_extension}"
    outcome = ingest(CallEvent(SOURCE, f"{call_id}:queued", "queued", call_id, at, {}))
    if outcome.result == "ignored":
        return "reject"
    if outcome.result == "duplicate":  # Kamailio retried the question: answer the same
        return _answer_for(outcome.contact)
    if outcome.offered_to is None:
        return "wait"
    return f"agent:{db.session.get(User, outcome.offered_to).username}"


def _answer_for(contact: Contact | None) -> str:
    if contact is None or contact.state == "ended":
        return "reject"
    return f"agent:{contact.agent.username}" if contact.agent_id else "wait"


def _agent_leg(leg_call_id: str, contact_id: str) -> str:
    """The media component's leg to the agent: remember its Call-ID on the caller's contact (the
    switch reports that leg's events under it) and answer as for the caller's own INVITE. Only a
    call the voice menu queued, with no other leg yet, can be reached this way."""
    if not contact_id.isdigit():
        return "reject"
    contact = db.session.scalar(select(Contact).where(Contact.id == int(contact_id), Contact.source == SOURCE)
                                .with_for_update())
    if contact is None or contact.state not in ("queued", "offered") or contact.leg_call_id not in (None, leg_call_id):
        db.session.rollback()
        return "reject"
    contact.leg_call_id = leg_call_id
    answer = _answer_for(contact)
    db.session.commit()
    return answer


def contact_call_id(call_id: str) -> str:
    """The caller's Call-ID for an event Kamailio reports: the agent leg's id maps to its caller."""
    found = db.session.scalar(select(Contact.call_id).where(Contact.source == SOURCE, Contact.leg_call_id == call_id))
    return found or call_id


def waiting(call_id: str, tindex: str, tlabel: str, xhttp_url: str | None) -> bool:
    """Kamailio holds the call (suspended INVITE): keep its handle. If an agent was already
    given the call in the meantime, connect it now."""
    contact = db.session.scalar(select(Contact).where(Contact.source == SOURCE, Contact.call_id == contact_call_id(call_id))
                                .with_for_update())
    if contact is None:
        return False
    contact.switch_ref = f"{tindex}:{tlabel}"
    db.session.commit()
    if contact.state == "offered":
        connect(contact, xhttp_url)
    return True


def connect(contact: Contact, xhttp_url: str | None) -> None:
    """Tell Kamailio to ring the agent the ACD chose for a waiting call (in the background, so a
    request of the agent's browser never waits on the switch)."""
    if not xhttp_url:  # no Kamailio here: nothing to tell (and no reason to reload the call)
        return
    if not contact.switch_ref or contact.agent_id is None:
        return
    tindex, _, tlabel = contact.switch_ref.partition(":")
    agent = db.session.get(User, contact.agent_id).username
    url = f"{xhttp_url.rstrip('/')}/connect?tindex={tindex}&tlabel={tlabel}&agent={agent}"
    threading.Thread(target=_get_with_retries, args=(url,), daemon=True).start()


def _get_with_retries(url: str, attempts: int = 3) -> None:
    for attempt in range(attempts):
        try:
            if requests.get(url, timeout=3).status_code == 200:
                return
        except requests.RequestException as exc:
            log.warning("Kamailio connect failed (%s): %s", attempt + 1, exc)
        time.sleep(0.2 * (attempt + 1))
    log.error("Kamailio did not connect the waiting call: %s", url)
