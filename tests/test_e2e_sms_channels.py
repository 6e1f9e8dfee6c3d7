"""The SMS channel beside Telegram, and the size of what it sends: an SMS report and a Telegram
report of the same area judged against each other in one process; a supervisor's summary in
at most three segments; accented replies with SMS_UNICODE."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.channel import Address
from bot.messaging.answers import Status
from bot.turnout.rules import Reason
from handlers.sms.gsm7 import is_gsm7, segments
from handlers.sms.render import MAX_SEGMENTS
from handlers.telegram.settings import TelegramSettings
from sandbox import BotApiSandbox
from sandbox.sms import SmsGatewaySandbox
from tests.harness import PATIENCE, at
from tests.sms_harness import SmsRun, make_gateway, sms_run

CHIEF_KV01 = ("0912345001", "+84912345001")
SUPERVISOR_X1 = ("0912000002", "+84912000002")


@pytest.fixture
async def gateway() -> AsyncIterator[SmsGatewaySandbox]:
    async with make_gateway() as sandbox:
        yield sandbox


def last(bot: SmsRun) -> tuple[Address, Status, str | None]:
    who, answer = bot.sms_channel.answers[-1]
    return who, answer.status, answer.reason


async def test_an_sms_report_is_judged_together_with_a_telegram_report_of_the_same_area(
    gateway: SmsGatewaySandbox, db_target: Path | str
) -> None:
    async with BotApiSandbox() as telegram_api:
        token = telegram_api.create_bot()
        bot = await sms_run(gateway, db_target, day=at(10, 5))
        bot.telegram = TelegramSettings(
            _env_file=None,
            TELEGRAM_BOT_TOKEN=token, TELEGRAM_API_URL=telegram_api.url,
        )  # fmt: skip
        await bot.start()
        try:
            # The chief of KV01 on Telegram (a shared contact) reports 9:00...
            chief = telegram_api.make_user(1001, first_name="Lan")
            telegram_api.send_contact(token, chief, CHIEF_KV01[0])
            await telegram_api.wait_for(token, 1, chat_id=chief.id, timeout=PATIENCE)
            telegram_api.send_text(token, chief, "250/320 9h", date=at(9, 1))
            await telegram_api.wait_for(token, 2, chat_id=chief.id, timeout=PATIENCE)
            # ...a lower count at 10:00 by SMS is refused against it (the same area)...
            phone, e164 = CHIEF_KV01
            [refusal] = await bot.answers(phone, e164, "KV01 200/320 10h", at=at(10, 1))
            assert last(bot) == (Address("sms", e164), Status.REFUSED, Reason.LOWER_THAN_EARLIER)
            assert segments(refusal) == 1 and is_gsm7(refusal)
            # ...a higher one is stored beside it, and both count in the area's totals.
            await bot.answers(phone, e164, "KV01 280/320 10h", at=at(10, 2))
            assert last(bot)[1] is Status.ACCEPTED
            assert bot.query("SELECT voted, sender FROM reports ORDER BY id") == [
                (250, "telegram:1001"),
                (280, f"sms:{e164}"),
            ]
            assert bot.query("SELECT voted FROM unit_totals WHERE code = 'X1'") == [(280,)]
        finally:
            await bot.stop()


async def test_a_supervisors_summary_fits_three_segments(
    gateway: SmsGatewaySandbox, db_target: Path | str
) -> None:
    bot = await sms_run(gateway, db_target, day=at(10, 5))
    await bot.start()
    try:
        for phone, area, size in (("0912345001", "KV01", 320), ("0912345002", "KV02", 2000)):
            await bot.answers(phone, "+84" + phone[1:], f"{area} 150/{size} 9h", at=at(9, 2))
        phone, e164 = SUPERVISOR_X1
        replies = await bot.answers(phone, e164, "/tonghop", at=at(10, 3))
        assert last(bot)[1:] == (Status.ACCEPTED, None)
        [summary] = replies  # the text; charts do not travel by SMS
        assert is_gsm7(summary)
        assert 1 < segments(summary) <= MAX_SEGMENTS, summary
    finally:
        await bot.stop()


async def test_sms_unicode_sends_accented_text_in_the_same_budget(
    gateway: SmsGatewaySandbox, db_target: Path | str
) -> None:
    bot = await sms_run(gateway, db_target, day=at(10, 5), SMS_UNICODE="true")
    await bot.start()
    try:
        phone, e164 = CHIEF_KV01
        [ack] = await bot.answers(phone, e164, "KV01 250/320 9h", at=at(9, 2))
        assert last(bot)[1] is Status.ACCEPTED
        assert not is_gsm7(ack)  # accented: UCS-2
        assert segments(ack) == 1, ack
        [refusal] = await bot.answers(phone, e164, "KV01 400/320 9h30", at=at(9, 31))
        assert last(bot)[1:] == (Status.REFUSED, Reason.VOTED_OVER_LIST)
        assert segments(refusal) == 1, refusal
        supervisor, supervisor_e164 = SUPERVISOR_X1
        [summary] = await bot.answers(supervisor, supervisor_e164, "/tonghop", at=at(10, 3))
        assert segments(summary) <= MAX_SEGMENTS, summary
    finally:
        await bot.stop()


async def test_a_unit_finished_by_sms_is_announced_in_its_telegram_group(
    gateway: SmsGatewaySandbox, db_target: Path | str
) -> None:
    async with BotApiSandbox() as telegram_api:
        token = telegram_api.create_bot()
        bot = await sms_run(
            gateway, db_target, day=at(12, 5), FIELDTALLY_ADMINS="sms:+84900000001,1"
        )
        bot.telegram = TelegramSettings(
            _env_file=None,
            TELEGRAM_BOT_TOKEN=token, TELEGRAM_API_URL=telegram_api.url,
        )  # fmt: skip
        await bot.start()
        try:
            admin = telegram_api.make_user(1, first_name="Quản trị")
            group = -100_500
            telegram_api.make_group(group, "Ban bầu cử xã Tả Ngải Chồ")
            telegram_api.send_text(token, admin, "/theodoi X2", chat_id=group)
            await telegram_api.wait_for(token, 1, chat_id=group, timeout=PATIENCE)
            # X2 has one area, KV05, whose chief finishes it by SMS.
            await bot.answers("+84912345005", "+84912345005", "KV05 xong 250/250 12h")
            assert last(bot)[1] is Status.ACCEPTED
            [notice] = await telegram_api.wait_for(
                token,
                lambda r: (r.plain_text or "").startswith("🎉"),
                chat_id=group,
                timeout=PATIENCE,
            )
            assert notice.plain_text is not None and "X2" in notice.plain_text
        finally:
            await bot.stop()
