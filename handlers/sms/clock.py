"""The time the SMS outbox paces and backs off by: the wall clock, or one a test or a drill
moves by hand.

`sleep(seconds, wake)` returns when the time has passed or when `wake` is set (something
new to send), whichever comes first. On the manual clock time passes only by `advance`,
so a test waits for events, never for a window of real time.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Protocol


class Clock(Protocol):
    def time(self) -> float:
        """Epoch seconds."""
        ...

    async def sleep(self, seconds: float, wake: asyncio.Event) -> None:
        """Until `seconds` have passed on this clock, or `wake` is set."""
        ...


class WallClock:
    def time(self) -> float:
        return time.time()

    async def sleep(self, seconds: float, wake: asyncio.Event) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), timeout=max(0.0, seconds))


class ManualClock:
    """A clock that moves only when told (`advance`, `set`)."""

    def __init__(self, start: float) -> None:
        self._now = start
        self._moved = asyncio.Condition()
        self.sleepers = 0  # how many are waiting on it now (a test waits for the outbox to)

    def time(self) -> float:
        return self._now

    async def advance(self, seconds: float) -> None:
        await self.set(self._now + seconds)

    async def set(self, moment: float) -> None:
        self._now = max(self._now, moment)
        async with self._moved:
            self._moved.notify_all()

    async def sleep(self, seconds: float, wake: asyncio.Event) -> None:
        until = self._now + seconds
        if seconds <= 0 or wake.is_set():
            return

        async def ticking() -> None:
            async with self._moved:
                await self._moved.wait_for(lambda: self._now >= until)

        waits = {asyncio.create_task(ticking()), asyncio.create_task(wake.wait())}
        self.sleepers += 1
        async with self._moved:
            self._moved.notify_all()  # a test waiting for a sleeper sees this one
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            self.sleepers -= 1
            for task in waits:
                task.cancel()

    async def wait_for_sleeper(self, count: int = 1, patience: float = 30.0) -> None:
        """Until `count` tasks sleep on this clock (the outbox waiting for the time to pass)."""
        async with self._moved:
            await asyncio.wait_for(self._moved.wait_for(lambda: self.sleepers >= count), patience)
