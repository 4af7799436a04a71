"""The one-row-per-report CSV (`report_summary`), UTF-8 with a byte-order mark.

Why the BOM: Excel on Windows — what most newsrooms open a CSV with — reads a BOM-less file as the local
code page and shows Chinese as mojibake; with the BOM it opens correctly, and other tools ignore it.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import IO

from archive.store import open_db
from archive.summary import SUMMARY_COLUMNS


def export_csv(db_path: str | Path, out: str | Path | IO) -> int:
    """Write report_summary to `out` (a path, a text stream or a binary stream); return the number of rows."""
    if isinstance(out, str | Path):
        with open(out, "w", encoding="utf-8-sig", newline="") as handle:
            return _write(db_path, handle)
    if isinstance(out, io.TextIOBase):
        out.write("\ufeff")
        return _write(db_path, out)
    text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="", write_through=True)
    try:
        return _write(db_path, text)
    finally:
        text.detach()  # leave the caller's stream open


def _write(db_path: str | Path, handle: IO[str]) -> int:
    db = open_db(db_path, create=False)
    try:
        writer = csv.writer(handle)
        writer.writerow(SUMMARY_COLUMNS)
        count = 0
        columns = ", ".join(SUMMARY_COLUMNS)
        for row in db.execute(f"SELECT {columns} FROM report_summary ORDER BY region, agency, year, report_id"):
            writer.writerow(row)
            count += 1
        return count
    finally:
        db.close()
