"""Phone audio as the media component plays it: 8 kHz, unsigned 8-bit, mono (pyVoIP encodes it
to G.711 on the wire). Used for synthesised prompts and for the recordings managers upload."""

from __future__ import annotations

import audioop  # in the standard library until Python 3.13; the project pins 3.11
import io
import wave

RATE = 8000
FRAME = 160  # 20 ms


class NotAudio(Exception):
    pass


def to_phone_audio(wav: bytes) -> bytes:
    """A WAV file's PCM (any rate, 8/16/24/32-bit, mono or stereo) as phone audio; NotAudio when
    it is not a PCM WAV file."""
    try:
        with wave.open(io.BytesIO(wav), "rb") as source:
            width, channels, rate = source.getsampwidth(), source.getnchannels(), source.getframerate()
            data = source.readframes(source.getnframes())
    except (wave.Error, EOFError) as exc:
        raise NotAudio(str(exc)) from exc
    if channels not in (1, 2) or width not in (1, 2, 3, 4) or not rate:
        raise NotAudio(f"{channels} channels, {width}-byte samples")
    if width == 1:  # WAV's 8-bit is unsigned: make it signed like the others for the arithmetic
        data = audioop.bias(data, 1, -128)
    if channels == 2:
        data = audioop.tomono(data, width, 0.5, 0.5)
    if rate != RATE:
        data, _ = audioop.ratecv(data, width, 1, rate, RATE, None)
    return audioop.bias(audioop.lin2lin(data, width, 1) if width != 1 else data, 1, 128)
