"""The SQLite archive of annual reports and its publishing with Datasette.

Public API:
    Archive(db_path, raw_dir=None)      write side used by the crawler (archive/store.py: runs, fetches, reports,
                                        errors, raw bodies content-addressed under <db dir>/raw/)
    reparse(db_path) -> ReparseSummary  rebuild every parsed row from the archived bytes, no network
    export_csv(db_path, out) -> int     report_summary as CSV, UTF-8 with BOM (Excel-safe); returns rows written
    search(db, q) -> list[dict]         full-text search: trigram FTS, its vocabulary for 1–2 characters
                                        (archive/short_words.py), a scan for common 1–2 character words
    archive.serve.datasette_app(db_path) -> Datasette    read-only Datasette with the root metadata.yml
    archive.serve.serve(db_path, port, host)             run it with uvicorn (`nianbao serve`)

archive.serve is not imported here so that crawling does not pay for importing Datasette.
"""

from archive.export import export_csv
from archive.reparse import ReparseSummary, reparse
from archive.search import search
from archive.store import Archive

__all__ = ["Archive", "ReparseSummary", "export_csv", "reparse", "search"]
