"""Datasette response times on a large synthetic archive: canned queries, facet pages, full-text search.

Run by hand:  .venv/bin/python bench/bench_datasette.py --reports 100000 --db /tmp/bench.db [--reuse]
The target (issue on faults and scale): p50 <= 100 ms per endpoint on an archive of 1,000,000 reports.

Why the archive is synthetic and written in bulk: Archive.store_report is the correct path (one transaction per
report, versions, children) but writes a few hundred reports a second, hours for a million. Here the five fixture
reports are the templates: their gold tables are multiplied by a per-report factor (so every consistency rule
still holds), their text gets another agency, region and year, and everything is written with INSERT … SELECT and
executemany in large transactions, children included. The schema is the real one (archive.store.open_db), so
the indexes, FTS triggers and derived tables are exactly what `nianbao serve` publishes; only their building order
differs: secondary indexes, the FTS index and the derived tables (archive.summary.create_summary) are built once
after the rows, which at a million reports is the difference between sorting 195 M index entries once and
inserting them at random far past the page cache.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import platform
import statistics
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from archive import short_words
from archive.records import cell_rows
from archive.serve import DB_NAME, datasette_app
from archive.store import open_db
from archive.summary import create_summary
from parsers import schema

FIXTURES = Path(__file__).parents[1] / "tests" / "fixtures"
SEEDS = range(5)
YEARS = range(2019, 2026)
REGIONS = 100
BATCH = 5_000
# ~2.5% of report URLs were edited after publication: an older version with is_current = 0 sits before them.
EDITED_EVERY = 40
UNKNOWN_EVERY = 97  # a report whose tables could not be read: format unknown, no cells
FAILING_EVERY = 23  # a report whose own figures do not add up
DEPARTMENTS = (
    "人民政府办公室", "发展和改革局", "教育局", "科学技术局", "工业和信息化局", "公安局", "民政局", "司法局", "财政局",
    "人力资源和社会保障局", "自然资源局", "生态环境局", "住房和城乡建设局", "交通运输局", "水利局", "农业农村局",
    "商务局", "文化旅游广电体育局", "卫生健康委员会", "退役军人事务局", "应急管理局", "审计局", "市场监督管理局",
    "统计局", "医疗保障局", "林业局", "城市管理和综合执法局", "行政审批服务局", "数据局", "信访局",
)
PLACE_CHARS = "安宁永兴长乐平和新华东西南北江河山湖云龙凤阳春秋石泉金玉青松白沙柳林桃花清溪双峰高桥"
PLACE_SUFFIXES = ("镇", "乡", "街道")


def place(n: int, suffix: str) -> str:
    return PLACE_CHARS[n % len(PLACE_CHARS)] + PLACE_CHARS[(n // len(PLACE_CHARS) + 7) % len(PLACE_CHARS)] + suffix


def region_name(r: int) -> str:
    return place(r * 13 + 5, "县市区"[r % 3])


def agency_name(a: int) -> tuple[str, str]:
    """Agency `a` and its region: the first ~30 per region are county departments, the rest towns."""
    region = region_name(a % REGIONS)
    k = a // REGIONS
    if k < len(DEPARTMENTS):
        return region + DEPARTMENTS[k], region
    town = k - len(DEPARTMENTS)
    return region + place(town, PLACE_SUFFIXES[town % 3]) + "人民政府", region


def templates() -> list[dict[str, Any]]:
    """The five fixtures: gold tables as cell rows, text, and the names to substitute in it."""
    out = []
    for n in SEEDS:
        gold = json.loads((FIXTURES / f"seed-00{n}.gold.json").read_text(encoding="utf-8"))
        tables = SimpleNamespace(proactive=gold["proactive"], applications=gold["applications"],
                                 review_litigation=gold["review_litigation"])
        out.append({
            "format": gold["format"], "cells": cell_rows(tables), "has_review": gold["review_litigation"] is not None,
            "text": (FIXTURES / f"seed-00{n}.txt").read_text(encoding="utf-8"),
            "agency": max(gold["meta"]["agency"], key=len), "region": "攸县" if n == 1 else "湘潭县",
            "year": str(gold["meta"]["year"]),
        })
    return out


def report_rows(count: int, tpl: list[dict[str, Any]]) -> Iterator[tuple[tuple, int]]:
    """`count` rows of `reports` (versions included), ids 1..count, in id order, each with its template."""
    report_id, i = 0, 0
    while report_id < count:
        agency, region = agency_name(i // len(YEARS))
        year = YEARS[i % len(YEARS)]
        seed = i % len(SEEDS)
        t = tpl[seed]
        url = f"http://www.{hashlib.md5(agency.encode()).hexdigest()[:10]}.gov.cn/xxgk/{year}/ndbg.html"
        text = t["text"].replace(t["agency"], agency).replace(t["region"], region).replace(t["year"], str(year))
        fmt = "unknown" if i % UNKNOWN_EVERY == 3 else t["format"]
        ok = 0 if i % FAILING_EVERY == 5 and fmt != "unknown" else 1
        stamp = f"{year + 1}-02-{i % 28 + 1:02d}T08:00:00+00:00"
        versions = 2 if i % EDITED_EVERY == 7 else 1
        for version in range(1, versions + 1):
            report_id += 1
            if report_id > count:
                return
            yield (
                report_id, url, version, int(version == versions),
                hashlib.sha256(f"{i}/{version}".encode()).hexdigest(),
                f"{agency}{year}年政府信息公开工作年度报告", agency, region, year, f"{year + 1}-01-{i % 28 + 1:02d}",
                fmt, "html" if i % 3 else "pdf", ok, None if ok else "balance", int(i % 50 == 9), "bench",
                f"http://www.{region}.gov.cn/xxgk/ndbg/", 1, stamp, stamp, stamp if version < versions else None, stamp,
                json.dumps({"overview": text[:200]}, ensure_ascii=False), text,
            ), seed
        i += 1


REPORT_INSERT = (
    "INSERT INTO reports (id, url, version, is_current, sha256, title, agency, region, year, published, format, form, "
    "checks_ok, failed_checks, flag_count, portal, page_url, run_id, stored_at, last_seen_at, superseded_at, "
    "parsed_at, sections, text) VALUES (" + ", ".join("?" * 24) + ")"
)
# Children of a batch of reports, derived in SQL from the templates (temp.tpl_of: which template each report came
# from); every value of a report is multiplied by the same factor, so its consistency rules still hold.
CELLS_INSERT = """
    INSERT INTO cells (report_id, table_name, row_key, column_key, value)
    SELECT r.id, t.table_name, t.row_key, t.column_key, t.value * (1 + (r.id * 7919) % 13)
    FROM reports r JOIN temp.tpl_of o ON o.report_id = r.id JOIN temp.tpl_cells t ON t.seed = o.seed
    WHERE r.id BETWEEN :lo AND :hi AND r.format != 'unknown'
    ORDER BY r.id, t.ord
"""
CHECKS_INSERT = """
    INSERT INTO checks (report_id, rule, ok, detail)
    SELECT r.id, t.rule,
      CASE WHEN r.format = 'unknown' OR (t.review AND NOT o.has_review) THEN NULL
           WHEN t.rule = 'balance' AND r.checks_ok = 0 THEN 0 ELSE 1 END,
      CASE WHEN r.format = 'unknown' OR (t.review AND NOT o.has_review) THEN 'not checked: table is not in the report'
           WHEN t.rule = 'balance' AND r.checks_ok = 0 THEN 'natural_person: 一+二 = 15, 三(七)+四 = 14'
           ELSE t.rule END
    FROM reports r JOIN temp.tpl_of o ON o.report_id = r.id CROSS JOIN temp.tpl_rules t
    WHERE r.id BETWEEN :lo AND :hi
    ORDER BY r.id, t.ord
"""
FLAGS_INSERT = """
    INSERT INTO flags (report_id, location, reason)
    SELECT id, 'applications.granted.total', 'OCR confidence 0.62 below 0.80' FROM reports
    WHERE id BETWEEN :lo AND :hi AND flag_count > 0
"""


def stage(start: float, what: str) -> None:
    print(f"  {what}, {time.perf_counter() - start:6.0f} s", flush=True)


def build(db_path: Path, count: int) -> float:
    """Write a synthetic archive of `count` report rows to `db_path`; returns the seconds it took."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    start = time.perf_counter()
    db = open_db(db_path)
    conn = db.conn
    conn.execute("PRAGMA journal_mode = OFF")  # a bench file: no crash safety needed while it is written
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA cache_size = -1000000")
    # The FTS index is built once at the end ('rebuild'): per-row triggers made the text index 2/3 of the time.
    triggers = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'reports'"
                            ).fetchall()
    for name, _ in triggers:
        conn.execute(f"DROP TRIGGER [{name}]")
    # Secondary indexes are built once at the end too: inserted row by row, the (table_name, row_key, column_key)
    # index of 195 M cells is written in random order, far past the page cache, and ends up a third larger.
    indexes = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                           "AND tbl_name IN ('reports', 'cells', 'checks', 'flags')").fetchall()
    for name, _ in indexes:
        conn.execute(f"DROP INDEX [{name}]")
    tpl = templates()
    conn.execute("CREATE TEMP TABLE tpl_cells (seed INTEGER, ord INTEGER, table_name TEXT, row_key TEXT, "
                 "column_key TEXT, value ANY)")
    conn.executemany("INSERT INTO temp.tpl_cells VALUES (?, ?, ?, ?, ?, ?)", [
        (seed, ord_, c["table_name"], c["row_key"], c["column_key"], c["value"])
        for seed, t in enumerate(tpl) for ord_, c in enumerate(t["cells"])
    ])
    conn.execute("CREATE TEMP TABLE tpl_rules (ord INTEGER, rule TEXT, review INTEGER)")
    conn.executemany("INSERT INTO temp.tpl_rules VALUES (?, ?, ?)", [
        (n, rule, int(rule.startswith(("review", "suit")))) for n, rule in enumerate(schema.rules())
    ])
    conn.execute("CREATE TEMP TABLE tpl_of (report_id INTEGER PRIMARY KEY, seed INTEGER, has_review INTEGER)")
    conn.execute("INSERT INTO crawl_runs (id, started_at, status, portals, start_urls) "
                 "VALUES (1, '2026-01-01T00:00:00+00:00', 'finished', '[\"bench\"]', '[]')")
    rows = report_rows(count, tpl)
    done = 0
    while done < count:
        batch = [row for _, row in zip(range(BATCH), rows, strict=False)]
        if not batch:
            break
        with conn:
            conn.executemany(REPORT_INSERT, [row for row, _ in batch])
            conn.executemany("INSERT INTO temp.tpl_of VALUES (?, ?, ?)", [
                (row[0], seed, int(tpl[seed]["has_review"])) for row, seed in batch])
            bounds = {"lo": batch[0][0][0], "hi": batch[-1][0][0]}
            for sql in (CELLS_INSERT, CHECKS_INSERT, FLAGS_INSERT):
                conn.execute(sql, bounds)
            conn.execute("DELETE FROM temp.tpl_of")
        done += len(batch)
        if done % 50_000 < BATCH:
            print(f"  {done:>9,} reports written, {time.perf_counter() - start:6.0f} s", flush=True)
    stage(start, "reports, cells, checks, flags written")
    with conn:
        conn.execute("UPDATE crawl_runs SET reports_new = ? WHERE id = 1", [count])
        for _, sql in indexes:
            conn.execute(sql)
    stage(start, "indexes built")
    with conn:
        conn.execute("INSERT INTO reports_fts (reports_fts) VALUES ('rebuild')")
        conn.execute(short_words.BACKFILL)  # what the reports trigger writes row by row
        for _, sql in triggers:
            conn.execute(sql)
    stage(start, "full-text index and short-word tails built")
    with conn:
        create_summary(db)  # what store_report keeps up to date row by row, computed here in one pass
    stage(start, "derived tables built")
    conn.execute("PRAGMA analysis_limit = 1000")  # sampled statistics: a full ANALYZE reads every index
    conn.execute("ANALYZE")
    conn.execute("PRAGMA journal_mode = WAL")
    db.close()
    return time.perf_counter() - start


def endpoints(db_path: Path) -> list[tuple[str, str, dict[str, str]]]:
    """(label, path, params) for every canned query, the facet pages and search, with realistic arguments."""
    import sqlite3

    conn = sqlite3.connect(db_path)
    region = conn.execute("SELECT region FROM reports WHERE id = 1").fetchone()[0]
    middle = conn.execute("SELECT max(id) / 2 FROM reports").fetchone()[0]
    agency = conn.execute("SELECT agency FROM reports WHERE id = ?", [middle]).fetchone()[0]
    conn.close()
    q = f"/{DB_NAME}"
    return [
        ("query failing_checks", f"{q}/failing_checks.json", {}),
        ("query requests_by_region_year", f"{q}/requests_by_region_year.json", {}),
        ("query refusal_reasons (all years)", f"{q}/refusal_reasons.json", {"year": ""}),
        ("query refusal_reasons (2023)", f"{q}/refusal_reasons.json", {"year": "2023"}),
        ("query lawsuits_corrected", f"{q}/lawsuits_corrected.json", {}),
        ("query missing_reports", f"{q}/missing_reports.json", {}),
        ("query requests_per_year (region)", f"{q}/requests_per_year.json", {"region": region}),
        ("query report_table (one report)", f"{q}/report_table.json", {"report_id": str(middle)}),
        ("query search_text, agency (FTS)", f"{q}/search_text.json", {"q": agency}),
        ("query search_text, 复议 (1–2 characters, common)", f"{q}/search_text.json", {"q": "复议"}),
        ("query search_text, 钓鱼 (1–2 characters, absent)", f"{q}/search_text.json", {"q": "钓鱼"}),
        ("query search_text, 鳅 (1 character, absent)", f"{q}/search_text.json", {"q": "鳅"}),
        ("query search_text, 县 (1 character, common)", f"{q}/search_text.json", {"q": "县"}),
        ("page report_summary", f"{q}/report_summary", {}),
        ("page reports", f"{q}/reports", {}),
        ("page report_summary?_facet=year", f"{q}/report_summary", {"_facet": "year"}),
        ("page report_summary?region=…&_facet=year", f"{q}/report_summary", {"region": region, "_facet": "year"}),
        # the reports table's search box answers with a redirect to /-/search: measure the page it leads to
        ("page /-/search?q=agency (FTS)", "/-/search", {"q": agency}),
        ("page /-/search?q=行政复议 (FTS, common)", "/-/search", {"q": "行政复议"}),
        ("page /-/search?q=复议 (1–2 characters, common)", "/-/search", {"q": "复议"}),
    ]


async def measure(db_path: Path, rounds: int) -> list[dict[str, Any]]:
    ds = datasette_app(db_path)
    await ds.invoke_startup()
    results = []
    for label, path, params in endpoints(db_path):
        times, status = [], None
        for n in range(rounds + 1):
            start = time.perf_counter()
            response = await ds.client.get(path, params=params)
            elapsed = (time.perf_counter() - start) * 1000
            status = response.status_code
            if n:  # the first request warms the page cache and Datasette's introspection
                times.append(elapsed)
            timed_out = "facet_timed_out" in response.text or "Facet timed out" in response.text
        times.sort()
        results.append({
            "endpoint": label, "path": path, "params": params, "status": status, "facet_timeout": timed_out,
            "p50": statistics.median(times), "p95": times[min(len(times) - 1, round(0.95 * (len(times) - 1)))],
        })
        print(f"  {label:<45} {results[-1]['p50']:8.1f} ms", flush=True)
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reports", type=int, default=100_000, help="report rows (versions) to generate")
    ap.add_argument("--db", type=Path, default=Path("/tmp/bench.db"))
    ap.add_argument("--rounds", type=int, default=7, help="timed requests per endpoint (after one warm-up)")
    ap.add_argument("--reuse", action="store_true", help="measure an existing --db instead of generating it")
    ap.add_argument("--build-only", action="store_true", help="generate --db and stop (measure later with --reuse)")
    args = ap.parse_args()

    built = None
    if not args.reuse:
        print(f"generating {args.reports:,} reports into {args.db} …", flush=True)
        built = build(args.db, args.reports)
        print(f"generated in {built:.0f} s; file {os.path.getsize(args.db) / 2**30:.2f} GiB", flush=True)
        if args.build_only:
            return
    size = os.path.getsize(args.db)
    open_db(args.db, create=False).close()  # migrate an older bench file the way `nianbao serve` would
    import sqlite3

    conn = sqlite3.connect(args.db)
    reports, cells = (conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("reports", "cells"))
    conn.close()
    print(f"measuring {args.rounds} requests per endpoint through Datasette's ASGI app …", flush=True)
    results = asyncio.run(measure(args.db, args.rounds))

    print()
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"SQLite {sqlite3.sqlite_version}")
    print(f"{reports:,} reports, {cells:,} cells; file {size / 2**30:.2f} GiB = {size / reports / 1024:.1f} KiB "
          f"per report" + (f"; generated in {built:.0f} s ({reports / built:,.0f} reports/s)" if built else ""))
    print()
    print("| endpoint | p50 ms | p95 ms | status |\n|---|---:|---:|---|")
    for r in results:
        note = " (a facet timed out)" if r["facet_timeout"] else ""
        flag = "" if r["p50"] <= 100 else " **over**"
        print(f"| {r['endpoint']} | {r['p50']:.0f}{flag} | {r['p95']:.0f} | {r['status']}{note} |")


if __name__ == "__main__":
    main()
