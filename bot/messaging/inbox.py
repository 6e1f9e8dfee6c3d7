"""The durable inbox: every incoming event is stored before the channel may forget it.

One inbox per bot (its name, see `bot.model`). Events are kept as opaque text under the
channel's own event id, in arrival order, until their handling is finished; on start, what
is left is handled first. Handling is idempotent (a report message takes effect once
however often it is handled), so an event handled again after a crash only repeats its
answers. Stores that arrive while one is being written are committed together: a webhook
brings events one request at a time, many requests at once. The channel's cursor (where
it left off) is kept beside the inbox and means something to the channel's adapter only.

Where several processes of one bot share the database (webhook workers on PostgreSQL), each
holds the events it stored under a lease it renews while it lives; what a stopped or
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
    def __init__(self, db: Database, bot: str = "", outage: StoreOutage | None = None) -> None:
        self._db = db
        self.bot = bot
        self._outage = outage or StoreOutage()
        self._done: list[str] = []
        self._flush_lock = asyncio.Lock()
        self._outage.track_unmarked(bot, lambda: list(self._done))
        self._flushing: asyncio.Task[None] | None = None
        self._to_store: list[tuple[list[tuple[str, str]], str | None, asyncio.Future[None]]] = []
        self._storing: asyncio.Task[None] | None = None
        self._held: set[str] = set()  # stored or claimed here, not yet handled
        self._stop: asyncio.Event | None = None

    async def store(self, events: Sequence[tuple[str, str]], cursor: str | None = None) -> None:
        """Durably keep (event id, payload) pairs, and the channel's new `cursor` if given
        (the last one given wins); returns after the commit."""
        if not events:
            return
        stored = asyncio.get_running_loop().create_future()
        self._to_store.append((list(events), cursor, stored))
        if self._storing is None or self._storing.done():
            self._storing = asyncio.create_task(self._store_queued())
        await stored

    async def _store_queued(self) -> None:
        """Group commit: one transaction (one fsync) for every store queued meanwhile."""
        while self._to_store:
            batch, self._to_store = self._to_store, []
            rows = [row for events, _, _ in batch for row in events]
            cursors = [cursor for _, cursor, _ in batch if cursor is not None]
            cursor = cursors[-1] if cursors else None
            self._held.update(event_id for event_id, _ in rows)
            try:
                await self._db.write(partial(_store, self.bot, rows, _lease_end(), cursor))
            except Exception as error:
                for _, _, stored in batch:
                    if not stored.done():
                        stored.set_exception(error)
                continue
            for _, _, stored in batch:
                if not stored.done():  # a caller that stopped waiting has cancelled it
                    stored.set_result(None)

    async def store_new(
        self, events: Sequence[tuple[str, str]], *, remember: float
    ) -> list[tuple[str, str]]:
        """Durably keep the (event id, payload) pairs this bot has not received within the
        last `remember` seconds, and return them; the others are duplicates (a platform
        that delivers an event twice) and change nothing. Returns after the commit."""
        if not events:
            return []
        now = int(time.time())
        rows = list(events)

        def store(tx: Transaction) -> list[tuple[str, str]]:
            new = set(tx.first_seen(self.bot, [e for e, _ in rows], now, now - int(remember)))
            fresh = []
            for event_id, payload in rows:
                if event_id in new:  # the first copy only
                    new.discard(event_id)
                    fresh.append((event_id, payload))
            tx.inbox_store(self.bot, fresh, _lease_end())
            return fresh

        fresh = await self._db.write(store)
        self._held.update(event_id for event_id, _ in fresh)
        return fresh

    async def store_unseen(self, event_id: str, payload: str, keys: Sequence[str]) -> bool:
        """Durably keep one event unless one of `keys` (its id, a digest of its content…)
        names an event received before, for platforms that deliver one event again under
        another id; every key is remembered. True when stored (returns after the commit)."""
        now = int(time.time())

        def store(tx: Transaction) -> bool:
            if not tx.first_sighting(self.bot, keys, now):
                return False
            tx.inbox_store(self.bot, [(event_id, payload)], _lease_end())
            return True

        stored = await self._db.write(store)
        if stored:
            self._held.add(event_id)
        return stored

    async def pending(self) -> list[tuple[str, str]]:
        return await self._db.inbox_pending(self.bot)

    async def left_over(self) -> list[tuple[str, str]]:
        """At start: what earlier runs stored and did not handle, now this process's to
        handle. All of it where this process is the database's only user; in a shared
        database only what no running process holds (leases expired)."""
        if not self._db.shared:
            pending = await self.pending()
        else:
            pending = await self._db.write(partial(_claim_expired, self.bot, int(time.time())))
        self._held.update(event_id for event_id, _ in pending)
        return pending

    async def keep_and_claim(self) -> list[tuple[str, str]]:
        """Every RENEW_EVERY seconds in a shared database: renew the leases of what this
        process holds, and claim what other processes left; returns the claimed updates."""
        held = sorted(self._held)
        lease = _lease_end()

        def renew_and_claim(tx: Transaction) -> list[tuple[str, str]]:
            tx.inbox_renew(self.bot, held, lease)
            return tx.inbox_claim_expired(self.bot, int(time.time()), lease)

        claimed = await self._db.write(renew_and_claim)
        # Never our own (a lease that ran out during an outage): those are being handled,
        # or answered and waiting for their done-mark.
        mine = set(held)
        claimed = [(event_id, payload) for event_id, payload in claimed if event_id not in mine]
        self._held.update(event_id for event_id, _ in claimed)
        return claimed

    async def cursor(self) -> str | None:
        """Where the channel left off, as its adapter last stored it (None: never)."""
        return await self._db.channel_cursor(self.bot)

    def done(self, event_id: str) -> None:
        """Mark an event handled. Written shortly after, together with others: losing the
        mark in a crash only means the event is handled (idempotently) once more."""
        self._done.append(event_id)  # still held (its lease renewed) until the mark is written
        if self._outage.degraded:  # kept for the next start at once: the process may be
            self._outage.answered_unmarked(self._done, self.bot)  # ended before a flush
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.create_task(self._flush_soon())

    async def _flush_soon(self) -> None:
        await asyncio.sleep(DONE_FLUSH_DELAY)
        await self.flush(self._stop)

    async def flush(self, stop: asyncio.Event | None = None) -> None:
        """Write the marks of finished updates. A storage fault keeps them and tries again
        after a pause (until `stop`): a mark dropped would have the update, already
        answered, handled and answered again after the next restart."""
        async with self._flush_lock:  # one writer of the marks at a time
            await self._flush(stop)

    async def _flush(self, stop: asyncio.Event | None) -> None:
        failed = False
        while self._done:
            # Kept in `_done` until written: what the state file keeps for the next start
            # (`answered_unmarked`) includes the marks being written when the process ends.
            ids = list(self._done)
            try:
                await self._db.write(partial(_mark_done, self.bot, ids))
                del self._done[: len(ids)]  # those marked; later ones came meanwhile
                self._held.difference_update(ids)
            except Exception as error:
                if not is_storage_fault(error) or stop is None:
                    log.warning(
                        "marking %d events done failed (%s); handled again at the next start",
                        len(ids), fault_reason(error),
                    )  # fmt: skip
                    return
                self._outage.failed(error)
                self._outage.answered_unmarked(self._done, self.bot)
                failed = True
                if not await self._outage.pause(stop):
                    return
                continue
            if failed:
                failed = False
                self._outage.answered_unmarked(self._done, self.bot)
                self._outage.recovered()

    async def close(self) -> None:
        """At stop: write the marks of finished updates if the database takes them now;
        if not, keep them in the outage's state file for the next start."""
        if not self._outage.degraded:
            await self.flush()
        self._outage.answered_unmarked(self._done, self.bot)

    async def forget_answered(self, event_ids: list[str]) -> None:
        """At start: events an earlier run answered but could not mark done."""
        if event_ids:
            await self._db.write(partial(_mark_done, self.bot, sorted(event_ids)))
            log.info("%d events answered before the last stop marked done", len(event_ids))

    def keep_flushing(self, stop: asyncio.Event) -> None:
        """From now on, a failed flush is retried until `stop` (the running bot)."""
        self._stop = stop


def _lease_end() -> int:
    return int(time.time()) + LEASE_SECONDS


def _store(
    bot: str, rows: list[tuple[str, str]], lease_until: int, cursor: str | None, tx: Transaction
) -> None:
    tx.inbox_store(bot, rows, lease_until, cursor)


def _claim_expired(bot: str, now: int, tx: Transaction) -> list[tuple[str, str]]:
    return tx.inbox_claim_expired(bot, now, now + LEASE_SECONDS)


def _mark_done(bot: str, ids: list[str], tx: Transaction) -> None:
    tx.inbox_done(bot, ids)
