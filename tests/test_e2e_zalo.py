"""End to end on Zalo: the real bot process against the Zalo sandbox over loopback HTTP.

What only a Zalo round trip shows: reports and refusals by a registered chief answered in
plain text (the first reply saying the bot is automated), the webhook's guards (the wrong or
a missing secret: 403 and nothing stored; an unknown bot: 404; not JSON: 400), wrapped and
bare payloads, a duplicate delivery taking effect once, a long answer split at 2,000 UTF-16
units, hints for pictures, stickers and other messages, 5xx answers retried, a rejected
token stopping the process with one line, and polling (with its warning) without
FIELDTALLY_PUBLIC_URL. The rules themselves are proven through the in-memory channel."""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot import texts
from bot.messaging.answers import Answer, Refusal, Status
from bot.messaging.inbox import Inbox
from bot.messaging.marked import plain
from bot.turnout.rules import Reason
from handlers.zalo.channel import rejected_token
from handlers.zalo.render import plain_messages, utf16_len
from sandbox.zalo import ZaloSandbox
from storage.database import Database
from tests.harness import ELECTION_DAY, PATIENCE, SAMPLE, free_port
from tests.test_cli import clean_env
from tests.zalo_harness import (
    HOOK_SECRET,
    Captured,
    Observed,
    ZaloRun,
    at,
    prepare,
    zalo_identity,
)

PHONE_KV01 = "0912345001"


@pytest.fixture
async def zs() -> AsyncIterator[ZaloSandbox]:
    async with ZaloSandbox() as sandbox:
        yield sandbox


class Bot:
    """The running bot, one Zalo bot in it, and what it answered (typed), by event."""

    def __init__(self, run: ZaloRun, token: str, bot_id: str) -> None:
        self.run, self.token, self.bot_id = run, token, bot_id
        self.seen = Observed(run)

    async def answer(self, message_id: str, event: str = "message.text.received") -> Answer:
        return await self.seen.of(self.bot_id, message_id, event)

    async def says(self, user: str, text: str, count: int = 1) -> tuple[Answer, list[str]]:
        """`user` writes `text`; the typed answer and the `count` texts the bot sent back."""
        zs = self.run.zs
        since = zs.next_seq(self.token)
        message_id = zs.user_says(self.token, user, text, date=at(10))
        answer = await self.answer(message_id)
        sent = [m for m in zs.sent_messages(self.token) if m.seq >= since]
        assert len(sent) == count, [m.text for m in sent]
        return answer, [m.text for m in sent]

    async def reports(self, area: str) -> list[tuple[str, str, int]]:
        """(sender, bot, voted) of the area's stored reports, oldest first (SQLite or
        PostgreSQL: read through the store)."""
        stored = await self.run.core.db.area_reports(area)
        return [(str(r.sender), r.bot, int(r.voted or 0)) for r in stored]

    async def inbox_size(self) -> int:
        return len(await self.run.core.db.inbox_pending(f"zalo:{self.bot_id}"))


async def start(
    zs: ZaloSandbox, db: Path | str, *, units: Path | None = None, **env: str
) -> tuple[ZaloRun, Bot]:
    token, bot_id = zs.add_bot("fieldtally.bot")
    chief = zalo_identity(bot_id, zs.add_user(token, "chief"))
    admin = zalo_identity(bot_id, zs.add_user(token, "admin"))
    await prepare(db, [(chief, PHONE_KV01)], **({"units": units} if units else {}))
    run = ZaloRun(zs, db, {"ZALO_BOT_TOKEN": token, "FIELDTALLY_ADMINS": str(admin), **env})
    await run.start()
    return run, Bot(run, token, bot_id)


@pytest.fixture
async def bot(zs: ZaloSandbox, db_target: Path | str) -> AsyncIterator[Bot]:
    run, started = await start(zs, db_target)
    try:
        yield started
    finally:
        await run.stop()


async def test_a_chief_reports_and_is_answered_in_plain_text(bot: Bot) -> None:
    answer, [first] = await bot.says("chief", "250/320 9h")
    assert answer.status is Status.ACCEPTED
    # The first reply to someone new says the bot is automated (Zalo's terms), once.
    assert first.startswith(plain(texts.AUTOMATED_SYSTEM))
    assert "\ue000" not in first and "<b>" not in first  # plain text: no markup
    answer, [second] = await bot.says("chief", "280/320 10h")
    assert answer.status is Status.ACCEPTED
    assert not second.startswith(plain(texts.AUTOMATED_SYSTEM)) and second.startswith("✅")
    chief = str(zalo_identity(bot.bot_id, bot.run.zs.user_id(bot.token, "chief")))
    assert await bot.reports("KV01") == [
        (chief, f"zalo:{bot.bot_id}", 250),
        (chief, f"zalo:{bot.bot_id}", 280),
    ]


async def test_an_events_millisecond_date_and_string_ids_are_read_as_sent(bot: Bot) -> None:
    """A report without a stated time is stored at the event's `date` (Zalo's milliseconds);
    the message id is kept as the string Zalo gave."""
    zs = bot.run.zs
    sent = at(9, 17).replace(second=41)
    message_id = zs.user_says(bot.token, "chief", "250/320", date=sent)
    assert isinstance(message_id, str)
    assert zs.events(bot.token)[-1].update["message"]["date"] == int(sent.timestamp() * 1000)
    assert (await bot.answer(message_id)).status is Status.ACCEPTED
    [stored] = await bot.run.core.db.area_reports("KV01")
    minute = int(sent.replace(second=0).timestamp())  # reports are kept to the minute
    assert (stored.at, stored.time_stated) == (minute, False)
    assert stored.message_ref == message_id


async def test_a_refused_report_stores_nothing(bot: Bot) -> None:
    answer, [reply] = await bot.says("chief", "400/320 9h")
    assert (answer.status, answer.reason) == (Status.REFUSED, Reason.VOTED_OVER_LIST.value)
    assert "❌" in reply
    assert await bot.reports("KV01") == []


async def test_someone_unregistered_is_told_so(bot: Bot) -> None:
    answer, _ = await bot.says("stranger", "250/320 9h")
    assert (answer.status, answer.reason) == (Status.REFUSED, Refusal.NOT_REGISTERED)


async def test_a_duplicate_delivery_takes_effect_once(bot: Bot) -> None:
    zs = bot.run.zs
    answer, _ = await bot.says("chief", "250/320 9h")
    assert answer.status is Status.ACCEPTED
    message_id = zs.events(bot.token)[-1].message_id
    since = zs.next_seq(bot.token)
    delivered = len(zs.webhook_deliveries(bot.token))
    zs.redeliver(bot.token, message_id)
    [again] = await zs.wait_for_delivery(bot.token, lambda d: d.duplicate, since=delivered)
    assert again.status == 200  # acknowledged, and dropped
    barrier = zs.user_says(bot.token, "chief", "/huongdan")
    await bot.answer(barrier)  # the chat's events in order: the duplicate would be before
    sent = [m for m in zs.sent_messages(bot.token) if m.seq >= since]
    assert len(sent) == 1  # the barrier's answer only: nothing for the duplicate
    assert [voted for _, _, voted in await bot.reports("KV01")] == [250]


async def test_the_webhook_refuses_what_is_not_zalos(bot: Bot) -> None:
    zs = bot.run.zs
    message_id = zs.user_says(bot.token, "chief", "250/320 9h", deliver=False)
    for secret in ("not-the-secret", None):
        refused = await zs.post_to_webhook(bot.token, message_id, secret=secret)
        assert refused.status == 403
    assert await bot.inbox_size() == 0 and await bot.reports("KV01") == []
    url = zs.webhook_url(bot.token)
    assert url is not None and url.endswith(f"/zalo/{bot.bot_id}")
    unknown = await zs.post_to_webhook(bot.token, message_id, url=url.replace(bot.bot_id, "999"))
    assert unknown.status == 404
    garbage = await zs.post_to_webhook(bot.token, message_id, body=b"not json {")
    assert garbage.status == 400
    not_an_event = await zs.post_to_webhook(bot.token, message_id, body=b'{"ok": true}')
    assert not_an_event.status == 400
    assert await bot.reports("KV01") == []


@pytest.mark.parametrize("form", ["wrapped", "bare"])
async def test_wrapped_and_bare_payloads_are_both_read(bot: Bot, form: str) -> None:
    bot.run.zs.set_webhook_form(bot.token, form)  # type: ignore[arg-type]
    answer, _ = await bot.says("chief", "250/320 9h")
    assert answer.status is Status.ACCEPTED
    assert {d.form for d in bot.run.zs.webhook_deliveries(bot.token)} == {form}


async def test_pictures_stickers_and_other_messages_get_a_hint(bot: Bot) -> None:
    zs = bot.run.zs
    kinds = [
        ("message.image.received", lambda: zs.user_sends_image(
            bot.token, "chief", "https://example.org/a.jpg", "250/320 9h")),
        ("message.sticker.received", lambda: zs.user_sends_sticker(bot.token, "chief")),
        ("message.unsupported.received", lambda: zs.user_sends_unsupported(bot.token, "chief")),
    ]  # fmt: skip
    hints = []
    for event, send in kinds:
        since = zs.next_seq(bot.token)
        message_id = send()
        answer = await bot.answer(message_id, event)
        [hint] = [m for m in zs.sent_messages(bot.token) if m.seq >= since]
        assert (answer.status, answer.reason) == (Status.REFUSED, Refusal.TEXT_ONLY)
        hints.append(hint.text)
    assert len(set(hints)) == 3  # each says what it is about
    assert await bot.reports("KV01") == []  # the picture's caption is not a report


async def test_a_long_answer_is_split_at_2000_utf16_units(
    zs: ZaloSandbox, db_target: Path | str
) -> None:
    run, bot = await start(zs, db_target, units=SAMPLE)
    try:
        since = zs.next_seq(bot.token)
        message_id = zs.user_says(bot.token, "admin", "/chuabaocao MK", date=at(10))
        answer = await bot.answer(message_id)
        assert answer.status is Status.ACCEPTED
        [whole] = answer.texts
        sent = [m.text for m in zs.sent_messages(bot.token) if m.seq >= since]
        assert len(sent) == len(plain_messages(whole)) > 1
        assert all(utf16_len(text) <= 2000 for text in sent)
        assert "\n".join(sent) == plain(whole)  # cut between lines, nothing lost
        assert sent[0].startswith(plain(texts.AUTOMATED_SYSTEM))
        # "Typing…" while a command runs: free, not counted against the quota.
        assert [a.action for a in zs.chat_actions(bot.token)] == ["typing"]
        assert zs.quota_used(bot.token) == len(sent)
    finally:
        await run.stop()


async def test_server_errors_are_retried_until_the_reply_goes_out(bot: Bot) -> None:
    zs = bot.run.zs
    before = len(zs.calls("sendMessage", bot=bot.token))
    zs.fail_next("sendMessage", 2, status=502)
    answer, [reply] = await bot.says("chief", "250/320 9h")
    assert answer.status is Status.ACCEPTED and "✅" in reply
    attempts = zs.calls("sendMessage", bot=bot.token)[before:]
    assert [c.http_status for c in attempts[:3]] == [502, 502, 200]


async def test_a_rejected_token_stops_the_bot_with_one_line(
    zs: ZaloSandbox, tmp_path: Path
) -> None:
    """`fieldtally run` itself: the process ends at once, one line on stderr, no token."""
    _, bot_id = zs.add_bot("fieldtally.bot")
    wrong = f"{bot_id}:not-its-secret"
    await prepare(tmp_path / "cli.db")
    env = clean_env(tmp_path, ZALO_BOT_TOKEN=wrong, ZALO_API_URL=zs.url, FIELDTALLY_ADMINS="1")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "fieldtally", "run", cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), timeout=PATIENCE)
    assert process.returncode not in (0, None)
    errors = [line for line in err.decode().splitlines() if line.startswith("fieldtally:")]
    assert errors == [
        f"fieldtally: Zalo rejected the token of bot {bot_id} (ZALO_BOT_TOKEN or "
        "ZALO_BOTS_FILE): revoked or mistyped"
    ], err.decode()
    assert "not-its-secret" not in (out + err).decode()
    assert [(c.method, c.error_code) for c in zs.calls()] == [("getMe", 401)]  # at once


async def test_a_token_rejected_in_the_middle_of_a_run_stops_the_bot_with_one_line(
    zs: ZaloSandbox, tmp_path: Path
) -> None:
    """`fieldtally run` serving by webhook: a 401 on a send (the token revoked while the bot
    runs) ends the process, one line on stderr naming the bot, never its token; what was
    stored before stays stored."""
    token, bot_id = zs.add_bot("fieldtally.bot")
    chief = zalo_identity(bot_id, zs.add_user(token, "chief"))
    await prepare(tmp_path / "cli.db", [(chief, PHONE_KV01)])
    port = free_port()
    env = clean_env(
        tmp_path, ZALO_BOT_TOKEN=token, ZALO_API_URL=zs.url, FIELDTALLY_ADMINS="1",
        ZALO_WEBHOOK_SECRET=HOOK_SECRET, FIELDTALLY_PUBLIC_URL=f"http://127.0.0.1:{port}",
        FIELDTALLY_HTTP_PORT=str(port), FIELDTALLY_ELECTION_DATE=ELECTION_DAY.isoformat(),
        FIELDTALLY_SCHEDULE="",
    )  # fmt: skip
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "fieldtally", "run", cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        await zs.wait_for_call("setWebhook", lambda c: c.ok is True, bot=token, timeout=PATIENCE)
        zs.fail_next("sendMessage", status=401, http_status=200)  # only the envelope tells
        zs.user_says(token, "chief", "250/320 9h", date=at(10))
        out, err = await asyncio.wait_for(process.communicate(), timeout=PATIENCE)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode not in (0, None)
    errors = [line for line in err.decode().splitlines() if line.startswith("fieldtally:")]
    assert errors == [rejected_token(bot_id)], err.decode()
    assert token.split(":")[1] not in (out + err).decode()
    assert [(c.method, c.error_code) for c in zs.calls("sendMessage")] == [("sendMessage", 401)]
    with sqlite3.connect(tmp_path / "cli.db") as connection:
        stored = connection.execute("SELECT voted FROM reports WHERE area_code = 'KV01'")
        assert [int(voted) for (voted,) in stored] == [250]


async def test_without_a_public_url_the_bot_polls_and_warns(
    zs: ZaloSandbox, db_target: Path | str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="handlers.zalo.channel")
    captured = Captured()
    logging.getLogger("handlers.zalo.channel").addHandler(captured)
    token, bot_id = zs.add_bot("fieldtally.bot")
    chief = zalo_identity(bot_id, zs.add_user(token, "chief"))
    db = db_target
    await prepare(db, [(chief, PHONE_KV01)])
    run = ZaloRun(zs, db, {"ZALO_BOT_TOKEN": token}, webhook=False)
    try:
        await run.start()
        bot = Bot(run, token, bot_id)
        assert zs.webhook_url(token) is None  # deleteWebhook first
        answer, _ = await bot.says("chief", "250/320 9h")
        assert answer.status is Status.ACCEPTED
    finally:
        await run.stop()
        logging.getLogger("handlers.zalo.channel").removeHandler(captured)
    assert any("polling" in line and "lost" in line for line in captured.lines)
    assert token.split(":")[1] not in caplog.text


async def test_an_event_stored_before_a_crash_is_handled_at_the_next_start(
    zs: ZaloSandbox, db_target: Path | str
) -> None:
    """Acknowledged means stored: what the last run stored and did not handle (it crashed
    after the 200) is handled when the bot starts again, once."""
    token, bot_id = zs.add_bot("fieldtally.bot")
    chief = zalo_identity(bot_id, zs.add_user(token, "chief"))
    db = db_target
    await prepare(db, [(chief, PHONE_KV01)])
    message_id = zs.user_says(token, "chief", "250/320 9h", date=at(10), deliver=False)
    event = zs.events(token)[-1].update
    database = await Database.open(db)
    try:
        inbox = Inbox(database, f"zalo:{bot_id}")
        key = f"message.text.received:{message_id}"
        assert len(await inbox.store_new([(key, json.dumps(event))], remember=3600)) == 1
    finally:
        await database.close()
    run = ZaloRun(zs, db, {"ZALO_BOT_TOKEN": token})
    async with run:
        bot = Bot(run, token, bot_id)
        assert (await bot.answer(message_id)).status is Status.ACCEPTED
        # Zalo delivering it again now (it never saw the 200) changes nothing.
        delivery = await zs.post_to_webhook(token, message_id)
        assert delivery.status == 200
        assert [voted for _, _, voted in await bot.reports("KV01")] == [250]
        assert len(zs.sent_messages(token)) == 1
