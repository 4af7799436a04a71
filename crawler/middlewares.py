"""Every response the crawler receives goes into the archive before anything else looks at it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy import Request
from scrapy.http import Response
from scrapy.responsetypes import responsetypes

if TYPE_CHECKING:
    from scrapy.crawler import Crawler


class ArchiveFetchesMiddleware:
    """Record a `fetches` row (and the raw body) for each response, including redirects and error statuses that
    Retry will retry; turn a 304 Not Modified into the archived body, flagged "not_modified",
    so the spider can still follow its attachments without re-parsing it."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchiveFetchesMiddleware:
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Response:
        recorder = getattr(self.crawler.spider, "recorder", None)
        if recorder is None:
            return response
        headers = response.headers.to_unicode_dict()
        sha256 = recorder.fetched(response.url, status=response.status, body=response.body, headers=dict(headers),
                                  method=request.method)
        request.meta["sha256"] = sha256
        if response.status == 304 and request.meta.get("conditional"):
            body = recorder.archived_body(response.url)
            if body is not None:
                cls = responsetypes.from_args(url=response.url, body=body)
                return cls(url=response.url, status=200, body=body, request=request, flags=["not_modified"])
        return response
