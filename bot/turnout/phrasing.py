"""Natural phrasing resolved against the sender's areas and the area's reports (issue 14).

The grammar (bot/turnout/grammar.py) reads what the text says and nothing more: an area named by
a number and a commune, an hour that may be the afternoon, a percentage, a date, a COVID
count without its total. What those mean depends on who sent the message and what the area
already has; this module decides it, with pure functions, and when a message can be read two
ways it says so rather than choose: the rule above every other is never to store a number or
a time the sender did not mean.

- `resolve_area`: the area a line is about, from its prefix code or the area it names.
- `complete_report`: the percentage, the date and the COVID total checked or filled in.
- `afternoon_reading`: "6h" as 06:00 or 18:00, asking the area's rules (`judge`) which
  reading is valid.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from bot.model import Report, Unit
from bot.registration.access import Caller
from bot.turnout.lines import ParsedReport, ReportKind
from bot.turnout.rules import Candidate, Outcome, Verdict, current_list_size, judge
from storage.tree import UnitIndex

PERCENT_TOLERANCE = 0.5  # points: "78,1%" written for 250/320 (78,125%) is right
NOON = dt.time(12, 0)

# "KV05", "Kv5", "KVBP5", "BL05" (Bản Lầu 05): letters, then the area's number.
_CODE_NUMBER = re.compile(r"[a-z]{0,6}[ ._\-]*0*([0-9]{1,3})")
_NAME_NUMBER = re.compile(r"\bso ?0*([0-9]{1,3})\b")
_TRAILING_NUMBER = re.compile(r"([0-9]{1,3})$")
_KIND_WORDS = ("thi tran", "dac khu", "thi xa", "phuong", "xa", "tt")


def fold(text: str) -> str:
    """Lowercase, without diacritics, đ → d, single spaces: how names are compared."""
    out = []
    for c in unicodedata.normalize("NFD", text.lower()):
        if unicodedata.category(c) == "Mn":
            continue
        out.append("d" if c == "đ" else c)
    return " ".join(re.sub(r"[^\w]+", " ", "".join(out)).split())


def area_numbers(area: Unit) -> set[int]:
    """The numbers an area is known by: its code's last digits and "số N" in its name."""
    numbers = set()
    trailing = _TRAILING_NUMBER.search(area.code)
    if trailing is not None:
        numbers.add(int(trailing.group(1)))
    numbers.update(int(m.group(1)) for m in _NAME_NUMBER.finditer(fold(area.name)))
    return numbers


def _without_kind(name: str) -> str:
    for word in _KIND_WORDS:
        if name.startswith(word + " "):
            return name[len(word) + 1 :]
    return name


def area_places(area: Unit, units: UnitIndex) -> list[str]:
    """The commune names an area may be named with (folded, without "xã", "phường" …)."""
    places = []
    if area.parent_code is not None:
        parent = units.get(area.parent_code)
        if parent is not None:
            places.append(_without_kind(fold(parent.name)))
    for part in re.split(r"\s[-–—]\s", area.name)[1:]:
        places.append(_without_kind(fold(part)))
    return [p for p in places if p]


def place_matches(place: str, area: Unit, units: UnitIndex) -> bool:
    """ "ban lau" names the area's commune "Xã Bản Lầu" ("ban lau hom nay" too)."""
    place = _without_kind(fold(place))
    return any(
        place == name or place.startswith(name + " ") or f" {place} " in f" {name} "
        for name in area_places(area, units)
    )


def own_areas(caller: Caller, units: UnitIndex) -> list[Unit]:
    """Every area the caller may report for."""
    if caller.is_admin:
        return [u for u in units if u.is_area]
    found: dict[str, Unit] = {}
    for code in caller.areas:
        unit = units.get(code)
        if unit is not None:
            found[unit.code] = unit
    for code in caller.supervised:
        for unit in units.areas_under(code):
            found[unit.code] = unit
    return list(found.values())


@dataclass(frozen=True, slots=True)
class AreaRefusal:
    """Why a line's area could not be settled; texts.py words it."""

    reason: str  # "unknown_unit", "not_an_area", "not_your_unit", "needs_prefix",
    #               "needs_code", "named_not_yours", "named_ambiguous"
    code: str = ""
    choices: tuple[str, ...] = ()


def _own_name(area: Unit, units: UnitIndex) -> str | None:
    """The words that tell an area from the others of its commune ("Thôn Na Lốc" in
    "Khu vực bỏ phiếu số 1 – Thôn Na Lốc"), folded; None when its name has none."""
    parts = re.split(r"\s[-–—]\s", area.name)
    if len(parts) < 2:
        return None
    own = fold(parts[-1])
    if not own or own in area_places(area, units)[:1]:
        return None  # "… – Bản Lầu" names the commune, not the area
    return own


def _named_in(text: str, mine: Sequence[Unit], units: UnitIndex) -> Unit | None:
    """The only one of `mine` whose own name ("thon na loc", or without its first word,
    "na loc") the text contains."""
    folded = f" {fold(text)} "
    found = []
    for area in mine:
        own = _own_name(area, units)
        if own is None:
            continue
        names = {own, own.split(" ", 1)[-1]} if " " in own else {own}
        if any(f" {name} " in folded for name in names):
            found.append(area)
    return found[0] if len(found) == 1 else None


def resolve_area(
    line_code: str | None,
    number: int | None,
    place: str | None,
    caller: Caller,
    units: UnitIndex,
    text: str = "",
) -> Unit | AreaRefusal:
    """The area a line is about: its prefix code, else the area it names (number and
    commune, or its own name) within the sender's own areas, else the sender's only area."""
    if line_code is not None:
        unit = units.get(line_code)
        if unit is not None:
            if not unit.is_area:
                return AreaRefusal("not_an_area", unit.code)
            if not caller.may_report_for(units, unit):
                return AreaRefusal("not_your_unit", unit.code)
            return unit
        folded = fold(line_code).replace(" ", "")
        if number is None and any(c.isdigit() for c in folded):
            m = _CODE_NUMBER.fullmatch(folded)
            if m is None:
                return AreaRefusal("unknown_unit", line_code)
            number = int(m.group(1))
        # A code-like word with no digit ("Chào:") is a label, not an area.
    if number is not None:
        mine = own_areas(caller, units)
        matches = [a for a in mine if number in area_numbers(a)]
        if place:
            matches = [a for a in matches if place_matches(place, a, units)]
        if len(matches) == 1:
            return matches[0]
        named = line_code or f"số {number}" + (f" ({place})" if place else "")
        if not matches:
            return AreaRefusal("named_not_yours", named, tuple(a.code for a in mine[:10]))
        return AreaRefusal("named_ambiguous", named, tuple(a.code for a in matches[:10]))
    if len(caller.areas) == 1:
        area = units.get(caller.areas[0])
        if area is not None:
            return area
    if text and (caller.areas or caller.supervised):
        by_name = _named_in(text, own_areas(caller, units), units)
        if by_name is not None:
            return by_name
    if caller.areas:
        return AreaRefusal("needs_prefix", choices=caller.areas)
    return AreaRefusal("needs_code")


@dataclass(frozen=True, slots=True)
class Question:
    """Nothing is stored: the reply asks or refuses; texts.py words it."""

    reason: str  # "percent_mismatch", "wrong_date", "covid_needs_total"
    facts: dict[str, object]


def complete_report(
    line: ParsedReport,
    area: Unit,
    current: Sequence[Report],
    election_day: dt.date,
    arrived: dt.date | None = None,
) -> ParsedReport | Question:
    """The report with "100%" and a COVID total filled in, after the stated date and
    percentage are checked; or the question to ask instead. `arrived`: the day the message
    came (in the election's zone): a turnout or a completion without a time takes the
    arrival's time, which means nothing on another day than the election's."""
    if (
        arrived is not None
        and arrived != election_day
        and line.time is None
        and line.kind != ReportKind.COVID
    ):
        return Question("arrived_off_day", {"arrived": arrived, "election": election_day})
    if line.date is not None:
        wanted = [election_day]
        if line.kind == ReportKind.COVID:
            wanted.append(election_day - dt.timedelta(days=1))  # tests are done the day before
        stated = line.date
        if not any(
            stated.day == day.day and stated.month == day.month and stated.year in (None, day.year)
            for day in wanted
        ):
            facts: dict[str, object] = {
                "day": stated.day, "month": stated.month, "year": stated.year,
                "election": election_day,
            }  # fmt: skip
            return Question("wrong_date", facts)
    if line.kind == ReportKind.COVID:
        if line.staff_total is None:
            if area.staff is None:
                return Question("covid_needs_total", {"tested": line.staff_tested or 0})
            return line.model_copy(update={"staff_total": area.staff})
        return line
    list_size = line.list_size or current_list_size(area, current)
    if line.whole_list and line.voted is None:
        if list_size <= 0:
            return Question("percent_needs_count", {})
        return line.model_copy(update={"voted": list_size})
    if line.percent is not None and line.voted is not None and list_size > 0:
        actual = line.voted * 100 / list_size
        whole_wrong = line.percent == 100 and line.voted != list_size
        if whole_wrong or abs(actual - line.percent) > PERCENT_TOLERANCE:
            return Question(
                "percent_mismatch",
                {"voted": line.voted, "list": list_size, "stated": line.percent},
            )
    return line


@dataclass(frozen=True, slots=True)
class TimeChoice:
    """The reading of the stated time to store, or both readings when either would do."""

    candidate: Candidate  # with the time chosen
    verdict: Verdict
    ask: tuple[dt.datetime, dt.datetime] | None = None  # (morning, afternoon): ask which


def afternoon_reading(
    area: Unit,
    locked: bool,
    current: Sequence[Report],
    candidate: Candidate,
) -> TimeChoice:
    """Judge `candidate`; for an hour that may be the afternoon ("6h" typed without
    sáng/chiều and without a leading 0), judge both readings and keep the valid one. When
    both are valid, ask (`ask` set). When neither is, the morning reading's refusal stands."""
    report = candidate.report
    morning = candidate.at
    verdict = judge(area, locked, current, candidate)
    if not report.afternoon_possible or report.kind == ReportKind.COVID or report.time is None:
        return TimeChoice(candidate, verdict)
    afternoon = morning + dt.timedelta(hours=12)
    late_time = report.time.replace(hour=report.time.hour + 12)
    # `judge` reads a report's kind, counts and list, never its `time`: the afternoon is
    # judged at its time with the report as it is, and the report that says the afternoon's
    # time is made only when that reading is the one kept.
    late_verdict = judge(
        area, locked, current,
        Candidate(report, afternoon, candidate.received_at, candidate.same_origin),
    )  # fmt: skip
    morning_ok = verdict.outcome != Outcome.REJECTED
    afternoon_ok = late_verdict.outcome != Outcome.REJECTED
    if morning_ok and afternoon_ok:
        return TimeChoice(candidate, verdict, ask=(morning, afternoon))
    if afternoon_ok:
        later = Candidate(
            report=report.model_copy(update={"time": late_time}),
            at=afternoon,
            received_at=candidate.received_at,
            same_origin=candidate.same_origin,
        )
        return TimeChoice(later, late_verdict)
    return TimeChoice(candidate, verdict)


_COVID_WORDS = re.compile(r"\b(xn|xet nghiem|test|am tinh|duong tinh|covid|dt)\b")
_DONE_WORDS = re.compile(r"\b(xong|hoan thanh|hoan tat|ket thuc)\b")


def kind_of_text(text: str, reason: str) -> str:
    """The kind of report a line that could not be read meant, for the right example."""
    folded = fold(text)
    if reason.startswith("covid") or _COVID_WORDS.search(folded):
        return ReportKind.COVID.value
    if _DONE_WORDS.search(folded):
        return ReportKind.COMPLETION.value
    return ReportKind.TURNOUT.value
