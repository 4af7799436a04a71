"""The canonical keys of the report tables, read from report_schema.json (a copy of shared/spec)."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any


@cache
def schema() -> dict[str, Any]:
    return json.loads(resources.files("parsers").joinpath("report_schema.json").read_text(encoding="utf-8"))


def proactive_fields(fmt: str) -> dict[str, list[str]]:
    """item key -> its field keys, in template order."""
    return {item["key"]: [f["key"] for f in item["fields"]] for item in schema()["formats"][fmt]["proactive"]}


def application_rows(fmt: str) -> list[str]:
    return [row["key"] for row in schema()["formats"][fmt]["applications"]["rows"]]


def application_columns(fmt: str) -> list[str]:
    return [col["key"] for col in schema()["formats"][fmt]["applications"]["columns"]]


def review_keys(fmt: str) -> list[str]:
    return [row["key"] for row in schema()["formats"][fmt]["review_litigation"]]


def rules() -> dict[str, str]:
    return schema()["rules"]
