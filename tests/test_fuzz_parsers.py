"""Fuzzing the parsers: whatever the bytes, `parse` returns a Report or raises ParseError — no other exception,
no hang (the 10 s deadline per input is far above any converter's own time limit).

Inputs are random bytes, fixtures cut short or corrupted, and documents assembled from the template's own
labels and numbers in random order (the inputs most likely to confuse the label mapper).
"""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parsers import ParseError, Report, parse
from tests.gold import FIXTURES

FUZZ = settings(max_examples=120, deadline=10_000, suppress_health_check=[HealthCheck.too_slow])
TEXT_FIXTURES = [FIXTURES / f"seed-00{i}.{ext}" for i in range(5) for ext in ("html", "gbk.html", "txt")]
WORDS = [
    "一、本年新收政府信息公开申请数量", "二、上年结转政府信息公开申请数量", "（一）予以公开", "（三）不予公开",
    "1.属于国家秘密",
    "（七）总计", "四、结转下年度继续办理", "自然人", "商业企业", "总计", "行政复议", "结果维持", "信息内容", "规章",
    "本年制发件数", "第二十条第（一）项", "（六）其他处理", "3.其他", "三、收到和处理政府信息公开申请情况",
    "四、政府信息公开行政复议、行政诉讼情况", "0", "1", "12", "—", "/", "", "3.5万元", "-2", "1,234", "无",
]


def outcome(data: bytes) -> Report | ParseError:
    try:
        report = parse(data, source="fuzz")
    except ParseError as exc:
        assert str(exc)  # a readable reason, never empty
        return exc
    json.dumps(report.to_dict(), ensure_ascii=False)  # always serialisable
    return report


@FUZZ
@given(st.binary(max_size=4096))
def test_random_bytes(data):
    outcome(data)


@FUZZ
@given(st.sampled_from(TEXT_FIXTURES), st.floats(0, 1), st.binary(max_size=64), st.integers(0, 2**31))
def test_fixtures_cut_short_or_corrupted(path, cut, junk, where):
    data = path.read_bytes()
    data = data[: int(len(data) * cut)]
    at = where % (len(data) + 1)
    outcome(data[:at] + junk + data[at:])


@settings(max_examples=40, deadline=30_000, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from([FIXTURES / f"seed-00{i}.{ext}" for i in (0, 3) for ext in ("docx", "pdf")]),
       st.floats(0, 1), st.binary(min_size=1, max_size=32), st.integers(0, 2**31))
def test_docx_and_pdf_cut_short_or_corrupted(path, cut, junk, where):
    data = path.read_bytes()
    data = data[: max(8, int(len(data) * cut))]
    at = where % (len(data) + 1)
    outcome(data[:at] + junk + data[at + len(junk):])


@FUZZ
@given(st.lists(st.lists(st.sampled_from(WORDS), max_size=12), max_size=40),
       st.sampled_from(["\t", " | ", "  ", "\n\t"]), st.booleans())
def test_template_words_in_random_tables(rows, separator, as_html):
    if as_html:
        body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
        data = f"<html><body><p>三、收到和处理政府信息公开申请情况</p><table>{body}</table></body></html>".encode()
    else:
        data = "\n".join(separator.join(row) for row in rows).encode("utf-8")
    result = outcome(data)
    if isinstance(result, Report) and result.applications is not None:
        # a table was found: every value is a number or None, and every rule was evaluated
        for row in result.applications.values():
            assert all(v is None or isinstance(v, int | float) for v in row.values())
        # every rule of the spec, plus "tables_read" where another table's labels are there but it was not read
        assert len([c for c in result.checks if c["rule"] != "tables_read"]) == 6
