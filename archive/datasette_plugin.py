"""nianbao's Datasette plugin: pages for journalists, safe originals, CSV for Excel, and a server that holds.

Routes (register_routes): `/-/reports/{id}` one report as published (archive/report_page.py); `/-/raw/{sha256}` the
archived bytes under a sandboxing Content-Security-Policy; `/-/search?q=` search at any length (archive/search.py);
`/-/coverage` region × year, `/-/coverage?region=…` agency × year; `/-/glossary` what every column means.

asgi_wrapper: every CSV starts with the UTF-8 BOM and has formula-like cells neutralised (archive/spreadsheet.py);
a table's CSV streams all its rows (Datasette's `_stream`), a query's CSV is run without the 1,000-row page cap;
the `reports` table's own search box goes to `/-/search`, which also finds 1–2 character words; every write (any
method but GET, HEAD, OPTIONS) is refused with 403.

canned_queries: the SQL of queries written in Python (PYTHON_QUERIES), under metadata.yml's title and description.

prepare_connection: each connection refuses values over MAX_VALUE_BYTES and SQLite's heap is capped, so one
query cannot take the server's memory. render_cell: every row naming a report links to its page, a sha256 to
the original.
"""

from __future__ import annotations

import csv
import io
import re
import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

from datasette import hookimpl
from datasette.utils import tilde_decode
from datasette.utils.asgi import Response
from markupsafe import Markup, escape
from sqlite_utils import Database

from archive.report_page import load_report
from archive.search import search, search_text_sql
from archive.spreadsheet import BOM, CsvRewriter, safe_row
from archive.store import _blob_store

DB_NAME = "nianbao"  # the name metadata.yml and the URLs use, whatever the file is called
# The longest string or blob a query may make or read (a report's text is 10–500 KB), and SQLite's heap for the
# whole process: `select randomblob(900000000)` fails at once instead of taking gigabytes.
MAX_VALUE_BYTES = 8 * 1024 * 1024
HEAP_LIMIT_BYTES = 512 * 1024 * 1024
SEARCH_LIMIT = 200
# Bodies a browser shows inline; anything else is a download. Every body but a PDF is served under CSP `sandbox`
# (no script, an opaque origin), so an archived page never runs in the archive's origin.
_INLINE = ("text/html", "text/plain", "application/pdf", "image/png", "image/jpeg", "image/gif")
_SANDBOX = "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'"
# Canned queries whose algorithm lives in Python: metadata.yml describes them, the SQL comes from here.
PYTHON_QUERIES = {"search_text": search_text_sql()}


@hookimpl
def canned_queries(datasette, database: str) -> dict[str, dict[str, Any]] | None:
    if database != DB_NAME:
        return None
    described = datasette.metadata("queries", database=database, fallback=False) or {}
    return {name: {**described.get(name, {}), "sql": sql} for name, sql in PYTHON_QUERIES.items()}


@hookimpl
def prepare_connection(conn: sqlite3.Connection) -> None:
    conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_VALUE_BYTES)
    conn.execute(f"PRAGMA hard_heap_limit = {HEAP_LIMIT_BYTES}")


@hookimpl
def register_routes() -> list[tuple[str, Any]]:
    return [
        (r"^/-/reports/(?P<report_id>\d+)$", report_view),
        (r"^/-/raw/(?P<sha256>[0-9a-f]{64})$", raw_view),
        (r"^/-/search$", search_view),
        (r"^/-/coverage$", coverage_view),
        (r"^/-/glossary$", glossary_view),
    ]


def _link(href: str, text: Any) -> Markup:
    return Markup('<a href="{}">{}</a>').format(href, text)


def _plain(value: Any) -> Any:
    """A cell's value; Datasette hands an expanded foreign key over as {"value": …, "label": …}."""
    return value.get("value") if isinstance(value, dict) else value


@hookimpl
def render_cell(row: Any, value: Any, column: str, table: str | None) -> Markup | None:
    """Link a report's id and title to its page, and a sha256 to the archived original."""
    keys = row.keys() if hasattr(row, "keys") else []
    report_id = next((_plain(row[k]) for k in ("report_id", "报告编号") if k in keys), None)
    if report_id is None and table == "reports" and "id" in keys:
        report_id = row["id"]
    value = _plain(value)
    if column in ("report_id", "报告编号") and isinstance(value, int):
        return _link(f"/-/reports/{value}", value)
    if column in ("title", "报告标题") and isinstance(report_id, int) and value:
        return _link(f"/-/reports/{report_id}", value)
    if column in ("sha256", "原件 sha256") and isinstance(value, str) and re.fullmatch(r"[0-9a-f]{64}", value):
        return _link(f"/-/raw/{value}", value)
    return None


def _db(datasette):
    return datasette.get_database(DB_NAME)


async def report_view(datasette, request) -> Response:
    report_id = int(request.url_vars["report_id"])
    page = await _db(datasette).execute_fn(lambda conn: load_report(conn, report_id))
    if page is None:
        return Response.html(await datasette.render_template(
            "nianbao_message.html", {"title": "没有这份报告", "message": f"档案中没有编号为 {report_id} 的报告。"},
            request=request), status=404)
    return Response.html(await datasette.render_template("nianbao_report.html", page, request=request))


async def raw_view(datasette, request) -> Response:
    sha256 = request.url_vars["sha256"]
    db = _db(datasette)
    known = (await db.execute(
        "SELECT content_type, url FROM fetches WHERE sha256 = :sha ORDER BY id DESC LIMIT 1", {"sha": sha256})).first()
    blobs = _blob_store(db.path, None)
    if known is None or sha256 not in blobs:
        return Response.text("no archived body with this sha256", status=404)
    content_type = (known["content_type"] or "application/octet-stream").strip()
    kind = content_type.split(";")[0].strip().lower()
    name = quote(Path(known["url"].split("?")[0].rstrip("/")).name or sha256)
    inline = kind in _INLINE and not request.args.get("download")
    headers = {
        "Content-Disposition": f"{'inline' if inline else 'attachment'}; filename*=UTF-8''{name}",
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "public, max-age=31536000, immutable",  # content-addressed: never changes
    }
    if kind != "application/pdf":
        headers["Content-Security-Policy"] = _SANDBOX
    return Response(blobs.get(sha256), status=200, headers=headers, content_type=content_type)


def _highlight(text: str | None, terms: list[str]) -> Markup:
    """The excerpt, escaped, with every search term in <mark>."""
    out = escape(text or "")
    for term in sorted(terms, key=len, reverse=True):
        out = Markup(out.replace(escape(term), Markup("<mark>{}</mark>").format(term)))
    return out


async def search_view(datasette, request) -> Response:
    q = (request.args.get("q") or "").strip()
    rows: list[dict[str, Any]] = []
    if q:
        rows = await _db(datasette).execute_fn(lambda conn: search(Database(conn), q, limit=SEARCH_LIMIT + 1))
    terms = q.split()
    for row in rows:
        row["snippet"] = _highlight(row["excerpt"], terms)
    return Response.html(await datasette.render_template("nianbao_search.html", {
        "q": q, "rows": rows[:SEARCH_LIMIT], "more": len(rows) > SEARCH_LIMIT, "limit": SEARCH_LIMIT,
    }, request=request))


def _coverage(conn: sqlite3.Connection, region: str | None) -> dict[str, Any]:
    """Region × year counts (found, unparsed, failing checks, missing), or within a region agency × year cells."""
    newest = conn.execute("SELECT max(year) FROM report_summary").fetchone()[0]
    if region is None:
        counts = {(r, y): {"found": n, "unparsed": u, "failing": f, "missing": 0} for r, y, n, u, f in conn.execute(
            "SELECT region, year, reports, unparsed, failing_checks FROM region_year_totals")}
        for r, y, missing in conn.execute(
                "SELECT s.region, g.year + 1, count(*) FROM report_gaps g JOIN report_summary s"
                " ON s.report_id = g.report_id WHERE g.year < ? GROUP BY 1, 2", [newest]):
            counts.setdefault((r, y), {"found": 0, "unparsed": 0, "failing": 0, "missing": 0})["missing"] = missing
        rows_of = sorted({r for r, _ in counts}, key=lambda r: (r is None, r or ""))
    else:
        counts = {}
        for agency, year, report_id, ok, unparsed in conn.execute(
                "SELECT agency, year, report_id, checks_ok, unparsed FROM report_summary"
                " WHERE region IS ? ORDER BY agency, year, report_id", [region]):
            counts.setdefault((agency, year), {"reports": []})["reports"].append(
                {"id": report_id, "failing": ok == 0, "unparsed": bool(unparsed)})
        for agency in {a for a, _ in counts}:
            years = [y for a, y in counts if a == agency and y is not None]
            for year in range(min(years, default=newest or 0) + 1, (newest or 0) + 1):
                counts.setdefault((agency, year), {"reports": [], "missing": True})
        rows_of = sorted({a for a, _ in counts}, key=lambda a: (a is None, a or ""))
    known = [y for _, y in counts if y is not None]
    years: list[int | None] = list(range(min(known), max(known) + 1)) if known else []
    if any(y is None for _, y in counts):
        years.append(None)
    return {"region": region, "years": years, "rows": rows_of, "counts": counts}


async def coverage_view(datasette, request) -> Response:
    region = request.args.get("region")
    data = await _db(datasette).execute_fn(lambda conn: _coverage(conn, region))
    return Response.html(await datasette.render_template("nianbao_coverage.html", data, request=request))


async def glossary_view(datasette, request) -> Response:
    tables = datasette.plugin_config("nianbao", database=None) or {}
    return Response.html(await datasette.render_template(
        "nianbao_glossary.html", {"glossary": tables.get("glossary", {})}, request=request))


# --- CSV and search, around Datasette's own views ---------------------------------------------------------------


def _with_query(scope: dict, query: dict[str, Any] | list[tuple[str, str]]) -> dict:
    return dict(scope, query_string=urlencode(query, doseq=True).encode("latin-1"))


@hookimpl
def asgi_wrapper(datasette):
    def wrap(app):
        async def nianbao_app(scope, receive, send):
            if scope["type"] != "http":
                return await app(scope, receive, send)
            if scope.get("method") not in ("GET", "HEAD", "OPTIONS"):
                # nothing served writes; Datasette 0.65 answered a POST to an unknown path with a 500
                return await Response.text("只读档案 / this archive is read-only", status=403).asgi_send(send)
            path: str = scope["path"]
            query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
            if path.endswith(".csv"):
                return await _csv(datasette, app, scope, receive, send, query)
            if path == f"/{DB_NAME}/reports" and dict(query).get("_search", "").strip():
                location = "/-/search?" + urlencode({"q": dict(query)["_search"]})
                return await Response.redirect(location).asgi_send(send)
            return await app(scope, receive, send)

        return nianbao_app

    return wrap


async def _csv(datasette, app, scope, receive, send, query: list[tuple[str, str]]) -> None:
    """A query's CSV answered here with every row; a table's streamed by Datasette, every page; both rewritten."""
    args = dict(query)
    parts = scope["path"][: -len(".csv")].split("/")  # /nianbao.csv, /nianbao/<table or query>.csv, or a row
    if parts[1:] == [DB_NAME] or (len(parts) == 3 and parts[1] == DB_NAME):
        name = tilde_decode(parts[2]) if len(parts) == 3 else None
        if await _query_csv(datasette, name, args, send):
            return
        if name is not None and "_next" not in args and not args.get("_stream"):
            scope = _with_query(scope, [*query, ("_stream", "on")])  # a table: every row, not one page
    await app(scope, receive, _csv_send(send))


def _csv_send(send):
    """A `send` that rewrites Datasette's CSV body: BOM first, formula-like cells neutralised."""
    rewriter = CsvRewriter()
    rewriting = False

    async def csv_send(message):
        nonlocal rewriting
        if message["type"] == "http.response.start":
            rewriting = message["status"] == 200
            if rewriting:  # the body's length changes
                message = dict(message, headers=[(k, v) for k, v in message.get("headers", [])
                                                 if k.lower() != b"content-length"])
        elif message["type"] == "http.response.body" and rewriting:
            more = message.get("more_body", False)
            message = dict(message, body=rewriter.feed(message.get("body", b""), final=not more))
        await send(message)

    return csv_send


async def _query_csv(datasette, name: str | None, args: dict[str, str], send) -> bool:
    """Answer the CSV of a canned query (`name`) or of ?sql= (name None) with every row; False when it is neither
    (a table) or the visitor may not run it (Datasette then answers, and refuses)."""
    if name is not None:
        canned = await datasette.get_canned_query(DB_NAME, name, None)
        if canned is None or canned.get("write"):
            return False
        sql = canned["sql"]
    else:
        sql = args.get("sql", "")
        if not sql or not await datasette.permission_allowed(None, "execute-sql", resource=DB_NAME, default=True):
            return False
    params = {p: args.get(p, "") for p in re.findall(r"(?<![:\w]):(\w+)", sql)}
    try:
        results = await _db(datasette).execute(sql, params, truncate=False)
    except Exception as exc:  # invalid SQL, a refused value, the time limit: Datasette's words, as a 400
        await Response.text(f"{type(exc).__name__}: {exc}", status=400).asgi_send(send)
        return True
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out)
    if args.get("_header") != "off":
        writer.writerow(results.columns)
    for row in results.rows:
        writer.writerow(safe_row(row))
    headers = {}
    content_type = "text/plain; charset=utf-8"
    if args.get("_dl"):
        content_type = "text/csv; charset=utf-8"
        headers["content-disposition"] = f'attachment; filename="{name or DB_NAME}.csv"'
    await Response(out.getvalue(), headers=headers, content_type=content_type).asgi_send(send)
    return True
