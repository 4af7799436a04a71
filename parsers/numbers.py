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
