"""The drill goes on into the night (RESULTS.md, "Demo"): after the day, the admin imports the
district's ballot files and every chief counts and reports a record per ballot — the message,
the bot's read-back, `đúng`, ✅ — with a few records refused and sent again, a correction or two
(`sửa kq …`) and a photo of a signed record. The night ends with every electoral unit complete
and the time the last one closed, beside the 01:30 at which Mường Khương really finished adding
up its results in 2021.

Only for the bundled sample: its ballot files (`fieldtally/data/samples/muong_khuong_2021_*.csv`,
copies of `tests/data/results/muong_khuong_2021/` written by its `make_sample.py`: the district's
real seats, synthetic candidates) fit its areas. Pure and seeded, like the day's script: the
same seed gives the same night. Every record meant to be kept is checked here with the bot's own
grammar and checks (`bot.results.grammar`, `bot.results.checks`), so the script never makes
the bot look wrong.
"""

from __future__ import annotations

import csv
import datetime as dt
import importlib.resources
import io
import random
import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

from bot.results.checks import check
from bot.results.grammar import ParsedRecord, parse_record
from bot.results.model import Ballot, Candidate, ElectoralUnit
from fieldtally.demo.clock import at
from fieldtally.demo.constants import ELECTION_DAY, NO, OK, TZ
from fieldtally.demo.script import Action, Chief, Step
from fieldtally.demo.units import UnitList

FILES: Final = ("electoral_units", "candidates", "area_ballots")
SAMPLE_FILE: Final = "muong_khuong_2021_{}.csv"
READ_BACK: Final = "Biên bản"  # how the bot's read-back of a record starts
# Mường Khương finished adding up its 2021 results at 01:30 the next morning (issue 17).
REAL_TALLY_END: Final = dt.datetime.combine(
    ELECTION_DAY + dt.timedelta(days=1), dt.time(1, 30), tzinfo=TZ
)
COUNTING_FROM: Final = dt.time(14, 30)  # the first teams start their count; the last by 17:00
# The ways a chief names the ballot at the start of a record (RESULTS.md's forms).
_STARTS: Final = {
    Ballot.QH: ("KQ QH", "kq quốc hội", "Kết quả QH", "KQ ĐBQH"),
    Ballot.TINH: ("KQ tỉnh", "kq HĐND tỉnh", "Kết quả tỉnh", "KQ tinh"),
    Ballot.HUYEN: ("KQ huyện", "kq HĐND huyện", "Kết quả huyện", "KQ huyen"),
    Ballot.XA: ("KQ xã", "kq HĐND xã", "Kết quả xã", "KQ xa"),
}
NIGHT_QUIRKS: Final = ("refused", "refused", "wrong_count", "correction", "correction", "photo")


@dataclass(frozen=True, slots=True)
class BallotFiles:
    """The ballot files, and what the script needs of them."""

    files: tuple[tuple[str, bytes], ...]  # (name as sent, content)
    units: dict[str, ElectoralUnit]
    candidates: dict[str, tuple[Candidate, ...]]
    mappings: tuple[tuple[str, Ballot, str, int | None], ...]  # area, ballot, unit, list


def load_sample_ballots() -> BallotFiles:
    """The bundled sample's three ballot files."""
    folder = importlib.resources.files("fieldtally") / "data" / "samples"
    contents = {name: (folder / SAMPLE_FILE.format(name)).read_bytes() for name in FILES}

    def rows(name: str) -> list[dict[str, str]]:
        return list(csv.DictReader(io.StringIO(contents[name].decode("utf-8-sig"))))

    units = {
        r["code"]: ElectoralUnit(
            Ballot(r["ballot"]), r["code"], r["name"], int(r["seats"]), r["organizing_unit"]
        )
        for r in rows("electoral_units")
    }
    candidates: dict[str, list[Candidate]] = {}
    for r in rows("candidates"):
        candidates.setdefault(r["electoral_unit"], []).append(
            Candidate(
                Ballot(r["ballot"]),
                r["electoral_unit"],
                int(r["number"]),
                r["name"],
                dt.date.fromisoformat(r["birth_date"]),
            )
        )
    mappings = tuple(
        (
            r["area_code"],
            Ballot(r["ballot"]),
            r["electoral_unit"],
            int(r["registered_voters"]) if r["registered_voters"] else None,
        )
        for r in rows("area_ballots")
    )
    return BallotFiles(
        files=tuple((f"{name}.csv", contents[name]) for name in FILES),
        units=units,
        candidates={code: tuple(sorted(c, key=_number_of)) for code, c in candidates.items()},
        mappings=mappings,
    )


def _number_of(candidate: Candidate) -> int:
    return candidate.number


@dataclass(slots=True)
class NightPlan:
    """Each chief's messages of the night (by user id), and what they add up to."""

    steps: dict[int, list[Step]] = field(default_factory=dict)
    records: int = 0  # records to be kept: one per area and ballot
    quirks: dict[int, str] = field(default_factory=dict)  # chief -> the night's quirk

    @property
    def replies_expected(self) -> int:
        return sum(len(s.expect) for steps in self.steps.values() for s in steps)


@dataclass(frozen=True, slots=True)
class _Count:
    """One team's count of one ballot."""

    listed: int
    voted: int
    valid: int
    invalid: int
    votes: tuple[int, ...]


def _count(rng: random.Random, listed: int, unit: ElectoralUnit, k: int) -> _Count:
    """Everyone on the list voted (as in Mường Khương in 2021); a few ballots spoiled; the
    unit's favourites (the same in every area) well ahead, each valid ballot keeping 1…seats
    names."""
    voted = listed
    invalid = min(voted, round(voted * rng.uniform(0.0, 0.025)))
    valid = voted - invalid
    favourites = set(random.Random(unit.code).sample(range(k), unit.seats))
    shares = [
        rng.uniform(0.58, 0.92) if n in favourites else rng.uniform(0.08, 0.4) for n in range(k)
    ]
    votes = [round(valid * s) for s in shares]
    while sum(votes) > unit.seats * valid:  # never more names than seats on a ballot
        top = max(range(k), key=lambda n: votes[n])
        votes[top] -= sum(votes) - unit.seats * valid
    if sum(votes) < valid:
        votes[0] += valid - sum(votes)
    votes = [min(v, valid) for v in votes]
    return _Count(listed, voted, valid, invalid, tuple(votes))


def _number(rng: random.Random, value: int) -> str:
    """`1.250` or `1250`, as chiefs write them."""
    return f"{value:,}".replace(",", ".") if value >= 1000 and rng.random() < 0.5 else str(value)


def record_text(
    rng: random.Random,
    ballot: Ballot,
    count: _Count,
    *,
    area: str | None = None,
    correction: bool = False,
    invalid_typo: bool = False,
    drop_vote: bool = False,
) -> str:
    """A counting record as a chief types it, in one of the contract's forms."""
    start = rng.choice(_STARTS[ballot]) + (f" {area}" if area else "")
    if correction:
        start = f"sửa {start}"

    def n(value: int) -> str:
        return _number(rng, value)

    invalid = count.invalid + 1 if invalid_typo else count.invalid
    votes = count.votes[:-1] if drop_vote else count.votes
    if rng.random() < 0.5:
        fields = (
            f"cử tri {n(count.listed)}, đã bầu {n(count.voted)}, phát ra {n(count.voted)}, "
            f"thu vào {n(count.voted)}\nhợp lệ {n(count.valid)}, không hợp lệ {invalid}"
        )
    else:
        fields = (
            f"bp {n(count.voted)}, pr {n(count.voted)}, tv {n(count.voted)}\n"
            f"hl {n(count.valid)}, khl {invalid}"
        )
    if rng.random() < 0.6:
        listed = " ".join(f"{i}) {n(v)}" for i, v in enumerate(votes, start=1))
    else:
        listed = " ".join(n(v) for v in votes)
    return f"{start}\n{fields}\n{listed}"


def plan_night(
    units: UnitList, chiefs: Sequence[Chief], ballots: BallotFiles, rng: random.Random
) -> NightPlan:
    """Every chief's records of the night, seeded."""
    plan = NightPlan()
    voters = {a.code: a.voters for a in units.areas}
    of_area: dict[str, list[tuple[Ballot, str, int]]] = {}
    order = list(Ballot)
    for area_code, ballot_of, unit_code, listed_of in ballots.mappings:
        in_force = voters[area_code] if listed_of is None else listed_of
        of_area.setdefault(area_code, []).append((ballot_of, unit_code, in_force))
    for mapped in of_area.values():
        mapped.sort(key=lambda m: order.index(m[0]))
    single = [c for c in chiefs if len(c.areas) == 1 and of_area.get(c.areas[0].code)]
    picked = rng.sample(single, min(len(NIGHT_QUIRKS), len(single)))
    quirks = {c.user_id: q for c, q in zip(picked, NIGHT_QUIRKS, strict=False)}
    for chief in chiefs:
        line = _Timeline(rng, at(COUNTING_FROM) + dt.timedelta(minutes=rng.uniform(0, 150)))
        quirk = quirks.get(chief.user_id)
        several = len(chief.areas) > 1
        for area in chief.areas:
            for index, (ballot, code, listed) in enumerate(of_area.get(area.code, [])):
                unit = ballots.units[code]
                candidates = ballots.candidates[code]
                count = _count(rng, listed, unit, len(candidates))
                named = area.code if several else None
                text = record_text(rng, ballot, count, area=named)
                _check_record(text, unit, candidates, listed, ballots)
                counting = (35.0, 75.0) if index or area is not chief.areas[0] else (0.0, 1.0)
                if quirk in ("refused", "wrong_count") and index == 0:
                    typo = record_text(rng, ballot, count, area=named,
                                       invalid_typo=quirk == "refused",
                                       drop_vote=quirk == "wrong_count")  # fmt: skip
                    line.add(typo, (NO,), gap=counting)
                    counting = (1.0, 4.0)
                line.add(text, (READ_BACK,), gap=counting)
                yes = "đúng" if rng.random() < 0.7 else rng.choice(("Đúng", "dung", "ok"))
                line.add(yes, (OK,), finishes=f"{area.code}/{ballot.value}")
                plan.records += 1
                if quirk == "photo" and index == 0:
                    line.add(f"kq {ballot.value}", (OK,), Action.PHOTO, gap=(1.0, 3.0))
                if quirk == "correction" and index == len(of_area[area.code]) - 1:
                    fixed = _recount(count)
                    again = record_text(rng, ballot, fixed, area=named, correction=True)
                    _check_record(again, unit, candidates, listed, ballots)
                    line.add(again, (READ_BACK,), gap=(8.0, 20.0))
                    line.add("đúng", (OK,))
        steps = line.steps
        if steps:
            plan.steps[chief.user_id] = steps
            if quirk:
                plan.quirks[chief.user_id] = quirk
    return plan


class _Timeline:
    """One chief's messages of the night, each a little after the one before."""

    def __init__(self, rng: random.Random, start: dt.datetime) -> None:
        self.rng = rng
        self.moment = start
        self.steps: list[Step] = []

    def add(
        self,
        text: str,
        expect: tuple[str, ...],
        action: Action = Action.TEXT,
        *,
        finishes: str | None = None,
        gap: tuple[float, float] = (0.3, 1.0),
    ) -> None:
        """A message `gap` minutes (at random) after the previous one."""
        self.moment += dt.timedelta(minutes=self.rng.uniform(*gap))
        self.moment = self.moment.replace(microsecond=0)
        self.steps.append(Step(self.moment, action, text, expect, finishes=finishes))


def _recount(count: _Count) -> _Count:
    """A recount found two ballots read for the wrong candidate."""
    votes = list(count.votes)
    low = min(range(len(votes)), key=lambda n: votes[n])
    high = max(range(len(votes)), key=lambda n: votes[n])
    moved = min(2, votes[high])
    votes[high] -= moved
    votes[low] += moved
    return _Count(count.listed, count.voted, count.valid, count.invalid, tuple(votes))


def _check_record(
    text: str,
    unit: ElectoralUnit,
    candidates: Sequence[Candidate],
    listed: int,
    ballots: BallotFiles,
) -> None:
    """A record meant to be kept reads and adds up as the bot will judge it."""
    parsed = parse_record(text)
    if not isinstance(parsed, ParsedRecord):
        raise AssertionError(f"the night's script is unreadable: {text!r} -> {parsed}")
    present = sorted({u.ballot for u in ballots.units.values()}, key=list(Ballot).index)
    findings = check(
        parsed, ballots=present, unit=unit, candidates=candidates, imported_list=listed
    )
    if findings.errors:
        raise AssertionError(f"the night's script breaks a rule: {text!r} -> {findings.errors}")


def signed_record_photo() -> bytes:
    """A small PNG standing for the photo of a signed record (grey paper, 64 × 48)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    width, height = 64, 48
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    rows = b"".join(b"\x00" + bytes([235 - (y % 8 == 0) * 60] * width) for y in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )
