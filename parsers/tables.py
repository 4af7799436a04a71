"""Map a Document's tables onto the report's three standard tables, by their labels.

Rows are read in document order with the section (二/三/四) and the last header seen as context, so a table
split across pages or HTML tables reads as one.  Every value that cannot be placed with certainty goes into
`flags`; a table that is not in the report stays None.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import chain
from typing import Any, NamedTuple

from parsers import labels as L
from parsers import schema
from parsers.document import Document, Table
from parsers.numbers import NotANumber, has_digit_run, is_value, parse_value, splits_that_add_up

_SECTION = re.compile(r"^([一二三四五六])、")
_SECTION_CONTEXT = {"二": "proactive", "三": "applications", "四": "review"}
_APPLICANT_WORDS = frozenset({*L.APPLICATION_COLUMNS, L.APPLICATION_GROUP, "申请人情况"})
_REVIEW_WORDS = frozenset({*L.REVIEW_OUTCOMES, *L.SUIT_GROUPS, *L.REVIEW_MARKERS})


@dataclass
class Tables:
    format: str
    proactive: dict[str, dict[str, Any]] | None
    applications: dict[str, dict[str, Any]] | None
    review_litigation: dict[str, Any] | None
    flags: list[dict[str, str]] = field(default_factory=list)


def detect_format(document: Document) -> str | None:
    """'2019' or '2021' by the words only one template uses; None when neither appears."""
    words = "".join(map(L.norm, chain.from_iterable(chain.from_iterable(t.rows for t in document.tables))))
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
    mapper = _Mapper(fmt, cells_may_run_together=document.form == "text")
    if guessed:
        mapper.flag("format", f"template words not found; format {fmt} assumed from the report year")
    mapper.run(document)
    return mapper.result()


def _is_report_table(table: Table) -> bool:
    words = "".join(L.norm(c) for row in table.rows for c in row)
    return any(m in words for m in (*L.APPLICATIONS_MARKERS, "本年新收", "结果维持", "信息内容"))


class _Label(NamedTuple):
    """What a row's label cells say; worked out once per distinct label (see `_label`)."""

    cells: list[str]  # normalised, blank ones left out; callers must not change the list
    text: str  # the cells joined
    header: str | None  # which header row they make, if any (see `_header_kind`)
    item: str | None  # the table 二 item they name
    application: str | None  # the table 三 row they name


@lru_cache(maxsize=4096)
def _label(cells: tuple[str, ...]) -> _Label:
    """The label of a row from its cells before the values.  Reports repeat the template's labels, row after
    row and report after report, so this runs once per distinct label, not once per row."""
    label_cells = [L.norm(c) for c in cells if c]
    text = "".join(label_cells)
    return _Label(
        label_cells, text, _header_kind(text, label_cells), L.proactive_item(text), L.application_row(text)
    )


def _header_kind(label: str, label_cells: list[str]) -> str | None:
    """'fields' (table 二's 信息内容 row), 'article' (its 第二十条 rows), 'applicants' (table 三's applicant
    columns), 'review' (table 四's outcome columns), or None for a row that is no header."""
    if "信息内容" in label:
        return "fields"
    if label.startswith("第二十条"):
        return "article"
    if any(m in label for m in L.APPLICATIONS_MARKERS) or _APPLICANT_WORDS.issuperset(label_cells):
        return "applicants"
    if _REVIEW_WORDS.issuperset(label_cells):
        return "review"
    return None


@lru_cache(maxsize=4)
def _template(fmt: str) -> tuple[dict[str, list[str]], dict[str, None], list[str], list[str]]:
    """The template's keys (read from the schema once per format, not once per report); never changed.
    Table 三's rows as an ordered dict, so asking whether a row belongs is a lookup, not a scan of ~20 keys."""
    return (
        schema.proactive_fields(fmt),
        dict.fromkeys(schema.application_rows(fmt)),
        schema.application_columns(fmt),
        schema.review_keys(fmt),
    )


_NO_REASONS: dict[int, str] = {}


@lru_cache(maxsize=4)
def _field_labels(fmt: str) -> dict[str, list[str]]:
    """item key -> its field labels in template order, normalised."""
    items = schema.schema()["formats"][fmt]["proactive"]
    return {item["key"]: [L.norm(f["label"]) for f in item["fields"]] for item in items}


def _template_header_cut_short(fmt: str, item: str, header: list[str]) -> bool:
    """True when table 二's field header is the template's own, some labels cut short (a page store that kept
    `本年新` of `本年新<br>制作数量`): each cell starts the template label at its place, so the template order is
    the header's, not an assumption."""
    labels = _field_labels(fmt)[item]
    return len(header) == len(labels) and all(
        len(cell) >= 2 and label.startswith(cell) for cell, label in zip(header, labels, strict=True)
    )


def _trim_blanks(values: list[str]) -> list[str]:
    """The cells between the first and the last non-blank one (the rest is layout padding)."""
    at = [i for i, v in enumerate(values) if v.strip()]
    return values[at[0] : at[-1] + 1] if at else []


class _Mapper:
    """Reads rows in document order, keeping the context (section, last header) that says what a row is.

    A row is its cell texts plus `reasons`: value position -> why a reader is unsure of that cell (usually none).
    `cells_may_run_together`: the reader split cells at spaces (text), so a short row may hold digits of several
    cells run together.
    """

    def __init__(self, fmt: str, cells_may_run_together: bool = False) -> None:
        self.fmt = fmt
        self.cells_may_run_together = cells_may_run_together
        self.fields, self.row_keys, self.columns, self.review_keys = _template(fmt)
        self.context: str | None = None
        self.proactive: dict[str, dict[str, Any]] = {}
        self.applications: dict[str, dict[str, Any]] = {}
        self.review_values: list[str] = []
        self.review_reasons: dict[int, str] = {}
        self.field_order: list[str | None] | None = None
        self.field_header: list[str] = []  # the header cells field_order was read from
        self.column_labels: list[str] = []
        self.column_keys_read: list[str] | None = None  # column_keys() of these column_labels; None: not yet
        self.column_flagged = False
        self.review_leaves: list[str] = []
        self.review_groups: list[str] = []
        self.flags: list[dict[str, str]] = []

    def flag(self, where: str, reason: str) -> None:
        self.flags.append({"where": where, "reason": reason})

    # -- walking the document -------------------------------------------------------------------------------

    def run(self, document: Document) -> None:
        for block in document.blocks:
            if not isinstance(block, Table):
                self.paragraph(block)
            elif not block.uncertain:
                for row in block.rows:
                    self.row(row, _NO_REASONS)
            else:
                by_row: dict[int, dict[int, str]] = {}
                for (r, c), reason in block.uncertain.items():
                    by_row.setdefault(r, {})[c] = reason
                for r, row in enumerate(block.rows):
                    self.row(row, by_row.get(r, _NO_REASONS))

    def paragraph(self, text: str) -> None:
        m = len(text) < 60 and _SECTION.match(text.strip())  # the length first: most paragraphs are longer
        if m:
            self.context = _SECTION_CONTEXT.get(m.group(1))
            return
        if self.context != "review":
            return
        tokens = text.split()
        if len(tokens) >= 5 and all(is_value(t) for t in tokens):
            self.row(tokens, _NO_REASONS)  # table 四 flattened into one line of numbers

    def row(self, cells: list[str], reasons: dict[int, str]) -> None:
        """`reasons`: column -> why the reader is unsure of that cell."""
        split = len(cells)  # values are the cells after the last label cell
        while split and is_value(cells[split - 1]):
            split -= 1
        label_cells, label, header, item, application = _label(tuple(cells[:split]))
        values = cells[split:]
        if reasons:
            reasons = {c - split: reason for c, reason in reasons.items() if c >= split}
        if not label:
            if self.context == "review" and (len(values) >= 5 or any(v.strip() for v in values)):
                for at, reason in reasons.items():
                    self.review_reasons[len(self.review_values) + at] = reason
                self.review_values.extend(values)
            return
        if header:
            self.header(header, label_cells)
            return
        if not values:
            return  # a group heading such as （三）不予公开 on a row of its own
        if self.context in ("proactive", None) and item in self.fields:
            self.proactive_row(item, values, reasons)
            return
        if self.context in ("applications", None) and application is not None:
            self.application_row(application, label, values, reasons)
            return
        if self.context in ("proactive", "applications") and any(v.strip() for v in values):
            self.flag(self.context, f"row not recognised: {label!r}")

    def header(self, kind: str, label_cells: list[str]) -> None:
        if kind == "fields":
            self.context = "proactive"
            self.field_header = [c for c in label_cells if c != "信息内容"]
            self.field_order = [L.proactive_field(c) for c in self.field_header]
        elif kind == "article":
            self.context = "proactive"
        elif kind == "applicants":
            self.context = "applications"
            self.applicant_header([c for c in label_cells if c in _APPLICANT_WORDS and c != "申请人情况"])
        else:
            if self.context != "review" or any(m in label_cells for m in L.REVIEW_MARKERS):
                self.review_leaves, self.review_groups = [], []
            self.context = "review"
            self.review_leaves += [c for c in label_cells if c in L.REVIEW_OUTCOMES]
            self.review_groups += [c for c in label_cells if c in L.SUIT_GROUPS]

    def applicant_header(self, words: list[str]) -> None:
        """Build the column order; the sub-columns of 法人或其他组织 take the group's place."""
        self.column_keys_read = None
        if len([w for w in self.column_labels if w != L.APPLICATION_GROUP]) >= 7:
            self.column_labels = []  # a header repeated on a new page
        if L.APPLICATION_GROUP in self.column_labels and words and L.APPLICATION_GROUP not in words:
            at = self.column_labels.index(L.APPLICATION_GROUP)
            self.column_labels[at : at + 1] = words
        else:
            self.column_labels += words

    # -- rows -------------------------------------------------------------------------------------------------

    def proactive_row(self, item: str, values: list[str], reasons: dict[int, str]) -> None:
        where = f"proactive.{item}"
        fields = self.fields[item]
        order = self.field_order if self.field_order and set(self.field_order) <= set(fields) else fields
        if (
            self.field_order
            and order is fields
            and set(self.field_order) != set(fields)
            and not _template_header_cut_short(self.fmt, item, self.field_header)
        ):
            self.flag(where, "field headers do not match the template; template order assumed")
        row = self.proactive.setdefault(item, {})
        if row:
            self.flag(where, "row appears twice; the first is kept")
            return
        split = self.split_run_together(values, len(order), None, where)
        if split is None:
            row.update(dict.fromkeys(order))
            return
        cells = self.fit(split, len(order), where)
        row.update(self.numbers(order, cells, reasons, where, L.FIELD_UNITS))

    def application_row(self, key: str, label: str, values: list[str], reasons: dict[int, str]) -> None:
        where = f"applications.{key}"
        if key not in self.row_keys:
            self.flag(where, f"row {label!r} does not belong to the {self.fmt} template")
            return
        if key in self.applications:
            self.flag(where, "row appears twice; the first is kept")
            return
        columns = self.column_keys()
        split = self.split_run_together(values, len(columns), len(columns) if columns[-1] == "total" else None, where)
        if split is None:
            self.applications[key] = dict.fromkeys(columns)
            return
        cells = self.fit(split, len(columns), where)
        self.applications[key] = self.numbers(columns, cells, reasons, where)

    def column_keys(self) -> list[str]:
        """The column keys in the order the header gave them; the template's order (flagged once) when the
        header words are not exactly the template's columns.  Worked out again only when the header changed."""
        if self.column_keys_read is None:
            keys = [L.APPLICATION_COLUMNS.get(w) for w in self.column_labels]
            good = sorted(k for k in keys if k) == sorted(self.columns) and None not in keys
            self.column_keys_read = keys if good else self.columns
        if self.column_keys_read is not self.columns:
            return self.column_keys_read
        if not self.column_flagged:
            self.column_flagged = True
            if self.column_labels:
                self.flag(
                    "applications", "applicant column headers not recognised; template column order assumed"
                )
        return self.columns

    def split_run_together(self, values: list[str], n: int, group: int | None, where: str) -> list[str] | None:
        """`values` as they are unless the row may hold cells run together: fewer than `n` cells of which one is a
        run of digits.  Then the one split into `n` cells where every `group` of cells ends in their total (the
        row's arithmetic); None, flagged, when no split or several add up, or the row has no arithmetic (`group`
        None) to tell — never a guess."""
        if not self.cells_may_run_together or not any(map(has_digit_run, values)):
            return values
        core = _trim_blanks(values)
        if len(core) >= n:
            return values
        found = splits_that_add_up(core, n, group) if group else []
        if found is not None and len(found) == 1:
            return found[0]
        if group is None:
            why = "the row has no arithmetic to tell where to split them"
        elif found is None:
            why = "too many ways to split them to try"
        else:
            why = "several ways to split them add up" if found else "no way to split them adds up"
        cells = " ".join(core)
        self.flag(where, f"{len(core)} cells for {n} columns, digits run together ({cells!r}): {why}; not read")
        return None

    def fit(self, values: list[str], n: int, where: str) -> list[str | None]:
        """Exactly n value cells: surplus blank cells at either end (layout padding, a merged label's empty cell)
        dropped, missing ones None and flagged."""
        while len(values) > n and not values[-1].strip():
            values = values[:-1]
        while len(values) > n and not values[0].strip():
            values = values[1:]  # the empty rest of a label merged over two columns, before the first value
        if len(values) > n:
            self.flag(where, f"{len(values)} values where the template has {n}; the first {n} are used")
            values = values[:n]
        if len(values) < n:
            self.flag(where, f"{len(values)} values where the template has {n}; missing ones left empty")
            return [*values, *[None] * (n - len(values))]
        return values

    def numbers(
        self,
        keys: list[str],
        cells: list[str | None],
        reasons: dict[int, str],
        where: str,
        units: dict[str, str] | None = None,
    ) -> dict[str, int | float | None]:
        """key -> the number in its cell (None for a blank or missing one); a cell that is no number, or that the
        reader is unsure of, is flagged at `where`.key.  This runs for every value of a report, so a row of
        certain numbers (nearly all of them) is read by C-level map; anything else cell by cell, with its flags."""
        row_units = [units.get(key) for key in keys] if units else None
        if not reasons and None not in cells:
            try:
                if row_units is None:  # one argument: the cache key is the text itself, no tuple to build and hash
                    return dict(zip(keys, map(parse_value, cells), strict=True))
                return dict(zip(keys, map(parse_value, cells, row_units), strict=True))
            except NotANumber:
                pass  # some cell is no number: read them one by one below, flagging it
        if row_units is None:
            row_units = [None] * len(keys)
        out: dict[str, int | float | None] = {}
        for at, (key, text, unit) in enumerate(zip(keys, cells, row_units, strict=True)):
            if text is None:
                out[key] = None
                continue
            try:
                out[key] = parse_value(text, unit)
            except NotANumber:
                self.flag(f"{where}.{key}", f"not a number: {text!r}")
                out[key] = None
                continue
            if at in reasons:
                self.flag(f"{where}.{key}", f"{reasons[at]} (read as {text!r})")
        return out

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
            row = self.applications.get(key)  # keyed by every column, in the header's order
            if row is None:
                row = dict.fromkeys(self.columns)
            elif list(row) != self.columns:
                row = {c: row[c] for c in self.columns}
            table[key] = row
        return table

    def review_table(self) -> dict[str, Any] | None:
        if not self.review_values:
            return None
        keys = self.review_order()
        group = 5 if keys == self.review_keys else None  # four outcomes then their 总计, three times
        split = self.split_run_together(self.review_values, len(keys), group, "review_litigation")
        if split is None:
            return dict.fromkeys(keys)
        cells = self.fit(split, len(keys), "review_litigation")
        return self.numbers(keys, cells, self.review_reasons, "review_litigation")

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
