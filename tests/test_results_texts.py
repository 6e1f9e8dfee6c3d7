"""The counting record's answers name what the contract says they name: each blocking error
the numbers that disagree and by how much, the read-back each candidate's name, votes and %
of valid, the unreadable answer the part at fault; every reason has its text."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from bot.formatting import vn_int
from bot.messaging.marked import plain
from bot.results import texts
from bot.results.checks import WARNINGS, CheckReason, Findings, Mismatch, check
from bot.results.grammar import (
    ParsedRecord,
    RecordField,
    UnreadableReason,
    UnreadableRecord,
    parse_record,
)
from bot.results.model import BALLOTS, Ballot, Candidate, ElectoralUnit, UnitTotals
from bot.results.outcome import BallotTally, ballot_tallies, outcome
from bot.texts import NO, OK, WARN

UNIT = ElectoralUnit(Ballot.QH, "QH-LC-1", "Đơn vị bầu cử số 1", seats=2, organizing_unit="LC")
CANDIDATES = tuple(
    Candidate(Ballot.QH, UNIT.code, n, name, dt.date(1970 + n, 1, 1))
    for n, name in enumerate(("Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Cường"), start=1)
)
RECORD = ParsedRecord(
    ballot=Ballot.QH,
    voted=1238,
    issued=1238,
    returned=1238,
    valid=1220,
    invalid=18,
    votes=(900, 800, 700),
    registered_voters=1250,
)


@pytest.mark.parametrize("reason", list(CheckReason))
def test_every_mismatch_names_its_numbers(reason: CheckReason) -> None:
    m = Mismatch(reason, left=1240, right=1238, by=2, candidate=2, limit=61)
    line = plain(texts.mismatch(m, seats=2, candidates=CANDIDATES))
    if reason not in (
        CheckReason.BALLOT_NOT_IN_ELECTION,
        CheckReason.AREA_NOT_MAPPED,
        CheckReason.ALL_ZEROS,
    ):
        for number in (1240, 1238, 2):
            assert vn_int(number) in line, (reason, number)
    if reason is CheckReason.VOTES_OVER_VALID:
        assert "Trần Thị Bình" in line


def test_a_refusal_lists_every_error_with_its_numbers() -> None:
    record = dataclasses.replace(RECORD, invalid=20, issued=1236, votes=(1300, 800))
    findings = check(record, ballots=BALLOTS, unit=UNIT, candidates=CANDIDATES, imported_list=1250)
    text = plain(
        texts.record_refused(
            record, findings, area="KV05", unit_name=UNIT.name, seats=2, candidates=CANDIDATES
        )
    )
    assert text.startswith(NO)
    assert len(findings.errors) == 3
    for m in findings.errors:
        assert plain(texts.mismatch(m, seats=2, candidates=CANDIDATES))[1:] in text


def test_the_read_back_shows_each_candidate_and_the_warnings() -> None:
    record = dataclasses.replace(RECORD, issued=1240, loai=(40, 1180))
    findings = check(record, ballots=BALLOTS, unit=UNIT, candidates=CANDIDATES, imported_list=1260)
    assert not findings.blocked
    assert {m.reason for m in findings.warnings} == {
        CheckReason.VOTED_NE_ISSUED,
        CheckReason.VOTERS_NE_IMPORTED,
    }
    text = plain(
        texts.record_read_back(
            record, findings, area="KV05", unit=UNIT, candidates=CANDIDATES, imported_list=1260
        )
    )
    assert NO not in text and WARN in text
    # 900 / 1.220 = 73,77%; 800 / 1.220 = 65,57%; 700 / 1.220 = 57,38%
    for name, votes, share in (
        ("Nguyễn Văn An", "900", "73,77%"),
        ("Trần Thị Bình", "800", "65,57%"),
        ("Lê Văn Cường", "700", "57,38%"),
    ):
        line = next(line for line in text.splitlines() if name in line)
        assert votes in line and share in line
    for figure in ("1.250", "1.238", "1.240", "1.220", "18", "1.260", "1.180"):
        assert figure in text


def test_the_read_back_shows_the_imported_list_when_none_is_stated() -> None:
    record = dataclasses.replace(RECORD, registered_voters=None)
    text = plain(
        texts.record_read_back(
            record, Findings(), area="KV05", unit=UNIT, candidates=CANDIDATES, imported_list=1300
        )
    )
    assert "1.300" in text


@pytest.mark.parametrize("reason", list(UnreadableReason))
def test_every_unreadable_reason_has_its_answer(reason: UnreadableReason) -> None:
    problem = UnreadableRecord(reason, "1 250", Ballot.QH, (RecordField.VALID,))
    text = plain(texts.record_unreadable(problem))
    assert text.startswith(NO)
    assert "«1 250»" in text or reason is UnreadableReason.MISSING_FIELDS
    assert "KQ QH" in text  # the form to follow


def test_an_unreadable_record_quotes_the_part_as_typed() -> None:
    problem = parse_record("KQ QH\nCử tri 1 250")
    assert isinstance(problem, UnreadableRecord)
    assert "«1 250»" in plain(texts.record_unreadable(problem))


def _outcome(voted: int, votes: tuple[int, ...], ballot: Ballot = Ballot.QH, seats: int = 2) -> str:
    unit = dataclasses.replace(UNIT, ballot=ballot, seats=seats)
    totals = UnitTotals(ballot, UNIT.code, 3, 3, 3, 3000, 3000, voted, voted, voted, 2400,
                        voted - 2400, votes)  # fmt: skip
    return plain(texts.unit_outcome(outcome(unit, CANDIDATES, totals)))


def test_the_outcome_marks_the_elected_and_the_flags() -> None:
    text = _outcome(2500, (1500, 1300, 1000))
    elected = [line for line in text.splitlines() if line.startswith(OK)]
    assert [("Nguyễn Văn An" in e, "Trần Thị Bình" in e) for e in elected] == [
        (True, False),
        (False, True),
    ]
    assert "62,50%" in text and "2.500/3.000" in text and WARN not in text
    assert WARN in _outcome(1500, (1500, 1300, 1000))  # bầu lại
    assert WARN in _outcome(2500, (1500, 1000, 900))  # qh: one short
    assert WARN in _outcome(2500, (1500, 1000, 900), Ballot.XA)  # HĐND: 1 of 2 seats
    assert WARN not in _outcome(2500, (1500, 1300, 900), Ballot.XA, seats=3)  # HĐND: 2 of 3


def test_the_ballot_line_of_an_administrative_unit() -> None:
    tally = BallotTally(Ballot.XA, 40, 40, 2019, 1952, revotes=0, additional_votes=2)
    assert "HĐND xã: bầu được 1.952/2.019" in plain(texts.ballot_tally(tally))


def test_every_warning_is_shown_with_the_warning_sign() -> None:
    for reason in WARNINGS:
        findings = Findings(warnings=(Mismatch(reason, 10, 12, 2, limit=1),))
        text = plain(
            texts.record_read_back(
                RECORD, findings, area="KV05", unit=UNIT, candidates=CANDIDATES, imported_list=1250
            )
        )
        assert WARN in text


def test_the_outcome_tallies_use_the_outcomes() -> None:
    totals = UnitTotals(Ballot.QH, UNIT.code, 3, 3, 3, 3000, 3000, 2500, 2500, 2500, 2400, 100,
                        (1500, 1300, 1000))  # fmt: skip
    (tally,) = ballot_tallies([outcome(UNIT, CANDIDATES, totals)])
    assert (tally.seats_filled, tally.seats) == (2, 2)
