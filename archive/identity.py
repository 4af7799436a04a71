"""When two stored documents are one report: the fingerprint of what a report says, and the key of whose
report for which year it is.

- `fingerprint`: region, agency, year, format and every figure of the three tables (the text too when agency or
  year is unknown, so two unnamed all-zero reports never merge). The same report reached at another URL, over
  https, on a mirror, or as the PDF beside its HTML page has the same fingerprint, whatever its bytes: it is a
  sighting of the stored report, not a new one.
- `identity`: (region, agency, year). A different fingerprint under the same identity is a later version (a
  corrected republication) and supersedes the earlier one; both stay on record. A report without agency or year
  has no identity beyond its URL.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

from sqlite_utils import Database


def _number(value: Any) -> Any:
    """12.0 and 12 are one figure (cells keep NUMERIC affinity, which stores an integral REAL as INTEGER)."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def fingerprint(region: str | None, agency: str | None, year: int | None, format: str,
                cells: Iterable[dict[str, Any]], text: str | None) -> str:
    """sha256 of what the report says; `cells` as archive.records.cell_rows gives them (or as read from `cells`)."""
    figures = sorted((c["table_name"], c["row_key"], c["column_key"], _number(c["value"])) for c in cells)
    said: list[Any] = [region, agency, year, format, figures]
    if agency is None or year is None:
        said.append(" ".join((text or "").split()))
    return hashlib.sha256(json.dumps(said, ensure_ascii=False, default=str).encode()).hexdigest()


def identity(region: str | None, agency: str | None, year: int | None) -> str | None:
    """`region|agency|year`, or None when agency or year is unknown (then only the URL identifies the report)."""
    if not agency or year is None:
        return None
    return f"{region or ''}|{agency}|{year}"


def merge_duplicates(db: Database) -> list[tuple[int, int]]:
    """Make every fingerprint and every identity current once among the current reports (after a migration or
    a reparse changed what the reports say): a duplicate is superseded by the first report of its fingerprint,
    which takes over its URLs; of one identity's differing reports the newest stays current. Returns the
    (superseded, kept) pairs, whose derived rows must be refreshed (call inside a transaction)."""
    merged: list[tuple[int, int]] = []
    for column, keep in (("fingerprint", "MIN"), ("identity", "MAX")):
        groups = db.execute(
            f"SELECT {keep}(id), group_concat(id) FROM reports WHERE is_current = 1 AND {column} IS NOT NULL "
            f"GROUP BY {column} HAVING count(*) > 1"
        ).fetchall()
        for kept, members in groups:
            for report_id in (int(i) for i in members.split(",") if int(i) != kept):
                supersede(db, report_id, kept)
                merged.append((report_id, kept))
    return merged


def supersede(db: Database, old_id: int, new_id: int, stamp: str | None = None) -> None:
    """`old_id` is no longer current: `new_id` stands for it (a duplicate, or a later version). Its URLs become
    sightings of `new_id` too."""
    db.execute(
        "UPDATE reports SET is_current = 0, superseded_by = ?, superseded_at = coalesce(?, stored_at) WHERE id = ?",
        [new_id, stamp, old_id],
    )
    db.execute(
        "INSERT OR IGNORE INTO report_urls (report_id, url, sha256, first_seen_at, last_seen_at, run_id) "
        "SELECT ?, url, sha256, first_seen_at, last_seen_at, run_id FROM report_urls WHERE report_id = ?",
        [new_id, old_id],
    )
