"""Channel identities written by people: the entries of FIELDTALLY_ADMINS.

An entry is a channel address (`zalo:<bot id>:<user id>`, `sms:+84912345678`, any
`channel:id`), or a bare number, which means an id on the first channel (the name the
settings pass as `bare_channel`), as the setting held before there were channels. An SMS
address's phone is normalised (`sms:0912 345 678` is `sms:+84912345678`), so it matches
the sender's address whatever way it was written.
"""

from __future__ import annotations

import re

from bot.channel import Address
from bot.phones import normalize_phone

SMS = "sms"
_BARE_ID = re.compile(r"-?\d+")


def parse_identity(entry: str, bare_channel: str) -> Address:
    """One entry as an address (ValueError, naming the entry, if it is not one)."""
    text = entry.strip()
    if _BARE_ID.fullmatch(text):
        return Address(bare_channel, str(int(text)))
    try:
        address = Address.parse(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a user id nor a channel:id identity") from None
    if address.channel == SMS:
        phone = normalize_phone(address.id)
        if phone is None:
            raise ValueError(f"{text!r}: not a Vietnamese phone number") from None
        return Address(SMS, phone)
    return address


def parse_identities(text: str, bare_channel: str) -> frozenset[Address]:
    """A comma-separated list of entries (empty ones skipped)."""
    return frozenset(parse_identity(part, bare_channel) for part in text.split(",") if part.strip())
