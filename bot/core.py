"""The core's front door: one object that owns the store and offers every use case.

Chat frontends (Telegram today, Zalo later) and the CLI call these methods with plain
values and get plain values back; nothing here knows about any chat platform.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from bot import texts
from bot.access import Caller, identify
from bot.export import export_rows, to_csv
from bot.intake import InboundText, ReportIntake
from bot.registration import assign, register_by_contact
from bot.settings import Settings
from bot.unit_import import import_units
from storage.database import Database
from storage.records import Unit

MAX_IMPORT_BYTES = 10 * 1024 * 1024  # a national list is ~8 MB of CSV


@dataclass(frozen=True, slots=True)
class OutgoingFile:
    filename: str
    content: bytes
    caption: str


class Core:
    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        self.intake = ReportIntake(db, settings)

    @classmethod
    async def open(cls, settings: Settings) -> Core:
        return cls(await Database.open(settings.db_path), settings)

    async def close(self) -> None:
        await self.db.close()

    async def caller(self, user_id: int) -> Caller:
        return await identify(self.db, user_id, self.settings.admins)

    def is_admin(self, user_id: int) -> bool:
        return user_id in self.settings.admins

    # -- use cases -------------------------------------------------------------------------------

    async def report(self, message: InboundText) -> list[str]:
        return await self.intake.handle(message)

    async def register(
        self, *, sender_id: int, chat_id: int, contact_user_id: int | None, phone: str, name: str
    ) -> str:
        return await register_by_contact(
            self.db,
            sender_id=sender_id,
            chat_id=chat_id,
            contact_user_id=contact_user_id,
            phone=phone,
            name=name,
        )

    async def assign(self, user_id: int, args: list[str]) -> str:
        return await assign(self.db, is_admin=self.is_admin(user_id), args=args)

    def may_import(self, user_id: int, filename: str | None, size: int | None) -> str | None:
        """A refusal to show before downloading the file, or None when it may proceed."""
        if not self.is_admin(user_id):
            return texts.ADMIN_ONLY
        if not (filename or "").lower().endswith(".csv"):
            return texts.IMPORT_NOT_CSV
        if size is not None and size > MAX_IMPORT_BYTES:
            return texts.import_too_large(MAX_IMPORT_BYTES)
        return None

    async def import_units(self, user_id: int, data: bytes) -> str:
        if not self.is_admin(user_id):
            return texts.ADMIN_ONLY
        if len(data) > MAX_IMPORT_BYTES:
            return texts.import_too_large(MAX_IMPORT_BYTES)
        _, reply = await import_units(self.db, data)
        return reply

    async def export(self, user_id: int, args: list[str]) -> OutgoingFile | str:
        """`/xuat [code] [csv]`: the subtree's CSV, for admins and the unit's supervisors."""
        caller = await self.caller(user_id)
        if not caller.is_admin and not caller.is_supervisor:
            return texts.SUPERVISORS_ONLY
        formats = [a for a in args if a.lower() in ("csv", "xlsx")]
        codes = [a for a in args if a.lower() not in ("csv", "xlsx")]
        if len(codes) > 1 or len(formats) > 1:
            return texts.EXPORT_USAGE
        if formats and formats[0].lower() != "csv":
            return texts.EXPORT_FORMAT_LATER
        unit = self._unit_for(caller, codes[0] if codes else None, "xuat")
        if isinstance(unit, str):
            return unit
        rows = await export_rows(self.db, unit.code, self.settings.tz)
        stamp = dt.datetime.now(self.settings.tz).strftime("%Y%m%d-%H%M")
        safe_code = re.sub(r"[^A-Za-z0-9._-]", "_", unit.code)
        return OutgoingFile(
            filename=f"tonghop_{safe_code}_{stamp}.csv",
            content=to_csv(rows),
            caption=texts.export_caption(texts.unit_label(unit.code, unit.name), len(rows)),
        )

    async def set_lock(self, user_id: int, args: list[str], locked: bool) -> str:
        """`/khoa [code]` and `/mokhoa [code]`: stop or resume reports for a subtree (admins)."""
        caller = await self.caller(user_id)
        if not caller.is_admin:
            return texts.ADMIN_ONLY
        if len(args) > 1:
            return texts.lock_usage(locked)
        unit = self._unit_for(caller, args[0] if args else None, "khoa" if locked else "mokhoa")
        if isinstance(unit, str):
            return unit
        async with self.db.transaction() as tx:
            await tx.set_locked([unit.code], locked)
        label = texts.unit_label(unit.code, unit.name)
        return texts.locked(label) if locked else texts.unlocked(label)

    def _unit_for(self, caller: Caller, code: str | None, command: str) -> Unit | str:
        """The unit a command works on: the one named, else the caller's own."""
        units = self.db.units
        if code is not None:
            unit = units.get(code)
            if unit is None:
                return texts.unknown_unit(code)
            if not caller.may_see(units, unit):
                return texts.not_your_unit(unit.code)
            return unit
        home = caller.home_units(units)
        if not home:
            return texts.NO_UNITS_YET
        if len(home) > 1:
            return texts.choose_unit([u.code for u in home], command)
        return home[0]
