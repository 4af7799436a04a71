"""The archive on a real SQLite file: schema, versions, raw bodies, summary, search, CSV export and reparse.

Most reports here are built by hand from the gold JSON, so these tests check the archive and not parser quality;
the parser is used where the archive's job is to run it (reparse, and one fixture parsed and stored end to end).
"""

from __future__ import annotations

import copy
import csv
import dataclasses
import io
import json
import sqlite3
from pathlib import Path

import pytest
from sqlite_utils import Database

import parsers
from archive import Archive, export_csv, reparse, search
from archive.records import cell_rows, report_fields
from archive.schema import MIGRATIONS
from archive.store import open_db
from archive.summary import SUMMARY_COLUMNS
from tests.archive_builder import (
    REGIONS,
    assert_materialised_as_recomputed,
    build_archive,
    gold,
    gold_report,
    seed_url,
    stored_tables,
    unknown_report,
)
from tests.gold import FIXTURES


@pytest.fixture
def built(tmp_path: Path) -> tuple[Path, dict[str, int]]:
    return build_archive(tmp_path)


def summary_row(db_path: Path, report_id: int) -> dict:
    db = sqlite3.connect(db_path)
    db.row_factory = sqlite3.Row
    return dict(db.execute("SELECT * FROM report_summary WHERE report_id = ?", [report_id]).fetchone())


def test_schema_is_created_once_with_wal_foreign_keys_and_indexes(built):
    db_path, _ = built
    archive = Archive(db_path)  # reopening migrates nothing and keeps the data
    db = archive.db
    assert {"reports", "cells", "checks", "flags", "fetches", "crawl_runs", "errors", "labels", "reports_fts"} <= set(
        db.table_names())
    assert "report_summary" in db.table_names() and db.view_names() == []  # derived table, see archive/summary.py
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS) == 5
    assert {"report_reasons", "reason_totals", "region_year_totals", "report_gaps"} <= set(db.table_names())
    assert db["reports"].count == 6
    indexed = {tuple(index.columns) for index in db["reports"].indexes}
    assert {("agency",), ("region",), ("year",), ("format",), ("checks_ok",), ("url", "version")} <= indexed
    assert {fk.other_table for fk in db["cells"].foreign_keys} == {"reports"}
    # a report's cells through the unique index; no cross-report index for the writer to keep (migration 4)
    assert [(tuple(i.columns), i.unique) for i in db["cells"].indexes] == [
        (("report_id", "table_name", "row_key", "column_key"), 1)]
    with pytest.raises(sqlite3.IntegrityError):
        db.execute("INSERT INTO cells (report_id, table_name, row_key, column_key, value) VALUES (999, 'x', 'y', "
                   "'z', 1)")
    archive.close()


def test_cells_hold_every_table_value_under_schema_keys(built):
    db_path, ids = built
    db = sqlite3.connect(db_path)
    for n in (0, 3):
        g = gold(n)
        assert stored_tables(db, ids[f"seed-00{n}"]) == {
            "proactive": g["proactive"], "applications": g["applications"],
            "review_litigation": g["review_litigation"],
        }
    # seed-001 has no table 四: no review_litigation rows at all, not zeros
    assert set(stored_tables(db, ids["seed-001"])) == {"proactive", "applications"}
    assert stored_tables(db, ids["unknown"]) == {}
    # integers stay integers and decimals stay decimals
    value = db.execute("SELECT value, typeof(value) FROM cells WHERE report_id = ? AND row_key = 'procurement' "
                       "AND column_key = 'total_amount'", [ids["seed-003"]]).fetchone()
    assert value == (472540922.62, "real")
    assert db.execute("SELECT typeof(value) FROM cells WHERE report_id = ? AND row_key = 'new_received' "
                      "AND column_key = 'total'", [ids["seed-003"]]).fetchone() == ("integer",)


def test_report_summary_has_key_figures_and_null_for_missing_tables(built):
    db_path, ids = built
    youxian = summary_row(db_path, ids["seed-001"])
    assert {k: youxian[k] for k in ("agency", "region", "year", "format", "checks_ok")} == {
        "agency": "攸县人民政府办公室", "region": "攸县", "year": 2024, "format": "2021", "checks_ok": 1}
    assert {k: youxian[k] for k in ("new_received", "carried_over", "granted", "partially_granted", "denied_total",
                                     "unavailable_total", "rejected_total", "other_total", "total_processed",
                                     "carried_forward")} == {
        "new_received": 14, "carried_over": 0, "granted": 1, "partially_granted": 0, "denied_total": 0,
        "unavailable_total": 12, "rejected_total": 1, "other_total": 0, "total_processed": 14, "carried_forward": 0}
    assert youxian["review_total"] is None and youxian["suit_total"] is None and youxian["suit_corrected"] is None
    assert youxian["fees_10k_yuan"] == 0

    county_2020 = summary_row(db_path, ids["seed-003"])
    assert (county_2020["suit_total"], county_2020["suit_corrected"], county_2020["review_total"]) == (2, 2, 0)
    assert (county_2020["licensing_decisions"], county_2020["penalty_decisions"],
            county_2020["coercion_decisions"]) == (13335, 1691, 211)
    assert county_2020["fees_10k_yuan"] is None  # the 2019 template has no fee amount

    hr = summary_row(db_path, ids["seed-004"])
    assert (hr["checks_ok"], hr["failed_checks"], hr["denied_total"]) == (0, "balance", 1)

    unknown = summary_row(db_path, ids["unknown"])
    assert unknown["format"] == "unknown"
    assert all(unknown[column] is None for column in SUMMARY_COLUMNS[SUMMARY_COLUMNS.index("new_received"):])


REASON_PREFIXES = ("denied_", "unavailable_", "rejected_")


def gold_reasons(n: int) -> dict[str, int | None]:
    return {key: row["total"] for key, row in gold(n)["applications"].items() if key.startswith(REASON_PREFIXES)}


def test_materialised_aggregates_equal_the_sql_over_cells(built):
    db_path, ids = built
    tables = assert_materialised_as_recomputed(db_path)
    assert {row[1]: row[4] for row in tables["report_reasons"] if row[0] == ids["seed-001"]} == gold_reasons(1)
    assert not [row for row in tables["report_reasons"] if row[0] == ids["unknown"]]  # no tables, no reasons
    not_held = [row for row in tables["reason_totals"] if row[2] == "unavailable_not_held"]
    assert sum(row[4] for row in not_held) == sum(gold_reasons(n)["unavailable_not_held"] for n in range(5)) == 15
    assert sum(row[6] for row in not_held) == 3  # reports citing it
    county_2024 = next(row for row in tables["region_year_totals"] if row[:2] == ("湘潭县", 2024))
    assert county_2024[2:5] == (3, 8, 4)  # reports, new_received, granted of seed-000, 002, 004
    assert tables["report_gaps"] == sorted(((ids[key], year) for key, year in (
        ("seed-000", 2024), ("seed-001", 2024), ("seed-002", 2024), ("seed-003", 2020), ("seed-004", 2024),
        ("unknown", 2023))), key=repr)


def test_materialised_aggregates_follow_new_versions_and_new_years(built):
    db_path, ids = built
    archive = Archive(db_path)

    def store(url: str, report) -> str:
        body = repr((url, report.year, report.applications)).encode()  # other figures, other bytes
        sha = archive.record_fetch(None, url, status=200, body=body, headers={})
        return archive.store_report(None, url, sha, report, region=REGIONS[1] if url == seed_url(1) else None)

    edited = gold_report(1)  # 攸县's report re-published with 5 more 本机关不掌握
    edited.applications = copy.deepcopy(edited.applications)
    edited.applications["unavailable_not_held"]["total"] += 5
    assert store(seed_url(1), edited) == "changed"
    tables = assert_materialised_as_recomputed(db_path)
    assert sum(row[4] for row in tables["reason_totals"] if row[2] == "unavailable_not_held") == 20
    assert next(row for row in tables["region_year_totals"] if row[0] == "攸县")[2] == 1  # the old version left

    # 湘潭县交通运输局 publishes its 2024 report: its 2023 report is no longer followed by a gap
    next_year = dataclasses.replace(gold_report(0), agency="湘潭县交通运输局", year=2024, title="交通运输局 2024")
    assert store("http://www.xtx.gov.cn/jtj/2024.html", next_year) == "new"
    gaps = {row[0] for row in assert_materialised_as_recomputed(db_path)["report_gaps"]}
    assert ids["unknown"] not in gaps

    # a report without a year or region is a NULL key of the rollups, and moves out when superseded
    undated = dataclasses.replace(gold_report(2), year=None, source="http://www.example.gov.cn/undated.html")
    assert store("http://www.example.gov.cn/undated.html", undated) == "new"
    assert (None, None) in {row[:2] for row in assert_materialised_as_recomputed(db_path)["region_year_totals"]}
    dated = dataclasses.replace(undated, year=2022)
    assert store("http://www.example.gov.cn/undated.html", dated) == "changed"
    keys = {row[:2] for row in assert_materialised_as_recomputed(db_path)["region_year_totals"]}
    assert (None, None) not in keys and (None, 2022) in keys
    archive.close()


def test_an_archive_of_user_version_1_is_upgraded_and_backfilled(tmp_path):
    """A file written by nianbao before migration 2: reports and cells, an out-of-date report_summary, nothing
    materialised. Opening it builds every aggregate from the cells already there and the short-word tails, and
    drops the cross-report cells index."""
    path = tmp_path / "v1.db"
    db = Database(path)
    MIGRATIONS[0](db)
    db.execute("PRAGMA user_version = 1")
    db.execute("CREATE TABLE report_summary (report_id INTEGER PRIMARY KEY, agency TEXT)")
    ids = {}
    for n in range(5):
        report = gold_report(n)
        ids[n] = db["reports"].insert({"url": seed_url(n), "version": 1, "is_current": 1, "sha256": f"{n:064d}",
                                       "region": REGIONS[n], "stored_at": "2025-01-01T00:00:00+00:00",
                                       **report_fields(report)}).last_pk
        db["cells"].insert_all({"report_id": ids[n], **row} for row in cell_rows(report))
    db.conn.commit()
    assert "idx_cells_table_name_row_key_column_key" in {i.name for i in db["cells"].indexes}
    db.close()

    open_db(path, create=False).close()
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone() == (5,)
    assert [i.columns for i in Database(path)["cells"].indexes] == [["report_id", "table_name", "row_key",
                                                                     "column_key"]]
    tables = assert_materialised_as_recomputed(path)
    assert [r["id"] for r in search(path, "社保")] == [ids[4]]  # migration 3: short words through the index
    assert len(tables["report_reasons"]) == sum(len(gold_reasons(n)) for n in range(5))
    assert {row[1]: row[4] for row in tables["report_reasons"] if row[0] == ids[3]} == gold_reasons(3)
    assert summary_row(path, ids[1])["unavailable_total"] == 12


def test_changed_bytes_make_a_new_version_and_keep_the_old(built):
    db_path, ids = built
    archive = Archive(db_path)
    url = seed_url(0)
    run_id = archive.start_run(portals=["test"], start_urls=[])
    same = archive.record_fetch(run_id, url, status=200, body=(FIXTURES / "seed-000.html").read_bytes(), headers={})
    assert archive.store_report(run_id, url, same, gold_report(0)) == "unchanged"

    edited = gold_report(0)
    edited.applications = copy.deepcopy(edited.applications)
    edited.applications["new_received"]["total"] = 5
    new_body = (FIXTURES / "seed-000.html").read_bytes().replace(b"</body>", "<p>2025-01-20 修订</p></body>".encode())
    sha = archive.record_fetch(run_id, url, status=200, body=new_body, headers={})
    assert archive.store_report(run_id, url, sha, edited, region="湘潭县") == "changed"
    run = archive.finish_run(run_id, pages=2, errors=0)
    assert (run["reports_new"], run["reports_changed"], run["reports_unchanged"]) == (0, 1, 1)
    assert run["bytes"] == len(new_body) + (FIXTURES / "seed-000.html").stat().st_size

    versions = list(archive.db.query("SELECT id, version, is_current, sha256, superseded_at FROM reports "
                                     "WHERE url = ? ORDER BY version", [url]))
    assert [(v["version"], v["is_current"], v["sha256"]) for v in versions] == [(1, 0, same), (2, 1, sha)]
    assert versions[0]["id"] == ids["seed-000"] and versions[0]["superseded_at"] is not None
    old = stored_tables(sqlite3.connect(db_path), versions[0]["id"])
    assert old["applications"]["new_received"]["total"] == 2  # the old figures are still on record
    assert summary_row(db_path, versions[1]["id"])["new_received"] == 5
    assert sqlite3.connect(db_path).execute(
        "SELECT count(*) FROM report_summary WHERE url = ?", [url]).fetchone() == (1,)
    assert archive.get_blob(same) != archive.get_blob(sha)
    archive.close()


def test_raw_bodies_are_content_addressed_and_never_rewritten(tmp_path):
    archive = Archive(tmp_path / "nianbao.db")
    headers = {"Content-Type": "application/pdf", "ETag": '"abc"', "Last-Modified": "Mon, 20 Jan 2025 08:00:00 GMT"}
    url = "http://www.example.gov.cn/a.pdf"
    sha = archive.record_fetch(None, url, status=200, body=b"%PDF-1.4 body", headers=headers)
    path = tmp_path / "raw" / sha[:2] / sha
    assert path.read_bytes() == b"%PDF-1.4 body" and archive.get_blob(sha) == b"%PDF-1.4 body"
    before = path.stat().st_mtime_ns
    assert archive.record_fetch(None, url, status=200, body=b"%PDF-1.4 body", headers=headers) == sha
    assert path.stat().st_mtime_ns == before
    assert not [p for p in (tmp_path / "raw").rglob("*") if p.name.startswith(".tmp")]

    assert archive.validators(url) == {"etag": '"abc"', "last_modified": "Mon, 20 Jan 2025 08:00:00 GMT",
                                       "sha256": sha}
    assert archive.record_fetch(None, url, status=404, body=b"not found", headers={}) != sha
    assert archive.validators(url)["sha256"] == sha  # only successful fetches count
    assert archive.record_fetch(None, url, status=304, body=b"", headers={}) == sha
    fetches = list(archive.db.query("SELECT status, sha256, bytes, content_type, method FROM fetches ORDER BY id"))
    assert [(f["status"], f["bytes"]) for f in fetches] == [(200, 13), (200, 13), (404, 9), (304, 0)]
    assert fetches[3]["sha256"] == sha and fetches[0]["content_type"] == "application/pdf"
    assert archive.validators("http://never.fetched/") == {"etag": None, "last_modified": None, "sha256": None}
    archive.close()


def test_store_report_refuses_bytes_it_does_not_have(tmp_path):
    archive = Archive(tmp_path / "nianbao.db")
    with pytest.raises(ValueError, match="record_fetch"):
        archive.store_report(None, seed_url(0), "0" * 64, gold_report(0))
    assert archive.db["reports"].count == 0


def test_a_failed_store_leaves_no_half_report(tmp_path):
    archive = Archive(tmp_path / "nianbao.db")
    run_id = archive.start_run(portals=[], start_urls=[])
    sha = archive.record_fetch(run_id, seed_url(0), status=200, body=b"<html>x</html>", headers={})
    broken = gold_report(0)
    broken.applications = copy.deepcopy(broken.applications)
    broken.applications["carried_forward"]["total"] = object()  # the database cannot store this
    with pytest.raises(sqlite3.Error):
        archive.store_report(run_id, seed_url(0), sha, broken)
    assert (archive.db["reports"].count, archive.db["cells"].count, archive.db["checks"].count) == (0, 0, 0)
    assert archive.db["crawl_runs"].get(run_id)["reports_new"] == 0
    assert archive.store_report(run_id, seed_url(0), sha, gold_report(0)) == "new"
    archive.close()


def test_errors_and_runs_are_recorded(tmp_path):
    archive = Archive(tmp_path / "nianbao.db")
    run_id = archive.start_run(portals=["xtx", "yx"], start_urls=["http://www.xtx.gov.cn/"])
    archive.record_error(run_id, "http://www.xtx.gov.cn/x.doc", stage="parse", message="encrypted", sha256="ab" * 32)
    row = archive.finish_run(run_id, pages=3, errors=1, status="failed")
    assert (row["pages"], row["errors"], row["status"], json.loads(row["portals"])) == (3, 1, "failed", ["xtx", "yx"])
    assert row["ended_at"] >= row["started_at"]
    error = next(archive.db["errors"].rows)
    assert (error["stage"], error["message"], error["run_id"], error["sha256"]) == ("parse", "encrypted", run_id,
                                                                                     "ab" * 32)
    archive.close()


def test_search_uses_trigram_for_long_queries_and_a_scan_for_short_ones(built):
    db_path, ids = built
    assert sorted(r["id"] for r in search(db_path, "易俗河镇")) == sorted([ids["seed-002"], ids["seed-003"]])
    assert [r["id"] for r in search(db_path, "社保")] == [ids["seed-004"]]
    assert [r["id"] for r in search(db_path, "攸县")] == [ids["seed-001"]]
    assert [r["id"] for r in search(db_path, "易俗河镇 社保")] == []
    hit = search(db_path, "攸县")[0]
    assert "攸县" in hit["excerpt"] and hit["agency"] == "攸县人民政府办公室"
    assert search(db_path, "   ") == []
    assert search(db_path, 'a"b') == []  # quotes cannot break the FTS syntax


def test_export_csv_is_one_row_per_current_report_with_a_bom(built, tmp_path):
    db_path, ids = built
    out = tmp_path / "summary.csv"
    assert export_csv(db_path, out, keys=True) == 6
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert list(rows[0]) == list(SUMMARY_COLUMNS)
    youxian = next(r for r in rows if r["report_id"] == str(ids["seed-001"]))
    assert (youxian["agency"], youxian["new_received"], youxian["unavailable_total"], youxian["review_total"]) == (
        "攸县人民政府办公室", "14", "12", "")
    buffer = io.BytesIO()
    assert export_csv(db_path, buffer, keys=True) == 6
    assert buffer.getvalue() == raw
    with pytest.raises(FileNotFoundError):
        export_csv(tmp_path / "missing.db", tmp_path / "x.csv")


def test_reparse_rebuilds_from_archived_bytes_and_reports_changes(tmp_path):
    archive = Archive(tmp_path / "nianbao.db")
    for n in (0, 1):
        body = (FIXTURES / f"seed-00{n}.txt").read_bytes()
        sha = archive.record_fetch(None, seed_url(n), status=200, body=body, headers={"Content-Type": "text/plain"})
        report = parsers.parse(body, source=seed_url(n), content_type="text/plain")
        if n == 0:  # as an older, buggier parser would have stored it
            report.applications["granted"]["total"] = 99
            report.agency = "湘潭县"
        archive.store_report(None, seed_url(n), sha, report, region=REGIONS[n])
    junk = "http://www.example.gov.cn/junk.html"
    sha = archive.record_fetch(None, junk, status=200, body=b"\x00\x01\x02\x03" * 100, headers={})
    archive.store_report(None, junk, sha, unknown_report())
    ids = {url: archive.current_version(url)["id"] for url in (seed_url(0), seed_url(1), junk)}
    archive.close()

    summary = reparse(tmp_path / "nianbao.db")
    assert (summary.reports, summary.unchanged) == (3, 1)
    assert summary.changed == [{"id": ids[seed_url(0)], "url": seed_url(0), "version": 1, "what": ["figures", "meta"]}]
    assert [f["id"] for f in summary.failed] == [ids[junk]]
    assert "ParseError" in summary.failed[0]["message"]

    db = sqlite3.connect(tmp_path / "nianbao.db")
    assert stored_tables(db, ids[seed_url(0)])["applications"] == gold(0)["applications"]
    assert db.execute("SELECT agency, region FROM reports WHERE id = ?", [ids[seed_url(0)]]).fetchone() == (
        "湘潭县数据局", "湘潭县")
    assert db.execute("SELECT stage, url, sha256 FROM errors").fetchall() == [("reparse", junk, sha)]
    # the report that no longer parses keeps what it had
    assert db.execute("SELECT title FROM reports WHERE id = ?", [ids[junk]]).fetchone() == (unknown_report().title,)
    assert reparse(tmp_path / "nianbao.db").changed == []
    # the figures reparse corrected reach the materialised totals (granted 99 -> the gold value, new agency)
    tables = assert_materialised_as_recomputed(tmp_path / "nianbao.db")
    assert [row[4] for row in tables["region_year_totals"] if row[:2] == ("湘潭县", 2024)] == [
        gold(0)["applications"]["granted"]["total"]]


def test_a_fixture_parsed_by_the_real_parser_is_stored_whole(tmp_path):
    body = (FIXTURES / "seed-002.html").read_bytes()
    report = parsers.parse(body, source=seed_url(2), content_type="text/html")
    archive = Archive(tmp_path / "nianbao.db")
    sha = archive.record_fetch(None, seed_url(2), status=200, body=body, headers={"Content-Type": "text/html"})
    assert archive.store_report(None, seed_url(2), sha, report) == "new"
    report_id = archive.current_version(seed_url(2))["id"]
    g = gold(2)
    assert stored_tables(sqlite3.connect(tmp_path / "nianbao.db"), report_id) == {
        "proactive": g["proactive"], "applications": g["applications"], "review_litigation": g["review_litigation"]}
    row = summary_row(tmp_path / "nianbao.db", report_id)
    assert (row["agency"], row["region"], row["year"], row["penalty_decisions"], row["checks_ok"]) == (
        "湘潭县易俗河镇", "湘潭县", 2024, 3, 1)
    assert archive.db["checks"].count == len(report.checks) > 0
    archive.close()


def test_a_304_marks_the_current_report_unchanged(built):
    db_path, ids = built
    archive = Archive(db_path)
    run_id = archive.start_run(portals=["test"], start_urls=[])
    assert archive.mark_unchanged(run_id, seed_url(1)) is True
    assert archive.mark_unchanged(run_id, "http://www.example.gov.cn/never-a-report.html") is False
    row = archive.finish_run(run_id, pages=2, errors=0)
    assert (row["reports_unchanged"], row["reports_new"], row["reports_changed"]) == (1, 0, 0)
    archive.close()


def test_reparse_keeps_what_the_linking_page_gave_an_attachment(tmp_path: Path):
    """An attachment without its own title was stored with the report page's title/agency/date: reparse keeps them."""
    body = "\n".join((FIXTURES / "seed-000.txt").read_text(encoding="utf-8").splitlines()[2:]).encode("utf-8")
    document = parsers.parse(body)
    assert document.title is None and document.agency is None
    hinted = dataclasses.replace(document, title="湘潭县数据局2024年政府信息公开工作年度报告", agency="湘潭县数据局",
                                 published="2025-01-20")
    archive = Archive(tmp_path / "nianbao.db")
    url = "http://www.example.gov.cn/uploads/nb.txt"
    sha = archive.record_fetch(None, url, status=200, body=body, headers={"Content-Type": "text/plain"})
    archive.store_report(None, url, sha, hinted, page_url="http://www.example.gov.cn/content_1.html")
    archive.close()
    summary = reparse(tmp_path / "nianbao.db").as_dict()
    assert (summary["unchanged"], summary["changed"]) == (1, [])
    db = sqlite3.connect(tmp_path / "nianbao.db")
    row = db.execute("SELECT title, agency, published, year FROM reports").fetchone()
    assert row == ("湘潭县数据局2024年政府信息公开工作年度报告", "湘潭县数据局", "2025-01-20", 2024)
