"""What a metered bot keeps in the store, on SQLite and PostgreSQL: its successful sends per
calendar month (each share of the quota passed reported once), the events it received (a
delivery that comes again within the window is a duplicate, and is not stored in the inbox
twice), and the identities already told that the bot is automated."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.channel import Address
from bot.messaging.inbox import Inbox
from storage.database import Database

BOT, OTHER = "zalo:4001", "zalo:4002"
AT = [(80, 8), (95, 10)]  # a quota of 10: 80% at 8, 95% at 10


@pytest.fixture
async def database(store_target: str) -> AsyncIterator[Database]:
    db = await Database.open(store_target)
    try:
        yield db
    finally:
        await db.close()


async def test_sends_are_counted_per_bot_and_month_and_thresholds_told_once(
    database: Database,
) -> None:
    told: list[int] = []
    for _ in range(11):
        sent, passed = await database.write(lambda tx: tx.count_send(BOT, "2026-12", AT))
        told += passed
    assert (sent, told) == (11, [80, 95])
    assert await database.sends_in_month(BOT, "2026-12") == 11
    # Another month and another bot start from nothing.
    assert await database.write(lambda tx: tx.count_send(BOT, "2027-01", AT)) == (1, [])
    assert await database.sends_in_month(OTHER, "2026-12") == 0


async def test_both_thresholds_passed_at_once_are_both_told(database: Database) -> None:
    at_once = [(80, 1), (95, 1)]
    assert await database.write(lambda tx: tx.count_send(BOT, "2026-12", at_once)) == (1, [80, 95])
    assert await database.write(lambda tx: tx.count_send(BOT, "2026-12", at_once)) == (2, [])


async def test_an_event_received_again_is_a_duplicate(database: Database) -> None:
    inbox = Inbox(database, BOT)
    first = await inbox.store_new([("text:m1", "{}"), ("text:m2", "{}")], remember=3600)
    again = await inbox.store_new([("text:m2", "{}"), ("text:m3", "{}")], remember=3600)
    same_twice = await inbox.store_new([("text:m4", "{}"), ("text:m4", "{}")], remember=3600)
    assert [e for e, _ in first] == ["text:m1", "text:m2"]
    assert [e for e, _ in again] == ["text:m3"]
    assert [e for e, _ in same_twice] == ["text:m4"]
    assert [e for e, _ in await inbox.pending()] == ["text:m1", "text:m2", "text:m3", "text:m4"]
    # One bot's events are not another's.
    assert len(await Inbox(database, OTHER).store_new([("text:m1", "{}")], remember=3600)) == 1


async def test_an_event_older_than_the_window_is_forgotten(database: Database) -> None:
    inbox = Inbox(database, BOT)
    await inbox.store_new([("text:m1", "{}")], remember=3600)
    # A window of -1 s: everything received before now + 1 s is forgotten first.
    assert len(await inbox.store_new([("text:m1", "{}")], remember=-1)) == 1


async def test_an_identity_is_greeted_once(database: Database) -> None:
    person = Address("zalo", "4001:u1")
    firsts = [await database.write(lambda tx: tx.greet_first(person, 0)) for _ in range(2)]
    assert firsts == [True, False]
    assert await database.write(lambda tx: tx.greet_first(Address("zalo", "4002:u1"), 0))
