"""The caller's talk with the agent, and with a colleague the agent brings in: consult (咨询),
three-way (三方通话) and transfer (转接), mixed here because the phones cannot mix.

Every 20 ms one frame is read from each party and each party is sent the mix of the parties it
hears. The agent's page sends the commands (through the platform to the control port):

    consult <user>  the caller is put on hold (hears a short message) and the agent talks to the
                    colleague, whose phone is dialled through the proxy;
    conference      all three hear each other;
    transfer        the agent leaves; the caller and the colleague go on (the platform is told
                    first, so the call record follows the caller to the colleague);
    cancel          the colleague leaves; the caller and the agent go on.

The agent hanging up ends the talk (and drops a colleague still on the line): handing over is
what 转接 is for."""

from __future__ import annotations

import audioop
import logging
import queue
import time

from telephony_adapter.audio import FRAME, RATE

log = logging.getLogger(__name__)
SILENCE = b"\x80" * FRAME
HOLD_MESSAGE = "请稍候，坐席正在为您咨询相关部门。"
HOLD_GAP_SECONDS = 4.0


class CommandRefused(Exception):
    pass


def mix(frames: list[bytes]) -> bytes:
    """Unsigned 8-bit frames summed (as signed, clipped by audioop)."""
    if not frames:
        return SILENCE
    total = audioop.bias(frames[0], 1, -128)
    for frame in frames[1:]:
        total = audioop.add(total, audioop.bias(frame, 1, -128), 1)
    return audioop.bias(total, 1, 128)


class Talk:
    def __init__(self, conversation, agent_leg) -> None:
        self.conversation = conversation
        self.server = conversation.server
        self.caller = conversation.call
        self.agent = agent_leg
        self.colleague = None  # the AgentLeg to the consulted colleague
        self.colleague_name: str | None = None
        self.mode = "talk"  # talk, consult, conference, transferred
        self.commands: queue.Queue = queue.Queue()
        self._hold_audio = b""
        self._hold_at = 0

    # --- commands (from the control port's threads) -------------------------------------------

    def command(self, action: str, target: str | None) -> None:
        """Checked here, carried out by the talk's own thread between two frames."""
        if action == "consult":
            if self.mode != "talk":
                raise CommandRefused("已有咨询中的通话")
            if not target:
                raise CommandRefused("请选择咨询对象")
        elif action in ("conference", "transfer", "cancel"):
            if self.mode not in ("consult", "conference"):
                raise CommandRefused("请先咨询同事")
            if action != "cancel" and (self.colleague is None or self.colleague.state != "answered"):
                raise CommandRefused("同事尚未接听")
        else:
            raise CommandRefused("未知的操作")
        self.commands.put((action, target))

    def _carry_out(self, action: str, target: str | None) -> None:
        if action == "consult":
            self.colleague, self.colleague_name = self.server.dial(target), target
            self.mode = "consult"
            self._hold_audio, self._hold_at = self.server.prompts.audio(HOLD_MESSAGE), 0
        elif action == "conference":
            self.mode = "conference"
        elif action == "transfer":
            self.server.platform.event(self.conversation.call_id, "transferred", f"transfer:{self.colleague.call_id}",
                                       {"agent": self.colleague_name, "leg_call_id": self.colleague.call_id})
            self.agent.hang_up()  # after the platform knows: its end is no longer this call's end
            self.server.forget(self.agent)
            self.agent, self.colleague, self.mode = self.colleague, None, "transferred"
        elif action == "cancel":
            self._drop_colleague()

    def _drop_colleague(self) -> None:
        if self.colleague is not None:
            self.colleague.hang_up()
            self.server.forget(self.colleague)
        self.colleague, self.colleague_name, self.mode = None, None, "talk"

    # --- the audio ----------------------------------------------------------------------------

    def run(self) -> None:
        """Until the caller or the agent (after a transfer: the colleague) hangs up."""
        self.conversation.server.talks[self.conversation.call_id] = self
        try:
            tick = time.monotonic()
            while self.conversation.caller_here and self.agent.state == "answered":
                while not self.commands.empty():
                    self._carry_out(*self.commands.get())
                if self.colleague is not None and self.colleague.state == "ended":
                    self._drop_colleague()  # the colleague hung up or never answered: back to the caller
                self._frame()
                tick += FRAME / RATE
                time.sleep(max(0.0, tick - time.monotonic()))
        finally:
            self.conversation.server.talks.pop(self.conversation.call_id, None)
            transferred = self.mode == "transferred"
            self._drop_colleague()
            if transferred:  # the colleague's leg is ours to end too
                self.agent.hang_up()
                self.server.forget(self.agent)
        if transferred and self.conversation.caller_here:
            # The proxy does not follow the colleague's leg: say ourselves that the talk has ended.
            self.server.platform.event(self.conversation.call_id, "hangup", "hangup", {"cause": "normal"})

    def _frame(self) -> None:
        parties = {"caller": self.caller, "agent": self.agent.call}
        if self.colleague is not None and self.colleague.state == "answered":
            parties["colleague"] = self.colleague.call
        heard = {name: call.read_audio(FRAME, blocking=False) for name, call in parties.items()}
        for name, call in parties.items():
            call.write_audio(mix([heard[other] for other in self._hears(name) if other in heard])
                             if name != "caller" or self.mode != "consult" else self._hold_frame())

    def _hears(self, name: str) -> tuple[str, ...]:
        if self.mode == "conference":
            return tuple(other for other in ("caller", "agent", "colleague") if other != name)
        if self.mode == "consult":
            return {"agent": ("colleague",), "colleague": ("agent",)}.get(name, ())
        return {"caller": ("agent",), "agent": ("caller",)}.get(name, ())

    def _hold_frame(self) -> bytes:
        """The held caller hears the hold message, then a pause, over and over."""
        cycle = len(self._hold_audio) + int(HOLD_GAP_SECONDS * RATE)
        position = self._hold_at % cycle if cycle else 0
        self._hold_at += FRAME
        frame = self._hold_audio[position:position + FRAME]
        return frame + SILENCE[len(frame):]
