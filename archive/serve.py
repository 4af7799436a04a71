"""Publishing the archive with Datasette, read-only, described by the root metadata.yml.

Why not Datasette's immutable mode: the crawler may still be writing (WAL) while people browse, and an immutable
connection would ignore the WAL and could read a half-checkpointed file. Instead every connection is opened
`mode=ro` and the write connection Datasette would open on demand is refused outright, so nothing served —
canned query, plugin or SQL box — can change the archive.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from datasette.app import Datasette
from datasette.database import Database

from archive.store import open_db

METADATA_PATH = Path(__file__).parents[1] / "metadata.yml"
DB_NAME = "nianbao"  # the name metadata.yml and the URLs use, whatever the file is called

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


def datasette_app(db_path: str | Path) -> Datasette:
    """A Datasette instance over the archive at `db_path`, named `nianbao`, with the root metadata.yml."""
    open_db(db_path, create=False).close()  # an archive from an older nianbao is migrated before it is shown
    metadata = yaml.safe_load(METADATA_PATH.read_text(encoding="utf-8"))
    ds = Datasette(files=[], metadata=metadata, settings=SETTINGS)
    ds.remove_database("_memory")
    ds.add_database(ReadOnlyDatabase(ds, path=str(Path(db_path).resolve())), name=DB_NAME)
    return ds


def serve(db_path: str | Path, port: int = 8001, host: str = "127.0.0.1") -> None:
    """Serve the archive over HTTP until interrupted (what `nianbao serve` runs)."""
    import uvicorn

    uvicorn.run(datasette_app(db_path).app(), host=host, port=port, lifespan="on")
