"""Attachment readers: pages per second for PDF, DOCX, DOC (LibreOffice), spreadsheets and OCR, next to
`pdftotext` (poppler-utils) on the same documents; OCR cell accuracy against the gold values.

Run by hand:  .venv/bin/python bench/bench_readers.py [--rounds 3] [--no-ocr]
Pages are the pages of each document's PDF export (a DOCX or sheet has no pages of its own), so every row
is per page of the same report.  Each measurement takes the best of --rounds runs (OCR: one run).
"""

from __future__ import annotations

import argparse
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pdfplumber

sys.path.insert(0, str(Path(__file__).parents[1]))

from parsers import docx_reader, office_reader, parse, pdf_reader, sheet_reader  # noqa: E402
from tests.gold import FIXTURES, SEEDS, cell_count, covered, differences, load_gold  # noqa: E402


def pages_of(seed: str) -> int:
    with pdfplumber.open(FIXTURES / f"{seed}.pdf") as pdf:
        return len(pdf.pages)


def best(paths: list[Path], work: Callable[[bytes], object], rounds: int) -> float:
    blobs = [p.read_bytes() for p in paths]
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        for blob in blobs:
            work(blob)
        times.append(time.perf_counter() - start)
    return min(times)


def pdftotext(blob: bytes) -> None:
    subprocess.run(["pdftotext", "-layout", "-", "-"], input=blob, capture_output=True, check=True)


def antiword(blob: bytes) -> None:
    subprocess.run(["antiword", "-m", "UTF-8.txt", "-"], input=blob, capture_output=True, check=False)


def row(name: str, seconds: float, pages: int, files: int) -> None:
    print(f"| {name} | {files} | {pages} | {pages / seconds:8.1f} | {seconds / files * 1000:8.0f} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--no-ocr", action="store_true")
    args = ap.parse_args()
    print(f"{platform.processor() or platform.machine()}, Python {platform.python_version()}\n")
    all_pages = {seed: pages_of(seed) for seed in SEEDS}
    print("| reader | files | pages | pages/s | ms/file |")
    print("|---|---|---|---|---|")
    pdfs = [FIXTURES / f"{s}.pdf" for s in SEEDS]
    total = sum(all_pages.values())
    if shutil.which("pdftotext"):
        row("pdftotext -layout (poppler, subprocess)", best(pdfs, pdftotext, args.rounds), total, len(pdfs))
    row("pdf_reader (pdfplumber tables + text)", best(pdfs, pdf_reader.read, args.rounds), total, len(pdfs))
    row("parse() on .pdf (reader + mapping + checks)", best(pdfs, parse, args.rounds), total, len(pdfs))
    docx = [FIXTURES / f"{s}.docx" for s in SEEDS]
    row("docx_reader (python-docx)", best(docx, docx_reader.read, args.rounds), total, len(docx))
    doc = [FIXTURES / "seed-000.doc", FIXTURES / "seed-003.wps"]
    doc_pages = all_pages["seed-000"] + all_pages["seed-003"]
    if shutil.which("antiword"):
        row("antiword (text only, tables flattened)", best(doc, antiword, args.rounds), doc_pages, len(doc))
    row("office_reader (LibreOffice -> DOCX)", best(doc, office_reader.read, 1), doc_pages, len(doc))
    sheets = [FIXTURES / "seed-001.xlsx", FIXTURES / "seed-003.xlsx", FIXTURES / "seed-004.xls"]
    sheet_pages = all_pages["seed-001"] + all_pages["seed-003"] + all_pages["seed-004"]
    row("sheet_reader (openpyxl / xlrd)", best(sheets, sheet_reader.read, args.rounds), sheet_pages, len(sheets))
    if args.no_ocr:
        return
    print("\n| scan | pages | s/page | cells | wrong | wrong and flagged | wrong, not flagged | flags |")
    print("|---|---|---|---|---|---|---|---|")
    totals = [0, 0, 0, 0, 0.0]
    for seed in SEEDS:
        path = FIXTURES / f"{seed}.scan.pdf"
        start = time.perf_counter()
        report = parse(path.read_bytes(), source=path.name).to_dict()
        seconds = time.perf_counter() - start
        gold = load_gold(seed)
        wrong = [d for d in differences(report, gold) if d.split(".")[0] in ("proactive", "applications",
                                                                               "review_litigation")]
        flagged = [d for d in wrong if covered(d, report)]
        cells = cell_count(gold)
        print(f"| {path.name} | {all_pages[seed]} | {seconds / all_pages[seed]:.1f} | {cells} | {len(wrong)} | "
              f"{len(flagged)} | {len(wrong) - len(flagged)} | {len(report['flags'])} |")
        for i, n in enumerate((all_pages[seed], cells, len(wrong), len(flagged))):
            totals[i] += n
        totals[4] += seconds
    pages, cells, wrong, flagged, seconds = totals
    print(f"| all | {pages} | {seconds / pages:.1f} | {cells} | {wrong} | {flagged} | {wrong - flagged} | |")
    print(f"\nOCR cell accuracy {1 - wrong / cells:.2%}; {seconds / pages:.1f} s/page")


if __name__ == "__main__":
    main()
