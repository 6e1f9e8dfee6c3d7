"""The results night's store on a real SQLite file and a real PostgreSQL database: records with
their history, photos, running totals per electoral unit kept in the record's transaction,
and the reads the commands need (RESULTS.md), over the Mường Khương 2021 sample."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.registration.unit_import import import_units
from bot.results.imports import import_results
from bot.results.model import Ballot, RecordPhoto, ResultRecord, UnitTotals
from storage.database import Database, Transaction
from storage.results import RECORD_FIELDS, RecordNotMapped
from tests.harness import SAMPLE
from tests.results_data import (
    CHIEF,
    DISTRICT,
    ELECTION_NIGHT,
    THREE_COMMUNES,
    a_record,
    files_of,
    with_ballots,
)

QH = "QH-LC-2"
AREA = "02752-01"  # Khu vực bỏ phiếu số 1 – Pha Long


@pytest.fixture
async def db(store_target: str) -> AsyncIterator[Database]:
    database = await Database.open(store_target if "://" in store_target else Path(store_target))
    try:
        await with_ballots(database)
        yield database
    finally:
        await database.close()


async def add(db: Database, record: ResultRecord) -> ResultRecord:
    def store(tx: Transaction) -> ResultRecord:
        return tx.results.add_record(record)

    return await db.write(store)


def expected_totals(
    unit: str, ballot: Ballot, imported: dict[str, int], records: list[ResultRecord], k: int
) -> UnitTotals:
    """The reference: sums over the unit's current records, lists over its mapped areas."""
    current = {r.area_code: r for r in records}  # later records replace earlier ones
    return UnitTotals(
        ballot=ballot,
        electoral_unit=unit,
        areas_mapped=len(imported),
        areas_reported=len(current),
        areas_checked=sum(r.checked for r in current.values()),
        registered_voters=sum(
            current[a].registered_voters if a in current else size for a, size in imported.items()
        ),
        reported_voters=sum(r.registered_voters for r in current.values()),
        **{name: sum(getattr(r, name) for r in current.values()) for name in RECORD_FIELDS},
        votes=tuple(sum(r.votes[i] for r in current.values()) for i in range(k)),
        last_record_at=max((r.entered_at for r in current.values()), default=None),
    )


async def imported_lists(db: Database, unit: str) -> dict[str, int]:
    lists = {}
    for mapping in await db.results.areas_of(unit):
        area = db.units.get(mapping.area_code)
        assert area is not None and area.registered_voters is not None
        lists[mapping.area_code] = (
            area.registered_voters
            if mapping.registered_voters is None
            else mapping.registered_voters
        )
    return lists


async def test_the_import_sets_up_units_candidates_areas_and_zero_totals(db: Database) -> None:
    qh = await db.results.electoral_unit(QH.lower())  # codes match case-insensitively
    assert qh is not None and (qh.ballot, qh.seats, qh.organizing_unit) == (Ballot.QH, 3, "LC")
    candidates = await db.results.candidates(QH)
    assert [c.number for c in candidates] == [1, 2, 3, 4, 5]  # ĐBQH: seats + 2
    totals = await db.results.totals(QH)
    lists = await imported_lists(db, QH)
    assert len(lists) == 28  # the three communes' areas: 9 + 11 + 8
    assert totals == expected_totals(QH, Ballot.QH, lists, [], 5)
    assert totals.registered_voters == 2489 + 3105 + 2264  # the sample's lists
    assert not totals.complete
    mappings = await db.results.area_ballots(AREA)
    assert [m.ballot for m in mappings] == [Ballot.QH, Ballot.TINH, Ballot.HUYEN, Ballot.XA]


async def test_a_record_updates_its_units_totals_and_a_correction_supersedes_it(
    db: Database,
) -> None:
    first = await add(db, a_record(AREA, Ballot.QH, QH, (200, 180, 150, 120, 100)))
    assert first.id > 0 and first.replaces is None
    fixed = await add(
        db, a_record(AREA, Ballot.QH, QH, (201, 180, 150, 120, 100), at=ELECTION_NIGHT + 60)
    )
    assert fixed.replaces == first.id
    history = await db.results.records_of_area(AREA, Ballot.QH, include_replaced=True)
    assert [(r.id, r.replaced_by) for r in history] == [(first.id, fixed.id), (fixed.id, None)]
    assert await db.results.records_of_area(AREA) == [fixed]  # only the current one
    assert await db.results.records_of_unit(QH) == [fixed]
    lists = await imported_lists(db, QH)
    assert await db.results.totals(QH) == expected_totals(QH, Ballot.QH, lists, [fixed], 5)


async def test_a_record_of_an_area_not_mapped_to_the_unit_is_not_stored(db: Database) -> None:
    with pytest.raises(RecordNotMapped):
        await add(db, a_record(AREA, Ballot.TINH, "T-LC-12", (1, 2, 3)))  # AREA is in T-LC-11
    with pytest.raises(RecordNotMapped):
        await add(db, a_record("02755-01", Ballot.QH, QH, (1, 2, 3, 4, 5)))  # not in the sample
    assert await db.results.records_of_area(AREA, include_replaced=True) == []


async def test_a_photo_waits_for_its_record_and_one_sent_after_joins_it_at_once(
    db: Database,
) -> None:
    def photo(sha: str) -> RecordPhoto:
        return RecordPhoto(AREA, Ballot.QH, sha * 64, CHIEF, ELECTION_NIGHT, "file-1", CHIEF)

    def keep(tx: Transaction, sha: str) -> RecordPhoto:
        return tx.results.add_photo(photo(sha))

    early = await db.write(lambda tx: keep(tx, "a"))
    assert early.record_id is None  # waiting
    record = await add(db, a_record(AREA, Ballot.QH, QH, (1, 2, 3, 4, 5)))
    late = await db.write(lambda tx: keep(tx, "b"))
    assert late.record_id == record.id
    photos = await db.results.photos(AREA, Ballot.QH)
    assert [(p.sha256[0], p.record_id) for p in photos] == [("a", record.id), ("b", record.id)]
    assert await db.results.photos(AREA, Ballot.XA) == []


async def test_checked_records_and_the_areas_still_missing(db: Database) -> None:
    unit = "X-02752-1"
    areas = [m.area_code for m in await db.results.areas_of(unit)]
    assert len(areas) == 2
    record = await add(db, a_record(areas[0], Ballot.XA, unit, (90, 80, 70, 60, 50), checked=False))
    missing = await db.results.areas_without_record([unit, QH])
    assert missing[unit] == areas[1:]
    assert len(missing[QH]) == 28
    totals = await db.results.totals(unit)
    assert totals is not None and (totals.areas_reported, totals.areas_checked) == (1, 0)
    assert await db.write(lambda tx: tx.results.mark_checked(record.id))
    assert not await db.write(lambda tx: tx.results.mark_checked(record.id))  # once
    totals = await db.results.totals(unit)
    assert totals is not None and totals.areas_checked == 1
    await add(db, a_record(areas[1], Ballot.XA, unit, (90, 80, 70, 60, 50)))
    totals = await db.results.totals(unit)
    assert totals is not None and totals.complete


async def test_electoral_units_organized_within_an_administrative_subtree(db: Database) -> None:
    def codes_under(code: str) -> list[str]:
        return [unit.code for unit in db.units.subtree(code)]

    province = await db.results.electoral_units_organized_in(codes_under("LC"))
    assert len(province) == 28
    commune = await db.results.electoral_units_organized_in(codes_under("02752"))
    assert {u.ballot for u in commune} == {Ballot.XA}
    assert [u.code for u in commune] == [f"X-02752-{n}" for n in range(1, 8)]
    district = await db.results.electoral_units_organized_in(codes_under("MK"), Ballot.HUYEN)
    assert [u.code for u in district] == [
        "H-MK-01",
        "H-MK-02",
        "H-MK-09",
    ]  # with 02752, 02761, 02797


async def test_the_lock_of_an_electoral_unit(db: Database) -> None:
    await db.write(lambda tx: tx.results.set_locked([QH], True))
    unit = await db.results.electoral_unit(QH)
    assert unit is not None and unit.locked
    totals = await db.results.totals_of([QH, "T-LC-11", "nope"])
    assert list(totals) == [QH, "T-LC-11"]


async def test_a_re_import_keeps_the_records_and_recounts_the_totals(db: Database) -> None:
    record = await add(db, a_record(AREA, Ballot.QH, QH, (200, 180, 150, 120, 100)))
    outcome = await import_results(db, files_of(THREE_COMMUNES))
    assert outcome.stored, outcome.text
    lists = await imported_lists(db, QH)
    assert await db.results.totals(QH) == expected_totals(QH, Ballot.QH, lists, [record], 5)


async def test_a_units_re_import_changes_the_default_lists_and_keeps_recorded_areas(
    db: Database,
) -> None:
    await add(db, a_record(AREA, Ballot.QH, QH, (200, 180, 150, 120, 100)))
    before = await db.results.totals(QH)
    text = SAMPLE.read_text(encoding="utf-8")
    # 02752-02 (no record) has 10 more voters; the QH list there is the area's own
    row = next(line for line in text.splitlines() if line.startswith("02752-02,"))
    cells = row.split(",")
    cells[4] = str(int(cells[4]) + 10)
    ok, reply = await import_units(db, text.replace(row, ",".join(cells)).encode(), "u.csv")
    assert ok, reply
    after = await db.results.totals(QH)
    assert before is not None and after is not None
    assert after.registered_voters == before.registered_voters + 10
    # removing an area with a result record is refused, like one with reports
    area_row = next(line for line in text.splitlines() if line.startswith(f"{AREA},"))
    ok, _ = await import_units(db, text.replace(area_row + "\n", "").encode(), "u.csv")
    assert not ok


# -- the running totals equal the sum of the current records ----------------------------------

UNIT = "H-MK-01"  # HĐND huyện, 4 seats, 7 candidates: Pha Long's and Tả Ngải Chồ's areas
K = 7


CLOCK = itertools.count(ELECTION_NIGHT, 7)  # confirmations follow each other in time


@st.composite
def records(draw: st.DrawFn, areas: list[str]) -> list[ResultRecord]:
    """Valid records of the unit's areas in entry order; an area entered again is a
    correction."""
    entries = []
    for _ in range(draw(st.integers(min_value=1, max_value=12))):
        area = draw(st.sampled_from(areas))
        listed = draw(st.integers(min_value=120, max_value=600))
        voted = draw(st.integers(min_value=1, max_value=listed))
        invalid = draw(st.integers(min_value=0, max_value=voted))
        valid = voted - invalid
        votes = tuple(draw(st.integers(min_value=0, max_value=valid)) for _ in range(K))
        checked = draw(st.booleans())
        entries.append(
            dataclasses.replace(
                a_record(area, Ballot.HUYEN, UNIT, votes, listed=listed, voted=voted,
                         invalid=invalid, at=next(CLOCK), checked=checked),
                list_stated=draw(st.booleans()),
            )
        )  # fmt: skip
    return entries


def test_the_running_totals_equal_the_sum_of_the_current_records() -> None:
    """Examples follow each other on one database: every record stored so far counts, each
    area's latest being current, so corrections pile up across examples too."""
    loop = asyncio.new_event_loop()
    folder = tempfile.TemporaryDirectory()
    db = loop.run_until_complete(Database.open(Path(folder.name) / "night.db"))
    try:
        loop.run_until_complete(with_ballots(db, DISTRICT))
        areas = [m.area_code for m in loop.run_until_complete(db.results.areas_of(UNIT))]
        lists = loop.run_until_complete(imported_lists(db, UNIT))
        assert len(areas) == 18
        history: list[ResultRecord] = []

        @settings(
            max_examples=80,
            deadline=None,
            derandomize=True,
            suppress_health_check=[HealthCheck.too_slow],
        )
        @given(entries=records(areas))
        def check(entries: list[ResultRecord]) -> None:
            for entry in entries:
                history.append(loop.run_until_complete(add(db, entry)))
            totals = loop.run_until_complete(db.results.totals(UNIT))
            assert totals == expected_totals(UNIT, Ballot.HUYEN, lists, history, K)
            current = loop.run_until_complete(db.results.records_of_unit(UNIT))
            assert current == sorted(
                {r.area_code: r for r in history}.values(), key=lambda r: r.area_code
            )

        check()
    finally:
        loop.run_until_complete(db.close())
        loop.close()
        folder.cleanup()
