"""Pagers as real CMSs write them (crawler.paging), read from the captured pages in tests/fixtures/real/portals."""

from __future__ import annotations

from crawler.links import Link, page_links
from crawler.paging import MAX_SCRIPT_PAGES, numbered_pages, refresh_targets, trs_dynamic_list, trs_pages
from parsers import load_html
from tests.replay import PORTALS

EGB = "http://www.egb.gov.cn/xxgk/xxgknb/index.html"
DZ = "http://rsj.gzdaozhen.gov.cn"


def _real(site: str, path: str) -> bytes:
    return (PORTALS / site / path).read_bytes()


def test_trs_create_page_html_with_literal_numbers_real_column():
    text = _real("dzrss", "zwgk/gsgg/index.html").decode()
    assert trs_pages(text, DZ + "/zwgk/gsgg/") == [DZ + f"/zwgk/gsgg/index_{i}.html" for i in (1, 2, 3)]


def test_trs_create_page_html_with_variables():
    """The form issue 15 quotes from real TRS list pages; the values are the last ones assigned."""
    text = ('<script>var countPage = 3; var currentPage = 1;\n'
            'createPageHTML(countPage, currentPage, "index", "html");</script>')
    assert trs_pages(text, "http://x.gov.cn/a/index_1.html") == ["http://x.gov.cn/a/index.html",
                                                                 "http://x.gov.cn/a/index_2.html"]
    assert trs_pages('<script>createPageHTML(countPage, 0, "index", "html");</script>', "http://x.gov.cn/") == []


def test_trs_document_write_pager_loop_real_report_column():
    """恩格贝's 信息公开年报 column: `var countPage = 2//共多少页` and links written by document.write as
    "index"+"_" + i + "."+"html"."""
    text = _real("egb", "xxgk/xxgknb/index.html").decode()
    assert "createPageHTML" not in text
    assert trs_pages(text, EGB) == ["http://www.egb.gov.cn/xxgk/xxgknb/index_1.html"]


def test_script_pager_page_count_is_bounded():
    text = '<script>createPageHTML(999999, 0, "index", "html");</script>'
    assert len(trs_pages(text, "http://x.gov.cn/")) == MAX_SCRIPT_PAGES - 1


def test_numbered_page_links_real_page_and_what_is_not_one():
    root = load_html(_real("egb", "xxgk/xxgknb/index.html")).root
    assert numbered_pages(page_links(root, EGB), EGB) == [
        Link("http://www.egb.gov.cn/xxgk/xxgknb/index_1.html", "2")]
    here = "http://x.gov.cn/list/index.html"
    links = [Link("http://x.gov.cn/list/index_2.html", "第3页"), Link("http://x.gov.cn/list/?page=4", "4"),
             Link("http://x.gov.cn/other/index_1.html", "2"), Link("http://x.gov.cn/list/t2024_1.html", "5"),
             Link("http://y.gov.cn/list/index_1.html", "2"), Link("http://x.gov.cn/list/index_3.html", "下载")]
    assert [link.url for link in numbered_pages(links, here)] == [
        "http://x.gov.cn/list/index_2.html", "http://x.gov.cn/list/?page=4"]  # the folder is its index page
    query = "http://x.gov.cn/list.jsp?page=1"
    assert numbered_pages([Link("http://x.gov.cn/list.jsp?page=2", "2")], query) == [
        Link("http://x.gov.cn/list.jsp?page=2", "2")]


def test_meta_refresh_written_by_script_real_page():
    """道真县人社局's 政务公开 page is only a script that writes a meta refresh to its first column."""
    text = _real("dzrss", "zwgk/index.html").decode()
    assert refresh_targets(text, DZ + "/zwgk/index.html") == [DZ + "/zwgk/gsgg/"]
    markup = '<meta http-equiv="refresh" content="0; url=../xxgk/">'
    assert refresh_targets(markup, "http://x.gov.cn/a/b.html") == ["http://x.gov.cn/xxgk/"]
    assert refresh_targets("<p>no refresh</p>", "http://x.gov.cn/") == []


def test_trs_dynamic_list_is_noticed_not_followed():
    """TRS "动静结合": the page names list2.trsapi with recordCount, prepage and maxStaticIndex (as a public
    scraper of a 福建 TRS portal reads them); the API's own format is not public, so it is reported, not guessed."""
    text = "<script>new Pager({url: '/list2.trsapi', recordCount: '137', maxStaticIndex: 5, prepage: 20});</script>"
    dynamic = trs_dynamic_list(text)
    assert (dynamic.records, dynamic.per_page, dynamic.static_pages) == (137, 20, 5)
    assert "not fetched" in str(dynamic)
    assert trs_dynamic_list(_real("egb", "xxgk/xxgknb/index.html").decode()) is None
