"""The archive writer's CPU per report: record_fetch + store_report of distinct report pages, commits grouped.

Run by hand:  .venv/bin/python bench/bench_writer.py [--reports 1600] [--rounds 3] [--group-seconds 1]
Each round stores `--reports` pages (the five fixture reports, each copy another agency's) into a fresh
archive, as the crawl's writer process does, once with the shipped schema and once with the cross-report
`(table_name, row_key, column_key)` index on cells put back (what migration 4 dropped), alternating, so the
price of that index is measured in the same run. The pages are parsed before the clock starts.
"""

from __future__ import annotations

import argparse
import dataclasses
import platform
import statistics
import tempfile
import time
from pathlib import Path

from archive.store import Archive
from parsers import parse

FIXTURES = Path(__file__).parents[1] / "tests" / "fixtures"
CROSS_REPORT_INDEX = "CREATE INDEX idx_cells_table_name_row_key_column_key ON cells (table_name, row_key, column_key)"


def one_round(pages: list[bytes], reports: list, count: int, group_seconds: float, with_index: bool) -> float:
    """CPU ms per report of storing `count` pages into a fresh archive."""
    with tempfile.TemporaryDirectory() as tmp:
        archive = Archive(Path(tmp) / "bench.db", group_seconds=group_seconds)
        if with_index:
            archive.db.execute(CROSS_REPORT_INDEX)
        run_id = archive.start_run(["bench"], ["http://bench.invalid/"])
        # each copy another agency's report: the archive stores a report it already has only as a sighting
        copies = [(pages[i % len(pages)] + f"<!-- {i} -->".encode(),
                   dataclasses.replace(reports[i % len(reports)], agency=f"{reports[i % len(reports)].agency}{i}"))
                  for i in range(count)]
        start = time.process_time()
        for i, (body, report) in enumerate(copies):
            url = f"http://bench.invalid/{i}.html"
            sha256 = archive.record_fetch(run_id, url, status=200, body=body, headers={"Content-Type": "text/html"})
            assert archive.store_report(run_id, url, sha256, report, portal="bench") == "new"
        archive.close()
        return (time.process_time() - start) / count * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reports", type=int, default=1600)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--group-seconds", type=float, default=1.0, help="as NIANBAO_COMMIT_SECONDS")
    args = ap.parse_args()
    pages = [p.read_bytes() for p in sorted(FIXTURES.glob("seed-00[0-4].html"))]
    reports = [parse(page) for page in pages]
    took: dict[str, list[float]] = {"shipped schema": [], "with the cross-report cells index": []}
    for n in range(args.rounds):
        order = list(took) if n % 2 == 0 else list(reversed(took))
        for name in order:
            took[name].append(one_round(pages, reports, args.reports, args.group_seconds, name != "shipped schema"))
    print(f"{platform.machine()}, Python {platform.python_version()}; {args.reports} reports a round, "
          f"commits every {args.group_seconds:g} s")
    for name, ms in took.items():
        print(f"{name + ':':36s} median {statistics.median(ms):5.2f} ms CPU a report "
              f"(rounds: {', '.join(f'{m:.2f}' for m in ms)})")


if __name__ == "__main__":
    main()
