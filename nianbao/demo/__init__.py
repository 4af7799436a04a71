"""The offline county portal: what `nianbao demo` crawls, and what the tests crawl.

    from nianbao.demo import serve
    server = serve("127.0.0.1", 0); print(server.base_url); ...; server.shutdown()

or `python -m nianbao.demo [--port N]`.
"""

from nianbao.demo.server import PortalServer, serve

__all__ = ["PortalServer", "serve"]
