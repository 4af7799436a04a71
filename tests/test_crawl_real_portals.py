"""The real spider crawls replayed real portals (tests/fixtures/real/portals/): real markup, real pagers."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest

from tests.crawling import run_crawl
from tests.replay import ReplayServer, load_site, replay, standin_report

# The report links of the captured 信息公开年报 column of 恩格贝生态示范区 (the capture lacks their pages).
EGB_COLUMN = "/xxgk/xxgknb/index.html"
EGB_REPORTS = ["/xxgk/xxgknb/202009/t20200903_2748784.html", "/xxgk/xxgknb/202003/t20200311_2593126.html",
               "/xxgk/xxgknb/201905/t20190530_2380968.html", "/xxgk/xxgknb/201905/t20190530_2380967.html"]


@pytest.fixture
def egb() -> Iterator[ReplayServer]:
    server = replay(load_site("egb"), {path: standin_report(i) for i, path in enumerate(EGB_REPORTS)})
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def dzrss() -> Iterator[ReplayServer]:
    server = replay(load_site("dzrss"))
    yield server
    server.shutdown()
    server.server_close()


def _db(path) -> sqlite3.Connection:
    connection = sqlite3.connect(path)
    connection.row_factory = sqlite3.Row
    return connection


def test_trs_report_column_every_report_and_the_second_page(egb: ReplayServer, tmp_path):
    """The 年报 column writes its pager with `var countPage = 2` and document.write: page 2 is asked for, and
    every report its list links to is stored; the news items beside them are not."""
    summary = run_crawl(tmp_path / "n.db", [egb.url(EGB_COLUMN)])
    assert summary["status"] == "finished"
    db = _db(tmp_path / "n.db")
    stored = sorted(r["url"] for r in db.execute("SELECT url FROM reports WHERE is_current = 1"))
    assert stored == sorted(egb.url(p) for p in EGB_REPORTS)
    assert "/xxgk/xxgknb/index_1.html" in egb.paths(404)  # page 2: followed, though not in the capture
    assert "/xxgk/xxgknb/202005/t20200506_2633371.html" not in egb.paths()  # 召开2020年度工作会: news
    # The only errors: pages the capture lacks (page 2, and the 信息公开 menu items the spider follows).
    errors = {(r["stage"], r["message"], r["url"]) for r in db.execute("SELECT * FROM errors")}
    assert errors == {("fetch", "HTTP 404", egb.url(path)) for path in egb.paths(404) if path != "/robots.txt"}


def test_trs_portal_from_the_home_page_through_a_script_redirect_to_every_list_page(dzrss: ReplayServer, tmp_path):
    """道真县人社局: home -> 政务公开, a page whose only content is a script writing a meta refresh to its first
    column -> that column, whose createPageHTML(4, 0, …) names three more pages."""
    summary = run_crawl(tmp_path / "n.db", [dzrss.url("/index.html")])
    assert summary["status"] == "finished"
    served = dzrss.paths()
    assert "/zwgk/index.html" in served and "/zwgk/gsgg/" in served
    assert {"/zwgk/gsgg/index_1.html", "/zwgk/gsgg/index_2.html", "/zwgk/gsgg/index_3.html"} <= set(
        dzrss.paths(404))
    db = _db(tmp_path / "n.db")
    assert db.execute("SELECT COUNT(*) FROM reports").fetchone()[0] == 0  # the site lists no annual report
