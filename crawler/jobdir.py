"""Make a JOBDIR safe for unattended crawls: resume after a stop, recover after a kill, start fresh after a finish.

Scrapy's JOBDIR is right after a graceful stop. After a kill, `requests.seen` lists requests whose queue entries
were never written, so resuming would skip them for ever: a marker holding the run's id, present at start, says
the last crawl was killed; its Scrapy state is discarded and its run closed as "killed" (every body it fetched
is archived, so the new crawl's conditional GETs cost little). After a finish, the state is cleared, or the next
crawl would skip every page it saw.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.utils.job import job_dir

from crawler.storage import recorder_of

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

log = logging.getLogger(__name__)

MARKER = "nianbao-run"  # holds the id of the crawl_runs row of the crawl using this JOBDIR right now
SCRAPY_STATE = ("requests.seen", "requests.queue")


class JobDirGuard:
    def __init__(self, crawler: Crawler, path: Path) -> None:
        self.crawler = crawler
        self.path = path
        self.killed_run: int | None = None
        marker = path / MARKER
        if marker.exists():
            text = marker.read_text().strip()
            self.killed_run = int(text) if text.isdigit() else None
            log.warning("JOBDIR %s belongs to a crawl that was killed (run %s): starting over from the start pages; "
                        "pages already archived are fetched conditionally", path, text or "?")
            self._clear()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> JobDirGuard:
        path = job_dir(crawler.settings)
        if not path:
            raise NotConfigured  # no message: Scrapy would log it as a warning on every crawl
        guard = cls(crawler, Path(path))
        # Connected after crawler.storage.ArchiveStorage's (EXTENSIONS order), so the run is open here.
        crawler.signals.connect(guard.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(guard.spider_closed, signal=signals.spider_closed)
        return guard

    def spider_opened(self) -> None:
        recorder = recorder_of(self.crawler)
        if recorder is None:  # the archive could not be opened: leave the job's state as the last crawl left it
            return
        if self.killed_run is not None:
            recorder.sink.close_killed_run(self.killed_run)
        (self.path / MARKER).write_text(str(recorder.run_id))

    def spider_closed(self, reason: str) -> None:
        if recorder_of(self.crawler) is None:
            return
        if reason == "finished":
            self._clear()
        (self.path / MARKER).unlink(missing_ok=True)

    def _clear(self) -> None:
        for name in SCRAPY_STATE:
            target = self.path / name
            if target.is_dir():
                shutil.rmtree(target)
            else:
                target.unlink(missing_ok=True)
