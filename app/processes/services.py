"""What the process editor asks of the platform: open a draft, save it, publish it, roll back,
compare two versions, import a diagram from another modeler.

Every save is kept as a ProcessDraft (nothing a manager draws is lost); only a draft without
validation problems can be published; publishing and rolling back are audited on the global
chain. Running tickets are never touched: they stay on the version they started with."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass

from flask import abort
from sqlalchemy import func, select

from app.extensions import db
from app.models import ProcessDraft, ProcessInstance, ProcessVersion, User
from workflows import audit_trail, bpmn_diff, bpmn_import, specs, validation
from workflows.audit_trail import Actor

PROCESS_LABELS = {specs.TICKET_PROCESS: "工单闭环"}
MAX_FILES = 60
MAX_FILE_BYTES = 2 * 1024 * 1024
FILE_NAME = re.compile(r"^(?:[A-Za-z0-9][A-Za-z0-9_.-]{0,80}\.bpmn|forms/[a-z][a-z0-9_]{0,60}\.json)$")


class DraftRefused(Exception):
    """The request cannot be taken as it is; the message says why, in Chinese."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message, self.status = message, status


class PublishRefused(Exception):
    def __init__(self, problems: list[validation.Problem]) -> None:
        super().__init__(f"流程存在 {len(problems)} 个问题，不能发布")
        self.problems = problems


@dataclass
class EditorState:
    process_id: str
    files: dict[str, str]
    draft_id: int | None
    based_on_version: int | None
    saved_at: str | None
    saved_by: str | None
    problems: list[dict]

    def as_json(self) -> dict:
        return asdict(self)


def known_process(process_id: str) -> str:
    if process_id not in PROCESS_LABELS:
        abort(404)
    return process_id


def actor(user: User, ip: str | None) -> Actor:
    return Actor.of(user, ip, "manager")


def version(process_id: str, number: int) -> ProcessVersion:
    found = db.session.scalar(select(ProcessVersion).where(ProcessVersion.process_id == process_id,
                                                           ProcessVersion.version == number))
    return found or abort(404)


def files_of(version_row: ProcessVersion) -> dict[str, str]:
    return json.loads(version_row.files_json)


def open_draft(process_id: str) -> ProcessDraft | None:
    """The newest save, unless it has been published since (then the editor starts from the version)."""
    newest = db.session.scalar(select(ProcessDraft).where(ProcessDraft.process_id == process_id)
                               .order_by(ProcessDraft.id.desc()).limit(1))
    return newest if newest is not None and newest.published_version_id is None else None


def editor_state(process_id: str, from_version: int | None = None) -> EditorState:
    """What the editor opens: the open draft, or a version (the newest unless one is asked for)."""
    draft = None if from_version else open_draft(process_id)
    if draft is not None:
        return EditorState(process_id, json.loads(draft.files_json), draft.id,
                           draft.based_on.version if draft.based_on else None, draft.saved_at.isoformat(),
                           draft.saved_by.display_name if draft.saved_by else None, json.loads(draft.problems_json))
    base = version(process_id, from_version) if from_version else specs.latest_version(process_id)
    return EditorState(process_id, files_of(base), None, base.version, None, None, [])


def check_files(files: object) -> dict[str, str]:
    """The edge: a dict of safe file names to text, within limits; at least one diagram."""
    if not isinstance(files, dict) or not files:
        raise DraftRefused("请求中没有流程文件")
    if len(files) > MAX_FILES:
        raise DraftRefused(f"文件过多（最多 {MAX_FILES} 个）")
    for name, text in files.items():
        if not isinstance(name, str) or not FILE_NAME.match(name):
            raise DraftRefused(f"文件名“{name}”不合规：流程图为 xxx.bpmn，表单为 forms/小写英文名.json")
        if not isinstance(text, str):
            raise DraftRefused(f"文件 {name} 的内容不是文本")
        if len(text.encode("utf-8")) > MAX_FILE_BYTES:
            raise DraftRefused(f"文件 {name} 超过 {MAX_FILE_BYTES // 1024 // 1024} MB")
    if not any(name.endswith(".bpmn") for name in files):
        raise DraftRefused("草稿中至少要有一个流程图（.bpmn）")
    return dict(sorted(files.items()))


def save_draft(process_id: str, files: object, base_draft_id: int | None, based_on_version: int | None,
               user: User) -> tuple[ProcessDraft, list[validation.Problem]]:
    """Keep this save and say what is wrong with it. Refused (409) when someone else saved a newer
    draft since this editor opened, so two managers never overwrite each other silently."""
    checked = check_files(files)
    current = open_draft(process_id)
    if current is not None and current.id != base_draft_id:
        who = current.saved_by.display_name if current.saved_by else "其他人"
        raise DraftRefused(f"{who} 已在此期间保存了新的草稿（#{current.id}），请刷新后再编辑", 409)
    problems = validation.validate(process_id, checked)
    base = version(process_id, based_on_version) if based_on_version else None
    draft = ProcessDraft(process_id=process_id, files_json=json.dumps(checked, ensure_ascii=False),
                         based_on_version_id=base.id if base else None, saved_by_id=user.id,
                         problems_json=json.dumps([asdict(p) for p in problems], ensure_ascii=False))
    db.session.add(draft)
    db.session.commit()
    return draft, problems


def publish_draft(process_id: str, draft_id: int, note: str, user: User, ip: str | None) -> ProcessVersion:
    """Make the open draft the version new tickets use; refused while it has problems."""
    note = (note or "").strip()
    if not note:
        raise DraftRefused("请填写发布说明（为什么修改流程）")
    draft = open_draft(process_id)
    if draft is None or draft.id != draft_id:
        raise DraftRefused("该草稿已不是最新草稿，请刷新后再发布", 409)
    files = json.loads(draft.files_json)
    problems = validation.validate(process_id, files)
    if problems:
        raise PublishRefused(problems)
    before = specs.latest_version(process_id)
    published = specs.publish(process_id, files, note=note[:255], published_by_id=user.id)
    if published.id == before.id:
        raise DraftRefused("草稿与当前版本完全相同，无需发布")
    draft.published_version_id = published.id
    changes = bpmn_diff.diff(files_of(before), files)
    audit_trail.append(actor(user, ip), "process.published",
                       summary=f"发布流程 {PROCESS_LABELS[process_id]} 第 {published.version} 版：{note[:100]}",
                       data={"process": process_id, "version": published.version, "previous": before.version,
                             "draft": draft.id, "note": note, "changes": bpmn_diff.summary(changes)})
    db.session.commit()
    return published


def roll_back(process_id: str, number: int, note: str, user: User, ip: str | None) -> ProcessVersion:
    """Publish an older version's files again as the newest version."""
    note = (note or "").strip()
    if not note:
        raise DraftRefused("请填写回滚原因")
    old = version(process_id, number)
    before = specs.latest_version(process_id)
    if old.id == before.id:
        raise DraftRefused(f"第 {number} 版已是当前版本")
    files = files_of(old)
    problems = validation.validate(process_id, files)
    if problems:  # the platform may have changed since (a role renamed, say): never publish what cannot run
        raise PublishRefused(problems)
    published = specs.publish(process_id, files, note=f"回滚到第 {number} 版：{note}"[:255],
                              published_by_id=user.id, restored_from=number)
    audit_trail.append(actor(user, ip), "process.rolled_back",
                       summary=f"流程 {PROCESS_LABELS[process_id]} 回滚到第 {number} 版，成为第 {published.version} 版",
                       data={"process": process_id, "version": published.version, "restored_from": number,
                             "previous": before.version, "note": note})
    db.session.commit()
    return published


@dataclass
class VersionRow:
    version: ProcessVersion
    running: int
    is_current: bool


def version_rows(process_id: str) -> list[VersionRow]:
    running = dict(db.session.execute(
        select(ProcessInstance.version_id, func.count(ProcessInstance.id))
        .where(ProcessInstance.status == "running").group_by(ProcessInstance.version_id)).all())
    versions = db.session.scalars(select(ProcessVersion).where(ProcessVersion.process_id == process_id)
                                  .order_by(ProcessVersion.version.desc())).all()
    return [VersionRow(v, running.get(v.id, 0), i == 0) for i, v in enumerate(versions)]


def compare(process_id: str, a: int, b: int) -> tuple[ProcessVersion, ProcessVersion, bpmn_diff.DiffResult]:
    old, new = version(process_id, a), version(process_id, b)
    return old, new, bpmn_diff.diff(files_of(old), files_of(new))


def import_diagram(process_id: str, data: bytes, filename: str, target: str | None,
                   user: User) -> tuple[ProcessDraft, list[validation.Problem], str]:
    """Put a .bpmn from another modeler into the draft, replacing `target` or as a new file;
    the saved draft then shows, element by element, what must change before it can run here."""
    imported = bpmn_import.read_upload(data, filename)
    state = editor_state(process_id)
    files = dict(state.files)
    name = target if target in files else _free_name(files, imported.suggested_filename)
    files[name] = imported.text
    draft, problems = save_draft(process_id, files, state.draft_id, state.based_on_version, user)
    return draft, problems, name


def _free_name(files: dict[str, str], wanted: str) -> str:
    stem, name, n = wanted[: -len(".bpmn")], wanted, 2
    while name in files:
        name, n = f"{stem}-{n}.bpmn", n + 1
    return name


def overview(process_id: str) -> dict:
    """One process on the list page: its versions (the shipped one published if none yet), the open draft."""
    specs.latest_version(process_id)
    db.session.commit()
    rows = version_rows(process_id)
    draft = open_draft(process_id)
    return {"id": process_id, "label": PROCESS_LABELS[process_id], "versions": rows, "draft": draft,
            "draft_problems": len(json.loads(draft.problems_json)) if draft else 0,
            "diagram_files": [name for name in files_of(rows[0].version) if name.endswith(".bpmn")]}
