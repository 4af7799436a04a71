"""What a crawl does to the archive: the ArchiveSink protocol, and the same operations as messages.

Three sinks implement the protocol: archive.store.Archive (in process), crawler.archive_process.ArchiveProcess
(a writer process) and crawler.distributed.JournalArchive (a Redis journal a distributed crawl's writer replays).
The last two send the messages below; whoever holds the Archive applies them with `message.apply(archive)`.
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from parsers import Report

if TYPE_CHECKING:
    from archive.store import Archive

# Bumped when a message's fields change: a writer refuses messages of another version (a journal may outlive a
# release) rather than apply them wrongly.
VERSION = 1


class ArchiveSink(Protocol):
    """The archive as a crawl sees it. Run ids are None where the sink's owner keeps the run (a journal)."""

    def start_run(self, portals: list[str], start_urls: list[str]) -> int | None: ...

    def close_killed_run(self, run_id: int) -> None: ...

    def record_fetch(self, run_id: int | None, url: str, *, status: int, body: bytes, headers: dict[str, str],
                     method: str = "GET") -> str: ...

    def record_error(self, run_id: int | None, url: str | None, *, stage: str, message: str,
                     sha256: str | None = None) -> None: ...

    def store_report(self, run_id: int | None, url: str, sha256: str, report: Report, *, portal: str | None = None,
                     region: str | None = None, page_url: str | None = None) -> str | Awaitable[str]: ...

    def mark_unchanged(self, run_id: int | None, url: str) -> bool: ...

    def finish_run(self, run_id: int | None, *, pages: int, errors: int, status: str = "finished") -> dict[str, Any]:
        ...

    def validators(self, url: str) -> dict[str, str | None]: ...

    def get_blob(self, sha256: str) -> bytes: ...

    def close(self) -> None: ...


@dataclass(frozen=True, kw_only=True)
class Message:
    """One archive operation crossing to another process. `op` names it in logs and errors rows."""

    op: ClassVar[str]
    version: int = VERSION

    def apply(self, archive: Archive) -> Any:
        raise NotImplementedError


@dataclass(frozen=True, kw_only=True)
class StartRun(Message):
    op = "start_run"
    portals: list[str]
    start_urls: list[str]

    def apply(self, archive: Archive) -> int:
        return archive.start_run(portals=self.portals, start_urls=self.start_urls)


@dataclass(frozen=True, kw_only=True)
class CloseKilledRun(Message):
    op = "close_killed_run"
    run_id: int

    def apply(self, archive: Archive) -> None:
        archive.close_killed_run(self.run_id)


@dataclass(frozen=True, kw_only=True)
class RecordFetch(Message):
    op = "record_fetch"
    run_id: int | None
    url: str
    status: int
    body: bytes = field(repr=False)
    headers: dict[str, str]
    method: str = "GET"

    def apply(self, archive: Archive) -> str:
        return archive.record_fetch(self.run_id, self.url, status=self.status, body=self.body, headers=self.headers,
                                    method=self.method)


@dataclass(frozen=True, kw_only=True)
class RecordError(Message):
    op = "record_error"
    run_id: int | None
    url: str | None
    stage: str
    message: str
    sha256: str | None = None

    def apply(self, archive: Archive) -> None:
        archive.record_error(self.run_id, self.url, stage=self.stage, message=self.message, sha256=self.sha256)


@dataclass(frozen=True, kw_only=True)
class StoreReport(Message):
    op = "store_report"
    run_id: int | None
    url: str
    sha256: str
    report: Report = field(repr=False)
    portal: str | None = None
    region: str | None = None
    page_url: str | None = None

    def apply(self, archive: Archive) -> str:
        return archive.store_report(self.run_id, self.url, self.sha256, self.report, portal=self.portal,
                                    region=self.region, page_url=self.page_url)


@dataclass(frozen=True, kw_only=True)
class MarkUnchanged(Message):
    op = "mark_unchanged"
    run_id: int | None
    url: str

    def apply(self, archive: Archive) -> bool:
        return archive.mark_unchanged(self.run_id, self.url)


@dataclass(frozen=True, kw_only=True)
class FinishRun(Message):
    op = "finish_run"
    run_id: int
    pages: int
    errors: int
    status: str

    def apply(self, archive: Archive) -> dict[str, Any]:
        return archive.finish_run(self.run_id, pages=self.pages, errors=self.errors, status=self.status)


@dataclass(frozen=True, kw_only=True)
class Commit(Message):
    op = "commit"

    def apply(self, archive: Archive) -> None:
        archive.commit()


@dataclass(frozen=True, kw_only=True)
class Close(Message):
    op = "close"

    def apply(self, archive: Archive) -> None:
        archive.close()


# Writes that carry a run id a journal's writer fills in with its own.
RUN_WRITES = (RecordFetch, RecordError, StoreReport, MarkUnchanged)
