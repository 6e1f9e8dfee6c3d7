"""Unit names for people: Vietnamese alphabetical order with natural numbers, and short names.

Pure functions, no I/O. Used by the charts (bar order, labels) and anywhere a list of units is
shown in name order.

* :func:`collation_key` orders text the way a Vietnamese reader expects: letter by letter in
  the Vietnamese alphabet (a ă â b c d đ e ê … o ô ơ … u ư …), tone marks only breaking ties
  (ngang, huyền, hỏi, ngã, sắc, nặng), letter case ignored, and runs of digits compared as
  numbers (``số 4`` before ``số 10``). Python's own ``sorted`` compares code points, which puts
  ``Tả`` (U+1EA3) after ``Tu`` and ``số 10`` before ``số 4``.
* :func:`name_order_key` sorts unit names by what follows the kind word (``Xã``, ``Thị trấn``,
  ``Phường`` …), so ``Thị trấn Mường Khương`` sits among the M's where people look for it.
* :func:`short_name` drops what repeats the parent's name and abbreviates ``Khu vực bỏ phiếu``:
  under ``Thị trấn Mường Khương``, ``Khu vực bỏ phiếu số 3 – Mường Khương`` is ``KVBP số 3``.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

from bot import texts

__all__ = ["collation_key", "name_order_key", "short_name", "without_kind_word"]

# Combining marks after NFD: the vowel modifiers make distinct letters of the alphabet, the
# tones only break ties.
_MODIFIERS: Final = {"\u0306": 1, "\u0302": 2, "\u031b": 3}  # breve ă, circumflex â ê ô, horn ơ ư
_TONES: Final = {"\u0300": 1, "\u0309": 2, "\u0303": 3, "\u0301": 4, "\u0323": 5}
_TOKENS: Final = re.compile(r"\d+|[^\W\d_]+", re.UNICODE)

LetterKey = tuple[tuple[int, ...], tuple[int, ...]]


def _letters(word: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(letter ranks, tones) of one word of letters."""
    ranks: list[int] = []
    tones: list[int] = []
    for char in word.lower():
        if char == "đ":
            ranks.append(ord("d") * 4 + 1)  # đ is the letter after d
            tones.append(0)
            continue
        decomposed = unicodedata.normalize("NFD", char)
        base, marks = decomposed[0], decomposed[1:]
        modifier = next((_MODIFIERS[m] for m in marks if m in _MODIFIERS), 0)
        ranks.append(ord(base) * 4 + modifier)
        tones.append(next((_TONES[m] for m in marks if m in _TONES), 0))
    return tuple(ranks), tuple(tones)


def collation_key(text: str) -> tuple[object, ...]:
    """A sort key: Vietnamese letters in alphabet order, then tones, numbers as numbers.

    Punctuation and spacing are ignored beyond separating words; a number sorts before a word
    in the same position. Ties fall back to the text itself, so the order is total.
    """
    primary: list[tuple[int, int, tuple[int, ...]]] = []
    secondary: list[tuple[int, ...]] = []
    for token in _TOKENS.findall(unicodedata.normalize("NFC", text)):
        if token.isdigit():
            primary.append((0, int(token), ()))
            secondary.append(())
        else:
            ranks, tones = _letters(token)
            primary.append((1, 0, ranks))
            secondary.append(tones)
    return (tuple(primary), tuple(secondary), text)


def without_kind_word(name: str) -> str:
    """The name without a leading kind word (``Xã Pha Long`` → ``Pha Long``); the name
    itself when nothing would be left."""
    folded = unicodedata.normalize("NFC", name).strip()
    lowered = folded.lower()
    for word in texts.UNIT_KIND_WORDS:
        if lowered.startswith(word + " "):
            rest = folded[len(word) :].strip()
            if rest:
                return rest
    return folded


def name_order_key(name: str) -> tuple[object, ...]:
    """Sort key of a unit name: by the name after its kind word, then the whole name."""
    return (collation_key(without_kind_word(name)), collation_key(name))


_SEPARATORS: Final = " \t-–—,:;()"


def short_name(name: str, parent_name: str | None) -> str:
    """The name as a chart shows it under its parent: long area words abbreviated, and the
    parent's name (with or without its kind word) left out where it ends the name as a
    qualifier, unless only a kind word or nothing would be left."""
    text = " ".join(unicodedata.normalize("NFC", name).split())
    for long, short in texts.AREA_NAME_ABBREVIATIONS:
        text = re.sub(re.escape(long), short, text, flags=re.IGNORECASE)
    if not parent_name:
        return text
    parent = " ".join(unicodedata.normalize("NFC", parent_name).split())
    for repeated in dict.fromkeys((parent, without_kind_word(parent))):
        if not repeated:
            continue
        # The parent's name as a trailing qualifier: "số 3 – Mường Khương", "số 2, xã Bản Lầu".
        found = re.search(
            rf"(?<=[{re.escape(_SEPARATORS)}]){re.escape(repeated)}[{re.escape(_SEPARATORS)}]*$",
            text,
            flags=re.IGNORECASE,
        )
        if found is None or found.start() == 0:
            continue
        candidate = (text[: found.start()] + " " + text[found.end() :]).strip(_SEPARATORS)
        candidate = " ".join(candidate.split())
        if _says_more_than_a_kind(candidate):
            return candidate
    return text


def _says_more_than_a_kind(text: str) -> bool:
    """Whether `text` names something: a number, or a word beyond the kind words."""
    if any(char.isdigit() for char in text):
        return True
    rest = text.lower()
    for word in sorted(texts.UNIT_KIND_WORDS, key=len, reverse=True):
        rest = rest.replace(word, " ")
    for _, short in texts.AREA_NAME_ABBREVIATIONS:
        rest = rest.replace(short.lower(), " ")
    return bool(rest.strip(_SEPARATORS + " "))
