"""The durable, paced SMS outbox: every SMS is stored before it is handed to the gateway, and
handed over in queue order, at most `per_minute` in any 60 seconds.

The count of the last minute is read from the stored hand-over times, so a restart does not
reset it. Each message keeps one id from the moment it is stored: a hand-over whose answer
was lost is retried with the same id, and the gateway answers 409 instead of sending it
again. While the gateway is unreachable or answers 5xx, 503 (its queue is full) or 429,
sending pauses with a growing backoff and resumes by itself; a message the gateway refuses
for good (a 4xx) is kept as failed with the reason and logged. Nothing is dropped silently.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Literal

from handlers.sms.clock import Clock
from handlers.sms.gateway import GatewayClient, Handover
from storage.database import Database
from storage.faults import fault_reason, is_storage_fault
from storage.sms import OutboxMessage

log = logging.getLogger(__name__)

WINDOW = 60  # seconds: what "per minute" counts
IDLE = 60.0  # seconds between looks at the outbox when nothing new was stored here
BACKOFF_FIRST = 1.0  # seconds after the first failed hand-over
BACKOFF_MAX = 60.0


class SmsOutbox:
    def __init__(
        self, db: Database, bot: str, gateway: GatewayClient, per_minute: int, clock: Clock
    ) -> None:
        self._db = db
        self.bot = bot
        self._gateway = gateway
        self.per_minute = per_minute
        self._clock = clock
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()  # nothing queued (as last read), and nothing added since
        self.paused_since: float | None = None  # the gateway has not taken a message since
        self.last_error: str | None = None

    async def add(self, messages: list[OutboxMessage]) -> None:
        """Store messages (before anything is handed over); an id already stored is kept."""
        if messages:
            await self._db.write(lambda tx: tx.outbox_add(messages))
            self._idle.clear()
            self._wake.set()

    async def wait_idle(self) -> None:
        """Until everything stored has been handed over (or refused for good): tests and
        drills wait for this instead of for time."""
        await self._idle.wait()

    async def run(self, stop: asyncio.Event) -> None:
        """Hand over what is queued until `stop`; a failure of the store (or anything
        unforeseen) pauses the outbox, which then carries on: what is stored stays stored."""
        while not stop.is_set():
            try:
                await self._run(stop)
            except Exception as error:
                if is_storage_fault(error):
                    log.warning("sms outbox: storage fault (%s); trying again in %.0f s",
                                fault_reason(error), BACKOFF_MAX)  # fmt: skip
                else:
                    log.exception("sms outbox: unexpected failure; trying again")
                await self._clock.sleep(BACKOFF_MAX, stop)

    async def _run(self, stop: asyncio.Event) -> None:
        backoff = BACKOFF_FIRST
        while not stop.is_set():
            self._wake.clear()
            queued = await self._db.outbox_queued(self.bot, limit=max(self.per_minute, 1))
            if not queued:
                if not self._wake.is_set():
                    self._idle.set()
                await self._clock.sleep(IDLE, _either(stop, self._wake))
                continue
            self._idle.clear()
            for message in queued:
                if stop.is_set():
                    return
                wait = await self._pace()
                if wait > 0:
                    await self._clock.sleep(wait, stop)
                    break  # read the queue again: the order stays the queue's
                if await self._hand_over(message):
                    backoff = BACKOFF_FIRST
                    continue
                await self._clock.sleep(backoff, stop)
                backoff = min(backoff * 2, BACKOFF_MAX)
                break

    async def _pace(self) -> float:
        """Seconds to wait before the next hand-over (0: now)."""
        now = self._clock.time()
        recent = await self._db.outbox_sent_since(self.bot, int(now) - (WINDOW - 1))
        if len(recent) < self.per_minute:
            return 0.0
        return max(recent[len(recent) - self.per_minute] + WINDOW - now, 0.001)

    async def _hand_over(self, message: OutboxMessage) -> bool:
        """One hand-over; False when the gateway could not take it now (pause, then retry)."""
        result = await self._gateway.send(message.id, message.phone, message.body)
        if result.outcome in (Handover.ACCEPTED, Handover.ALREADY):
            at = int(self._clock.time())
            await self._db.write(lambda tx: tx.outbox_sent(message.id, at))
            if self.paused_since is not None:
                log.info("sms: the gateway takes messages again")
            self.paused_since = None
            return True
        if result.outcome is Handover.REFUSED:
            log.warning("sms: the gateway refused message %s to %s for good: %s",
                        message.id, message.phone, result.reason)  # fmt: skip
            await self._db.write(lambda tx: tx.outbox_failed(message.id, result.reason))
            return True
        if self.paused_since is None:
            self.paused_since = self._clock.time()
            log.warning("sms: the gateway cannot take messages now (%s); sending paused, "
                        "retried with backoff", result.reason)  # fmt: skip
        self.last_error = result.reason
        await self._db.write(lambda tx: tx.outbox_attempt_failed(message.id, result.reason))
        return False


def _either(first: asyncio.Event, second: asyncio.Event) -> asyncio.Event:
    if first.is_set() or second.is_set():
        done = asyncio.Event()
        done.set()
        return done
    return _Joined(first, second)


class _Joined(asyncio.Event):
    def __init__(self, first: asyncio.Event, second: asyncio.Event) -> None:
        super().__init__()
        self._events = (first, second)

    async def wait(self) -> Literal[True]:
        waits = [asyncio.create_task(event.wait()) for event in self._events]
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in waits:
                task.cancel()
        self.set()
        return True

    def is_set(self) -> bool:
        return super().is_set() or any(event.is_set() for event in self._events)
