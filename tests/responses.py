"""Spider callbacks without a crawl: responses built from fixture files (as city-scrapers-core's `file_response`),
fed to a PortalSpider whose run writes to an in-process Archive (the ArchiveSink a test can read at once)."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from scrapy import Request
from scrapy.http import Response
from scrapy.responsetypes import responsetypes
from scrapy.utils.test import get_crawler

from archive.store import Archive
from crawler import settings as crawler_settings
from crawler.spiders.portal import PortalSpider
from crawler.storage import ArchiveStorage


class InProcessStorage(ArchiveStorage):
    """ArchiveStorage over archive.store.Archive itself: writes land before the callback returns."""

    def open_sink(self) -> Archive:
        return Archive(self.crawler.settings["NIANBAO_DB"])


def file_response(path: Path, url: str, *, content_type: str = "text/html", status: int = 200,
                  flags: list[str] | None = None, **meta: Any) -> Response:
    """The response a crawl would hand the spider for `path` served at `url`, with `meta` on its request and the
    sha256 the archive filed its body under (crawler.middlewares.ArchiveFetchesMiddleware sets it)."""
    body = path.read_bytes()
    headers = {"Content-Type": content_type}
    request = Request(url, meta={"sha256": hashlib.sha256(body).hexdigest(), **meta})
    cls = responsetypes.from_args(headers=headers, url=url, body=body)
    return cls(url=url, status=status, headers=headers, body=body, request=request, flags=flags or [])


def collect(outputs: Any) -> list[Any]:
    """What a callback yields, whether it is a generator or an async generator (one that awaits nothing here:
    HTML and text documents are parsed in the crawl's process)."""
    if not hasattr(outputs, "__anext__"):
        return list(outputs)

    async def drain() -> list[Any]:
        return [output async for output in outputs]

    return asyncio.run(drain())


@contextmanager
def unit_spider(db: Path, start_urls: list[str], **settings: Any) -> Iterator[PortalSpider]:
    """A PortalSpider on `start_urls` with crawler/settings.py, its run open in the archive at `db`."""
    shipped = {name: value for name, value in vars(crawler_settings).items() if name.isupper()}
    crawler = get_crawler(PortalSpider, {**shipped, "NIANBAO_DB": str(db),
                                         "NIANBAO_CONTACT": "ci@example.org",
                                         "EXTENSIONS": {InProcessStorage: 0}, **settings})
    spider = PortalSpider.from_crawler(crawler, start_urls=start_urls)
    storage = crawler.get_extension(InProcessStorage)
    storage.spider_opened(spider)
    try:
        yield spider
    finally:
        storage.sink.close()
