"""`python -m nianbao.demo [--host H] [--port N]`: serve the offline portal until interrupted."""

import argparse
import time

from nianbao.demo import serve

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--host", default="127.0.0.1")
parser.add_argument("--port", type=int, default=8765)
args = parser.parse_args()
server = serve(args.host, args.port)
print(f"offline portal at {server.base_url}/ (Ctrl-C to stop)", flush=True)
try:
    while True:
        time.sleep(3600)
except KeyboardInterrupt:
    server.shutdown()
