"""Which links on a government page lead to annual reports: pure functions over (URL, link text).

Why by link text: county CMSs put the disclosure area behind menu items such as 政务公开 / 信息公开年报 /
部门信息公开, and reports are titled "<机关><年份>年政府信息公开工作年度报告" — following those words, not the
whole site, keeps a crawl to a few hundred requests.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urldefrag, urljoin, urlsplit

from lxml import etree

ATTACHMENT_SUFFIXES = (".pdf", ".doc", ".docx", ".wps", ".xls", ".xlsx", ".et", ".jpg", ".jpeg", ".png", ".gif",
                       ".tif", ".tiff", ".bmp")
# Preferred order when a report page offers the same report in several forms: the easiest to read exactly first.
ATTACHMENT_PREFERENCE = (".docx", ".xlsx", ".xls", ".pdf", ".doc", ".wps", ".et")

_DISCLOSURE = re.compile(r"政务公开|信息公开|公开目录|公开年报|年度报告|年报|主动公开|部门公开|乡镇公开|镇街|乡镇|部门")
_NOT_A_COLUMN = re.compile(
    r"指南|依申请|申请表|制度|规定|意见|通知|解读|会议|培训|征集|答复|留言|信箱|登录|注册|搜索|新闻|要闻|动态|视频|图片|专题"
)
# An organisation listed on a 部门信息公开 / 乡镇信息公开 page (县人社局, 易俗河镇, 天易街道 …).
_UNIT = re.compile(r"^[\u4e00-\u9fa5（）()]{1,24}(?:局|委|办|镇|乡|街道|中心|院|署|政府|办公室|管委会|所|站|队|社)$")
_REPORT_LINK = re.compile(r"(?:19|20)\d{2}.*?(?:年度报告|年报)|(?:年度报告|年报).*?(?:19|20)\d{2}")
_PAGER = re.compile(r"^(?:下一页|下页|后页|尾页|末页|最后一页|>|>>|»|›)$")
_SITE_ROOTS = {"", "/", "/index.html", "/index.htm", "/index.shtml", "/index.jsp"}


class LinkKind(StrEnum):
    REPORT = "report"  # a detail page whose text says it is an annual report
    ATTACHMENT = "attachment"  # a document file
    NAV = "nav"  # a menu item / column / unit leading into the disclosure area
    PAGER = "pager"  # the next page of the same list


@dataclass(frozen=True)
class Link:
    url: str
    text: str


def page_links(root: etree._Element, base_url: str, limit: int | None = None) -> list[Link]:
    """Every <a href> of a page, absolute and without fragment; text is the title attribute when the visible
    text is shorter (lists truncate long report titles to "…年度报…"). With `limit`, at most limit + 1 (enough
    to tell that a page has more than `limit`, without building a million links first)."""
    links: list[Link] = []
    # lxml's own iteration, not parsel's css("a[href]") and "::text": the same elements and text nodes in the
    # same order, without a Selector object per anchor and per text (a list page's links cost 1.8 ms that way).
    for anchor in root.iter("a"):
        href = (anchor.get("href") or "").strip()
        if not href or href.startswith(("javascript:", "mailto:", "tel:", "#")):
            continue
        text = " ".join("".join(anchor.itertext()).split())
        title = " ".join((anchor.get("title") or "").split())
        url = urldefrag(urljoin(base_url, href))[0]
        links.append(Link(url=url, text=title if len(title) > len(text) else text))
        if limit is not None and len(links) > limit:
            break
    return links


def attachment_urls(root: etree._Element, base_url: str) -> list[str]:
    """The absolute URLs (without fragment) of a page's links to document files, in page order.

    A report page carries a portal's whole menu; only its few attachment links matter there, so the suffix is
    tested on the href as written (urljoin keeps the last path segment) before the costlier urljoin."""
    urls = []
    for anchor in root.iter("a"):
        href = (anchor.get("href") or "").strip()
        if href and is_attachment(href):
            urls.append(urldefrag(urljoin(base_url, href))[0])
    return urls


def is_attachment(url: str) -> bool:
    return urlsplit(url).path.lower().endswith(ATTACHMENT_SUFFIXES)


def attachment_rank(url: str) -> int:
    path = urlsplit(url).path.lower()
    return next((i for i, suffix in enumerate(ATTACHMENT_PREFERENCE) if path.endswith(suffix)),
                len(ATTACHMENT_PREFERENCE))


def is_site_root(url: str) -> bool:
    return urlsplit(url).path in _SITE_ROOTS


def looks_like_report_link(text: str) -> bool:
    return bool(_REPORT_LINK.search(text))


def classify(link: Link, *, in_area: bool, report_path: re.Pattern[str] | None = None) -> LinkKind | None:
    """What a link on a listing page is, or None when it leads nowhere a report could be.

    `in_area`: the page is inside the disclosure area, where unit names (县人社局, 易俗河镇) lead to the units'
    own columns.
    """
    text = link.text
    if is_attachment(link.url):
        return LinkKind.ATTACHMENT if looks_like_report_link(text) else None
    if looks_like_report_link(text) or (report_path is not None and report_path.search(urlsplit(link.url).path)):
        return LinkKind.REPORT
    if _PAGER.match(text):
        return LinkKind.PAGER
    if _NOT_A_COLUMN.search(text):
        return None
    if _DISCLOSURE.search(text) or (in_area and _UNIT.match(text)):
        return LinkKind.NAV
    return None


def followable(url: str, hosts: tuple[str, ...] | list[str]) -> bool:
    """Only http(s) on the crawl's own hosts or their subdomains. An IP address (private, loopback or any
    other) is followed only when the crawl was started on it, and `localhost` never by name."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not host:
        return False
    if host in hosts:
        return True
    if _is_ip(host) or host == "localhost":
        return False
    return any(host.endswith("." + allowed) for allowed in hosts)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
