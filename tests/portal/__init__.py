"""A realistic county government portal for crawling offline (tests and `nianbao demo`).

    from tests.portal import serve
    server = serve("127.0.0.1", 0); print(server.base_url); ...; server.shutdown()

or `python -m tests.portal [--port N]`.
"""

from tests.portal.server import PortalServer, serve

__all__ = ["PortalServer", "serve"]
