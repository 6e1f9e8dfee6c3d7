"""Results night's reads (RESULTS.md, "Roll-up, winners, summaries"): `/ketqua`, `/chuakq`
and `/xuat kq`, for an electoral unit or an administrative unit.

An administrative unit takes the electoral units whose organizing unit is in its subtree
(their running totals: no record is read, so `/ketqua` for a province costs what `/tonghop`
does) and the areas in its subtree (`/chuakq`, the per-area export). An electoral unit is
seen by whoever may see its organizing unit, or one of its areas (a commune's supervisor
follows the `qh` unit their areas vote in).
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from bot import texts as base_texts
from bot.messaging.answers import Answer, Refusal, refused
from bot.model import Unit
from bot.monitoring.charts import CandidateBar, CandidateShares, ChartRenderer
from bot.monitoring.views import resolve_unit
from bot.registration.access import Viewer
from bot.results import export, texts
from bot.results.model import AreaBallot, Ballot, ElectoralUnit, UnitStanding
from bot.results.outcome import (
    BallotTally,
    UnitOutcome,
    outcome,
    standing_outcome,
    standing_tallies,
)
from storage.database import Database
from storage.tree import UnitIndex

# `/ketqua MK xã`: the ballot as people write it after the code (folded: no diacritics).
_BALLOT_WORDS = {
    "qh": Ballot.QH, "quochoi": Ballot.QH, "dbqh": Ballot.QH,
    "tinh": Ballot.TINH, "hdndtinh": Ballot.TINH,
    "huyen": Ballot.HUYEN, "hdndhuyen": Ballot.HUYEN,
    "xa": Ballot.XA, "hdndxa": Ballot.XA,
}  # fmt: skip
MAX_LISTED_UNITS = 60  # electoral units listed one per line under an administrative unit


def _fold(word: str) -> str:
    decomposed = unicodedata.normalize("NFD", word.lower().replace("đ", "d").replace("Đ", "d"))
    return "".join(c for c in decomposed if unicodedata.category(c) != "Mn")


def ballot_word(word: str) -> Ballot | None:
    """The ballot a command's argument names (`qh`, `tỉnh`, `HĐND xã`…), or None."""
    return _BALLOT_WORDS.get(_fold(word))


@dataclass(frozen=True, slots=True)
class Target:
    """What a results command works on: an administrative unit or an electoral unit, and
    the ballot it is limited to (None: every ballot)."""

    unit: Unit | None
    electoral_unit: ElectoralUnit | None
    ballot: Ballot | None

    @property
    def label(self) -> str:
        if self.electoral_unit is not None:
            return texts.electoral_unit_label(self.electoral_unit)
        assert self.unit is not None
        return base_texts.unit_label(self.unit.code, self.unit.name)

    @property
    def code(self) -> str:
        if self.electoral_unit is not None:
            return self.electoral_unit.code
        assert self.unit is not None
        return self.unit.code


def split_args(args: Sequence[str]) -> tuple[list[str], Ballot | None] | None:
    """(codes, ballot) from a command's arguments in any order (the ballot may take two
    words, `hđnd xã`), or None when two ballots are named."""
    ballot: Ballot | None = None
    codes: list[str] = []
    words = list(args)
    index = 0
    while index < len(words):
        pair = ballot_word("".join(words[index : index + 2])) if index + 1 < len(words) else None
        one = ballot_word(words[index])
        found, step = (pair, 2) if pair is not None and one is None else (one, 1)
        if found is None:
            codes.append(words[index])
        elif ballot is not None:
            return None
        else:
            ballot = found
        index += step
    return codes, ballot


async def resolve(
    db: Database, viewer: Viewer, args: Sequence[str], command: str
) -> Target | Answer:
    """The target of `/ketqua`, `/chuakq`, `/xuat kq`, or the refusal to answer."""
    usage, brief = _USAGES[command]
    split = split_args(args)
    if split is None or len(split[0]) > 1:
        return refused(Refusal.USAGE, usage, brief)
    codes, ballot = split
    if not await db.results.any_electoral_unit():
        return refused(Refusal.NO_BALLOTS_YET, texts.NO_BALLOTS_YET, texts.NO_BALLOTS_YET_BRIEF)
    if codes:
        electoral = await db.results.electoral_unit(codes[0])
        if electoral is not None:
            if ballot is not None and ballot is not electoral.ballot:
                return refused(
                    Refusal.WRONG_BALLOT,
                    texts.wrong_ballot(electoral.code, electoral.ballot),
                    texts.wrong_ballot_brief(electoral.ballot),
                )
            if not await may_view_electoral_unit(db, viewer, electoral):
                return refused(
                    Refusal.NOT_YOUR_UNIT,
                    texts.not_your_electoral_unit(electoral.code),
                    texts.not_your_electoral_unit_brief(electoral.code),
                )
            return Target(None, electoral, electoral.ballot)
    unit = resolve_unit(db, viewer, codes, command)
    if isinstance(unit, Answer):
        return unit
    return Target(unit, None, ballot)


_USAGES = {
    "ketqua": (texts.RESULTS_USAGE, texts.RESULTS_USAGE_BRIEF),
    "chuakq": (texts.MISSING_RESULTS_USAGE, texts.MISSING_RESULTS_USAGE_BRIEF),
    "xuat kq": (texts.EXPORT_RESULTS_USAGE, texts.EXPORT_RESULTS_USAGE_BRIEF),
}


async def may_view_electoral_unit(db: Database, viewer: Viewer, unit: ElectoralUnit) -> bool:
    """Whoever may see the organizing unit, or one of the electoral unit's areas."""
    units = db.units
    organizer = units.get(unit.organizing_unit)
    if organizer is not None and viewer.may_view(units, organizer):
        return True
    for mapping in await db.results.areas_of(unit.code):
        area = units.get(mapping.area_code)
        if area is not None and viewer.may_view(units, area):
            return True
    return False


async def outcomes_of(db: Database, units: Sequence[ElectoralUnit]) -> list[UnitOutcome]:
    """Each unit's provisional outcome from the running totals (three reads for them all)."""
    codes = [unit.code for unit in units]
    totals = await db.results.totals_of(codes)
    candidates = await db.results.candidates_of(codes)
    return [
        outcome(unit, candidates[unit.code], totals[unit.code])
        for unit in units
        if unit.code in totals
    ]


# -- /ketqua --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ResultsView:
    """What `/ketqua` shows: the text, and for an electoral unit its chart (with what the
    chart drew, for tests and callers)."""

    text: str
    chart: bytes | None = None
    plotted: tuple[tuple[str, float], ...] = ()
    marked: tuple[str, ...] = ()  # the candidates the chart marks elected
    outcomes: tuple[UnitOutcome, ...] = ()  # an electoral unit's
    standings: tuple[UnitStanding, ...] = ()  # an administrative unit's electoral units
    tallies: tuple[BallotTally, ...] = ()  # an administrative unit's, per ballot


def candidate_chart(result: UnitOutcome, unit: ElectoralUnit, now: dt.datetime) -> CandidateShares:
    return CandidateShares(
        title=texts.chart_title(unit),
        subtitle=texts.chart_subtitle(result, now),
        bars=tuple(
            CandidateBar(f"{c.number}. {c.name}", c.votes, c.percent, c.elected)
            for c in result.candidates
        ),
        complete=result.complete,
    )


async def results_view(
    db: Database, renderer: ChartRenderer, target: Target, now: dt.datetime
) -> ResultsView:
    if target.electoral_unit is not None:
        unit = target.electoral_unit
        [result] = await outcomes_of(db, [unit])
        image = await renderer.render(candidate_chart(result, unit, now))
        return ResultsView(
            text=texts.unit_results(result, unit.code, now),
            chart=image.png,
            plotted=image.plotted,
            marked=image.marked,
            outcomes=(result,),
        )
    assert target.unit is not None
    label = target.label
    organizers = organizers_within(db.units, target.unit.code)
    standings = await db.results.standings_organized_in(organizers, target.ballot)
    if not standings:
        return ResultsView(texts.no_electoral_units(label, target.ballot))
    tallies = standing_tallies(standings)
    lines = [texts.admin_results_header(label, now)]
    lines += [texts.ballot_tally(tally) for tally in tallies]
    if target.ballot is not None:
        lines.append("")
        for one in standings[:MAX_LISTED_UNITS]:
            filled, flag = standing_outcome(one)
            lines.append(texts.electoral_unit_line(one, filled, flag))
        if len(standings) > MAX_LISTED_UNITS:
            lines.append(texts.more_electoral_units(len(standings) - MAX_LISTED_UNITS))
    else:
        lines.append(texts.BALLOT_LISTING_HINT)
    return ResultsView("\n".join(lines), standings=tuple(standings), tallies=tallies)


def organizers_within(units: UnitIndex, code: str) -> list[str]:
    """The codes of the unit and of every unit below it that is not an area (only those may
    organize an electoral unit): a province's communes, without walking its areas."""
    found: list[str] = []
    stack = [code]
    while stack:
        current = stack.pop()
        found.append(current)
        stack.extend(child.code for child in units.children(current) if not child.is_area)
    return found


# -- /chuakq --------------------------------------------------------------------------------


async def _scope_areas(db: Database, viewer: Viewer, target: Target) -> list[AreaBallot]:
    """The (area, ballot) pairs a target covers, as mapped."""
    if target.electoral_unit is not None:
        unit = target.electoral_unit
        mapped = await db.results.areas_of(unit.code)
        organizer = db.units.get(unit.organizing_unit)
        if organizer is not None and viewer.may_view(db.units, organizer):
            return mapped
        return [
            m
            for m in mapped
            if (area := db.units.get(m.area_code)) is not None and viewer.may_view(db.units, area)
        ]
    assert target.unit is not None
    areas = [area.code for area in db.units.areas_under(target.unit.code)]
    return await db.results.mappings_of_areas(areas, target.ballot)


async def missing_results(
    db: Database, viewer: Viewer, target: Target, *, double_entry: bool
) -> str:
    """Areas without a record (with double entry: without a matching second entry too),
    grouped by electoral unit, with the chiefs' names and phones."""
    mapped = await _scope_areas(db, viewer, target)
    areas = sorted({m.area_code for m in mapped})
    records = {
        (r.area_code, r.ballot): r for r in await db.results.records_of_areas(areas, target.ballot)
    }
    conflicts = (
        await db.results_intake.conflicts([r.id for r in records.values()])
        if double_entry
        else set()
    )
    # unit -> (area, what it waits for: None a record, else a second entry, conflicting?)
    missing: dict[str, list[tuple[str, bool | None]]] = {}
    total: dict[str, int] = {}
    for m in mapped:
        total[m.electoral_unit] = total.get(m.electoral_unit, 0) + 1
        record = records.get((m.area_code, m.ballot))
        if record is None:
            missing.setdefault(m.electoral_unit, []).append((m.area_code, None))
        elif double_entry and not record.checked:
            waiting = (m.area_code, record.id in conflicts)
            missing.setdefault(m.electoral_unit, []).append(waiting)
    label = target.label
    count = sum(len(v) for v in missing.values())
    if not count:
        return texts.missing_results_none(label, double_entry)
    order = {unit.code: unit for unit in await db.results.electoral_units(target.ballot)}
    phones = sorted(
        {
            phone
            for listed in missing.values()
            for code, _ in listed
            if (area := db.units.get(code)) is not None
            for phone in area.contact_phones
        }
    )
    people = await db.people_with_phones(phones)
    lines = [texts.missing_results_header(label, count, len(mapped), double_entry)]
    for code, unit in order.items():
        listed = missing.get(code)
        if not listed:
            continue
        lines.append(texts.missing_results_group(unit, len(listed), total[code]))
        for area_code, conflict in listed:
            area = db.units.get(area_code)
            name = area.name if area is not None else area_code
            contacts = [
                (people[p].name if p in people else None, p)
                for p in (area.contact_phones if area is not None else ())
            ]
            line = base_texts.missing_area(base_texts.unit_label(area_code, name), contacts)
            lines.append(line if conflict is None else texts.awaiting_second_entry(line, conflict))
    return "\n".join(lines)  # whole: each channel splits it at its own limit


# -- /xuat kq -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ResultsTables:
    areas: list[export.Row]
    units: list[export.Row]


async def results_tables(
    db: Database, target: Target, tz: dt.tzinfo, *, double_entry: bool
) -> ResultsTables:
    """The two export tables of a target: the records of its areas (an electoral unit: its
    records), and its electoral units' totals and outcomes."""
    if target.electoral_unit is not None:
        units = [target.electoral_unit]
        records = await db.results.records_of_units([target.electoral_unit.code])
    else:
        assert target.unit is not None
        organizers = organizers_within(db.units, target.unit.code)
        units = await db.results.electoral_units_organized_in(organizers, target.ballot)
        areas = [area.code for area in db.units.areas_under(target.unit.code)]
        records = await db.results.records_of_areas(areas, target.ballot)
    results = await outcomes_of(db, units)
    record_units = sorted({r.electoral_unit for r in records})
    candidates = await db.results.candidates_of(record_units)
    conflicts = (
        frozenset(await db.results_intake.conflicts([r.id for r in records]))
        if double_entry
        else frozenset()
    )
    return ResultsTables(
        areas=export.areas_rows(
            records, candidates, tz, double_entry=double_entry, conflicts=conflicts
        ),
        units=export.units_rows(results),
    )
