"""The per-ballot tally of an administrative unit (`/ketqua MK`) is computed from one row per
electoral unit (`UnitStanding`: its running totals and how many candidates are over half of
its valid ballots), not from its candidates: it must always agree with Điều 78 as
`bot.results.outcome.outcome` applies it to the whole candidate list."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.results.model import Ballot, Candidate, ElectoralUnit, UnitStanding, UnitTotals
from bot.results.outcome import (
    ballot_tallies,
    outcome,
    standing_outcome,
    standing_tallies,
)


@st.composite
def units(draw: st.DrawFn) -> tuple[ElectoralUnit, list[Candidate], UnitTotals]:
    ballot = draw(st.sampled_from(list(Ballot)))
    seats = draw(st.integers(1, 6))
    code = f"U{draw(st.integers(0, 10**6))}"
    unit = ElectoralUnit(ballot, code, "Đơn vị", seats, "LC", round=draw(st.sampled_from([1, 2])))
    count = seats + draw(st.integers(1, 3))
    born = st.dates(dt.date(1950, 1, 1), dt.date(1995, 12, 31))
    candidates = [
        Candidate(ballot, code, n, f"Ứng cử {n}", draw(born)) for n in range(1, count + 1)
    ]
    mapped = draw(st.integers(0, 4))
    registered = draw(st.integers(0, 3000))
    voted = draw(st.integers(0, registered))
    valid = draw(st.integers(0, voted))
    # votes near half of the valid ballots, often exactly half: the edge of "more than half"
    near_half = st.one_of(st.integers(0, valid), st.sampled_from([valid // 2, (valid + 1) // 2]))
    votes = tuple(draw(near_half) for _ in candidates)
    totals = UnitTotals(
        ballot=ballot,
        electoral_unit=code,
        areas_mapped=mapped,
        areas_reported=draw(st.integers(0, mapped)),
        registered_voters=registered,
        voted=voted,
        valid=valid,
        invalid=voted - valid,
        votes=votes,
    )
    return unit, candidates, totals


def standing(unit: ElectoralUnit, totals: UnitTotals) -> UnitStanding:
    return UnitStanding(
        ballot=unit.ballot,
        code=unit.code,
        name=unit.name,
        seats=unit.seats,
        round=unit.round,
        areas_mapped=totals.areas_mapped,
        areas_reported=totals.areas_reported,
        registered_voters=totals.registered_voters,
        voted=totals.voted,
        valid=totals.valid,
        over_half=sum(v * 2 > totals.valid for v in totals.votes),
    )


@settings(deadline=None, max_examples=400)
@given(st.lists(units(), min_size=1, max_size=6))
def test_the_tally_from_standings_is_the_tally_from_outcomes(
    night: list[tuple[ElectoralUnit, list[Candidate], UnitTotals]],
) -> None:
    outcomes = [outcome(unit, candidates, totals) for unit, candidates, totals in night]
    standings = [standing(unit, totals) for unit, _, totals in night]
    assert standing_tallies(standings) == ballot_tallies(outcomes)
    for one, full in zip(standings, outcomes, strict=True):
        assert standing_outcome(one) == (full.seats_filled, full.flag)
