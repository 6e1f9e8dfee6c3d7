"""Schema 6 (issue 13) turns every Telegram-shaped integer id into a channel identity and
keeps all data: a schema-5 database as the release before it (commit 69f67f9) filled it,
opened with today's code, shows every figure, registration, subscription, audit entry and
inbox row it held, and the bot carries on with it.

The database is `tests/data/schema5/release_69f67f9.json`: every row of a SQLite file the
release's real Core filled (see `make_fixture.py` beside it), and the figures the release
showed. Here it is loaded into a schema-5 database built by migrations 1–5, on SQLite and
on PostgreSQL (the PostgreSQL half is skipped, with the reason, where no server can run).
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest

from bot.channel import COMMAND_LINE, Address
from bot.core import ALREADY_ANSWERED, Core
from bot.messaging.answers import Status
from bot.model import MessageKey
from bot.monitoring.charts import ChartRenderer
from bot.monitoring.export import export_rows
from bot.settings import load_settings
from bot.turnout.intake import InboundText
from storage.database import Database, is_postgres_url
from storage.schema import POSTGRES_MIGRATIONS, SCHEMA_VERSION, SQLITE_MIGRATIONS
from tests.steps_check import assert_steps_kept

FIXTURE = Path(__file__).parent / "data" / "schema5" / "release_69f67f9.json"
RELEASE: dict[str, Any] = json.loads(FIXTURE.read_text())
TABLES: dict[str, dict[str, list[Any]]] = RELEASE["tables"]
EXPECTED: dict[str, Any] = RELEASE["expected"]
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
BOT = "telegram:5550001"  # the release's bot: its token's id was 5550001
ADMIN = Address("telegram", "42")
# Tables in an order that satisfies foreign keys (units: parents first, as dumped).
LOAD_ORDER = ("units", "unit_contacts", "unit_totals", "people", "reports", "processed_messages",
              "subscriptions", "inbox", "inbox_offset", "audit_log", "store_meta")  # fmt: skip


def rows_of(table: str) -> list[dict[str, Any]]:
    data = TABLES[table]
    return [dict(zip(data["columns"], row, strict=True)) for row in data["rows"]]


def tg(number: int) -> Address:
    return Address("telegram", str(number))


def load_sqlite(path: Path) -> None:
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        for number, migration in enumerate(SQLITE_MIGRATIONS[:5], start=1):
            connection.executescript(f"BEGIN; {migration}; PRAGMA user_version = {number}; COMMIT;")
        connection.execute("BEGIN")
        connection.execute("DELETE FROM store_meta")
        for table in LOAD_ORDER:
            data = TABLES[table]
            marks = ",".join("?" * len(data["columns"]))
            connection.executemany(
                f"INSERT INTO {table} ({','.join(data['columns'])}) VALUES ({marks})",
                data["rows"],
            )
        connection.execute("COMMIT")
        assert connection.execute("PRAGMA user_version").fetchone()[0] == 5
    finally:
        connection.close()


def load_postgres(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        for migration in POSTGRES_MIGRATIONS[:5]:
            connection.execute(migration)  # type: ignore[arg-type]
        connection.execute("INSERT INTO schema_version VALUES (5)")
        with connection.transaction():
            connection.execute("SET CONSTRAINTS ALL DEFERRED")  # replaced_by points forward
            connection.execute("DELETE FROM store_meta")
            for table in LOAD_ORDER:
                data = TABLES[table]
                marks = ",".join(["%s"] * len(data["columns"]))
                with connection.cursor() as cursor:
                    cursor.executemany(
                        f"INSERT INTO {table} ({','.join(data['columns'])}) VALUES ({marks})",  # type: ignore[arg-type]
                        data["rows"],
                    )
        # as pg_dump does: identity sequences continue after the loaded ids
        for table in ("reports", "audit_log"):
            connection.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}"  # type: ignore[arg-type]
            )


@pytest.fixture
async def upgraded(store_target: str, tmp_path: Path) -> AsyncIterator[Database]:
    """The release's schema-5 database, opened (and so migrated) by today's code."""
    if is_postgres_url(store_target):
        load_postgres(store_target)
        target: str | Path = store_target
    else:
        target = Path(store_target)
        load_sqlite(target)
    database = await Database.open(target)
    try:
        yield database
    finally:
        await database.close()


async def test_the_upgrade_reaches_the_current_schema(upgraded: Database) -> None:
    assert await upgraded.schema_version() == SCHEMA_VERSION


async def test_every_figure_is_intact(upgraded: Database) -> None:
    codes = [unit.code for unit in upgraded.units]
    assert len(codes) == len(TABLES["units"]["rows"]) == 157
    totals = await upgraded.totals_of(codes)
    assert {code: _asdict(t) for code, t in totals.items()} == EXPECTED["totals"]
    exported = json.loads(json.dumps(await export_rows(upgraded, "LC", TZ), default=str))
    assert exported == EXPECTED["export"]
    assert exported[0][:9] == ["LC", "", "tỉnh", "Tỉnh Lào Cai", 139, 12, 9, 38851, 2772]


async def test_every_report_keeps_its_sender_chat_message_and_bot(upgraded: Database) -> None:
    for code, expected in EXPECTED["reports"].items():
        reports = await upgraded.area_reports(code, include_replaced=True)
        assert len(reports) == len(expected), code
        for report, before in zip(reports, expected, strict=True):
            assert report.sender == tg(before["sender_id"])
            assert report.chat == tg(before["chat_id"])
            assert report.message_ref == str(before["message_id"])
            for name in ("id", "area_code", "kind", "at", "time_stated", "received_at", "text",
                         "is_correction", "voted", "list_size", "staff_tested", "staff_total",
                         "positives", "replaced_by", "line_index"):  # fmt: skip
                assert getattr(report, name) == before[name], (code, name)
    bots = {row["id"]: row["bot_id"] for row in rows_of("reports")}
    for code in EXPECTED["reports"]:
        for report in await upgraded.area_reports(code, include_replaced=True):
            # the release's bot keeps its reports; the one stored with no bot (0) has none
            assert report.bot == (BOT if bots[report.id] == 5550001 else "")
    assert sorted(set(bots.values())) == [0, 5550001]


async def test_every_registration_is_intact(upgraded: Database) -> None:
    people = rows_of("people")
    assert len(people) == 11
    for row in people:
        person = await upgraded.person(tg(row["user_id"]))
        assert person is not None, row
        assert person.identity == tg(row["user_id"])
        assert (person.phone, person.name, person.chat) == (
            row["phone"], row["name"], tg(row["chat_id"]),
        )  # fmt: skip
        assert person.units == await upgraded.units_of_phone(row["phone"])
        assert person.units  # still the chief or supervisor of their units
    supervisor = await upgraded.person(tg(2000))
    assert supervisor is not None and supervisor.units == ("02752",)
    assert await upgraded.person(Address("telegram", "999")) is None


async def test_every_subscription_is_intact(upgraded: Database) -> None:
    subscriptions = await upgraded.subscriptions(BOT)
    found = {s.chat: s for s in subscriptions}
    assert len(subscriptions) == len(rows_of("subscriptions")) == 2
    for row in rows_of("subscriptions"):
        subscription = found[tg(row["chat_id"])]
        assert subscription.bot == BOT
        assert subscription.unit_code == row["unit_code"]
        assert subscription.title == row["title"]
        assert subscription.subscribed_by == tg(row["subscribed_by"])
        assert subscription.finished_notified == bool(row["finished_notified"])
    # the commune finished before the upgrade: its group was told, and is not told again
    assert found[tg(-1001000777)].finished_notified
    assert not found[tg(-1001000888)].finished_notified
    assert await upgraded.subscription(BOT, tg(-1001000777)) == found[tg(-1001000777)]
    assert await upgraded.subscriptions("telegram:1") == []


async def test_the_audit_log_names_people_and_the_command_line(upgraded: Database) -> None:
    entries = await upgraded.audit_entries(50)
    before = sorted(rows_of("audit_log"), key=lambda r: -r["id"])
    assert [(e.at, e.action, e.detail) for e in entries] == [
        (r["at"], r["action"], r["detail"]) for r in before
    ]
    assert [e.actor for e in entries] == [
        COMMAND_LINE if r["user_id"] == 0 else tg(r["user_id"]) for r in before
    ]
    assert entries[0].actor == COMMAND_LINE and entries[0].action == "import"
    assert {e.actor for e in entries} == {COMMAND_LINE, ADMIN, tg(2000)}


async def test_the_inbox_and_its_cursor_are_intact(upgraded: Database) -> None:
    waiting = [(str(r["update_id"]), r["payload"]) for r in rows_of("inbox")]
    assert [event for event, _ in waiting] == ["9003", "9004", "9005"]
    assert await upgraded.inbox_pending(BOT) == waiting
    assert await upgraded.channel_cursor(BOT) == "9006"
    health = await upgraded.health(BOT)
    assert (health.pending_events, health.cursor, health.known) == (3, "9006", True)
    assert health.last_handled_at == rows_of("inbox_offset")[0]["last_handled_at"]
    assert health.other_bots == ()


async def test_handled_messages_keep_their_stored_replies(upgraded: Database) -> None:
    handled = rows_of("processed_messages")
    assert len(handled) == 42
    keys = [
        MessageKey(BOT if row["bot_id"] else "", tg(row["chat_id"]), str(row["message_id"]),
                   row["version"])
        for row in handled
    ]  # fmt: skip
    stored = await upgraded.write(lambda tx: [tx.message_replies(key) for key in keys])
    assert stored == [json.loads(row["replies"]) for row in handled]
    assert any("Đã sửa" in reply for replies in stored if replies for reply in replies)


async def test_the_bot_carries_on_with_the_upgraded_database(upgraded: Database) -> None:
    """Through the core: a message delivered again gets its old answer and changes
    nothing; an edit replaces what its message said; a new report counts; a supervisor's
    view of the group is still the group's."""
    settings = load_settings(FIELDTALLY_DB="unused.db", FIELDTALLY_ADMINS="42")
    core = Core(upgraded, settings, renderer=ChartRenderer(0), bot=BOT)
    before = await upgraded.totals("02752")
    chief = tg(1001)
    redelivered = await core.report(
        InboundText(chat=chief, message_ref="101", sender=chief, text="91/275 9h",
                    sent_at=_at(9, 5), bot=BOT)
    )  # fmt: skip
    [again] = redelivered.texts
    assert again.startswith("✅") and "91/275" in again
    # answered before the upgrade: its first reply again, nothing judged nor counted now
    assert [r.reason for r in redelivered.replies] == [ALREADY_ANSWERED]
    assert await upgraded.totals("02752") == before

    other = tg(1010)  # the chief of 02755-01, who reported 100/291 at 9h
    area_before = await upgraded.totals("02755-01")
    fresh = await core.report(
        InboundText(chat=other, message_ref="9999", sender=other, text="150/291 11h",
                    sent_at=_at(11, 1), bot=BOT)
    )  # fmt: skip
    assert [r.status for r in fresh.replies] == [Status.ACCEPTED], fresh.texts
    after = await upgraded.totals("02755-01")
    assert after.voted == area_before.voted + 50

    # the admin's report stored with no bot: an edit through a bot-less core replaces it
    bare = Core(upgraded, settings, renderer=ChartRenderer(0))
    edited = await bare.report(
        InboundText(chat=ADMIN, message_ref="1", sender=ADMIN, text="02758-01: 95/283 10h",
                    sent_at=_at(10, 25), edited_at=_at(10, 40), revision=77, bot="")
    )  # fmt: skip
    assert [r.status for r in edited.replies] == [Status.ACCEPTED], edited.texts
    reports = await upgraded.area_reports("02758-01")
    assert [(r.voted, r.bot, r.message_ref) for r in reports] == [(95, "", "1")]


def _at(hour: int, minute: int) -> dt.datetime:
    return dt.datetime(2021, 5, 23, hour, minute, tzinfo=TZ)


def _asdict(value: Any) -> dict[str, Any]:
    return {name: getattr(value, name) for name in value.__dataclass_fields__}


async def test_the_over_the_day_steps_are_filled_from_the_stored_reports(
    upgraded: Database,
) -> None:
    """The migration that adds the per-unit steps fills them from the reports already
    stored, so an upgraded database charts its day at once; and they follow new reports,
    corrections and edits through the core."""
    assert await assert_steps_kept(upgraded) > 0
    province = await upgraded.unit_steps("LC")
    assert province and province == await upgraded.voted_steps(
        [area.code for area in upgraded.units.areas_under("LC")]
    )
    await test_the_bot_carries_on_with_the_upgraded_database(upgraded)
    assert await assert_steps_kept(upgraded) > 0
