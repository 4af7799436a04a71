"""Old binary Word (.doc) and WPS (.wps) attachments -> Document, via LibreOffice.

The binary format is converted to DOCX by LibreOffice headless (Debian: libreoffice-writer-nogui) and read by
the DOCX reader, so merged cells come out exactly as from a DOCX.  antiword/catdoc are ~200x faster (5 ms
against ~1.3 s a file) but flatten tables to `|`-separated text lines and lose which cells are merged, which is
what the mapper needs; WPS Office files (Word-compatible streams) open in LibreOffice too.  Measured in
bench/README.md.  The conversion runs under the size and time limits of parsers.limits.
"""

from __future__ import annotations

from parsers import docx_reader
from parsers.document import Document
from parsers.limits import convert, refuse_encrypted_office

_SOFFICE = ["soffice", "--headless", "--norestore", "--nolockcheck", "--convert-to", "docx:MS Word 2007 XML"]


def read(data: bytes) -> Document:
    refuse_encrypted_office(data)
    converted = convert(data, ".doc", _SOFFICE, ".docx", "DOC/WPS document")
    document = docx_reader.read(converted)
    document.form = "wps" if b"WPS Office" in data or b"Kingsoft" in data else "doc"
    return document
