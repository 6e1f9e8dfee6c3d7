"""End to end on Zalo: the monthly quota of a bot (ZALO_MONTHLY_QUOTA, here 20).

Every successful send is counted durably (the count equals what the platform counted);
admins hear when 80% and 95% are passed, naming the bot's unit, through another bot; the
automatic summaries (text, and charts as photo URLs the platform fetches) stop with less
than 10% left while replies to reports go on; once Zalo answers 429 the bot stops sending
(no retry loop: one call, then none until the probe is due), admins are told which bot, and
reports are still stored."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.messaging.answers import Status
from handlers.zalo import ZaloChannel
from sandbox.zalo import ZaloSandbox
from tests.zalo_harness import Observed, ZaloRun, at, prepare, zalo_identity

QUOTA = 20
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
async def zs() -> AsyncIterator[ZaloSandbox]:
    async with ZaloSandbox() as sandbox:
        yield sandbox


async def test_the_quota_spares_replies_and_tells_admins(
    zs: ZaloSandbox, tmp_path: Path, db_target: Path | str
) -> None:
    token_a, bot_a = zs.add_bot("bot.phalong", can_join_groups=True)
    token_b, bot_b = zs.add_bot("bot.tangaicho")
    admin_a = zalo_identity(bot_a, zs.add_user(token_a, "admin"))
    admin_b = zalo_identity(bot_b, zs.add_user(token_b, "admin"))
    chief = zalo_identity(bot_a, zs.add_user(token_a, "chief"))
    db = db_target
    await prepare(db, [(chief, "0912345001")])
    path = tmp_path / "bots.csv"
    path.write_text(f"unit_code,token\nX1,{token_a}\nX2,{token_b}\n")
    path.chmod(0o600)
    env = {
        "ZALO_BOTS_FILE": str(path),
        "ZALO_MONTHLY_QUOTA": str(QUOTA),
        "FIELDTALLY_ADMINS": f"{admin_a},{admin_b}",
    }
    async with ZaloRun(zs, db, env, probe_every=3600.0) as run:
        seen = Observed(run)
        a: ZaloChannel = run.channel(bot_a)
        b: ZaloChannel = run.channel(bot_b)

        async def says(token: str, bot_id: str, user: str, text: str, hour: int = 11) -> Status:
            message_id = zs.user_says(token, user, text, date=at(hour))
            return (await seen.of(bot_id, message_id)).status

        async def push() -> None:
            pushes = await run.core.scheduled_pushes([a.name, b.name])
            await a.switchboard.send_all(pushes)  # what the schedule does at its hour

        # The admin opens bot B's chat (so it may write to them), and subscribes a group of A.
        assert await says(token_b, bot_b, "admin", "/start") is Status.ACCEPTED
        group = zs.add_group(token_a, "ban-chi-dao")
        subscribed = zs.group_says(token_a, "ban-chi-dao", "admin", "/theodoi X1")
        assert (await seen.of(bot_a, subscribed)).status is Status.ACCEPTED
        assert await says(token_a, bot_a, "chief", "250/320 9h") is Status.ACCEPTED

        # A summary goes out whole: its text, and its charts as URLs Zalo fetches (PNGs).
        since = zs.next_seq(token_a)
        await push()
        texts = [m for m in zs.sent_messages(token_a, group) if m.seq >= since]
        photos = [p for p in zs.sent_photos(token_a, group) if p.seq >= since]
        assert len(texts) == 1 and photos
        assert all(p.content.startswith(PNG) for p in photos)
        assert all(p.url.startswith(f"http://127.0.0.1:{run.port}/media/") for p in photos)

        # Replies use up the quota; admins hear at 80% and 95%, through bot B only.
        while a.sends_this_month < QUOTA - 1:
            assert await says(token_a, bot_a, "admin", "/huongdan") is Status.ACCEPTED
        told = await zs.messages_to(token_b, "admin", 3)  # /start's answer, then two notices
        assert ["80%" in told[1].text, "95%" in told[2].text] == [True, True]
        assert all("Xã Pha Long" in m.text for m in told[1:])
        assert not any("%" in m.text for m in zs.sent_messages(token_a, "admin"))

        # Under 10% left: the automatic summary is not started; a report is still answered.
        since = zs.next_seq(token_a)
        await push()
        assert [m for m in zs.sent_messages(token_a) if m.seq >= since] == []
        assert [p for p in zs.sent_photos(token_a) if p.seq >= since] == []
        assert not a.room_for_automatic() and b.room_for_automatic()
        assert await says(token_a, bot_a, "chief", "280/320 10h") is Status.ACCEPTED
        assert [m.text[0] for m in zs.sent_messages(token_a) if m.seq >= since] == ["✅"]

        # Every successful send counted, durably: as many as the platform counted.
        month = run.core.now().strftime("%Y-%m")
        assert await run.core.db.sends_in_month(a.name, month) == zs.quota_used(token_a) == QUOTA

        # Zalo's quota is spent: one 429, admins told which bot; then no call at all.
        zs.set_quota(token_a, zs.quota_used(token_a))
        calls = len(zs.calls("sendMessage", bot=token_a))
        assert await says(token_a, bot_a, "chief", "290/320 10h30") is Status.ACCEPTED
        spent = await zs.messages_to(token_b, "admin", 4)
        assert "Xã Pha Long" in spent[3].text and "%" not in spent[3].text
        assert await says(token_a, bot_a, "chief", "300/320 11h") is Status.ACCEPTED
        tried = zs.calls("sendMessage", bot=token_a)[calls:]
        assert [(c.http_status, c.error_code) for c in tried] == [(429, 429)]
        stored = await run.core.db.area_reports("KV01")
        assert sorted(r.voted for r in stored if r.voted is not None) == [250, 280, 290, 300]
