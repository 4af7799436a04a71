"""Crawl budgets (issue 14, item 3): a crawl trap ends at its budget with an `errors` row, and the crawl ends.

A loopback portal with an endless 下一页 chain (/list/1.html -> /list/2.html -> …, every one a fresh page) and a
page of 30 unit links. Budgets are set small here; the defaults and why an endless chain ends within 5 minutes at
the default politeness are in crawler/settings.py.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from urllib.parse import urlsplit

import pytest
from scrapy.settings import Settings

from crawler.budgets import CrawlBudgets
from crawler.portals import Portal, load_registry
from nianbao.demo.server import PortalHandler, PortalServer
from nianbao.demo.site import Page
from tests.crawling import run_crawl

UNITS = 30


def html(title: str, body: str) -> bytes:
    """A page with only the links given (the test portal's chrome would add its menu)."""
    return f'<html><head><meta charset="utf-8"><title>{title}</title></head><body>{body}</body></html>'.encode()


class EndlessHandler(PortalHandler):
    """/list/N.html exists for every N, each with a 下一页 link to N + 1."""

    def do_GET(self) -> None:
        match = re.fullmatch(r"/list/(\d+)\.html", urlsplit(self.path).path)
        if match is None:
            super().do_GET()
            return
        n = int(match.group(1))
        page = html(f"政府信息公开年报 第{n}页", f'<ul></ul><a href="/list/{n + 1}.html">下一页</a>')
        self.send(200, page, "text/html; charset=utf-8")


@pytest.fixture
def portal():
    units = "".join(f'<li><a href="/unit/{i}.html">单位{i}信息公开</a></li>' for i in range(UNITS))
    pages = {
        "/": Page(html("无尽县人民政府", '<a href="/list/1.html">政务公开</a>')),
        "/units.html": Page(html("部门信息公开", f"<ul>{units}</ul>")),
        **{f"/unit/{i}.html": Page(html(f"单位{i}", "<p>暂无</p>")) for i in range(UNITS)},
    }
    server = PortalServer(("127.0.0.1", 0), EndlessHandler, pages)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def served_paths(server: PortalServer) -> list[str]:
    return [s.path for s in server.served_since()]


def budget_errors(db_path) -> list[tuple[str, str]]:
    with sqlite3.connect(db_path) as db:
        return db.execute("SELECT url, message FROM errors WHERE stage = 'budget' ORDER BY id").fetchall()


def test_endless_pager_chain_ends_at_its_budget(portal, tmp_path):
    summary = run_crawl(tmp_path / "nianbao.db", [portal.base_url + "/"], NIANBAO_BUDGET_PAGER_PAGES=5)
    lists = [p for p in served_paths(portal) if p.startswith("/list/")]
    assert lists == [f"/list/{n}.html" for n in range(1, 7)]  # the page the chain starts at, then 5 pager pages
    assert budget_errors(tmp_path / "nianbao.db") == [
        (f"{portal.base_url}/list/7.html", f"pager chain from {portal.base_url}/list/1.html reached its budget of 5 "
                                           "pages (pager_pages); its further pages are not followed")]
    # The chain ends, the crawl does not fail for it; the summary says what the budget stopped.
    assert (summary["status"], summary["errors"]) == ("finished", 1)
    assert summary["budgets"] == ("budgets reached: pager_pages 1x (errors rows, stage budget); not taken after "
                                  "that: nothing more")


def test_links_taken_per_page(portal, tmp_path):
    run_crawl(tmp_path / "nianbao.db", [portal.base_url + "/units.html"], NIANBAO_BUDGET_PAGE_LINKS=10)
    assert sorted(p for p in served_paths(portal) if p.startswith("/unit/")) == sorted(
        f"/unit/{i}.html" for i in range(10))
    assert budget_errors(tmp_path / "nianbao.db") == [
        (f"{portal.base_url}/units.html", "page has more than 10 links (page_links budget); followed the first 10")]


def test_crawl_requests_budget_ends_the_crawl(portal, tmp_path):
    summary = run_crawl(tmp_path / "nianbao.db", [portal.base_url + "/"], NIANBAO_BUDGET_CRAWL_REQUESTS=8)
    assert served_paths(portal) == ["/robots.txt", "/", *(f"/list/{n}.html" for n in range(1, 7))]
    assert budget_errors(tmp_path / "nianbao.db") == [
        (f"{portal.base_url}/list/7.html", "the crawl reached its budget of 8 requests (crawl_requests); the crawl "
                                           "ends")]
    assert (summary["status"], summary["failed"]) == ("closespider_budget", True)


# -- without a crawl --------------------------------------------------------------------------------------------

def _settings(**values: int) -> Settings:
    settings = Settings()
    settings.setmodule("crawler.settings")
    settings.setdict(values)
    return settings


def test_registry_budgets_override_the_settings_per_portal():
    registry = load_registry("""
portals:
  - name: small
    start_urls: [http://www.small.gov.cn/]
    budgets: {pager_pages: 50, portal_requests: 3}
  - name: other
    start_urls: [http://www.other.gov.cn/]
""")
    assert registry["small"].budgets == {"pager_pages": 50, "portal_requests": 3}
    recorded = []
    budgets = CrawlBudgets(list(registry.values()), _settings(), lambda url, message: recorded.append(url))
    assert budgets.limits["small"] == {"pager_pages": 50, "page_links": 2000, "portal_requests": 3}
    assert budgets.limits["other"] == {"pager_pages": 150, "page_links": 2000, "portal_requests": 20000}
    assert [budgets.request("small", f"u{i}") for i in range(5)] == [None] * 3 + ["portal_requests"] * 2
    assert budgets.request("other", "o1") is None and not budgets.all_portals_over()
    assert recorded == ["u3"]  # once, where it was reached
    assert budgets.skipped == {"portal_requests": 1}


@pytest.mark.parametrize("entry", ["{pager_page: 5}", "{pager_pages: 0}", "{pager_pages: many}",
                                   "{crawl_requests: 5}"])
def test_registry_refuses_a_budget_it_cannot_apply(entry):
    with pytest.raises(ValueError, match="portal 'p': bad budgets"):
        load_registry(f"portals:\n  - name: p\n    start_urls: [http://a.gov.cn/]\n    budgets: {entry}\n")


def test_pager_budget_counts_pages_not_the_links_to_them():
    """Every TRS page names every other page: 20 pages are 20 of the budget, however often each is named."""
    budgets = CrawlBudgets([Portal("p", ("http://a/",), ("a",))], _settings(NIANBAO_BUDGET_PAGER_PAGES=20),
                           lambda url, message: None)
    assert all(budgets.pager_page("p", "http://a/", f"http://a/index_{i}.html") for _ in range(20) for i in range(20))
    assert not budgets.pager_page("p", "http://a/", "http://a/index_20.html")
    assert budgets.pager_page("p", "http://a/other/", "http://a/other/index_1.html")  # another chain
