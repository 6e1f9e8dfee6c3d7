"""The core's replies as SMS texts: plain, unaccented GSM-7 (or accented UCS-2), short.

What an SMS channel can do (`SMS_CAPABILITIES`: 160 characters, no pictures, no files, no
groups, no buttons, brief replies) and `to_sms`, which writes one piece of content as the
text of one SMS message, possibly of several concatenated segments:

* marked text loses its emphasis; a leading ✅ / ⚠️ / ❌ becomes the word the texts module
  gives for it (`Đã lưu`, `Lưu ý`, `Chưa lưu`), or goes when the text already starts so;
* GSM-7 by default: transliterated (`Đã lưu` → `Da luu`, `–` → `-`, no emoji), so one
  segment holds 160 characters; with `unicode`, accented UCS-2 (70 a segment), except that
  a text that fits one GSM-7 segment only once unaccented is sent unaccented rather than
  as two messages;
* at most `MAX_SEGMENTS` segments: a longer text is cut on a line or word boundary and
  ends with `...` and, when there is one, the dashboard's link (the rest is there);
* a picture is the dashboard's link (no link: nothing to send); a file is nothing.

`segments` (from `handlers.sms.gsm7`) counts what a text costs, for the channel's metrics.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final
from urllib.parse import quote

from bot import texts
from bot.channel import Capabilities, Markup, PhotoDelivery
from bot.messaging.content import Choice, ContactRequest, Content, Document, Image, Text
from bot.messaging.marked import plain
from handlers.sms.gsm7 import GSM7, segments, transliterate, without_pictographs

__all__ = ["MAX_SEGMENTS", "SMS_CAPABILITIES", "SMS_TEXT_LIMIT", "segments", "to_sms"]

SMS_TEXT_LIMIT: Final = 160  # one GSM-7 segment: what every acknowledgement fits
MAX_SEGMENTS: Final = 3  # what any answer is cut to
SMS_CAPABILITIES: Final = Capabilities(
    channel="sms",
    text_limit=SMS_TEXT_LIMIT,
    markup=Markup.SMS,
    edits=False,
    contact_button=False,
    command_menu=False,
    photos=PhotoDelivery.NONE,
    documents=False,
    groups=False,
    buttons=False,
    brief_replies=True,
)

_ELLIPSIS: Final = "..."
_VARIATION_SELECTOR: Final = "\ufe0f"


def to_sms(
    content: Content, *, unicode: bool = False, dashboard_url: str | None = None
) -> str | None:
    """The text of the SMS that carries `content`, or None when SMS cannot carry it (a
    file; a picture when no dashboard link is configured). See the module's doc."""
    match content:
        case Text(body=body) | ContactRequest(body=body) | Choice(body=body):
            return _text(plain(body), unicode, dashboard_url)
        case Image(caption=caption):
            if not dashboard_url:
                return None
            link = dashboard_url if unicode else _gsm_url(dashboard_url)
            return _text(texts.chart_seen_at(plain(caption), link), unicode, None)
        case Document():
            return None
    return None


def _text(text: str, unicode: bool, dashboard_url: str | None) -> str | None:
    worded = _status_worded(text.strip())
    link = dashboard_url or None
    if unicode:
        accented = without_pictographs(worded).strip()
        if segments(accented) == 1:
            return accented or None
        unaccented = transliterate(worded).strip()
        if segments(unaccented) == 1:
            return unaccented or None  # one message rather than two
        return _cut(accented, link) or None
    gsm = transliterate(worded).strip()
    return _cut(gsm, _gsm_url(link) if link else None) or None


def _fold(text: str) -> str:
    return transliterate(text).casefold()


def _status_worded(text: str) -> str:
    """A leading ✅ / ⚠️ / ❌ as its word (`Đã lưu`, `Lưu ý`, `Chưa lưu`): dropped when the
    text after it already starts with that word or, for ✅ and ❌, with `Đã` / `Chưa`
    (`✅ Đã sửa: …`, `❌ Chưa có danh sách …`); else the word and a colon stand for it."""
    for mark, word in texts.STATUS_WORDS.items():
        bare = mark.removesuffix(_VARIATION_SELECTOR)
        if not text.startswith(bare):
            continue
        rest = text[len(bare) :].removeprefix(_VARIATION_SELECTOR).lstrip()
        folded = _fold(rest)
        already = [_fold(word)]
        if mark == texts.OK:
            already.append(_fold("Đã "))
        elif mark == texts.NO:
            already.append(_fold("Chưa "))
        if any(folded.startswith(start) for start in already):
            return rest
        return f"{word}: {rest}" if rest else word
    return text


def _gsm_url(url: str) -> str:
    """The link with any character outside GSM-7 percent-encoded (a link is ASCII anyway)."""
    return "".join(ch if ch in GSM7 else quote(ch, safe="") for ch in url)


def _cut(text: str, link: str | None) -> str:
    """The text within `MAX_SEGMENTS`, else its longest start that ends on a line or word
    boundary and fits with `...` and the link after it (the link left out if it alone
    cannot fit)."""
    if segments(text) <= MAX_SEGMENTS:
        return text
    tail = _ELLIPSIS
    if link is not None and segments(f"{_ELLIPSIS}\n{link}") <= MAX_SEGMENTS:
        tail = f"{_ELLIPSIS}\n{link}"

    def fits(end: int) -> bool:
        return segments(text[:end].rstrip() + tail) <= MAX_SEGMENTS

    boundaries = [i for i, ch in enumerate(text) if ch in " \n" and text[:i].strip()]
    best = _last_fitting(boundaries, fits)
    if best is None:  # no boundary early enough: cut inside the word
        best = _last_fitting(list(range(1, len(text))), fits) or 0
    return text[:best].rstrip() + tail


def _last_fitting(ends: list[int], fits: Callable[[int], bool]) -> int | None:
    """The last of the increasing `ends` that `fits` (which, once false, stays false)."""
    low, high, found = 0, len(ends) - 1, None
    while low <= high:
        middle = (low + high) // 2
        if fits(ends[middle]):
            found = ends[middle]
            low = middle + 1
        else:
            high = middle - 1
    return found
