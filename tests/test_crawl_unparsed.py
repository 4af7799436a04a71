"""Nothing silently unread: a report whose text carries the template's labels but whose tables cannot be read is
stored, flagged, an `errors` row, and an unparsed row of report_summary."""

from __future__ import annotations

import sqlite3
import threading

from nianbao.demo import PortalServer
from nianbao.demo.site import Page
from tests.crawling import run_crawl
from tests.gold import FIXTURES

REAL_TEXT = FIXTURES / "real" / "excerpts" / "huitong-forestry-2020.txt"  # a real page saved as text


def unreadable_text() -> bytes:
    """The real page with its table cells run into one line, no separator left: its labels are there, its table
    cannot be read (the page as saved, one cell per line, is read)."""
    lines = REAL_TEXT.read_text(encoding="utf-8").splitlines()
    at = lines.index("二、主动公开政府信息情况") + 1
    return "\n".join([*lines[:at], "".join(line.rstrip("| ") for line in lines[at:])]).encode()


def test_a_report_with_unreadable_tables_is_stored_unparsed_with_a_flag_and_an_error(tmp_path):
    title = "会同县林业局2020年政府信息公开工作年度报告"
    pages = {
        "/": Page(f'<html><head><title>信息公开年报</title></head><body><a href="/nb/2020.txt">{title}</a>'
                  '</body></html>'.encode()),
        "/nb/2020.txt": Page(unreadable_text(), "text/plain; charset=utf-8"),
    }
    server = PortalServer(("127.0.0.1", 0), pages=pages)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        summary = run_crawl(tmp_path / "n.db", [server.base_url + "/"])
    finally:
        server.shutdown()
        server.server_close()
    url = server.base_url + "/nb/2020.txt"
    db = sqlite3.connect(tmp_path / "n.db")
    assert summary["reports_new"] == 1 and summary["errors"] == 1
    assert db.execute("SELECT agency, year, unparsed, checks_ok, new_received FROM report_summary").fetchall() == [
        ("会同县林业局", 2020, 1, 0, None)]
    (stage, message), = db.execute("SELECT stage, message FROM errors WHERE url = ?", [url]).fetchall()
    assert stage == "parse" and message.startswith("report stored unparsed: the text carries the template labels")
    assert db.execute("SELECT location FROM flags").fetchall() == [("tables",)]
    assert db.execute("SELECT ok FROM checks WHERE rule = 'tables_read'").fetchall() == [(0,)]
