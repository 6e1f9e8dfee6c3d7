"""When the automatic summaries run: a fixed cadence, or the day's times in the election's
time zone (the next one strictly after now, tomorrow's first after the last)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from bot.monitoring.schedule import next_push

VN = ZoneInfo("Asia/Ho_Chi_Minh")
DAY = (dt.time(9), dt.time(11), dt.time(14), dt.time(17), dt.time(19))


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=VN)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (at(15, 6, 0), at(15, 9)),  # before the first
        (at(15, 9, 0), at(15, 11)),  # exactly at one: the next (it has just run)
        (at(15, 10, 59), at(15, 11)),
        (at(15, 19, 0), at(16, 9)),  # after the last: tomorrow's first
        (at(15, 23, 59), at(16, 9)),
    ],
    ids=["before-first", "at-a-time", "between", "at-last", "night"],
)
def test_the_next_time_of_the_day(now: dt.datetime, expected: dt.datetime) -> None:
    assert next_push(DAY, None, VN, now) == expected


def test_times_are_read_in_the_election_time_zone_whatever_the_clock_zone() -> None:
    utc_now = dt.datetime(2026, 3, 15, 1, 30, tzinfo=dt.UTC)  # 08:30 in Vietnam
    assert next_push(DAY, None, VN, utc_now) == at(15, 9)


def test_a_cadence_wins_over_the_times_and_no_schedule_is_never() -> None:
    every = dt.timedelta(minutes=30)
    assert next_push(DAY, every, VN, at(15, 9, 10)) == at(15, 9, 40)
    assert next_push((), None, VN, at(15, 9)) is None
