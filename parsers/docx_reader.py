"""DOCX attachments -> Document, with python-docx.

Word stores a merged cell as one `w:tc` with `gridSpan` (merged across) or as a `vMerge="restart"` cell
followed by `vMerge` continuation cells in the rows below (merged down).  python-docx's `row.cells` repeats a
merged cell once per grid column it covers; the mapper wants it once, like an HTML `colspan`/`rowspan` cell,
so rows are read from the `w:tc` elements: each cell once, continuation cells skipped, empty cells kept.
"""

from __future__ import annotations

import io

import docx
from docx.opc.exceptions import PackageNotFoundError
from docx.table import Table as DocxTable
from docx.table import _Cell
from docx.text.paragraph import Paragraph

from parsers.cell_text import join_lines
from parsers.document import Document, Table
from parsers.limits import DAMAGED_ZIP, check_size, check_unzipped
from parsers.report import ParseError


def read(data: bytes) -> Document:
    check_size(data, "DOCX")
    try:
        check_unzipped(data, "DOCX")
        document = docx.Document(io.BytesIO(data))
    except (*DAMAGED_ZIP, PackageNotFoundError, KeyError, ValueError) as exc:
        raise ParseError(f"DOCX is damaged ({type(exc).__name__}: {exc})") from exc
    blocks: list[str | Table] = []
    for item in document.iter_inner_content():
        if isinstance(item, Paragraph):
            text = join_lines(item.text)
            if text:
                blocks.append(text)
        else:
            table = _table(item)
            if table.rows:
                blocks.append(table)
    title = join_lines(document.core_properties.title) or None
    return Document(blocks=blocks, form="docx", title=title)


def _table(table: DocxTable) -> Table:
    rows: list[list[str]] = []
    for tr in table._tbl.tr_lst:
        cells = [join_lines(_Cell(tc, table).text) for tc in tr.tc_lst if tc.vMerge != "continue"]
        if cells:  # a row of blank cells stays: blank values are values
            rows.append(cells)
    return Table(rows=rows)
