"""Tables and paragraphs from page layout, for the readers that see pages: PDF (pdfplumber) and OCR.

Both readers find, page by page, tables (cells with their boxes) and lines of text outside them.  What the
page layout breaks is put back together here, once for both:
- a table that runs on over the next page is one table; a header row repeated on the new page is dropped;
- a row cut in two by the page break (label half on each page) is joined back into one row;
- a cell merged down across the page break (`三、本年度办理结果`) is not read as a new empty cell;
- a paragraph wrapped over lines or pages is one string again.
Coordinates are points (1/72 inch); OCR converts its pixels.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from parsers.cell_text import join_lines
from parsers.document import Table
from parsers.numbers import is_value

ALIGN = 3.0  # points: cells on both sides of a page break share their column edges within this
_ENUMERATED = re.compile(r"^\s*([（(]?[一二三四五六七八九十\d]+[)）、.．]|第)")


@dataclass
class Cell:
    """A table cell as drawn: its text and box, in points from the page's top left."""

    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    uncertain: str | None = None  # why the reader doubts the text (OCR confidence)


@dataclass
class Grid:
    """One page's table: rows of the cells that start in that row (merged cells once), with their boxes."""

    rows: list[list[Cell]]
    x0: float
    x1: float
    top: float
    bottom: float


@dataclass
class Line:
    """A line of text outside tables as drawn on its page."""

    text: str
    x0: float
    x1: float
    left: float  # the page's text margins, to tell a wrapped line from a paragraph's end or a new indent
    right: float
    font_size: float




def assemble(stream: list[Line | Grid | None]) -> list[str | Table]:
    """Join the page stream into paragraphs and tables, mending what page breaks cut."""
    blocks: list[str | Grid] = []
    paragraph: list[Line] = []
    after_break = False  # the item follows a page break with nothing in between
    for item in stream:
        if item is None:
            after_break = True
            continue
        if isinstance(item, Grid):
            _flush(paragraph, blocks)
            previous = blocks[-1] if blocks else None
            if after_break and isinstance(previous, Grid) and _same_columns(previous, item):
                _continue_table(previous, item)
            else:
                blocks.append(item)
        elif paragraph and not _continues(paragraph[-1], item):
            _flush(paragraph, blocks)
            paragraph.append(item)
        else:
            paragraph.append(item)
        after_break = False
    _flush(paragraph, blocks)
    return [b if isinstance(b, str) else _table(b) for b in blocks]


def _table(grid: Grid) -> Table:
    rows = [row for row in grid.rows if row]  # a row of blank cells stays: blank values are values
    uncertain = {
        (r, c): cell.uncertain for r, row in enumerate(rows) for c, cell in enumerate(row) if cell.uncertain
    }
    return Table(rows=[[c.text for c in row] for row in rows], uncertain=uncertain)


def _continues(previous: Line, line: Line) -> bool:
    """A line continues the paragraph when the one before ran (nearly: lines are not justified) to the right
    margin and this one is not indented."""
    return (previous.x1 >= previous.right - 2.5 * previous.font_size
            and line.x0 <= line.left + 1.5 * line.font_size)


def _flush(paragraph: list[Line], blocks: list[str | Grid]) -> None:
    if paragraph:
        blocks.append(join_lines(" ".join(line.text for line in paragraph)))
        paragraph.clear()


def _same_columns(a: Grid, b: Grid) -> bool:
    """Same width: scanned pages sit a little shifted (and scaled) against each other, so not same position."""
    width = a.x1 - a.x0
    return abs(width - (b.x1 - b.x0)) <= max(ALIGN, 0.02 * width)


def _continue_table(grid: Grid, more: Grid) -> None:
    """Append the next page's part of a table to `grid`, undoing the page break."""
    # Into grid's frame: columns line up, and the new part sits below the old one (not over an earlier page's).
    scale = (grid.x1 - grid.x0) / max(1.0, more.x1 - more.x0)
    shift = grid.bottom - more.top
    for cell in (c for row in more.rows for c in row):
        cell.x0 = grid.x0 + (cell.x0 - more.x0) * scale
        cell.x1 = grid.x0 + (cell.x1 - more.x0) * scale
        cell.top += shift
        cell.bottom += shift
    rows = list(more.rows)
    repeated = 0
    while rows and repeated < len(grid.rows) and _is_header_repeat(rows[0], grid.rows[repeated]):
        rows.pop(0)
        repeated += 1
    if rows and repeated == 0:
        bottom_cells = _bottom_cells(grid)
        first = [c for c in rows[0] if not _merged_across_break(c, bottom_cells)]
        if _is_split_row(first, bottom_cells):
            for cell in first:
                if cell.text:
                    below = _aligned(cell, bottom_cells)
                    assert below is not None  # _is_split_row checked every cell
                    below.text = join_lines(below.text + cell.text)
                    below.bottom = max(below.bottom, cell.bottom)  # a merged cell now reaches this page too
                    below.uncertain = "; ".join(r for r in (below.uncertain, cell.uncertain) if r) or None
            rows.pop(0)
        else:
            rows[0] = first
    grid.rows.extend(rows)
    grid.bottom = more.bottom + shift


def _is_header_repeat(row: list[Cell], header: list[Cell]) -> bool:
    texts = [c.text for c in row]
    return texts == [c.text for c in header] and not all(is_value(t) for t in texts)


def _bottom_cells(grid: Grid) -> list[Cell]:
    """Cells of the table's last part that reach its bottom edge (including ones merged down from above)."""
    return [c for row in grid.rows for c in row if abs(c.bottom - grid.bottom) <= ALIGN]


def _aligned(cell: Cell, candidates: list[Cell]) -> Cell | None:
    for other in candidates:
        if abs(cell.x0 - other.x0) <= ALIGN and abs(cell.x1 - other.x1) <= ALIGN:
            return other
    return None


def _merged_across_break(cell: Cell, bottom_cells: list[Cell]) -> bool:
    """An empty cell under a cell merged over several rows: Word redraws the merged cell on the new page."""
    above = _aligned(cell, bottom_cells)
    last_row_top = max(c.top for c in bottom_cells)
    return not cell.text and above is not None and above.top < last_row_top - ALIGN


def _is_split_row(row: list[Cell], bottom_cells: list[Cell]) -> bool:
    """The row is the second half of the previous page's last row, cut by the page break.

    Its cells must sit in the same columns as the cells above, no cell may start a new label ("4.", "（二）"),
    no two numbers may need gluing, and the row must be visibly incomplete: either its value cells are empty
    under numbers (the values stayed on the first page) or it holds only label fragments under labels (a
    header row cut in two).  A complete blank row after a page break matches neither and stays a row.
    """
    pairs = [(cell, _aligned(cell, bottom_cells)) for cell in row]
    if not pairs or any(above is None or _ENUMERATED.match(cell.text) for cell, above in pairs):
        return False
    if any(_is_number(cell.text) for cell, _ in pairs):
        return False
    values_left_above = any(not cell.text and _is_number(above.text) for cell, above in pairs)
    label_halves = all(cell.text and above.text and not is_value(above.text) for cell, above in pairs)
    return values_left_above or label_halves


def _is_number(text: str) -> bool:
    return bool(text) and is_value(text) and any(ch.isdigit() for ch in text)
