"""The store on a real SQLite file and a real PostgreSQL database: the same behaviour on both
(schema versioning, transactions, totals, per-bot inbox), plus what is particular to each."""

from __future__ import annotations

import asyncio
import dataclasses
import sqlite3
import stat
from pathlib import Path

import psycopg
import pytest

from bot.channel import Address
from bot.model import MessageKey, NewReport, Subscription, Totals, UnitSpec
from storage.database import Database, StorageError, Transaction, UnitsHaveReports
from storage.schema import SCHEMA_VERSION, SQLITE_MIGRATIONS

TREE = [
    UnitSpec("P", None, "tỉnh", "Tỉnh P", None, None),
    UnitSpec("C", "P", "xã", "Xã C", None, None, ("+84912000002",)),
    UnitSpec("A1", "C", "khu vực bỏ phiếu", "KV 1", 300, 12, ("+84912000001",)),
    UnitSpec("A2", "C", "khu vực bỏ phiếu", "KV 2", 200, None),
]


CHIEF = Address("zalo", "bot1:u1")
FIRST, SECOND = "telegram:111", "zalo:222"  # two bots sharing one database


def a_report(area: str, voted: int) -> NewReport:
    return NewReport(
        area_code=area,
        kind="turnout",
        at=1_621_735_200,
        time_stated=True,
        received_at=1_621_735_200,
        sender=CHIEF,
        chat=CHIEF,
        message_ref="1",
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


async def test_units_and_running_totals_survive_reopening(store_target: str) -> None:
    path = store_target
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


async def test_a_failed_transaction_changes_nothing(store_target: str) -> None:
    db = await Database.open(store_target)
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


async def test_removing_a_unit_with_reports_is_refused(store_target: str) -> None:
    db = await Database.open(store_target)
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


async def test_a_second_import_updates_in_place_and_keeps_reports(store_target: str) -> None:
    db = await Database.open(store_target)
    try:
        await db.write(lambda tx: tx.replace_units(TREE))
        await db.write(lambda tx: tx.add_report(a_report("A1", 7)))
        renamed = [*TREE[:2], UnitSpec("a1", "c", "khu vực bỏ phiếu", "KV Một", 310, 12), TREE[3]]
        summary = await db.write(lambda tx: tx.replace_units(renamed))
        assert (summary.added, summary.updated, summary.removed) == (0, 4, 0)
        area = db.units.get("A1")
        assert area is not None and area.code == "A1" and area.name == "KV Một"
        assert area.contact_phones == ()  # imported contacts are replaced by the new file's
        assert [r.voted for r in await db.area_reports("A1")] == [7]
    finally:
        await db.close()


async def test_the_inbox_and_handled_messages_are_per_bot(store_target: str) -> None:
    db = await Database.open(store_target)
    try:
        await db.write(lambda tx: tx.inbox_store(FIRST, [("10", '{"n": 10}')], cursor="11"))
        await db.write(
            lambda tx: tx.inbox_store(SECOND, [("f0a3", '{"b": 1}'), ("0b2e", '{"b": 2}')])
        )
        assert await db.inbox_pending(FIRST) == [("10", '{"n": 10}')]
        # a channel's event ids are its own text: kept in arrival order, not sorted
        assert [e for e, _ in await db.inbox_pending(SECOND)] == ["f0a3", "0b2e"]
        # the cursor is what the adapter last gave (it alone knows what it means)
        assert (await db.channel_cursor(FIRST), await db.channel_cursor(SECOND)) == ("11", None)
        await db.write(lambda tx: tx.inbox_store(FIRST, [("12", "{}")], cursor="13"))
        assert await db.channel_cursor(FIRST) == "13"

        await db.write(lambda tx: tx.inbox_done(SECOND, ["f0a3"]))
        health = await db.health(SECOND)
        assert (health.pending_events, health.cursor) == (1, None)
        assert health.last_handled_at is not None and health.known
        first_health = await db.health(FIRST)
        assert first_health.pending_events == 2 and first_health.last_handled_at is None
        assert first_health.other_bots == ((SECOND, 1),)

        key = MessageKey(FIRST, Address("telegram", "5"), "9")
        await db.write(lambda tx: tx.record_message(key, ["✅ a"]))
        assert await db.write(lambda tx: tx.message_replies(key)) == ["✅ a"]
        # the same chat and message number seen by another bot is another message
        other = dataclasses.replace(key, bot=SECOND)
        assert await db.write(lambda tx: tx.message_replies(other)) is None
        # and so is another revision (an edit) of it
        edit = dataclasses.replace(key, revision=77)
        assert await db.write(lambda tx: tx.message_replies(edit)) is None
        # replies stored with their brief forms (issue 16): both come back, texts alone too
        briefed = dataclasses.replace(key, message_ref="10")
        await db.write(lambda tx: tx.record_message(briefed, ["✅ a", "❌ b"], ["Đã lưu", None]))
        answers = await db.write(lambda tx: tx.message_answers(briefed))
        assert answers == [("✅ a", "Đã lưu"), ("❌ b", None)]
        assert await db.write(lambda tx: tx.message_replies(briefed)) == ["✅ a", "❌ b"]
        assert await db.write(lambda tx: tx.message_answers(key)) == [("✅ a", None)]
    finally:
        await db.close()


async def test_totals_add_up_from_two_handles_on_one_database(store_target: str) -> None:
    """Two handles (as two processes would have) each add to the same commune's totals."""
    first = await Database.open(store_target)
    await first.write(lambda tx: tx.replace_units(TREE))
    await first.write(
        lambda tx: tx.rebuild_totals(
            {"A1": Totals(areas_total=1, registered_voters=300), "A2": Totals(areas_total=1)}
        )
    )
    second = await Database.open(store_target)
    try:

        def report(area: str, voted: int, tx: Transaction) -> None:
            before = tx.area_state(area)
            tx.current_reports(area)
            tx.add_report(a_report(area, voted))
            after = Totals(**{**_totals_dict(before), "areas_reported": 1, "voted": voted})
            tx.update_area(area, before, after)

        await asyncio.gather(
            first.write(lambda tx: report("A1", 100, tx)),
            second.write(lambda tx: report("A2", 50, tx)),
        )
        for handle in (first, second):
            commune = await handle.totals("C")
            assert (commune.areas_reported, commune.voted) == (2, 150)
    finally:
        await first.close()
        await second.close()


def _totals_dict(totals: Totals) -> dict[str, int | None]:
    return {f.name: getattr(totals, f.name) for f in dataclasses.fields(totals)}


async def test_an_unreachable_postgresql_is_one_clear_error(postgres_admin_url: str) -> None:
    port = postgres_admin_url.rsplit(":", 1)[1].split("/")[0]
    wrong = postgres_admin_url.replace(f":{port}/", ":1/").replace("fieldtally@", "u:secret@")
    with pytest.raises(StorageError, match="cannot reach the PostgreSQL database") as refused:
        await Database.open(wrong)
    assert "secret" not in str(refused.value) and "\n" not in str(refused.value)


async def test_a_newer_postgresql_schema_is_refused(postgres_url: str) -> None:
    db = await Database.open(postgres_url)
    await db.close()
    with psycopg.connect(postgres_url, autocommit=True) as raw:
        raw.execute("UPDATE schema_version SET version = version + 1")
    with pytest.raises(StorageError, match="newer"):
        await Database.open(postgres_url)


async def test_a_database_from_before_bots_were_told_apart_is_adopted(tmp_path: Path) -> None:
    """Schema 4 had one bot per file: what it held (bot 0 in schema 5, no bot '' since
    schema 6) belongs to the first bot to start on it, and to no other after it."""
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as raw:
        for number in range(4):
            raw.executescript(SQLITE_MIGRATIONS[number])
        raw.execute("PRAGMA user_version = 4")
        raw.execute("INSERT INTO inbox VALUES (41, '{}', 0)")
        raw.execute("INSERT INTO inbox_offset VALUES (1, 42)")
    db = await Database.open(path)
    try:
        assert await db.inbox_pending("") == [("41", "{}")]
        await db.adopt_rows_without_bot("telegram:777")
        assert await db.inbox_pending("telegram:777") == [("41", "{}")]
        assert await db.channel_cursor("telegram:777") == "42"
        assert await db.inbox_pending("") == []
        await db.adopt_rows_without_bot("telegram:888")  # nothing left to adopt
        assert await db.inbox_pending("telegram:888") == []
        assert await db.channel_cursor("telegram:888") is None
    finally:
        await db.close()


async def test_a_tree_changed_by_another_handle_is_seen(store_target: str) -> None:
    first = await Database.open(store_target)
    second = await Database.open(store_target)
    try:
        await first.write(lambda tx: tx.replace_units(TREE))
        extra = UnitSpec("A3", "C", "khu vực bỏ phiếu", "KV 3", 100, None)
        if second.backend == "postgresql":  # a shared database: the next write sees it
            assert await second.write(lambda tx: tx.unit_index().get("A1")) is not None
            assert second.units.get("A1") is not None
            await first.write(lambda tx: tx.replace_units([*TREE, extra]))
            assert await second.refresh_units() is True
            assert second.units.get("A3") is not None
            assert await second.refresh_units() is False
        else:  # SQLite: one process owns the file; a reopen reads the tree
            assert await second.refresh_units() is True
            assert second.units.get("A1") is not None
    finally:
        await first.close()
        await second.close()


async def test_finished_units_are_claimed_once_and_only_by_the_subscribing_bot(
    store_target: str,
) -> None:
    first = await Database.open(store_target)
    second = await Database.open(store_target)
    group, group2 = Address("telegram", "-100"), Address("zalo", "-200")
    by = Address("telegram", "1")
    try:
        await first.write(lambda tx: tx.replace_units(TREE))
        await first.write(lambda tx: tx.subscribe(Subscription(group, FIRST, "C", "Nhóm xã", by)))
        await second.write(lambda tx: tx.subscribe(Subscription(group2, SECOND, "C", "Nhóm 2", by)))
        assert await first.write(lambda tx: tx.finished_unclaimed(FIRST)) == []  # not finished
        await first.write(
            lambda tx: tx.rebuild_totals(
                {
                    "A1": Totals(areas_total=1, areas_finished=1, voted=300),
                    "A2": Totals(areas_total=1, areas_finished=1, voted=200),
                }
            )
        )
        [(told, totals)] = await first.write(lambda tx: tx.finished_unclaimed(FIRST))
        assert told.chat == group and (totals.areas_finished, totals.voted) == (2, 500)
        assert await first.write(lambda tx: tx.finished_unclaimed(FIRST)) == []
        assert [
            s.chat for s in await second.write(lambda tx: tx.claim_finished_notices(SECOND, ["C"]))
        ] == [group2]
        assert await second.write(lambda tx: tx.claim_finished_notices(SECOND, ["C"])) == []
        [kept] = await second.subscriptions(SECOND)
        assert (kept.chat, kept.bot, kept.subscribed_by) == (group2, SECOND, by)
    finally:
        await first.close()
        await second.close()


async def test_held_updates_are_claimed_by_another_process_only_once_their_lease_ends(
    store_target: str,
) -> None:
    worker = await Database.open(store_target)
    other = await Database.open(store_target)  # a second process of the same bot
    bot = "telegram:9"
    try:
        await worker.write(lambda tx: tx.inbox_store(bot, [("1", "a"), ("2", "b")], 1_000))
        await worker.write(lambda tx: tx.inbox_store(bot, [("3", "c")], lease_until=5_000))
        # at 999 every lease still holds: nothing to take over
        assert await other.write(lambda tx: tx.inbox_claim_expired(bot, 999, 2_000)) == []
        # at 1,500 the first two have expired: taken once, under a new lease
        taken = await other.write(lambda tx: tx.inbox_claim_expired(bot, 1_500, 2_000))
        assert taken == [("1", "a"), ("2", "b")]
        assert await worker.write(lambda tx: tx.inbox_claim_expired(bot, 1_500, 2_000)) == []
        # the holder of event 3 renews it; at 6,000 it is still held
        await worker.write(lambda tx: tx.inbox_renew(bot, ["3"], 9_000))
        assert await other.write(lambda tx: tx.inbox_claim_expired(bot, 6_000, 7_000)) == [
            ("1", "a"),
            ("2", "b"),
        ]  # 1 and 2 were never marked done: their new holder's lease ran out too
        await other.write(lambda tx: tx.inbox_done(bot, ["1", "2"]))
        assert [e for e, _ in await worker.inbox_pending(bot)] == ["3"]
    finally:
        await worker.close()
        await other.close()
