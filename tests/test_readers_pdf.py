"""Text PDFs (exported from Word/WPS): tables from page geometry, mended across page breaks; gold values."""

import pytest

from parsers import parse, pdf_reader
from parsers.document import Table
from tests.gold import FIXTURES, cell_count, differences, load_gold


def read(name: str):
    return pdf_reader.read((FIXTURES / name).read_bytes())


def row(document, label: str) -> list[str]:
    return next(r for t in document.tables for r in t.rows if any(label in c for c in r))


def test_seed_000_tables_have_the_official_rows():
    document = read("seed-000.pdf")
    assert document.form == "pdf"
    assert document.title == "湘潭县数据局2024年政府信息公开工作年度报告"
    assert row(document, "本机关不掌握") == ["（四）无法提供", "1.本机关不掌握相关政府信息", "3", *["0"] * 5, "3"]
    assert row(document, "国家秘密") == ["（三）不予公开", "1.属于国家秘密", *["0"] * 7]
    # a label wrapped over three lines inside its cell is one string again
    assert row(document, "逾期不补正")[1] == "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请"


def test_row_cut_by_a_page_break_is_joined_and_the_table_is_one():
    document = read("seed-000.pdf")
    applications = next(t for t in document.tables if any("本年新收" in c for r in t.rows for c in r))
    labels = [r[0] for r in applications.rows]
    # "三、本年度办理结" + "果" and "（二）部分公开（区分处理的，只计" + "这一情形，…" were cut by the page break
    assert ["三、本年度办理结果", "（一）予以公开", *["0"] * 7] in applications.rows
    assert ["（二）部分公开（区分处理的，只计这一情形，不计其他情形）", *["0"] * 7] in applications.rows
    assert not any(label in ("果", "") for label in labels)
    # the merged 三、本年度办理结果 cell redrawn empty on the next page is not a cell of （七）总计
    assert ["（七）总计", "3", "0", "0", "0", "0", "0", "3"] in applications.rows
    assert labels[-1] == "四、结转下年度继续办理"


def test_header_cut_by_a_page_break_and_blank_row_after_one():
    document = read("seed-003.pdf")
    assert ["商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他"] in document.tables[1].rows
    # a complete blank row right after a page break stays its own row, with its seven blank values
    assert row(document, "无正当理由") == ["4.无正当理由大量反复申请", *[""] * 7]
    assert row(document, "公开出版物") == ["3.要求提供公开出版物", *[""] * 7]


def test_paragraphs_outside_tables_are_kept_in_order_and_unwrapped():
    document = read("seed-000.pdf")
    paragraphs = [b for b in document.blocks if isinstance(b, str)]
    assert paragraphs[0] == "湘潭县数据局2024年政府信息公开工作年度报告"
    assert paragraphs.index("二、主动公开政府信息情况") < paragraphs.index("六、其他需要报告的事项")
    overview = next(p for p in paragraphs if p.startswith("强化数据集成发布"))
    assert overview.endswith("2023年部门决算和2024年部门预算等财政信息4条。")  # three PDF lines, one paragraph
    kinds = ["table" if isinstance(b, Table) else b for b in document.blocks]
    assert kinds[kinds.index("三、收到和处理政府信息公开申请情况") + 1] == "table"


@pytest.mark.parametrize("seed", ["seed-000", "seed-001", "seed-003"])
def test_pdf_matches_gold(seed):
    report = parse((FIXTURES / f"{seed}.pdf").read_bytes(), source=f"{seed}.pdf").to_dict()
    gold = load_gold(seed)
    assert report["form"] == "pdf"
    assert differences(report, gold) == []
    assert cell_count(gold) > 40
    assert report["flags"] == []
    assert all(check["ok"] is not False for check in report["checks"])


@pytest.mark.parametrize("seed", ["seed-002", "seed-004"])
def test_pdf_with_total_column_cut_off_the_page_is_flagged_not_guessed(seed):
    """In these exports the table is wider than the page: the 总计 column is not in the PDF at all.  Its
    values stay empty, every row says so in `flags`, and the row_total check fails."""
    report = parse((FIXTURES / f"{seed}.pdf").read_bytes(), source=f"{seed}.pdf").to_dict()
    wrong = differences(report, load_gold(seed))
    assert wrong and all(d.startswith("applications.") and ".total:" in d for d in wrong)
    assert all(report["applications"][key]["total"] is None for key in report["applications"])
    flagged = {f["where"] for f in report["flags"]}
    assert {d.split(".total")[0] for d in wrong} <= flagged
    assert [c["ok"] for c in report["checks"] if c["rule"] == "row_total"] == [False]
