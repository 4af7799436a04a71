"""How the HTML reader finds paragraphs, tables and cells: layout tables, private-use characters, UTF-8 input.

The reader marks block, row and cell boundaries with private-use characters in one XSLT pass, so pages that
themselves use such characters must read exactly as pages that do not.
"""

import pytest

from parsers import ParseError, parse
from parsers.decode import decode_html, html_utf8
from parsers.html_reader import markers_absent_from
from tests.gold import FIXTURES, differences, load_gold


def page(seed: str) -> str:
    return (FIXTURES / f"{seed}.html").read_text(encoding="utf-8")


def test_layout_tables_around_the_report_and_its_tables_are_walked_through_not_read_as_data():
    source = page("seed-003")
    # each data table inside a layout table that also holds a note, the whole report inside a page layout table
    source = source.replace("<table", "<table><tr><td>单位：件</td></tr><tr><td><table")
    source = source.replace("</table>", "</table></td></tr></table>")
    body = source[source.index("<body>") + len("<body>") : source.index("</body>")]
    wrapped = source.replace(
        body, f"<table><tr><td>导航：首页</td><td><div>{body}</div></td></tr><tr><td>版权所有</td></tr></table>"
    )
    report = parse(wrapped.encode("utf-8")).to_dict()
    assert differences(report, load_gold("seed-003")) == []
    assert report["flags"] == []
    assert report["text"].count("\n单位：件\n") == 3  # a paragraph of its own before each table
    assert "导航" not in report["text"] and "版权所有" not in report["text"]  # outside the report's content


def test_private_use_characters_in_text_and_cells_keep_cells_apart():
    # U+E000-U+E002 are the markers the reader would use first; here they are written out and as references
    source = page("seed-000").replace("一、总体情况", "一、总体情况\ue000\ue001")
    source = source.replace("本年新收", "&#xE002;本年新收&#57344;", 1)
    report = parse(source.encode("utf-8")).to_dict()
    assert differences(report, load_gold("seed-000")) == []
    assert "一、总体情况\ue000\ue001" in report["text"]
    assert "\ue002本年新收\ue000" in report["text"]


def test_markers_are_characters_the_text_lacks_and_a_text_with_all_of_them_is_refused():
    pool = [range(0xE000, 0xE005)]
    assert markers_absent_from("x\ue000\ue002".encode(), pool) == ("\ue001", "\ue003", "\ue004")
    with pytest.raises(ParseError, match="private-use"):
        markers_absent_from("\ue000\ue001\ue003\ue004".encode(), pool)


def test_html_utf8_passes_utf8_through_and_reencodes_other_encodings():
    utf8 = (FIXTURES / "seed-001.html").read_bytes()
    assert html_utf8(utf8) is utf8
    gbk = (FIXTURES / "seed-001.gbk.html").read_bytes()
    assert html_utf8(gbk) == decode_html(gbk).encode("utf-8") == utf8.replace(b'charset="utf-8"', b'charset="gbk"')


@pytest.mark.parametrize("prefix", ["\u3000", "\n  ", "\x1c"])
def test_an_xml_declaration_after_leading_whitespace_reads_as_without_it(prefix):
    """The reader looks for "<?xml" at the start only; Unicode whitespace before it sends it to the full search."""
    plain = parse(page("seed-001").encode("utf-8")).to_dict()
    declared = parse((prefix + "<?xml version='1.0' encoding='utf-8'?>" + page("seed-001")).encode("utf-8"))
    assert differences(declared.to_dict(), load_gold("seed-001")) == []
    assert declared.to_dict()["text"] == plain["text"]



def test_parse_html_leaves_the_loaded_tree_as_it_was():
    """Callers read a page's links and title off the tree the parser reads the report from, before or after."""
    from lxml import etree

    from parsers import load_html, parse_html
    from tests.gold import FIXTURES

    page = load_html((FIXTURES / "seed-002.html").read_bytes().replace(
        b"</body>", b"<script>var x = 1;</script><!-- note --></body>"))
    before = etree.tostring(page.root)
    report = parse_html(page)
    assert etree.tostring(page.root) == before
    assert b"<script>" in before and "var x" not in report.text
    assert parse_html(page).to_dict() == report.to_dict()  # and it can be read again, to the same report
