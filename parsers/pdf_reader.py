"""PDF attachments -> Document: tables from the page's ruling lines (pdfplumber), paragraphs around them.

Reports are exported from Word or WPS, so their tables are drawn with lines and pdfplumber recovers the cells,
merged cells included (given once), with their boxes; labels wrapped inside a cell are joined back up.
parsers.page_layout then mends what the page breaks cut (tables and rows split over pages, repeated headers,
paragraphs).  A PDF without a text layer (a scan) is handed to the OCR reader.
"""

from __future__ import annotations

import io
import re
from typing import Any

import pdfplumber
from pdfminer.pdfdocument import PDFPasswordIncorrect

from parsers.cell_text import join_lines
from parsers.document import Document
from parsers.limits import MAX_PAGES, check_size
from parsers.page_layout import Cell, Grid, Line, assemble
from parsers.report import ParseError

_MIN_CHARS_PER_PAGE = 20  # fewer text-layer characters than this on average: a scan
_PAGE_NUMBER = re.compile(r"^[-—–\s]*(第\s*)?\d+(\s*页)?(\s*[/／]\s*\d+)?(\s*(共\s*)?\d+\s*页)?[-—–\s]*$")


def read(data: bytes) -> Document:
    check_size(data, "PDF")
    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            if len(pdf.pages) > MAX_PAGES:
                raise ParseError(f"PDF has {len(pdf.pages)} pages, over the {MAX_PAGES}-page limit")
            chars = sum(len(page.chars) for page in pdf.pages)
            scan = chars < _MIN_CHARS_PER_PAGE * max(1, len(pdf.pages))
            if not scan:
                title = _title(pdf.metadata)
                stream: list[Line | Grid | None] = []
                for page in pdf.pages:
                    stream.extend(_page_items(page))
                    stream.append(None)  # page break
    except ParseError:
        raise
    except PDFPasswordIncorrect as exc:
        raise ParseError("PDF is encrypted with a password") from exc
    except Exception as exc:  # pdfminer raises many types on damaged files; all mean "cannot read"
        if "password" in repr(exc).lower() or isinstance(exc.__cause__, PDFPasswordIncorrect):
            raise ParseError("PDF is encrypted with a password") from exc
        raise ParseError(f"PDF is damaged or not a PDF ({type(exc).__name__}: {exc})"[:300]) from exc
    if scan:  # OCR outside the handler above: its failures (out of memory) are no damaged PDF
        from parsers import ocr_reader

        return ocr_reader.read_pdf(data)
    return Document(blocks=assemble(stream), form="pdf", title=title)


def _title(metadata: dict[str, Any]) -> str | None:
    """The PDF's Title field when it is a real title (Word writes one), not a file name."""
    title = metadata.get("Title")
    if isinstance(title, bytes):
        title = title.decode("utf-16" if title.startswith(b"\xfe\xff") else "utf-8", "replace")
    if not isinstance(title, str):
        return None
    title = re.sub(r"^Microsoft Word - |\.(docx?|wps|pdf)$", "", title.strip(), flags=re.I)
    return title if re.search(r"[\u4e00-\u9fff]", title) else None


def _page_items(page: Any) -> list[Line | Grid]:
    """The page's tables and text lines outside them, top to bottom."""
    tables = page.find_tables(_table_settings(page))
    boxes = [t.bbox for t in tables]
    items: list[tuple[float, Line | Grid]] = [(t.bbox[1], _grid(t)) for t in tables]
    lines = page.extract_text_lines(return_chars=True)
    if lines:
        left = min(line["x0"] for line in lines)
        right = max(line["x1"] for line in lines)
    for line in lines:
        middle = (line["top"] + line["bottom"]) / 2
        if any(x0 <= line["x0"] + 1 and line["x1"] - 1 <= x1 and top <= middle <= bottom
               for x0, top, x1, bottom in boxes):
            continue
        text = line["text"].strip()
        at_edge = line["top"] < page.height * 0.08 or line["bottom"] > page.height * 0.92
        if not text or at_edge and _PAGE_NUMBER.match(text):
            continue
        size = sorted(c["size"] for c in line["chars"])[len(line["chars"]) // 2]
        items.append((line["top"], Line(text, line["x0"], line["x1"], left, right, size)))
    items.sort(key=lambda item: item[0])
    return [item for _, item in items]


def _table_settings(page: Any) -> dict[str, Any]:
    """Wide tables in WPS/Word exports often run past the page's right edge, so their last column has no
    right border on the page; the page edge stands in for it."""
    if any(edge["x1"] >= page.width - 1 for edge in page.horizontal_edges):
        return {"explicit_vertical_lines": [page.width - 0.5]}
    return {}


def _grid(table: Any) -> Grid:
    cells: list[list[Cell]] = []
    for row, texts in zip(table.rows, table.extract(), strict=True):
        cells.append([
            Cell(join_lines(text), box[0], box[2], box[1], box[3])
            for box, text in zip(row.cells, texts, strict=True)
            if box is not None
        ])
    x0, top, x1, bottom = table.bbox
    return Grid(cells, x0, x1, top, bottom)
