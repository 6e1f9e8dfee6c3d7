"""What the core knows of a channel: whom a message is from or to, and what the channel can do.

A channel (a chat platform, `zalo` or `sms` for instance) is a way in and out. The core
never sees a platform's own ids or limits: a person or a chat is an `Address` (the channel
and that channel's id, a string), and a channel describes itself with `Capabilities`, which
texts and use cases ask instead of assuming one platform.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

_CHANNEL_NAME = re.compile(r"[a-z][a-z0-9_]*")


@dataclass(frozen=True, slots=True, order=True)
class Address:
    """A person or a chat on one channel, written `channel:id`: `zalo:<bot id>:<user id>` (a
    Zalo user id means something to one bot only), `sms:+84912345678`; a group is a chat like
    any other. Its text form is what is stored and what settings name."""

    channel: str
    id: str

    def __post_init__(self) -> None:
        if not _CHANNEL_NAME.fullmatch(self.channel):
            raise ValueError(f"not a channel name: {self.channel!r}")
        if not self.id or self.id != self.id.strip():
            raise ValueError(f"not a {self.channel} id: {self.id!r}")

    def __str__(self) -> str:
        return f"{self.channel}:{self.id}"

    @classmethod
    def parse(cls, text: str) -> Address:
        """The address written `channel:id` (ValueError if it is not one)."""
        channel, sep, rest = text.strip().partition(":")
        if not sep:
            raise ValueError(f"not a channel address: {text!r}")
        return cls(channel, rest)


# The server's own command line (`fieldtally units import`, …), as an actor in the audit log.
COMMAND_LINE = Address("server", "cli")


class Markup(StrEnum):
    """How a channel shows emphasis: HTML tags, nothing, or nothing and no accents either."""

    HTML = "html"
    PLAIN = "plain"
    SMS = "sms"


class PhotoDelivery(StrEnum):
    UPLOAD = "upload"  # the bytes are sent to the platform
    URL = "url"  # the platform fetches a link (a public HTTPS URL of the bot's own server)
    NONE = "none"  # no pictures: a link to the dashboard instead


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What one channel can do; the core and the texts ask this, never a platform's name."""

    channel: str
    text_limit: int  # characters per message; longer answers are split on line boundaries
    markup: Markup
    edits: bool  # a sender can edit a sent message (an edit corrects what it said)
    contact_button: bool  # a button that shares the sender's verified phone number
    command_menu: bool  # the platform lists the bot's slash commands in a menu
    photos: PhotoDelivery
    documents: bool  # files (exports) can be sent as attachments
    groups: bool  # the bot can serve group chats (subscriptions, summaries)
    buttons: bool  # a reply can offer a choice of buttons
    # User ids are bare numbers: FIELDTALLY_ADMINS' bare numbers are this channel's users.
    numeric_ids: bool = False
    # Messages are tiny: a reply's brief form, where it has one, is sent instead of its text.
    brief_replies: bool = False
