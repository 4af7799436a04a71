"""Rebuild every parsed row from the archived bytes with the current parsers — no network.

Why: parsers improve (a new layout handled, an OCR fix) long after a report was crawled. Because every report row
points at the sha256 of the bytes it came from, the whole archive can be re-derived and the difference reported,
so a fix that moves published figures is visible rather than silent.
Each report is rewritten in its own transaction; one that no longer parses keeps its previous rows and gets an
`errors` row (stage "reparse"), so a parser regression loses nothing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import parsers
from archive.identity import merge_duplicates, report_keys
from archive.records import cell_rows, check_rows, now, report_fields
from archive.store import Archive, require_archive
from archive.summary import refresh_summary

META_COLUMNS = ("title", "agency", "year", "published", "format")


@dataclass
class ReparseSummary:
    reports: int = 0
    unchanged: int = 0
    changed: list[dict[str, Any]] = field(default_factory=list)  # id, url, version, what: figures/checks/meta
    failed: list[dict[str, Any]] = field(default_factory=list)  # id, url, message
    merged: int = 0  # reports that turned out to be another's duplicate or earlier version

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# What the crawl may have taken from the page linking an attachment (title, publisher, date) when the document
# itself does not say: a reparse keeps it, as the crawl did — the document still wins where it speaks.
_CRAWL_GIVEN = ("title", "agency", "year", "published")


def reparse(db_path: str | Path, raw_dir: str | Path | None = None,
            parse: Callable[..., parsers.Report] = parsers.parse) -> ReparseSummary:
    """Re-run `parse` (parsers.parse, or the same in a worker with limits: `nianbao reparse` passes
    crawler.parse_pool's) on the archived bytes of every report version (current and superseded) and rewrite
    its rows; ids, URLs, versions, portal and crawl-given region are kept."""
    require_archive(db_path)
    archive = Archive(db_path, raw_dir)
    summary = ReparseSummary()
    try:
        columns = ", ".join(("id", "url", "version", "sha256", "region", *_CRAWL_GIVEN))
        rows = list(archive.db.query(f"SELECT {columns} FROM reports ORDER BY id"))
        for row in rows:
            summary.reports += 1
            try:
                report = parse(archive.get_blob(row["sha256"]), source=row["url"],
                               content_type=_content_type(archive, row["sha256"]))
            except Exception as exc:  # one unreadable body must not stop the rest; it is recorded, not dropped
                message = f"{type(exc).__name__}: {exc}"
                archive.record_error(None, row["url"], stage="reparse", message=message, sha256=row["sha256"])
                summary.failed.append({"id": row["id"], "url": row["url"], "message": message})
                continue
            kept = {k: row[k] for k in _CRAWL_GIVEN if getattr(report, k) is None and row[k] is not None}
            report = dataclasses.replace(report, **kept)
            what = _differences(archive, row["id"], report)
            region = row["region"] or report.region
            with archive.db.atomic():
                archive.db["reports"].update(row["id"], {
                    **report_fields(report), "region": region, "parsed_at": now(),
                    **report_keys(region, report, cell_rows(report))})
                archive.write_children(row["id"], report)
                refresh_summary(archive.db, [row["id"]])
            if what:
                summary.changed.append({"id": row["id"], "url": row["url"], "version": row["version"], "what": what})
            else:
                summary.unchanged += 1
        with archive.db.atomic():  # reports that now read the same, or as one agency's one year, count once
            merged = merge_duplicates(archive.db)
            if merged:
                refresh_summary(archive.db, [report_id for pair in merged for report_id in pair])
        summary.merged = len(merged)
    finally:
        archive.close()
    return summary


def _content_type(archive: Archive, sha256: str) -> str | None:
    row = archive.db.execute(
        "SELECT content_type FROM fetches WHERE sha256 = ? ORDER BY id DESC LIMIT 1", [sha256]
    ).fetchone()
    return row[0] if row else None


def _differences(archive: Archive, report_id: int, report: parsers.Report) -> list[str]:
    """Which parts of a stored report the new parse changes: figures, checks (rule and outcome), meta."""
    db = archive.db
    old_cells = {
        (r["table_name"], r["row_key"], r["column_key"], r["value"])
        for r in db.query("SELECT table_name, row_key, column_key, value FROM cells WHERE report_id = ?",
                          [report_id])
    }
    new_cells = {(r["table_name"], r["row_key"], r["column_key"], r["value"]) for r in cell_rows(report)}
    old_checks = {(r["rule"], r["ok"]) for r in db.query("SELECT rule, ok FROM checks WHERE report_id = ?",
                                                         [report_id])}
    new_checks = {(r["rule"], r["ok"]) for r in check_rows(report)}
    old_meta = db["reports"].get(report_id)
    new_meta = report_fields(report)
    what = []
    if old_cells != new_cells:
        what.append("figures")
    if old_checks != new_checks:
        what.append("checks")
    if any(old_meta[c] != new_meta[c] for c in META_COLUMNS):
        what.append("meta")
    return what
