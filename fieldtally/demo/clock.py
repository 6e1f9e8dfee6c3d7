"""The simulated clock of the drill (``SimClock``): election day's time of day, running
``speed`` times faster than real time, pausing while the bot is behind and at each moment a
simulated person is booked to act; ``at`` makes a moment of the day.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import heapq
import time
from collections.abc import Callable, Iterable

from fieldtally.demo.constants import CLOCK_LEAD, ELECTION_DAY, TZ


class SimClock:
    """The drill's time of day: `speed` simulated seconds per real second, from `start`.

    It never runs more than CLOCK_LEAD past the oldest message still waiting for its answers
    (`hold` / `release`): when a burst of nine o'clock reports queues up behind Telegram's rate
    limit, the day pauses until the bot has caught up, as if it had answered in time. It never
    runs backwards. The bot (summaries), the sandbox (the bot's message dates) and the
    simulated people all read it.

    Nor does it run past a booked moment (`book`) before the message booked then is sent
    (`hold(..., booked=...)`): the people act at the moments of their script however slowly
    this machine wakes them (at 50,000 simulated seconds per real one, a wake-up 0.1 s late
    would otherwise send a 10:04:39 report at 10:09:58). A booked moment must be sent, or
    the day stands still there.
    """

    def __init__(
        self,
        start: dt.datetime,
        speed: float,
        lead: dt.timedelta = CLOCK_LEAD,
        real_time: Callable[[], float] = time.monotonic,
    ):
        """`real_time` reads real seconds (tests pass a clock they move by hand)."""
        if not speed > 0:
            raise ValueError("speed must be positive")
        self.speed = speed
        self._lead = lead
        self._real_time = real_time
        self._anchor_sim = start
        self._anchor_real = real_time()
        self._held: dict[int, dt.datetime] = {}  # hold -> the furthest the clock may run
        self._booked: list[dt.datetime] = []  # a heap of the moments booked, not yet sent
        self._next_hold = 0
        self._running = False

    def start(self) -> None:
        """Let the day run from its start time (the clock stands still until then)."""
        self._anchor_real = self._real_time()
        self._running = True

    def now(self) -> dt.datetime:
        if not self._running:
            return self._anchor_sim
        return self._at(self._real_time())

    def _at(self, real: float) -> dt.datetime:
        moment = self._anchor_sim + dt.timedelta(seconds=(real - self._anchor_real) * self.speed)
        limits = [*self._held.values(), *self._booked[:1]]
        if limits:
            limit = max(min(limits), self._anchor_sim)
            if moment > limit:  # pause here until the bot catches up, or the person acts
                self._anchor_sim, self._anchor_real = limit, real
                return limit
        return moment

    def book(self, moments: Iterable[dt.datetime]) -> None:
        """Moments at which the simulated people will send a message: the clock stops at
        each until the message booked then is sent (`hold` with `booked`). Book before the
        clock could pass them (before `start`, or while an earlier booking stands)."""
        self._reanchor()
        for moment in moments:
            heapq.heappush(self._booked, moment)

    def hold(self, sent_at: dt.datetime, booked: dt.datetime | None = None) -> int:
        """A message sent at `sent_at` waits for its answers: the clock runs at most the lead
        past it until `release`. `booked`: the booked moment this message was sent at (its
        booking ends, the hold now keeps the clock)."""
        if booked is not None and booked not in self._booked:
            raise ValueError(f"{booked} is not booked")
        self._reanchor()
        self._next_hold += 1
        self._held[self._next_hold] = sent_at + self._lead
        if booked is not None:
            self._booked.remove(booked)
            heapq.heapify(self._booked)
        return self._next_hold

    def _reanchor(self) -> None:
        if self._running:
            # Re-anchor at the present first: a message older than the last anchor then
            # stops the clock where it is, instead of sending it back to that anchor.
            real = self._real_time()
            self._anchor_sim, self._anchor_real = self._at(real), real

    def release(self, hold: int) -> None:
        self.now()  # re-anchor at the current time before the limit moves
        self._held.pop(hold, None)

    async def sleep_until(self, moment: dt.datetime) -> None:
        # Polling is right here: the moment comes when the clock says so, and it may pause.
        while (now := self.now()) < moment:  # noqa: ASYNC110
            await asyncio.sleep(max((moment - now).total_seconds() / self.speed, 0.005))


def at(moment: dt.time, day: dt.date = ELECTION_DAY) -> dt.datetime:
    return dt.datetime.combine(day, moment, tzinfo=TZ)
