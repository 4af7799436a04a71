"""Reports parsed per second on the fixture HTML pages, next to bare `lxml.html.fromstring` on the same pages.

Run by hand:  .venv/bin/python bench/bench_parse.py [--seconds 5]
The target (issue 2): the whole parse within 2x the time of the bare lxml parse.
"""

from __future__ import annotations

import argparse
import platform
import time
from collections.abc import Callable
from pathlib import Path

import lxml.html

from parsers import parse

FIXTURES = Path(__file__).parents[1] / "tests" / "fixtures"


def rate(pages: list[bytes], work: Callable[[bytes], object], seconds: float) -> float:
    """Pages per second over at least `seconds` of repeated passes."""
    done, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        for page in pages:
            work(page)
        done += len(pages)
    return done / elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seconds", type=float, default=5.0)
    args = ap.parse_args()
    pages = [p.read_bytes() for p in sorted(FIXTURES.glob("seed-*.html"))]
    size = sum(map(len, pages)) / len(pages) / 1024
    bare = rate(pages, lxml.html.fromstring, args.seconds)
    full = rate(pages, parse, args.seconds)
    print(f"{platform.processor() or platform.machine()}, Python {platform.python_version()}, {len(pages)} pages "
          f"(mean {size:.0f} KiB, UTF-8 and GBK)")
    print(f"lxml.html.fromstring alone: {bare:8.1f} pages/s")
    print(f"nianbao parse (full):       {full:8.1f} reports/s")
    print(f"full parse takes {bare / full:.2f}x the bare lxml parse (target <= 2x)")


if __name__ == "__main__":
    main()
