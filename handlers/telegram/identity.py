"""Telegram's integer ids as the core's channel identities, and back.

The core knows a person or a chat as an `Address` and a bot by its name, the bot's own
address as text; only this adapter knows that on Telegram they are integers (a group's id
is negative), that a bot's id is the prefix of its token, and that the inbox cursor is
the next `update_id` to ask `getUpdates` for.
"""

from __future__ import annotations

from bot.channel import Address
from handlers.telegram.settings import TELEGRAM

__all__ = ["TELEGRAM", "bot_name", "event_id", "next_offset", "telegram_address", "telegram_id"]


def telegram_address(telegram_id: int) -> Address:
    """A user or a chat (user ids and chat ids share one space on Telegram)."""
    return Address(TELEGRAM, str(telegram_id))


def telegram_id(address: Address) -> int:
    """The Telegram id of an address of this channel (ValueError for another channel's)."""
    if address.channel != TELEGRAM:
        raise ValueError(f"not a Telegram address: {address}")
    return int(address.id)


def bot_name(bot_id: int) -> str:
    """The name of the bot a token belongs to (`telegram:<bot id>`), or "" without a token
    (the command line): what keys the bot's inbox, groups and handled messages."""
    return str(telegram_address(bot_id)) if bot_id else ""


def event_id(update_id: int) -> str:
    """An update's id as the inbox keeps it."""
    return str(update_id)


def next_offset(cursor: str | None) -> int:
    """The `getUpdates` offset stored as the bot's cursor (0: start from what Telegram has)."""
    return int(cursor) if cursor else 0
