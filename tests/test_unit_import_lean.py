"""The lean units import (issue 19): the columns the import stores say what the tree says, the
index built in memory is the one the database gives back, totals are recounted right.

The import no longer reads the new tree back from the database nor builds a `UnitRow` per
unit; these tests pin that nothing a user or a later write can see changed because of it.
"""

from __future__ import annotations

import csv
import io
import string
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import Workbook

from bot.channel import Address
from bot.model import ADDITIVE_TOTALS, NewReport, Totals
from bot.monitoring.spreadsheets import parse_units_file, read_units_file
from bot.registration.unit_import import import_units
from bot.registration.units_file import (
    UnitsFileError,
    UnitTable,
    _lines,
    _read_csv,
    parse_units_csv,
    read_units_csv,
)
from bot.turnout.rules import area_state
from storage.database import Database, Transaction

DATA = Path(__file__).parent / "data"
SAMPLE = DATA / "tree_2021_bac_ha.csv"
HEADER = "code,parent_code,kind,name,registered_voters,staff,contact_phones"

SOMEONE = Address("telegram", "1")  # whoever sent the reports here


def rows_of(table: UnitTable) -> list[tuple[object, ...]]:
    return list(
        zip(
            table.lines,
            table.codes,
            table.parent_codes,
            table.kinds,
            table.names,
            table.registered_voters,
            table.staff,
            table.contact_phones,
            strict=True,
        )
    )


def rows_of_tree(data: bytes, filename: str = "units.csv") -> list[tuple[object, ...]]:
    return [
        (r.line, r.code, r.parent_code, r.kind, r.name, r.registered_voters, r.staff,
         r.contact_phones)
        for r in parse_units_file(filename, data)
    ]  # fmt: skip


# -- the columns ----------------------------------------------------------------------------------


def test_columns_are_the_rows_of_the_tree() -> None:
    data = SAMPLE.read_bytes()
    table = read_units_csv(data)
    tree = parse_units_csv(data)
    assert rows_of(table) == rows_of_tree(data)
    assert table.has_children == [not tree.is_leaf(code) for code in table.codes]
    assert table.parents == [
        -1 if row.parent_code is None else table.codes.index(row.parent_code) for row in tree
    ]


def test_a_parent_listed_after_its_child_moves_up_in_the_columns_too() -> None:
    text = "\n".join(
        [
            HEADER,
            "A1,c,khu vực bỏ phiếu,KV 1,300,12,0912000001",
            "C,P,xã,Xã C,,,",
            "P,,tỉnh,Tỉnh P,,,",
            "A2,C,khu vực bỏ phiếu,KV 2,200,,",
        ]
    ).encode()
    table = read_units_csv(text)
    assert table.codes == ["P", "C", "A1", "A2"]
    assert table.lines == [4, 3, 2, 5]  # each unit keeps its own line
    assert table.parents == [-1, 0, 1, 1]
    assert table.parent_codes == [None, "P", "C", "C"]  # spelled as on the parent's row
    assert table.registered_voters == [None, None, 300, 200]
    assert table.has_children == [True, True, False, False]
    assert rows_of(table) == rows_of_tree(text)


def test_an_xlsx_gives_the_same_columns_as_its_csv() -> None:
    data = SAMPLE.read_bytes()
    workbook = Workbook()
    sheet = workbook.active
    for line in data.decode("utf-8-sig").splitlines():
        sheet.append(line.split(","))
    buffer = io.BytesIO()
    workbook.save(buffer)
    from_xlsx = read_units_file("donvi.xlsx", buffer.getvalue())
    assert rows_of(from_xlsx) == rows_of(read_units_csv(data))


def test_errors_are_the_same_whichever_result_is_asked_for() -> None:
    bad = f"{HEADER}\nP,,tỉnh,,,,\nA,P,kv,KV,12.5,,abc\nA,Q,kv,KV,,,\n".encode()
    with pytest.raises(UnitsFileError) as lean:
        read_units_csv(bad)
    with pytest.raises(UnitsFileError) as full:
        parse_units_csv(bad)
    assert lean.value.issues == full.value.issues
    assert [(i.line, i.column, i.kind.value) for i in lean.value.issues] == [
        (2, "name", "empty_value"),
        (3, "registered_voters", "bad_number"),
        (3, "contact_phones", "bad_phone"),
        (4, "code", "duplicate_code"),
        (4, "parent_code", "unknown_parent"),
    ]


@given(
    st.lists(
        st.one_of(
            st.text(alphabet=string.ascii_letters + ',"é ', max_size=8),
            st.sampled_from(["\n", "\r", "\r\n", "\n\r", "\x85", "\u2028", "\x0b", "\x0c"]),
        ),
        max_size=30,
    )
)
def test_lines_split_as_a_newline_free_stringio_does(pieces: list[str]) -> None:
    """The CSV reader is fed lines cut as `io.StringIO(text, newline="")` cuts them (only
    `\\n`, `\\r\\n` and a lone `\\r` end a line), so line numbers in errors do not move."""
    text = "".join(pieces)
    assert list(_lines(text)) == list(io.StringIO(text, newline=""))


# -- the import -----------------------------------------------------------------------------------


def report(area: str, voted: int, at: int, message_id: int) -> NewReport:
    return NewReport(
        area_code=area, kind="turnout", at=at, time_stated=True, received_at=at,
        sender=SOMEONE, chat=SOMEONE, message_ref=str(message_id), line_index=0,
        text=f"{voted} 9h", voted=voted,
    )  # fmt: skip


async def same_as_read_back(db: Database) -> None:
    """The index the import left equals the tree read back from the database."""
    built = list(db.units)
    await db.reload_units()
    assert list(db.units) == built  # every field, in the database's order
    for unit in built:
        assert db.units.children(unit.code) == [
            db.units.get(c.code) for c in db.units.children(unit.code)
        ]


async def recounted_totals_hold(db: Database) -> None:
    """Every unit's stored totals are the sum of its areas' states from their reports."""
    areas = [unit for unit in db.units if unit.is_area]
    states = {u.code: area_state(u, await db.area_reports(u.code)) for u in areas}
    for unit in db.units:
        under = [states[a.code] for a in db.units.areas_under(unit.code)]
        stored = await db.totals(unit.code)
        for name in ADDITIVE_TOTALS:
            assert getattr(stored, name) == sum(getattr(s, name) for s in under), (unit, name)
        times = [s.last_report_at for s in under if s.last_report_at is not None]
        assert stored.last_report_at == (max(times) if times else None)


async def test_the_index_built_on_import_is_the_stored_tree(store_target: str) -> None:
    """On SQLite and on PostgreSQL (whose ORDER BY gives the read-back order there)."""
    db = await Database.open(store_target)
    try:
        first = "\n".join(
            [
                HEADER,
                "P,,tỉnh,Tỉnh P,,,",
                "C1,P,xã,Xã 1,,,0912000009",
                "kv1,C1,khu vực bỏ phiếu,KV 1,300,12,0912000003;0912000001;0912000002",
                "KV2,C1,khu vực bỏ phiếu,KV 2,200,,",
                "C2,p,xã,Xã 2,,,",
                "KV3,C2,khu vực bỏ phiếu,KV 3,100,9,0912000004",
            ]
        )
        ok, reply = await import_units(db, first.encode())
        assert ok, reply
        await same_as_read_back(db)
        kv1 = db.units.get("KV1")
        assert kv1 is not None and kv1.code == "kv1"
        # the stored order of a unit's phones (sorted), not the file's
        assert kv1.contact_phones == ("+84912000001", "+84912000002", "+84912000003")

        # Hand-made state the file does not carry: an assigned phone, a lock, reports.
        def by_hand(tx: Transaction) -> None:
            tx.add_contact("KV2", "+84912000007")
            tx.add_contact("kv1", "+84912000000")
            tx.set_locked(["C2"], True)
            tx.add_report(report("kv1", 120, 1_773_540_000, 1))
            tx.add_report(report("KV3", 40, 1_773_543_600, 2))

        await db.write(by_hand)

        # Re-import: codes in another case, one area moved, one renamed, one added.
        second = "\n".join(
            [
                HEADER,
                "p,,tỉnh,Tỉnh P,,,",
                "c1,P,xã,Xã Một,,,",
                "KV1,c1,khu vực bỏ phiếu,KV 1,310,12,0912000002",
                "C2,P,xã,Xã 2,,,",
                "kv2,c2,khu vực bỏ phiếu,KV 2,200,,0912000008",
                "KV3,C2,khu vực bỏ phiếu,KV 3,100,9,",
                "KV4,C1,khu vực bỏ phiếu,KV 4,50,,",
            ]
        )
        ok, reply = await import_units(db, second.encode())
        assert ok, reply
        await same_as_read_back(db)
        assert [u.code for u in db.units.subtree("P")] == [
            "P", "C1", "kv1", "KV4", "C2", "KV2", "KV3",
        ]  # fmt: skip
        kv1, kv2, c2 = db.units.get("kv1"), db.units.get("kv2"), db.units.get("c2")
        assert kv1 is not None and kv2 is not None and c2 is not None
        # assigned phones first, then the file's; the old file's phones are gone
        assert kv1.contact_phones == ("+84912000000", "+84912000002")
        assert kv2.contact_phones == ("+84912000007", "+84912000008")
        assert c2.locked and kv2.parent_code == "C2"
        assert await db.units_of_phone("+84912000008") == ("KV2",)
        await recounted_totals_hold(db)
        root = await db.totals("P")
        assert (root.areas_total, root.areas_reported, root.voted) == (4, 2, 160)
        assert root.registered_voters == 310 + 200 + 100 + 50
    finally:
        await db.close()


async def test_a_refused_reimport_leaves_the_index_and_the_store_as_they_were(
    tmp_path: Path,
) -> None:
    db = await Database.open(tmp_path / "units.db")
    try:
        ok, _ = await import_units(db, (DATA / "small_tree.csv").read_bytes())
        assert ok
        areas = [u for u in db.units if u.is_area]
        await db.write(lambda tx: tx.add_report(report(areas[0].code, 5, 1_773_540_000, 1)))
        before = list(db.units)
        totals = await db.totals_of([u.code for u in before])
        without = "\n".join([HEADER, "X,,tỉnh,X,,,", "X1,X,khu vực bỏ phiếu,KV,10,,"])
        ok, reply = await import_units(db, without.encode())
        assert not ok and areas[0].code in reply
        assert list(db.units) == before
        await same_as_read_back(db)
        assert await db.totals_of([u.code for u in before]) == totals
    finally:
        await db.close()


async def test_a_national_sized_list_is_stored_whole(tmp_path: Path) -> None:
    """Thousands of units across three levels, listed children before parents: every unit
    stored, depths and areas right, totals summed."""
    communes = 120
    lines = [HEADER]
    for c in range(communes):
        lines += [f"A{c:03d}-{k},C{c:03d},khu vực bỏ phiếu,KV {k},{100 + k},10,"
                  for k in range(25)]  # fmt: skip
        lines.append(f"C{c:03d},P{c % 7},xã,Xã {c},,,")
    lines += [f"P{p},VN,tỉnh,Tỉnh {p},,," for p in range(7)] + ["VN,,quốc gia,Việt Nam,,,"]
    db = await Database.open(tmp_path / "units.db")
    try:
        ok, reply = await import_units(db, "\n".join(lines).encode())
        assert ok, reply
        assert len(db.units) == 1 + 7 + communes + communes * 25
        assert [u.depth for u in db.units][:9] == [0, 1, 1, 1, 1, 1, 1, 1, 2]
        await same_as_read_back(db)
        root = await db.totals("VN")
        assert root.areas_total == communes * 25
        assert root.registered_voters == communes * sum(100 + k for k in range(25))
        assert root.staff_total == communes * 25 * 10
        assert Totals(areas_total=1, registered_voters=100, staff_total=10) == await db.totals(
            "A000-0"
        )
    finally:
        await db.close()


def test_cells_shared_between_rows_keep_their_values() -> None:
    """The reader makes equal cells of repeating columns one string: the rows stay equal to
    what `csv` reads, short and long rows included, and the repeats are one object."""
    text = "\ufeff" + "\n".join(
        [
            " Kind ,CODE,parent_code,name,registered_voters,staff",
            "tỉnh,P,,Tỉnh P,,",
            "xã,C,P,Xã C",
            "khu vực bỏ phiếu,A1,C,KV 1,300,12,extra",
            "khu vực bỏ phiếu,A2,C,KV 2,300,12",
            "",
            "khu vực bỏ phiếu,A3,c,KV 3,1.250,",
        ]
    )
    rows, lines, stopped = _read_csv(text)
    assert rows == list(csv.reader(io.StringIO(text, newline="")))
    assert stopped is None and list(lines) == list(range(1, 8))
    a1, a2 = rows[3], rows[4]
    assert a1[0] is a2[0] and a1[2] is a2[2] and a1[4] is a2[4] and a1[5] is a2[5]
