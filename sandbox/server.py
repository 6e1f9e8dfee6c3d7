"""A fake Telegram Bot API server on loopback: python-telegram-bot talks to it over real HTTP
as if it were api.telegram.org, while tests drive simulated users and read what the bot did.

Point PTB at it with ``base_url=f"{sb.url}/bot"`` and ``base_file_url=f"{sb.url}/file/bot"``.
Everything runs on the caller's event loop; the driver methods (``send_text`` and friends) are
plain functions so tests can call them between awaits.

Updates reach a bot by getUpdates or, after setWebhook, by HTTP POST to its webhook, as on
Telegram. The sandbox never leaves loopback: ``route_webhook`` says where the public https
URL of a webhook is served locally (the part a TLS-terminating proxy plays in production).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import datetime as dt
import functools
import json
import mimetypes
import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from types import TracebackType
from typing import Any, Literal

import aiohttp
from aiohttp import web

from sandbox.models import (
    ApiCall,
    JSONDict,
    OutgoingRecord,
    SimUser,
    StoredFile,
    Upload,
    WebhookDelivery,
)
from sandbox.text import FormatError, command_entities, image_size, plain_text, utf16_len

__all__ = ["AnswerHold", "ApiError", "BotApiSandbox"]

Predicate = Callable[[OutgoingRecord], bool]
Listener = Callable[[str, OutgoingRecord], None]

_TOKEN_RE = re.compile(r"^[0-9]{1,20}:[A-Za-z0-9_-]{1,64}$")
_COMMAND_NAME_RE = re.compile(r"^[a-z0-9_]{1,32}$")
_MAX_TEXT = 4096  # Telegram's limits, in UTF-16 units after entity parsing
_MAX_CAPTION = 1024
_MAX_DOWNLOAD = 20 * 1024 * 1024  # getFile refuses bigger files for bots on the public API
_MAX_UPLOAD = 50 * 1024 * 1024
# How long the wait_for* helpers wait by default: only a guard against a hang, never a
# measure of speed, so generous enough for a machine whose cores are busy with other work.
DEFAULT_WAIT = 60.0
_CHAT_ACTIONS = frozenset(
    {
        "typing", "upload_photo", "record_video", "upload_video", "record_voice",
        "upload_voice", "upload_document", "choose_sticker", "find_location",
        "record_video_note", "upload_video_note",
    }
)  # fmt: skip
_STATUS_TEXT = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    420: "Flood",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}
_SECRET_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# Webhook deliveries: Telegram's default and maximum connections; how long an answer is
# awaited; the pause before retrying a failed delivery, doubling up to the maximum (shorter
# than Telegram's, so that tests restarting a bot do not wait long).
_WEBHOOK_CONNECTIONS, _WEBHOOK_MAX_CONNECTIONS = 40, 100
_WEBHOOK_TIMEOUT = 60.0
_WEBHOOK_RETRY_FIRST, _WEBHOOK_RETRY_MAX = 0.05, 1.0
_IDLE_WAKE = 60.0  # seconds an idle webhook pusher sleeps between checks (it is woken anyway)
_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)

# How form/query values are decoded. PTB sends every parameter as a form field whose value is
# the plain string for str values and json.dumps(value) for anything else, so the server has to
# know each parameter's type, like Telegram does.
_JSON_PARAMS = frozenset(
    {
        "reply_markup", "reply_parameters", "entities", "caption_entities", "commands",
        "scope", "allowed_updates", "link_preview_options", "media", "results",
        "message_ids", "reaction", "permissions", "menu_button", "rights",
    }
)  # fmt: skip
_INT_PARAMS = frozenset(
    {
        "message_id", "offset", "limit", "user_id", "reply_to_message_id",
        "message_thread_id", "cache_time", "max_connections", "until_date", "width", "height",
        "duration",
    }
)  # fmt: skip
_FLOAT_PARAMS = frozenset({"timeout"})
_CHAT_ID_PARAMS = frozenset({"chat_id", "from_chat_id"})
_BOOL_PARAMS = frozenset(
    {
        "disable_notification", "protect_content", "show_alert", "drop_pending_updates",
        "allow_sending_without_reply", "disable_web_page_preview", "has_spoiler",
        "disable_content_type_detection", "show_caption_above_media", "allow_paid_broadcast",
        "is_personal",
    }
)  # fmt: skip


class ApiError(Exception):
    """An error answer of the Bot API: HTTP status, description, optional ``parameters``."""

    def __init__(self, status: int, description: str, parameters: JSONDict | None = None):
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters


def _bad(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


_dumps = functools.partial(json.dumps, ensure_ascii=False)


def _ok_response(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result}, dumps=_dumps)


def _error_response(error: ApiError) -> web.Response:
    body: JSONDict = {"ok": False, "error_code": error.status, "description": error.description}
    if error.parameters:
        body["parameters"] = error.parameters
    return web.json_response(body, status=error.status, dumps=_dumps)


def _timestamp(moment: dt.datetime) -> int:
    if moment.tzinfo is None:
        # A naive datetime would silently use the machine's zone; election-day times are
        # too easy to get wrong that way.
        raise ValueError("dates given to the sandbox must be timezone-aware")
    return int(moment.timestamp())


class _Signal:
    """Wakes every waiter on ``notify()``. Usable from plain (non-async) driver methods."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        # Swapping in a fresh Event means waiters never see a stale "set" and nobody has to
        # clear it; the check-then-wait in callers is race-free on a single event loop.
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self, seconds: float) -> None:
        """Return on the next ``notify()`` or after ``seconds``, whichever comes first."""
        event = self._event
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), max(seconds, 0.0))


class AnswerHold:
    """Answers to one method held back until calls for `chats` different chats wait at once.

    Made by ``BotApiSandbox.hold_answers``. Each call of the method waits, unanswered, in the
    sandbox; as soon as calls for `chats` distinct chats are waiting together the hold opens:
    those calls and every later one are answered as usual. A bot that handles one chat at a
    time never has two chats' calls waiting, so for it the hold can never fill: concurrency
    proved by construction, however fast or slow the machine. With `chats=None` it holds
    every call until `release()` (e.g. to freeze a burst half answered).
    """

    def __init__(self, method: str, chats: int | None, token: str | None) -> None:
        self.name = method
        self.method = method.lower()
        self.chats = chats
        self.token = token
        self.filled = False  # True once `chats` chats had a call waiting at the same time
        self.most_waiting = 0  # the most distinct chats that had a call waiting at once
        self._waiting: dict[int | str | None, int] = {}  # chat -> calls held now
        self._open = asyncio.Event()

    @property
    def released(self) -> bool:
        """Whether calls go through now (the hold filled, or was released)."""
        return self._open.is_set()

    def release(self) -> None:
        """Answer every held call now, and every later one without holding it."""
        self._open.set()

    def covers(self, method: str, token: str) -> bool:
        return (
            not self._open.is_set()
            and self.method == method.lower()
            and self.token in (None, token)
        )

    async def hold(self, chat: int | str | None) -> None:
        """Hold one call for `chat` until the hold opens (it opens now if this fills it)."""
        self._waiting[chat] = self._waiting.get(chat, 0) + 1
        self.most_waiting = max(self.most_waiting, len(self._waiting))
        try:
            if self.chats is not None and len(self._waiting) >= self.chats:
                self.filled = True
                self._open.set()
            await self._open.wait()
        finally:
            self._waiting[chat] -= 1
            if not self._waiting[chat]:
                del self._waiting[chat]

    async def wait_filled(self, timeout: float = 120.0) -> None:  # noqa: ASYNC109
        """Return once calls for `chats` distinct chats have waited at the same time.

        `timeout` is only a guard against a hang: if the hold has not filled by then, every
        held call is released (so the bot can go on) and AssertionError says how many chats
        ever had a call waiting at once."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._open.wait(), timeout)
        if not self.filled:
            self.release()
            raise AssertionError(
                f"answers to {self.name} were held for {self.chats} chats waiting at once, "
                f"but at most {self.most_waiting} chat(s) ever had a call waiting together "
                f"(gave up after {timeout:g} s): the calls were not made concurrently"
            )


@dataclass
class _Fault:
    method: str | None  # lower-case method name, None = any
    token: str | None
    status: int
    remaining: int
    description: str
    retry_after: int | None
    after_execute: bool


@dataclass
class _Drop:
    method: str | None
    remaining: int


@dataclass
class _Request:
    """A decoded API request: typed parameters plus uploaded file parts."""

    method: str
    params: JSONDict
    files: dict[str, Upload]

    def get(self, name: str) -> Any:
        return self.params.get(name)

    def require(self, name: str) -> Any:
        value = self.params.get(name)
        if value is None or value == "":
            raise _bad(f"{name} is empty")
        return value

    def str_(self, name: str) -> str | None:
        value = self.params.get(name)
        if value is None:
            return None
        if not isinstance(value, str):
            raise _bad(f"{name} must be a string")
        return value

    def int_(self, name: str, default: int | None = None) -> int | None:
        value = self.params.get(name, default)
        if value is None or (isinstance(value, int) and not isinstance(value, bool)):
            return value
        raise _bad(f"invalid {name} specified")

    def bool_(self, name: str) -> bool:
        return bool(self.params.get(name, False))


@dataclass
class _Webhook:
    """A bot's webhook while it is set, and the deliveries under way."""

    url: str
    secret_token: str | None
    max_connections: int
    pusher: asyncio.Task[None] | None = None
    delivering: set[int] = field(default_factory=set)  # update ids being posted
    busy_chats: set[int] = field(default_factory=set)  # chats with an update being posted
    last_error_date: int | None = None
    last_error_message: str | None = None


@dataclass
class _BotState:
    """Everything the sandbox knows about one bot (Telegram scopes ids and files per bot)."""

    token: str
    user: JSONDict
    updates: list[JSONDict] = field(default_factory=list)  # not yet confirmed
    history: dict[int, JSONDict] = field(default_factory=dict)  # every update ever queued
    next_update_id: int = 1
    poll_generation: int = 0
    webhook: _Webhook | None = None
    allowed_updates: list[str] | None = None
    deliveries: list[WebhookDelivery] = field(default_factory=list)
    outgoing: list[OutgoingRecord] = field(default_factory=list)
    calls: list[ApiCall] = field(default_factory=list)
    last_message_id: dict[int, int] = field(default_factory=dict)
    messages: dict[tuple[int, int], JSONDict] = field(default_factory=dict)
    chat_order: dict[int, list[int]] = field(default_factory=dict)
    files: dict[str, StoredFile] = field(default_factory=dict)
    files_by_path: dict[str, StoredFile] = field(default_factory=dict)
    file_counter: int = 0
    commands: dict[tuple[str, str], list[JSONDict]] = field(default_factory=dict)
    callback_queries: dict[str, bool] = field(default_factory=dict)  # id -> answered
    blocked_by: set[int] = field(default_factory=set)
    update_signal: _Signal = field(default_factory=_Signal)
    outgoing_signal: _Signal = field(default_factory=_Signal)
    calls_signal: _Signal = field(default_factory=_Signal)
    deliveries_signal: _Signal = field(default_factory=_Signal)

    @property
    def id(self) -> int:
        return int(self.user["id"])

    def next_message_id(self, chat_id: int) -> int:
        # Message ids are per chat (and, for private chats, per bot), shared by both directions.
        value = self.last_message_id.get(chat_id, 0) + 1
        self.last_message_id[chat_id] = value
        return value

    def store_message(self, message: JSONDict) -> None:
        key = (int(message["chat"]["id"]), int(message["message_id"]))
        if key not in self.messages:
            self.chat_order.setdefault(key[0], []).append(key[1])
            self.last_message_id[key[0]] = max(self.last_message_id.get(key[0], 0), key[1])
        self.messages[key] = message

    def confirm(self, offset: int) -> None:
        """Apply getUpdates' ``offset``: forget updates before it (or all but the last -N)."""
        if offset > 0:
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
        elif offset < 0:
            self.updates = self.updates[offset:]


class BotApiSandbox:
    """Fake Bot API server plus the test-side controls for simulated users and faults.

    Typical use::

        async with BotApiSandbox() as sb:
            token = sb.create_bot(username="fieldtally_bot")
            bot = telegram.Bot(token, base_url=sb.base_url, base_file_url=sb.base_file_url)
            user = sb.make_user(1001, first_name="Lan")
            sb.send_text(token, user, "/start")
            [reply] = await sb.wait_for(token, 1, chat_id=user.id)
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        clock: Callable[[], dt.datetime] | None = None,
        validate_formatting: bool = True,
    ) -> None:
        """``port=0`` picks a free port. ``clock`` (returning aware datetimes) dates the bot's
        messages; ``validate_formatting`` makes bad HTML/Markdown fail as on Telegram."""
        self.host = host
        self._requested_port = port
        self._port: int | None = None
        self._clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self.validate_formatting = validate_formatting
        self._bots: dict[str, _BotState] = {}
        self._users: dict[int, SimUser] = {}
        self._chats: dict[int, JSONDict] = {}
        self._latency: dict[str | None, float] = {}
        self._faults: list[_Fault] = []
        self._drops: list[_Drop] = []
        self._holds: list[AnswerHold] = []
        self._listeners: list[Listener] = []
        self._routes: dict[str, str] = {}  # public webhook URL -> where it is served locally
        self._http: aiohttp.ClientSession | None = None  # for webhook deliveries
        self._runner: web.AppRunner | None = None
        self._closing: asyncio.Event | None = None
        self._bot_counter = 0
        self._handlers: dict[str, tuple[str, Callable[[_BotState, _Request], Awaitable[Any]]]] = {
            name.lower(): (name, handler)
            for name, handler in {
                "getMe": self._get_me,
                "logOut": self._true,
                "close": self._true,
                "getUpdates": self._get_updates,
                "setWebhook": self._set_webhook,
                "deleteWebhook": self._delete_webhook,
                "getWebhookInfo": self._get_webhook_info,
                "sendMessage": self._send_message,
                "editMessageText": self._edit_message_text,
                "editMessageCaption": self._edit_message_caption,
                "editMessageReplyMarkup": self._edit_message_reply_markup,
                "deleteMessage": self._delete_message,
                "sendDocument": self._send_document,
                "sendPhoto": self._send_photo,
                "getFile": self._get_file,
                "setMyCommands": self._set_my_commands,
                "getMyCommands": self._get_my_commands,
                "deleteMyCommands": self._delete_my_commands,
                "answerCallbackQuery": self._answer_callback_query,
                "sendChatAction": self._send_chat_action,
            }.items()
        }

    # --- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        """Start serving; afterwards ``url`` is valid."""
        if self._runner is not None:
            raise RuntimeError("sandbox already started")
        app = web.Application(client_max_size=_MAX_UPLOAD + 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_method)
        app.router.add_route("GET", "/file/bot{token}/{path:.+}", self._handle_file)
        # A short shutdown timeout: waiting handlers are woken on stop, so nothing should need
        # the default 60 s, and a stuck test must not hang for a minute.
        runner = web.AppRunner(app, shutdown_timeout=2.0, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self._requested_port)
        await site.start()
        self._runner = runner
        self._closing = asyncio.Event()
        self._port = int(runner.addresses[0][1])
        self._http = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0),  # each webhook's max_connections limits
            timeout=aiohttp.ClientTimeout(total=_WEBHOOK_TIMEOUT),
        )

    async def stop(self) -> None:
        """Stop serving; waiting long polls answer at once. Safe to call twice."""
        if self._runner is None:
            return
        assert self._closing is not None
        self._closing.set()
        for hold in self._holds:
            hold.release()
        for bot in self._bots.values():
            await self._stop_pushing(bot)
            bot.update_signal.notify()
            bot.outgoing_signal.notify()
            bot.calls_signal.notify()
            bot.deliveries_signal.notify()
        runner, self._runner = self._runner, None
        await runner.cleanup()
        if self._http is not None:
            await self._http.close()
            self._http = None

    async def __aenter__(self) -> BotApiSandbox:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("sandbox not started")
        return self._port

    @property
    def url(self) -> str:
        """Server root, e.g. ``http://127.0.0.1:8081`` (what TELEGRAM_API_URL should be)."""
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """Value for PTB's ``base_url`` (PTB appends the token)."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        """Value for PTB's ``base_file_url`` (PTB appends the token)."""
        return f"{self.url}/file/bot"

    # --- people, chats, bots --------------------------------------------------------------

    def create_bot(
        self,
        username: str = "fieldtally_bot",
        *,
        first_name: str | None = None,
        token: str | None = None,
    ) -> str:
        """Register a bot and return its token (``token`` may be given, e.g. "123:abc")."""
        if token is None:
            self._bot_counter += 1
            bot_id = 7_000_000_000 + self._bot_counter
            token = f"{bot_id}:AA{secrets.token_urlsafe(33)[:33]}"
        elif not _TOKEN_RE.match(token):
            raise ValueError(f"not a Bot API token: {token!r} (expected '<digits>:<secret>')")
        if token in self._bots:
            raise ValueError("a bot with this token already exists")
        user: JSONDict = {
            "id": int(token.split(":", 1)[0]),
            "is_bot": True,
            "first_name": first_name or username.removesuffix("_bot").removesuffix("bot"),
            "username": username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }
        self._bots[token] = _BotState(token=token, user=user)
        return token

    def bot_user(self, token: str) -> JSONDict:
        """The bot's ``User`` object, as getMe returns it."""
        return copy.deepcopy(self._bot(token).user)

    def make_user(
        self,
        user_id: int,
        first_name: str | None = None,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
    ) -> SimUser:
        """Create (or replace) a simulated user; their private chat becomes known to bots."""
        if user_id <= 0:
            raise ValueError("user ids are positive")
        user = SimUser(user_id, first_name or f"User{user_id}", last_name, username, language_code)
        self._users[user_id] = user
        self._chats[user_id] = user.private_chat()
        return user

    def make_group(self, chat_id: int, title: str | None = None) -> JSONDict:
        """Register a group chat (negative id; ids below -10**12 are supergroups)."""
        if chat_id >= 0:
            raise ValueError("group chat ids are negative")
        kind = "supergroup" if chat_id <= -1_000_000_000_000 else "group"
        chat: JSONDict = {"id": chat_id, "type": kind, "title": title or f"Group {-chat_id}"}
        self._chats[chat_id] = chat
        return dict(chat)

    def set_blocked(self, token: str, user_id: int, blocked: bool = True) -> None:
        """Make ``user_id`` block (or unblock) the bot: sends to them then fail with 403."""
        bot = self._bot(token)
        if blocked:
            bot.blocked_by.add(user_id)
        else:
            bot.blocked_by.discard(user_id)

    # --- simulated incoming traffic -------------------------------------------------------

    def send_text(
        self,
        token: str,
        user: SimUser | int,
        text: str,
        chat_id: int | None = None,
        date: dt.datetime | None = None,
        reply_to_message_id: int | None = None,
    ) -> JSONDict:
        """A user sends ``text``; returns the incoming Message (bot commands get entities)."""
        fields: JSONDict = {"text": text}
        entities = command_entities(text)
        if entities:
            fields["entities"] = entities
        return self._incoming(token, user, fields, chat_id, date, reply_to_message_id)

    def edit_text(
        self,
        token: str,
        user: SimUser | int,
        chat_id: int | None,
        message_id: int,
        text: str,
        edit_date: dt.datetime | None = None,
    ) -> JSONDict:
        """The user edits an earlier text message; pushes an ``edited_message`` update."""
        bot, sender = self._bot(token), self._user(user)
        chat_id = sender.id if chat_id is None else chat_id
        old = bot.messages.get((chat_id, message_id))
        if old is None or old.get("from", {}).get("id") != sender.id or "text" not in old:
            raise ValueError(f"no text message {message_id} from user {sender.id} in {chat_id}")
        edited = {k: v for k, v in old.items() if k != "entities"}
        edited["text"] = text
        edited["edit_date"] = _timestamp(edit_date or self._clock())
        entities = command_entities(text)
        if entities:
            edited["entities"] = entities
        bot.store_message(edited)
        self._queue(bot, {"edited_message": edited})
        return copy.deepcopy(edited)

    def send_contact(
        self,
        token: str,
        user: SimUser | int,
        phone_number: str,
        contact_user_id: int | Literal["sender"] | None = "sender",
        first_name: str | None = None,
        last_name: str | None = None,
        chat_id: int | None = None,
        date: dt.datetime | None = None,
    ) -> JSONDict:
        """The user shares a contact. Default: their own (``user_id`` = sender, as with a
        request_contact button); pass ``contact_user_id=None`` for a contact without account.
        ``phone_number`` is passed through verbatim (Telegram sends e.g. "84912345678")."""
        sender = self._user(user)
        contact: JSONDict = {
            "phone_number": phone_number,
            "first_name": first_name or sender.first_name,
        }
        last = last_name if first_name is not None else (last_name or sender.last_name)
        if last:
            contact["last_name"] = last
        if contact_user_id == "sender":
            contact["user_id"] = sender.id
        elif contact_user_id is not None:
            contact["user_id"] = contact_user_id
        return self._incoming(token, sender, {"contact": contact}, chat_id, date, None)

    def send_document(
        self,
        token: str,
        user: SimUser | int,
        filename: str,
        content: bytes,
        caption: str | None = None,
        mime_type: str | None = None,
        chat_id: int | None = None,
        date: dt.datetime | None = None,
    ) -> JSONDict:
        """The user sends a file; the bot can getFile + download it. A caption "/cmd ..." gets
        ``caption_entities`` like text does."""
        bot = self._bot(token)
        mime = mime_type or mimetypes.guess_type(filename)[0] or "application/octet-stream"
        stored = self._store_file(bot, "document", content, filename, mime)
        fields: JSONDict = {"document": stored.document_dict()}
        fields.update(self._caption_fields(caption))
        return self._incoming(token, user, fields, chat_id, date, None)

    def send_photo(
        self,
        token: str,
        user: SimUser | int,
        content: bytes,
        caption: str | None = None,
        chat_id: int | None = None,
        date: dt.datetime | None = None,
    ) -> JSONDict:
        """The user sends a photo (PNG/JPEG/GIF/WebP bytes)."""
        bot = self._bot(token)
        size = image_size(content)
        if size is None:
            raise ValueError("not an image the sandbox recognises (PNG, JPEG, GIF, WebP)")
        stored = self._store_file(bot, "photo", content, None, "image/jpeg", size)
        fields: JSONDict = {"photo": stored.photo_sizes()}
        fields.update(self._caption_fields(caption))
        return self._incoming(token, user, fields, chat_id, date, None)

    def send_callback_query(
        self,
        token: str,
        user: SimUser | int,
        message_id: int,
        data: str,
        chat_id: int | None = None,
    ) -> str:
        """The user presses an inline button of a bot message; returns the query id."""
        bot, sender = self._bot(token), self._user(user)
        chat_id = sender.id if chat_id is None else chat_id
        message = bot.messages.get((chat_id, message_id))
        if message is None:
            raise ValueError(f"no message {message_id} in chat {chat_id}")
        query_id = str(secrets.randbelow(10**18) + 10**18)
        bot.callback_queries[query_id] = False
        self._queue(
            bot,
            {
                "callback_query": {
                    "id": query_id,
                    "from": sender.to_dict(),
                    "message": message,
                    "chat_instance": str(abs(hash((bot.id, chat_id)))),
                    "data": data,
                }
            },
        )
        return query_id

    def push_raw_update(self, token: str, update: JSONDict) -> int:
        """Queue any update payload (its ``update_id`` is assigned here); returns the id."""
        bot = self._bot(token)
        payload = {k: v for k, v in update.items() if k != "update_id"}
        # Make what the update mentions usable by the bot's answers, as on Telegram: the chat
        # can be written to, the message replied to, the callback query answered.
        for key in ("message", "edited_message", "channel_post"):
            message = payload.get(key)
            if isinstance(message, dict) and isinstance(message.get("chat"), dict):
                self._chats.setdefault(int(message["chat"]["id"]), copy.deepcopy(message["chat"]))
                bot.store_message(copy.deepcopy(message))
        query = payload.get("callback_query")
        if isinstance(query, dict) and "id" in query:
            bot.callback_queries.setdefault(str(query["id"]), False)
        return self._queue(bot, payload)

    def redeliver(self, token: str, update_id: int) -> int:
        """Deliver an earlier update again under a new update_id (Telegram does this when a
        delivery is not confirmed in time); returns the new id."""
        bot = self._bot(token)
        if update_id not in bot.history:
            raise KeyError(f"no update {update_id} for this bot")
        payload = {k: v for k, v in bot.history[update_id].items() if k != "update_id"}
        return self._queue(bot, payload)

    # --- what the bot did -----------------------------------------------------------------

    def outgoing(self, token: str, chat_id: int | None = None) -> list[OutgoingRecord]:
        """Messages the bot sent, edited or deleted, oldest first (optionally for one chat)."""
        records = self._bot(token).outgoing
        return [r for r in records if chat_id is None or r.chat_id == chat_id]

    def calls(self, token: str, method: str | None = None) -> list[ApiCall]:
        """Every API call the bot made (optionally only one method, any spelling)."""
        calls = self._bot(token).calls
        if method is None:
            return list(calls)
        return [c for c in calls if c.method.lower() == method.lower()]

    def pending_updates(self, token: str) -> int:
        """Updates queued but not yet confirmed by a getUpdates ``offset``."""
        return len(self._bot(token).updates)

    def history(self, token: str) -> list[JSONDict]:
        """Every update ever queued for the bot, confirmed or not, in update_id order."""
        return [copy.deepcopy(u) for u in self._bot(token).history.values()]

    def messages(self, token: str, chat_id: int) -> list[JSONDict]:
        """The chat as it stands now (both directions, edits applied, deletions gone)."""
        bot = self._bot(token)
        return [
            copy.deepcopy(bot.messages[(chat_id, mid)])
            for mid in bot.chat_order.get(chat_id, [])
            if (chat_id, mid) in bot.messages
        ]

    def commands(
        self, token: str, scope: JSONDict | None = None, language_code: str = ""
    ) -> list[JSONDict]:
        """Commands the bot set for this scope (default scope if None) and language."""
        key = (_scope_key(scope), language_code)
        return copy.deepcopy(self._bot(token).commands.get(key, []))

    def file(self, token: str, file_id: str) -> StoredFile:
        """A file known to the bot (uploaded by it or sent to it)."""
        return self._bot(token).files[file_id]

    def route_webhook(self, public_url: str, local_url: str) -> None:
        """Deliver webhook posts for ``public_url`` (or a URL under it) to ``local_url``.

        A bot's webhook must be a public https URL; the sandbox never connects outside
        loopback, so this plays the TLS-terminating proxy in front of the bot: e.g.
        ``route_webhook("https://bot.example.org", "http://127.0.0.1:8443")`` sends posts for
        ``https://bot.example.org/telegram/hook`` to ``http://127.0.0.1:8443/telegram/hook``.
        A webhook with no route fails every delivery, as an unreachable host would."""
        self._routes[public_url.rstrip("/")] = local_url.rstrip("/")

    def webhook_deliveries(self, token: str) -> list[WebhookDelivery]:
        """Every attempt to post an update to the bot's webhook, oldest first."""
        return list(self._bot(token).deliveries)

    def add_listener(self, listener: Listener) -> None:
        """Call ``listener(token, record)`` for every new outgoing record (e.g. a demo log)."""
        self._listeners.append(listener)

    async def wait_for(
        self,
        token: str,
        what: int | Predicate = 1,
        *,
        chat_id: int | None = None,
        since: int = 0,
        timeout: float = DEFAULT_WAIT,  # noqa: ASYNC109 -- the test-facing API reads best this way
    ) -> list[OutgoingRecord]:
        """Wait until the bot has produced ``what`` outgoing records (an int), or one matching
        ``what`` (a predicate), counting records with ``seq >= since`` in ``chat_id`` (any chat
        if None). Returns all such records (only the matching ones for a predicate).
        Raises TimeoutError listing what the bot did send, and its failed API calls."""
        bot = self._bot(token)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            records = [r for r in bot.outgoing[since:] if chat_id is None or r.chat_id == chat_id]
            if isinstance(what, int):
                if len(records) >= what:
                    return records
            else:
                matching = [r for r in records if what(r)]
                if matching:
                    return matching
            remaining = deadline - loop.time()
            if remaining <= 0 or (self._closing is not None and self._closing.is_set()):
                raise TimeoutError(self._wait_report(bot, what, chat_id, since, timeout, records))
            await bot.outgoing_signal.wait(remaining)

    async def wait_for_call(
        self,
        token: str,
        method: str,
        predicate: Callable[[ApiCall], bool] | None = None,
        *,
        since: int = 0,
        timeout: float = DEFAULT_WAIT,  # noqa: ASYNC109 -- same shape as wait_for
    ) -> ApiCall:
        """Wait until the bot has called ``method`` (any spelling; calls with ``seq >= since``)
        and, if given, ``predicate(call)`` holds; returns that call. A call is visible while
        still in progress (``status is None``), e.g. a long-polling getUpdates."""
        bot = self._bot(token)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            for call in bot.calls[since:]:
                if call.method.lower() == method.lower() and (predicate is None or predicate(call)):
                    return call
            remaining = deadline - loop.time()
            if remaining <= 0 or (self._closing is not None and self._closing.is_set()):
                made = ", ".join(f"{c.method}->{c.status}" for c in bot.calls[since:][-20:])
                raise TimeoutError(
                    f"waited {timeout:g}s for a {method} call; calls since #{since}: "
                    f"{made or '(none)'}"
                )
            await bot.calls_signal.wait(remaining)

    async def wait_for_delivery(
        self,
        token: str,
        predicate: Callable[[WebhookDelivery], bool] | None = None,
        *,
        count: int = 1,
        since: int = 0,
        timeout: float = DEFAULT_WAIT,  # noqa: ASYNC109 -- same shape as wait_for
    ) -> list[WebhookDelivery]:
        """Wait until ``count`` webhook delivery attempts (from the ``since``-th on) match
        ``predicate`` (default: answered 2xx); returns the matching ones."""
        bot = self._bot(token)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            matching = [
                d for d in bot.deliveries[since:] if (predicate(d) if predicate else d.delivered)
            ]
            if len(matching) >= count:
                return matching
            remaining = deadline - loop.time()
            if remaining <= 0 or (self._closing is not None and self._closing.is_set()):
                made = ", ".join(
                    f"{d.update_id}->{d.status or d.error}" for d in bot.deliveries[since:][-20:]
                )
                raise TimeoutError(
                    f"waited {timeout:g}s for {count} matching webhook deliveries; "
                    f"attempts since #{since}: {made or '(none)'}"
                )
            await bot.deliveries_signal.wait(remaining)

    # --- fault injection ------------------------------------------------------------------

    def set_latency(self, method: str | None, ms: float) -> None:
        """Delay answers to ``method`` (any spelling; None = every method without its own
        setting) by ``ms`` milliseconds; 0 removes the setting."""
        key = method.lower() if method is not None else None
        if ms <= 0:
            self._latency.pop(key, None)
        else:
            self._latency[key] = ms / 1000.0

    def inject_faults(
        self,
        method: str | None,
        status: int,
        count: int = 1,
        retry_after: int | None = None,
        *,
        description: str | None = None,
        after_execute: bool = False,
        token: str | None = None,
    ) -> None:
        """Answer the next ``count`` calls of ``method`` (None = any) with HTTP ``status``.

        429 carries ``parameters.retry_after`` (default 1 s), so PTB raises RetryAfter.
        The call is not executed, unless ``after_execute``: then it takes effect and only the
        answer is lost (the "did my message go out?" case behind duplicate sends).
        """
        if status == 429 and retry_after is None:
            retry_after = 1
        if description is None:
            description = _STATUS_TEXT.get(status, "Error")
            if status == 429:
                description = f"Too Many Requests: retry after {retry_after}"
            elif status == 403:
                description = "Forbidden: bot was blocked by the user"
            elif status == 400:
                description = "Bad Request: injected fault"
        self._faults.append(
            _Fault(
                method=method.lower() if method is not None else None,
                token=token,
                status=status,
                remaining=count,
                description=description,
                retry_after=retry_after,
                after_execute=after_execute,
            )
        )

    def drop_connections(self, count: int = 1, method: str | None = None) -> None:
        """Close the connection without any answer for the next ``count`` calls of ``method``
        (None = any); PTB sees a NetworkError. The call is not executed."""
        self._drops.append(_Drop(method.lower() if method is not None else None, count))

    def hold_answers(
        self, method: str, chats: int | None, *, token: str | None = None
    ) -> AnswerHold:
        """Hold the answers to ``method`` (any spelling; calls of ``token``'s bot, or of any bot
        if None) until calls for ``chats`` distinct chats wait at once (None: until released);
        see ``AnswerHold``. A call is visible to ``wait_for_call`` (``status is None``) while
        it is held. ``clear_faults`` and ``stop`` release every hold."""
        if chats is not None and chats < 1:
            raise ValueError("chats must be at least 1")
        hold = AnswerHold(method, chats, token)
        self._holds.append(hold)
        return hold

    def clear_faults(self) -> None:
        """Forget pending faults, dropped connections and latencies; release held answers."""
        self._faults.clear()
        self._drops.clear()
        self._latency.clear()
        for hold in self._holds:
            hold.release()
        self._holds.clear()

    # --- HTTP -----------------------------------------------------------------------------

    async def _handle_method(self, request: web.Request) -> web.StreamResponse:
        token = request.match_info["token"]
        bot = self._bots.get(token)
        if bot is None:
            # Telegram: a well-formed but unknown token is 401; anything else is 404.
            if _TOKEN_RE.match(token):
                return _error_response(ApiError(401, "Unauthorized"))
            return _error_response(ApiError(404, "Not Found"))
        entry = self._handlers.get(request.match_info["method"].lower())
        method_name = entry[0] if entry else request.match_info["method"]
        call = ApiCall(
            seq=len(bot.calls),
            method=method_name,
            params={},
            files={},
            http_method=request.method,
            time=self._clock(),
        )
        bot.calls.append(call)
        try:
            return await self._answer(bot, entry, call, request)
        finally:
            bot.calls_signal.notify()

    async def _answer(
        self,
        bot: _BotState,
        entry: tuple[str, Callable[[_BotState, _Request], Awaitable[Any]]] | None,
        call: ApiCall,
        request: web.Request,
    ) -> web.StreamResponse:
        method_name = call.method
        try:
            if entry is None:
                raise ApiError(404, "Not Found")
            call.params, call.files = await _read_params(request)
            bot.calls_signal.notify()  # visible to wait_for_call while still in progress
            await self._hold(method_name, bot.token, call.params.get("chat_id"))
            await self._delay(method_name)
            if self._take_drop(method_name):
                call.status, call.description = 0, "connection dropped (injected)"
                return await _drop(request)
            fault = self._take_fault(method_name, bot.token)
            if fault is not None and not fault.after_execute:
                raise _fault_error(fault)
            result = await entry[1](bot, _Request(method_name, call.params, call.files))
            if fault is not None:
                raise _fault_error(fault)
        except ApiError as error:
            call.status, call.description = error.status, error.description
            return _error_response(error)
        call.status = 200
        return _ok_response(result)

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        bot = self._bots.get(request.match_info["token"])
        stored = bot.files_by_path.get(request.match_info["path"]) if bot else None
        if stored is None:
            return _error_response(ApiError(404, "Not Found"))
        return web.Response(
            body=stored.content,
            content_type=stored.mime_type or "application/octet-stream",
        )

    async def _delay(self, method: str) -> None:
        seconds = self._latency.get(method.lower(), self._latency.get(None, 0.0))
        if seconds > 0 and self._closing is not None:
            # Waiting on the closing event, not sleeping, so stop() is never held up.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), seconds)

    async def _hold(self, method: str, token: str, chat_ref: Any) -> None:
        chat: int | str | None
        try:
            chat = int(chat_ref)
        except (TypeError, ValueError):
            chat = None if chat_ref is None else str(chat_ref)
        for hold in [h for h in self._holds if h.covers(method, token)]:
            await hold.hold(chat)
        self._holds = [h for h in self._holds if not h.released]

    def _take_drop(self, method: str) -> bool:
        for drop in self._drops:
            if drop.remaining > 0 and drop.method in (None, method.lower()):
                drop.remaining -= 1
                return True
        return False

    def _take_fault(self, method: str, token: str) -> _Fault | None:
        for fault in self._faults:
            if (
                fault.remaining > 0
                and fault.method in (None, method.lower())
                and fault.token in (None, token)
            ):
                fault.remaining -= 1
                return fault
        return None

    # --- Bot API methods ------------------------------------------------------------------

    async def _true(self, bot: _BotState, req: _Request) -> bool:
        return True

    async def _get_me(self, bot: _BotState, req: _Request) -> JSONDict:
        return bot.user

    async def _get_updates(self, bot: _BotState, req: _Request) -> list[JSONDict]:
        if bot.webhook is not None:
            raise _webhook_conflict()
        offset = req.int_("offset", 0) or 0
        limit = min(max(req.int_("limit", 100) or 100, 1), 100)
        timeout = req.get("timeout") or 0
        if not isinstance(timeout, int | float):
            raise _bad("invalid timeout specified")
        allowed = req.get("allowed_updates")
        if isinstance(allowed, list):
            # Recorded only (Telegram remembers it); the sandbox delivers every update type.
            bot.allowed_updates = [str(a) for a in allowed]
        bot.confirm(offset)
        # Like Telegram, a newer getUpdates ends an older one still waiting with 409.
        bot.poll_generation += 1
        generation = bot.poll_generation
        bot.update_signal.notify()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + min(float(timeout), 50.0)
        while not bot.updates:
            remaining = deadline - loop.time()
            if remaining <= 0 or self._closing is None or self._closing.is_set():
                break
            await bot.update_signal.wait(remaining)
            if bot.webhook is not None:  # set while this call waited
                raise _webhook_conflict()
            if bot.poll_generation != generation:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; "
                    "make sure that only one bot instance is running",
                )
        return bot.updates[:limit]

    async def _set_webhook(self, bot: _BotState, req: _Request) -> bool:
        url = req.str_("url") or ""
        if not url:  # an empty URL removes the webhook, as deleteWebhook does
            return await self._delete_webhook(bot, req)
        if not url.startswith("https://"):
            raise _bad("bad webhook: An HTTPS URL must be provided for webhook")
        secret = req.str_("secret_token")
        if secret is not None and not _SECRET_TOKEN_RE.match(secret):
            raise _bad("secret token contains unallowed characters")
        connections = req.int_("max_connections", _WEBHOOK_CONNECTIONS) or _WEBHOOK_CONNECTIONS
        if not 1 <= connections <= _WEBHOOK_MAX_CONNECTIONS:
            raise _bad("bad webhook: max_connections must be between 1 and 100")
        allowed = req.get("allowed_updates")
        if isinstance(allowed, list):
            bot.allowed_updates = [str(a) for a in allowed]  # recorded; every type is sent
        await self._stop_pushing(bot)
        if req.bool_("drop_pending_updates"):
            bot.updates.clear()
        bot.webhook = _Webhook(url, secret or None, connections)
        bot.webhook.pusher = asyncio.create_task(self._push_updates(bot, bot.webhook))
        bot.update_signal.notify()  # a long poll still waiting ends with 409
        return True

    async def _delete_webhook(self, bot: _BotState, req: _Request) -> bool:
        await self._stop_pushing(bot)
        if req.bool_("drop_pending_updates"):
            bot.updates.clear()
        return True

    async def _get_webhook_info(self, bot: _BotState, req: _Request) -> JSONDict:
        hook = bot.webhook
        info: JSONDict = {
            "url": hook.url if hook is not None else "",
            "has_custom_certificate": False,
            "pending_update_count": len(bot.updates),
        }
        if hook is not None:
            info["max_connections"] = hook.max_connections
            if hook.last_error_date is not None:
                info["last_error_date"] = hook.last_error_date
                info["last_error_message"] = hook.last_error_message
        if bot.allowed_updates is not None:
            info["allowed_updates"] = bot.allowed_updates
        return info

    # --- webhook deliveries ---------------------------------------------------------------

    async def _stop_pushing(self, bot: _BotState) -> None:
        """Forget the webhook; posts under way are abandoned (their updates stay queued)."""
        hook, bot.webhook = bot.webhook, None
        if hook is not None and hook.pusher is not None:
            hook.pusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await hook.pusher

    async def _push_updates(self, bot: _BotState, hook: _Webhook) -> None:
        """Post the bot's queued updates in update_id order: up to ``max_connections`` at once,
        never two of one chat at once (so each chat's updates arrive in order)."""
        deliveries: set[asyncio.Task[None]] = set()
        try:
            while True:
                for update in list(bot.updates):
                    if len(hook.delivering) >= hook.max_connections:
                        break
                    update_id, chat = int(update["update_id"]), _update_chat(update)
                    if update_id in hook.delivering or chat in hook.busy_chats:
                        continue
                    hook.delivering.add(update_id)
                    if chat is not None:
                        hook.busy_chats.add(chat)
                    task = asyncio.create_task(self._deliver(bot, hook, update, chat))
                    deliveries.add(task)
                    task.add_done_callback(deliveries.discard)
                await bot.update_signal.wait(_IDLE_WAKE)  # woken by new updates and finished posts
        finally:
            for task in list(deliveries):
                task.cancel()
            await asyncio.gather(*deliveries, return_exceptions=True)

    async def _deliver(
        self, bot: _BotState, hook: _Webhook, update: JSONDict, chat: int | None
    ) -> None:
        """Post one update until the webhook answers 2xx, pausing longer after each failure."""
        update_id = int(update["update_id"])
        pause = _WEBHOOK_RETRY_FIRST
        try:
            while True:
                status, error = await self._post(hook, update)
                delivery = WebhookDelivery(update_id, hook.url, status, error, self._clock())
                bot.deliveries.append(delivery)
                if delivery.delivered:
                    bot.updates = [u for u in bot.updates if u["update_id"] != update_id]
                bot.deliveries_signal.notify()
                if delivery.delivered:
                    return
                hook.last_error_date = _timestamp(self._clock())
                hook.last_error_message = error
                await asyncio.sleep(pause)
                pause = min(pause * 2, _WEBHOOK_RETRY_MAX)
        finally:
            hook.delivering.discard(update_id)
            if chat is not None:
                hook.busy_chats.discard(chat)
            bot.update_signal.notify()  # the pusher may start the next ones

    async def _post(self, hook: _Webhook, update: JSONDict) -> tuple[int | None, str | None]:
        """One POST: the webhook's HTTP status (None: no answer) and the error Telegram shows."""
        target = self._webhook_target(hook.url)
        if target is None:
            return None, "Failed to resolve host: no route_webhook() to a local server"
        if self._http is None:
            return None, "Connection refused"
        headers = {"Content-Type": "application/json"}
        if hook.secret_token is not None:
            headers[_SECRET_HEADER] = hook.secret_token
        try:
            async with self._http.post(target, data=_dumps(update), headers=headers) as answer:
                await answer.read()  # a method call in the answer is not executed here
                if 200 <= answer.status < 300:
                    return answer.status, None
                return answer.status, f"Wrong response from the webhook: {answer.status} " + (
                    answer.reason or ""
                )
        except TimeoutError:
            return None, "Read timeout expired"
        except aiohttp.ClientConnectorError:
            return None, "Connection refused"
        except aiohttp.ClientError as error:
            return None, f"Connection failed: {type(error).__name__}"

    def _webhook_target(self, url: str) -> str | None:
        """Where a public webhook URL is served locally: the longest route it falls under."""
        for public in sorted(self._routes, key=len, reverse=True):
            if url == public or url.startswith((public + "/", public + "?")):
                return self._routes[public] + url[len(public) :]
        return None

    async def _send_message(self, bot: _BotState, req: _Request) -> JSONDict:
        chat = self._chat_for_send(bot, req.require("chat_id"))
        text = req.get("text")
        if not isinstance(text, str) or not text.strip():
            raise _bad("message text is empty")
        parse_mode = req.str_("parse_mode")
        shown = self._render(text, parse_mode).strip()
        if not shown:
            raise _bad("message text is empty")
        if utf16_len(shown) > _MAX_TEXT:
            raise _bad("message is too long")
        fields: JSONDict = {"text": shown}
        if isinstance(req.get("entities"), list):
            fields["entities"] = req.get("entities")
        message = self._bot_message(bot, chat, req, fields)
        self._record(bot, req, message, text=text, parse_mode=parse_mode)
        return message

    async def _send_document(self, bot: _BotState, req: _Request) -> JSONDict:
        return await self._send_file(bot, req, "document")

    async def _send_photo(self, bot: _BotState, req: _Request) -> JSONDict:
        return await self._send_file(bot, req, "photo")

    async def _send_file(self, bot: _BotState, req: _Request, kind: str) -> JSONDict:
        chat = self._chat_for_send(bot, req.require("chat_id"))
        stored = self._input_file(bot, req, kind)
        caption = req.str_("caption")
        parse_mode = req.str_("parse_mode")
        fields: JSONDict = (
            {"document": stored.document_dict()}
            if kind == "document"
            else {"photo": stored.photo_sizes()}
        )
        if caption:
            shown = self._render(caption, parse_mode).strip()
            if utf16_len(shown) > _MAX_CAPTION:
                raise _bad("message caption is too long")
            if shown:
                fields["caption"] = shown
            if isinstance(req.get("caption_entities"), list):
                fields["caption_entities"] = req.get("caption_entities")
        message = self._bot_message(bot, chat, req, fields)
        self._record(
            bot,
            req,
            message,
            caption=caption,
            parse_mode=parse_mode,
            document=stored if kind == "document" else None,
            photo=stored if kind == "photo" else None,
        )
        return message

    async def _edit_message_text(self, bot: _BotState, req: _Request) -> JSONDict | bool:
        text = req.get("text")
        if not isinstance(text, str) or not text.strip():
            raise _bad("message text is empty")
        parse_mode = req.str_("parse_mode")
        shown = self._render(text, parse_mode).strip()
        if utf16_len(shown) > _MAX_TEXT:
            raise _bad("MESSAGE_TOO_LONG")
        changes: JSONDict = {"text": shown, "entities": req.get("entities")}
        return self._edit(bot, req, "text", changes, text=text, parse_mode=parse_mode)

    async def _edit_message_caption(self, bot: _BotState, req: _Request) -> JSONDict | bool:
        caption = req.str_("caption") or ""
        parse_mode = req.str_("parse_mode")
        shown = self._render(caption, parse_mode).strip()
        if utf16_len(shown) > _MAX_CAPTION:
            raise _bad("message caption is too long")
        changes: JSONDict = {
            "caption": shown or None,
            "caption_entities": req.get("caption_entities"),
        }
        return self._edit(bot, req, "caption", changes, caption=caption, parse_mode=parse_mode)

    async def _edit_message_reply_markup(self, bot: _BotState, req: _Request) -> JSONDict | bool:
        return self._edit(bot, req, None, {})

    def _edit(
        self,
        bot: _BotState,
        req: _Request,
        content: str | None,
        changes: JSONDict,
        **record: Any,
    ) -> JSONDict | bool:
        """Shared part of editMessage*: find the bot's message, refuse no-op edits, store."""
        if req.get("inline_message_id") is not None:
            # Inline messages live in chats the sandbox does not model; accept and log.
            self._record(bot, req, None, chat_id=0, message_id=None, **record)
            return True
        chat_id = self._chat_for_send(bot, req.require("chat_id"))["id"]
        message_id = req.int_("message_id")
        if message_id is None:
            raise _bad("message identifier is not specified")
        old = bot.messages.get((chat_id, message_id))
        if old is None:
            raise _bad("message to edit not found")
        if old.get("from", {}).get("id") != bot.id:
            raise _bad("message can't be edited")
        if content == "text" and "text" not in old:
            raise _bad("there is no text in the message to edit")
        if content == "caption" and "text" in old:
            raise _bad("there is no caption in the message to edit")
        new = dict(old)
        for key, value in changes.items():
            if value is None:
                new.pop(key, None)
            else:
                new[key] = value
        # Like Telegram, an edit without reply_markup removes the inline keyboard.
        markup = _inline_markup(req.get("reply_markup"))
        if markup is None:
            new.pop("reply_markup", None)
        else:
            new["reply_markup"] = markup
        if all(new.get(k) == old.get(k) for k in ("text", "caption", "reply_markup")):
            raise ApiError(400, _NOT_MODIFIED)
        new["edit_date"] = _timestamp(self._clock())
        bot.store_message(new)
        self._record(bot, req, new, **record)
        return new

    async def _delete_message(self, bot: _BotState, req: _Request) -> bool:
        chat_id = self._chat_for_send(bot, req.require("chat_id"))["id"]
        message_id = req.int_("message_id")
        if message_id is None or bot.messages.pop((chat_id, message_id), None) is None:
            raise _bad("message to delete not found")
        self._record(bot, req, None, chat_id=chat_id, message_id=message_id)
        return True

    async def _get_file(self, bot: _BotState, req: _Request) -> JSONDict:
        file_id = req.get("file_id")
        stored = bot.files.get(file_id) if isinstance(file_id, str) else None
        if stored is None:
            raise _bad("invalid file_id")
        if stored.size > _MAX_DOWNLOAD:
            raise _bad("file is too big")
        return stored.file_dict()

    async def _set_my_commands(self, bot: _BotState, req: _Request) -> bool:
        commands = req.get("commands")
        if not isinstance(commands, list):
            raise _bad("can't parse commands JSON object")
        if len(commands) > 100:
            raise _bad("BOT_COMMANDS_TOO_MUCH")
        cleaned: list[JSONDict] = []
        for item in commands:
            name = item.get("command") if isinstance(item, dict) else None
            if not isinstance(name, str) or not _COMMAND_NAME_RE.match(name):
                raise _bad("BOT_COMMAND_INVALID")
            description = item.get("description")
            if not isinstance(description, str) or not 1 <= len(description.strip()) <= 256:
                raise _bad("BOT_COMMAND_DESCRIPTION_INVALID")
            cleaned.append({"command": name, "description": description})
        key = self._commands_key(req)
        if cleaned:
            bot.commands[key] = cleaned
        else:
            bot.commands.pop(key, None)
        return True

    async def _get_my_commands(self, bot: _BotState, req: _Request) -> list[JSONDict]:
        return bot.commands.get(self._commands_key(req), [])

    async def _delete_my_commands(self, bot: _BotState, req: _Request) -> bool:
        bot.commands.pop(self._commands_key(req), None)
        return True

    def _commands_key(self, req: _Request) -> tuple[str, str]:
        scope = req.get("scope")
        if scope is not None and (not isinstance(scope, dict) or "type" not in scope):
            raise _bad("can't parse BotCommandScope JSON object")
        return _scope_key(scope), req.str_("language_code") or ""

    async def _answer_callback_query(self, bot: _BotState, req: _Request) -> bool:
        query_id = str(req.require("callback_query_id"))
        if bot.callback_queries.get(query_id, True):
            raise _bad("query is too old and response timeout expired or query ID is invalid")
        bot.callback_queries[query_id] = True
        return True

    async def _send_chat_action(self, bot: _BotState, req: _Request) -> bool:
        self._chat_for_send(bot, req.require("chat_id"))
        if req.get("action") not in _CHAT_ACTIONS:
            raise _bad("wrong parameter action in request")
        return True

    # --- helpers --------------------------------------------------------------------------

    def _bot(self, token: str) -> _BotState:
        try:
            return self._bots[token]
        except KeyError:
            raise KeyError(f"unknown bot token {token!r}; use create_bot() first") from None

    def _user(self, user: SimUser | int) -> SimUser:
        if isinstance(user, SimUser):
            self._users.setdefault(user.id, user)
            self._chats.setdefault(user.id, user.private_chat())
            return user
        if user not in self._users:
            raise KeyError(f"unknown user {user}; use make_user() first")
        return self._users[user]

    def _chat_for_send(self, bot: _BotState, chat_ref: Any) -> JSONDict:
        """The chat a bot call targets; Telegram's errors for unknown or blocked chats."""
        chat: JSONDict | None = None
        if isinstance(chat_ref, int) and not isinstance(chat_ref, bool):
            chat = self._chats.get(chat_ref)
        elif isinstance(chat_ref, str) and chat_ref.startswith("@"):
            name = chat_ref[1:].lower()
            chat = next(
                (c for c in self._chats.values() if str(c.get("username", "")).lower() == name),
                None,
            )
        if chat is None:
            raise _bad("chat not found")
        if chat["type"] == "private" and chat["id"] in bot.blocked_by:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        return chat

    def _render(self, text: str, parse_mode: str | None) -> str:
        if not self.validate_formatting:
            return text
        try:
            return plain_text(text, parse_mode)
        except FormatError as error:
            raise _bad(f"can't parse entities: {error}") from None

    def _bot_message(
        self, bot: _BotState, chat: JSONDict, req: _Request, fields: JSONDict
    ) -> JSONDict:
        """Build, number and store a Message the bot sends to ``chat``."""
        message: JSONDict = {
            "message_id": 0,
            "from": bot.user,
            "chat": chat,
            "date": _timestamp(self._clock()),
        }
        message.update(self._reply_fields(bot, int(chat["id"]), req))
        message.update(fields)
        markup = _inline_markup(req.get("reply_markup"))
        if markup is not None:  # Telegram only echoes inline keyboards in the Message
            message["reply_markup"] = markup
        message["message_id"] = bot.next_message_id(int(chat["id"]))
        bot.store_message(message)
        return message

    def _reply_fields(self, bot: _BotState, chat_id: int, req: _Request) -> JSONDict:
        params = req.get("reply_parameters")
        if params is None and req.get("reply_to_message_id") is not None:
            params = {"message_id": req.get("reply_to_message_id")}
        if params is None:
            return {}
        if not isinstance(params, dict) or not isinstance(params.get("message_id"), int):
            raise _bad("can't parse reply parameters JSON object")
        target_chat = params.get("chat_id", chat_id)
        target = bot.messages.get((target_chat, params["message_id"]))
        if target is not None:
            return {
                "reply_to_message": {k: v for k, v in target.items() if k != "reply_to_message"}
            }
        if params.get("allow_sending_without_reply") or req.bool_("allow_sending_without_reply"):
            return {}
        raise _bad("message to be replied not found")

    def _input_file(self, bot: _BotState, req: _Request, kind: str) -> StoredFile:
        """Resolve an InputFile parameter: a multipart part, attach://name, or a file_id."""
        value = req.get(kind)
        part: Upload | None
        if value is None:
            part = req.files.get(kind)
            if part is None:
                raise _bad(f"there is no {kind} in the request")
        elif isinstance(value, str) and value.startswith("attach://"):
            part = req.files.get(value.removeprefix("attach://"))
            if part is None:
                raise _bad(f"file {value} not found")
        elif isinstance(value, str):
            existing = bot.files.get(value)
            if existing is None:
                raise _bad("wrong file identifier/HTTP URL specified")
            if existing.kind != kind:
                raise _bad(f"can't use file of type {existing.kind.title()} as {kind.title()}")
            return existing
        else:
            raise _bad(f"wrong type of the {kind} parameter")
        if not part.content:
            raise _bad("file must be non-empty")
        if kind == "photo":
            size = image_size(part.content)
            if size is None:
                raise _bad("IMAGE_PROCESS_FAILED")
            return self._store_file(bot, "photo", part.content, None, "image/jpeg", size)
        mime = part.content_type
        if not mime or mime == "application/octet-stream":
            mime = mimetypes.guess_type(part.filename or "")[0] or mime
        return self._store_file(bot, "document", part.content, part.filename, mime)

    def _store_file(
        self,
        bot: _BotState,
        kind: str,
        content: bytes,
        filename: str | None,
        mime_type: str | None,
        size: tuple[int, int] | None = None,
    ) -> StoredFile:
        bot.file_counter += 1
        if kind == "photo":
            file_path = f"photos/file_{bot.file_counter}.jpg"
            prefix = "AgACAgUAAxkBAAI"
        else:
            suffix = PurePosixPath(filename or "").suffix
            file_path = f"documents/file_{bot.file_counter}{suffix}"
            prefix = "BQACAgUAAxkBAAI"
        stored = StoredFile(
            file_id=prefix + secrets.token_urlsafe(48),
            file_unique_id="AgAD" + secrets.token_urlsafe(9),
            file_path=file_path,
            kind=kind,
            content=content,
            filename=filename,
            mime_type=mime_type,
            width=size[0] if size else None,
            height=size[1] if size else None,
        )
        bot.files[stored.file_id] = stored
        bot.files_by_path[stored.file_path] = stored
        return stored

    def _caption_fields(self, caption: str | None) -> JSONDict:
        if not caption:
            return {}
        fields: JSONDict = {"caption": caption}
        entities = command_entities(caption)
        if entities:
            fields["caption_entities"] = entities
        return fields

    def _incoming(
        self,
        token: str,
        user: SimUser | int,
        fields: JSONDict,
        chat_id: int | None,
        date: dt.datetime | None,
        reply_to_message_id: int | None,
    ) -> JSONDict:
        """Build, store and queue a message a simulated user sends."""
        bot, sender = self._bot(token), self._user(user)
        if chat_id is None or chat_id == sender.id:
            chat = self._chats[sender.id]
        elif chat_id < 0:
            chat = self._chats.get(chat_id) or self.make_group(chat_id)
        else:
            raise ValueError(f"user {sender.id} cannot write in another user's private chat")
        message: JSONDict = {
            "message_id": bot.next_message_id(int(chat["id"])),
            "from": sender.to_dict(),
            "chat": chat,
            "date": _timestamp(date or self._clock()),
        }
        if reply_to_message_id is not None:
            target = bot.messages.get((int(chat["id"]), reply_to_message_id))
            if target is None:
                raise ValueError(f"no message {reply_to_message_id} to reply to")
            message["reply_to_message"] = {
                k: v for k, v in target.items() if k != "reply_to_message"
            }
        message.update(fields)
        bot.store_message(message)
        self._queue(bot, {"message": message})
        return copy.deepcopy(message)

    def _queue(self, bot: _BotState, payload: JSONDict) -> int:
        update_id = bot.next_update_id
        bot.next_update_id += 1
        # Deep copies: later edits of stored messages must not rewrite queued updates.
        update = {"update_id": update_id, **copy.deepcopy(payload)}
        bot.updates.append(update)
        bot.history[update_id] = update
        bot.update_signal.notify()
        return update_id

    def _record(
        self,
        bot: _BotState,
        req: _Request,
        message: JSONDict | None,
        *,
        chat_id: int | None = None,
        message_id: int | None = None,
        **fields: Any,
    ) -> None:
        markup = req.get("reply_markup")
        reply = req.get("reply_parameters")
        record = OutgoingRecord(
            seq=len(bot.outgoing),
            method=req.method,
            chat_id=int(message["chat"]["id"]) if message else (chat_id or 0),
            message_id=int(message["message_id"]) if message else message_id,
            time=self._clock(),
            reply_markup=copy.deepcopy(markup) if isinstance(markup, dict) else None,
            reply_parameters=copy.deepcopy(reply) if isinstance(reply, dict) else None,
            params=copy.deepcopy(req.params),
            message=copy.deepcopy(message),
            **fields,
        )
        bot.outgoing.append(record)
        bot.outgoing_signal.notify()
        for listener in self._listeners:
            listener(bot.token, record)

    def _wait_report(
        self,
        bot: _BotState,
        what: int | Predicate,
        chat_id: int | None,
        since: int,
        timeout: float,
        records: list[OutgoingRecord],
    ) -> str:
        wanted = f"{what} record(s)" if isinstance(what, int) else "a record matching predicate"
        where = "any chat" if chat_id is None else f"chat {chat_id}"
        lines = [
            f"waited {timeout:g}s for {wanted} in {where} (seq >= {since}); "
            f"found {len(records)}. Everything the bot sent:"
        ]
        lines += [f"  {r.summary()}" for r in bot.outgoing] or ["  (nothing)"]
        failed = [c for c in bot.calls if c.status is not None and c.status != 200]
        if failed:
            lines.append("Failed API calls:")
            lines += [f"  {c.method} -> {c.status} {c.description}" for c in failed[-10:]]
        lines.append(f"Updates not yet fetched/confirmed by the bot: {len(bot.updates)}")
        return "\n".join(lines)


def _webhook_conflict() -> ApiError:
    return ApiError(
        409,
        "Conflict: can't use getUpdates method while webhook is active; "
        "use deleteWebhook to delete the webhook first",
    )


def _update_chat(update: JSONDict) -> int | None:
    """The chat an update belongs to (the user's, for a button press); None if neither."""
    for value in update.values():
        if isinstance(value, dict):
            chat = value.get("chat") or (value.get("message") or {}).get("chat")
            if isinstance(chat, dict) and isinstance(chat.get("id"), int):
                return int(chat["id"])
            sender = value.get("from")
            if isinstance(sender, dict) and isinstance(sender.get("id"), int):
                return int(sender["id"])
    return None


def _scope_key(scope: JSONDict | None) -> str:
    return json.dumps(scope or {"type": "default"}, sort_keys=True)


def _inline_markup(markup: Any) -> JSONDict | None:
    if isinstance(markup, dict) and "inline_keyboard" in markup:
        return copy.deepcopy(markup)
    return None


def _fault_error(fault: _Fault) -> ApiError:
    parameters = {"retry_after": fault.retry_after} if fault.retry_after is not None else None
    return ApiError(fault.status, fault.description, parameters)


async def _drop(request: web.Request) -> web.StreamResponse:
    """Close the connection without answering, as a broken network path would."""
    if request.transport is not None:
        request.transport.abort()
    # aiohttp will find the transport closed and skip writing this response.
    return web.Response(status=500)


async def _read_params(request: web.Request) -> tuple[JSONDict, dict[str, Upload]]:
    """Decode query string + body (urlencoded, multipart or JSON) into typed parameters."""
    raw: dict[str, Any] = dict(request.query)
    files: dict[str, Upload] = {}
    if request.can_read_body:
        content_type = request.content_type
        if content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise _bad("can't parse JSON encoded request body") from None
            if not isinstance(body, dict):
                raise _bad("request body must be a JSON object")
            raw.update(body)
        elif content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    files[key] = Upload(value.file.read(), value.filename, value.content_type)
                elif isinstance(value, bytes | bytearray):
                    raw[key] = bytes(value).decode("utf-8", "replace")
                else:
                    raw[key] = value
    return {key: _coerce(key, value) for key, value in raw.items()}, files


def _coerce(name: str, value: Any) -> Any:
    """Turn a form/query string into the parameter's Bot API type (JSON bodies pass mostly
    untouched: their values are typed already)."""
    if not isinstance(value, str):
        return value
    try:
        if name in _JSON_PARAMS:
            return json.loads(value)
        if name in _CHAT_ID_PARAMS:
            return int(value) if re.fullmatch(r"-?[0-9]+", value) else value
        if name in _INT_PARAMS:
            return int(value)
        if name in _FLOAT_PARAMS:
            return float(value)
    except ValueError:
        if name == "reply_markup":
            raise _bad("can't parse reply keyboard markup JSON object") from None
        raise _bad(f"can't parse {name}") from None
    if name in _BOOL_PARAMS:
        lowered = value.lower()
        if lowered in ("true", "1"):
            return True
        if lowered in ("false", "0", ""):
            return False
        raise _bad(f"can't parse {name}")
    return value
