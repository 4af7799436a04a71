"""The `nianbao` command line: parse, crawl, reparse, serve, export, demo (contracts in DESIGN.md)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

DEFAULT_DB = "data/nianbao.db"
db_option = click.option(
    "--db", "db_path", default=DEFAULT_DB, show_default=True, type=click.Path(dir_okay=False), help="SQLite archive"
)


@click.group()
@click.version_option(package_name="nianbao")
def main() -> None:
    """Crawl, parse and publish 政府信息公开工作年度报告."""


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="one JSON document per line (DESIGN.md)")
def parse(files: tuple[str, ...], as_json: bool) -> None:
    """Parse saved report files (HTML, text, PDF, DOC/DOCX/WPS, XLS/XLSX, images), detected by content.

    Exits 0 when every file was read (even where checks fail), 2 when any file could not be read.
    """
    from parsers import ParseError
    from parsers import parse as parse_report

    unreadable = 0
    for name in files:
        try:
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


def _emit_error(source: str, message: str, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps({"source": source, "error": message}, ensure_ascii=False))
    else:
        click.echo(f"{source}: error: {message}", err=True)


def _print_summary(report) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    console.print(f"[bold]{report.title or report.source}[/bold]")
    console.print(f"  agency {report.agency}  region {report.region}  year {report.year}  format {report.format}")
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
        console.print(f"  {mark} {check['rule']}: {check['detail']}")
    for flag in report.flags:
        console.print(f"  [yellow]flag[/yellow] {flag['where']}: {flag['reason']}")


if __name__ == "__main__":
    main()
