"""The Telegram renderer (handlers/telegram/render.py): marked text becomes HTML Telegram
accepts and shows as the plain text, values are escaped, long answers are split at 4096."""

from __future__ import annotations

import html
import re

from hypothesis import given
from hypothesis import strategies as st

from bot import texts
from bot.messaging.marked import MARKERS, code, plain, strong
from handlers.telegram.render import (
    TELEGRAM_CAPABILITIES,
    TELEGRAM_TEXT_LIMIT,
    html_messages,
    to_html,
    utf16_len,
)
from sandbox.text import plain_text

ALPHABET = st.sampled_from([*sorted(MARKERS), "<", ">", "&", '"', "'", "a", "ắ", " ", "\n", "🎉"])


def test_user_text_is_escaped_and_emphasis_tagged() -> None:
    reply = f"❌ «<script>alert(1)</script> & co»: ví dụ {code('KV05: 250/320 9h')}"
    assert to_html(reply) == (
        "❌ «&lt;script&gt;alert(1)&lt;/script&gt; &amp; co»: ví dụ <code>KV05: 250/320 9h</code>"
    )
    assert to_html(strong("Tổ 1 & <2>")) == "<b>Tổ 1 &amp; &lt;2&gt;</b>"


def test_texts_render_as_before() -> None:
    """The HTML Telegram receives is the HTML the previous release wrote by hand."""
    assert to_html(texts.SUBSCRIBE_USAGE) == (
        "❌ Cách dùng: <code>/theodoi &lt;mã đơn vị&gt;</code> (trong nhóm, hoặc trong cuộc "
        "trò chuyện riêng với bot để tự nhận tổng hợp)."
    )
    assert to_html(texts.unknown_unit("<x>")).startswith("❌ Không có đơn vị mã «&lt;x&gt;»")


@given(st.text(ALPHABET, max_size=300))
def test_telegram_shows_the_plain_text(text: str) -> None:
    rendered = to_html(text)
    # What Telegram shows (the sandbox parses HTML as Telegram does) is the plain text.
    assert plain_text(rendered, "HTML") == plain(text)
    untagged = re.sub(r"</?(b|i|code)>", "", rendered)
    assert html.unescape(untagged) == plain(text)


def test_long_answers_are_split_within_telegrams_limit() -> None:
    lines = [f"• {strong(f'Khu vực {n} & 🎉')}: Lò Văn Sáng 0912345678" for n in range(400)]
    messages = html_messages("\n".join(lines))
    assert len(messages) > 1
    for message in messages:
        assert utf16_len(plain_text(message, "HTML")) <= TELEGRAM_TEXT_LIMIT
    shown = "\n".join(plain_text(m, "HTML") for m in messages)
    assert shown == plain("\n".join(lines))


def test_telegram_capabilities() -> None:
    assert TELEGRAM_CAPABILITIES.text_limit == TELEGRAM_TEXT_LIMIT == 4096
    assert TELEGRAM_CAPABILITIES.contact_button and TELEGRAM_CAPABILITIES.command_menu
