"""XLS/XLSX attachments -> Document (openpyxl for XLSX, xlrd for XLS).

Some agencies publish the tables as a spreadsheet, sometimes with the whole report pasted in around them.
A merged range gives its top-left cell once (like an HTML colspan/rowspan cell); the cells it covers are
skipped, while an empty table cell stays an empty string in its place.  Rows of bordered cells form tables;
an unbordered single-cell row is a paragraph.  In a sheet with no borders at all, a single-cell row is a
paragraph when it is long prose or a section heading (`三、收到和处理…`) merged across the whole row.
Numbers lose Excel's float form (`3.0` -> `3`).

openpyxl (like xlrd) walks a sheet's whole used range, so a 1.4 KB file with cells at A1 and XFD1048576 would
be 17 billion cells: each sheet's range is measured first (XLSX: from the cell references in its XML, before
openpyxl loads it) and refused over MAX_CELLS.  openpyxl's read-only mode would stream the cells but knows no
merged ranges, which the reader needs.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass

import openpyxl
import xlrd
from openpyxl.cell.cell import MergedCell
from openpyxl.utils import column_index_from_string

from parsers import limits
from parsers.cell_text import join_lines
from parsers.detect import sniff
from parsers.document import Document, Table
from parsers.limits import DAMAGED_ZIP, check_size, check_unzipped, refuse_encrypted_office
from parsers.report import ParseError

_HEADING = re.compile(r"^[一二三四五六七八九十]+、")
_PROSE = 40  # characters: a single cell longer than this is a paragraph, not a table label
_MERGED = object()  # placeholder for a cell covered by a merged range
# A cell's or row's reference (r="XFD1048576", r="7"), or the far corner of a merged range (ref="A1:C3"), in a
# worksheet's XML, whatever its namespace prefix.
_REFERENCE = re.compile(rb'<(?:\w+:)?(?:c|row|mergeCell)\s[^>]*?\br(?:ef="[A-Z]+[0-9]+:|=")([A-Z]*)([0-9]+)"')
_ROW_START = re.compile(rb"<(?:\w+:)?row[\s>]")
_CELL_START = re.compile(rb"<(?:\w+:)?c[\s>/]")


@dataclass
class _Cell:
    value: object  # str, number, datetime or None (empty)
    bordered: bool


Grid = list[list[_Cell | object]]  # a sheet's rows: _Cell, or _MERGED where a merged range covers the cell


def read(data: bytes) -> Document:
    check_size(data, "spreadsheet")
    refuse_encrypted_office(data)
    form = "xlsx" if sniff(data) == "xlsx" else "xls"
    try:
        if form == "xlsx":
            check_unzipped(data, "XLSX")
            _check_cells(sum(map(_xlsx_range, _worksheet_xml(data))))
        sheets, title = _read_xlsx(data) if form == "xlsx" else _read_xls(data)
    except (*DAMAGED_ZIP, KeyError, ValueError, OSError, xlrd.XLRDError, AssertionError) as exc:
        if "encrypt" in str(exc).lower():
            raise ParseError("spreadsheet is encrypted with a password") from exc
        raise ParseError(f"{form.upper()} is damaged ({type(exc).__name__}: {exc})"[:300]) from exc
    blocks: list[str | Table] = []
    for grid in sheets:
        blocks.extend(_blocks(grid))
    return Document(blocks=blocks, form=form, title=title)


def _worksheet_xml(data: bytes) -> Iterable[bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                yield archive.read(name)


def _xlsx_range(xml: bytes) -> int:
    """Cells in a worksheet's used range (rows x columns from A1), as openpyxl will walk it: the farthest row and
    column any cell, row or merged range names; a cell without a reference is one more in its row."""
    rows = columns = 0
    for letters, number in _REFERENCE.findall(xml):
        rows = max(rows, int(number))
        if letters:
            columns = max(columns, column_index_from_string(letters.decode()))
    unreferenced = max((len(_CELL_START.findall(row)) for row in _ROW_START.split(xml)), default=0)
    return rows * max(columns, unreferenced)


def _check_cells(cells: int) -> None:
    if cells > limits.MAX_CELLS:
        raise ParseError(f"spreadsheet spans {cells:,} cells, over the {limits.MAX_CELLS:,}-cell limit "
                         "(a report fills ~5,000)")


def _read_xlsx(data: bytes) -> tuple[list[Grid], str | None]:
    book = openpyxl.load_workbook(io.BytesIO(data), data_only=True)
    sheets = [
        [[_MERGED if isinstance(c, MergedCell) else _Cell(c.value, _xlsx_bordered(c)) for c in row]
         for row in ws.iter_rows()]
        for ws in book.worksheets
    ]
    return sheets, join_lines(book.properties.title) or None


def _xlsx_bordered(cell: openpyxl.cell.cell.Cell) -> bool:
    b = cell.border
    return any(side is not None and side.style for side in (b.left, b.right, b.top, b.bottom))


def _read_xls(data: bytes) -> tuple[list[Grid], str | None]:
    # ragged rows: xlrd would otherwise pad every row to the widest one before the size is known
    book = xlrd.open_workbook(file_contents=data, formatting_info=True, on_demand=True, ragged_rows=True)
    sheets: list[Grid] = []
    for sheet in book.sheets():
        _check_cells(sheet.nrows * sheet.ncols)
        covered = {(r, c) for r0, r1, c0, c1 in sheet.merged_cells
                   for r in range(r0, r1) for c in range(c0, c1) if (r, c) != (r0, c0)}
        grid: Grid = []
        for r in range(sheet.nrows):
            row: list[_Cell | object] = []
            for c in range(sheet.ncols):
                if c >= sheet.row_len(r):  # past the row's last cell: nothing there, no border
                    row.append(_MERGED if (r, c) in covered else _Cell(None, False))
                    continue
                cell = sheet.cell(r, c)
                border = book.xf_list[cell.xf_index].border
                bordered = any((border.left_line_style, border.right_line_style,
                                border.top_line_style, border.bottom_line_style))
                if (r, c) in covered:
                    row.append(_MERGED)
                elif cell.ctype == xlrd.XL_CELL_DATE:
                    row.append(_Cell(xlrd.xldate.xldate_as_datetime(cell.value, book.datemode), bordered))
                elif cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
                    row.append(_Cell(None, bordered))
                else:
                    row.append(_Cell(cell.value, bordered))
            grid.append(row)
        sheets.append(grid)
    return sheets, None


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    return join_lines(str(value))


def _blocks(grid: Grid) -> Iterable[str | Table]:
    """Paragraphs and tables of one sheet, in row order."""
    has_borders = any(c.bordered for row in grid for c in row if isinstance(c, _Cell))
    block: list[list[tuple[int, _Cell]]] = []
    for row in grid:
        cells = [(col, c) for col, c in enumerate(row) if isinstance(c, _Cell)]
        filled = [c for _, c in cells if _text(c.value)]
        if not any(c.value is not None for _, c in cells):  # a row written as blanks (' ') is a blank row
            continue
        if len(filled) == 1 and _is_paragraph(filled[0], len(cells), has_borders):
            yield from _flush(block, has_borders)
            yield _text(filled[0].value)
        else:
            block.append(cells)
    yield from _flush(block, has_borders)


def _flush(block: list[list[tuple[int, _Cell]]], has_borders: bool) -> Iterable[str | Table]:
    """A run of rows is a table, unless no row has two filled cells: then it is lines of text."""
    texts = [[_text(c.value) for _, c in cells if _text(c.value)] for cells in block]
    if any(len(filled) > 1 for filled in texts):
        yield _table(block, has_borders)
    else:
        yield from (filled[0] for filled in texts if filled)
    block.clear()


def _is_paragraph(cell: _Cell, cells_in_row: int, has_borders: bool) -> bool:
    """A lone cell is a paragraph when it has no border (in a sheet that draws borders), or when it is prose,
    or a section heading merged across the whole row."""
    if has_borders:
        return not cell.bordered
    text = _text(cell.value)
    return len(text) > _PROSE or (cells_in_row == 1 and _HEADING.match(text) is not None)


def _table(block: list[list[tuple[int, _Cell]]], has_borders: bool) -> Table:
    """Table cells are told from the sheet around them by their borders: an empty bordered cell is a blank
    value and stays in its place.  Without borders, empty cells count up to the table's last filled column."""
    last = max(col for cells in block for col, c in cells if c.value is not None)
    rows: list[list[str]] = []
    for cells in block:
        if has_borders:
            kept = [c for col, c in cells if c.bordered or _text(c.value)]
        else:
            kept = [c for col, c in cells if col <= last]
        rows.append([_text(c.value) for c in kept])
    return Table(rows=rows)
