"""When automatic group summaries (and other repeated work) run next.

FIELDTALLY_SUMMARY_EVERY: at a fixed cadence from the start. Otherwise FIELDTALLY_SCHEDULE:
at each of its times of day, in the election's time zone, every day.
"""

from __future__ import annotations

import datetime as dt


def next_push(
    schedule: tuple[dt.time, ...],
    every: dt.timedelta | None,
    tz: dt.tzinfo,
    after: dt.datetime,
) -> dt.datetime | None:
    """The first time strictly after `after` (aware) at which to run; None: never."""
    if every is not None:
        return after + every
    if not schedule:
        return None
    local = after.astimezone(tz)
    for days in (0, 1):
        day = local.date() + dt.timedelta(days=days)
        for moment in sorted(schedule):
            due = dt.datetime.combine(day, moment.replace(tzinfo=None), tzinfo=tz)
            if due > local:
                return due
    return None  # unreachable: tomorrow always has a first time
