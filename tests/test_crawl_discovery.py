"""The crawler's pure decisions: which links to follow, how CMS lists page, what is a report, the registry."""

from __future__ import annotations

import re

import pytest

from crawler.links import Link, LinkKind, attachment_rank, attachment_urls, classify, followable, page_links
from crawler.paging import dataproxy_ranges, dataproxy_url, hanweb_column, hanweb_records, trs_pages
from crawler.portals import load_registry, resolve
from crawler.recognise import is_report, page_hints, page_title, title_suggests_report, with_hints
from nianbao.demo.site import HANWEB_COLUMN, build_pages
from parsers import Report, load_html

BASE = "http://www.xtx.gov.cn/6571/6603/18706/index.html"


def _tree(html: str):
    """A page's tree as the spider reads it: the parser's (one parse for both)."""
    return load_html(html.encode()).root


@pytest.mark.parametrize(("text", "url", "in_area", "kind"), [
    ("湘潭县2020年度政府信息公开工作年度报告", "content_922157.html", False, LinkKind.REPORT),
    ("政府信息公开年报（2024年）", "/nb/2024.html", False, LinkKind.REPORT),
    ("2024年年报.pdf", "/up/a.pdf", False, LinkKind.ATTACHMENT),
    ("办事指南.doc", "/up/zn.doc", False, None),
    ("政务公开", "/zwgk/", False, LinkKind.NAV),
    ("部门信息公开", "/bm/", False, LinkKind.NAV),
    ("易俗河镇", "/xz/ysh/", True, LinkKind.NAV),
    ("易俗河镇", "/xz/ysh/", False, None),  # unit names lead somewhere only inside the disclosure area
    ("政府信息公开指南", "/zn.html", False, None),
    ("依申请公开", "/ysq.html", False, None),
    ("下一页", "index_2.html", False, LinkKind.PAGER),
    ("新闻中心", "/news/", True, None),
])
def test_classify(text, url, in_area, kind):
    assert classify(Link(BASE.rsplit("/", 1)[0] + "/" + url.lstrip("/"), text), in_area=in_area) is kind


def test_report_path_hint_marks_report_pages_whatever_their_text():
    hint = re.compile(r"^/c\d+/\d{8}/i\d+\.html$")
    link = Link("http://www.hnyx.gov.cn/c26829/20250126/i2310545.html", "攸县人民政府办公室…")
    assert classify(link, in_area=False, report_path=hint) is LinkKind.REPORT


def test_page_links_prefer_the_full_title_of_truncated_items():
    title = "湘潭县数据局2024年政府信息公开工作年度报告"
    html = f'<a href="c.html" title="{title}">湘潭县数据局2024年政府…</a><a href="#x">x</a>'
    assert page_links(_tree(html), BASE) == [
        Link("http://www.xtx.gov.cn/6571/6603/18706/c.html", title)]


def test_attachment_urls_are_the_document_links_absolute_without_fragment():
    html = ('<a href="../../a.PDF#page=2">附件</a><a href="index.html">首页</a><a href=" b.docx?v=1 ">b</a>'
            '<a href="#c.pdf">c</a><a>no href</a><a href="/files/c.xls">c</a><a href="list.html?f=x.pdf">d</a>')
    assert attachment_urls(_tree(html), BASE) == [
        "http://www.xtx.gov.cn/6571/a.PDF", "http://www.xtx.gov.cn/6571/6603/18706/b.docx?v=1",
        "http://www.xtx.gov.cn/files/c.xls"]


def test_followable_only_own_hosts_and_never_other_addresses():
    hosts = ("www.xtx.gov.cn",)
    assert followable("http://www.xtx.gov.cn/a.html", hosts)
    assert followable("https://sub.www.xtx.gov.cn/a.html", hosts)
    assert not followable("http://www.gov.cn/", hosts)
    assert not followable("http://10.0.0.8/a.html", hosts)
    assert not followable("http://localhost/a.html", hosts)
    assert not followable("ftp://www.xtx.gov.cn/a.pdf", hosts)
    assert followable("http://127.0.0.1:8000/a.html", ("127.0.0.1",))
    assert not followable("http://127.0.0.2:8000/a.html", ("127.0.0.1",))


def test_attachments_prefer_exact_formats():
    urls = ["/a.pdf", "/a.wps", "/a.docx", "/a.jpg"]
    assert sorted(urls, key=attachment_rank) == ["/a.docx", "/a.pdf", "/a.wps", "/a.jpg"]


def test_trs_pager_written_by_javascript():
    text = '<script>createPageHTML(4, 1, "index", "shtml");</script>'
    assert trs_pages(text, BASE) == [
        "http://www.xtx.gov.cn/6571/6603/18706/index.shtml",
        "http://www.xtx.gov.cn/6571/6603/18706/index_2.shtml",
        "http://www.xtx.gov.cn/6571/6603/18706/index_3.shtml",
    ]
    assert trs_pages("<p>no pager</p>", BASE) == []


def test_hanweb_column_read_from_the_page_script():
    page = build_pages()["/col/col3571938/index.html"].body.decode()
    column = hanweb_column(page, "http://www.hnyx.gov.cn/col/col3571938/index.html")
    assert column.fields == HANWEB_COLUMN
    assert (column.perpage, column.shown, column.total) == (6, 6, 14)
    assert dataproxy_ranges(column, group=45) == [(7, 14)]
    assert dataproxy_ranges(column, group=5) == [(7, 11), (12, 14)]
    assert dataproxy_url(column, 7, 14) == (
        "http://www.hnyx.gov.cn/module/web/jpage/dataproxy.jsp?startrecord=7&endrecord=14&perpage=6")
    assert "art_3571938_2310545" not in "".join(hanweb_records(page))  # only behind dataproxy


def test_hanweb_without_total_asks_one_group_at_a_time():
    text = ('<script type="text/xml"><datastore><recordset><record><![CDATA[<li>a</li>]]></record></recordset>'
            "</datastore></script><script>var param = {columnid: '77', unitid: '8', webid: '1'};</script>")
    column = hanweb_column(text, "http://x.gov.cn/col/col77/index.html")
    assert column.fields == {"columnid": "77", "unitid": "8", "webid": "1"} and column.total is None
    assert dataproxy_ranges(column, group=45) == [(2, 4)]
    assert hanweb_column("<p>plain page</p>", "http://x.gov.cn/") is None


@pytest.mark.parametrize(("title", "worth_parsing"), [
    ("湘潭县数据局2024年政府信息公开工作年度报告", True),
    ("政府信息公开年报", True),
    ("关于做好2024年度政府信息公开工作年度报告编制发布工作的通知", False),
    ("一图读懂湘潭县2023年政府信息公开工作年度报告（解读）", False),
    ("湘潭县人民政府政府信息公开指南", False),
    (None, False),
])
def test_title_suggests_report(title, worth_parsing):
    assert title_suggests_report(title) is worth_parsing


def test_is_report_needs_the_template_and_a_report_title():
    assert is_report(Report(source="x", format="2021"), "湘潭县2024年政府信息公开工作年度报告")
    assert not is_report(Report(source="x", format="unknown"), "湘潭县2024年政府信息公开工作年度报告")
    assert not is_report(Report(source="x", format="2021"), "关于2024年度报告的解读")
    assert is_report(Report(source="x", title="湘潭县2024年年度报告", format="2019"))


def test_page_metadata_fills_what_an_attachment_does_not_say():
    html = ('<html><head><title>标题_湘潭县人民政府</title>'
            '<meta name="ArticleTitle" content="湘潭县人社局2024年年度报告">'
            '<meta name="PubDate" content="2025-01-22 09:30"><meta name="ContentSource" content="湘潭县人社局">'
            "</head></html>")
    root = _tree(html)
    assert page_title(root) == "湘潭县人社局2024年年度报告"
    assert page_title(_tree("<title>信息公开年报_湘潭县人民政府</title>")) == "信息公开年报"
    hints = page_hints(root)
    assert hints == {"title": "湘潭县人社局2024年年度报告", "agency": "湘潭县人社局", "published": "2025-01-22",
                     "year": 2024}
    report = with_hints(Report(source="a.pdf", agency="湘潭县人力资源和社会保障局", format="2021"), hints)
    assert (report.agency, report.year, report.published) == ("湘潭县人力资源和社会保障局", 2024, "2025-01-22")


def test_registry_ships_xtx_and_hnyx():
    registry = load_registry()
    assert registry["xtx"].region == "湘潭县" and registry["xtx"].hosts == ("www.xtx.gov.cn",)
    assert registry["hnyx"].region == "攸县" and "http://www.hnyx.gov.cn/" in registry["hnyx"].start_urls
    hint = re.compile(registry["xtx"].hints["report_path"])
    assert hint.search("/6571/6603/18706/content_922157.html")


def test_start_url_of_a_registered_host_inherits_its_region_and_is_that_host_only():
    (portal,) = resolve(None, ["http://www.xtx.gov.cn/6571/6603/18706/index.html"])
    assert (portal.name, portal.region, portal.hosts) == ("xtx", "湘潭县", ("www.xtx.gov.cn",))
    (adhoc,) = resolve(None, ["http://www.example.gov.cn/xxgk/"])
    assert (adhoc.name, adhoc.region, adhoc.hosts) == ("www.example.gov.cn", None, ("www.example.gov.cn",))
    with pytest.raises(ValueError, match="http"):
        resolve(None, ["file:///etc/passwd"])
    assert [p.name for p in resolve(None, None)] == ["xtx", "hnyx"]  # no name, no URL: every registered portal
