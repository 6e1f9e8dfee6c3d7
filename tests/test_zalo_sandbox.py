"""The Zalo Bot Platform sandbox, driven over real HTTP with aiohttp as a Zalo client would:
envelopes, one event per getUpdates and 408 after the timeout, webhooks (secret, wrapped or
bare, retries, duplicates), sendPhoto fetching its URL, the 2,000-unit limit, the monthly
quota, groups and mentions, and faults on demand. A small aiohttp app on loopback plays the
bot's side (its webhook route and its media server)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import struct
import sys
import zlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from hypothesis import given
from hypothesis import strategies as st

from sandbox.text import image_size
from sandbox.zalo import (
    MAX_TEXT,
    SECRET_HEADER,
    WEBHOOK_ATTEMPTS,
    WebhookDelivery,
    ZaloSandbox,
)
from sandbox.zalo.wire import ApiError, check_text, webhook_body

ROOT = Path(__file__).resolve().parents[1]
SECRET = "s3cret-webhook-token"


def png(width: int, height: int) -> bytes:
    """A valid, tiny grey PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


CHART = png(40, 30)


@dataclass
class Client:
    """A bot's side of the API: ``call`` returns the HTTP status and the decoded body."""

    session: aiohttp.ClientSession
    root: str
    token: str

    async def call(self, method: str, **params: Any) -> tuple[int, dict[str, Any]]:
        async with self.session.post(f"{self.root}/bot{self.token}/{method}", json=params) as r:
            body: dict[str, Any] = await r.json()
            return r.status, body

    async def result(self, method: str, **params: Any) -> Any:
        status, body = await self.call(method, **params)
        assert (status, body["ok"]) == (200, True), body
        return body["result"]

    async def error(self, method: str, **params: Any) -> tuple[int, int]:
        """A refused call: (HTTP status, error_code)."""
        status, body = await self.call(method, **params)
        assert body["ok"] is False, body
        assert isinstance(body["description"], str) and body["description"]
        return status, body["error_code"]


@dataclass
class BotSide:
    """The bot's HTTP server: its webhook route (checks the secret as fieldtally must: 403;
    an unknown bot id: 404; not JSON: 400) and a media route serving a PNG."""

    url: str
    bot_ids: set[str]
    answers: list[int] = field(default_factory=list)  # statuses to answer next, then 200
    received: list[Any] = field(default_factory=list)

    async def webhook(self, request: web.Request) -> web.Response:
        if request.match_info["bot_id"] not in self.bot_ids:
            return web.Response(status=404)
        if request.headers.get(SECRET_HEADER) != SECRET:
            return web.Response(status=403)
        try:
            body = json.loads(await request.read())
        except ValueError:
            return web.Response(status=400)
        status = self.answers.pop(0) if self.answers else 200
        if status == 200:
            self.received.append(body)
        return web.Response(status=status)

    async def media(self, request: web.Request) -> web.Response:
        if request.match_info["name"] == "chart.png":
            return web.Response(body=CHART, content_type="image/png")
        if request.match_info["name"] == "page.html":
            return web.Response(text="<html></html>", content_type="text/html")
        return web.Response(status=404)


@pytest.fixture
async def zs() -> AsyncIterator[ZaloSandbox]:
    async with ZaloSandbox() as server:
        yield server


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


@pytest.fixture
def bot(zs: ZaloSandbox) -> tuple[str, str]:
    return zs.add_bot("bot.fieldtally")


@pytest.fixture
def client(zs: ZaloSandbox, session: aiohttp.ClientSession, bot: tuple[str, str]) -> Client:
    return Client(session, zs.url, bot[0])


@pytest.fixture
async def side(bot: tuple[str, str]) -> AsyncIterator[BotSide]:
    app = web.Application()
    runner = web.AppRunner(app)
    served = BotSide("", {bot[1]})
    app.router.add_post("/zalo/{bot_id}", served.webhook)
    app.router.add_get("/media/{name}", served.media)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    served.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    yield served
    await runner.cleanup()


# --- envelopes, getMe, tokens ---------------------------------------------------------------


async def test_get_me_answers_the_bot_profile_in_the_envelope(
    client: Client, bot: tuple[str, str]
) -> None:
    me = await client.result("getMe")
    assert me == {
        "id": bot[1],
        "account_name": "bot.fieldtally",
        "account_type": "BASIC",
        "can_join_groups": False,
    }
    token, bot_id = bot
    assert token.split(":")[0] == bot_id and bot_id.isdigit()


async def test_unknown_token_method_or_body_is_an_error_envelope_with_http_200(
    zs: ZaloSandbox, session: aiohttp.ClientSession, client: Client
) -> None:
    stranger = Client(session, zs.url, "999:not-a-bot")
    assert await stranger.error("getMe") == (200, 401)
    assert await client.error("getChatMembers") == (200, 404)
    url = f"{zs.url}/bot{client.token}/sendMessage"
    async with session.post(url, data=b"{not json", headers={"Content-Type": "application/json"}):
        pass
    [call] = zs.calls("sendMessage")
    assert (call.http_status, call.error_code) == (200, 400)
    assert zs.calls("getMe")[0].bot_id is None  # the stranger's call, not tied to any bot


# --- getUpdates -----------------------------------------------------------------------------


async def test_get_updates_returns_one_event_per_call_in_order(
    zs: ZaloSandbox, client: Client, bot: tuple[str, str]
) -> None:
    first = zs.user_says(bot[0], "lan", "250/320 9h", display_name="Lò Thị Lan")
    second = zs.user_says(bot[0], "lan", "/tonghop")
    one = await client.result("getUpdates", timeout=0)
    two = await client.result("getUpdates", timeout="0")  # clients send it as a string too
    assert one == {
        "event_name": "message.text.received",
        "message": {
            "from": {
                "id": zs.user_id(bot[0], "lan"),
                "display_name": "Lò Thị Lan",
                "is_bot": False,
            },
            "chat": {"id": zs.user_id(bot[0], "lan"), "chat_type": "PRIVATE"},
            "message_id": first,
            "date": one["message"]["date"],
            "text": "250/320 9h",
        },
    }
    assert isinstance(one["message"]["date"], int) and one["message"]["date"] > 10**12  # ms
    assert (two["message"]["message_id"], two["message"]["text"]) == (second, "/tonghop")
    assert await client.error("getUpdates", timeout=0) == (200, 408)


async def test_a_long_poll_gets_the_event_that_arrives_while_it_waits(
    zs: ZaloSandbox, client: Client, bot: tuple[str, str]
) -> None:
    poll = asyncio.create_task(client.result("getUpdates", timeout=30))
    await zs.wait_for_call("getUpdates", lambda call: not call.done)
    message_id = zs.user_says(bot[0], "lan", "xin chào")
    update = await poll
    assert update["message"]["message_id"] == message_id


async def test_get_updates_answers_408_once_its_timeout_passed(
    zs: ZaloSandbox, client: Client
) -> None:
    assert await client.error("getUpdates", timeout=0.05) == (200, 408)


async def test_unpolled_events_are_kept_unless_lost_like_on_the_platform(
    zs: ZaloSandbox, client: Client, bot: tuple[str, str]
) -> None:
    kept = zs.user_says(bot[0], "lan", "one")
    assert (await client.result("getUpdates", timeout=0))["message"]["message_id"] == kept

    zs.lose_unpolled = True
    zs.user_says(bot[0], "lan", "nobody polls")
    assert zs.events(bot[0])[-1].lost
    assert await client.error("getUpdates", timeout=0) == (200, 408)
    poll = asyncio.create_task(client.result("getUpdates", timeout=30))
    await zs.wait_for_call("getUpdates", lambda call: not call.done)
    heard = zs.user_says(bot[0], "lan", "while polling")
    assert (await poll)["message"]["message_id"] == heard


async def test_a_person_has_a_different_id_on_each_bot(zs: ZaloSandbox) -> None:
    one, _ = zs.add_bot("bot.one")
    two, _ = zs.add_bot("bot.two")
    assert zs.user_id(one, "lan") != zs.user_id(two, "lan")
    assert zs.user_id(one, "lan") == zs.user_id(one, "lan")
    assert zs.user_id(one, "lan") != zs.user_id(one, "minh")


# --- webhooks -------------------------------------------------------------------------------


async def test_set_webhook_checks_url_and_secret_and_excludes_polling(
    zs: ZaloSandbox, client: Client, bot: tuple[str, str], side: BotSide
) -> None:
    url = f"{side.url}/zalo/{bot[1]}"
    assert await client.error("setWebhook", url=url, secret_token="short") == (200, 400)
    assert await client.error("setWebhook", url=url, secret_token="x" * 257) == (200, 400)
    plain = "http://example.org/zalo/1"  # http only on loopback
    assert await client.error("setWebhook", url=plain, secret_token=SECRET) == (200, 400)
    assert await client.result("getWebhookInfo") == {"url": "", "updated_at": None}

    result = await client.result("setWebhook", url=url, secret_token=SECRET)
    assert result["url"] == url and isinstance(result["updated_at"], int)
    assert (await client.result("getWebhookInfo"))["url"] == url
    assert await client.error("getUpdates", timeout=0) == (200, 409)

    deleted = await client.result("deleteWebhook")
    assert deleted["url"] == "" and (await client.result("getWebhookInfo"))["url"] == ""
    assert await client.error("getUpdates", timeout=0) == (200, 408)


@pytest.mark.parametrize("form", ["wrapped", "bare"])
async def test_events_are_posted_to_the_webhook_with_the_secret(
    zs: ZaloSandbox, client: Client, bot: tuple[str, str], side: BotSide, form: str
) -> None:
    zs.set_webhook_form(bot[0], "wrapped" if form == "wrapped" else "bare")
    waiting = zs.user_says(bot[0], "lan", "before the webhook")  # kept, then posted
    await client.result("setWebhook", url=f"{side.url}/zalo/{bot[1]}", secret_token=SECRET)
    after = zs.user_says(bot[0], "lan", "after")
    deliveries = await zs.wait_for_delivery(bot[0], count=2)
    assert [(d.message_id, d.status, d.secret, d.form) for d in deliveries] == [
        (waiting, 200, "right", form),
        (after, 200, "right", form),
    ]
    bare = [body["result"] if form == "wrapped" else body for body in side.received]
    if form == "wrapped":
        assert all(body["ok"] is True for body in side.received)
    assert [b["message"]["text"] for b in bare] == ["before the webhook", "after"]
    assert bare[0]["event_name"] == "message.text.received"


async def test_a_delivery_answered_non_2xx_is_retried_then_given_up(
    zs: ZaloSandbox, client: Client, bot: tuple[str, str], side: BotSide
) -> None:
    await client.result("setWebhook", url=f"{side.url}/zalo/{bot[1]}", secret_token=SECRET)
    side.answers = [500, 503]
    retried = zs.user_says(bot[0], "lan", "retried")
    [delivered] = await zs.wait_for_delivery(bot[0])
    attempts = [(d.attempt, d.status) for d in zs.webhook_deliveries(bot[0])]
    assert attempts == [(1, 500), (2, 503), (3, 200)]
    assert delivered.message_id == retried

    side.answers = [500] * WEBHOOK_ATTEMPTS
    lost = zs.user_says(bot[0], "lan", "given up")
    failed = await zs.wait_for_delivery(
        bot[0], lambda d: d.message_id == lost, count=WEBHOOK_ATTEMPTS
    )
    assert [d.status for d in failed] == [500] * WEBHOOK_ATTEMPTS
    assert zs.events(bot[0])[-1].given_up


async def test_hand_made_posts_record_what_the_webhook_answered(
    zs: ZaloSandbox, client: Client, bot: tuple[str, str], side: BotSide
) -> None:
    await client.result("setWebhook", url=f"{side.url}/zalo/{bot[1]}", secret_token=SECRET)
    message_id = zs.user_says(bot[0], "lan", "250/320 9h", deliver=False)
    wrong = await zs.post_to_webhook(bot[0], message_id, secret="not-the-secret")
    missing = await zs.post_to_webhook(bot[0], message_id, secret=None)
    not_json = await zs.post_to_webhook(bot[0], message_id, body=b"<xml/>")
    other_bot = await zs.post_to_webhook(bot[0], message_id, url=f"{side.url}/zalo/12345")
    bare = await zs.post_to_webhook(bot[0], message_id, form="bare")
    assert [(d.secret, d.status) for d in (wrong, missing, not_json, other_bot, bare)] == [
        ("wrong", 403),
        ("missing", 403),
        ("right", 400),
        ("right", 404),
        ("right", 200),
    ]
    assert side.received == [zs.events(bot[0])[-1].update]
    assert zs.webhook_deliveries(bot[0]) == [wrong, missing, not_json, other_bot, bare]


async def test_a_redelivered_event_arrives_twice_with_the_same_message_id(
    zs: ZaloSandbox, client: Client, bot: tuple[str, str], side: BotSide
) -> None:
    await client.result("setWebhook", url=f"{side.url}/zalo/{bot[1]}", secret_token=SECRET)
    message_id = zs.user_says(bot[0], "lan", "250/320 9h")
    await zs.wait_for_delivery(bot[0])
    zs.redeliver(bot[0], message_id)
    deliveries: list[WebhookDelivery] = await zs.wait_for_delivery(bot[0], count=2)
    assert [(d.message_id, d.duplicate) for d in deliveries] == [
        (message_id, False),
        (message_id, True),
    ]
    assert side.received[0] == side.received[1]


async def test_a_public_https_webhook_is_served_through_a_route(
    zs: ZaloSandbox, client: Client, bot: tuple[str, str], side: BotSide
) -> None:
    zs.route_webhook("https://bot.example.org", side.url)
    url = f"https://bot.example.org/zalo/{bot[1]}"
    await client.result("setWebhook", url=url, secret_token=SECRET)
    zs.user_says(bot[0], "lan", "qua https")
    [delivery] = await zs.wait_for_delivery(bot[0])
    assert (delivery.url, delivery.status) == (url, 200)


# --- sending --------------------------------------------------------------------------------


async def test_send_message_is_limited_to_2000_utf16_units(
    zs: ZaloSandbox, client: Client, bot: tuple[str, str]
) -> None:
    zs.user_says(bot[0], "lan", "/start")
    chat = zs.user_id(bot[0], "lan")
    sent = await client.result("sendMessage", chat_id=chat, text="a" * 2000)
    assert isinstance(sent["message_id"], str) and isinstance(sent["date"], int)
    await client.result("sendMessage", chat_id=chat, text="🎉" * 1000)  # 2 units each
    assert await client.error("sendMessage", chat_id=chat, text="a" * 2001) == (200, 400)
    assert await client.error("sendMessage", chat_id=chat, text="🎉" * 1000 + "a") == (200, 400)
    assert await client.error("sendMessage", chat_id=chat, text="") == (200, 400)
    texts = [m.text for m in await zs.messages_to(bot[0], "lan", 2)]
    assert texts == ["a" * 2000, "🎉" * 1000]
    assert zs.quota_used(bot[0]) == 2


async def test_a_bot_writes_only_to_chats_it_knows_and_ids_are_strings(
    zs: ZaloSandbox, client: Client, bot: tuple[str, str]
) -> None:
    zs.add_user(bot[0], "minh")  # known to the bot, but never wrote to it
    assert await client.error("sendMessage", chat_id=zs.user_id(bot[0], "minh"), text="hi") == (
        200,
        400,
    )
    zs.user_says(bot[0], "minh", "hi")
    assert await client.error("sendMessage", chat_id=12345, text="hi") == (200, 400)
    await client.result("sendMessage", chat_id=zs.user_id(bot[0], "minh"), text="chào")


async def test_send_photo_fetches_the_url_at_once(
    zs: ZaloSandbox, client: Client, bot: tuple[str, str], side: BotSide
) -> None:
    zs.user_says(bot[0], "lan", "/tonghop")
    chat = zs.user_id(bot[0], "lan")
    url = f"{side.url}/media/chart.png"
    await client.result("sendPhoto", chat_id=chat, photo=url, caption="Tỷ lệ cử tri")
    [photo] = await zs.photos_to(bot[0], "lan")
    assert (photo.url, photo.caption, photo.content_type) == (url, "Tỷ lệ cử tri", "image/png")
    assert photo.content == CHART and image_size(photo.content) == (40, 30)

    missing = f"{side.url}/media/gone.png"
    assert await client.error("sendPhoto", chat_id=chat, photo=missing) == (200, 400)
    page = f"{side.url}/media/page.html"
    assert await client.error("sendPhoto", chat_id=chat, photo=page) == (200, 400)
    outside = "https://media.example.org/chart.png"  # no route: unreachable for the sandbox
    assert await client.error("sendPhoto", chat_id=chat, photo=outside) == (200, 400)
    fetches = zs.photo_fetches(bot[0])
    assert [(f.status, f.ok) for f in fetches] == [
        (200, True),
        (404, False),
        (200, False),
        (None, False),
    ]
    assert zs.quota_used(bot[0]) == 1  # failed sends are not counted


async def test_the_monthly_quota_ends_in_429_until_reset(
    zs: ZaloSandbox, client: Client, bot: tuple[str, str], side: BotSide
) -> None:
    zs.user_says(bot[0], "lan", "/start")
    chat = zs.user_id(bot[0], "lan")
    zs.set_quota(bot[0], 2)
    await client.result("sendMessage", chat_id=chat, text="1")
    await client.result("sendChatAction", chat_id=chat, action="typing")  # free
    await client.result("sendPhoto", chat_id=chat, photo=f"{side.url}/media/chart.png")
    assert zs.quota_used(bot[0]) == 2
    assert await client.error("sendMessage", chat_id=chat, text="3") == (429, 429)
    assert await client.error("sendPhoto", chat_id=chat, photo=f"{side.url}/media/chart.png") == (
        429,
        429,
    )
    assert await client.result("sendChatAction", chat_id=chat, action="typing") is True
    zs.reset_quota(bot[0])
    await client.result("sendMessage", chat_id=chat, text="a new month")
    assert [m.text for m in zs.sent_messages(bot[0], "lan")] == ["1", "a new month"]
    assert len(zs.chat_actions(bot[0])) == 2


# --- groups and other events ----------------------------------------------------------------


async def test_a_bot_in_a_group_sees_only_messages_that_mention_it(
    zs: ZaloSandbox, session: aiohttp.ClientSession
) -> None:
    lonely, _ = zs.add_bot("bot.private")
    with pytest.raises(ValueError, match="can_join_groups"):
        zs.add_group(lonely, "H1")
    token, _ = zs.add_bot("bot.groups", can_join_groups=True)
    client = Client(session, zs.url, token)
    assert (await client.result("getMe"))["can_join_groups"] is True
    zs.group_says(token, "H1", "lan", "chuyện riêng", mention=False)
    said = zs.group_says(token, "H1", "lan", "/tonghop")
    update = await client.result("getUpdates", timeout=0)
    assert update["message"]["message_id"] == said
    assert update["message"]["text"] == "@bot.groups /tonghop"
    assert update["message"]["chat"] == {"id": zs.group_id(token, "H1"), "chat_type": "GROUP"}
    assert update["message"]["from"]["id"] == zs.user_id(token, "lan")
    assert await client.error("getUpdates", timeout=0) == (200, 408)
    await client.result("sendMessage", chat_id=zs.group_id(token, "H1"), text="Tổng hợp")
    assert [m.text for m in await zs.messages_to(token, "H1")] == ["Tổng hợp"]


async def test_image_sticker_and_unsupported_events_have_their_fields(
    zs: ZaloSandbox, client: Client, bot: tuple[str, str]
) -> None:
    zs.user_sends_image(bot[0], "lan", "https://photo.zalo.me/bien-ban.jpg", "KV05 biên bản")
    zs.user_sends_sticker(bot[0], "lan", "abc123")
    zs.user_sends_unsupported(bot[0], "lan")
    image, sticker, other = [
        await client.result("getUpdates", timeout=0) for _ in range(3)
    ]  # fmt: skip
    assert image["event_name"] == "message.image.received"
    assert (image["message"]["photo"], image["message"]["caption"]) == (
        "https://photo.zalo.me/bien-ban.jpg",
        "KV05 biên bản",
    )
    assert sticker["event_name"] == "message.sticker.received"
    assert sticker["message"]["sticker"] == "abc123" and sticker["message"]["url"]
    assert other["event_name"] == "message.unsupported.received"
    assert set(other["message"]) == {"from", "chat", "message_id", "date"}


# --- faults ---------------------------------------------------------------------------------


async def test_injected_errors_carry_their_status_or_only_the_envelope(
    zs: ZaloSandbox, client: Client, bot: tuple[str, str]
) -> None:
    zs.user_says(bot[0], "lan", "/start")
    chat = zs.user_id(bot[0], "lan")
    zs.fail_next("sendMessage", 2, 502)
    zs.fail_next("sendMessage", 1, 500, http_status=200)
    zs.fail_next("sendMessage", 1, 429)
    assert await client.error("sendMessage", chat_id=chat, text="x") == (502, 502)
    assert await client.error("sendMessage", chat_id=chat, text="x") == (502, 502)
    assert await client.error("sendMessage", chat_id=chat, text="x") == (200, 500)
    assert await client.error("sendMessage", chat_id=chat, text="x") == (429, 429)
    await client.result("sendMessage", chat_id=chat, text="through")
    assert [m.text for m in zs.sent_messages(bot[0])] == ["through"]


async def test_a_fault_after_execute_sends_but_loses_the_answer(
    zs: ZaloSandbox, client: Client, bot: tuple[str, str]
) -> None:
    zs.user_says(bot[0], "lan", "/start")
    zs.fail_next("sendMessage", 1, 504, after_execute=True)
    chat = zs.user_id(bot[0], "lan")
    assert await client.error("sendMessage", chat_id=chat, text="did it go?") == (504, 504)
    assert [m.text for m in zs.sent_messages(bot[0])] == ["did it go?"]
    assert zs.quota_used(bot[0]) == 1


async def test_a_dropped_connection_and_an_outage(
    zs: ZaloSandbox, client: Client, bot: tuple[str, str]
) -> None:
    zs.user_says(bot[0], "lan", "/start")
    chat = zs.user_id(bot[0], "lan")
    zs.drop_next("sendMessage")
    with pytest.raises(aiohttp.ClientError):
        await client.call("sendMessage", chat_id=chat, text="lost")
    assert zs.sent_messages(bot[0]) == []

    zs.set_outage(True)
    assert await client.error("getMe") == (503, 503)
    assert await client.error("sendMessage", chat_id=chat, text="down") == (503, 503)
    zs.set_outage(False)
    await client.result("sendMessage", chat_id=chat, text="up")
    assert [m.text for m in zs.sent_messages(bot[0])] == ["up"]


async def test_a_held_call_waits_until_released(
    zs: ZaloSandbox, client: Client, bot: tuple[str, str]
) -> None:
    zs.user_says(bot[0], "lan", "/start")
    hold = zs.hold("sendMessage", bot=bot[0])
    send = asyncio.create_task(
        client.result("sendMessage", chat_id=zs.user_id(bot[0], "lan"), text="held")
    )
    await hold.wait_held(1)
    [call] = zs.calls("sendMessage", bot=bot[0])
    assert not call.done and zs.sent_messages(bot[0]) == []
    hold.release()
    assert isinstance((await send)["message_id"], str)
    assert call.http_status == 200
    assert [m.text for m in zs.sent_messages(bot[0])] == ["held"]


# --- by hand --------------------------------------------------------------------------------


async def test_python_m_sandbox_zalo_serves_a_bot(session: aiohttp.ClientSession) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "sandbox.zalo",
        "--port",
        "0",
        "--token",
        "4242:hand-made-secret",
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    try:
        url = ""
        while not url:
            line = (await process.stdout.readline()).decode()
            assert line, "the sandbox exited before printing its URL"
            if line.strip().startswith("ZALO_API_URL="):
                url = line.strip().split("=", 1)[1]
        client = Client(session, url, "4242:hand-made-secret")
        assert (await client.result("getMe"))["id"] == "4242"
    finally:
        process.send_signal(signal.SIGINT)
        assert await process.wait() == 0


# --- the platform's rules as properties -----------------------------------------------------


@given(st.text(max_size=2200))
def test_a_text_is_refused_exactly_when_empty_or_over_2000_utf16_units(text: str) -> None:
    units = len(text.encode("utf-16-le")) // 2
    try:
        check_text(text)
    except ApiError as error:
        assert error.error_code == 400 and error.http_status == 200
        assert not text or units > MAX_TEXT
    else:
        assert 0 < units <= MAX_TEXT


@given(st.text(), st.sampled_from(["wrapped", "bare"]))
def test_a_webhook_body_is_the_event_bare_or_wrapped(text: str, form: str) -> None:
    update = {"event_name": "message.text.received", "message": {"text": text}}
    body = json.loads(webhook_body(update, "wrapped" if form == "wrapped" else "bare"))
    assert body == ({"ok": True, "result": update} if form == "wrapped" else update)


# --- reaching the bot -----------------------------------------------------------------------


async def test_wait_taken_follows_an_event_to_the_bot_or_reports_it_lost(
    zs: ZaloSandbox, client: Client, bot: tuple[str, str], side: BotSide
) -> None:
    polled = zs.user_says(bot[0], "lan", "polled")
    waiting = asyncio.create_task(zs.wait_taken(bot[0], polled))
    await client.result("getUpdates", timeout=0)
    assert (await waiting).taken

    zs.lose_unpolled = True
    lost = zs.user_says(bot[0], "lan", "nobody listens")
    with pytest.raises(TimeoutError, match="lost"):
        await zs.wait_taken(bot[0], lost)

    await client.result("setWebhook", url=f"{side.url}/zalo/{bot[1]}", secret_token=SECRET)
    side.answers = [500] * WEBHOOK_ATTEMPTS
    refused = zs.user_says(bot[0], "lan", "refused")
    with pytest.raises(TimeoutError, match="given up"):
        await zs.wait_taken(bot[0], refused)
    pushed = zs.user_says(bot[0], "lan", "pushed")
    assert (await zs.wait_taken(bot[0], pushed)).message_id == pushed


async def test_an_update_whose_answer_is_lost_is_gone_as_on_the_platform(
    zs: ZaloSandbox, client: Client, bot: tuple[str, str]
) -> None:
    zs.user_says(bot[0], "lan", "250/320 9h")
    zs.fail_next("getUpdates", 1, 502, after_execute=True)
    assert await client.error("getUpdates", timeout=0) == (502, 502)
    assert await client.error("getUpdates", timeout=0) == (200, 408)  # no offsets: no replay
    assert zs.events(bot[0])[0].taken


async def test_stopping_answers_a_long_poll_at_once(
    zs: ZaloSandbox, client: Client, bot: tuple[str, str]
) -> None:
    poll = asyncio.create_task(client.call("getUpdates", timeout=600))
    await zs.wait_for_call("getUpdates", lambda call: not call.done)
    await zs.stop()
    status, body = await poll
    assert (status, body["ok"], body["error_code"]) == (200, False, 408)
