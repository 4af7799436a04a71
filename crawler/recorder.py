"""One crawl's bookkeeping against the archive: the crawl_runs row, fetches, errors, reports and the figures.

Why one object: the downloader middleware (fetches), the spider (errors, 304s) and the item pipeline (reports)
all write to the same run, and the run's summary needs all their counts.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from twisted.internet.defer import Deferred, maybeDeferred

from archive.store import POLICY_STAGES
from crawler.archive_process import ArchiveFailed, ArchiveGone, ArchiveProcess
from parsers import Report

log = logging.getLogger(__name__)


def run_status(start_requests: int, start_failures: int, reason: str) -> str:
    """A crawl failed as a whole when every start URL failed; otherwise it ended as Scrapy says it did.

    Shared with the distributed writer (crawler.writer), which applies it to the counts of all workers.
    """
    if start_requests and start_failures >= start_requests:
        return "failed"
    return reason  # "finished"; "shutdown" after Ctrl-C / SIGTERM; "closespider_…" limits


@dataclass
class CrawlRecorder:
    archive: ArchiveProcess  # or crawler.distributed.JournalArchive: the Archive calls a crawl makes
    run_id: int
    pages: int = 0
    errors: int = 0
    start_requests: int = 0
    start_failures: int = 0
    outcomes: dict[str, int] = field(default_factory=lambda: {"new": 0, "changed": 0, "unchanged": 0})

    @classmethod
    def open(cls, archive: ArchiveProcess, portals: list[str], start_urls: list[str]) -> CrawlRecorder:
        """Start a run in `archive` (PortalSpider.archive_writer: started early, so that it opens the archive
        while Scrapy builds its engine)."""
        return cls(archive=archive, run_id=archive.start_run(portals=portals, start_urls=start_urls))

    def fetched(self, url: str, *, status: int, body: bytes, headers: dict[str, str], method: str) -> str:
        """Archive one HTTP response (every one, whatever its status); returns the body's sha256."""
        self.pages += 1
        return self.archive.record_fetch(self.run_id, url, status=status, body=body, headers=headers,
                                         method=method)

    def validators(self, url: str) -> dict[str, str | None]:
        return self.archive.validators(url)

    def archived_body(self, url: str) -> bytes | None:
        """The body a 304 confirmed: the newest successful fetch of `url` (None when it was never fetched)."""
        sha256 = self.archive.validators(url)["sha256"]
        return self.archive.get_blob(sha256) if sha256 else None

    def error(self, url: str | None, *, stage: str, message: str, sha256: str | None = None) -> None:
        failure = stage not in POLICY_STAGES
        self.errors += failure
        log.log(logging.WARNING if failure else logging.INFO, "%s: %s at %s", stage, message, url)
        self.archive.record_error(self.run_id, url, stage=stage, message=message, sha256=sha256)

    def store(self, url: str, sha256: str, report: Report, *, portal: str | None, region: str | None,
              page_url: str | None) -> Deferred[str]:
        """Store a report; the Deferred fires with its outcome ("new", "changed", "unchanged"; "queued" for a
        distributed worker) once the archive has it."""
        stored = maybeDeferred(self.archive.store_report, self.run_id, url, sha256, report, portal=portal,
                               region=region, page_url=page_url)
        return stored.addCallback(self._counted)

    def _counted(self, outcome: str) -> str:
        self.outcomes[outcome] += 1
        return outcome

    def confirm_unchanged(self, url: str) -> bool:
        """A 304 for a URL whose report is on record: count it unchanged without re-parsing.

        Returns False when no report is on record at `url` (the page was not a report last time).
        """
        if not self.archive.mark_unchanged(self.run_id, url):
            return False
        self.outcomes["unchanged"] += 1
        return True

    def finish(self, reason: str) -> dict[str, Any]:
        """Close the run (its status: run_status; "failed" after an archive failure, with "error" saying what
        failed). When the archive cannot take even that, the row is what this crawl counted."""
        failure = getattr(self.archive, "failure", None)
        status = "failed" if failure else run_status(self.start_requests, self.start_failures, reason)
        counted = {"id": self.run_id, "status": status, "pages": self.pages, "bytes": None, "errors": self.errors,
                   **{f"reports_{k}": n for k, n in self.outcomes.items()}}
        try:
            row = self.archive.finish_run(self.run_id, pages=self.pages, errors=self.errors, status=status)
        except (ArchiveFailed, ArchiveGone) as exc:
            row, failure = counted, failure or str(exc)
        try:
            self.archive.close()
        except (ArchiveFailed, ArchiveGone) as exc:
            failure = failure or str(exc)
        return {**row, "status": "failed", "error": failure} if failure else row
