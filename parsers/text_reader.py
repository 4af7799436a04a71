"""Plain-text reports -> Document.

Text reports come from copy-paste, text extractors and web-page stores, and their tables arrive in four shapes:
one cell per line starting with a tab (rows separated by blank lines, a wrapped label continues on an untabbed
line); one cell per line ending in " |" (rows ended by a line of bare pipes, `|` or `||||`, as real pages saved
as text write them); `|`-separated rows; and rows whose cells are separated by tabs or runs of spaces with
numbers at the end (`一、本年新收政府信息公开申请数量 2 0 0 0 0 0 2`, or table 四 as one line of 15 numbers).
In the last shape cells can run together (`…申请数量 1200000 21`, or the digits glued to the label); the
reader keeps the digit runs as they are and `parsers.tables` splits them only where the row's arithmetic admits
exactly one split.
"""

from __future__ import annotations

import re

from parsers.decode import decode_text
from parsers.document import Document, Table
from parsers.labels import application_row, norm, proactive_item
from parsers.limits import check_text_size
from parsers.numbers import is_value

_SECTION = re.compile(r"^[一二三四五六七八九十]、")
_SPACE_SPLIT = re.compile(r"[ \u3000\u00a0]{1,}")
_PIPE_CELL = re.compile(r"([^|]*?)\s*\|")  # a whole line: one cell, closed by its pipe
_PIPE_ROW_END = re.compile(r"\|+")  # a whole line of bare pipes, at the line's start: the row ends
_GLUED_DIGITS = re.compile(r"^(?P<label>.*?\D)(?P<digits>[0-9０-９]+)$")


def read(data: bytes) -> Document:
    check_text_size(data, "text file")
    text = decode_text(data).replace("\r\n", "\n").replace("\r", "\n")
    return Document(blocks=_blocks(text.split("\n")), form="text")


def _blocks(lines: list[str]) -> list[str | Table]:
    blocks: list[str | Table] = []
    rows: list[list[str]] = []  # rows of the table being read
    cell_row: list[str] | None = None  # one-cell-per-line row being read
    piped = False  # whether that row's cells end in " |" (not start with a tab)

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
            if cell_row is None or piped:
                end_cell_row()
                cell_row, piped = [], False
            cell_row.append(raw.strip())
            continue
        line = raw.strip()
        if not line:
            end_cell_row()
            continue
        piped_cell = _piped_cell(raw)
        if piped_cell is not None:
            if cell_row is None or not piped:
                end_cell_row()
                cell_row, piped = [], True
            cell_row.append(piped_cell)
            continue
        if line[0] == "|" and _PIPE_ROW_END.fullmatch(raw.rstrip()):
            end_cell_row()
            continue
        if cell_row and _continues_cell(line):
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


def _piped_cell(raw: str) -> str | None:
    """The cell of a line written as one cell closed by " |" (`规章 |`, ` |` for an empty cell); None for any
    other line.  A line of bare pipes starting at the margin is no cell: it ends the row."""
    if "|" not in raw:  # nearly every line: no need to look further
        return None
    line = raw.rstrip()
    if line.count("|") != 1 or line == "|":
        return None
    m = _PIPE_CELL.fullmatch(line)
    return m.group(1).strip() if m else None


def _unglue_digits(tokens: list[str]) -> None:
    """Split digits glued to the end of a table 二 or 三 row label (`行政许可776`,
    `一、本年新收政府信息公开申请数量2000002`) into a token of their own; other text that ends in digits stays."""
    words = [at for at, token in enumerate(tokens) if not is_value(token)]
    if not words:
        return
    at = words[-1]
    glued = _GLUED_DIGITS.match(tokens[at])
    if glued and _is_row_label(norm("".join(tokens[:at]) + glued["label"])):
        tokens[at : at + 1] = [glued["label"], glued["digits"]]


def _is_row_label(label: str) -> bool:
    return proactive_item(label) is not None or application_row(label) is not None


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
    _unglue_digits(tokens)
    if len(tokens) < 2 or not is_value(tokens[-1]) or not tokens[-1]:
        return None
    values = 0
    while values < len(tokens) and is_value(tokens[-1 - values]):
        values += 1
    label = " ".join(tokens[: len(tokens) - values])
    if len(label) > 80 or (label and not values):
        return None
    return ([label] if label else []) + tokens[len(tokens) - values :]
