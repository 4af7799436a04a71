"""Hostile attachments in a crawl (issue #14): each costs one `errors` row, the crawl finishes and keeps the rest.

A loopback portal lists five report pages: a good HTML report, a good DOCX attachment, and three attachments that
would once have stalled or sunk the crawl: a scan that takes longer to OCR than the parse worker allows, a PDF
page 3.5 m wide, an XLSX spanning A1:XFD1048576.  Attachments are parsed in crawler.parse_pool's worker, whose
time and memory limits are tested on their own below.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from archive import Archive
from crawler.parse_pool import ParsePool
from nianbao.demo.server import PortalServer
from nianbao.demo.site import Page, article, attachments, chrome, column_page, fixture_body
from parsers import ParseError, parse
from tests import hostile_files
from tests.crawling import run_crawl
from tests.gold import FIXTURES, load_gold

INDEX = "/zwgk/index.html"
PDF, DOCX = "application/pdf", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TIMEOUT = 5  # seconds for one document in the parse worker: a DOCX takes < 1, the 4-page scan 10-25
SCAN = (FIXTURES / "seed-002.scan.pdf").read_bytes()


def _title(seed: str) -> str:
    gold = load_gold(seed)
    return f"{gold['meta']['agency'][0]}{gold['meta']['year']}年政府信息公开工作年度报告"


# report page -> (seed whose title it has, attachment path, attachment bytes, Content-Type); no attachment: the
# page is the report
REPORTS = {
    "/nb/good.html": ("seed-000", None, None, None),
    "/nb/docx.html": ("seed-001", "/uploads/good.docx", (FIXTURES / "seed-001.docx").read_bytes(), DOCX),
    "/nb/slow.html": ("seed-002", "/uploads/slow.pdf", SCAN, PDF),
    "/nb/wide.html": ("seed-003", "/uploads/wide.pdf", hostile_files.pdf(1, 10000, 10000), PDF),
    "/nb/range.html": ("seed-004", "/uploads/range.xlsx", hostile_files.xlsx({"A1": "一", "XFD1048576": "二"}), XLSX),
}
ERRORS = {
    "/uploads/slow.pdf": f"ParseError: parsing took longer than {TIMEOUT} s (the parse worker was stopped)",
    "/uploads/wide.pdf": "ParseError: scanned PDF page 1 is 10000 x 10000 pt (353 x 353 cm), too large to OCR",
    "/uploads/range.xlsx": "ParseError: spreadsheet spans 17,179,869,184 cells, over the 200,000-cell limit "
                           "(a report fills ~5,000)",
}


def _pages() -> dict[str, Page]:
    pages = {
        "/robots.txt": Page(b"User-agent: *\nDisallow:\n", "text/plain"),
        "/": Page(chrome("恶意县人民政府", f'<ul class="nav"><li><a href="{INDEX}">政务公开</a></li></ul>').encode()),
        INDEX: Page(column_page("政府信息公开年报", [(path, _title(seed)) for path, (seed, *_) in REPORTS.items()])
                    .encode()),
    }
    for path, (seed, attachment, body, content_type) in REPORTS.items():
        inside = (f"<p>{_title(seed)}详见附件。</p>" + attachments((attachment, "年度报告"))) if attachment \
            else fixture_body(f"{seed}.html")
        pages[path] = Page(article(_title(seed), inside, load_gold(seed)["meta"]["agency"][0], "2025-01-25")
                           .encode())
        if attachment:
            pages[attachment] = Page(body, content_type)
    return pages


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory):
    db_path = tmp_path_factory.mktemp("hostile") / "nianbao.db"
    server = PortalServer(("127.0.0.1", 0), pages=_pages())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        started = time.monotonic()
        summary = run_crawl(db_path, [server.base_url + "/"], NIANBAO_PARSE_TIMEOUT=TIMEOUT)
        seconds = time.monotonic() - started
    finally:
        server.shutdown()
        server.server_close()
    db = sqlite3.connect(db_path)
    yield {"db": db, "summary": summary, "seconds": seconds, "base": server.base_url}
    db.close()


def test_crawl_finishes_with_the_good_reports_and_one_error_per_hostile_file(crawled):
    db, base = crawled["db"], crawled["base"]
    assert crawled["summary"]["status"] == "finished"
    stored = {url.removeprefix(base): agency for url, agency in db.execute("SELECT url, agency FROM reports")}
    assert stored == {"/nb/good.html": load_gold("seed-000")["meta"]["agency"][0],
                      "/uploads/good.docx": load_gold("seed-001")["meta"]["agency"][0]}
    errors = [(url.removeprefix(base), stage, message)
              for url, stage, message in db.execute("SELECT url, stage, message FROM errors")]
    assert sorted(errors) == sorted((path, "parse", message) for path, message in ERRORS.items())


def test_hostile_files_are_archived(crawled):
    db, base = crawled["db"], crawled["base"]
    sizes = {attachment: len(body) for _, attachment, body, _ in REPORTS.values() if attachment}
    for path in ERRORS:
        assert db.execute("SELECT status, bytes FROM fetches WHERE url = ?", [base + path]).fetchall() == \
            [(200, sizes[path])]


def test_pool_stops_a_parse_over_its_time_and_parses_the_next():
    pool = ParsePool(timeout=1)
    try:
        started = time.monotonic()
        with pytest.raises(ParseError, match=r"^parsing took longer than 1 s \(the parse worker was stopped\)$"):
            pool.parse_now(SCAN, "scan.pdf")
        assert time.monotonic() - started < 3  # stopped, not waited for
        report = pool.parse_now((FIXTURES / "seed-001.docx").read_bytes(), "seed-001.docx")
        assert report.agency == load_gold("seed-001")["meta"]["agency"][0]
    finally:
        pool.close()


def test_pool_refuses_a_parse_over_its_memory():
    pool = ParsePool(memory=600 << 20)  # the OCR engine alone maps more than this
    try:
        with pytest.raises(ParseError, match=r"^parsing needed more than the parse worker's 600 MB of memory$"):
            pool.parse_now(SCAN, "scan.pdf")
    finally:
        pool.close()


def test_pool_parses_while_the_event_loop_runs():
    """What a crawl's async callback does: the loop keeps turning while the worker parses."""
    async def parse_and_count() -> tuple[list, int]:
        pool = ParsePool()
        ticks = 0

        async def tick() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.01)

        ticker = asyncio.create_task(tick())
        try:
            reports = await asyncio.gather(*(pool.parse((FIXTURES / f"seed-00{i}.docx").read_bytes(), "x.docx")
                                             for i in (1, 2)))
        finally:
            ticker.cancel()
            pool.close()
        return reports, ticks

    reports, ticks = asyncio.run(parse_and_count())
    assert [r.agency for r in reports] == [load_gold(s)["meta"]["agency"][0] for s in ("seed-001", "seed-002")]
    assert ticks > 3  # a loop blocked while the worker starts and parses (~0.3 s or more) would tick once


def test_reparse_parses_in_the_worker_under_its_time_limit(tmp_path: Path):
    """`nianbao reparse` goes through the parse worker: a document over --parse-timeout fails alone."""
    docx = (FIXTURES / "seed-001.docx").read_bytes()
    archive = Archive(tmp_path / "nianbao.db")
    # the scan's row as its DOCX twin parses (the scan itself would take 10-60 s to OCR here)
    stored = {"http://example.gov.cn/seed-001.docx": (docx, docx),
              "http://example.gov.cn/scan.pdf": (SCAN, (FIXTURES / "seed-002.docx").read_bytes())}
    for url, (body, parsed) in stored.items():
        sha = archive.record_fetch(None, url, status=200, body=body, headers={})
        archive.store_report(None, url, sha, parse(parsed, source=url))
    archive.close()
    done = subprocess.run([sys.executable, "-m", "nianbao.cli", "reparse", "--db", str(tmp_path / "nianbao.db"),
                           "--parse-timeout", "2"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert (summary["reports"], summary["unchanged"]) == (2, 1)
    assert [(f["url"], f["message"]) for f in summary["failed"]] == [
        ("http://example.gov.cn/scan.pdf", "ParseError: parsing took longer than 2 s (the parse worker was stopped)")]


def test_worker_dies_with_a_crawl_killed_by_sigkill():
    """A crawl killed with kill -9 takes its parse worker with it (no orphan waiting for work forever)."""
    script = ("import sys, time\nfrom crawler.parse_pool import ParsePool\nif __name__ == '__main__':\n"
              "    pool = ParsePool()\n    pool.parse_now(open(sys.argv[1], 'rb').read(), 'x.docx')\n"
              "    print(*(p.pid for p in pool._executor._processes.values()), flush=True)\n    time.sleep(60)\n")
    crawl = subprocess.Popen([sys.executable, "-c", script, str(FIXTURES / "seed-001.docx")], stdout=subprocess.PIPE,
                             text=True)
    try:
        worker = int(crawl.stdout.readline())
    finally:
        crawl.kill()
        crawl.wait()
    deadline = time.monotonic() + 10
    while _running(worker):
        assert time.monotonic() < deadline, "the parse worker outlived the crawl"
        time.sleep(0.1)


def _running(pid: int) -> bool:
    try:
        return "zombie" not in Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
