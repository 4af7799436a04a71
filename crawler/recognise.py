"""Is this page an annual report? A pure test on the page's title and what the parser made of its body.

Why not URLs: report columns also hold 解读 (explainers), 通知 (notices) and 政府信息公开指南 (guides), often
titled with the same words; what sets a report apart is the statutory template (its tables, which the
parser recognises as format 2021/2019) and a title that is not one of those document kinds.
"""

from __future__ import annotations

import dataclasses
import re

from lxml import etree

from parsers import Report
from parsers.meta import find_year, split_title

_REPORT_WORDS = re.compile(r"年度报告|年报")
_NOT_A_REPORT = re.compile(r"指南|通知|公告|通告|解读|意见|办法|规定|制度|会议|培训|征集|答复|目录|计划|要点")
# What CMSs write on the "page not found" page they answer with 200 instead of 404 (a "soft 404").
_NOT_FOUND = re.compile(r"页面不存在|页面未找到|找不到.{0,8}页面|不存在或已被?删除|已被删除|(?:信息|文章|内容)不存在"
                        r"|\b404\b|not found", re.IGNORECASE)
_SHORT_PAGE = 300  # characters of text; a "not found" page has little more than its apology and a link home


# The page's tree is the parser's (parsers.load_html: one parse of a page for the crawler and the parser), read by
# XPaths compiled once.
_ARTICLE_TITLE = etree.XPath("//meta[translate(@name,'ARTICLETI','articleti')='articletitle']/@content")
_TITLE_TEXT = etree.XPath("//title//text()")
_META = etree.XPath("//meta[@name=$name]/@content")
_HEADINGS_TEXT = etree.XPath("//h1//text() | //h2//text()")
_BODY_TEXT = etree.XPath("//body//text()[not(ancestor::script) and not(ancestor::style)]")


def page_title(root: etree._Element) -> str | None:
    """The article's title: gov-site <meta name="ArticleTitle">, else the first part of <title>
    ("标题_湘潭县人民政府" -> "标题")."""
    meta = next(iter(_ARTICLE_TITLE(root)), None)
    if meta and meta.strip():
        return meta.strip()
    title = " ".join("".join(_TITLE_TEXT(root)).split())
    parts = split_title(title) if title else []
    return parts[0] if parts else None


def title_suggests_report(title: str | None) -> bool:
    """Worth parsing as a report: says 年度报告/年报 and is not a notice, guide or explainer."""
    return bool(title and _REPORT_WORDS.search(title) and not _NOT_A_REPORT.search(title))


def is_report(report: Report, title: str | None = None) -> bool:
    """A report follows the statutory template (the parser found its tables, or its text carries their labels
    although the tables could not be read: stored, and shown as unparsed) and is not titled as another kind of
    document. `title` is the page's or link's title; the parsed one is used when it is missing."""
    title = title or report.title
    templated = report.format != "unknown" or report.unread_tables is not None
    return templated and not (title and _NOT_A_REPORT.search(title))


def is_not_found_page(root: etree._Element) -> bool:
    """A soft 404: a page that answered 200 but says it does not exist. Judged on the title and headings, and on
    the whole text only when the page is short — a report is long, and may well mention 404 cases or 已删除."""
    title = page_title(root) or ""
    headings = " ".join(_HEADINGS_TEXT(root))
    if _NOT_FOUND.search(title) or _NOT_FOUND.search(headings):
        return True
    text = " ".join(_BODY_TEXT(root))
    text = " ".join(text.split())
    return len(text) < _SHORT_PAGE and bool(_NOT_FOUND.search(text))


def page_hints(root: etree._Element) -> dict[str, str | int | None]:
    """What a report page says about the attachment that carries the report: title, publisher, date."""
    title = page_title(root)

    def meta(name: str) -> str | None:
        value = next(iter(_META(root, name=name)), None)
        return value.strip() or None if value else None

    return {"title": title, "agency": meta("ContentSource"), "published": (meta("PubDate") or "")[:10] or None,
            "year": find_year(title, "")}


def with_hints(report: Report, hints: dict[str, str | int | None]) -> Report:
    """Fill what the document itself does not say from the page that links to it; the document wins."""
    missing = {k: v for k, v in hints.items() if v is not None and getattr(report, k, None) is None}
    return dataclasses.replace(report, **missing) if missing else report
