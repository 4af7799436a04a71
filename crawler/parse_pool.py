"""Parse documents in a worker process with a memory and a time limit, off the crawl's reactor.

The readers check their own limits (parsers.limits) before the expensive step, but a document can still cost
minutes or gigabytes inside a library (a scan of many pages, a deflate bomb inside a PDF stream).  Parsed in the
crawl's process, it would stall the Twisted reactor and every download with it, or take the machine's memory.
So attachments are parsed here: one worker process (spawned, so no reactor state is copied) whose address
space is capped with RLIMIT_AS, one document at a time, each given `timeout` seconds from the moment it starts.
A document over either limit costs one ParseError (an `errors` row); the worker is killed and a new one
started for the next document.

    pool = ParsePool(timeout=600, memory=3 << 30)
    report = await pool.parse(data, source=url, content_type=ct)   # in an async Scrapy callback
    report = pool.parse_now(data, source=path)                     # anywhere else (nianbao reparse)
    pool.close()
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import resource
import signal
import sys
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context
from typing import Any, NoReturn

from parsers import ParseError, Report, parse

# seconds for one document: a 40-page scan (MAX_OCR_PAGES) OCRs in ~100 s at 2.5 s a page, and took 4-6 times
# as long on a loaded machine (a 4-page scan: 66 s at a load average of 6 on 2 cores)
TIMEOUT = 600.0
MEMORY = 3 << 30  # address space of the worker: OCR of a 4-page scan peaks at 1.6 GB of it (0.55 GB resident)
_PR_SET_PDEATHSIG = 1  # prctl(2): the signal the kernel sends this process when its parent dies
# How C libraries say they ran out of the worker's address space (onnxruntime, OpenCV, libc, the dynamic loader)
_NO_MEMORY = ("bad_alloc", "insufficient memory", "cannot allocate memory", "failed to allocate",
              "failed to map segment")


class ParsePool:
    """One parse worker with limits; `parse` (awaitable) and `parse_now` (blocking) run one document in it."""

    def __init__(self, timeout: float | None = None, memory: int | None = None) -> None:
        """`timeout` seconds for one document (default TIMEOUT), `memory` bytes of address space (MEMORY)."""
        self.timeout = TIMEOUT if timeout is None else timeout
        self.memory = MEMORY if memory is None else memory
        self._executor: ProcessPoolExecutor | None = None
        self._turn: asyncio.Lock | None = None  # one document at a time, so a queued one is not timed out

    @classmethod
    def from_settings(cls, settings: Any) -> ParsePool:
        """From Scrapy settings NIANBAO_PARSE_TIMEOUT (seconds) and NIANBAO_PARSE_MEMORY (bytes)."""
        return cls(timeout=settings.getfloat("NIANBAO_PARSE_TIMEOUT", TIMEOUT),
                   memory=settings.getint("NIANBAO_PARSE_MEMORY", MEMORY))

    async def parse(self, data: bytes, source: str = "", content_type: str | None = None) -> Report:
        """parsers.parse in the worker, awaited without blocking the event loop (Scrapy's asyncio reactor)."""
        if self._turn is None:
            self._turn = asyncio.Lock()
        async with self._turn:
            future = self._submit(data, source, content_type)
            try:
                return await asyncio.wait_for(asyncio.wrap_future(future), self.timeout)
            except Exception as exc:
                self._fail(exc)

    def parse_now(self, data: bytes, source: str = "", content_type: str | None = None) -> Report:
        """parsers.parse in the worker, waiting for it (outside any event loop)."""
        future = self._submit(data, source, content_type)
        try:
            return future.result(self.timeout)
        except Exception as exc:
            self._fail(exc)

    def close(self) -> None:
        """Stop the worker (it is idle: every parse has been awaited)."""
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None

    def _submit(self, data: bytes, source: str, content_type: str | None) -> Future:
        if self._executor is None:
            self._executor = ProcessPoolExecutor(1, mp_context=get_context("spawn"), initializer=_limit,
                                                 initargs=(self.memory,))
        return self._executor.submit(parse, data, source, content_type)

    def _fail(self, exc: Exception) -> NoReturn:
        """Raise what a failed parse ends with: the ParseError that says which limit the document went over (a
        worker that ran out of time or died is killed and replaced), else the reader's own exception."""
        if _out_of_memory(exc):
            raise ParseError(f"parsing needed more than the parse worker's {self.memory >> 20} MB of memory") \
                from exc
        if not isinstance(exc, (TimeoutError, BrokenProcessPool)):
            raise exc
        self._kill()
        if isinstance(exc, TimeoutError):
            raise ParseError(f"parsing took longer than {self.timeout:g} s (the parse worker was stopped)") from exc
        raise ParseError(f"the parse worker died while parsing this document ({exc})") from exc

    def _kill(self) -> None:
        """End the worker now, whatever it is doing; the next document starts a new one.  Python 3.11's pool
        has no public way to kill a busy worker (3.14 adds kill_workers), so its process table is used."""
        executor, self._executor = self._executor, None
        if executor is None:
            return
        for process in list(executor._processes.values()):  # noqa: SLF001 - see above
            process.kill()
        executor.shutdown(wait=False, cancel_futures=True)


def _out_of_memory(exc: Exception) -> bool:
    return isinstance(exc, MemoryError) or any(words in str(exc).lower() for words in _NO_MEMORY)


def _limit(memory: int) -> None:
    """The worker's initializer: cap its address space; leave Ctrl-C to the crawl, which stops the worker; and
    die with the crawl (a crawl killed with kill -9 left its worker waiting forever for work)."""
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform == "linux":
        ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() == 1:  # the crawl died before the line above: nobody is left to kill this worker
            os._exit(1)
