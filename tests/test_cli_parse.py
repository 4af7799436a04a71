"""`nianbao parse`: one JSON document per line in input order; unreadable files reported, exit 2, no traceback."""

import json
import subprocess
import sys
from pathlib import Path

from tests.gold import FIXTURES, differences, load_gold


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "nianbao.cli", "parse", *args], capture_output=True, text=True, timeout=120
    )


def test_json_lines_in_input_order(tmp_path: Path):
    files = [str(FIXTURES / "seed-001.txt"), str(FIXTURES / "seed-004.gbk.html")]
    result = run("--json", *files)
    assert result.returncode == 0, result.stderr
    docs = [json.loads(line) for line in result.stdout.splitlines()]
    assert [d["source"] for d in docs] == files
    assert differences(docs[0], load_gold("seed-001")) == []
    assert differences(docs[1], load_gold("seed-004")) == []
    for key in (
        "title",
        "agency",
        "year",
        "format",
        "proactive",
        "applications",
        "review_litigation",
        "checks",
        "flags",
        "text",
    ):
        assert key in docs[0]


def test_unreadable_files_give_errors_and_exit_2(tmp_path: Path):
    empty = tmp_path / "empty.html"
    empty.write_bytes(b"")
    junk = tmp_path / "junk.pdf"
    junk.write_bytes(bytes(range(256)) * 8)
    truncated = tmp_path / "truncated.docx"
    truncated.write_bytes((FIXTURES / "seed-000.docx").read_bytes()[:2000])
    result = run("--json", str(empty), str(FIXTURES / "seed-000.txt"), str(junk), str(truncated))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    docs = [json.loads(line) for line in result.stdout.splitlines()]
    assert [d["source"] for d in docs] == [str(empty), str(FIXTURES / "seed-000.txt"), str(junk), str(truncated)]
    assert docs[0] == {"source": str(empty), "error": "empty document"}
    assert docs[1]["applications"]["new_received"]["total"] == 2
    assert docs[2]["error"] and docs[3]["error"]


def test_human_summary():
    result = run(str(FIXTURES / "seed-003.html"))
    assert result.returncode == 0
    assert "湘潭县2020年度政府信息公开工作年度报告" in result.stdout
    assert "format 2019" in result.stdout
    assert "suit_direct_total" in result.stdout
