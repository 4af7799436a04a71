"""The archive's part in a crawl, as a Scrapy extension: it opens the sink, starts the run when the spider opens
and closes it from crawler.stats when the spider closes. Middleware, pipeline and spider reach the run's
CrawlRecorder through `recorder_of(crawler)`. A distributed worker swaps in crawler.distributed.WorkerStorage
(crawler.distributed.worker_settings)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from scrapy import Spider, signals
from scrapy.utils.defer import deferred_from_coro

from archive.sink import ArchiveSink
from crawler.archive_process import ArchiveFailed, ArchiveGone, ArchiveProcess
from crawler.challenge import ADVICE
from crawler.recorder import START_FAILURES, START_REQUESTS, CrawlRecorder, run_status

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

log = logging.getLogger(__name__)


def recorder_of(crawler: Crawler) -> CrawlRecorder | None:
    """The run's recorder; None before the run starts, or when the archive could not be opened."""
    storage = crawler.get_extension(ArchiveStorage)
    return storage.recorder if storage is not None else None


def summary_of(crawler: Crawler) -> dict[str, Any] | None:
    """What the crawl's close made of it (crawler.run returns it); None when it never got that far."""
    storage = crawler.get_extension(ArchiveStorage)
    return storage.summary if storage is not None else None


class ArchiveStorage:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.recorder: CrawlRecorder | None = None
        self.summary: dict[str, Any] | None = None
        self.sink = self.open_sink()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchiveStorage:
        storage = cls(crawler)
        crawler.signals.connect(storage.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(storage.spider_closed, signal=signals.spider_closed)
        return storage

    def open_sink(self) -> ArchiveSink:
        """The archive's writer process, started now so that it opens the archive (~0.5 s) while Scrapy builds
        its engine; the run starts in it when the spider opens."""
        settings = self.crawler.settings
        archive = ArchiveProcess(settings["NIANBAO_DB"], group_seconds=settings.getfloat("NIANBAO_COMMIT_SECONDS"))
        archive.on_failure = self._archive_failed
        return archive

    def spider_opened(self, spider: Spider) -> None:
        """Start the run; when the archive cannot be opened (damaged, locked past every retry), say so in one
        line and crawl nothing (the spider's `start` yields no request, the summary says the run failed)."""
        try:
            run_id = self.sink.start_run([p.name for p in spider.portals],
                                         [u for p in spider.portals for u in p.start_urls])
        except ArchiveFailed as exc:
            log.error("cannot crawl: %s", exc)
            self.summary = {"status": "failed", "error": str(exc)}
            # Nothing may be fetched (a JOBDIR's saved queue included, which closing keeps for the next crawl).
            self.crawler.engine.pause()
            self._close("archive_failed")
            return
        self.recorder = CrawlRecorder(self.sink, run_id, self.crawler.stats)

    def _archive_failed(self, message: str) -> None:
        log.error("stopping the crawl: the archive cannot be written (%s)", message)
        self._close("archive_failed")

    def _close(self, reason: str) -> None:
        """Close the spider once the current callback (or signal) is over."""
        from twisted.internet import reactor

        reactor.callLater(0, lambda: deferred_from_coro(self.crawler.engine.close_spider_async(reason=reason)))

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.recorder is None:  # the archive could not be opened (spider_opened said why)
            return
        s = self.summary = self.finish(reason)
        recorder = self.recorder
        s["unreachable"] = {p.name: recorder.start_failed[p.name] for p in spider.portals
                            if len(recorder.start_failed.get(p.name, ())) >= len(p.start_urls)}
        log.info(
            "crawl %s: %s pages, %s bytes, reports new %s / changed %s / unchanged %s, %s errors (run %s)",
            s["status"], s["pages"], s["bytes"], s["reports_new"], s["reports_changed"], s["reports_unchanged"],
            s["errors"], s["id"],
        )
        s["blocked"] = dict(recorder.blocked)
        for portal, what in recorder.blocked.items():
            log.warning("portal %s is blocked: %s; %s", portal, what, ADVICE)
        if spider.budgets.summary():
            log.warning("crawl %s: %s", s["id"], spider.budgets.summary())
            s["budgets"] = spider.budgets.summary()

    def finish(self, reason: str) -> dict[str, Any]:
        """Close the run (its status: run_status; "failed" after an archive failure, with "error" saying what
        failed). When the archive cannot take even that, the row is what this crawl counted."""
        recorder = self.recorder
        failure = getattr(self.sink, "failure", None)
        status = "failed" if failure else run_status(recorder.count(START_REQUESTS), recorder.count(START_FAILURES),
                                                     reason)
        figures = recorder.figures()
        counted = {"id": recorder.run_id, "status": status, "bytes": None, **figures,
                   **recorder.outcomes("new", "changed", "unchanged")}
        try:
            row = self.sink.finish_run(recorder.run_id, **figures, status=status)
        except (ArchiveFailed, ArchiveGone) as exc:
            row, failure = counted, failure or str(exc)
        try:
            self.sink.close()
        except (ArchiveFailed, ArchiveGone) as exc:
            failure = failure or str(exc)
        return {**row, "status": "failed", "error": failure} if failure else row
