"""A crawl stopped halfway carries on: killed (kill -9) or stopped gracefully (SIGTERM), with --jobdir.

What must hold afterwards: every report of the portal in the archive exactly once with its gold figures, no
half-written rows, an intact database, and the second crawl not downloading again what the first archived.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from archive.records import cell_rows
from nianbao.demo import PortalServer
from nianbao.demo.site import EXPECTED
from parsers import parse
from tests.crawling import FAST, CrawlChild, run_crawl, start_crawl

REPO = Path(__file__).resolve().parent.parent
# Slow enough (one request at a time, ~0.25 s apart) that the crawl can be caught halfway, with commits as
# often as pages arrive (a one-second group can hold the last four reports, leaving nothing to catch).
SLOW = {"DOWNLOAD_DELAY": 0.25, "CONCURRENT_REQUESTS_PER_DOMAIN": 1, "NIANBAO_COMMIT_SECONDS": 0.2}


def _stored_reports(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as connection:
            return connection.execute("SELECT COUNT(*) FROM reports").fetchone()[0]
    except sqlite3.OperationalError:  # schema not created yet
        return 0


def _children(pid: int) -> list[int]:
    """The processes `pid` started (the crawl's archive writer)."""
    return [int(child) for path in Path(f"/proc/{pid}/task").glob("*/children") for child in path.read_text().split()]


def _alive(pids: list[int]) -> list[int]:
    """Those of `pids` still running (a zombie, waiting for a parent that does not reap it, is not)."""
    running = []
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            continue
        if state != "Z":
            running.append(pid)
    return running


def _stop_halfway(child: CrawlChild, db: Path, sig: signal.Signals) -> tuple[int, list[int]]:
    """Send `sig` once the crawl has stored two of the portal's reports; returns how many it had, and the
    processes it had started."""
    deadline = time.monotonic() + 120
    while (stored := _stored_reports(db)) < 2:
        assert child.process.is_alive(), "the crawl ended before it could be stopped"
        assert time.monotonic() < deadline, "the crawl stored no reports"
        time.sleep(0.05)
    children = _children(child.process.pid)
    os.kill(child.process.pid, sig)
    return stored, children


def _assert_archive_whole(db: Path, base_url: str) -> sqlite3.Connection:
    connection = sqlite3.connect(db)
    assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    assert connection.execute("PRAGMA foreign_key_check").fetchall() == []
    rows = connection.execute("SELECT url, version, is_current FROM reports ORDER BY url").fetchall()
    urls = [row[0] for row in rows]
    assert len(urls) == len(set(urls)) == len(EXPECTED), rows  # each report once, one version
    assert all(row[1:] == (1, 1) for row in rows)
    for expected in EXPECTED:
        url, agency, year = connection.execute(
            "SELECT url, agency, year FROM reports WHERE page_url = ? OR url = ?",
            [base_url + expected.page] * 2,
        ).fetchone()
        assert (agency, year) == (expected.agency, expected.year)
    raw = db.parent / "raw"
    # No half-written report: every report has its cells, checks and summary row; every fetched body is on disk.
    assert connection.execute(
        "SELECT COUNT(*) FROM reports r WHERE NOT EXISTS (SELECT 1 FROM cells c WHERE c.report_id = r.id) "
        "OR NOT EXISTS (SELECT 1 FROM checks k WHERE k.report_id = r.id) "
        "OR NOT EXISTS (SELECT 1 FROM report_summary s WHERE s.report_id = r.id)"
    ).fetchone() == (0,)
    raw = db.parent / "raw"
    # Every report's cells are all of those its archived bytes parse to, not part of them.
    for report_id, sha, source in connection.execute("SELECT id, sha256, url FROM reports"):
        stored = connection.execute("SELECT COUNT(*) FROM cells WHERE report_id = ?", [report_id]).fetchone()[0]
        assert stored == len(cell_rows(parse((raw / sha[:2] / sha).read_bytes(), source=source))) > 0, source
    missing = [sha for (sha,) in connection.execute("SELECT DISTINCT sha256 FROM fetches WHERE sha256 IS NOT NULL")
               if not (raw / sha[:2] / sha).is_file()]
    assert missing == []
    return connection


def test_killed_crawl_recovers_with_jobdir(portal: PortalServer, tmp_path: Path) -> None:
    db, jobdir = tmp_path / "nianbao.db", tmp_path / "job"
    first = start_crawl(db, [portal.base_url], JOBDIR=str(jobdir), **SLOW)
    stored_before, writers = _stop_halfway(first, db, signal.SIGKILL)
    assert first.wait() == -signal.SIGKILL
    assert stored_before < len(EXPECTED), "killed too late to test anything"
    # The archive writer died with the crawl: it commits nothing after the kill, and no orphan holds the archive.
    deadline = time.monotonic() + 5
    while _alive(writers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert writers and not _alive(writers)
    before = {url for (url,) in sqlite3.connect(db).execute("SELECT url FROM reports")}
    mark = portal.snapshot()

    summary = run_crawl(db, [portal.base_url], JOBDIR=str(jobdir))

    assert (summary["status"], summary["reports_new"]) == ("finished", len(EXPECTED) - len(before))
    connection = _assert_archive_whole(db, portal.base_url)
    runs = connection.execute("SELECT id, status, pages > 0, ended_at IS NOT NULL FROM crawl_runs ORDER BY id")
    assert runs.fetchall() == [(1, "killed", 1, 1), (2, "finished", 1, 1)]
    # What the killed crawl archived is not downloaded again: its reports come back as 304 Not Modified.
    second = {(s.path, s.status) for s in portal.served_since(mark)}
    for url in before:
        path = url.removeprefix(portal.base_url)
        assert (path, 304) in second and (path, 200) not in second, path
    assert not (jobdir / "requests.seen").exists()  # finished: the next scheduled crawl starts afresh


def test_stopped_crawl_resumes_from_its_jobdir(portal: PortalServer, tmp_path: Path) -> None:
    db, jobdir = tmp_path / "nianbao.db", tmp_path / "job"
    first = start_crawl(db, [portal.base_url], JOBDIR=str(jobdir), **SLOW)
    mark = portal.snapshot()
    _stop_halfway(first, db, signal.SIGTERM)
    summary = first.result()
    assert summary["status"] == "shutdown" and summary["failed"]
    assert (jobdir / "requests.seen").stat().st_size > 0
    fetched_first = {s.path for s in portal.served_since(mark) if s.status == 200 and s.path != "/robots.txt"}
    mark = portal.snapshot()

    summary = run_crawl(db, [portal.base_url], JOBDIR=str(jobdir))

    assert summary["status"] == "finished"
    _assert_archive_whole(db, portal.base_url)
    # Resumed from the saved queue: nothing the first crawl fetched is asked for again, not even the start page.
    fetched_second = [s.path for s in portal.served_since(mark) if s.path != "/robots.txt"]
    assert fetched_second and set(fetched_second).isdisjoint(fetched_first)


def test_finished_crawl_leaves_no_state_behind(portal: PortalServer, tmp_path: Path) -> None:
    db, jobdir = tmp_path / "nianbao.db", tmp_path / "job"
    settings = [arg for name, value in FAST.items() for arg in ("-s", f"{name}={value}")]
    done = subprocess.run(
        [sys.executable, "-m", "nianbao.cli", "crawl", "--start-url", portal.base_url, "--db", str(db),
         "--jobdir", str(jobdir), *settings],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert sorted(p.name for p in jobdir.iterdir()) == ["spider.state"]
    # A second scheduled crawl with the same JOBDIR walks the whole portal again (304s for the reports).
    mark = portal.snapshot()
    summary = run_crawl(db, [portal.base_url], JOBDIR=str(jobdir))
    assert (summary["reports_new"], summary["reports_unchanged"]) == (0, len(EXPECTED))
    assert any(s.path == "/" for s in portal.served_since(mark))
