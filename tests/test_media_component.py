"""The voice-menu media component's own pieces, without a SIP peer: the mixer, the checks on the
agent's commands, the choice of RTP ports, and the conversion of spoken prompts to phone audio."""

from __future__ import annotations

import math
import socket
import struct
import wave
from types import SimpleNamespace

import pytest

from telephony_adapter.media import prompts
from telephony_adapter.media.server import MediaPhone, NoPortsAvailableError
from telephony_adapter.media.talk import SILENCE, CommandRefused, Talk, mix


def test_the_mixer_adds_the_parties_a_listener_hears_and_silence_is_the_unsigned_midpoint():
    loud, soft = bytes([128 + 40] * 160), bytes([128 - 10] * 160)
    assert mix([]) == SILENCE and set(SILENCE) == {128}
    assert set(mix([loud, soft])) == {128 + 30}
    assert set(mix([loud, loud, loud, loud])) == {255}  # clipped, not wrapped around


def _talk() -> Talk:
    conversation = SimpleNamespace(server=SimpleNamespace(), call=object(), call_id="c1")
    return Talk(conversation, SimpleNamespace(state="answered"))


def test_an_agent_must_consult_before_bringing_the_colleague_in_or_handing_over():
    talk = _talk()
    for action, why in (("conference", "请先咨询同事"), ("transfer", "请先咨询同事"), ("cancel", "请先咨询同事"),
                        ("consult", "请选择咨询对象"), ("teleport", "未知的操作")):
        with pytest.raises(CommandRefused, match=why):
            talk.command(action, None)
    talk.command("consult", "wang")
    assert talk.commands.get_nowait() == ("consult", "wang")
    talk.mode, talk.colleague = "consult", SimpleNamespace(state="dialing")
    with pytest.raises(CommandRefused, match="同事尚未接听"):
        talk.command("transfer", None)
    with pytest.raises(CommandRefused, match="已有咨询"):
        talk.command("consult", "zhao")
    talk.command("cancel", None)  # a colleague who does not answer can always be given up


def test_a_call_never_gets_an_rtp_port_another_program_holds():
    """A browser's WebRTC or a phone's RTP may sit on a port of the media range; the call takes
    another, and when every port is held it is refused outright rather than left without audio."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as held:
        held.bind(("127.0.0.1", 0))
        busy = held.getsockname()[1]
        free = next(p for p in (busy + 1, busy - 1) if _bindable_now(p))
        low, high = min(busy, free), max(busy, free)
        phone = MediaPhone("127.0.0.1", 5060, "ivr", "", myIP="127.0.0.1", sipPort=0, rtpPortLow=low,
                           rtpPortHigh=high)
        drawn = set()
        for _ in range(20):  # pyVoIP draws at random between the two: the held one must never win
            drawn.add(phone.request_port())
            phone.assignedPorts.remove(free)
        assert drawn == {free}
        phone.rtpPortLow = phone.rtpPortHigh = busy
        with pytest.raises(NoPortsAvailableError):
            phone.request_port()
        assert phone.assignedPorts == []  # nothing is left handed out by the refused search


def _bindable_now(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def test_a_prompt_becomes_8_khz_unsigned_8_bit_audio(tmp_path):
    path = tmp_path / "tone.wav"
    with wave.open(str(path), "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(16000)
        frames = (int(8000 * math.sin(2 * math.pi * 440 * n / 16000)) for n in range(16000))
        out.writeframes(b"".join(struct.pack("<hh", v, v) for v in frames))
    audio = prompts.to_phone_audio(path.read_bytes())
    assert abs(len(audio) - 8000) <= 2  # one second at 8 kHz, one byte a sample
    assert min(audio) < 100 < 156 < max(audio)  # the tone swings around 128


def test_without_espeak_a_prompt_is_a_second_of_silence_and_the_call_goes_on(tmp_path, monkeypatch):
    monkeypatch.setattr(prompts.shutil, "which", lambda name: None)
    assert prompts.Prompts(tmp_path).audio("您好") == b"\x80" * 8000


class _Wire:
    """What the leg sends, instead of a UDP socket to the proxy."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    def sendto(self, data: bytes, _address) -> None:
        self.sent.append(data.decode())

    def invites(self) -> int:
        return sum(1 for text in self.sent if text.startswith("INVITE "))


def _leg(monkeypatch, t1: float):
    from telephony_adapter.media import agent_leg

    monkeypatch.setattr(agent_leg, "T1", t1)
    monkeypatch.setattr(agent_leg, "TIMER_B", 64 * t1)
    wire = _Wire()
    phone = SimpleNamespace(sip=SimpleNamespace(out=wire, myPort=5070), myIP="127.0.0.1", server="127.0.0.1",
                            port=5060, username="ivr", assignedPorts=[], request_port=lambda: 30000)
    return agent_leg.AgentLeg(phone, "agent2"), wire


def _response(leg, status: str) -> object:
    from pyVoIP.SIP import SIPMessage

    return SIPMessage((f"SIP/2.0 {status}\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch={leg.branch}\r\n"
                       f"From: <sip:ivr@127.0.0.1>;tag={leg.local_tag}\r\nTo: <{leg.uri}>\r\n"
                       f"Call-ID: {leg.call_id}\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n").encode())


def test_an_invite_the_network_lost_is_sent_again_until_the_proxy_answers(monkeypatch):
    """Over UDP the consult's INVITE may be lost: it goes again after T1, 2·T1, 4·T1 … and stops at
    the proxy's first answer (100 Trying); nothing is sent before start()."""
    import time

    leg, wire = _leg(monkeypatch, t1=0.05)
    assert wire.sent == []  # the media server registers the leg first, then starts it
    leg.start()
    deadline = time.monotonic() + 5
    while wire.invites() < 4 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert wire.invites() >= 4 and len(set(wire.sent)) == 1  # the same request, same branch: a retransmission
    leg.on_message(_response(leg, "100 Trying"))
    sent = wire.invites()
    time.sleep(0.5)  # longer than the next interval would be
    assert wire.invites() == sent and leg.state == "dialing"


def test_an_invite_nobody_answers_fails_the_leg_after_timer_b(monkeypatch):
    """No answer at all (the proxy is down): after 64·T1 the leg ends as 408, so the talk goes back
    to the caller instead of consulting for ever."""
    leg, wire = _leg(monkeypatch, t1=0.02)
    leg.start()
    assert leg.ended.wait(5)
    assert (leg.state, leg.final_status) == ("ended", 408) and 4 <= wire.invites() <= 8
