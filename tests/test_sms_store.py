"""What the SMS channel keeps in the store, on SQLite and PostgreSQL alike: the outbox (each id
once, queue order, hand-over times for pacing, states), the gateway's failures, the webhook
registrations, one refusal per number and day, and the keys of events already received."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from storage.database import Database, Transaction
from storage.sms import OutboxMessage, OutboxStatus, SmsFailure, WebhookRegistration

BOT = "sms:gateway"


@pytest.fixture
async def db(store_target: str) -> AsyncIterator[Database]:
    database = await Database.open(store_target)
    try:
        yield database
    finally:
        await database.close()


def message(n: int, at: int = 1000) -> OutboxMessage:
    return OutboxMessage(f"m{n}", BOT, "+84912345001", f"text {n}", at)


async def test_the_outbox_keeps_each_id_once_in_queue_order(db: Database) -> None:
    await db.write(lambda tx: tx.outbox_add([message(1), message(2)]))
    await db.write(lambda tx: tx.outbox_add([message(1), message(3)]))  # m1 again: kept as is
    assert [m.id for m in await db.outbox_queued(BOT)] == ["m1", "m2", "m3"]
    assert await db.outbox_queued("sms:other") == []


async def test_hand_overs_are_timed_and_counted_for_pacing(db: Database) -> None:
    await db.write(lambda tx: tx.outbox_add([message(n) for n in range(1, 5)]))
    await db.write(lambda tx: tx.outbox_sent("m1", 1000))
    await db.write(lambda tx: tx.outbox_sent("m2", 1030))
    await db.write(lambda tx: tx.outbox_attempt_failed("m3", "HTTP 503"))
    await db.write(lambda tx: tx.outbox_failed("m4", "HTTP 400: bad number"))
    assert await db.outbox_sent_since(BOT, 1001) == [1030]
    assert await db.outbox_sent_since(BOT, 0) == [1000, 1030]
    assert await db.outbox_status(BOT, 1059) == OutboxStatus(queued=1, sent_last_minute=2, failed=1)
    assert await db.outbox_status(BOT, 1060) == OutboxStatus(queued=1, sent_last_minute=1, failed=1)
    [waiting] = await db.outbox_queued(BOT)
    assert (waiting.id, waiting.attempts, waiting.last_error) == ("m3", 1, "HTTP 503")
    everything = {m.id: m for m in await db.outbox_messages(BOT)}
    assert (everything["m1"].state, everything["m1"].sent_at) == ("sent", 1000)
    assert (everything["m4"].state, everything["m4"].last_error) == (
        "failed",
        "HTTP 400: bad number",
    )


async def test_a_failure_is_kept_and_marks_its_message(db: Database) -> None:
    await db.write(lambda tx: tx.outbox_add([message(1)]))
    await db.write(lambda tx: tx.outbox_sent("m1", 1000))
    failure = SmsFailure("m1", "+84912345001", "RESULT_ERROR_NO_SERVICE", 1100)
    await db.write(lambda tx: tx.sms_failure(BOT, failure))
    assert await db.sms_failures(BOT) == [failure]
    assert (await db.outbox_status(BOT, 1100)).failed == 1


async def test_a_webhook_registered_again_replaces_the_row(db: Database) -> None:
    first = WebhookRegistration("sms:received", "w1", "https://a.example/sms/webhook", 1)
    again = WebhookRegistration("sms:received", "w1", "https://b.example/sms/webhook", 2)
    await db.write(lambda tx: tx.sms_webhook_registered(BOT, first))
    await db.write(lambda tx: tx.sms_webhook_registered(BOT, again))
    assert await db.sms_webhooks(BOT) == [again]
    assert await db.sms_bots() == [BOT]


async def test_a_number_is_refused_once_a_day(db: Database) -> None:
    due = []
    for day in ("2021-05-23", "2021-05-23", "2021-05-24"):

        def refuse(tx: Transaction, day: str = day) -> bool:
            return tx.sms_refusal_due(BOT, "+84987654321", day)

        due.append(await db.write(refuse))
    assert due == [True, False, True]


async def test_an_event_is_new_only_when_none_of_its_keys_was_seen(db: Database) -> None:
    async def sighting(*keys: str) -> bool:
        def first(tx: Transaction) -> bool:
            return tx.first_sighting(BOT, keys, 1000)

        return await db.write(first)

    assert await sighting("id:1", "sms:abc") is True
    assert await sighting("id:1", "sms:abc") is False  # the gateway's retry
    assert await sighting("id:2", "sms:abc") is False  # the same SMS under a new id
    assert await sighting("id:2", "sms:def") is False  # id:2 is known now
    assert await sighting("id:3", "sms:ghi") is True
