"""The generic portal spider: focused discovery of a government portal's annual reports.

From the start pages it follows disclosure navigation, list pagination (plain links, TRS createPageHTML, Hanweb
dataproxy), report links and their attachments; report pages and attachments are fetched conditionally. It
yields requests and report items; whatever goes wrong becomes an `errors` row through the run's recorder (the
stages: docs/architecture.md) and the crawl goes on. An error never replaces a stored report.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Generator, Iterator
from importlib.metadata import version
from typing import Any

from lxml import etree
from parsel import Selector
from scrapy import FormRequest, Request, Spider, signals
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.settings import BaseSettings
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from crawler.budgets import CrawlBudgets
from crawler.challenge import BlockedResponse
from crawler.links import (
    Link,
    LinkKind,
    attachment_rank,
    attachment_urls,
    classify,
    followable,
    is_site_root,
    page_links,
)
from crawler.middlewares import BrokenResponse, retries_note
from crawler.paging import (
    HanwebColumn,
    dataproxy_ranges,
    dataproxy_url,
    hanweb_column,
    hanweb_records,
    numbered_pages,
    refresh_targets,
    trs_dynamic_list,
    trs_pages,
)
from crawler.parse_pool import ParsePool
from crawler.policy import HostPolicy, Refused
from crawler.portals import Portal, resolve
from crawler.recognise import is_not_found_page, is_report, page_hints, page_title, title_suggests_report, with_hints
from crawler.recorder import CrawlRecorder
from crawler.storage import recorder_of
from parsers import HtmlPage, ParseError, Report, load_html, parse, parse_html
from parsers.detect import sniff

log = logging.getLogger(__name__)

# Reports first, so a crawl cut short has found as many as it could; navigation last.
PRIORITY = {LinkKind.REPORT: 20, LinkKind.ATTACHMENT: 20, LinkKind.PAGER: 10, LinkKind.NAV: 0}


def _split(value: str | list[str] | None) -> list[str]:
    """`-a portals=xtx,hnyx` arrives as one string; crawler.run passes lists."""
    if value is None:
        return []
    return [v for v in re.split(r"[,\s]+", value) if v] if isinstance(value, str) else list(value)


class PortalSpider(Spider):
    name = "portal"

    def __init__(self, portals: str | list[str] | None = None, start_urls: str | list[str] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.portals: list[Portal] = resolve(_split(portals), _split(start_urls))
        self.allowed_domains = sorted({host for p in self.portals for host in p.hosts})
        self.host_policy = HostPolicy.for_portals(self.portals)  # crawler.policy: every request passes it
        self.report_paths = {p.name: re.compile(p.hints["report_path"]) for p in self.portals
                             if p.hints.get("report_path")}
        self.budgets: CrawlBudgets | None = None  # set with the settings (from_crawler)
        self.parse_pool: ParsePool | None = None  # started by the first attachment to parse

    @classmethod
    def update_settings(cls, settings: BaseSettings) -> None:
        super().update_settings(settings)
        contact = settings.get("NIANBAO_CONTACT")
        agent = f"nianbao/{version('nianbao')} (annual-report archive; +{contact})"
        settings.set("USER_AGENT", agent, priority="spider")

    @classmethod
    def from_crawler(cls, crawler, *args: Any, **kwargs: Any) -> PortalSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.budgets = CrawlBudgets(spider.portals, crawler.settings, spider._budget_reached)
        return spider

    @property
    def recorder(self) -> CrawlRecorder | None:
        """The run's recorder (crawler.storage.ArchiveStorage); None when the archive could not be opened."""
        return recorder_of(self.crawler)

    async def start(self):
        if self.recorder is None:
            return
        for portal in self.portals:
            for url in portal.start_urls:
                self.recorder.start_request()
                yield Request(url, callback=self.parse_page, errback=self.failed,
                              meta={"kind": "start", "start": portal.name, "hops": 0,
                                    "in_area": not is_site_root(url)})

    # -- callbacks -----------------------------------------------------------------------------------------

    async def parse_page(self, response: Response) -> AsyncIterator[Request | dict[str, Any]]:
        """Any HTML page: a report (stored), a report page whose attachment is the report, or a listing."""
        if sniff(response.body, response.url, _content_type(response)) != "html":
            # a document (a report saved as text, a PDF behind a page link), whatever its type
            async for output in self.parse_attachment(response):
                yield output
            return
        for output in self._html_page(response):
            yield output

    def _html_page(self, response: Response) -> Iterator[Request | dict[str, Any]]:
        """An HTML page. It is parsed once (parsers.load_html): its title and links are read off the same tree the
        parser reads the report from."""
        content_type = _content_type(response)
        try:
            page = load_html(response.body, content_type)
        except ParseError as exc:
            self._parse_failed(response, exc)
            return
        kind = response.meta.get("kind")
        title = page_title(page.root)
        portal = self.portal_for(response.url).name
        links = [] if kind == LinkKind.REPORT else self.budgets.page_links(
            portal, response.url, lambda limit: page_links(page.root, response.url, limit))
        if title_suggests_report(title):
            attachments = sorted({url for url in attachment_urls(page.root, response.url)
                                  if self.host_policy.allows(url)}, key=attachment_rank)
            hints = page_hints(page.root) if attachments else {}
            stored = yield from self._page_report(response, page, title)
            if attachments:  # archived always; when the page itself is not the report, they are candidates
                yield from self._chain(attachments, {"hints": hints, "page_url": response.url, "found": stored})
            elif not stored and kind == LinkKind.REPORT:
                self.recorder.error(response.url, stage="recognise", sha256=response.meta.get("sha256"),
                                    message=f"titled as a report ({title}) but no report tables and no attachment")
        elif kind == LinkKind.REPORT:
            self._soft_404(response, page.root)
        if kind != LinkKind.REPORT:
            yield from self._listing(response, page.utf8.decode("utf-8"), links)

    async def parse_attachment(self, response: Response) -> AsyncIterator[Request | dict[str, Any]]:
        meta = response.meta
        found = meta.get("found", False)
        if not found and "not_modified" in response.flags:
            found = self.recorder.confirm_unchanged(response.url)
        elif not found:
            report = await self._parse_document(response)
            if report is not None:
                hints = meta.get("hints") or {}
                report = with_hints(report, hints)
                if is_report(report, hints.get("title")):
                    found = True
                    yield self._item(response, report, page_url=meta.get("page_url"))
                elif report.form == "html":
                    self._soft_404(response, load_html(response.body, _content_type(response)).root)
        if "chain" in meta:
            for request in self._chain(meta["chain"], {**meta, "found": found}):
                yield request

    def parse_dataproxy(self, response: Response) -> Iterator[Request]:
        """A Hanweb dataproxy.jsp answer: more records of a column; ask for the next group when the total is
        unknown and this one came back full."""
        records = hanweb_records(response.text)
        yield from self._follow(self._record_links(records, response.url), response.meta)
        column: HanwebColumn = response.meta["hanweb"]
        start, end = response.meta["records"]
        if column.total is None and records and len(records) >= end - start + 1:
            yield from self._dataproxy(column, response.meta, start=end + 1)

    def failed(self, failure: Failure) -> Iterator[Request]:
        """A request that failed for good (after retries): recorded, and the crawl goes on."""
        request = failure.request
        meta = request.meta
        if failure.check(BlockedResponse):
            stage, message = "blocked", f"{self.portal_for(request.url).name}: {failure.value}"
            self.recorder.portal_blocked(self.portal_for(request.url).name, f"{failure.value.block} at {request.url}")
        elif failure.check(HttpError):
            stage, message = "fetch", f"HTTP {failure.value.response.status}{retries_note(request)}"
        elif failure.check(BrokenResponse):
            stage, message = "fetch", str(failure.value)
        elif failure.check(Refused):
            if not failure.value.record:  # kept out by a budget that recorded itself once
                yield from self._chain(meta.get("chain", []), meta)
                return
            stage, message = failure.value.stage, str(failure.value)
        elif failure.check(IgnoreRequest):
            stage, message = ("robots" if "robots" in str(failure.value) else "ignored"), str(failure.value)
        else:
            stage, message = "fetch", _download_failure(failure) + retries_note(request)
        if meta.get("start") and stage in ("fetch", "blocked"):
            self.recorder.start_failure(meta["start"], f"{request.url}: {message}")
        self.recorder.error(request.url, stage=stage, message=message, sha256=meta.get("sha256"))
        if "chain" in meta:
            yield from self._chain(meta["chain"], meta)

    # -- helpers -------------------------------------------------------------------------------------------

    def _page_report(self, response: Response, page: HtmlPage,
                     title: str | None) -> Generator[dict[str, Any], None, bool]:
        """Store the page as a report when it is one; returns whether it is, with its tables read (a 304 counts
        when it was). `page`: the loaded HTML page."""
        if "not_modified" in response.flags:
            return self.recorder.confirm_unchanged(response.url)
        report = self._parse(response, page)
        if report is None or not is_report(report, title):
            return False
        yield self._item(response, report, page_url=None)
        return report.unread_tables is None  # else its attachments may carry the tables: they are tried too

    def _soft_404(self, response: Response, root: etree._Element) -> None:
        """Record a page that answered 200 but says it does not exist where a report was expected."""
        if is_not_found_page(root):
            self.recorder.error(response.url, stage="recognise", sha256=response.meta.get("sha256"),
                                message=f"soft 404: answered 200 with a page-not-found page "
                                        f"(title: {page_title(root)})")

    def _parse(self, response: Response, page: HtmlPage | None = None) -> Report | None:
        """Parse archived bytes (or the page loaded from them) here, in the crawl's process: HTML and text pages,
        whose size parsers.limits bounds; any failure becomes an `errors` row (stage parse), never a crashed
        crawl."""
        try:
            if page is not None:
                return parse_html(page, source=response.url)
            return parse(response.body, source=response.url, content_type=_content_type(response))
        except Exception as exc:  # ParseError, or a reader bug on a document nobody has seen yet
            self._parse_failed(response, exc)
            return None

    async def _parse_document(self, response: Response) -> Report | None:
        """Parse an attachment: an HTML or text one here (`_parse`), any other (PDF, Office, image) in the parse
        worker (crawler.parse_pool), under its memory and time limits, while the crawl goes on; a document over
        them becomes an `errors` row like any that cannot be read."""
        content_type = _content_type(response)
        if sniff(response.body, response.url, content_type) in ("html", "text"):
            return self._parse(response)
        if self.parse_pool is None:
            self.parse_pool = ParsePool.from_settings(self.settings)
            self.crawler.signals.connect(self.parse_pool.close, signal=signals.spider_closed)
        try:
            return await self.parse_pool.parse(response.body, source=response.url, content_type=content_type)
        except Exception as exc:  # as in `_parse`, and the worker's limits (ParseError)
            self._parse_failed(response, exc)
            return None

    def _parse_failed(self, response: Response, exc: Exception) -> None:
        self.recorder.error(response.url, stage="parse", message=f"{type(exc).__name__}: {exc}",
                            sha256=response.meta.get("sha256"))

    def _item(self, response: Response, report: Report, page_url: str | None) -> dict[str, Any]:
        """A report to store; one whose tables could not be read is stored (shown as unparsed) and is an error."""
        if report.unread_tables is not None:
            self.recorder.error(response.url, stage="parse", sha256=response.meta.get("sha256"),
                                message=f"report stored unparsed: {report.unread_tables}")
        portal = self.portal_for(response.url)
        return {"url": response.url, "sha256": response.meta["sha256"], "report": report, "page_url": page_url,
                "portal": portal.name, "region": portal.region}

    def _chain(self, urls: list[str], meta: dict[str, Any]) -> Iterator[Request]:
        """Attachments one after another, so the first that parses as the report wins deterministically and the
        rest are archived without parsing."""
        if not urls:
            return
        keep = {k: meta[k] for k in ("hints", "page_url", "found") if k in meta}
        yield self._conditional(urls[0], self.parse_attachment, {**keep, "chain": list(urls[1:])},
                                priority=PRIORITY[LinkKind.ATTACHMENT], dont_filter=True)

    def _listing(self, response: Response, text: str, links: list[Link]) -> Iterator[Request]:
        """Follow a listing's `links` (read off its tree) and the pages its scripts name (read from its `text`,
        decoded as the parser decoded it: Scrapy believes the declared charset, and portals declare UTF-8 around
        GBK bytes, or the reverse)."""
        # Pages reached by pagers from here are one chain (pager_pages budget), however they branch.
        meta = {**response.meta, "pager_of": response.meta.get("pager_of") or response.url}
        yield from self._follow(links, meta)
        pager_pages = self.budgets.limits[self.portal_for(response.url).name]["pager_pages"]
        pages = [Link(url, "") for url in trs_pages(text, response.url, limit=pager_pages)]
        yield from self._follow(pages + numbered_pages(links, response.url), meta, kind=LinkKind.PAGER)
        redirects = [Link(url, "") for url in refresh_targets(text, response.url)]
        yield from self._follow(redirects, meta, kind=LinkKind.NAV)
        dynamic = trs_dynamic_list(text)
        if dynamic is not None:  # never silently: the records behind the script are missed
            self.recorder.error(response.url, stage="paging", message=str(dynamic), sha256=response.meta.get("sha256"))
        column = hanweb_column(text, response.url)
        if column is not None:
            yield from self._follow(self._record_links(hanweb_records(text), response.url), meta)
            yield from self._dataproxy(column, {**meta, "in_area": True})

    def _record_links(self, records: list[str], base_url: str) -> list[Link]:
        return [link for record in records for link in page_links(Selector(text=record).root, base_url)]

    def _dataproxy(self, column: HanwebColumn, meta: dict[str, Any], start: int | None = None) -> Iterator[Request]:
        for first, last in dataproxy_ranges(column, self.settings.getint("NIANBAO_HANWEB_GROUP"), start=start):
            url = dataproxy_url(column, first, last)
            if self.host_policy.allows(url) and self._pager_page(url, meta):
                yield FormRequest(url, formdata=column.fields, callback=self.parse_dataproxy, errback=self.failed,
                                  priority=PRIORITY[LinkKind.PAGER],
                                  meta={"kind": LinkKind.PAGER, "hops": meta.get("hops", 0), "in_area": True,
                                        "hanweb": column, "records": (first, last), "pager_of": meta["pager_of"]})

    def _follow(self, links: list[Link], meta: dict[str, Any], kind: LinkKind | None = None) -> Iterator[Request]:
        """Requests for the links worth following; `kind` forces one kind (pages a script pager names)."""
        forced, hops, in_area = kind, meta.get("hops", 0), meta.get("in_area", False)
        max_hops = self.settings.getint("NIANBAO_MAX_HOPS")
        for link in links:
            if not self.host_policy.allows(link.url):
                continue
            portal = self.portal_for(link.url)
            kind = forced or classify(link, in_area=in_area, report_path=self.report_paths.get(portal.name))
            if kind is None or (kind is LinkKind.NAV and hops >= max_hops):
                continue
            if kind is LinkKind.PAGER and not self._pager_page(link.url, meta):
                continue
            if kind is LinkKind.REPORT:
                yield self._conditional(link.url, self.parse_page, {"kind": kind, "hops": hops, "in_area": True},
                                        priority=PRIORITY[kind])
            elif kind is LinkKind.ATTACHMENT:
                yield self._conditional(link.url, self.parse_attachment, {"hints": {"title": link.text}},
                                        priority=PRIORITY[kind])
            else:
                yield Request(link.url, callback=self.parse_page, errback=self.failed, priority=PRIORITY[kind],
                              meta={"kind": kind, "hops": hops + (kind is LinkKind.NAV),
                                    "in_area": in_area or kind is LinkKind.NAV,
                                    **({"pager_of": meta["pager_of"]} if kind is LinkKind.PAGER else {})})

    def _conditional(self, url: str, callback, meta: dict[str, Any], *, priority: int,
                     dont_filter: bool = False) -> Request:
        """A GET that the server may answer 304 when the archive already has the body (detail pages and
        attachments; list pages are always refetched, since they are where new reports appear)."""
        validators = self.recorder.validators(url)
        headers = {}
        if validators["etag"]:
            headers["If-None-Match"] = validators["etag"]
        if validators["last_modified"]:
            headers["If-Modified-Since"] = validators["last_modified"]
        return Request(url, callback=callback, errback=self.failed, headers=headers, priority=priority,
                       dont_filter=dont_filter, meta={**meta, "conditional": bool(headers)})

    def _pager_page(self, url: str, meta: dict[str, Any]) -> bool:
        """Whether `url`, the next page of the chain meta["pager_of"] starts, is within the pager_pages budget."""
        return self.budgets.pager_page(self.portal_for(url).name, meta["pager_of"], url)

    def _budget_reached(self, url: str, message: str) -> None:
        self.recorder.error(url, stage="budget", message=message)

    def portal_for(self, url: str) -> Portal:
        """The portal `url` belongs to (by host), for its region and its budgets."""
        return next((p for p in self.portals if followable(url, p.hosts)), self.portals[0])


def _content_type(response: Response) -> str | None:
    return response.headers.get("Content-Type", b"").decode("latin-1") or None


def _download_failure(failure: Failure) -> str:
    """A download failure in words. Scrapy wraps Twisted's reasons in a list repr ("[<twisted.python.failure.
    Failure twisted.internet.error.ConnectionLost: ...>]"); say what they were instead."""
    error = failure.value
    reasons = getattr(error.__cause__, "reasons", None)
    detail = "; ".join(f"{r.type.__name__}: {r.getErrorMessage()}" for r in reasons) if reasons else str(error)
    return f"{type(error).__name__}: {detail}"
