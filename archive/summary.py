"""`report_summary`: one row per current report with the key figures as columns — what a journalist exports.

Its rows are computed from `reports` and `cells` by SUMMARY_SQL. Each figure either picks one cell (MAX over a
single match) or adds up a group of rows (SUM); both are NULL when the report has no such table, so a missing table
reads as "unknown", never as zero.

Why a table and not a view: the view regrouped ~230 cells per report on every read, so at 10,000 reports its facet page
took 10 s (bench/README.md). The table is derived data, kept exact by `refresh_summary` in the same
transaction as every write of a report (store_report, reparse), and rebuilt from `cells` whenever its definition
here changes (SUMMARY_TABLE_SQL embeds a digest of SUMMARY_SQL; archive.schema compares it on every open).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from sqlite_utils import Database


@dataclass(frozen=True)
class Figure:
    column: str
    table: str
    rows: str  # GLOB pattern over row_key: one key, or e.g. 'denied_*' for a group
    column_key: str
    description: str

    def sql(self) -> str:
        single = not any(ch in self.rows for ch in "*?[")
        aggregate = "MAX" if single else "SUM"
        match = f"c.row_key = '{self.rows}'" if single else f"c.row_key GLOB '{self.rows}'"
        return (
            f"{aggregate}(CASE WHEN c.table_name = '{self.table}' AND {match} "
            f"AND c.column_key = '{self.column_key}' THEN c.value END) AS {self.column}"
        )


FIGURES: tuple[Figure, ...] = (
    Figure("new_received", "applications", "new_received", "total", "本年新收申请数 / new requests received"),
    Figure("carried_over", "applications", "carried_over", "total", "上年结转申请数 / carried over from last year"),
    Figure("granted", "applications", "granted", "total", "予以公开 / granted"),
    Figure("partially_granted", "applications", "partially_granted", "total", "部分公开 / partially granted"),
    Figure("denied_total", "applications", "denied_*", "total", "不予公开合计 / refused (all reasons)"),
    Figure("unavailable_total", "applications", "unavailable_*", "total",
           "无法提供合计 / could not be provided (all reasons)"),
    Figure("rejected_total", "applications", "rejected_*", "total", "不予处理合计 / not handled (all reasons)"),
    Figure("other_total", "applications", "other*", "total", "其他处理合计 / other outcomes"),
    Figure("total_processed", "applications", "total_processed", "total", "办理结果总计 / total processed"),
    Figure("carried_forward", "applications", "carried_forward", "total",
           "结转下年度继续办理 / carried forward to next year"),
    Figure("review_total", "review_litigation", "review_total", "value", "行政复议总计 / administrative reviews"),
    Figure("review_corrected", "review_litigation", "review_corrected", "value",
           "行政复议结果纠正 / reviews that corrected the agency"),
    Figure("suit_total", "review_litigation", "suit_*_total", "value",
           "行政诉讼总计（未经复议直接起诉＋复议后起诉）/ lawsuits (direct + after review)"),
    Figure("suit_corrected", "review_litigation", "suit_*_corrected", "value",
           "行政诉讼结果纠正 / lawsuits that corrected the agency"),
    Figure("licensing_decisions", "proactive", "licensing", "decisions", "行政许可处理决定数 / licensing decisions"),
    Figure("penalty_decisions", "proactive", "penalty", "decisions", "行政处罚处理决定数 / penalty decisions"),
    Figure("coercion_decisions", "proactive", "coercion", "decisions", "行政强制处理决定数 / coercion decisions"),
    Figure("fees_10k_yuan", "proactive", "fees", "amount_10k_yuan",
           "行政事业性收费金额（万元，2021 版表格才有）/ fees collected, 10,000 yuan (2021 template only)"),
)

# Columns taken from `reports` as they are, before the figures.
REPORT_COLUMNS: tuple[str, ...] = (
    "agency", "region", "year", "title", "url", "published", "format", "checks_ok", "failed_checks", "flag_count",
    "version", "sha256",
)

# `{where}` narrows the reports recomputed: "" for all of them, or a condition on r.id.
SUMMARY_SQL = (
    "SELECT r.id AS report_id, "
    + ", ".join(f"r.{name}" for name in REPORT_COLUMNS)
    + ", "
    + ", ".join(figure.sql() for figure in FIGURES)
    + " FROM reports r LEFT JOIN cells c ON c.report_id = r.id WHERE r.is_current = 1{where} GROUP BY r.id"
)

SUMMARY_COLUMNS: tuple[str, ...] = ("report_id", *REPORT_COLUMNS, *(f.column for f in FIGURES))

_REPORT_TYPES = {"year": "INTEGER", "checks_ok": "INTEGER", "flag_count": "INTEGER", "version": "INTEGER"}
_DEFINITION = hashlib.sha256(SUMMARY_SQL.encode()).hexdigest()[:16]
# Figures keep the cells' ANY (NUMERIC) affinity: a count stays an integer, 万元 stays a real.
SUMMARY_TABLE_SQL = (
    "CREATE TABLE report_summary (\n"
    f"  -- derived by archive/summary.py from reports and cells, definition {_DEFINITION}\n"
    "  report_id INTEGER PRIMARY KEY REFERENCES reports(id),\n"
    + ",\n".join(f"  {name} {_REPORT_TYPES.get(name, 'TEXT')}" for name in REPORT_COLUMNS) + ",\n"
    + ",\n".join(f"  {figure.column} ANY" for figure in FIGURES)
    + "\n)"
)
# The default facets (region, year, format, checks_ok), the per-region queries and the agency/year lookups.
SUMMARY_INDEXES: tuple[tuple[str, ...], ...] = (("region", "year"), ("year",), ("format",), ("checks_ok",),
                                                 ("agency", "year"))
_INSERT = f"INSERT INTO report_summary ({', '.join(SUMMARY_COLUMNS)}) "


def create_summary(db: Database) -> None:
    """(Re)create the report_summary table and fill it from every current report (inside a transaction)."""
    existing = db.execute("SELECT type FROM sqlite_master WHERE name = 'report_summary'").fetchone()
    if existing is not None:  # a table, or the view older nianbao versions created
        db.execute(f"DROP {existing[0].upper()} report_summary")
    db.execute(SUMMARY_TABLE_SQL)
    db.execute(_INSERT + SUMMARY_SQL.format(where=""))
    for columns in SUMMARY_INDEXES:
        db["report_summary"].create_index(columns)


def refresh_summary(db: Database, report_ids: Iterable[int]) -> None:
    """Recompute the summary rows of these report versions (call in the transaction that changed them): a
    superseded version's row goes, a current one's is rewritten from its cells."""
    ids = sorted(set(report_ids))
    marks = ", ".join("?" * len(ids))
    db.execute(f"DELETE FROM report_summary WHERE report_id IN ({marks})", ids)
    db.execute(_INSERT + SUMMARY_SQL.format(where=f" AND r.id IN ({marks})"), ids)
