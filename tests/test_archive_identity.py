"""One report, one row where people count: the same report at several URLs, a corrected republication, and an
archive written before identity existed."""

from __future__ import annotations

import copy
import dataclasses
import sqlite3

from sqlite_utils import Database

from archive import Archive
from archive.schema import MIGRATIONS
from archive.store import open_db
from tests.archive_builder import build_archive, gold_report, seed_url
from tests.gold import FIXTURES


def _store(archive: Archive, url: str, report, body: bytes, region: str | None = "湘潭县") -> str:
    sha = archive.record_fetch(None, url, status=200, body=body, headers={})
    return archive.store_report(None, url, sha, report, portal="test", region=region)


def _counted(db_path, region: str = "湘潭县") -> tuple[int, int]:
    """(report_summary rows, region_year_totals reports) of seed-000's region and year (2024)."""
    db = sqlite3.connect(db_path)
    rows = db.execute("SELECT count(*) FROM report_summary WHERE agency = ? AND year = 2024",
                      [gold_report(0).agency]).fetchone()[0]
    totals = db.execute("SELECT sum(reports) FROM region_year_totals WHERE region = ? AND year = 2024",
                        [region]).fetchone()[0]
    return rows, totals


def test_the_same_report_at_other_urls_is_one_report_with_several_urls(tmp_path):
    db_path, ids = build_archive(tmp_path)
    before = _counted(db_path)
    archive = Archive(db_path)
    page = (FIXTURES / "seed-000.html").read_bytes()
    https = seed_url(0).replace("http://", "https://")
    dept = "http://www.example.gov.cn/bm/sjj/seed-000.html"
    # the same bytes over https; the department's own column serves it with other surroundings
    assert _store(archive, https, gold_report(0), page) == "unchanged"
    assert _store(archive, dept, gold_report(0), page.replace(b"</body>", b"<p>dept column</p></body>")) == "unchanged"
    archive.close()

    assert _counted(db_path) == before
    db = sqlite3.connect(db_path)
    urls = db.execute("SELECT url FROM report_urls WHERE report_id = ? ORDER BY id", [ids["seed-000"]]).fetchall()
    assert [u for (u,) in urls] == [seed_url(0), https, dept]
    assert db.execute("SELECT count(*) FROM reports").fetchone() == (6,)
    assert Archive(db_path).current_version(dept)["id"] == ids["seed-000"]


def test_a_corrected_republication_supersedes_the_earlier_report_and_both_stay(tmp_path):
    db_path, ids = build_archive(tmp_path)
    archive = Archive(db_path)
    corrected = dataclasses.replace(gold_report(0), applications=copy.deepcopy(gold_report(0).applications))
    corrected.applications["new_received"]["total"] += 3
    url = "http://www.example.gov.cn/nianbao/seed-000-corrected.html"
    assert _store(archive, url, corrected, b"<html>corrected</html>") == "changed"
    new_id = archive.current_version(url)["id"]
    archive.close()

    db = sqlite3.connect(db_path)
    old = db.execute("SELECT is_current, superseded_by FROM reports WHERE id = ?", [ids["seed-000"]]).fetchone()
    assert old == (0, new_id)
    assert db.execute("SELECT version FROM reports WHERE id = ?", [new_id]).fetchone() == (2,)
    summary = db.execute("SELECT report_id, new_received FROM report_summary WHERE agency = ? AND year = 2024",
                         [gold_report(0).agency]).fetchall()
    assert summary == [(new_id, gold_report(0).applications["new_received"]["total"] + 3)]
    assert _counted(db_path)[0] == 1
    # the earlier URL now stands for the newer report
    assert Archive(db_path).current_version(seed_url(0))["id"] == new_id


def test_other_agencies_and_other_years_stay_separate_reports(tmp_path):
    db_path, _ = build_archive(tmp_path)
    archive = Archive(db_path)
    other_agency = dataclasses.replace(gold_report(0), agency="湘潭县统计局", title="湘潭县统计局2024年年报")
    assert _store(archive, "http://www.example.gov.cn/tjj/2024.html", other_agency, b"<html>tjj</html>") == "new"
    # a URL that now shows the next year's report leaves last year's on record
    next_year = dataclasses.replace(gold_report(0), year=2025)
    assert _store(archive, seed_url(0), next_year, b"<html>2025</html>") == "new"
    archive.close()
    db = sqlite3.connect(db_path)
    assert db.execute("SELECT year, count(*) FROM report_summary WHERE agency = ? GROUP BY year ORDER BY year",
                      [gold_report(0).agency]).fetchall() == [(2024, 1), (2025, 1)]
    assert db.execute("SELECT count(*) FROM report_summary WHERE agency = '湘潭县统计局'").fetchone() == (1,)


def test_an_archive_that_counted_a_report_twice_is_merged_on_upgrade(tmp_path):
    """What two `make demo` runs left before migration 5: the same report stored at two URLs, both current."""
    path = tmp_path / "v4.db"
    db = Database(path)
    for step in MIGRATIONS[:4]:
        step(db)
    db.execute("PRAGMA user_version = 4")
    from archive.records import cell_rows, report_fields
    from archive.summary import create_summary

    for port in (8001, 8002):
        report_id = db["reports"].insert({
            "url": f"http://127.0.0.1:{port}/nianbao/seed-000.html", "version": 1, "is_current": 1,
            "sha256": f"{port:064d}", "region": "湘潭县", "stored_at": "2025-01-01T00:00:00+00:00",
            **report_fields(gold_report(0))}).last_pk
        db["cells"].insert_all({"report_id": report_id, **row} for row in cell_rows(gold_report(0)))
    create_summary(db)
    db.conn.commit()
    assert db.execute("SELECT count(*) FROM report_summary").fetchone() == (2,)
    db.close()

    open_db(path, create=False).close()
    db = sqlite3.connect(path)
    assert db.execute("SELECT report_id FROM report_summary").fetchall() == [(1,)]
    assert db.execute("SELECT reports, new_received FROM region_year_totals").fetchone() == (
        1, gold_report(0).applications["new_received"]["total"])
    assert db.execute("SELECT is_current, superseded_by FROM reports WHERE id = 2").fetchone() == (0, 1)
    assert db.execute("SELECT url FROM report_urls WHERE report_id = 1 ORDER BY url").fetchall() == [
        ("http://127.0.0.1:8001/nianbao/seed-000.html",), ("http://127.0.0.1:8002/nianbao/seed-000.html",)]


def test_at_the_same_url_new_text_under_the_same_tables_is_a_new_version(tmp_path):
    db_path, ids = build_archive(tmp_path)
    archive = Archive(db_path)
    page = (FIXTURES / "seed-000.html").read_bytes()
    # the page's chrome changed (a view counter): the report as parsed is the same
    assert _store(archive, seed_url(0), gold_report(0), page + b"<!-- views: 12 -->") == "unchanged"
    corrected = dataclasses.replace(gold_report(0), text=gold_report(0).text + "（2025年2月3日更正）")
    assert _store(archive, seed_url(0), corrected, page + b"<p>corrected</p>") == "changed"
    assert archive.current_version(seed_url(0))["id"] != ids["seed-000"]
    archive.close()
    assert _counted(db_path)[0] == 1


def test_two_reports_read_as_one_agency_and_year_stay_two_and_say_so(tmp_path):
    """Two townships' reports whose agency the parser read as the county office (the office uploaded both): the
    same identity, other text. Neither may vanish from the counts; an errors row says what to check."""
    db_path, _ = build_archive(tmp_path)
    archive = Archive(db_path)
    office = "湘潭县人民政府办公室"
    first = dataclasses.replace(gold_report(2), agency=office, title="2024年政府信息公开工作年度报告")
    second = dataclasses.replace(gold_report(3), agency=office, year=2024, title="2024年政府信息公开工作年度报告")
    assert _store(archive, "http://www.example.gov.cn/xz/a.html", first, b"<html>a</html>") == "new"
    assert _store(archive, "http://www.example.gov.cn/xz/b.html", second, b"<html>b</html>") == "new"
    archive.close()
    db = sqlite3.connect(db_path)
    assert db.execute("SELECT count(*) FROM report_summary WHERE agency = ?", [office]).fetchone() == (2,)
    (message,) = db.execute("SELECT message FROM errors WHERE stage = 'identity'").fetchone()
    assert message.startswith(f"湘潭县 {office} 2024: another report of this agency and year, with other text, is at "
                              "http://www.example.gov.cn/xz/a.html")
    # nor does the merge that migration 5 and reparse run, which says so too
    from archive.identity import merge_duplicates

    merged = Database(db_path)
    assert merge_duplicates(merged) == []
    merged.conn.commit()
    assert [m for (m,) in db.execute("SELECT message FROM errors WHERE stage = 'identity' ORDER BY id")][1].startswith(
        f"湘潭县 {office} 2024: another report of this agency and year, with other text, is at "
        "http://www.example.gov.cn/xz/a.html")
