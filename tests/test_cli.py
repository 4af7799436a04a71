"""The `nianbao` command as the README and `--help` describe it: every promise run as a user runs it.

Commands that crawl run in a subprocess (Twisted's reactor cannot restart in one process); the others through
click's CliRunner.
"""

from __future__ import annotations

import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from crawler.portals import load_registry
from nianbao.cli import main
from nianbao.demo import PortalServer
from nianbao.demo.site import EXPECTED, Page, article, chrome, fixture_body
from tests.gold import load_gold

NIANBAO = str(Path(sys.executable).with_name("nianbao"))
FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=0", "-s", "RETRY_TIMES=1"]


def run(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run([NIANBAO, *args], cwd=cwd, env={**os.environ, **(env or {})}, capture_output=True,
                          text=True, timeout=timeout)


def registry(tmp_path: Path, **portals: str) -> Path:
    """A registry file with one portal per name -> start URL (what `--registry` / NIANBAO_REGISTRY read)."""
    path = tmp_path / "portals.yaml"
    path.write_text(yaml.safe_dump({"portals": [
        {"name": name, "region": "湘潭县", "region_code": "430321", "start_urls": [url]}
        for name, url in portals.items()]}, allow_unicode=True), encoding="utf-8")
    return path


def figures(db: Path) -> tuple:
    """What a journalist counts: report rows, the requests they add up to, and the per-region rollup."""
    con = sqlite3.connect(db)
    return (con.execute("SELECT count(*), sum(new_received) FROM report_summary").fetchone(),
            con.execute("SELECT region, year, reports, new_received FROM region_year_totals ORDER BY 1, 2").fetchall())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_crawl_without_a_portal_crawls_every_registered_one_and_a_second_crawl_changes_no_figure(portal, tmp_path):
    """`make run` / cron: `nianbao crawl --db …` with no portal named, the offline portal registered as one."""
    env = {"NIANBAO_REGISTRY": str(registry(tmp_path, offline=portal.base_url + "/"))}
    first = run("crawl", "--db", "a.db", *FAST, cwd=tmp_path, env=env)
    assert first.returncode == 0, first.stderr
    assert first.stderr.count("report new: ") == len(EXPECTED)
    # the portal's flaky page fails once per server, so the pages fetched depend on which test crawled it first
    assert re.search(rf"crawl finished: \d+ pages, reports new {len(EXPECTED)}, changed 0, unchanged 0", first.stdout)
    assert "Traceback" not in first.stderr
    before = figures(tmp_path / "a.db")
    assert before[0][0] == len(EXPECTED)
    assert sqlite3.connect(tmp_path / "a.db").execute("SELECT portals FROM crawl_runs").fetchone() == ('["offline"]',)

    second = run("crawl", "--db", "a.db", *FAST, cwd=tmp_path, env=env)
    assert second.returncode == 0, second.stderr
    assert f"reports new 0, changed 0, unchanged {len(EXPECTED)}" in second.stdout
    assert figures(tmp_path / "a.db") == before


def test_demo_twice_counts_every_report_once(tmp_path):
    """`make demo` twice: the portal comes back on another port, the same reports at new URLs."""
    for _ in range(2):
        result = run("demo", "--no-serve", "--db", "demo.db", *FAST, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
    db = sqlite3.connect(tmp_path / "demo.db")
    counted, rollup = figures(tmp_path / "demo.db")
    assert counted[0] == len(EXPECTED)
    assert sum(r[2] for r in rollup) == len(EXPECTED)
    # two ports, so each report was seen at two URLs, and stored once
    assert db.execute("SELECT count(DISTINCT report_id), count(*) FROM report_urls").fetchone() == (
        len(EXPECTED), 2 * len(EXPECTED))
    runs = db.execute("SELECT reports_new, reports_unchanged FROM crawl_runs ORDER BY id").fetchall()
    assert runs == [(len(EXPECTED), 0), (0, len(EXPECTED))]


def test_a_report_listed_under_two_urls_is_counted_once(tmp_path):
    """A department's report in the county's 年报 column and in its own column, each page with its own chrome."""
    report = fixture_body("seed-000.html")
    title = "湘潭县数据局2024年政府信息公开工作年度报告"
    pages = {
        "/": Page(chrome("政府信息公开", '<a href="/xxgk/nb/">政府信息公开年报</a> '
                                       '<a href="/bm/sjj/">部门信息公开</a>').encode()),
        "/xxgk/nb/": Page(chrome("年报", f'<a href="/xxgk/nb/1.html">{title}</a>').encode()),
        "/bm/sjj/": Page(chrome("部门", f'<a href="/bm/sjj/nb2024.html">{title}</a>').encode()),
        "/xxgk/nb/1.html": Page(article(title, report, "县政府办", "2025-01-20").encode()),
        "/bm/sjj/nb2024.html": Page(article(title, report, "县数据局", "2025-01-21").encode()),
    }
    server = PortalServer(("127.0.0.1", 0), pages=pages)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        result = run("crawl", "--start-url", server.base_url + "/", "--db", "dup.db", *FAST, cwd=tmp_path)
    finally:
        server.shutdown()
        server.server_close()
    assert result.returncode == 0, result.stderr
    assert "reports new 1, changed 0, unchanged 1" in result.stdout
    db = sqlite3.connect(tmp_path / "dup.db")
    gold = load_gold("seed-000")
    assert db.execute("SELECT agency, new_received FROM report_summary").fetchall() == [
        (gold["meta"]["agency"][0], gold["applications"]["new_received"]["total"])]
    assert sorted(u for (u,) in db.execute("SELECT url FROM report_urls")) == [
        server.base_url + "/bm/sjj/nb2024.html", server.base_url + "/xxgk/nb/1.html"]
    exported = CliRunner().invoke(main, ["export", "--db", str(tmp_path / "dup.db")])
    assert exported.exit_code == 0 and len(exported.stdout_bytes.decode("utf-8-sig").strip().splitlines()) == 2


def test_unreachable_portals_are_named_one_line_each_and_the_crawl_exits_1(tmp_path):
    closed = free_port()  # nothing listens there
    env = {"NIANBAO_REGISTRY": str(registry(tmp_path, down=f"http://127.0.0.1:{closed}/",
                                            gone=f"http://127.0.0.1:{closed}/xxgk/"))}
    result = run("crawl", "--db", "down.db", *FAST, cwd=tmp_path, env=env)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr + result.stdout
    assert f"portal down: not reachable — http://127.0.0.1:{closed}/: " in result.stderr
    assert f"portal gone: not reachable — http://127.0.0.1:{closed}/xxgk/: " in result.stderr
    assert "crawl failed: 0 pages" in result.stdout
    assert sqlite3.connect(tmp_path / "down.db").execute("SELECT status FROM crawl_runs").fetchone() == ("failed",)


def test_unknown_portal_is_one_line_naming_the_registered_ones():
    result = CliRunner().invoke(main, ["crawl", "nosuch"])
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit)
    assert "unknown portal nosuch: registered portals are hnyx, xtx" in result.output
    assert "Traceback" not in result.output


def test_portals_lists_the_registry():
    result = CliRunner().invoke(main, ["portals"])
    assert result.exit_code == 0
    for portal in load_registry().values():
        assert portal.name in result.output and portal.region in result.output
        for url in portal.start_urls:
            assert url in result.output  # whole, never cut short


@pytest.mark.parametrize("command", [["serve", "--db", "{db}"], ["demo"]])
def test_a_busy_port_is_named_with_how_to_pick_another(command, tmp_path):
    db = tmp_path / "x.db"
    sqlite3.connect(db).close()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        args = [a.format(db=db) for a in command] + ["--port", str(port)]
        result = CliRunner().invoke(main, args)
    assert result.exit_code == 1
    assert f"port {port} on 127.0.0.1 is not free" in result.output and "--port N" in result.output
    assert not isinstance(result.exception, OSError)


@pytest.mark.parametrize("command", ["serve", "reparse"])
def test_a_missing_database_is_one_line(command, tmp_path):
    result = CliRunner().invoke(main, [command, "--db", str(tmp_path / "nope.db")])
    assert result.exit_code == 1 and "nope.db" in result.output
    assert not (tmp_path / "nope.db").exists()


def test_a_full_disk_is_one_line(tmp_path, monkeypatch):
    def full(*args, **kwargs):
        raise sqlite3.OperationalError("database or disk is full")

    import archive

    monkeypatch.setattr(archive, "reparse", full)
    result = CliRunner().invoke(main, ["reparse", "--db", str(tmp_path / "x.db")])
    assert result.exit_code == 1
    assert result.output.strip() == "Error: database error: database or disk is full. Free some space and run the " \
                                    "command again."


@pytest.mark.parametrize("args, env, public", [([], {}, False), (["--public"], {}, True),
                                                ([], {"NIANBAO_PUBLIC": "1"}, True)])
def test_serve_public_turns_free_sql_off(args, env, public, tmp_path, monkeypatch):
    db = tmp_path / "x.db"
    sqlite3.connect(db).close()
    served = {}
    monkeypatch.setattr("archive.serve.serve", lambda db_path, **kwargs: served.update(kwargs))
    result = CliRunner(env=env).invoke(main, ["serve", "--db", str(db), "--port", str(free_port()), *args])
    assert result.exit_code == 0, result.output
    assert served["public"] is public


def test_portals_and_crawl_take_a_registry_of_your_own(tmp_path, monkeypatch):
    (tmp_path / "env").mkdir()
    # the option wins over the environment; monkeypatch puts the environment back after the option changed it
    monkeypatch.setenv("NIANBAO_REGISTRY", str(registry(tmp_path / "env", other="http://www.example.org/")))
    own = registry(tmp_path, mine="http://www.example.gov.cn/xxgk/")
    result = CliRunner().invoke(main, ["portals", "--registry", str(own)])
    assert result.exit_code == 0 and "mine" in result.output and "other" not in result.output
    refused = CliRunner().invoke(main, ["crawl", "xtx", "--registry", str(own)])
    assert refused.exit_code == 2 and "registered portals are mine" in refused.output


def test_reparse_rebuilds_from_the_archived_bytes_and_says_what_changed(tmp_path):
    from tests.archive_builder import build_archive

    db_path, _ = build_archive(tmp_path)
    result = CliRunner().invoke(main, ["reparse", "--db", str(db_path)])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["reports"] == 6 and summary["failed"] == [] and summary["merged"] == 0
