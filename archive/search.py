"""Full-text search over report text that works for Chinese at any query length.

The FTS5 `trigram` tokenizer finds any substring of 3+ characters without word segmentation. 1–2 character words
(复议, 诉讼, 收费: most of Chinese) are found through the same index's vocabulary when they are rare enough to
read their occurrences (archive/short_words.py), and otherwise by a scan with instr() that stops at `limit`
matches, which for a common word comes at once. `search` picks the path per term, so callers never need to know.

Every path reads current reports through report_summary's (year DESC, agency) index, the order results come in.
The search_text canned query is written here too (search_text_sql), and served by archive.datasette_plugin.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlite_utils import Database

from archive.short_words import COMMON_WORD, is_common, occurrences, reports_with
from archive.store import open_db

MIN_TRIGRAM = 3
EXCERPT_CHARS = 30


def _fts_phrase(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def _contains(row: str, param: str) -> str:
    """SQL, true when the title, agency or text of report `row` contains the string bound to `:param`."""
    return (f"instr(coalesce({row}.title, '') || char(10) || coalesce({row}.agency, '') || char(10) || {row}.text, "
            f":{param}) > 0")


def _excerpt(row: str, param: str) -> str:
    """SQL for the text of report `row` around the first occurrence of `:param`."""
    return (f"substr({row}.text, max(instr({row}.text, :{param}) - {EXCERPT_CHARS}, 1), "
            f"{2 * EXCERPT_CHARS} + length(:{param}))")


def search_text_sql(common: int = COMMON_WORD) -> str:
    """The search_text canned query (one term `:q`, any length): `search` in one statement, the path chosen per
    row of a one-row probe. `common`: the occurrences from which a short word is scanned for (tests lower it)."""
    columns = "s.report_id, s.agency, s.region, s.year, s.title"
    return f"""with probe as materialized (select {occurrences("q", common)} as occurrences)
select {columns}, {_excerpt("r", "q")} as excerpt, s.url
from report_summary s cross join reports r on r.id = s.report_id
where length(:q) >= {MIN_TRIGRAM} and s.report_id in (
  select rowid from reports_fts where reports_fts match '"' || replace(:q, '"', '""') || '"')
union all
-- a rarer short word: the one-row probe is the outer loop, so a common word's occurrences are never read (a WHERE
-- term holding a subquery is tested row by row: that read them all, 1.8 s at 1 M reports)
select {columns}, {_excerpt("r", "q")}, s.url
from probe
  cross join ({reports_with("q")}) m
  cross join report_summary s on s.report_id = m.doc
  cross join reports r on r.id = s.report_id
where length(:q) between 1 and {MIN_TRIGRAM - 1} and probe.occurrences < {common}
union all
-- a common one: newest year first through the (year desc, agency) index, so the scan stops at the first 1,000
-- matches; text read by a correlated subquery, because a join builds a Bloom filter over every report first
select {columns}, (select {_excerpt("t", "q")} from reports t where t.id = s.report_id), s.url
from report_summary s
where length(:q) between 1 and {MIN_TRIGRAM - 1} and (select occurrences from probe) >= {common}
  and (select {_contains("t", "q")} from reports t where t.id = s.report_id)
order by 4 desc, 2"""


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
    params: dict[str, Any] = {"first": terms[0], "limit": limit}
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
        found = " AND ".join(_contains("t", f"t{i}") for i in scanned)
        # a correlated subquery, not a join: with a join SQLite first builds a Bloom filter over every report
        conditions.append(f"(SELECT {found} FROM reports t WHERE t.id = s.report_id)")
    where = " AND ".join(conditions)
    sql = f"""
        SELECT s.report_id AS id, s.url, s.agency, s.region, s.year, s.title,
               (SELECT {_excerpt("t", "first")} FROM reports t WHERE t.id = s.report_id) AS excerpt
        FROM report_summary s
        WHERE {where}
        ORDER BY s.year DESC, s.agency, s.report_id
        LIMIT :limit
    """
    return [dict(row) for row in db.query(sql, params)]
