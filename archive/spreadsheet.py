"""CSV that opens safely in a spreadsheet: a UTF-8 byte-order mark and no cell that runs as a formula.

Excel on a Chinese Windows reads a BOM-less CSV in the local code page (mojibake); with the BOM it reads UTF-8.
A text cell beginning with =, +, -, @, tab or CR is run as a formula by Excel, LibreOffice and Google Sheets
(CSV injection, OWASP): such a cell gets a leading apostrophe, which the spreadsheet shows as text. Numbers stay
numbers — "-3" or "+1.5" is left as it is — so a negative figure is never turned into text.

Used by `nianbao export` (whole rows) and by the Datasette plugin, which rewrites Datasette's own CSV as it streams
(CsvRewriter: records can span chunks, and a quoted cell can hold newlines).
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterable
from typing import Any

BOM = "\ufeff"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def neutralise(value: Any) -> Any:
    """`value`, or a formula-like text cell made inert with a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_START) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def safe_row(row: Iterable[Any]) -> list[Any]:
    return [neutralise(value) for value in row]


class CsvRewriter:
    """Feed it CSV bytes in any chunks; it returns the same CSV (excel dialect) with every cell neutralised, the
    first output starting with the BOM. Only whole records are rewritten; the rest waits for the next chunk."""

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")()
        self._pending = ""
        self._started = False

    def feed(self, chunk: bytes, *, final: bool = False) -> bytes:
        text = self._pending + self._decoder.decode(chunk, final=final)
        end = len(text) if final else _last_record_end(text)
        self._pending = text[end:]
        out = io.StringIO()
        if not self._started:
            out.write(BOM)
            self._started = True
        writer = csv.writer(out)
        for row in csv.reader(io.StringIO(text[:end], newline="")):
            writer.writerow(safe_row(row))
        return out.getvalue().encode("utf-8")


def _last_record_end(text: str) -> int:
    """The index just past the last newline that ends a record — one with an even number of quotes before it,
    so outside any quoted cell; 0 when there is none yet."""
    index = text.rfind("\n")
    while index >= 0 and text.count('"', 0, index) % 2:
        index = text.rfind("\n", 0, index)
    return index + 1
