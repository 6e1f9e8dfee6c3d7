"""Zalo's string ids as the core's channel identities, and back.

A Zalo user id means something to one bot only, so a person or a chat is
`zalo:<bot id>:<user or chat id>`, and the bot's own name is `zalo:<bot id>`. An event is
known by its name and its message's id (`message.text.received:<message id>`): what the
inbox keys it by, and what makes a delivery that comes twice take effect once.
"""

from __future__ import annotations

from bot.channel import Address
from handlers.zalo.settings import ZALO

__all__ = ["ZALO", "bot_name", "event_id", "zalo_address", "zalo_chat_id"]


def bot_name(bot_id: str) -> str:
    """The name of a bot (`zalo:<bot id>`)."""
    return f"{ZALO}:{bot_id}"


def zalo_address(bot_id: str, zalo_id: str) -> Address:
    """A user or a chat, as one bot knows it (users and private chats share their id)."""
    return Address(ZALO, f"{bot_id}:{zalo_id}")


def zalo_chat_id(address: Address, bot_id: str) -> str:
    """The Zalo id, for `bot_id`, of an address of this channel (ValueError for another
    channel's, or another bot's: its ids mean nothing to this bot)."""
    head, sep, rest = address.id.partition(":")
    if address.channel != ZALO or not sep or head != bot_id or not rest:
        raise ValueError(f"not an address of Zalo bot {bot_id}: {address}")
    return rest


def event_id(event_name: str, message_id: str) -> str:
    """An event's id as the inbox keeps it (and duplicates are recognised by)."""
    return f"{event_name}:{message_id}"
