"""The parsed report: the document form of DESIGN.md (one JSON object per report)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class ParseError(Exception):
    """The input could not be read as a report at all (empty, binary junk, truncated, encrypted).

    The message is meant for people: it ends up in `nianbao parse` output and in the archive's `errors` table.
    """


@dataclass
class Report:
    source: str
    title: str | None = None
    agency: str | None = None
    region: str | None = None
    year: int | None = None
    published: str | None = None  # ISO date (YYYY-MM-DD) when the page or document states one
    format: str = "unknown"  # "2021", "2019" or "unknown"
    form: str = "unknown"  # reader that produced it: html, text, pdf, docx, doc, xlsx, xls, image, scan
    proactive: dict[str, dict[str, Any]] | None = None
    applications: dict[str, dict[str, Any]] | None = None
    review_litigation: dict[str, Any] | None = None
    checks: list[dict[str, Any]] = field(default_factory=list)
    flags: list[dict[str, str]] = field(default_factory=list)
    sections: dict[str, str] = field(default_factory=dict)  # overview, problems, other (一/五/六)
    text: str = ""

    @property
    def checks_ok(self) -> bool:
        """True when no consistency rule failed (rules that could not be evaluated do not count as failures)."""
        return all(c["ok"] is not False for c in self.checks)

    @property
    def unread_tables(self) -> str | None:
        """Why a table whose template labels the text carries could not be read (the failed "tables_read"
        check's detail); None when every such table was read."""
        return next((c["detail"] for c in self.checks if c["rule"] == "tables_read" and c["ok"] is False), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "title": self.title,
            "agency": self.agency,
            "region": self.region,
            "year": self.year,
            "published": self.published,
            "format": self.format,
            "form": self.form,
            "proactive": self.proactive,
            "applications": self.applications,
            "review_litigation": self.review_litigation,
            "checks": self.checks,
            "checks_ok": self.checks_ok,
            "flags": self.flags,
            "sections": self.sections,
            "text": self.text,
        }
