"""`python -m tests.portal [--host H] [--port N]`: serve the test portal until interrupted."""

import argparse
import time

from tests.portal import serve

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--host", default="127.0.0.1")
parser.add_argument("--port", type=int, default=8765)
args = parser.parse_args()
server = serve(args.host, args.port)
print(f"test portal at {server.base_url}/ (Ctrl-C to stop)", flush=True)
try:
    while True:
        time.sleep(3600)
except KeyboardInterrupt:
    server.shutdown()
