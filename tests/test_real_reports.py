"""The parser on real reports no one here wrote (tests/fixtures/real/README.md): every cell right or flagged,
none wrong without a flag or a failed check; and regressions for what real pages broke."""

import json
import re
from pathlib import Path

import pytest

from parsers import parse
from parsers.checks import run_checks
from tests.gold import cell_count, covered, differences

REAL = Path(__file__).parent / "fixtures" / "real"
REPORTS = REAL / "reports"
CORPUS = sorted(p.name.removesuffix(".gold.json") for p in REPORTS.glob("*.gold.json"))


def document_bytes(name: str) -> bytes:
    """The report document of a corpus entry: the file itself, or for the Shanghai page (kept as the JavaScript
    file the index stored) the HTML its `content` string holds, quotes unescaped."""
    (path,) = [p for p in REPORTS.glob(f"{name}.*") if not p.name.endswith((".gold.json", ".source.json"))]
    if path.name.endswith(".js.txt"):
        text = path.read_text(encoding="utf-8")
        return re.search(r'let content = "(.*)"\n', text, re.S).group(1).replace('\\"', '"').encode()
    return path.read_bytes()


def gold(name: str) -> dict:
    return json.loads((REPORTS / f"{name}.gold.json").read_text(encoding="utf-8"))


def score(name: str) -> dict:
    """Cells of the gold tables, those the parser got wrong, and those wrong with no flag or failed check."""
    report = parse(document_bytes(name), source=name).to_dict()
    diffs = differences(report, gold(name))
    return {
        "form": report["form"],
        "cells": cell_count(gold(name)),
        "wrong": diffs,
        "silent": [d for d in diffs if not covered(d, report)],
        "report": report,
    }


def test_the_corpus_is_there_with_provenance():
    assert len(CORPUS) >= 3
    for name in CORPUS:
        source = json.loads((REPORTS / f"{name}.source.json").read_text(encoding="utf-8"))
        assert source["form"] and source["what"]
        assert source["repository"] or source.get("index_file_id")


@pytest.mark.parametrize("name", CORPUS)
def test_gold_obeys_the_rules_except_where_the_report_does_not_add_up(name):
    """Gold is hand transcription; the 勾稽 rules fail exactly where the published report fails them."""
    g = gold(name)
    failed = [c["rule"] for c in run_checks(g["format"], g["applications"], g["review_litigation"]) if c["ok"] is False]
    assert failed == g["expected_failed_checks"]


@pytest.mark.parametrize("name", CORPUS)
def test_real_report_every_cell_right_or_flagged(name):
    result = score(name)
    assert result["silent"] == []  # never a wrong value without a flag or a failed check
    assert result["wrong"] == []  # and on this corpus every cell is right
    assert result["cells"] > 100
    failed = [c["rule"] for c in result["report"]["checks"] if c["ok"] is False]
    assert failed == gold(name)["expected_failed_checks"]


def test_real_trs_style_html_page_blank_cells_and_blank_totals():
    """The Shanghai page: Word-pasted HTML table, zeros left blank (&nbsp;), 总计 blank in the result rows."""
    report = parse(document_bytes("shanghai-gov-office-2019")).to_dict()
    assert report["form"] == "html" and report["format"] == "2019"
    assert report["applications"]["granted"] == {
        "natural_person": 258, "commercial_enterprise": 12, "research_institution": None,
        "social_welfare_org": None, "legal_service_org": 1, "other_org": 1, "total": None,
    }
    assert report["proactive"]["procurement"]["total_amount"] == 251000  # "251000元"
    assert report["agency"] == "上海市人民政府办公厅" and report["year"] == 2019


def test_pdf_total_row_with_a_merged_label_cell_is_not_shifted():
    """洪泽区 2023: （七）总计 spans two label columns; its empty second cell is not the 自然人 value."""
    report = parse(document_bytes("hongze-2023")).to_dict()
    assert list(report["applications"]["total_processed"].values()) == [21, 0, 0, 0, 0, 0, 21]
    assert report["applications"]["denied_prohibited_by_law"]["total"] == 0  # printed "2.其他法律行政止公开"


def test_real_cell_per_line_text_page_is_read_not_flagged_unread():
    """会同县林业局 (one cell per line ending in " |") used to come out unread; its values are checked cell by cell
    in tests/test_parse_text_forms.py."""
    report = parse((REAL / "excerpts" / "huitong-forestry-2020.txt").read_bytes())
    assert report.format == "2019" and report.proactive["licensing"]["decisions"] == 776
    assert "tables_read" not in {c["rule"] for c in report.checks}
    assert report.agency == "会同县林业局" and report.year == 2020


def test_text_without_template_labels_gets_no_tables_read_failure():
    report = parse("某县人民政府关于春耕生产的通知\n各乡镇：请做好春耕准备。".encode())
    assert report.format == "unknown" and report.checks == [] and report.flags == []


def test_real_text_page_with_pipe_cells_reads_and_notes_on_labels():
    """保康县农业农村局 2021 as text: "|"-separated rows, "规章(县级无此项)", a blank 行政许可 cell."""
    report = parse((REAL / "excerpts" / "baokang-agriculture-2021.txt").read_bytes())
    assert report.format == "2021"
    none_issued = {"issued": 0, "repealed": 0, "in_force": 0}
    assert report.proactive == {  # typed from the file
        "regulations": none_issued,
        "normative_documents": none_issued,
        "licensing": {"decisions": None},  # blank in the report, not 0
        "penalty": {"decisions": 5},
        "coercion": {"decisions": 0},
        "fees": {"amount_10k_yuan": 0},
    }
    assert report.flags == []
    # table 三 is cut off in the excerpt: its heading is there but not its labels, so nothing to flag as unread
    assert report.applications is None


@pytest.mark.parametrize(
    ("text", "agency", "year"),
    [
        ("标题: 湘潭县数据局2024年政府信息公开工作年度报告\n正文", "湘潭县数据局", 2024),
        ("当前位置：首页 > 政务公开 > 年报 > 湘潭县数据局2024年政府信息公开工作年度报告\n正文", "湘潭县数据局", 2024),
        ("标题：会同县林业局信息公开工作年度报告\n统计时限为2020年1月1日至12月31日。", "会同县林业局", 2020),
    ],
)
def test_agency_and_year_read_past_title_labels_and_breadcrumbs(text, agency, year):
    report = parse(text.encode())
    assert (report.agency, report.year) == (agency, year)


@pytest.mark.parametrize(
    ("cell", "value"),
    [("75394432.52元", 75394432.52), ("24252.311082", 24252.311082), ("-18538", -18538), ("１，２３４", 1234),
     ("+21", 21), ("", None), ("—", None), ("/", None), ("无", None)],
)
def test_real_cell_forms_are_read(cell, value):
    from parsers.numbers import parse_value

    assert parse_value(cell) == value


def test_signed_change_in_a_2019_text_report():
    text = (
        "二、主动公开政府信息情况\n第二十条第（五）项\n信息内容\t上一年项目数量\t本年增/减\t处理决定数量\n"
        "行政许可\t1200\t-18538\t75394\n"
    )
    report = parse(text.encode())
    assert report.format == "2019" and report.proactive["licensing"] == {
        "previous_items": 1200, "change": -18538, "decisions": 75394,
    }
