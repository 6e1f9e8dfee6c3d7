"""bot/formatting.py's integer fast paths against the general forms they replace: the
percentage rounded half-up with `Decimal`, the time written by `strftime`."""

from __future__ import annotations

import datetime as dt

from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.formatting import hhmm, turnout_percent, vn_percent


@settings(max_examples=3000, deadline=None)
@given(st.integers(-10, 10**9), st.integers(-10, 10**9))
@example(1, 8)  # 12,5%
@example(1, 16)  # 6,25% → 6,3% (half-up)
@example(1, 1600)  # 0,0625% → 0,1%
@example(1, 2000)  # 0,05% → 0,1%
@example(1, 2001)  # just under half: 0,0%
@example(0, 0)
@example(5, 0)
@example(320, 320)
@example(321, 320)
def test_vn_percent_is_the_decimal_half_up_reading(voted: int, voters: int) -> None:
    general = f"{turnout_percent(voted, voters, 1)}%".replace(".", ",")
    assert vn_percent(voted, voters) == general


@settings(max_examples=500, deadline=None)
@given(st.datetimes(), st.booleans())
def test_hhmm_is_strftime(moment: dt.datetime, as_time: bool) -> None:
    value: dt.datetime | dt.time = moment.time() if as_time else moment
    assert hhmm(value) == value.strftime("%H:%M")
