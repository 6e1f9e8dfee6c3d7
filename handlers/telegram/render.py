"""Marked text (`bot.messaging.marked`) as Telegram shows it: HTML, split at Telegram's limit.

The core's answers carry semantic emphasis and values as they are; here, and only here, they
become Telegram's HTML: every piece of text is escaped (a unit name with `&`, a report that
quotes `<script>`), and strong / emphasis / code become `<b>` / `<i>` / `<code>`. Telegram
refuses a text longer than 4096 characters (UTF-16 code units, counted once the entities are
parsed), so a longer answer is sent as several messages, cut between lines.
"""

from __future__ import annotations

import html

from bot.channel import Capabilities, Markup, PhotoDelivery
from bot.messaging.marked import Style, spans, split_lines

TELEGRAM_TEXT_LIMIT = 4096
TELEGRAM_CAPABILITIES = Capabilities(
    channel="telegram",
    text_limit=TELEGRAM_TEXT_LIMIT,
    markup=Markup.HTML,
    edits=True,
    contact_button=True,
    command_menu=True,
    photos=PhotoDelivery.UPLOAD,
    documents=True,
    groups=True,
    buttons=True,
    numeric_ids=True,
)

_TAGS = {Style.STRONG: "b", Style.EM: "i", Style.CODE: "code"}


def to_html(marked: str) -> str:
    """Telegram HTML (parse_mode=HTML) for a marked text: each span escaped, emphasis tagged."""
    out: list[str] = []
    for span in spans(marked):
        text = html.escape(span.text, quote=False)
        tag = _TAGS.get(span.style)
        out.append(f"<{tag}>{text}</{tag}>" if tag else text)
    return "".join(out)


def utf16_len(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units: an emoji outside the BMP is two)."""
    return len(text.encode("utf-16-le")) // 2


def html_messages(marked: str, limit: int = TELEGRAM_TEXT_LIMIT) -> list[str]:
    """The answer as the HTML texts of one or more Telegram messages, each within `limit`."""
    return [to_html(part) for part in split_lines(marked, limit, size=utf16_len)]
