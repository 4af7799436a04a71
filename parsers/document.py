"""The intermediate form every reader produces and the table mapper consumes.

Readers (HTML, text, PDF, DOCX, spreadsheets, OCR) differ wildly in how they find cells, but once the cells are
found the problem is the same: which label does each number belong to.  So every reader stops at a `Document` —
paragraphs and tables in reading order — and one mapper (`parsers.tables`) turns tables into the report's keys.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Table:
    """A table as its rows of cell texts, cells in reading order, merged cells given once (not repeated).

    `uncertain` marks cells a reader is not sure of (OCR confidence, a guessed split): (row, column) -> reason.
    Any value the mapper takes from such a cell is put in the report's `flags`.
    """

    rows: list[list[str]]
    uncertain: dict[tuple[int, int], str] = field(default_factory=dict)


@dataclass
class Document:
    """A report as read from one file: blocks (paragraph strings and Tables) in reading order.

    `title` is the document's own title when the form has one (HTML <title>/<h1>, gov-site ArticleTitle meta);
    `meta` holds page metadata such as PubDate or ContentSource; `form` names the reader ("html", "pdf", …).
    """

    blocks: list[str | Table]
    form: str
    title: str | None = None
    meta: dict[str, str] = field(default_factory=dict)

    @property
    def tables(self) -> list[Table]:
        return [b for b in self.blocks if isinstance(b, Table)]

    @property
    def text(self) -> str:
        """Plain text of the whole document; table rows become tab-separated lines."""
        out: list[str] = []
        for block in self.blocks:
            if isinstance(block, Table):
                out.extend(map("\t".join, block.rows))
            else:
                out.append(block)
        return "\n".join(out)
