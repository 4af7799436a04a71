"""The archive's write/read API — the only way the crawler and the CLI touch the database.

CONTRACT (the crawler is written against these signatures; extend, don't rename):

    archive = Archive("data/nianbao.db")            # creates/migrates schema, WAL, FKs, indexes
    run_id = archive.start_run(portals=["xtx"], start_urls=[...])
    archive.validators(url) -> {"etag": str|None, "last_modified": str|None, "sha256": str|None}
    sha = archive.record_fetch(run_id, url, status=200, body=b"...", headers={...}, method="GET")
    archive.store_report(run_id, url, sha, report, portal="xtx", region="湘潭县", page_url=None)
        -> "new" | "changed" | "unchanged"
    archive.mark_unchanged(run_id, url) -> bool       # a 304 for a URL a stored report was seen at
    archive.record_error(run_id, url, stage="fetch", message="HTTP 404", sha256=None)
    archive.finish_run(run_id, pages=..., errors=..., status="finished")
    archive.get_blob(sha) -> bytes
    ArchiveReader.open("data/nianbao.db")           # validators / current_version / get_blob on a read-only
                                                    # connection: what is committed (crawler.archive_process)

A report is counted once however many URLs show it (archive/identity.py): what it says (its fingerprint)
decides whether a document is a report already stored, and `report_urls` lists every URL it was seen at. A
different document of the same agency and year, or at the same URL, is a later *version*: a row of `reports`
with `version` 1, 2, … and `is_current` = 1 on the newest only, so a report that was quietly edited after
publication keeps its earlier figures on record.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from archive.blobs import BlobStore
from archive.identity import plain_text, record_identity_conflict, report_keys, same_text, supersede
from archive.records import cell_rows, check_rows, flag_rows, now, report_fields
from archive.schema import migrate
from archive.summary import refresh_summary
from parsers import Report

# Error stages that are policy, not failure (a page robots.txt forbids): recorded so nothing is dropped silently,
# not counted in a run's errors.
POLICY_STAGES = ("robots",)
# How long a write waits for a lock another process holds (the archive's writer then retries; crawler.archive_process).
BUSY_TIMEOUT_MS = 30_000


def require_archive(db_path: str | Path) -> None:
    if not Path(db_path).is_file():
        raise FileNotFoundError(f"no archive at {db_path}")


def open_db(db_path: str | Path, *, create: bool = True) -> Database:
    """A sqlite-utils connection with the schema migrated and foreign keys enforced.

    With create=False a missing file is an error rather than a new empty archive (a typo in --db for export
    or reparse should say so, not silently produce nothing).
    """
    if not create:
        require_archive(db_path)
    Path(db_path).parent.mkdir(parents=True, exist_ok=True)
    db = Database(db_path)
    # Wait this long for another process's lock (`sqlite-utils create-index`, a backup) rather than fail at once.
    db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    migrate(db)
    return db


def _header(headers: dict[str, str], name: str) -> str | None:
    wanted = name.lower()
    return next((value for key, value in headers.items() if key.lower() == wanted), None)


def _blob_store(db_path: str | Path, raw_dir: str | Path | None) -> BlobStore:
    return BlobStore(raw_dir if raw_dir is not None else Path(db_path).parent / "raw")


class ArchiveReader:
    """The reads a crawl makes while it writes: conditional-GET validators, a URL's current report, bodies.

    Archive is one (reading inside its own open transaction). ArchiveReader.open is a second, read-only
    connection to the same archive, for a crawl whose writes run in a process of their own
    (crawler.archive_process): it reads without waiting for them, and sees what is committed.
    """

    def __init__(self, db: Database, blobs: BlobStore) -> None:
        self.db = db
        self.blobs = blobs

    @classmethod
    def open(cls, db_path: str | Path, raw_dir: str | Path | None = None) -> ArchiveReader:
        conn = sqlite3.connect(f"{Path(db_path).resolve().as_uri()}?mode=ro", uri=True)
        return cls(Database(conn), _blob_store(db_path, raw_dir))

    def close(self) -> None:
        self.db.close()

    def validators(self, url: str) -> dict[str, str | None]:
        """ETag / Last-Modified / sha256 of the newest successful fetch of `url`, for conditional GETs."""
        row = self.db.execute(
            "SELECT etag, last_modified, sha256 FROM fetches WHERE url = ? AND status BETWEEN 200 AND 299 "
            "ORDER BY fetched_at DESC, id DESC LIMIT 1",
            [url],
        ).fetchone()
        return dict(zip(("etag", "last_modified", "sha256"), row or (None, None, None), strict=True))

    def current_version(self, url: str) -> dict[str, Any] | None:
        """The report last seen at `url` (id, sha256), the current one first; None when none was."""
        row = self.db.execute(
            "SELECT r.id, r.sha256 FROM report_urls u JOIN reports r ON r.id = u.report_id WHERE u.url = ? "
            "ORDER BY r.is_current DESC, u.last_seen_at DESC, r.id DESC LIMIT 1", [url]).fetchone()
        return {"id": row[0], "sha256": row[1]} if row else None

    def get_blob(self, sha256: str) -> bytes:
        return self.blobs.get(sha256)


class Archive(ArchiveReader):
    def __init__(self, db_path: str | Path, raw_dir: str | Path | None = None, *, group_seconds: float = 0) -> None:
        """Open (creating and migrating) the archive. Raw bodies live content-addressed in `raw_dir`
        (default: `<db dir>/raw/`), never overwritten.

        Each write (a fetch, a report with all its rows, an error) is atomic. With `group_seconds` > 0 the writes
        of that many seconds share one commit (each its own savepoint inside it), because a commit costs more
        than the write of a report and a fast crawl writes dozens a second; the owner calls commit() at quiet
        moments and close() commits the rest. A kill loses at most the open group, never part of a write.
        """
        self.db_path = Path(db_path)
        super().__init__(open_db(self.db_path), _blob_store(db_path, raw_dir))
        self.group_seconds = group_seconds
        self._group_started: float | None = None
        self._unsynced: list[str] = []

    def close(self) -> None:
        self.commit()
        self.db.close()

    @contextmanager
    def _write(self) -> Iterator[None]:
        """One atomic write: a transaction of its own, or a savepoint in the open group."""
        if self.group_seconds and self._group_started is None:
            self.db.begin()
            self._group_started = time.monotonic()
        with self.db.atomic():
            yield
        if self._group_started is not None and time.monotonic() - self._group_started >= self.group_seconds:
            self.commit()

    def commit(self) -> None:
        """Commit the open group: the bodies its rows name reach the disk first, then the rows."""
        if self._group_started is None:
            return
        for sha256 in self._unsynced:
            self.blobs.sync(sha256)
        self._unsynced.clear()
        self.db.commit()
        self._group_started = None

    def start_run(self, portals: list[str], start_urls: list[str]) -> int:
        """A new crawl_runs row, committed at once: the run is visible while it runs, and its id is never
        handed out twice (a killed crawl's JOBDIR names its run by id)."""
        with self._write():
            run_id = self.db["crawl_runs"].insert(
                {"started_at": now(), "portals": list(portals), "start_urls": list(start_urls), "status": "running"}
            ).last_pk
        self.commit()
        return run_id

    def finish_run(self, run_id: int, *, pages: int, errors: int, status: str = "finished") -> dict[str, Any]:
        """Close a crawl_runs row (report counts new/changed/unchanged are tallied from store_report calls)
        and return the row."""
        fetched = self.db.execute("SELECT COALESCE(SUM(bytes), 0) FROM fetches WHERE run_id = ?", [run_id])
        with self._write():
            self.db["crawl_runs"].update(
                run_id,
                {"ended_at": now(), "pages": pages, "errors": errors, "status": status,
                 "bytes": fetched.fetchone()[0]},
            )
        self.commit()
        return self.db["crawl_runs"].get(run_id)

    def close_killed_run(self, run_id: int) -> None:
        """Close the row of a crawl that was killed before it could close it: status "killed", its figures
        counted from what it did write, and its end put at its last write (when it really stopped)."""
        with self._write():
            pages, fetched, last_fetch = self.db.execute(
                "SELECT COUNT(*), COALESCE(SUM(bytes), 0), MAX(fetched_at) FROM fetches WHERE run_id = ?", [run_id]
            ).fetchone()
            errors, last_error = self.db.execute(
                f"SELECT COUNT(*) FILTER (WHERE stage NOT IN ({', '.join('?' * len(POLICY_STAGES))})), MAX(at) "
                "FROM errors WHERE run_id = ?",
                [*POLICY_STAGES, run_id],
            ).fetchone()
            self.db.execute(
                "UPDATE crawl_runs SET status = 'killed', pages = ?, bytes = ?, errors = ?, ended_at = ? "
                "WHERE id = ? AND status = 'running'",
                [pages, fetched, errors, max(filter(None, (last_fetch, last_error)), default=None), run_id],
            )

    def record_fetch(
        self, run_id: int | None, url: str, *, status: int, body: bytes, headers: dict[str, str],
        method: str = "GET",
    ) -> str:
        """Archive `body` content-addressed and add a `fetches` row; returns the body's sha256.

        A 304 Not Modified has no body: its row points at the sha256 of the body it confirmed (the newest
        successful fetch of the URL), which is also what is returned ("" when there was none).
        """
        not_modified = status == 304 and not body
        # The bytes go to disk before the row that points at them.
        if not_modified:
            sha256 = self.validators(url)["sha256"] or ""
        elif self.group_seconds:
            sha256 = self.blobs.put(body, sync=False)
            self._unsynced.append(sha256)
        else:
            sha256 = self.blobs.put(body)
        with self._write():
            self.db["fetches"].insert({
                "url": url, "fetched_at": now(), "status": status, "sha256": sha256 or None,
                "content_type": _header(headers, "Content-Type"), "bytes": len(body),
                "etag": _header(headers, "ETag"), "last_modified": _header(headers, "Last-Modified"),
                "method": method, "run_id": run_id,
            })
        return sha256

    def store_report(
        self, run_id: int | None, url: str, sha256: str, report: Report, *, portal: str | None = None,
        region: str | None = None, page_url: str | None = None,
    ) -> str:
        """Store one parsed report (reports, cells, checks, FTS, report_summary) in one transaction, counted once
        however many URLs it is reached at (archive/identity.py).

        Returns "unchanged" when a stored report has these bytes or says exactly this (same fingerprint: the same
        report at another URL or in another form) — `url` becomes one of its sightings; "changed" when it is a
        later version of a current report (one seen at `url`, or of the same agency and year; at the same URL,
        other text under the same tables is a later version too), which stays on record with `is_current` = 0;
        "new" otherwise. The bytes must have been archived first (record_fetch),
        so every stored figure can be re-derived by reparse.
        """
        if sha256 not in self.blobs:
            raise ValueError(f"no archived body with sha256 {sha256!r}: record_fetch it before store_report")
        stamp = now()
        region = region or report.region
        cells = cell_rows(report)
        keys = report_keys(region, report, cells)
        with self._write():
            same = self.db.execute("SELECT id, sha256, text FROM reports WHERE fingerprint = ? OR sha256 = ? "
                                   "ORDER BY is_current DESC, id DESC LIMIT 1", [keys["fingerprint"], sha256]
                                   ).fetchone()
            if same is not None and not self._edited_in_place(same, url, sha256, report.text):
                self._seen(same[0], run_id, stamp, url=url, sha256=sha256)
                return "unchanged"
            older = self._superseded_by_new(url, keys["identity"], report.text, run_id)
            version = self.db.execute(
                f"SELECT COALESCE(MAX(version), 0) + 1 FROM reports WHERE id IN ({', '.join('?' * len(older))})",
                older,
            ).fetchone()[0]
            report_id = self.db["reports"].insert({
                "url": url, "version": version, "is_current": 1, "sha256": sha256, "region": region,
                "portal": portal, "page_url": page_url, "run_id": run_id, "stored_at": stamp, "last_seen_at": stamp,
                "parsed_at": stamp, **keys, **report_fields(report),
            }).last_pk
            for old_id in older:
                supersede(self.db, old_id, report_id, stamp)
            self._write_children(report_id, cells, report)
            self._sighting(report_id, url, sha256, run_id, stamp)
            refresh_summary(self.db, [*older, report_id])
            outcome = "changed" if older else "new"
            self._count(run_id, outcome)
        return outcome

    def _edited_in_place(self, same: tuple[int, str, str], url: str, sha256: str, text: str | None) -> bool:
        """Whether the report `same` says what this one does but was edited where it stands: other bytes at a URL
        it was seen at, with other text (a correction note under unchanged tables is a new version there; the
        same tables at another URL are the same report)."""
        report_id, stored_sha256, stored_text = same
        if stored_sha256 == sha256 or plain_text(stored_text) == plain_text(text):
            return False
        return self.db.execute("SELECT 1 FROM report_urls WHERE report_id = ? AND url = ?",
                               [report_id, url]).fetchone() is not None

    def _superseded_by_new(self, url: str, key: str | None, text: str | None, run_id: int | None) -> list[int]:
        """The current reports a new version at `url` under identity `key` replaces: those seen at `url` unless
        they are another agency's or year's report (a URL that now shows the next year's report leaves last year's
        on record), and those of the same identity elsewhere whose text is mostly this one's. One of the same
        identity with other text stays current, and an `errors` row (stage identity) says so."""
        here = [row[0] for row in self.db.execute(
            "SELECT id FROM reports WHERE is_current = 1 AND id IN (SELECT report_id FROM report_urls WHERE url = ?) "
            "AND (identity IS NULL OR ? IS NULL OR identity = ?)", [url, key, key])]
        elsewhere = [] if key is None else list(self.db.execute(
            "SELECT id, url, text FROM reports WHERE is_current = 1 AND identity = ?", [key]))
        older = set(here)
        for report_id, other_url, other_text in elsewhere:
            if report_id in older:
                continue
            if same_text(text, other_text):
                older.add(report_id)
            else:
                record_identity_conflict(self.db, key, url, report_id, other_url, run_id)
        return sorted(older)

    def mark_unchanged(self, run_id: int | None, url: str) -> bool:
        """A conditional GET answered 304 for `url`: the report seen there was seen again, unchanged.

        Returns False when no report is on record at `url` (the page was not a report last time).
        """
        with self._write():
            current = self.current_version(url)
            if current is None:
                return False
            self._seen(current["id"], run_id, now(), url=url)
        return True

    def _seen(self, report_id: int, run_id: int | None, stamp: str, *, url: str, sha256: str | None = None) -> None:
        self.db.execute("UPDATE reports SET last_seen_at = ? WHERE id = ?", [stamp, report_id])
        self._sighting(report_id, url, sha256, run_id, stamp)
        self._count(run_id, "unchanged")

    def _sighting(self, report_id: int, url: str, sha256: str | None, run_id: int | None, stamp: str) -> None:
        """`url` showed report `report_id` (with body `sha256`; None for a 304, which keeps the last one)."""
        self.db.execute(
            "INSERT INTO report_urls (report_id, url, sha256, first_seen_at, last_seen_at, run_id) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (report_id, url) DO UPDATE SET "
            "last_seen_at = excluded.last_seen_at, run_id = coalesce(excluded.run_id, run_id), "
            "sha256 = coalesce(excluded.sha256, sha256)",
            [report_id, url, sha256, stamp, stamp, run_id],
        )

    def _count(self, run_id: int | None, outcome: str) -> None:
        if run_id is not None:
            column = f"reports_{outcome}"
            self.db.execute(f"UPDATE crawl_runs SET {column} = {column} + 1 WHERE id = ?", [run_id])

    def write_children(self, report_id: int, report: Report) -> None:
        """Replace the cells, checks and flags of one report row (call inside a transaction)."""
        self._write_children(report_id, cell_rows(report), report)

    def _write_children(self, report_id: int, cells: list[dict[str, Any]], report: Report) -> None:
        for table, rows in (("cells", cells), ("checks", check_rows(report)),
                            ("flags", flag_rows(report))):
            self.db.execute(f"DELETE FROM {table} WHERE report_id = ?", [report_id])
            if rows:
                # Plain executemany: sqlite-utils' insert_all re-derives the statement and inspects every value,
                # which cost more than the inserts themselves for the ~200 cells of a report.
                columns = list(rows[0])
                self.db.conn.executemany(
                    f"INSERT INTO {table} (report_id, {', '.join(columns)}) VALUES (?{', ?' * len(columns)})",
                    [(report_id, *(row[c] for c in columns)) for row in rows],
                )

    def record_error(
        self, run_id: int | None, url: str | None, *, stage: str, message: str, sha256: str | None = None
    ) -> None:
        with self._write():
            self.db["errors"].insert(
                {"stage": stage, "url": url, "message": message, "sha256": sha256, "run_id": run_id, "at": now()}
            )
