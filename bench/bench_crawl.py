"""Crawl benchmarks on a generated loopback portal (bench/synthetic_portal.py): the full nianbao pipeline next to
a fetch-only Scrapy spider on the same pages in the same run, a re-crawl of the unchanged portal, peak memory.

Run by hand:
    .venv/bin/python bench/bench_crawl.py throughput --units 10 --lists 10 --rounds 3   # 2,112 pages a crawl
    .venv/bin/python bench/bench_crawl.py memory --units 100 --lists 48                 # 100,802 pages, JOBDIR

Targets (issue on faults and scale): the full pipeline at least half the fetch-only spider's pages/s; a re-crawl of
an unchanged portal a small fraction of the first crawl's bytes and time; peak memory of a 100,000-page crawl with
disk queues <= 300 MB.

Every crawl runs in its own spawned process (Twisted's reactor cannot restart) and reports its own peak RSS and
its archive writer's (crawler.archive_process); the portal is served from another process, so on a 2-core
machine the three share both cores. Both spiders get the same concurrency and no delays; robots.txt, retries and
the archive stay as shipped.
"""

from __future__ import annotations

import argparse
import multiprocessing
import platform
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.synthetic_portal import page_count, serve_synthetic  # noqa: E402

SETTINGS = {"AUTOTHROTTLE_ENABLED": False, "DOWNLOAD_DELAY": 0, "CONCURRENT_REQUESTS": 16,
            "CONCURRENT_REQUESTS_PER_DOMAIN": 16, "LOG_LEVEL": "WARNING", "NIANBAO_CONTACT": "bench@example.org"}


def _serve(units: int, lists: int, ports) -> None:
    server = serve_synthetic(units, lists)
    ports.put(server.server_address[1])
    while True:
        time.sleep(3600)


def _peak_mb(who: int = resource.RUSAGE_SELF) -> float:
    """Peak RSS in MiB of this process, or (RUSAGE_CHILDREN) of the largest child it has waited for."""
    return resource.getrusage(who).ru_maxrss / 1024  # Linux: KiB


def _full_child(results, db: str, url: str, overrides: dict[str, Any]) -> None:
    from crawler.run import crawl

    start = time.perf_counter()
    summary = crawl(db, None, [url], {**SETTINGS, **overrides})
    results.put({"seconds": time.perf_counter() - start, "pages": summary["pages"], "bytes": summary["bytes"],
                 "reports": summary["reports_new"] + summary["reports_changed"] + summary["reports_unchanged"],
                 "errors": summary["errors"], "peak_mb": _peak_mb(),
                 "writer_peak_mb": _peak_mb(resource.RUSAGE_CHILDREN)})  # the archive writer, joined at close


def _fetch_child(results, url: str) -> None:
    """The baseline: Scrapy fetching the same pages (links under /nb/) and nothing else."""
    from scrapy import Request, Spider
    from scrapy.crawler import CrawlerProcess

    class FetchOnly(Spider):
        name = "fetch_only"
        start_urls = [url]

        def parse(self, response):
            self.crawler.stats.inc_value("bench/bytes", len(response.body))
            for href in response.css("a::attr(href)").getall():
                target = response.urljoin(href)
                if target.startswith(url + "nb/"):
                    yield Request(target)

    process = CrawlerProcess({**SETTINGS, "ROBOTSTXT_OBEY": True})
    crawler = process.create_crawler(FetchOnly)
    process.crawl(crawler)
    start = time.perf_counter()
    process.start()
    stats = crawler.stats.get_stats()
    results.put({"seconds": time.perf_counter() - start, "pages": stats.get("response_received_count", 0),
                 "bytes": stats.get("bench/bytes", 0), "peak_mb": _peak_mb()})


def _run(target, *args) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    child = context.Process(target=target, args=(results, *args))
    child.start()
    result = results.get(timeout=6 * 3600)
    child.join()
    return result


def _rate(result: dict[str, Any]) -> float:
    return result["pages"] / result["seconds"]


def throughput(url: str, rounds: int) -> None:
    rows = []
    for n in range(rounds):
        with tempfile.TemporaryDirectory(prefix="nianbao-bench-") as tmp:
            fetch = _run(_fetch_child, url)
            first = _run(_full_child, str(Path(tmp) / "a.db"), url, {})
            again = _run(_full_child, str(Path(tmp) / "a.db"), url, {})
        rows.append((fetch, first, again))
        print(f"round {n + 1}: fetch-only {_rate(fetch):6.1f} pages/s ({fetch['pages']} pages, "
              f"{fetch['peak_mb']:.0f} MB) | nianbao {_rate(first):6.1f} pages/s ({first['pages']} pages, "
              f"{first['reports']} reports, {first['errors']} errors, {first['peak_mb']:.0f} + "
              f"{first['writer_peak_mb']:.0f} MB) | re-crawl "
              f"{again['seconds']:.1f} s, {again['bytes'] / first['bytes']:.1%} of the bytes, "
              f"{again['reports']} unchanged", flush=True)
    ratios = [_rate(first) / _rate(fetch) for fetch, first, _ in rows]
    print(f"nianbao / fetch-only: best {max(ratios):.2f}, median {statistics.median(ratios):.2f} (target >= 0.5)")
    times = [again["seconds"] / first["seconds"] for _, first, again in rows]
    sizes = [again["bytes"] / first["bytes"] for _, first, again in rows]
    print(f"re-crawl / first crawl: time {statistics.median(times):.1%}, bytes {statistics.median(sizes):.1%} (median)")


def memory(url: str, db: str | None) -> None:
    with tempfile.TemporaryDirectory(prefix="nianbao-bench-") as tmp:
        path = db or str(Path(tmp) / "a.db")
        result = _run(_full_child, path, url, {"JOBDIR": str(Path(tmp) / "job")})
        size = Path(path).stat().st_size
    print(f"{result['pages']} pages, {result['reports']} reports, {result['errors']} errors in "
          f"{result['seconds']:.0f} s ({_rate(result):.1f} pages/s); peak RSS {result['peak_mb']:.0f} MiB crawl + "
          f"{result['writer_peak_mb']:.0f} MiB archive writer (target <= 300 MB); archive {size / 2**20:.0f} MiB")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=["throughput", "memory"])
    ap.add_argument("--units", type=int, default=10)
    ap.add_argument("--lists", type=int, default=10, help="list pages per unit (20 reports each)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--db", help="memory: keep the archive here instead of a temporary directory")
    args = ap.parse_args()
    context = multiprocessing.get_context("spawn")
    ports = context.Queue()
    server = context.Process(target=_serve, args=(args.units, args.lists, ports), daemon=True)
    server.start()
    url = f"http://127.0.0.1:{ports.get(timeout=60)}/"
    print(f"{platform.machine()}, {multiprocessing.cpu_count()} cores, Python {platform.python_version()}; "
          f"portal of {page_count(args.units, args.lists)} pages at {url}", flush=True)
    try:
        throughput(url, args.rounds) if args.mode == "throughput" else memory(url, args.db)
    finally:
        server.kill()


if __name__ == "__main__":
    main()
