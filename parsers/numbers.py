"""Reading a table cell as a number.

Reports write numbers as `3`, `1,234`, `0.5`, `３`, `251000元`, `0.5万元`, `12件`, `-3`, and write "nothing" as
an empty cell, `—`, `-`, `/`, `无` or `／`.  Nothing is `None` (a blank cell), never 0: the checks treat blank as
0, but the archive keeps what the report said.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

BLANKS = {"", "-", "--", "—", "——", "–", "/", "\\", "无", "空", "null", "none", "n/a", "na", "…", "×", "x"}
_NUMBER = re.compile(
    r"^(?P<sign>[-+−]?)(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)"
    r"(?P<unit>万元|万|元|件|条|个|项|次|人次|份|宗|起|家|%)?$"
)


class NotANumber(ValueError):
    """A value cell held text that is neither a number nor a way of writing 'nothing'."""


def _normal(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


@lru_cache(maxsize=4096)
def is_value(text: str) -> bool:
    """True for cells that hold a value (a number or a blank), False for labels."""
    cell = _normal(text).lower()
    return cell in BLANKS or _NUMBER.match(cell) is not None


@lru_cache(maxsize=4096)
def parse_value(text: str, unit: str | None = None) -> int | float | None:
    """The number in a cell, converted to `unit` ("10k_yuan" or "yuan") when the cell names another unit.

    Raises NotANumber for text that is no number.
    """
    cell = _normal(text)
    if cell.lower() in BLANKS:
        return None
    m = _NUMBER.match(cell)
    if not m:
        raise NotANumber(text)
    number: int | float
    digits = m["num"].replace(",", "")
    number = float(digits) if "." in digits else int(digits)
    if m["sign"] in ("-", "−"):
        number = -number
    cell_unit = m["unit"]
    if unit == "10k_yuan" and cell_unit == "元":
        number = number / 10000
    elif unit == "yuan" and cell_unit in ("万元", "万"):
        number = number * 10000
    if isinstance(number, float):
        number = round(number, 6)
        if number.is_integer() and "." not in digits:
            number = int(number)
    return number



_DIGIT_RUN = re.compile(r"[0-9]{2,}")
_SPLIT_BUDGET = 20_000  # steps of the search; a row needing more is flagged, not read


@lru_cache(maxsize=4096)
def has_digit_run(text: str) -> bool:
    """True for a cell of two or more bare digits: in flattened text, maybe several cells run together."""
    return _DIGIT_RUN.fullmatch(_normal(text)) is not None


def _piece_ok(piece: str) -> bool:
    """A piece cut from a digit run is a number as reports write one: no leading zero."""
    return len(piece) == 1 or piece[0] != "0"


def splits_that_add_up(tokens: list[str], cells: int, group: int, limit: int = 2) -> list[list[str]] | None:
    """The ways (up to `limit`) to read `tokens` as `cells` cells where digits of neighbouring cells ran together
    (`1200000 21` for seven cells), keeping those where each group of `group` cells ends in its total: the sum of
    the cells before it (table 三's 总计 column; table 四's three groups of four outcomes and 总计).  None when
    the search would take too long to tell.

    Token boundaries are cell boundaries; only runs of two or more digits are cut, never leaving a piece with a
    leading zero; other tokens ("1,234", "—", "12件") are one cell each.  Callers read a row only when exactly one
    split adds up: zero or several mean it cannot be read without guessing."""
    normal = [_normal(t) for t in tokens]
    if not normal or cells % group or not all(map(is_value, normal)):
        return []
    found: list[list[str]] = []
    steps = 0

    def adds_up(pieces: list[str]) -> bool:
        last = pieces[-group:]
        return abs(sum((parse_value(p) or 0) for p in last[:-1]) - (parse_value(last[-1]) or 0)) < 1e-6

    def walk(at: int, offset: int, pieces: list[str]) -> None:
        nonlocal steps
        steps += 1
        if len(found) >= limit or steps > _SPLIT_BUDGET:
            return
        if pieces and len(pieces) % group == 0 and not adds_up(pieces):
            return
        if at == len(normal):
            if len(pieces) == cells:
                found.append(pieces)
            return
        if cells - len(pieces) < len(normal) - at:
            return  # every token left needs a cell of its own
        rest = normal[at][offset:]
        if offset == 0 or _piece_ok(rest):  # the rest of the token as one cell (a whole token as written)
            walk(at + 1, 0, [*pieces, rest])
        if _DIGIT_RUN.fullmatch(rest):
            for i in range(1, len(rest)):
                if _piece_ok(rest[:i]):
                    walk(at, offset + i, [*pieces, rest[:i]])

    walk(0, 0, [])
    return None if steps > _SPLIT_BUDGET else found
