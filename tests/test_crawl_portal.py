"""End to end: the real Scrapy engine crawls the test portal twice into a real SQLite archive."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from nianbao.demo import PortalServer
from nianbao.demo.site import DISALLOWED, EXPECTED, FLAKY, MISSING, NOISE, REDIRECT
from tests.crawling import run_crawl


@pytest.fixture(scope="module")
def crawled(portal: PortalServer, tmp_path_factory: pytest.TempPathFactory):
    """Two crawls of the same, unchanged portal; what the server served for each."""
    db = tmp_path_factory.mktemp("crawl") / "nianbao.db"
    portal.rearm_flaky()
    mark = portal.snapshot()
    first = run_crawl(db, [portal.base_url + "/"])
    middle = portal.snapshot()
    second = run_crawl(db, [portal.base_url + "/"])
    connection = sqlite3.connect(db)
    connection.row_factory = sqlite3.Row
    yield {"db": connection, "first": first, "second": second, "served_first": portal.served_since(mark)[
        : middle - mark], "served_second": portal.served_since(middle), "base": portal.base_url}
    connection.close()


def rows(crawled, sql: str, *params) -> list[sqlite3.Row]:
    return crawled["db"].execute(sql, params).fetchall()


def test_every_report_found_once_with_agency_and_year(crawled):
    base = crawled["base"]
    reports = rows(crawled, "SELECT * FROM reports WHERE is_current = 1")
    assert len(reports) == len(EXPECTED)
    for expected in EXPECTED:
        page = base + expected.page
        if expected.in_attachment:
            found = [r for r in reports if r["page_url"] == page]
            assert len(found) == 1 and found[0]["url"].startswith(base + "/uploads/"), expected
            assert found[0]["form"] in ("docx", "pdf")
        else:
            found = [r for r in reports if r["url"] == page]
        assert len(found) == 1, expected
        assert (found[0]["agency"], found[0]["year"]) == (expected.agency, expected.year)
        assert found[0]["format"] in ("2021", "2019") and found[0]["published"] is not None
    by_url = {r["url"]: r for r in reports}
    assert by_url[base + "/6571/6603/18706/content_922157.html"]["format"] == "2019"
    # GBK page decoded: the agency's name came through intact.
    gbk_page = by_url[base + "/6571/6603/bm/sjj/content_930001.html"]
    assert gbk_page["title"] == "湘潭县数据局2024年政府信息公开工作年度报告"


def test_run_rows_count_reports(crawled):
    first, second = crawled["first"], crawled["second"]
    assert (first["status"], first["failed"]) == ("finished", False)
    assert (first["reports_new"], first["reports_changed"], first["reports_unchanged"]) == (len(EXPECTED), 0, 0)
    assert (second["reports_new"], second["reports_changed"], second["reports_unchanged"]) == (0, 0, len(EXPECTED))
    runs = rows(crawled, "SELECT * FROM crawl_runs ORDER BY id")
    assert [r["status"] for r in runs] == ["finished", "finished"]
    assert runs[0]["pages"] == len(crawled["served_first"]) and runs[0]["bytes"] == first["bytes"]


def test_noise_is_fetched_but_not_stored(crawled):
    base = crawled["base"]
    urls = {r["url"] for r in rows(crawled, "SELECT url FROM reports")}
    assert not urls & {base + path for path in NOISE}
    fetched = {r["url"] for r in rows(crawled, "SELECT url FROM fetches")}
    # The notice and the explainer sit in the report column with report-like link text: the crawler looks at
    # them and recognises them by content. The guide is never even fetched (its link says 指南).
    assert {base + NOISE[0], base + NOISE[1]} <= fetched
    assert base + "/6571/zn.html" not in fetched


def test_nothing_offsite_private_or_disallowed_is_fetched(crawled):
    hosts = {urlsplit(r["url"]).netloc for r in rows(crawled, "SELECT url FROM fetches")}
    assert hosts == {urlsplit(crawled["base"]).netloc}
    served = [s.path for s in crawled["served_first"] + crawled["served_second"]]
    assert DISALLOWED not in served
    assert "/robots.txt" in served
    errors = rows(crawled, "SELECT stage, message FROM errors WHERE url = ?", crawled["base"] + DISALLOWED)
    assert [tuple(e) for e in errors][:1] == [("robots", "Forbidden by robots.txt")]
    assert all("ci@example.org" in s.user_agent and s.user_agent.startswith("nianbao/")
               for s in crawled["served_first"])


def test_missing_page_recorded_and_crawl_goes_on(crawled):
    errors = rows(crawled, "SELECT stage, message, run_id FROM errors WHERE url = ? ORDER BY id",
                  crawled["base"] + MISSING)
    assert [tuple(e) for e in errors] == [("fetch", "HTTP 404", 1), ("fetch", "HTTP 404", 2)]
    assert crawled["first"]["errors"] == 1  # the 404 only; the robots refusal is policy, not a failure


def test_flaky_page_retried_and_every_response_archived(crawled):
    fetches = rows(crawled, "SELECT status, bytes, sha256 FROM fetches WHERE url = ? AND run_id = 1 ORDER BY id",
                   crawled["base"] + FLAKY)
    assert [f["status"] for f in fetches] == [500, 200]
    redirect = rows(crawled, "SELECT status FROM fetches WHERE url = ? AND run_id = 1", crawled["base"] + REDIRECT)
    assert [r["status"] for r in redirect] == [301]
    raw = Path(crawled["db"].execute("PRAGMA database_list").fetchone()[2]).parent / "raw"
    sha = fetches[1]["sha256"]
    assert (raw / sha[:2] / sha).stat().st_size == fetches[1]["bytes"] > 50_000


def test_attachments_archived_even_when_the_page_is_the_report(crawled):
    pdf = crawled["base"] + "/uploads/2021/01/xtx-2020-nb.pdf"
    assert [r["status"] for r in rows(crawled, "SELECT status FROM fetches WHERE url = ? AND run_id = 1", pdf)] == [200]
    assert not rows(crawled, "SELECT id FROM reports WHERE url = ?", pdf)


def test_hanweb_records_beyond_the_first_page_come_from_dataproxy(crawled):
    posts = [s for s in crawled["served_first"] if s.method == "POST"]
    assert [s.path for s in posts] == ["/module/web/jpage/dataproxy.jsp?startrecord=7&endrecord=14&perpage=6"]


def test_recrawl_of_unchanged_portal_is_cheap(crawled):
    first = sum(s.bytes for s in crawled["served_first"])
    second = sum(s.bytes for s in crawled["served_second"])
    assert second <= 0.10 * first, (first, second)
    assert crawled["second"]["bytes"] == second
    statuses = {s.path: s.status for s in crawled["served_second"]}
    assert statuses[EXPECTED[0].page] == 304 and statuses["/uploads/2025/01/rsj-2024-nb.pdf"] == 304
    assert statuses["/6571/6603/18706/index.html"] == 200  # list pages are always refetched
    assert rows(crawled, "SELECT COUNT(*) AS n FROM reports")[0]["n"] == len(EXPECTED)  # no new versions
