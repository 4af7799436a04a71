"""Bounded work (issue #14): each crafted file is answered within 60 s and 1 GB with an error (or flags).

Every file is made by tests.hostile_files and parsed in a child process whose address space is capped at 1 GB
(RLIMIT_AS): running out would end it with a MemoryError or a kill instead of the ParseError the test expects.
The child reports the time the parse took and its peak resident memory (VmHWM).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from parsers import parse
from tests import hostile_files
from tests.gold import FIXTURES

GB = 1 << 30
_CHILD = f"""
import json, resource, sys, time
resource.setrlimit(resource.RLIMIT_AS, ({GB}, {GB}))
from parsers import ParseError, parse
data = open(sys.argv[1], "rb").read()
start = time.monotonic()
try:
    report = parse(data, source=sys.argv[1])
    outcome = {{"flags": report.flags, "text": report.text}}
except ParseError as exc:
    outcome = {{"error": str(exc)}}
outcome["seconds"] = time.monotonic() - start
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent through fork and exec
outcome["max_rss"] = next(int(line.split()[1]) * 1024 for line in open("/proc/self/status")
                          if line.startswith("VmHWM:"))
print(json.dumps(outcome, ensure_ascii=False))
"""


def parse_bounded(path: Path) -> dict:
    """Parse `path` in a child limited to 1 GB of address space and 60 s; what it answered, with its time and
    peak memory."""
    done = subprocess.run([sys.executable, "-c", _CHILD, str(path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    outcome = json.loads(done.stdout)
    assert outcome["seconds"] < 60
    assert outcome["max_rss"] < GB
    return outcome


HOSTILE = {
    # name: (file name, bytes, the error it must end with)
    "xlsx_a1_to_xfd1048576": ("range.xlsx", lambda: hostile_files.xlsx({"A1": "一", "XFD1048576": "二"}),
                              r"^spreadsheet spans 17,179,869,184 cells, over the 200,000-cell limit"),
    "pdf_page_10000pt": ("page.pdf", lambda: hostile_files.pdf(1, 10000, 10000),
                         r"^scanned PDF page 1 is 10000 x 10000 pt \(353 x 353 cm\), too large to OCR$"),
    "pdf_59_large_pages": ("pages.pdf", lambda: hostile_files.pdf(59, 2000, 2000),
                           r"^scanned PDF has 59 pages, over the 40-page OCR limit$"),
    "pdf_40_a2_pages": ("a2.pdf", lambda: hostile_files.pdf(40, 1191, 1684),
                        r"^scanned PDF renders to 619 million pixels, over the 160 million OCR limit$"),
    "docx_190mb_unpacked": ("bomb.docx", lambda: hostile_files.docx_bomb(_seed_docx(), 190 << 20),
                            r"^DOCX unpacks to 190 MB, over the 50 MB limit \(a zip bomb\?\)$"),
    "docx_20mb_of_empty_paragraphs": ("tags.docx", lambda: hostile_files.docx_bomb(_seed_docx(), 20 << 20),
                                      r"^DOCX has 3,5\d\d,\d{3} XML tags, over the 500,000 limit"),
    "text_200mb": ("big.txt", lambda: "一、总体情况\n".encode() * ((200 << 20) // 19),
                   r"^text file is 209\.72 MB, over the 16\.7772 MB limit$"),
    "png_30000x30000": ("big.png", lambda: hostile_files.png(30000, 30000),
                        r"^image is over the 100 million pixel limit \(Image size \(900000000 pixels\) exceeds"),
    "html_nested_100000_deep": ("deep.html", lambda: hostile_files.nested_html(100_000),
                                r"^HTML page could not be read to its end \(elements nested more than 255 deep"),
}


def _seed_docx() -> bytes:
    return (FIXTURES / "seed-000.docx").read_bytes()


@pytest.mark.parametrize("name", HOSTILE)
def test_crafted_file_is_refused_within_60_s_and_1_gb(name: str, tmp_path: Path):
    file_name, make, error = HOSTILE[name]
    path = tmp_path / file_name
    path.write_bytes(make())
    outcome = parse_bounded(path)
    assert "error" in outcome, outcome
    assert re.search(error, outcome["error"]), outcome["error"]


def test_html_nested_to_the_depth_libxml2_reads_is_read_whole():
    """Nesting below libxml2's limit is read to the end; at the limit the page is refused (above), never read
    as the part before it."""
    report = parse(hostile_files.nested_html(250))
    assert report.text.splitlines()[-1] == "二、主动公开政府信息情况"
