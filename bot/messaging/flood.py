"""Per-person flood control: a token bucket per user, kind to phones that resend.

A chief's phone on a poor network may send the same text several times; such repeats do
not use up the allowance (the store answers them as repeats). A person who floods gets one
polite refusal per cooldown and is otherwise ignored until the bucket refills, so a flood
cannot turn into a flood of answers.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum

from bot.channel import Address

BURST = 40  # messages a person may send at once (a supervisor trying every command)
REFILL_PER_SECOND = 1.0  # then one a second
COOLDOWN_SECONDS = 30.0  # at most one "slow down" answer per this many seconds
REMEMBERED_TEXTS = 8  # recent texts per person that a resend may repeat for free
TRACKED_PEOPLE = 100_000  # beyond this, the least recently seen are forgotten


class Admission(Enum):
    ADMIT = "admit"
    REFUSE = "refuse"  # answer with one polite ❌
    IGNORE = "ignore"  # already told: drop silently


@dataclass
class _Bucket:
    tokens: float
    updated: float
    told_at: float = -1e18
    recent: list[str] = field(default_factory=list)


class FloodGuard:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._buckets: OrderedDict[Address, _Bucket] = OrderedDict()

    def admit(self, sender: Address, text: str) -> Admission:
        now = self._clock()
        bucket = self._buckets.get(sender)
        if bucket is None:
            bucket = _Bucket(tokens=BURST, updated=now)
            self._buckets[sender] = bucket
            if len(self._buckets) > TRACKED_PEOPLE:
                self._buckets.popitem(last=False)
        self._buckets.move_to_end(sender)
        bucket.tokens = min(BURST, bucket.tokens + (now - bucket.updated) * REFILL_PER_SECOND)
        bucket.updated = now
        if text and text in bucket.recent:
            return Admission.ADMIT  # a resend: answered from the store, costs nothing
        if bucket.tokens < 1:
            if now - bucket.told_at >= COOLDOWN_SECONDS:
                bucket.told_at = now
                return Admission.REFUSE
            return Admission.IGNORE
        bucket.tokens -= 1
        bucket.recent = [*bucket.recent[-(REMEMBERED_TEXTS - 1) :], text]
        return Admission.ADMIT
