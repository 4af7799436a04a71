"""When two stored documents are one report: the fingerprint of what a report says, and the key of whose
report for which year it is.

- `fingerprint`: region, agency, year, format and every figure of the three tables (the text too when agency or
  year is unknown, so two unnamed all-zero reports never merge). The same report reached at another URL, over
  https, on a mirror, or as the PDF beside its HTML page has the same fingerprint, whatever its bytes: it is a
  sighting of the stored report, not a new one.
- `identity`: (region, agency, year). A different fingerprint under the same identity is a later version (a
  corrected republication) and supersedes the earlier one; both stay on record. A report without agency or year
  has no identity beyond its URL.
- At another URL, a document of the same identity is a later version only when most of its text is the report's
  (`same_text`): a corrected republication changes a few figures or lines, while two bodies' reports that the
  parser read as one agency share only the template's wording. Those stay two reports, and the archive records
  why in `errors` (stage identity), so a misread agency never makes a report vanish from the counts.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

from sqlite_utils import Database

from archive.records import now
from parsers import Report


def _number(value: Any) -> Any:
    """12.0 and 12 are one figure (cells keep NUMERIC affinity, which stores an integral REAL as INTEGER)."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def plain_text(text: str | None) -> str:
    """A report's text with its whitespace folded: what is compared, not how it was laid out."""
    return " ".join((text or "").split())


def fingerprint(region: str | None, agency: str | None, year: int | None, format: str,
                cells: Iterable[dict[str, Any]], text: str | None) -> str:
    """sha256 of what the report says; `cells` as archive.records.cell_rows gives them (or as read from `cells`)."""
    figures = sorted((c["table_name"], c["row_key"], c["column_key"], _number(c["value"])) for c in cells)
    said: list[Any] = [region, agency, year, format, figures]
    if agency is None or year is None:
        said.append(plain_text(text))
    return hashlib.sha256(json.dumps(said, ensure_ascii=False, default=str).encode()).hexdigest()


def report_keys(region: str | None, report: Report, cells: Iterable[dict[str, Any]]) -> dict[str, str | None]:
    """The `fingerprint` and `identity` columns of a parsed report's row (store_report, reparse)."""
    return {"fingerprint": fingerprint(region, report.agency, report.year, report.format, cells, report.text),
            "identity": identity(region, report.agency, report.year)}


# Jaccard similarity of 4-character shingles: one report in two forms or with a correction 0.99; two agencies'
# reports of one template 0.14-0.25 (the fixture reports).
SAME_TEXT = 0.6


def _shingles(text: str | None) -> set[str]:
    joined = "".join((text or "").split())
    return {joined[i:i + 4] for i in range(len(joined) - 3)}


def same_text(a: str | None, b: str | None) -> bool:
    """Whether two report texts are, for the most part, one text (whitespace ignored)."""
    first, second = _shingles(a), _shingles(b)
    if not first or not second:
        return first == second
    return len(first & second) / len(first | second) >= SAME_TEXT


def identity(region: str | None, agency: str | None, year: int | None) -> str | None:
    """`region|agency|year`, or None when agency or year is unknown (then only the URL identifies the report)."""
    if not agency or year is None:
        return None
    return f"{region or ''}|{agency}|{year}"


def merge_duplicates(db: Database) -> list[tuple[int, int]]:
    """Make every fingerprint and every identity current once among the current reports (after a migration or
    a reparse changed what the reports say): a duplicate is superseded by the first report of its fingerprint,
    which takes over its URLs; of one identity's reports the newest stays current, superseding those whose text is
    mostly its own, and the others stay current with an `errors` row each, as in Archive.store_report. Returns
    the (superseded, kept) pairs, whose derived rows must be refreshed (call inside a transaction)."""
    merged: list[tuple[int, int]] = []
    for kept, members in db.execute(
        "SELECT MIN(id), group_concat(id) FROM reports WHERE is_current = 1 AND fingerprint IS NOT NULL "
        "GROUP BY fingerprint HAVING count(*) > 1"
    ).fetchall():
        for report_id in (int(i) for i in members.split(",") if int(i) != kept):
            supersede(db, report_id, kept)
            merged.append((report_id, kept))
    for key, in db.execute(
        "SELECT identity FROM reports WHERE is_current = 1 AND identity IS NOT NULL GROUP BY identity "
        "HAVING count(*) > 1"
    ).fetchall():
        (kept, url, text), *others = db.execute(
            "SELECT id, url, text FROM reports WHERE is_current = 1 AND identity = ? ORDER BY id DESC", [key])
        for report_id, other_url, other_text in others:
            if same_text(text, other_text):
                supersede(db, report_id, kept)
                merged.append((report_id, kept))
            else:
                record_identity_conflict(db, key, url, report_id, other_url, None)
    return merged


def record_identity_conflict(db: Database, key: str, url: str, other_id: int, other_url: str,
                             run_id: int | None) -> None:
    """An `errors` row (stage identity): the report at `url` and report `other_id` at `other_url` share an agency
    and year but not their text, so both are counted; a person should check what was read from each."""
    db["errors"].insert({
        "stage": "identity", "url": url, "run_id": run_id, "at": now(),
        "message": f"{key.replace('|', ' ').strip()}: another report of this agency and year, with other text, is "
                   f"at {other_url} (report {other_id}); both are counted — check the agency and year read from "
                   "each"})


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
