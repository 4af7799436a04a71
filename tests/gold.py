"""Compare a parsed report with a fixture's gold values, cell by cell (a blank cell and 0 count as equal)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent / "fixtures"
SEEDS = [f"seed-00{i}" for i in range(5)]
TABLES = ("proactive", "applications", "review_litigation")


def load_gold(seed: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{seed}.gold.json").read_text(encoding="utf-8"))


def differences(report: dict[str, Any], gold: dict[str, Any]) -> list[str]:
    """Every cell (and format/agency/year) where the report differs from gold; empty when they agree."""
    out: list[str] = []
    if report["format"] != gold["format"]:
        out.append(f"format: {report['format']} != {gold['format']}")
    if report["agency"] not in gold["meta"]["agency"]:
        out.append(f"agency: {report['agency']!r} not in {gold['meta']['agency']}")
    if report["year"] != gold["meta"]["year"]:
        out.append(f"year: {report['year']} != {gold['meta']['year']}")
    for table in TABLES:
        _compare(report[table], gold[table], table, out)
    return out


def _compare(got: Any, want: Any, where: str, out: list[str]) -> None:
    if (want is None or got is None) and (isinstance(want, dict) or isinstance(got, dict) or want is got):
        if (want is None) != (got is None):
            gold_says = "null" if want is None else "a table"
            out.append(f"{where}: {'missing' if got is None else 'present'} but gold says {gold_says}")
        return
    if isinstance(want, dict):
        if not isinstance(got, dict) or set(got) != set(want):
            out.append(f"{where}: keys {sorted(got) if isinstance(got, dict) else got} != {sorted(want)}")
            return
        for key in want:
            _compare(got[key], want[key], f"{where}.{key}", out)
    elif (got or 0) != (want or 0):
        out.append(f"{where}: {got!r} != {want!r}")


def covered(difference: str, report: dict) -> bool:
    """A wrong cell is acceptable only when the report says so: a flag on it (or its row/table), or a failed
    consistency check naming its row."""
    path = difference.split(":")[0]
    if any(path == f["where"] or path.startswith(f["where"] + ".") for f in report["flags"]):
        return True
    row = path.split(".")[1] if path.count(".") >= 2 else path
    return any(c["ok"] is False and row in c["detail"] for c in report["checks"])


def cell_count(gold: dict[str, Any]) -> int:
    def count(value: Any) -> int:
        return sum(count(v) for v in value.values()) if isinstance(value, dict) else 1

    return sum(count(gold[t]) for t in TABLES if gold[t] is not None)
