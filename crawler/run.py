"""Run the portal spider in-process: what `nianbao crawl` calls (`scrapy crawl portal` runs the same spider).

Twisted's reactor cannot be restarted, so call crawl() once per process (tests run it in a child process).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings

from crawler.portals import resolve
from crawler.spiders.portal import PortalSpider
from crawler.storage import summary_of


def crawl(
    db_path: str | Path, portals: list[str] | None, start_urls: list[str] | None,
    settings_overrides: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Crawl registered `portals` and/or ad-hoc `start_urls` into the archive at `db_path`.

    Returns the run's crawl_runs row plus "failed": True when the crawl failed as a whole (every start URL
    failed, or it was interrupted) — the CLI turns that into a non-zero exit. Unknown portal names and non-http
    URLs raise (UnknownPortal / ValueError) before anything is fetched. `settings_overrides` take precedence over
    crawler/settings.py (e.g. {"JOBDIR": "crawls/xtx"} to make the crawl resumable after a kill).
    """
    summary = run_spider(portals, start_urls, {"NIANBAO_DB": str(db_path), **(settings_overrides or {})})
    if summary is None:  # the spider never got to close its run (an error while opening)
        return {"status": "failed", "failed": True}
    return {**summary, "failed": summary["status"] != "finished"}


def run_spider(portals: list[str] | None, start_urls: list[str] | None,
               settings_overrides: dict[str, Any]) -> dict[str, Any] | None:
    """Run the portal spider to the end with crawler/settings.py plus `settings_overrides`; the summary its
    storage made (crawler.storage), None when it never got to make one. Once per process."""
    resolve(portals, start_urls)  # fail fast, outside the reactor
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    settings.setdict(settings_overrides, priority="cmdline")
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(PortalSpider)
    process.crawl(crawler, portals=list(portals or []), start_urls=list(start_urls or []))
    process.start()
    return summary_of(crawler)
