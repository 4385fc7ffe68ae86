"""Spoken prompts: text synthesised by espeak-ng's Mandarin voice, kept as 8 kHz 8-bit audio.

The menu's prompts are text the managers edit, so the media component speaks whatever text the
platform sends; each text is synthesised once and cached on disk by its hash. Without espeak-ng
a prompt is a short silence (and a warning in the log) so the call still goes on."""

from __future__ import annotations

import hashlib
import logging
import shutil
import subprocess
import wave
from pathlib import Path

log = logging.getLogger(__name__)
RATE = 8000  # what pyVoIP's RTP clients send: 8 kHz, unsigned 8-bit, mono (PCMU on the wire)
FRAME = 160  # 20 ms


def to_phone_audio(path: Path) -> bytes:
    """A WAV file (any rate, 8/16-bit, mono or stereo) as 8 kHz unsigned 8-bit mono."""
    import audioop  # deprecated for 3.13; pyVoIP itself depends on it on 3.11

    with wave.open(str(path), "rb") as source:
        width, channels, rate = source.getsampwidth(), source.getnchannels(), source.getframerate()
        data = source.readframes(source.getnframes())
    if channels == 2:
        data = audioop.tomono(data, width, 0.5, 0.5)
    if rate != RATE:
        data, _ = audioop.ratecv(data, width, 1, rate, RATE, None)
    if width == 1:  # WAV's 8-bit is unsigned already
        return data
    return audioop.bias(audioop.lin2lin(data, width, 1), 1, 128)


class Prompts:
    def __init__(self, folder: Path, voice: str = "cmn", speed: int = 175) -> None:
        self.folder = folder
        self.voice, self.speed = voice, speed
        self.folder.mkdir(parents=True, exist_ok=True)
        self._espeak = shutil.which("espeak-ng")
        if self._espeak is None:
            log.warning("espeak-ng not found: prompts will be silent (apt-get install espeak-ng)")

    def audio(self, text: str) -> bytes:
        if not text:
            return b""
        key = hashlib.sha256(f"{self.voice}:{self.speed}:{text}".encode()).hexdigest()[:32]
        cached = self.folder / f"{key}.pcm"
        if cached.exists():
            return cached.read_bytes()
        if self._espeak is None:
            return b"\x80" * RATE  # one second of silence
        wav = self.folder / f"{key}.wav"
        # An argument list, no shell: the text is one argument, whatever it says.
        subprocess.run([self._espeak, "-v", self.voice, "-s", str(self.speed), "-w", str(wav), text],  # noqa: S603
                       check=True, capture_output=True, timeout=30)
        audio = to_phone_audio(wav)
        wav.unlink()
        cached.write_bytes(audio)
        return audio
