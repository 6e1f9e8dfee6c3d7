"""Marked text (bot/messaging/marked.py): the core's emphasis without any channel's markup, how it
parses
whatever it is given, how a long answer is cut for a channel, and replies stored as HTML by the
previous release."""

from __future__ import annotations

import datetime as dt
import itertools
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from bot import texts
from bot.messaging.marked import (
    CODE_CLOSE,
    CODE_OPEN,
    MARKERS,
    STRONG_CLOSE,
    STRONG_OPEN,
    Span,
    Style,
    code,
    em,
    from_legacy_html,
    join,
    plain,
    spans,
    split_lines,
    stored_reply,
    strong,
    without_markers,
)
from bot.messaging.text_safety import without_invisible

# Text with emphasis characters, line breaks and spaces mixed in generously.
MARKED_ALPHABET = st.sampled_from(
    [*sorted(MARKERS), "\n", " ", " ", "a", "b", "ắ", "<", "&", "🎉", "/", "1"]
)
marked_text = st.text(MARKED_ALPHABET, max_size=400)
any_text = st.text(max_size=300)


def test_constructors_mark_values_and_plain_drops_the_marks() -> None:
    line = f"Đã lưu {strong('KV01')} ví dụ {code('250/320 9h')} {em('đã thay')}"
    assert spans(line) == [
        Span(Style.PLAIN, "Đã lưu "),
        Span(Style.STRONG, "KV01"),
        Span(Style.PLAIN, " ví dụ "),
        Span(Style.CODE, "250/320 9h"),
        Span(Style.PLAIN, " "),
        Span(Style.EM, "đã thay"),
    ]
    assert plain(line) == "Đã lưu KV01 ví dụ 250/320 9h đã thay"


def test_a_value_cannot_carry_emphasis_into_the_text_that_quotes_it() -> None:
    forged = f"KV01{STRONG_CLOSE} {CODE_OPEN}hidden"
    assert spans(strong(forged)) == [Span(Style.STRONG, "KV01 hidden")]
    # Whatever comes in loses the characters: messages, arguments, names, unit names.
    assert without_invisible(forged) == "KV01 hidden"
    assert texts.unit_label("KV01", forged) == "KV01 hidden (KV01)"


def test_unbalanced_and_nested_emphasis_is_flat_and_documented() -> None:
    # An opener inside a span is ignored, a closer of another style too; the span's own
    # closer ends it; a style open at the end ends there; a stray closer is dropped.
    text = f"a{STRONG_OPEN}b{CODE_OPEN}c{CODE_CLOSE}d{STRONG_CLOSE}e{STRONG_CLOSE}f{CODE_OPEN}g"
    assert spans(text) == [
        Span(Style.PLAIN, "a"),
        Span(Style.STRONG, "bcd"),
        Span(Style.PLAIN, "ef"),
        Span(Style.CODE, "g"),
    ]
    assert spans("") == [] and spans(STRONG_OPEN + STRONG_CLOSE) == []


@given(any_text)
def test_spans_never_fail_and_lose_only_the_marks(text: str) -> None:
    parts = spans(text)
    assert "".join(p.text for p in parts) == without_markers(text) == plain(text)
    assert all(p.text for p in parts)
    assert all(a.style is not b.style for a, b in itertools.pairwise(parts))


@given(marked_text)
def test_join_of_spans_is_a_normal_form(text: str) -> None:
    normal = join(spans(text))
    assert spans(normal) == spans(text)
    assert plain(normal) == plain(text)
    assert join(spans(normal)) == normal


@given(marked_text, st.integers(min_value=8, max_value=120))
@settings(max_examples=300)
def test_split_parts_fit_render_alone_and_keep_every_character(text: str, limit: int) -> None:
    parts = split_lines(text, limit)
    assert all(len(part) <= limit for part in parts)
    # Each part, rendered alone, shows its characters in the style they have in the whole
    # text (emphasis cut by a split is reopened); nothing is lost or added but whitespace.
    assert [c for part in parts for c in styled(part)] == styled(text)
    if not plain(text).strip():
        assert parts == []


def styled(text: str) -> list[tuple[Style, str]]:
    """The visible characters of a text, each with its style."""
    return [(s.style, ch) for s in spans(text) for ch in s.text if not ch.isspace()]


@given(st.lists(st.text("abc ắ1", min_size=1, max_size=30), min_size=1, max_size=40))
def test_short_lines_are_never_cut_inside(lines: list[str]) -> None:
    text = "\n".join(line.strip() or "x" for line in lines)
    parts = split_lines(text, 64)
    assert "\n".join(parts) == text


def test_a_long_line_is_cut_at_a_space_and_its_emphasis_reopened() -> None:
    text = "Chậm nhất trước\n" + strong("một hai ba bốn năm sáu bảy tám chín mười")
    parts = split_lines(text, 24)
    assert parts[0] == "Chậm nhất trước"
    for part in parts[1:]:
        assert part.startswith(STRONG_OPEN) and part.endswith(STRONG_CLOSE), part
        assert [s.style for s in spans(part)] == [Style.STRONG]
    words = " ".join(plain(p).strip() for p in parts[1:])
    assert words == "một hai ba bốn năm sáu bảy tám chín mười"


def test_a_line_without_spaces_is_cut_hard_and_the_measure_is_the_channels() -> None:
    text = "🎉" * 30
    utf16 = lambda s: len(s.encode("utf-16-le")) // 2  # noqa: E731
    parts = split_lines(text, 10, size=utf16)
    assert all(utf16(p) <= 10 for p in parts) and "".join(parts) == text
    assert [len(p) for p in parts] == [5] * 6


def test_a_text_within_the_limit_is_one_part_unchanged() -> None:
    text = f"📊 {strong('Mường Khương (MK)')}\n• Cử tri đã bầu: 1/2"
    assert split_lines(text, 4096) == [text]
    assert split_lines(" \n ", 4096) == []


def test_legacy_html_replies_become_marked_text() -> None:
    legacy = (
        "❌ «a &lt;b&gt; &amp;lt; c»: ví dụ <code>KV05: 250/320 9h</code>, "
        "<b>Tổ 1 &amp; 2</b> <i>đã thay</i> &quot;x&quot; &#x27;y&#x27;"
    )
    marked = from_legacy_html(legacy)
    assert plain(marked) == (
        "❌ «a <b> &lt; c»: ví dụ KV05: 250/320 9h, Tổ 1 & 2 đã thay \"x\" 'y'"
    )
    assert [s for s in spans(marked) if s.style is not Style.PLAIN] == [
        Span(Style.CODE, "KV05: 250/320 9h"),
        Span(Style.STRONG, "Tổ 1 & 2"),
        Span(Style.EM, "đã thay"),
    ]


def test_a_stored_reply_is_read_as_html_only_when_it_is_legacy() -> None:
    assert stored_reply("✅ Đã lưu: KV01 – 250/320") == "✅ Đã lưu: KV01 – 250/320"
    assert stored_reply("❌ ví dụ <code>250/320 9h</code>") == f"❌ ví dụ {code('250/320 9h')}"
    new = f"❌ «a <b> & b»: ví dụ {code('250/320 9h')}"  # quotes a sender's tag
    assert stored_reply(new) == new


def test_texts_hold_no_html() -> None:
    names = [n for n in dir(texts) if not n.startswith("_")]
    constants = [getattr(texts, n) for n in names if isinstance(getattr(texts, n), str)]
    built = [
        texts.start(contact_button=True),
        texts.start(contact_button=False),
        texts.not_an_area("<KV>"),
        texts.history_line(
            report_id=1,
            text="<b>250</b> & 9h",
            at=_moment(),
            received=_moment(),
            sender="Lò & Sáng",
            replaced_by=2,
            correction=False,
            stored="250/320",
        ),
    ]
    for text in constants + built:
        assert not re.search(r"</?(b|i|code)>|&(lt|gt|amp);", without_user_text(text)), text


def without_user_text(text: str) -> str:
    return text.replace("<b>250</b> & 9h", "").replace("Lò & Sáng", "").replace("<KV>", "")


def _moment() -> dt.datetime:
    return dt.datetime(2021, 5, 23, 9, 0, tzinfo=dt.UTC)


def test_the_start_text_follows_the_contact_button() -> None:
    with_button = plain(texts.start(contact_button=True))
    without = plain(texts.start(contact_button=False))
    assert "«Gửi số điện thoại của tôi»" in with_button
    assert "Gửi số điện thoại" not in without and "bấm nút" not in without
    assert "mã mời" in without and "danh sách của Ban bầu cử" in without
    assert "Gửi số điện thoại" not in texts.NOT_REGISTERED
