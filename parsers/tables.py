"""Map a Document's tables onto the report's three standard tables, by their labels.

Rows are read in document order with the section (二/三/四) and the last header seen as context, so a table
split across pages or HTML tables reads as one.  Every value that cannot be placed with certainty goes into
`flags`; a table that is not in the report stays None.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from parsers import labels as L
from parsers import schema
from parsers.document import Document, Table
from parsers.numbers import NotANumber, is_value, parse_value

_SECTION = re.compile(r"^([一二三四五六])、")
_SECTION_CONTEXT = {"二": "proactive", "三": "applications", "四": "review"}
_APPLICANT_WORDS = frozenset({*L.APPLICATION_COLUMNS, L.APPLICATION_GROUP, "申请人情况"})
_REVIEW_WORDS = frozenset({*L.REVIEW_OUTCOMES, *L.SUIT_GROUPS, *L.REVIEW_MARKERS})


@dataclass(slots=True)
class Cell:
    text: str
    uncertain: str | None = None


@dataclass
class Tables:
    format: str
    proactive: dict[str, dict[str, Any]] | None
    applications: dict[str, dict[str, Any]] | None
    review_litigation: dict[str, Any] | None
    flags: list[dict[str, str]] = field(default_factory=list)


def detect_format(document: Document) -> str | None:
    """'2019' or '2021' by the words only one template uses; None when neither appears."""
    words = "".join(L.norm(c) for t in document.tables for row in t.rows for c in row)
    has_2019 = sum(m in words for m in L.FORMAT_2019_MARKERS)
    has_2021 = sum(m in words for m in L.FORMAT_2021_MARKERS)
    if has_2019 > has_2021:
        return "2019"
    if has_2021 > has_2019:
        return "2021"
    return None


def map_tables(document: Document, year: int | None = None) -> Tables:
    fmt = detect_format(document)
    guessed = False
    if fmt is None:
        if not any(_is_report_table(t) for t in document.tables):
            return Tables("unknown", None, None, None)
        fmt, guessed = ("2019" if year is not None and year <= 2020 else "2021"), True
    mapper = _Mapper(fmt)
    if guessed:
        mapper.flag("format", f"template words not found; format {fmt} assumed from the report year")
    mapper.run(document)
    return mapper.result()


def _is_report_table(table: Table) -> bool:
    words = "".join(L.norm(c) for row in table.rows for c in row)
    return any(m in words for m in (*L.APPLICATIONS_MARKERS, "本年新收", "结果维持", "信息内容"))


class _Mapper:
    def __init__(self, fmt: str) -> None:
        self.fmt = fmt
        self.fields = schema.proactive_fields(fmt)
        self.row_keys = schema.application_rows(fmt)
        self.columns = schema.application_columns(fmt)
        self.review_keys = schema.review_keys(fmt)
        self.context: str | None = None
        self.proactive: dict[str, dict[str, Any]] = {}
        self.applications: dict[str, dict[str, Any]] = {}
        self.review_values: list[Cell] = []
        self.field_order: list[str] | None = None
        self.column_labels: list[str] = []
        self.review_leaves: list[str] = []
        self.review_groups: list[str] = []
        self.flags: list[dict[str, str]] = []

    def flag(self, where: str, reason: str) -> None:
        self.flags.append({"where": where, "reason": reason})

    # -- walking the document -------------------------------------------------------------------------------

    def run(self, document: Document) -> None:
        for block in document.blocks:
            if isinstance(block, Table):
                uncertain = block.uncertain
                for r, row in enumerate(block.rows):
                    if uncertain:
                        self.row([Cell(text, uncertain.get((r, c))) for c, text in enumerate(row)])
                    else:
                        self.row([Cell(text) for text in row])
            else:
                self.paragraph(block)

    def paragraph(self, text: str) -> None:
        m = _SECTION.match(text.strip())
        if m and len(text) < 60:
            self.context = _SECTION_CONTEXT.get(m.group(1))
            return
        tokens = text.split()
        if self.context == "review" and len(tokens) >= 5 and all(is_value(t) for t in tokens):
            self.row([Cell(t) for t in tokens])  # table 四 flattened into one line of numbers

    def row(self, cells: list[Cell]) -> None:
        split = len(cells)  # values are the cells after the last label cell
        while split and is_value(cells[split - 1].text):
            split -= 1
        label_cells = [L.norm(c.text) for c in cells[:split] if c.text]
        values = cells[split:]
        label = "".join(label_cells)
        if not label:
            if self.context == "review" and (len(values) >= 5 or any(c.text.strip() for c in values)):
                self.review_values.extend(values)
            return
        if self.header(label, label_cells):
            return
        if not values:
            return  # a group heading such as （三）不予公开 on a row of its own
        if self.context in ("proactive", None) and self.proactive_row(label, values):
            return
        if self.context in ("applications", None) and self.application_row(label, values):
            return
        if self.context in ("proactive", "applications") and any(c.text.strip() for c in values):
            self.flag(self.context, f"row not recognised: {label!r}")

    def header(self, label: str, label_cells: list[str]) -> bool:
        if "信息内容" in label:
            self.context = "proactive"
            self.field_order = [
                L.match(L.PROACTIVE_FIELD_PATTERNS, c) for c in label_cells if c != "信息内容"
            ]
            return True
        if label.startswith("第二十条"):
            self.context = "proactive"
            return True
        if any(m in label for m in L.APPLICATIONS_MARKERS) or _APPLICANT_WORDS.issuperset(label_cells):
            self.context = "applications"
            self.applicant_header([c for c in label_cells if c in _APPLICANT_WORDS and c != "申请人情况"])
            return True
        if _REVIEW_WORDS.issuperset(label_cells):
            if self.context != "review" or any(m in label_cells for m in L.REVIEW_MARKERS):
                self.review_leaves, self.review_groups = [], []
            self.context = "review"
            self.review_leaves += [c for c in label_cells if c in L.REVIEW_OUTCOMES]
            self.review_groups += [c for c in label_cells if c in L.SUIT_GROUPS]
            return True
        return False

    def applicant_header(self, words: list[str]) -> None:
        """Build the column order; the sub-columns of 法人或其他组织 take the group's place."""
        if len([w for w in self.column_labels if w != L.APPLICATION_GROUP]) >= 7:
            self.column_labels = []  # a header repeated on a new page
        if L.APPLICATION_GROUP in self.column_labels and words and L.APPLICATION_GROUP not in words:
            at = self.column_labels.index(L.APPLICATION_GROUP)
            self.column_labels[at : at + 1] = words
        else:
            self.column_labels += words

    # -- rows -------------------------------------------------------------------------------------------------

    def proactive_row(self, label: str, values: list[Cell]) -> bool:
        item = L.match(L.PROACTIVE_ITEM_PATTERNS, label)
        if item is None or item not in self.fields:
            return False
        fields = self.fields[item]
        order = self.field_order if self.field_order and set(self.field_order) <= set(fields) else fields
        if self.field_order and order is fields and set(self.field_order) != set(fields):
            self.flag(f"proactive.{item}", "field headers do not match the template; template order assumed")
        cells = self.fit(values, len(order), f"proactive.{item}")
        row = self.proactive.setdefault(item, {})
        if row:
            self.flag(f"proactive.{item}", "row appears twice; the first is kept")
            return True
        for key, cell in zip(order, cells, strict=True):
            row[key] = self.value(cell, f"proactive.{item}.{key}", L.FIELD_UNITS.get(key))
        return True

    def application_row(self, label: str, values: list[Cell]) -> bool:
        key = L.match(L.APPLICATION_ROW_PATTERNS, label)
        if key is None:
            return False
        where = f"applications.{key}"
        if key not in self.row_keys:
            self.flag(where, f"row {label!r} does not belong to the {self.fmt} template")
            return True
        if key in self.applications:
            self.flag(where, "row appears twice; the first is kept")
            return True
        columns = self.column_keys()
        cells = self.fit(values, len(columns), where)
        self.applications[key] = {
            col: self.value(cell, f"{where}.{col}") for col, cell in zip(columns, cells, strict=True)
        }
        return True

    def column_keys(self) -> list[str]:
        keys = [L.APPLICATION_COLUMNS.get(w) for w in self.column_labels]
        if sorted(k for k in keys if k) == sorted(self.columns) and None not in keys:
            return keys
        if not getattr(self, "_column_flagged", False):
            self._column_flagged = True
            if self.column_labels:
                self.flag(
                    "applications", "applicant column headers not recognised; template column order assumed"
                )
        return self.columns

    def fit(self, values: list[Cell], n: int, where: str) -> list[Cell | None]:
        """Exactly n value cells: surplus blank cells (layout padding) dropped, missing ones None and flagged."""
        while len(values) > n and not values[-1].text.strip():
            values = values[:-1]
        if len(values) > n:
            self.flag(where, f"{len(values)} values where the template has {n}; the first {n} are used")
            values = values[:n]
        if len(values) < n:
            self.flag(where, f"{len(values)} values where the template has {n}; missing ones left empty")
        return [*values, *[None] * (n - len(values))]

    def value(self, cell: Cell | None, where: str, unit: str | None = None) -> int | float | None:
        if cell is None:
            return None
        try:
            number = parse_value(cell.text, unit)
        except NotANumber:
            self.flag(where, f"not a number: {cell.text!r}")
            return None
        if cell.uncertain:
            self.flag(where, f"{cell.uncertain} (read as {cell.text!r})")
        return number

    # -- result -----------------------------------------------------------------------------------------------

    def result(self) -> Tables:
        return Tables(
            self.fmt, self.proactive_table(), self.applications_table(), self.review_table(), self.flags
        )

    def proactive_table(self) -> dict[str, dict[str, Any]] | None:
        if not self.proactive:
            return None
        table = {}
        for item, fields in self.fields.items():
            if item not in self.proactive:
                self.flag(f"proactive.{item}", "row missing from the report")
            table[item] = {f: self.proactive.get(item, {}).get(f) for f in fields}
        return table

    def applications_table(self) -> dict[str, dict[str, Any]] | None:
        if not self.applications:
            return None
        table = {}
        for key in self.row_keys:
            if key not in self.applications:
                self.flag(f"applications.{key}", "row missing from the report")
            table[key] = {c: self.applications.get(key, {}).get(c) for c in self.columns}
        return table

    def review_table(self) -> dict[str, Any] | None:
        if not self.review_values:
            return None
        keys = self.review_order()
        cells = self.fit(self.review_values, len(keys), "review_litigation")
        return {
            key: self.value(cell, f"review_litigation.{key}") for key, cell in zip(keys, cells, strict=True)
        }

    def review_order(self) -> list[str]:
        """Keys in the order the header gives them; the template's order for a header-less row of numbers."""
        leaves = [L.REVIEW_OUTCOMES[w] for w in self.review_leaves]
        groups = [L.SUIT_GROUPS[w] for w in self.review_groups]
        if len(leaves) == 15 and sorted(groups) == sorted(L.SUIT_GROUPS.values()):
            prefixes = ["review"] * 5 + [groups[0]] * 5 + [groups[1]] * 5
            keys = [f"{p}_{leaf}" for p, leaf in zip(prefixes, leaves, strict=True)]
            if sorted(keys) == sorted(self.review_keys):
                return keys
        if self.review_leaves:
            self.flag("review_litigation", "table 四 headers not recognised; template column order assumed")
        return self.review_keys
