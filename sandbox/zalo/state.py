"""What the Zalo sandbox knows, and the lookups every part of it shares.

``ZaloState`` holds the simulated world: the bots (``_ZaloBot``: token, ``getMe`` profile,
quota, the people and groups it knows, its pending events, webhook, and the logs of what it
did), the API calls, and the bookkeeping of the other parts (faults, held calls, webhook
routes, the HTTP session). The parts that act on it are mixins over this class, in a line:
`faults.py` → `webhooks.py` → `api.py` → `driver.py` → `server.py` (``ZaloSandbox``).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import ipaddress
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

from sandbox.state import _Signal
from sandbox.zalo.models import (
    ApiCall,
    ChatAction,
    PayloadForm,
    PhotoFetch,
    SentMessage,
    SentPhoto,
    WebhookDelivery,
    ZaloEvent,
)

if TYPE_CHECKING:
    from sandbox.zalo.faults import ZaloHold, _Fault

Listener = Callable[[str, SentMessage | SentPhoto], None]
BotRef = str  # a bot's token or its id
DEFAULT_QUOTA = 3000  # the Basic plan's messages per month


def millis(moment: dt.datetime) -> int:
    """A date as the platform writes it: milliseconds since the epoch."""
    if moment.tzinfo is None:
        raise ValueError("dates given to the sandbox must be timezone-aware")
    return int(moment.timestamp() * 1000)


def scoped_id(*parts: str) -> str:
    """A stable id for a person or group as one bot sees it: 20 hex digits, different for
    the same person on two bots (as on Zalo), the same on every run."""
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:20]


@dataclass
class _Person:
    key: str  # the name the test uses for this person
    user_id: str  # their id on this bot (also their private chat's id)
    display_name: str


@dataclass
class _Group:
    key: str
    chat_id: str
    name: str


@dataclass
class _Hook:
    """A bot's webhook while it is set."""

    url: str
    secret_token: str
    updated_at: int  # ms


@dataclass
class _ZaloBot:
    """Everything the sandbox knows about one bot."""

    token: str
    bot_id: str
    account_name: str
    account_type: str
    can_join_groups: bool
    quota: int
    lose_unpolled: bool | None  # None: the sandbox's setting
    used: int = 0  # successful sendMessage/sendPhoto since the last reset
    webhook: _Hook | None = None
    webhook_form: PayloadForm = "wrapped"
    webhook_updated_at: int | None = None
    people: dict[str, _Person] = field(default_factory=dict)
    people_by_id: dict[str, _Person] = field(default_factory=dict)
    groups: dict[str, _Group] = field(default_factory=dict)
    groups_by_id: dict[str, _Group] = field(default_factory=dict)
    private_chats: set[str] = field(default_factory=set)  # people who wrote to the bot
    pending: deque[ZaloEvent] = field(default_factory=deque)  # for the next getUpdates
    pollers: int = 0  # getUpdates calls under way
    message_counter: int = 0
    events: list[ZaloEvent] = field(default_factory=list)
    sent: list[SentMessage] = field(default_factory=list)
    photos: list[SentPhoto] = field(default_factory=list)
    out_seq: int = 0
    fetches: list[PhotoFetch] = field(default_factory=list)
    actions: list[ChatAction] = field(default_factory=list)
    deliveries: list[WebhookDelivery] = field(default_factory=list)
    chat_locks: dict[str, asyncio.Lock] = field(default_factory=dict)
    event_signal: _Signal = field(default_factory=_Signal)  # new pending event
    sent_signal: _Signal = field(default_factory=_Signal)  # a message or photo went out
    deliveries_signal: _Signal = field(default_factory=_Signal)
    taken_signal: _Signal = field(default_factory=_Signal)  # an event reached the bot

    def next_message_id(self) -> str:
        self.message_counter += 1
        return scoped_id("message", self.bot_id, str(self.message_counter))

    def take(self, event: ZaloEvent) -> None:
        """The event reached the bot (a getUpdates answer, a webhook's 2xx)."""
        event.taken = True
        self.taken_signal.notify()

    def chat_known(self, chat_id: str) -> bool:
        """Whether the bot may write to the chat: a person who wrote to it, or its group."""
        return chat_id in self.private_chats or chat_id in self.groups_by_id

    def profile(self) -> dict[str, object]:
        """``getMe``'s result."""
        return {
            "id": self.bot_id,
            "account_name": self.account_name,
            "account_type": self.account_type,
            "can_join_groups": self.can_join_groups,
        }


class ZaloState:
    """The sandbox's state: bots, calls, and what the other parts keep between calls."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        clock: Callable[[], dt.datetime] | None = None,
        lose_unpolled: bool = False,
    ) -> None:
        """``port=0`` picks a free port. ``clock`` (aware datetimes) dates events and sends.
        ``lose_unpolled=True`` drops what arrives while nobody polls and no webhook is set,
        as the real platform does (default: kept for the next getUpdates)."""
        self.host = host
        self._requested_port = port
        self._port: int | None = None
        self._clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self.lose_unpolled = lose_unpolled
        self._bots: dict[str, _ZaloBot] = {}  # by token
        self._bots_by_id: dict[str, _ZaloBot] = {}
        self._calls: list[ApiCall] = []
        self._calls_signal = _Signal()
        self._faults: list[_Fault] = []
        self._drops: dict[str | None, int] = {}  # method (None: any) -> connections to drop
        self._holds: list[ZaloHold] = []
        self._outage = False
        self._routes: dict[str, str] = {}  # public URL prefix -> local URL prefix
        self._listeners: list[Listener] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._http: aiohttp.ClientSession | None = None
        self._runner: web.AppRunner | None = None
        self._closing: asyncio.Event | None = None

    def _bot(self, ref: BotRef) -> _ZaloBot:
        """A bot by its token or its id."""
        bot = self._bots.get(ref) or self._bots_by_id.get(ref)
        if bot is None:
            raise KeyError("unknown bot; use add_bot() first")  # never echo a token
        return bot

    def _now_ms(self) -> int:
        return millis(self._clock())

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        """Run a background job of the sandbox (cancelled by stop())."""
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _closed(self) -> bool:
        return self._closing is not None and self._closing.is_set()

    async def _pause(self, seconds: float) -> None:
        """Wait ``seconds`` or until stop(), whichever comes first."""
        if self._closing is None:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._closing.wait(), seconds)

    def route_webhook(self, public_url: str, local_url: str) -> None:
        """Serve ``public_url`` (and every URL under it) from ``local_url``: webhook posts and
        photo fetches for ``https://bot.example.org/...`` go to ``http://127.0.0.1:8443/...``.
        The sandbox never leaves loopback: this plays the TLS-terminating proxy."""
        self._routes[public_url.rstrip("/")] = local_url.rstrip("/")

    def _target(self, url: str) -> str | None:
        """Where the sandbox connects for ``url``: a route, or the URL itself when it is on
        loopback; None for anything else (an unreachable host, for the sandbox)."""
        for public in sorted(self._routes, key=len, reverse=True):
            if url == public or url.startswith((public + "/", public + "?")):
                return self._routes[public] + url[len(public) :]
        parts = urlsplit(url)
        if parts.scheme in ("http", "https") and _is_loopback(parts.hostname):
            return url
        return None


def _is_loopback(host: str | None) -> bool:
    if host is None:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
