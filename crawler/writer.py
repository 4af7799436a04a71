"""The archive writer of a distributed crawl: the one process that writes the SQLite archive.

It replays the crawl's journal (crawler.distributed) against archive.store.Archive in order, and keeps the
crawl's one crawl_runs row: opened when the first worker starts, closed with every worker's counts once all have
finished. Each message is moved to an `applying` list first, so a killed writer, restarted, applies it again
(at worst one row twice); one that fails is kept in `rejected` and recorded as an `errors` row (stage "writer").
"""

from __future__ import annotations

import logging
import pickle
from dataclasses import replace
from pathlib import Path
from typing import Any

from redis import Redis

from archive.sink import RUN_WRITES, VERSION, Message
from archive.store import Archive
from crawler.distributed import CrawlKeys, WorkerFinished, WorkerStarted, connect
from crawler.recorder import run_status

log = logging.getLogger(__name__)


def run_writer(db_path: str | Path, redis_url: str, crawl_key: str, *, workers: int = 1,
               poll: float = 1.0) -> dict[str, Any]:
    """Apply the journal of `crawl_key` to the archive at `db_path` until the crawl is over.

    The crawl is over when at least `workers` workers have finished, every worker that started has finished, and
    the journal is drained. Then the run is closed, the crawl's Redis keys are deleted (the crawl key can name a
    new crawl), and its crawl_runs row is returned with "failed" as crawler.run.crawl has it. Start the writer
    before or after the workers, but pass `workers` when they start at different times: a worker that starts
    after the crawl is over starts a new crawl of the same key.
    """
    writer = JournalWriter(Archive(db_path), connect(redis_url), CrawlKeys(crawl_key))
    try:
        writer.recover()
        while writer.apply_next(poll) or not writer.over(workers):
            pass
        return writer.finish()
    finally:
        writer.close()


class JournalWriter:
    """Replays one crawl's journal. Its state (the run, who started and finished, its own errors) is kept in
    Redis next to the journal, so a restarted writer carries on where the killed one stopped."""

    def __init__(self, archive: Archive, redis: Redis, keys: CrawlKeys) -> None:
        self.archive, self.redis, self.keys = archive, redis, keys

    def close(self) -> None:
        self.archive.close()
        self.redis.close()

    def over(self, workers: int) -> bool:
        """Asked when the journal is empty: have all workers that started, and at least `workers`, finished?"""
        finished = set(self.redis.hkeys(self.keys.finished))
        return len(finished) >= workers and set(self.redis.smembers(self.keys.started)) <= finished

    def recover(self) -> None:
        """Apply again the message a killed writer was applying, if any."""
        self._apply_taken(self.redis.lindex(self.keys.applying, 0))

    def apply_next(self, poll: float) -> bool:
        """Apply the next message, waiting up to `poll` seconds for one; False when none came."""
        return self._apply_taken(self.redis.blmove(self.keys.journal, self.keys.applying, poll, "LEFT", "RIGHT"))

    def _apply_taken(self, raw: bytes | None) -> bool:
        """Apply the message moved to `applying` (it holds one at most), then drop it from there."""
        if raw is None:
            return False
        self._apply(raw)
        self.redis.delete(self.keys.applying)
        return True

    def _apply(self, raw: bytes) -> None:
        message = None
        try:
            message = pickle.loads(raw)
            if not isinstance(message, Message) or message.version != VERSION:
                raise ValueError(f"unknown journal message {message!r}")
            if isinstance(message, WorkerStarted):
                self._started(message)
            elif isinstance(message, WorkerFinished):
                self.redis.hset(self.keys.finished, message.worker, raw)
            elif isinstance(message, RUN_WRITES):
                replace(message, run_id=self._run()["id"]).apply(self.archive)
            else:
                raise ValueError(f"not a journal message: {message.op}")
        except Exception as exc:  # a bad message must not stop the archive for every other worker
            self.redis.rpush(self.keys.rejected, raw)
            op = message.op if isinstance(message, Message) else "?"
            self._error(getattr(message, "url", None),
                        f"{op} not applied ({type(exc).__name__}: {exc}); the message is kept in {self.keys.rejected}")

    def _run(self) -> dict[str, Any]:
        run = self.redis.get(self.keys.run)
        if run is None:
            raise RuntimeError("a worker wrote before any worker started the crawl")
        return pickle.loads(run)

    def _error(self, url: str | None, message: str) -> None:
        """An errors row of the writer's own (stage "writer"), counted in the run's errors when there is a run."""
        log.error("%s", message)
        run = pickle.loads(raw) if (raw := self.redis.get(self.keys.run)) else None
        self.archive.record_error(run["id"] if run else None, url, stage="writer", message=message)
        if run:
            self.redis.set(self.keys.run, pickle.dumps({**run, "errors": run["errors"] + 1}))

    def _started(self, started: WorkerStarted) -> None:
        """The first worker opens the crawl's run; a worker started on other portals or URLs is an error."""
        worker, portals, start_urls = started.worker, started.portals, started.start_urls
        if self.redis.get(self.keys.run) is None:
            run_id = self.archive.start_run(portals=portals, start_urls=start_urls)
            self.redis.set(self.keys.run, pickle.dumps({"id": run_id, "portals": portals, "start_urls": start_urls,
                                                        "errors": 0}))
            log.info("crawl %s: run %s opened by worker %s", self.keys.crawl, run_id, worker)
        else:
            run = self._run()
            if (run["portals"], run["start_urls"]) != (portals, start_urls):
                self._error(None, f"worker {worker} was started on portals {portals} and start URLs {start_urls}, "
                                  f"the crawl on {run['portals']} and {run['start_urls']}")
        self.redis.sadd(self.keys.started, worker)

    def finish(self) -> dict[str, Any]:
        """Close the run with every worker's counts, and delete the crawl's keys.

        Each worker yields every start request (the shared dupefilter lets one through), so the crawl's start
        requests are one worker's count and its start failures the sum of all.
        """
        done: list[WorkerFinished] = [pickle.loads(value) for value in self.redis.hvals(self.keys.finished)]
        run = self._run()
        reason = next((d.reason for d in done if d.reason != "finished"), "finished")
        status = run_status(max(d.start_requests for d in done), sum(d.start_failures for d in done), reason)
        row = self.archive.finish_run(run["id"], pages=sum(d.pages for d in done),
                                      errors=run["errors"] + sum(d.errors for d in done), status=status)
        self.redis.delete(*self.keys.transient())
        log.info("crawl %s %s: %s workers, %s pages, %s bytes, reports new %s / changed %s / unchanged %s, "
                 "%s errors (run %s)", self.keys.crawl, status, len(done), row["pages"], row["bytes"],
                 row["reports_new"], row["reports_changed"], row["reports_unchanged"], row["errors"], row["id"])
        return {**row, "workers": sorted(d.worker for d in done), "failed": status != "finished"}
