"""The live side of the dashboard: every open event stream, fed from one snapshot per unit.

Each open page (`GET /d/{token}/events`) is a `Stream` of its unit. One task, the hub's, wakes
when a write of this process changed a unit that has open pages (`DashboardSnapshots.on_stale`)
or every `poll` seconds, lets a burst of writes settle for `settle` seconds, then for each such
unit takes the shared snapshot (computed once, `DashboardSnapshots.get`), encodes it once and
queues the same bytes to every stream of that unit: no query and no encoding per viewer. On
each poll it also checks, in one query for all open pages, that their links still work
(revoked through the command line, or expired): a stream whose link does not gets a
`revoked` event and ends; where other processes write the database too, it compares the
open units' totals (one query) to see their reports.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.monitoring.dashboard import DashboardSnapshots, Snapshot, snapshot_json
from storage.database import Database
from storage.faults import fault_reason, is_storage_fault

log = logging.getLogger(__name__)

# While reports keep coming, the hub refreshes at most so often that its own work (reading,
# encoding) takes about BUDGET of the time: a pass that took 50 ms waits 1 s before the
# next, one that took 300 ms 6 s; never longer than LONGEST_PACE (the contract: a page shows
# a change within 10 s).
BUDGET = 0.03
LONGEST_PACE = 8.0
QUEUED_AT_MOST = 4  # a slow viewer keeps only the newest snapshots
RETRY_MS = 3000  # how soon a browser reconnects after the stream dropped
REVOKED_EVENT = b'event: revoked\ndata: {"revoked": true}\n\n'
# A comment (what keeps proxies from closing an idle stream) and an event the page's script
# can see (comments never reach it): the page counts 30 s of silence from either.
HEARTBEAT = b": heartbeat\nevent: heartbeat\ndata: {}\n\n"
CLOSE = b""  # queued to end a stream (the server is stopping)


@dataclass(eq=False, slots=True)
class Stream:
    """One open page: its unit, its link, and what to send it next."""

    unit_code: str
    token_hash: str
    queue: asyncio.Queue[bytes] = field(default_factory=asyncio.Queue)

    def offer(self, message: bytes) -> None:
        """Queue `message`; a viewer too slow to take them loses the oldest snapshots."""
        while self.queue.qsize() >= QUEUED_AT_MOST:
            self.queue.get_nowait()
        self.queue.put_nowait(message)


@dataclass(frozen=True, slots=True)
class Payload:
    """One snapshot, encoded once: the JSON document and the server-sent event."""

    version: int
    document: dict[str, Any]
    json: bytes
    event: bytes


def encode(snapshot: Snapshot) -> Payload:
    document = snapshot_json(snapshot)
    data = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
    event = b"id: %d\nevent: snapshot\ndata: %s\n\n" % (snapshot.version, data)
    return Payload(snapshot.version, document, data, event)


class LiveHub:
    """The open streams of every unit and the one task that feeds them."""

    def __init__(
        self,
        db: Database,
        snapshots: DashboardSnapshots,
        now: Callable[[], float],
        *,
        poll: float = 5.0,
        settle: float = 1.0,
        budget: float = BUDGET,
    ) -> None:
        self._db = db
        self._snapshots = snapshots
        self._now = now  # epoch seconds, the core's clock (links expire on it)
        self._poll = poll
        self._settle = settle
        self._budget = budget
        self._pace = settle  # seconds to wait after a wake-up before the next pass
        self._streams: dict[str, set[Stream]] = {}
        self._payloads: dict[str, Payload] = {}
        self._sent: dict[str, int] = {}  # the version last queued to a unit's streams
        self._wake = asyncio.Event()
        self._links_changed = False
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self.pushes = 0  # snapshots queued to a unit's streams (one per unit per change)
        snapshots.on_stale(self._stale)

    @property
    def open_streams(self) -> int:
        return sum(len(streams) for streams in self._streams.values())

    def payload(self, snapshot: Snapshot) -> Payload:
        """The snapshot encoded, once per unit and version."""
        code = snapshot.unit.code
        cached = self._payloads.get(code)
        if cached is None or cached.version != snapshot.version:
            cached = self._payloads[code] = encode(snapshot)
        return cached

    def subscribe(self, unit_code: str, token_hash: str, version: int) -> Stream:
        """A new open page of the unit, which was sent the snapshot `version`."""
        stream = Stream(unit_code, token_hash)
        self._streams.setdefault(unit_code, set()).add(stream)
        self._sent.setdefault(unit_code, version)
        if self._task is None and not self._closed:
            self._task = asyncio.create_task(self._run(), name="dashboard hub")
        return stream

    def unsubscribe(self, stream: Stream) -> None:
        streams = self._streams.get(stream.unit_code)
        if streams is None:
            return
        streams.discard(stream)
        if not streams:
            del self._streams[stream.unit_code]
            self._sent.pop(stream.unit_code, None)

    def _stale(self, codes: set[str] | None, links: bool) -> None:
        if links:
            self._links_changed = True
        if links or codes is None or any(code in self._streams for code in codes):
            self._wake.set()

    async def close(self) -> None:
        """End every stream (before the HTTP server stops) and the hub's task."""
        self._closed = True
        for streams in self._streams.values():
            for stream in streams:
                stream.offer(CLOSE)
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        while not self._closed:
            polled = False
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self._poll)
            except TimeoutError:
                polled = True
            if self._pace > 0:
                await asyncio.sleep(self._pace)  # one snapshot for a whole burst of writes
            self._wake.clear()
            started = time.monotonic()
            try:
                await self.refresh(polled=polled)
                took = time.monotonic() - started
                self._pace = max(self._settle, min(LONGEST_PACE, took / self._budget))
            except Exception as error:
                if is_storage_fault(error):
                    log.warning("dashboard: the store could not be read (%s)", fault_reason(error))
                else:
                    log.exception("dashboard: refreshing the open pages failed")

    async def refresh(self, *, polled: bool = True) -> None:
        """Bring every open page up to date: links still valid, then new snapshots."""
        codes = list(self._streams)
        if not codes:
            return
        if polled or self._links_changed:
            self._links_changed = False
            await self._check_links(codes)
            codes = list(self._streams)
        if polled and self._db.shared:
            await self._snapshots.check_others(codes)
        for code in codes:
            unit = self._db.units.get(code)
            streams = self._streams.get(code)
            if unit is None or not streams:
                continue
            snapshot = await self._snapshots.get(unit)
            if self._sent.get(code) == snapshot.version:
                continue
            self._sent[code] = snapshot.version
            event = self.payload(snapshot).event
            self.pushes += 1
            for stream in list(streams):
                stream.offer(event)

    async def _check_links(self, codes: list[str]) -> None:
        live = await self._db.live_dashboard_hashes(codes, int(self._now()))
        for code in codes:
            for stream in list(self._streams.get(code, ())):
                if stream.token_hash not in live:
                    stream.offer(REVOKED_EVENT)
                    self.unsubscribe(stream)
