"""Who is calling and what they may touch: admin, chief of areas, supervisor of a subtree."""

from __future__ import annotations

from dataclasses import dataclass

from bot.channel import Address
from bot.model import Person, Unit
from bot.registration.identities import Admins
from storage.database import Database
from storage.tree import UnitIndex


@dataclass(frozen=True, slots=True)
class Caller:
    identity: Address
    is_admin: bool
    person: Person | None
    areas: tuple[str, ...]  # polling areas this person is chief of
    supervised: tuple[str, ...]  # inner units this person supervises

    @property
    def is_registered(self) -> bool:
        return self.person is not None

    @property
    def is_supervisor(self) -> bool:
        return bool(self.supervised)

    def may_report_for(self, units: UnitIndex, area: Unit) -> bool:
        if self.is_admin or area.code in self.areas:
            return True
        return any(units.is_within(area.code, code) for code in self.supervised)

    def may_see(self, units: UnitIndex, unit: Unit) -> bool:
        """Supervisors see their subtrees, admins everything (chiefs use their own commands)."""
        if self.is_admin:
            return True
        return any(units.is_within(unit.code, code) for code in self.supervised)

    def home_units(self, units: UnitIndex) -> list[Unit]:
        """The units a command without a code works on: the roots for an admin."""
        if self.is_admin:
            return units.roots
        found = (units.get(code) for code in (*self.supervised, *self.areas))
        return [unit for unit in found if unit is not None]


async def identify(db: Database, identity: Address, admins: Admins) -> Caller:
    person = await db.person(identity)
    codes = person.units if person else ()
    units = [u for u in (db.units.get(code) for code in codes) if u is not None]
    # A supervisor of a unit that contains another supervised unit needs only the higher one.
    supervised = [u.code for u in units if not u.is_area]
    top = tuple(
        code
        for code in supervised
        if not any(other != code and db.units.is_within(code, other) for other in supervised)
    )
    return Caller(
        identity=identity,
        is_admin=identity in admins,
        person=person,
        areas=tuple(u.code for u in units if u.is_area),
        supervised=top,
    )


@dataclass(frozen=True, slots=True)
class Viewer:
    """What a chat may look at: a private caller's units, or a group's subscribed unit."""

    caller: Caller
    group_unit: str | None = None  # set in a subscribed group
    in_group: bool = False

    def may_view(self, units: UnitIndex, unit: Unit) -> bool:
        if self.in_group:
            return self.group_unit is not None and units.is_within(unit.code, self.group_unit)
        if self.caller.may_see(units, unit):
            return True
        return unit.code in self.caller.areas

    def home_units(self, units: UnitIndex) -> list[Unit]:
        if self.in_group:
            unit = units.get(self.group_unit) if self.group_unit else None
            return [unit] if unit is not None else []
        return self.caller.home_units(units)

    @property
    def may_supervise(self) -> bool:
        """Supervisor-level reads: summaries of subtrees, missing lists."""
        return self.in_group or self.caller.is_admin or self.caller.is_supervisor
