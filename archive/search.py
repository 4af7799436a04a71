"""Full-text search over report text that works for Chinese at any query length.

The FTS5 `trigram` tokenizer finds any substring of 3+ characters without word segmentation, but it cannot match
anything shorter — and 2-character words (复议, 诉讼, 收费) are most of Chinese. Those queries fall back to a scan
with instr(), slower but exact. `search` picks the path per query, so callers never need to know.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlite_utils import Database

from archive.store import open_db

MIN_TRIGRAM = 3
EXCERPT_CHARS = 30


def _fts_phrase(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def search(db: Database | str | Path, q: str, *, limit: int = 100) -> list[dict[str, Any]]:
    """Current reports whose title, agency or text contains every whitespace-separated term of `q`.

    Rows have id, url, agency, region, year, title and `excerpt` (text around the first term), newest first.
    """
    terms = q.split()
    if not terms:
        return []
    if isinstance(db, Database):
        return _search(db, terms, limit)
    opened = open_db(db, create=False)
    try:
        return _search(opened, terms, limit)
    finally:
        opened.close()


def _search(db: Database, terms: list[str], limit: int) -> list[dict[str, Any]]:
    params: dict[str, Any] = {"first": terms[0], "before": EXCERPT_CHARS, "limit": limit}
    if all(len(term) >= MIN_TRIGRAM for term in terms):
        params["match"] = " AND ".join(_fts_phrase(term) for term in terms)
        where = "r.id IN (SELECT rowid FROM reports_fts WHERE reports_fts MATCH :match)"
    else:
        where = " AND ".join(
            f"instr(coalesce(r.title, '') || char(10) || coalesce(r.agency, '') || char(10) || r.text, :t{i}) > 0"
            for i in range(len(terms))
        )
        params.update({f"t{i}": term for i, term in enumerate(terms)})
    sql = f"""
        SELECT r.id, r.url, r.agency, r.region, r.year, r.title,
               substr(r.text, max(instr(r.text, :first) - :before, 1), 2 * :before + length(:first)) AS excerpt
        FROM reports r
        WHERE r.is_current = 1 AND {where}
        ORDER BY r.year DESC, r.agency, r.id
        LIMIT :limit
    """
    return [dict(row) for row in db.query(sql, params)]
