"""The SMS outbox end to end: every reply stored before it is handed to the gateway, handed
over at most SMS_PER_MINUTE in any minute (counted across restarts), paused while the gateway
is down and resumed by itself, never sent twice (a lost answer retried under the same id gets
409), kept across a restart. Time is the outbox's manual clock: the test moves it after the
outbox has gone to sleep on it, so nothing waits for a window of real time."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from handlers.sms.outbox import BACKOFF_MAX, WINDOW
from sandbox.sms import SmsGatewaySandbox
from tests.harness import at
from tests.sms_harness import SmsRun, make_gateway, sms_run

CHIEFS = {  # as the phone shows the number: E.164, the area, its list size
    "0912345001": ("+84912345001", "KV01", 320),
    "0912345002": ("+84912345002", "KV02", 2000),
    "0912345003": ("+84912345003", "KV03", 500),
    "+84912345005": ("+84912345005", "KV05", 250),
}


@pytest.fixture
async def gateway() -> AsyncIterator[SmsGatewaySandbox]:
    async with make_gateway() as sandbox:
        yield sandbox


async def started(gateway: SmsGatewaySandbox, db: Path | str, **extra: str) -> SmsRun:
    run = await sms_run(gateway, db, day=at(9, 5), **extra)
    await run.start()
    return run


async def report_from_every_chief(bot: SmsRun) -> None:
    """Each chief reports once; returns when every SMS has been handled (replies queued)."""
    handled = bot.sms_channel.handled
    for phone, (_, area, size) in CHIEFS.items():
        await bot.text(phone, f"{area} 100/{size} 9h", at=at(9, 2))
    await bot.sms_channel.wait_handled(handled + len(CHIEFS))


async def gateway_refused_and_outbox_paused(bot: SmsRun) -> None:
    await bot.gateway.wait_until(lambda: bot.gateway.refused_sends >= 1)
    await bot.clock.wait_for_sleeper()


def outbox_states(bot: SmsRun) -> list[tuple[str, int]]:
    return bot.query("SELECT state, count(*) FROM sms_outbox GROUP BY state ORDER BY state")


@pytest.mark.parametrize("outage", ["unreachable", "error", "queue_full"])
async def test_the_gateway_down_for_a_while_then_every_reply_is_sent_once(
    gateway: SmsGatewaySandbox, db_target: Path | str, outage: str
) -> None:
    bot = await started(gateway, db_target)
    try:
        gateway.outage = outage  # type: ignore[assignment]
        await report_from_every_chief(bot)
        await gateway_refused_and_outbox_paused(bot)
        assert gateway.sent() == []
        assert outbox_states(bot) == [("queued", len(CHIEFS))]  # stored, nothing dropped
        # Still down at the next try: paused again, still nothing lost.
        tried = gateway.refused_sends
        await bot.clock.advance(BACKOFF_MAX)
        await bot.gateway.wait_until(lambda: gateway.refused_sends > tried)
        await bot.clock.wait_for_sleeper()
        gateway.outage = None
        await bot.clock.advance(BACKOFF_MAX)
        await bot.sms_channel.outbox.wait_idle()
        for e164, _, _ in CHIEFS.values():
            assert len(gateway.sent_to(e164)) == 1, e164
        assert outbox_states(bot) == [("sent", len(CHIEFS))]
    finally:
        await bot.stop()


async def test_a_lost_answer_is_retried_under_the_same_id_and_sent_once(
    gateway: SmsGatewaySandbox, db_target: Path | str
) -> None:
    bot = await started(gateway, db_target)
    try:
        gateway.lose_answers = 1
        await bot.text("0912345001", "KV01 100/320 9h", at=at(9, 2))
        await gateway.wait_until(lambda: len(gateway.sent()) == 1)  # the gateway has it...
        await bot.clock.wait_for_sleeper()  # ...but the answer was lost: backoff
        await bot.clock.advance(BACKOFF_MAX)
        await bot.sms_channel.outbox.wait_idle()
        assert gateway.conflicts == 1
        assert gateway.sent_to("+84912345001") == gateway.sent_to("+84912345001")[:1]
        assert outbox_states(bot) == [("sent", 1)]
    finally:
        await bot.stop()


async def test_pacing_holds_at_sms_per_minute_counted_across_a_restart(
    gateway: SmsGatewaySandbox, db_target: Path | str
) -> None:
    bot = await started(gateway, db_target, SMS_PER_MINUTE="2")
    try:
        for minute, count in enumerate((100, 110, 120)):
            await bot.text("0912345001", f"KV01 {count}/320 8h{minute}0", at=at(9, 2))
        await bot.sms_channel.wait_handled(3)
        await gateway.wait_until(lambda: len(gateway.sent()) >= 2)
        await bot.clock.wait_for_sleeper()  # waiting for the minute to pass
        assert len(gateway.sent()) == 2
        await bot.stop()
        await bot.start()  # the two sent a moment ago still count
        await bot.clock.wait_for_sleeper()
        assert len(gateway.sent()) == 2
        await bot.text("0912345001", "KV01 130/320 8h30", at=at(9, 3))
        await bot.sms_channel.wait_handled(1)
        await bot.clock.advance(WINDOW)
        await gateway.wait_until(lambda: len(gateway.sent()) >= 4)
        await bot.clock.wait_for_sleeper()
        assert len(gateway.sent()) == 4
        await bot.clock.advance(WINDOW)
        await bot.sms_channel.outbox.wait_idle()
        assert len(gateway.sent()) == 4  # the replies of four SMS, one each
        sent_at = [row[0] for row in bot.query("SELECT sent_at FROM sms_outbox ORDER BY sent_at")]
        assert len(sent_at) == 4
        for i, moment in enumerate(sent_at):
            assert sum(moment <= t < moment + WINDOW for t in sent_at[i:]) <= 2
    finally:
        await bot.stop()


async def test_replies_queued_at_a_stop_go_out_after_the_restart_once(
    gateway: SmsGatewaySandbox, db_target: Path | str
) -> None:
    bot = await started(gateway, db_target)
    gateway.outage = "queue_full"
    await report_from_every_chief(bot)
    await gateway_refused_and_outbox_paused(bot)
    await bot.stop()
    assert outbox_states(bot) == [("queued", len(CHIEFS))]
    gateway.outage = None
    await bot.start()
    try:
        await asyncio.wait_for(bot.sms_channel.outbox.wait_idle(), 60)
        assert sorted(m.phone for m in gateway.sent()) == sorted(e for e, _, _ in CHIEFS.values())
        assert outbox_states(bot) == [("sent", len(CHIEFS))]
        assert bot.query("SELECT count(*) FROM reports") == [(len(CHIEFS),)]
    finally:
        await bot.stop()
