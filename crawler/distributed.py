"""Distributed crawling: worker processes on any number of machines share one crawl through Redis.

scrapy-redis holds the frontier and the dupefilter, so each URL is fetched by one worker only. Workers never
open the archive: their sink (JournalArchive) pushes the writes as messages onto the crawl's journal, which
crawler.writer replays on the machine that holds the SQLite file. A worker is these settings (worker_settings):
WorkerStorage instead of ArchiveStorage, and the claiming queue below. Workers make no conditional GETs (the
validators live with the archive; docs/architecture.md).

Trust boundary: scrapy-redis and the journal pickle into Redis, so whoever can write to this Redis can run code
in every worker and in the writer. Keep Redis on a private network with a password or TLS (rediss://).

Termination: taking a request marks the taker busy in the same Redis script, and a worker closes only when the
frontier is empty and no worker is busy (another may still be parsing a page that adds requests); until then it
raises DontCloseSpider and asks again every NIANBAO_IDLE_POLL seconds.
"""

from __future__ import annotations

import hashlib
import logging
import pickle
import re
import socket
from dataclasses import dataclass
from typing import Any

from redis import Redis
from scrapy import Spider, signals
from scrapy.exceptions import DontCloseSpider
from scrapy_redis.queue import PriorityQueue

from archive.sink import Message, RecordError, RecordFetch, StoreReport
from crawler.recorder import REPORTS, START_FAILURES, START_REQUESTS
from crawler.run import run_spider
from crawler.spiders.portal import PortalSpider
from crawler.storage import ArchiveStorage
from parsers import Report

log = logging.getLogger(__name__)

CRAWL_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}")

# KEYS[1] the frontier, KEYS[2] the busy set, ARGV[1] the worker: pop the best request and mark the worker busy.
_CLAIM = """
local popped = redis.call('ZRANGE', KEYS[1], 0, 0)
if popped[1] then
  redis.call('ZREMRANGEBYRANK', KEYS[1], 0, 0)
  redis.call('SADD', KEYS[2], ARGV[1])
  return popped[1]
end
return false
"""
# Same keys: the worker has nothing in flight; 1 when the whole crawl is done (frontier empty, nobody busy).
_SETTLE = """
redis.call('SREM', KEYS[2], ARGV[1])
if redis.call('ZCARD', KEYS[1]) == 0 and redis.call('SCARD', KEYS[2]) == 0 then return 1 end
return 0
"""


@dataclass(frozen=True)
class CrawlKeys:
    """The Redis keys of one distributed crawl, all under `nianbao:<crawl>:` so two crawls never mix."""

    crawl: str

    def __post_init__(self) -> None:
        # scrapy-redis %-formats its key settings; a "%" or a space in the name would break or confuse them.
        if not CRAWL_KEY.fullmatch(self.crawl):
            raise ValueError(f"crawl key {self.crawl!r}: use letters, digits and _ . : - (at most 100)")

    def _key(self, name: str) -> str:
        return f"nianbao:{self.crawl}:{name}"

    @property
    def requests(self) -> str:
        return self._key("requests")

    @property
    def dupefilter(self) -> str:
        return self._key("dupefilter")

    @property
    def busy(self) -> str:
        return self._key("busy")

    @property
    def journal(self) -> str:
        return self._key("journal")

    @property
    def applying(self) -> str:
        """The journal message the writer is applying (moved here first, so a killed writer loses nothing)."""
        return self._key("applying")

    @property
    def rejected(self) -> str:
        """Journal messages the writer could not apply, kept for inspection (never deleted by the writer)."""
        return self._key("rejected")

    @property
    def run(self) -> str:
        return self._key("run")

    @property
    def started(self) -> str:
        return self._key("started")

    @property
    def finished(self) -> str:
        return self._key("finished")

    def transient(self) -> list[str]:
        """What the writer deletes once the crawl is over (everything but `rejected`)."""
        return [self.requests, self.dupefilter, self.busy, self.journal, self.applying, self.run, self.started,
                self.finished]


def connect(redis_url: str) -> Redis:
    return Redis.from_url(redis_url)


def default_worker_id() -> str:
    """One worker per machine by default; run more on one machine with explicit ids."""
    return socket.gethostname()


def worker_settings(redis_url: str, crawl_key: str, worker_id: str) -> dict[str, Any]:
    """Scrapy settings that make a crawler process a worker of the distributed crawl `crawl_key`.

    SCHEDULER_PERSIST keeps the frontier and dupefilter when a worker closes (the others may still be running,
    and a killed crawl can be resumed); the writer deletes them when the crawl is over.
    """
    keys = CrawlKeys(crawl_key)
    return {
        "SCHEDULER": "scrapy_redis.scheduler.Scheduler",
        "SCHEDULER_QUEUE_CLASS": "crawler.distributed.ClaimingQueue",
        "SCHEDULER_QUEUE_KEY": keys.requests,
        "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
        "SCHEDULER_DUPEFILTER_KEY": keys.dupefilter,
        "SCHEDULER_PERSIST": True,
        "REDIS_URL": redis_url,
        "NIANBAO_CRAWL_KEY": crawl_key,
        "NIANBAO_WORKER_ID": worker_id,
        "NIANBAO_IDLE_POLL": 1.0,
        # The journal instead of the archive; no JobDirGuard (the frontier is in Redis).
        "EXTENSIONS": {"crawler.distributed.WorkerStorage": 0},
    }


class ClaimingQueue(PriorityQueue):
    """scrapy-redis's priority queue, except that taking a request marks this worker busy in the same step."""

    def __init__(self, server: Redis, spider: PortalSpider, key: str, serializer: Any = None) -> None:
        super().__init__(server, spider, key, serializer)
        self.busy = CrawlKeys(spider.settings["NIANBAO_CRAWL_KEY"]).busy
        self.worker = spider.settings["NIANBAO_WORKER_ID"]
        self._claim = server.register_script(_CLAIM)

    def pop(self, timeout: int = 0) -> Any:
        data = self._claim(keys=[self.key, self.busy], args=[self.worker])
        return self._decode_request(data) if data else None


@dataclass(frozen=True, kw_only=True)
class WorkerStarted(Message):
    """A worker joined the crawl (the first one makes the writer open the run)."""

    op = "started"
    worker: str
    portals: list[str]
    start_urls: list[str]


@dataclass(frozen=True, kw_only=True)
class WorkerFinished(Message):
    """A worker is done, with the counts the run's row needs (crawler.writer adds up all workers')."""

    op = "finished"
    worker: str
    reason: str
    pages: int
    errors: int
    start_requests: int
    start_failures: int


class JournalArchive:
    """The ArchiveSink of a distributed worker: every write is a message on the crawl's journal.

    Run ids are None: the writer owns the run and fills in its own. Reads have no answer here (see the module
    docstring): validators are always empty, so the spider never makes a conditional GET.
    """

    def __init__(self, redis: Redis, journal: str, worker: str = "") -> None:
        self.redis = redis
        self.journal = journal
        self.worker = worker

    def send(self, message: Message) -> None:
        self.redis.rpush(self.journal, pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))

    def start_run(self, portals: list[str], start_urls: list[str]) -> None:
        self.send(WorkerStarted(worker=self.worker, portals=portals, start_urls=start_urls))

    def close_killed_run(self, run_id: int) -> None:
        raise NotImplementedError("a distributed crawl resumes from Redis, not from a JOBDIR")

    def record_fetch(self, run_id: int | None, url: str, *, status: int, body: bytes, headers: dict[str, str],
                     method: str = "GET") -> str:
        """Queue the fetch; returns the sha256 the writer's Archive.record_fetch will file the body under."""
        self.send(RecordFetch(run_id=None, url=url, status=status, body=body, headers=headers, method=method))
        return "" if status == 304 and not body else hashlib.sha256(body).hexdigest()

    def record_error(self, run_id: int | None, url: str | None, *, stage: str, message: str,
                     sha256: str | None = None) -> None:
        self.send(RecordError(run_id=None, url=url, stage=stage, message=message, sha256=sha256))

    def store_report(self, run_id: int | None, url: str, sha256: str, report: Report, *, portal: str | None = None,
                     region: str | None = None, page_url: str | None = None) -> str:
        """Queue the report; whether it is new, changed or unchanged only the writer can tell."""
        self.send(StoreReport(run_id=None, url=url, sha256=sha256, report=report, portal=portal, region=region,
                              page_url=page_url))
        return "queued"

    def mark_unchanged(self, run_id: int | None, url: str) -> bool:
        return False  # never asked: no validators, so no 304

    def finish_run(self, run_id: int | None, *, pages: int, errors: int, status: str = "finished",
                   start_requests: int = 0, start_failures: int = 0) -> dict[str, Any]:
        """Tell the writer this worker is done (`status`: how its engine closed); the writer closes the run once
        every worker has."""
        counts = {"pages": pages, "errors": errors, "start_requests": start_requests,
                  "start_failures": start_failures}
        self.send(WorkerFinished(worker=self.worker, reason=status, **counts))
        return {"worker": self.worker, "status": status, **counts}

    def validators(self, url: str) -> dict[str, str | None]:
        return {"etag": None, "last_modified": None, "sha256": None}

    def get_blob(self, sha256: str) -> bytes:
        raise KeyError(sha256)  # the bodies are on the writer's machine

    def close(self) -> None:
        self.redis.close()


class WorkerStorage(ArchiveStorage):
    """ArchiveStorage for one worker of a distributed crawl: it writes to the crawl's journal, counts this
    worker's share (the writer adds up all workers'), and closes only when the whole crawl is done."""

    def open_sink(self) -> JournalArchive:
        """The journal (the writer opens the run); its Redis connection closes when the worker finishes."""
        settings = self.crawler.settings
        self.keys = CrawlKeys(settings["NIANBAO_CRAWL_KEY"])
        self.worker = settings["NIANBAO_WORKER_ID"]
        redis = connect(settings["REDIS_URL"])
        self._settle = redis.register_script(_SETTLE)
        self.crawler.signals.connect(self.spider_idle, signal=signals.spider_idle)
        return JournalArchive(redis, self.keys.journal, self.worker)

    def spider_opened(self, spider: Spider) -> None:
        super().spider_opened(spider)
        # Scrapy has no setting for its heartbeat; the engine starts it after spider_opened, with this interval.
        # Should Scrapy rename it, idle workers poll every 5 s again: slower to join in, never wrong.
        self.crawler.engine._SLOT_HEARTBEAT_INTERVAL = self.crawler.settings.getfloat("NIANBAO_IDLE_POLL")

    def spider_idle(self) -> None:
        """Nothing in flight here: close only when the whole crawl is done, else ask the frontier again later."""
        if not self._settle(keys=[self.keys.requests, self.keys.busy], args=[self.worker]):
            raise DontCloseSpider

    def spider_closed(self, spider: Spider, reason: str) -> None:
        """Tell the writer this worker is done, with the counts the run's row needs."""
        recorder = self.recorder
        done = self.sink.finish_run(None, **recorder.figures(), status=reason,
                                    start_requests=recorder.count(START_REQUESTS),
                                    start_failures=recorder.count(START_FAILURES))
        self.sink.close()
        s = self.summary = {**done, "reports": recorder.count(REPORTS + "queued")}
        log.info("worker %s %s: %s pages, %s reports and %s errors sent to the archive writer",
                 s["worker"], s["status"], s["pages"], s["reports"], s["errors"])


def run_worker(redis_url: str, crawl_key: str, portals: list[str] | None, start_urls: list[str] | None, *,
               worker_id: str | None = None, settings_overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Crawl as one worker of the distributed crawl `crawl_key`, until the whole crawl is done.

    Every worker of a crawl gets the same portals/start_urls. Returns this worker's counts ("status" is how its
    Scrapy engine closed); the crawl's own row is what run_writer returns. Like crawler.run.crawl, once per
    process (Twisted's reactor cannot restart). `worker_id` must differ between workers of one crawl (default:
    the host name); restart a killed worker with the same id, so the claim it held is released.
    """
    if (settings_overrides or {}).get("JOBDIR"):
        raise ValueError("a distributed crawl keeps its frontier in Redis and resumes from there; JOBDIR does not "
                         "apply")
    settings = {**worker_settings(redis_url, crawl_key, worker_id or default_worker_id()), **(settings_overrides or {})}
    summary = run_spider(portals, start_urls, settings)
    return summary if summary is not None else {"status": "failed"}
