"""An archive built from the fixtures' gold values, shared by the archive, Datasette and browser tests.

Reports are built by hand from the gold JSON, so tests using it check the archive and not parser quality.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from archive import Archive
from parsers import Report
from tests.gold import FIXTURES, load_gold

REGIONS = {0: "湘潭县", 1: "攸县", 2: "湘潭县", 3: "湘潭县", 4: "湘潭县"}
UNKNOWN_URL = "http://www.xtx.gov.cn/jtj/2023.html"


def gold(n: int) -> dict:
    return load_gold(f"seed-00{n}")


def seed_url(n: int) -> str:
    return f"http://www.example.gov.cn/nianbao/seed-00{n}.html"


def gold_report(n: int) -> Report:
    """A Report carrying the true values of fixture n (checks all passing), with its published text."""
    g = gold(n)
    return Report(
        source=seed_url(n), title=f"{g['meta']['agency'][0]}{g['meta']['year']}年政府信息公开工作年度报告",
        agency=g["meta"]["agency"][0], year=g["meta"]["year"], format=g["format"], form="html",
        proactive=g["proactive"], applications=g["applications"], review_litigation=g["review_litigation"],
        checks=[{"rule": "balance", "ok": True, "detail": ""}, {"rule": "row_total", "ok": True, "detail": ""}],
        text=(FIXTURES / f"seed-00{n}.txt").read_text(encoding="utf-8"),
    )


def unknown_report() -> Report:
    """A report whose template was not found: every table None, and text that must never be rendered as HTML."""
    return Report(
        source=UNKNOWN_URL, title="湘潭县交通运输局2023年政府信息公开工作年度报告", agency="湘潭县交通运输局",
        year=2023,
        text='扫描件，无法识别表格。<script>alert("x")</script>',
    )


def build_archive(tmp_path: Path) -> tuple[Path, dict[str, int]]:
    """An archive with the five fixtures (seed-004 failing `balance`) and one report without tables.

    Returns the database path and the reports.id of each, keyed "seed-00N" / "unknown".
    """
    db_path = tmp_path / "nianbao.db"
    archive = Archive(db_path)
    run_id = archive.start_run(portals=["test"], start_urls=["http://www.example.gov.cn/"])
    ids = {}
    for n in range(5):
        body = (FIXTURES / f"seed-00{n}.html").read_bytes()
        sha = archive.record_fetch(run_id, seed_url(n), status=200, body=body,
                                   headers={"Content-Type": "text/html; charset=utf-8"})
        report = gold_report(n)
        if n == 4:
            report.checks[0] = {"rule": "balance", "ok": False, "detail": "total: 4 + 0 != 4 + 1"}
        assert archive.store_report(run_id, seed_url(n), sha, report, portal="test", region=REGIONS[n]) == "new"
    sha = archive.record_fetch(run_id, UNKNOWN_URL, status=200, body=b"<html>scan</html>",
                               headers={"content-type": "text/html"})
    archive.store_report(run_id, UNKNOWN_URL, sha, unknown_report(), portal="test", region="湘潭县")
    archive.finish_run(run_id, pages=7, errors=0)
    for key, url in [*((f"seed-00{n}", seed_url(n)) for n in range(5)), ("unknown", UNKNOWN_URL)]:
        ids[key] = archive.current_version(url)["id"]
    archive.close()
    return db_path, ids


def stored_tables(db: sqlite3.Connection, report_id: int) -> dict:
    """Reassemble the cells of one report into the document's three tables."""
    tables: dict = {}
    for table, row, column, value in db.execute(
        "SELECT table_name, row_key, column_key, value FROM cells WHERE report_id = ?", [report_id]
    ):
        if table == "review_litigation":
            assert column == "value"
            tables.setdefault(table, {})[row] = value
        else:
            tables.setdefault(table, {}).setdefault(row, {})[column] = value
    return tables


# What archive/summary.py materialises, computed the old way: straight from `cells` and `report_summary` with GROUP BY
# and NOT EXISTS, as the canned queries did before. Tests compare the two after every kind of write.
RECOMPUTED = {
    "report_reasons": """
        SELECT c.report_id, c.row_key, r.year, r.format, c.value FROM cells c JOIN reports r ON r.id = c.report_id
        WHERE r.is_current = 1 AND c.table_name = 'applications' AND c.column_key = 'total'
          AND (c.row_key GLOB 'denied_*' OR c.row_key GLOB 'unavailable_*' OR c.row_key GLOB 'rejected_*')""",
    "reason_totals": """
        SELECT r.year, r.format, c.row_key, count(*), sum(c.value), count(c.value),
          count(DISTINCT CASE WHEN c.value > 0 THEN c.report_id END)
        FROM cells c JOIN reports r ON r.id = c.report_id
        WHERE r.is_current = 1 AND c.table_name = 'applications' AND c.column_key = 'total'
          AND (c.row_key GLOB 'denied_*' OR c.row_key GLOB 'unavailable_*' OR c.row_key GLOB 'rejected_*')
        GROUP BY r.year, r.format, c.row_key""",
    "region_year_totals": """
        SELECT region, year, count(*), sum(new_received), sum(granted), sum(partially_granted), sum(denied_total),
          sum(unavailable_total), sum(rejected_total), sum(total_processed), sum(new_received IS NULL),
          sum(checks_ok = 0), sum(unparsed = 1)
        FROM report_summary GROUP BY region, year""",
    "report_gaps": """
        SELECT prev.report_id, prev.year FROM report_summary prev
        WHERE prev.agency IS NOT NULL AND prev.year IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM report_summary n WHERE n.agency = prev.agency AND n.year = prev.year + 1)""",
}
MATERIALISED = {
    "report_reasons": "SELECT report_id, reason, year, format, requests FROM report_reasons",
    "reason_totals": "SELECT year, format, reason, reports, requests, requests_values, citing FROM reason_totals",
    "region_year_totals": """
        SELECT region, year, reports, new_received, granted, partially_granted, denied_total, unavailable_total,
          rejected_total, total_processed, without_figures, failing_checks, unparsed
        FROM region_year_totals""",
    "report_gaps": "SELECT report_id, year FROM report_gaps",
}


def assert_materialised_as_recomputed(db_path: Path) -> dict[str, list[tuple]]:
    """Every materialised table holds exactly what the SQL over cells gives; returns the rows, sorted."""
    db = sqlite3.connect(db_path)
    try:
        tables = {}
        for name, sql in MATERIALISED.items():
            rows = sorted(db.execute(sql), key=repr)
            assert rows == sorted(db.execute(RECOMPUTED[name]), key=repr), name
            tables[name] = rows
        assert db.execute("SELECT count(*) FROM report_reasons").fetchone()[0] > 0
        return tables
    finally:
        db.close()
