"""What the sandbox knows, and the lookups every part of it shares.

``SandboxState`` holds the simulated world: the bots (each with its update queue, messages,
files, command menus, outgoing record and API calls: ``_BotState``), the users and chats, and
the bookkeeping of the other parts (faults, webhook routes, the HTTP session). The parts that
act on it are mixins over this class: `bot_api.py` (what the bot calls), `webhooks.py`
(delivering updates), `faults.py` (injected trouble) and `driver.py` (what tests call);
`server.py` puts them together as ``BotApiSandbox``.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import datetime as dt
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

import aiohttp
from aiohttp import web

from sandbox.models import (
    ApiCall,
    JSONDict,
    OutgoingRecord,
    SimUser,
    StoredFile,
    WebhookDelivery,
)

if TYPE_CHECKING:
    from sandbox.faults import AnswerHold, _Drop, _Fault

Listener = Callable[[str, OutgoingRecord], None]


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


class SandboxState:
    """The sandbox's state: bots, users, chats, and what the other parts keep between calls."""

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

    def _queue(self, bot: _BotState, payload: JSONDict) -> int:
        update_id = bot.next_update_id
        bot.next_update_id += 1
        # Deep copies: later edits of stored messages must not rewrite queued updates.
        update = {"update_id": update_id, **copy.deepcopy(payload)}
        bot.updates.append(update)
        bot.history[update_id] = update
        bot.update_signal.notify()
        return update_id


def _scope_key(scope: JSONDict | None) -> str:
    return json.dumps(scope or {"type": "default"}, sort_keys=True)
