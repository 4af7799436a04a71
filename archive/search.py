"""Full-text search over report text that works for Chinese at any query length.

The FTS5 `trigram` tokenizer finds any substring of 3+ characters without word segmentation. 1–2 character words
(复议, 诉讼, 收费: most of Chinese) are found through the same index's vocabulary when they are rare enough to
read their occurrences (archive/short_words.py), and otherwise by a scan with instr() that stops at `limit`
matches, which for a common word comes at once. `search` picks the path per term, so callers never need to know.

Every path reads current reports through report_summary's (year DESC, agency) index, the order results come in.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlite_utils import Database

from archive.short_words import is_common, reports_with
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
    params.update({f"t{i}": term for i, term in enumerate(terms)})
    long_terms = [term for term in terms if len(term) >= MIN_TRIGRAM]
    indexed = []  # subqueries of report ids, each for one or more terms
    if long_terms:
        params["match"] = " AND ".join(_fts_phrase(term) for term in long_terms)
        indexed.append("SELECT rowid FROM reports_fts WHERE reports_fts MATCH :match")
    scanned = []  # common short terms, checked report by report
    for i, term in enumerate(terms):
        if len(term) >= MIN_TRIGRAM:
            continue
        if db.execute(f"SELECT {is_common(f't{i}')}", params).fetchone()[0]:
            scanned.append(i)
        else:
            indexed.append(reports_with(f"t{i}"))
    conditions = [f"s.report_id IN ({sql})" for sql in indexed]
    if scanned:
        found = " AND ".join(
            f"instr(coalesce(t.title, '') || char(10) || coalesce(t.agency, '') || char(10) || t.text, :t{i}) > 0"
            for i in scanned
        )
        # a correlated subquery, not a join: with a join SQLite first builds a Bloom filter over every report
        conditions.append(f"(SELECT {found} FROM reports t WHERE t.id = s.report_id)")
    where = " AND ".join(conditions)
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
