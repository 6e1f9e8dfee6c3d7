"""The Zalo renderer (handlers/zalo/render.py): marked text becomes plain text, and a long
answer is split on line boundaries into messages of at most 2,000 UTF-16 code units."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot import texts
from bot.channel import Markup, PhotoDelivery
from bot.messaging.marked import MARKERS, code, plain, strong
from handlers.zalo.render import (
    ZALO_CAPABILITIES,
    ZALO_TEXT_LIMIT,
    caption,
    plain_messages,
    utf16_len,
    with_groups,
)

ALPHABET = st.sampled_from([*sorted(MARKERS), "<", "&", "a", "ắ", " ", "\n", "🎉", "đ"])


def test_zalo_is_plain_text_without_edits_buttons_or_documents() -> None:
    caps = ZALO_CAPABILITIES
    assert (caps.channel, caps.text_limit, caps.markup) == ("zalo", 2000, Markup.PLAIN)
    assert caps.photos == PhotoDelivery.URL
    assert not (caps.edits or caps.contact_button or caps.command_menu)
    assert not (caps.documents or caps.buttons or caps.groups or caps.numeric_ids)
    assert with_groups(True).groups and not with_groups(False).groups


def test_emphasis_is_dropped_and_values_kept_as_typed() -> None:
    reply = f"❌ «<b>x</b> & co»: ví dụ {code('KV05: 250/320 9h')} {strong('Tổ 1')}"
    assert plain_messages(reply) == ["❌ «<b>x</b> & co»: ví dụ KV05: 250/320 9h Tổ 1"]
    assert plain_messages(texts.HELP) == [plain(texts.HELP)]


@given(st.text(ALPHABET, max_size=400))
def test_zalo_shows_the_plain_text(text: str) -> None:
    messages = plain_messages(text, limit=64)
    for message in messages:
        assert utf16_len(message) <= 64
        assert not MARKERS & set(message)
    if plain(text).strip() and "\n" not in text and utf16_len(text) <= 64:
        assert messages == [plain(text)]


def test_a_long_answer_is_split_on_lines_within_2000_utf16_units() -> None:
    # Emoji outside the BMP count twice: 1,000 characters of them are 2,000 units.
    lines = [f"• {strong(f'Khu vực {n} 🎉')}: Lò Văn Sáng 0912345678" for n in range(150)]
    answer = "\n".join(lines)
    messages = plain_messages(answer)
    assert len(messages) > 1
    assert all(utf16_len(m) <= ZALO_TEXT_LIMIT for m in messages)
    assert "\n".join(messages) == plain(answer)  # cut between lines, nothing lost
    assert all(m.split("\n")[0].startswith("• Khu vực") for m in messages)


def test_utf16_counts_an_emoji_twice() -> None:
    assert utf16_len("🎉") == 2 and utf16_len("ắ") == 1
    assert plain_messages("🎉" * 1001) == ["🎉" * 1000, "🎉"]


def test_a_caption_fits_one_message() -> None:
    assert caption(strong("Biểu đồ")) == "Biểu đồ"
    assert utf16_len(caption("x " * 3000)) <= ZALO_TEXT_LIMIT
