"""Pure parsing: bytes of an annual report in, a `Report` out.  No I/O, no Scrapy, no database here.

from parsers import parse, ParseError
report = parse(data, source="http://…/content_922157.html", content_type="text/html")
report.to_dict()  # the JSON document of DESIGN.md
"""

from parsers.document import Document, Table
from parsers.report import ParseError, Report

__all__ = ["Document", "ParseError", "Report", "Table", "parse"]


def parse(data: bytes, source: str = "", content_type: str | None = None) -> Report:
    """Parse one document (HTML, text, PDF, DOC/DOCX/WPS, XLS/XLSX, image) into a Report.

    The form is detected from the bytes; `source` (a path or URL) and `content_type` are only hints.
    Raises ParseError with a readable reason when the bytes are not a readable document.
    """
    from parsers.pipeline import parse_bytes

    return parse_bytes(data, source=source, content_type=content_type)
