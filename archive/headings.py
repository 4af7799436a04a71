"""Chinese headings: the one mapping of `report_summary` columns to what a journalist reads, and the template's own
labels for the cells of a report.

Figures take the Chinese half of their description in archive/summary.py (FIGURES), the cells of the three tables
their label in parsers/report_schema.json (the template's wording), so no label is written twice. Columns taken from
`reports` as they are get their short heading here. The order puts what a reader scans first (title, agency, region,
year, then the figures) and the identifiers last (url, sha256). Used by the `报告一览` view, the report page and
`nianbao export`.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from archive.schema import label_rows
from archive.summary import FIGURES, SUMMARY_COLUMNS

# Short headings of the columns report_summary copies from `reports`.
_REPORT_HEADINGS = {
    "report_id": "报告编号",
    "title": "报告标题",
    "agency": "发布机关",
    "region": "地区",
    "year": "年度",
    "published": "发布日期",
    "format": "表格模板",
    "checks_ok": "校验全部通过",
    "failed_checks": "未通过的校验",
    "flag_count": "存疑数值个数",
    "unparsed": "表格未识别",
    "version": "版本",
    "url": "原文地址",
    "sha256": "原件 sha256",
}
_FIRST = ("title", "agency", "region", "year")
_LAST = ("report_id", "url", "sha256")


def _heading(column: str) -> str:
    figure = next((f for f in FIGURES if f.column == column), None)
    if figure is not None:
        return figure.description.split("/")[0].strip()  # the Chinese half of "中文 / English"
    return _REPORT_HEADINGS.get(column, column)  # a column added to report_summary later shows its key


def summary_headings() -> dict[str, str]:
    """report_summary column -> Chinese heading, in the order a journalist reads them."""
    middle = [c for c in SUMMARY_COLUMNS if c not in _FIRST and c not in _LAST]
    figures = [c for c in middle if any(f.column == c for f in FIGURES)]
    rest = [c for c in middle if c not in figures]
    return {column: _heading(column) for column in (*_FIRST, *figures, *rest, *_LAST)}


SUMMARY_VIEW = "报告一览"  # report_summary with Chinese column names, in reading order


def summary_view_sql() -> str:
    columns = ", ".join(f'"{column}" AS "{heading}"' for column, heading in summary_headings().items())
    return f'CREATE VIEW "{SUMMARY_VIEW}" AS SELECT {columns} FROM report_summary'


def ensure_summary_view(conn: Any) -> None:
    """Create (or bring up to date) the Chinese-named view over report_summary on a writable sqlite3 connection."""
    sql = summary_view_sql()
    row = conn.execute("SELECT sql FROM sqlite_master WHERE type = 'view' AND name = ?", [SUMMARY_VIEW]).fetchone()
    if row is not None and row[0] == sql:
        return
    with conn:
        conn.execute(f'DROP VIEW IF EXISTS "{SUMMARY_VIEW}"')
        conn.execute(sql)


@cache
def cell_labels() -> dict[tuple[str, str, str, str], str]:
    """(format, table, kind, key) -> the template's label, kind being "row" or "column"."""
    return {(r["format"], r["table_name"], r["kind"], r["key"]): r["label"] for r in label_rows()}


# The consistency rules of parsers/report_schema.json in words a reader of the template follows.
RULE_WORDS = {
    "row_total": "每一行：总计 ＝ 六类申请人之和",
    "balance": "每一列：一（新收）＋ 二（上年结转）＝ 三（七）总计 ＋ 四（结转下年度）",
    "processed_sum": "每一列：三（七）总计 ＝（一）至（六）各项之和",
    "review_total": "行政复议：总计 ＝ 维持＋纠正＋其他＋尚未审结",
    "suit_direct_total": "行政诉讼（未经复议直接起诉）：总计 ＝ 维持＋纠正＋其他＋尚未审结",
    "suit_after_review_total": "行政诉讼（复议后起诉）：总计 ＝ 维持＋纠正＋其他＋尚未审结",
}
