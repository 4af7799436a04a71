"""Distributed mode: two scrapy-redis workers and one archive writer crawl the test portal through a real
redis-server; every page is fetched once in all, and every report stored once, by the one writer."""

from __future__ import annotations

import json
import multiprocessing
import pickle
import queue
import shutil
import sqlite3
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis import Redis
from redis.exceptions import ConnectionError as RedisDown

from archive.sink import VERSION, RecordError
from crawler.distributed import CrawlKeys, JournalArchive
from crawler.writer import run_writer
from nianbao.demo import PortalServer
from nianbao.demo.site import DISALLOWED, EXPECTED, FLAKY, MISSING
from parsers import Report
from tests.archive_builder import stored_tables
from tests.crawling import FAST, run_crawl
from tests.gold import TABLES, differences, load_gold
from tests.live import free_port

CRAWL = "test-portal"
WORKERS = ("w1", "w2")
# One request in flight per worker, a little apart: neither worker can take the whole frontier for itself.
SHARED = {"CONCURRENT_REQUESTS": 1, "DOWNLOAD_DELAY": 0.1}
# The report each EXPECTED page stands for, by fixture (tests/portal/site.py builds the pages from these).
GOLD = {"湘潭县": "seed-003", "湘潭县数据局": "seed-000", "湘潭县人力资源和社会保障局": "seed-004",
        "湘潭县易俗河镇": "seed-002", "攸县人民政府办公室": "seed-001"}


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real redis-server on a free loopback port, nothing written to disk; stopped after the module."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (Debian package redis-server; `make test` installs it)")
    port = free_port()
    server = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(tmp_path_factory.mktemp("redis"))],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    client = Redis.from_url(url)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except RedisDown:
                assert server.poll() is None and time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)
        yield url
    finally:
        client.close()
        server.terminate()
        server.wait(timeout=10)


def _worker(results, redis_url: str, start_url: str, worker: str) -> None:
    from crawler.distributed import run_worker

    overrides = {**FAST, **SHARED, "NIANBAO_CONTACT": f"ci-{worker}@example.org"}
    results.put(run_worker(redis_url, CRAWL, None, [start_url], worker_id=worker, settings_overrides=overrides))


def _writer(results, db: str, redis_url: str) -> None:
    """The writer as an operator starts it: `nianbao archive-writer`, which prints the crawl's run row."""
    from click.testing import CliRunner

    from nianbao.cli import main

    done = CliRunner().invoke(main, ["archive-writer", "--redis", redis_url, "--crawl-key", CRAWL, "--db", db,
                                     "--workers", str(len(WORKERS))])
    results.put({**json.loads(done.output), "exit_code": done.exit_code})


@pytest.fixture(scope="module")
def crawled(portal: PortalServer, redis_url: str, tmp_path_factory: pytest.TempPathFactory):
    """A single-process crawl of the portal (what must be fetched), then the distributed crawl: two workers and
    the writer, each a spawned process, as on separate machines."""
    portal.rearm_flaky()
    mark = portal.snapshot()
    single_db = tmp_path_factory.mktemp("single") / "nianbao.db"
    run_crawl(single_db, [portal.base_url + "/"])
    crawled = {"single": portal.served_since(mark), "single_db": single_db, "base": portal.base_url,
               "redis": redis_url}

    db = tmp_path_factory.mktemp("distributed") / "nianbao.db"
    portal.rearm_flaky()
    mark = portal.snapshot()
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    children = [context.Process(target=_writer, args=(results, str(db), redis_url))]
    children += [context.Process(target=_worker, args=(results, redis_url, portal.base_url + "/", w)) for w in WORKERS]
    for child in children:
        child.start()
    try:
        outcomes = _results(results, children, timeout=120)
    finally:
        for child in children:
            child.join(timeout=30)
            if child.is_alive():
                child.kill()
                child.join()
    connection = sqlite3.connect(db)
    connection.row_factory = sqlite3.Row
    yield {**crawled, "db": connection, "served": portal.served_since(mark),
           "run": next(o for o in outcomes if "workers" in o),
           "workers": {o["worker"]: o for o in outcomes if "worker" in o}}
    connection.close()


def _results(results, children, timeout: float) -> list[dict]:
    """One result per child; fails at once when a child died without one (rather than at the timeout)."""
    outcomes: list[dict] = []
    deadline = time.monotonic() + timeout
    while len(outcomes) < len(children):
        try:
            outcomes.append(results.get(timeout=0.5))
        except queue.Empty:
            dead = [c.exitcode for c in children if c.exitcode not in (None, 0)]
            assert not dead, f"a crawl process died (exit codes {dead}); its traceback is in the captured stderr"
            assert time.monotonic() < deadline, "the distributed crawl did not finish"
    return outcomes


def by_worker(served) -> dict[str, list[str]]:
    """Served paths per worker, told apart by the contact in their User-Agent."""
    return {w: [s.path for s in served if f"ci-{w}@" in s.user_agent] for w in WORKERS}


def test_every_page_fetched_once_across_workers(crawled):
    served = crawled["served"]
    paths = by_worker(served)
    assert sorted(p for w in WORKERS for p in paths[w]) == sorted(s.path for s in served)  # nobody else fetched
    # robots.txt once per worker (each Scrapy process obeys it on its own); every other page once in all, but the
    # page that fails with 500 once, which is retried — by either worker.
    counts = Counter((s.method, s.path, s.status) for s in served)
    assert counts.pop(("GET", "/robots.txt", 200)) == 2 and all(paths[w].count("/robots.txt") == 1 for w in WORKERS)
    assert (counts[("GET", FLAKY, 500)], counts[("GET", FLAKY, 200)]) == (1, 1)
    assert {page: n for page, n in counts.items() if n != 1} == {}
    # ... and exactly the pages one crawler process fetches on its own.
    single = Counter((s.method, s.path, s.status) for s in crawled["single"])
    assert single.pop(("GET", "/robots.txt", 200)) == 1
    assert counts == single
    # The work was shared: both workers fetched pages, not only robots.txt. (The server tells them apart by
    # User-Agent; a retried or redirected request keeps the User-Agent of the worker that first sent it, so
    # this is approximate, and the workers' own counts are exact.)
    assert all(len([p for p in paths[w] if p != "/robots.txt"]) >= 5 for w in WORKERS), paths
    pages = {w: s["pages"] for w, s in crawled["workers"].items()}
    assert sum(pages.values()) == len(served) and min(pages.values()) >= 5, pages


def test_archive_holds_every_fetch_once_from_one_run(crawled):
    db, base, run = crawled["db"], crawled["base"], crawled["run"]
    fetched = Counter((r["method"], r["url"].removeprefix(base)) for r in db.execute("SELECT method, url FROM fetches"))
    assert fetched == Counter((s.method, s.path) for s in crawled["served"])
    assert [tuple(r) for r in db.execute("SELECT id, status FROM crawl_runs")] == [(1, "finished")]
    assert db.execute("SELECT COUNT(DISTINCT run_id) FROM fetches").fetchone()[0] == 1
    assert (run["status"], run["failed"], run["workers"], run["exit_code"]) == ("finished", False, list(WORKERS), 0)
    assert (run["pages"], run["bytes"]) == (len(crawled["served"]), sum(s.bytes for s in crawled["served"]))
    assert (run["reports_new"], run["reports_changed"], run["reports_unchanged"]) == (len(EXPECTED), 0, 0)


def test_every_report_stored_once_with_gold_figures(crawled):
    db, base = crawled["db"], crawled["base"]
    reports = db.execute("SELECT * FROM reports").fetchall()
    assert len(reports) == len(EXPECTED) and all((r["version"], r["is_current"]) == (1, 1) for r in reports)
    raw = Path(db.execute("PRAGMA database_list").fetchone()[2]).parent / "raw"
    for expected in EXPECTED:
        page = base + expected.page
        found = [r for r in reports if (r["page_url"] if expected.in_attachment else r["url"]) == page]
        assert len(found) == 1, expected
        report = found[0]
        assert (report["agency"], report["year"]) == (expected.agency, expected.year)
        assert (raw / report["sha256"][:2] / report["sha256"]).is_file()
        gold = load_gold(GOLD[expected.agency])
        stored = {"format": report["format"], "agency": report["agency"], "year": report["year"],
                  **dict.fromkeys(TABLES), **stored_tables(db, report["id"])}
        # agency and year are the page's (checked above against EXPECTED); the figures are the fixture's.
        assert differences({**stored, "agency": gold["meta"]["agency"][0], "year": gold["meta"]["year"]},
                           gold) == [], expected
    # The same reports, from the same bytes, with the same figures as one crawler process stores on its own.
    single = sqlite3.connect(crawled["single_db"])
    alone = {url: (sha, stored_tables(single, id_)) for id_, url, sha in single.execute("SELECT id, url, sha256 "
                                                                                         "FROM reports")}
    single.close()
    assert {r["url"]: (r["sha256"], stored_tables(db, r["id"])) for r in reports} == alone


def test_errors_are_those_of_a_single_process_crawl(crawled):
    db, base = crawled["db"], crawled["base"]
    errors = sorted(tuple(r) for r in db.execute("SELECT url, stage, message FROM errors"))
    assert errors == sorted([(base + MISSING, "fetch", "HTTP 404"),
                             (base + DISALLOWED, "robots", "Forbidden by robots.txt")])
    assert crawled["run"]["errors"] == 1


def test_crawl_keys_removed_when_the_crawl_is_over(crawled):
    client = Redis.from_url(crawled["redis"])
    assert client.keys(f"nianbao:{CRAWL}:*") == []
    client.close()


def test_writer_records_and_keeps_what_it_cannot_apply(redis_url, tmp_path):
    """A message that cannot be applied is an errors row and stays in Redis; a worker started on other start
    URLs than the crawl's is an errors row; the crawl's row counts both, and the rest is applied."""
    keys = CrawlKeys("bad-input")
    client = Redis.from_url(redis_url)
    journal = {worker: JournalArchive(client, keys.journal, worker) for worker in ("a", "b")}
    journal["a"].start_run(portals=[], start_urls=["http://a.example.gov.cn/"])
    journal["b"].start_run(portals=[], start_urls=["http://b.example.gov.cn/"])
    sha = journal["a"].record_fetch(None, "http://a.example.gov.cn/", status=200, body=b"<html>home</html>",
                                    headers={})
    never_fetched = "http://a.example.gov.cn/nb.html"
    journal["a"].store_report(None, never_fetched, "0" * 64, Report(source="nb.html"))
    client.rpush(keys.journal, b"not a pickle")
    # A message of another version (a journal written by another release) is refused, not applied wrongly.
    client.rpush(keys.journal, pickle.dumps(RecordError(run_id=None, url="http://a.example.gov.cn/v2", stage="fetch",
                                                        message="HTTP 404", version=VERSION + 1)))
    for worker in ("a", "b"):
        journal[worker].finish_run(None, pages=worker == "a", errors=0, status="finished", start_requests=1,
                                   start_failures=0)

    row = run_writer(tmp_path / "nianbao.db", redis_url, keys.crawl, workers=2, poll=0.1)

    assert (row["status"], row["pages"], row["errors"], row["reports_new"]) == ("finished", 1, 4, 0)
    db = sqlite3.connect(tmp_path / "nianbao.db")
    assert db.execute("SELECT url, sha256 FROM fetches").fetchall() == [("http://a.example.gov.cn/", sha)]
    errors = db.execute("SELECT url, stage, message FROM errors WHERE run_id = 1 ORDER BY id").fetchall()
    assert [(url, stage) for url, stage, _ in errors] == [(None, "writer"), ("http://a.example.gov.cn/nb.html",
                                                                              "writer"), (None, "writer"),
                                                       ("http://a.example.gov.cn/v2", "writer")]
    assert "worker b was started on portals [] and start URLs ['http://b.example.gov.cn/']" in errors[0][2]
    assert errors[1][2].startswith("store_report not applied (ValueError: no archived body with sha256 '000")
    assert errors[2][2].startswith("? not applied (UnpicklingError")
    assert errors[3][2].startswith("record_error not applied (ValueError: unknown journal message")
    assert client.lrange(keys.rejected, 0, -1)[1] == b"not a pickle" and client.llen(keys.rejected) == 3
    assert client.keys(f"nianbao:{keys.crawl}:*") == [keys.rejected.encode()]
    client.delete(keys.rejected)
    client.close()
