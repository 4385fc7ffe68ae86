"""Views under /processes: the version list, the editor (bpmn-js modeler) and its JSON calls,
publishing, roll-back, the visual diff, import and download. Managers only (process.edit)."""

from __future__ import annotations

import io
import zipfile
from dataclasses import asdict

from flask import Response, abort, flash, jsonify, redirect, render_template, request, send_file, url_for
from flask_login import current_user

from app.auth.permissions import permission_required
from app.processes import bp, services
from app.processes.services import PROCESS_LABELS, DraftRefused, PublishRefused
from workflows import bpmn_import


def _problems_json(problems) -> list[dict]:
    return [asdict(p) for p in problems]


@bp.route("/")
@permission_required("process.edit")
def index():
    processes = [services.overview(pid) for pid in PROCESS_LABELS]
    return render_template("processes/index.html", processes=processes)


@bp.route("/<process_id>/editor")
@permission_required("process.edit")
def editor(process_id: str):
    services.known_process(process_id)
    from_version = request.args.get("from", type=int)
    state = services.editor_state(process_id, from_version)
    services.db.session.commit()  # latest_version may have published the shipped diagrams
    return render_template("processes/editor.html", process_id=process_id, label=PROCESS_LABELS[process_id],
                           state=state.as_json())


@bp.route("/<process_id>/draft", methods=["POST"])
@permission_required("process.edit")
def save_draft(process_id: str):
    services.known_process(process_id)
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return jsonify(error="请求格式错误：需要 JSON"), 400
    try:
        draft, problems = services.save_draft(process_id, body.get("files"), body.get("draft_id"),
                                              body.get("based_on_version"), current_user)
    except DraftRefused as refused:
        return jsonify(error=refused.message), refused.status
    return jsonify(draft_id=draft.id, saved_at=draft.saved_at.isoformat(), problems=_problems_json(problems))


@bp.route("/<process_id>/publish", methods=["POST"])
@permission_required("process.edit")
def publish(process_id: str):
    services.known_process(process_id)
    body = request.get_json(silent=True) or {}
    try:
        published = services.publish_draft(process_id, body.get("draft_id"), body.get("note"), current_user,
                                           request.remote_addr)
    except DraftRefused as refused:
        return jsonify(error=refused.message), refused.status
    except PublishRefused as refused:
        return jsonify(error=str(refused), problems=_problems_json(refused.problems)), 422
    flash(f"已发布第 {published.version} 版：新受理的工单按新流程办理，在办工单保持原流程。", "success")
    return jsonify(version=published.version, url=url_for("processes.index"))


@bp.route("/<process_id>/versions/<int:number>/rollback", methods=["POST"])
@permission_required("process.edit")
def roll_back(process_id: str, number: int):
    services.known_process(process_id)
    try:
        published = services.roll_back(process_id, number, request.form.get("note", ""), current_user,
                                       request.remote_addr)
    except DraftRefused as refused:
        flash(refused.message, "danger")
    except PublishRefused as refused:
        flash(f"第 {number} 版在当前平台上已无法运行，不能回滚：" + "；".join(p.message for p in refused.problems[:3]),
              "error")
    else:
        flash(f"已回滚：第 {number} 版的流程已重新发布为第 {published.version} 版。", "success")
    return redirect(url_for("processes.index"))


@bp.route("/<process_id>/versions/<int:number>")
@permission_required("process.edit")
def show_version(process_id: str, number: int):
    services.known_process(process_id)
    version = services.version(process_id, number)
    return render_template("processes/version.html", process_id=process_id, label=PROCESS_LABELS[process_id],
                           version=version, files=services.files_of(version))


@bp.route("/<process_id>/versions/<int:number>/files/<path:name>")
@permission_required("process.edit")
def download_file(process_id: str, number: int, name: str):
    services.known_process(process_id)
    files = services.files_of(services.version(process_id, number))
    if name not in files:
        abort(404)
    mimetype = "application/xml" if name.endswith(".bpmn") else "application/json"
    download = bpmn_import.download_name(process_id, number, name.replace("/", "-"))
    return Response(files[name], mimetype=mimetype + "; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{download}"'})


@bp.route("/<process_id>/versions/<int:number>.zip")
@permission_required("process.edit")
def download_zip(process_id: str, number: int):
    services.known_process(process_id)
    files = services.files_of(services.version(process_id, number))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    buffer.seek(0)
    return send_file(buffer, mimetype="application/zip", as_attachment=True,
                     download_name=f"{process_id}-v{number}.zip")


@bp.route("/<process_id>/diff")
@permission_required("process.edit")
def diff(process_id: str):
    services.known_process(process_id)
    # Without versions named: the newest against the one before it.
    newest = services.specs.latest_version(process_id).version
    b = request.args.get("b", type=int) or newest
    a = request.args.get("a", type=int) or max(b - 1, 1)
    old, new, result = services.compare(process_id, a, b)
    changes = [asdict(change) for change in result.elements]
    return render_template("processes/diff.html", process_id=process_id, label=PROCESS_LABELS[process_id],
                           old=old, new=new, result=result, summary=services.bpmn_diff.summary(result),
                           payload={"old": services.files_of(old), "new": services.files_of(new), "changes": changes})


@bp.route("/<process_id>/import", methods=["POST"])
@permission_required("process.edit")
def import_diagram(process_id: str):
    services.known_process(process_id)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash("请选择要导入的 .bpmn 文件", "danger")
        return redirect(url_for("processes.index"))
    try:
        draft, problems, name = services.import_diagram(process_id, upload.read(services.MAX_FILE_BYTES + 1),
                                                        upload.filename, request.form.get("target"), current_user)
    except (bpmn_import.ImportRefused, DraftRefused) as refused:
        flash(str(refused) if isinstance(refused, bpmn_import.ImportRefused) else refused.message, "danger")
        return redirect(url_for("processes.index"))
    if problems:
        flash(f"已导入 {upload.filename} 为草稿文件 {name}；发现 {len(problems)} 个问题，已在流程图上标出，修改后才能发布。",
              "warning")
    else:
        flash(f"已导入 {upload.filename} 为草稿文件 {name}，校验通过。", "success")
    return redirect(url_for("processes.editor", process_id=process_id, file=name))
