"""How updates flow into the Application: chats concurrently, each chat in order, bounded.

`PerChatUpdateProcessor` lets updates of different chats run at the same time while the
updates of one chat run strictly one after another, in arrival order (a report before its
edit, the 9h report before the 11h one). `BoundedUpdateQueue` hands out at most a fixed
number of unfinished updates: when that many are in flight, the Application's fetcher
waits, the queue fills up, and whoever feeds it (the poller, or the webhook before its 200)
waits too — so a flood of 10,000 updates is held back at Telegram instead of in memory.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

DoneCallback = Callable[[object], Awaitable[None]]
AgainCallback = Callable[[object], Awaitable[bool]]


def chat_key(update: object) -> int | None:
    """The chat an update belongs to (its user when there is no chat); None: no order needed."""
    if isinstance(update, Update):
        if update.effective_chat is not None:
            return update.effective_chat.id
        if update.effective_user is not None:
            return update.effective_user.id
    return None


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Up to `concurrent` updates at once; never two of the same chat.

    The stock processor with `concurrent_updates=True` does not keep a chat's order. Here
    each update first waits for the previous update of its chat to finish, and only then
    takes one of the `concurrent` slots, so a busy chat cannot occupy the slots of others.
    The base class's own semaphore is sized to `in_flight` (the queue's bound), so it never
    makes an update wait and updates reach `do_process_update` in arrival order.
    """

    def __init__(
        self, concurrent: int, in_flight: int, on_done: DoneCallback | None = None
    ) -> None:
        super().__init__(max(in_flight, concurrent))
        self._slots = asyncio.Semaphore(concurrent)
        self._tails: dict[int, asyncio.Future[None]] = {}
        self._on_done = on_done
        self._again: AgainCallback | None = None
        self._rerun: Callable[[object], Awaitable[None]] | None = None

    def retry_with(self, again: AgainCallback, rerun: Callable[[object], Awaitable[None]]) -> None:
        """After an update's handling, `again(update)` says (after its pause) whether to run
        it once more with `rerun(update)`: its handling met a passing storage fault. The
        retry keeps the chat's place, so the chat's later updates still wait their turn."""
        self._again = again
        self._rerun = rerun

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = chat_key(update)
        previous = self._tails.get(key) if key is not None else None
        finished: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if key is not None:
            # Registered before the first await, and updates arrive here in their order,
            # so the chain of futures is the chat's arrival order.
            self._tails[key] = finished
        started = False
        try:
            if previous is not None:
                await previous
            async with self._slots:
                started = True
                await coroutine
                while self._again is not None and self._rerun is not None:
                    if not await self._again(update):
                        break
                    await self._rerun(update)
        finally:
            if not started and inspect.iscoroutine(coroutine):
                coroutine.close()  # cancelled while waiting its turn (shutdown)
            finished.set_result(None)
            if key is not None and self._tails.get(key) is finished:
                del self._tails[key]
            if self._on_done is not None:
                await self._on_done(update)

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass


class BoundedUpdateQueue(asyncio.Queue[object]):
    """An update queue that never has more than `in_flight` updates handed out unfinished.

    The Application calls `get()` for the next update and `task_done()` when it has been
    processed; `get()` waits while `in_flight` updates are between the two. `maxsize`
    bounds what waits in the queue itself, so `put()` — the poller — waits when both are
    full.
    """

    def __init__(self, in_flight: int, maxsize: int) -> None:
        super().__init__(maxsize)
        self._limit = in_flight
        self._handed_out = 0
        self._room = asyncio.Event()

    async def get(self) -> object:
        while self._handed_out >= self._limit:
            self._room.clear()
            await self._room.wait()
        item = await super().get()
        self._handed_out += 1
        return item

    def task_done(self) -> None:
        super().task_done()
        self._handed_out = max(0, self._handed_out - 1)
        self._room.set()

    @property
    def in_flight(self) -> int:
        return self._handed_out
