"""nianbao's own Datasette pages and what its plugin changes: the report page against gold, originals byte for byte
and sandboxed, search at any length, coverage, Chinese headings, CSV for Excel, a public server that holds."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from lxml import html

from archive.datasette_plugin import MAX_VALUE_BYTES
from archive.headings import SUMMARY_VIEW
from archive.serve import DB_NAME, datasette_app
from tests.archive_builder import build_archive
from tests.gold import FIXTURES, SEEDS, TABLES, load_gold
from tests.live import free_port, running_datasette
from tests.test_datasette import Site

SCHEMA = json.loads((Path(__file__).parents[1] / "parsers" / "report_schema.json").read_text(encoding="utf-8"))
ERROR_ROWS = 1500
# errors.message values written straight into the archive: what a spreadsheet would run, and what it must not touch
FORMULAS = {"=HYPERLINK(\"http://x\")": "'=HYPERLINK(\"http://x\")", "+1+2 oops": "'+1+2 oops",
            "@SUM(A1)": "'@SUM(A1)", "\tTAB": "'\tTAB", "-12": "-12", "-3.5e2": "-3.5e2", "12": "12",
            "-x": "'-x", "正常文字": "正常文字"}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    db_path, ids = build_archive(tmp_path_factory.mktemp("pages"))
    db = sqlite3.connect(db_path)
    messages = list(FORMULAS) + [f"error {i}\nsecond line, \"quoted\"" for i in range(ERROR_ROWS - len(FORMULAS))]
    with db:
        db.executemany("INSERT INTO errors (stage, message, at) VALUES ('test', ?, '2026-01-01')",
                       [[m] for m in messages])
    db.close()
    site = Site(db_path, ids)
    yield site
    site.ds.get_database(DB_NAME).close()
    site.loop.close()


def _gold_cells(seed: str) -> dict[str, object]:
    gold = load_gold(seed)
    cells = {}
    for table in TABLES:
        for row, value in (gold[table] or {}).items():
            if isinstance(value, dict):
                cells.update({f"{table}.{row}.{column}": v for column, v in value.items()})
            else:
                cells[f"{table}.{row}.value"] = value
    return cells


def _labels(fmt: str) -> dict[str, str]:
    """table.row.column -> (row label, column label) from report_schema.json, independently of the app."""
    spec = SCHEMA["formats"][fmt]
    out = {}
    for item in spec["proactive"]:
        for field in item["fields"]:
            out[f"proactive.{item['key']}.{field['key']}"] = (item["label"].split(" ")[-1], field["label"])
    for row in spec["applications"]["rows"]:
        for column in spec["applications"]["columns"]:
            out[f"applications.{row['key']}.{column['key']}"] = (row["label"], column["label"])
    for row in spec["review_litigation"]:
        out[f"review_litigation.{row['key']}.value"] = (None, row["label"])
    return out


@pytest.mark.parametrize("seed", SEEDS)
def test_report_page_shows_every_figure_under_its_chinese_heading(site, seed):
    page = html.fromstring(site.get(f"/-/reports/{site.ids[seed]}").text)
    labels = _labels(load_gold(seed)["format"])
    gold = _gold_cells(seed)
    assert len(gold) > 100
    for key, value in gold.items():
        (td,) = page.xpath(f'//td[@data-cell="{key}"]')
        assert td.text_content().rstrip(" ⚠?") == ("" if value is None else str(value)), key
        row_label, column_label = labels[key]
        assert td.get("data-heading") == column_label, key
        if row_label is not None:
            assert td.getparent().xpath("th")[0].text_content() == row_label, key
    text = page.text_content()
    meta = load_gold(seed)["meta"]
    assert meta["agency"][0] in text and f"{meta['year']}" in text
    assert "http://www.example.gov.cn/nianbao/" in text and "抓取时间" in text


def test_failed_check_is_shown_on_the_cells_it_concerns(site):
    page = html.fromstring(site.get(f"/-/reports/{site.ids['seed-004']}").text)
    failed = {td.get("data-cell"): td.get("title") for td in page.xpath('//td[contains(@class, "nb-failed")]')}
    assert sorted(failed) == sorted(f"applications.{row}.total" for row in
                                    ("new_received", "carried_over", "total_processed", "carried_forward"))
    rule = "一（新收）＋ 二（上年结转）＝ 三（七）总计 ＋ 四（结转下年度）"
    assert all(rule in note and "total: 4 + 0 != 4 + 1" in note for note in failed.values())
    assert "未通过的校验" in page.text_content()
    clean = html.fromstring(site.get(f"/-/reports/{site.ids['seed-000']}").text)
    assert not clean.xpath('//td[contains(@class, "nb-failed")]') and "未通过的校验" not in clean.text_content()


def test_report_without_tables_says_so_and_unknown_id_is_404(site):
    page = site.get(f"/-/reports/{site.ids['unknown']}").text
    assert "未从这份报告中识别出表格" in page and "<script>alert" not in page
    assert site.run(site.ds.client.get("/-/reports/999999")).status_code == 404


def test_original_downloads_byte_for_byte_and_html_cannot_run_script(site):
    for n, seed in enumerate(SEEDS):
        page = html.fromstring(site.get(f"/-/reports/{site.ids[seed]}").text)
        (href,) = page.xpath('//a[@class="nb-raw"]/@href')
        response = site.get(href)
        assert response.content == (FIXTURES / f"seed-00{n}.html").read_bytes(), seed
        assert response.headers["content-type"] == "text/html; charset=utf-8"
        policy = response.headers["content-security-policy"]
        assert policy.split(";")[0] == "sandbox" and "allow-scripts" not in policy  # no script, opaque origin
        assert response.headers["x-content-type-options"] == "nosniff"
        assert site.get(href, download="1").headers["content-disposition"].startswith("attachment")
        assert seed in page.xpath('//p[@id="cite"]')[0].text_content()  # cite this: the URL …
        assert href.rsplit("/", 1)[1] in page.xpath('//p[@id="cite"]')[0].text_content()  # … and the sha256
    assert site.run(site.ds.client.get("/-/raw/" + "0" * 64)).status_code == 404


def test_rows_naming_a_report_link_to_its_page(site):
    report_id = site.ids["seed-002"]
    for path in (f"/{DB_NAME}/report_summary", f"/{DB_NAME}/failing_checks",
                 site.ds.urls.table(DB_NAME, SUMMARY_VIEW)):
        page = site.run(site.ds.client.get(path, follow_redirects=True)).text
        assert "/-/reports/" in page, path
    page = site.get(f"/{DB_NAME}/report_summary").text
    assert f'<a href="/-/reports/{report_id}">湘潭县易俗河镇2024年政府信息公开工作年度报告</a>' in page


def test_the_reports_search_box_finds_two_character_words(site):
    """复议 typed into the reports table's own box: every report whose title, agency or text has it."""
    response = site.run(site.ds.client.get(f"/{DB_NAME}/reports", params={"_search": "复议"}))
    assert response.status_code == 302
    assert response.headers["location"] == "/-/search?q=%E5%A4%8D%E8%AE%AE"
    page = html.fromstring(site.get("/-/search", q="复议").text)
    found = sorted(int(a.get("href").rsplit("/", 1)[1]) for a in page.xpath('//ul[@class="nb-results"]/li/a'))
    expected = sorted(site.ids[seed] for seed in SEEDS if "复议" in (FIXTURES / f"{seed}.txt").read_text("utf-8"))
    assert found == expected and len(expected) == 5
    assert all("<mark>复议</mark>" in html.tostring(li, encoding="unicode")
               for li in page.xpath('//ul[@class="nb-results"]/li'))
    # the search input comes before any result, and the home page's box goes to the same page
    assert page.xpath('//form[@action="/-/search"]//input[@name="q"]/@value') == ["复议"]
    assert 'action="/-/search"' in site.get("/").text
    assert "没有报告包含" in site.get("/-/search", q="没有的词").text


def test_coverage_by_region_and_year_then_agency(site):
    page = html.fromstring(site.get("/-/coverage").text)
    rows = {tr.xpath("th")[0].text_content(): [td.text_content().strip() for td in tr.xpath("td")]
            for tr in page.xpath('//table[contains(@class, "nb-coverage")]/tr[td]')}
    years = [th.text_content() for th in page.xpath('//table[contains(@class, "nb-coverage")]/tr[1]/th')][1:]
    assert years == ["2020", "2021", "2022", "2023", "2024"]
    assert rows["湘潭县"][0] == "1 份" and rows["湘潭县"][1] == "0 份缺 1"  # 湘潭县 reported 2020, not 2021
    assert rows["湘潭县"][3] == "1 份未解析 1" and rows["湘潭县"][4] == "3 份缺 1校验未过 1"
    assert rows["攸县"] == ["—", "—", "—", "—", "1 份"]
    county = html.fromstring(site.get("/-/coverage", region="湘潭县").text)
    cells = {tr.xpath("th")[0].text_content(): tr.xpath("td") for tr in county.xpath('//table/tr[td]')}
    assert cells["湘潭县人力资源和社会保障局"][-1].xpath("a/@href") == [f"/-/reports/{site.ids['seed-004']}"]
    assert "校验未过" in cells["湘潭县人力资源和社会保障局"][-1].text_content()
    assert cells["湘潭县交通运输局"][-1].text_content() == "缺"


def test_chinese_headed_view_and_tab_titles(site):
    rows = site.rows(site.ds.urls.table(DB_NAME, SUMMARY_VIEW, format="json"))
    assert list(rows[0])[:5] == ["报告标题", "发布机关", "地区", "年度", "本年新收申请数"]
    assert list(rows[0])[-2:] == ["原文地址", "原件 sha256"]
    youxian = next(r for r in rows if r["报告编号"] == site.ids["seed-001"])
    assert (youxian["发布机关"], youxian["本年新收申请数"], youxian["予以公开"]) == ("攸县人民政府办公室", 14, 1)
    title = html.fromstring(site.get(f"/{DB_NAME}/failing_checks").text).findtext(".//title")
    assert title == "校验未通过的报告 / Reports failing a check"


def _csv(site, path: str, **params) -> tuple[bytes, list[list[str]]]:
    raw = site.get(path, **params).content
    assert raw.startswith(b"\xef\xbb\xbf"), path
    return raw, list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


def test_csv_has_a_bom_every_row_and_no_formulas(site):
    _, rows = _csv(site, f"/{DB_NAME}/errors.csv")  # a table: streamed whole, not cut at 1,000
    assert len(rows) == 1 + ERROR_ROWS and rows[0][:3] == ["id", "stage", "url"]
    message = rows[0].index("message")
    got = {row[message] for row in rows[1:]}
    assert {FORMULAS[m] for m in FORMULAS} <= got and not set(FORMULAS) - set(FORMULAS.values()) & got
    assert "error 7\nsecond line, \"quoted\"" in got  # a cell with a newline and quotes survives the rewrite
    _, rows = _csv(site, f"/{DB_NAME}.csv", sql="select message from errors order by id")  # SQL: every row too
    assert [r[0] for r in rows[1:len(FORMULAS) + 1]] == list(FORMULAS.values()) and len(rows) == 1 + ERROR_ROWS
    _, rows = _csv(site, f"/{DB_NAME}/failing_checks.csv")  # a canned query
    assert rows[1][:3] == [str(site.ids["seed-004"]), "湘潭县人力资源和社会保障局", "湘潭县"]
    _, rows = _csv(site, site.ds.urls.table(DB_NAME, SUMMARY_VIEW, format="csv"))
    assert rows[0][:4] == ["报告标题", "发布机关", "地区", "年度"] and len(rows) == 7


def test_writes_are_403_and_public_mode_keeps_canned_queries_only(site):
    for path in (f"/{DB_NAME}/reports/-/insert", f"/{DB_NAME}/failing_checks", "/-/nothing-here"):
        assert site.run(site.ds.client.post(path, json={"row": {"title": "x"}})).status_code == 403, path
    public = datasette_app(site.db_path, public=True)
    sql = site.run(public.client.get(f"/{DB_NAME}.json", params={"sql": "select 1"}))
    assert sql.status_code == 403
    assert site.run(public.client.get(f"/{DB_NAME}.csv", params={"sql": "select 1"})).status_code == 403
    canned = site.run(public.client.get(f"/{DB_NAME}/failing_checks.json", params={"_shape": "array"}))
    assert canned.status_code == 200 and canned.json()[0]["rule"] == "balance"
    assert site.run(public.client.get(f"/-/reports/{site.ids['seed-000']}")).status_code == 200
    public.get_database(DB_NAME).close()


def _peak_rss_kib(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:")))


def test_randomblob_query_leaves_the_server_small(site):
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "nianbao.cli", "serve", "--db", str(site.db_path),
                               "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                urllib.request.urlopen(f"{base}/-/versions.json", timeout=2).close()
                break
            except OSError:
                time.sleep(0.2)
        sql = "select randomblob(900000000) from (select 1 union select 2 union select 3)"
        started = time.monotonic()
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{base}/{DB_NAME}.json?" + urllib.parse.urlencode({"sql": sql}), timeout=60)
        assert refused.value.code == 400 and "too big" in refused.value.read().decode()
        assert time.monotonic() - started < 10
        big = f"select length(randomblob({MAX_VALUE_BYTES - 1000}))"
        with urllib.request.urlopen(f"{base}/{DB_NAME}.json?" + urllib.parse.urlencode({"sql": big}), timeout=60):
            pass  # a value under the cap is still allowed
        assert _peak_rss_kib(server.pid) < 1024 * 1024  # under 1 GB at its peak
        with running_datasette(site.db_path):  # and the server is still answering a second one fine
            pass
    finally:
        server.terminate()
        server.wait(timeout=10)
