"""HTML report pages (portal articles, Word-pasted HTML) -> Document.

Gov-site pages wrap the report in navigation, footers and sometimes layout tables; the report itself is the
part around its data tables and its 一、总体情况 heading.  Tables nested inside other tables are data; the
outer ones are layout and are walked through, not read as data.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from copy import deepcopy
from functools import lru_cache
from itertools import chain, islice
from typing import NamedTuple

from lxml import etree

from parsers.decode import html_utf8
from parsers.document import Document, Table
from parsers.limits import check_text_size
from parsers.report import ParseError

# Elements that start and end a paragraph; so do tables (data ones are read as tables, layout ones are blocks).
_BLOCK_TAGS = (
    "p",
    "div",
    "br",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "li",
    "ul",
    "ol",
    "section",
    "article",
    "tr",
    "blockquote",
    "pre",
    "center",
    "dd",
    "dt",
    "hr",
)
_DROP_TAGS = ("script", "style", "noscript", "template", "iframe", "object", "select", "button")
_HEADING_TAGS = ("p", "div", "h1", "h2", "h3", "h4", "span", "strong", "b", "td")
_TITLE = etree.XPath("//title/text()")
# The first such text node; libxml2 stops at it only when [1] is the step's own predicate (as "(//body//text()
# [...])[1]" it collects every text node first: ~0.2 ms a page, a quarter of a bare parse).  libxml2's HTML
# parser makes one <body>, a child of the <html> root (it drops a misplaced second <body> tag), so this is
# the same node as the first of //body//text()[...].
_DATELINE = etree.XPath("/html/body/descendant::text()[contains(., '发布时间') or contains(., '发布日期')][1]")
# Layout tables (the ones holding other tables) are renamed to this for the stylesheet; the HTML parser makes no
# namespaced elements, so no page element can have this name.
_LAYOUT_TABLE = "{urn:nianbao}layout-table"
_PRIVATE_USE = (range(0xE000, 0xF900), range(0xF0000, 0xFFFFE), range(0x100000, 0x10FFFE))
# UTF-8 bytes in: from a str lxml hands libxml2 UTF-16, which it converts back to UTF-8 first
PARSER = etree.HTMLParser(remove_comments=True, remove_pis=True, encoding="utf-8", collect_ids=False)
# A numeric character reference that could make one of the first three private-use characters (U+E000-U+E002,
# decimal 57344-57346; with or without the semicolon): only then is the page text not the page bytes' to check.
_FIRST_MARKER_REFERENCE = re.compile(rb"&#(?:[xX]0*[eE]00[0-2](?![0-9a-fA-F])|0*5734[4-6](?!\d))")
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
# The ASCII characters `\s` matches: a page whose first other byte is ASCII can have the declaration only there.
_LEADING_ASCII_SPACE = re.compile(b"[%s]*" % re.escape(bytes(c for c in range(128) if re.match(r"\s", chr(c)))))
_PUBLISHED_WORD, _PUBLISHED_TIME, _PUBLISHED_DATE = (w.encode() for w in ("发布", "发布时间", "发布日期"))
_META_NAMES = ("ArticleTitle", "PubDate", "ContentSource", "SiteName", "ColumnName", "Keywords", "Author")


class Page(NamedTuple):
    """An HTML page parsed once: its bytes in UTF-8 and its tree.  The crawler reads a report page's title and
    links off the tree and then hands the page to `read_page` (through `parsers.parse_html`), instead of
    parsing it twice.  Reading strips elements from the tree, so it comes last."""

    utf8: bytes
    root: etree._Element


def load(data: bytes, content_type: str | None = None) -> Page:
    """Decode (parsers.decode) and parse a page; ParseError when it has no HTML content at all, is over
    MAX_TEXT_BYTES, or is nested deeper than libxml2 reads."""
    check_text_size(data, "HTML page")
    page = html_utf8(data, content_type)
    if _may_start_with_xml_declaration(page):
        page = _XML_DECLARATION.sub("", page.decode("utf-8"), count=1).encode("utf-8")
    try:
        # plain etree elements: lxml.html's per-element class lookup costs more than the parse itself
        root = etree.fromstring(page, PARSER)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError) as exc:
        raise ParseError(f"HTML could not be parsed: {exc}") from exc
    _refuse_cut_short(PARSER.error_log)
    if root is None:
        raise ParseError("HTML page has no content")
    return Page(page, root)


def _refuse_cut_short(errors: etree._ListErrorLog) -> None:
    """libxml2 stops reading a page at a resource limit (elements nested over 255 deep, a text node over 10 MB)
    and, recovering, hands back the part before it as if that were the page: the report's text would be lost
    without a word.  Such a page is refused instead; no real report page comes near these limits."""
    for error in errors:
        if error.type_name == "ERR_RESOURCE_LIMIT":
            detail = "elements nested more than 255 deep" if "depth" in error.message else error.message.strip()
            raise ParseError(f"HTML page could not be read to its end ({detail}: libxml2 stops at line "
                             f"{error.line}, column {error.column})")


def read(data: bytes, content_type: str | None = None) -> Document:
    return read_page(load(data, content_type))


def read_page(page: Page) -> Document:
    """The Document of a loaded page. The page's tree is left as it was: scripts, styles and comments are stripped
    from a copy (~0.4 ms a page, nothing at a polite crawl's pace), so callers may read the tree before or after."""
    root = page.root
    found = _Landmarks(root)
    if found.dropped:
        root = deepcopy(root)
        found = _Landmarks(root)
        etree.strip_elements(root, *_DROP_TAGS, etree.Comment, with_tail=False)
    meta = _page_meta(found.metas)
    title = _page_title(root, meta, found.headings)
    if _PUBLISHED_WORD in page.utf8 and (_PUBLISHED_TIME in page.utf8 or _PUBLISHED_DATE in page.utf8):
        dateline = _dateline(root)
        if dateline:
            meta["Dateline"] = dateline
    body = next(root.iterchildren("body"), root)
    content = _content_root(body, _data_tables(found.tables_in(body)))
    return Document(blocks=_blocks(content, page.utf8), form="html", title=title, meta=meta)


def _may_start_with_xml_declaration(page: bytes) -> bool:
    r"""Whether `_XML_DECLARATION` can match the UTF-8 `page`, without searching all of it for "<?xml" (~2 % of
    a parse): after leading ASCII whitespace, an ASCII byte is a character `\s` does not match, so the
    declaration must start right there; a non-ASCII byte may be Unicode whitespace (U+3000, U+00A0), so then
    the page is searched as before."""
    at = _LEADING_ASCII_SPACE.match(page).end()
    head = page[at : at + 5]
    return head == b"<?xml" or (head[:1] >= b"\x80" and b"<?xml" in page)


class _Landmarks:
    """What the reader looks for in a page, from one walk of its tree (one walk each took ~5 % of a parse): its
    <meta> elements, <h1>-<h3> headings and tables in document order, and whether it has any element to drop."""

    def __init__(self, root: etree._Element) -> None:
        self.root = root
        self.metas: list[etree._Element] = []
        self.headings: dict[str, list[etree._Element]] = {"h1": [], "h2": [], "h3": []}
        self.tables: list[etree._Element] = []
        self.dropped = False
        for el in root.iter("meta", "h1", "h2", "h3", "table", *_DROP_TAGS, etree.Comment):
            tag = el.tag
            if tag == "meta":
                self.metas.append(el)
            elif tag == "table":
                self.tables.append(el)
            elif tag in self.headings:
                self.headings[tag].append(el)
            else:
                self.dropped = True

    def tables_in(self, body: etree._Element) -> list[etree._Element]:
        """The tables under `body` (the root or its <body>) in document order, once dropped elements are gone."""
        if self.dropped:  # some tables seen may have gone with a dropped element: look again
            return list(body.iter("table"))
        if body is self.root:
            return self.tables
        return [table for table in self.tables if body in table.iterancestors()]


def _page_meta(metas: list[etree._Element]) -> dict[str, str]:
    meta: dict[str, str] = {}
    for el in metas:
        name = el.get("name") or el.get("property")
        if name in _META_NAMES and el.get("content"):
            meta[name] = el.get("content").strip()
    return meta


def _page_title(
    root: etree._Element, meta: dict[str, str], headings: dict[str, list[etree._Element]]
) -> str | None:
    """The report's own title: ArticleTitle meta, else an <h1>-<h3> naming a report, else <title>."""
    if meta.get("ArticleTitle"):
        return meta["ArticleTitle"]
    for tag in ("h1", "h2", "h3"):
        for el in headings[tag]:
            # its string value, as XPath string() has it, without an XPath context set up per heading
            heading = _clean(etree.tostring(el, method="text", encoding=str, with_tail=False))
            if "报告" in heading or "年报" in heading:
                return heading
    titles = _TITLE(root)
    return _clean(titles[0]) if titles else None


def _dateline(root: etree._Element) -> str | None:
    """The page's '发布时间：…' line, which CMS templates put outside the article body."""
    found = _DATELINE(root)
    return _clean(found[0])[:80] if found else None


def _data_tables(tables: list[etree._Element]) -> list[etree._Element]:
    """The tables (all of <body>'s, in document order) holding no other table: data.  The ones around them
    (layout) are renamed `_LAYOUT_TABLE`, so the stylesheet tells the two apart by name instead of searching
    every table's cells."""
    layout = {outer for table in tables for outer in table.iterancestors("table")}
    for table in layout:
        table.tag = _LAYOUT_TABLE
    return [table for table in tables if table not in layout]


def _content_root(body: etree._Element, data_tables: list[etree._Element]) -> etree._Element:
    """The smallest element holding the report: the common ancestor of its data tables and its first heading.

    Falls back to <body> when the page has no data tables (text-only reports, attachment pages).
    """
    anchors = list(data_tables)
    for el in body.iter(*_HEADING_TAGS):  # document order; usually stops within the first few paragraphs
        if "总体情况" in (el.text or ""):
            anchors.append(el)
            break
    if len(anchors) < 2:
        return body
    common = set(anchors[0].iterancestors())
    for el in anchors[1:]:
        common &= set(el.iterancestors())
    for ancestor in anchors[0].iterancestors():
        if ancestor in common:
            return ancestor
    return body


def _blocks(content: etree._Element, page: bytes) -> list[str | Table]:
    """Paragraphs and data tables of `content` in reading order, from one XSLT pass over it.

    Reading ~270 cells one `string()` call at a time cost almost as much as parsing the page; the stylesheet
    walks the tree in C and writes its text with a marker at every block boundary, row and cell.  The markers
    are characters the content's own text does not contain, so no text can be taken for a boundary: the text
    holds only characters written out in the page (the UTF-8 `page`) or made by a numeric character reference
    (no named one makes a private-use character), so without "&#" in the page, the page is checked instead of
    the text; so is it when no reference in it can make one of the first three markers and no character of the
    page bytes is one (`markers_absent_from` then takes those three without searching).  As in a walk that
    starts a paragraph at each block boundary, text after the last boundary of a non-block content root (text
    left at the end of <body>) is not a paragraph.
    """
    # (a one-byte `in` is a memchr; a two-byte one like b"&#" scans the page at a third of the XSLT pass's cost)
    if b"&" in page and (_FIRST_MARKER_REFERENCE.search(page) if b"\xee" not in page else b"&#" in page):
        page = etree.tostring(content, method="text", encoding="utf-8", with_tail=False)
    brk, row, cell = markers = markers_absent_from(page)
    # Every paragraph and cell cleaned as `_clean` would, in a few passes over the whole text: whitespace runs
    # to one space (markers are no whitespace, so runs stop at them), then no space next to a marker.
    out = _clean(str(_block_text(markers)(content)))
    for marker in markers:
        out = out.replace(f" {marker}", marker).replace(f"{marker} ", marker)
    blocks: list[str | Table] = []
    for segment in out.split(brk)[:-1]:
        if row not in segment:
            if segment:
                blocks.append(segment)
            continue
        rows = [tr.split(cell)[1:] for tr in segment.split(row)[1:]]
        rows = [r for r in rows if r]  # a row of blank cells is data (zeros left blank); a row of none is not
        if rows:
            blocks.append(Table(rows=rows))
    return blocks


def markers_absent_from(text: bytes, pool: Iterable[range] = _PRIVATE_USE) -> tuple[str, str, str]:
    """Three characters from the code point ranges of `pool` that the UTF-8 `text` does not contain.

    Private-use characters by default: reports rarely use any, and there are 137,000 of them.  A text without
    the byte 0xEE (the lead byte of U+E000-U+EFFF in UTF-8; one memchr) has none of the first three, which
    spares three substring searches of the page (~0.09 ms, a tenth of the bare lxml parse).
    """
    if pool is _PRIVATE_USE and b"\xee" not in text:
        return "\ue000", "\ue001", "\ue002"
    free = list(islice((m for m in map(chr, chain.from_iterable(pool)) if m.encode() not in text), 3))
    if len(free) < 3:
        raise ParseError("HTML page text uses every private-use character; its structure cannot be marked")
    return free[0], free[1], free[2]


@lru_cache(maxsize=16)
def _block_text(markers: tuple[str, str, str]) -> etree.XSLT:
    """The stylesheet writing `brk`(`row`(`cell` text)*)*`brk` for a data table, `brk` content `brk` for any
    other block element and just the text of inline ones.  The markers are literal text in it: as parameters
    they cost a third of the transform; nearly every page uses the first three private-use characters.  A cell's
    text comes from the built-in rules of a mode with no templates (all its text nodes, as `string()` has them),
    a little cheaper than an XPath `value-of` per cell."""
    brk, row, cell = markers
    return etree.XSLT(
        etree.XML(
            f"""<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform" xmlns:n="urn:nianbao">
<xsl:output method="text" encoding="UTF-8"/>
<xsl:template match="table"><xsl:text>{brk}</xsl:text>
<xsl:for-each select="tr|thead/tr|tbody/tr|tfoot/tr"><xsl:text>{row}</xsl:text>
<xsl:for-each select="td|th"><xsl:text>{cell}</xsl:text><xsl:apply-templates mode="cell"/></xsl:for-each>
</xsl:for-each><xsl:text>{brk}</xsl:text></xsl:template>
<xsl:template match="{"|".join(_BLOCK_TAGS)}|n:layout-table">
<xsl:text>{brk}</xsl:text><xsl:apply-templates/><xsl:text>{brk}</xsl:text></xsl:template>
</xsl:stylesheet>"""
        )
    )


def _clean(text: str) -> str:
    """Whitespace runs (including full-width and no-break spaces) to one space; str.split does it in C."""
    return " ".join(text.split())
