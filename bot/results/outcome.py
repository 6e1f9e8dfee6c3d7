"""The provisional outcome of an electoral unit (RESULTS.md, "Roll-up, winners, summaries"):
Điều 78 of the election law applied to the unit's running totals.

Pure functions, no I/O. :func:`outcome` takes the unit, its candidates and its totals
(`bot.results.model.UnitTotals`) and gives its completeness, turnout, each candidate's votes
and % of the unit's valid ballots (2 decimals, half-up, 0 when there are none) and, once every
area has a record, the provisional (tạm tính) standing:

- the unit's result stands only when more than half of its listed voters voted; otherwise it
  is flagged `bầu lại` (re-vote) and nobody is elected; a re-vote unit (`round` 2) stands
  whatever its turnout;
- a candidate with more than half of the valid ballots is elected; if more pass than there are
  seats, those with most votes; a tie for the last seat goes to the older candidate;
- fewer winners than seats: for `qh` the unit is flagged (đề nghị bầu thêm: the National
  Election Council decides); for an HĐND, `bầu thêm` only when the winners are fewer than two
  thirds of the seats.

:func:`ballot_tallies` sums outcomes per ballot for an administrative unit: electoral units
complete / total and seats filled / seats ("HĐND xã: bầu được 1.952/2.019"), where seats filled
counts the elected of complete units not flagged `bầu lại`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from bot.formatting import turnout_percent
from bot.results.model import Ballot, Candidate, ElectoralUnit, UnitStanding, UnitTotals

REVOTE_ROUND = 2


class CandidateResult(StrEnum):
    """A candidate's standing; the values are the export's `outcome` column."""

    ELECTED = "elected"
    NOT_ELECTED = "not elected"
    INCOMPLETE = "incomplete"  # the unit still waits for records


class UnitFlag(StrEnum):
    """What a complete unit still needs; the values are the export's `unit_flag` column."""

    REVOTE = "re-vote"  # bầu lại: half or fewer of the listed voters voted
    ADDITIONAL_VOTE = "additional vote"  # bầu thêm (`qh`: đề nghị bầu thêm)


def percent_of(part: int, whole: int) -> Decimal:
    """`part` in percent of `whole`, 2 decimals, half-up; 0 when `whole` is 0."""
    return turnout_percent(part, whole, 2)


@dataclass(frozen=True, slots=True)
class CandidateStanding:
    number: int  # order on the ballot
    name: str
    birth_date: dt.date
    votes: int
    percent: Decimal  # of the unit's valid ballots
    over_half: bool  # more than half of the valid ballots
    result: CandidateResult

    @property
    def elected(self) -> bool:
        return self.result is CandidateResult.ELECTED


@dataclass(frozen=True, slots=True)
class UnitOutcome:
    ballot: Ballot
    electoral_unit: str
    name: str
    seats: int
    round: int
    areas_mapped: int
    areas_reported: int
    areas_checked: int
    registered_voters: int
    voted: int
    turnout: Decimal  # voted in % of the listed voters, 2 decimals
    valid: int
    invalid: int
    candidates: tuple[CandidateStanding, ...]  # ballot order
    complete: bool
    flag: UnitFlag | None = None  # only for a complete unit

    @property
    def stands(self) -> bool:
        """A complete unit whose result stands (not `bầu lại`)."""
        return self.complete and self.flag is not UnitFlag.REVOTE

    @property
    def elected(self) -> tuple[CandidateStanding, ...]:
        """The provisional winners, most votes first."""
        winners = [c for c in self.candidates if c.elected]
        return tuple(sorted(winners, key=_rank))

    @property
    def seats_filled(self) -> int:
        return len(self.elected) if self.stands else 0


def _rank(candidate: CandidateStanding) -> tuple[int, dt.date, int]:
    """Most votes first; on equal votes the older candidate (earlier birth date) first; on
    the same birth date too, the law says nothing: the ballot order decides, so that the
    outcome is the same every time it is computed."""
    return (-candidate.votes, candidate.birth_date, candidate.number)


def outcome(
    unit: ElectoralUnit, candidates: Sequence[Candidate], totals: UnitTotals
) -> UnitOutcome:
    """The unit's completeness, percentages and, once complete, its provisional standing."""
    ordered = sorted(candidates, key=lambda c: c.number)
    votes = [totals.votes[i] if i < len(totals.votes) else 0 for i in range(len(ordered))]
    complete = totals.complete
    stands = complete and (
        unit.round >= REVOTE_ROUND or totals.voted * 2 > totals.registered_voters
    )
    standings = [
        CandidateStanding(
            number=c.number,
            name=c.name,
            birth_date=c.birth_date,
            votes=v,
            percent=percent_of(v, totals.valid),
            over_half=v * 2 > totals.valid,
            result=CandidateResult.NOT_ELECTED if complete else CandidateResult.INCOMPLETE,
        )
        for c, v in zip(ordered, votes, strict=True)
    ]
    flag: UnitFlag | None = None
    if complete and not stands:
        flag = UnitFlag.REVOTE
    elif stands:
        passing = sorted((s for s in standings if s.over_half), key=_rank)
        winners = {s.number for s in passing[: unit.seats]}
        standings = [
            _with(s, CandidateResult.ELECTED) if s.number in winners else s for s in standings
        ]
        if _short_of_seats(unit.ballot, len(winners), unit.seats):
            flag = UnitFlag.ADDITIONAL_VOTE
    return UnitOutcome(
        ballot=unit.ballot,
        electoral_unit=unit.code,
        name=unit.name,
        seats=unit.seats,
        round=unit.round,
        areas_mapped=totals.areas_mapped,
        areas_reported=totals.areas_reported,
        areas_checked=totals.areas_checked,
        registered_voters=totals.registered_voters,
        voted=totals.voted,
        turnout=percent_of(totals.voted, totals.registered_voters),
        valid=totals.valid,
        invalid=totals.invalid,
        candidates=tuple(standings),
        complete=complete,
        flag=flag,
    )


def _with(standing: CandidateStanding, result: CandidateResult) -> CandidateStanding:
    return CandidateStanding(
        standing.number, standing.name, standing.birth_date, standing.votes,
        standing.percent, standing.over_half, result,
    )  # fmt: skip


def _short_of_seats(ballot: Ballot, winners: int, seats: int) -> bool:
    """`qh`: any seat left empty goes to the National Election Council (đề nghị bầu thêm);
    HĐND: a further vote only when fewer than two thirds of the seats are filled."""
    if ballot is Ballot.QH:
        return winners < seats
    return winners * 3 < seats * 2


@dataclass(frozen=True, slots=True)
class BallotTally:
    """One ballot over an administrative unit's electoral units."""

    ballot: Ballot
    units_total: int
    units_complete: int
    seats: int
    seats_filled: int
    revotes: int  # complete units flagged `bầu lại`
    additional_votes: int  # complete units flagged `bầu thêm`


def ballot_tallies(outcomes: Iterable[UnitOutcome]) -> tuple[BallotTally, ...]:
    """Per ballot (in the ballots' order), the electoral units complete and the seats filled."""
    by_ballot: dict[Ballot, list[UnitOutcome]] = {}
    for one in outcomes:
        by_ballot.setdefault(one.ballot, []).append(one)
    return tuple(
        BallotTally(
            ballot=ballot,
            units_total=len(units),
            units_complete=sum(u.complete for u in units),
            seats=sum(u.seats for u in units),
            seats_filled=sum(u.seats_filled for u in units),
            revotes=sum(u.flag is UnitFlag.REVOTE for u in units),
            additional_votes=sum(u.flag is UnitFlag.ADDITIONAL_VOTE for u in units),
        )
        for ballot in Ballot
        if (units := by_ballot.get(ballot))
    )


def standing_outcome(standing: UnitStanding) -> tuple[int, UnitFlag | None]:
    """(seats filled, flag) of an electoral unit from its standing alone, as :func:`outcome`
    decides them: who wins a tie for the last seat changes neither, so the candidates
    themselves are not needed. (0, None) while the unit waits for records."""
    if not standing.complete:
        return 0, None
    if standing.round < REVOTE_ROUND and standing.voted * 2 <= standing.registered_voters:
        return 0, UnitFlag.REVOTE
    winners = min(standing.over_half, standing.seats)
    short = _short_of_seats(standing.ballot, winners, standing.seats)
    return winners, UnitFlag.ADDITIONAL_VOTE if short else None


def standing_tallies(standings: Iterable[UnitStanding]) -> tuple[BallotTally, ...]:
    """:func:`ballot_tallies` from the units' standings (one row each, no candidate list):
    what `/ketqua` shows for an administrative unit, as cheap as its running totals."""
    by_ballot: dict[Ballot, list[tuple[UnitStanding, int, UnitFlag | None]]] = {}
    for one in standings:
        by_ballot.setdefault(one.ballot, []).append((one, *standing_outcome(one)))
    return tuple(
        BallotTally(
            ballot=ballot,
            units_total=len(units),
            units_complete=sum(s.complete for s, _, _ in units),
            seats=sum(s.seats for s, _, _ in units),
            seats_filled=sum(filled for _, filled, _ in units),
            revotes=sum(flag is UnitFlag.REVOTE for _, _, flag in units),
            additional_votes=sum(flag is UnitFlag.ADDITIONAL_VOTE for _, _, flag in units),
        )
        for ballot in Ballot
        if (units := by_ballot.get(ballot))
    )
