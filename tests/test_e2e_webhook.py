"""Webhook mode end to end: the sandbox posts updates to the real bot's webhook over loopback
(playing Telegram and the TLS proxy in front of the bot); the bot stores each update before
answering 200, refuses posts without the secret token, and loses nothing to a SIGKILL."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from telegram import Bot
from telegram.error import Conflict

from bot import texts
from handlers.telegram.render import to_html
from sandbox import BotApiSandbox
from tests.harness import (
    DATA,
    PATIENCE,
    WEBHOOK_PATH,
    WEBHOOK_PUBLIC,
    WEBHOOK_SECRET,
    BotRun,
    at,
    free_port,
    make_run,
    scrape_until,
    webhook_env,
)
from tests.test_cli import run_env
from tests.test_crash_safety import (
    answered_and_exported,
    check_stored_once,
    kill_mid_burst,
    start_bot,
    stop_bot,
)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
SMALL = (DATA / "small_tree.csv").read_bytes()


@pytest.fixture
async def hooked(sandbox: BotApiSandbox, tmp_path: Path) -> AsyncIterator[BotRun]:
    """The real bot in webhook mode, with its metrics page on (both on its one HTTP server)."""
    token = sandbox.create_bot(username="fieldtally_bot")
    extra = {**webhook_env(sandbox, free_port()), "FIELDTALLY_METRICS": "true"}
    run = make_run(sandbox, token, tmp_path / "hook.db", **extra)
    await run.start()
    try:
        yield run
    finally:
        await run.stop()


def hook_url(bot: BotRun) -> str:
    return f"http://127.0.0.1:{bot.http_port}{WEBHOOK_PATH}"


def stored_voted(db_path: Path) -> list[tuple[str, int]]:
    with sqlite3.connect(db_path) as db:
        return db.execute("SELECT area_code, voted FROM reports ORDER BY id").fetchall()


async def test_a_chief_reports_through_the_webhook(hooked: BotRun) -> None:
    sandbox, token = hooked.sandbox, hooked.token
    [set_webhook] = sandbox.calls(token, "setWebhook")
    assert set_webhook.params["url"] == WEBHOOK_PUBLIC + WEBHOOK_PATH
    assert set_webhook.params["secret_token"] == WEBHOOK_SECRET
    assert set_webhook.params["max_connections"] == 64
    assert set_webhook.params["drop_pending_updates"] is False
    assert "message" in set_webhook.params["allowed_updates"]

    assert (await hooked.import_units(SMALL)).startswith("✅")
    chief = hooked.user(101, "Lan")
    assert (await hooked.share_contact(chief, "0912345001"))[0].startswith("✅")
    [reply] = await hooked.texts_of(chief, "250/320 9h")
    assert reply.startswith("✅")
    assert stored_voted(hooked.db_path) == [("KV01", 250)]
    # Everything came by webhook: nothing polled, every update answered 2xx and dequeued.
    # (The bot's 200 for the last update and its answer travel on different connections:
    # wait for the 200 too. Updates are delivered in order, so the earlier ones are done.)
    assert sandbox.calls(token, "getUpdates") == []
    last = sandbox.history(token)[-1]["update_id"]
    await sandbox.wait_for_delivery(token, lambda d: d.delivered and d.update_id == last)
    assert sandbox.pending_updates(token) == 0
    delivered = {d.update_id for d in sandbox.webhook_deliveries(token) if d.delivered}
    assert delivered == {u["update_id"] for u in sandbox.history(token)}
    # Each handled update is marked done: the inbox empties.
    await scrape_until(
        hooked.http_port,
        lambda s: (
            s[("fieldtally_updates_handled_total", ())] == len(delivered)
            and s[("fieldtally_inbox_pending", ())] == 0
        ),
    )
    with sqlite3.connect(hooked.db_path) as db:
        assert db.execute("SELECT count(*) FROM inbox").fetchone() == (0,)


async def test_updates_sent_while_the_bot_is_down_arrive_after_its_restart(
    hooked: BotRun,
) -> None:
    sandbox, token = hooked.sandbox, hooked.token
    assert (await hooked.import_units(SMALL)).startswith("✅")
    chief = hooked.user(101, "Lan")
    assert (await hooked.share_contact(chief, "0912345001"))[0].startswith("✅")
    await hooked.stop()
    assert sandbox.calls(token, "deleteWebhook") == []  # Telegram keeps queueing meanwhile
    since = len(sandbox.webhook_deliveries(token))
    message = sandbox.send_text(token, chief, "260/320 10h", date=at(20))
    [refused] = await sandbox.wait_for_delivery(token, lambda d: d.status is None, since=since)
    assert refused.error == "Connection refused"
    await hooked.start()
    [reply] = await sandbox.wait_for(
        token,
        lambda r: (r.reply_parameters or {}).get("message_id") == message["message_id"],
        chat_id=chief.id,
    )
    assert reply.text is not None and reply.text.startswith("✅")
    assert stored_voted(hooked.db_path) == [("KV01", 260)]


def forged_start(update_id: int, user_id: int, message_id: int) -> dict[str, Any]:
    """A /start from `user_id`, as Telegram would post it."""
    user = {"id": user_id, "is_bot": False, "first_name": "Mạo danh"}
    return {
        "update_id": update_id,
        "message": {
            "message_id": message_id,
            "from": user,
            "chat": {"id": user_id, "type": "private", "first_name": "Mạo danh"},
            "date": int(at(9).timestamp()),
            "text": "/start",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    }


def inbox_has(db_path: Path, update_id: int) -> bool:
    with sqlite3.connect(db_path) as db:
        found = db.execute("SELECT 1 FROM inbox WHERE event_id = ?", (str(update_id),)).fetchone()
    return found is not None


async def test_posts_without_the_secret_token_are_refused(hooked: BotRun) -> None:
    sandbox, token = hooked.sandbox, hooked.token
    user = hooked.user(777)
    headers = {SECRET_HEADER: WEBHOOK_SECRET}
    wrong = {SECRET_HEADER: "wrong-secret_0123456789"}
    async with httpx.AsyncClient(timeout=PATIENCE) as client:
        for update_id, given in ((900_001, {}), (900_002, wrong)):
            answer = await client.post(
                hook_url(hooked), json=forged_start(update_id, user.id, update_id), headers=given
            )
            assert answer.status_code == 403
            assert not inbox_has(hooked.db_path, update_id)  # nothing stored before the check
        for body in (b"{not json", json.dumps({"message": {}}).encode()):
            answer = await client.post(hook_url(hooked), content=body, headers=headers)
            assert answer.status_code == 400
        answer = await client.post(
            hook_url(hooked), json=forged_start(900_003, user.id, 1), headers=headers
        )
        assert answer.status_code == 200
        health = await client.get(f"http://127.0.0.1:{hooked.http_port}/healthz")
        assert health.status_code == 200
    [reply] = await sandbox.wait_for(token, 1, chat_id=user.id)
    assert reply.text == to_html(texts.start(contact_button=True))
    # The chat's updates are handled in order: had a refused post been queued before the
    # accepted one, its answer would have come first.
    assert len(sandbox.outgoing(token, chat_id=user.id)) == 1
    requests = "fieldtally_webhook_requests_total"
    samples = await scrape_until(
        hooked.http_port,
        lambda s: s[(requests, (("answer", "accepted"),))] >= 1,
    )
    assert samples[(requests, (("answer", "forbidden"),))] == 2
    assert samples[(requests, (("answer", "bad_request"),))] == 2


async def test_the_webhook_and_metrics_share_the_one_http_server(hooked: BotRun) -> None:
    """One port: Telegram's posts, /metrics and /healthz; any other path is 404, and the
    webhook's path takes only POST."""
    base = f"http://127.0.0.1:{hooked.http_port}"
    async with httpx.AsyncClient(base_url=base, timeout=PATIENCE) as client:
        metrics = await client.get("/metrics")
        assert metrics.status_code == 200 and "fieldtally_updates_handled_total" in metrics.text
        assert (await client.get("/healthz")).status_code == 200
        assert (await client.get(WEBHOOK_PATH)).status_code == 405
        for path in ("/", "/telegram/webhook", "/metrics/x", WEBHOOK_PATH + "/x"):
            answer = await client.post(path, json={}, headers={SECRET_HEADER: WEBHOOK_SECRET})
            assert answer.status_code == 404, path
        forbidden = await client.post(WEBHOOK_PATH, json={"update_id": 1})
        assert forbidden.status_code == 403  # the webhook itself is there, behind its secret


async def test_get_updates_conflicts_while_the_webhook_is_set(hooked: BotRun) -> None:
    sandbox = hooked.sandbox
    async with Bot(hooked.token, base_url=sandbox.base_url) as other:
        with pytest.raises(Conflict, match="webhook is active"):
            await other.get_updates()
        info = await other.get_webhook_info()
    assert info.url == WEBHOOK_PUBLIC + WEBHOOK_PATH and info.max_connections == 64


async def test_sigkill_loses_no_update_the_webhook_acknowledged(tmp_path: Path) -> None:
    async with BotApiSandbox() as sandbox:
        token = sandbox.create_bot()
        env = {**run_env(tmp_path, sandbox, token), **webhook_env(sandbox, free_port())}
        bot = await start_bot(env, tmp_path)
        try:
            burst, answered_before = await kill_mid_burst(sandbox, token, bot)
            message_of = {
                u["update_id"]: (u["message"]["chat"]["id"], u["message"]["message_id"])
                for u in sandbox.history(token)
                if "text" in u.get("message", {})
            }
            acknowledged_by_webhook = {
                message_of[d.update_id]
                for d in sandbox.webhook_deliveries(token)
                if d.delivered and d.update_id in message_of
            }
            # Telegram has forgotten these, unanswered: only the inbox can bring them back.
            assert acknowledged_by_webhook - answered_before
            bot = await start_bot(env, tmp_path)
            export = await answered_and_exported(sandbox, token, burst)
        finally:
            await stop_bot(bot)
    check_stored_once(export, tmp_path / "cli.db", answered_before)
