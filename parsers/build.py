"""Document -> Report: metadata, sections, tables, checks."""

from __future__ import annotations

from parsers import meta
from parsers.checks import run_checks, tables_read
from parsers.document import Document
from parsers.report import Report
from parsers.sections import find_sections
from parsers.tables import map_tables


def build_report(document: Document, source: str = "") -> Report:
    text = document.text
    title = meta.find_title(document)
    agency = meta.find_agency(title, document)
    year = meta.find_year(title, text)
    tables = map_tables(document, year)
    checks = (
        run_checks(tables.format, tables.applications, tables.review_litigation) if tables.format != "unknown" else []
    )
    flags = tables.flags
    unread = tables_read(
        text,
        {
            "proactive": tables.proactive,
            "applications": tables.applications,
            "review_litigation": tables.review_litigation,
        },
    )
    if unread:  # nothing silently unread: a flag for readers of `flags`, a failed check so checks_ok is 0
        checks = [*checks, unread]
        flags = [*flags, {"where": "tables", "reason": unread["detail"]}]
    return Report(
        source=source,
        title=title,
        agency=agency,
        region=meta.find_region(agency),
        year=year,
        published=meta.find_published(document, text),
        format=tables.format,
        form=document.form,
        proactive=tables.proactive,
        applications=tables.applications,
        review_litigation=tables.review_litigation,
        checks=checks,
        flags=flags,
        sections=find_sections(document, text),
        text=text,
    )
