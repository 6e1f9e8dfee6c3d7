"""Turning rows into the domain's records (`bot.model`), shared by the reading and the
writing connection of either engine. Identities are stored as their text form
(`channel:id`, see `bot.channel.Address`)."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from bot.channel import Address
from bot.model import ADDITIVE_TOTALS, Invitation, Person, Report, Subscription, Totals, Unit
from storage.engine import Row
from storage.tree import UnitIndex

REPORT_COLUMNS = (
    "area_code, kind, at, time_stated, received_at, sender, chat, message_ref, line_index,"
    " text, is_correction, bot, voted, list_size, staff_tested, staff_total, positives"
)
TOTALS_COLUMNS = ", ".join((*ADDITIVE_TOTALS, "last_report_at"))
UNITS_QUERY = "SELECT * FROM units ORDER BY depth, position"
CONTACTS_QUERY = "SELECT unit_code, phone FROM unit_contacts ORDER BY unit_code, source, phone"


@lru_cache(maxsize=1 << 16)
def address(text: str) -> Address:
    """A stored identity as an `Address` (the same few thousand people and chats recur in
    every read of reports: parsed once each)."""
    return Address.parse(text)


def read_units(rows: Iterable[Row], contacts: Iterable[Row]) -> UnitIndex:
    """The unit tree from the rows of UNITS_QUERY and CONTACTS_QUERY."""
    phones: dict[str, list[str]] = {}
    for contact in contacts:
        phones.setdefault(contact[0], []).append(contact[1])
    return UnitIndex(
        Unit(
            code=row["code"],
            parent_code=row["parent_code"],
            kind=row["kind"],
            name=row["name"],
            depth=row["depth"],
            is_area=bool(row["is_area"]),
            registered_voters=row["registered_voters"],
            staff=row["staff"],
            contact_phones=tuple(dict.fromkeys(phones.get(row["code"], ()))),
            position=row["position"],
            locked=bool(row["locked"]),
        )
        for row in rows
    )


def report_from_row(row: Row) -> Report:
    return Report(
        id=row["id"],
        area_code=row["area_code"],
        kind=row["kind"],
        at=row["at"],
        time_stated=bool(row["time_stated"]),
        received_at=row["received_at"],
        sender=address(row["sender"]),
        chat=address(row["chat"]),
        message_ref=row["message_ref"],
        line_index=row["line_index"],
        text=row["text"],
        is_correction=bool(row["is_correction"]),
        bot=row["bot"],
        voted=row["voted"],
        list_size=row["list_size"],
        staff_tested=row["staff_tested"],
        staff_total=row["staff_total"],
        positives=row["positives"],
        replaced_by=row["replaced_by"],
    )


def subscription_from_row(row: Row) -> Subscription:
    return Subscription(
        chat=address(row["chat"]),
        bot=row["bot"],
        unit_code=row["unit_code"],
        title=row["title"],
        subscribed_by=address(row["subscribed_by"]),
        finished_notified=bool(row["finished_notified"]),
    )


def person_from_row(row: Row) -> Person:
    return Person(address(row["identity"]), row["phone"], row["name"], address(row["chat"]))


def invitation_from_row(row: Row) -> Invitation:
    used_by = row["used_by"]
    return Invitation(
        code_hash=row["code_hash"],
        unit_code=row["unit_code"],
        phone=row["phone"],
        issued_at=int(row["issued_at"]),
        expires_at=int(row["expires_at"]),
        used_at=None if row["used_at"] is None else int(row["used_at"]),
        used_by=None if used_by is None else address(used_by),
        revoked=bool(row["revoked"]),
    )


def totals_from_row(row: Row | None) -> Totals:
    if row is None:
        return Totals()
    return Totals(**{name: row[name] for name in (*ADDITIVE_TOTALS, "last_report_at")})
