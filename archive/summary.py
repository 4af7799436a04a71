"""`report_summary`: one row per current report with the key figures as columns — what a journalist exports.

Its rows are computed from `reports` and `cells` by SUMMARY_SQL. Each figure either picks one cell (MAX over a
single match) or adds up a group of rows (SUM); both are NULL when the report has no such table, so a missing table
reads as "unknown", never as zero.

Why a table and not a view: the view regrouped ~230 cells per report on every read, so at 10,000 reports its facet page
took 10 s (bench/README.md). The table is derived data, kept exact by `refresh_summary` in the same
transaction as every write of a report (store_report, reparse), and rebuilt from `cells` whenever its definition
here changes (SUMMARY_TABLE_SQL embeds a digest of every derived definition in this module; archive.schema
compares it on every open).

The canned queries must answer in well under 100 ms at a million reports, so what they aggregate is materialised
here too, in the same transaction, never in a cache that can go stale:
- `report_reasons`: the `total` of every refusal-reason row (denied_*, unavailable_*, rejected_*) of each current
  report, keyed by the canonical row key — what refusal_reasons used to regroup from ~18 cells a report;
- `reason_totals` and `region_year_totals`: ROLLUPS of report_reasons and report_summary, kept exact by
  triggers that add a row's figures when it is inserted and take them away when it is deleted;
- `report_gaps`: the reports whose agency has no report for the next year (missing_reports), kept by triggers.
A handful of rows per year instead of a scan per request.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from sqlite_utils import Database


@dataclass(frozen=True)
class Figure:
    column: str
    table: str
    rows: str  # GLOB pattern over row_key: one key, or e.g. 'denied_*' for a group
    column_key: str
    description: str

    def sql(self) -> str:
        single = not any(ch in self.rows for ch in "*?[")
        aggregate = "MAX" if single else "SUM"
        match = f"c.row_key = '{self.rows}'" if single else f"c.row_key GLOB '{self.rows}'"
        return (
            f"{aggregate}(CASE WHEN c.table_name = '{self.table}' AND {match} "
            f"AND c.column_key = '{self.column_key}' THEN c.value END) AS {self.column}"
        )


FIGURES: tuple[Figure, ...] = (
    Figure("new_received", "applications", "new_received", "total", "本年新收申请数 / new requests received"),
    Figure("carried_over", "applications", "carried_over", "total", "上年结转申请数 / carried over from last year"),
    Figure("granted", "applications", "granted", "total", "予以公开 / granted"),
    Figure("partially_granted", "applications", "partially_granted", "total", "部分公开 / partially granted"),
    Figure("denied_total", "applications", "denied_*", "total", "不予公开合计 / refused (all reasons)"),
    Figure("unavailable_total", "applications", "unavailable_*", "total",
           "无法提供合计 / could not be provided (all reasons)"),
    Figure("rejected_total", "applications", "rejected_*", "total", "不予处理合计 / not handled (all reasons)"),
    Figure("other_total", "applications", "other*", "total", "其他处理合计 / other outcomes"),
    Figure("total_processed", "applications", "total_processed", "total", "办理结果总计 / total processed"),
    Figure("carried_forward", "applications", "carried_forward", "total",
           "结转下年度继续办理 / carried forward to next year"),
    Figure("review_total", "review_litigation", "review_total", "value", "行政复议总计 / administrative reviews"),
    Figure("review_corrected", "review_litigation", "review_corrected", "value",
           "行政复议结果纠正 / reviews that corrected the agency"),
    Figure("suit_total", "review_litigation", "suit_*_total", "value",
           "行政诉讼总计（未经复议直接起诉＋复议后起诉）/ lawsuits (direct + after review)"),
    Figure("suit_corrected", "review_litigation", "suit_*_corrected", "value",
           "行政诉讼结果纠正 / lawsuits that corrected the agency"),
    Figure("licensing_decisions", "proactive", "licensing", "decisions", "行政许可处理决定数 / licensing decisions"),
    Figure("penalty_decisions", "proactive", "penalty", "decisions", "行政处罚处理决定数 / penalty decisions"),
    Figure("coercion_decisions", "proactive", "coercion", "decisions", "行政强制处理决定数 / coercion decisions"),
    Figure("fees_10k_yuan", "proactive", "fees", "amount_10k_yuan",
           "行政事业性收费金额（万元，2021 版表格才有）/ fees collected, 10,000 yuan (2021 template only)"),
)

# Columns taken from `reports` as they are, before the figures.
REPORT_COLUMNS: tuple[str, ...] = (
    "agency", "region", "year", "title", "url", "published", "format", "checks_ok", "failed_checks", "flag_count",
    "version", "sha256",
)

# `{where}` narrows the reports recomputed: "" for all of them, or a condition on r.id.
# A report is unparsed when its tables were not read: no template found, or its text carries the template's labels
# but a table could not be read (the failed check "tables_read" of parsers/checks.py).
UNPARSED_SQL = "(r.format = 'unknown' OR instr(coalesce(r.failed_checks, ''), 'tables_read') > 0) AS unparsed"
SUMMARY_SQL = (
    "SELECT r.id AS report_id, "
    + ", ".join(f"r.{name}" for name in REPORT_COLUMNS)
    + ", " + UNPARSED_SQL + ", "
    + ", ".join(figure.sql() for figure in FIGURES)
    + " FROM reports r LEFT JOIN cells c ON c.report_id = r.id WHERE r.is_current = 1{where} GROUP BY r.id"
)

SUMMARY_COLUMNS: tuple[str, ...] = ("report_id", *REPORT_COLUMNS, "unparsed", *(f.column for f in FIGURES))

_REPORT_TYPES = {"year": "INTEGER", "checks_ok": "INTEGER", "flag_count": "INTEGER", "version": "INTEGER",
                 "unparsed": "INTEGER"}


# Refusal reasons, as the applications rows whose keys start so in parsers/report_schema.json (both templates).
REASON_PATTERNS: tuple[str, ...] = ("denied_*", "unavailable_*", "rejected_*")
REASONS_TABLE_SQL = (
    "CREATE TABLE report_reasons (\n"
    "  report_id INTEGER NOT NULL REFERENCES reports(id),\n"
    "  reason TEXT NOT NULL,\n"
    "  year INTEGER,\n"
    "  format TEXT NOT NULL,\n"
    "  requests ANY,\n"
    "  PRIMARY KEY (report_id, reason)\n"
    ") WITHOUT ROWID"
)
REASONS_SQL = (
    "SELECT r.id AS report_id, c.row_key AS reason, r.year, r.format, c.value AS requests "
    "FROM reports r JOIN cells c ON c.report_id = r.id "
    "WHERE r.is_current = 1{where} AND c.table_name = 'applications' AND c.column_key = 'total' AND ("
    + " OR ".join(f"c.row_key GLOB '{pattern}'" for pattern in REASON_PATTERNS)
    + ")"
)


@dataclass(frozen=True)
class Rollup:
    """Totals of a derived per-report table grouped by `keys`, kept exact by triggers on that table.

    Every total group has `reports` (rows of the source in it) and is deleted when that reaches 0, so a group
    exists exactly when GROUP BY over the source would yield it. A summed column is NULL while every value added
    into it is NULL — what SUM() gives — which needs a count of the non-NULL values beside it (`<sum>_values`).
    Counts are (column, condition) with `{r}` standing for the source row: rows where the condition is true.
    Keys may be NULL (a report without a year), so rows are matched with IS, not by an UPSERT. The sums are
    counts of requests (integers), which adding and subtracting keep exact.
    """

    name: str
    source: str
    keys: tuple[str, ...]
    sums: tuple[str, ...]
    counts: tuple[tuple[str, str], ...] = ()

    def ddl(self) -> list[str]:
        columns = [*self.keys, "reports INTEGER NOT NULL",  # keys untyped: stored exactly as in the source
                   *(f"{column} ANY, {column}_values INTEGER NOT NULL" for column in self.sums),
                   *(f"{column} INTEGER NOT NULL" for column, _ in self.counts)]
        return [f"CREATE TABLE {self.name} (\n  " + ",\n  ".join(columns) + "\n)",
                f"CREATE UNIQUE INDEX {self.name}_keys ON {self.name} ({', '.join(self.keys)})"]

    def fill_sql(self) -> str:
        """Every group computed at once from the source (create_summary, before the triggers exist)."""
        keys = ", ".join(self.keys)
        values = [*self.keys, "count(*)", *(f"sum(r.{c}), count(r.{c})" for c in self.sums),
                  *(f"count(CASE WHEN {cond.format(r='r')} THEN 1 END)" for _, cond in self.counts)]
        return (f"INSERT INTO {self.name} SELECT {', '.join(values)} FROM {self.source} r "
                f"GROUP BY {keys}")

    def trigger_sql(self) -> list[str]:
        match = " AND ".join(f"{key} IS {{r}}.{key}" for key in self.keys)
        zero = ", ".join(["NEW." + key for key in self.keys] + ["0"] + ["NULL, 0"] * len(self.sums)
                         + ["0"] * len(self.counts))
        add = ", ".join(
            ["reports = reports + 1"]
            + [f"{c} = CASE WHEN NEW.{c} IS NULL THEN {c} ELSE coalesce({c}, 0) + NEW.{c} END, "
               f"{c}_values = {c}_values + (NEW.{c} IS NOT NULL)" for c in self.sums]
            + [f"{c} = {c} + (CASE WHEN {cond.format(r='NEW')} THEN 1 ELSE 0 END)" for c, cond in self.counts])
        take = ", ".join(
            ["reports = reports - 1"]
            + [f"{c} = CASE WHEN OLD.{c} IS NULL THEN {c} WHEN {c}_values = 1 THEN NULL ELSE {c} - OLD.{c} END, "
               f"{c}_values = {c}_values - (OLD.{c} IS NOT NULL)" for c in self.sums]
            + [f"{c} = {c} - (CASE WHEN {cond.format(r='OLD')} THEN 1 ELSE 0 END)" for c, cond in self.counts])
        return [
            f"CREATE TRIGGER {self.name}_add AFTER INSERT ON {self.source} BEGIN\n"
            f"  INSERT INTO {self.name} SELECT {zero} WHERE NOT EXISTS "
            f"(SELECT 1 FROM {self.name} WHERE {match.format(r='NEW')});\n"
            f"  UPDATE {self.name} SET {add} WHERE {match.format(r='NEW')};\nEND",
            f"CREATE TRIGGER {self.name}_take AFTER DELETE ON {self.source} BEGIN\n"
            f"  UPDATE {self.name} SET {take} WHERE {match.format(r='OLD')};\n"
            f"  DELETE FROM {self.name} WHERE {match.format(r='OLD')} AND reports = 0;\nEND",
        ]


ROLLUPS: tuple[Rollup, ...] = (
    Rollup("reason_totals", "report_reasons", ("year", "format", "reason"), ("requests",),
           (("citing", "{r}.requests > 0"),)),
    Rollup("region_year_totals", "report_summary", ("region", "year"),
           ("new_received", "granted", "partially_granted", "denied_total", "unavailable_total", "rejected_total",
            "total_processed"),
           (("without_figures", "{r}.new_received IS NULL"), ("failing_checks", "{r}.checks_ok = 0"),
            ("unparsed", "{r}.unparsed = 1"))),
)

# report_gaps: a current report whose agency has no current report for the following year, with its year (most
# gaps are the newest year, which missing_reports leaves out through the index). The triggers keep the
# definition true row by row: a new report closes the gap its agency had the year before and is a gap itself
# unless the next year is there; a removed report stops being a gap and, if it was the last of its year, makes the
# previous year's reports gaps again.
GAPS_SQL: tuple[str, ...] = (
    "CREATE TABLE report_gaps (report_id INTEGER PRIMARY KEY REFERENCES reports(id), year INTEGER NOT NULL)",
    "CREATE INDEX report_gaps_year ON report_gaps (year)",
    "CREATE TRIGGER report_gaps_add AFTER INSERT ON report_summary "
    "WHEN NEW.agency IS NOT NULL AND NEW.year IS NOT NULL BEGIN\n"
    "  DELETE FROM report_gaps WHERE report_id IN "
    "(SELECT report_id FROM report_summary WHERE agency = NEW.agency AND year = NEW.year - 1);\n"
    "  INSERT INTO report_gaps SELECT NEW.report_id, NEW.year WHERE NOT EXISTS "
    "(SELECT 1 FROM report_summary WHERE agency = NEW.agency AND year = NEW.year + 1);\nEND",
    "CREATE TRIGGER report_gaps_take AFTER DELETE ON report_summary "
    "WHEN OLD.agency IS NOT NULL AND OLD.year IS NOT NULL BEGIN\n"
    "  DELETE FROM report_gaps WHERE report_id = OLD.report_id;\n"
    "  INSERT OR IGNORE INTO report_gaps SELECT report_id, year FROM report_summary "
    "WHERE agency = OLD.agency AND year = OLD.year - 1 AND NOT EXISTS "
    "(SELECT 1 FROM report_summary WHERE agency = OLD.agency AND year = OLD.year);\nEND",
)
GAPS_FILL = (
    "INSERT INTO report_gaps SELECT s.report_id, s.year FROM report_summary s "
    "WHERE s.agency IS NOT NULL AND s.year IS NOT NULL AND NOT EXISTS "
    "(SELECT 1 FROM report_summary n WHERE n.agency = s.agency AND n.year = s.year + 1)"
)

# The facets people ask for (region, year, format, checks_ok) and what each canned query reads in index order, so it
# streams its first page instead of sorting every row: failing_checks (checks_ok, region, agency, year),
# search_text (year DESC, agency), lawsuits_corrected (its ORDER BY expression, only reports with a case),
# missing_reports and the per-agency lookups (agency, year).
SUMMARY_INDEXES: tuple[str, ...] = (
    "CREATE INDEX report_summary_region_year ON report_summary (region, year)",
    "CREATE INDEX report_summary_year_agency ON report_summary (year DESC, agency)",
    "CREATE INDEX report_summary_format ON report_summary (format)",
    "CREATE INDEX report_summary_checks ON report_summary (checks_ok, region, agency, year)",
    "CREATE INDEX report_summary_agency_year ON report_summary (agency, year)",
    "CREATE INDEX report_summary_corrected ON report_summary "
    "((coalesce(review_corrected, 0) + coalesce(suit_corrected, 0)) DESC, suit_total DESC, agency) "
    "WHERE review_total > 0 OR suit_total > 0",
)
_DERIVED = [SUMMARY_SQL, REASONS_TABLE_SQL, REASONS_SQL, *GAPS_SQL, GAPS_FILL, *SUMMARY_INDEXES,
            *(sql for rollup in ROLLUPS for sql in (*rollup.ddl(), rollup.fill_sql(), *rollup.trigger_sql()))]
_DEFINITION = hashlib.sha256("\n".join(_DERIVED).encode()).hexdigest()[:16]
# Figures keep the cells' ANY (NUMERIC) affinity: a count stays an integer, 万元 stays a real.
SUMMARY_TABLE_SQL = (
    "CREATE TABLE report_summary (\n"
    f"  -- derived by archive/summary.py from reports and cells, definition {_DEFINITION}\n"
    "  report_id INTEGER PRIMARY KEY REFERENCES reports(id),\n"
    + ",\n".join(f"  {name} {_REPORT_TYPES.get(name, 'TEXT')}" for name in (*REPORT_COLUMNS, "unparsed")) + ",\n"
    + ",\n".join(f"  {figure.column} ANY" for figure in FIGURES)
    + "\n)"
)
_INSERT = f"INSERT INTO report_summary ({', '.join(SUMMARY_COLUMNS)}) "


DERIVED_TABLES: tuple[str, ...] = ("report_gaps", *(rollup.name for rollup in ROLLUPS), "report_reasons",
                                    "report_summary")
_INSERT_REASONS = "INSERT INTO report_reasons (report_id, reason, year, format, requests) "


def create_summary(db: Database) -> None:
    """(Re)create every derived table from the current reports and their cells (inside a transaction).

    Rows are filled first and the triggers created last: a rollup computed in one GROUP BY is the same as one
    added up row by row, and far faster on a big archive.
    """
    for name in DERIVED_TABLES:  # dropping a table drops its indexes and triggers
        existing = db.execute("SELECT type FROM sqlite_master WHERE name = ?", [name]).fetchone()
        if existing is not None:  # a table, or the report_summary view older nianbao versions created
            db.execute(f"DROP {existing[0].upper()} {name}")
    db.execute(SUMMARY_TABLE_SQL)
    db.execute(_INSERT + SUMMARY_SQL.format(where=""))
    for sql in SUMMARY_INDEXES:  # before report_gaps is filled: it probes (agency, year)
        db.execute(sql)
    db.execute(REASONS_TABLE_SQL)
    db.execute(_INSERT_REASONS + REASONS_SQL.format(where=""))
    db.execute(GAPS_SQL[0])
    db.execute(GAPS_FILL)
    db.execute(GAPS_SQL[1])
    for rollup in ROLLUPS:
        for sql in rollup.ddl():
            db.execute(sql)
        db.execute(rollup.fill_sql())
    for sql in (*GAPS_SQL[2:], *(t for rollup in ROLLUPS for t in rollup.trigger_sql())):
        db.execute(sql)


def refresh_summary(db: Database, report_ids: Iterable[int]) -> None:
    """Recompute the derived rows of these report versions (call in the transaction that changed them): a
    superseded version's rows go, a current one's are rewritten from its cells; the triggers carry the change
    into the rollups and report_gaps."""
    ids = sorted(set(report_ids))
    marks = ", ".join("?" * len(ids))
    db.execute(f"DELETE FROM report_reasons WHERE report_id IN ({marks})", ids)
    db.execute(f"DELETE FROM report_summary WHERE report_id IN ({marks})", ids)
    db.execute(_INSERT + SUMMARY_SQL.format(where=f" AND r.id IN ({marks})"), ids)
    db.execute(_INSERT_REASONS + REASONS_SQL.format(where=f" AND r.id IN ({marks})"), ids)
