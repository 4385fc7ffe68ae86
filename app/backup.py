"""Backup and restore: the database and the files the database points at (call and video
recordings, ticket attachments), into one folder with a manifest of checksums.

PostgreSQL is dumped by its own tools (`pg_dump --format=custom`, restored by `pg_restore` in one
transaction); the embedded SQLite file through SQLite's online backup, which is consistent while
the platform runs. The keys (SECRET_KEY, HOTLINE_DATA_KEY, HOTLINE_CTI_TOKEN) are not in a backup:
they come from the environment, and without the same HOTLINE_DATA_KEY the restored ID numbers and
phone numbers cannot be read. Keep them apart from the backups."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from flask import current_app
from sqlalchemy import text
from sqlalchemy.engine import make_url

from app.extensions import db

MANIFEST = "manifest.json"
FORMAT = 1


class BackupError(Exception):
    """Said in Chinese; nothing was changed when a restore refuses."""


@dataclass(frozen=True)
class Folder:
    name: str  # its name inside the backup
    path: Path


def folders() -> list[Folder]:
    """The files the database refers to, by where this installation keeps them."""
    from app.tickets.attachments import storage_root
    from telephony_adapter.video import recordings_folder

    return [Folder("recordings", recordings_folder()), Folder("attachments", storage_root())]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _pg_environment(url) -> tuple[list[str], dict[str, str]]:
    """Connection arguments for pg_dump / pg_restore, with the password in the environment (never
    on a command line other users could read)."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = url.password
    args = ["--host", url.host or "localhost", "--port", str(url.port or 5432), "--username", url.username or "postgres",
            "--dbname", url.database]
    return args, env


def _run(args: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)  # noqa: S603 - fixed tool, no shell
    if done.returncode != 0:
        raise BackupError(f"{args[0]} 失败：{done.stderr.strip()[-2000:]}")


def _revision() -> str | None:
    return db.session.execute(text("SELECT version_num FROM alembic_version")).scalar()


def backup(destination: Path) -> dict:
    """Write a backup into `destination` (a new or empty folder) and return its manifest."""
    destination.mkdir(parents=True, exist_ok=True)
    if any(destination.iterdir()):
        raise BackupError(f"备份目录 {destination} 不是空的")
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    revision = _revision()
    db.session.close()
    if url.get_backend_name() == "postgresql":
        database = destination / "database.dump"
        args, env = _pg_environment(url)
        _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", "--file", str(database), *args], env)
    else:
        database = destination / "database.sqlite3"
        with closing(sqlite3.connect(url.database)) as source, closing(sqlite3.connect(database)) as copy:
            source.backup(copy)  # consistent even while the platform writes
    files: dict[str, str] = {database.name: _sha256(database)}
    for folder in folders():
        if folder.path.is_dir():
            shutil.copytree(folder.path, destination / folder.name)
            for path in sorted((destination / folder.name).rglob("*")):
                if path.is_file():
                    files[path.relative_to(destination).as_posix()] = _sha256(path)
    manifest = {"format": FORMAT, "taken_at": datetime.now(UTC).isoformat(), "database": url.get_backend_name(),
                "revision": revision, "files": files}
    (destination / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1))
    return manifest


def check(source: Path) -> dict:
    """The manifest of a backup whose every file is present and unchanged, or BackupError."""
    try:
        manifest = json.loads((source / MANIFEST).read_text())
    except (OSError, ValueError) as exc:
        raise BackupError(f"{source} 不是本平台的备份（缺少或无法读取 {MANIFEST}）") from exc
    if manifest.get("format") != FORMAT:
        raise BackupError(f"备份格式 {manifest.get('format')} 不受支持")
    for name, digest in manifest["files"].items():
        path = source / name
        if ".." in Path(name).parts or not path.is_file():
            raise BackupError(f"备份缺少文件：{name}")
        if _sha256(path) != digest:
            raise BackupError(f"备份文件已损坏或被改动：{name}")
    return manifest


def restore(source: Path, manifest: dict | None = None) -> dict:
    """Put a checked backup back: the database as it was, the recordings and attachments folders
    replaced by the backup's. Stop the web processes and workers first. `manifest`: what `check`
    gave a moment ago (every file is hashed once, not twice)."""
    manifest = manifest or check(source)
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    if manifest["database"] != url.get_backend_name():
        raise BackupError(f"这是 {manifest['database']} 的备份，当前数据库是 {url.get_backend_name()}")
    db.session.remove()
    db.engine.dispose()  # no pooled connection holds a table the restore replaces
    if url.get_backend_name() == "postgresql":
        args, env = _pg_environment(url)
        _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction",
              "--exit-on-error", *args, str(source / "database.dump")], env)
    else:
        with closing(sqlite3.connect(source / "database.sqlite3")) as copy, closing(sqlite3.connect(url.database)) as live:
            copy.backup(live)
    for folder in folders():
        kept = source / folder.name
        if folder.path.exists():
            shutil.rmtree(folder.path)
        if kept.is_dir():
            shutil.copytree(kept, folder.path)
    return manifest
