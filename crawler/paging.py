"""List pages that government CMSs paginate without plain links: pure functions over page text.

TRS WCM writes its pager with `createPageHTML(countPage, currentPage, "index", "html")` (pages index.html,
index_1.html, …). Hanweb (大汉) embeds the first records as CDATA in `<script type="text/xml"><datastore>` and
serves the rest only to `POST /module/web/jpage/dataproxy.jsp?startrecord=N&endrecord=M&perpage=P` with the
column's ids as form fields. Neither has an <a> to follow.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urljoin, urlsplit

_CREATE_PAGE = re.compile(
    r"createPageHTML\(\s*['\"]?(\d+)['\"]?\s*,\s*['\"]?(\d+)['\"]?\s*,\s*['\"]([\w.-]+)['\"]\s*,\s*['\"](\w+)['\"]"
)
_RECORD = re.compile(r"<record>\s*<!\[CDATA\[(.*?)\]\]>\s*</record>", re.S | re.I)
_NEXTGROUP = re.compile(r"<nextgroup>\s*<!\[CDATA\[.*?href=['\"]([^'\"]+)['\"]", re.S | re.I)
_TOTAL = re.compile(r"<totalrecord>\s*(\d+)\s*</totalrecord>|\btotalRecord\s*[:=]\s*['\"]?(\d+)", re.I)
_PERPAGE = re.compile(r"\bperpage\s*[:=]\s*['\"]?(\d+)", re.I)
# The form fields dataproxy.jsp needs to find the column.
HANWEB_FIELDS = ("col", "appid", "webid", "path", "columnid", "sourceContentType", "unitid", "webname",
                 "permissiontype")
_FIELD = re.compile(r"\b(" + "|".join(HANWEB_FIELDS) + r")\s*[:=]\s*['\"]?([^'\",;&\s}]*)")
DATAPROXY_PATH = "/module/web/jpage/dataproxy.jsp"


def trs_pages(text: str, page_url: str, limit: int | None = None) -> list[str]:
    """Every page of a TRS list except the current one, from its createPageHTML(...) call; the first `limit`
    pages only (a hostile countPage of 10**9 must not become 10**9 URLs before a budget looks at them)."""
    m = _CREATE_PAGE.search(text)
    if not m:
        return []
    count, current, name, ext = int(m.group(1)), int(m.group(2)), m.group(3), m.group(4)
    pages = range(count if limit is None else min(count, limit + 1))
    names = [f"{name}.{ext}" if i == 0 else f"{name}_{i}.{ext}" for i in pages if i != current]
    return [urljoin(page_url, n) for n in names]


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
