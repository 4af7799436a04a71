"""Reports the spider recognised are stored as versions in the archive (new / changed / unchanged)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from scrapy.exceptions import DropItem
from scrapy.utils.defer import maybe_deferred_to_future

from crawler.archive_process import ArchiveFailed
from crawler.storage import recorder_of

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

log = logging.getLogger(__name__)


class StoreReportsPipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StoreReportsPipeline:
        return cls(crawler)

    async def process_item(self, item: dict[str, Any]) -> dict[str, Any]:
        """Wait for the archive's writer process to store the report (other responses go on meanwhile)."""
        recorder = recorder_of(self.crawler)
        try:
            outcome = await maybe_deferred_to_future(recorder.store(
                item["url"], item["sha256"], item["report"], portal=item["portal"], region=item["region"],
                page_url=item["page_url"]))
        except ArchiveFailed as exc:  # the crawl is stopping and fails (crawler.storage.ArchiveStorage)
            raise DropItem(f"report not stored: {exc}") from None
        report = item["report"]
        log.info("report %s: %s %s (%s)", outcome, report.agency, report.year, item["url"])
        return {"url": item["url"], "outcome": outcome, "agency": report.agency, "year": report.year}
