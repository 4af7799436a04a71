"""One crawl's writes to the archive sink, and its counts in Scrapy's stats (keys under `nianbao/`).

The downloader middleware (fetches), the spider (errors, 304s, start pages) and the item pipeline (reports) share
it; crawler.storage.ArchiveStorage makes it when the run starts and closes the run from its counts.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from scrapy.statscollectors import StatsCollector
from twisted.internet.defer import Deferred, maybeDeferred

from archive.sink import ArchiveSink
from archive.store import POLICY_STAGES
from parsers import Report

log = logging.getLogger(__name__)

PAGES, ERRORS = "nianbao/pages", "nianbao/errors"
START_REQUESTS, START_FAILURES = "nianbao/start_requests", "nianbao/start_failures"
REPORTS = "nianbao/reports/"  # + new, changed, unchanged (queued: a distributed worker's)


def run_status(start_requests: int, start_failures: int, reason: str) -> str:
    """A crawl failed as a whole when every start URL failed; otherwise it ended as Scrapy says it did.

    Shared with the distributed writer (crawler.writer), which applies it to the counts of all workers.
    """
    if start_requests and start_failures >= start_requests:
        return "failed"
    return reason  # "finished"; "shutdown" after Ctrl-C / SIGTERM; "closespider_…" limits


@dataclass
class CrawlRecorder:
    sink: ArchiveSink
    run_id: int | None  # None for a distributed worker: the writer owns the run
    stats: StatsCollector
    start_failed: dict[str, list[str]] = field(default_factory=dict)  # portal -> "url: why" of each failed start
    blocked: dict[str, str] = field(default_factory=dict)  # portal -> the first challenge or block page it sent

    def count(self, key: str) -> int:
        return self.stats.get_value(key, 0)

    def fetched(self, url: str, *, status: int, body: bytes, headers: dict[str, str], method: str) -> str:
        """Archive one HTTP response (every one, whatever its status); returns the body's sha256."""
        self.stats.inc_value(PAGES)
        return self.sink.record_fetch(self.run_id, url, status=status, body=body, headers=headers, method=method)

    def validators(self, url: str) -> dict[str, str | None]:
        return self.sink.validators(url)

    def archived_body(self, url: str) -> bytes | None:
        """The body a 304 confirmed: the newest successful fetch of `url` (None when it was never fetched)."""
        sha256 = self.sink.validators(url)["sha256"]
        return self.sink.get_blob(sha256) if sha256 else None

    def error(self, url: str | None, *, stage: str, message: str, sha256: str | None = None) -> None:
        failure = stage not in POLICY_STAGES
        if failure:
            self.stats.inc_value(ERRORS)
        log.log(logging.WARNING if failure else logging.INFO, "%s: %s at %s", stage, message, url)
        self.sink.record_error(self.run_id, url, stage=stage, message=message, sha256=sha256)

    def start_request(self) -> None:
        self.stats.inc_value(START_REQUESTS)

    def start_failure(self, portal: str, what: str) -> None:
        """A start page of `portal` failed for good (`what`: "url: why")."""
        self.stats.inc_value(START_FAILURES)
        self.start_failed.setdefault(portal, []).append(what)

    def portal_blocked(self, portal: str, what: str) -> None:
        self.blocked.setdefault(portal, what)

    def store(self, url: str, sha256: str, report: Report, *, portal: str | None, region: str | None,
              page_url: str | None) -> Deferred[str]:
        """Store a report; the Deferred fires with its outcome ("new", "changed", "unchanged"; "queued" for a
        distributed worker) once the archive has it."""
        stored = maybeDeferred(self.sink.store_report, self.run_id, url, sha256, report, portal=portal,
                               region=region, page_url=page_url)
        return stored.addCallback(self._counted)

    def _counted(self, outcome: str) -> str:
        self.stats.inc_value(REPORTS + outcome)
        return outcome

    def outcomes(self, *names: str) -> dict[str, int]:
        return {f"reports_{name}": self.count(REPORTS + name) for name in names}

    def confirm_unchanged(self, url: str) -> bool:
        """A 304 for a URL whose report is on record: count it unchanged without re-parsing.

        Returns False when no report is on record at `url` (the page was not a report last time).
        """
        if not self.sink.mark_unchanged(self.run_id, url):
            return False
        self.stats.inc_value(REPORTS + "unchanged")
        return True

    def figures(self) -> dict[str, Any]:
        return {"pages": self.count(PAGES), "errors": self.count(ERRORS)}
