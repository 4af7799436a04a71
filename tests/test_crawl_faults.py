"""Faults and bad input (issue #6): what each fault of the fault portal ends as in the archive.

One clean crawl archives the reports of the pages that will break; then the portal is armed and a second crawl
meets every fault. Each ends as a recorded error (and the report archived before stays current, untouched) or
as a correct report (cell for cell the fixture's gold values); both crawls finish. The portal serves each fixture
report at several URLs, so each is stored once and the other URLs are sightings of it (report_urls): a fault
page read right is a sighting of the report its fixture gave, one read wrong would be a new version.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
import time
from urllib.parse import urlsplit

import pytest

from archive import Archive
from parsers import parse
from tests.archive_builder import stored_tables
from tests.crawling import run_crawl
from tests.gold import differences, load_gold
from tests.portal.faults import BURST, FAULTS, HUGE_SIZE, LOOP_BACK, Fault, serve_faults, zip_bomb

# Small timeout, so that the stalled answers cost seconds; exactly enough retries for the burst to recover.
SETTINGS = {"DOWNLOAD_TIMEOUT": 2, "RETRY_TIMES": len(BURST), "CONCURRENT_REQUESTS_PER_DOMAIN": 8}
ATTEMPTS = len(BURST) + 1
BROKEN = [f for f in FAULTS.values() if f.before]  # good in the first crawl, broken in the second
NEW = [f for f in FAULTS.values() if not f.before]  # first seen broken: each must still be a correct report


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory):
    db_path = tmp_path_factory.mktemp("faults") / "nianbao.db"
    server = serve_faults()
    try:
        first = run_crawl(db_path, [server.base_url + "/"], **SETTINGS)
        clean = {path: page.body for path, page in server.pages.items()}
        server.arm()
        mark = server.snapshot()
        second = run_crawl(db_path, [server.base_url + "/"], **SETTINGS)
        served = _settled(server, mark)
        armed = {path: page.body for path, page in server.pages.items()}
    finally:
        server.shutdown()
        server.server_close()
    db = sqlite3.connect(db_path)
    db.row_factory = sqlite3.Row
    archive = Archive(db_path)  # for its reads: raw bodies (get_blob) and what the next crawl would ask with
    yield {"db": db, "archive": archive, "first": first, "second": second, "served": served,
           "base": server.base_url, "clean": clean, "armed": armed}
    archive.close()
    db.close()


def _settled(server, mark) -> list:
    """What the portal served since `mark`, once it served nothing more for a second: a trickle's handler is still
    sending (and has not logged its answer) when the crawler has given up on it."""
    served, quiet_since = server.served_since(mark), time.monotonic()
    while time.monotonic() - quiet_since < 1.0:
        time.sleep(0.1)
        now = server.served_since(mark)
        if len(now) != len(served):
            served, quiet_since = now, time.monotonic()
    return served


def rows(crawled, sql: str, *params) -> list[sqlite3.Row]:
    return crawled["db"].execute(sql, params).fetchall()


def url(crawled, path: str) -> str:
    return crawled["base"] + path


def fetches(crawled, path: str, run_id: int = 2) -> list[sqlite3.Row]:
    return rows(crawled, "SELECT * FROM fetches WHERE url = ? AND run_id = ? ORDER BY id", url(crawled, path), run_id)


def errors(crawled, path: str) -> list[tuple]:
    return [tuple(e) for e in rows(crawled, "SELECT run_id, stage, message FROM errors WHERE url = ? ORDER BY id",
                                   url(crawled, path))]


def served(crawled, path: str) -> list[tuple[int, int]]:
    """(status, body bytes sent) of each answer the armed portal gave at `path`."""
    return [(s.status, s.bytes) for s in crawled["served"] if s.path == path]


def sighting(crawled, path: str) -> sqlite3.Row:
    """The report seen at `path`, with that URL's first/last sighting and the bytes last served there."""
    [seen] = rows(crawled, "SELECT r.*, u.sha256 AS seen_sha256, u.first_seen_at, u.last_seen_at AS seen_last, "
                           "u.run_id AS seen_run FROM report_urls u JOIN reports r ON r.id = u.report_id "
                           "WHERE u.url = ?", url(crawled, path))
    return seen


def assert_matches_gold(crawled, report: sqlite3.Row, fault: Fault) -> None:
    stored = {"format": report["format"], "agency": report["agency"], "year": report["year"],
              **{t: None for t in ("proactive", "applications", "review_litigation")},
              **stored_tables(crawled["db"], report["id"])}
    assert differences(stored, load_gold(fault.seed)) == [], fault.name


def test_both_crawls_finish_and_count_what_happened(crawled):
    first, second = crawled["first"], crawled["second"]
    assert [r["status"] for r in rows(crawled, "SELECT status FROM crawl_runs ORDER BY id")] == ["finished"] * 2
    seeds = len({f.seed for f in BROKEN})
    assert (first["failed"], first["errors"], first["reports_new"]) == (False, 0, seeds)
    assert first["reports_unchanged"] == len(BROKEN) - seeds  # the same fixture report at another URL
    assert (second["failed"], second["errors"], second["reports_new"]) == (False, len(BROKEN), 0)
    assert (second["reports_changed"], second["reports_unchanged"]) == (0, len(NEW))
    assert rows(crawled, "SELECT count(*) FROM report_summary")[0][0] == seeds
    stages = rows(crawled, "SELECT stage, COUNT(*) AS n FROM errors WHERE run_id = 2 GROUP BY stage ORDER BY stage")
    assert [tuple(s) for s in stages] == [("fetch", 8), ("parse", 2), ("recognise", 2)]


@pytest.mark.parametrize("fault", BROKEN, ids=lambda f: f.name)
def test_report_archived_before_a_fault_is_kept(crawled, fault):
    """The report of the clean crawl stays the current (and only) version, its bytes and cells intact."""
    seen = sighting(crawled, fault.url_path)
    assert (seen["version"], seen["is_current"], seen["run_id"], seen["seen_run"]) == (1, 1, 1, 1)
    assert crawled["archive"].get_blob(seen["seen_sha256"]) == crawled["clean"][fault.url_path]
    assert_matches_gold(crawled, seen, fault)
    assert seen["seen_last"] == seen["first_seen_at"]  # not seen again there: the second crawl failed


def test_5xx_that_never_stops_is_an_error_after_every_retry(crawled):
    path = FAULTS["unavailable"].path
    answers = fetches(crawled, path)
    assert [f["status"] for f in answers] == [503] * ATTEMPTS  # every answer archived, body included
    assert crawled["archive"].get_blob(answers[-1]["sha256"]) == b"<h1>503 Service Unavailable</h1>"
    assert errors(crawled, path) == [(2, "fetch", f"HTTP 503 (gave up after {len(BURST)} retries)")]
    assert rows(crawled, "SELECT sha256 FROM errors WHERE url = ?", url(crawled, path))[0][0] == answers[-1]["sha256"]


def test_connection_reset_in_the_headers_is_an_error(crawled):
    path = FAULTS["reset_headers"].path
    assert served(crawled, path) == [(0, 0)] * ATTEMPTS
    assert fetches(crawled, path) == []  # no response, nothing to archive
    assert errors(crawled, path) == [(2, "fetch", "DownloadFailedError: ConnectionLost: Connection to the other side "
                                                  f"was lost in a non-clean fashion. (gave up after {len(BURST)} "
                                                  "retries)")]


@pytest.mark.parametrize("name, share", [("reset_body", 2), ("truncated", 3)])
def test_body_cut_short_is_archived_as_it_came_and_never_parsed(crawled, name, share):
    """Connection closed early (FIN: all that was sent arrives) or reset mid-body (RST: what the client had not
    read yet is lost) — fewer bytes than Content-Length either way."""
    path = FAULTS[name].path
    whole = crawled["armed"][path]
    answers = fetches(crawled, path)
    assert [f["status"] for f in answers] == [200] * ATTEMPTS
    cut = crawled["archive"].get_blob(answers[-1]["sha256"])
    assert whole.startswith(cut) and len(cut) == answers[-1]["bytes"] <= len(whole) // share
    if name == "truncated":
        assert len(cut) == len(whole) // share
    # The server sent an ETag and Last-Modified: kept out, so the next crawl cannot get a 304 for the cut body.
    assert {(f["etag"], f["last_modified"]) for f in answers} == {(None, None)}
    next_crawl_asks_with = crawled["archive"].validators(url(crawled, path))
    assert next_crawl_asks_with == {"etag": None, "last_modified": None, "sha256": answers[-1]["sha256"]}
    assert errors(crawled, path) == [(2, "fetch", f"body cut short: {len(cut)} of {len(whole)} bytes "
                                                  f"(Content-Length) arrived (gave up after {len(BURST)} retries)")]
    assert rows(crawled, "SELECT sha256 FROM errors WHERE url = ?", url(crawled, path))[0][0] == answers[-1]["sha256"]


@pytest.mark.parametrize("name", ["timeout", "trickle"])
def test_no_answer_or_a_trickle_past_the_timeout_is_an_error(crawled, name):
    path = FAULTS[name].path
    answers = served(crawled, path)
    assert len(answers) == ATTEMPTS
    assert sum(sent for _, sent in answers) < len(crawled["armed"][path]) / 100  # a trickle: bytes, not the page
    assert fetches(crawled, path) == []
    assert errors(crawled, path) == [(2, "fetch", f"DownloadTimeoutError: Getting {url(crawled, path)} took longer "
                                                  f"than 2.0 seconds. (gave up after {len(BURST)} retries)")]


@pytest.mark.parametrize("name", ["soft_404", "soft_404_attachment"])
def test_soft_404_is_a_recognise_error_not_a_report(crawled, name):
    """A report page, or the attachment that held the report, now answers 200 with a page-not-found page."""
    path = FAULTS[name].url_path
    answers = fetches(crawled, path)
    assert [f["status"] for f in answers] == [200]
    assert "页面不存在".encode() in crawled["archive"].get_blob(answers[0]["sha256"])
    assert errors(crawled, path) == [(2, "recognise", "soft 404: answered 200 with a page-not-found page "
                                                      "(title: 页面不存在)")]


def test_page_without_html_content_is_a_parse_error(crawled):
    """A report page now answers 200 with nothing but a comment: archived as it came, and a parse error."""
    path = FAULTS["blank"].url_path
    answers = fetches(crawled, path)
    assert [f["status"] for f in answers] == [200]
    assert crawled["archive"].get_blob(answers[0]["sha256"]) == crawled["armed"][path]
    assert errors(crawled, path) == [(2, "parse", "ParseError: HTML page has no content")]


def test_redirect_loop_is_an_error_naming_the_loop(crawled):
    loop, back = url(crawled, FAULTS["redirect_loop"].path), url(crawled, LOOP_BACK)
    assert [f["status"] for f in fetches(crawled, FAULTS["redirect_loop"].path)] == [302]
    assert [f["status"] for f in fetches(crawled, LOOP_BACK)] == [302]
    assert errors(crawled, LOOP_BACK) == [(2, "fetch", f"redirect loop: {loop} -> {back} -> {loop}")]


def test_2gb_attachment_is_cancelled_on_its_content_length(crawled):
    fault = FAULTS["huge_attachment"]
    assert served(crawled, fault.path) == [(304, 0)]  # the page is unchanged; its attachment is not
    [(status, sent)] = served(crawled, fault.attachment)
    assert status == 200 and sent < 1 << 20  # the download stopped at the headers, not after 2 GB
    assert fetches(crawled, fault.attachment) == []  # nothing usable arrived, nothing archived
    [(run_id, stage, message)] = errors(crawled, fault.attachment)
    assert (run_id, stage) == (2, "fetch")
    assert re.match(rf"DownloadCancelledError: Expected to receive {HUGE_SIZE} bytes which is larger than download "
                    rf"max size \({64 * 1024 * 1024}\)", message), message


def test_zip_bomb_docx_is_archived_and_refused_by_the_parser(crawled):
    fault = FAULTS["zip_bomb"]
    answers = fetches(crawled, fault.attachment)
    assert [(f["status"], f["bytes"]) for f in answers] == [(200, len(zip_bomb()))]
    assert answers[0]["sha256"] == hashlib.sha256(zip_bomb()).hexdigest()
    assert errors(crawled, fault.attachment) == [(2, "parse", "ParseError: DOCX unpacks to 51 MB, over the 50 MB "
                                                              "limit (a zip bomb?)")]
    assert rows(crawled, "SELECT sha256 FROM errors WHERE url = ?", url(crawled, fault.attachment))[0][0] == \
        answers[0]["sha256"]


@pytest.mark.parametrize("fault", NEW, ids=lambda f: f.name)
def test_fault_that_must_end_as_a_correct_report(crawled, fault):
    """Read right, the fault page says what its fixture's report says: a sighting of that report, unchanged."""
    seen = sighting(crawled, fault.path)
    assert (seen["version"], seen["is_current"], seen["seen_run"]) == (1, 1, 2)
    assert_matches_gold(crawled, seen, fault)
    assert errors(crawled, fault.path) == []
    answers = fetches(crawled, fault.path)
    assert crawled["archive"].get_blob(seen["seen_sha256"]) == crawled["armed"][urlsplit(fault.path).path]
    assert answers[-1]["sha256"] == seen["seen_sha256"]
    report = parse(crawled["archive"].get_blob(seen["seen_sha256"]), content_type=answers[-1]["content_type"])
    assert report.title == fault.title and "\ufffd" not in report.text  # decoded right, not mojibake


@pytest.mark.parametrize("name, content_type, form", [
    ("octet_stream", "application/octet-stream", "html"),
    ("docx_as_html", "text/html; charset=utf-8", "docx"),
    ("no_content_type", None, "html"),
    ("gbk_says_utf8", "text/html; charset=utf-8", "html"),
    ("utf8_says_gbk", "text/html; charset=GBK", "html"),
])
def test_wrong_type_or_charset_is_read_from_the_bytes(crawled, name, content_type, form):
    path = FAULTS[name].path
    [answer] = fetches(crawled, path)
    assert answer["content_type"] == content_type  # archived as the server said
    assert parse(crawled["archive"].get_blob(answer["sha256"]), content_type=content_type).form == form


def test_burst_of_5xx_recovers_within_the_retries(crawled):
    path = FAULTS["burst"].path
    assert [f["status"] for f in fetches(crawled, path)] == [*BURST, 200]
    assert [status for status, _ in served(crawled, path)] == [*BURST, 200]
