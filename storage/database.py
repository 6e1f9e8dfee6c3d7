"""The SQLite store: opening and migrating the file, reads, and serialised write transactions.

One connection, one writer: every change goes through `Database.transaction()`, which holds
an asyncio lock for the whole BEGIN…COMMIT so transactions from concurrent chats never
interleave. Running totals (`unit_totals`) are kept in step with reports inside the same
transaction, so summaries read a few rows whatever the size of the tree.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import time
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import aiosqlite

from storage.records import (
    ADDITIVE_TOTALS,
    CountPoint,
    MessageKey,
    NewReport,
    Person,
    Report,
    Subscription,
    Totals,
    Unit,
    UnitSpec,
)
from storage.schema import MIGRATIONS, SCHEMA_VERSION
from storage.tree import UnitIndex

_REPORT_COLUMNS = (
    "area_code, kind, at, time_stated, received_at, sender_id, chat_id, message_id, line_index,"
    " text, is_correction, voted, list_size, staff_tested, staff_total, positives"
)
_TOTALS_COLUMNS = ", ".join((*ADDITIVE_TOTALS, "last_report_at"))


def _unit_row(unit: Unit, existing: dict[str, str]) -> tuple[Any, ...]:
    """The units row of `unit`, keeping the spelling of codes already stored."""

    def stored_code(code: str) -> str:
        return existing.get(code.lower(), code)

    parent = None if unit.parent_code is None else stored_code(unit.parent_code)
    return (
        stored_code(unit.code), unit.code.lower(), parent, unit.kind, unit.name, unit.depth,
        int(unit.is_area), unit.registered_voters, unit.staff, unit.position,
    )  # fmt: skip


class StorageError(Exception):
    """The store cannot do what was asked (a corrupt, newer or unreadable database)."""


class UnitsHaveReports(Exception):
    """A re-import would remove units that already have reports."""

    def __init__(self, codes: Sequence[str]) -> None:
        super().__init__(", ".join(codes))
        self.codes = list(codes)


@dataclass(frozen=True, slots=True)
class ImportSummary:
    added: int
    updated: int
    removed: int


def _report(row: sqlite3.Row) -> Report:
    return Report(
        id=row["id"],
        area_code=row["area_code"],
        kind=row["kind"],
        at=row["at"],
        time_stated=bool(row["time_stated"]),
        received_at=row["received_at"],
        sender_id=row["sender_id"],
        chat_id=row["chat_id"],
        message_id=row["message_id"],
        line_index=row["line_index"],
        text=row["text"],
        is_correction=bool(row["is_correction"]),
        voted=row["voted"],
        list_size=row["list_size"],
        staff_tested=row["staff_tested"],
        staff_total=row["staff_total"],
        positives=row["positives"],
        replaced_by=row["replaced_by"],
    )


def _subscription(row: sqlite3.Row) -> Subscription:
    return Subscription(
        chat_id=row["chat_id"],
        unit_code=row["unit_code"],
        title=row["title"],
        subscribed_by=row["subscribed_by"],
        finished_notified=bool(row["finished_notified"]),
    )


def _person(row: sqlite3.Row) -> Person:
    return Person(row["user_id"], row["phone"], row["name"], row["chat_id"])


def _totals(row: sqlite3.Row | None) -> Totals:
    if row is None:
        return Totals()
    return Totals(**{name: row[name] for name in (*ADDITIVE_TOTALS, "last_report_at")})


async def _read_units(connection: aiosqlite.Connection) -> UnitIndex:
    async with connection.execute(
        "SELECT u.*, group_concat(c.phone, ';') AS phones FROM units u"
        " LEFT JOIN unit_contacts c ON c.unit_code = u.code"
        " GROUP BY u.code ORDER BY u.depth, u.position"
    ) as cursor:
        rows = await cursor.fetchall()
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
            contact_phones=tuple(p for p in dict.fromkeys((row["phones"] or "").split(";")) if p),
            position=row["position"],
            locked=bool(row["locked"]),
        )
        for row in rows
    )


class Database:
    """Handle on one SQLite file. Open with `await Database.open(path)`; always `close()`."""

    def __init__(self, connection: aiosqlite.Connection, path: Path) -> None:
        self._db = connection
        self._lock = asyncio.Lock()
        self.path = path
        self.units = UnitIndex([])

    # -- lifecycle ---------------------------------------------------------------------------

    @classmethod
    async def open(cls, path: Path | str) -> Database:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            # Owner-only from the first byte: the file holds phone numbers.
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        connection = await aiosqlite.connect(path, isolation_level=None)
        connection.row_factory = sqlite3.Row
        database = cls(connection, path)
        try:
            await database._prepare()
        except BaseException:
            await connection.close()
            raise
        return database

    async def _prepare(self) -> None:
        await self._db.execute("PRAGMA journal_mode=WAL")
        # FULL: an acknowledged report must survive a power cut, not only a crash.
        await self._db.execute("PRAGMA synchronous=FULL")
        await self._db.execute("PRAGMA foreign_keys=ON")
        await self._db.execute("PRAGMA busy_timeout=5000")
        version = await self._scalar("PRAGMA user_version")
        if version > SCHEMA_VERSION:
            raise StorageError(
                f"database schema version {version} is newer than this program ({SCHEMA_VERSION})"
            )
        for number in range(version, SCHEMA_VERSION):
            await self._db.executescript(
                f"BEGIN; {MIGRATIONS[number]}; PRAGMA user_version = {number + 1}; COMMIT;"
            )
        await self._load_units()

    async def close(self) -> None:
        await self._db.close()

    async def schema_version(self) -> int:
        return int(await self._scalar("PRAGMA user_version"))

    # -- reads -------------------------------------------------------------------------------

    async def _scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        async with self._db.execute(sql, params) as cursor:
            row = await cursor.fetchone()
        return None if row is None else row[0]

    async def _rows_in(self, sql: str, values: Sequence[Any]) -> list[sqlite3.Row]:
        """Run `sql` (with one `{marks}` placeholder list) for all values, in chunks that stay
        under SQLite's limit on bound variables."""
        rows: list[sqlite3.Row] = []
        for start in range(0, len(values), 900):
            chunk = list(values[start : start + 900])
            async with self._db.execute(sql.format(marks=",".join("?" * len(chunk))), chunk) as cur:
                rows.extend(await cur.fetchall())
        return rows

    async def _load_units(self) -> None:
        self.units = await _read_units(self._db)

    async def totals(self, code: str) -> Totals:
        async with self._db.execute(
            f"SELECT {_TOTALS_COLUMNS} FROM unit_totals WHERE code = ?", (code,)
        ) as cursor:
            return _totals(await cursor.fetchone())

    async def totals_of(self, codes: Sequence[str]) -> dict[str, Totals]:
        """Totals of many units in one go."""
        rows = await self._rows_in(
            f"SELECT code, {_TOTALS_COLUMNS} FROM unit_totals WHERE code IN ({{marks}})", codes
        )
        found = {row["code"]: _totals(row) for row in rows}
        return {code: found.get(code, Totals()) for code in codes}

    async def person(self, user_id: int) -> Person | None:
        async with self._db.execute("SELECT * FROM people WHERE user_id = ?", (user_id,)) as cur:
            row = await cur.fetchone()
        if row is None:
            return None
        return Person(
            user_id=row["user_id"],
            phone=row["phone"],
            name=row["name"],
            chat_id=row["chat_id"],
            units=await self._units_of_phone(row["phone"]),
        )

    async def person_by_phone(self, phone: str) -> Person | None:
        async with self._db.execute("SELECT user_id FROM people WHERE phone = ?", (phone,)) as cur:
            row = await cur.fetchone()
        return None if row is None else await self.person(row[0])

    async def _units_of_phone(self, phone: str) -> tuple[str, ...]:
        async with self._db.execute(
            "SELECT DISTINCT c.unit_code FROM unit_contacts c JOIN units u ON u.code = c.unit_code"
            " WHERE c.phone = ? ORDER BY u.depth, u.position",
            (phone,),
        ) as cursor:
            return tuple(row[0] for row in await cursor.fetchall())

    async def units_of_phone(self, phone: str) -> tuple[str, ...]:
        return await self._units_of_phone(phone)

    async def message_replies(self, key: MessageKey) -> list[str] | None:
        """The replies already given to this message version, or None if it is new."""
        async with self._db.execute(
            "SELECT replies FROM processed_messages WHERE chat_id=? AND message_id=? AND version=?",
            (key.chat_id, key.message_id, key.version),
        ) as cursor:
            row = await cursor.fetchone()
        return None if row is None else list(json.loads(row[0]))

    async def area_reports(self, area_code: str, *, include_replaced: bool = False) -> list[Report]:
        where = "" if include_replaced else " AND replaced_by IS NULL"
        async with self._db.execute(
            f"SELECT * FROM reports WHERE area_code = ?{where} ORDER BY id", (area_code,)
        ) as cursor:
            return [_report(row) for row in await cursor.fetchall()]

    async def unreported_areas(self) -> set[str]:
        """Codes of every area with no turnout or completion report yet."""
        async with self._db.execute(
            "SELECT t.code FROM unit_totals t JOIN units u ON u.code = t.code"
            " WHERE u.is_area = 1 AND t.areas_reported = 0"
        ) as cursor:
            return {row[0] for row in await cursor.fetchall()}

    async def people_with_phones(self, phones: Sequence[str]) -> dict[str, Person]:
        """Registered people by phone (only those whose phone is in `phones`)."""
        rows = await self._rows_in("SELECT * FROM people WHERE phone IN ({marks})", phones)
        return {row["phone"]: _person(row) for row in rows}

    async def people_by_id(self, user_ids: Sequence[int]) -> dict[int, Person]:
        rows = await self._rows_in("SELECT * FROM people WHERE user_id IN ({marks})", user_ids)
        return {row["user_id"]: _person(row) for row in rows}

    async def count_points(self, area_codes: Sequence[str]) -> list[CountPoint]:
        """Current turnout and completion counts of these areas, in time order."""
        points: list[CountPoint] = []
        if len(area_codes) > 5000:  # most of the tree: one scan beats thousands of lookups
            wanted = set(area_codes)
            async with self._db.execute(
                "SELECT area_code, at, voted FROM reports"
                " WHERE replaced_by IS NULL AND kind != 'covid'"
            ) as cursor:
                async for row in cursor:
                    if row[0] in wanted:
                        points.append(CountPoint(row[0], row[1], row[2]))
        else:
            rows = await self._rows_in(
                "SELECT area_code, at, voted FROM reports WHERE replaced_by IS NULL"
                " AND kind != 'covid' AND area_code IN ({marks})",
                area_codes,
            )
            points.extend(CountPoint(r[0], r[1], r[2]) for r in rows)
        points.sort(key=lambda p: p.at)
        return points

    async def subscriptions(self) -> list[Subscription]:
        async with self._db.execute("SELECT * FROM subscriptions ORDER BY chat_id") as cursor:
            return [_subscription(row) for row in await cursor.fetchall()]

    async def subscription(self, chat_id: int) -> Subscription | None:
        async with self._db.execute(
            "SELECT * FROM subscriptions WHERE chat_id = ?", (chat_id,)
        ) as cursor:
            row = await cursor.fetchone()
        return None if row is None else _subscription(row)

    # -- writes ------------------------------------------------------------------------------

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        """One serialised write transaction; commits on normal exit, rolls back on error."""
        async with self._lock:
            await self._db.execute("BEGIN IMMEDIATE")
            tx = Transaction(self._db, self.units)
            try:
                yield tx
            except BaseException:
                await self._db.execute("ROLLBACK")
                raise
            await self._db.execute("COMMIT")
            if tx.units_changed:
                await self._load_units()


class Transaction:
    """The write API, valid only inside `Database.transaction()`."""

    def __init__(self, connection: aiosqlite.Connection, units: UnitIndex) -> None:
        self._db = connection
        self._units = units
        self.units_changed = False

    async def unit_index(self) -> UnitIndex:
        """The unit tree as this transaction sees it (after `replace_units`, the new one)."""
        return await _read_units(self._db)

    async def current_reports(self, area_code: str) -> list[Report]:
        async with self._db.execute(
            "SELECT * FROM reports WHERE area_code = ? AND replaced_by IS NULL ORDER BY id",
            (area_code,),
        ) as cursor:
            return [_report(row) for row in await cursor.fetchall()]

    async def message_replies(self, key: MessageKey) -> list[str] | None:
        """Checked inside the transaction so two deliveries of one message cannot both apply."""
        async with self._db.execute(
            "SELECT replies FROM processed_messages WHERE chat_id=? AND message_id=? AND version=?",
            (key.chat_id, key.message_id, key.version),
        ) as cursor:
            row = await cursor.fetchone()
        return None if row is None else list(json.loads(row[0]))

    async def origin_reports(self, chat_id: int, message_id: int) -> list[Report]:
        """Current reports that came from one chat message (to replace them on an edit)."""
        async with self._db.execute(
            "SELECT * FROM reports WHERE chat_id = ? AND message_id = ? AND replaced_by IS NULL",
            (chat_id, message_id),
        ) as cursor:
            return [_report(row) for row in await cursor.fetchall()]

    async def current_reports_by_area(self) -> dict[str, list[Report]]:
        by_area: dict[str, list[Report]] = {}
        async with self._db.execute(
            "SELECT * FROM reports WHERE replaced_by IS NULL ORDER BY id"
        ) as cursor:
            async for row in cursor:
                by_area.setdefault(row["area_code"], []).append(_report(row))
        return by_area

    async def area_state(self, area_code: str) -> Totals:
        async with self._db.execute(
            f"SELECT {_TOTALS_COLUMNS} FROM unit_totals WHERE code = ?", (area_code,)
        ) as cursor:
            return _totals(await cursor.fetchone())

    async def add_report(self, report: NewReport) -> int:
        cursor = await self._db.execute(
            f"INSERT INTO reports ({_REPORT_COLUMNS}) VALUES ({','.join('?' * 16)})",
            (
                report.area_code, report.kind, report.at, int(report.time_stated),
                report.received_at, report.sender_id, report.chat_id, report.message_id,
                report.line_index, report.text, int(report.is_correction), report.voted,
                report.list_size, report.staff_tested, report.staff_total, report.positives,
            ),
        )  # fmt: skip
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    async def mark_replaced(self, report_ids: Iterable[int], by_id: int) -> None:
        await self._db.executemany(
            "UPDATE reports SET replaced_by = ? WHERE id = ? AND replaced_by IS NULL",
            [(by_id, report_id) for report_id in report_ids],
        )

    async def update_area(self, area_code: str, old: Totals, new: Totals) -> None:
        """Store an area's new state and carry the change up to every ancestor's totals."""
        chain = [area_code, *self._units.ancestor_codes(area_code)]
        delta = new.minus(old)
        sets = ", ".join(f"{name} = {name} + ?" for name in ADDITIVE_TOTALS)
        values = [getattr(delta, name) for name in ADDITIVE_TOTALS]
        marks = ",".join("?" * len(chain))
        if any(values):
            await self._db.execute(
                f"UPDATE unit_totals SET {sets} WHERE code IN ({marks})", (*values, *chain)
            )
        if new.last_report_at == old.last_report_at:
            return
        await self._db.execute(
            "UPDATE unit_totals SET last_report_at = ? WHERE code = ?",
            (new.last_report_at, area_code),
        )
        if new.last_report_at is not None and (
            old.last_report_at is None or new.last_report_at > old.last_report_at
        ):
            await self._db.execute(
                "UPDATE unit_totals SET last_report_at = max(coalesce(last_report_at, 0), ?)"
                f" WHERE code IN ({marks})",
                (new.last_report_at, *chain),
            )
        else:  # went back (a correction to an earlier time): recompute the ancestors from below
            for code in chain[1:]:
                await self._db.execute(
                    "UPDATE unit_totals SET last_report_at = (SELECT max(t.last_report_at)"
                    " FROM unit_totals t JOIN units u ON u.code = t.code WHERE u.parent_code = ?)"
                    " WHERE code = ?",
                    (code, code),
                )

    async def record_message(self, key: MessageKey, replies: Sequence[str]) -> None:
        await self._db.execute(
            "INSERT OR IGNORE INTO processed_messages VALUES (?, ?, ?, ?, ?)",
            (key.chat_id, key.message_id, key.version, json.dumps(list(replies)), int(time.time())),
        )

    async def save_person(self, person: Person) -> None:
        await self._db.execute(
            "INSERT INTO people (user_id, phone, name, chat_id, registered_at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT(user_id) DO UPDATE SET"
            " phone = excluded.phone, name = excluded.name, chat_id = excluded.chat_id",
            (person.user_id, person.phone, person.name, person.chat_id, int(time.time())),
        )

    async def add_contact(self, unit_code: str, phone: str) -> None:
        await self._db.execute(
            "INSERT OR IGNORE INTO unit_contacts VALUES (?, ?, 'assign')", (unit_code, phone)
        )
        self.units_changed = True

    async def replace_units(self, specs: Sequence[UnitSpec]) -> ImportSummary:
        """Make the unit table equal to `specs` (parents before children), keeping reports.

        Units are matched by code case-insensitively and updated in place. Removing a unit
        that has reports raises UnitsHaveReports and the caller's transaction rolls back.
        """
        index = UnitIndex.from_specs(specs)
        wanted = {unit.code.lower(): unit for unit in index}
        existing: dict[str, str] = {}
        async with self._db.execute("SELECT code_key, code FROM units") as cursor:
            for row in await cursor.fetchall():
                existing[row[0]] = row[1]
        removed = [code for key, code in existing.items() if key not in wanted]
        if removed:
            marks = ",".join("?" * len(removed))
            async with self._db.execute(
                f"SELECT DISTINCT area_code FROM reports WHERE area_code IN ({marks})", removed
            ) as cursor:
                with_reports = sorted(row[0] for row in await cursor.fetchall())
            if with_reports:
                raise UnitsHaveReports(with_reports)
        # Children of removed units may be re-parented, so detach before deleting.
        await self._db.execute("PRAGMA defer_foreign_keys = ON")
        await self._db.executemany(
            "INSERT INTO units (code, code_key, parent_code, kind, name, depth, is_area,"
            " registered_voters, staff, position) VALUES (?,?,?,?,?,?,?,?,?,?)"
            " ON CONFLICT(code_key) DO UPDATE SET parent_code = excluded.parent_code,"
            " kind = excluded.kind, name = excluded.name, depth = excluded.depth,"
            " is_area = excluded.is_area, registered_voters = excluded.registered_voters,"
            " staff = excluded.staff, position = excluded.position",
            [_unit_row(unit, existing) for unit in index],
        )
        for code in removed:  # foreign keys are checked at commit, so order does not matter
            await self._db.execute("DELETE FROM units WHERE code = ?", (code,))
        await self._db.execute("DELETE FROM unit_contacts WHERE source = 'import'")
        await self._db.executemany(
            "INSERT OR IGNORE INTO unit_contacts VALUES (?, ?, 'import')",
            [
                (existing.get(unit.code.lower(), unit.code), phone)
                for unit in index
                for phone in unit.contact_phones
            ],
        )
        await self._db.execute(
            "INSERT OR IGNORE INTO unit_totals (code) SELECT code FROM units"
        )
        self.units_changed = True
        self._units = await self.unit_index()  # later writes in this transaction walk the new tree
        added = sum(1 for key in wanted if key not in existing)
        return ImportSummary(added=added, updated=len(wanted) - added, removed=len(removed))

    async def rebuild_totals(self, area_states: dict[str, Totals]) -> None:
        """Write every area's state and recompute every inner unit's totals from them."""
        async with self._db.execute("SELECT code, parent_code, is_area FROM units") as cursor:
            rows = await cursor.fetchall()
        parent = {row[0]: row[1] for row in rows}
        sums: dict[str, list[int]] = {row[0]: [0] * len(ADDITIVE_TOTALS) for row in rows}
        latest: dict[str, int | None] = {row[0]: None for row in rows}
        for code, state in area_states.items():
            values = [getattr(state, name) for name in ADDITIVE_TOTALS]
            node: str | None = code
            while node is not None:
                sums[node] = [a + b for a, b in zip(sums[node], values, strict=True)]
                if state.last_report_at is not None:
                    current = latest[node]
                    latest[node] = max(current or 0, state.last_report_at)
                node = parent[node]
        await self._db.execute("DELETE FROM unit_totals")
        await self._db.executemany(
            f"INSERT INTO unit_totals (code, {_TOTALS_COLUMNS}) VALUES"
            f" ({','.join('?' * (len(ADDITIVE_TOTALS) + 2))})",
            [(code, *sums[code], latest[code]) for code in sums],
        )

    async def subscribe(self, subscription: Subscription) -> None:
        await self._db.execute(
            "INSERT INTO subscriptions (chat_id, unit_code, title, subscribed_by, subscribed_at,"
            " finished_notified) VALUES (?, ?, ?, ?, ?, 0) ON CONFLICT(chat_id) DO UPDATE SET"
            " unit_code = excluded.unit_code, title = excluded.title,"
            " subscribed_by = excluded.subscribed_by, subscribed_at = excluded.subscribed_at,"
            " finished_notified = 0",
            (subscription.chat_id, subscription.unit_code, subscription.title,
             subscription.subscribed_by, int(time.time())),
        )  # fmt: skip

    async def unsubscribe(self, chat_id: int) -> bool:
        cursor = await self._db.execute("DELETE FROM subscriptions WHERE chat_id = ?", (chat_id,))
        return cursor.rowcount > 0

    async def claim_finished_notices(self, unit_codes: Sequence[str]) -> list[Subscription]:
        """Subscriptions to these (now finished) units not yet told; marks them told."""
        claimed: list[Subscription] = []
        for code in unit_codes:
            async with self._db.execute(
                "SELECT * FROM subscriptions WHERE unit_code = ? AND finished_notified = 0",
                (code,),
            ) as cursor:
                rows = await cursor.fetchall()
            claimed.extend(replace(_subscription(row), finished_notified=True) for row in rows)
            await self._db.execute(
                "UPDATE subscriptions SET finished_notified = 1 WHERE unit_code = ?", (code,)
            )
        return claimed

    async def set_locked(self, codes: Iterable[str], locked: bool) -> None:
        await self._db.executemany(
            "UPDATE units SET locked = ? WHERE code = ?", [(int(locked), c) for c in codes]
        )
        self.units_changed = True

