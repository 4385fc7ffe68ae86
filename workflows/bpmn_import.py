"""Take a .bpmn file uploaded from another modeler (Camunda Modeler, bpmn.io, Signavio ...).

This only checks that the upload is a BPMN 2.0 document we can safely store and draw: size,
encoding, well-formed XML without DTD or entities, a `definitions` root, at least one process.
Whether the platform can run it (expressions, task types ...) is for validation, not here.

Encoding: only UTF-8 (with or without BOM) is accepted. Every BPMN modeler in use writes UTF-8,
and guessing GB18030 is not safe: nearly any byte sequence decodes as GB18030, so a guess would
turn a mis-saved or binary file into silently wrong text instead of a clear refusal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from xml.etree.ElementTree import Element

from defusedxml import DefusedXmlException, ElementTree
from werkzeug.utils import secure_filename

MAX_UPLOAD_BYTES = 2 * 1024 * 1024  # Camunda's own examples are ~10 KB; 2 MB leaves room for big diagrams
BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI_NS = "http://www.omg.org/spec/BPMN/20100524/DI"
DEFINITIONS = f"{{{BPMN_NS}}}definitions"
FALLBACK_STEM = "diagram"
MAX_STEM = 80

# Files people pick by mistake (the modeler's PNG/SVG export, a zipped project): name them.
MAGIC_BYTES = [
    (b"\x89PNG", "文件是 PNG 图片"),
    (b"\xff\xd8\xff", "文件是 JPEG 图片"),
    (b"GIF8", "文件是 GIF 图片"),
    (b"%PDF", "文件是 PDF 文档"),
    (b"PK\x03\x04", "文件是压缩包或 Office 文档"),
]
OTHER_ROOTS = {
    "{http://www.w3.org/2000/svg}svg": "这是 SVG 图片，不是 BPMN 文件；请在建模工具中导出 .bpmn 文件",
    "{https://www.omg.org/spec/DMN/20191111/MODEL/}definitions": "这是 DMN 决策表，不是 BPMN 流程",
    "{http://www.omg.org/spec/DMN/20180521/MODEL/}definitions": "这是 DMN 决策表，不是 BPMN 流程",
    "{http://www.omg.org/spec/DMN/20151101/dmn.xsd}definitions": "这是 DMN 决策表，不是 BPMN 流程",
}
XML_DECLARATION = re.compile(r"""^(<\?xml[^>]*?\bencoding\s*=\s*)(["'])([^"']*)\2""")
SUFFIXES = (".bpmn20.xml", ".bpmn2", ".bpmn", ".xml")  # longest first: Activiti/Flowable write .bpmn20.xml


class ImportRefused(ValueError):
    """The upload cannot be imported; the message is Chinese and says why."""


@dataclass(frozen=True)
class ImportedDiagram:
    text: str  # UTF-8 text, LF line endings, XML declaration (if any) saying UTF-8
    process_ids: list[str]  # every process, executable or not, in document order
    process_names: list[str | None]  # parallel to process_ids; None where a process has no name
    has_diagram_interchange: bool  # BPMNDI present; without it bpmn-js cannot draw the diagram
    exporter: str | None  # "Camunda Modeler 4.11.0", from definitions' exporter/exporterVersion
    suggested_filename: str  # safe ASCII, ends with .bpmn
    warnings: list[str] = field(default_factory=list)  # Chinese; importable, but the user should know


def _refuse_binary(data: bytes) -> None:
    for magic, what in MAGIC_BYTES:
        if data.startswith(magic):
            raise ImportRefused(f"{what}，不是 BPMN 文件；请在建模工具中导出 .bpmn 文件")


def _decode(data: bytes) -> str:
    try:
        text = data.decode("utf-8-sig")  # -sig: Windows tools like to start UTF-8 with a BOM
    except UnicodeDecodeError as exc:
        raise ImportRefused("文件不是 UTF-8 编码，无法导入；请在建模工具中以 UTF-8 编码保存后重试") from exc
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _declare_utf8(text: str) -> str:
    """The text is stored and later handed to the engine's parser as UTF-8 bytes, which honours the
    declaration; so the declaration must say UTF-8. Rewriting it is only sound when the content is
    ASCII (the same bytes in any ASCII-compatible encoding); otherwise the file lies about itself."""
    match = XML_DECLARATION.match(text)
    if match is None or match.group(3).strip().lower().replace("_", "-") in ("utf-8", "utf8"):
        return text
    if not text.isascii():
        raise ImportRefused(f"文件声明的编码是 {match.group(3)}，平台只接受 UTF-8；请在建模工具中以 UTF-8 编码保存后重试")
    return XML_DECLARATION.sub(lambda m: f"{m.group(1)}{m.group(2)}UTF-8{m.group(2)}", text, count=1)


def _parse(text: str) -> Element:
    try:
        return ElementTree.fromstring(text.encode("utf-8"), forbid_dtd=True)
    except DefusedXmlException as exc:  # DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden
        raise ImportRefused("文件包含 DTD 或实体声明，出于安全原因拒绝导入") from exc
    except ElementTree.ParseError as exc:
        line, column = getattr(exc, "position", (0, 0))
        raise ImportRefused(f"文件不是有效的 XML（第 {line} 行第 {column} 列附近有错误）") from exc


def _check_root(root: Element) -> None:
    if root.tag == DEFINITIONS:
        return
    known = OTHER_ROOTS.get(root.tag)
    if known is not None:
        raise ImportRefused(known)
    local = root.tag.rsplit("}", 1)[-1]
    raise ImportRefused(f"文件不是 BPMN 2.0 流程图：根元素是 {local}，应为 BPMN 2.0 命名空间下的 definitions")


def _processes(root: Element) -> tuple[list[str], list[str | None]]:
    processes = root.findall(f"{{{BPMN_NS}}}process")
    if not processes:
        raise ImportRefused("文件中没有流程（process），无法导入")
    ids = [process.get("id", "").strip() for process in processes]
    if not all(ids):
        raise ImportRefused("文件中有流程缺少 id，无法导入")  # versions and tickets are keyed by process id
    return ids, [process.get("name") or None for process in processes]


def _exporter(root: Element) -> str | None:
    exporter = (root.get("exporter") or "").strip()
    version = (root.get("exporterVersion") or "").strip()
    if not exporter:
        return None
    return f"{exporter} {version}" if version else exporter


def _safe_stem(name: str) -> str:
    return secure_filename(name)[:MAX_STEM].strip("._-")


def _suggested_filename(filename: str, process_ids: list[str]) -> str:
    """ASCII, no path: browsers send "C:\\fakepath\\..." and attackers send "../../"."""
    base = re.split(r"[\\/]", filename)[-1]
    for suffix in SUFFIXES:
        if base.lower().endswith(suffix):
            base = base[: -len(suffix)]
            break
    stem = _safe_stem(base) or _safe_stem(process_ids[0]) or FALLBACK_STEM
    return f"{stem}.bpmn"


def read_upload(data: bytes, filename: str) -> ImportedDiagram:
    """The uploaded diagram, checked to be a safe, well-formed BPMN 2.0 document; ImportRefused otherwise."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise ImportRefused(f"文件超过 {MAX_UPLOAD_BYTES // (1024 * 1024)} MB 上限，无法导入")
    _refuse_binary(data)
    text = _decode(data)
    if not text.strip():
        raise ImportRefused("文件为空")
    text = _declare_utf8(text)
    root = _parse(text)
    _check_root(root)
    process_ids, process_names = _processes(root)
    has_di = root.find(f"{{{BPMNDI_NS}}}BPMNDiagram") is not None
    warnings = [] if has_di else ["文件不含图形布局信息（BPMNDI），无法绘制流程图；请在建模工具中打开并重新导出"]
    return ImportedDiagram(text=text, process_ids=process_ids, process_names=process_names,
                           has_diagram_interchange=has_di, exporter=_exporter(root),
                           suggested_filename=_suggested_filename(filename, process_ids), warnings=warnings)


def download_name(process_id: str, version: int, file: str) -> str:
    """File name for downloading one file of a version: "ticket-v3-ticket.bpmn"."""
    name = secure_filename(f"{process_id}-v{version}-{file.replace('/', '-')}")
    return name or f"v{version}-{FALLBACK_STEM}.bpmn"
