"""Marked text (`bot.messaging.marked`) as Zalo shows it: plain text, split at Zalo's limit.

Zalo shows no markup, so emphasis is dropped. It refuses a text longer than 2,000 UTF-16
code units (an emoji outside the BMP counts twice), so a longer answer is sent as several
messages, cut between lines. `ZALO_CAPABILITIES` is what a Zalo bot can do; whether it serves
groups is Zalo's grant, read from `getMe` when the bot opens (`with_groups`).
"""

from __future__ import annotations

from dataclasses import replace

from bot.channel import Capabilities, Markup, PhotoDelivery
from bot.messaging.marked import plain, split_lines
from handlers.zalo.settings import ZALO

ZALO_TEXT_LIMIT = 2000
ZALO_CAPABILITIES = Capabilities(
    channel=ZALO,
    text_limit=ZALO_TEXT_LIMIT,
    markup=Markup.PLAIN,
    edits=False,
    contact_button=False,
    command_menu=False,
    photos=PhotoDelivery.URL,
    documents=False,
    groups=False,  # until getMe says can_join_groups
    buttons=False,
    numeric_ids=False,
)


def with_groups(can_join_groups: bool) -> Capabilities:
    """The capabilities of a bot that Zalo does (or does not) let into groups."""
    return replace(ZALO_CAPABILITIES, groups=can_join_groups)


def utf16_len(text: str) -> int:
    """Length as Zalo counts it (UTF-16 code units: an emoji outside the BMP is two)."""
    return len(text.encode("utf-16-le")) // 2


def plain_messages(marked: str, limit: int = ZALO_TEXT_LIMIT) -> list[str]:
    """The answer as the plain texts of one or more Zalo messages, each within `limit`."""
    return [plain(part) for part in split_lines(marked, limit, size=utf16_len)]


def caption(marked: str, limit: int = ZALO_TEXT_LIMIT) -> str:
    """A photo's caption as plain text within `limit` (cut at a line if it must be)."""
    parts = plain_messages(marked, limit)
    return parts[0] if parts else ""
