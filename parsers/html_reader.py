"""HTML report pages (portal articles, Word-pasted HTML) -> Document.

Gov-site pages wrap the report in navigation, footers and sometimes layout tables; the report itself is the
part around its data tables and its 一、总体情况 heading.  Tables nested inside other tables are data; the
outer ones are layout and are walked through, not read as data.
"""

from __future__ import annotations

import re

from lxml import etree

from parsers.decode import decode_html
from parsers.document import Document, Table
from parsers.report import ParseError

_BLOCK_TAGS = {
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
    "table",
    "blockquote",
    "pre",
    "center",
    "dd",
    "dt",
    "hr",
}
_DROP_TAGS = ("script", "style", "noscript", "template", "iframe", "object", "select", "button")
_STRING = etree.XPath("string()")
_PARSER = etree.HTMLParser(remove_comments=True, remove_pis=True)
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
_META_NAMES = ("ArticleTitle", "PubDate", "ContentSource", "SiteName", "ColumnName", "Keywords", "Author")


def read(data: bytes, content_type: str | None = None) -> Document:
    text = _XML_DECLARATION.sub("", decode_html(data, content_type), count=1)
    try:
        # plain etree elements: lxml.html's per-element class lookup costs more than the parse itself
        root = etree.fromstring(text, _PARSER)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError) as exc:
        raise ParseError(f"HTML could not be parsed: {exc}") from exc
    if root is None:
        raise ParseError("HTML page has no content")
    meta = _page_meta(root)
    title = _page_title(root, meta)
    etree.strip_elements(root, *_DROP_TAGS, etree.Comment, with_tail=False)
    if "发布时间" in text or "发布日期" in text:
        dateline = _dateline(root)
        if dateline:
            meta["Dateline"] = dateline
    content = _content_root(root)
    blocks: list[str | Table] = []
    _walk(content, blocks, [])
    return Document(blocks=blocks, form="html", title=title, meta=meta)


def _page_meta(root: etree._Element) -> dict[str, str]:
    meta: dict[str, str] = {}
    for el in root.iter("meta"):
        name = el.get("name") or el.get("property")
        if name in _META_NAMES and el.get("content"):
            meta[name] = el.get("content").strip()
    return meta


def _page_title(root: etree._Element, meta: dict[str, str]) -> str | None:
    """The report's own title: ArticleTitle meta, else an <h1>-<h3> naming a report, else <title>."""
    if meta.get("ArticleTitle"):
        return meta["ArticleTitle"]
    for tag in ("h1", "h2", "h3"):
        for el in root.iter(tag):
            heading = _clean(_STRING(el))
            if "报告" in heading or "年报" in heading:
                return heading
    titles = root.xpath("//title/text()")
    return _clean(titles[0]) if titles else None


def _dateline(root: etree._Element) -> str | None:
    """The page's '发布时间：…' line, which CMS templates put outside the article body."""
    for node in root.xpath("//body//text()[contains(., '发布时间') or contains(., '发布日期')]"):
        return _clean(str(node))[:80]
    return None


def _is_data_table(el: etree._Element) -> bool:
    return el.tag == "table" and not el.xpath(".//table")


def _content_root(root: etree._Element) -> etree._Element:
    """The smallest element holding the report: the common ancestor of its data tables and its first heading.

    Falls back to <body> when the page has no data tables (text-only reports, attachment pages).
    """
    body = root.find("body") if root.find("body") is not None else root
    anchors = [t for t in body.iter("table") if _is_data_table(t)]
    for el in body.iter():
        if el.tag in ("p", "div", "h1", "h2", "h3", "h4", "span", "strong", "b", "td") and "总体情况" in (
            el.text or ""
        ):
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


def _walk(el: etree._Element, blocks: list[str | Table], line: list[str]) -> None:
    """Depth-first: text accumulates in `line` until a block boundary; data tables become Table blocks."""
    if _is_data_table(el):
        _flush(blocks, line)
        table = _read_table(el)
        if table.rows:
            blocks.append(table)
        return
    block = el.tag in _BLOCK_TAGS
    if block:
        _flush(blocks, line)
    if el.text:
        line.append(el.text)
    for child in el:
        if not isinstance(child.tag, str):
            continue
        _walk(child, blocks, line)
        if child.tail:
            line.append(child.tail)
    if block:
        _flush(blocks, line)


def _flush(blocks: list[str | Table], line: list[str]) -> None:
    text = _clean("".join(line))
    line.clear()
    if text:
        blocks.append(text)


def _read_table(table: etree._Element) -> Table:
    rows: list[list[str]] = []
    for tr in table.xpath("./tr|./thead/tr|./tbody/tr|./tfoot/tr"):
        cells = [_cell_text(td) for td in tr if td.tag in ("td", "th")]
        if cells:
            rows.append(cells)  # an all-blank row is data too: reports leave zeros blank
    return Table(rows=rows)


def _cell_text(td: etree._Element) -> str:
    """A cell's text with line breaks and Word's padding removed: labels broken by <br> join back up."""
    return _clean(_STRING(td))


def _clean(text: str) -> str:
    """Whitespace runs (including full-width and no-break spaces) to one space; str.split does it in C."""
    return " ".join(text.split())
