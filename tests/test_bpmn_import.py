"""Importing a .bpmn made elsewhere: real Camunda Modeler exports are accepted; unsafe, binary,
empty, oversized and non-BPMN uploads are refused with a Chinese message."""

from __future__ import annotations

from pathlib import Path

import pytest

from workflows.bpmn_import import MAX_UPLOAD_BYTES, ImportRefused, download_name, read_upload

FIXTURES = Path(__file__).resolve().parents[1].parent / "shared" / "fixtures" / "bpmn"
MINIMAL = ('<?xml version="1.0" encoding="UTF-8"?>\n'
           '<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d">'
           '<process id="approval" name="审批流程" isExecutable="false"><startEvent id="s"/></process>'
           '</definitions>\n')
SECURITY_MESSAGE = "文件包含 DTD 或实体声明，出于安全原因拒绝导入"


def fixture(name: str) -> bytes:
    path = FIXTURES / name
    if not path.exists():
        pytest.skip("shared fixtures not present")
    return path.read_bytes()


def test_camunda_job_announcement():
    diagram = read_upload(fixture("camunda-job-announcement.bpmn"), "camunda-job-announcement.bpmn")
    assert diagram.process_ids == ["camunda-testing-job-announcement"]
    assert diagram.process_names == [None]
    assert diagram.exporter == "Camunda Modeler 4.11.0"
    assert diagram.has_diagram_interchange and diagram.warnings == []
    assert diagram.suggested_filename == "camunda-job-announcement.bpmn"
    assert diagram.text == fixture("camunda-job-announcement.bpmn").decode("utf-8")


def test_camunda_bpmn2_prefix():
    diagram = read_upload(fixture("camunda-invoice-approval.bpmn"), "camunda-invoice-approval.bpmn")
    assert diagram.process_ids == ["camundaFormsQuickstart"]
    assert diagram.process_names == ["Camunda Forms Quickstart"]
    assert diagram.exporter is not None and diagram.exporter.startswith("Camunda Modeler")
    assert diagram.has_diagram_interchange


def test_default_namespace_without_diagram_interchange():
    diagram = read_upload(MINIMAL.encode(), "审批.bpmn")
    assert (diagram.process_ids, diagram.process_names) == (["approval"], ["审批流程"])
    assert diagram.exporter is None
    assert not diagram.has_diagram_interchange
    assert any("BPMNDI" in warning for warning in diagram.warnings)
    assert diagram.suggested_filename == "approval.bpmn"  # nothing ASCII left of the name: the process id


def test_bom_and_crlf_are_normalised():
    diagram = read_upload(b"\xef\xbb\xbf" + MINIMAL.replace("\n", "\r\n").encode(), "a.bpmn")
    assert diagram.text == MINIMAL


def test_ascii_file_declared_in_another_encoding_is_declared_utf8():
    text = MINIMAL.replace('encoding="UTF-8"', "encoding='ISO-8859-1'").replace("审批流程", "Approval")
    diagram = read_upload(text.encode("ascii"), "a.bpmn")
    assert diagram.text.startswith("<?xml version=\"1.0\" encoding='UTF-8'?>")


def refused(data: bytes, filename: str = "upload.bpmn") -> str:
    with pytest.raises(ImportRefused) as caught:
        read_upload(data, filename)
    assert isinstance(caught.value, ValueError)
    return str(caught.value)


def test_billion_laughs_is_refused():
    entities = ' <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">\n' + "".join(
        f' <!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">\n' for i in range(2, 10))
    payload = ('<?xml version="1.0"?>\n<!DOCTYPE definitions [\n <!ENTITY lol "lol">\n' + entities + "]>\n"
               '<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL">'
               '<process id="p" name="&lol9;"/></definitions>')
    assert refused(payload.encode()) == SECURITY_MESSAGE


def test_external_entity_is_refused():
    payload = ('<?xml version="1.0"?>\n<!DOCTYPE definitions [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
               '<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL">'
               '<process id="p" name="&xxe;"/></definitions>')
    assert refused(payload.encode()) == SECURITY_MESSAGE


def test_non_bpmn_xml_is_refused():
    assert "根元素是 html" in refused(b"<html><body/></html>")
    assert "DMN" in refused(b'<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="d"/>')
    assert "SVG" in refused(b'<svg xmlns="http://www.w3.org/2000/svg"/>')


def test_definitions_without_process_is_refused():
    message = refused(b'<bpmn2:definitions xmlns:bpmn2="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d"/>')
    assert "没有流程" in message


def test_malformed_xml_is_refused():
    assert "不是有效的 XML" in refused(MINIMAL.replace("</process>", "").encode())


def test_png_bytes_are_refused():
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00\x00\x00\x01\x00\x08\x06\x00\x00\x00"
    assert "PNG 图片" in refused(png, "ticket.png")


def test_non_utf8_is_refused():
    assert "UTF-8" in refused(MINIMAL.replace("UTF-8", "GB18030").encode("gb18030"))


def test_empty_file_is_refused():
    assert refused(b"") == "文件为空"
    assert refused(b"\xef\xbb\xbf  \n") == "文件为空"


def test_oversized_file_is_refused():
    padding = "<!-- " + "x" * MAX_UPLOAD_BYTES + " -->"
    assert "2 MB" in refused(MINIMAL.replace("</definitions>", padding + "</definitions>").encode())


@pytest.mark.parametrize(("filename", "expected"), [
    ("../../etc/审批流程 v2.bpmn", "v2.bpmn"),
    ("C:\\fakepath\\Invoice Approval.BPMN", "Invoice_Approval.bpmn"),
    ("process.bpmn20.xml", "process.bpmn"),
    ("..", "approval.bpmn"),
    ("", "approval.bpmn"),
    ("/审批.bpmn", "approval.bpmn"),
])
def test_suggested_filename_is_safe(filename, expected):
    name = read_upload(MINIMAL.encode(), filename).suggested_filename
    assert name == expected
    assert name.isascii() and "/" not in name and "\\" not in name and not name.startswith(".")


def test_download_name():
    assert download_name("ticket", 3, "ticket.bpmn") == "ticket-v3-ticket.bpmn"
    assert download_name("ticket", 3, "forms/intake.json") == "ticket-v3-forms-intake.json"
