"""Running a real crawl in a child process.

Twisted's reactor cannot restart inside one process, so every crawl runs crawler.run.crawl in a fresh
(spawned) interpreter; the portal server stays in the test process, so tests can read what it served.
"""

from __future__ import annotations

import multiprocessing
from pathlib import Path
from typing import Any

# Fast but otherwise the shipped settings (robots, per-host concurrency, retries all stay on).
FAST = {"AUTOTHROTTLE_ENABLED": False, "DOWNLOAD_DELAY": 0, "LOG_LEVEL": "WARNING", "NIANBAO_CONTACT": "ci@example.org"}


class CrawlChild:
    """A crawl running in a spawned child process (a test can signal it halfway)."""

    def __init__(self, db: Path, start_urls: list[str] | None, portals: list[str] | None, overrides: dict) -> None:
        context = multiprocessing.get_context("spawn")
        self.results = context.Queue()
        self.process = context.Process(target=_crawl_child,
                                       args=(self.results, str(db), portals, start_urls, {**FAST, **overrides}))
        self.process.start()

    def result(self, timeout: float = 240) -> dict[str, Any]:
        """The crawl's summary; a crawl that hangs fails the test and its process is killed (Scrapy's own
        SIGTERM handler ignores terminate() once its reactor stopped)."""
        try:
            return self.results.get(timeout=timeout)
        finally:
            self.wait()

    def wait(self, timeout: float = 30) -> int | None:
        """Reap the child (killing it if it does not end); its exit code."""
        self.process.join(timeout=timeout)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        return self.process.exitcode


def start_crawl(db: Path, start_urls: list[str] | None = None, portals: list[str] | None = None,
                **overrides: Any) -> CrawlChild:
    return CrawlChild(db, start_urls, portals, overrides)


def run_crawl(db: Path, start_urls: list[str] | None = None, portals: list[str] | None = None,
              **overrides: Any) -> dict[str, Any]:
    """crawler.run.crawl in a spawned child process; returns its summary."""
    return start_crawl(db, start_urls, portals, **overrides).result()


def _crawl_child(results, db: str, portals, start_urls, overrides) -> None:
    from crawler.run import crawl

    results.put(crawl(db, portals, start_urls, overrides))
