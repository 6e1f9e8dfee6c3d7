"""Vietnamese phone numbers, normalised to E.164 (`+84…`).

Only Vietnamese numbers are accepted: fieldtally registers Vietnamese polling-team
chiefs, so a foreign number (`+1 …`, `+33 …`) is treated like a typo and gives None
("bad phone"); the caller decides what to tell the user.

Accepted shapes (separators: any whitespace, `.`, `-`, `(`, `)`):

* national, with the trunk 0: `0912 345 678`, `0912.345.678`, `024 3825 1234`;
* international: `+84912345678`, `(+84) 912 345 678`, `0084 912 345 678`,
  also with the redundant trunk 0 people often keep: `+84 0912345678`;
* a chat app's shared-contact format, digits with the country code but no `+`: `84912345678`.

The national significant number (what follows `+84`) must look like a current
Vietnamese number:

* mobile: 9 digits starting with 3, 5, 7, 8 or 9 (the 10-digit `03x…09x` plan of 2018);
* landline: 9 or 10 digits starting with 2 (`024 3825 1234`, `0214 3xxx xxx`).

Rejected on purpose: numbers without the trunk 0 nor a country code (`912345678`, a digit
may be missing), the pre-2018 11-digit mobiles (`016x…`, `012x…`; no longer in service),
service numbers (`1900…`, `1800…`), short codes, letters or any other character.
"""

from __future__ import annotations

import re

__all__ = ["normalize_phone"]

_SEPARATORS = re.compile(r"[\s.\-()]+")
# country code (`+84`, `0084`, `84`, optionally followed by the redundant trunk 0) or the
# trunk 0 alone, then the national significant number: a mobile or a landline
_PHONE = re.compile(r"(?:(?:\+|00)?840?|0)([35789][0-9]{8}|2[0-9]{8,9})")
_MAX_RAW_LENGTH = 64  # longer input is not a phone number; keeps the work bounded


def normalize_phone(raw: str) -> str | None:
    """Return the E.164 form (`+84…`) of a Vietnamese phone number, or None if `raw` is not one."""
    if len(raw) > _MAX_RAW_LENGTH:
        return None
    match = _PHONE.fullmatch(raw) or _PHONE.fullmatch(_SEPARATORS.sub("", raw))
    return None if match is None else "+84" + match[1]
