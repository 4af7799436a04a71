"""JS cookie challenges and WAF block pages: recorded as blocked, archived, never parsed or stored as a report."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from crawler.challenge import recognise_block
from tests.crawling import run_crawl
from tests.replay import PORTALS, ReplayServer, Reply, Site, load_site, replay, standin_report
from tests.test_crawl_real_portals import EGB_COLUMN, EGB_REPORTS

# The first answer of www.mps.gov.cn behind 加速乐: 521, a uid cookie and the script that sets __jsl_clearance_s.
JSL = Reply(521, b"<script>" + (PORTALS / "mps" / "challenge1_raw.js").read_bytes() + b"</script>",
            headers={"Set-Cookie": "__jsluid_s=5a8fbd2f3e0e1b8c; max-age=31536000; path=/; HttpOnly"})
# 瑞数's challenge shape: 412, a seed <meta r='m'> and the $_ts script (public write-ups; README).
RUISHU = Reply(412, b"<html><head><meta id=\"9DhefwqGPrzG\" content=\"x\" r='m'><script r='m'>$_ts=window['$_ts'];"
                    b"if(!$_ts)$_ts={};$_ts.nsd=52206;$_ts.cd=\"qtJD\";</script></head><body></body></html>")


@pytest.mark.parametrize(("status", "body", "cookies", "service"), [
    (521, JSL.body, (b"__jsluid_s=5a8f; path=/",), "加速乐"),
    (521, b"<script>var x=1</script>", (b"__jsluid_h=1",), "加速乐"),
    (412, RUISHU.body, (), "瑞数"),
    (200, RUISHU.body, (), "瑞数"),
    (501, "<title>501</title><p>您的访问被拦截，请求ID 1f2e</p>".encode(), (), "WAF"),
])
def test_challenges_and_block_pages_recognised(status, body, cookies, service):
    assert service in str(recognise_block(status, body, cookies))


@pytest.mark.parametrize(("status", "body"), [
    (200, (PORTALS / "egb" / "xxgk" / "xxgknb" / "index.html").read_bytes()),  # a real page with document.write
    (200, b"<html><script>$_ts=window['$_ts'];</script><body>" + "正文".encode() * 400 + b"</body>"),
    (503, b"<h1>Service Unavailable</h1>"),
    (200, "<p>本机关共处理网站防火墙告警……</p>".encode() * 2000),  # a long page that mentions the words
])
def test_pages_are_not_taken_for_challenges(status, body):
    assert recognise_block(status, body) is None


@pytest.fixture
def challenged() -> Iterator[ReplayServer]:
    """The 恩格贝 年报 column where the first report answers 瑞数's challenge, and a portal root behind 加速乐."""
    site = load_site("egb")
    reports = {path: standin_report(i) for i, path in enumerate(EGB_REPORTS)}
    server = replay(Site(site.origin, site.pages), {**reports, EGB_REPORTS[0]: RUISHU, "/": JSL})
    yield server
    server.shutdown()
    server.server_close()


def test_a_portal_behind_a_js_challenge_is_recorded_as_blocked(challenged: ReplayServer, tmp_path):
    summary = run_crawl(tmp_path / "n.db", [challenged.url("/")])
    db = sqlite3.connect(tmp_path / "n.db")
    assert summary["status"] == "failed" and summary["failed"]  # its only start page was a challenge
    assert list(summary["blocked"]) == ["127.0.0.1"] and "加速乐" in summary["blocked"]["127.0.0.1"]
    (stage, message), = db.execute("SELECT stage, message FROM errors WHERE url = ?", [challenged.url("/")])
    assert stage == "blocked" and "加速乐 (JSL) JavaScript cookie challenge (HTTP 521)" in message
    assert "webmaster" in message  # what to do
    archived = db.execute("SELECT status, bytes FROM fetches WHERE url = ?", [challenged.url("/")]).fetchall()
    assert archived == [(521, len(JSL.body))]
    assert db.execute("SELECT COUNT(*) FROM reports").fetchone()[0] == 0
    assert db.execute("SELECT status, errors FROM crawl_runs").fetchall() == [("failed", 1)]


def test_a_challenged_report_page_is_never_a_report(challenged: ReplayServer, tmp_path):
    summary = run_crawl(tmp_path / "n.db", [challenged.url(EGB_COLUMN)])
    db = sqlite3.connect(tmp_path / "n.db")
    assert summary["status"] == "finished" and "瑞数" in summary["blocked"]["127.0.0.1"]
    stored = {url for (url,) in db.execute("SELECT url FROM reports")}
    assert stored == {challenged.url(p) for p in EGB_REPORTS[1:]}
    blocked = db.execute("SELECT url FROM errors WHERE stage = 'blocked'").fetchall()
    assert blocked == [(challenged.url(EGB_REPORTS[0]),)]
    assert challenged.paths().count(EGB_REPORTS[0]) == 1  # not retried


def test_the_command_names_the_blocked_portal_and_what_to_do(challenged: ReplayServer, tmp_path):
    """`nianbao crawl` ends with one line per blocked portal (here a report page behind 瑞数's challenge)."""
    nianbao = str(Path(sys.executable).with_name("nianbao"))
    result = subprocess.run([nianbao, "crawl", "--db", "n.db", "--start-url", challenged.url(EGB_COLUMN), "-s",
                             "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=0"], cwd=tmp_path, capture_output=True,
                            text=True, timeout=240, env={**os.environ, "NIANBAO_CONTACT": "ci@example.org"})
    assert result.returncode == 0 and "Traceback" not in result.stderr
    line = next(line for line in result.stderr.splitlines() if line.startswith("portal 127.0.0.1: blocked"))
    assert "瑞数 (Rivers Security) JavaScript challenge (HTTP 412)" in line and "webmaster" in line
