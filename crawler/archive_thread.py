"""A crawl's archive writes, on a thread of their own.

Why a thread: storing a report (~200 cells with their indexes, the full-text row, the derived tables, then the
group's fsyncs and WAL checkpoints) costs more than fetching and parsing it, and nearly all of it is SQLite and
the kernel, which release the GIL. On Scrapy's reactor thread it held up every download; here it runs on another
core while the reactor fetches and parses the next pages.

ArchiveThread offers the part of archive.store.Archive a crawl uses (as crawler.distributed.JournalArchive does
for a distributed crawl). The Archive and its SQLite connection live on the writer thread only, and writes reach
it in order through a bounded queue: when the writer falls behind, the reactor waits for room (so memory stays
bounded), never the other way round. Writes are fire-and-forget except store_report, whose outcome comes back as a
Deferred, and the calls that open and close the run, which wait. Reads (validators for a conditional GET, the body
a 304 stands for, whether a URL has a report) go to a read-only connection of their own (ArchiveReader) and see
what is committed: what earlier crawls archived, which is what they ask about.

What a kill loses: the open commit group, as before, plus the writes still queued (a few seconds of pages at most);
nothing of them is committed, so the next crawl fetches those pages again.
"""

from __future__ import annotations

import hashlib
import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from twisted.internet.defer import Deferred
from twisted.python.failure import Failure

from archive.store import Archive, ArchiveReader
from parsers import Report

log = logging.getLogger(__name__)

# Writes waiting for the writer thread at most. A job holds one response body (a page is ~40 KiB), so this bounds
# the memory the queue can take while letting the reactor run ahead through a burst of small pages.
QUEUE_SIZE = 128


def _call_from_reactor_thread(f: Callable[..., Any], *args: Any) -> None:
    from twisted.internet import reactor  # imported late: Scrapy installs the reactor first

    reactor.callFromThread(f, *args)


class ArchiveThread:
    def __init__(self, db_path: str | Path, *, group_seconds: float = 0,
                 deliver: Callable[..., Any] = _call_from_reactor_thread) -> None:
        """Open the archive on a new writer thread (its schema migrated before this returns) and a reader.

        `deliver(f, *args)` runs a Deferred's callback on the thread that waits for it: the reactor's.
        """
        self._jobs: queue.Queue[tuple[str, tuple, dict, Deferred | Future | None] | None] = queue.Queue(QUEUE_SIZE)
        self._deliver = deliver
        opened: Future[None] = Future()
        self._thread = threading.Thread(target=self._run, args=(db_path, group_seconds, opened),
                                        name="nianbao-archive", daemon=True)
        self._thread.start()
        opened.result()  # an archive that cannot be opened fails the crawl here, on the caller's thread
        self.reader = ArchiveReader.open(db_path)

    # -- the writer thread ---------------------------------------------------------------------------------

    def _run(self, db_path: str | Path, group_seconds: float, opened: Future[None]) -> None:
        try:
            archive = Archive(db_path, group_seconds=group_seconds)
        except BaseException as exc:
            opened.set_exception(exc)
            return
        opened.set_result(None)
        while True:
            try:
                # Idle for a whole group: commit it (a busy writer's groups close on their next write).
                job = self._jobs.get(timeout=group_seconds or None)
            except queue.Empty:
                self._apply(archive, ("commit", (), {}, None))
                continue
            if job is None:
                return
            self._apply(archive, job)

    def _apply(self, archive: Archive, job: tuple[str, tuple, dict, Deferred | Future | None]) -> None:
        op, args, kwargs, reply = job
        try:
            result = getattr(archive, op)(*args, **kwargs)
        except Exception as exc:
            if isinstance(reply, Future):
                reply.set_exception(exc)
            elif isinstance(reply, Deferred):
                self._deliver(reply.errback, Failure(exc))
            else:
                log.error("archive write %s failed for %s", op, args[1] if len(args) > 1 else args, exc_info=exc)
            return
        if isinstance(reply, Future):
            reply.set_result(result)
        elif isinstance(reply, Deferred):
            self._deliver(reply.callback, result)

    # -- the caller's side ---------------------------------------------------------------------------------

    def _send(self, op: str, *args: Any, **kwargs: Any) -> None:
        self._jobs.put((op, args, kwargs, None))

    def _wait(self, op: str, *args: Any, **kwargs: Any) -> Any:
        """Run `op` after every write queued before it, and wait for its result."""
        done: Future[Any] = Future()
        self._jobs.put((op, args, kwargs, done))
        return done.result()

    def start_run(self, portals: list[str], start_urls: list[str]) -> int:
        return self._wait("start_run", portals, start_urls)

    def close_killed_run(self, run_id: int) -> None:
        self._wait("close_killed_run", run_id)

    def finish_run(self, run_id: int, **kwargs: Any) -> dict[str, Any]:
        return self._wait("finish_run", run_id, **kwargs)

    def close(self) -> None:
        """Apply what is queued, commit, and stop the thread."""
        try:
            self._wait("close")
        finally:
            self._jobs.put(None)
            self._thread.join()
            self.reader.close()

    def record_fetch(self, run_id: int, url: str, *, status: int, body: bytes, headers: dict[str, str],
                     method: str = "GET") -> str:
        """Queue the fetch; returns the sha256 Archive.record_fetch files it under (for a 304, that of the
        archived body it confirmed, "" when there is none)."""
        self._send("record_fetch", run_id, url, status=status, body=body, headers=headers, method=method)
        if status == 304 and not body:
            return self.reader.validators(url)["sha256"] or ""
        return hashlib.sha256(body).hexdigest()

    def record_error(self, run_id: int, url: str | None, *, stage: str, message: str,
                     sha256: str | None = None) -> None:
        self._send("record_error", run_id, url, stage=stage, message=message, sha256=sha256)

    def store_report(self, run_id: int, url: str, sha256: str, report: Report, *, portal: str | None = None,
                     region: str | None = None, page_url: str | None = None) -> Deferred[str]:
        """Queue the report; the Deferred fires with "new", "changed" or "unchanged" once it is stored."""
        stored: Deferred[str] = Deferred()
        self._jobs.put(("store_report", (run_id, url, sha256, report),
                        {"portal": portal, "region": region, "page_url": page_url}, stored))
        return stored

    def mark_unchanged(self, run_id: int, url: str) -> bool:
        """A 304 for `url`: queue "seen again" when a report is on record there; False when none is."""
        if self.reader.current_version(url) is None:
            return False
        self._send("mark_unchanged", run_id, url)
        return True

    def validators(self, url: str) -> dict[str, str | None]:
        return self.reader.validators(url)

    def get_blob(self, sha256: str) -> bytes:
        return self.reader.get_blob(sha256)
