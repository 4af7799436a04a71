"""Reports saved as text whose tables lost their structure (issue 15, item 5): cells one per line ending in " |",
`|`-separated rows, and rows whose cells ran together — split only where the row's arithmetic admits exactly one
split, flagged (value None) where it admits none or several."""

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parsers import parse
from parsers.numbers import splits_that_add_up
from tests.gold import FIXTURES, differences, load_gold

HUITONG = FIXTURES / "real" / "excerpts" / "huitong-forestry-2020.txt"
TAB_FORM_SEEDS = ["seed-000", "seed-002", "seed-003", "seed-004"]  # seed-001.txt is written in `|` rows


def parsed(text: str) -> dict:
    return parse(text.encode()).to_dict()


def failed(report: dict) -> list[str]:
    return [c["rule"] for c in report["checks"] if c["ok"] is False]


def test_real_cell_per_line_page_reads_the_tables_it_holds_and_leaves_the_cut_off_rows_null():
    """会同县林业局 2020 (a real page kept as text, cut off after the heading 第二十条第(八)项). Values typed
    from the file; its prose agrees (行政许可 新增21项, 776件; 其他对外管理服务事项 新增57项, 0件; 行政处罚
    新增10项, 总计44项 = 34+10, 29件).  Its 本年新制作数量/本年新公开数量 headers survive only as `本年新 |`:
    the template's own header cut short."""
    report = parse(HUITONG.read_bytes()).to_dict()
    assert (report["form"], report["format"]) == ("text", "2019")
    assert (report["agency"], report["year"]) == ("会同县林业局", 2020)
    nothing_new = {"newly_made": 0, "newly_published": 0, "total_published": 0}
    assert report["proactive"] == {
        "regulations": nothing_new,
        "normative_documents": nothing_new,
        "licensing": {"previous_items": 0, "change": 21, "decisions": 776},
        "other_services": {"previous_items": 0, "change": 57, "decisions": 0},
        "penalty": {"previous_items": 34, "change": 10, "decisions": 29},
        "coercion": {"previous_items": 0, "change": 0, "decisions": 0},
        "fees": {"previous_items": None, "change": None},  # cut off after its heading: null, never 0
        "procurement": {"projects": None, "total_amount": None},
    }
    assert report["flags"] == [
        {"where": "proactive.fees", "reason": "row missing from the report"},
        {"where": "proactive.procurement", "reason": "row missing from the report"},
    ]
    # tables 三 and 四 are not in the excerpt (nor their labels): null, checks "not checked", none failed
    assert report["applications"] is None and report["review_litigation"] is None
    assert failed(report) == [] and {c["ok"] for c in report["checks"]} == {None}


def test_the_same_page_with_its_cells_run_into_one_line_is_still_flagged_unread():
    """What still cannot be read keeps the safety net: the labels are there, the table is not."""
    lines = HUITONG.read_text(encoding="utf-8").splitlines()
    at = lines.index("二、主动公开政府信息情况") + 1
    report = parsed("\n".join([*lines[:at], "".join(line.rstrip("| ") for line in lines[at:])]))
    assert report["format"] == "unknown" and report["proactive"] is None
    assert failed(report) == ["tables_read"] and report["flags"][0]["where"] == "tables"


def cell_per_line(text: str) -> str:
    """A tab-form seed report rewritten as real pages saved as text write tables: each cell on its own line ending
    in " |" (an empty cell " |"), each row ended by a line "|"."""
    out, in_row = [], False
    for line in text.split("\n"):
        if line.startswith("\t"):
            out.append(f"{line[1:]} |")
            in_row = True
        elif in_row and not line.strip():
            out.append("|")
            in_row = False
        else:
            out.append(line)  # prose, or a wrapped label continuing the cell above
            in_row = in_row and bool(line.strip())
    return "\n".join(out)


@pytest.mark.parametrize("seed", TAB_FORM_SEEDS)
def test_seed_report_written_one_cell_per_line_with_pipes_reads_every_gold_value(seed):
    source = (FIXTURES / f"{seed}.txt").read_text(encoding="utf-8")
    text = cell_per_line(source)
    assert text.count(" |") > 300 and "\t" not in text
    report = parsed(text)
    assert differences(report, load_gold(seed)) == []
    assert report["flags"] == [] and failed(report) == []
    tab_form = parsed(source)
    for table in ("proactive", "applications", "review_litigation"):
        assert report[table] == tab_form[table]  # blank stays blank, 0 stays 0


# seed-001.txt is written in `|` rows; its first table-三 row is 自然人 14, the rest 0, 总计 14.
NEW_RECEIVED = re.compile(r"一、本年新收政府信息公开申请数量 \|[^\n]*")


def seed_001_with_row(row: str) -> dict:
    source = (FIXTURES / "seed-001.txt").read_text(encoding="utf-8")
    assert NEW_RECEIVED.search(source)
    return parsed(NEW_RECEIVED.sub(row, source))


@pytest.mark.parametrize(
    "row",
    [
        "一、本年新收政府信息公开申请数量 14 0 0 0 0 0 14",  # separated: nothing to split
        # 7 digits for 6 applicant cells: one cell has two digits. 14,0,0,0,0,0 adds up to 14; 1,40,0,0,0,0 to 41;
        # a cell "00" is no number as reports write them.  Exactly one split adds up.
        "一、本年新收政府信息公开申请数量 1400000 14",
        "一、本年新收政府信息公开申请数量１４０００００ １４",  # full-width, and glued to the label
        "一、本年新收政府信息公开申请数量\u30001400000\u300014",
    ],
)
def test_run_together_row_with_exactly_one_split_that_adds_up_is_read(row):
    report = seed_001_with_row(row)
    assert report["applications"]["new_received"] == {
        "natural_person": 14, "commercial_enterprise": 0, "research_institution": 0, "social_welfare_org": 0,
        "legal_service_org": 0, "other_org": 0, "total": 14,
    }
    assert differences(report, load_gold("seed-001")) == []
    assert report["flags"] == [] and failed(report) == []


@pytest.mark.parametrize(
    ("digits", "why"),
    [
        # 12,1,0,0,0,0 and 1,2,10,0,0,0 both add up to 13 (1,21,0,0,0,0 makes 22): two splits, no telling which
        ("1210000 13", "several ways to split them add up"),
        # 12,0,0,0,0,0 makes 12 and 1,20,0,0,0,0 makes 21, never 3
        ("1200000 3", "no way to split them adds up"),
    ],
)
def test_run_together_row_with_several_or_no_splits_is_flagged_and_null(digits, why):
    report = seed_001_with_row(f"一、本年新收政府信息公开申请数量 {digits}")
    assert set(report["applications"]["new_received"].values()) == {None}
    assert report["flags"] == [{
        "where": "applications.new_received",
        "reason": f"2 cells for 7 columns, digits run together ({digits!r}): {why}; not read",
    }]
    # the rest of the table is read as published; the null row is also why 一+二 no longer balances
    assert report["applications"]["carried_over"]["total"] == 0
    assert report["applications"]["granted"] == load_gold("seed-001")["applications"]["granted"]
    assert failed(report) == ["balance"]


def test_run_together_table_four_line_is_split_by_its_three_totals():
    """seed-003's table 四 as one line, 复议 0 0 0 0 0 | 直接起诉 0 2 0 0 2 | 复议后起诉 0 0 0 0 0, with "2 0" run
    together: cut into 2,0 the second group adds up (0+2+0+0 = 2); kept as 20 there are 14 cells, not 15."""
    source = (FIXTURES / "seed-003.txt").read_text(encoding="utf-8")
    start, end = source.index("\t行政复议"), source.index("五、存在的主要问题")
    report = parsed(source[:start] + "0 0 0 0 0 0 20 0 2 0 0 0 0 0\n\n" + source[end:])
    assert differences(report, load_gold("seed-003")) == []
    assert report["flags"] == [] and failed(report) == []


@pytest.mark.parametrize("row", ["规章 200", "规章200"])
def test_run_together_cells_of_a_row_without_arithmetic_are_flagged_not_guessed(row):
    """Table 二 rows have no total to check a split against: `规章 200` may be 2,0,0 or 20,0,… or 200 alone."""
    source = (FIXTURES / "seed-001.txt").read_text(encoding="utf-8")
    report = parsed(source.replace("规章 | 0 | 0 | 0 |", row))
    assert report["proactive"]["regulations"] == {"issued": None, "repealed": None, "in_force": None}
    assert [f["where"] for f in report["flags"]] == ["proactive.regulations"]
    assert "no arithmetic" in report["flags"][0]["reason"]


def test_a_single_value_glued_to_its_table_two_label_is_read():
    """seed-001 in `|` rows, with 行政规范性文件 2 0 12 and 行政处罚 0 written as text extractors glue them: the
    glued digits are one cell, needing no split."""
    source = (FIXTURES / "seed-001.txt").read_text(encoding="utf-8")
    source = source.replace("行政处罚 | 0 | ||", "行政处罚0")
    report = parsed(source.replace("行政规范性文件 | 2 | 0 | 12 |", "行政规范性文件2 0 12"))
    assert report["proactive"]["penalty"] == {"decisions": 0}  # 0, not a blank
    assert report["proactive"]["normative_documents"] == {"issued": 2, "repealed": 0, "in_force": 12}
    assert differences(report, load_gold("seed-001")) == []
    assert report["flags"] == [] and failed(report) == []


def test_cell_forms_on_the_text_path_are_read_or_flagged():
    """Units, thousands separators, full-width digits, signs, "—", "/", "无" and blanks, in the cell-per-line form
    and in space-separated rows (the 2019 template's table 二)."""
    text = "\n".join([
        "某县林业局2020年政府信息公开工作年度报告",
        "二、主动公开政府信息情况",
        "第二十条第(五)项 |", "||||",
        "信息内容 |", "上一年项目数量 |", "本年增/减 |", "处理决定数量 |", "|",
        "行政许可 |", "1,200件 |", "－18538 |", "７５３９４ |", "|",
        "其他对外管理服务事项 |", "— |", "/ |", "无 |", "|",
        "行政处罚 |", " |", "+3 |", "2 |", "|",
        "行政强制 |", "0 |", "0 |", "见附件 |", "|",
        "第二十条第(九)项",
        "信息内容 采购项目数量 采购总金额",
        "政府集中采购 12 75394432.52元",
    ])
    report = parsed(text)
    assert report["format"] == "2019"
    proactive = report["proactive"]
    assert proactive["licensing"] == {"previous_items": 1200, "change": -18538, "decisions": 75394}
    assert proactive["other_services"] == {"previous_items": None, "change": None, "decisions": None}
    assert proactive["penalty"] == {"previous_items": None, "change": 3, "decisions": 2}
    assert proactive["procurement"] == {"projects": 12, "total_amount": 75394432.52}
    # a word where a number belongs: the row is not read, and says so
    assert proactive["coercion"] == {"previous_items": None, "change": None, "decisions": None}
    assert "proactive.coercion" in {f["where"] for f in report["flags"]}


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.integers(0, 120), min_size=6, max_size=6),
    st.lists(st.booleans(), min_size=6, max_size=6),
)
def test_a_row_that_adds_up_run_together_reads_as_itself_or_is_flagged_never_as_another_split(parts, glue):
    """Any row of table 三 whose 总计 is the sum of its parts, with the spaces between some cells lost: the
    splitter returns the row as published when it is the only split that adds up, and nothing otherwise."""
    cells = [str(n) for n in [*parts, sum(parts)]]
    tokens = [cells[0]]
    for cell, joined in zip(cells[1:], glue, strict=True):
        if joined:
            tokens[-1] += cell
        else:
            tokens.append(cell)
    found = splits_that_add_up(tokens, 7, 7)  # stops at the second split found: two are already too many
    if found is not None and len(found) < 2:
        assert found == [cells]  # the published row adds up, so it is found; alone, it is the one read
