"""The `nianbao` command line: parse, crawl, archive-writer, reparse, serve, export, demo (contracts in DESIGN.md)."""

from __future__ import annotations

import errno
import json
import logging
import os
import re
import socket
import sqlite3
import sys
from pathlib import Path
from typing import Any

import click

DEFAULT_DB = "data/nianbao.db"
db_option = click.option(
    "--db", "db_path", default=DEFAULT_DB, show_default=True, type=click.Path(dir_okay=False), help="SQLite archive"
)
registry_option = click.option(
    "--registry", type=click.Path(exists=True, dir_okay=False), envvar="NIANBAO_REGISTRY", expose_value=False,
    callback=lambda ctx, param, value: _use_registry(value), is_eager=True,
    help="a portal registry of your own (YAML, as crawler/portals.yaml) instead of the shipped one "
         "[env: NIANBAO_REGISTRY]",
)

settings_option = click.option(
    "-s", "--set", "settings", multiple=True, metavar="NAME=VALUE",
    help="a Scrapy setting, as `scrapy crawl -s` (e.g. -s CONCURRENT_REQUESTS_PER_DOMAIN=1)",
)


def _use_registry(path: str | None) -> None:
    """The registry the crawl (and the spider, wherever it runs) reads: crawler.portals.REGISTRY_ENV."""
    if path:
        from crawler.portals import REGISTRY_ENV

        os.environ[REGISTRY_ENV] = str(Path(path).resolve())


class Commands(click.Group):
    """The expected failures of any command (a full disk, a database that cannot be opened) are one line on
    stderr and exit 1, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except OSError as exc:
            if exc.errno != errno.ENOSPC:
                raise
            raise click.ClickException(f"disk full: {exc}. Free some space and run the command again.") from exc
        except sqlite3.DatabaseError as exc:
            full = "full" in str(exc)
            raise click.ClickException(
                f"database error: {exc}" + (". Free some space and run the command again." if full else "")
            ) from exc


@click.group(cls=Commands)
@click.version_option(package_name="nianbao")
def main() -> None:
    """Crawl, parse and publish 政府信息公开工作年度报告."""


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="one JSON document per line (DESIGN.md)")
def parse(files: tuple[str, ...], as_json: bool) -> None:
    """Parse saved report files (HTML, text, PDF, DOC/DOCX/WPS, XLS/XLSX, images), detected by content.

    Exits 0 when every file was read (even where checks fail), 2 when any file could not be read. Files run
    in this process, under the readers' size, page, pixel and cell limits (README: Safety limits); a file
    over parsers.limits.MAX_BYTES is not even read.
    """
    from parsers import ParseError, limits
    from parsers import parse as parse_report

    unreadable = 0
    for name in files:
        try:
            limits.check_size(Path(name).stat().st_size, "file")
            report = parse_report(Path(name).read_bytes(), source=name)
        except (ParseError, OSError) as exc:
            unreadable += 1
            _emit_error(name, str(exc), as_json)
            continue
        except Exception as exc:  # a reader bug must not hide the other files' results
            unreadable += 1
            _emit_error(name, f"internal error while parsing: {type(exc).__name__}: {exc}", as_json)
            continue
        if as_json:
            click.echo(json.dumps(report.to_dict(), ensure_ascii=False))
        else:
            _print_summary(report)
    sys.exit(2 if unreadable else 0)


@main.command()
@click.argument("portals", nargs=-1)
@click.option("--start-url", "start_urls", multiple=True, help="crawl any portal from this page (that host only)")
@click.option("-v", "--verbose", is_flag=True, help="Scrapy's own log (every request) instead of a line per report")
@registry_option
@click.option("--jobdir", type=click.Path(file_okay=False),
              help="keep the crawl's state here: a stopped crawl resumes, a killed one recovers, a finished one "
                   "leaves it empty for the next")
@click.option("--redis", "redis_url", metavar="URL",
              help="work on a distributed crawl whose frontier is in this Redis (README: distributed crawling)")
@click.option("--crawl-key", help="with --redis: the name of the distributed crawl (the same on every worker)")
@click.option("--worker-id", help="with --redis: this worker's name (default: the host name)")
@settings_option
@db_option
def crawl(portals: tuple[str, ...], start_urls: tuple[str, ...], verbose: bool, jobdir: str | None,
          redis_url: str | None, crawl_key: str | None, worker_id: str | None, settings: tuple[str, ...],
          db_path: str) -> None:
    """Crawl registered PORTALS (all when none given; `nianbao portals` lists them), or --start-url pages, into
    the archive.

    Prints a line per report and a summary. Exits 1 when a portal could not be reached at all (each is named),
    or the crawl failed or was stopped before it finished, so cron can tell. With --redis this process is one
    worker of a distributed crawl: it writes nothing itself, and `nianbao archive-writer` stores what the workers
    fetch.
    """
    from crawler.portals import resolve

    overrides = _settings(settings)
    try:
        resolve(list(portals) or None, list(start_urls) or None)
    except ValueError as exc:  # an unknown portal name, a start URL that is not http(s)
        raise click.UsageError(str(exc)) from exc
    if redis_url:
        if jobdir or not crawl_key:
            raise click.UsageError("--redis needs --crawl-key, and keeps the crawl's state in Redis (no --jobdir)")
        from crawler.distributed import run_worker

        summary = run_worker(redis_url, crawl_key, list(portals) or None, list(start_urls) or None,
                             worker_id=worker_id, settings_overrides=overrides)
        click.echo(json.dumps(summary, ensure_ascii=False, default=str))
        sys.exit(0 if summary.get("status") == "finished" else 1)
    _ensure_parent(db_path)
    if jobdir:
        overrides["JOBDIR"] = jobdir
    summary = _run_crawl(db_path, list(portals) or None, list(start_urls) or None, overrides, verbose=verbose)
    sys.exit(0 if summary.get("status") == "finished" and not summary.get("unreachable") else 1)


def _run_crawl(db_path: str, portals: list[str] | None, start_urls: list[str] | None, overrides: dict[str, Any],
               *, verbose: bool) -> dict[str, Any]:
    """Run the crawl with a line per report (Scrapy's log when `verbose`) and print its summary."""
    from crawler.run import crawl as run_crawl

    if not verbose:  # a line per report and per error (crawler.recorder says each once, with its URL)
        overrides = {"LOG_LEVEL": "WARNING", "LOG_FORMAT": "%(levelname)s: %(message)s", **overrides}
        for retold in ("scrapy.downloadermiddlewares.retry", "scrapy.downloadermiddlewares.robotstxt"):
            # a filter, not a level: Scrapy's logging set-up resets the levels of its loggers
            logging.getLogger(retold).addFilter(lambda record: record.levelno >= logging.CRITICAL)
        progress = logging.StreamHandler(sys.stderr)
        progress.setFormatter(logging.Formatter("%(message)s"))
        logging.getLogger("crawler.pipelines").addHandler(progress)
    summary = run_crawl(db_path, portals=portals, start_urls=start_urls, settings_overrides=overrides)
    _print_crawl_summary(summary, db_path)
    return summary


def _print_crawl_summary(summary: dict[str, Any], db_path: str) -> None:
    from crawler.challenge import ADVICE

    if summary.get("id") is None:
        click.echo(f"crawl failed before it started (see the messages above); archive: {db_path}", err=True)
        return
    click.echo(
        f"crawl {summary['status']}: {summary['pages']} pages, reports new {summary['reports_new']}, changed "
        f"{summary['reports_changed']}, unchanged {summary['reports_unchanged']}; {summary['errors']} errors "
        f"(run {summary['id']} in {db_path}: crawl_runs and errors tables)"
    )
    for portal, failures in (summary.get("unreachable") or {}).items():
        more = f" (and {len(failures) - 1} more start pages)" if len(failures) > 1 else ""
        click.echo(f"portal {portal}: not reachable — {failures[0]}{more}", err=True)
    for portal, what in (summary.get("blocked") or {}).items():  # a challenge at a start page is told above
        if portal not in (summary.get("unreachable") or {}):
            click.echo(f"portal {portal}: blocked — {what}; {ADVICE}", err=True)


@main.command("archive-writer")
@click.option("--redis", "redis_url", required=True, metavar="URL", help="the Redis the workers crawl through")
@click.option("--crawl-key", required=True, help="the distributed crawl to store")
@click.option("--workers", default=1, show_default=True, help="wait until at least this many workers finished")
@db_option
def archive_writer(redis_url: str, crawl_key: str, workers: int, db_path: str) -> None:
    """Store a distributed crawl: the one process that writes the archive, next to the SQLite file.

    Ends when every worker has finished; prints the crawl's crawl_runs row and exits 1 when the crawl failed.
    """
    from crawler.writer import run_writer

    _ensure_parent(db_path)
    summary = run_writer(db_path, redis_url, crawl_key, workers=workers)
    click.echo(json.dumps(summary, ensure_ascii=False, default=str))
    sys.exit(1 if summary["failed"] else 0)


@main.command()
@db_option
@click.option("--parse-timeout", type=float, help="seconds for one document (default 600, as in a crawl)")
def reparse(db_path: str, parse_timeout: float | None) -> None:
    """Rebuild every parsed row from the archived bytes with the current parsers (no network).

    Documents are parsed in a worker process with the crawl's memory limit and --parse-timeout; one over
    them is reported as failed and keeps its rows."""
    from archive import reparse as rebuild
    from crawler.parse_pool import ParsePool

    pool = ParsePool(timeout=parse_timeout)
    try:
        summary = rebuild(db_path, parse=pool.parse_now).as_dict()
    except FileNotFoundError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        pool.close()
    click.echo(json.dumps(summary, ensure_ascii=False, indent=2))


@main.command()
@db_option
@click.option("--port", default=8001, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--public", is_flag=True, envvar="NIANBAO_PUBLIC",
              help="for a server anyone can reach: no free SQL, canned queries only [env: NIANBAO_PUBLIC=1]")
def serve(db_path: str, port: int, host: str, public: bool) -> None:
    """Datasette over the archive, read-only, with nianbao's metadata, report pages and search."""
    from archive.serve import serve as run_server

    if not Path(db_path).exists():
        raise click.ClickException(f"{db_path} does not exist: run `nianbao crawl` or `nianbao demo` first")
    _check_port(host, port)
    run_server(db_path, port=port, host=host, public=public)


@main.command()
@db_option
@click.option("--out", "out_path", default="-", show_default=True, help="CSV file, or - for standard output")
@click.option("--keys", is_flag=True, help="English column keys (report_summary's names, for scripts) instead of "
              "the Chinese headings")
def export(db_path: str, out_path: str, keys: bool) -> None:
    """The one-row-per-report CSV: UTF-8 with BOM (Excel shows the Chinese), Chinese headings, formula-like text
    neutralised. A failed export leaves an existing FILE as it was."""
    from archive import export_csv

    try:
        if out_path == "-":
            export_csv(db_path, sys.stdout.buffer, keys=keys)
        else:
            _ensure_parent(out_path)
            export_csv(db_path, out_path, keys=keys)
    except FileNotFoundError as exc:
        raise click.ClickException(f"{exc}: run `nianbao crawl` or `nianbao demo` first, or pass --db") from exc


@main.command()
@click.option("--db", "db_path", default="data/demo.db", show_default=True, type=click.Path(dir_okay=False))
@click.option("--port", default=8001, show_default=True, help="Datasette port")
@click.option("--no-serve", is_flag=True, help="crawl the demo portal and stop (no Datasette)")
@click.option("-v", "--verbose", is_flag=True, help="Scrapy's own log (every request) instead of a line per report")
@settings_option
def demo(db_path: str, port: int, no_serve: bool, verbose: bool, settings: tuple[str, ...]) -> None:
    """Serve the bundled offline portal on 127.0.0.1, crawl it, and serve the archive: no internet needed.

    Run it again and nothing is counted twice: the portal comes back on another port, and its reports are
    recognised as the ones already stored (README: "One report, counted once").
    """
    from nianbao.demo import serve as serve_portal

    if not no_serve:
        _check_port("127.0.0.1", port)
    _ensure_parent(db_path)
    portal = serve_portal("127.0.0.1", 0)
    try:
        click.echo(f"demo portal at {portal.base_url}")
        summary = _run_crawl(db_path, None, [portal.base_url], {"AUTOTHROTTLE_ENABLED": False, **_settings(settings)},
                             verbose=verbose)
    finally:
        portal.shutdown()
        portal.server_close()
    if summary.get("status") != "finished":
        sys.exit(1)
    if not no_serve:
        from archive.serve import serve as run_server

        click.echo(f"serving the archive on http://127.0.0.1:{port}/ (Ctrl-C to stop)")
        run_server(db_path, port=port, host="127.0.0.1")


@main.command("portals")
@registry_option
def list_portals() -> None:
    """The registered portals (crawler/portals.yaml): what `nianbao crawl` crawls when no portal is named."""
    from rich.console import Console
    from rich.table import Table

    from crawler.portals import load_registry

    table = Table("name", "region", "region code", box=None, padding=(0, 2))
    table.add_column("start URLs", no_wrap=True, overflow="ignore")  # a URL cut short is a wrong URL
    for portal in load_registry().values():
        table.add_row(*(_plain(v) for v in (portal.name, portal.region or "", portal.region_code or "",
                                            "\n".join(portal.start_urls))))
    Console(soft_wrap=True).print(table)


def _check_port(host: str, port: int) -> None:
    """A port another program holds is one clear line before anything starts, not a traceback from uvicorn."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise click.ClickException(
                f"port {port} on {host} is not free ({exc.strerror}): stop what is using it, or pick another port "
                f"with --port N (make run PORT=N)") from exc


def _settings(pairs: tuple[str, ...]) -> dict[str, str]:
    """-s NAME=VALUE pairs; Scrapy converts the strings itself (getint, getbool …)."""
    parsed = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise click.BadParameter(f"{pair!r}: expected NAME=VALUE", param_hint="-s")
        parsed[name.strip()] = value
    return parsed


def _plain(text: object) -> str:
    """Text from a registry or a report, safe to print with rich: no terminal controls, its markup escaped."""
    from rich.markup import escape

    return escape(_terminal_text(text))


def _ensure_parent(path: str) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)


def _emit_error(source: str, message: str, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps({"source": source, "error": message}, ensure_ascii=False))
    else:
        click.echo(_terminal_text(f"{source}: error: {message}"), err=True)


# What text from a document must not send to a terminal: escape sequences (colours, cursor moves, window titles,
# hyperlinks), then any other control character but tab and newline (C0 with CR, DEL, C1 — U+009B is a CSI
# too) and the bidi overrides that make text display in another order than it reads.
_ESCAPE_SEQUENCE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|.?)", re.S)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _terminal_text(text: object) -> str:
    """`text` safe for a terminal: no escape sequences or control characters."""
    return _CONTROL.sub("", _ESCAPE_SEQUENCE.sub("", str(text)))


def _print_summary(report) -> None:
    """The report in a few lines; everything taken from the document is printed as plain text (`_plain`), never
    as Rich markup (a title holding "[/bold]" would stop the printing) or terminal controls."""
    from rich.console import Console
    from rich.table import Table

    console = Console(emoji=False, highlight=False)
    console.print(f"[bold]{_plain(report.title or report.source)}[/bold]")
    console.print(f"  agency {_plain(report.agency)}  region {_plain(report.region)}  year {_plain(report.year)}  "
                  f"format {_plain(report.format)}")
    apps = report.applications
    if apps:
        table = Table("row", "total", box=None, padding=(0, 2))
        for key in (
            "new_received",
            "carried_over",
            "granted",
            "partially_granted",
            "total_processed",
            "carried_forward",
        ):
            table.add_row(key, str(apps[key]["total"]))
        console.print(table)
    else:
        console.print("  table 三 (applications): not found")
    for check in report.checks:
        mark = {True: "[green]ok[/green]", False: "[red]FAIL[/red]", None: "[yellow]n/a[/yellow]"}[check["ok"]]
        console.print(f"  {mark} {_plain(check['rule'])}: {_plain(check['detail'])}")
    for flag in report.flags:
        console.print(f"  [yellow]flag[/yellow] {_plain(flag['where'])}: {_plain(flag['reason'])}")


if __name__ == "__main__":
    main()
