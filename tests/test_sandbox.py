"""The Bot API sandbox, driven by a real python-telegram-bot client over real HTTP."""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import os
import signal
import socket
import struct
import sys
import zlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllPrivateChats,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
)
from telegram.ext import (
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from sandbox import BotApiSandbox, WebhookDelivery
from sandbox.text import FormatError, command_entities, image_size, plain_text

ROOT = Path(__file__).resolve().parents[1]
USER_ID = 1001


@pytest.fixture
async def sb() -> AsyncIterator[BotApiSandbox]:
    async with BotApiSandbox() as server:
        yield server


@pytest.fixture
def token(sb: BotApiSandbox) -> str:
    return sb.create_bot(username="fieldtally_bot")


@pytest.fixture
async def ptb(sb: BotApiSandbox, token: str) -> AsyncIterator[Bot]:
    async with Bot(token, base_url=sb.base_url, base_file_url=sb.base_file_url) as client:
        yield client


@pytest.fixture
async def http(sb: BotApiSandbox) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=sb.url) as client:
        yield client


def png(width: int, height: int) -> bytes:
    """A valid, tiny grey PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


# --- basics ---------------------------------------------------------------------------------


async def test_get_me(sb: BotApiSandbox, token: str, ptb: Bot) -> None:
    me = await ptb.get_me()
    assert me.is_bot
    assert me.username == "fieldtally_bot"
    assert me.id == int(token.split(":")[0])
    assert [c.method for c in sb.calls(token, "getme")] == ["getMe", "getMe"]  # initialize + us


async def test_send_message_round_trip(sb: BotApiSandbox, token: str, ptb: Bot) -> None:
    sb.make_user(USER_ID, first_name="Lan")
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Đúng", callback_data="yes")]])
    first = await ptb.send_message(USER_ID, "Xin chào Lan", reply_markup=keyboard)
    second = await ptb.send_message(
        USER_ID, "<b>250</b>/320 cử tri", parse_mode=ParseMode.HTML, reply_to_message_id=1
    )

    assert (first.message_id, second.message_id) == (1, 2)
    assert first.chat.id == USER_ID and first.chat.type == "private"
    assert first.chat.first_name == "Lan"
    assert first.from_user is not None and first.from_user.id == ptb.id
    assert first.reply_markup == keyboard
    assert second.text == "250/320 cử tri"  # markup parsed away, as Telegram does
    assert second.reply_to_message is not None and second.reply_to_message.message_id == 1

    records = sb.outgoing(token, chat_id=USER_ID)
    assert [(r.method, r.message_id) for r in records] == [("sendMessage", 1), ("sendMessage", 2)]
    assert records[0].text == "Xin chào Lan"
    assert records[0].button_rows() == [[{"text": "Đúng", "callback_data": "yes"}]]
    assert records[1].text == "<b>250</b>/320 cử tri"
    assert records[1].plain_text == "250/320 cử tri"
    assert records[1].parse_mode == "HTML"
    assert records[1].reply_parameters == {"message_id": 1}
    assert sb.outgoing(token, chat_id=USER_ID + 1) == []


async def test_send_message_errors_like_telegram(sb: BotApiSandbox, token: str, ptb: Bot) -> None:
    sb.make_user(USER_ID)
    with pytest.raises(BadRequest) as excinfo:
        await ptb.send_message(424242, "hello")
    # PTB strips "Bad Request: " and capitalize()s the rest, so descriptions read differently.
    assert excinfo.value.message == "Chat not found"
    assert sb.calls(token, "sendMessage")[0].description == "Bad Request: chat not found"
    with pytest.raises(BadRequest, match='Can\'t parse entities: unsupported start tag "br"'):
        await ptb.send_message(USER_ID, "a<br>b", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match=r"character '\.' is reserved"):
        await ptb.send_message(USER_ID, "Tổng: 5.", parse_mode=ParseMode.MARKDOWN_V2)
    with pytest.raises(BadRequest, match="Message is too long"):
        await ptb.send_message(USER_ID, "x" * 4097)
    with pytest.raises(BadRequest, match="Message to be replied not found"):
        await ptb.send_message(USER_ID, "hi", reply_to_message_id=99)
    sb.set_blocked(token, USER_ID)
    with pytest.raises(Forbidden, match="Forbidden: bot was blocked by the user"):
        await ptb.send_message(USER_ID, "hi")
    assert sb.outgoing(token) == []
    assert [c.status for c in sb.calls(token, "sendMessage")] == [400, 400, 400, 400, 400, 403]


async def test_bot_edits_its_message(sb: BotApiSandbox, token: str, ptb: Bot) -> None:
    sb.make_user(USER_ID)
    sent = await ptb.send_message(USER_ID, "Đang xử lý…")
    edited = await ptb.edit_message_text("Xong", chat_id=USER_ID, message_id=sent.message_id)
    assert isinstance(edited, type(sent))
    assert edited.text == "Xong" and edited.edit_date is not None
    with pytest.raises(BadRequest, match="Message is not modified"):
        await ptb.edit_message_text("Xong", chat_id=USER_ID, message_id=sent.message_id)
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await ptb.edit_message_text("?", chat_id=USER_ID, message_id=77)
    assert [(r.method, r.text) for r in sb.outgoing(token)] == [
        ("sendMessage", "Đang xử lý…"),
        ("editMessageText", "Xong"),
    ]
    assert [m["text"] for m in sb.messages(token, USER_ID)] == ["Xong"]


# --- updates --------------------------------------------------------------------------------


async def test_long_polling_get_updates_and_offset(sb: BotApiSandbox, token: str, ptb: Bot) -> None:
    user = sb.make_user(USER_ID, first_name="Lan")
    assert await ptb.get_updates(timeout=0) == ()

    since = len(sb.calls(token))
    poll = asyncio.create_task(ptb.get_updates(timeout=50))  # answered as soon as one arrives
    waiting = await sb.wait_for_call(token, "getUpdates", since=since)
    assert waiting.status is None and waiting.params["timeout"] == 50
    assert not poll.done()  # the server holds the request open: nothing to deliver yet

    incoming = sb.send_text(token, user, "250/320 9h")
    updates = await poll
    assert len(updates) == 1
    message = updates[0].message
    assert message is not None and message.text == "250/320 9h"
    assert message.message_id == incoming["message_id"]
    assert message.from_user is not None and message.from_user.first_name == "Lan"
    assert message.entities == ()  # "250/320" is not a command
    assert sb.pending_updates(token) == 1  # delivered but not confirmed yet

    assert await ptb.get_updates(offset=updates[0].update_id + 1, timeout=0) == ()
    assert sb.pending_updates(token) == 0


async def test_second_bot_instance_gets_conflict(sb: BotApiSandbox, token: str, ptb: Bot) -> None:
    # PTB keeps one connection for getUpdates per Bot, so "two instances" means two Bots.
    user = sb.make_user(USER_ID)
    first = asyncio.create_task(ptb.get_updates(timeout=50))
    await sb.wait_for_call(token, "getUpdates", lambda c: c.status is None)
    async with Bot(token, base_url=sb.base_url) as other_instance:
        second = asyncio.create_task(other_instance.get_updates(timeout=50))
        with pytest.raises(Conflict, match="terminated by other getUpdates request"):
            await first
        sb.send_text(token, user, "hi")
        [update] = await second
    assert update.message is not None and update.message.text == "hi"


async def test_edited_message_update(sb: BotApiSandbox, token: str, ptb: Bot) -> None:
    user = sb.make_user(USER_ID)
    sent = sb.send_text(token, user, "250/320 9h")
    when = dt.datetime(2021, 5, 23, 9, 5, tzinfo=dt.UTC)
    sb.edit_text(token, user, None, sent["message_id"], "260/320 9h", edit_date=when)
    first, second = await ptb.get_updates()
    assert first.message is not None and first.message.text == "250/320 9h"
    assert first.edited_message is None
    edited = second.edited_message
    assert edited is not None and second.message is None
    assert edited.message_id == sent["message_id"]
    assert edited.text == "260/320 9h"
    assert edited.edit_date == when
    assert second.update_id == first.update_id + 1


async def test_contact_update(sb: BotApiSandbox, token: str, ptb: Bot) -> None:
    user = sb.make_user(USER_ID, first_name="Lan", last_name="Nguyễn")
    sb.send_contact(token, user, phone_number="84912345678")
    sb.send_contact(token, user, "0987654321", contact_user_id=None, first_name="Minh")
    own, other = await ptb.get_updates()
    assert own.message is not None and own.message.contact is not None
    assert own.message.contact.phone_number == "84912345678"
    assert own.message.contact.user_id == USER_ID
    assert (own.message.contact.first_name, own.message.contact.last_name) == ("Lan", "Nguyễn")
    assert other.message is not None and other.message.contact is not None
    assert other.message.contact.user_id is None
    assert other.message.contact.first_name == "Minh"


async def test_group_command_and_dates(sb: BotApiSandbox, token: str, ptb: Bot) -> None:
    user = sb.make_user(USER_ID)
    sb.make_group(-100, "Tổ bầu cử số 3")
    when = dt.datetime(2021, 5, 23, 7, 0, tzinfo=dt.timezone(dt.timedelta(hours=7)))
    sb.send_text(token, user, "/baocao@fieldtally_bot 250/320", chat_id=-100, date=when)
    [update] = await ptb.get_updates()
    message = update.message
    assert (
        message is not None and message.chat.id == -100 and message.chat.title == "Tổ bầu cử số 3"
    )
    assert message.date == when
    assert message.parse_entities() == {message.entities[0]: "/baocao@fieldtally_bot"}
    with pytest.raises(ValueError, match="timezone-aware"):
        sb.send_text(token, user, "x", date=dt.datetime(2021, 5, 23, 7, 0))


async def test_redeliver_same_message_new_update_id(
    sb: BotApiSandbox, token: str, ptb: Bot
) -> None:
    user = sb.make_user(USER_ID)
    sb.send_text(token, user, "250/320 9h")
    [original] = await ptb.get_updates()
    await ptb.get_updates(offset=original.update_id + 1, timeout=0)  # confirm it
    assert sb.pending_updates(token) == 0

    new_id = sb.redeliver(token, original.update_id)
    [again] = await ptb.get_updates(offset=original.update_id + 1)
    assert again.update_id == new_id != original.update_id
    assert again.message == original.message  # same message_id and chat: a duplicate
    assert again.message is not None and again.message.text == "250/320 9h"
    assert [u["update_id"] for u in sb.history(token)] == [original.update_id, new_id]


async def test_push_raw_update(sb: BotApiSandbox, token: str, ptb: Bot) -> None:
    update_id = sb.push_raw_update(
        token,
        {
            "update_id": 999,  # replaced: the sandbox numbers updates
            "my_chat_member": {
                "chat": {"id": USER_ID, "type": "private", "first_name": "Lan"},
                "from": {"id": USER_ID, "is_bot": False, "first_name": "Lan"},
                "date": 1621728000,
                "old_chat_member": {"status": "member", "user": sb.bot_user(token)},
                "new_chat_member": {
                    "status": "kicked",
                    "user": sb.bot_user(token),
                    "until_date": 0,
                },
            },
        },
    )
    [update] = await ptb.get_updates()
    assert update.update_id == update_id != 999
    assert update.my_chat_member is not None
    assert update.my_chat_member.new_chat_member.status == "kicked"


# --- files ----------------------------------------------------------------------------------


async def test_bot_uploads_document(sb: BotApiSandbox, token: str, ptb: Bot) -> None:
    sb.make_user(USER_ID)
    content = "đơn_vị,cử_tri\nTổ 1,320\n".encode()
    sent = await ptb.send_document(
        USER_ID, document=content, filename="bao_cao.csv", caption="Báo cáo 9h"
    )
    assert sent.document is not None
    assert sent.document.file_name == "bao_cao.csv"
    assert sent.document.file_size == len(content)
    assert sent.document.mime_type == "text/csv"
    assert sent.caption == "Báo cáo 9h"

    [record] = sb.outgoing(token, USER_ID)
    assert record.method == "sendDocument" and record.caption == "Báo cáo 9h"
    assert record.document is not None
    assert (record.document.filename, record.document.content) == ("bao_cao.csv", content)
    [call] = sb.calls(token, "sendDocument")
    assert call.files["document"].filename == "bao_cao.csv"  # a multipart upload

    # Re-sending by file_id uploads nothing and keeps the file.
    again = await ptb.send_document(USER_ID, document=sent.document.file_id)
    assert again.document is not None and again.document.file_id == sent.document.file_id
    assert sb.calls(token, "sendDocument")[1].files == {}


async def test_user_document_downloaded_by_bot(sb: BotApiSandbox, token: str, ptb: Bot) -> None:
    user = sb.make_user(USER_ID)
    content = "mã,tên,cử tri\n01,Tổ 1 – Mường Khương,320\n".encode() + bytes(range(256))
    sb.send_document(token, user, filename="units.csv", content=content, caption="/nhap")
    [update] = await ptb.get_updates()
    message = update.message
    assert message is not None and message.document is not None
    assert message.caption == "/nhap"
    assert message.parse_caption_entities() == {message.caption_entities[0]: "/nhap"}
    assert message.document.file_name == "units.csv"
    assert message.document.mime_type == "text/csv"

    file = await ptb.get_file(message.document.file_id)
    assert file.file_size == len(content)
    assert file.file_path is not None and file.file_path.startswith(sb.base_file_url)
    assert bytes(await file.download_as_bytearray()) == content


async def test_photos(sb: BotApiSandbox, token: str, ptb: Bot) -> None:
    user = sb.make_user(USER_ID)
    image = png(3, 2)
    sent = await ptb.send_photo(USER_ID, photo=image, caption="Biểu đồ")
    assert (sent.photo[-1].width, sent.photo[-1].height) == (3, 2)
    [record] = sb.outgoing(token)
    assert record.photo is not None and record.photo.content == image
    with pytest.raises(BadRequest, match="Image_process_failed"):
        await ptb.send_photo(USER_ID, photo=b"not an image")

    sb.send_photo(token, user, image, caption="ảnh biên bản")
    [update] = await ptb.get_updates()
    assert update.message is not None and update.message.caption == "ảnh biên bản"
    file = await ptb.get_file(update.message.photo[-1].file_id)
    assert bytes(await file.download_as_bytearray()) == image


# --- commands, webhook, misc methods --------------------------------------------------------


async def test_my_commands_per_scope_and_language(sb: BotApiSandbox, token: str, ptb: Bot) -> None:
    scope = BotCommandScopeAllPrivateChats()
    commands = [BotCommand("baocao", "Gửi báo cáo"), BotCommand("huongdan", "Hướng dẫn")]
    assert await ptb.set_my_commands(commands, scope=scope, language_code="vi")
    assert await ptb.set_my_commands([BotCommand("start", "Start")])

    assert await ptb.get_my_commands(scope=scope, language_code="vi") == tuple(commands)
    assert await ptb.get_my_commands(scope=scope) == ()
    assert sb.commands(token, {"type": "all_private_chats"}, "vi") == [
        {"command": "baocao", "description": "Gửi báo cáo"},
        {"command": "huongdan", "description": "Hướng dẫn"},
    ]
    assert sb.commands(token) == [{"command": "start", "description": "Start"}]
    # Form values are decoded back into JSON objects for assertions.
    first = sb.calls(token, "setMyCommands")[0]
    assert first.params["scope"] == {"type": "all_private_chats"}
    assert first.params["language_code"] == "vi"

    assert await ptb.delete_my_commands(scope=scope, language_code="vi")
    assert sb.commands(token, {"type": "all_private_chats"}, "vi") == []
    with pytest.raises(BadRequest, match="Bot_command_invalid"):
        await ptb.set_my_commands([BotCommand("Bao-Cao", "x")])


async def test_webhook_stubs(sb: BotApiSandbox, token: str, ptb: Bot) -> None:
    user = sb.make_user(USER_ID)
    sb.send_text(token, user, "hi")
    assert await ptb.set_webhook("https://example.org/hook")
    info = await ptb.get_webhook_info()
    assert (info.url, info.pending_update_count) == ("https://example.org/hook", 1)
    with pytest.raises(Conflict, match="webhook is active"):
        await ptb.get_updates()
    assert await ptb.delete_webhook(drop_pending_updates=True)
    assert (await ptb.get_webhook_info()).url == ""
    assert await ptb.get_updates() == ()


JSONish = dict[str, Any]
PUBLIC = "https://bot.example.org"


class Receiver:
    """A stand-in for a bot's webhook endpoint on loopback: records each post, answers the
    statuses in `answers` first and 200 after; while `gate` is clear, posts wait."""

    def __init__(self) -> None:
        self.posts: list[tuple[JSONish, str | None]] = []
        self.answers: list[int] = []
        self.gate = asyncio.Event()
        self.gate.set()
        self.active: set[int] = set()  # chats with a post being answered
        self.in_progress = 0
        self.most_active = 0
        self.chat_overlap = False
        self._changed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def _post(self, request: web.Request) -> web.Response:
        update = await request.json()
        chat = next(v["chat"]["id"] for v in update.values() if isinstance(v, dict))
        self.chat_overlap |= chat in self.active
        self.active.add(chat)
        self.in_progress += 1
        self.most_active = max(self.most_active, self.in_progress)
        self.posts.append((update, request.headers.get("X-Telegram-Bot-Api-Secret-Token")))
        self._changed.set()
        try:
            await self.gate.wait()
        finally:
            self.active.discard(chat)
            self.in_progress -= 1
        return web.Response(status=self.answers.pop(0) if self.answers else 200)

    async def wait_until(self, condition: Callable[[], bool]) -> None:
        async with asyncio.timeout(60):  # a guard against a hang only
            while not condition():
                self._changed.clear()
                await self._changed.wait()

    async def __aenter__(self) -> Receiver:
        app = web.Application()
        app.router.add_post("/hook", self._post)
        self._runner = web.AppRunner(app, shutdown_timeout=1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}/hook"
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.gate.set()
        assert self._runner is not None
        await self._runner.cleanup()


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"  # nothing listens there any more


async def test_webhook_pushes_pending_and_new_updates_in_order(
    sb: BotApiSandbox, token: str, ptb: Bot
) -> None:
    user = sb.make_user(USER_ID)
    async with Receiver() as hook:
        sb.route_webhook(PUBLIC, hook.url.removesuffix("/hook"))
        sb.send_text(token, user, "một")
        sb.send_text(token, user, "hai")
        assert await ptb.set_webhook(
            f"{PUBLIC}/hook", secret_token="s3cret_Token-1234", allowed_updates=["message"]
        )
        sb.send_text(token, user, "ba")
        await sb.wait_for_delivery(token, count=3)
        assert [u["message"]["text"] for u, _ in hook.posts] == ["một", "hai", "ba"]
        assert [u["update_id"] for u, _ in hook.posts] == [1, 2, 3]
        assert {secret for _, secret in hook.posts} == {"s3cret_Token-1234"}
    info = await ptb.get_webhook_info()
    assert info.url == f"{PUBLIC}/hook" and info.pending_update_count == 0
    assert info.allowed_updates == ("message",) and info.last_error_date is None
    with pytest.raises(Conflict, match="webhook is active"):
        await ptb.get_updates()


async def test_webhook_retries_until_answered_2xx(sb: BotApiSandbox, token: str, ptb: Bot) -> None:
    user = sb.make_user(USER_ID)
    async with Receiver() as hook:
        sb.route_webhook(PUBLIC, closed_port_url())  # the bot is down
        assert await ptb.set_webhook(f"{PUBLIC}/hook")
        sb.send_text(token, user, "250/320 9h")
        [refused] = await sb.wait_for_delivery(token, lambda d: d.status is None)
        assert refused.error == "Connection refused"
        info = await ptb.get_webhook_info()
        assert info.pending_update_count == 1 and info.last_error_message == "Connection refused"
        assert info.last_error_date is not None
        hook.answers = [500, 502]  # back, but failing
        sb.route_webhook(PUBLIC, hook.url.removesuffix("/hook"))
        await sb.wait_for_delivery(token)
        assert [u["update_id"] for u, _ in hook.posts] == [1, 1, 1]  # the same update, again
        assert [d.status for d in sb.webhook_deliveries(token) if d.status] == [500, 502, 200]
        assert all(d.update_id == 1 for d in sb.webhook_deliveries(token))
        info = await ptb.get_webhook_info()
        assert info.pending_update_count == 0
        assert info.last_error_message == "Wrong response from the webhook: 502 Bad Gateway"
        assert not hook.posts[0][1]  # no secret token was set, so none is sent


async def test_webhook_deliveries_are_bounded_and_in_order_per_chat(
    sb: BotApiSandbox, token: str, ptb: Bot
) -> None:
    users = [sb.make_user(USER_ID + n) for n in range(6)]
    for user in users:  # each chat's updates one after another in the queue
        for n in range(3):
            sb.send_text(token, user, f"{n}")
    async with Receiver() as hook:
        sb.route_webhook(PUBLIC, hook.url.removesuffix("/hook"))
        hook.gate.clear()  # hold every post until three are waiting
        assert await ptb.set_webhook(f"{PUBLIC}/hook", max_connections=3)
        await hook.wait_until(lambda: len(hook.posts) == 3)
        assert len(hook.active) == 3  # three chats, not one chat's three updates
        hook.gate.set()
        await sb.wait_for_delivery(token, count=18)
    assert hook.most_active == 3 and not hook.chat_overlap
    for user in users:
        messages = [update["message"] for update, _ in hook.posts]
        assert [m["text"] for m in messages if m["chat"]["id"] == user.id] == ["0", "1", "2"]
    assert sb.pending_updates(token) == 0


async def test_delete_webhook_stops_pushing(sb: BotApiSandbox, token: str, ptb: Bot) -> None:
    user = sb.make_user(USER_ID)
    async with Receiver() as hook:
        sb.route_webhook(PUBLIC, hook.url.removesuffix("/hook"))
        sb.send_text(token, user, "first")
        assert await ptb.set_webhook(f"{PUBLIC}/hook")
        await sb.wait_for_delivery(token)
        assert await ptb.delete_webhook()
        sb.send_text(token, user, "second")
        [update] = await ptb.get_updates(timeout=5)
        assert update.message is not None and update.message.text == "second"
        assert [u["message"]["text"] for u, _ in hook.posts] == ["first"]
        # setWebhook again, dropping what is pending: only newer updates are posted
        assert await ptb.set_webhook(f"{PUBLIC}/hook", drop_pending_updates=True)
        sb.send_text(token, user, "third")
        await sb.wait_for_delivery(token, count=2)
        assert [u["message"]["text"] for u, _ in hook.posts] == ["first", "third"]


async def test_set_webhook_ends_a_waiting_long_poll(sb: BotApiSandbox, token: str) -> None:
    async with (
        Bot(token, base_url=sb.base_url) as poller,
        Bot(token, base_url=sb.base_url) as other,
    ):
        since = len(sb.calls(token))
        poll = asyncio.create_task(poller.get_updates(timeout=50))
        await sb.wait_for_call(token, "getUpdates", since=since)
        assert await other.set_webhook(f"{PUBLIC}/hook")
        with pytest.raises(Conflict, match="webhook is active"):
            await poll
        with pytest.raises(BadRequest, match="unallowed characters"):
            await other.set_webhook(f"{PUBLIC}/hook", secret_token="not allowed!")
        with pytest.raises(BadRequest, match="https url must be provided"):
            await other.set_webhook("http://bot.example.org/hook")


async def test_webhook_without_a_route_fails_like_an_unreachable_host(
    sb: BotApiSandbox, token: str, ptb: Bot
) -> None:
    sb.send_text(token, sb.make_user(USER_ID), "hi")
    assert await ptb.set_webhook("https://nowhere.example.org/hook")
    [failed] = await sb.wait_for_delivery(token, lambda d: not d.delivered)
    assert isinstance(failed, WebhookDelivery) and failed.status is None
    info = await ptb.get_webhook_info()
    assert info.pending_update_count == 1
    assert info.last_error_message is not None and "resolve host" in info.last_error_message


async def test_small_methods(sb: BotApiSandbox, token: str, ptb: Bot) -> None:
    sb.make_user(USER_ID)
    assert await ptb.send_chat_action(USER_ID, "typing")
    with pytest.raises(BadRequest, match="Wrong parameter action"):
        await ptb.send_chat_action(USER_ID, "dancing")
    with pytest.raises(BadRequest, match="query id is invalid"):
        await ptb.answer_callback_query("12345")
    assert await ptb.log_out()
    assert await ptb.close()
    assert [c.method for c in sb.calls(token)][-2:] == ["logOut", "close"]


# --- HTTP shape -----------------------------------------------------------------------------


async def test_unknown_method_token_and_missing_params(
    sb: BotApiSandbox, token: str, http: httpx.AsyncClient
) -> None:
    sb.make_user(USER_ID)
    response = await http.post(f"/bot{token}/frobnicate", data={"x": "1"})
    assert response.status_code == 404
    assert response.json() == {"ok": False, "error_code": 404, "description": "Not Found"}

    response = await http.get("/bot123456:wrongtoken/getMe")
    assert response.status_code == 401
    assert response.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}

    response = await http.post(f"/bot{token}/sendMessage", data={"text": "hi"})
    assert response.status_code == 400
    assert response.json()["description"] == "Bad Request: chat_id is empty"
    response = await http.post(f"/bot{token}/sendMessage", data={"chat_id": str(USER_ID)})
    assert response.json()["description"] == "Bad Request: message text is empty"

    response = await http.get(f"/file/bot{token}/documents/nothing.csv")
    assert response.status_code == 404


async def test_unknown_method_and_token_through_ptb(sb: BotApiSandbox, token: str) -> None:
    async with Bot(token, base_url=sb.base_url, base_file_url=sb.base_file_url) as client:
        with pytest.raises(EndPointNotFound, match="'frobnicate' not found"):
            await client.do_api_request("frobnicate")
    # initialize() calls getMe; on failure the context manager shuts the HTTP clients down.
    with pytest.raises(InvalidToken, match="rejected by the server"):
        async with Bot("123456:not-registered", base_url=sb.base_url):
            pass


async def test_json_body_get_and_case_insensitive_names(
    sb: BotApiSandbox, token: str, http: httpx.AsyncClient
) -> None:
    sb.make_user(USER_ID)
    markup = {"inline_keyboard": [[{"text": "OK", "callback_data": "ok"}]]}
    response = await http.post(
        f"/bot{token}/SENDMESSAGE",
        json={"chat_id": USER_ID, "text": "json body", "reply_markup": markup},
    )
    body = response.json()
    assert body["ok"] is True
    assert body["result"]["reply_markup"] == markup
    assert body["result"]["from"]["username"] == "fieldtally_bot"

    response = await http.get(f"/bot{token}/sendMessage", params={"chat_id": USER_ID, "text": "q"})
    assert response.json()["result"]["message_id"] == 2
    assert [r.text for r in sb.outgoing(token)] == ["json body", "q"]
    assert [c.http_method for c in sb.calls(token)] == ["POST", "GET"]


# --- faults ---------------------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_injected_429_is_retry_after(sb: BotApiSandbox, token: str, ptb: Bot) -> None:
    sb.make_user(USER_ID)
    sb.inject_faults("sendMessage", 429, count=1, retry_after=7)
    with pytest.raises(RetryAfter) as excinfo:
        await ptb.send_message(USER_ID, "flood")
    retry_after: Any = excinfo.value.retry_after  # an int or a timedelta, by PTB setting
    seconds = retry_after.total_seconds() if isinstance(retry_after, dt.timedelta) else retry_after
    assert seconds == 7
    assert sb.outgoing(token) == []  # refused calls have no effect

    sent = await ptb.send_message(USER_ID, "after the wait")  # the fault was used up
    assert sent.text == "after the wait"
    assert [c.status for c in sb.calls(token, "sendMessage")] == [429, 200]


async def test_injected_502_is_network_error(sb: BotApiSandbox, token: str, ptb: Bot) -> None:
    sb.make_user(USER_ID)
    sb.inject_faults("sendmessage", 502, count=2)
    for _ in range(2):
        with pytest.raises(NetworkError, match="Bad Gateway") as excinfo:
            await ptb.send_message(USER_ID, "x")
        assert type(excinfo.value) is NetworkError
    assert sb.outgoing(token) == []

    # A lost answer: the message goes out, the bot sees an error (duplicate-send hazard).
    sb.inject_faults("sendMessage", 502, after_execute=True)
    with pytest.raises(NetworkError):
        await ptb.send_message(USER_ID, "did it go out?")
    assert [r.text for r in sb.outgoing(token)] == ["did it go out?"]


async def test_dropped_connection_and_latency(sb: BotApiSandbox, token: str, ptb: Bot) -> None:
    sb.make_user(USER_ID)
    sb.drop_connections(1, method="sendMessage")
    with pytest.raises(NetworkError, match="disconnected"):
        await ptb.send_message(USER_ID, "lost")
    assert sb.outgoing(token) == []

    sb.set_latency("getMe", 50)
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert (await ptb.get_me()).username == "fieldtally_bot"
    assert loop.time() - started >= 0.05  # a lower bound only: the server held the answer
    assert (await ptb.send_message(USER_ID, "ok")).text == "ok"


async def test_held_answers_go_out_once_enough_chats_wait_together(
    sb: BotApiSandbox, token: str, ptb: Bot
) -> None:
    for chat in (USER_ID, USER_ID + 1, USER_ID + 2):
        sb.make_user(chat)
    hold = sb.hold_answers("sendMessage", chats=2, token=token)
    first = asyncio.create_task(ptb.send_message(USER_ID, "một"))
    again = asyncio.create_task(ptb.send_message(USER_ID, "hai"))  # same chat: counts once
    for text in ("một", "hai"):
        call = await sb.wait_for_call(token, "sendMessage", lambda c, t=text: c.params["text"] == t)
        assert call.status is None  # held, unanswered
    assert hold.most_waiting == 1 and not hold.filled
    assert not first.done() and not again.done() and sb.outgoing(token) == []
    other = asyncio.create_task(ptb.send_message(USER_ID + 1, "ba"))
    await hold.wait_filled()
    sent = await asyncio.gather(first, again, other)
    assert [m.text for m in sent] == ["một", "hai", "ba"]
    assert hold.filled and hold.released and hold.most_waiting == 2
    assert (await ptb.send_message(USER_ID + 2, "bốn")).text == "bốn"  # no longer held


async def test_a_hold_that_cannot_fill_fails_clearly_and_lets_the_call_go(
    sb: BotApiSandbox, token: str, ptb: Bot
) -> None:
    sb.make_user(USER_ID)
    hold = sb.hold_answers("sendMessage", chats=2)
    alone = asyncio.create_task(ptb.send_message(USER_ID, "một"))
    await sb.wait_for_call(token, "sendMessage")
    # One chat can never fill a hold for two, so how long this waits changes nothing.
    with pytest.raises(AssertionError, match="at most 1 chat"):
        await hold.wait_filled(timeout=0.1)
    assert (await alone).text == "một"  # released so the bot can go on


async def test_wait_for_reports_what_was_sent(sb: BotApiSandbox, token: str, ptb: Bot) -> None:
    sb.make_user(USER_ID)
    await ptb.send_message(USER_ID, "Chào")
    with pytest.raises(BadRequest):
        await ptb.send_message(USER_ID, "<i>oops", parse_mode=ParseMode.HTML)
    assert len(await sb.wait_for(token, 1, chat_id=USER_ID)) == 1
    with pytest.raises(TimeoutError) as excinfo:
        await sb.wait_for(token, lambda r: r.text == "never", timeout=0)
    report = str(excinfo.value)
    assert "sendMessage chat=1001 msg=1: Chào" in report
    assert "sendMessage -> 400 Bad Request: can't parse entities" in report


# --- a real Application ---------------------------------------------------------------------


async def test_application_command_text_and_button(sb: BotApiSandbox, token: str) -> None:
    user = sb.make_user(USER_ID, first_name="Lan")
    seen: list[str] = []

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        seen.append(f"start args={context.args}")
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Xác nhận", callback_data="ok")]])
        await update.effective_message.reply_text("Chào Lan!", reply_markup=keyboard)

    async def text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None and update.effective_message.text
        seen.append("text")
        await update.effective_message.reply_text(f"Nhận: {update.effective_message.text}")

    async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None and query.data == "ok"
        seen.append("button")
        await query.answer("Đã xác nhận")
        await query.edit_message_text("Đã xác nhận ✅")

    app = ApplicationBuilder().token(token).base_url(sb.base_url).base_file_url(sb.base_file_url)
    application = app.build()
    application.add_handler(CommandHandler("start", start))
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, text))
    application.add_handler(CallbackQueryHandler(button))
    async with application:
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(poll_interval=0, timeout=1)

        sb.send_text(token, user, "/start ma_to_3")
        [greeting] = await sb.wait_for(token, 1, chat_id=USER_ID)
        sb.send_text(token, user, "250/320 9h")
        await sb.wait_for(token, 2, chat_id=USER_ID)
        sb.send_callback_query(token, user, greeting.message_id or 0, "ok")
        await sb.wait_for(token, lambda r: r.method == "editMessageText")

        await application.updater.stop()
        await application.stop()

    assert seen == ["start args=['ma_to_3']", "text", "button"]
    assert [(r.method, r.text) for r in sb.outgoing(token, USER_ID)] == [
        ("sendMessage", "Chào Lan!"),
        ("sendMessage", "Nhận: 250/320 9h"),
        ("editMessageText", "Đã xác nhận ✅"),
    ]
    assert greeting.button_rows() == [[{"text": "Xác nhận", "callback_data": "ok"}]]
    [answer] = sb.calls(token, "answerCallbackQuery")
    assert answer.status == 200 and answer.params["text"] == "Đã xác nhận"
    assert sb.pending_updates(token) == 0  # the updater confirmed everything on stop
    assert sb.messages(token, USER_ID)[1]["text"] == "Đã xác nhận ✅"


# --- text rules (pure functions) ------------------------------------------------------------


def test_command_entities() -> None:
    assert command_entities("/start") == [{"type": "bot_command", "offset": 0, "length": 6}]
    assert command_entities("/start@fieldtally_bot hi") == [
        {"type": "bot_command", "offset": 0, "length": 21}
    ]
    assert command_entities("250/320 9h") == []
    # Offsets are UTF-16 code units: the emoji counts twice.
    assert command_entities("🗳 /baocao") == [{"type": "bot_command", "offset": 3, "length": 7}]


def test_parse_modes() -> None:
    assert plain_text("<b>Tổ 1</b> &lt;3 &amp; <a href='x'>link</a>", "HTML") == "Tổ 1 <3 & link"
    with pytest.raises(FormatError, match="Can't find end tag"):
        plain_text("<b>open", "HTML")
    with pytest.raises(FormatError, match="Unmatched end tag"):
        plain_text("<b><i>x</b></i>", "HTML")
    assert plain_text(r"*Tổng:* 5\. \(ok\) `a.b` [x](http://e.org/a.b)", "MarkdownV2") == (
        "Tổng: 5. (ok) a.b x"
    )
    with pytest.raises(FormatError, match="Can't find end of Bold entity"):
        plain_text("*bold", "MarkdownV2")
    with pytest.raises(FormatError, match="Can't find end of the entity"):
        plain_text("user_name", "Markdown")
    assert plain_text("*Tổng* _a_", "Markdown") == "Tổng a"
    assert plain_text("<not parsed>", None) == "<not parsed>"


def test_image_size() -> None:
    assert image_size(png(640, 480)) == (640, 480)
    assert image_size(b"GIF89a\x02\x00\x03\x00") == (2, 3)
    assert image_size(b"hello") is None


# --- the standalone runner ------------------------------------------------------------------


async def test_cli_runner_serves_until_interrupted() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "sandbox",
        "--port",
        "0",
        "--token",
        "123:abc",
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        # Ctrl-C must reach it even when the tests run as a background job, whose children
        # inherit an ignored SIGINT (POSIX, for `make test &` from a script).
        preexec_fn=functools.partial(signal.signal, signal.SIGINT, signal.SIG_DFL),
    )
    try:
        assert process.stdout is not None
        first = (await asyncio.wait_for(process.stdout.readline(), 120)).decode()
        assert first.startswith("Bot API sandbox serving at http://127.0.0.1:")
        url = first.rsplit(" ", 1)[1].strip()
        async with httpx.AsyncClient() as client:
            me = (await client.get(f"{url}/bot123:abc/getMe")).json()
        assert me["ok"] is True and me["result"]["id"] == 123
        process.send_signal(signal.SIGINT)
        assert await asyncio.wait_for(process.wait(), 120) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
