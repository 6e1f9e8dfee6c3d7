"""The results night's domain types: ballots, electoral units, candidates, the mapping of
polling areas to electoral units, confirmed counting records, record photos and the running
totals of an electoral unit.

Plain frozen records, no SQL and no behaviour beyond small derived values; `storage/` maps its
rows to them and the rules (`bot/results/rules.py`) read them. Times are epoch seconds, like
`bot.model`. A leaf module: it imports nothing from `bot/` but `bot.channel`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from bot.channel import Address


class Ballot(StrEnum):
    """A ballot (cấp bầu cử). The order of the members is the order of the voter lists:
    the `qh` list contains the `tinh` list, which contains `huyen`'s, which contains `xa`'s."""

    QH = "qh"  # đại biểu Quốc hội
    TINH = "tinh"  # đại biểu HĐND tỉnh
    HUYEN = "huyen"  # đại biểu HĐND huyện (2021 only)
    XA = "xa"  # đại biểu HĐND xã

    @property
    def is_council(self) -> bool:
        """An HĐND ballot (the people's council of a province, district or commune)."""
        return self is not Ballot.QH


BALLOTS: tuple[Ballot, ...] = tuple(Ballot)


def legal_minimum_candidates(ballot: Ballot, seats: int) -> int:
    """The fewest candidates the law wants for `seats` seats: ĐBQH seats + 2; HĐND 1–2
    seats + 1, 3 seats + 2, 4–5 seats + 3 (more than 5 seats: + 3 as well)."""
    if ballot is Ballot.QH:
        return seats + 2
    if seats <= 2:
        return seats + 1
    if seats == 3:
        return seats + 2
    return seats + 3


@dataclass(frozen=True, slots=True)
class ElectoralUnit:
    """An electoral unit (đơn vị bầu cử) of one ballot, as imported."""

    ballot: Ballot
    code: str  # unique across every ballot, distinct from administrative codes
    name: str
    seats: int  # ≥ 1
    organizing_unit: str  # the administrative unit whose committee runs it
    round: int = 1  # 2: a re-vote, which stands whatever its turnout
    position: int = 0  # import order, for stable listings
    locked: bool = False  # entry ended (`/khoa kq`): records and corrections refused


@dataclass(frozen=True, slots=True)
class Candidate:
    """A candidate of an electoral unit: `number` is the order on the ballot, 1…K."""

    ballot: Ballot
    electoral_unit: str
    number: int
    name: str
    birth_date: dt.date  # the older candidate wins a tie for the last seat


@dataclass(frozen=True, slots=True)
class AreaBallot:
    """A polling area counted for a ballot in an electoral unit, with this ballot's voter list
    at the area (None: the area's own `registered_voters`)."""

    area_code: str
    ballot: Ballot
    electoral_unit: str
    registered_voters: int | None = None


@dataclass(frozen=True, slots=True)
class ResultRecord:
    """One confirmed counting record (biên bản kết quả kiểm phiếu) of an area for a ballot.

    `votes[i]` is candidate i + 1's votes (ballot order); `loai[k - 1]`, when given, the valid
    ballots that kept k names. A correction is a new record that `replaces` the current one;
    the old one stays, with `replaced_by` set. `id` is 0 until the store gives it one."""

    area_code: str
    ballot: Ballot
    electoral_unit: str
    registered_voters: int  # stated in the record, else this ballot's imported list
    voted: int  # đã bầu
    issued: int  # phát ra
    returned: int  # thu vào
    valid: int  # hợp lệ
    invalid: int  # không hợp lệ
    votes: tuple[int, ...]
    entered_by: Address
    entered_at: int  # the confirmation's time, epoch seconds
    loai: tuple[int, ...] | None = None
    list_stated: bool = False  # whether the record stated `cử tri`
    checked: bool = True  # False while a second entry is awaited (double entry)
    chat: Address | None = None  # where it was entered
    bot: str = ""  # the bot it came through
    text: str = ""  # the message as the sender wrote it
    replaces: int | None = None
    id: int = 0
    replaced_by: int | None = None

    @property
    def is_current(self) -> bool:
        return self.replaced_by is None


@dataclass(frozen=True, slots=True)
class RecordPhoto:
    """A photo of a signed record, kept with its SHA-256. `record_id` is None while it waits
    for the area's record of that ballot (a photo may come first); it never changes a number."""

    area_code: str
    ballot: Ballot
    sha256: str  # hex, 64 characters
    sent_by: Address
    sent_at: int
    file_ref: str = ""  # the channel's reference to the file, or where the bytes are kept
    chat: Address | None = None
    bot: str = ""
    record_id: int | None = None
    id: int = 0


@dataclass(frozen=True, slots=True)
class UnitTotals:
    """The running totals of an electoral unit: how complete it is and the sums of every
    counted field over its areas' current records. `registered_voters` sums every mapped
    area's list for the ballot (the one stated in its record, else the imported one);
    `reported_voters` only those of the areas with a record."""

    ballot: Ballot
    electoral_unit: str
    areas_mapped: int = 0
    areas_reported: int = 0  # with a current record
    areas_checked: int = 0  # with a current record counted as checked
    registered_voters: int = 0
    reported_voters: int = 0
    voted: int = 0
    issued: int = 0
    returned: int = 0
    valid: int = 0
    invalid: int = 0
    votes: tuple[int, ...] = ()  # per candidate, ballot order
    last_record_at: int | None = None  # when a record of the unit was last confirmed

    @property
    def complete(self) -> bool:
        """Every mapped area has a record (and a unit without areas is never complete)."""
        return self.areas_mapped > 0 and self.areas_reported == self.areas_mapped


@dataclass(frozen=True, slots=True)
class UnitStanding:
    """What a ballot's tally needs of an electoral unit, read from its running totals in one
    row (no candidate list): its completeness, turnout, and how many of its candidates have
    more than half of its valid ballots (`bot.results.outcome.standing_tallies`)."""

    ballot: Ballot
    code: str
    name: str
    seats: int
    round: int
    areas_mapped: int
    areas_reported: int
    registered_voters: int
    voted: int
    valid: int
    over_half: int  # candidates with votes × 2 > valid

    @property
    def complete(self) -> bool:
        return self.areas_mapped > 0 and self.areas_reported == self.areas_mapped


# -- the counting record's flow in the chat (bot/results/intake.py) -----------------------

PENDING_SECONDS = 30 * 60  # a read-back not confirmed within 30 minutes is dropped


@dataclass(frozen=True, slots=True)
class PendingRecord:
    """A read-back record: `text` is the message (cleaned of invisible characters)."""

    sender: Address
    chat: Address
    area_code: str
    ballot: Ballot
    text: str
    created_at: int  # epoch seconds of the read-back
    bot: str = ""

    def expired(self, now: int) -> bool:
        """Whether 30 minutes of silence have passed since the read-back."""
        return now - self.created_at >= PENDING_SECONDS


@dataclass(frozen=True, slots=True)
class SecondEntry:
    """Double entry: a second registered person's numbers for the area's current record;
    `differing` names the fields (`voted`, …, `votes`) that do not match (empty: checked)."""

    record_id: int
    area_code: str
    ballot: Ballot
    entered_by: Address
    entered_at: int
    text: str
    differing: tuple[str, ...] = ()
    id: int = 0

    @property
    def matches(self) -> bool:
        return not self.differing
