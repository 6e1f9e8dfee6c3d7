"""The results night's test data: the Mường Khương 2021 ballot files (tests/data/results/,
written by its make_sample.py) imported over the district's units, and records to store."""

from __future__ import annotations

from pathlib import Path

from bot.channel import Address
from bot.registration.unit_import import import_units
from bot.results.imports import ImportOutcome, import_results
from bot.results.model import Ballot, ResultRecord
from storage.database import Database
from tests.harness import SAMPLE

RESULTS = Path(__file__).parent / "data" / "results"
THREE_COMMUNES = RESULTS / "three_communes"
DISTRICT = RESULTS / "muong_khuong_2021"
FILES = ("electoral_units.csv", "candidates.csv", "area_ballots.csv")
CHIEF = Address("zalo", "bot1:chief")
ELECTION_NIGHT = 1_621_774_800  # 23/05/2021 20:00 in Vietnam


def files_of(folder: Path) -> list[tuple[str, bytes]]:
    return [(name, (folder / name).read_bytes()) for name in FILES]


async def with_units(db: Database) -> None:
    ok, reply = await import_units(db, SAMPLE.read_bytes(), SAMPLE.name)
    assert ok, reply


async def with_ballots(db: Database, folder: Path = THREE_COMMUNES) -> ImportOutcome:
    """The district's units, then the folder's three files in one import."""
    await with_units(db)
    outcome = await import_results(db, files_of(folder))
    assert outcome.stored, outcome.text
    return outcome


def a_record(
    area: str,
    ballot: Ballot,
    unit: str,
    votes: tuple[int, ...],
    *,
    listed: int = 300,
    voted: int = 250,
    invalid: int = 5,
    at: int = ELECTION_NIGHT,
    checked: bool = True,
) -> ResultRecord:
    """A record whose numbers add up: every voter's ballot returned, `invalid` of them
    spoiled."""
    return ResultRecord(
        area_code=area,
        ballot=ballot,
        electoral_unit=unit,
        registered_voters=listed,
        voted=voted,
        issued=voted,
        returned=voted,
        valid=voted - invalid,
        invalid=invalid,
        votes=votes,
        entered_by=CHIEF,
        entered_at=at,
        chat=CHIEF,
        checked=checked,
        text="kq",
    )
