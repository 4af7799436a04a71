"""Size, page, pixel and cell limits for reading documents, so one hostile or broken file cannot stall a crawl.

Attachments come from the open web: a 2 GB "PDF", a zip bomb named .xlsx, a 333-byte PDF whose one page is 3.5 m
wide, a spreadsheet with cells at A1 and XFD1048576, a DOC that sends a converter into a loop.  Every reader
checks its limits before the expensive step (decompressing, building a tree, rendering, OCR) and refuses input
over them with a ParseError (recorded, nothing lost: the bytes stay archived); every external converter runs with
a timeout.  Each limit is ~10x what a real annual report needs (the README's "Safety limits" table).  Time and
memory as a whole are bounded by the crawler's parse worker (crawler/parse_pool.py), not here: parsers stay pure.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
import zipfile
import zlib
from pathlib import Path

from parsers.report import ParseError

MAX_BYTES = 50 * 1024 * 1024  # the largest real annual reports (scans) are ~20 MB
MAX_TEXT_BYTES = 16 * 1024 * 1024  # HTML and plain text: report pages are 50-500 KB; a tree costs ~15x the bytes
MAX_UNZIPPED = 50 * 1024 * 1024  # an Office file (a zip) that inflates beyond this is a zip bomb, not a report
# XML tags in an Office file's parts: real reports have ~10,000; python-docx spends ~20 us and ~230 bytes on each
# element (3.5 million empty paragraphs, 20 MB of XML: 70 s and 816 MB)
MAX_XML_TAGS = 500_000
MAX_CELLS = 200_000  # spreadsheet cells (rows x columns of each sheet's used range, summed): reports fill ~5,000
MAX_PAGES = 200  # annual reports run 5-30 pages; more means this is not one
MAX_OCR_PAGES = 40  # a scan takes ~3-6 s a page to OCR; annual reports have 4-20 pages
MAX_PAGE_PIXELS = 20_000_000  # one page as OCR sees it (A4 at 200 DPI is 3.9 million); OCR needs ~15 bytes each
MAX_OCR_PIXELS = 160_000_000  # all pages of one scan together (~40 A4 pages)
MIN_OCR_DPI = 50  # a page shrunk to fit MAX_PAGE_PIXELS below this resolution would be unreadable: refused
MAX_IMAGE_PIXELS = 100_000_000  # an image file's pixels, from its header, before it is decoded
CONVERT_TIMEOUT = 120  # seconds for one external conversion (LibreOffice cold start is ~3-10 s)


def check_size(data: bytes | int, what: str, limit: int | None = None) -> None:
    """Refuse input (its bytes, or their number) over `limit` (default MAX_BYTES) bytes before any parser
    touches it."""
    limit = MAX_BYTES if limit is None else limit
    size = data if isinstance(data, int) else len(data)
    if size > limit:
        raise ParseError(f"{what} is {size / 1e6:.2f} MB, over the {limit / 1e6:g} MB limit")


def check_text_size(data: bytes, what: str) -> None:
    """Refuse an HTML page or text file over MAX_TEXT_BYTES before it is decoded or parsed."""
    check_size(data, what, MAX_TEXT_BYTES)


# What a damaged zip (DOCX, XLSX) raises while it is read: a bad directory, a corrupt deflate stream, a cut end.
DAMAGED_ZIP: tuple[type[Exception], ...] = (zipfile.BadZipFile, zlib.error, EOFError)


def check_unzipped(data: bytes, what: str) -> None:
    """Refuse a zip-based Office file (DOCX, XLSX) whose members add up to more than MAX_UNZIPPED bytes, or whose
    XML parts hold more than MAX_XML_TAGS tags: a zip bomb is small on the wire and fills memory once read, and
    millions of tiny elements cost far more than their bytes once a library builds objects for them.  The sizes
    are the zip's own; a member that lies about its size is stopped by zipfile, which reads no more than the
    stated size.  BadZipFile is the caller's."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = archive.infolist()
        unpacked = sum(info.file_size for info in members)
        if unpacked > MAX_UNZIPPED:
            raise ParseError(
                f"{what} unpacks to {unpacked >> 20} MB, over the {MAX_UNZIPPED >> 20} MB limit (a zip bomb?)")
        tags = sum(archive.read(info).count(b"<") for info in members if info.filename.endswith((".xml", ".rels")))
    if tags > MAX_XML_TAGS:
        raise ParseError(f"{what} has {tags:,} XML tags, over the {MAX_XML_TAGS:,} limit (a report has ~10,000)")


def refuse_encrypted_office(data: bytes) -> None:
    """A password-protected DOCX/XLSX is an OLE file holding an `EncryptedPackage` stream: say so plainly
    instead of letting a converter fail obscurely (or wait for a password)."""
    if "EncryptedPackage".encode("utf-16-le") in data[: 1 << 20]:
        raise ParseError("Office document is encrypted with a password")


def convert(data: bytes, suffix: str, command: list[str], output_suffix: str, what: str) -> bytes:
    """Run an external converter on `data` in a private temp dir, with a timeout; return the output file's bytes.

    `command` gets the input path appended and must write `<input stem><output_suffix>` into the temp dir
    (it runs with the temp dir as working directory and HOME, so LibreOffice keeps its profile there and
    concurrent conversions do not share one).
    """
    check_size(data, what)
    if shutil.which(command[0]) is None:
        raise ParseError(f"cannot read {what}: the converter {command[0]!r} is not installed")
    with tempfile.TemporaryDirectory(prefix="nianbao-") as tmp:
        source = Path(tmp) / f"input{suffix}"
        source.write_bytes(data)
        try:
            done = subprocess.run(
                [*command, str(source)],
                cwd=tmp,
                env={"HOME": tmp, "PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"},
                capture_output=True,
                timeout=CONVERT_TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise ParseError(f"{what}: {command[0]} gave no result within {CONVERT_TIMEOUT} s") from exc
        output = Path(tmp) / f"input{output_suffix}"
        if done.returncode != 0 or not output.exists():
            detail = (done.stderr or done.stdout).decode("utf-8", "replace").strip()[:200]
            raise ParseError(f"{what} could not be converted ({command[0]} exit {done.returncode}: {detail})")
        return output.read_bytes()
