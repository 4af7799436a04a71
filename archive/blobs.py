"""Raw bodies, stored content-addressed as `<raw dir>/<first two hex digits>/<sha256>`.

Why files and not BLOB columns: the database stays small enough to publish with Datasette while the bytes — the
evidence every number is parsed from — sit beside it, deduplicated, and are never rewritten once on disk.
Writes go to a temporary file in the same directory and are moved into place with os.replace, so a killed
crawl leaves either the whole body or nothing. Each body is fsynced before the row that names it is committed:
at once, or — when the archive groups its commits — together with the rest of the group (`sync`).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path


class BlobStore:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def put(self, body: bytes, *, sync: bool = True) -> str:
        """Store `body` unless already present; return its sha256. With sync=False the caller must call
        sync(sha256) before it commits a row naming the body."""
        sha256 = hashlib.sha256(body).hexdigest()
        target = self.path(sha256)
        if target.exists():
            return sha256
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(body)
                if sync:
                    handle.flush()
                    os.fsync(handle.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return sha256

    def sync(self, sha256: str) -> None:
        """Flush a body written with sync=False to the disk."""
        fd = os.open(self.path(sha256), os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def get(self, sha256: str) -> bytes:
        """The stored bytes; FileNotFoundError when the archive never received them."""
        return self.path(sha256).read_bytes()

    def __contains__(self, sha256: str) -> bool:
        return self.path(sha256).is_file()
