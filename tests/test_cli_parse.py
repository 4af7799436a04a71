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


def test_markup_and_terminal_controls_in_a_report_are_printed_as_text(tmp_path: Path):
    """A title holding Rich markup and escape sequences (window title, colour, CSI) is shown as the text it is,
    without the controls; the files after it are still read."""
    evil = tmp_path / "evil.txt"
    lines = (FIXTURES / "seed-000.txt").read_bytes().split(b"\n")
    title = "湘潭县数据局[/bold][red]\x1b]0;pwned\x07\x1b[31m\u202e2024年政府信息公开工作年度报告"
    evil.write_bytes(b"\n".join([title.encode(), *lines[2:]]))
    result = run(str(evil), str(FIXTURES / "seed-003.html"))
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout.splitlines()[0] == "湘潭县数据局[/bold][red]2024年政府信息公开工作年度报告"
    assert not any(c in result.stdout for c in "\x1b\x07\u202e")
    assert "湘潭县2020年度政府信息公开工作年度报告" in result.stdout  # the next file


def test_error_lines_carry_no_terminal_controls(tmp_path: Path):
    name = tmp_path / "\x1b[2Jjunk\x07.pdf"
    name.write_bytes(bytes(range(256)) * 8)
    result = run(str(name))
    assert result.returncode == 2
    assert result.stderr == f"{tmp_path}/junk.pdf: error: not a document nianbao can read (binary data of unknown " \
                            "type)\n"


def test_file_over_the_size_limit_is_not_read(tmp_path: Path):
    """A 200 MB file (sparse: no disk used) is refused from its size alone; the next file is read."""
    big = tmp_path / "big.txt"
    with big.open("wb") as f:
        f.truncate(200 << 20)
    result = run("--json", str(big), str(FIXTURES / "seed-000.txt"))
    assert result.returncode == 2
    docs = [json.loads(line) for line in result.stdout.splitlines()]
    assert docs[0] == {"source": str(big), "error": "file is 209.72 MB, over the 52.4288 MB limit"}
    assert docs[1]["applications"]["new_received"]["total"] == 2
