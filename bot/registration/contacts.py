"""Registration of chiefs and supervisors by their own phone number, and assignment by admins."""

from __future__ import annotations

from bot import texts
from bot.channel import Address
from bot.messaging.answers import Answer, Refusal, accepted, refused
from bot.messaging.text_safety import without_invisible
from bot.model import Person
from bot.registration.access import Caller
from bot.registration.phones import normalize_phone
from storage.database import Database, Transaction
from storage.tree import UnitIndex


async def register_by_contact(
    db: Database,
    *,
    sender: Address,
    chat: Address,
    contact_owner: Address | None,
    phone: str,
    name: str,
) -> Answer:
    """Register the sender for every unit listing their number; only their own contact counts
    (`contact_owner`: whose the shared contact is, as the channel vouches; None: unknown)."""
    if contact_owner != sender:
        return refused(Refusal.NOT_OWN_CONTACT, texts.NOT_OWN_CONTACT)
    normalized = normalize_phone(phone)
    if normalized is None:
        return refused(Refusal.BAD_PHONE, texts.BAD_CONTACT_PHONE)
    codes = await db.units_of_phone(normalized)
    if not codes:
        return refused(Refusal.UNKNOWN_PHONE, texts.unknown_phone(normalized))
    person = Person(sender, normalized, without_invisible(name), chat)
    await db.write(lambda tx: tx.save_person(person))
    units = [u for u in map(db.units.get, codes) if u is not None]
    areas = [texts.unit_label(u.code, u.name) for u in units if u.is_area]
    supervised = [texts.unit_label(u.code, u.name) for u in units if not u.is_area]
    return accepted(texts.registered(areas, supervised))


def greeting(caller: Caller, units: UnitIndex) -> str | None:
    """What `/start` answers someone the bot already knows (an admin, a registered chief or
    supervisor): who they are and what they can do. None: a newcomer, who gets the pitch."""
    if caller.is_admin:
        return texts.START_ADMIN
    if caller.person is None:
        return None
    found = (units.get(code) for code in caller.person.units)
    known = [u for u in found if u is not None]
    return texts.start_registered(
        caller.person.name,
        [texts.unit_label(u.code, u.name) for u in known if u.is_area],
        [texts.unit_label(u.code, u.name) for u in known if not u.is_area],
    )


async def assign(db: Database, *, actor: Address, is_admin: bool, args: list[str]) -> Answer:
    """`/phancong CODE PHONE`: add a phone to a unit's contacts."""
    if not is_admin:
        return refused(Refusal.ADMIN_ONLY, texts.ADMIN_ONLY)
    if len(args) < 2:
        return refused(Refusal.USAGE, texts.ASSIGN_USAGE)
    code, raw_phone = args[0], "".join(args[1:])
    unit = db.units.get(code)
    if unit is None:
        return refused(Refusal.UNKNOWN_UNIT, texts.unknown_unit(code), naming=code)
    phone = normalize_phone(raw_phone)
    if phone is None:
        return refused(Refusal.BAD_PHONE, texts.BAD_PHONE)

    def add_contact(tx: Transaction) -> None:
        tx.add_contact(unit.code, phone)
        tx.audit(actor, "assign", f"{unit.code} ← {phone}")

    await db.write(add_contact)
    registered = await db.person_by_phone(phone) is not None
    return accepted(texts.assigned(texts.unit_label(unit.code, unit.name), phone, registered))
