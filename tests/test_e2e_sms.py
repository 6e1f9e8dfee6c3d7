"""The SMS channel end to end: the real bot, its webhook on the real HTTP server, the gateway
sandbox posting signed webhooks and taking the replies, a real SQLite file.

Who writes, who is answered and how often; what the webhook refuses (unsigned, wrongly
signed, stale: 403 and nothing stored); an SMS delivered twice taken once; the webhooks
registered at start under fixed ids; an `sms:failed` kept for `fieldtally status`."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.channel import Address
from bot.messaging.answers import Refusal, Status
from bot.turnout.rules import Reason
from handlers.sms.channel import REGISTER_RETRY_MAX, SMS_BOT, WEBHOOK_IDS
from handlers.sms.webhook import MAX_SKEW
from sandbox.sms import SmsGatewaySandbox
from tests.harness import at
from tests.sms_harness import SIGNING_KEY, SmsRun, make_gateway, sms_run
from tests.test_cli import fieldtally

CHIEF_KV01 = ("0912345001", "+84912345001")  # as the phone shows it, as E.164
CHIEF_KV05 = ("+84912345005", "+84912345005")
STRANGER = ("0987654321", "+84987654321")

GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = set("^{}\\[~]|€\f")


def gsm7_units(text: str) -> int | None:
    """The text's length in GSM-7 septets, None if it is not GSM-7."""
    if any(c not in GSM7_BASIC and c not in GSM7_EXTENSION for c in text):
        return None
    return sum(2 if c in GSM7_EXTENSION else 1 for c in text)


@pytest.fixture
async def gateway() -> AsyncIterator[SmsGatewaySandbox]:
    async with make_gateway() as sandbox:
        yield sandbox


@pytest.fixture
async def bot(gateway: SmsGatewaySandbox, db_target: Path | str) -> AsyncIterator[SmsRun]:
    run = await sms_run(gateway, db_target, day=at(9, 5))
    await run.start()
    try:
        yield run
    finally:
        await run.stop()


def last_answer(bot: SmsRun, e164: str) -> tuple[Status, str | None]:
    who, answer = bot.sms_channel.answers[-1]
    assert who == Address("sms", e164)
    return answer.status, answer.reason


async def test_a_listed_number_registers_by_its_first_sms_and_gets_one_short_answer(
    bot: SmsRun,
) -> None:
    phone, e164 = CHIEF_KV01
    [reply] = await bot.answers(phone, e164, "KV01 250/320 9h", at=at(9, 2))
    assert last_answer(bot, e164) == (Status.ACCEPTED, None)
    assert reply.startswith("Da luu")  # the contract's acknowledgement
    units = gsm7_units(reply)
    assert units is not None and units <= 160, reply
    assert bot.query("SELECT area_code, voted, sender, chat FROM reports") == [
        ("KV01", 250, f"sms:{e164}", f"sms:{e164}")
    ]
    assert bot.query("SELECT identity, phone FROM people") == [(f"sms:{e164}", e164)]
    # Replies go to the E.164 number.
    assert [m.phone for m in bot.gateway.sent()] == [e164]


async def test_a_bad_report_is_refused_in_one_sms_and_nothing_is_stored(bot: SmsRun) -> None:
    phone, e164 = CHIEF_KV01
    [reply] = await bot.answers(phone, e164, "400/320 9h", at=at(9, 2))
    assert last_answer(bot, e164) == (Status.REFUSED, Reason.VOTED_OVER_LIST)
    assert reply.startswith("Chua luu")  # the contract's refusal
    units = gsm7_units(reply)
    assert units is not None and units <= 160, reply
    assert bot.query("SELECT count(*) FROM reports") == [(0,)]


async def test_an_unknown_number_is_refused_once_a_day(bot: SmsRun) -> None:
    phone, e164 = STRANGER
    first = await bot.answers(phone, e164, "250/320 9h", at=at(9, 2))
    assert last_answer(bot, e164) == (Status.REFUSED, Refusal.UNKNOWN_PHONE)
    again = await bot.answers(phone, e164, "250/320 9h", at=at(9, 3))
    third = await bot.answers(phone, e164, "/huongdan", at=at(15, 0))
    assert (len(first), again, third) == (1, [], [])
    bot.day.now = at(8, 0, day=bot.day.now.date().replace(day=24))  # the next calendar day
    next_day = await bot.answers(phone, e164, "250/320 9h", at=bot.day.now)
    assert len(next_day) == 1
    assert bot.query("SELECT count(*) FROM reports") == [(0,)]
    assert bot.query("SELECT count(*) FROM people") == [(0,)]


async def test_a_named_sender_is_never_answered(bot: SmsRun) -> None:
    await bot.text("VIETTEL", "Tai khoan cua quy khach con 5.000d", at=at(9, 2))
    handled = bot.sms_channel.handled
    await bot.sms_channel.wait_handled(handled)
    [event] = bot.gateway.deliveries
    assert event.attempts == [200]
    assert bot.gateway.sent() == []


@pytest.mark.parametrize(
    "forgery", ["unsigned", "wrong key", "tampered body", "stale", "from the future"]
)
async def test_a_forged_or_stale_webhook_is_refused_and_nothing_is_stored(
    bot: SmsRun, forgery: str
) -> None:
    phone, _ = CHIEF_KV01
    envelope = bot.gateway.envelope(
        "sms:received",
        {"message": "KV01 250/320 9h", "sender": phone, "receivedAt": bot.received_at(at(9, 2))},
    )
    body = json.dumps(envelope).encode()
    now = int(bot.clock.time())
    headers = bot.gateway.signed_headers(body)
    if forgery == "unsigned":
        headers = {"Content-Type": "application/json"}
    elif forgery == "wrong key":
        headers = bot.gateway.signed_headers(body, key="not-the-key")
    elif forgery == "tampered body":
        body = body.replace(b"250/320", b"320/320")
    elif forgery == "stale":
        headers = bot.gateway.signed_headers(body, timestamp=now - MAX_SKEW - 1)
    else:
        headers = bot.gateway.signed_headers(body, timestamp=now + MAX_SKEW + 1)
    url = f"{bot.settings.public_url}/sms/webhook"
    assert await bot.gateway.post(url, body, headers) == 403
    assert bot.query("SELECT count(*) FROM inbox") == [(0,)]
    assert bot.query("SELECT count(*) FROM inbox_seen") == [(0,)]
    assert bot.query("SELECT count(*) FROM reports") == [(0,)]
    # The same event, signed and fresh, is taken.
    assert await bot.gateway.post(url, json.dumps(envelope).encode(), bot.gateway.signed_headers(
        json.dumps(envelope).encode())) == 200  # fmt: skip
    await bot.sms_channel.wait_handled(1)
    assert bot.query("SELECT count(*) FROM reports") == [(1,)]


async def test_a_timestamp_just_within_the_window_is_taken(bot: SmsRun) -> None:
    phone, _ = CHIEF_KV01
    envelope = bot.gateway.envelope(
        "sms:received",
        {"message": "KV01 250/320 9h", "sender": phone, "receivedAt": bot.received_at(at(9, 2))},
    )
    body = json.dumps(envelope).encode()
    headers = bot.gateway.signed_headers(body, timestamp=int(bot.clock.time()) - MAX_SKEW)
    assert await bot.gateway.post(f"{bot.settings.public_url}/sms/webhook", body, headers) == 200


async def test_the_same_sms_delivered_twice_is_stored_and_answered_once(bot: SmsRun) -> None:
    phone, e164 = CHIEF_KV01
    moment = bot.received_at(at(9, 2))
    await bot.text(phone, "KV01 250/320 9h", received_at=moment, envelope_id="env-1")
    await bot.sms_channel.wait_handled(1)
    # The gateway's retry (same envelope id), then the same SMS under a new envelope id.
    [retry] = await bot.text(phone, "KV01 250/320 9h", received_at=moment, envelope_id="env-1")
    [copy] = await bot.text(phone, "KV01 250/320 9h", received_at=moment, envelope_id="env-2")
    assert (retry.attempts, copy.attempts) == ([200], [200])
    await bot.sms_channel.outbox.wait_idle()
    assert bot.sms_channel.handled == 1
    assert len(bot.gateway.sent_to(e164)) == 1
    assert bot.query("SELECT count(*) FROM reports") == [(1,)]
    # A new SMS with the same text later is a new message (and a repeat of the report).
    await bot.answers(phone, e164, "KV01 250/320 9h", at=at(9, 4))
    assert bot.sms_channel.handled == 2


async def test_an_older_gateways_sender_field_is_read(bot: SmsRun) -> None:
    phone, e164 = CHIEF_KV01
    deliveries = bot.gateway.receive(
        phone, "KV01 250/320 9h", received_at=bot.received_at(at(9, 2)), legacy=True
    )
    await bot.gateway.delivered(deliveries)
    await bot.sms_channel.wait_handled(1)
    assert bot.query("SELECT sender FROM reports") == [(f"sms:{e164}",)]


async def test_the_webhooks_are_registered_under_fixed_ids_and_replaced_on_restart(
    bot: SmsRun,
) -> None:
    url = f"{bot.settings.public_url}/sms/webhook"
    expected = {
        webhook_id: {"id": webhook_id, "url": url, "event": event}
        for event, webhook_id in WEBHOOK_IDS.items()
    }
    assert bot.gateway.webhooks == expected
    await bot.stop()
    await bot.start()
    assert bot.gateway.webhooks == expected
    assert bot.query("SELECT event, webhook_id, url FROM sms_webhooks ORDER BY event") == [
        ("sms:failed", WEBHOOK_IDS["sms:failed"], url),
        ("sms:received", WEBHOOK_IDS["sms:received"], url),
    ]


async def test_a_failure_reported_by_the_gateway_is_kept_with_its_reason(bot: SmsRun) -> None:
    phone, e164 = CHIEF_KV01
    await bot.answers(phone, e164, "KV01 250/320 9h", at=at(9, 2))
    [sent] = bot.gateway.sent()
    deliveries = bot.gateway.fail(sent.id, "RESULT_ERROR_NO_SERVICE")
    await bot.gateway.delivered(deliveries)
    assert [d.attempts for d in deliveries] == [[200]]
    assert bot.query("SELECT outbox_id, phone, reason FROM sms_failures") == [
        (sent.id, e164, "RESULT_ERROR_NO_SERVICE")
    ]
    assert bot.query("SELECT state, last_error FROM sms_outbox WHERE id = ?", (sent.id,)) == [
        ("failed", "RESULT_ERROR_NO_SERVICE")
    ]
    failures = await bot.core.db.sms_failures(SMS_BOT) if bot.core else []
    assert [f.reason for f in failures] == ["RESULT_ERROR_NO_SERVICE"]


async def test_status_shows_the_webhooks_the_outbox_and_the_failures(
    bot: SmsRun, tmp_path: Path
) -> None:
    phone, e164 = CHIEF_KV01
    await bot.answers(phone, e164, "KV01 250/320 9h", at=at(9, 2))
    [sent] = bot.gateway.sent()
    await bot.gateway.delivered(bot.gateway.fail(sent.id, "RESULT_ERROR_NO_SERVICE"))
    db = bot.settings.database
    shown = await asyncio.to_thread(fieldtally, tmp_path, "status", "--json", FIELDTALLY_DB=db)
    [gateway] = json.loads(shown.stdout)["sms"]
    assert gateway["bot"] == SMS_BOT
    assert {w["event"]: w["id"] for w in gateway["webhooks"]} == WEBHOOK_IDS
    assert (gateway["outbox_queued"], gateway["failed"]) == (0, 1)
    assert [f["reason"] for f in gateway["recent_failures"]] == ["RESULT_ERROR_NO_SERVICE"]
    text = await asyncio.to_thread(fieldtally, tmp_path, "status", FIELDTALLY_DB=db)
    assert f"{SMS_BOT} webhook sms:received: {bot.settings.public_url}/sms/webhook" in text.stdout
    assert f"{SMS_BOT} failed: RESULT_ERROR_NO_SERVICE (to {e164}" in text.stdout


async def test_webhooks_are_registered_once_the_gateway_answers(
    gateway: SmsGatewaySandbox, db_target: Path | str
) -> None:
    run = await sms_run(gateway, db_target, day=at(9, 5))
    gateway.outage = "queue_full"
    await run.start(registered=False)
    try:
        await gateway.wait_until(lambda: gateway.refused_sends >= 1)
        await run.clock.wait_for_sleeper(2)  # the idle outbox, and the registration's pause
        assert gateway.webhooks == {}
        assert not run.sms_channel.webhooks_registered.is_set()
        gateway.outage = None
        await run.clock.advance(REGISTER_RETRY_MAX)
        await asyncio.wait_for(run.sms_channel.webhooks_registered.wait(), 60)
        assert set(gateway.webhooks) == set(WEBHOOK_IDS.values())
    finally:
        await run.stop()


async def test_the_cloud_servers_api_root_works_the_same(
    gateway: SmsGatewaySandbox, db_target: Path | str
) -> None:
    run = await sms_run(gateway, db_target, day=at(9, 5), gateway_url=gateway.cloud_url)
    await run.start()
    try:
        phone, e164 = CHIEF_KV01
        [reply] = await run.answers(phone, e164, "KV01 250/320 9h", at=at(9, 2))
        assert last_answer(run, e164) == (Status.ACCEPTED, None)
        assert gateway.sent_to(e164) == [reply]
        assert set(gateway.webhooks) == set(WEBHOOK_IDS.values())
    finally:
        await run.stop()


async def test_the_logs_never_show_the_gateways_password_or_the_signing_key(
    bot: SmsRun, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    phone, e164 = CHIEF_KV01
    await bot.answers(phone, e164, "KV01 250/320 9h", at=at(9, 2))
    body = b'{"id": "x", "event": "sms:received", "payload": {}}'
    url = f"{bot.settings.public_url}/sms/webhook"
    assert await bot.gateway.post(url, body, bot.gateway.signed_headers(body, key="x")) == 403
    bot.gateway.outage = "error"
    await bot.text(phone, "KV01 260/320 9h05", at=at(9, 6))
    await bot.gateway.wait_until(lambda: bot.gateway.refused_sends >= 1)
    await bot.clock.wait_for_sleeper()
    assert "refused a request with a wrong signature" in caplog.text
    assert "cannot take messages now (HTTP 500" in caplog.text
    for secret in (SIGNING_KEY, bot.gateway.password):
        assert secret not in caplog.text
