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


def run_crawl(db: Path, start_urls: list[str] | None = None, portals: list[str] | None = None,
              **overrides: Any) -> dict[str, Any]:
    """crawler.run.crawl in a spawned child process; returns its summary. A crawl that hangs fails the test
    and its process is killed (Scrapy's own SIGTERM handler ignores terminate() once its reactor stopped)."""
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    child = context.Process(target=_crawl_child, args=(results, str(db), portals, start_urls, {**FAST, **overrides}))
    child.start()
    try:
        return results.get(timeout=240)
    finally:
        child.join(timeout=30)
        if child.is_alive():
            child.kill()
            child.join()


def _crawl_child(results, db: str, portals, start_urls, overrides) -> None:
    from crawler.run import crawl

    results.put(crawl(db, portals, start_urls, overrides))
