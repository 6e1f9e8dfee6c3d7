"""The words chiefs type: counts written 1.250, 1 250 or 1250; times as 9h, 09:30, 9 giờ 30,
lúc 9h; turnout, completion and COVID-test reports in the forms real chiefs use, with and
without diacritics. Pure functions of a seeded random generator.
"""

from __future__ import annotations

import datetime as dt
import random


def _numbers(rng: random.Random, *values: int) -> list[str]:
    """Counts as one chief writes them: 1.250, 1 250 or 1250 (the same way in one message)."""
    separator = rng.choice((".", " ", ""))
    return [f"{value:,}".replace(",", separator) for value in values]


def _clock_words(rng: random.Random, moment: dt.datetime, luc: bool = True) -> str:
    """A time as chiefs write it: 9h, 9h30, 09:30, 9 giờ 30, 9g30, lúc 9h (when `luc`)."""
    h, m = moment.hour, moment.minute
    forms = [
        f"{h}h" if m == 0 else f"{h}h{m:02d}",
        f"{h}h" if m == 0 else f"{h}h{m:02d}",
        f"{h:02d}:{m:02d}",
        f"{h} giờ" if m == 0 else f"{h} giờ {m}",
        f"{h}g" if m == 0 else f"{h}g{m:02d}",
    ]
    if luc:
        forms.append(f"lúc {h}h" if m == 0 else f"lúc {h}h{m:02d}")
    return rng.choice(forms)


def _turnout_text(
    rng: random.Random, voted: int, voters: int, moment: dt.datetime, style: int | None = None
) -> str:
    c, v = _numbers(rng, voted, voters)
    if voters == 0:
        return f"{voted} lúc {moment.hour}:{moment.minute:02d}"
    h, m = moment.hour, moment.minute
    style = (
        rng.choices(range(8), weights=(30, 12, 10, 10, 8, 10, 10, 10))[0]
        if style is None
        else style
    )
    t = _clock_words(rng, moment, luc=False)
    match style:
        case 0:
            return f"{c}/{v} {_clock_words(rng, moment)}"
        case 1:
            return f"{t} ct {c}/{v}"
        case 2:
            return f"cu tri: {c}/{v} luc {h} gio" + (f" {m}" if m else "")
        case 3:
            return f"Cử tri: {c}/{v} lúc {t}"
        case 4:
            return f"{c} lúc {h}:{m:02d}"
        case 5:
            return f"Đã bầu {c}/{v} lúc {t}"
        case 6:
            return f"báo cáo {_clock_words(rng, moment)}: {c}/{v}"
        case _:
            return f"luc {h}h{m:02d} da bau {c}/{v}" if m else f"luc {h}h da bau {c}/{v}"


def _completion_text(rng: random.Random, voters: int, moment: dt.datetime, bare: bool) -> str:
    t = _clock_words(rng, moment, luc=False)
    if bare:
        return rng.choice((f"xong {t}", f"xong lúc {t}", f"hoan thanh {t}"))
    [v] = _numbers(rng, voters)
    return rng.choice(
        (
            f"Hoàn thành {v}/{v} lúc {t}",
            f"kết thúc {t} {v}/{v}",
            f"ket thuc luc {t.replace('giờ', 'gio')}. {v}/{v} cu tri",
            f"xong {t} {v}/{v}",
            f"Hoan thanh {t}, {v}/{v}",
            f"Kết thúc {t}: {v}/{v} cử tri",
        )
    )


def _covid_text(rng: random.Random, tested: int, total: int) -> str:
    return rng.choice(
        (
            f"xn {tested}/{total} am tinh",
            f"XN {tested}/{total} âm tính",
            f"Xét nghiệm {tested}/{total} âm tính",
            f"xn {tested}/{total} dt 0",
            f"xét nghiệm {tested}/{total} dương tính 0",
        )
    )
