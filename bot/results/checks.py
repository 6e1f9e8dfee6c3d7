"""The checks of a counting record (RESULTS.md, "Blocking errors" and "Warnings").

Pure functions, no I/O. :func:`check` takes a parsed record and what it is checked against —
whether its ballot is in this election, the electoral unit the area counts in for it, the
unit's candidates, this ballot's imported list at the area and the area's last turnout
report — and returns every blocking error and every warning as a :class:`Mismatch`: a typed
reason with the two numbers that disagree and by how much. Like an abacus: errors block
(nothing is kept), warnings are shown and acknowledged by the sender's confirmation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from bot.channel import Address
from bot.results.grammar import ParsedRecord
from bot.results.model import Ballot, Candidate, ElectoralUnit, ResultRecord

INVALID_SHARE_PERCENT = 5  # invalid ballots over 5% of those returned: a warning
TURNOUT_TOLERANCE_PERCENT = 1  # `qh` voted vs the last turnout report: 1% of the list


class CheckReason(StrEnum):
    """What a record's numbers break; `BLOCKING` reasons refuse it, `WARNINGS` ask."""

    # Blocking errors
    BALLOT_NOT_IN_ELECTION = "ballot_not_in_election"  # e.g. `huyen` in 2026
    AREA_NOT_MAPPED = "area_not_mapped"  # the area has no electoral unit for the ballot
    ALL_ZEROS = "all_zeros"  # every counted field is zero
    VOTE_COUNT_NE_CANDIDATES = "vote_count_ne_candidates"  # left figures, right K
    VALID_PLUS_INVALID_NE_RETURNED = "valid_plus_invalid_ne_returned"
    RETURNED_OVER_ISSUED = "returned_over_issued"
    ISSUED_OVER_VOTERS = "issued_over_voters"
    VOTED_OVER_VOTERS = "voted_over_voters"
    VOTES_OVER_VALID = "votes_over_valid"  # one candidate's votes (`candidate`)
    VOTES_UNDER_VALID = "votes_under_valid"  # Σ votes < valid: a valid ballot keeps ≥ 1 name
    VOTES_OVER_SEATS_TIMES_VALID = "votes_over_seats_times_valid"  # … and ≤ seats names
    LOAI_SUM_NE_VALID = "loai_sum_ne_valid"  # Σ loại k ≠ valid
    LOAI_WEIGHTED_NE_VOTES = "loai_weighted_ne_votes"  # Σ k·loại k ≠ Σ votes
    LOAI_KIND_OVER_SEATS = "loai_kind_over_seats"  # `loại k` with k > seats, not zero
    # Warnings
    VOTED_NE_RETURNED = "voted_ne_returned"
    VOTED_NE_ISSUED = "voted_ne_issued"
    INVALID_OVER_SHARE = "invalid_over_share"  # invalid > 5% of returned
    VOTED_FAR_FROM_TURNOUT = "voted_far_from_turnout"  # `qh`: > 1% of the list apart
    VOTERS_NE_IMPORTED = "voters_ne_imported"  # the stated `cử tri` is not the imported list


WARNINGS = frozenset(
    {
        CheckReason.VOTED_NE_RETURNED,
        CheckReason.VOTED_NE_ISSUED,
        CheckReason.INVALID_OVER_SHARE,
        CheckReason.VOTED_FAR_FROM_TURNOUT,
        CheckReason.VOTERS_NE_IMPORTED,
    }
)
BLOCKING = frozenset(CheckReason) - WARNINGS


@dataclass(frozen=True, slots=True)
class Mismatch:
    """One broken rule: `left` is the record's side of it, `right` what it must match or stay
    within, `by` how far apart they are (always ≥ 0). For the reasons that compare no numbers
    (ballot, mapping, all zeros) the three are 0.

    - VOTE_COUNT_NE_CANDIDATES: figures given, candidates on the ballot.
    - VOTES_OVER_VALID: the candidate's votes, valid (`candidate` is its number).
    - VOTES_OVER_SEATS_TIMES_VALID: Σ votes, seats × valid.
    - LOAI_KIND_OVER_SEATS: the highest k with ballots, the seats.
    - INVALID_OVER_SHARE: invalid, returned; `limit` = the most invalid ballots within 5%,
      `by` = invalid − limit.
    - VOTED_FAR_FROM_TURNOUT: voted, the last turnout count; `limit` = 1% of the list.
    """

    reason: CheckReason
    left: int = 0
    right: int = 0
    by: int = 0
    candidate: int | None = None
    limit: int | None = None

    @property
    def blocking(self) -> bool:
        return self.reason in BLOCKING


def _apart(reason: CheckReason, left: int, right: int, **extra: int) -> Mismatch:
    return Mismatch(reason, left, right, abs(left - right), **extra)


@dataclass(frozen=True, slots=True)
class Findings:
    """Everything `check` found, errors first in the contract's order."""

    errors: tuple[Mismatch, ...] = ()
    warnings: tuple[Mismatch, ...] = ()

    @property
    def blocked(self) -> bool:
        return bool(self.errors)

    @property
    def reasons(self) -> tuple[CheckReason, ...]:
        return tuple(m.reason for m in (*self.errors, *self.warnings))


def voters_in_force(record: ParsedRecord, imported_list: int | None) -> int | None:
    """The list the record is measured against: the stated `cử tri`, else the imported one."""
    return record.registered_voters if record.registered_voters is not None else imported_list


def to_result_record(
    record: ParsedRecord,
    *,
    area_code: str,
    unit: ElectoralUnit,
    imported_list: int | None,
    entered_by: Address,
    entered_at: int,
    text: str = "",
) -> ResultRecord:
    """A confirmed record as the store keeps it: the list stated, else the imported one."""
    return ResultRecord(
        area_code=area_code,
        ballot=record.ballot,
        electoral_unit=unit.code,
        registered_voters=voters_in_force(record, imported_list) or 0,
        voted=record.voted,
        issued=record.issued,
        returned=record.returned,
        valid=record.valid,
        invalid=record.invalid,
        votes=record.votes,
        entered_by=entered_by,
        entered_at=entered_at,
        loai=record.loai,
        list_stated=record.registered_voters is not None,
        text=text,
    )


def check(
    record: ParsedRecord,
    *,
    ballots: Sequence[Ballot],
    unit: ElectoralUnit | None,
    candidates: Sequence[Candidate],
    imported_list: int | None,
    last_turnout: int | None = None,
) -> Findings:
    """Every blocking error and warning of `record`.

    `ballots`: the ballots of this election (those with electoral units imported); `unit`: the
    electoral unit the sender's area counts in for `record.ballot` (None: not mapped);
    `candidates`: that unit's candidates; `imported_list`: this ballot's list at the area as
    imported (None: unknown); `last_turnout`: the count of the area's last turnout report, if
    any (checked for `qh` only, whose list is the one turnout is reported against)."""
    if record.ballot not in ballots:
        return Findings(errors=(Mismatch(CheckReason.BALLOT_NOT_IN_ELECTION),))
    if unit is None:
        return Findings(errors=(Mismatch(CheckReason.AREA_NOT_MAPPED),))
    return Findings(
        errors=tuple(_errors(record, unit.seats, len(candidates), imported_list)),
        warnings=tuple(_warnings(record, imported_list, last_turnout)),
    )


def _errors(record: ParsedRecord, seats: int, k: int, imported_list: int | None) -> list[Mismatch]:
    found: list[Mismatch] = []
    votes = record.votes
    counted = (record.voted, record.issued, record.returned, record.valid, record.invalid)
    if not any(counted) and not any(votes):
        found.append(Mismatch(CheckReason.ALL_ZEROS))
    aligned = len(votes) == k
    if not aligned:
        found.append(_apart(CheckReason.VOTE_COUNT_NE_CANDIDATES, len(votes), k))
    if record.valid + record.invalid != record.returned:
        found.append(
            _apart(
                CheckReason.VALID_PLUS_INVALID_NE_RETURNED,
                record.valid + record.invalid,
                record.returned,
            )
        )
    if record.returned > record.issued:
        found.append(_apart(CheckReason.RETURNED_OVER_ISSUED, record.returned, record.issued))
    voters = voters_in_force(record, imported_list)
    if voters is not None:
        if record.issued > voters:
            found.append(_apart(CheckReason.ISSUED_OVER_VOTERS, record.issued, voters))
        if record.voted > voters:
            found.append(_apart(CheckReason.VOTED_OVER_VOTERS, record.voted, voters))
    total = sum(votes)
    if aligned:
        # With a figure missing or extra, the votes are not the candidates': only the count
        # is reported.
        for number, figure in enumerate(votes, start=1):
            if figure > record.valid:
                found.append(
                    _apart(CheckReason.VOTES_OVER_VALID, figure, record.valid, candidate=number)
                )
        if total < record.valid:
            found.append(_apart(CheckReason.VOTES_UNDER_VALID, total, record.valid))
        if total > seats * record.valid:
            found.append(
                _apart(CheckReason.VOTES_OVER_SEATS_TIMES_VALID, total, seats * record.valid)
            )
    if record.loai is not None:
        found.extend(_loai_errors(record.loai, record.valid, total, seats, aligned))
    return found


def _loai_errors(
    loai: tuple[int, ...], valid: int, total: int, seats: int, aligned: bool
) -> list[Mismatch]:
    found: list[Mismatch] = []
    highest = max((k for k, count in enumerate(loai, start=1) if count), default=0)
    if highest > seats:
        found.append(_apart(CheckReason.LOAI_KIND_OVER_SEATS, highest, seats))
    if sum(loai) != valid:
        found.append(_apart(CheckReason.LOAI_SUM_NE_VALID, sum(loai), valid))
    weighted = sum(k * count for k, count in enumerate(loai, start=1))
    if aligned and weighted != total:
        found.append(_apart(CheckReason.LOAI_WEIGHTED_NE_VOTES, weighted, total))
    return found


def _warnings(
    record: ParsedRecord, imported_list: int | None, last_turnout: int | None
) -> list[Mismatch]:
    found: list[Mismatch] = []
    if record.voted != record.returned:
        found.append(_apart(CheckReason.VOTED_NE_RETURNED, record.voted, record.returned))
    if record.voted != record.issued:
        found.append(_apart(CheckReason.VOTED_NE_ISSUED, record.voted, record.issued))
    if record.invalid * 100 > INVALID_SHARE_PERCENT * record.returned:
        allowed = INVALID_SHARE_PERCENT * record.returned // 100
        found.append(
            Mismatch(
                CheckReason.INVALID_OVER_SHARE,
                record.invalid,
                record.returned,
                record.invalid - allowed,
                limit=allowed,
            )
        )
    voters = voters_in_force(record, imported_list)
    if record.ballot is Ballot.QH and last_turnout is not None and voters is not None:
        apart = abs(record.voted - last_turnout)
        if apart * 100 > TURNOUT_TOLERANCE_PERCENT * voters:
            found.append(
                _apart(
                    CheckReason.VOTED_FAR_FROM_TURNOUT,
                    record.voted,
                    last_turnout,
                    limit=TURNOUT_TOLERANCE_PERCENT * voters // 100,
                )
            )
    stated = record.registered_voters
    if stated is not None and imported_list is not None and stated != imported_list:
        found.append(_apart(CheckReason.VOTERS_NE_IMPORTED, stated, imported_list))
    return found
