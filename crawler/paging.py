"""List pages that government CMSs paginate without plain links: pure functions over page text.

TRS WCM writes its pager with `createPageHTML(countPage, currentPage, "index", "html")` (pages index.html,
index_1.html, …), with literal numbers or with variables set earlier in the page (`var countPage = 3`); older TRS
templates write the page links themselves with `document.write("<a href=\"index" + "_" + i + "." + "html\">")` in
a loop up to `countPage`. Hanweb (大汉) embeds the first records as CDATA in `<script type="text/xml"><datastore>`
and serves the rest only to `POST /module/web/jpage/dataproxy.jsp?startrecord=N&endrecord=M&perpage=P` with the
column's ids as form fields. None of these has an <a> to follow. Plain numbered page links ("2", "第3页") do, but
their text says nothing a link classifier recognises, so `numbered_pages` picks them out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import parse_qsl, urljoin, urlsplit

from crawler.links import Link

# createPageHTML(count, current, "name", "ext"): count and current are numbers or the names of variables.
_CREATE_PAGE = re.compile(
    r"createPageHTML\(\s*['\"]?(\w+)['\"]?\s*,\s*['\"]?(\w+)['\"]?\s*,\s*['\"]([\w.-]+)['\"]\s*,\s*['\"](\w+)['\"]"
)
# A page count a pager script keeps in a variable (TRS: countPage; other templates: pageCount, totalPage …).
_COUNT_VARS = ("countPage", "pageCount", "totalPage", "totalPages", "nPageCount", "page_count")
_ASSIGN = r"(?<![\w.$])(?:var\s+|let\s+|const\s+)?{name}\s*=\s*['\"]?(\d+)"
# The page name written by document.write once the script's "a" + "b" literal joins are undone:
# "index_" + i + ".html"  ->  (index, html).
_JOIN = re.compile(r"(?<!\\)[\"']\s*\+\s*[\"']")
_WRITTEN_PAGE = re.compile(r"([\w-]+)_[\"']\s*\+\s*\(?\s*[\w$]+[^;\"']{0,20}[\"']\.(\w+)")
_NUMBERED = re.compile(r"^(?:第\s*)?(\d{1,4})(?:\s*页)?$|^\[\s*(\d{1,4})\s*\]$")
_PAGE_FILE = re.compile(r"^(?P<stem>[\w-]+?)(?:_\d+)?\.(?P<ext>s?html?|jsp|php|aspx?)$", re.I)
# <meta http-equiv="Refresh" content="0;URL=…">, in the markup or written by a script (a column page that sends
# the browser on to its first sub-column).
_REFRESH = re.compile(r"http-equiv\s*=\s*\\?[\"']?refresh\\?[\"']?\s+content\s*=\s*\\?[\"']?\s*\d*\s*;?\s*url\s*=\s*"
                      r"([^\"'\\>\s]+)", re.I)
_RECORD = re.compile(r"<record>\s*<!\[CDATA\[(.*?)\]\]>\s*</record>", re.S | re.I)
_NEXTGROUP = re.compile(r"<nextgroup>\s*<!\[CDATA\[.*?href=['\"]([^'\"]+)['\"]", re.S | re.I)
_TOTAL = re.compile(r"<totalrecord>\s*(\d+)\s*</totalrecord>|\btotalRecord\s*[:=]\s*['\"]?(\d+)", re.I)
_PERPAGE = re.compile(r"\bperpage\s*[:=]\s*['\"]?(\d+)", re.I)
# The form fields dataproxy.jsp needs to find the column.
HANWEB_FIELDS = ("col", "appid", "webid", "path", "columnid", "sourceContentType", "unitid", "webname",
                 "permissiontype")
_FIELD = re.compile(r"\b(" + "|".join(HANWEB_FIELDS) + r")\s*[:=]\s*['\"]?([^'\",;&\s}]*)")
DATAPROXY_PATH = "/module/web/jpage/dataproxy.jsp"
MAX_SCRIPT_PAGES = 500  # a pager claiming more pages than this is believed only this far


def trs_pages(text: str, page_url: str, limit: int | None = None) -> list[str]:
    """Every page of a list paginated by script, except the current one: from its createPageHTML(...) call
    (numbers or variables) or, failing that, from a document.write pager loop over a page-count variable. The
    first `limit` pages only (a hostile countPage of 10**9 must not become 10**9 URLs before a budget looks at
    them)."""
    m = _CREATE_PAGE.search(text)
    if m:
        count, current = _number(m.group(1), text), _number(m.group(2), text)
        name, ext = m.group(3), m.group(4)
    else:
        count, current, name, ext = _written_pager(text)
    if not count:
        return []
    current = current or 0
    pages = range(min(count, MAX_SCRIPT_PAGES) if limit is None else min(count, MAX_SCRIPT_PAGES, limit + 1))
    names = [f"{name}.{ext}" if i == 0 else f"{name}_{i}.{ext}" for i in pages if i != current]
    return [urljoin(page_url, n) for n in names]


def _number(token: str, text: str) -> int | None:
    """A literal number, or the value last assigned to the variable `token` in the page's scripts."""
    if token.isdigit():
        return int(token)
    values = re.findall(_ASSIGN.format(name=re.escape(token)), text)
    return int(values[-1]) if values else None


def _written_pager(text: str) -> tuple[int | None, int | None, str, str]:
    """(count, current, name, ext) of a pager that writes its links with document.write in a loop over a
    page-count variable; count None when the page has none."""
    for var in _COUNT_VARS:
        count = _number(var, text)
        if count is None:
            continue
        joined = _JOIN.sub("", text)
        written = _WRITTEN_PAGE.search(joined)
        if written:
            return count, _number("currentPage", text), written.group(1), written.group(2)
    return None, None, "", ""


def numbered_pages(links: Iterable[Link], page_url: str) -> list[Link]:
    """The links of a numbered pager ("1 2 3 … 尾页"): text that is only a page number, to a page of the same
    list (the same directory, the same file stem with `_N` or the same path with another query)."""
    here = urlsplit(page_url)
    here_dir, here_file = here.path.rsplit("/", 1) if "/" in here.path else ("", here.path)
    here_stem = _PAGE_FILE.match(here_file or "index.html")
    pages = []
    for link in links:
        if not _NUMBERED.match(link.text.strip()):
            continue
        there = urlsplit(link.url)
        if there.netloc != here.netloc or link.url == page_url:
            continue
        there_dir, there_file = there.path.rsplit("/", 1) if "/" in there.path else ("", there.path)
        same_list = there.path == here.path and there.query != here.query
        stem = _PAGE_FILE.match(there_file or "index.html")
        if there_dir == here_dir and stem and here_stem and stem["stem"] == here_stem["stem"]:
            same_list = True
        if same_list:
            pages.append(link)
    return pages


@dataclass(frozen=True)
class DynamicList:
    """A TRS "动静结合" list: the first pages are static HTML, the rest come from `list2.trsapi` by script."""

    records: int | None  # recordCount: every record of the list
    per_page: int | None  # prepage
    static_pages: int | None  # maxStaticIndex

    def __str__(self) -> str:
        return (f"list continues through TRS list2.trsapi (recordCount {self.records}, prepage {self.per_page}, "
                f"maxStaticIndex {self.static_pages}); its request and response format is not known from public "
                "material, so records past the static pages are not fetched")


def trs_dynamic_list(text: str) -> DynamicList | None:
    """The TRS list2.trsapi settings of a list page, or None when it pages only statically."""
    if "trsapi" not in text:
        return None

    def setting(name: str) -> int | None:
        found = re.search(r"\b" + name + r"\s*[:=]\s*['\"]?(\d+)", text)
        return int(found.group(1)) if found else None

    return DynamicList(setting("recordCount"), setting("prepage"), setting("maxStaticIndex"))


def refresh_targets(text: str, page_url: str) -> list[str]:
    """Where a page's meta refresh sends the browser, whether the tag is in the markup or written by a script."""
    return [urljoin(page_url, url) for url in _REFRESH.findall(text)]


def hanweb_records(text: str) -> list[str]:
    """The HTML snippets of a Hanweb datastore (page script or dataproxy.jsp answer), in order."""
    return _RECORD.findall(text)


@dataclass(frozen=True)
class HanwebColumn:
    proxy_url: str  # absolute URL of dataproxy.jsp on the page's host
    fields: dict[str, str]  # form fields: columnid, unitid, webid …
    perpage: int
    shown: int  # records already in the page itself
    total: int | None  # None when the page does not say


def hanweb_column(text: str, page_url: str) -> HanwebColumn | None:
    """The column a Hanweb list page belongs to, or None when the page has no datastore with a column id."""
    records = hanweb_records(text)
    if "<datastore" not in text.lower():
        return None
    fields: dict[str, str] = {}
    nextgroup = _NEXTGROUP.search(text)
    if nextgroup:
        fields.update((k, v) for k, v in parse_qsl(urlsplit(nextgroup.group(1)).query) if k in HANWEB_FIELDS)
    for key, value in _FIELD.findall(text):
        fields.setdefault(key, value)
    if not fields.get("columnid"):
        return None
    total = _TOTAL.search(text)
    perpage = _PERPAGE.search(text)
    return HanwebColumn(
        proxy_url=urljoin(page_url, DATAPROXY_PATH), fields=fields,
        perpage=int(perpage.group(1)) if perpage else max(len(records), 1), shown=len(records),
        total=int(total.group(1) or total.group(2)) if total else None,
    )


def dataproxy_ranges(column: HanwebColumn, group: int, start: int | None = None) -> list[tuple[int, int]]:
    """(startrecord, endrecord) of the groups still to fetch, `group` records at most each (Hanweb's own pager
    asks for three pages at a time). With no total known, only the next group: the caller asks for more while
    groups come back full."""
    size = max(min(group, column.perpage * 3), 1)
    first = column.shown + 1 if start is None else start
    if column.total is None:
        return [(first, first + size - 1)]
    return [(s, min(s + size - 1, column.total)) for s in range(first, column.total + 1, size)]


def dataproxy_url(column: HanwebColumn, start: int, end: int) -> str:
    return f"{column.proxy_url}?startrecord={start}&endrecord={end}&perpage={column.perpage}"
