"""The provisional outcome of an electoral unit by Điều 78 (RESULTS.md): hand-computed cases —
a tie for the last seat, exactly 50% turnout, winners short of seats for `qh` and for HĐND,
more candidates over half than seats, a re-vote unit — and a property comparing `outcome`
with a straightforward reference implementation."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.results.model import Ballot, Candidate, ElectoralUnit, UnitTotals
from bot.results.outcome import (
    BallotTally,
    CandidateResult,
    UnitFlag,
    UnitOutcome,
    ballot_tallies,
    outcome,
    percent_of,
)

BORN = (dt.date(1970, 5, 1), dt.date(1965, 3, 2), dt.date(1980, 1, 9), dt.date(1958, 12, 30))


def decide(
    votes: tuple[int, ...],
    *,
    seats: int,
    valid: int,
    ballot: Ballot = Ballot.QH,
    registered: int = 1000,
    voted: int = 800,
    round: int = 1,
    born: tuple[dt.date, ...] = BORN,
    mapped: int = 3,
    reported: int = 3,
) -> UnitOutcome:
    unit = ElectoralUnit(ballot, "DV1", "Đơn vị bầu cử số 1", seats, "LC", round=round)
    candidates = [
        Candidate(ballot, "DV1", n, f"Người ứng cử {n}", born[(n - 1) % len(born)])
        for n in range(1, len(votes) + 1)
    ]
    totals = UnitTotals(
        ballot, "DV1", areas_mapped=mapped, areas_reported=reported, areas_checked=reported,
        registered_voters=registered, voted=voted, issued=voted, returned=voted, valid=valid,
        invalid=voted - valid, votes=votes,
    )  # fmt: skip
    return outcome(unit, candidates, totals)


def elected(result: UnitOutcome) -> tuple[int, ...]:
    return tuple(c.number for c in result.elected)


def test_a_tie_for_the_last_seat_goes_to_the_older_candidate() -> None:
    # 780 valid: half is 390. Candidates 2 and 3 both have 500 for the second seat; 2 was born
    # in 1965, 3 in 1980: 2 is elected.
    result = decide((600, 500, 500, 100), seats=2, valid=780)
    assert elected(result) == (1, 2)
    assert [c.result for c in result.candidates] == [
        CandidateResult.ELECTED,
        CandidateResult.ELECTED,
        CandidateResult.NOT_ELECTED,
        CandidateResult.NOT_ELECTED,
    ]
    assert [c.percent for c in result.candidates] == [
        Decimal("76.92"),
        Decimal("64.10"),
        Decimal("64.10"),
        Decimal("12.82"),
    ]
    assert result.flag is None
    assert result.seats_filled == 2


def test_the_older_candidate_wins_the_tie_whatever_the_ballot_order() -> None:
    born = (dt.date(1970, 1, 1), dt.date(1990, 1, 1), dt.date(1960, 1, 1))
    assert elected(decide((700, 500, 500), seats=2, valid=800, born=born)) == (1, 3)


def test_a_tie_within_the_seats_elects_both() -> None:
    assert elected(decide((600, 500, 500, 100), seats=3, valid=780)) == (1, 2, 3)


def test_exactly_half_of_the_list_voting_is_a_re_vote() -> None:
    result = decide((450, 400, 50), seats=2, valid=490, registered=1000, voted=500)
    assert result.complete
    assert result.flag is UnitFlag.REVOTE
    assert not result.stands
    assert elected(result) == ()
    assert result.seats_filled == 0
    assert {c.result for c in result.candidates} == {CandidateResult.NOT_ELECTED}
    assert result.turnout == Decimal("50.00")


def test_one_voter_over_half_stands() -> None:
    result = decide((450, 400, 50), seats=2, valid=490, registered=1000, voted=501)
    assert result.flag is None
    assert elected(result) == (1, 2)


def test_a_re_vote_unit_stands_whatever_its_turnout() -> None:
    result = decide((90, 80, 10), seats=2, valid=100, registered=1000, voted=100, round=2)
    assert result.flag is None
    assert elected(result) == (1, 2)


def test_qh_short_of_winners_is_flagged_for_an_additional_vote() -> None:
    # 3 seats, only candidates 1 and 2 have more than 500 of 1.000 valid ballots.
    result = decide((900, 600, 500, 400, 300), seats=3, valid=1000)
    assert elected(result) == (1, 2)
    assert result.flag is UnitFlag.ADDITIONAL_VOTE
    assert result.seats_filled == 2


def test_qh_with_one_seat_empty_of_two() -> None:
    result = decide((700, 500, 300, 200), seats=2, valid=1000)
    assert (elected(result), result.flag) == ((1,), UnitFlag.ADDITIONAL_VOTE)


def test_council_one_third_short_needs_no_additional_vote() -> None:
    # HĐND, 3 seats, 2 winners: two thirds filled, no bầu thêm.
    result = decide((900, 600, 500, 400, 300), seats=3, valid=1000, ballot=Ballot.XA)
    assert elected(result) == (1, 2)
    assert result.flag is None
    assert result.seats_filled == 2


def test_council_two_thirds_short_needs_an_additional_vote() -> None:
    # HĐND, 3 seats, 1 winner: fewer than two thirds, bầu thêm.
    result = decide((900, 500, 500, 400, 300), seats=3, valid=1000, ballot=Ballot.TINH)
    assert elected(result) == (1,)
    assert result.flag is UnitFlag.ADDITIONAL_VOTE


def test_council_five_seats_three_winners_is_short_of_two_thirds() -> None:
    votes = (900, 800, 700, 500, 400, 300, 200, 100)
    result = decide(votes, seats=5, valid=1000, ballot=Ballot.HUYEN)
    assert (elected(result), result.flag) == ((1, 2, 3), UnitFlag.ADDITIONAL_VOTE)
    votes = (900, 800, 700, 600, 400, 300, 200, 100)
    result = decide(votes, seats=5, valid=1000, ballot=Ballot.HUYEN)
    assert (elected(result), result.flag) == ((1, 2, 3, 4), None)


def test_more_over_half_than_seats_elects_those_with_most_votes() -> None:
    result = decide((600, 900, 700, 800), seats=2, valid=1000)
    assert elected(result) == (2, 4)
    assert all(c.over_half for c in result.candidates)
    assert result.flag is None


def test_exactly_half_of_the_valid_ballots_is_not_enough() -> None:
    assert elected(decide((500, 501, 499), seats=2, valid=1000)) == (2,)


def test_an_incomplete_unit_has_percentages_but_no_standing() -> None:
    result = decide((600, 500, 100), seats=2, valid=780, reported=2)
    assert not result.complete
    assert result.flag is None
    assert {c.result for c in result.candidates} == {CandidateResult.INCOMPLETE}
    assert result.candidates[0].percent == Decimal("76.92")
    assert result.seats_filled == 0


def test_a_unit_without_records_or_areas() -> None:
    empty = decide((), seats=1, valid=0, registered=0, voted=0, reported=0)
    assert not empty.complete
    no_areas = decide((0, 0), seats=1, valid=0, registered=0, voted=0, mapped=0, reported=0)
    assert not no_areas.complete
    assert [c.percent for c in no_areas.candidates] == [Decimal("0.00"), Decimal("0.00")]


def test_percentages_round_half_up() -> None:
    assert percent_of(1, 800) == Decimal("0.13")  # 0,125
    assert percent_of(5, 8000) == Decimal("0.06")  # 0,0625
    assert percent_of(2, 3) == Decimal("66.67")
    assert percent_of(7, 0) == Decimal("0.00")


def test_ballot_tallies_count_seats_of_complete_units_that_stand() -> None:
    outcomes = [
        decide((900, 600, 500, 400, 300), seats=3, valid=1000, ballot=Ballot.XA),  # 2/3
        decide((450, 400, 50), seats=2, valid=490, voted=500, ballot=Ballot.XA),  # bầu lại
        decide((600, 500, 100), seats=2, valid=780, reported=1, ballot=Ballot.XA),  # incomplete
        decide((900, 500, 500, 400, 300), seats=3, valid=1000, ballot=Ballot.XA),  # 1/3
        decide((600, 500, 500, 100), seats=2, valid=780),  # qh 2/2
    ]
    assert ballot_tallies(outcomes) == (
        BallotTally(Ballot.QH, units_total=1, units_complete=1, seats=2, seats_filled=2,
                    revotes=0, additional_votes=0),
        BallotTally(Ballot.XA, units_total=4, units_complete=3, seats=10, seats_filled=3,
                    revotes=1, additional_votes=1),
    )  # fmt: skip


# --------------------------------------------------------------------------- the property


@dataclass(frozen=True)
class Case:
    ballot: Ballot
    seats: int
    round: int
    registered: int
    voted: int
    valid: int
    votes: tuple[int, ...]
    born: tuple[dt.date, ...]
    complete: bool


def reference(case: Case) -> tuple[list[CandidateResult], UnitFlag | None, list[Decimal]]:
    """Điều 78 as the contract words it, computed the long way."""
    votes, valid, seats = case.votes, case.valid, case.seats
    percents = []
    for v in votes:
        hundredths = 0 if valid == 0 else (v * 10000 * 2 + valid) // (2 * valid)
        percents.append(Decimal(hundredths) / 100)
    if not case.complete:
        return [CandidateResult.INCOMPLETE] * len(votes), None, percents
    if case.round != 2 and not Fraction(case.voted) > Fraction(case.registered, 2):
        return [CandidateResult.NOT_ELECTED] * len(votes), UnitFlag.REVOTE, percents
    remaining = [i for i, v in enumerate(votes) if Fraction(v) > Fraction(valid, 2)]
    winners: list[int] = []
    while remaining and len(winners) < seats:
        best = remaining[0]
        for i in remaining[1:]:
            if votes[i] > votes[best] or (
                votes[i] == votes[best] and case.born[i] < case.born[best]
            ):
                best = i
        winners.append(best)
        remaining.remove(best)
    results = [
        CandidateResult.ELECTED if i in winners else CandidateResult.NOT_ELECTED
        for i in range(len(votes))
    ]
    if case.ballot is Ballot.QH:
        short = len(winners) < seats
    else:
        short = Fraction(len(winners)) < Fraction(2 * seats, 3)
    return results, (UnitFlag.ADDITIONAL_VOTE if short else None), percents


@st.composite
def cases(draw: st.DrawFn) -> Case:
    k = draw(st.integers(1, 8))
    valid = draw(st.integers(0, 2000))
    # Few distinct values make ties (of votes, of birth dates) common.
    pool = draw(st.lists(st.integers(0, valid), min_size=1, max_size=4))
    years = draw(st.lists(st.integers(1950, 1990), min_size=1, max_size=3))
    registered = draw(st.integers(valid, 4000))
    return Case(
        ballot=draw(st.sampled_from(Ballot)),
        seats=draw(st.integers(1, 6)),
        round=draw(st.sampled_from([1, 1, 2])),
        registered=registered,
        voted=draw(st.integers(valid, registered)),
        valid=valid,
        votes=tuple(draw(st.sampled_from(pool)) for _ in range(k)),
        born=tuple(dt.date(draw(st.sampled_from(years)), 1, 1) for _ in range(k)),
        complete=draw(st.booleans()),
    )


@settings(deadline=None, max_examples=500)
@given(cases())
def test_outcome_equals_the_reference(case: Case) -> None:
    result = decide(
        case.votes, seats=case.seats, valid=case.valid, ballot=case.ballot,
        registered=case.registered, voted=case.voted, round=case.round, born=case.born,
        reported=3 if case.complete else 2,
    )  # fmt: skip
    results, flag, percents = reference(case)
    assert [c.result for c in result.candidates] == results
    assert result.flag == flag
    assert [c.percent for c in result.candidates] == percents
    assert result.seats_filled == (
        results.count(CandidateResult.ELECTED) if flag is not UnitFlag.REVOTE else 0
    )
