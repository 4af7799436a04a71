"""Layout variants real portals publish, built from the fixtures: each must read to the same values."""

import re

from parsers import parse
from parsers.schema import application_columns
from tests.gold import FIXTURES, differences, load_gold


def html(seed: str) -> str:
    return (FIXTURES / f"{seed}.html").read_text(encoding="utf-8")


def text(seed: str) -> str:
    return (FIXTURES / f"{seed}.txt").read_text(encoding="utf-8")


def parsed(source: str, encoding: str = "utf-8"):
    return parse(source.encode(encoding), source="variant").to_dict()


def test_word_pasted_html_with_broken_labels_ascii_brackets_and_stray_spaces():
    page = html("seed-000")
    page = page.replace("本年新收政府信息公开申请数量", "本年新收<br/>政府信息公开<span>申请数量</span>")
    page = page.replace("商业企业", "商业 企业").replace("（三）不予公开", "(三)不予 公开")
    page = page.replace("（", "(").replace("）", ")")
    page = page.replace("<td", '<td class="MsoNormal"').replace(">3<", "><span lang=EN-US>3</span><")
    report = parsed(page)
    assert differences(report, load_gold("seed-000")) == []
    assert report["flags"] == []


def test_blank_dash_slash_and_none_cells_are_blank_not_zero():
    page = html("seed-000")
    row = re.search(r"<tr><td colspan=\"2\">（二）部分公开.*?</tr>", page, re.S) or re.search(
        r"<tr>(?:(?!</tr>).)*部分公开.*?</tr>", page, re.S
    )
    cells = re.findall(r">0<", row.group(0))
    assert len(cells) == 7
    new_row = row.group(0)
    for marker in ("", "—", "/", "无", "-", "", "—"):
        new_row = new_row.replace(">0<", f">{marker}<", 1)
    report = parsed(page.replace(row.group(0), new_row))
    assert report["applications"]["partially_granted"] == dict.fromkeys(application_columns("2021"))
    assert all(c["ok"] for c in report["checks"])
    assert report["flags"] == []


def test_units_and_thousands_separators():
    page = html("seed-000").replace("本年收费金额（单位：万元）</td></tr>", "本年收费金额（单位：万元）</td></tr>", 1)
    fee_row = re.search(r"<tr><td>行政事业性收费</td>.*?</tr>", page).group(0)
    report = parsed(page.replace(fee_row, fee_row.replace(">0<", ">251000元<")))
    assert report["proactive"]["fees"]["amount_10k_yuan"] == 25.1
    report = parsed(page.replace(fee_row, fee_row.replace(">0<", ">0.5万元<")))
    assert report["proactive"]["fees"]["amount_10k_yuan"] == 0.5
    lic_row = re.search(r"<tr><td>行政许可</td>.*?</tr>", page).group(0)
    report = parsed(page.replace(lic_row, lic_row.replace(">0<", ">1,234件<")))
    assert report["proactive"]["licensing"]["decisions"] == 1234


def test_table_four_flattened_into_one_line_of_numbers():
    source = text("seed-003")
    start = source.index("\t行政复议")
    end = source.index("五、存在的主要问题")
    flattened = source[:start] + "0 0 0 0 0 0 2 0 0 2 0 0 0 0 0\n\n" + source[end:]
    report = parsed(flattened)
    assert differences(report, load_gold("seed-003")) == []
    # the same in HTML: a paragraph of 15 numbers under heading 四
    page = html("seed-003")
    table_start = page.index("<table", page.index("四、政府信息公开行政复议"))
    table_end = page.index("</table>", table_start) + len("</table>")
    page = page[:table_start] + "<p>0　0　0　0　0　0　2　0　0　2　0　0　0　0　0</p>" + page[table_end:]
    assert differences(parsed(page), load_gold("seed-003")) == []


def test_label_followed_by_numbers_on_one_line_as_text_extractors_write_it():
    lines = []
    for row in re.findall(r"<tr>(.*?)</tr>", html("seed-000"), re.S):
        cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        lines.append("  ".join(c for c in cells if c))
    head = "湘潭县数据局2024年政府信息公开工作年度报告\n本报告所列数据的统计期限为2024年1月1日至2024年12月31日。\n"
    body = "二、主动公开政府信息情况\n" + "\n".join(lines)
    body = body.replace("（本列数据", "三、收到和处理政府信息公开申请情况\n（本列数据", 1)
    body = body.replace("\n行政复议", "\n四、政府信息公开行政复议、行政诉讼情况\n行政复议", 1)
    report = parsed(head + body)
    assert differences(report, load_gold("seed-000")) == []


def test_reordered_rows_are_placed_by_label():
    source = text("seed-001").splitlines()
    i = next(n for n, line in enumerate(source) if line.startswith("2.重复申请"))
    j = next(n for n, line in enumerate(source) if line.startswith("3.补正后申请内容仍不明确"))
    source[i], source[j] = source[j], source[i]
    report = parsed("\n".join(source))
    assert differences(report, load_gold("seed-001")) == []


def test_missing_row_is_flagged_and_null():
    source = [line for line in text("seed-001").splitlines() if not line.startswith("2.重复申请")]
    report = parsed("\n".join(source))
    assert report["applications"]["rejected_duplicate"]["total"] is None
    assert {"where": "applications.rejected_duplicate", "reason": "row missing from the report"} in report["flags"]
    assert next(c for c in report["checks"] if c["rule"] == "processed_sum")["ok"] is False


def test_unknown_row_with_numbers_is_flagged():
    source = text("seed-001").replace(
        "四、结转下年度继续办理 |", "(八)转交其他机关办理 | 2 | 0 | 0 | 0 | 0 | 0 | 2 | ||\n四、结转下年度继续办理 |"
    )
    report = parsed(source)
    assert any("转交其他机关办理" in f["reason"] for f in report["flags"])
    assert differences(report, load_gold("seed-001")) == []


def test_extra_value_cells_are_flagged():
    source = text("seed-001").replace(
        "一、本年新收政府信息公开申请数量 | 14 | 0 | 0 | 0 | 0 | 0 | 14 |",
        "一、本年新收政府信息公开申请数量 | 14 | 0 | 0 | 0 | 0 | 0 | 14 | 9 |",
    )
    report = parsed(source)
    assert report["applications"]["new_received"]["total"] == 14
    assert {
        "where": "applications.new_received",
        "reason": "8 values where the template has 7; the first 7 are used",
    } in report["flags"]


def test_format_comes_from_the_labels_not_the_year():
    source = text("seed-003").replace("2020", "2022")
    report = parsed(source)
    assert report["year"] == 2022
    assert report["format"] == "2019"
    source = text("seed-000").replace("2024", "2019")
    assert parsed(source)["format"] == "2021"


def test_page_without_tables_is_unknown_format_with_null_tables():
    report = parsed(
        "<html><head><title>关于开展政务公开培训的通知</title></head><body><p>各单位：现将有关事项通知如下。</p></body></html>"
    )
    assert report["format"] == "unknown"
    assert report["proactive"] is report["applications"] is report["review_litigation"] is None
    assert report["checks"] == []


def test_text_cell_in_a_value_position_is_flagged_not_guessed():
    source = text("seed-000").replace("\t行政强制\n\t0", "\t行政强制\n\t见附件")
    report = parsed(source)
    assert report["proactive"]["coercion"]["decisions"] is None
    assert any(f["where"] == "proactive.coercion" for f in report["flags"])
