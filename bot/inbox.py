"""The durable inbox: every incoming update is stored before the platform may forget it.

Updates are kept as opaque JSON until their handling is finished; on start, what is left
is handled first. Handling is idempotent (a report message takes effect once however often
it is handled), so an update handled again after a crash only repeats its answers.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from functools import partial

from storage.database import Database, Transaction

log = logging.getLogger(__name__)

DONE_FLUSH_DELAY = 0.05  # seconds: marks of finished updates are written together


class Inbox:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._done: list[int] = []
        self._flushing: asyncio.Task[None] | None = None

    async def store(self, updates: Sequence[tuple[int, str]]) -> None:
        """Durably keep (update_id, payload) pairs; returns after the commit."""
        await self._db.write(lambda tx: tx.inbox_store(updates))

    async def pending(self) -> list[tuple[int, str]]:
        return await self._db.inbox_pending()

    async def next_update_id(self) -> int:
        return await self._db.inbox_next_update_id()

    def done(self, update_id: int) -> None:
        """Mark an update handled. Written shortly after, together with others: losing the
        mark in a crash only means the update is handled (idempotently) once more."""
        self._done.append(update_id)
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.create_task(self._flush_soon())

    async def _flush_soon(self) -> None:
        await asyncio.sleep(DONE_FLUSH_DELAY)
        await self.flush()

    async def flush(self) -> None:
        while self._done:
            ids, self._done = self._done, []
            try:
                await self._db.write(partial(_mark_done, ids))
            except Exception:
                log.exception("marking %d updates done failed; handled again later", len(ids))
                return


def _mark_done(ids: list[int], tx: Transaction) -> None:
    tx.inbox_done(ids)
