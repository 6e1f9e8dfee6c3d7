"""Plain records the Zalo sandbox hands to tests: each event a simulated person sent, each
message and photo a bot sent, each webhook delivery attempt, each photo fetch and each API
call. Dates are aware datetimes here; on the wire they are milliseconds."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "ApiCall",
    "ChatAction",
    "PhotoFetch",
    "SentMessage",
    "SentPhoto",
    "WebhookDelivery",
    "ZaloEvent",
]

JSONDict = dict[str, Any]
PayloadForm = Literal["wrapped", "bare"]
SecretSent = Literal["right", "wrong", "missing"]


@dataclass
class ZaloEvent:
    """One event for a bot (a user's message), as the platform would send it: ``update`` is
    the bare payload ``{"event_name": ..., "message": {...}}``."""

    seq: int  # per bot, in the order the events happened
    bot_id: str
    event_name: str
    chat_id: str
    message_id: str
    update: JSONDict
    duplicate: bool = False  # a redelivery of an earlier event
    lost: bool = False  # dropped: nobody polled and no webhook (``lose_unpolled``)
    given_up: bool = False  # every webhook delivery attempt failed
    taken: bool = False  # handed to a getUpdates call or acknowledged by the webhook


@dataclass(frozen=True)
class SentMessage:
    """A text a bot sent with ``sendMessage`` and the platform accepted."""

    seq: int  # per bot, shared with photos (the order the bot's messages went out)
    bot_id: str
    chat_id: str
    message_id: str
    text: str
    date: dt.datetime


@dataclass(frozen=True)
class SentPhoto:
    """A photo a bot sent with ``sendPhoto``: the URL it gave and what the sandbox fetched."""

    seq: int
    bot_id: str
    chat_id: str
    message_id: str
    url: str
    caption: str | None
    content: bytes = field(repr=False)
    content_type: str | None
    date: dt.datetime


@dataclass(frozen=True)
class PhotoFetch:
    """One fetch of a ``sendPhoto`` URL: the HTTP status (None: no answer) and what failed."""

    bot_id: str
    url: str
    status: int | None
    content_type: str | None
    size: int
    error: str | None
    time: dt.datetime

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class ChatAction:
    """A ``sendChatAction`` the platform accepted (not counted in the quota)."""

    bot_id: str
    chat_id: str
    action: str
    time: dt.datetime


@dataclass(frozen=True)
class WebhookDelivery:
    """One POST of an event to a bot's webhook and how it was answered."""

    seq: int  # per bot
    bot_id: str
    event_name: str
    message_id: str
    url: str
    form: PayloadForm
    secret: SecretSent
    attempt: int  # 1 for the first try of an event, 2 for its first retry...
    status: int | None  # the webhook's HTTP status; None when it gave no answer
    error: str | None
    duplicate: bool
    time: dt.datetime

    @property
    def delivered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass
class ApiCall:
    """One call a bot made. While it is under way (a long poll, a held call) ``http_status``
    is None; afterwards it is the HTTP status and, for an error, ``error_code``."""

    seq: int  # over the whole sandbox
    bot_id: str | None  # None for an unknown token
    method: str
    params: JSONDict
    time: dt.datetime
    http_status: int | None = None
    ok: bool | None = None
    error_code: int | None = None
    description: str | None = None

    @property
    def done(self) -> bool:
        return self.http_status is not None
