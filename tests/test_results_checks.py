"""The checks of a counting record (RESULTS.md): one row per blocking error and per warning,
each asserting the typed reason and the numbers that disagree, and by how much."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from bot.channel import Address
from bot.results.checks import (
    BLOCKING,
    WARNINGS,
    CheckReason,
    Findings,
    Mismatch,
    check,
    to_result_record,
)
from bot.results.grammar import ParsedRecord
from bot.results.model import BALLOTS, Ballot, Candidate, ElectoralUnit

UNIT = ElectoralUnit(Ballot.QH, "QH-LC-1", "Đơn vị bầu cử số 1", seats=2, organizing_unit="LC")
CANDIDATES = tuple(
    Candidate(Ballot.QH, UNIT.code, n, name, dt.date(1970 + n, 1, 1))
    for n, name in enumerate(("Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Cường"), start=1)
)
IMPORTED = 1250
# Adds up: 1.220 + 18 = 1.238 returned = issued = voted ≤ 1.250; Σ votes 2.400 between
# 1.220 and 2 × 1.220; 18 invalid is 1,45% of 1.238; the last turnout 1.230 is 8 away.
GOOD = ParsedRecord(
    ballot=Ballot.QH,
    voted=1238,
    issued=1238,
    returned=1238,
    valid=1220,
    invalid=18,
    votes=(900, 800, 700),
    registered_voters=1250,
)
LAST_TURNOUT = 1230


def findings(
    record: ParsedRecord,
    *,
    imported: int | None = IMPORTED,
    last_turnout: int | None = LAST_TURNOUT,
    unit: ElectoralUnit | None = UNIT,
    ballots: tuple[Ballot, ...] = BALLOTS,
) -> Findings:
    return check(
        record,
        ballots=ballots,
        unit=unit,
        candidates=CANDIDATES,
        imported_list=imported,
        last_turnout=last_turnout,
    )


def test_a_record_that_adds_up_has_no_findings() -> None:
    assert findings(GOOD) == Findings()
    assert findings(dataclasses.replace(GOOD, loai=(40, 1180))) == Findings()
    assert not findings(GOOD).blocked


R = CheckReason
BLOCKING_ROWS: list[tuple[str, dict[str, object], tuple[Mismatch, ...]]] = [
    ("valid + invalid ≠ returned", {"invalid": 20},
     (Mismatch(R.VALID_PLUS_INVALID_NE_RETURNED, 1240, 1238, 2),)),
    ("returned > issued", {"issued": 1236},
     (Mismatch(R.RETURNED_OVER_ISSUED, 1238, 1236, 2),)),
    ("issued > the stated list", {"voted": 1230, "registered_voters": 1235},
     (Mismatch(R.ISSUED_OVER_VOTERS, 1238, 1235, 3),)),
    ("voted > the stated list", {"voted": 1240, "issued": 1238, "registered_voters": 1239},
     (Mismatch(R.VOTED_OVER_VOTERS, 1240, 1239, 1),)),
    ("a candidate's votes > valid", {"votes": (1221, 800, 0)},
     (Mismatch(R.VOTES_OVER_VALID, 1221, 1220, 1, candidate=1),)),
    ("two candidates over valid", {"votes": (1221, 1225, 0)},
     (Mismatch(R.VOTES_OVER_VALID, 1221, 1220, 1, candidate=1),
      Mismatch(R.VOTES_OVER_VALID, 1225, 1220, 5, candidate=2),
      Mismatch(R.VOTES_OVER_SEATS_TIMES_VALID, 2446, 2440, 6))),
    ("Σ votes < valid", {"votes": (500, 400, 300)},
     (Mismatch(R.VOTES_UNDER_VALID, 1200, 1220, 20),)),
    ("Σ votes > seats × valid", {"votes": (1000, 900, 600)},
     (Mismatch(R.VOTES_OVER_SEATS_TIMES_VALID, 2500, 2440, 60),)),
    ("Σ loại ≠ valid", {"loai": (60, 1170)},
     (Mismatch(R.LOAI_SUM_NE_VALID, 1230, 1220, 10),)),
    ("Σ k·loại ≠ Σ votes", {"loai": (50, 1170)},
     (Mismatch(R.LOAI_WEIGHTED_NE_VOTES, 2390, 2400, 10),)),
    ("loại k above the seats", {"loai": (41, 1178, 1)},
     (Mismatch(R.LOAI_KIND_OVER_SEATS, 3, 2, 1),)),
    ("fewer vote figures than candidates", {"votes": (1300, 1100)},
     (Mismatch(R.VOTE_COUNT_NE_CANDIDATES, 2, 3, 1),)),
    ("more vote figures than candidates", {"votes": (900, 800, 700, 0)},
     (Mismatch(R.VOTE_COUNT_NE_CANDIDATES, 4, 3, 1),)),
    ("all zeros",
     {"voted": 0, "issued": 0, "returned": 0, "valid": 0, "invalid": 0, "votes": (0, 0, 0)},
     (Mismatch(R.ALL_ZEROS),)),
]  # fmt: skip


@pytest.mark.parametrize(
    ("change", "errors"), [row[1:] for row in BLOCKING_ROWS], ids=[row[0] for row in BLOCKING_ROWS]
)
def test_each_blocking_rule(change: dict[str, object], errors: tuple[Mismatch, ...]) -> None:
    found = findings(dataclasses.replace(GOOD, **change))  # type: ignore[arg-type]
    assert found.errors == errors
    assert found.blocked
    assert all(m.blocking for m in found.errors)


def test_the_imported_list_stands_in_for_an_unstated_one() -> None:
    found = findings(dataclasses.replace(GOOD, registered_voters=None), imported=1237)
    assert found.errors == (
        Mismatch(R.ISSUED_OVER_VOTERS, 1238, 1237, 1),
        Mismatch(R.VOTED_OVER_VOTERS, 1238, 1237, 1),
    )


def test_without_any_list_the_list_rules_are_not_applied() -> None:
    assert findings(dataclasses.replace(GOOD, registered_voters=None), imported=None) == Findings()


def test_an_unknown_ballot_and_an_unmapped_area_block_alone() -> None:
    huyen = dataclasses.replace(GOOD, ballot=Ballot.HUYEN, invalid=99)
    assert findings(huyen, ballots=(Ballot.QH, Ballot.TINH, Ballot.XA)).errors == (
        Mismatch(R.BALLOT_NOT_IN_ELECTION),
    )
    assert findings(dataclasses.replace(GOOD, invalid=99), unit=None).errors == (
        Mismatch(R.AREA_NOT_MAPPED),
    )


WARNING_ROWS: list[tuple[str, dict[str, object], dict[str, object], tuple[Mismatch, ...]]] = [
    ("voted ≠ returned", {"voted": 1240, "issued": 1240}, {},
     (Mismatch(R.VOTED_NE_RETURNED, 1240, 1238, 2),)),
    ("voted ≠ issued", {"issued": 1240}, {},
     (Mismatch(R.VOTED_NE_ISSUED, 1238, 1240, 2),)),
    ("invalid > 5% of returned",
     {"valid": 1170, "invalid": 68, "votes": (900, 800, 600)}, {},
     (Mismatch(R.INVALID_OVER_SHARE, 68, 1238, 7, limit=61),)),
    ("qh: voted more than 1% of the list from the last turnout", {}, {"last_turnout": 1225},
     (Mismatch(R.VOTED_FAR_FROM_TURNOUT, 1238, 1225, 13, limit=12),)),
    ("qh: … above it as well", {}, {"last_turnout": 1251},
     (Mismatch(R.VOTED_FAR_FROM_TURNOUT, 1238, 1251, 13, limit=12),)),
    ("stated list ≠ imported", {}, {"imported": 1260},
     (Mismatch(R.VOTERS_NE_IMPORTED, 1250, 1260, 10),)),
]  # fmt: skip


@pytest.mark.parametrize(
    ("change", "context", "warnings"),
    [row[1:] for row in WARNING_ROWS],
    ids=[row[0] for row in WARNING_ROWS],
)
def test_each_warning(
    change: dict[str, object], context: dict[str, int], warnings: tuple[Mismatch, ...]
) -> None:
    found = findings(dataclasses.replace(GOOD, **change), **context)  # type: ignore[arg-type]
    assert found.errors == ()
    assert found.warnings == warnings
    assert not found.blocked
    assert not any(m.blocking for m in found.warnings)


@pytest.mark.parametrize(
    ("change", "context"),
    [
        ({"valid": 1177, "invalid": 61, "votes": (900, 800, 600)}, {}),  # 61 ≤ 5% of 1.238
        ({"voted": 1200, "issued": 1200, "returned": 1200, "valid": 1140, "invalid": 60,
          "votes": (900, 800, 500)}, {"last_turnout": 1200}),  # exactly 5%
        ({}, {"last_turnout": 1226}),  # 12 apart, 1% of 1.250 is 12,5
        ({}, {"last_turnout": None}),  # no turnout report
        ({"ballot": Ballot.TINH}, {"last_turnout": 1000}),  # only `qh` is compared
        ({"registered_voters": None}, {}),  # nothing stated, nothing to differ
    ],
)  # fmt: skip
def test_at_the_edge_of_a_warning(change: dict[str, object], context: dict[str, object]) -> None:
    assert findings(dataclasses.replace(GOOD, **change), **context) == Findings()  # type: ignore[arg-type]


def test_errors_and_warnings_are_reported_together() -> None:
    found = findings(dataclasses.replace(GOOD, returned=1240, issued=1239), last_turnout=1238)
    assert found.reasons == (
        R.VALID_PLUS_INVALID_NE_RETURNED,
        R.RETURNED_OVER_ISSUED,
        R.VOTED_NE_RETURNED,
        R.VOTED_NE_ISSUED,
    )


def test_every_reason_is_either_blocking_or_a_warning() -> None:
    assert set(CheckReason) == BLOCKING | WARNINGS
    assert not BLOCKING & WARNINGS
    covered = {m.reason for _, _, errors in BLOCKING_ROWS for m in errors}
    covered |= {m.reason for _, _, _, warnings in WARNING_ROWS for m in warnings}
    covered |= {R.BALLOT_NOT_IN_ELECTION, R.AREA_NOT_MAPPED}
    assert covered == set(CheckReason)


def test_a_confirmed_record_as_the_store_keeps_it() -> None:
    chief = Address("memory", "7")
    kept = to_result_record(
        dataclasses.replace(GOOD, registered_voters=None, loai=(40, 1180)), area_code="KV05",
        unit=UNIT, imported_list=1240, entered_by=chief, entered_at=1_700_000_000,
    )  # fmt: skip
    assert (kept.registered_voters, kept.list_stated, kept.electoral_unit) == (
        1240,
        False,
        UNIT.code,
    )
    assert (kept.issued, kept.returned, kept.votes, kept.loai) == (
        1238,
        1238,
        GOOD.votes,
        (40, 1180),
    )
    stated = to_result_record(
        GOOD, area_code="KV05", unit=UNIT, imported_list=1240, entered_by=chief, entered_at=0
    )
    assert (stated.registered_voters, stated.list_stated) == (1250, True)


# --------------------------------------------------------------------------- properties


@st.composite
def counted_areas(draw: st.DrawFn) -> tuple[ParsedRecord, int, int]:
    """A polling area's count done right: each valid ballot keeps 1…seats of the K names, and
    the record states what the count gives. Returns (record, seats, K)."""
    k = draw(st.integers(2, 7))
    seats = draw(st.integers(1, k - 1))
    ballots = draw(
        st.lists(st.sets(st.integers(0, k - 1), min_size=1, max_size=seats), max_size=60)
    )
    invalid = draw(st.integers(0, 5))
    votes = [sum(i in kept for kept in ballots) for i in range(k)]
    loai = [sum(len(kept) == n for kept in ballots) for n in range(1, seats + 1)]
    returned = len(ballots) + invalid
    issued = returned + draw(st.integers(0, 3))
    voted = draw(st.integers(returned, issued))
    voters = issued + draw(st.integers(0, 50))
    record = ParsedRecord(
        ballot=draw(st.sampled_from(BALLOTS)),
        voted=voted,
        issued=issued,
        returned=returned,
        valid=len(ballots),
        invalid=invalid,
        votes=tuple(votes),
        registered_voters=voters,
        loai=tuple(loai) if draw(st.booleans()) else None,
    )
    assume(any((returned, issued, voted)))
    return record, seats, k


def _check(record: ParsedRecord, seats: int, k: int) -> Findings:
    unit = dataclasses.replace(UNIT, ballot=record.ballot, seats=seats)
    candidates = [dataclasses.replace(CANDIDATES[0], number=n) for n in range(1, k + 1)]
    return check(
        record,
        ballots=BALLOTS,
        unit=unit,
        candidates=candidates,
        imported_list=record.registered_voters,
    )


@settings(deadline=None, max_examples=300)
@given(counted_areas())
def test_a_count_done_right_is_never_blocked(case: tuple[ParsedRecord, int, int]) -> None:
    record, seats, k = case
    assert _check(record, seats, k).errors == ()


@settings(deadline=None, max_examples=300)
@given(counted_areas(), st.sampled_from(["valid", "invalid", "returned"]), st.sampled_from([-1, 1]))
def test_one_ballot_miscounted_is_always_blocked(
    case: tuple[ParsedRecord, int, int], field: str, step: int
) -> None:
    """Moving valid, invalid or returned by one breaks valid + invalid = returned."""
    record, seats, k = case
    wrong = getattr(record, field) + step
    assume(wrong >= 0)
    found = _check(dataclasses.replace(record, **{field: wrong}), seats, k)
    assert CheckReason.VALID_PLUS_INVALID_NE_RETURNED in {m.reason for m in found.errors}
