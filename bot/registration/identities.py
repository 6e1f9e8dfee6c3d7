"""Channel identities written by people: the entries of FIELDTALLY_ADMINS.

An entry is a channel address (`zalo:<bot id>:<user id>`, `sms:+84912345678`, any
`channel:id`), or a bare number, as the setting held before there were channels: the user
id of a channel whose user ids are numbers (no other channel's id is a bare number: a Zalo
id names its bot, an SMS id is a `+84…` phone), whichever adapter knows such a channel. An SMS
address's phone is normalised (`sms:0912 345 678` is `sms:+84912345678`), so it matches
the sender's address whatever way it was written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.channel import Address
from bot.registration.phones import normalize_phone

SMS = "sms"
_BARE_ID = re.compile(r"-?\d+")


@dataclass(frozen=True, slots=True)
class Admins:
    """FIELDTALLY_ADMINS: channel identities, and bare numbers (see the module's docstring)."""

    identities: frozenset[Address] = frozenset()
    numbers: frozenset[str] = frozenset()

    def __contains__(self, identity: object) -> bool:
        if not isinstance(identity, Address):
            return False
        return identity in self.identities or identity.id in self.numbers

    def __bool__(self) -> bool:
        return bool(self.identities or self.numbers)

    def on(self, channel: str, *, numbered: bool) -> list[Address]:
        """The admins an adapter of `channel` can write to (`numbered`: its user ids are
        numbers, so the bare numbers are its ids too), in a stable order."""
        found = {a for a in self.identities if a.channel == channel}
        if numbered:
            found |= {Address(channel, number) for number in self.numbers}
        return sorted(found)


def parse_admins(entries: list[str]) -> Admins:
    """The entries (empty ones skipped) as admins (ValueError naming a bad entry)."""
    identities, numbers = set(), set()
    for entry in (e.strip() for e in entries):
        if not entry:
            continue
        if _BARE_ID.fullmatch(entry):
            numbers.add(str(int(entry)))
        else:
            identities.add(parse_identity(entry))
    return Admins(frozenset(identities), frozenset(numbers))


def parse_identity(entry: str) -> Address:
    """One `channel:id` entry as an address (ValueError, naming the entry, if it is not one)."""
    text = entry.strip()
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
