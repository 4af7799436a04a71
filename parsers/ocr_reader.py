"""Scanned PDFs and images -> Document, by OCR (rapidocr-onnxruntime; its Chinese models ship in the wheel).

Scans of annual reports are printed tables, photographed or scanned slightly rotated and speckled.  Reading
the whole page with a text detector and then guessing columns from box positions mixes up cells merged over
several rows and glues specks onto digits, so the table grid is taken from the ruling lines instead:

1. render the page (pypdfium2, 200 DPI, less for a page too large for MAX_PAGE_PIXELS), grey, whiten specks;
2. deskew by the angle of the long horizontal rules (Hough);
3. find the rules with long thin morphological openings; the enclosed regions are the cells, each merged
   cell once, rows by the cells' top edges — the same shape as an HTML table without rowspan repetition;
4. cut each cell into text lines by its ink profile and recognise each line (recognition only, batched);
   text outside the tables is cut into lines the same way;
5. parsers.page_layout joins pages: tables and rows split by page breaks, wrapped paragraphs.

Every cell read with less than `CONFIDENT` confidence, or whose text had to be cleaned to read as a number,
goes into `Table.uncertain` with the score, so a value the OCR may have got wrong is always flagged.
"""

from __future__ import annotations

import functools
import io
import math
import re
import warnings
from dataclasses import dataclass

import cv2
import numpy as np
import pypdfium2 as pdfium
from PIL import Image, UnidentifiedImageError

from parsers import limits
from parsers.cell_text import join_lines
from parsers.document import Document
from parsers.limits import check_size
from parsers.page_layout import Cell, Grid, Line, assemble
from parsers.report import ParseError

DPI = 200
CONFIDENT = 0.9  # recognition score below which a cell is flagged (correct digits score 0.95-1.0 here)
_A4_WIDTH = round(8.27 * DPI)  # pixels across an A4 page at DPI
# cv2.imdecode's flag that decodes at 1/n size
_REDUCED = {1: cv2.IMREAD_GRAYSCALE, 2: cv2.IMREAD_REDUCED_GRAYSCALE_2, 4: cv2.IMREAD_REDUCED_GRAYSCALE_4,
            8: cv2.IMREAD_REDUCED_GRAYSCALE_8}

_SPECK_AREA = 8  # pixels at 200 DPI; a full stop is ~15
_NUMBER_NOISE = re.compile(r"^[\s.:;,'`°·_]*([-+]?\d+(?:[.,]\d+)?)[\s.:;,'`°·_]*$")


@dataclass
class _Box:
    x0: int
    y0: int
    x1: int
    y1: int
    irregular: bool = False  # a cell region that is no rectangle: a rule is missing, two cells ran together


def read(data: bytes) -> Document:
    """An image file (PNG, JPEG, TIFF, …) holding a report page."""
    check_size(data, "image")
    page = _decode_image(data)
    return Document(blocks=assemble(_read_page(page)), form="image")


def read_pdf(data: bytes) -> Document:
    """A PDF without a text layer: every page rendered and read."""
    check_size(data, "scanned PDF")
    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise ParseError(f"scanned PDF could not be opened ({exc})") from exc
    try:
        scales = _render_scales(pdf)
        stream: list[Line | Grid | None] = []
        for index, scale in enumerate(scales):
            bitmap = pdf[index].render(scale=scale, grayscale=True)
            stream.extend(_read_page(bitmap.to_numpy().copy()))
            stream.append(None)  # page break
    finally:
        pdf.close()
    return Document(blocks=assemble(stream), form="scan")


def _render_scales(pdf: pdfium.PdfDocument) -> list[float]:
    """Each page's render scale (pixels per point), every page checked before any is rendered: DPI, or less for
    a page that would be over MAX_PAGE_PIXELS (scanners that place a 300-DPI image at 72 DPI make pages four
    times too large); a page that would have to shrink below MIN_OCR_DPI, too many pages or too many pixels in
    all are refused.  Rendering and OCR cost ~15 bytes of memory a pixel: a 10000 x 10000 pt page at 200 DPI
    is 770 million pixels."""
    if len(pdf) > limits.MAX_OCR_PAGES:
        raise ParseError(f"scanned PDF has {len(pdf)} pages, over the {limits.MAX_OCR_PAGES}-page OCR limit")
    scales: list[float] = []
    pixels = 0.0
    for index in range(len(pdf)):
        width, height = (abs(side) for side in pdf[index].get_size())
        area = max(width * height, 1.0)
        scale = min(DPI / 72, math.sqrt(limits.MAX_PAGE_PIXELS / area))
        if scale * 72 < limits.MIN_OCR_DPI:
            raise ParseError(f"scanned PDF page {index + 1} is {width:.0f} x {height:.0f} pt "
                             f"({width / 72 * 2.54:.0f} x {height / 72 * 2.54:.0f} cm), too large to OCR")
        scales.append(scale)
        pixels += area * scale * scale
    if pixels > limits.MAX_OCR_PIXELS:
        raise ParseError(f"scanned PDF renders to {pixels / 1e6:.0f} million pixels, over the "
                         f"{limits.MAX_OCR_PIXELS / 1e6:g} million OCR limit")
    return scales


def _decode_image(data: bytes) -> np.ndarray:
    """The image in grey, its size checked from the header before it is decoded: over MAX_IMAGE_PIXELS refused,
    over MAX_PAGE_PIXELS decoded at 1/2, 1/4 or 1/8 size; a small image is enlarged towards A4 at 200 DPI (the
    glyph size read best) as far as MAX_PAGE_PIXELS allows."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # the limit is checked below
            with Image.open(io.BytesIO(data)) as image:  # reads the header only
                width, height = image.size
    except Image.DecompressionBombError as exc:  # Pillow's own limit, twice its MAX_IMAGE_PIXELS
        raise ParseError(f"image is over the {limits.MAX_IMAGE_PIXELS / 1e6:g} million pixel limit ({exc})") from exc
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise ParseError(f"image could not be decoded (damaged or unsupported format: {exc})"[:300]) from exc
    if width * height > limits.MAX_IMAGE_PIXELS:
        raise ParseError(f"image is {width} x {height} pixels, over the "
                         f"{limits.MAX_IMAGE_PIXELS / 1e6:g} million pixel limit")
    reduce = next((r for r in (1, 2, 4) if width * height <= limits.MAX_PAGE_PIXELS * r * r), 8)
    gray = cv2.imdecode(np.frombuffer(data, np.uint8), _REDUCED[reduce])
    if gray is None:
        raise ParseError("image could not be decoded (damaged or unsupported format)")
    factor = min(_A4_WIDTH / gray.shape[1], math.sqrt(limits.MAX_PAGE_PIXELS / gray.size))
    if factor > 1:  # phone photos and 150-DPI scans: bring glyphs up to the size read best
        gray = cv2.resize(gray, None, fx=factor, fy=factor, interpolation=cv2.INTER_CUBIC)
    return gray


@functools.cache
def _engine():  # noqa: ANN202 - rapidocr has no type hints
    from rapidocr_onnxruntime import RapidOCR

    return RapidOCR()


def _read_page(gray: np.ndarray) -> list[Line | Grid]:
    """One page's tables and text lines outside them, top to bottom, in points."""
    if gray.ndim == 3:
        gray = gray[:, :, 0]
    gray = _deskew(gray)
    ink = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)[1]
    gray, ink = _despeckle(gray, ink)
    rules = _rules(ink)
    tables = _tables(rules)
    text_ink = ink.copy()
    for t in tables:
        text_ink[t.y0:t.y1, t.x0:t.x1] = 0
    cell_rows = [_cell_rows(rules, t) for t in tables]
    cells = [cell for rows in cell_rows for row in rows for cell in row]
    lines = _lines(text_ink, _Box(0, 0, gray.shape[1], gray.shape[0]), shrink=0)
    # Recognise every piece of text on the page in one batch: table cells, then lines outside tables.
    pieces = [(i, piece) for i, cell in enumerate(cells) for piece in _lines(ink, cell, shrink=5)]
    crops = [_crop(gray, piece) for _, piece in pieces] + [_crop(gray, line) for line in lines]
    results = [(text, float(score)) for text, score in _engine().text_rec(crops)[0]] if crops else []
    read_cells: dict[int, list[tuple[str, float]]] = {}
    for (i, _), result in zip(pieces, results[:len(pieces)], strict=True):
        read_cells.setdefault(i, []).append(result)
    items: list[tuple[float, Line | Grid]] = []
    texts = iter(read_cells.get(i, []) for i in range(len(cells)))
    for table, rows in zip(tables, cell_rows, strict=True):
        grid_rows = [[_cell(box, next(texts)) for box in row] for row in rows]
        _doubt_rows_of_irregular_cells(rows, grid_rows)
        inner = [c for row in grid_rows for c in row]  # bounds of the cells, not of the (thick) rules
        if inner:
            grid = Grid(grid_rows, min(c.x0 for c in inner), max(c.x1 for c in inner),
                        min(c.top for c in inner), max(c.bottom for c in inner))
            items.append((table.y0, grid))
    if lines:
        left, right = _pt(min(line.x0 for line in lines)), _pt(max(line.x1 for line in lines))
    for line, (text, _) in zip(lines, results[len(pieces):], strict=True):
        if text.strip():
            items.append((line.y0, Line(text, _pt(line.x0), _pt(line.x1), left, right, _pt(line.y1 - line.y0))))
    items.sort(key=lambda item: item[0])
    return [item for _, item in items]


def _doubt_rows_of_irregular_cells(boxes: list[list[_Box]], cells: list[list[Cell]]) -> None:
    """Where a rule is lost in the scan, two cells read as one L-shaped region and the rows beside it lose
    their alignment (a label ends up in the wrong row).  Every cell level with such a region is doubted, so
    the values taken from those rows are flagged instead of trusted."""
    for bad in (b for row in boxes for b in row if b.irregular):
        for box_row, cell_row in zip(boxes, cells, strict=True):
            for box, cell in zip(box_row, cell_row, strict=True):
                if box.y0 < bad.y1 and bad.y0 < box.y1 and not cell.uncertain:
                    cell.uncertain = "OCR: a table rule is missing in the scan here; cells may have run together"


def _pt(pixels: float) -> float:
    return float(pixels) * 72 / DPI


def _cell(box: _Box, pieces: list[tuple[str, float]]) -> Cell:
    """A table cell's text from its recognised pieces, with the reason to doubt it, if any."""
    raw = join_lines(" ".join(text for text, _ in pieces))
    text, cleaned = _clean_number(raw)
    score = min((s for _, s in pieces), default=1.0)
    doubt = None
    if score < CONFIDENT:
        doubt = f"OCR confidence {score:.2f} for {raw!r}"
    elif len(pieces) > 1 and all(_NUMBER_NOISE.match(t) for t, _ in pieces):
        doubt = f"OCR found several numbers in one cell: {raw!r}"
    elif cleaned:
        doubt = f"OCR read {raw!r}, taken as {text!r}"
    return Cell(text, _pt(box.x0), _pt(box.x1), _pt(box.y0), _pt(box.y1), doubt)


def _deskew(gray: np.ndarray) -> np.ndarray:
    """Rotate the page so its long horizontal rules are level (scans are off by a degree or two).

    The rules are found like in `_rules` (thickened first, so a tilted one-pixel rule stays one run); each
    long one's slope is fitted to its pixels and the length-weighted median taken.
    """
    ink = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)[1]
    w = gray.shape[1]
    horizontal = cv2.morphologyEx(cv2.dilate(ink, _rect((1, 5))), cv2.MORPH_OPEN, _rect((w // 30, 1)))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(horizontal)
    slopes: list[tuple[float, int]] = []
    for k in range(1, count):
        if stats[k, cv2.CC_STAT_WIDTH] > w // 4 and stats[k, cv2.CC_STAT_HEIGHT] < w // 30:
            ys, xs = np.nonzero(labels == k)
            slopes.append((float(np.polyfit(xs, ys, 1)[0]), int(stats[k, cv2.CC_STAT_WIDTH])))
    if not slopes:
        return gray
    slopes.sort()
    weights = np.cumsum([length for _, length in slopes])
    slope = slopes[int(np.searchsorted(weights, weights[-1] / 2))][0]
    angle = float(np.degrees(np.arctan(slope)))
    if abs(angle) < 0.02 or abs(angle) > 5:
        return gray
    h = gray.shape[0]
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    return cv2.warpAffine(gray, matrix, (w, h), flags=cv2.INTER_LINEAR, borderValue=255)


def _despeckle(gray: np.ndarray, ink: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Whiten isolated specks of a few pixels (scanner noise).  Not a median filter: that would also erase
    the one-pixel table rules."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    specks = np.flatnonzero(stats[:, cv2.CC_STAT_AREA] <= _SPECK_AREA)
    specks = specks[specks != 0]
    mask = np.isin(labels, specks)
    gray = gray.copy()
    gray[mask] = 255
    ink = ink.copy()
    ink[mask] = 0
    return gray, ink


def _rules(ink: np.ndarray) -> np.ndarray:
    """The table rules: long horizontal and vertical runs of ink, longer than any glyph stroke.

    A one-pixel rule left slightly tilted steps from one pixel row to the next, so the ink is first thickened
    across the rule's direction (and gaps of a few pixels along it bridged).  A vertical rule that fades out
    short of a long horizontal one (a faint scan) is extended to it, within `h // 60` pixels (~5 mm: less than
    any row height); otherwise the broken rule would merge two cells.
    """
    h, w = ink.shape
    horizontal, vertical = (
        cv2.morphologyEx(cv2.dilate(ink, _rect(thicken)), cv2.MORPH_OPEN, _rect(length))
        for thicken, length in (((5, 3), (w // 20, 1)), ((3, 5), (1, h // 45)))
    )
    gap = h // 60
    # Only long horizontal rules are targets: short runs may be glyph strokes of a line next to the table.
    long_rules = cv2.morphologyEx(horizontal, cv2.MORPH_OPEN, _rect((w // 4, 1)))
    bridged = cv2.morphologyEx(cv2.bitwise_or(long_rules, vertical), cv2.MORPH_CLOSE, _rect((1, gap)))
    vertical = cv2.bitwise_and(bridged, cv2.dilate(vertical, _rect((1, 2 * gap + 1))))
    return cv2.dilate(cv2.bitwise_or(horizontal, vertical), _rect((5, 5)))  # closes pixel-sized breaks


def _rect(size: tuple[int, int]) -> np.ndarray:
    return cv2.getStructuringElement(cv2.MORPH_RECT, size)


def _tables(rules: np.ndarray) -> list[_Box]:
    count, _, stats, _ = cv2.connectedComponentsWithStats(rules)
    h, w = rules.shape
    return [_Box(x, y, x + bw, y + bh) for x, y, bw, bh, _ in stats[1:count]
            if bw > w // 4 and bh > 40]


def _cell_rows(rules: np.ndarray, table: _Box) -> list[list[_Box]]:
    """The regions enclosed by the rules inside one table, as rows (by top edge) of cells (by x)."""
    region = cv2.bitwise_not(rules[table.y0:table.y1, table.x0:table.x1])
    cv2.rectangle(region, (0, 0), (region.shape[1] - 1, region.shape[0] - 1), 0, 3)  # close a broken frame
    count, _, stats, _ = cv2.connectedComponentsWithStats(region, connectivity=4)
    cells = [
        _Box(table.x0 + x, table.y0 + y, table.x0 + x + bw, table.y0 + y + bh, area < 0.9 * bw * bh)
        for x, y, bw, bh, area in stats[1:count]
        if bw > 12 and bh > 12
    ]
    cells.sort(key=lambda c: (c.y0, c.x0))
    # Cells of one row share its top rule; rows are far taller than any tilt left after deskewing.
    tolerance = max(8, min((c.y1 - c.y0 for c in cells), default=0) // 3)
    rows: list[list[_Box]] = []
    for cell in cells:
        if rows and abs(cell.y0 - rows[-1][0].y0) <= tolerance:
            rows[-1].append(cell)
        else:
            rows.append([cell])
    return [sorted(row, key=lambda c: c.x0) for row in rows]


def _lines(ink: np.ndarray, box: _Box, shrink: int) -> list[_Box]:
    """Text pieces inside `box`: lines cut where a whole pixel row is free of ink, then cut again at wide
    blank gaps; specks are ignored."""
    x0, y0, x1, y1 = box.x0 + shrink, box.y0 + shrink, box.x1 - shrink, box.y1 - shrink
    if x1 - x0 < 4 or y1 - y0 < 4:
        return []
    area = ink[y0:y1, x0:x1].copy()
    # A rule the scan kept too faint to find still leaves a thin stroke down the whole box: not text.
    area[:, (area > 0).sum(axis=0) > 0.7 * area.shape[0]] = 0
    rows = np.flatnonzero(area.sum(axis=1) >= 2 * 255)
    if rows.size == 0:
        return []
    breaks = np.flatnonzero(np.diff(rows) > 3)
    bands = _join_glyph_halves(area, list(zip(np.r_[rows[0], rows[breaks + 1]], np.r_[rows[breaks], rows[-1]],
                                              strict=True)))
    lines: list[_Box] = []
    for top, bottom in bands:
        columns = np.flatnonzero(area[top:bottom + 1].sum(axis=0) > 0)
        if bottom - top < 6 or columns.size == 0 or area[top:bottom + 1].sum() < 30 * 255:
            continue
        # Two values in one cell (a rule the scan lost) stay two pieces: "0 0", never "00".
        gaps = np.flatnonzero(np.diff(columns) > 1.5 * (bottom - top))
        starts = np.r_[columns[0], columns[gaps + 1]]
        ends = np.r_[columns[gaps], columns[-1]]
        lines.extend(_Box(x0 + int(a), y0 + int(top), x0 + int(b) + 1, y0 + int(bottom) + 1)
                     for a, b in zip(starts, ends, strict=True))
    return lines


def _join_glyph_halves(area: np.ndarray, bands: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """A line of one or two large characters (the end of a wrapped title: 告) has blank pixel rows inside its
    glyphs; two short bands close together are such halves, not two lines."""
    out: list[tuple[int, int]] = []
    for top, bottom in bands:
        if out:
            prev_top, prev_bottom = out[-1]
            height = max(bottom - top, prev_bottom - prev_top)
            narrow = all(_ink_width(area[a:b + 1]) < 2.5 * height for a, b in ((prev_top, prev_bottom), (top, bottom)))
            if narrow and top - prev_bottom < 0.5 * height:
                out[-1] = (prev_top, bottom)
                continue
        out.append((top, bottom))
    return out


def _ink_width(band: np.ndarray) -> int:
    columns = np.flatnonzero(band.sum(axis=0) > 0)
    return int(columns[-1] - columns[0] + 1) if columns.size else 0


def _crop(gray: np.ndarray, line: _Box, pad: int = 6) -> np.ndarray:
    h, w = gray.shape
    crop = gray[max(0, line.y0 - pad):min(h, line.y1 + pad), max(0, line.x0 - pad):min(w, line.x1 + pad)]
    return cv2.cvtColor(crop, cv2.COLOR_GRAY2BGR)


def _clean_number(text: str) -> tuple[str, bool]:
    """Specks read as punctuation next to a digit (`0.`, `:0`, `0°`) are dropped; says whether it did."""
    m = _NUMBER_NOISE.match(text)
    if m and m.group(1) != text:
        return m.group(1), True
    return text, False
