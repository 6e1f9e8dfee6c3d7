"""Marked text: the core's answers with semantic emphasis, and no channel's markup.

A text the core sends is a plain `str` in which a value may be set off as `strong` (a heading,
a name to notice), `em` (a side remark) or `code` (something to type exactly as shown). Each
style is a pair of reserved characters of Unicode's private use area (U+E000–U+E005) around
the value. Channels render them: bold, italic and code tags on an HTML channel, nothing on
a plain-text one (`plain`). Nobody outside the core can write them: `bot.messaging.text_safety`
removes
them from whatever comes in (messages, command arguments, names, imported unit names).

Parsing (`spans`) never fails, whatever the text:
* emphasis is flat: an opening character inside a styled span is ignored (the outer style
  goes on), and so is a closing character of another style or of no open style;
* a style still open at the end of the text ends there;
* empty spans are dropped and neighbouring spans of one style are merged.
The constructors (`strong`, `em`, `code`) remove reserved characters from the value they
wrap, so what they build is always well formed.

`split_lines` cuts a long answer into parts that fit a channel's limit, on line boundaries;
a line longer than the limit is cut at a space, else anywhere. Emphasis open across a cut is
closed at the end of one part and reopened at the start of the next, so each part renders
alone.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum


class Style(StrEnum):
    PLAIN = "plain"
    STRONG = "strong"
    EM = "em"
    CODE = "code"


STRONG_OPEN, STRONG_CLOSE = "\ue000", "\ue001"
CODE_OPEN, CODE_CLOSE = "\ue002", "\ue003"
EM_OPEN, EM_CLOSE = "\ue004", "\ue005"

_OPENERS = {STRONG_OPEN: Style.STRONG, CODE_OPEN: Style.CODE, EM_OPEN: Style.EM}
_CLOSERS = {STRONG_CLOSE: Style.STRONG, CODE_CLOSE: Style.CODE, EM_CLOSE: Style.EM}
_DELIMITERS: dict[Style, tuple[str, str]] = {
    Style.PLAIN: ("", ""),
    Style.STRONG: (STRONG_OPEN, STRONG_CLOSE),
    Style.CODE: (CODE_OPEN, CODE_CLOSE),
    Style.EM: (EM_OPEN, EM_CLOSE),
}
MARKERS = frozenset(_OPENERS) | frozenset(_CLOSERS)
_MARKER_RE = re.compile("[\ue000-\ue005]")


@dataclass(frozen=True, slots=True)
class Span:
    style: Style
    text: str


def without_markers(text: str) -> str:
    """`text` without any reserved emphasis character (what comes from outside the core)."""
    if text.isascii() or _MARKER_RE.search(text) is None:
        return text
    return _MARKER_RE.sub("", text)


def _wrap(style: Style, value: object) -> str:
    opener, closer = _DELIMITERS[style]
    return opener + without_markers(str(value)) + closer


def strong(value: object) -> str:
    """`value` shown in bold where the channel can (a heading, a name to notice)."""
    return _wrap(Style.STRONG, value)


def em(value: object) -> str:
    """`value` shown in italics where the channel can (a side remark)."""
    return _wrap(Style.EM, value)


def code(value: object) -> str:
    """`value` shown as something to type exactly (monospace where the channel can)."""
    return _wrap(Style.CODE, value)


def spans(text: str) -> list[Span]:
    """The text as styled spans (see the module's doc for unbalanced or nested emphasis)."""
    if text.isascii() or _MARKER_RE.search(text) is None:
        return [Span(Style.PLAIN, text)] if text else []
    result: list[Span] = []
    style = Style.PLAIN
    start = 0

    def flush(end: int) -> None:
        piece = text[start:end]
        if not piece:
            return
        if result and result[-1].style is style:
            result[-1] = Span(style, result[-1].text + piece)
        else:
            result.append(Span(style, piece))

    for match in _MARKER_RE.finditer(text):
        mark = match.group()
        flush(match.start())
        start = match.end()
        style = _after(style, mark)
    flush(len(text))
    return result


def join(parts: list[Span]) -> str:
    """Marked text for these spans (the inverse of `spans`)."""
    out: list[str] = []
    for span in parts:
        if span.text:  # a span's text holds no reserved character (see `spans`)
            opener, closer = _DELIMITERS[span.style]
            out += (opener, span.text, closer)
    return "".join(out)


def plain(text: str) -> str:
    """The text without emphasis: what a channel without markup shows."""
    return without_markers(text)


def split_lines(text: str, limit: int, size: Callable[[str], int] = len) -> list[str]:
    """`text` in parts of at most `limit` (as `size` measures marked text; reserved characters
    count, so the measure is on the safe side), cut between lines where possible.

    A line longer than `limit` is cut after its last space that fits, else where the limit
    falls. Emphasis open across a cut is closed and reopened, so every part renders alone.
    Parts with nothing but whitespace are left out (no channel sends an empty message).
    `size` must count at least one per character and add up (the size of a concatenation
    is the sum of the sizes): `len`, UTF-16 code units, …"""
    if limit < 8:
        raise ValueError(f"a message limit of {limit} is too small to split into")
    if not plain(text).strip():
        return []
    if size(text) <= limit:
        return [text]
    pieces: list[str] = []
    for line in _lines(text):
        pieces.extend(_cut_line(line, limit, size))
    parts: list[str] = []
    current: list[str] = []
    used = 0
    newline = size("\n")
    for piece in pieces:
        measure = size(piece)
        if current and used + newline + measure <= limit:
            current.append(piece)
            used += newline + measure
            continue
        if current:
            parts.append("\n".join(current))
        current, used = [piece], measure
    if current:
        parts.append("\n".join(current))
    return [part for part in parts if plain(part).strip()]


def _lines(text: str) -> list[str]:
    """The lines of the text, each closing the emphasis it leaves open and reopening the
    emphasis the line before left open, so each renders alone."""
    lines: list[str] = []
    style = Style.PLAIN
    for line in text.split("\n"):
        if not line:
            lines.append(line)
            continue
        opener = _DELIMITERS[style][0]
        if not line.isascii():
            for match in _MARKER_RE.finditer(line):
                style = _after(style, match.group())
        lines.append(opener + line + _DELIMITERS[style][1])
    return lines


def _after(style: Style, mark: str) -> Style:
    """The style after one reserved character, by the rules of `spans`."""
    if style is Style.PLAIN and mark in _OPENERS:
        return _OPENERS[mark]
    if style is not Style.PLAIN and _CLOSERS.get(mark) is style:
        return Style.PLAIN
    return style


def _cut_line(line: str, limit: int, size: Callable[[str], int]) -> list[str]:
    if size(line) <= limit:
        return [line]
    chars = [(span.style, ch) for span in spans(line) for ch in span.text]
    pieces: list[str] = []
    while chars:
        rendered = _render(chars)
        if size(rendered) <= limit:
            pieces.append(rendered)
            break
        # The longest prefix that fits (rendering a longer prefix is never shorter).
        low, high = 1, min(len(chars), limit)
        while low < high:
            middle = (low + high + 1) // 2
            if size(_render(chars[:middle])) <= limit:
                low = middle
            else:
                high = middle - 1
        cut = low
        space = next((i for i in range(cut - 1, 0, -1) if chars[i][1] == " "), None)
        if space is not None:
            cut = space + 1  # the space ends this part
        pieces.append(_render(chars[:cut]))
        chars = chars[cut:]
    return pieces


def _render(chars: list[tuple[Style, str]]) -> str:
    return join(
        [
            Span(style, "".join(ch for _, ch in run))
            for style, run in itertools.groupby(chars, key=lambda pair: pair[0])
        ]
    )


# -- replies stored by the previous release ---------------------------------------------------

_LEGACY = re.compile(r"</?(?:b|i|code)>|&(?:lt|gt|amp|quot|#x27);")
_LEGACY_TAGS = {"b": Style.STRONG, "i": Style.EM, "code": Style.CODE}
_LEGACY_MEANING = {
    **{f"<{tag}>": _DELIMITERS[style][0] for tag, style in _LEGACY_TAGS.items()},
    **{f"</{tag}>": _DELIMITERS[style][1] for tag, style in _LEGACY_TAGS.items()},
    "&lt;": "<",
    "&gt;": ">",
    "&amp;": "&",
    "&quot;": '"',
    "&#x27;": "'",
}


def from_legacy_html(text: str) -> str:
    """A reply written by a release that stored HTML (the tags b, i and code, and the
    entities `&lt;` `&gt;` `&amp;` `&quot;` `&#x27;`) as marked text. One pass: `&amp;lt;`
    becomes `&lt;`. Any other tag is left as it is (that release wrote none)."""
    return _LEGACY.sub(lambda m: _LEGACY_MEANING[m.group()], without_markers(text))


def stored_reply(text: str) -> str:
    """A stored reply as marked text, whichever release stored it.

    A reply of the previous release is HTML; one of this release is marked text. A reply
    holding an emphasis character is marked text. One without any is taken for HTML only
    if it holds a tag or an entity of the old markup: marked text can hold those only by
    echoing someone's text (a unit name with `&amp;`, a report quoting a tag) in a reply
    without any emphasis, and then at worst the echo shows unescaped."""
    if MARKERS.isdisjoint(text) and _LEGACY.search(text):
        return from_legacy_html(text)
    return text
