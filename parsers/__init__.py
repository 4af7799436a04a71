"""Pure parsing: bytes of an annual report in, a `Report` out.  No I/O, no Scrapy, no database here.

from parsers import parse, ParseError
report = parse(data, source="http://…/content_922157.html", content_type="text/html")
report.to_dict()  # the JSON document of DESIGN.md

page = load_html(data, content_type="text/html")  # an HTML page parsed once, for callers that read its tree
report = parse_html(page, source="http://…")       # too (the crawler: title, links); takes the tree
"""

from parsers.document import Document, Table
from parsers.html_reader import Page as HtmlPage
from parsers.html_reader import load as load_html
from parsers.report import ParseError, Report

__all__ = ["Document", "HtmlPage", "ParseError", "Report", "Table", "load_html", "parse", "parse_html"]


def parse(data: bytes, source: str = "", content_type: str | None = None) -> Report:
    """Parse one document (HTML, text, PDF, DOC/DOCX/WPS, XLS/XLSX, image) into a Report.

    The form is detected from the bytes; `source` (a path or URL) and `content_type` are only hints.
    Raises ParseError with a readable reason when the bytes are not a readable document.
    """
    from parsers.pipeline import parse_bytes

    return parse_bytes(data, source=source, content_type=content_type)


def parse_html(page: HtmlPage, source: str = "") -> Report:
    """Parse an HTML page already loaded with `load_html`: what `parse` does for HTML bytes, without parsing
    them again.  `page` is left as it was, so its tree can be read before or after."""
    from parsers.pipeline import parse_html as parse_page

    return parse_page(page, source=source)
