"""Spoken prompts: text synthesised by espeak-ng's Mandarin voice, kept as 8 kHz 8-bit audio.

The menu's prompts are text the managers edit, so the media component speaks whatever text the
platform sends; each text is synthesised once and cached on disk by its hash. Without espeak-ng
a prompt is a short silence (and a warning in the log) so the call still goes on."""

from __future__ import annotations

import hashlib
import logging
import shutil
import subprocess
from pathlib import Path

from telephony_adapter.audio import RATE, to_phone_audio

log = logging.getLogger(__name__)


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
        audio = to_phone_audio(wav.read_bytes())
        wav.unlink()
        cached.write_bytes(audio)
        return audio

    def recording(self, reference: str, fetch) -> bytes | None:
        """An uploaded recording the platform names by a versioned path, fetched once (`fetch`)
        and kept; None when it cannot be had (the text is spoken instead)."""
        cached = self.folder / f"rec-{hashlib.sha256(reference.encode()).hexdigest()[:32]}.pcm"
        if cached.exists():
            return cached.read_bytes()
        audio = fetch(reference)
        if audio:
            cached.write_bytes(audio)
        return audio or None
