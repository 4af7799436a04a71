"""bytes -> form -> Document -> Report: the one path every input takes."""

from __future__ import annotations

import importlib
from collections.abc import Callable

from parsers import html_reader
from parsers.build import build_report
from parsers.detect import sniff
from parsers.document import Document
from parsers.html_reader import Page
from parsers.report import ParseError, Report

# form -> module with `read(data: bytes) -> Document`; imported lazily so heavy readers (OCR) cost nothing
# until a document needs them. HTML is read by html_reader, imported above: it is the one reader that takes the
# HTTP header's charset, and parse_html shares it.
READERS: dict[str, str] = {
    "text": "parsers.text_reader",
    "pdf": "parsers.pdf_reader",
    "docx": "parsers.docx_reader",
    "doc": "parsers.office_reader",
    "wps": "parsers.office_reader",
    "xls": "parsers.sheet_reader",
    "xlsx": "parsers.sheet_reader",
    "image": "parsers.ocr_reader",
}


def reader_for(form: str) -> Callable[[bytes], Document]:
    module = importlib.import_module(READERS[form])
    return module.read


def parse_bytes(data: bytes, source: str = "", content_type: str | None = None) -> Report:
    if not data or data.isspace():  # (not `data.strip()`: that copies the whole page to test it)
        raise ParseError("empty document")
    form = sniff(data, source, content_type)
    if form is None:
        raise ParseError("not a document nianbao can read (binary data of unknown type)")
    # HTML is the one form whose bytes the HTTP header's charset may describe (parsers.decode weighs it)
    document = html_reader.read(data, content_type) if form == "html" else reader_for(form)(data)
    if form == "wps":
        document.form = "wps"  # read through the Word reader, but say what the file was
    return build_report(document, source=source)


def parse_html(page: Page, source: str = "") -> Report:
    """The Report of an HTML page loaded with `parsers.html_reader.load` (its tree left as it was)."""
    return build_report(html_reader.read_page(page), source=source)
