"""One caller's conversation with the media component: voice menu, waiting, the agent, the survey.

The component knows no menu and no rules. It plays what the platform says (`/cti/ivr/next`),
collects one key, and asks again; the answer's `action` says what comes next. When the answer is
`queue`, it dials acd-<contact id> through the proxy (the ACD picks the agent as for any call)
and, once the agent answers, carries the audio (`talk.Talk`: also consult, three-way, transfer);
when the agent hangs up it asks the platform again, which then wants the survey."""

from __future__ import annotations

import logging
import time
from typing import Protocol

from pyVoIP.VoIP import CallState, VoIPCall

from telephony_adapter.audio import FRAME, RATE
from telephony_adapter.media.talk import Talk

log = logging.getLogger(__name__)

KEY_WAIT_SECONDS = 8.0  # after a prompt, how long a caller has to press a key
SILENT_PROMPTS = 3  # prompts heard without any key before the component says goodbye
WAIT_ANNOUNCE_SECONDS = 15.0  # while queued, how often the caller hears where they stand
PAUSE_SECONDS = 0.3
GOODBYE = "再见。"
TROUBLE = "系统繁忙，请稍后再拨。"
NO_AGENT = "暂时无法为您接通，请稍后再拨。"


class Platform(Protocol):
    def next(self, call_id: str, digit: str | None = None) -> dict: ...


class Conversation:
    def __init__(self, server, call: VoIPCall) -> None:
        self.server = server
        self.call = call
        self.call_id: str = call.request.headers["Call-ID"]
        self.platform: Platform = server.platform

    @property
    def caller_here(self) -> bool:
        return self.call.state == CallState.ANSWERED

    def run(self) -> None:
        self.call.answer()
        step = self.platform.next(self.call_id)
        silent = 0
        while self.caller_here:
            action = step.get("action")
            if action in ("prompt", "survey"):
                digit = self.say(step, listen=True)
                silent = 0 if digit else silent + 1
                if silent >= SILENT_PROMPTS:
                    self.finish(GOODBYE)
                    return
                step = self.platform.next(self.call_id, digit)
            elif action == "queue":
                step = self.through_the_agent(step.get("contact_id"), step)
            elif action == "pause":
                time.sleep(PAUSE_SECONDS)
                step = self.platform.next(self.call_id)
            elif action in ("message", "hangup"):
                self.finish(step)
                return
            else:  # "error" or anything this component does not know
                log.warning("call %s: platform said %r", self.call_id, step)
                self.finish(TROUBLE)
                return

    # --- the agent leg ------------------------------------------------------------------------

    def through_the_agent(self, contact_id: int | None, announcement: dict) -> dict:
        """Dial the ACD for this caller at once (the announcement plays while the agent's phone
        rings, and stops when they answer), keep the caller company while they wait, bridge the
        audio once the agent answers. Returns the platform's next step once the agent hung up."""
        if contact_id is None:
            return {"action": "message", "text": NO_AGENT}
        leg = self.server.dial(f"acd-{contact_id}")
        try:
            self.say(announcement, stop=lambda: leg.state != "dialing")
            next_news = time.monotonic() + WAIT_ANNOUNCE_SECONDS
            while leg.state in ("dialing", "cancelling") and self.caller_here:
                digit = self.call.get_dtmf()
                if digit or time.monotonic() >= next_news:
                    step = self.platform.next(self.call_id, digit or None)
                    if step.get("action") in ("hangup", "message"):
                        return step  # e.g. a callback request: the finally below cancels the leg
                    if step.get("action") in ("wait", "offer_callback"):
                        digit = self.say(step, listen=True)
                        if digit:
                            step = self.platform.next(self.call_id, digit)
                            if step.get("action") in ("hangup", "message"):
                                return step
                    next_news = time.monotonic() + WAIT_ANNOUNCE_SECONDS
                time.sleep(0.05)
            if leg.state == "answered" and self.caller_here:
                self._drain_keys()
                Talk(self, leg).run()
                self._drain_keys()  # keys pressed while talking to the agent are not the survey's answer
            if not self.caller_here:
                return {"action": "hangup"}
            if leg.final_status is not None:
                return {"action": "message", "text": NO_AGENT}
            return self.platform.next(self.call_id)
        finally:
            leg.hang_up()
            self.server.forget(leg)

    # --- speaking and listening ---------------------------------------------------------------

    def say(self, what: str | dict, listen: bool = False, stop=None) -> str | None:
        """Play a prompt (text, or a step of the platform's: its recording if it has one, else its
        text), paced in real time; with `listen`, a key stops it (barge-in) and is returned, or the
        caller has KEY_WAIT_SECONDS after it ends to press one. `stop` ends the prompt early."""
        audio = self._audio(what)
        started, sent = time.monotonic(), 0
        while sent < len(audio) and self.caller_here and not (stop and stop()):
            if listen:
                digit = self.call.get_dtmf()
                if digit:
                    return digit
            if sent / RATE - (time.monotonic() - started) < 0.1:  # keep ~100 ms queued ahead
                self.call.write_audio(audio[sent:sent + FRAME])
                sent += FRAME
            else:
                time.sleep(0.01)
        if not listen:
            while time.monotonic() - started < sent / RATE and not (stop and stop()):
                time.sleep(0.02)  # until the last frame queued has been heard
            return None
        deadline = time.monotonic() + KEY_WAIT_SECONDS
        while time.monotonic() < deadline and self.caller_here:
            digit = self.call.get_dtmf()
            if digit:
                return digit
            time.sleep(0.02)
        return None

    def _audio(self, what: str | dict) -> bytes:
        prompts = self.server.prompts
        if isinstance(what, str):
            return prompts.audio(what)
        if what.get("audio"):
            recording = prompts.recording(what["audio"], self.platform.recording)
            if recording is not None:
                return prompts.audio(what.get("lead") or "") + recording
        return prompts.audio(what.get("text") or "")

    def _drain_keys(self) -> None:
        while self.call.get_dtmf():
            pass

    def finish(self, what: str | dict) -> None:
        if what:
            self.say(what)
        if self.caller_here:
            self.call.hangup()
