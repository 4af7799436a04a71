"""Shared fixtures: the test portal on 127.0.0.1 (crawls themselves run through tests.crawling)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from nianbao.demo import PortalServer, serve


@pytest.fixture(scope="session")
def portal() -> Iterator[PortalServer]:
    server = serve("127.0.0.1", 0)
    yield server
    server.shutdown()
    server.server_close()
