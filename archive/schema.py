"""The archive's tables, indexes, full-text index and views, created and migrated with sqlite-utils.

Why migrations are numbered steps tracked in `PRAGMA user_version`: an archive outlives the code that wrote it
(people keep years of crawls), so opening an old file must bring it forward in place, never rebuild it.
Append a new function to MIGRATIONS to change the schema; never edit one that has shipped.
The `report_summary` and `labels` tables are derived, so they are refreshed on every open instead: report_summary
and the aggregates materialised beside it (archive/summary.py: report_reasons, the rollups, report_gaps) are
rebuilt from `cells` only when their definition there changed (or the file still has the view older nianbao
versions created). Migration 2 is where those aggregates first appeared: it builds them for an archive written by
version 1, so an upgrade says in `user_version` that it has them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from importlib import resources

from sqlite_utils import Database

from archive.identity import fingerprint, identity, merge_duplicates
from archive.short_words import create_short_word_index
from archive.summary import SUMMARY_TABLE_SQL, create_summary


def _create_v1(db: Database) -> None:
    db["crawl_runs"].create(
        {
            "id": int, "started_at": str, "ended_at": str, "portals": str, "start_urls": str, "pages": int,
            "reports_new": int, "reports_changed": int, "reports_unchanged": int, "errors": int, "bytes": int,
            "status": str,
        },
        pk="id",
        not_null={"started_at", "status"},
        defaults={"pages": 0, "reports_new": 0, "reports_changed": 0, "reports_unchanged": 0, "errors": 0,
                  "bytes": 0, "status": "running"},
    )
    db["fetches"].create(
        {
            "id": int, "url": str, "fetched_at": str, "status": int, "sha256": str, "content_type": str,
            "bytes": int, "etag": str, "last_modified": str, "method": str, "run_id": int,
        },
        pk="id",
        not_null={"url", "fetched_at", "status"},
        foreign_keys=[("run_id", "crawl_runs", "id")],
    )
    db["reports"].create(
        {
            "id": int, "url": str, "version": int, "is_current": int, "sha256": str, "title": str, "agency": str,
            "region": str, "year": int, "published": str, "format": str, "form": str, "checks_ok": int,
            "failed_checks": str, "flag_count": int, "portal": str, "page_url": str, "run_id": int,
            "stored_at": str, "last_seen_at": str, "superseded_at": str, "parsed_at": str, "sections": str,
            "text": str,
        },
        pk="id",
        not_null={"url", "version", "is_current", "sha256", "format", "checks_ok", "stored_at"},
        foreign_keys=[("run_id", "crawl_runs", "id")],
    )
    # cells.value is declared ANY (NUMERIC affinity): 12 stays an integer and 0.35 (万元) a real, where REAL
    # would turn every count into 12.0.
    for child, columns in (
        ("cells", {"report_id": int, "table_name": str, "row_key": str, "column_key": str, "value": "ANY"}),
        ("checks", {"report_id": int, "rule": str, "ok": int, "detail": str}),
        ("flags", {"report_id": int, "location": str, "reason": str}),
    ):
        db[child].create(
            {"id": int, **columns}, pk="id", not_null={"report_id"},
            foreign_keys=[("report_id", "reports", "id")],
        )
    db["errors"].create(
        {"id": int, "stage": str, "url": str, "message": str, "sha256": str, "run_id": int, "at": str},
        pk="id",
        not_null={"stage", "message", "at"},
        foreign_keys=[("run_id", "crawl_runs", "id")],
    )
    db["labels"].create(
        {"format": str, "table_name": str, "kind": str, "key": str, "label": str},
        pk=("format", "table_name", "kind", "key"),
    )

    for table, columns, unique in (
        ("reports", ["url", "version"], True),
        ("reports", ["url", "is_current"], False),
        ("reports", ["agency"], False),
        ("reports", ["region"], False),
        ("reports", ["year"], False),
        ("reports", ["format"], False),
        ("reports", ["checks_ok"], False),
        ("reports", ["sha256"], False),
        ("cells", ["report_id", "table_name", "row_key", "column_key"], True),
        ("cells", ["table_name", "row_key", "column_key"], False),
        ("checks", ["report_id"], False),
        ("checks", ["rule", "ok"], False),
        ("flags", ["report_id"], False),
        ("fetches", ["url", "fetched_at"], False),
        ("fetches", ["sha256"], False),
        ("fetches", ["run_id"], False),
        ("errors", ["run_id"], False),
        ("errors", ["stage"], False),
    ):
        db[table].create_index(columns, unique=unique, if_not_exists=True)

    # The trigram tokenizer indexes every 3-character window, so it finds Chinese words without a segmenter;
    # shorter words are found through its vocabulary (migration 3, archive/short_words.py).
    db["reports"].enable_fts(["title", "agency", "text"], tokenize="trigram", create_triggers=True)


def _materialise_aggregates_v2(db: Database) -> None:
    """What the canned queries aggregate, kept beside report_summary (refusal reasons, per region and year totals,
    missing years), backfilled here from every current report's cells."""
    create_summary(db)


def _short_words_v3(db: Database) -> None:
    """1–2 character words found through the trigram index, not a scan of every report (archive/short_words.py)."""
    create_short_word_index(db)


def _drop_cross_report_cells_index_v4(db: Database) -> None:
    """Drop the (table_name, row_key, column_key) index on cells that migration 1 made.

    Every report appends ~200 entries to ~400 places spread over that index, so each commit rewrote hundreds of
    its pages: it was a third of the archive writer's work per report, and the writer sets the crawl's pace.
    Nothing nianbao publishes reads it: the canned queries read report_summary, report_reasons and the rollups,
    and a report's own cells come through the (report_id, …) unique index. Someone who filters cells across
    reports by key on a large archive can create it again (README, "Cross-report cell queries"): a migration
    runs once per archive, so this one never drops it again."""
    db.execute("DROP INDEX IF EXISTS idx_cells_table_name_row_key_column_key")


def _one_report_once_v5(db: Database) -> None:
    """A report reached at several URLs is one report (archive/identity.py): reports get their fingerprint,
    identity and `superseded_by`; `report_urls` lists every URL each was seen at. Reports that an older nianbao
    stored twice (the same report at two URLs, a second demo crawl on another port) are merged, and the derived
    tables rebuilt, so every figure counts each report once."""
    for column, kind in (("fingerprint", str), ("identity", str), ("superseded_by", int)):
        db["reports"].add_column(column, kind)
    db["report_urls"].create(
        {"id": int, "report_id": int, "url": str, "sha256": str, "first_seen_at": str, "last_seen_at": str,
         "run_id": int},
        pk="id", not_null={"report_id", "url"},
        foreign_keys=[("report_id", "reports", "id"), ("run_id", "crawl_runs", "id")],
    )
    db["report_urls"].create_index(["report_id", "url"], unique=True)
    db["report_urls"].create_index(["url"])
    db.execute("DROP INDEX IF EXISTS idx_reports_url_version")  # versions now count per report, not per URL
    db["reports"].create_index(["url", "version"], if_not_exists=True)
    db["reports"].create_index(["fingerprint"])
    db["reports"].create_index(["identity", "is_current"])
    db.execute(
        "INSERT INTO report_urls (report_id, url, sha256, first_seen_at, last_seen_at, run_id) "
        "SELECT id, url, sha256, stored_at, coalesce(last_seen_at, stored_at), run_id FROM reports"
    )
    for row in list(db.query("SELECT id, region, agency, year, format, text FROM reports")):
        cells = db.query("SELECT table_name, row_key, column_key, value FROM cells WHERE report_id = ?", [row["id"]])
        db.execute(
            "UPDATE reports SET fingerprint = ?, identity = ? WHERE id = ?",
            [fingerprint(row["region"], row["agency"], row["year"], row["format"], cells, row["text"]),
             identity(row["region"], row["agency"], row["year"]), row["id"]],
        )
    merge_duplicates(db)
    create_summary(db)


MIGRATIONS: list[Callable[[Database], None]] = [
    _create_v1, _materialise_aggregates_v2, _short_words_v3, _drop_cross_report_cells_index_v4,
    _one_report_once_v5,
]


def migrate(db: Database) -> None:
    """Bring the archive to the newest schema, then refresh the derived tables (report_summary, labels)."""
    db.enable_wal()
    # WAL with synchronous=NORMAL cannot corrupt the file and a killed process loses no committed write; only a
    # power cut can lose the last transactions (which the next crawl fetches again). FULL fsyncs every commit,
    # and a crawl commits a few times per page: it made the crawl 5x slower.
    db.execute("PRAGMA synchronous = NORMAL")
    db.execute("PRAGMA foreign_keys = ON")
    version = db.execute("PRAGMA user_version").fetchone()[0]
    for number, step in enumerate(MIGRATIONS[version:], start=version + 1):
        with db.atomic():
            step(db)
            db.execute(f"PRAGMA user_version = {number}")
    with db.atomic():
        _refresh_summary(db)
        _refresh_labels(db)


def _refresh_summary(db: Database) -> None:
    existing = db.execute("SELECT sql FROM sqlite_master WHERE name = 'report_summary'").fetchone()
    if existing is None or existing[0] != SUMMARY_TABLE_SQL:
        create_summary(db)


def label_rows() -> list[dict[str, str]]:
    """The Chinese label of every canonical key, from parsers/report_schema.json, so queries can show them."""
    spec = json.loads((resources.files("parsers") / "report_schema.json").read_text(encoding="utf-8"))
    rows: list[dict[str, str]] = []
    for fmt, tables in spec["formats"].items():
        for item in tables["proactive"]:
            rows.append({"format": fmt, "table_name": "proactive", "kind": "row", "key": item["key"],
                         "label": item["label"]})
            for field in item["fields"]:  # a field key has one label throughout a format
                rows.append({"format": fmt, "table_name": "proactive", "kind": "column", "key": field["key"],
                             "label": field["label"]})
        for kind in ("rows", "columns"):
            for entry in tables["applications"][kind]:
                rows.append({"format": fmt, "table_name": "applications", "kind": kind[:-1], "key": entry["key"],
                             "label": entry["label"]})
        for entry in tables["review_litigation"]:
            rows.append({"format": fmt, "table_name": "review_litigation", "kind": "row", "key": entry["key"],
                         "label": entry["label"]})
    return rows


def _refresh_labels(db: Database) -> None:
    db["labels"].upsert_all(label_rows(), pk=("format", "table_name", "kind", "key"))
