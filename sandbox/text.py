"""Text handling the way Telegram does it: bot_command entities in incoming text, and the
parse_mode checks that make Telegram refuse a message ("can't parse entities").

Offsets in entities count UTF-16 code units, as in the Bot API; byte offsets in error
messages count UTF-8 bytes, as in Telegram's own descriptions.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = [
    "FormatError",
    "command_entities",
    "image_size",
    "plain_text",
    "utf16_len",
]

# A command is "/" + up to 32 letters/digits/underscores, optionally "@botname"; Telegram marks
# it wherever it starts a word, so "250/320" is not a command but "/start@fieldtally_bot" is.
_COMMAND_RE = re.compile(r"(?<!\S)/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?![A-Za-z0-9_])")


class FormatError(ValueError):
    """Text Telegram would refuse; the message is Telegram's description after the prefix."""


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Bot API entity offsets and lengths."""
    return len(text.encode("utf-16-le")) // 2


def command_entities(text: str) -> list[dict[str, Any]]:
    """The ``bot_command`` entities Telegram attaches to a message with this text."""
    return [
        {
            "type": "bot_command",
            "offset": utf16_len(text[: m.start()]),
            "length": utf16_len(m.group()),
        }
        for m in _COMMAND_RE.finditer(text)
    ]


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def plain_text(text: str, parse_mode: str | None) -> str:
    """What the user sees once Telegram has parsed ``text``; raises FormatError where Telegram
    answers "Bad Request: can't parse entities: ..."."""
    mode = (parse_mode or "").lower()
    if mode == "html":
        return _html_plain(text)
    if mode == "markdownv2":
        return _markdown_v2_plain(text)
    if mode == "markdown":
        return _markdown_plain(text)
    return text


# --- HTML -----------------------------------------------------------------------------------

_HTML_TAGS = frozenset(
    {
        "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler",
        "a", "tg-emoji", "code", "pre", "blockquote",
    }
)  # fmt: skip
_TAG_RE = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)(\s[^<>]*)?>")
_ENTITY_RE = re.compile(r"&(?:#([0-9]+)|#[xX]([0-9A-Fa-f]+)|(lt|gt|amp|quot));")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


def _html_plain(text: str) -> str:
    out: list[str] = []
    stack: list[tuple[str, int]] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "<":
            m = _TAG_RE.match(text, i)
            if m is None:
                word = re.match(r"/?[A-Za-z0-9-]*", text[i + 1 :])
                name = word.group().lstrip("/") if word else ""
                raise FormatError(
                    f'Unsupported start tag "{name}" at byte offset {_byte_offset(text, i)}'
                )
            closing, name = m.group(1) == "/", m.group(2).lower()
            if name not in _HTML_TAGS:
                kind = "end" if closing else "start"
                raise FormatError(
                    f'Unsupported {kind} tag "{name}" at byte offset {_byte_offset(text, i)}'
                )
            if closing:
                if not stack or stack[-1][0] != name:
                    expected = f'expected "</{stack[-1][0]}>", ' if stack else ""
                    raise FormatError(
                        f"Unmatched end tag at byte offset {_byte_offset(text, i)}, "
                        f'{expected}found "</{name}>"'
                    )
                stack.pop()
            else:
                stack.append((name, i))
            i = m.end()
        elif ch == "&" and (m := _ENTITY_RE.match(text, i)) is not None:
            if m.group(1) is not None:
                out.append(chr(int(m.group(1))))
            elif m.group(2) is not None:
                out.append(chr(int(m.group(2), 16)))
            else:
                out.append(_NAMED[m.group(3)])
            i = m.end()
        else:
            # A bare "&" (or an unknown named entity) stays literal, as on Telegram.
            out.append(ch)
            i += 1
    if stack:
        raise FormatError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    return "".join(out)


# --- MarkdownV2 -----------------------------------------------------------------------------

_V2_RESERVED = frozenset("_*[]()~`>#+-=|{}.!")
_V2_TOGGLES = {"*": "Bold", "_": "Italic", "__": "Underline", "~": "Strikethrough", "||": "Spoiler"}


def _markdown_v2_plain(text: str) -> str:
    out: list[str] = []
    open_marks: dict[str, int] = {}  # marker -> index where it was opened
    link_starts: list[int] = []
    i, n = 0, len(text)
    at_line_start = True
    while i < n:
        ch = text[i]
        if ch == "\\" and i + 1 < n and 1 <= ord(text[i + 1]) <= 126:
            out.append(text[i + 1])
            i += 2
            at_line_start = False
            continue
        if ch == "`":
            fence = text.startswith("```", i)
            marker = "```" if fence else "`"
            j, body = i + len(marker), []
            while j < n and not text.startswith(marker, j):
                if text[j] == "\\" and j + 1 < n:
                    j += 1
                body.append(text[j])
                j += 1
            if j >= n:
                kind = "Pre" if fence else "Code"
                raise FormatError(
                    f"Can't find end of {kind} entity at byte offset {_byte_offset(text, i)}"
                )
            content = "".join(body)
            if fence and "\n" in content:
                first, rest = content.split("\n", 1)
                content = rest if first and " " not in first.strip() else content
            out.append(content)
            i = j + len(marker)
            at_line_start = False
            continue
        two = text[i : i + 2]
        marker = two if two in ("__", "||") else ch
        if marker in _V2_TOGGLES:
            if marker in open_marks:
                del open_marks[marker]
            else:
                open_marks[marker] = i
            i += len(marker)
            at_line_start = False
            continue
        if ch == "[" or (ch == "!" and two == "!["):
            link_starts.append(i)
            i += 1 if ch == "[" else 2
            at_line_start = False
            continue
        if ch == "]" and link_starts:
            start = link_starts.pop()
            if text.startswith("(", i + 1):
                j = i + 2
                while j < n and text[j] != ")":
                    j += 2 if text[j] == "\\" else 1
                if j >= n:
                    raise FormatError(
                        f"Can't find end of a URL at byte offset {_byte_offset(text, start)}"
                    )
                i = j + 1
            else:
                i += 1
            continue
        if ch == ">" and at_line_start:
            i += 1
            at_line_start = False
            continue
        if ch in _V2_RESERVED:
            raise FormatError(
                f"Character '{ch}' is reserved and must be escaped with the preceding '\\'"
            )
        out.append(ch)
        at_line_start = ch == "\n"
        i += 1
    if open_marks:
        marker, start = min(open_marks.items(), key=lambda item: item[1])
        raise FormatError(
            f"Can't find end of {_V2_TOGGLES[marker]} entity at byte offset "
            f"{_byte_offset(text, start)}"
        )
    if link_starts:
        raise FormatError(
            f"Can't find end of TextUrl entity at byte offset {_byte_offset(text, link_starts[0])}"
        )
    return "".join(out)


# --- legacy Markdown ------------------------------------------------------------------------


def _markdown_plain(text: str) -> str:
    """Legacy Markdown: *bold*, _italic_, `code`, ```pre```, [text](url); no nesting, and
    an unmatched marker (typically the "_" in a username) is an error."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "\\" and i + 1 < n and text[i + 1] in "_*`[":
            out.append(text[i + 1])
            i += 2
            continue
        if ch in "*_`":
            marker = "```" if text.startswith("```", i) else ch
            end = text.find(marker, i + len(marker))
            if end < 0:
                raise FormatError(
                    f"Can't find end of the entity starting at byte offset {_byte_offset(text, i)}"
                )
            out.append(text[i + len(marker) : end])
            i = end + len(marker)
            continue
        if ch == "[":
            close = text.find("]", i + 1)
            if close >= 0 and text.startswith("(", close + 1):
                end = text.find(")", close + 2)
                if end < 0:
                    raise FormatError(
                        "Can't find end of the entity starting at byte offset "
                        f"{_byte_offset(text, i)}"
                    )
                out.append(text[i + 1 : close])
                i = end + 1
                continue
        out.append(ch)
        i += 1
    return "".join(out)


# --- images ---------------------------------------------------------------------------------


def image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) of a PNG, JPEG, GIF or WebP image; None if not an image we recognise
    (Telegram refuses such a photo with IMAGE_PROCESS_FAILED)."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        return int.from_bytes(data[6:8], "little"), int.from_bytes(data[8:10], "little")
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP" and len(data) >= 30:
        chunk = data[12:16]
        if chunk == b"VP8X":
            return (
                int.from_bytes(data[24:27], "little") + 1,
                int.from_bytes(data[27:30], "little") + 1,
            )
        if chunk == b"VP8 ":
            return (
                int.from_bytes(data[26:28], "little") & 0x3FFF,
                int.from_bytes(data[28:30], "little") & 0x3FFF,
            )
        if chunk == b"VP8L":
            bits = int.from_bytes(data[21:25], "little")
            return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if data.startswith(b"\xff\xd8"):
        return _jpeg_size(data)
    return None


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:  # padding byte before a marker
            i += 1
            continue
        length = int.from_bytes(data[i + 2 : i + 4], "big")
        # SOF0..SOF15 carry the frame size, except DHT (C4), JPG (C8) and DAC (CC).
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height = int.from_bytes(data[i + 5 : i + 7], "big")
            width = int.from_bytes(data[i + 7 : i + 9], "big")
            return width, height
        i += 2 + length
    return None
