"""The archive's writes in a process of their own, so that storing reports never holds up Scrapy's reactor.

ArchiveProcess is an ArchiveSink (archive/sink.py): writes go to the writer in order through a bounded queue as
message dataclasses, fire-and-forget except store_report (a Deferred) and the calls that open and close the run;
reads use a read-only connection here. A database or disk error stops the crawl (`on_failure`). The writer dies
with the crawl, kill -9 included. Why, and what a kill loses: docs/architecture.md.
"""

from __future__ import annotations

import ctypes
import hashlib
import itertools
import logging
import multiprocessing
import os
import pickle
import queue
import signal
import sqlite3
import sys
import threading
import time
import traceback
from collections.abc import Callable
from concurrent.futures import Future
from functools import partial
from pathlib import Path
from typing import Any

from twisted.internet.defer import Deferred
from twisted.python.failure import Failure

from archive.sink import (
    Close,
    CloseKilledRun,
    Commit,
    FinishRun,
    MarkUnchanged,
    Message,
    RecordError,
    RecordFetch,
    StartRun,
    StoreReport,
)
from archive.store import BUSY_TIMEOUT_MS, Archive, ArchiveReader
from parsers import Report

log = logging.getLogger(__name__)

# Writes waiting for the writer at most. A job holds one response body (a page is ~40 KiB), so this bounds the
# memory the queue takes while letting the reactor run ahead through a burst of small pages.
QUEUE_SIZE = 128
# How often a blocked side looks whether the other process is still there.
LIVENESS_SECONDS = 1.0
# How long a write that finds the archive locked by another process is tried again before the crawl stops.
BUSY_PATIENCE_SECONDS = 120.0
_OPENED, _NO_REPLY, _FAILED = 0, -1, -2
_PR_SET_PDEATHSIG = 1  # linux/prctl.h


class ArchiveGone(RuntimeError):
    """The writer process died (killed, out of memory): the crawl cannot archive anything more."""


class ArchiveFailed(RuntimeError):
    """The archive could not be opened or written (damaged, locked past every retry, disk full): the crawl stops
    and fails. Its message is one line that says which file and why."""


def _busy(exc: Exception) -> bool:
    """SQLITE_BUSY / SQLITE_LOCKED, extended codes included."""
    return isinstance(exc, sqlite3.OperationalError) and getattr(exc, "sqlite_errorcode", 0) & 0xFF in (5, 6)


def _retrying(f: Callable[[], Any], rollback: Callable[[], None] = lambda: None,
              patience: float = BUSY_PATIENCE_SECONDS) -> Any:
    """f(), tried again (after `rollback`, a little later each time) while the archive is busy, for `patience`
    seconds. Why not only the busy timeout: SQLite does not wait for a transaction that has read already (every
    sqlite-utils insert reads the table's columns first) and now wants to write — it answers SQLITE_BUSY at once,
    and retrying inside that transaction cannot succeed once the other process has committed (BUSY_SNAPSHOT)."""
    deadline = time.monotonic() + patience
    for attempt in itertools.count():
        try:
            return f()
        except sqlite3.OperationalError as exc:
            if not _busy(exc) or time.monotonic() >= deadline:
                raise
            rollback()
            time.sleep(min(0.05 * 2**attempt, 1.0))


def _restart_group(archive: Archive) -> None:
    """After SQLITE_BUSY, before trying the write again. The archive is in WAL mode: once a transaction has
    written, it holds the write lock until it commits, so a write can only find the archive busy while its
    transaction holds no write yet — rolling that transaction back loses nothing, and a fresh one sees what the
    other process committed."""
    archive.db.conn.rollback()
    archive.commit()  # nothing left to commit: closes the (empty) group, so the next write begins a new one


def check_archive(db_path: str | Path) -> None:
    """PRAGMA quick_check on an existing archive, before anything is written to it; ArchiveFailed when damaged."""
    path = Path(db_path)
    if not path.exists():
        return
    conn = sqlite3.connect(path)
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        problems = [row[0] for row in _retrying(lambda: conn.execute("PRAGMA quick_check(5)").fetchall())]
    except sqlite3.DatabaseError as exc:
        if _busy(exc):
            raise
        raise ArchiveFailed(f"the archive {path} is damaged or not an SQLite database ({exc})") from None
    finally:
        conn.close()
    if problems != ["ok"]:
        raise ArchiveFailed(f"the archive {path} is damaged (PRAGMA quick_check: {'; '.join(problems)})")


def _call_from_reactor_thread(f: Callable[..., Any], *args: Any) -> None:
    from twisted.internet import reactor  # imported late: Scrapy installs the reactor first

    reactor.callFromThread(f, *args)


# -- the writer process --------------------------------------------------------------------------------------

def _serve(db_path: str, group_seconds: float, jobs: multiprocessing.Queue, replies: multiprocessing.Queue) -> None:
    """Apply jobs to the Archive in order until the crawl closes it, or until the crawl is gone (then commit
    nothing more, as if killed with it)."""
    os.setpgrp()  # out of the terminal's process group: Ctrl-C is for the crawl, which closes us in order
    if sys.platform.startswith("linux"):  # the kernel kills us with the crawl; elsewhere the idle check notices
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    parent = multiprocessing.parent_process()
    try:
        check_archive(db_path)
        archive = _retrying(lambda: Archive(db_path, group_seconds=group_seconds))
    except ArchiveFailed as exc:
        replies.put((_OPENED, False, exc))
        return
    except Exception as exc:  # sqlite3.Error, OSError (a missing directory, no permission …)
        replies.put((_OPENED, False, ArchiveFailed(f"cannot open the archive {db_path}: {type(exc).__name__}: "
                                                   f"{exc}")))
        return
    replies.put((_OPENED, True, None))
    failures = 0  # database or disk errors: the first stops the crawl
    while True:
        try:
            # Idle for a whole group: commit it (a busy writer's groups close on their next write).
            reply_id, message = jobs.get(timeout=group_seconds or LIVENESS_SECONDS)
        except queue.Empty:
            if parent is not None and not parent.is_alive():
                return
            reply_id, message = _NO_REPLY, Commit()
        op = message.op
        # A commit holds the write lock already (never rolled back to retry); any other write may start again.
        restart = partial(_restart_group, archive) if not isinstance(message, Commit | Close) else lambda: None
        try:
            result = _retrying(partial(message.apply, archive), restart)
        except Exception as exc:
            where = f" for {message.url}" if getattr(message, "url", None) else ""
            fatal = isinstance(exc, sqlite3.Error | OSError)
            if fatal:
                failures += 1
                message = f"archive write {op} failed{where}: {type(exc).__name__}: {exc} ({db_path})"
                if failures == 1:
                    replies.put((_FAILED, False, message))
            if reply_id != _NO_REPLY:
                replies.put((reply_id, False, ArchiveFailed(message) if fatal else _portable(exc)))
            elif not fatal:  # a bug: with its traceback
                replies.put((_NO_REPLY, False, f"archive write {op} failed{where}:\n{traceback.format_exc()}"))
        else:
            if reply_id != _NO_REPLY:
                replies.put((reply_id, True, result))
        if isinstance(message, Close):  # the last job, whether it worked or not: the crawl is joining this process
            if failures > 1:
                replies.put((_NO_REPLY, False, f"{failures - 1} more archive writes failed after the first"))
            return


def _portable(exc: Exception) -> Exception:
    """The exception itself when it survives pickling, else its words (it crosses to the crawl's process)."""
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}")
    return exc


# -- the crawl's side ----------------------------------------------------------------------------------------

class ArchiveProcess:
    def __init__(self, db_path: str | Path, *, group_seconds: float = 0,
                 deliver: Callable[..., Any] = _call_from_reactor_thread) -> None:
        """Start the writer process. It opens (and migrates) the archive while the crawl gets ready; start_run
        waits for that.

        `deliver(f, *args)` runs a Deferred's callback on the thread that waits for it: the reactor's.
        """
        context = multiprocessing.get_context("spawn")  # never fork a process that runs a reactor
        self._jobs: multiprocessing.Queue = context.Queue(QUEUE_SIZE)
        self._replies: multiprocessing.Queue = context.Queue()
        self._db_path = db_path
        self._deliver = deliver
        self._closing = False
        self.failure: str | None = None  # the first database or disk error: the crawl stops and fails
        self.on_failure: Callable[[str], None] | None = None  # told of it (on the reactor's thread)
        self.reader: ArchiveReader | None = None
        self._waiting: dict[int, Deferred | Future] = {}
        self._ids = itertools.count(1)
        self._process = context.Process(target=_serve, args=(str(db_path), group_seconds, self._jobs, self._replies),
                                        name="nianbao-archive", daemon=True)
        self._process.start()
        self._opened: Future[None] = Future()
        self._waiting[_OPENED] = self._opened
        self._listener = threading.Thread(target=self._listen, name="nianbao-archive-replies", daemon=True)
        self._listener.start()

    def _listen(self) -> None:
        """Hand each reply to whoever waits for it, until the writer closes or dies."""
        while True:
            try:
                reply_id, ok, value = self._replies.get(timeout=LIVENESS_SECONDS)
            except queue.Empty:
                if not self._process.is_alive():
                    gone = ArchiveGone(f"the archive writer process died (exit code {self._process.exitcode})")
                    for waiter in list(self._waiting.values()):
                        self._settle(waiter, False, gone)
                    self._waiting.clear()
                    return
                continue
            if reply_id == _NO_REPLY:
                log.error("%s", value)
                continue
            if reply_id == _FAILED:
                log.error("%s", value)
                self.failure = value
                if self.on_failure is not None:
                    self._deliver(self.on_failure, value)
                continue
            self._settle(self._waiting.pop(reply_id), ok, value)
            if self._closing and not self._waiting:  # that was the answer to close(), the last job
                return

    def _settle(self, waiter: Deferred | Future, ok: bool, value: Any) -> None:
        if isinstance(waiter, Future):
            waiter.set_result(value) if ok else waiter.set_exception(value)
        else:
            self._deliver(waiter.callback, value) if ok else self._deliver(waiter.errback, Failure(value))

    def _send(self, message: Message, waiter: Deferred | Future | None = None) -> None:
        reply_id = _NO_REPLY
        if waiter is not None:
            reply_id = next(self._ids)
            self._waiting[reply_id] = waiter
        while True:
            try:
                self._jobs.put((reply_id, message), timeout=LIVENESS_SECONDS)
                return
            except queue.Full:
                if not self._process.is_alive():
                    raise ArchiveGone("the archive writer process died") from None

    def _wait(self, message: Message) -> Any:
        """Apply `message` after every write queued before it, and wait for its result."""
        done: Future[Any] = Future()
        self._send(message, waiter=done)
        return done.result()

    def start_run(self, portals: list[str], start_urls: list[str]) -> int:
        """The run's id, once the writer has the archive open (an archive that cannot be opened raises here)."""
        self._opened.result()
        self.reader = ArchiveReader.open(self._db_path)
        return self._wait(StartRun(portals=portals, start_urls=start_urls))

    def close_killed_run(self, run_id: int) -> None:
        self._wait(CloseKilledRun(run_id=run_id))

    def finish_run(self, run_id: int, *, pages: int, errors: int, status: str = "finished") -> dict[str, Any]:
        return self._wait(FinishRun(run_id=run_id, pages=pages, errors=errors, status=status))

    def close(self) -> None:
        """Apply what is queued, commit, and end the writer."""
        self._closing = True
        try:
            self._wait(Close())
        finally:
            self._process.join()
            self._listener.join()
            for channel in (self._jobs, self._replies):
                channel.close()
            if self.reader is not None:
                self.reader.close()

    def record_fetch(self, run_id: int, url: str, *, status: int, body: bytes, headers: dict[str, str],
                     method: str = "GET") -> str:
        """Queue the fetch; returns the sha256 Archive.record_fetch files it under (for a 304, that of the
        archived body it confirmed, "" when there is none)."""
        self._send(RecordFetch(run_id=run_id, url=url, status=status, body=body, headers=headers, method=method))
        if status == 304 and not body:
            return self.reader.validators(url)["sha256"] or ""
        return hashlib.sha256(body).hexdigest()

    def record_error(self, run_id: int, url: str | None, *, stage: str, message: str,
                     sha256: str | None = None) -> None:
        self._send(RecordError(run_id=run_id, url=url, stage=stage, message=message, sha256=sha256))

    def store_report(self, run_id: int, url: str, sha256: str, report: Report, *, portal: str | None = None,
                     region: str | None = None, page_url: str | None = None) -> Deferred[str]:
        """Queue the report; the Deferred fires with "new", "changed" or "unchanged" once it is stored."""
        stored: Deferred[str] = Deferred()
        self._send(StoreReport(run_id=run_id, url=url, sha256=sha256, report=report, portal=portal, region=region,
                               page_url=page_url), waiter=stored)
        return stored

    def mark_unchanged(self, run_id: int, url: str) -> bool:
        """A 304 for `url`: queue "seen again" when a report is on record there; False when none is."""
        if self.reader.current_version(url) is None:
            return False
        self._send(MarkUnchanged(run_id=run_id, url=url))
        return True

    def validators(self, url: str) -> dict[str, str | None]:
        return self.reader.validators(url)

    def get_blob(self, sha256: str) -> bytes:
        return self.reader.get_blob(sha256)
