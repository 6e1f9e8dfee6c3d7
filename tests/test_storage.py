"""The SQLite store on real files: schema versioning, WAL, permissions, transactions."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

import pytest

from storage.database import Database, StorageError, Transaction, UnitsHaveReports
from storage.records import NewReport, Totals, UnitSpec
from storage.schema import SCHEMA_VERSION

TREE = [
    UnitSpec("P", None, "tỉnh", "Tỉnh P", None, None),
    UnitSpec("C", "P", "xã", "Xã C", None, None, ("+84912000002",)),
    UnitSpec("A1", "C", "khu vực bỏ phiếu", "KV 1", 300, 12, ("+84912000001",)),
    UnitSpec("A2", "C", "khu vực bỏ phiếu", "KV 2", 200, None),
]


def a_report(area: str, voted: int) -> NewReport:
    return NewReport(
        area_code=area,
        kind="turnout",
        at=1_621_735_200,
        time_stated=True,
        received_at=1_621_735_200,
        sender_id=1,
        chat_id=1,
        message_id=1,
        line_index=0,
        text=f"{voted}/300 9h",
        voted=voted,
    )


async def test_new_file_is_private_wal_and_at_the_current_schema(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "f.db"
    db = await Database.open(path)
    try:
        assert await db.schema_version() == SCHEMA_VERSION
    finally:
        await db.close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


async def test_a_newer_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "f.db"
    db = await Database.open(path)
    await db.close()
    with sqlite3.connect(path) as raw:
        raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(StorageError, match="newer"):
        await Database.open(path)


async def test_units_and_running_totals_survive_reopening(tmp_path: Path) -> None:
    path = tmp_path / "f.db"
    db = await Database.open(path)
    try:

        def import_and_report(tx: Transaction) -> int:
            tx.replace_units(TREE)
            tx.rebuild_totals(
                {
                    "A1": Totals(areas_total=1, registered_voters=300, staff_total=12),
                    "A2": Totals(areas_total=1, registered_voters=200),
                }
            )
            report_id = tx.add_report(a_report("A1", 120)).id
            tx.update_area(
                "A1",
                Totals(areas_total=1, registered_voters=300, staff_total=12),
                Totals(1, 1, 0, 300, 120, 12, 0, 0, 1_621_735_200),
            )
            return report_id

        assert await db.write(import_and_report) > 0
    finally:
        await db.close()
    db = await Database.open(path)
    try:
        assert [u.code for u in db.units.subtree("P")] == ["P", "C", "A1", "A2"]
        assert db.units.get("a1") is not None and db.units.get("A1").is_area  # type: ignore[union-attr]
        assert db.units.ancestor_codes("A1") == ["C", "P"]
        root = await db.totals("P")
        assert (root.areas_total, root.areas_reported, root.voted) == (2, 1, 120)
        assert root.registered_voters == 500 and root.last_report_at == 1_621_735_200
        supervisor_units = await db.units_of_phone("+84912000002")
        assert supervisor_units == ("C",)
    finally:
        await db.close()


async def test_a_failed_transaction_changes_nothing(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "f.db")
    try:
        await db.write(lambda tx: tx.replace_units(TREE))

        def report_then_fail(tx: Transaction) -> None:
            tx.add_report(a_report("A1", 10))
            raise RuntimeError("boom")

        with pytest.raises(RuntimeError):
            await db.write(report_then_fail)
        assert await db.area_reports("A1") == []
        # and the store still works afterwards
        await db.write(lambda tx: tx.add_report(a_report("A1", 11)))
        assert [r.voted for r in await db.area_reports("A1")] == [11]
    finally:
        await db.close()


async def test_removing_a_unit_with_reports_is_refused(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "f.db")
    try:
        def import_and_report(tx: Transaction) -> None:
            tx.replace_units(TREE)
            tx.add_report(a_report("A2", 5))

        await db.write(import_and_report)
        with pytest.raises(UnitsHaveReports) as refused:
            await db.write(lambda tx: tx.replace_units(TREE[:3]))
        assert refused.value.codes == ["A2"]
        assert len(db.units) == 4
    finally:
        await db.close()
