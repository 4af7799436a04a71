"""What the page of one report shows (`/-/reports/{id}`): its three tables laid out as in the 国办 template under the
template's own headings, every cell as stored, failed checks and flags on the cells they concern, where it came
from, its versions and what changed between them, and a line to cite it.

Read on a plain sqlite3 connection (Datasette's read-only one), so it is testable without a web server.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from typing import Any

from archive.headings import RULE_WORDS, cell_labels
from parsers import schema

_OUTCOMES = ("upheld", "corrected", "other", "pending", "total")
_BALANCE_ROWS = ("new_received", "carried_over", "total_processed", "carried_forward")


@dataclass
class Cell:
    key: str  # table.row.column, as in flags.location
    value: Any
    heading: str  # the column's label
    notes: list[str] = field(default_factory=list)
    failed: bool = False
    flagged: bool = False

    @property
    def text(self) -> str:
        if self.value is None:
            return ""
        if isinstance(self.value, float) and self.value.is_integer():
            return str(int(self.value))
        return str(self.value)


def _rows(conn: sqlite3.Connection, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    cursor = conn.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def load_report(conn: sqlite3.Connection, report_id: int) -> dict[str, Any] | None:
    """Everything the report page shows, or None when there is no such report."""
    found = _rows(conn, "SELECT id, url, version, is_current, sha256, title, agency, region, year, published, format,"
                        " form, checks_ok, portal, page_url, stored_at, last_seen_at, superseded_at"
                        " FROM reports WHERE id = ?", [report_id])
    if not found:
        return None
    report = found[0]
    values = _cells(conn, report_id)
    checks = _rows(conn, "SELECT rule, ok, detail FROM checks WHERE report_id = ? ORDER BY id", [report_id])
    flags = _rows(conn, "SELECT location, reason FROM flags WHERE report_id = ? ORDER BY id", [report_id])
    failed = [dict(c, words=RULE_WORDS.get(c["rule"], c["rule"])) for c in checks if c["ok"] == 0]
    tables = _tables(report["format"], values)
    placed = {cell.key: cell for table in tables.values() for cell in table["cells"]}
    for check in failed:
        for key in _cells_of_check(check["rule"], check["detail"] or "", placed):
            placed[key].failed = True
            placed[key].notes.append(f"未通过：{check['words']}（{check['detail']}）")
    for flag in flags:
        for key, cell in placed.items():
            if key == flag["location"] or key.startswith(flag["location"] + "."):
                cell.flagged = True
                cell.notes.append(f"存疑：{flag['reason']}")
    fetched = conn.execute("SELECT min(fetched_at), max(fetched_at), max(content_type) FROM fetches"
                           " WHERE url = ? AND sha256 = ?", [report["url"], report["sha256"]]).fetchone()
    report["first_fetched"], report["last_fetched"], report["content_type"] = fetched
    return {
        "report": report, "tables": tables, "checks": checks, "failed": failed, "flags": flags,
        "unplaced": {key: value for key, value in sorted(values.items()) if key not in placed},
        "versions": _versions(conn, report["url"]),
        "cite": _citation(report),
    }


def _cells(conn: sqlite3.Connection, report_id: int) -> dict[str, Any]:
    return {f"{t}.{r}.{c}": v for t, r, c, v in conn.execute(
        "SELECT table_name, row_key, column_key, value FROM cells WHERE report_id = ?", [report_id])}


def _tables(fmt: str, values: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The template's three tables with their rows and header cells; a table the report lacks is left out."""
    if fmt not in schema.schema()["formats"]:
        return {}
    labels = cell_labels()

    def label(table: str, kind: str, key: str) -> str:
        return labels.get((fmt, table, kind, key), key)

    tables: dict[str, dict[str, Any]] = {}
    if any(k.startswith("proactive.") for k in values):
        sections: list[dict[str, Any]] = []
        for item, fields in schema.proactive_fields(fmt).items():
            section, _, name = label("proactive", "row", item).partition(" ")
            headings = [label("proactive", "column", f) for f in fields]
            if not sections or sections[-1]["section"] != section or sections[-1]["headings"] != headings:
                sections.append({"section": section, "headings": headings, "rows": []})
            cells = [Cell(f"proactive.{item}.{f}", values.get(f"proactive.{item}.{f}"), h)
                     for f, h in zip(fields, headings, strict=True)]
            sections[-1]["rows"].append({"label": name or section, "cells": cells})
        tables["proactive"] = {"sections": sections,
                               "cells": [c for s in sections for row in s["rows"] for c in row["cells"]]}
    if any(k.startswith("applications.") for k in values):
        columns = schema.application_columns(fmt)
        headings = [label("applications", "column", c) for c in columns]
        rows = [{"label": label("applications", "row", r),
                 "cells": [Cell(f"applications.{r}.{c}", values.get(f"applications.{r}.{c}"), h)
                           for c, h in zip(columns, headings, strict=True)]}
                for r in schema.application_rows(fmt)]
        tables["applications"] = {"headings": headings, "rows": rows,
                                  "cells": [c for row in rows for c in row["cells"]]}
    if any(k.startswith("review_litigation.") for k in values):
        keys = schema.review_keys(fmt)
        parts = [label("review_litigation", "row", k).split(" / ") for k in keys]
        cells = [Cell(f"review_litigation.{k}.value", values.get(f"review_litigation.{k}.value"), " / ".join(p))
                 for k, p in zip(keys, parts, strict=True)]
        tables["review_litigation"] = {"header": _header_rows(parts), "cells": cells}
    return tables


def _header_rows(parts: list[list[str]]) -> list[list[dict[str, Any]]]:
    """Nested header rows (行政复议 / 行政诉讼 → 未经复议直接起诉 / 复议后起诉 → 结果维持 …) with col- and rowspans:
    a label of fewer levels spans down to the last row."""
    depth = max(len(p) for p in parts)
    rows: list[list[dict[str, Any]]] = [[] for _ in range(depth)]
    for level in range(depth):
        for index, path in enumerate(parts):
            if level >= len(path):
                continue
            prefix = path[: level + 1]
            last = level == len(path) - 1
            previous = rows[level][-1] if rows[level] else None
            if previous and previous["prefix"] == prefix and not last and previous["end"] == index:
                previous["colspan"] += 1
                previous["end"] = index + 1
            else:
                rows[level].append({"text": path[level], "prefix": prefix, "colspan": 1, "end": index + 1,
                                    "rowspan": depth - level if last else 1})
    return rows


def _cells_of_check(rule: str, detail: str, placed: dict[str, Cell]) -> list[str]:
    """The cells a failed rule is about, read from its detail ("total: …", "granted: …", "行政复议: …")."""
    keys: list[str] = []
    for part in detail.split("; "):
        head = part.split(":")[0].strip()
        if rule == "row_total":
            keys += [k for k in placed if k.startswith(f"applications.{head}.")]
        elif rule == "balance":
            keys += [f"applications.{row}.{head}" for row in _BALANCE_ROWS]
        elif rule == "processed_sum":
            keys.append(f"applications.total_processed.{head}")
        elif rule.endswith("_total"):
            keys += [f"review_litigation.{rule[: -len('_total')]}_{o}.value" for o in _OUTCOMES]
    return [k for k in keys if k in placed]


def _versions(conn: sqlite3.Connection, url: str) -> list[dict[str, Any]]:
    """Every version at the report's URL, oldest first, each with the cells that changed from the one before."""
    versions = _rows(conn, "SELECT id, version, is_current, sha256, stored_at, superseded_at, title FROM reports"
                           " WHERE url = ? ORDER BY version", [url])
    before: dict[str, Any] | None = None
    for version in versions:
        values = _cells(conn, version["id"])
        version["changes"] = [] if before is None else [
            (key, before.get(key), values.get(key)) for key in sorted(set(before) | set(values))
            if before.get(key) != values.get(key)]
        before = values
    return versions


def _citation(report: dict[str, Any]) -> str:
    year = f"{report['year']}年度" if report["year"] else "年度不详"
    return (f"{report['agency'] or '（机关不详）'}：《{report['title'] or '（无标题）'}》（{year}），{report['url']}，"
            f"抓取于 {report['first_fetched'] or report['stored_at']}，原件 sha256 {report['sha256']}。")
