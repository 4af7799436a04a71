"""The one-row-per-report CSV (`report_summary`), UTF-8 with a byte-order mark, safe to open in a spreadsheet.

Headings are Chinese by default, in reading order (archive/headings.py); `keys=True` writes report_summary's
English keys in its own column order, as scripts expect. Text cells that a spreadsheet would run as a formula are
neutralised (archive/spreadsheet.py). A file is written to a temporary name beside it and renamed at the end, so a
failed export never truncates or half-writes an existing file.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from pathlib import Path
from typing import IO

from archive.headings import summary_headings
from archive.spreadsheet import BOM, safe_row
from archive.store import open_db
from archive.summary import SUMMARY_COLUMNS


def export_csv(db_path: str | Path, out: str | Path | IO, *, keys: bool = False) -> int:
    """Write report_summary to `out` (a path, a text stream or a binary stream); return the number of rows."""
    if isinstance(out, str | Path):
        target = Path(out)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8-sig", newline="") as handle:
                count = _write(db_path, handle, keys)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return count
    if isinstance(out, io.TextIOBase):
        out.write(BOM)
        return _write(db_path, out, keys)
    text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="", write_through=True)
    try:
        return _write(db_path, text, keys)
    finally:
        text.detach()  # leave the caller's stream open


def _write(db_path: str | Path, handle: IO[str], keys: bool) -> int:
    db = open_db(db_path, create=False)
    try:
        headings = dict(zip(SUMMARY_COLUMNS, SUMMARY_COLUMNS, strict=True)) if keys else summary_headings()
        columns = list(headings)
        writer = csv.writer(handle)
        writer.writerow(headings.values())
        count = 0
        selected = ", ".join(columns)
        for row in db.execute(f"SELECT {selected} FROM report_summary ORDER BY region, agency, year, report_id"):
            writer.writerow(safe_row(row))
            count += 1
        return count
    finally:
        db.close()
