"""End to end on Zalo, with several bots and channels in one process: two Zalo bots from
ZALO_BOTS_FILE each serving its commune (a report to the wrong bot refused with the right
bot's link), a Zalo report judged together with a Telegram report of the same area, and
groups: served only when Zalo grants it (`getMe` → `can_join_groups`), where a command
must mention the bot and `/theodoi` subscribes the group as on Telegram."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.channel import Address
from bot.messaging.answers import Refusal, Status
from bot.turnout.rules import Reason
from sandbox import BotApiSandbox
from sandbox.zalo import ZaloSandbox
from tests.harness import make_telegram_settings
from tests.zalo_harness import Observed, ZaloRun, at, prepare, zalo_identity

PHONE_KV01, PHONE_KV05 = "0912345001", "0912345005"
LINK_X2 = "https://zalo.me/s/xa-ta-ngai-cho"


@pytest.fixture
async def zs() -> AsyncIterator[ZaloSandbox]:
    async with ZaloSandbox() as sandbox:
        yield sandbox


def bots_file(tmp_path: Path, rows: list[tuple[str, str, str]]) -> Path:
    path = tmp_path / "zalo-bots.csv"
    path.write_text("unit_code,token,link\n" + "".join(f"{u},{t},{ln}\n" for u, t, ln in rows))
    path.chmod(0o600)
    return path


async def test_each_bot_serves_its_subtree_and_points_to_the_right_one(
    zs: ZaloSandbox, tmp_path: Path, db_target: Path | str
) -> None:
    token_a, bot_a = zs.add_bot("bot.phalong")
    token_b, bot_b = zs.add_bot("bot.tangaicho")
    chief_on_a = zalo_identity(bot_a, zs.add_user(token_a, "chief5"))
    chief_on_b = zalo_identity(bot_b, zs.add_user(token_b, "chief5"))
    db = db_target
    await prepare(db, [(chief_on_a, PHONE_KV05), (chief_on_b, PHONE_KV05)])
    path = bots_file(tmp_path, [("X1", token_a, ""), ("X2", token_b, LINK_X2)])
    async with ZaloRun(zs, db, {"ZALO_BOTS_FILE": str(path)}) as run:
        seen = Observed(run)
        assert [c.name for c in run.channels] == [f"zalo:{bot_a}", f"zalo:{bot_b}"]
        assert [(e.unit_code, e.link) for e in run.core.directory] == [
            ("X1", f"https://zalo.me/{bot_a}"), ("X2", LINK_X2)
        ]  # fmt: skip
        # KV05 is in X2: bot A (X1) refuses it, with bot B's link; nothing stored.
        wrong = zs.user_says(token_a, "chief5", "200/250 9h", date=at(10))
        [reply] = await zs.messages_to(token_a, "chief5", 1)
        answer = await seen.of(bot_a, wrong)
        assert (answer.status, answer.reason) == (Status.REFUSED, Refusal.WRONG_BOT)
        assert LINK_X2 in reply.text
        assert await run.core.db.area_reports("KV05") == []
        # To bot B it is stored, through bot B.
        right = zs.user_says(token_b, "chief5", "200/250 9h", date=at(10))
        await zs.messages_to(token_b, "chief5", 1)
        assert (await seen.of(bot_b, right)).status is Status.ACCEPTED
        [stored] = await run.core.db.area_reports("KV05")
        assert (stored.bot, stored.sender) == (f"zalo:{bot_b}", chief_on_b)


async def test_a_zalo_report_is_judged_with_a_telegram_report_of_the_same_area(
    zs: ZaloSandbox, sandbox: BotApiSandbox, db_target: Path | str
) -> None:
    tg_token = sandbox.create_bot(username="fieldtally_bot")
    tg_chief = sandbox.make_user(101)
    token, bot_id = zs.add_bot("bot.phalong")
    on_zalo = zalo_identity(bot_id, zs.add_user(token, "chief1"))
    db = db_target
    await prepare(db, [(Address("telegram", "101"), PHONE_KV01), (on_zalo, PHONE_KV01)])
    telegram = make_telegram_settings(sandbox, tg_token)
    async with ZaloRun(zs, db, {"ZALO_BOT_TOKEN": token}, telegram=telegram) as run:
        seen = Observed(run)
        sandbox.send_text(tg_token, tg_chief, "250/320 10h", date=at(10, 5))
        [stored] = await sandbox.wait_for(
            tg_token, lambda r: bool(r.text and "250/320" in r.text), chat_id=101
        )
        assert stored.text is not None and stored.text.startswith("✅")
        # Later on Zalo, a lower count at a later time: refused against the Telegram one.
        lower = zs.user_says(token, "chief1", "200/320 11h", date=at(11, 5))
        await zs.messages_to(token, "chief1", 1)
        answer = await seen.of(bot_id, lower)
        assert (answer.status, answer.reason) == (Status.REFUSED, Reason.LOWER_THAN_EARLIER.value)
        higher = zs.user_says(token, "chief1", "300/320 11h", date=at(11, 5))
        await zs.messages_to(token, "chief1", 2)
        assert (await seen.of(bot_id, higher)).status is Status.ACCEPTED
        reports = await run.core.db.area_reports("KV01")
        assert sorted((r.bot.split(":")[0], r.voted) for r in reports) == [
            ("telegram", 250), ("zalo", 300)
        ]  # fmt: skip


async def test_a_granted_group_subscribes_with_a_command_that_mentions_the_bot(
    zs: ZaloSandbox, db_target: Path | str
) -> None:
    token, bot_id = zs.add_bot("bot.phalong", can_join_groups=True)
    admin = zalo_identity(bot_id, zs.add_user(token, "admin"))
    db = db_target
    await prepare(db)
    async with ZaloRun(zs, db, {"ZALO_BOT_TOKEN": token, "FIELDTALLY_ADMINS": str(admin)}) as run:
        seen = Observed(run)
        assert run.channels[0].capabilities.groups
        group = zs.add_group(token, "ban-chi-dao")
        # Without the mention the platform shows the bot nothing; a message that reached it
        # without one (another bot's command) is not taken.
        unmentioned = zs.group_says(token, "ban-chi-dao", "admin", "/theodoi X1", deliver=False)
        event = zs.events(token)[-1].update
        event["message"]["text"] = "/theodoi X1"
        delivery = await zs.post_to_webhook(token, unmentioned, body=json.dumps(event).encode())
        assert delivery.status == 200
        message_id = zs.group_says(token, "ban-chi-dao", "admin", "/theodoi X1")
        [reply] = await zs.messages_to(token, group, 1)
        assert (await seen.of(bot_id, unmentioned)).replies == ()
        assert (await seen.of(bot_id, message_id)).status is Status.ACCEPTED
        assert "Xã Pha Long" in reply.text
        [subscription] = await run.core.db.subscriptions(f"zalo:{bot_id}")
        assert (subscription.chat, subscription.unit_code) == (
            zalo_identity(bot_id, group), "X1"
        )  # fmt: skip


async def test_a_bot_zalo_keeps_out_of_groups_ignores_group_messages(
    zs: ZaloSandbox, db_target: Path | str
) -> None:
    token, bot_id = zs.add_bot("bot.phalong", can_join_groups=False)
    admin = zalo_identity(bot_id, zs.add_user(token, "admin"))
    db = db_target
    await prepare(db)
    async with ZaloRun(zs, db, {"ZALO_BOT_TOKEN": token, "FIELDTALLY_ADMINS": str(admin)}) as run:
        seen = Observed(run)
        assert not run.channels[0].capabilities.groups
        # A group message the bot should never get: it is stored (acknowledged) and ignored.
        private = zs.user_says(token, "admin", "/theodoi X1", deliver=False)
        event = zs.events(token)[-1].update
        event["message"]["chat"] = {"id": "g-123", "chat_type": "GROUP"}
        event["message"]["text"] = "@bot.phalong /theodoi X1"
        assert (
            await zs.post_to_webhook(token, private, body=json.dumps(event).encode())
        ).status == 200
        # Without groups, the admin subscribes their own private chat to X1's summaries.
        asked = zs.user_says(token, "admin", "/theodoi X1", date=at(10))
        await zs.messages_to(token, "admin", 1)
        assert (await seen.of(bot_id, private)).replies == ()
        assert (await seen.of(bot_id, asked)).status is Status.ACCEPTED
        [subscription] = await run.core.db.subscriptions(f"zalo:{bot_id}")
        assert (subscription.chat, subscription.unit_code) == (admin, "X1")
