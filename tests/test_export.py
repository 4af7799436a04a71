"""`nianbao export`: Chinese headings by default, --keys for scripts, no formulas, never a truncated file."""

from __future__ import annotations

import csv
import io

import pytest
from click.testing import CliRunner

from archive import Archive, export_csv
from archive.spreadsheet import CsvRewriter, neutralise
from archive.summary import SUMMARY_COLUMNS
from nianbao.cli import main
from parsers import Report
from tests.archive_builder import build_archive


@pytest.fixture(scope="module")
def archive_path(tmp_path_factory):
    db_path, ids = build_archive(tmp_path_factory.mktemp("export"))
    archive = Archive(db_path)
    run_id = archive.start_run(portals=["test"], start_urls=["http://www.example.gov.cn/"])
    url = "http://www.example.gov.cn/evil.html"
    sha = archive.record_fetch(run_id, url, status=200, body=b"<html>evil</html>", headers={})
    archive.store_report(run_id, url, sha, Report(source=url, title='=HYPERLINK("http://evil","点我")',
                                                  agency="@某局", year=2024, text="x"), portal="test", region="-县")
    archive.finish_run(run_id, pages=1, errors=0)
    archive.close()
    return db_path, ids


def _rows(raw: bytes) -> list[dict[str, str]]:
    assert raw.startswith(b"\xef\xbb\xbf")
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


def test_chinese_headings_by_default_and_keys_for_scripts(archive_path, tmp_path):
    db_path, ids = archive_path
    result = CliRunner().invoke(main, ["export", "--db", str(db_path), "--out", str(tmp_path / "out.csv")])
    assert result.exit_code == 0, result.output
    rows = _rows((tmp_path / "out.csv").read_bytes())
    assert list(rows[0])[:5] == ["报告标题", "发布机关", "地区", "年度", "本年新收申请数"]
    assert list(rows[0])[-2:] == ["原文地址", "原件 sha256"]
    youxian = next(r for r in rows if r["报告编号"] == str(ids["seed-001"]))
    assert (youxian["发布机关"], youxian["本年新收申请数"], youxian["无法提供合计"], youxian["行政复议总计"]) == (
        "攸县人民政府办公室", "14", "12", "")
    result = CliRunner().invoke(main, ["export", "--db", str(db_path), "--keys"])
    keyed = _rows(result.stdout_bytes)
    assert list(keyed[0]) == list(SUMMARY_COLUMNS) and len(keyed) == len(rows) == 7


def test_formula_like_text_is_neutralised_and_numbers_stay_numbers(archive_path, tmp_path):
    db_path, _ = archive_path
    rows = _rows(_export_bytes(db_path, tmp_path))
    evil = next(r for r in rows if r["原文地址"].endswith("evil.html"))
    assert (evil["报告标题"], evil["发布机关"], evil["地区"]) == (
        "'=HYPERLINK(\"http://evil\",\"点我\")", "'@某局", "'-县")
    assert all(not value.startswith(("=", "+", "@")) for row in rows for value in row.values())
    assert [neutralise(v) for v in ("-12", "+3.5", "-1e3", 7, -7, None, "\tx", "\rx", "-", "正文")] == [
        "-12", "+3.5", "-1e3", 7, -7, None, "'\tx", "'\rx", "'-", "正文"]


def _export_bytes(db_path, tmp_path) -> bytes:
    out = tmp_path / "summary.csv"
    assert export_csv(db_path, out) == 7
    return out.read_bytes()


def test_a_failed_export_leaves_the_existing_file_alone(archive_path, tmp_path, monkeypatch):
    out = tmp_path / "keep.csv"
    out.write_bytes(b"yesterday's export")
    result = CliRunner().invoke(main, ["export", "--db", str(tmp_path / "missing.db"), "--out", str(out)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.output.strip().splitlines() == [f"Error: no archive at {tmp_path / 'missing.db'}: run `nianbao "
                                                  "crawl` or `nianbao demo` first, or pass --db"]
    db_path, _ = archive_path

    def fail_midway(value):  # the disk fills after some rows were written
        if value == "湘潭县易俗河镇":
            raise OSError(28, "No space left on device")
        return neutralise(value)

    monkeypatch.setattr("archive.export.safe_row", lambda row: [fail_midway(v) for v in row])
    with pytest.raises(OSError):
        export_csv(db_path, out)
    assert out.read_bytes() == b"yesterday's export"
    assert [p.name for p in tmp_path.iterdir()] == ["keep.csv"]  # no temporary file left behind


def test_csv_rewriter_handles_records_split_anywhere():
    source = b'a,b\r\n"=1+1","line\r\nbreak, ""q"""\r\n-5,@x\r\n'
    expected = ('\ufeffa,b\r\n\'=1+1,"line\r\nbreak, ""q"""\r\n-5,\'@x\r\n').encode()
    for size in (1, 2, 3, 7, len(source)):
        rewriter = CsvRewriter()
        chunks = [source[i:i + size] for i in range(0, len(source), size)]
        out = b"".join(rewriter.feed(chunk) for chunk in chunks) + rewriter.feed(b"", final=True)
        assert out == expected, size
