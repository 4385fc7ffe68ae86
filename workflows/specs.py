"""BPMN versions: parse a set of files, publish them as a version, and hand out parsed specs
(parsed once per process and version, then cached)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import ProcessVersion
from workflows.write_lock import take_write_lock

BUNDLED_DIR = Path(__file__).resolve().parent.parent / "bpmn"
TICKET_PROCESS = "ticket"


class DiagramError(Exception):
    """A diagram that cannot be parsed or run; the message is Chinese and names the element."""


@dataclass(frozen=True)
class ParsedVersion:
    spec: BpmnProcessSpec
    subprocess_specs: dict[str, BpmnProcessSpec]
    forms: dict[str, dict]  # form name → JSON Schema


def bundled_files() -> dict[str, str]:
    """The shipped diagrams and their forms; a version keeps both, so forms change with it."""
    files = {path.name: path.read_text(encoding="utf-8") for path in sorted(BUNDLED_DIR.glob("*.bpmn"))}
    for path in sorted((BUNDLED_DIR / "forms").glob("*.json")):
        files[f"forms/{path.name}"] = path.read_text(encoding="utf-8")
    return files


def content_hash(process_id: str, files: dict[str, str]) -> str:
    canonical = json.dumps({"process": process_id, "files": files}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def parse(process_id: str, files: dict[str, str]) -> ParsedVersion:
    parser = SpiffBpmnParser()
    try:
        for name, text in files.items():
            if not name.endswith(".bpmn"):
                continue
            parser.add_bpmn_str(text.encode("utf-8"), filename=name)
        spec = parser.get_spec(process_id)
        subprocess_specs = parser.get_subprocess_specs(process_id)
    except Exception as exc:  # the parser raises many types; all mean "this diagram is unusable"
        raise DiagramError(f"流程图无法解析：{exc}") from exc
    forms = {}
    for name, text in files.items():
        if name.startswith("forms/") and name.endswith(".json"):
            try:
                forms[name[len("forms/"):-len(".json")]] = json.loads(text)
            except ValueError as exc:
                raise DiagramError(f"表单 {name} 不是有效的 JSON：{exc}") from exc
    return ParsedVersion(spec, subprocess_specs, forms)


_parsed: dict[int, ParsedVersion] = {}


def parsed_version(version_id: int) -> ParsedVersion:
    """The parsed diagrams of a version; the files are read and parsed once per process."""
    parsed = _parsed.get(version_id)
    if parsed is None:
        version = db.session.get(ProcessVersion, version_id)
        parsed = _parsed[version_id] = parse(version.process_id, json.loads(version.files_json))
    return parsed


def _latest_query(process_id: str):
    return select(ProcessVersion).where(ProcessVersion.process_id == process_id).order_by(
        ProcessVersion.version.desc()).limit(1)


def publish(process_id: str, files: dict[str, str], note: str | None = None,
            published_by_id: int | None = None, restored_from: int | None = None) -> ProcessVersion:
    """Add a version (not committed): parse first, so a broken diagram is never published.
    Publishing exactly the files of the newest version again changes nothing and returns it;
    the same files as an older version make a new version (that is how a roll-back works)."""
    digest = content_hash(process_id, files)
    latest = db.session.scalar(_latest_query(process_id))
    if latest is not None and latest.content_hash == digest:
        return latest
    parse(process_id, files)
    version = ProcessVersion(process_id=process_id, version=(latest.version if latest else 0) + 1,
                             content_hash=digest, files_json=json.dumps(files, ensure_ascii=False), note=note,
                             published_by_id=published_by_id, restored_from=restored_from)
    db.session.add(version)
    db.session.flush()
    return version


def latest_version(process_id: str = TICKET_PROCESS) -> ProcessVersion:
    """The newest published version; the diagrams shipped in bpmn/ are published on first use."""
    query = _latest_query(process_id)
    version = db.session.scalar(query)
    if version is None:
        # On SQLite take the write lock before writing: a deferred transaction that read first is
        # refused at once ("database is locked") when another request committed meanwhile.
        take_write_lock()
        version = db.session.scalar(query)
    if version is None:
        try:
            with db.session.begin_nested():  # two first tickets at once: one publishes, one re-reads
                version = publish(process_id, bundled_files(), note="随程序发布的初始版本")
        except IntegrityError:
            version = db.session.scalar(query)
    return version


_latest_id_query = (select(ProcessVersion.__table__.c.id)
                    .where(ProcessVersion.__table__.c.process_id == bindparam("process_id"))
                    .order_by(ProcessVersion.__table__.c.version.desc()).limit(1))


def latest_version_id(process_id: str = TICKET_PROCESS) -> int:
    """The newest version's id alone: every intake asks, and the files need not come along."""
    version_id = db.session.execute(_latest_id_query, {"process_id": process_id}).scalar()
    return version_id if version_id is not None else latest_version(process_id).id


def form_of(parsed: ParsedVersion, task_name: str) -> str | None:
    """The form a user task of this version names (its `form` property), if any."""
    for spec in (parsed.spec, *parsed.subprocess_specs.values()):
        task_spec = spec.task_specs.get(task_name)
        if task_spec is not None:
            return (getattr(task_spec, "extensions", None) or {}).get("properties", {}).get("form")
    return None


def publish_bundled() -> ProcessVersion:
    """Publish the diagrams shipped in bpmn/ unless exactly these files are already a version
    (a manager's later versions stay the newest until the shipped files themselves change)."""
    files = bundled_files()
    existing = db.session.scalar(select(ProcessVersion).where(
        ProcessVersion.content_hash == content_hash(TICKET_PROCESS, files)).order_by(ProcessVersion.version).limit(1))
    return existing or publish(TICKET_PROCESS, files, note="随程序发布的版本")
