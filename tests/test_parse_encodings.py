"""Encodings portals really serve: UTF-8, GBK/GB18030 and GB2312 declared or not, BOMs, entities."""

import codecs

from parsers import parse
from tests.gold import FIXTURES, differences, load_gold

GOLD = load_gold("seed-002")


def page() -> str:
    return (FIXTURES / "seed-002.html").read_text(encoding="utf-8")


def test_gbk_declared():
    assert differences(parse((FIXTURES / "seed-002.gbk.html").read_bytes()).to_dict(), GOLD) == []


def test_gbk_undeclared():
    data = page().replace('<meta charset="utf-8">', "").encode("gbk")
    assert differences(parse(data).to_dict(), GOLD) == []


def test_gb2312_declared_but_gbk_characters_used():
    data = page().replace(
        '<meta charset="utf-8">', '<meta http-equiv="Content-Type" content="text/html; charset=gb2312">'
    )
    data = data.replace("易俗河镇在县委", "易俗河镇在縣委")  # 縣 is in GBK, not in GB2312
    report = parse(data.encode("gbk")).to_dict()
    assert differences(report, GOLD) == []
    assert "縣委" in report["text"]


def test_http_header_charset_wins_over_nothing():
    data = page().replace('<meta charset="utf-8">', "").encode("gb18030")
    assert differences(parse(data, content_type="text/html; charset=GB18030").to_dict(), GOLD) == []


def test_utf8_bom_and_utf16_text():
    txt = (FIXTURES / "seed-002.txt").read_text(encoding="utf-8")
    assert differences(parse(codecs.BOM_UTF8 + txt.encode("utf-8")).to_dict(), GOLD) == []
    assert differences(parse(codecs.BOM_UTF16_LE + txt.encode("utf-16-le")).to_dict(), GOLD) == []


def test_gbk_plain_text():
    txt = (FIXTURES / "seed-002.txt").read_text(encoding="utf-8")
    assert differences(parse(txt.encode("gbk")).to_dict(), GOLD) == []


def test_html_entities():
    data = (
        page()
        .replace("易俗河镇", "&#26131;&#x4fd7;河镇")
        .replace("行政许可", "行政&#x8BB8;可")
        .encode("ascii", "xmlcharrefreplace")
    )
    report = parse(data).to_dict()
    assert differences(report, GOLD) == []
