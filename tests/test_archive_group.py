"""Grouped commits (Archive(group_seconds=...)): what other readers see, and what one failed write takes with it."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from archive.store import Archive
from parsers import parse
from tests.gold import FIXTURES


def _count(db: Path, table: str) -> int:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as reader:
        return reader.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]


def test_grouped_writes_appear_together_at_commit_and_a_failed_write_takes_only_itself(tmp_path: Path) -> None:
    db = tmp_path / "nianbao.db"
    body = (FIXTURES / "seed-000.html").read_bytes()
    report = parse(body)
    archive = Archive(db, group_seconds=3600)
    run = archive.start_run(portals=[], start_urls=["http://x/"])
    sha = archive.record_fetch(run, "http://x/a", status=200, body=body, headers={})
    assert archive.store_report(run, "http://x/a", sha, report) == "new"
    # Inside the group the archive's own reads see the writes (validators for the next request) ...
    assert archive.validators("http://x/a")["sha256"] == sha
    # ... other readers (Datasette) do not, yet; the run itself is committed at once.
    assert (_count(db, "reports"), _count(db, "fetches"), _count(db, "crawl_runs")) == (0, 0, 1)
    # A write that fails inside the group is undone alone: its cells cannot be stored after its reports row was.
    broken = parse(body)
    broken.applications["new_received"]["total"] = object()
    other = archive.record_fetch(run, "http://x/b", status=200, body=body + b"\n", headers={})
    with pytest.raises(sqlite3.Error):
        archive.store_report(run, "http://x/b", other, broken)
    archive.record_error(run, "http://x/c", stage="fetch", message="HTTP 404")
    archive.commit()

    assert (_count(db, "fetches"), _count(db, "errors")) == (2, 1)
    with sqlite3.connect(db) as reader:
        assert reader.execute("SELECT url FROM reports").fetchall() == [("http://x/a",)]
        assert reader.execute("SELECT COUNT(*) FROM cells WHERE report_id NOT IN (SELECT id FROM reports)"
                              ).fetchone() == (0,)
        assert reader.execute("SELECT COUNT(*) FROM report_summary").fetchone() == (1,)
    archive.close()


def test_a_group_commits_once_its_time_is_up(tmp_path: Path) -> None:
    db = tmp_path / "nianbao.db"
    archive = Archive(db, group_seconds=0.2)
    run = archive.start_run(portals=[], start_urls=[])
    archive.record_error(run, "http://x/a", stage="fetch", message="HTTP 500")
    assert _count(db, "errors") == 0
    time.sleep(0.25)
    archive.record_error(run, "http://x/b", stage="fetch", message="HTTP 500")  # the group is old: commits
    assert _count(db, "errors") == 2
    archive.close()
