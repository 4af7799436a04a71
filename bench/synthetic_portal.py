"""A county portal of any size for crawl benchmarks: the test portal's page shapes, generated on request.

    / -> 政府信息公开年报 (/nb/index.html) -> one column per unit (县安安局, 县安宁局 …) -> list pages of 20
    reports each, chained by 下一页 links -> report pages (the five fixture reports, under each unit's name and a year).

Pages are built from the path when asked for (nothing held per page), with ETag/Last-Modified and 304 from the
test portal's handler, so a 100,000-page portal costs no memory in the server and a re-crawl sees 304s.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Mapping
from functools import lru_cache

from nianbao.demo.server import PortalServer
from nianbao.demo.site import Page, article, chrome, column_page, fixture_body

PER_LIST = 20
SEEDS = 5
_PATH = re.compile(r"^/nb/u(\d+)/(?:index_(\d+)|r(\d+)_(\d+))\.html$")


def page_count(units: int, lists_per_unit: int) -> int:
    """Pages a full crawl fetches: home, the column index, and per unit its lists and their reports."""
    return 2 + units * lists_per_unit * (1 + PER_LIST)


@lru_cache(maxsize=SEEDS)
def _report_body(seed: int) -> str:
    return fixture_body(f"seed-{seed:03d}.html")


class SyntheticPages(Mapping[str, Page]):
    def __init__(self, units: int, lists_per_unit: int) -> None:
        self.units, self.lists = units, lists_per_unit

    def get(self, path: str, default: Page | None = None) -> Page | None:
        if path == "/":
            return _page(chrome("县人民政府", '<a href="/nb/index.html">政府信息公开年报</a>'))
        if path == "/nb/index.html":
            units = [(f"/nb/u{u}/index_0.html", _unit(u)) for u in range(self.units)]
            return _page(column_page("政府信息公开年报", units))
        match = _PATH.match(path)
        if match is None:
            return default
        unit, listing, list_no, item = (int(g) if g is not None else None for g in match.groups())
        if unit >= self.units:
            return default
        if listing is not None:
            return self._listing(unit, listing) if listing < self.lists else default
        if list_no >= self.lists or item >= PER_LIST:
            return default
        number = list_no * PER_LIST + item
        return _page(article(_title(unit, list_no, item), _report_body(number % SEEDS), _agency(unit, number),
                             "2025-01-20"))

    def _listing(self, unit: int, number: int) -> Page:
        items = [(f"r{number}_{i}.html", _title(unit, number, i)) for i in range(PER_LIST)]
        pager = ""
        if number + 1 < self.lists:
            pager = f'<div class="page"><a href="index_{number + 1}.html">下一页</a></div>'
        return _page(column_page(_unit(unit), items, pager))

    def __getitem__(self, path: str) -> Page:
        page = self.get(path)
        if page is None:
            raise KeyError(path)
        return page

    def __iter__(self) -> Iterator[str]:
        raise TypeError("a synthetic portal is not enumerable")

    def __len__(self) -> int:
        return page_count(self.units, self.lists)


_NAME_CHARS = "安宁永兴长乐平和新华东西南北江河山湖云龙凤阳春秋石泉金玉青松白沙柳林桃花清溪双峰高桥"


def _unit(unit: int) -> str:
    """A unit name the crawler follows as a column (Chinese only: 县安宁局, not 县单位3局)."""
    first, second = divmod(unit, len(_NAME_CHARS))
    return f"县{_NAME_CHARS[first % len(_NAME_CHARS)]}{_NAME_CHARS[second]}局"


def _agency(unit: int, number: int) -> str:
    """A body of its own for every report (县安宁局安宁所 …): the archive counts one report per agency and year, so
    reports that shared a body and a year would be stored once, and the benchmark would store fewer than it fetches."""
    first, second = divmod(number, len(_NAME_CHARS))
    return f"{_unit(unit)}{_NAME_CHARS[first % len(_NAME_CHARS)]}{_NAME_CHARS[second]}所"


def _title(unit: int, list_no: int, item: int) -> str:
    number = list_no * PER_LIST + item
    return f"{_agency(unit, number)}{2000 + number % 25}年政府信息公开工作年度报告"


def _page(text: str) -> Page:
    return Page(text.encode("utf-8"))


def serve_synthetic(units: int, lists_per_unit: int, host: str = "127.0.0.1", port: int = 0) -> PortalServer:
    """The test portal's server and handler over generated pages; stop it with .shutdown()."""
    server = PortalServer((host, port), pages=SyntheticPages(units, lists_per_unit))
    server.log_served = lambda entry: None  # 100,000 log entries would be the server's only memory
    threading.Thread(target=server.serve_forever, name="synthetic-portal", daemon=True).start()
    return server
