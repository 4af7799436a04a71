"""A `Report` flattened into rows of `reports`, `cells`, `checks` and `flags`.

`cells` is long format (report_id, table_name, row_key, column_key, value) keyed exactly as
parsers/report_schema.json, so every table of every template fits one shape:
- applications: row_key = row (e.g. `new_received`), column_key = applicant column (e.g. `natural_person`, `total`);
- proactive: row_key = item (e.g. `licensing`), column_key = field (e.g. `decisions`);
- review_litigation (a flat mapping): row_key = the key (e.g. `review_corrected`), column_key = `value`.
A blank cell is a row with value NULL; a table the report lacks has no rows at all.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from parsers import Report

FLAT_COLUMN = "value"


def now() -> str:
    """The time a row is written, UTC to the second."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def report_fields(report: Report) -> dict[str, Any]:
    """The `reports` columns that come from the parsed report itself."""
    failed = [c["rule"] for c in report.checks if c.get("ok") is False]
    return {
        "title": report.title,
        "agency": report.agency,
        "year": report.year,
        "published": report.published,
        "format": report.format,
        "form": report.form,
        "checks_ok": int(report.checks_ok),
        "failed_checks": ", ".join(dict.fromkeys(failed)) or None,
        "flag_count": len(report.flags),
        "sections": json.dumps(report.sections, ensure_ascii=False),
        "text": report.text,
    }


def cell_rows(report: Report) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for table_name in ("proactive", "applications"):
        table = getattr(report, table_name)
        for row_key, columns in (table or {}).items():
            for column_key, value in (columns or {}).items():
                rows.append({"table_name": table_name, "row_key": row_key, "column_key": column_key,
                             "value": value})
    for row_key, value in (report.review_litigation or {}).items():
        rows.append({"table_name": "review_litigation", "row_key": row_key, "column_key": FLAT_COLUMN,
                     "value": value})
    return rows


def check_rows(report: Report) -> list[dict[str, Any]]:
    return [
        {"rule": c["rule"], "ok": None if c.get("ok") is None else int(c["ok"]), "detail": c.get("detail")}
        for c in report.checks
    ]


def flag_rows(report: Report) -> list[dict[str, Any]]:
    return [{"location": f.get("where"), "reason": f.get("reason")} for f in report.flags]
