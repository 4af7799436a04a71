"""Crawl runs beyond the portal walk: `scrapy crawl portal` is the same spider, an edited report becomes a new
version, and a crawl whose every start URL fails says so."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from nianbao.demo import PortalServer
from nianbao.demo.site import Page
from tests.crawling import FAST, run_crawl

REPO = Path(__file__).resolve().parent.parent
REPORT_PAGE = "/6571/6603/18706/content_922157.html"


@pytest.fixture
def edited_page(portal: PortalServer):
    """Lets a test edit REPORT_PAGE on the server; restored afterwards for the other tests."""
    original = portal.pages[REPORT_PAGE]
    yield lambda body: portal.pages.__setitem__(REPORT_PAGE, Page(body, original.content_type))
    portal.pages[REPORT_PAGE] = original


def test_scrapy_crawl_then_an_edited_report_is_a_new_version(portal, edited_page, tmp_path):
    db = tmp_path / "nianbao.db"
    url = portal.base_url + REPORT_PAGE
    # A start page is where discovery starts; with no navigation hops allowed the crawl stays on the report.
    only_page = {**FAST, "NIANBAO_MAX_HOPS": 0}
    settings = [arg for key, value in only_page.items() for arg in ("-s", f"{key}={value}")]
    done = subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", "portal", "-a", f"start_urls={url}", "-s", f"NIANBAO_DB={db}",
         *settings, "-s", "LOG_LEVEL=INFO"],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    # The crawl's counts are Scrapy stats (what monitors read), and its crawl_runs row was filled from them.
    stats = dict(re.findall(r"'(nianbao/[a-z_/]+)': (\d+)", done.stderr))
    row = sqlite3.connect(db).execute("SELECT pages, errors, reports_new FROM crawl_runs").fetchone()
    assert (stats["nianbao/pages"], stats["nianbao/reports/new"], stats["nianbao/start_requests"]) == (
        str(row[0]), str(row[2]), "1")
    assert row[0] >= 2 and row[1] == 0 and "nianbao/errors" not in stats
    original = portal.pages[REPORT_PAGE].body
    # a correction note in the report's own text (a note in the page's chrome alone leaves the report as it was)
    edited = original.replace("针对以上问题".encode(), "（2021年2月3日更正）针对以上问题".encode())
    assert edited != original
    edited_page(edited)

    summary = run_crawl(db, [url], NIANBAO_MAX_HOPS=0)

    assert (summary["reports_new"], summary["reports_changed"], summary["failed"]) == (0, 1, False)
    connection = sqlite3.connect(db)
    versions = connection.execute(
        "SELECT version, is_current, agency, year, sha256 FROM reports WHERE url = ? ORDER BY version", [url]
    ).fetchall()
    assert [(v[0], v[1], v[2], v[3]) for v in versions] == [(1, 0, "湘潭县", 2020), (2, 1, "湘潭县", 2020)]
    assert versions[0][4] != versions[1][4]
    runs = connection.execute("SELECT portals, status, reports_new FROM crawl_runs ORDER BY id").fetchall()
    assert runs == [('["127.0.0.1"]', "finished", 1), ('["127.0.0.1"]', "finished", 0)]


def test_crawl_fails_as_a_whole_when_every_start_url_fails(portal, tmp_path):
    db = tmp_path / "nianbao.db"
    summary = run_crawl(db, [portal.base_url + "/no/such/column/", portal.base_url + "/gone.html"])
    assert (summary["status"], summary["failed"], summary["errors"]) == ("failed", True, 2)
    errors = sqlite3.connect(db).execute("SELECT stage, message FROM errors ORDER BY url").fetchall()
    assert errors == [("fetch", "HTTP 404"), ("fetch", "HTTP 404")]


def test_unknown_portal_is_refused_before_crawling(tmp_path):
    from crawler.portals import UnknownPortal
    from crawler.run import crawl

    with pytest.raises(UnknownPortal, match="nosuch: registered portals are hnyx, xtx"):
        crawl(tmp_path / "nianbao.db", ["nosuch"], None)
    assert not (tmp_path / "nianbao.db").exists()
