"""Every response the crawler receives goes into the archive before anything else looks at it; responses that
arrived broken (a body cut short, a redirect back into its own chain) then become retries or recorded errors."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urljoin

from scrapy import Request
from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.responsetypes import responsetypes
from w3lib.url import safe_url_string

from crawler.storage import recorder_of

if TYPE_CHECKING:
    from scrapy.crawler import Crawler


class ArchiveFetchesMiddleware:
    """Record a `fetches` row (and the raw body) for each response, including redirects, error statuses that
    Retry will retry and bodies cut short (without their ETag/Last-Modified, so the next crawl asks for the whole
    body again); turn a 304 Not Modified into the archived body, flagged "not_modified",
    so the spider can still follow its attachments without re-parsing it."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchiveFetchesMiddleware:
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Response:
        recorder = recorder_of(self.crawler)
        if recorder is None:
            return response
        headers = response.headers.to_unicode_dict()
        if "dataloss" in response.flags:  # a body cut short must never be what a later 304 stands for
            headers = {k: v for k, v in headers.items() if k.lower() not in ("etag", "last-modified")}
        sha256 = recorder.fetched(response.url, status=response.status, body=response.body, headers=dict(headers),
                                  method=request.method)
        request.meta["sha256"] = sha256
        if response.status == 304 and request.meta.get("conditional"):
            body = recorder.archived_body(response.url)
            if body is not None:
                cls = responsetypes.from_args(url=response.url, body=body)
                return cls(url=response.url, status=200, body=body, request=request, flags=["not_modified"])
        return response


class BrokenResponse(IgnoreRequest):
    """A response that arrived but cannot be used. The request's errback records it as a `fetch` error (an
    IgnoreRequest, so Scrapy hands it over without logging a traceback)."""


class BrokenResponsesMiddleware:
    """Sees each response after the archive (605) and before Redirect (600) and Retry (550).

    A body cut short — the connection closed before Content-Length bytes came — arrives flagged "dataloss"
    (DOWNLOAD_FAIL_ON_DATALOSS is off so that the bytes that did come are archived): it is retried like a 5xx,
    and when the retries run out it is a BrokenResponse, never parsed. A redirect back to a URL of its own chain
    is a BrokenResponse at once: Scrapy would send the repeated request to its duplicate filter, which drops it
    without a word.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BrokenResponsesMiddleware:
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Response | Request:
        if "dataloss" in response.flags:
            announced = response.headers.get("Content-Length", b"?").decode("latin-1")
            message = f"body cut short: {len(response.body)} of {announced} bytes (Content-Length) arrived"
            retry = get_retry_request(request, spider=self.crawler.spider, reason="body cut short")
            if retry is None:
                raise BrokenResponse(message + retries_note(request))
            return retry
        location = response.headers.get("Location")
        if 300 <= response.status < 400 and location:
            target = urljoin(request.url, safe_url_string(location.decode("latin-1")))
            chain = [*request.meta.get("redirect_urls", []), request.url]
            if target in chain:
                raise BrokenResponse("redirect loop: " + " -> ".join([*chain[chain.index(target):], target]))
        return response


def retries_note(request: Request) -> str:
    """" (gave up after N retries)" for the last attempt of a retried request, for an error message; else ""."""
    retries = request.meta.get("retry_times", 0)
    return f" (gave up after {retries} retries)" if retries else ""
