"""Attachments that cannot be read give a clear ParseError, quickly: encrypted, damaged, too big, a hung
converter.  The form is told from the bytes, whatever the name says."""

import io
import time
import zipfile

import pytest

from parsers import limits, parse
from parsers.detect import sniff
from parsers.report import ParseError
from tests.gold import FIXTURES


def data(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@pytest.mark.parametrize(
    "name, form",
    [("seed-000.pdf", "pdf"), ("seed-000.scan.pdf", "pdf"), ("seed-000.docx", "docx"), ("seed-000.doc", "doc"),
     ("seed-001.xlsx", "xlsx"), ("seed-004.xls", "xls"), ("seed-000.page3.jpg", "image")],
)
def test_form_comes_from_the_bytes_not_the_name(name, form):
    assert sniff(data(name), source="attachment.bin", content_type="application/octet-stream") == form


def test_scanned_pdf_is_reported_as_a_scan_and_text_pdf_as_pdf():
    # the text PDF keeps its form; the scan's form is checked with its OCR in test_readers_ocr
    assert parse(data("seed-001.pdf"), source="x.doc").form == "pdf"


def test_encrypted_pdf():
    with pytest.raises(ParseError, match="encrypted with a password"):
        parse(data("encrypted.pdf"), source="encrypted.pdf")


@pytest.mark.parametrize("name", ["seed-000.pdf", "seed-000.docx", "seed-001.xlsx", "seed-004.xls", "seed-000.doc"])
def test_truncated_attachment_is_a_parse_error(name):
    whole = data(name)
    start = time.monotonic()
    with pytest.raises(ParseError) as caught:
        parse(whole[: len(whole) // 3], source=name)
    assert time.monotonic() - start < 60
    assert str(caught.value)  # a readable reason for the errors table


def test_damaged_image_is_a_parse_error():
    with pytest.raises(ParseError, match="image could not be decoded"):
        parse(data("seed-000.page3.jpg")[:300], source="page.jpg")


def test_input_over_the_size_limit_is_refused_before_parsing(monkeypatch):
    monkeypatch.setattr(limits, "MAX_BYTES", 10_000)
    for name in ("seed-000.pdf", "seed-000.doc", "seed-000.page3.jpg", "seed-000.docx", "seed-003.xlsx"):
        with pytest.raises(ParseError, match="MB, over the 0.01 MB limit"):
            parse(data(name), source=name)


def test_hung_converter_is_stopped_by_the_timeout(monkeypatch):
    monkeypatch.setattr(limits, "CONVERT_TIMEOUT", 1)
    start = time.monotonic()
    with pytest.raises(ParseError, match="no result within 1 s"):
        limits.convert(b"x", ".doc", ["python3", "-c", "import time; time.sleep(30)"], ".docx", "DOC document")
    assert time.monotonic() - start < 10


def test_converter_failure_is_a_parse_error_with_its_reason():
    with pytest.raises(ParseError, match="could not be converted"):
        limits.convert(b"x", ".doc", ["python3", "-c", "import sys; sys.exit('bad input')"], ".docx", "DOC")


@pytest.mark.parametrize("name, what", [("seed-000.docx", "DOCX"), ("seed-001.xlsx", "XLSX")])
def test_zip_based_files_over_the_unpacked_limit_are_refused_before_reading(monkeypatch, name, what):
    monkeypatch.setattr(limits, "MAX_UNZIPPED", 64 * 1024)  # the fixtures unpack to more than this
    with pytest.raises(ParseError, match=f"^{what} unpacks to .* over the .* limit"):
        parse(data(name), source=name)


@pytest.mark.parametrize("name", ["seed-000.docx", "seed-001.xlsx"])
def test_a_corrupt_deflate_stream_is_a_damaged_file_not_a_crash(name):
    body = bytearray(data(name))
    # Garble the middle of the largest member's compressed bytes; the zip directory stays intact.
    with zipfile.ZipFile(io.BytesIO(bytes(body))) as archive:
        member = max(archive.infolist(), key=lambda info: info.compress_size)
    start = member.header_offset + 30 + len(member.filename.encode()) + len(member.extra)
    middle = start + member.compress_size // 2
    body[middle:middle + 64] = bytes(range(64))
    with pytest.raises(ParseError, match="is damaged"):
        parse(bytes(body), source=name)
