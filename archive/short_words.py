"""Finding 1–2 character words (复议, 诉讼, 收费 — most of Chinese) through the trigram index, exactly.

The FTS5 `trigram` tokenizer indexes every 3-character window of a column, so it cannot MATCH a shorter word.
But every occurrence of a 1–2 character word starts some indexed trigram — except in a column's last two
characters, where fewer than three remain. So a report contains the word when
- a trigram of its index starts with the word: the index's vocabulary, read by occurrence through an fts5vocab
  `instance` table over a range of terms (those that start with the word), or
- one of its columns ends with it: `report_tails` holds each column's last two characters, and each of those two
  characters alone, kept by triggers like the index itself.
Both are lower-cased, as the tokenizer folds case. SQLite's lower() folds ASCII only, so a 1–2 character query of
other cased letters (full-width Ａ, Greek) could miss what the tokenizer folded; Chinese has no case.

A common word has millions of occurrences, and reading them all is slower than a scan of the newest reports that
stops at the first page of matches. So the occurrences are counted first, up to COMMON_WORD; a word with that
many goes the scan's way (archive.search, which also writes the search_text canned query).
"""

from __future__ import annotations

from sqlite_utils import Database

# Occurrences from which a short word counts as common. Reading occurrences costs ~0.15 µs each and turning them
# into reports ~0.3 µs, so a word below this answers in tens of ms; a word above it is in so many reports that the
# newest-first scan fills a page at once.
COMMON_WORD = 100_000
OCCURRENCES = "reports_fts_instance"  # fts5vocab(reports_fts, 'instance'): one row per indexed trigram occurrence
# The trigrams that start with the word: from the word itself up to the word followed by the last code point.
_TERM_RANGE = "term >= lower(:{p}) AND term < lower(:{p}) || char(1114111)"
# The characters of the three searchable columns of a report row (`row` is `new` in a trigger, `r` in a backfill
# over `rows`) that no trigram starts with: the last two, together and one by one.
_TAILS_OF = """
    SELECT {row}.id AS report_id, lower(substr(
             CASE c.k WHEN 1 THEN {row}.title WHEN 2 THEN {row}.agency ELSE {row}.text END, p.s, p.n)) AS tail
    FROM {rows}(SELECT 1 AS k UNION ALL SELECT 2 UNION ALL SELECT 3) c,
         (SELECT -2 AS s, 2 AS n UNION ALL SELECT -1, 1 UNION ALL SELECT -2, 1) p
    WHERE tail <> ''"""

SCHEMA: tuple[str, ...] = (
    f"CREATE VIRTUAL TABLE {OCCURRENCES} USING fts5vocab(reports_fts, 'instance')",
    "CREATE TABLE report_tails (report_id INTEGER NOT NULL, tail TEXT NOT NULL, PRIMARY KEY (report_id, tail))"
    " WITHOUT ROWID",
    "CREATE INDEX report_tails_tail ON report_tails (tail)",
    "CREATE TRIGGER report_tails_ai AFTER INSERT ON reports BEGIN"
    f"  INSERT OR IGNORE INTO report_tails (report_id, tail) {_TAILS_OF.format(row='new', rows='')};"
    " END",
    "CREATE TRIGGER report_tails_au AFTER UPDATE OF title, agency, text ON reports BEGIN"
    "  DELETE FROM report_tails WHERE report_id = old.id;"
    f"  INSERT OR IGNORE INTO report_tails (report_id, tail) {_TAILS_OF.format(row='new', rows='')};"
    " END",
    "CREATE TRIGGER report_tails_ad AFTER DELETE ON reports BEGIN"
    "  DELETE FROM report_tails WHERE report_id = old.id;"
    " END",
)
BACKFILL = f"INSERT OR IGNORE INTO report_tails (report_id, tail) {_TAILS_OF.format(row='r', rows='reports r, ')}"


def create_short_word_index(db: Database) -> None:
    """The occurrence table and the tails (with their triggers), filled for the reports already stored."""
    for sql in SCHEMA:
        db.execute(sql)
    db.execute(BACKFILL)


def occurrences(param: str, common: int = COMMON_WORD) -> str:
    """SQL for the occurrences in the index of the word bound to `:param`, counted up to `common`."""
    return f"(SELECT count(*) FROM (SELECT 1 FROM {OCCURRENCES} WHERE {_TERM_RANGE.format(p=param)} LIMIT {common}))"


def is_common(param: str) -> str:
    """SQL, true when the word bound to `:param` has COMMON_WORD or more occurrences in the index."""
    return f"{occurrences(param)} >= {COMMON_WORD}"


def reports_with(param: str) -> str:
    """SQL for the ids of the reports (every version) whose title, agency or text contains the 1–2 character word
    bound to `:param`."""
    return (f"SELECT doc FROM {OCCURRENCES} WHERE {_TERM_RANGE.format(p=param)}"
            f" UNION SELECT report_id FROM report_tails WHERE tail = lower(:{param})")
