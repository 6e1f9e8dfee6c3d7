"""Telegram faults end to end: 429s, 502s and dropped connections on the way out, and a
flood of updates that must stay outside the bot's memory until there is room."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from handlers.telegram.application import QUEUED_UPDATES, UPDATES_IN_FLIGHT
from sandbox import BotApiSandbox
from tests.harness import PATIENCE, BotRun, at, free_port, make_run, metrics_env, scrape_until
from tests.test_e2e_concurrency import unit_file

CHIEFS = 30


async def started(
    sandbox: BotApiSandbox, db_target: Path | str, sends_per_second: float | None = None
) -> tuple[BotRun, list[int]]:
    token = sandbox.create_bot()
    extra = metrics_env(free_port())
    bot = make_run(sandbox, token, db_target, **extra)
    bot.sends_per_second = sends_per_second
    await bot.start()
    assert (await bot.import_units(unit_file(CHIEFS))).startswith("✅")
    ids = []
    for n in range(CHIEFS):
        chief = bot.user(600 + n)
        assert (await bot.share_contact(chief, f"09130{n:05d}"))[0].startswith("✅")
        ids.append(chief.id)
    return bot, ids


async def test_429_502_and_dropped_connections_every_answer_arrives_once(
    sandbox: BotApiSandbox, db_target: Path | str
) -> None:
    bot, chiefs = await started(sandbox, db_target)
    try:
        since = sandbox.outgoing(bot.token)[-1].seq + 1
        sandbox.inject_faults("sendMessage", 429, count=5, retry_after=1)
        sandbox.inject_faults("sendMessage", 502, count=15)
        sandbox.drop_connections(10, method="sendMessage")
        sandbox.inject_faults("getUpdates", 502, count=3)
        sent = []
        for step in range(3):
            for chief in chiefs:
                text = f"{100 * (step + 1)}/1000 {8 + step}h"
                message = sandbox.send_text(bot.token, chief, text, date=at(20))
                sent.append((chief, message["message_id"]))
        for chief in chiefs:
            await sandbox.wait_for(bot.token, 3, chat_id=chief, since=since, timeout=PATIENCE)
        answers = Counter(
            (r.chat_id, (r.reply_parameters or {}).get("message_id"))
            for r in sandbox.outgoing(bot.token)
            if r.seq >= since
        )
        assert set(answers) == set(sent)  # every report answered …
        assert max(answers.values()) == 1  # … exactly once
        failed = Counter(
            c.status for c in sandbox.calls(bot.token, "sendMessage") if c.status != 200
        )
        assert failed[429] == 5 and failed[502] == 15 and failed[0] == 10  # the faults happened
    finally:
        await bot.stop()


async def test_a_flood_of_updates_waits_at_telegram_not_in_memory(
    sandbox: BotApiSandbox, db_target: Path | str
) -> None:
    # Without Telegram's overall cap of 30 sends a second, so that answering the whole flood
    # afterwards takes seconds, not minutes: the bound on memory does not depend on it.
    bot, _ = await started(sandbox, db_target, sends_per_second=0)
    try:
        # Telegram is down for sending: nothing the bot handles can finish.
        sandbox.inject_faults("sendMessage", 502, count=10**9)
        flood = 3000  # 3,000 people, one message each: not one of them is flooding
        people = [sandbox.make_user(10_000 + n) for n in range(flood)]
        for person in people:
            sandbox.send_text(bot.token, person, "250/320 9h", date=at(20))
        await sandbox.wait_for_call(bot.token, "sendMessage", lambda c: c.status == 502)
        # Wait until the bot is full: no update it took can finish, so from then on it takes
        # nothing more than the one getUpdates batch its poller may hold.
        full = await scrape_until(
            bot.http_port,
            lambda s: (
                s[("fieldtally_updates_in_flight", ())] >= UPDATES_IN_FLIGHT
                and s[("fieldtally_update_queue_waiting", ())] >= QUEUED_UPDATES
            ),
        )
        assert full[("fieldtally_updates_in_flight", ())] == UPDATES_IN_FLIGHT
        assert full[("fieldtally_update_queue_waiting", ())] == QUEUED_UPDATES
        held_at_most = UPDATES_IN_FLIGHT + QUEUED_UPDATES + 100  # + one getUpdates batch
        assert sandbox.pending_updates(bot.token) >= flood - held_at_most  # the rest waited
        assert sandbox.pending_updates(bot.token) < flood  # and it did take work
        sandbox.clear_faults()
        await sandbox.wait_for(bot.token, 1, chat_id=people[-1].id, timeout=PATIENCE)
        for person in people[::100]:  # every one of them is answered once Telegram is back
            [reply] = await sandbox.wait_for(bot.token, 1, chat_id=person.id, timeout=PATIENCE)
            assert (reply.text or "").startswith("❌") and "/start" in (reply.text or "")
        # Telegram forgets the flood once the poller confirms its last update (by asking for
        # the next ones), which may come just after the last answer.
        last = sandbox.history(bot.token)[-1]["update_id"]
        await sandbox.wait_for_call(
            bot.token, "getUpdates", lambda c: int(c.params.get("offset") or 0) > last
        )
        assert sandbox.pending_updates(bot.token) == 0
    finally:
        await bot.stop()
