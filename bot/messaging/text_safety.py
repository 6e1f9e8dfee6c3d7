"""Text that shows one thing and says another: invisible format characters.

Unicode's format characters (category Cf) are invisible. Most are harmless leftovers of
keyboards and copy-paste (zero-width spaces, joiners, a byte-order mark, soft hyphens):
they are removed before a message is parsed. Bidirectional controls (U+202A–U+202E,
U+2066–U+2069, the marks U+200E, U+200F and U+061C) reorder what is displayed:
`"\\u202e052\\u202c/1000"` shows as `250/1000` but says 52. A report carrying one is refused
(its sender sees one number, the bot would read another), and no reply echoes them.
The private-use characters the core uses for emphasis (`bot.messaging.marked`) are removed as well.
"""

from __future__ import annotations

import unicodedata

from bot.messaging.marked import MARKERS

BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f" + "".join(chr(c) for c in range(0x202A, 0x202F))
    + "".join(chr(c) for c in range(0x2066, 0x206A))
)  # fmt: skip


def has_bidi_controls(text: str) -> bool:
    return not text.isascii() and not BIDI_CONTROLS.isdisjoint(text)


def without_invisible(text: str) -> str:
    """`text` without any format character (category Cf), bidirectional controls included,
    and without the core's emphasis characters (`bot.messaging.marked`), so that nothing from
    outside
    can forge emphasis in a reply that quotes it."""
    if text.isascii():
        return text
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf" and ch not in MARKERS)
