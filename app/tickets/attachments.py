"""Ticket attachments: checked at the edge (name, size, type by content), stored outside the web
root under the SHA-256 of their content, and recorded on the ticket with an audit entry."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from flask import current_app
from werkzeug.datastructures import FileStorage

from app.extensions import db
from app.models import Attachment, Ticket, User
from workflows import engine
from workflows.audit_trail import Actor

# Extension → (content type, check on the first bytes). Office files are ZIP containers.
ALLOWED: dict[str, tuple[str, bytes | None]] = {
    "pdf": ("application/pdf", b"%PDF"),
    "png": ("image/png", b"\x89PNG"),
    "jpg": ("image/jpeg", b"\xff\xd8\xff"),
    "jpeg": ("image/jpeg", b"\xff\xd8\xff"),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", b"PK"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", b"PK"),
    "txt": ("text/plain; charset=utf-8", None),
    "mp3": ("audio/mpeg", None),
    "wav": ("audio/wav", b"RIFF"),
}


class AttachmentRefused(Exception):
    pass


def storage_root() -> Path:
    """HOTLINE_ATTACHMENTS_DIR (storage every web machine shares), or the instance folder's
    attachments/ in the embedded set-up."""
    return Path(current_app.config.get("ATTACHMENTS_DIR") or Path(current_app.instance_path) / "attachments")


def path_for(sha256: str) -> Path:
    return storage_root() / sha256[:2] / sha256


def _check(upload: FileStorage) -> tuple[str, bytes, str]:
    name = (upload.filename or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    if not name:
        raise AttachmentRefused("请选择要上传的文件")
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension not in ALLOWED:
        raise AttachmentRefused("不支持的文件类型，可上传：" + "、".join(sorted(ALLOWED)))
    limit = current_app.config["ATTACHMENT_MAX_BYTES"]
    content = upload.stream.read(limit + 1)
    if len(content) > limit:
        raise AttachmentRefused(f"文件超过 {limit // (1024 * 1024)} MB 的上限")
    if not content:
        raise AttachmentRefused("文件是空的")
    content_type, magic = ALLOWED[extension]
    if magic is not None and not content.startswith(magic):
        raise AttachmentRefused("文件内容与扩展名不符")
    if extension == "txt":
        try:
            content.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise AttachmentRefused("文本文件须为 UTF-8 编码") from exc
    return name[:255], content, content_type


def _store(content: bytes) -> str:
    digest = hashlib.sha256(content).hexdigest()
    target = path_for(digest)
    if not target.exists():  # same content, same file: stored once
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=target.parent)
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
        os.replace(temp, target)  # atomic: a reader never sees half a file
    return digest


def add(ticket: Ticket, user: User, upload: FileStorage, actor: Actor) -> Attachment:
    name, content, content_type = _check(upload)
    digest = _store(content)
    created: list[Attachment] = []

    def apply(locked: Ticket) -> None:
        row = Attachment(ticket_id=locked.id, uploaded_by_id=user.id, filename=name, sha256=digest,
                         content_type=content_type, size=len(content))
        db.session.add(row)
        created.append(row)

    engine.annotate(ticket.id, actor, "ticket.attach", f"上传附件：{name}",
                    {"filename": name, "size": len(content), "sha256": digest}, apply)
    return created[0]
