"""Call recordings: rtpengine writes each call's RTP to a pcap named by its SIP Call-ID; this
module finds a call's file and turns its G.711 audio into a WAV a browser can play.

The pcap is read with the standard library alone (the format is a fixed header and one record
per packet); both directions of the call are decoded and mixed into one mono 8 kHz track."""

from __future__ import annotations

import io
import struct
import warnings
import wave
from array import array
from pathlib import Path
from urllib.parse import quote

with warnings.catch_warnings():  # G.711 decoding; in the standard library until 3.13 (the project pins 3.11)
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop

PCMU, PCMA = 0, 8


def find(folder: str | Path | None, call_id: str) -> str | None:
    """The recording of this call, as a path relative to the recordings folder; None if none."""
    if not folder:
        return None
    root = Path(folder).resolve()
    # rtpengine names the file "<Call-ID, percent-encoded>-<random>.pcap"
    prefix = quote(call_id, safe="") + "-"
    for path in sorted((root / "pcaps").glob("*.pcap")) if (root / "pcaps").is_dir() else []:
        if path.name.startswith(prefix):
            return str(path.relative_to(root))
    return None


def resolve(folder: str | Path, relative: str) -> Path:
    """The file inside the recordings folder, refusing anything that would leave it."""
    root = Path(folder).resolve()
    path = (root / relative).resolve()
    if root not in path.parents:
        raise ValueError("recording path outside the recordings folder")
    return path


def _packets(data: bytes):
    """(seconds, payload) of each IPv4/UDP packet in a pcap (raw IP or Ethernet link types)."""
    if len(data) < 24:
        return
    magic = data[:4]
    endian = "<" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    nanos = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    link_type = struct.unpack(endian + "I", data[20:24])[0]
    offset = 24
    while offset + 16 <= len(data):
        seconds, fraction, captured, _length = struct.unpack(endian + "IIII", data[offset:offset + 16])
        frame = data[offset + 16:offset + 16 + captured]
        offset += 16 + captured
        ip = frame[14:] if link_type == 1 else frame  # 1: Ethernet; 101 / 228: raw IPv4
        if len(ip) < 28 or ip[0] >> 4 != 4 or ip[9] != 17:
            continue
        udp = ip[(ip[0] & 0x0F) * 4:]
        yield seconds + fraction / (1e9 if nanos else 1e6), udp[8:]


def wav_from_pcap(data: bytes) -> bytes:
    """Mix every G.711 RTP stream of the capture into one mono 8 kHz, 16-bit WAV."""
    streams: dict[int, list[tuple[float, bytes]]] = {}
    for moment, rtp in _packets(data):
        if len(rtp) < 12 or rtp[0] >> 6 != 2:
            continue
        payload_type = rtp[1] & 0x7F
        if payload_type not in (PCMU, PCMA):
            continue
        header = 12 + 4 * (rtp[0] & 0x0F)
        audio = rtp[header:]
        pcm = audioop.ulaw2lin(audio, 2) if payload_type == PCMU else audioop.alaw2lin(audio, 2)
        ssrc = struct.unpack("!I", rtp[8:12])[0]
        streams.setdefault(ssrc, []).append((moment, pcm))
    start = min((packets[0][0] for packets in streams.values()), default=0.0)
    mixed = array("h")
    for packets in streams.values():
        for moment, pcm in packets:
            at = int((moment - start) * 8000)
            samples = array("h", pcm)
            if len(mixed) < at + len(samples):
                mixed.extend([0] * (at + len(samples) - len(mixed)))
            for i, value in enumerate(samples):
                mixed[at + i] = max(-32768, min(32767, mixed[at + i] + value))
    out = io.BytesIO()
    with wave.open(out, "wb") as track:
        track.setnchannels(1)
        track.setsampwidth(2)
        track.setframerate(8000)
        track.writeframes(mixed.tobytes())
    return out.getvalue()
