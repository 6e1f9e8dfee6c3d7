"""The durable inbox: every incoming update is stored before the platform may forget it.

Updates are kept as opaque JSON until their handling is finished; on start, what is left
is handled first. Handling is idempotent (a report message takes effect once however often
it is handled), so an update handled again after a crash only repeats its answers. Stores
that arrive while one is being written are committed together: a webhook brings updates
one request at a time, many requests at once.

Where several processes of one bot share the database (webhook workers on PostgreSQL), each
holds the updates it stored under a lease it renews while it lives; what a stopped or
crashed process left is claimed by another once its lease has run out, never while it is
still being handled.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from functools import partial

from bot.outage import StoreOutage
from storage.database import Database, Transaction
from storage.faults import fault_reason, is_storage_fault

log = logging.getLogger(__name__)

DONE_FLUSH_DELAY = 0.05  # seconds: marks of finished updates are written together
LEASE_SECONDS = 60  # a process's hold on the updates it stored, renewed while it runs
RENEW_EVERY = 20.0  # seconds between renewals (and looks for updates left by others)


class Inbox:
    def __init__(self, db: Database, outage: StoreOutage | None = None) -> None:
        self._db = db
        self._outage = outage or StoreOutage()
        self._done: list[int] = []
        self._flushing: asyncio.Task[None] | None = None
        self._to_store: list[tuple[list[tuple[int, str]], asyncio.Future[None]]] = []
        self._storing: asyncio.Task[None] | None = None
        self._held: set[int] = set()  # stored or claimed here, not yet handled
        self._stop: asyncio.Event | None = None

    async def store(self, updates: Sequence[tuple[int, str]]) -> None:
        """Durably keep (update_id, payload) pairs; returns after the commit."""
        if not updates:
            return
        stored = asyncio.get_running_loop().create_future()
        self._to_store.append((list(updates), stored))
        if self._storing is None or self._storing.done():
            self._storing = asyncio.create_task(self._store_queued())
        await stored

    async def _store_queued(self) -> None:
        """Group commit: one transaction (one fsync) for every store queued meanwhile."""
        while self._to_store:
            batch, self._to_store = self._to_store, []
            rows = [row for updates, _ in batch for row in updates]
            self._held.update(update_id for update_id, _ in rows)
            try:
                await self._db.write(partial(_store, rows, _lease_end()))
            except Exception as error:
                for _, stored in batch:
                    if not stored.done():
                        stored.set_exception(error)
                continue
            for _, stored in batch:
                if not stored.done():  # a caller that stopped waiting has cancelled it
                    stored.set_result(None)

    async def pending(self) -> list[tuple[int, str]]:
        return await self._db.inbox_pending()

    async def left_over(self) -> list[tuple[int, str]]:
        """At start: what earlier runs stored and did not handle, now this process's to
        handle. All of it where this process is the database's only user; in a shared
        database only what no running process holds (leases expired)."""
        if not self._db.shared:
            pending = await self.pending()
        else:
            pending = await self._db.write(partial(_claim_expired, int(time.time())))
        self._held.update(update_id for update_id, _ in pending)
        return pending

    async def keep_and_claim(self) -> list[tuple[int, str]]:
        """Every RENEW_EVERY seconds in a shared database: renew the leases of what this
        process holds, and claim what other processes left; returns the claimed updates."""
        held = sorted(self._held)
        lease = _lease_end()

        def renew_and_claim(tx: Transaction) -> list[tuple[int, str]]:
            tx.inbox_renew(held, lease)
            return tx.inbox_claim_expired(int(time.time()), lease)

        claimed = await self._db.write(renew_and_claim)
        # Never our own (a lease that ran out during an outage): those are being handled,
        # or answered and waiting for their done-mark.
        mine = set(held)
        claimed = [(update_id, payload) for update_id, payload in claimed if update_id not in mine]
        self._held.update(update_id for update_id, _ in claimed)
        return claimed

    async def next_update_id(self) -> int:
        return await self._db.inbox_next_update_id()

    def done(self, update_id: int) -> None:
        """Mark an update handled. Written shortly after, together with others: losing the
        mark in a crash only means the update is handled (idempotently) once more."""
        self._done.append(update_id)  # still held (its lease renewed) until the mark is written
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.create_task(self._flush_soon())

    async def _flush_soon(self) -> None:
        await asyncio.sleep(DONE_FLUSH_DELAY)
        await self.flush(self._stop)

    async def flush(self, stop: asyncio.Event | None = None) -> None:
        """Write the marks of finished updates. A storage fault keeps them and tries again
        after a pause (until `stop`): a mark dropped would have the update, already
        answered, handled and answered again after the next restart."""
        failed = False
        while self._done:
            ids, self._done = self._done, []
            try:
                await self._db.write(partial(_mark_done, ids))
                self._held.difference_update(ids)
            except Exception as error:
                self._done[:0] = ids
                if not is_storage_fault(error) or stop is None:
                    log.warning(
                        "marking %d updates done failed (%s); handled again at the next start",
                        len(ids), fault_reason(error),
                    )  # fmt: skip
                    return
                self._outage.failed(error)
                self._outage.answered_unmarked(self._done)
                failed = True
                if not await self._outage.pause(stop):
                    return
                continue
            if failed:
                failed = False
                self._outage.answered_unmarked(self._done)
                self._outage.recovered()

    async def close(self) -> None:
        """At stop: write the marks of finished updates if the database takes them now;
        if not, keep them in the outage's state file for the next start."""
        if not self._outage.degraded:
            await self.flush()
        self._outage.answered_unmarked(self._done)

    async def forget_answered(self, update_ids: list[int]) -> None:
        """At start: updates an earlier run answered but could not mark done."""
        if update_ids:
            await self._db.write(partial(_mark_done, sorted(update_ids)))
            log.info("%d updates answered before the last stop marked done", len(update_ids))

    def keep_flushing(self, stop: asyncio.Event) -> None:
        """From now on, a failed flush is retried until `stop` (the running bot)."""
        self._stop = stop


def _lease_end() -> int:
    return int(time.time()) + LEASE_SECONDS


def _store(rows: list[tuple[int, str]], lease_until: int, tx: Transaction) -> None:
    tx.inbox_store(rows, lease_until)


def _claim_expired(now: int, tx: Transaction) -> list[tuple[int, str]]:
    return tx.inbox_claim_expired(now, now + LEASE_SECONDS)


def _mark_done(ids: list[int], tx: Transaction) -> None:
    tx.inbox_done(ids)
