"""Database faults are loud and lose nothing (issue 14, item 5).

- Another process holds the archive (BEGIN EXCLUSIVE, and writes: what `sqlite-utils create-index` does) for 15 s
  in the middle of a crawl of a slow portal: the crawl waits and retries, and every fetch and report is stored.
- A damaged archive (garbage bytes, or a page overwritten): the crawl fetches nothing, fails with one clear line,
  and `nianbao crawl` exits non-zero without a traceback.
- A write that fails for good (here: a trigger makes one insert fail, as a full disk would): the crawl stops,
  its run row says `failed`, and the summary says which write failed.
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from archive import Archive
from nianbao.demo import PortalServer
from nianbao.demo.server import PortalHandler
from nianbao.demo.site import EXPECTED
from tests.crawling import run_crawl, start_crawl

DELAY = 1.0  # seconds per answer, one at a time: the crawl's ~30 requests take ~30 s, so the lock falls in its middle
LOCK_SECONDS = 15


class SlowHandler(PortalHandler):
    def do_GET(self) -> None:
        time.sleep(DELAY)
        super().do_GET()

    def do_POST(self) -> None:
        time.sleep(DELAY)
        super().do_POST()


@pytest.fixture
def slow_portal():
    server = PortalServer(("127.0.0.1", 0), SlowHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def _count(db_path: Path, sql: str) -> int:
    try:
        with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as db:
            return db.execute(sql).fetchone()[0]
    except sqlite3.OperationalError:  # not created yet
        return 0


def test_lock_held_15_seconds_mid_crawl_loses_no_write(slow_portal, tmp_path):
    db_path = tmp_path / "nianbao.db"
    child = start_crawl(db_path, [slow_portal.base_url + "/"], CONCURRENT_REQUESTS_PER_DOMAIN=1)
    deadline = time.monotonic() + 60
    while _count(db_path, "SELECT COUNT(*) FROM fetches") < 1:  # the crawl is writing
        assert time.monotonic() < deadline and child.process.is_alive()
        time.sleep(0.1)
    lock = sqlite3.connect(db_path, isolation_level=None, timeout=60)  # between two of the writer's commits
    lock.execute("BEGIN EXCLUSIVE")
    lock.execute("CREATE INDEX cells_by_key ON cells(table_name, row_key, column_key)")  # the README's suggestion
    mark = slow_portal.snapshot()
    time.sleep(LOCK_SECONDS)
    during = len(slow_portal.served_since(mark))
    lock.execute("COMMIT")
    lock.close()
    summary = child.result()
    assert during >= 5  # the crawl went on fetching while the archive was locked
    assert (summary["status"], summary["reports_new"]) == ("finished", len(EXPECTED))
    served = sorted(slow_portal.base_url + s.path for s in slow_portal.served_since())
    with sqlite3.connect(db_path) as db:
        fetched = sorted(url for (url,) in db.execute("SELECT url FROM fetches WHERE run_id = 1"))
        assert fetched == served  # every answer the portal gave is archived, none twice
        assert db.execute("SELECT COUNT(*) FROM reports").fetchone()[0] == len(EXPECTED)
        assert db.execute("SELECT status, pages FROM crawl_runs").fetchall() == [("finished", len(served))]
        assert db.execute("SELECT COUNT(*) FROM errors WHERE stage NOT IN ('robots', 'fetch')").fetchone() == (0,)


def _garbage(db_path: Path) -> bytes:
    data = b"not a database, whatever the name says\n" * 200
    db_path.write_bytes(data)
    return data


def _damaged(db_path: Path) -> bytes:
    """A real archive with a few pages in the middle overwritten."""
    Archive(db_path).close()
    data = bytearray(db_path.read_bytes())
    page = 4096
    data[page * 3: page * 6] = os.urandom(page * 3)
    db_path.write_bytes(data)
    return bytes(data)


@pytest.mark.parametrize("damage, message", [
    (_garbage, "is damaged or not an SQLite database (file is not a database)"),
    (_damaged, "is damaged"),
])
def test_damaged_archive_fails_the_crawl_before_any_fetch(portal, tmp_path, damage, message):
    db_path = tmp_path / "nianbao.db"
    before = damage(db_path)
    mark = portal.snapshot()
    summary = run_crawl(db_path, [portal.base_url + "/"])
    assert (summary["status"], summary["failed"]) == ("failed", True)
    assert summary["error"].startswith(f"the archive {db_path} ") and message in summary["error"], summary["error"]
    assert portal.served_since(mark) == []  # nothing fetched that could not be archived
    assert db_path.read_bytes() == before  # and nothing written to it


def test_cli_says_so_in_one_line_and_exits_non_zero(portal, tmp_path):
    db_path = tmp_path / "nianbao.db"
    _garbage(db_path)
    done = subprocess.run([sys.executable, "-m", "nianbao.cli", "crawl", "--start-url", portal.base_url + "/",
                           "--db", str(db_path), "-s", "LOG_LEVEL=WARNING"],
                          capture_output=True, text=True, timeout=120, env={**os.environ, "NIANBAO_CONTACT": "ci"})
    assert done.returncode == 1
    assert "Traceback" not in done.stderr, done.stderr
    assert f"cannot crawl: the archive {db_path} is damaged or not an SQLite database" in done.stderr, done.stderr


def test_write_that_fails_stops_the_crawl_and_fails_the_run(portal, tmp_path):
    db_path = tmp_path / "nianbao.db"
    archive = Archive(db_path)
    archive.db.execute("CREATE TRIGGER no_room BEFORE INSERT ON fetches WHEN NEW.url LIKE '%/6571/%' "
                       "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END")
    archive.close()
    summary = run_crawl(db_path, [portal.base_url + "/"])
    assert (summary["status"], summary["failed"]) == ("failed", True)
    assert re.fullmatch(rf"archive write record_fetch failed for http://127\.0\.0\.1:\d+/6571/\S*: IntegrityError: "
                        rf"database or disk is full \({re.escape(str(db_path))}\)", summary["error"]), summary["error"]
    with sqlite3.connect(db_path) as db:
        assert db.execute("SELECT status FROM crawl_runs").fetchall() == [("failed",)]
        # Stopped early: far fewer pages than the portal has.
        assert db.execute("SELECT COUNT(*) FROM fetches").fetchone()[0] < 30
