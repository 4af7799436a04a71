"""Full-text search over report text that works for Chinese at any query length.

The FTS5 `trigram` tokenizer finds any substring of 3+ characters without word segmentation, but it cannot match
anything shorter — and 2-character words (复议, 诉讼, 收费) are most of Chinese. Those queries fall back to a scan
with instr(), slower but exact. `search` picks the path per query, so callers never need to know.

Both paths read current reports through report_summary's (year DESC, agency) index, the order results come in, so
the scan stops at `limit` matches instead of sorting every match: a common word answers at once, a rare one still
reads every report (a bigram index of all report text would be about as large as the trigram index).
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
        where = "s.report_id IN (SELECT rowid FROM reports_fts WHERE reports_fts MATCH :match)"
    else:
        found = " AND ".join(
            f"instr(coalesce(t.title, '') || char(10) || coalesce(t.agency, '') || char(10) || t.text, :t{i}) > 0"
            for i in range(len(terms))
        )
        # a correlated subquery, not a join: with a join SQLite first builds a Bloom filter over every report
        where = f"(SELECT {found} FROM reports t WHERE t.id = s.report_id)"
        params.update({f"t{i}": term for i, term in enumerate(terms)})
    sql = f"""
        SELECT s.report_id AS id, s.url, s.agency, s.region, s.year, s.title,
               (SELECT substr(t.text, max(instr(t.text, :first) - :before, 1), 2 * :before + length(:first))
                FROM reports t WHERE t.id = s.report_id) AS excerpt
        FROM report_summary s
        WHERE {where}
        ORDER BY s.year DESC, s.agency, s.report_id
        LIMIT :limit
    """
    return [dict(row) for row in db.query(sql, params)]
