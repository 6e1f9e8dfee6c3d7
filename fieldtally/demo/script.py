"""The script of the day: who reports what, and when (``plan_day``, pure and seeded: the same
list and seed give the same day). Each area's tally, counts over the morning and finish time
(``AreaDay``); each simulated chief (``Chief``) with their messages (``Step``) and the answer
each expects, including the quirks: typos the bot refuses and the chief corrects.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

from bot.registration.phones import normalize_phone
from bot.turnout.grammar import parse_message
from bot.turnout.lines import ParsedReport, ReportKind
from fieldtally.demo.clock import at
from fieldtally.demo.constants import (
    ANY,
    DAY_START,
    FIRST_CHIEF_ID,
    FIRST_FINISH,
    LAST_FINISH,
    NO,
    OK,
    POLLS_OPEN,
    REPORT_MARKS,
    UNTESTED_SHARE,
)
from fieldtally.demo.units import Area, UnitList
from fieldtally.demo.wording import (
    _clock_words,
    _completion_text,
    _covid_text,
    _numbers,
    _turnout_text,
)


class Action(StrEnum):
    TEXT = "text"
    EDIT = "edit"  # edits the message of step `edits`
    CONTACT = "contact"  # shares the sender's own contact; `text` is the number
    PHOTO = "photo"  # a photo of a signed record (the night); `text` is its caption


@dataclass(frozen=True, slots=True)
class Step:
    at: dt.datetime  # planned (simulated) send time
    action: Action
    text: str
    expect: tuple[str, ...]  # how each answer starts, in order: ✅, ❌, ANY…
    edits: int | None = None
    finishes: str | None = None  # the area this step completes, when answered ✅


@dataclass(slots=True)
class Chief:
    user_id: int
    name: str
    phone: str
    areas: tuple[Area, ...]
    steps: list[Step] = field(default_factory=list)
    quirk: str | None = None

    @property
    def label(self) -> str:
        return f"{self.name} · {', '.join(a.code for a in self.areas)}"


@dataclass(frozen=True, slots=True)
class AreaDay:
    """What one area does on the day: its tally, its counts over time, when it finishes."""

    area: Area
    staff_total: int  # the area's staff, or the total its tally states when it has none
    tested: int
    covid_at: dt.datetime
    reports: tuple[tuple[dt.datetime, int], ...]  # (stated time, voted), increasing
    finish: dt.datetime
    bare_finish: bool  # completion as `xong 12h30` (count: the last report, which is the list)


@dataclass(frozen=True, slots=True)
class Plan:
    chiefs: tuple[Chief, ...]
    days: tuple[AreaDay, ...]
    start: dt.datetime
    end: dt.datetime  # the last planned message

    @property
    def replies_expected(self) -> int:
        return sum(len(s.expect) for c in self.chiefs for s in c.steps)


# Names as in Mường Khương (H'Mông, Nùng, Dao, Kinh…); not real people.
_FAMILY = (
    "Vàng", "Giàng", "Lù", "Thào", "Sùng", "Lò", "Hoàng", "Nguyễn", "Lý", "Tẩn", "Chảo",
    "Trần", "Phạm", "Ma", "Nông", "Hầu", "Lồ", "Vũ",
)  # fmt: skip
_MEN = (("Seo", "A", "Văn", "Văn", "Đức"), (
    "Sử", "Páo", "Chiến", "Dín", "Pao", "Lềnh", "Hùng", "Thắng", "Chứ", "Sinh", "Phủ", "Chìn",
    "Tuấn", "Minh", "Hải", "Cường", "Lợi", "Vần", "Sơn",
))  # fmt: skip
_WOMEN = (("Thị",), (
    "Mai", "Hoa", "Dung", "Lan", "Thanh", "Mỷ", "Dợ", "Sính", "Hương", "Liên", "Chờ", "Nhung",
))  # fmt: skip


def _name(rng: random.Random) -> str:
    middle, given = _WOMEN if rng.random() < 0.35 else _MEN
    return f"{rng.choice(_FAMILY)} {rng.choice(middle)} {rng.choice(given)}"


# Each quirk is given to a few chiefs (with one area each), in this order; the first ones are
# what the drill must show even on a small list.
QUIRKS: Final = (
    "extra_zero",  # 2500/320 9h ❌ voted over list -> 250/320 9h ✅
    "sua",  # a wrong count ✅, then `sửa` with the right one ✅
    "edit",  # a wrong count ✅, then the Telegram message edited ✅
    "letter_o_edit",  # 25o/320 9h ❌ unreadable -> the message edited ✅
    "unregistered",  # a report before registering ❌ -> /start, contact, the report again ✅
    "same_time",  # a recount at the same time ❌ (use sửa) -> `sửa` ✅
    "list_typo",  # 250/3200 9h ❌ list size -> 250/320 9h ✅
    "wrong_hour",  # 250/320 19h at nine ❌ not yet -> 250/320 9h ✅
    "dropped_digit",  # 26/320 10h after 250 at 9h ❌ lower -> 265/320 10h ✅
    "covid_typo",  # XN 16/15 ❌ -> XN 15/16 ✅
    "duplicate",  # poor signal: the same report sent twice, both ✅, stored once
    "letter_o",  # 25o/320 9h ❌ -> retyped ✅
    "multi_line",  # the first count and the COVID tally in one message: two ✅
)
CHIEFS_PER_QUIRK_COPY: Final = 100  # one more copy of every quirk per this many chiefs


def plan_day(units: UnitList, rng: random.Random) -> Plan:
    """Every message of the day, seeded: same list and seed, same day."""
    start = at(DAY_START)
    days = _area_days(units.areas, rng)
    by_phone: dict[str, list[AreaDay]] = {}
    for day in days:
        by_phone.setdefault(day.area.phone, []).append(day)
    chiefs: list[Chief] = []
    for index, (phone, own) in enumerate(by_phone.items()):
        chief = Chief(FIRST_CHIEF_ID + index, _name(rng), phone, tuple(d.area for d in own))
        chiefs.append(chief)
    single = [c for c in chiefs if len(c.areas) == 1]
    quirks = _assign_quirks(single, rng)
    day_of = {d.area.code: d for d in days}
    for chief in chiefs:
        registered = start + dt.timedelta(minutes=rng.uniform(5, 90))
        if len(chief.areas) == 1:
            chief.quirk = quirks.get(chief.user_id)
            chief.steps = _single_area_steps(rng, chief, day_of[chief.areas[0].code], registered)
        else:
            chief.steps = _multi_area_steps(rng, chief, [day_of[a.code] for a in chief.areas])
            chief.steps.insert(0, _contact_step(registered, chief))
        _check_steps(chief)
    end = max(s.at for c in chiefs for s in c.steps)
    return Plan(tuple(chiefs), tuple(days), start, end)


def _area_days(areas: Sequence[Area], rng: random.Random) -> list[AreaDay]:
    totals = [a.staff if a.staff is not None else rng.randint(9, 15) for a in areas]
    untested = [0] * len(areas)
    left = round(sum(totals) * UNTESTED_SHARE)
    room = [max(0, min(2, total - 1)) for total in totals]  # at most 2 untested per team
    while left > 0 and any(room):
        index = rng.choice([i for i, r in enumerate(room) if r > 0])
        untested[index] += 1
        room[index] -= 1
        left -= 1
    first, last = at(FIRST_FINISH), at(LAST_FINISH)
    span = int((last - first).total_seconds() // 300)
    days = []
    for area, total, missing in zip(areas, totals, untested, strict=True):
        finish = first + dt.timedelta(minutes=5 * rng.randint(0, span))
        marks = [at(m) for m in REPORT_MARKS if at(m) <= finish - dt.timedelta(minutes=10)]
        count = min(len(marks), rng.choices((1, 2, 3), weights=(20, 55, 25))[0])
        chosen = sorted(rng.sample(marks, count))
        reports = _counts(rng, area.voters, chosen, finish)
        bare = rng.random() < 0.25 or area.voters == 0
        if bare and area.voters > 0:  # `xong` takes the last count: report the full list first
            last_report = reports[-1][0]
            full_at = finish - dt.timedelta(minutes=rng.choice((5, 10)))
            if full_at <= last_report:
                bare = False
            else:
                reports.append((full_at, area.voters))
        covid_at = at(DAY_START) + dt.timedelta(minutes=rng.uniform(30, 115))
        days.append(AreaDay(area, total, total - missing, covid_at, tuple(reports), finish, bare))
    return days


def _counts(
    rng: random.Random, voters: int, marks: Sequence[dt.datetime], finish: dt.datetime
) -> list[tuple[dt.datetime, int]]:
    """Cumulative voted at each mark: fast in the early morning, the whole list by `finish`."""
    opens = at(POLLS_OPEN)
    whole = (finish - opens).total_seconds() / 3600
    tau = rng.uniform(1.2, 2.2)  # hours: how quickly the area's voters come
    counts: list[tuple[dt.datetime, int]] = []
    previous = 0
    for mark in marks:
        hours = (mark - opens).total_seconds() / 3600
        share = (1 - math.exp(-hours / tau)) / (1 - math.exp(-whole / tau))
        count = int(voters * share * rng.uniform(0.94, 1.0))
        count = max(previous, min(count, voters - 1 if voters else 0))
        counts.append((mark, count))
        previous = count
    return counts


def _assign_quirks(chiefs: Sequence[Chief], rng: random.Random) -> dict[int, str]:
    """Chief -> quirk: every quirk once, then again per CHIEFS_PER_QUIRK_COPY chiefs."""
    eligible = [c for c in chiefs if c.areas[0].voters >= 20 and c.areas[0].staff != 0]
    rng.shuffle(eligible)
    copies = 1 + len(chiefs) // CHIEFS_PER_QUIRK_COPY
    wanted = [quirk for _ in range(copies) for quirk in QUIRKS]
    return {c.user_id: quirk for c, quirk in zip(eligible, wanted, strict=False)}


def _later(moment: dt.datetime, rng: random.Random, low: float, high: float) -> dt.datetime:
    """`moment` plus a random delay in minutes, to the second."""
    return (moment + dt.timedelta(minutes=rng.uniform(low, high))).replace(microsecond=0)


def _contact_step(moment: dt.datetime, chief: Chief) -> Step:
    phone = normalize_phone(chief.phone)
    assert phone is not None
    return Step(moment.replace(microsecond=0), Action.CONTACT, phone.removeprefix("+"), (OK,))


def _single_area_steps(
    rng: random.Random, chief: Chief, day: AreaDay, registered: dt.datetime
) -> list[Step]:
    """One area's day, with the chief's quirk if any."""
    area, quirk = day.area, chief.quirk
    steps: list[Step] = []

    def add(
        moment: dt.datetime,
        text: str,
        expect: tuple[str, ...] = (OK,),
        action: Action = Action.TEXT,
        edits: int | None = None,
        finishes: str | None = None,
    ) -> int:
        if steps and moment < steps[-1].at + dt.timedelta(seconds=20):
            moment = steps[-1].at + dt.timedelta(seconds=rng.randint(20, 50))
        steps.append(Step(moment, action, text, expect, edits, finishes))
        return len(steps) - 1

    covid = _covid_text(rng, day.tested, day.staff_total)
    if quirk == "unregistered":
        first = min(registered, day.covid_at)
        add(first, covid, (NO,))
        add(_later(first, rng, 1, 3), "/start", (ANY,))
        steps.append(_contact_step(_later(steps[-1].at, rng, 0.5, 1.5), chief))
        add(_later(steps[-1].at, rng, 0.5, 2), covid)
    else:
        steps.append(_contact_step(registered, chief))
        if quirk == "covid_typo":
            tested, total = str(day.tested), day.staff_total
            # 15 of 16 typed the wrong way round, or a double tap: 166 of 16.
            typo = f"{total}/{tested}" if day.tested < total else f"{tested}{tested[-1]}/{total}"
            add(max(day.covid_at, registered), f"XN {typo} âm tính", (NO,))
            add(_later(steps[-1].at, rng, 1, 4), covid)
        elif quirk != "multi_line" and day.staff_total > 0:  # a team of 0 has nothing to test
            add(max(day.covid_at, registered), covid)

    reports = list(day.reports)
    quirk_at = _quirk_report(rng, quirk, reports, area.voters)
    for index, (stated, voted) in enumerate(reports):
        sent = _later(stated, rng, 0.5, 12)
        next_stated = reports[index + 1][0] if index + 1 < len(reports) else day.finish
        # A report without a time is stored at its arrival: keep it well before the next one.
        style = None if next_stated - sent >= dt.timedelta(minutes=20) else 0
        if style is None and quirk is None and rng.random() < 0.12:
            text = "ct {}/{}".format(*_numbers(rng, voted, area.voters))
        else:
            text = _turnout_text(rng, voted, area.voters, stated, style)
        right = f"{voted}/{area.voters} {_clock_words(rng, stated)}"
        if index != quirk_at:
            if quirk == "multi_line" and index == 0:
                add(sent, f"{text}\n{covid}", (OK, OK))
            else:
                add(sent, text)
            continue
        previous = reports[index - 1][1] if index else 0
        following = reports[index + 1][1] if index + 1 < len(reports) else area.voters
        _add_quirk(rng, add, quirk, sent, stated, voted, previous, following, area, text, right)
    finish_sent = _later(day.finish, rng, 0.5, 6)
    text = _completion_text(rng, area.voters, day.finish, day.bare_finish)
    add(finish_sent, text, finishes=area.code)
    return steps


def _quirk_report(
    rng: random.Random, quirk: str | None, reports: Sequence[tuple[dt.datetime, int]], voters: int
) -> int | None:
    """Which report the quirk happens on (None: none fits; the chief has a plain day)."""
    fits = [i for i in range(len(reports)) if _fits(quirk, i, reports, voters)]
    if quirk in ("letter_o", "letter_o_edit"):  # `25o` rather than `l25` where a count allows
        fits = [i for i in fits if "0" in str(reports[i][1])] or fits
    return rng.choice(fits) if fits else None


def _fits(
    quirk: str | None, index: int, reports: Sequence[tuple[dt.datetime, int]], voters: int
) -> bool:
    stated, voted = reports[index]
    previous = reports[index - 1][1] if index else 0
    match quirk:
        case "extra_zero":
            return voted * 10 > voters
        case "letter_o" | "letter_o_edit":
            return "0" in str(voted) or "1" in str(voted)
        case "sua" | "edit":
            return _wrong_count(voted, previous, voters) is not None
        case "same_time":
            return index + 1 < len(reports) and reports[index + 1][1] > voted
        case "list_typo" | "duplicate":
            return True
        case "wrong_hour":
            return stated.hour <= 9
        case "dropped_digit":
            return index > 0 and voted >= 10 and voted // 10 < previous
    return False


def _wrong_count(voted: int, previous: int, voters: int) -> int | None:
    """A plausible slip of the thumb (two digits swapped) the bot cannot tell is wrong."""
    digits = str(voted)
    for i in range(len(digits) - 1):
        swapped = int(digits[:i] + digits[i + 1] + digits[i] + digits[i + 2 :])
        if swapped != voted and previous <= swapped < voters and len(str(swapped)) == len(digits):
            return swapped
    return None


def _add_quirk(
    rng: random.Random,
    add: Callable[..., int],
    quirk: str | None,
    sent: dt.datetime,
    stated: dt.datetime,
    voted: int,
    previous: int,
    following: int,
    area: Area,
    text: str,
    right: str,
) -> None:
    v = area.voters
    soon = _later(sent, rng, 1, 3)
    hour = _clock_words(rng, stated)
    if quirk == "extra_zero":
        add(sent, f"{voted}0/{v} {hour}", (NO,))
        add(soon, right)
    elif quirk in ("letter_o", "letter_o_edit"):
        digits = str(voted)
        typo = digits.replace("0", "o", 1) if "0" in digits else digits.replace("1", "l", 1)
        first = add(sent, f"{typo}/{v} {hour}", (NO,))
        if quirk == "letter_o":
            add(soon, right)
        else:
            add(soon, f"{voted}/{v} {hour}", action=Action.EDIT, edits=first)
    elif quirk in ("sua", "edit"):
        wrong = _wrong_count(voted, previous, v)
        assert wrong is not None
        first = add(sent, f"{wrong}/{v} {hour}")
        if quirk == "sua":
            sua = rng.choice(("sửa", "sua", "Sửa"))
            add(_later(sent, rng, 3, 8), f"{sua} {voted}/{v} {hour}")
        else:
            add(soon, f"{voted}/{v} {hour}", action=Action.EDIT, edits=first)
    elif quirk == "same_time":
        add(sent, right)
        recount = voted + max(1, (following - voted) // 3)
        again = f"{recount}/{v} {hour}"
        add(_later(sent, rng, 4, 8), again, (NO,))
        add(_later(sent, rng, 9, 11), f"sửa {again}")
    elif quirk == "list_typo":
        add(sent, f"{voted}/{v}0 {hour}", (NO,))
        add(soon, right)
    elif quirk == "wrong_hour":
        minute = f"h{stated.minute:02d}" if stated.minute else "h"
        add(sent, f"{voted}/{v} 1{stated.hour}{minute}", (NO,))
        add(soon, right)
    elif quirk == "dropped_digit":
        add(sent, f"{voted // 10}/{v} {hour}", (NO,))
        add(soon, right)
    elif quirk == "duplicate":
        add(sent, text)
        add(_later(sent, rng, 0.5, 1.5), text)
    else:
        add(sent, text)


def _multi_area_steps(rng: random.Random, chief: Chief, days: Sequence[AreaDay]) -> list[Step]:
    """A chief with several areas: every report prefixed with the area's code."""
    timed: list[tuple[dt.datetime, str, str | None]] = []
    for day in days:
        area, prefix = day.area, f"{day.area.code}: "
        if day.staff_total > 0:
            covid = _covid_text(rng, day.tested, day.staff_total)
            timed.append((day.covid_at, prefix + covid, None))
        for stated, voted in day.reports:
            text = _turnout_text(rng, voted, area.voters, stated, style=0)
            timed.append((_later(stated, rng, 0.5, 12), prefix + text, None))
        text = _completion_text(rng, area.voters, day.finish, day.bare_finish)
        timed.append((_later(day.finish, rng, 0.5, 6), prefix + text, area.code))
    timed.sort(key=lambda item: item[0])
    steps: list[Step] = []
    for moment, text, finishes in timed:
        if steps and moment <= steps[-1].at:
            moment = steps[-1].at + dt.timedelta(seconds=30)
        steps.append(Step(moment, Action.TEXT, text, (OK,), finishes=finishes))
    return steps


def _check_steps(chief: Chief) -> None:
    """Every message meant to be accepted reads as intended: a guard against a script that
    would make the bot look wrong."""
    for step in chief.steps:
        if step.action == Action.CONTACT or step.text == "/start" or NO in step.expect:
            continue
        lines = parse_message(step.text)
        if len(lines) != len(step.expect) or not all(isinstance(p, ParsedReport) for p in lines):
            raise AssertionError(f"the drill's script is unreadable: {step.text!r} -> {lines}")
        for line in lines:
            assert isinstance(line, ParsedReport)
            if line.kind == ReportKind.TURNOUT and line.voted is None:
                raise AssertionError(f"the drill's script has no count: {step.text!r}")


def without_edits(steps: Sequence[Step]) -> list[Step]:
    """The steps for a channel where a sent message cannot be edited (Zalo, SMS): an edit
    becomes the message retyped, starting with `sửa` when the edited version was stored."""
    out: list[Step] = []
    for step in steps:
        if step.action == Action.EDIT:
            assert step.edits is not None
            edited = steps[step.edits]
            text = step.text if NO in edited.expect else f"sửa {step.text}"
            step = dataclasses.replace(step, action=Action.TEXT, text=text, edits=None)
        out.append(step)
    return out
