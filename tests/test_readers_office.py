"""DOCX, DOC/WPS and XLS/XLSX attachments: merged cells once, blank cells kept, gold values.

Fixtures made from the seed fixtures with LibreOffice 7.4 (Debian bookworm) and committed:
- seed-000.doc, seed-003.wps: `soffice --headless --convert-to doc:"MS Word 97" seed-00N.docx` (the .wps is a
  Word-97 stream, as WPS Office writes it);
- seed-001.xlsx, seed-004.xls: `soffice --headless --infilter="HTML (StarCalc)" --convert-to xlsx|xls
  seed-00N.html` (the whole report pasted into a sheet, no borders);
- seed-003.xlsx: the same from seed-003.html, then thin borders drawn on the table cells with openpyxl (the
  usual agency spreadsheet: bordered tables, text around them, blank cells written as " ").
"""

import pytest

from parsers import docx_reader, office_reader, parse, sheet_reader
from parsers.detect import sniff
from tests.gold import FIXTURES, SEEDS, differences, load_gold


def data(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def gold_report(name: str) -> dict:
    report = parse(data(name), source=name).to_dict()
    assert differences(report, load_gold(name.split(".")[0])) == []
    assert report["flags"] == []
    assert all(check["ok"] is not False for check in report["checks"])
    return report


@pytest.mark.parametrize("seed", SEEDS)
def test_docx_matches_gold(seed):
    assert gold_report(f"{seed}.docx")["form"] == "docx"


def test_docx_merged_cells_are_given_once():
    document = docx_reader.read(data("seed-002.docx"))
    applications = document.tables[1].rows
    # gridSpan=3 + vMerge restart over three rows: once, in its first row; vMerge continuations skipped
    assert applications[0] == ["(本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和)", "申请人情况"]
    assert applications[1] == ["自然人", "法人或其他组织", "总计"]
    assert applications[2] == ["商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他"]
    assert ["三、本年度办理结果", "(一)予以公开", "2", "0", "0", "0", "0", "0", "2"] in applications
    assert ["2.其他法律行政法规禁止公开", *["0"] * 7] in applications
    assert document.title == "湘潭县易俗河镇2024年政府信息公开工作年度报告"


def test_docx_row_of_blank_cells_is_kept():
    review = docx_reader.read(data("seed-004.docx")).tables[2].rows
    assert review[-1] == [""] * 15


@pytest.mark.parametrize("name, form", [("seed-000.doc", "doc"), ("seed-003.wps", "wps")])
def test_doc_and_wps_match_gold(name, form):
    assert sniff(data(name), source=name) == form
    report = gold_report(name)
    assert report["form"] in ("doc", "wps")


def test_doc_reads_like_the_docx_it_came_from():
    doc = office_reader.read(data("seed-000.doc"))
    docx = docx_reader.read(data("seed-000.docx"))
    assert doc.blocks == docx.blocks
    assert doc.form == "doc"


@pytest.mark.parametrize("name, form", [("seed-001.xlsx", "xlsx"), ("seed-003.xlsx", "xlsx"), ("seed-004.xls", "xls")])
def test_spreadsheets_match_gold(name, form):
    assert sniff(data(name), source="download") == form
    assert gold_report(name)["form"] == form


@pytest.mark.parametrize("name", ["seed-003.xlsx", "seed-004.xls"])
def test_spreadsheet_tables_equal_the_docx_tables(name):
    """Bordered (seed-003.xlsx) and border-less (seed-004.xls) sheets: merged ranges once, blank cells in
    place, numbers without Excel's float form, prose rows as paragraphs."""
    sheet = sheet_reader.read(data(name))
    docx = docx_reader.read(data(name.split(".")[0] + ".docx"))
    assert [t.rows for t in sheet.tables] == [t.rows for t in docx.tables]
    assert [b for b in sheet.blocks if isinstance(b, str)] == [b for b in docx.blocks if isinstance(b, str)]


def test_spreadsheet_numbers_and_blanks():
    rows = [r for t in sheet_reader.read(data("seed-003.xlsx")).tables for r in t.rows]
    assert ["政府集中采购", "1106", "472540922.62"] in rows
    assert ["行政处罚", "2171", "-3", "1691"] in rows
    assert ["二、上年结转政府信息公开申请数量", *[""] * 7] in rows
