"""What Zalo sends a bot (by webhook or `getUpdates`), read at the boundary with pydantic.

An event is `{"event_name": "message.text.received", "message": {"message_id", "date" (ms),
"from": {"id", "display_name", "is_bot"}, "chat": {"id", "chat_type"}, "text", …}}`; it may
come wrapped in the API's envelope (`{"ok": true, "result": {...}}`) or bare. Ids are
strings (a number is taken as its decimal text). Unknown fields are ignored; an event without
a message id, sender or chat is not an event.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError, field_validator


class EventName(StrEnum):
    TEXT = "message.text.received"
    IMAGE = "message.image.received"
    STICKER = "message.sticker.received"
    UNSUPPORTED = "message.unsupported.received"


def _as_id(value: Any) -> Any:
    """Zalo's ids are strings; a number is taken as its decimal text."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str):
        return value.strip()
    return value


class _Loose(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class Sender(_Loose):
    id: str = Field(min_length=1, max_length=128)
    display_name: str = ""
    is_bot: bool = False

    _id = field_validator("id", mode="before")(_as_id)


class Chat(_Loose):
    id: str = Field(min_length=1, max_length=128)
    chat_type: str = "PRIVATE"

    _id = field_validator("id", mode="before")(_as_id)

    @property
    def is_group(self) -> bool:
        return self.chat_type.upper() == "GROUP"


class Message(_Loose):
    message_id: str = Field(min_length=1, max_length=128)
    date: int | None = None  # milliseconds since the epoch
    sender: Sender = Field(alias="from")
    chat: Chat
    text: str | None = None
    caption: str | None = None
    # `photo` (its URL) as the SDKs and the sandbox send it; `photo_url` read too
    photo_url: str | None = Field(default=None, validation_alias=AliasChoices("photo", "photo_url"))
    sticker: str | None = None

    _id = field_validator("message_id", mode="before")(_as_id)

    @field_validator("text", "caption", "photo_url", "sticker", mode="before")
    @classmethod
    def _text_or_nothing(cls, value: Any) -> Any:
        return value if isinstance(value, str) else None

    def sent_at(self, now: dt.datetime) -> dt.datetime:
        """When it was sent (Zalo's milliseconds), else `now`."""
        if self.date is None or self.date <= 0:
            return now
        try:
            return dt.datetime.fromtimestamp(self.date / 1000, dt.UTC)
        except (OverflowError, OSError, ValueError):
            return now


class Event(_Loose):
    event_name: str = Field(min_length=1, max_length=128)
    message: Message

    @property
    def key(self) -> str:
        """The event's id: its name and its message's id (see `identity.event_id`)."""
        return f"{self.event_name}:{self.message.message_id}"


def read_events(data: Any) -> list[Event] | None:
    """The events in a webhook body or a getUpdates result: wrapped or bare, one or a list.
    None when it is none of these (a 400 for the webhook)."""
    if isinstance(data, dict) and "result" in data and "event_name" not in data:
        data = data["result"]
    items = data if isinstance(data, list) else [data]
    events: list[Event] = []
    for item in items:
        if not isinstance(item, dict):
            return None
        try:
            events.append(Event.model_validate(item))
        except ValidationError:
            return None
    return events
