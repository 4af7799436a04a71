"""Plain-text reports -> Document.

Text reports come from copy-paste and from text extractors, and their tables arrive in three shapes:
one cell per line (each cell line starts with a tab, rows separated by blank lines, a wrapped label continues
on an untabbed line), `|`-separated rows, and rows whose cells are separated by tabs or runs of spaces with
numbers at the end (`一、本年新收政府信息公开申请数量 2 0 0 0 0 0 2`, or table 四 as one line of 15 numbers).
"""

from __future__ import annotations

import re

from parsers.decode import decode_text
from parsers.document import Document, Table
from parsers.limits import check_text_size
from parsers.numbers import is_value

_SECTION = re.compile(r"^[一二三四五六七八九十]、")
_SPACE_SPLIT = re.compile(r"[ \u3000\u00a0]{1,}")


def read(data: bytes) -> Document:
    check_text_size(data, "text file")
    text = decode_text(data).replace("\r\n", "\n").replace("\r", "\n")
    return Document(blocks=_blocks(text.split("\n")), form="text")


def _blocks(lines: list[str]) -> list[str | Table]:
    blocks: list[str | Table] = []
    rows: list[list[str]] = []  # rows of the table being read
    cell_row: list[str] | None = None  # one-cell-per-line row being read

    def end_cell_row() -> None:
        nonlocal cell_row
        if cell_row and (len(cell_row) > 1 or cell_row[0].strip()):
            rows.append([c.strip() for c in cell_row])
        cell_row = None

    def end_table() -> None:
        end_cell_row()
        if rows:
            blocks.append(Table(rows=list(rows)))
            rows.clear()

    for raw in lines:
        if raw.startswith("\t"):
            if cell_row is None:
                cell_row = []
            cell_row.append(raw.strip())
            continue
        line = raw.strip()
        if not line:
            end_cell_row()
            continue
        if cell_row is not None and cell_row and _continues_cell(line):
            cell_row[-1] += line  # a label wrapped onto the next line
            continue
        end_cell_row()
        row = _split_row(line)
        if row is not None:
            rows.append(row)
            continue
        end_table()
        blocks.append(line)
    end_table()
    return blocks


def _continues_cell(line: str) -> bool:
    return len(line) <= 20 and not _SECTION.match(line) and "|" not in line


def _split_row(line: str) -> list[str] | None:
    """Cells of a table row written on one line, or None when the line is prose."""
    if line.count("|") >= 2:
        cells = [c.strip() for c in line.split("|")]
        if cells and not cells[0]:
            cells = cells[1:]
        return cells
    if "\t" in line:
        return [c.strip() for c in line.split("\t")]
    tokens = _SPACE_SPLIT.split(line)
    if len(tokens) < 2 or not is_value(tokens[-1]) or not tokens[-1]:
        return None
    values = 0
    while values < len(tokens) and is_value(tokens[-1 - values]):
        values += 1
    label = " ".join(tokens[: len(tokens) - values])
    if len(label) > 80 or (label and not values):
        return None
    return ([label] if label else []) + tokens[len(tokens) - values :]
