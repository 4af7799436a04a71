"""parsers/ stays pure: bytes in, Report out — no Scrapy, crawler, archive or sqlite-utils behind it."""

import ast
from pathlib import Path

FORBIDDEN = {"scrapy", "crawler", "archive", "sqlite_utils", "sqlite3", "twisted", "datasette"}


def test_parsers_import_nothing_from_the_other_layers():
    offenders = []
    for path in (Path(__file__).parents[1] / "parsers").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in FORBIDDEN]
    assert offenders == []
