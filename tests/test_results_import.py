"""The ballot files' import (RESULTS.md, issue 17 §1): every rule as a table of files and the
problems they must give, by file, line, column and kind (an electoral unit's problem by its
code); CSV and .xlsx; re-import in place; the refusals that protect entered records; over the
Mường Khương 2021 units on a real SQLite file (and PostgreSQL where it matters)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from io import BytesIO
from pathlib import Path

import pytest
from openpyxl import Workbook

from bot.messaging.answers import Refusal, Status
from bot.results import texts
from bot.results.imports import (
    IMPORT_WARNED,
    ImportOutcome,
    ResultsIssueKind,
    import_results,
    is_results_file,
)
from bot.results.model import Ballot, ResultRecord
from storage.database import Database, Transaction
from tests.harness import ADMIN_ID, SAMPLE
from tests.memory import CHIEF_KV01, open_day
from tests.results_data import (
    DISTRICT,
    FILES,
    THREE_COMMUNES,
    a_record,
    with_ballots,
    with_units,
)
from tests.test_cli import fieldtally

K = ResultsIssueKind
EU, CA, AB = FILES

UNITS = """ballot,code,name,seats,organizing_unit
qh,QH-2,Đơn vị bầu cử số 2,3,LC
tinh,T-11,Đơn vị bầu cử số 11,2,LC
xa,X-1,Đơn vị bầu cử số 1 – Pha Long,3,02752
"""
CANDIDATES = """ballot,electoral_unit,number,name,birth_date
qh,QH-2,1,Giàng Seo Páo,1970-01-02
qh,QH-2,2,Lý Thị Mai,1981-05-06
qh,QH-2,3,Vàng Văn Chứ,1965-07-08
qh,QH-2,4,Thào Thị Lan,1990-09-10
qh,QH-2,5,Hoàng Văn Dũng,1975-11-12
tinh,T-11,1,Lù Văn Hùng,1972-01-01
tinh,T-11,2,Sùng Thị Hà,1985-02-02
tinh,T-11,3,Tráng A Sính,1979-03-03
xa,X-1,1,Lồ Văn Sơn,1980-01-01
xa,X-1,2,Chảo Thị Hoa,1983-02-02
xa,X-1,3,Tẩn Văn Long,1977-03-03
xa,X-1,4,Hầu Thị Nhung,1992-04-04
xa,X-1,5,Mã Văn Tùng,1968-05-05
"""
AREAS = """area_code,ballot,electoral_unit,registered_voters
02752-01,qh,QH-2,
02752-02,qh,QH-2,
02752-01,tinh,T-11,274
02752-02,tinh,T-11,
02752-01,xa,X-1,270
02752-02,xa,X-1,
"""
BASE = {EU: UNITS, CA: CANDIDATES, AB: AREAS}

Found = tuple[str, int | None, str | None, ResultsIssueKind, str | None]


def found(outcome: ImportOutcome) -> set[Found]:
    return {(i.file, i.line, i.column, i.kind, i.electoral_unit) for i in outcome.issues}


def edit(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    """The district's units on SQLite (the checks are the same on any store)."""
    database = await Database.open(tmp_path / "night.db")
    try:
        await with_units(database)
        yield database
    finally:
        await database.close()


@pytest.fixture
async def both(store_target: str) -> AsyncIterator[Database]:
    """The district's units on SQLite, then on PostgreSQL: where the import writes."""
    database = await Database.open(store_target if "://" in store_target else Path(store_target))
    try:
        await with_units(database)
        yield database
    finally:
        await database.close()


async def run(db: Database, files: dict[str, str]) -> ImportOutcome:
    return await import_results(db, [(name, text.encode()) for name, text in files.items()])


# (what, the files of one import (each replaces the base's file of that name), problems)
REFUSED: list[tuple[str, dict[str, str], set[Found]]] = [
    (
        "an unknown ballot",
        {EU: edit(UNITS, "tinh,T-11", "senate,T-11")},
        {(EU, 3, "ballot", K.UNKNOWN_BALLOT, None)},
    ),
    (
        "a code twice",
        {EU: UNITS + "xa,QH-2,Đơn vị bầu cử số 9,3,02752\n"},
        {(EU, 5, "code", K.DUPLICATE_CODE, None)},
    ),
    (
        "an administrative code",
        {EU: edit(UNITS, "xa,X-1,", "xa,02752-01,")},
        {(EU, 4, "code", K.CODE_IS_ADMINISTRATIVE, None)},
    ),
    (
        "a malformed code",
        {EU: edit(UNITS, "xa,X-1,", "xa,X 1,")},
        {(EU, 4, "code", K.BAD_CODE, None)},
    ),
    (
        "no seats",
        {EU: edit(UNITS, ",3,LC", ",0,LC")},
        {(EU, 2, "seats", K.SEATS_BELOW_ONE, None)},
    ),
    (
        "seats not a number",
        {EU: edit(UNITS, ",3,LC", ",ba,LC")},
        {(EU, 2, "seats", K.BAD_NUMBER, None)},
    ),
    (
        "an unknown organizing unit",
        {EU: edit(UNITS, ",3,LC", ",3,HN")},
        {(EU, 2, "organizing_unit", K.UNKNOWN_ORGANIZING_UNIT, None)},
    ),
    (
        "a polling area as organizing unit",
        {EU: edit(UNITS, ",3,02752\n", ",3,02752-01\n")},
        {(EU, 4, "organizing_unit", K.ORGANIZING_UNIT_IS_AREA, None)},
    ),
    (
        "a round other than 1 or 2",
        {EU: "ballot,code,name,seats,organizing_unit,round\nqh,QH-2,Số 2,3,LC,3\n"},
        {(EU, 2, "round", K.BAD_ROUND, None)},
    ),
    (
        "a missing column",
        {EU: UNITS.replace(",organizing_unit", ",organizer")},
        {(EU, 1, "organizing_unit", K.MISSING_COLUMN, None)},
    ),
    (
        "an empty name",
        {EU: edit(UNITS, "Đơn vị bầu cử số 11", "")},
        {(EU, 3, "name", K.EMPTY_VALUE, None)},
    ),
    (
        "a candidate numbering with a gap",
        {**BASE, CA: edit(CANDIDATES, "qh,QH-2,4,", "qh,QH-2,6,")},
        {(CA, None, "number", K.CANDIDATE_GAP, "QH-2")},
    ),
    (
        "no more candidates than seats",
        {**BASE, CA: edit(CANDIDATES, "tinh,T-11,3,Tráng A Sính,1979-03-03\n", "")},
        {(CA, None, "number", K.TOO_FEW_CANDIDATES, "T-11")},
    ),
    (
        "a candidate number twice",
        {**BASE, CA: CANDIDATES + "xa,X-1,5,Nông Văn Vinh,1970-01-01\n"},
        {(CA, 15, "number", K.DUPLICATE_CANDIDATE, "X-1")},
    ),
    (
        "an impossible birth date",
        {**BASE, CA: edit(CANDIDATES, "1981-05-06", "1981-02-30")},
        {(CA, 3, "birth_date", K.BAD_DATE, None)},
    ),
    (
        "a birth date written day first",
        {**BASE, CA: edit(CANDIDATES, "1981-05-06", "06/05/1981")},
        {(CA, 3, "birth_date", K.BAD_DATE, None)},
    ),
    (
        "a candidate of an unknown electoral unit",
        {**BASE, CA: CANDIDATES + "xa,X-9,1,Nông Văn Vinh,1970-01-01\n"},
        {(CA, 15, "electoral_unit", K.UNKNOWN_ELECTORAL_UNIT, None)},
    ),
    (
        "a candidate under another ballot than their unit's",
        {**BASE, CA: edit(CANDIDATES, "tinh,T-11,1,", "huyen,T-11,1,")},
        {(CA, 7, "electoral_unit", K.WRONG_BALLOT, "T-11")},
    ),
    (
        "an electoral unit of a named ballot without candidates",
        {
            EU: UNITS + "xa,X-2,Đơn vị bầu cử số 2 – Pha Long,2,02752\n",
            CA: CANDIDATES,
            AB: AREAS,
        },
        {
            (CA, None, "electoral_unit", K.NO_CANDIDATES, "X-2"),
            (AB, None, "electoral_unit", K.UNIT_WITHOUT_AREAS, "X-2"),  # a warning, listed too
        },
    ),
    (
        "candidates before their electoral units",
        {CA: CANDIDATES},
        {(CA, line, "electoral_unit", K.UNKNOWN_ELECTORAL_UNIT, None) for line in range(2, 15)},
    ),
    (
        "an unknown area",
        {**BASE, AB: AREAS + "02752-99,qh,QH-2,\n"},
        {(AB, 8, "area_code", K.UNKNOWN_AREA, None)},
    ),
    (
        "a commune mapped as an area",
        {**BASE, AB: AREAS + "02755,qh,QH-2,\n"},
        {(AB, 8, "area_code", K.NOT_AN_AREA, None)},
    ),
    (
        "an area mapped twice for one ballot",
        {**BASE, AB: AREAS + "02752-01,qh,QH-2,\n"},
        {(AB, 8, "area_code", K.DUPLICATE_MAPPING, None)},
    ),
    (
        "an area mapped to another ballot's unit",
        {**BASE, AB: edit(AREAS, "02752-02,xa,X-1,", "02752-02,xa,T-11,")},
        {(AB, 7, "electoral_unit", K.WRONG_BALLOT, "T-11")},
    ),
    (
        "a negative list",
        {**BASE, AB: edit(AREAS, "tinh,T-11,274", "tinh,T-11,-274")},
        {(AB, 4, "registered_voters", K.NEGATIVE_NUMBER, None)},
    ),
    (
        "two files of one table",
        {EU: UNITS, "electoral_units (1).csv": UNITS},
        {("electoral_units (1).csv", None, None, K.DUPLICATE_FILE, None)},
    ),
    (
        "a header separated by semicolons",
        {EU: UNITS.replace(",", ";")},
        {(EU, 1, None, K.WRONG_DELIMITER, None)},
    ),
    (
        "a file that is none of the three",
        {"ketqua.csv": "a,b\n1,2\n"},
        {("ketqua.csv", None, None, K.UNKNOWN_FILE, None)},
    ),
]


@pytest.mark.parametrize(
    ("files", "problems"), [c[1:] for c in REFUSED], ids=[c[0] for c in REFUSED]
)
async def test_a_file_breaking_a_rule_is_refused_whole(
    db: Database, files: dict[str, str], problems: set[Found]
) -> None:
    outcome = await run(db, files)
    assert not outcome.stored
    assert found(outcome) == problems
    assert await db.results.electoral_units() == []  # all or nothing
    for issue in outcome.errors:  # every problem has words, never its code
        line = texts.import_issue(
            issue.file,
            issue.sheet,
            issue.line,
            issue.column,
            issue.kind,
            issue.value,
            issue.electoral_unit,
            issue.related_lines,
        )
        assert issue.kind.value not in line, line


async def test_the_duplicate_points_at_the_first_use(db: Database) -> None:
    outcome = await run(db, {EU: UNITS + "xa,QH-2,Đơn vị bầu cử số 9,3,02752\n"})
    (issue,) = outcome.issues
    assert issue.related_lines == (2,)


# (what, the files, warnings) — stored anyway
WARNED: list[tuple[str, dict[str, str], set[Found]]] = [
    (
        "fewer candidates than the law wants (ĐBQH: seats + 2)",
        {**BASE, CA: edit(CANDIDATES, "qh,QH-2,5,Hoàng Văn Dũng,1975-11-12\n", "")},
        {(CA, None, "number", K.BELOW_LEGAL_MINIMUM, "QH-2")},
    ),
    (
        "an electoral unit without areas",
        {
            EU: UNITS + "xa,X-2,Đơn vị bầu cử số 2 – Pha Long,1,02752\n",
            CA: CANDIDATES + "xa,X-2,1,Nông Văn Vinh,1970-01-01\nxa,X-2,2,Lý A Phử,1971-01-01\n",
            AB: AREAS,
        },
        {(AB, None, "electoral_unit", K.UNIT_WITHOUT_AREAS, "X-2")},
    ),
    (
        "a ballot's list larger than a wider ballot's",
        {**BASE, AB: edit(AREAS, "02752-01,xa,X-1,270", "02752-01,xa,X-1,280")},
        {(AB, 6, "registered_voters", K.LISTS_NOT_NESTED, None)},
    ),
]


@pytest.mark.parametrize(("files", "problems"), [c[1:] for c in WARNED], ids=[c[0] for c in WARNED])
async def test_a_warning_does_not_stop_the_import(
    db: Database, files: dict[str, str], problems: set[Found]
) -> None:
    outcome = await run(db, files)
    assert outcome.stored, outcome.text
    assert found(outcome) == problems
    assert outcome.warnings == outcome.issues
    assert "⚠️" in outcome.text


@pytest.mark.parametrize(
    ("seats", "candidates", "warned"),
    [(1, 2, False), (2, 3, False), (3, 5, False), (3, 4, True), (4, 7, False), (5, 7, True)],
)
async def test_the_legal_minimum_of_hdnd_candidates(
    db: Database, seats: int, candidates: int, warned: bool
) -> None:
    """HĐND: 1–2 seats + 1, 3 seats + 2, 4–5 seats + 3."""
    rows = "".join(
        f"xa,X-1,{n},Người số {n},1970-01-0{n % 9 + 1}\n" for n in range(1, candidates + 1)
    )
    outcome = await run(
        db,
        {
            EU: f"ballot,code,name,seats,organizing_unit\nxa,X-1,Số 1,{seats},02752\n",
            CA: "ballot,electoral_unit,number,name,birth_date\n" + rows,
        },
    )
    assert outcome.stored
    assert bool(outcome.warnings) is warned


async def test_the_files_one_at_a_time_each_checked_against_the_imported(both: Database) -> None:
    for name in FILES:
        outcome = await run(both, {name: BASE[name]})
        assert outcome.stored, outcome.text
    assert [u.code for u in await both.results.electoral_units()] == ["QH-2", "T-11", "X-1"]
    assert len(await both.results.candidates("X-1")) == 5
    lists = {
        (m.area_code, m.ballot): m.registered_voters for m in await both.results.areas_of("T-11")
    }
    assert lists == {("02752-01", Ballot.TINH): 274, ("02752-02", Ballot.TINH): None}
    totals = await both.results.totals("T-11")
    area = both.units.get("02752-02")
    assert totals is not None and area is not None and area.registered_voters is not None
    assert totals.registered_voters == 274 + area.registered_voters  # empty: the area's list
    assert (totals.areas_mapped, totals.votes) == (2, (0, 0, 0))


async def test_a_code_cannot_serve_two_ballots(db: Database) -> None:
    assert (await run(db, {EU: UNITS})).stored
    outcome = await run(db, {EU: "ballot,code,name,seats,organizing_unit\nhuyen,X-1,Số 1,3,MK\n"})
    assert found(outcome) == {(EU, 2, "code", K.CODE_USED_BY_BALLOT, "X-1")}


def workbook(sheets: dict[str, str]) -> bytes:
    book = Workbook()
    book.remove(book.active)
    for title, text in sheets.items():
        sheet = book.create_sheet(title)
        for line in text.splitlines():
            sheet.append(line.split(","))
    out = BytesIO()
    book.save(out)
    return out.getvalue()


async def test_one_workbook_with_three_sheets(db: Database) -> None:
    data = workbook({"electoral_units": UNITS, "candidates": CANDIDATES, "area_ballots": AREAS})
    assert is_results_file("bau_cu.xlsx", data)
    outcome = await import_results(db, [("bau_cu.xlsx", data)])
    assert outcome.stored, outcome.text
    assert len(await db.results.electoral_units()) == 3
    assert (await db.results.candidates("T-11"))[0].name == "Lù Văn Hùng"


async def test_a_workbook_error_names_the_sheet_and_its_row(db: Database) -> None:
    data = workbook(
        {
            "electoral_units": UNITS,
            "candidates": edit(CANDIDATES, "1981-05-06", "hôm qua"),
            "area_ballots": AREAS,
        }
    )
    outcome = await import_results(db, [("bau_cu.xlsx", data)])
    assert [(i.file, i.sheet, i.line, i.column, i.kind) for i in outcome.issues] == [
        ("bau_cu.xlsx", "candidates", 3, "birth_date", K.BAD_DATE)
    ]
    assert "trang «candidates», dòng 3, cột «birth_date»" in outcome.text


async def test_a_workbook_date_cell_is_a_birth_date(db: Database) -> None:
    book = Workbook()
    book.remove(book.active)
    units = book.create_sheet("electoral_units")
    for line in UNITS.splitlines():
        units.append(line.split(","))
    sheet = book.create_sheet("candidates")
    sheet.append(["ballot", "electoral_unit", "number", "name", "birth_date"])
    import datetime as dt

    for n in range(1, 6):
        sheet.append(["qh", "QH-2", n, f"Người số {n}", dt.datetime(1970, 1, n)])
    out = BytesIO()
    book.save(out)
    outcome = await import_results(db, [("b.xlsx", out.getvalue())])
    assert outcome.stored, outcome.text
    assert (await db.results.candidates("QH-2"))[2].birth_date == dt.date(1970, 1, 3)


def test_results_files_are_told_from_a_units_file() -> None:
    assert is_results_file("electoral_units.csv", b"")
    assert is_results_file("upload.csv", CANDIDATES.encode())  # by its header
    assert is_results_file("x.CSV", ("\ufeff" + AREAS).encode())
    assert not is_results_file("units.csv", b"code,parent_code,kind,name,registered_voters\n")
    assert not is_results_file("units.xlsx", workbook({"Sheet1": "code,parent_code\n"}))
    assert not is_results_file("electoral_units.pdf", b"")


async def test_a_re_import_updates_in_place(both: Database) -> None:
    assert (await run(both, BASE)).stored
    renamed = edit(UNITS, "qh,QH-2,Đơn vị bầu cử số 2,3,LC", "qh,qh-2,Đơn vị số 2 (mới),3,LC")
    outcome = await run(both, {EU: renamed, CA: edit(CANDIDATES, "Lý Thị Mai", "Lý Thị Mai Anh")})
    assert outcome.stored, outcome.text
    unit = await both.results.electoral_unit("QH-2")
    assert unit is not None and (unit.code, unit.name) == ("QH-2", "Đơn vị số 2 (mới)")  # kept
    assert (await both.results.candidates("QH-2"))[1].name == "Lý Thị Mai Anh"
    assert len(await both.results.areas_of("QH-2")) == 2  # the areas were not in this import
    # a unit missing from its ballot's list goes, with its candidates and its areas
    outcome = await run(both, {EU: edit(UNITS, "xa,X-1,", "xa,X-2,")})
    assert outcome.stored, outcome.text
    assert [u.code for u in await both.results.electoral_units()] == ["QH-2", "T-11", "X-2"]
    assert await both.results.candidates("X-1") == []
    ballots = {m.ballot for m in await both.results.area_ballots("02752-01")}
    assert ballots == {Ballot.QH, Ballot.TINH}


async def add(db: Database, record: ResultRecord) -> None:
    def store(tx: Transaction) -> None:
        tx.results.add_record(record)

    await db.write(store)


PROTECTED: list[tuple[str, dict[str, str], set[Found]]] = [
    (
        "removing a candidate of a unit with records",
        {CA: edit(CANDIDATES, "qh,QH-2,5,Hoàng Văn Dũng,1975-11-12\n", "")},
        {
            (CA, None, "number", K.CHANGES_RECORDED_CANDIDATES, "QH-2"),
            (CA, None, "number", K.BELOW_LEGAL_MINIMUM, "QH-2"),
        },
    ),
    (
        "adding a candidate to a unit with records",
        {CA: CANDIDATES + "qh,QH-2,6,Nông Văn Vinh,1970-01-01\n"},
        {(CA, None, "number", K.CHANGES_RECORDED_CANDIDATES, "QH-2")},
    ),
    (
        "moving an area with a record",
        {
            EU: UNITS + "qh,QH-3,Đơn vị bầu cử số 3,3,LC\n",
            CA: CANDIDATES + "".join(f"qh,QH-3,{n},Người số {n},1970-01-01\n" for n in range(1, 6)),
            AB: edit(AREAS, "02752-01,qh,QH-2,", "02752-01,qh,QH-3,"),
        },
        {(AB, 2, "electoral_unit", K.MOVES_RECORDED_AREA, "QH-2")},
    ),
    (
        "unmapping an area with a record",
        {AB: edit(AREAS, "02752-01,qh,QH-2,\n", "")},
        {(AB, None, "area_code", K.UNMAPS_RECORDED_AREA, None)},
    ),
    (
        "removing an electoral unit with records",
        {EU: edit(UNITS, "qh,QH-2,Đơn vị bầu cử số 2,3,LC\n", "qh,QH-3,Số 3,3,LC\n")},
        {(EU, None, "code", K.REMOVES_RECORDED_UNIT, "QH-2")},
    ),
]


@pytest.mark.parametrize(
    ("files", "problems"), [c[1:] for c in PROTECTED], ids=[c[0] for c in PROTECTED]
)
async def test_what_a_record_rests_on_cannot_change(
    both: Database, files: dict[str, str], problems: set[Found]
) -> None:
    assert (await run(both, BASE)).stored
    await add(both, a_record("02752-01", Ballot.QH, "QH-2", (200, 180, 150, 120, 100)))
    outcome = await run(both, files)
    assert not outcome.stored
    assert found(outcome) == problems
    assert [u.code for u in await both.results.electoral_units()] == ["QH-2", "T-11", "X-1"]
    assert len(await both.results.candidates("QH-2")) == 5


async def test_what_a_record_rests_on_may_be_renamed(both: Database) -> None:
    assert (await run(both, BASE)).stored
    await add(both, a_record("02752-01", Ballot.QH, "QH-2", (200, 180, 150, 120, 100)))
    outcome = await run(both, {CA: edit(CANDIDATES, "Giàng Seo Páo", "Giàng Seo Pao")})
    assert outcome.stored, outcome.text
    totals = await both.results.totals("QH-2")
    assert totals is not None and totals.votes == (200, 180, 150, 120, 100)


@pytest.mark.parametrize("folder", [THREE_COMMUNES, DISTRICT], ids=["three communes", "district"])
async def test_the_mường_khương_samples_import_cleanly(store_target: str, folder: Path) -> None:
    db = await Database.open(store_target if "://" in store_target else Path(store_target))
    try:
        outcome = await with_ballots(db, folder)
        assert outcome.issues == ()
        units = await db.results.electoral_units()
        seats = {b: sum(u.seats for u in units if u.ballot is b) for b in Ballot}
        if folder == DISTRICT:  # the real seats of 2021 (SOURCES.md)
            assert (seats[Ballot.TINH], seats[Ballot.HUYEN], seats[Ballot.XA]) == (5, 33, 339)
            totals = await db.results.totals_of([u.code for u in units if u.ballot is Ballot.QH])
            assert [t.areas_mapped for t in totals.values()] == [139]
            assert sum(t.registered_voters for t in totals.values()) == 38_851
    finally:
        await db.close()


# -- the entry points: the admin's /nhap, the server's command line -----------------------------


async def test_the_admin_sends_the_ballot_files_with_nhap(tmp_path: Path) -> None:
    async with open_day(tmp_path / "night.db", units=SAMPLE) as day:
        for name in FILES:
            data = (THREE_COMMUNES / name).read_bytes()
            answer = await day.channel.send_file(ADMIN_ID, name, data)
            assert answer.status is Status.ACCEPTED, answer
        assert len(await day.core.db.results.electoral_units()) == 28
        # a warning is a warned answer; an error refuses with the import's reason
        bad = edit(CANDIDATES, "tinh,T-11,1,", "tinh,T-11,0,")
        answer = await day.channel.send_file(ADMIN_ID, "upload.csv", bad.encode())
        assert (answer.status, answer.reason) == (Status.REFUSED, Refusal.IMPORT_INVALID)
        sample = (THREE_COMMUNES / "candidates.csv").read_text(encoding="utf-8").splitlines()
        four = [sample[0], *[row for row in sample if row.startswith("qh,")][:4]]  # 3 seats
        answer = await day.channel.send_file(ADMIN_ID, "c.csv", "\n".join(four).encode())
        assert (answer.status, answer.reason) == (Status.WARNED, IMPORT_WARNED)
        answer = await day.channel.send_file(CHIEF_KV01, "candidates.csv", CANDIDATES.encode())
        assert (answer.status, answer.reason) == (Status.REFUSED, Refusal.ADMIN_ONLY)
        # the units file still goes to the units import
        answer = await day.channel.send_file(ADMIN_ID, "units.csv", SAMPLE.read_bytes())
        assert answer.status is Status.ACCEPTED, answer


def test_fieldtally_ballots_import(tmp_path: Path) -> None:
    assert fieldtally(tmp_path, "units", "import", str(SAMPLE)).returncode == 0
    paths = [str(THREE_COMMUNES / name) for name in reversed(FILES)]  # any order
    done = fieldtally(tmp_path, "ballots", "import", *paths)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "28 đơn vị bầu cử" in done.stdout
    bad = tmp_path / "candidates.csv"
    bad.write_text(edit(CANDIDATES, "1981-05-06", "1981-13-06"), encoding="utf-8")
    refused = fieldtally(tmp_path, "ballots", "import", str(bad))
    assert refused.returncode == 1
    assert "candidates.csv, dòng 3, cột «birth_date»" in refused.stdout


def test_every_problem_is_said_in_words() -> None:
    for kind in ResultsIssueKind:
        line = texts.import_issue("f.csv", None, 2, "code", kind, "qh", "X-1", (3,))
        assert kind.value not in line and "{" not in line, line
