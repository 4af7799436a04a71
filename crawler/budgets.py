"""Crawl budgets: how much work one crawl may do, so a crawl trap (an endless 下一页 chain, a page of a million
links, a portal that never runs out of URLs) ends as an `errors` row instead of a crawl that never ends.

- pager_pages: pages of one pager chain (the list pages reached by 下一页 links, TRS createPageHTML pages and
  Hanweb dataproxy groups from one list page); pagers do not count as navigation hops, so without this an endless
  chain was followed forever. Over it, the chain's further pages are not requested; the crawl goes on.
- page_links: links taken from one page; over it, the rest of the page's links are not followed.
- portal_requests: requests sent to one portal (robots.txt, retries and redirect hops included); over it, that
  portal gets no more requests, and when every portal of the crawl is over its budget the crawl ends.
- crawl_requests: requests the whole crawl sends; over it, the crawl ends.
A crawl that ends on a budget closes as "closespider_budget" (a failed run: `nianbao crawl` exits 1).

Defaults are in crawler/settings.py (NIANBAO_BUDGET_*); a registry entry may set its own (`budgets:` in
crawler/portals.yaml) for any but crawl_requests.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TypeVar

from scrapy import Request
from scrapy.settings import BaseSettings
from scrapy.utils.defer import deferred_from_coro

from crawler.policy import Refused
from crawler.portals import PORTAL_BUDGETS, Portal

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

log = logging.getLogger(__name__)

CLOSE_REASON = "closespider_budget"
T = TypeVar("T")


def setting_name(budget: str) -> str:
    return f"NIANBAO_BUDGET_{budget.upper()}"


class CrawlBudgets:
    """The counts against each budget of one crawl. `record(url, message)` writes the `errors` row (stage
    budget) of a budget the crawl ran into; each budget is recorded once where it was hit (once per chain, page
    or portal), and what it then kept from being requested is counted in `skipped` for the crawl's summary."""

    def __init__(self, portals: Sequence[Portal], settings: BaseSettings,
                 record: Callable[[str, str], None]) -> None:
        defaults = {b: settings.getint(setting_name(b)) for b in PORTAL_BUDGETS}
        self.limits = {p.name: {**defaults, **p.budgets} for p in portals}
        self.crawl_requests = settings.getint(setting_name("crawl_requests"))
        self.record = record
        self.requests: Counter[str] = Counter()
        self.chains: dict[str, set[str]] = {}  # list page -> the pages of its pager chain requested
        self.over: set[str] = set()  # chains, and portals ("portal:" + name), whose budget was recorded
        self.reached: Counter[str] = Counter()  # budget -> times it was reached (errors rows)
        self.skipped: Counter[str] = Counter()  # budget -> requests or links not taken because of it

    def pager_page(self, portal: str, origin: str, url: str) -> bool:
        """Whether `url`, a page of the pager chain that starts at list page `origin`, is within the budget."""
        limit, pages = self.limits[portal]["pager_pages"], self.chains.setdefault(origin, set())
        if url in pages:  # asked for again (every TRS page names all the others): Scrapy drops the duplicate
            return True
        if len(pages) >= limit:
            self._hit("pager_pages", origin, url, f"pager chain from {origin} reached its budget of {limit} pages "
                                                  f"(pager_pages); its further pages are not followed")
            return False
        pages.add(url)
        return True

    def page_links(self, portal: str, page_url: str, read: Callable[[int], list[T]]) -> list[T]:
        """The links of a page that are followed: the first `page_links` of what `read(limit)` finds (it may stop
        reading after limit + 1)."""
        limit = self.limits[portal]["page_links"]
        links = read(limit)
        if len(links) <= limit:
            return links
        self.reached["page_links"] += 1
        self.record(page_url, f"page has more than {limit} links (page_links budget); followed the first {limit}")
        return links[:limit]

    def request(self, portal: str, url: str) -> str | None:
        """Count one request to `portal`; the budget it would exceed (then it is not sent), else None."""
        if self.crawl_requests and sum(self.requests.values()) >= self.crawl_requests:
            self._hit("crawl_requests", "crawl", url, f"the crawl reached its budget of {self.crawl_requests} "
                                                      f"requests (crawl_requests); the crawl ends")
            return "crawl_requests"
        limit = self.limits[portal]["portal_requests"]
        if self.requests[portal] >= limit:
            self._hit("portal_requests", "portal:" + portal, url,
                      f"portal {portal} reached its budget of {limit} requests (portal_requests); it gets no more")
            return "portal_requests"
        self.requests[portal] += 1
        return None

    def all_portals_over(self) -> bool:
        return all("portal:" + name in self.over for name in self.limits)

    def _hit(self, budget: str, key: str, url: str, message: str) -> None:
        if key in self.over:
            self.skipped[budget] += 1
            return
        self.over.add(key)
        self.reached[budget] += 1
        self.record(url, message)

    def summary(self) -> str:
        """One line for the crawl's log: which budgets were reached and what they kept out ("" for none)."""
        if not self.reached:
            return ""
        reached = ", ".join(f"{budget} {n}x" for budget, n in sorted(self.reached.items()))
        skipped = ", ".join(f"{n} by {budget}" for budget, n in sorted(self.skipped.items())) or "nothing more"
        return f"budgets reached: {reached} (errors rows, stage budget); not taken after that: {skipped}"


class BudgetMiddleware:
    """Counts every request that passed the host policy against its portal's and the crawl's request budgets;
    over one, the request is not sent (a Refused `budget`, recorded once) and the crawl ends when no portal has
    budget left."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.closing = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BudgetMiddleware:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        spider = self.crawler.spider
        over = spider.budgets.request(spider.portal_for(request.url).name, request.url)
        if over is None:
            return None
        if not self.closing and (over == "crawl_requests" or spider.budgets.all_portals_over()):
            self.closing = True
            deferred_from_coro(self.crawler.engine.close_spider_async(reason=CLOSE_REASON))
        raise Refused(f"not sent: the {over} budget is spent", stage="budget", record=False)
