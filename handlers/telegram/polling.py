"""Talking to the Bot API robustly: durable intake in, patient retries out.

`UpdateFeed` is the one way updates reach the Application, by long polling or by webhook:
stored in the inbox first, then queued, and marked done once handled. `DurablePoller`
replaces python-telegram-bot's Updater: the Updater confirms updates to Telegram (by the next
getUpdates offset) before they are processed, so a crash loses them. Here each batch is
stored in the inbox first, and only then is the next getUpdates sent.

`PatientRateLimiter` is PTB's AIORateLimiter (per-chat and global limits; a 429 is waited
out and retried) that also retries network failures and 5xx answers with backoff, so a
reply or a summary is never silently dropped during an outage.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from telegram import Bot, Update
from telegram.error import BadRequest, Conflict, NetworkError, RetryAfter
from telegram.ext import AIORateLimiter

from bot.messaging.inbox import Inbox
from bot.metrics import Metrics
from bot.outage import StoreOutage
from handlers.telegram.identity import event_id, next_offset
from storage.faults import is_storage_fault

log = logging.getLogger(__name__)

MAX_BACKOFF = 30.0  # seconds between retries during a long outage
# Telegram allows a bot about 30 messages a second in all (more draws 429s); a
# self-hosted Bot API server or paid broadcasts allow more, and benchmarks lift it.
TELEGRAM_SENDS_PER_SECOND = 30.0
# … and about 20 a minute to one group.
TELEGRAM_GROUP_SENDS_PER_MINUTE = 20.0
RATE_LIMIT_RETRIES = 10  # 429s waited out per request before giving up


def _retry_after_seconds(error: RetryAfter) -> float:
    value: Any = error.retry_after
    return float(value.total_seconds() if hasattr(value, "total_seconds") else value)


class PatientRateLimiter(AIORateLimiter):
    """AIORateLimiter that also outlasts network failures and 5xx answers.

    A request that failed with a network error or a 5xx is sent again after a growing
    pause, up to MAX_BACKOFF, until it succeeds. A 4xx (BadRequest, Forbidden, …) is final:
    it is the caller's to log. Memory stays bounded during an outage because the number of
    updates in flight, each waiting here at most once, is bounded upstream.
    """

    def __init__(
        self,
        sends_per_second: float = TELEGRAM_SENDS_PER_SECOND,
        group_sends_per_minute: float = TELEGRAM_GROUP_SENDS_PER_MINUTE,
    ) -> None:
        """`sends_per_second=0` removes the overall cap, `group_sends_per_minute=0` the limit
        per group; each applies without the other."""
        super().__init__(
            overall_max_rate=sends_per_second,
            overall_time_period=1,
            group_max_rate=group_sends_per_minute,
            group_time_period=60,
            max_retries=RATE_LIMIT_RETRIES,
        )
        # Set when the bot stops: retries end (start-up's getMe included), so that stopping
        # is prompt however long Telegram stays unreachable.
        self.stop = asyncio.Event()

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        delay = 0.5
        while True:
            try:
                return await super().process_request(
                    callback, args, kwargs, endpoint, data, rate_limit_args
                )
            except NetworkError as error:
                if isinstance(error, BadRequest) or endpoint == "getUpdates":
                    raise
                if self.stop.is_set():
                    raise
                log.warning(
                    "%s to chat %s failed (%s); retrying in %.1f s",
                    endpoint, data.get("chat_id"), error, delay,
                )  # fmt: skip
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.stop.wait(), timeout=delay)
                delay = min(delay * 2, MAX_BACKOFF)


class UpdateFeed:
    """Updates into the Application, durably: store, then queue; mark done once handled.

    Whoever feeds it confirms an update to Telegram only after `accept` returns (the next
    getUpdates, or the webhook's 200), so an update Telegram has forgotten is in the inbox
    until it has been handled, and what a crash leaves there is `replay`ed at the next start.
    """

    def __init__(
        self,
        inbox: Inbox,
        queue: asyncio.Queue[object],
        metrics: Metrics,
        outage: StoreOutage | None = None,
    ) -> None:
        self._inbox = inbox
        self._queue = queue
        self._metrics = metrics
        self.outage = outage or StoreOutage(metrics)
        self.stop = asyncio.Event()  # set when the bot stops: retries give up, work is kept
        self._entered: dict[int, float] = {}  # update_id -> when it reached the bot
        self._retrying: set[int] = set()  # updates being handled again after a fault
        self._next_offset = 0  # past every update this process stored (the inbox cursor)

    async def replay(self, bot: Bot) -> int:
        """Queue what was stored but not handled before the last stop; returns how many."""
        pending = await self._inbox.left_over()
        await self._queue_stored(bot, pending)
        if pending:
            log.info("handling %d updates left from the last run", len(pending))
        return len(pending)

    async def keep_and_claim(self, bot: Bot) -> int:
        """In a shared database, periodically: keep our leases, and handle what another
        process of this bot stored and could not handle (it stopped or crashed)."""
        claimed = await self._inbox.keep_and_claim()
        await self._queue_stored(bot, claimed)
        if claimed:
            log.info("handling %d updates another process left", len(claimed))
        return len(claimed)

    async def _queue_stored(self, bot: Bot, stored: Sequence[tuple[str, str]]) -> None:
        for stored_id, payload in stored:
            self._entered.setdefault(int(stored_id), time.monotonic())
            await self._queue.put(Update.de_json(json.loads(payload), bot))

    async def accept(self, updates: Sequence[tuple[Update, str]]) -> None:
        """Store (update, payload JSON) pairs durably, then queue the updates. The queue is
        bounded: while the bot is saturated this waits, and so does Telegram."""
        now = time.monotonic()
        for update, _ in updates:
            self._entered.setdefault(update.update_id, now)
        if updates:  # the cursor: the next update id to ask getUpdates for
            self._next_offset = max(self._next_offset, *(u.update_id + 1 for u, _ in updates))
        await self._inbox.store(
            [(event_id(update.update_id), payload) for update, payload in updates],
            cursor=str(self._next_offset),
        )
        for update, _ in updates:
            await self._queue.put(update)

    def is_retry(self, update: object) -> bool:
        """Whether this handling of `update` is a retry after a storage fault."""
        return isinstance(update, Update) and update.update_id in self._retrying

    async def again(self, update: object) -> bool:
        """After a handling of `update`: True (after the shared pause) if it must be handled
        again because it met a storage fault; False if it is finished, or if the bot is
        stopping (then it stays in the inbox for the next start)."""
        if not isinstance(update, Update):
            return False
        update_id = update.update_id
        if not self.outage.has_failed(event_id(update_id)):
            if update_id in self._retrying:
                self._retrying.discard(update_id)
                self.outage.recovered()
            return False
        if not await self.outage.pause(self.stop):
            return False
        self.outage.forget(event_id(update_id))
        self._retrying.add(update_id)
        return True

    async def handled(self, update: object) -> None:
        """The update processor's `on_done`: the inbox may forget the update, unless its
        handling did not finish (a storage fault while stopping): then it stays there."""
        if not isinstance(update, Update):
            return
        self._retrying.discard(update.update_id)
        if self.outage.has_failed(event_id(update.update_id)):
            self.outage.forget(event_id(update.update_id))
            self._entered.pop(update.update_id, None)
            return
        self._inbox.done(event_id(update.update_id))
        entered = self._entered.pop(update.update_id, None)
        if entered is not None:  # None: a second copy of an update, already counted
            self._metrics.update_handled(time.monotonic() - entered)


class DurablePoller:
    """Long polling with the inbox in between: store, then confirm, then handle."""

    def __init__(self, bot: Bot, inbox: Inbox, feed: UpdateFeed, timeout: int) -> None:
        self._bot = bot
        self._inbox = inbox
        self._feed = feed
        self._timeout = timeout
        self._failed_store = False

    async def run(self, stop: asyncio.Event) -> None:
        offset = next_offset(await self._inbox.cursor())
        backoff = 0.5
        while not stop.is_set():
            fetch = asyncio.ensure_future(
                self._bot.get_updates(
                    offset=offset or None,
                    timeout=self._timeout,
                    allowed_updates=Update.ALL_TYPES,
                )
            )
            stopping = asyncio.ensure_future(stop.wait())
            await asyncio.wait({fetch, stopping}, return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
            if not fetch.done():  # stopping: what Telegram still holds is fetched next time
                fetch.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await fetch
                return
            try:
                updates = fetch.result()
            except RetryAfter as error:
                await asyncio.sleep(_retry_after_seconds(error))
                continue
            except (NetworkError, Conflict) as error:  # Conflict: another instance polls
                log.warning("getUpdates failed (%s); retrying in %.1f s", error, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF)
                continue
            backoff = 0.5
            if not updates:
                continue
            # Stored before the next getUpdates confirms them to Telegram; waits while the
            # bot is saturated. Not stored (a storage fault): the offset stays, Telegram
            # keeps the batch and sends it again after the pause.
            outage = self._feed.outage
            try:
                await self._feed.accept([(u, json.dumps(u.to_dict())) for u in updates])
            except Exception as error:
                if not is_storage_fault(error):
                    raise
                outage.failed(error)
                self._failed_store = True
                if not await outage.pause(stop):
                    return
                continue
            if self._failed_store:
                self._failed_store = False
                outage.recovered()
            offset = updates[-1].update_id + 1
