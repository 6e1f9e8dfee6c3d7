"""Input that shows one thing and says another: invisible format characters (Unicode Cf).

`"\\u202e052\\u202c/1000 9h"` displays as `250/1000 9h` but says 52: a report with a
bidirectional control is refused and nothing of it is stored or echoed. Harmless invisible
characters (a zero-width space pasted with a number) are removed before parsing, so what is
stored, and what `/lichsu` shows, is what the chief saw.
"""

from __future__ import annotations

import unicodedata

from bot import texts
from bot.messaging.text_safety import has_bidi_controls, without_invisible
from tests.harness import ADMIN_ID, BotRun
from tests.test_e2e_concurrency import unit_file


def invisible(text: str) -> list[str]:
    return [f"U+{ord(ch):04X}" for ch in text if unicodedata.category(ch) == "Cf"]


def test_every_format_character_is_removed_and_bidi_controls_are_told_apart() -> None:
    every_cf = [chr(c) for c in range(0x110000) if unicodedata.category(chr(c)) == "Cf"]
    assert without_invisible("25" + "".join(every_cf) + "0/1000") == "250/1000"
    assert has_bidi_controls("\u202e052\u202c/1000") and has_bidi_controls("\u2067250\u2069")
    assert not has_bidi_controls("2\u200b50/1000 9h")  # a zero-width space only


async def test_a_right_to_left_override_is_refused_and_never_echoed(bot: BotRun) -> None:
    assert (await bot.import_units(unit_file(1))).startswith("✅")
    chief = bot.user(700)
    assert (await bot.share_contact(chief, "0913000000"))[0].startswith("✅")
    [refused] = await bot.texts_of(chief, "\u202e052\u202c/1000 9h")
    assert refused == texts.HIDDEN_CONTROLS and invisible(refused) == []
    assert bot.query("SELECT count(*) FROM reports") == [(0,)]  # nothing stored
    [unreadable] = await bot.texts_of(chief, "ct \u202ekhông rõ\u202c")
    assert unreadable.startswith("❌") and invisible(unreadable) == []


async def test_a_zero_width_space_is_removed_and_history_shows_what_was_stored(
    bot: BotRun,
) -> None:
    assert (await bot.import_units(unit_file(1))).startswith("✅")
    chief = bot.user(700)
    assert (await bot.share_contact(chief, "0913000000"))[0].startswith("✅")
    [stored] = await bot.texts_of(chief, "2\u200b50/1000\u2060 9h")
    assert stored.startswith("✅") and "250/1.000" in stored
    assert bot.query("SELECT voted, text FROM reports") == [(250, "250/1000 9h")]
    admin = bot.user(ADMIN_ID, "Quản trị")
    # A command's arguments lose their invisible characters too: never echoed back.
    history = await bot.texts_of(admin, "/lichsu A\u202e000")
    assert invisible("".join(history)) == []
    assert any("«250/1000 9h» → đã lưu 250/1.000" in part for part in history), history
