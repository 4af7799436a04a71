"""The crawl's archive writer process (crawler.archive_process): writes applied in order there, outcomes and
failures delivered back, reads from committed state, and nothing queued lost at close."""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest

from crawler.archive_process import ArchiveFailed, ArchiveProcess
from parsers import parse
from tests.gold import FIXTURES

BODY = (FIXTURES / "seed-000.html").read_bytes()


def _direct(f: Any, *args: Any) -> None:
    """Deliver a Deferred's result on the thread that reads the writer's replies (no reactor runs here)."""
    f(*args)


def _opened(tmp_path: Path, group_seconds: float = 0) -> ArchiveProcess:
    return ArchiveProcess(tmp_path / "nianbao.db", group_seconds=group_seconds, deliver=_direct)


def test_writes_run_in_order_in_the_writer_process_and_report_back(tmp_path: Path) -> None:
    archive = _opened(tmp_path)
    run = archive.start_run(portals=["x"], start_urls=["http://x/"])
    sha = archive.record_fetch(run, "http://x/a", status=200, body=BODY, headers={"ETag": '"v1"'}, method="GET")
    assert sha == hashlib.sha256(BODY).hexdigest()
    outcomes: list[str] = []
    report = parse(BODY)
    for url in ("http://x/a", "http://x/a"):
        archive.store_report(run, url, sha, report, portal="x").addCallback(outcomes.append)
    row = archive.finish_run(run, pages=1, errors=0)  # waits for what was queued before it

    assert outcomes == ["new", "unchanged"]
    assert (row["reports_new"], row["reports_unchanged"], row["bytes"]) == (1, 1, len(BODY))
    assert archive.validators("http://x/a") == {"etag": '"v1"', "last_modified": None, "sha256": sha}
    assert archive.mark_unchanged(run, "http://x/a") and not archive.mark_unchanged(run, "http://x/none")
    archive.close()
    with sqlite3.connect(tmp_path / "nianbao.db") as db:
        assert db.execute("SELECT last_seen_at >= stored_at FROM reports").fetchall() == [(1,)]
        assert db.execute("SELECT reports_unchanged FROM crawl_runs").fetchone() == (2,)


def test_reads_see_committed_writes_only(tmp_path: Path) -> None:
    """Validators come from what earlier crawls committed, never from this crawl's open group."""
    archive = _opened(tmp_path, group_seconds=3600)
    run = archive.start_run(portals=[], start_urls=[])
    sha = archive.record_fetch(run, "http://x/a", status=200, body=BODY, headers={"ETag": '"v1"'})
    stored = threading.Event()
    archive.store_report(run, "http://x/a", sha, parse(BODY)).addCallback(lambda _: stored.set())
    assert stored.wait(10)  # the fetch and the report are written, inside the open group
    assert archive.validators("http://x/a")["etag"] is None
    assert not archive.mark_unchanged(run, "http://x/a")
    archive.close()  # commits

    again = _opened(tmp_path, group_seconds=3600)
    second = again.start_run(portals=[], start_urls=[])
    assert again.validators("http://x/a")["etag"] == '"v1"'
    # A 304 names the body it confirmed, read from the committed fetch.
    confirmed = again.record_fetch(second, "http://x/a", status=304, body=b"", headers={})
    assert confirmed == hashlib.sha256(BODY).hexdigest()
    again.close()


def test_a_failed_write_is_reported_and_the_writes_after_it_still_land(tmp_path: Path,
                                                                       caplog: pytest.LogCaptureFixture) -> None:
    archive = _opened(tmp_path)
    run = archive.start_run(portals=[], start_urls=[])
    failures: list[BaseException] = []
    # A report whose body was never archived: store_report refuses it, and says so through the Deferred.
    archive.store_report(run, "http://x/a", "0" * 64, parse(BODY)).addErrback(lambda f: failures.append(f.value))
    # A fire-and-forget write that fails (no such run: foreign key) is logged with what it was for; a database
    # error is a failure of the archive (`failure`: the crawl stops), yet the writes after it still land.
    with caplog.at_level(logging.ERROR, logger="crawler.archive_process"):
        archive.record_error(999, "http://x/b", stage="fetch", message="HTTP 404")
        archive.record_error(run, "http://x/c", stage="fetch", message="HTTP 404")
        archive.close()

    assert len(failures) == 1 and "no archived body" in str(failures[0])
    [logged] = [r.getMessage() for r in caplog.records]
    assert logged.startswith("archive write record_error failed for http://x/b:") and "FOREIGN KEY" in logged
    assert archive.failure == logged
    with sqlite3.connect(tmp_path / "nianbao.db") as db:
        assert db.execute("SELECT url FROM errors").fetchall() == [("http://x/c",)]


def test_close_applies_everything_queued(tmp_path: Path) -> None:
    archive = _opened(tmp_path, group_seconds=3600)
    run = archive.start_run(portals=[], start_urls=[])
    for n in range(500):  # more than the queue holds: the caller waits for room, nothing is dropped
        archive.record_fetch(run, f"http://x/{n}", status=200, body=b"page %d" % n, headers={})
    archive.close()
    with sqlite3.connect(tmp_path / "nianbao.db") as db:
        assert db.execute("SELECT COUNT(*), COUNT(DISTINCT sha256) FROM fetches").fetchone() == (500, 500)
    assert all((tmp_path / "raw" / sha[:2] / sha).is_file()
               for sha in (hashlib.sha256(b"page %d" % n).hexdigest() for n in range(500)))


def test_an_archive_that_cannot_be_opened_fails_the_run_with_its_reason(tmp_path: Path) -> None:
    (tmp_path / "nianbao.db").mkdir()  # a directory where the database should be
    archive = _opened(tmp_path)
    with pytest.raises(ArchiveFailed, match=r"cannot open the archive .*: OperationalError: unable to open database"):
        archive.start_run(portals=[], start_urls=[])


def test_every_sink_takes_the_protocols_calls() -> None:
    """Archive, the writer process and the Redis journal each accept every call of ArchiveSink as declared."""
    import inspect

    from archive.sink import ArchiveSink
    from archive.store import Archive
    from crawler.distributed import JournalArchive

    operations = [name for name in vars(ArchiveSink) if not name.startswith("_")]
    assert {"start_run", "record_fetch", "store_report", "finish_run", "close"} <= set(operations)
    for sink in (Archive, ArchiveProcess, JournalArchive):
        for name in operations:
            declared = inspect.signature(getattr(ArchiveSink, name)).parameters
            offered = inspect.signature(getattr(sink, name)).parameters
            for parameter in declared.values():
                assert parameter.name in offered, (sink.__name__, name, parameter.name)
                assert offered[parameter.name].kind == parameter.kind, (sink.__name__, name, parameter.name)
