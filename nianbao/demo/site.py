"""The pages of a small county portal (`nianbao demo`, and the tests' offline portal), built from real-format
reports shipped beside it in files/ (the same bytes as tests/fixtures/).

It has what real county sites have: a TRS column paged by createPageHTML, a Hanweb column paged only through
dataproxy.jsp, department and township columns behind unit names, GBK pages, report pages whose report is a
PDF/DOCX attachment, noise (a notice, an explainer, a guide, news), an offsite and a private-address link,
a robots-disallowed report, a dead (404) item, a page that fails once with 500, and a redirect.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

FIXTURES = Path(__file__).resolve().parent / "files"
SITE = "湘潭县人民政府"
LAST_MODIFIED = "Wed, 15 Jan 2025 08:00:00 GMT"


@dataclass(frozen=True)
class Page:
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    location: str | None = None  # for redirects


@dataclass(frozen=True)
class Expected:
    """A report the crawler must find, once: the page that publishes it and what the archive must say."""

    page: str  # path of the report page
    agency: str
    year: int
    in_attachment: bool = False  # the page only says 详见附件: the report row is the attachment's


# What a crawl of the portal must find (paths; tests prepend the server's base URL).
EXPECTED = (
    Expected("/6571/6603/18706/content_922157.html", "湘潭县", 2020),
    Expected("/6571/6603/bm/sjj/content_930001.html", "湘潭县数据局", 2024),
    Expected("/6571/6603/bm/rsj/content_930002.html", "湘潭县人力资源和社会保障局", 2024, in_attachment=True),
    Expected("/6571/6603/xz/ysh/content_930003.html", "湘潭县易俗河镇", 2024),
    Expected("/art/2025/1/26/art_3571938_2310545.html", "攸县人民政府办公室", 2024),
)
NOISE = ("/6571/6603/18706/content_922100.html", "/6571/6603/18706/content_922101.html", "/zwgk/news_1.html",
         "/6571/zn.html")
DISALLOWED = "/private/2019nb.html"
MISSING = "/6571/6603/18706/content_922150.html"
FLAKY = "/6571/6603/xz/ysh/content_930003.html"
REDIRECT = "/xxgk/nb/"
ROBOTS = "User-agent: *\nDisallow: /private/\n"

HANWEB_COLUMN = {"col": "1", "appid": "1", "webid": "2", "path": "/", "columnid": "3571938", "sourceContentType": "1",
                 "unitid": "6788916", "webname": "攸县人民政府", "permissiontype": "0"}
HANWEB_PERPAGE = 6


def fixture_body(name: str) -> str:
    """The inside of <body> of a fixture page: the report as the CMS editor pasted it."""
    text = (FIXTURES / name).read_text(encoding="utf-8")
    return re.search(r"<body[^>]*>(.*)</body>", text, re.S).group(1)


def chrome(title: str, content: str, charset: str = "utf-8", metas: str = "") -> str:
    return f"""<!DOCTYPE html>
<html><head><meta http-equiv="Content-Type" content="text/html; charset={charset}">
<title>{title}_{SITE}</title>
<meta name="SiteName" content="{SITE}">{metas}
</head><body>
<div class="header"><a href="/">首页</a> | <a href="/zwgk/index.html">政务公开</a>
 | <a href="/news/index.html">新闻中心</a> | <a href="/6571/zn.html">政府信息公开指南</a></div>
<div class="main">{content}</div>
<div class="footer">主办：{SITE}办公室 <a href="http://www.gov.cn/">中国政府网</a></div>
</body></html>"""


def column_page(title: str, items: list[tuple[str, str]], extra: str = "", charset: str = "utf-8") -> str:
    """A column page; long titles are cut as CMS lists do, the full title stays in the title attribute."""
    lis = "\n".join(
        f'<li><a href="{href}" title="{text}" target="_blank">{text[:18] + "…" if len(text) > 18 else text}</a>'
        f"<span>2025-01-20</span></li>" for href, text in items)
    return chrome(title, f'<h2>{title}</h2><ul class="list">\n{lis}\n</ul>{extra}', charset)


def article(title: str, body: str, source: str, date: str, charset: str = "utf-8") -> str:
    metas = (f'\n<meta name="ColumnName" content="政府信息公开年报">\n<meta name="ArticleTitle" content="{title}">'
             f'\n<meta name="PubDate" content="{date} 09:30">\n<meta name="ContentSource" content="{source}">')
    content = (f'<div class="article"><h1>{title}</h1><div class="info">发布时间：{date} 来源：{source}</div>'
               f'<div class="TRS_Editor">{body}</div></div>')
    return chrome(title, content, charset, metas)


def _html(text: str) -> Page:
    return Page(text.encode("utf-8"))


def _gbk(text: str) -> Page:
    return Page(text.encode("gbk"), "text/html; charset=GBK")


def attachments(*links: tuple[str, str]) -> str:
    return "".join(f'<p>附件：<a href="{href}">{name}</a></p>' for href, name in links)


def hanweb_record(href: str, title: str, date: str = "2025-01-26") -> str:
    return f'<li><a href="{href}" title="{title}" target="_blank">{title}</a><span>{date}</span></li>'


def hanweb_records() -> list[str]:
    """The 14 records of the Hanweb column, newest first; the report is record 11, beyond the first page."""
    titles = [f"攸县政务服务中心{n}月工作动态" for n in range(1, 11)]
    records = [hanweb_record(f"/art/2025/1/{n}/art_3571938_23100{n:02d}.html", t) for n, t in enumerate(titles, 1)]
    records.append(hanweb_record("/art/2025/1/26/art_3571938_2310545.html",
                                 "攸县人民政府办公室2024年政府信息公开工作年度报告"))
    records += [hanweb_record(f"/art/2024/12/{n}/art_3571938_22000{n}.html", f"攸县乡村振兴工作简报第{n}期")
                for n in range(1, 4)]
    return records


def dataproxy_answer(start: int, end: int) -> bytes:
    records = hanweb_records()
    chosen = "".join(f"<record><![CDATA[{r}]]></record>" for r in records[start - 1:end])
    pages = -(-len(records) // HANWEB_PERPAGE)
    return (f'<?xml version="1.0" encoding="UTF-8"?><datastore><totalrecord>{len(records)}</totalrecord>'
            f"<totalpage>{pages}</totalpage><recordset>{chosen}</recordset></datastore>").encode()


def _hanweb_column() -> str:
    records = "".join(f"<record><![CDATA[{r}]]></record>\n" for r in hanweb_records()[:HANWEB_PERPAGE])
    query = "&".join(f"{k}={quote(v)}" for k, v in HANWEB_COLUMN.items())
    store = (f'<div id="{HANWEB_COLUMN["columnid"]}"><script type="text/xml"><datastore>'
             f'<nextgroup><![CDATA[<a href="/module/web/jpage/dataproxy.jsp?page=1&{query}"></a>]]></nextgroup>'
             f"<recordset>\n{records}</recordset></datastore></script></div>")
    script = ('<script language="javascript" src="/module/web/jpage/jpage.js"></script>\n'
              f'<script>var totalRecord = {len(hanweb_records())};\n'
              f'$("#{HANWEB_COLUMN["columnid"]}").jpage({{dataStore: dataStore, perPage: {HANWEB_PERPAGE}, '
              'proxyUrl: "/module/web/jpage/dataproxy.jsp", groupSize: 3, barPosition: "bottom"});</script>')
    return chrome("攸县信息公开年报", f"<h2>信息公开年报</h2>{store}{script}")


def build_pages() -> dict[str, Page]:
    """Path -> page. Paths missing here answer 404."""
    pages: dict[str, Page] = {
        "/robots.txt": Page(ROBOTS.encode(), "text/plain"),
        "/": _html(chrome(SITE, """<ul class="nav">
<li><a href="/zwgk/index.html">政务公开</a></li>
<li><a href="/xxgk/nb/">政府信息公开年报</a></li>
<li><a href="/col/col3571938/index.html">攸县信息公开年报</a></li>
<li><a href="/news/index.html">新闻中心</a></li>
<li><a href="http://www.xxgk.example.gov.cn/2024nb.html">2024年政府信息公开工作年度报告汇总</a></li>
<li><a href="http://10.0.0.8/xxgk/2024nb.html">内网2024年度报告</a></li>
<li><a href="http://localhost/2024nb.html">本机2024年度报告</a></li>
</ul>""")),
        "/news/index.html": _html(column_page("新闻中心", [("/news/1.html", "县领导调研春耕生产")])),
        "/zwgk/index.html": _html(column_page("政务公开", [
            ("/6571/index.html", "政府信息公开"),
            ("/zwgk/news_1.html", "湘潭县召开2025年政务公开工作推进会"),
        ])),
        "/zwgk/news_1.html": _html(article("湘潭县召开2025年政务公开工作推进会",
                                            "<p>1月20日，我县召开2025年政务公开工作推进会。</p>", SITE, "2025-01-20")),
        "/6571/index.html": _html(column_page("政府信息公开", [
            ("/6571/6603/index.html", "政府信息公开年报"),
            ("/6571/zn.html", "政府信息公开指南"),
            ("/6571/ysq.html", "依申请公开"),
        ])),
        "/6571/zn.html": _html(article("湘潭县人民政府政府信息公开指南",
                                        "<p>为了更好地提供政府信息公开服务，编制本指南。</p>", SITE, "2024-03-01")),
        "/6571/6603/index.html": _html(column_page("政府信息公开年报", [
            ("/6571/6603/18706/index.html", "县政府信息公开年报"),
            ("/6571/6603/bm/index.html", "部门信息公开年报"),
            ("/6571/6603/xz/index.html", "乡镇信息公开年报"),
        ])),
        # TRS column: two pages, the second reachable only through createPageHTML.
        "/6571/6603/18706/index.html": _html(column_page("县政府信息公开年报", [
            ("./content_922100.html", "关于做好2024年度政府信息公开工作年度报告编制发布工作的通知"),
            ("./content_922101.html", "一图读懂湘潭县2023年政府信息公开工作年度报告（解读）"),
            ("./content_922150.html", "湘潭县2023年政府信息公开工作年度报告"),
        ], '<div class="page"><script>createPageHTML(2, 0, "index", "html");</script></div>')),
        "/6571/6603/18706/index_1.html": _html(column_page("县政府信息公开年报", [
            ("./content_922157.html", "湘潭县2020年度政府信息公开工作年度报告"),
            ("/private/2019nb.html", "湘潭县2019年政府信息公开工作年度报告"),
        ], '<div class="page"><script>createPageHTML(2, 1, "index", "html");</script></div>')),
        "/6571/6603/18706/content_922100.html": _html(article(
            "关于做好2024年度政府信息公开工作年度报告编制发布工作的通知",
            "<p>各乡镇、县直各单位：请于2025年1月31日前发布本单位2024年度报告。</p>", "湘潭县政务服务中心",
            "2025-01-05")),
        "/6571/6603/18706/content_922101.html": _html(article(
            "一图读懂湘潭县2023年政府信息公开工作年度报告（解读）", "<p>图解。</p>", SITE, "2024-01-30")),
        "/6571/6603/18706/content_922157.html": _html(article(
            "湘潭县2020年度政府信息公开工作年度报告",
            fixture_body("seed-003.html") + attachments(("/uploads/2021/01/xtx-2020-nb.pdf", "PDF版")),
            SITE, "2021-01-29")),
        "/uploads/2021/01/xtx-2020-nb.pdf": Page((FIXTURES / "seed-003.pdf").read_bytes(), "application/pdf"),
        # Departments, behind unit names; 县数据局's column is GBK and paged by a plain 下一页 link.
        "/6571/6603/bm/index.html": _html(column_page("部门信息公开年报", [
            ("./sjj/index.html", "县数据局"), ("./rsj/index.html", "县人力资源和社会保障局"),
        ])),
        "/6571/6603/bm/sjj/index.html": _gbk(column_page("县数据局", [("/news/2.html", "数据局召开数据安全培训会")],
                                                    '<div class="page"><a href="index_2.html">下一页</a></div>',
                                                    charset="gbk")),
        "/6571/6603/bm/sjj/index_2.html": _gbk(column_page("县数据局", [
            ("./content_930001.html", "湘潭县数据局2024年政府信息公开工作年度报告"),
        ], '<div class="page"><a href="index.html">上一页</a></div>', charset="gbk")),
        "/6571/6603/bm/sjj/content_930001.html": _gbk(article(
            "湘潭县数据局2024年政府信息公开工作年度报告",
            (FIXTURES / "seed-000.gbk.html").read_bytes().decode("gbk").split("<body>")[1].split("</body>")[0],
            "湘潭县数据局", "2025-01-21", charset="gbk")),
        # 县人社局 publishes its report as attachments; the page itself has no tables.
        "/6571/6603/bm/rsj/index.html": _html(column_page("县人力资源和社会保障局", [
            ("./content_930002.html", "湘潭县人力资源和社会保障局2024年政府信息公开工作年度报告"),
        ])),
        "/6571/6603/bm/rsj/content_930002.html": _html(article(
            "湘潭县人力资源和社会保障局2024年政府信息公开工作年度报告",
            "<p>湘潭县人力资源和社会保障局2024年政府信息公开工作年度报告详见附件。</p>"
            + attachments(("/uploads/2025/01/rsj-2024-nb.pdf", "年度报告.pdf"),
                           ("/uploads/2025/01/rsj-2024-nb.docx", "年度报告.docx")),
            "湘潭县人力资源和社会保障局", "2025-01-22")),
        "/uploads/2025/01/rsj-2024-nb.pdf": Page((FIXTURES / "seed-004.pdf").read_bytes(), "application/pdf"),
        "/uploads/2025/01/rsj-2024-nb.docx": Page(
            (FIXTURES / "seed-004.docx").read_bytes(),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        # Townships.
        "/6571/6603/xz/index.html": _html(column_page("乡镇信息公开年报", [("./ysh/index.html", "易俗河镇")])),
        "/6571/6603/xz/ysh/index.html": _html(column_page("易俗河镇", [
            ("./content_930003.html", "湘潭县易俗河镇2024年政府信息公开工作年度报告"),
        ])),
        FLAKY: _html(article("湘潭县易俗河镇2024年政府信息公开工作年度报告", fixture_body("seed-002.html"),
                              "湘潭县易俗河镇人民政府", "2025-01-23")),
        # 攸县's Hanweb column.
        "/col/col3571938/index.html": _html(_hanweb_column()),
        "/art/2025/1/26/art_3571938_2310545.html": _html(article(
            "攸县人民政府办公室2024年政府信息公开工作年度报告",
            fixture_body("seed-001.html") + attachments(("/uploads/2025/01/yx-2024-nb.pdf", "PDF版")),
            "攸县人民政府办公室", "2025-01-26")),
        "/uploads/2025/01/yx-2024-nb.pdf": Page((FIXTURES / "seed-001.pdf").read_bytes(), "application/pdf"),
        DISALLOWED: _html(article("湘潭县2019年政府信息公开工作年度报告", "<p>内部。</p>", SITE, "2020-01-20")),
        REDIRECT: Page(b"", status=301, location="/6571/6603/index.html"),
    }
    return pages
