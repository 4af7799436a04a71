"""Make a JOBDIR safe for scheduled, unattended crawls: resume after a stop, recover after a kill, start fresh after
a crawl that finished.

Scrapy's JOBDIR keeps the pending requests (`requests.queue/`) and the fingerprints of every request scheduled
(`requests.seen`). That is exactly right after a graceful stop (SIGTERM, Ctrl-C): the queue is written on close,
and the next crawl carries on where the last one stopped. It is wrong in two other cases this extension handles:

- **Killed** (kill -9, OOM, power cut): queuelib writes a disk queue's head only when it closes, so a killed crawl
  leaves `requests.seen` full of requests whose queue entries are gone — resuming from it would skip them for ever.
  A marker file holding the run's id is written when a crawl opens and removed when it closes; finding it at start
  means the last crawl was killed. Its Scrapy state is then discarded and its `crawl_runs` row is closed as
  "killed". Nothing is lost: every body it fetched is in the archive, so the new crawl re-walks the listings and its
  conditional GETs answer 304 for every report page and attachment already archived.
- **Finished**: a finished crawl's `requests.seen` would make the next scheduled crawl skip every page it saw, so
  after a finished crawl the state is cleared.
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
