"""PortalSpider's callbacks on responses built from fixture files (tests/responses.py): what each yields and what
it records, without a server. The end-to-end crawls (tests/test_crawl_*.py) cover the same paths through Scrapy."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from scrapy import Request
from scrapy.http import HtmlResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from crawler.links import LinkKind
from tests.gold import FIXTURES, load_gold
from tests.responses import collect, file_response, unit_spider

PORTALS = FIXTURES / "real" / "portals"
EGB = "http://www.egb.gov.cn/xxgk/xxgknb/"
EGB_REPORTS = {EGB + path for path in ("202009/t20200903_2748784.html", "202003/t20200311_2593126.html",
                                       "201905/t20190530_2380968.html", "201905/t20190530_2380967.html")}


def _errors(db: Path) -> list[tuple[str, str, str]]:
    with sqlite3.connect(db) as connection:
        return connection.execute("SELECT stage, url, message FROM errors ORDER BY id").fetchall()


def test_a_report_column_yields_its_reports_and_its_next_page(tmp_path: Path) -> None:
    """The captured 信息公开年报 column of 恩格贝 (TRS): its four report links as reports, page 2 of its
    document.write pager as a pager page; the news items beside them are not followed, nothing is stored."""
    db = tmp_path / "n.db"
    with unit_spider(db, [EGB + "index.html"]) as spider:
        response = file_response(PORTALS / "egb/xxgk/xxgknb/index.html", EGB + "index.html", kind="start", hops=0,
                                 start=spider.portals[0].name, in_area=True)
        out = collect(spider.parse_page(response))
    assert all(isinstance(r, Request) for r in out)
    kinds = {r.url: r.meta.get("kind") for r in out}
    assert {url for url, kind in kinds.items() if kind == LinkKind.REPORT} == EGB_REPORTS
    assert kinds[EGB + "index_1.html"] == LinkKind.PAGER
    assert EGB + "202005/t20200506_2633371.html" not in kinds  # 召开2020年度工作会: news
    assert all(r.callback == spider.parse_page and r.errback == spider.failed for r in out)
    assert _errors(db) == []


def test_a_report_page_is_one_item_with_the_gold_figures(tmp_path: Path) -> None:
    url = "http://www.xtx.gov.cn/nb/seed-000.html"
    with unit_spider(tmp_path / "n.db", [url]) as spider:
        response = file_response(FIXTURES / "seed-000.html", url, kind=LinkKind.REPORT, hops=1, in_area=True)
        [item] = collect(spider.parse_page(response))
    gold = load_gold("seed-000")
    report = item["report"]
    assert (item["url"], item["sha256"], item["page_url"]) == (url, response.meta["sha256"], None)
    assert (report.agency, report.year) == (gold["meta"]["agency"][0], gold["meta"]["year"])
    assert report.applications == gold["applications"]
    assert item["portal"] == "xtx" and item["region"] == "湘潭县"  # the registry's portal for that host


def test_a_report_as_text_behind_a_link_is_an_attachment(tmp_path: Path) -> None:
    url = "http://www.xtx.gov.cn/nb/seed-001.txt"
    with unit_spider(tmp_path / "n.db", [url]) as spider:
        response = file_response(FIXTURES / "seed-001.txt", url, content_type="text/plain; charset=utf-8",
                                 hints={"title": "2024年政府信息公开工作年度报告"}, page_url="http://www.xtx.gov.cn/nb/")
        [item] = collect(spider.parse_attachment(response))
    assert item["report"].year == load_gold("seed-001")["meta"]["year"]
    assert item["page_url"] == "http://www.xtx.gov.cn/nb/"


def test_a_start_page_that_fails_is_an_error_and_a_start_failure(tmp_path: Path) -> None:
    url = "http://www.xtx.gov.cn/gone.html"
    db = tmp_path / "n.db"
    with unit_spider(db, [url]) as spider:
        request = Request(url, meta={"start": "xtx", "kind": "start"})
        gone = HtmlResponse(url, status=404, body=b"<html>gone</html>", request=request)
        failure = Failure(HttpError(gone))
        failure.request = request
        assert collect(spider.failed(failure)) == []
        assert spider.crawler.stats.get_value("nianbao/start_failures") == 1
        assert spider.crawler.stats.get_value("nianbao/errors") == 1
        assert spider.recorder.start_failed == {"xtx": [f"{url}: HTTP 404"]}
    assert _errors(db) == [("fetch", url, "HTTP 404")]


def test_an_unchanged_page_without_a_report_on_record_is_not_parsed_again(tmp_path: Path) -> None:
    """A 304 for a report link whose page was no report last time: not parsed again, not counted unchanged, and
    recorded again as a page titled as a report without one."""
    url = "http://www.xtx.gov.cn/nb/seed-002.html"
    db = tmp_path / "n.db"
    with unit_spider(db, [url]) as spider:
        response = file_response(FIXTURES / "seed-002.html", url, flags=["not_modified"], kind=LinkKind.REPORT)
        assert collect(spider.parse_page(response)) == []
        assert spider.crawler.stats.get_value("nianbao/reports/unchanged") is None
    [(stage, where, message)] = _errors(db)
    assert (stage, where) == ("recognise", url)
    assert message.endswith("but no report tables and no attachment")
