"""The consistency rules of report_schema.json, each reported with its outcome and a readable detail.

A report that does not add up is a finding, not an error.  Blank cells count as 0 (reports leave zeros blank);
a rule whose table is not in the report is reported with ok = None ("could not be checked").
"""

from __future__ import annotations

from functools import lru_cache
from operator import itemgetter
from typing import Any

from parsers import schema
from parsers.labels import norm

_APPLICANTS = [
    "natural_person",
    "commercial_enterprise",
    "research_institution",
    "social_welfare_org",
    "legal_service_org",
    "other_org",
]
_OUTCOMES = ["upheld", "corrected", "other", "pending"]
_applicant_values = itemgetter(*_APPLICANTS)
_TOLERANCE = 1e-6


def _n(value: Any) -> float:
    return value or 0


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _check(rule: str, failures: list[str], checked: str) -> dict[str, Any]:
    if failures:
        return {"rule": rule, "ok": False, "detail": "; ".join(failures)}
    return {"rule": rule, "ok": True, "detail": checked}


def _missing(rule: str, table: str) -> dict[str, Any]:
    return {"rule": rule, "ok": None, "detail": f"not checked: table {table} is not in the report"}


def run_checks(fmt: str, applications: dict | None, review: dict | None) -> list[dict[str, Any]]:
    """One entry per rule of the spec, in the spec's order."""
    out: list[dict[str, Any]] = []
    results = _application_checks(fmt, applications) if applications else {}
    reviews = _review_checks(review) if review else {}
    for rule in schema.rules():
        if rule in results:
            out.append(results[rule])
        elif rule in reviews:
            out.append(reviews[rule])
        else:
            out.append(_missing(rule, "三" if rule in ("row_total", "balance", "processed_sum") else "四"))
    return out


@lru_cache(maxsize=4)
def _columns_and_result_rows(fmt: str) -> tuple[list[str], list[str]]:
    """Table 三's columns and its rows (一)…(六) that (七)总计 sums, read from the schema once per format."""
    rows = schema.application_rows(fmt)
    summed = [k for k in rows if k not in ("new_received", "carried_over", "total_processed", "carried_forward")]
    return schema.application_columns(fmt), summed


def _application_checks(fmt: str, apps: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    columns, results_rows = _columns_and_result_rows(fmt)
    row_total, balance, processed = [], [], []
    for key, row in apps.items():
        # filter(None, …): blank (None) and zero cells, which add nothing, left out in C instead of `or 0` each
        parts = sum(filter(None, _applicant_values(row)))
        if abs(parts - _n(row["total"])) > _TOLERANCE:
            row_total.append(f"{key}: applicants sum to {_fmt(parts)}, 总计 says {_fmt(_n(row['total']))}")
    summed = [apps[k] for k in results_rows]  # the rows (七)总计 adds up
    for col in columns:
        got = _n(apps["new_received"][col]) + _n(apps["carried_over"][col])
        spent = _n(apps["total_processed"][col]) + _n(apps["carried_forward"][col])
        if abs(got - spent) > _TOLERANCE:
            balance.append(f"{col}: 一+二 = {_fmt(got)} but 三(七)+四 = {_fmt(spent)}")
        items = sum(filter(None, map(itemgetter(col), summed)))
        if abs(items - _n(apps["total_processed"][col])) > _TOLERANCE:
            processed.append(
                f"{col}: items sum to {_fmt(items)}, (七)总计 says {_fmt(_n(apps['total_processed'][col]))}"
            )
    return {
        "row_total": _check("row_total", row_total, f"all {len(apps)} rows: 总计 = sum of applicants"),
        "balance": _check("balance", balance, "一+二 = 三(七)+四 in every column"),
        "processed_sum": _check("processed_sum", processed, "(七)总计 = sum of (一)…(六) in every column"),
    }


def _review_checks(review: dict[str, Any]) -> dict[str, dict[str, Any]]:
    out = {}
    for prefix, name in (
        ("review", "行政复议"),
        ("suit_direct", "未经复议直接起诉"),
        ("suit_after_review", "复议后起诉"),
    ):
        parts = sum(_n(review[f"{prefix}_{o}"]) for o in _OUTCOMES)
        total = _n(review[f"{prefix}_total"])
        rule = f"{prefix}_total"
        failures = (
            []
            if abs(parts - total) < _TOLERANCE
            else [f"{name}: outcomes sum to {_fmt(parts)}, 总计 says {_fmt(total)}"]
        )
        out[rule] = _check(rule, failures, f"{name}: 总计 = {_fmt(total)} = sum of outcomes")
    return out


# Words each table's template labels carry, as `labels.norm` writes them (no spaces, so a label split over lines
# or cells still matches): a text with all words of a table has that table, whether or not its cells were read.
_TABLE_WORDS = {
    "proactive": ("第二十条第(一)项", "信息内容"),
    "applications": ("本年新收", "上年结转", "予以公开"),
    "review_litigation": ("结果维持", "结果纠正", "尚未审结"),
}


def tables_read(text: str, tables: dict[str, Any]) -> dict[str, Any] | None:
    """The failed check "tables_read" when the text carries a table's template labels but the table was not read
    (None); None when every table whose labels appear was read.  Extends the spec's rules: without it a page whose
    tables defeat the readers would pass as a report with nothing to check."""
    words = norm(text)
    unread = [
        name for name, needed in _TABLE_WORDS.items() if tables.get(name) is None and all(w in words for w in needed)
    ]
    if not unread:
        return None
    return {
        "rule": "tables_read",
        "ok": False,
        "detail": f"the text carries the template labels of {', '.join(unread)} but the table(s) could not be read",
    }
