"""Results night's reads through the real core and the in-memory channel (RESULTS.md: `/ketqua`,
`/chuakq`, `/xuat kq`): a small night computed by hand over the small tree.

The night (lists: KV01 320, KV02 2,000, KV03 500, KV04 400, KV05 250):

| unit | ballot | seats | areas | what it shows |
|---|---|---|---|---|
| QH-1 | qh | 2 | KV01–KV05 | one candidate over 50 %: `đề nghị bầu thêm` |
| X1-1 | xa | 2 | KV01, KV02 | two elected: no flag |
| X1-2 | xa | 1 | KV03, KV04 | a 50/50 split, nobody over half: `bầu thêm` |
| X2-1 | xa | 1 | KV05 | 100 of 250 voted (40 %): `bầu lại` |

Records are stored through the store's API (the chat's read-back and confirmation are the
record intake's, tested there); the reads are what is tested here.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from bot.core import Where
from bot.messaging.answers import Answer, Refusal, Status
from bot.messaging.content import Document, Image, Text
from bot.results.export import RESULTS_AREAS_COLUMNS, RESULTS_UNITS_COLUMNS
from bot.results.imports import import_results
from bot.results.model import Ballot, ResultRecord
from bot.results.outcome import BallotTally, CandidateResult, UnitFlag
from bot.results.views import ResultsView, ballot_word, split_args
from handlers.memory import address
from storage.database import Transaction
from tests.harness import ADMIN_ID
from tests.memory import CHIEF_KV01, SUPERVISOR_X1, Day, open_day
from tests.results_data import CHIEF, ELECTION_NIGHT

GROUP, GROUP_MEMBER, STRANGER = -100300, 777, 999
PNG = b"\x89PNG\r\n\x1a\n"

ELECTORAL_UNITS = """ballot,code,name,seats,organizing_unit
qh,QH-1,Đơn vị bầu cử số 1,2,LC
xa,X1-1,Đơn vị bầu cử số 1 – Pha Long,2,X1
xa,X1-2,Đơn vị bầu cử số 2 – Pha Long,1,X1
xa,X2-1,Đơn vị bầu cử số 1 – Tả Ngải Chồ,1,X2
"""
CANDIDATES = """ballot,electoral_unit,number,name,birth_date
qh,QH-1,1,Hầu Ngọc Chúng,1962-12-15
qh,QH-1,2,Tráng Văn Hoa,1970-11-13
qh,QH-1,3,Hầu Thị Mỷ Dế,1972-06-10
qh,QH-1,4,Nguyễn Minh Mẩy,1980-10-26
xa,X1-1,1,Lù Văn Sử,1975-01-02
xa,X1-1,2,Thào Thị Mai,1980-03-04
xa,X1-1,3,Giàng Seo Phử,1969-05-06
xa,X1-2,1,Vàng Văn Dũng,1971-07-08
xa,X1-2,2,Sần Thị Lan,1983-09-10
xa,X2-1,1,Tẩn Văn Chảo,1966-11-12
xa,X2-1,2,Lồ Thị Hoa,1990-12-13
"""
AREA_BALLOTS = """area_code,ballot,electoral_unit,registered_voters
KV01,qh,QH-1,
KV02,qh,QH-1,
KV03,qh,QH-1,
KV04,qh,QH-1,
KV05,qh,QH-1,
KV01,xa,X1-1,
KV02,xa,X1-1,
KV03,xa,X1-2,
KV04,xa,X1-2,
KV05,xa,X2-1,
"""

# (area, ballot, unit, list, voted, valid, invalid, votes): every ballot issued is returned.
NIGHT = (
    ("KV01", Ballot.QH, "QH-1", 320, 300, 290, 10, (200, 150, 120, 110)),
    ("KV02", Ballot.QH, "QH-1", 2000, 1800, 1780, 20, (1000, 900, 800, 860)),
    ("KV03", Ballot.QH, "QH-1", 500, 450, 440, 10, (300, 200, 200, 180)),
    ("KV04", Ballot.QH, "QH-1", 400, 380, 370, 10, (200, 150, 200, 190)),
    ("KV05", Ballot.QH, "QH-1", 250, 100, 98, 2, (60, 40, 50, 46)),
    ("KV01", Ballot.XA, "X1-1", 320, 300, 290, 10, (250, 200, 100)),
    ("KV02", Ballot.XA, "X1-1", 2000, 1800, 1780, 20, (1500, 1200, 400)),
    ("KV03", Ballot.XA, "X1-2", 500, 450, 440, 10, (220, 220)),
    ("KV04", Ballot.XA, "X1-2", 400, 380, 370, 10, (185, 185)),
    ("KV05", Ballot.XA, "X2-1", 250, 100, 98, 2, (60, 38)),
)


Line = tuple[str, Ballot, str, int, int, int, int, tuple[int, ...]]


def record(line: Line) -> ResultRecord:
    area, ballot, unit, listed, voted, valid, invalid, votes = line
    return ResultRecord(
        area_code=area, ballot=ballot, electoral_unit=unit, registered_voters=listed,
        voted=voted, issued=voted, returned=voted, valid=valid, invalid=invalid, votes=votes,
        entered_by=CHIEF, entered_at=ELECTION_NIGHT + 60 * NIGHT.index(line), chat=CHIEF,
        text="kq",
    )  # fmt: skip


async def store(day: Day, *lines: Line) -> None:
    def add(tx: Transaction) -> None:
        for line in lines:
            tx.results.add_record(record(line))

    await day.core.db.write(add)


@pytest.fixture
async def night(db_target: Path | str) -> AsyncIterator[Day]:
    """The small tree with the night's ballots imported, the chief of KV01 and the supervisor
    of X1 registered, the district's group following MK; no record yet."""
    async with open_day(db_target) as day:
        outcome = await import_results(
            day.core.db,
            [
                ("electoral_units.csv", ELECTORAL_UNITS.encode()),
                ("candidates.csv", CANDIDATES.encode()),
                ("area_ballots.csv", AREA_BALLOTS.encode()),
            ],
        )
        assert outcome.stored, outcome.text
        await day.register([CHIEF_KV01, SUPERVISOR_X1])
        subscribed = await day.channel.say(ADMIN_ID, "/theodoi MK", group=GROUP)
        assert subscribed.status is Status.ACCEPTED, subscribed
        yield day


async def view(day: Day, args: str, user: int = ADMIN_ID) -> ResultsView:
    where = Where(address(user), address(user))
    shown = await day.core.view_results(where, args.split())
    assert isinstance(shown, ResultsView), shown
    return shown


# -- the arguments ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "codes", "ballot"),
    [
        ("", [], None),
        ("MK", ["MK"], None),
        ("MK xa", ["MK"], Ballot.XA),
        ("xã MK", ["MK"], Ballot.XA),
        ("MK HĐND xã", ["MK"], Ballot.XA),
        ("QH-1 QH", ["QH-1"], Ballot.QH),
        ("LC tỉnh", ["LC"], Ballot.TINH),
        ("huyện", [], Ballot.HUYEN),
    ],
)
def test_a_ballot_is_read_in_any_position(args: str, codes: list[str], ballot: Ballot) -> None:
    assert split_args(args.split()) == (codes, ballot)


def test_two_ballots_are_refused() -> None:
    assert split_args(["qh", "xa"]) is None
    assert ballot_word("Quốc") is None and ballot_word("ĐBQH") is Ballot.QH


# -- /ketqua for an electoral unit ------------------------------------------------------------


async def test_an_incomplete_unit_shows_its_counts_and_elects_nobody(night: Day) -> None:
    await store(night, NIGHT[0], NIGHT[1])  # KV01, KV02 of QH-1's five areas
    shown = await view(night, "QH-1")
    [unit] = shown.outcomes
    assert (unit.areas_reported, unit.areas_mapped, unit.complete) == (2, 5, False)
    assert (unit.registered_voters, unit.voted, unit.valid) == (3470, 2100, 2070)
    assert [c.votes for c in unit.candidates] == [1200, 1050, 920, 970]
    assert [c.percent for c in unit.candidates] == [
        Decimal("57.97"), Decimal("50.72"), Decimal("44.44"), Decimal("46.86"),
    ]  # fmt: skip
    assert {c.result for c in unit.candidates} == {CandidateResult.INCOMPLETE}
    assert unit.flag is None
    assert shown.marked == ()  # the chart marks nobody before every area has a record
    assert shown.chart is not None and shown.chart.startswith(PNG)


@pytest.mark.parametrize(
    ("code", "elected", "flag", "percents"),
    [
        # one of two seats filled for the National Assembly: đề nghị bầu thêm
        ("QH-1", [1], UnitFlag.ADDITIONAL_VOTE, ["59.10", "48.35", "46.00", "46.54"]),
        # both seats filled: no flag
        ("X1-1", [1, 2], None, ["84.54", "67.63", "24.15"]),
        # 405 and 405 of 810: exactly half is not more than half; 0 of 1 seat: bầu thêm
        ("X1-2", [], UnitFlag.ADDITIONAL_VOTE, ["50.00", "50.00"]),
        # 100 of 250 listed voters voted: bầu lại, nobody elected however they polled
        ("X2-1", [], UnitFlag.REVOTE, ["61.22", "38.78"]),
    ],
)
async def test_a_complete_unit_shows_its_provisional_standing(
    night: Day, code: str, elected: list[int], flag: UnitFlag | None, percents: list[str]
) -> None:
    await store(night, *NIGHT)
    shown = await view(night, code)
    [unit] = shown.outcomes
    assert unit.complete and unit.flag is flag
    assert [c.number for c in unit.candidates if c.elected] == elected
    assert [str(c.percent) for c in unit.candidates] == percents
    assert shown.plotted == tuple(
        (f"{c.number}. {c.name}", float(c.percent)) for c in unit.candidates
    )
    assert shown.marked == tuple(f"{c.number}. {c.name}" for c in unit.candidates if c.elected)
    answer = await night.channel.say(ADMIN_ID, f"/ketqua {code}")
    assert answer.status is Status.ACCEPTED
    text, chart = (reply.content for reply in answer.replies)
    assert isinstance(text, Text) and isinstance(chart, Image) and chart.png.startswith(PNG)


async def test_the_qh_unit_turnout_and_totals(night: Day) -> None:
    await store(night, *NIGHT)
    [unit] = (await view(night, "QH-1")).outcomes
    assert (unit.registered_voters, unit.voted, unit.valid, unit.invalid) == (3470, 3030, 2978, 52)
    assert unit.turnout == Decimal("87.32")
    assert unit.seats_filled == 1


# -- /ketqua for an administrative unit ---------------------------------------------------------


# (ballot, units total, complete, seats, seats filled, re-votes, additional votes)
QH_TALLY = BallotTally(Ballot.QH, 1, 1, 2, 1, 0, 1)
DISTRICT_XA_TALLY = BallotTally(Ballot.XA, 3, 3, 4, 2, 1, 1)


@pytest.mark.parametrize(
    ("args", "tallies"),
    [
        # the commune: its two electoral units (QH-1 is the province's)
        ("X1", [BallotTally(Ballot.XA, 2, 2, 3, 2, 0, 1)]),
        # the district: X1's and X2's units
        ("MK", [DISTRICT_XA_TALLY]),
        ("MK xa", [DISTRICT_XA_TALLY]),
        ("MK qh", []),
        # the province: every unit
        ("LC", [QH_TALLY, DISTRICT_XA_TALLY]),
        ("", [QH_TALLY, DISTRICT_XA_TALLY]),
    ],
)
async def test_an_administrative_unit_gets_a_line_per_ballot(
    night: Day, args: str, tallies: list[BallotTally]
) -> None:
    await store(night, *NIGHT)
    shown = await view(night, args)
    assert list(shown.tallies) == tallies
    assert shown.chart is None


async def test_seats_filled_count_only_complete_units(night: Day) -> None:
    await store(night, *NIGHT[5:7], NIGHT[7])  # X1-1 complete; X1-2 has KV03 only
    shown = await view(night, "X1")
    assert list(shown.tallies) == [BallotTally(Ballot.XA, 2, 1, 3, 2, 0, 0)]


async def test_a_supervisor_sees_the_units_their_areas_vote_in(night: Day) -> None:
    await store(night, *NIGHT)
    [unit] = (await view(night, "QH-1", SUPERVISOR_X1)).outcomes
    assert unit.electoral_unit == "QH-1"


# -- /chuakq --------------------------------------------------------------------------------


async def test_missing_results_lists_areas_without_a_record_by_electoral_unit(night: Day) -> None:
    await store(night, NIGHT[0], NIGHT[5], NIGHT[6])  # KV01 qh; X1-1 complete
    answer = await night.channel.say(SUPERVISOR_X1, "/chuakq")
    assert answer.status is Status.ACCEPTED
    [text] = answer.texts
    # X1's areas: KV02–KV04 lack qh, KV03–KV04 lack xa; X1-1 is complete, X2's KV05 not X1's
    assert "X1-1" not in text and "KV05" not in text
    assert "QH-1" in text and "X1-2" in text
    assert text.count("+84912345003") == 4  # KV03 and KV04's chief, for each ballot
    only_xa = (await night.channel.say(SUPERVISOR_X1, "/chuakq xã")).texts[0]
    assert "QH-1" not in only_xa and "X1-2" in only_xa


async def test_missing_results_for_an_electoral_unit_and_when_none_is_missing(night: Day) -> None:
    answer = await night.channel.say(ADMIN_ID, "/chuakq X2-1")
    assert answer.status is Status.ACCEPTED and "KV05" in answer.texts[0]
    await store(night, *NIGHT)
    done = await night.channel.say(ADMIN_ID, "/chuakq")
    assert done.status is Status.ACCEPTED and "KV0" not in done.texts[0]


# -- /xuat kq -------------------------------------------------------------------------------


def tables(answer: Answer) -> dict[str, list[list[str]]]:
    assert answer.status is Status.ACCEPTED, answer
    found = {}
    for reply in answer.replies:
        assert isinstance(reply.content, Document)
        content = reply.content.content
        assert content[:3] == b"\xef\xbb\xbf"
        kind = "areas" if reply.content.filename.startswith("results_areas_") else "units"
        found[kind] = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    return found


async def test_export_has_the_contracts_columns_and_values(night: Day) -> None:
    await store(night, *NIGHT)
    got = tables(await night.channel.say(ADMIN_ID, "/xuat kq LC"))
    areas, units = got["areas"], got["units"]
    assert tuple(areas[0]) == RESULTS_AREAS_COLUMNS == (
        "ballot", "electoral_unit", "area_code", "registered_voters", "voted", "ballots_issued",
        "ballots_returned", "valid", "invalid", "candidate_number", "candidate_name", "votes",
        "status", "entered_at",
    )  # fmt: skip
    assert tuple(units[0]) == RESULTS_UNITS_COLUMNS == (
        "ballot", "electoral_unit", "name", "seats", "areas_total", "areas_reported",
        "registered_voters", "voted", "turnout_percent", "valid", "invalid", "candidate_number",
        "candidate_name", "birth_date", "votes", "percent_of_valid", "outcome", "unit_flag",
    )  # fmt: skip
    # one row per record × candidate: 5 qh records × 4 + 2 × 3 + 2 × 2 + 1 × 2 xa
    assert len(areas) - 1 == 20 + 6 + 4 + 2
    assert areas[1] == [
        "qh", "QH-1", "KV01", "320", "300", "300", "300", "290", "10", "1", "Hầu Ngọc Chúng",
        "200", "single entry", "2021-05-23T20:00:00+07:00",
    ]  # fmt: skip
    assert len(units) - 1 == 4 + 3 + 2 + 2
    rows = {(row[1], row[11]): row for row in units[1:]}
    assert rows[("QH-1", "1")] == [
        "qh", "QH-1", "Đơn vị bầu cử số 1", "2", "5", "5", "3470", "3030", "87.32", "2978", "52",
        "1", "Hầu Ngọc Chúng", "1962-12-15", "1760", "59.10", "elected", "additional vote",
    ]  # fmt: skip
    assert rows[("QH-1", "2")][14:] == ["1440", "48.35", "not elected", "additional vote"]
    assert rows[("X1-1", "2")][14:] == ["1400", "67.63", "elected", ""]
    assert rows[("X1-2", "1")][14:] == ["405", "50.00", "not elected", "additional vote"]
    assert rows[("X2-1", "1")][6:11] == ["250", "100", "40.00", "98", "2"]
    assert rows[("X2-1", "1")][14:] == ["60", "61.22", "not elected", "re-vote"]


async def test_export_before_any_record_gives_zero_percentages(night: Day) -> None:
    got = tables(await night.channel.say(ADMIN_ID, "/export results X2-1 csv"))
    assert got["areas"] == [list(RESULTS_AREAS_COLUMNS)]
    assert got["units"][1] == [
        "xa", "X2-1", "Đơn vị bầu cử số 1 – Tả Ngải Chồ", "1", "1", "0", "250", "0", "0.00",
        "0", "0", "1", "Tẩn Văn Chảo", "1966-11-12", "0", "0.00", "incomplete", "",
    ]  # fmt: skip


async def test_export_of_a_commune_takes_its_areas_and_its_units(night: Day) -> None:
    await store(night, *NIGHT)
    got = tables(await night.channel.say(SUPERVISOR_X1, "/xuat kq"))
    assert {row[2] for row in got["areas"][1:]} == {"KV01", "KV02", "KV03", "KV04"}
    assert {row[0] for row in got["areas"][1:]} == {"qh", "xa"}  # its areas' qh records too
    assert {row[1] for row in got["units"][1:]} == {"X1-1", "X1-2"}  # the units it organizes


async def test_export_as_one_workbook_with_two_sheets(night: Day) -> None:
    await store(night, *NIGHT)
    answer = await night.channel.say(ADMIN_ID, "/xuat kq MK xlsx")
    assert answer.status is Status.ACCEPTED
    [reply] = answer.replies
    assert isinstance(reply.content, Document) and reply.content.filename.endswith(".xlsx")
    book = openpyxl.load_workbook(io.BytesIO(reply.content.content))
    assert book.sheetnames == ["results_areas", "results_units"]
    units = list(book["results_units"].iter_rows(min_row=3, values_only=True))
    assert len(units) == 3 + 2 + 2  # MK organizes the three xa units
    assert units[0][14] == 1750 and units[0][15] == pytest.approx(0.8454)


async def test_the_day_export_keeps_working(night: Day) -> None:
    rows = await night.export()
    assert set(rows) >= {"LC", "MK", "X1", "KV01"}


# -- who may ask --------------------------------------------------------------------------------

OK, SILENT = "ok", "silent"
ROLES = ("chief", "supervisor", "group", "admin", "stranger")
USER_OF_ROLE = {
    "chief": CHIEF_KV01,
    "supervisor": SUPERVISOR_X1,
    "group": GROUP_MEMBER,
    "admin": ADMIN_ID,
    "stranger": STRANGER,
}
SUPERVISORS_ONLY, NOT_YOURS = Refusal.SUPERVISORS_ONLY, Refusal.NOT_YOUR_UNIT
UNREGISTERED, USAGE, WRONG_BALLOT = Refusal.NOT_REGISTERED, Refusal.USAGE, Refusal.WRONG_BALLOT
MATRIX: dict[str, tuple[str, str, str, str, str]] = {
    "/ketqua": (SUPERVISORS_ONLY, OK, OK, OK, UNREGISTERED),
    "/results MK xa": (SUPERVISORS_ONLY, NOT_YOURS, OK, OK, UNREGISTERED),
    "/ketqua QH-1": (SUPERVISORS_ONLY, OK, OK, OK, UNREGISTERED),  # KV01–KV04 are X1's
    "/ketqua X2-1": (SUPERVISORS_ONLY, NOT_YOURS, OK, OK, UNREGISTERED),
    "/ketqua KV05": (SUPERVISORS_ONLY, NOT_YOURS, OK, OK, UNREGISTERED),
    "/ketqua X1-1 qh": (SUPERVISORS_ONLY, WRONG_BALLOT, WRONG_BALLOT, WRONG_BALLOT, UNREGISTERED),
    "/ketqua qh xa": (SUPERVISORS_ONLY, USAGE, USAGE, USAGE, UNREGISTERED),
    "/chuakq": (SUPERVISORS_ONLY, OK, OK, OK, SUPERVISORS_ONLY),
    "/missingresults X2-1": (SUPERVISORS_ONLY, NOT_YOURS, OK, OK, SUPERVISORS_ONLY),
    "/xuat kq": (SUPERVISORS_ONLY, OK, SUPERVISORS_ONLY, OK, SUPERVISORS_ONLY),
    "/xuat kq QH-1 xlsx": (SUPERVISORS_ONLY, OK, SUPERVISORS_ONLY, OK, SUPERVISORS_ONLY),
    "/export results KV05": (SUPERVISORS_ONLY, NOT_YOURS, SUPERVISORS_ONLY, OK, SUPERVISORS_ONLY),
}


def verdict(answer: Answer) -> str:
    if not answer.replies:
        return SILENT
    if answer.status is Status.REFUSED:
        assert answer.reason is not None
        assert all(reply.brief is not None for reply in answer.replies)  # for text messages
        return answer.reason
    assert answer.status is Status.ACCEPTED, answer
    return OK


@pytest.mark.parametrize("role", ROLES)
async def test_who_may_ask_for_results(night: Day, role: str) -> None:
    await store(night, *NIGHT)
    column = ROLES.index(role)
    user = USER_OF_ROLE[role]
    wrong = []
    for command, cells in MATRIX.items():
        answer = await night.channel.say(user, command, group=GROUP if role == "group" else None)
        if (got := verdict(answer)) != cells[column]:
            wrong.append((command, cells[column], got, answer.texts[:1]))
    assert wrong == []


async def test_before_any_ballot_file_the_commands_say_so(db_target: Path | str) -> None:
    async with open_day(db_target) as day:
        for command in ("/ketqua", "/chuakq", "/xuat kq"):
            answer = await day.channel.say(ADMIN_ID, command)
            assert (answer.status, answer.reason) == (Status.REFUSED, Refusal.NO_BALLOTS_YET)
