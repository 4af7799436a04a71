"""`report_summary`: one row per current report with the key figures as columns — what a journalist exports.

It is a view over `cells`, so it can never disagree with the stored values and changes with a reparse.
Each figure either picks one cell (MAX over a single match) or adds up a group of rows (SUM); both are NULL
when the report has no such table, so a missing table reads as "unknown", never as zero.
"""

from __future__ import annotations

from dataclasses import dataclass


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

SUMMARY_SQL = (
    "SELECT r.id AS report_id, "
    + ", ".join(f"r.{name}" for name in REPORT_COLUMNS)
    + ", "
    + ", ".join(figure.sql() for figure in FIGURES)
    + " FROM reports r LEFT JOIN cells c ON c.report_id = r.id WHERE r.is_current = 1 GROUP BY r.id"
)

SUMMARY_COLUMNS: tuple[str, ...] = ("report_id", *REPORT_COLUMNS, *(f.column for f in FIGURES))
