"""Numbers, percentages and times written the Vietnamese way (`38.851`, `78,1%`, `09:30`)."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal


def turnout_percent(voted: int, voters: int, places: int = 2) -> Decimal:
    """Voted / voters in percent, rounded half-up; 0 when there are no voters."""
    if voters <= 0:
        return Decimal(0).quantize(Decimal(1).scaleb(-places))
    exact = Decimal(voted) * 100 / Decimal(voters)
    return exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def vn_int(value: int) -> str:
    """38851 -> '38.851'."""
    return f"{value:,}".replace(",", ".")


def vn_percent(voted: int, voters: int) -> str:
    """One decimal, comma as decimal mark: '78,1%'."""
    if voted >= 0 and voters > 0:
        # Tenths of a percent rounded half-up in integers: what `turnout_percent` writes
        # (tests/test_formatting_fast.py checks they agree), without a Decimal per reply.
        tenths = (voted * 2000 + voters) // (voters * 2)
        return f"{tenths // 10},{tenths % 10}%"
    return f"{turnout_percent(voted, voters, 1)}%".replace(".", ",")


def hhmm(moment: dt.datetime | dt.time) -> str:
    """`09:30`: what `strftime("%H:%M")` writes."""
    return f"{moment.hour:02d}:{moment.minute:02d}"


def local_time(epoch: int, tz: dt.tzinfo) -> dt.datetime:
    return dt.datetime.fromtimestamp(epoch, tz)
