"""Publishing the archive with Datasette, read-only, described by metadata.yml (package data; the root
metadata.yml of a source checkout is a link to it), with nianbao's plugin and templates.

Why not Datasette's immutable mode: the crawler may still be writing (WAL) while people browse, and an immutable
connection would ignore the WAL and could read a half-checkpointed file. Instead every connection is opened
`mode=ro` and the write connection Datasette would open on demand is refused outright, so nothing served —
canned query, plugin or SQL box — can change the archive.

A public server: NIANBAO_PUBLIC=1 (or `public=True`) turns Datasette's free SQL off (`allow_sql: false`), so only
tables, canned queries and nianbao's pages run; every connection also caps value length and SQLite's heap
(archive/datasette_plugin.py).
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from datasette.app import Datasette
from datasette.database import Database
from datasette.plugins import pm
from markupsafe import escape

from archive import datasette_plugin
from archive.datasette_plugin import DB_NAME
from archive.headings import SUMMARY_VIEW, ensure_summary_view, summary_headings
from archive.store import open_db
from archive.summary import ROLLUPS

PACKAGE = resources.files("archive")
METADATA_PATH = Path(str(PACKAGE / "metadata.yml"))
TEMPLATES = Path(str(PACKAGE / "templates"))
PUBLIC_ENV = "NIANBAO_PUBLIC"

__all__ = ["DB_NAME", "METADATA_PATH", "datasette_app", "load_metadata", "serve"]

SETTINGS = {
    "truncate_cells_html": 200,  # report text is long; the row page still shows it whole
    "sql_time_limit_ms": 5000,  # the short-query search scans every report's text
    "facet_time_limit_ms": 500,
    # Suggesting facets runs a count(distinct) per column (~30 on report_summary, full text on reports) on every
    # table page: at 100,000 reports that was most of a 2.7 s page. The configured facets stay.
    "suggest_facets": False,
}


class ReadOnlyDatabase(Database):
    """A Datasette database whose connections can only read."""

    def connect(self, write: bool = False):
        if write:
            raise PermissionError("the nianbao archive is published read-only")
        return super().connect(write=False)


def load_metadata(*, public: bool = False) -> dict[str, Any]:
    """metadata.yml as served: the rollups' value counts described (archive.summary makes them), each table's
    column descriptions moved to the glossary page (a table opens with its rows, not with a screen of
    definitions), the Chinese-headed view described, free SQL off when public."""
    metadata = yaml.safe_load(METADATA_PATH.read_text(encoding="utf-8"))
    tables = metadata["databases"][DB_NAME]["tables"]
    for rollup in ROLLUPS:
        tables[rollup.name]["columns"] = _with_value_counts(tables[rollup.name]["columns"], rollup.sums)
    tables[SUMMARY_VIEW] = {
        "description": "每份报告一行（仅当前版本），中文表头；点报告标题看整份报告。数字为空表示报告缺少那张表，"
                       "不是 0。"
                       " / report_summary with the template's Chinese headings; English keys in report_summary.",
        "label_column": "报告标题",
        "size": 20,
        "columns": {heading: tables["report_summary"]["columns"][column]
                    for column, heading in summary_headings().items()},
    }
    glossary = {}
    for name, table in tables.items():
        glossary[name] = table.pop("columns", {})
        if table.get("description"):
            link = f'<a href="/-/glossary#{escape(name)}">字段说明 / what each column means</a>'
            table["description_html"] = f'<p>{escape(table["description"])}</p><p>{link}</p>'
    metadata.setdefault("plugins", {})["nianbao"] = {"glossary": glossary}
    if public:
        metadata["allow_sql"] = False
    return metadata


def _with_value_counts(columns: dict[str, str], sums: tuple[str, ...]) -> dict[str, str]:
    """A rollup's column descriptions with each sum's `<sum>_values` column (archive.summary.Rollup) after it."""
    described = {}
    for column, description in columns.items():
        described[column] = description
        if column in sums:
            described[f"{column}_values"] = (f"有此数字的报告数（{column} 合计的非空值个数）/ reports with the figure: "
                                             f"how many non-blank values {column} adds up")
    return described


def _register_plugin() -> None:
    if not pm.is_registered(datasette_plugin):
        pm.register(datasette_plugin, name="nianbao")


def datasette_app(db_path: str | Path, *, public: bool | None = None) -> Datasette:
    """A Datasette instance over the archive at `db_path`, named `nianbao`; `public` defaults to $NIANBAO_PUBLIC."""
    db = open_db(db_path, create=False)  # an archive from an older nianbao is migrated before it is shown
    try:
        ensure_summary_view(db.conn)
    finally:
        db.close()
    if public is None:
        public = os.environ.get(PUBLIC_ENV, "") not in ("", "0")
    _register_plugin()
    ds = Datasette(files=[], metadata=load_metadata(public=public), settings=SETTINGS, template_dir=str(TEMPLATES))
    ds.remove_database("_memory")
    ds.add_database(ReadOnlyDatabase(ds, path=str(Path(db_path).resolve())), name=DB_NAME)
    return ds


def serve(db_path: str | Path, port: int = 8001, host: str = "127.0.0.1", *, public: bool | None = None) -> None:
    """Serve the archive over HTTP until interrupted (what `nianbao serve` runs)."""
    import uvicorn

    uvicorn.run(datasette_app(db_path, public=public).app(), host=host, port=port, lifespan="on")
