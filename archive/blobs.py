"""Raw bodies, stored content-addressed as `<raw dir>/<first two hex digits>/<sha256>`.

Why files and not BLOB columns: the database stays small enough to publish with Datasette while the bytes — the
evidence every number is parsed from — sit beside it, deduplicated, and are never rewritten once on disk.
Writes go to a temporary file in the same directory and are moved into place with os.replace, so a killed
crawl leaves either the whole body or nothing.
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

    def put(self, body: bytes) -> str:
        """Store `body` unless already present; return its sha256."""
        sha256 = hashlib.sha256(body).hexdigest()
        target = self.path(sha256)
        if target.exists():
            return sha256
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(body)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return sha256

    def get(self, sha256: str) -> bytes:
        """The stored bytes; FileNotFoundError when the archive never received them."""
        return self.path(sha256).read_bytes()

    def __contains__(self, sha256: str) -> bool:
        return self.path(sha256).is_file()
