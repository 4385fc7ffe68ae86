"""Managers' editing of the voice menu: add an entry under a menu, change it, remove it."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy import select

from app.extensions import db
from app.models import CallQueue, IvrNode
from app.models.contacts import IVR_KINDS
from telephony_adapter import ivr

KEYS = "0123456789*#"


@dataclass
class Entry:
    node: IvrNode
    depth: int


def tree() -> list[Entry]:
    """The menu in reading order, each entry with its depth."""
    top = ivr.root()
    entries: list[Entry] = []

    def walk(node: IvrNode, depth: int) -> None:
        entries.append(Entry(node, depth))
        for child in ivr.children(node):
            walk(child, depth + 1)

    if top is not None:
        walk(top, 0)
    return entries


MAX_RECORDING_SECONDS = 180
MAX_UPLOAD_BYTES = 20 * 1024 * 1024


def _recording(upload) -> tuple[bytes | None, str | None, list[str]]:
    """An uploaded WAV as phone audio, with its file name; errors in Chinese."""
    from telephony_adapter.audio import RATE, NotAudio, to_phone_audio

    if upload is None or not upload.filename:
        return None, None, []
    name = upload.filename.replace("\\", "/").rsplit("/", 1)[-1].strip()[:255]
    content = upload.stream.read(MAX_UPLOAD_BYTES + 1)
    if len(content) > MAX_UPLOAD_BYTES:
        return None, None, ["录音文件超过 20 MB"]
    try:
        audio = to_phone_audio(content)
    except NotAudio:
        return None, None, ["录音须为 WAV 格式（PCM）"]
    if not audio:
        return None, None, ["录音是空的"]
    if len(audio) > MAX_RECORDING_SECONDS * RATE:
        return None, None, [f"录音不能超过 {MAX_RECORDING_SECONDS} 秒"]
    return audio, name, []


def save(form: dict, node: IvrNode | None, upload=None) -> tuple[IvrNode | None, list[str]]:
    """Add (node None: under form["parent_id"], or the root when there is none) or change an entry.
    `upload`: a recorded prompt (WAV) played instead of the text; form["drop_audio"] removes it."""
    errors: list[str] = []
    kind, label, prompt = form.get("kind", ""), (form.get("label") or "").strip(), (form.get("prompt") or "").strip()
    digit = (form.get("digit") or "").strip()
    parent_id = node.parent_id if node is not None else (int(form["parent_id"]) if form.get("parent_id") else None)
    parent = db.session.get(IvrNode, parent_id) if parent_id else None
    if parent_id and (parent is None or parent.kind != "menu"):
        errors.append("上级必须是一个子菜单")
    if node is None and parent is None and ivr.root() is not None:
        errors.append("语音导航已有欢迎菜单，请在菜单下添加按键")
    if kind not in IVR_KINDS:
        errors.append("请选择按键的去向")
    if not label or len(label) > 64:
        errors.append("名称不能为空，最多 64 个字")
    if parent is not None and (len(digit) != 1 or digit not in KEYS):
        errors.append("按键须为 0–9、* 或 #")
    elif parent is not None:
        clash = db.session.scalar(select(IvrNode).where(IvrNode.parent_id == parent.id, IvrNode.digit == digit))
        if clash is not None and clash is not node:
            errors.append(f"按键 {digit} 已用于“{clash.label}”")
    queue = db.session.get(CallQueue, int(form["queue_id"])) if kind == "queue" and form.get("queue_id") else None
    if kind == "queue" and queue is None:
        errors.append("转人工须选择队列")
    audio, audio_name, audio_errors = _recording(upload)
    errors += audio_errors
    keeps_audio = audio is not None or (node is not None and node.audio_hash and not form.get("drop_audio"))
    if kind in ("menu", "message") and not prompt and not keeps_audio:
        errors.append("子菜单与自助语音须填写播报内容或上传录音")
    if errors:
        return None, errors
    node = node or IvrNode(parent_id=parent.id if parent else None)
    node.digit = digit if parent is not None else None
    node.kind, node.label, node.prompt, node.queue_id = kind, label, prompt, queue.id if queue else None
    if audio is not None:
        node.audio, node.audio_name, node.audio_seconds = audio, audio_name, len(audio) / 8000
        node.audio_hash = hashlib.sha256(audio).hexdigest()[:16]
    elif form.get("drop_audio"):
        node.audio = node.audio_name = node.audio_hash = node.audio_seconds = None
    db.session.add(node)
    db.session.commit()
    return node, []


def remove(node: IvrNode) -> None:
    """Remove an entry with everything under it."""
    _delete(node)
    db.session.commit()


def _delete(node: IvrNode) -> None:
    for child in ivr.children(node):
        _delete(child)
    db.session.delete(node)
