"""The published archive, through Datasette's own client: JSON, canned queries, search, CSV, read-only, metadata."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import sqlite3
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from datasette_dashboards import replace_opts_in_query

from archive.search import search, search_text_sql
from archive.serve import DB_NAME, METADATA_PATH, datasette_app, load_metadata
from archive.short_words import COMMON_WORD
from archive.summary import SUMMARY_COLUMNS
from tests.archive_builder import build_archive, gold, stored_tables
from tests.live import running_datasette


class Site:
    """A Datasette app over a freshly built archive, driven from one event loop."""

    def __init__(self, db_path: Path, ids: dict[str, int]) -> None:
        self.db_path, self.ids = db_path, ids
        self.ds = datasette_app(db_path)
        self.loop = asyncio.new_event_loop()

    def run(self, coroutine):
        return self.loop.run_until_complete(coroutine)

    def get(self, path: str, **params):
        response = self.run(self.ds.client.get(path, params=params))
        assert response.status_code == 200, (path, response.text[:500])
        return response

    def rows(self, path: str, **params) -> list[dict]:
        return self.get(path, _shape="array", _size="max", **params).json()

    def query(self, name: str, **params) -> list[dict]:
        return self.rows(f"/{DB_NAME}/{name}.json", **params)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[Site]:
    site = Site(*build_archive(tmp_path_factory.mktemp("site")))
    yield site
    site.ds.get_database(DB_NAME).close()
    site.loop.close()


def test_cells_json_of_a_report(site):
    report_id = site.ids["seed-003"]
    cells = site.rows(f"/{DB_NAME}/cells.json", report_id=report_id, _labels="off")
    assert len(cells) == len(stored_tables(sqlite3.connect(site.db_path), report_id)["applications"]) * 7 + 15 + 22
    tables: dict = {}
    for cell in cells:
        table, row, column = cell["table_name"], cell["row_key"], cell["column_key"]
        if table == "review_litigation":
            tables.setdefault(table, {})[row] = cell["value"]
        else:
            tables.setdefault(table, {}).setdefault(row, {})[column] = cell["value"]
    g = gold(3)
    assert tables == {"proactive": g["proactive"], "applications": g["applications"],
                      "review_litigation": g["review_litigation"]}


# The canned queries as they were before their aggregates were materialised (archive/summary.py): straight over
# cells, checks and reports. The rewritten ones must give the same rows.
OLD_QUERIES = {
    "failing_checks": """
        select r.id as report_id, r.agency, r.region, r.year, k.rule, k.detail, r.title, r.url
        from checks k join reports r on r.id = k.report_id
        where r.is_current = 1 and k.ok = 0
        order by r.region, r.agency, r.year, k.rule""",
    "requests_by_region_year": """
        select region, year, count(*) as reports,
          sum(new_received) as new_received, sum(granted) as granted, sum(partially_granted) as partially_granted,
          sum(denied_total) as denied, sum(unavailable_total) as unavailable, sum(rejected_total) as rejected,
          sum(total_processed) as total_processed,
          sum(new_received is null) as reports_without_figures, sum(checks_ok = 0) as reports_failing_checks
        from report_summary group by region, year order by region, year""",
    "refusal_reasons": """
        select c.row_key as reason, max(l.label) as label, sum(c.value) as requests,
          count(distinct case when c.value > 0 then c.report_id end) as reports_citing
        from cells c join reports r on r.id = c.report_id
        left join labels l on l.format = r.format and l.table_name = 'applications' and l.kind = 'row'
          and l.key = c.row_key
        where r.is_current = 1 and c.table_name = 'applications' and c.column_key = 'total'
          and (c.row_key glob 'denied_*' or c.row_key glob 'unavailable_*' or c.row_key glob 'rejected_*')
          and (:year = '' or r.year = :year)
        group by c.row_key order by requests desc, reason""",
    "lawsuits_corrected": """
        select report_id, agency, region, year, review_total, review_corrected, suit_total, suit_corrected, url
        from report_summary where review_total > 0 or suit_total > 0
        order by coalesce(review_corrected, 0) + coalesce(suit_corrected, 0) desc, suit_total desc, agency""",
    "missing_reports": """
        select prev.agency, prev.region, prev.year + 1 as missing_year, prev.year as last_year,
          prev.url as last_report_url
        from report_summary prev
        where prev.agency is not null and prev.year < (select max(year) from reports)
          and not exists (select 1 from report_summary n where n.agency = prev.agency and n.year = prev.year + 1)
        order by prev.region, prev.agency, missing_year""",
    "search_text": """
        select r.id as report_id, r.agency, r.region, r.year, r.title,
          substr(r.text, max(instr(r.text, :q) - 30, 1), 60 + length(:q)) as excerpt, r.url
        from reports r
        where r.is_current = 1 and length(:q) >= 3 and r.id in (
          select rowid from reports_fts where reports_fts match '"' || replace(:q, '"', '""') || '"')
        union all
        select r.id, r.agency, r.region, r.year, r.title,
          substr(r.text, max(instr(r.text, :q) - 30, 1), 60 + length(:q)), r.url
        from reports r
        where r.is_current = 1 and length(:q) between 1 and 2
          and instr(coalesce(r.title, '') || char(10) || coalesce(r.agency, '') || char(10) || r.text, :q) > 0
        order by 4 desc, 2""",
}
OLD_QUERY_PARAMS = {
    "refusal_reasons": [{"year": ""}, {"year": "2024"}, {"year": "2020"}, {"year": "1999"}],
    "search_text": [{"q": q} for q in ("社保", "易俗河镇", "复议", "攸县", "县", "没有的词", "")],
}


def test_canned_queries_give_the_rows_the_old_sql_gave(site):
    db = sqlite3.connect(site.db_path)
    db.row_factory = sqlite3.Row
    rows_seen = {}
    for name, sql in OLD_QUERIES.items():
        for params in OLD_QUERY_PARAMS.get(name, [{}]):
            old = [dict(row) for row in db.execute(sql, params)]
            assert site.query(name, **params) == old, (name, params)
            rows_seen[name] = rows_seen.get(name, 0) + len(old)
    assert all(rows_seen.values()), rows_seen  # every query has rows to compare on the test archive
    assert len(site.query("search_text", q="县")) == 6  # a one-character query finds every report


def test_search_text_is_served_from_python(site):
    """metadata.yml describes search_text and holds no SQL and no threshold; the query served is archive.search's,
    registered by the plugin, and /-/search and the canned query find the same reports."""
    described = yaml.safe_load(METADATA_PATH.read_text(encoding="utf-8"))["databases"][DB_NAME]["queries"]
    assert "sql" not in described["search_text"]
    assert f"{COMMON_WORD}" not in METADATA_PATH.read_text(encoding="utf-8")
    served = site.run(site.ds.get_canned_query(DB_NAME, "search_text", None))
    assert served["sql"] == search_text_sql() and f"LIMIT {COMMON_WORD}" in served["sql"]
    assert (served["title"], served["params"]) == (described["search_text"]["title"], ["q"])
    for q in ("社保", "复议", "易俗河镇"):
        assert [r["report_id"] for r in site.query("search_text", q=q)] == [r["id"] for r in search(site.db_path, q)]


def test_search_text_for_common_short_words_scans_and_agrees(site):
    """The canned query's scan arm (a 1–2 character word with COMMON_WORD or more occurrences), forced by setting
    its threshold to 0: the same rows as the reference SQL and the index arm."""
    db = sqlite3.connect(site.db_path)
    db.row_factory = sqlite3.Row
    for q in ("社保", "复议", "县", "没有", "易俗河镇"):
        scanned = [dict(row) for row in db.execute(search_text_sql(common=0), {"q": q})]
        assert scanned == [dict(row) for row in db.execute(OLD_QUERIES["search_text"], {"q": q})] != [], q
        assert scanned == site.query("search_text", q=q), q


def test_search_text_reads_no_occurrences_of_a_common_word(site):
    """The rare-word arm starts from the one-row probe: for a common word its threshold ends that outer loop before
    the word's occurrences are read (tested in the WHERE clause instead, it read them all: 1.8 s at 1 M reports)."""
    plan = [row[3] for row in sqlite3.connect(site.db_path).execute("EXPLAIN QUERY PLAN " + search_text_sql(),
                                                                     {"q": "县"})]
    assert plan.index("SCAN probe") < plan.index("SCAN m"), plan


def test_failing_checks_names_the_rule(site):
    assert [(r["report_id"], r["agency"], r["rule"], r["detail"]) for r in site.query("failing_checks")] == [
        (site.ids["seed-004"], "湘潭县人力资源和社会保障局", "balance", "total: 4 + 0 != 4 + 1")]


def test_requests_and_refusals_per_region_per_year(site):
    rows = {(r["region"], r["year"]): r for r in site.query("requests_by_region_year")}
    assert sorted(rows) == [("攸县", 2024), ("湘潭县", 2020), ("湘潭县", 2023), ("湘潭县", 2024)]
    county_2024 = rows[("湘潭县", 2024)]  # seed-000, 002, 004
    assert (county_2024["reports"], county_2024["new_received"], county_2024["granted"], county_2024["denied"],
            county_2024["unavailable"], county_2024["reports_failing_checks"]) == (3, 8, 4, 1, 4, 1)
    no_tables = rows[("湘潭县", 2023)]
    assert (no_tables["reports"], no_tables["new_received"], no_tables["reports_without_figures"]) == (1, None, 1)


def test_refusal_reasons_ranked(site):
    ranked = site.query("refusal_reasons", year="")
    assert [(r["reason"], r["requests"], r["reports_citing"]) for r in ranked[:4]] == [
        ("unavailable_not_held", 15, 3), ("denied_enforcement_files", 1, 1), ("rejected_duplicate", 1, 1),
        ("unavailable_unclear", 1, 1)]
    assert ranked[0]["label"] == "（四）无法提供 / 1.本机关不掌握相关政府信息"
    assert len(ranked) == 16 and all(r["requests"] == 0 for r in ranked[4:])
    assert {r["requests"] for r in site.query("refusal_reasons", year="2020")} == {0}


def test_lawsuits_and_corrected_outcomes(site):
    assert [(r["agency"], r["year"], r["suit_total"], r["suit_corrected"], r["review_total"])
            for r in site.query("lawsuits_corrected")] == [("湘潭县", 2020, 2, 2, 0)]


def test_reports_missing_after_a_year_with_one(site):
    assert [(r["agency"], r["missing_year"], r["last_year"]) for r in site.query("missing_reports")] == [
        ("湘潭县", 2021, 2020), ("湘潭县交通运输局", 2024, 2023)]


def test_requests_per_year_for_a_county(site):
    assert [(r["year"], r["reports"], r["new_received"]) for r in site.query("requests_per_year", region="湘潭县")] == [
        (2020, 1, 32), (2023, 1, None), (2024, 3, 8)]


def test_report_table_shows_chinese_headings(site):
    rows = site.query("report_table", report_id=str(site.ids["seed-001"]))
    granted = next(r for r in rows if r["row_key"] == "granted" and r["column_key"] == "total")
    assert (granted["row_label"], granted["column_label"], granted["value"]) == (
        "三、本年度办理结果 /（一）予以公开", "总计", 1)
    assert not [r for r in rows if r["table_name"] == "review_litigation"]


def test_search_for_four_and_two_characters(site):
    ids = site.ids
    # the table's search box uses the trigram index
    assert sorted(r["id"] for r in site.rows(f"/{DB_NAME}/reports.json", _search="易俗河镇")) == sorted(
        [ids["seed-002"], ids["seed-003"]])
    # ... which cannot match two characters; the canned query can, at any length
    assert site.rows(f"/{DB_NAME}/reports.json", _search="社保") == []
    assert [r["report_id"] for r in site.query("search_text", q="社保")] == [ids["seed-004"]]
    assert sorted(r["report_id"] for r in site.query("search_text", q="易俗河镇")) == sorted(
        [ids["seed-002"], ids["seed-003"]])
    assert "社保" in site.query("search_text", q="社保")[0]["excerpt"]
    assert site.query("search_text", q="") == []


def test_report_summary_csv(site):
    raw = site.get(f"/{DB_NAME}/report_summary.csv").content
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM: Excel reads UTF-8
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert list(rows[0]) == list(SUMMARY_COLUMNS)
    assert len(rows) == 6
    hr = next(r for r in rows if r["report_id"] == str(site.ids["seed-004"]))
    assert (hr["agency"], hr["checks_ok"], hr["licensing_decisions"], hr["denied_total"]) == (
        "湘潭县人力资源和社会保障局", "0", "21", "1")


def test_writes_are_refused(site):
    before = sqlite3.connect(site.db_path).execute("SELECT count(*) FROM reports").fetchone()
    response = site.run(site.ds.client.get(f"/{DB_NAME}.json", params={"sql": "delete from reports"}))
    assert response.status_code == 400 and "SELECT" in response.text
    db = site.ds.get_database(DB_NAME)
    with pytest.raises(PermissionError):
        site.run(db.execute_write("delete from reports"))
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        site.run(db.execute_fn(lambda conn: conn.execute("delete from reports")))
    assert sqlite3.connect(site.db_path).execute("SELECT count(*) FROM reports").fetchone() == before


def test_report_text_is_never_rendered_as_html(site):
    page = site.get(f"/{DB_NAME}/reports/{site.ids['unknown']}").text
    assert '<script>alert("x")</script>' not in page
    assert "&lt;script&gt;" in page


def test_metadata_describes_every_table_and_column(site):
    metadata = load_metadata()
    assert {"title", "license", "source"} <= set(metadata)
    described = metadata["databases"][DB_NAME]["tables"]
    glossary = metadata["plugins"]["nianbao"]["glossary"]  # column descriptions, on their own page
    db = sqlite3.connect(site.db_path)
    names = [n for (n,) in db.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view') "
                                      "AND name NOT LIKE 'reports_fts%'")]
    for name in names:
        columns = [row[1] for row in db.execute(f"PRAGMA table_info([{name}])")]
        assert described[name]["description"], name
        assert set(glossary[name]) == set(columns), name
    page = site.get(f"/{DB_NAME}/report_summary").text
    assert "关键数字" in page  # the table description is shown, the glossary of its columns is not
    assert "column-descriptions" not in page and "/-/glossary#report_summary" in page
    assert "本年新收申请数 / new requests received" in site.get("/-/glossary").text
    # no facet by default on a table that grows with the archive (each counts every row); one asked for works
    assert site.get(f"/{DB_NAME}/report_summary.json").json()["facet_results"] == {}
    years = site.get(f"/{DB_NAME}/report_summary.json", _facet="year").json()["facet_results"]["year"]["results"]
    assert [(f["value"], f["count"]) for f in years] == [(2024, 4), (2020, 1), (2023, 1)]


def test_serve_answers_over_http(site):
    """`nianbao serve` runs a real uvicorn process on a loopback port."""
    with running_datasette(site.db_path) as base, urllib.request.urlopen(
        f"{base}/{DB_NAME}/report_summary.json?_shape=array", timeout=10
    ) as response:
        rows = json.load(response)
    assert sorted(r["report_id"] for r in rows) == sorted(site.ids.values())


def test_dashboard_charts_requests_per_year_for_a_county(site):
    page = site.get("/-/dashboards/requests", region="湘潭县").text
    assert "每年新收申请" in page and "每年办理结果" in page
    charts = yaml.safe_load(METADATA_PATH.read_text(encoding="utf-8"))["plugins"]["datasette-dashboards"]["requests"]
    query = replace_opts_in_query(charts["charts"]["requests-per-year"]["query"], {"region": "湘潭县"})
    rows = site.rows(f"/{DB_NAME}.json", sql=query, region="湘潭县")
    # every year is a row, so a year with no figure is a gap in the line, and each says how many reports it has
    assert [(r["year"], r["new_received"], r["reports"]) for r in rows] == [
        (2020, 32, 1), (2021, None, 0), (2022, None, 0), (2023, None, 1), (2024, 8, 3)]
    everywhere = replace_opts_in_query(charts["charts"]["requests-per-year"]["query"], {})
    assert [(r["year"], r["new_received"]) for r in site.rows(f"/{DB_NAME}.json", sql=everywhere)] == [
        (2020, 32), (2021, None), (2022, None), (2023, None), (2024, 22)]
    reports = replace_opts_in_query(charts["charts"]["reports-per-year"]["query"], {})
    assert [(r["year"], r["reports"], r["with_figures"]) for r in site.rows(f"/{DB_NAME}.json", sql=reports)] == [
        (2020, 1, 1), (2021, 0, 0), (2022, 0, 0), (2023, 1, 0), (2024, 4, 4)]
    colour = charts["charts"]["outcomes-per-year"]["display"]["encoding"]["color"]["scale"]
    assert dict(zip(colour["domain"], colour["range"], strict=True))["予以公开 granted"] == "#2e7d32"  # green
    outcomes = replace_opts_in_query(charts["charts"]["outcomes-per-year"]["query"], {"region": "湘潭县"})
    by_outcome = {(r["year"], r["outcome"]): r["requests"] for r in site.rows(f"/{DB_NAME}.json", sql=outcomes,
                                                                              region="湘潭县")}
    assert (by_outcome[(2024, "予以公开 granted")], by_outcome[(2024, "无法提供 unavailable")]) == (4, 4)
    # a year without figures is on the axis, empty, so neighbouring years' bars are not drawn as if adjacent
    assert sorted({year for year, _ in by_outcome}) == [2020, 2021, 2022, 2023, 2024]
    assert {by_outcome[(2021, outcome)] for outcome in colour["domain"]} == {None}
