"""The SQLite store: opening and migrating the file, reads, and serialised writes.

Reads go through aiosqlite. Every change is a function run by `Database.write()` in one
dedicated writer thread, on its own connection, between BEGIN IMMEDIATE and COMMIT: writes
never interleave, a batch of reports costs one thread hop and one fsync, and WAL lets
summaries read while the writer writes. Running totals (`unit_totals`) are kept in step with
reports inside the same transaction, so a summary reads a few rows whatever the tree's size.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from storage.records import AuditEntry, CountPoint, Person, Report, Subscription, Totals
from storage.rows import (
    TOTALS_COLUMNS,
    UNITS_QUERY,
    person_from_row,
    read_units,
    report_from_row,
    subscription_from_row,
    totals_from_row,
)
from storage.schema import MIGRATIONS, SCHEMA_VERSION
from storage.transaction import ImportSummary, ReportCache, Transaction, UnitsHaveReports
from storage.tree import UnitIndex

__all__ = ["Database", "ImportSummary", "StorageError", "Transaction", "UnitsHaveReports"]

T = TypeVar("T")


class StorageError(Exception):
    """The store cannot do what was asked (a corrupt, newer or unreadable database)."""


def _configure(connection: sqlite3.Connection) -> None:
    connection.execute("PRAGMA journal_mode=WAL")
    # FULL: an acknowledged report must survive a power cut, not only a crash.
    connection.execute("PRAGMA synchronous=FULL")
    connection.execute("PRAGMA foreign_keys=ON")
    connection.execute("PRAGMA busy_timeout=5000")


class _Writer:
    """One thread that owns the writing connection; work runs there, one job at a time."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-writer")
        self._local = threading.local()

    def _connection(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(self._path, isolation_level=None)
            connection.row_factory = sqlite3.Row
            _configure(connection)
            self._local.connection = connection
        return connection

    async def run(self, job: Callable[[sqlite3.Connection], T]) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, lambda: job(self._connection()))

    async def close(self) -> None:
        def close_connection() -> None:
            connection = getattr(self._local, "connection", None)
            if connection is not None:
                connection.close()

        await asyncio.get_running_loop().run_in_executor(self._executor, close_connection)
        self._executor.shutdown(wait=True)


class Database:
    """Handle on one SQLite file. Open with `await Database.open(path)`; always `close()`."""

    def __init__(self, connection: aiosqlite.Connection, path: Path) -> None:
        self._db = connection
        self._writer = _Writer(path)
        self._report_cache = ReportCache()  # used only in the writer thread
        self.path = path
        self.units = UnitIndex([])
        self._people: dict[int, Person | None] = {}
        self._people_reads: dict[int, asyncio.Future[Person | None]] = {}
        self._people_generation = 0

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
            await database.close()
            raise
        return database

    async def _prepare(self) -> None:
        try:
            for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON",
                           "busy_timeout=5000"):  # fmt: skip
                await self._db.execute(f"PRAGMA {pragma}")
            verdict = await self._scalar("PRAGMA integrity_check")
        except sqlite3.DatabaseError as error:
            raise StorageError(f"{self.path} is not a readable SQLite database ({error})") from None
        if verdict != "ok":
            raise StorageError(f"{self.path} is damaged (integrity_check: {verdict})")
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
        try:
            await self._writer.close()
        finally:
            await self._db.close()

    async def backup(self, target: Path) -> None:
        """A consistent copy of the database, safe while the bot runs (SQLite's backup API).

        The copy is created owner-only, like the database itself."""
        target.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(target, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
        os.close(fd)
        os.chmod(target, 0o600)  # an existing file keeps its mode on O_CREAT: set it
        destination = sqlite3.connect(target, check_same_thread=False)
        try:
            await self._db.backup(destination)
            verdict = destination.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            destination.close()
        if verdict != "ok":
            raise StorageError(f"the backup {target} failed its integrity check: {verdict}")

    async def schema_version(self) -> int:
        return int(await self._scalar("PRAGMA user_version"))

    # -- writes ------------------------------------------------------------------------------

    async def write(self, work: Callable[[Transaction], T]) -> T:
        """Run `work` in one transaction in the writer thread; commit, or roll back on error."""
        units = self.units

        def job(connection: sqlite3.Connection) -> tuple[T, Transaction, UnitIndex | None]:
            connection.execute("BEGIN IMMEDIATE")
            tx = Transaction(connection, units, self._report_cache)
            try:
                result = work(tx)
                tx.flush_totals()
                connection.execute("COMMIT")
            except BaseException:
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
                self._report_cache.forget(tx.touched)
                raise
            return result, tx, tx.unit_index() if tx.units_changed else None

        result, tx, new_units = await self._writer.run(job)
        if new_units is not None:
            self.units = new_units
        if tx.people_changed:
            self._people.clear()
            self._people_generation += 1
        return result

    # -- reads -------------------------------------------------------------------------------

    async def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        """Run a query to completion in one step of the reading thread.

        Never an `execute` and a `fetch` apart: between the two, another coroutine's query
        could start inside the same, older read snapshot and miss a write that committed
        just before it (a chief's registration, read back as "not registered")."""
        return list(await self._db.execute_fetchall(sql, params))

    async def _row(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
        rows = await self._rows(sql, params)
        return rows[0] if rows else None

    async def _scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        row = await self._row(sql, params)
        return None if row is None else row[0]

    async def _rows_in(self, sql: str, values: Sequence[Any]) -> list[sqlite3.Row]:
        """Run `sql` (with one `{marks}` placeholder list) for all values, in chunks that stay
        under SQLite's limit on bound variables."""
        rows: list[sqlite3.Row] = []
        for start in range(0, len(values), 900):
            chunk = list(values[start : start + 900])
            rows.extend(await self._rows(sql.format(marks=",".join("?" * len(chunk))), chunk))
        return rows

    async def _load_units(self) -> None:
        self.units = read_units(await self._rows(UNITS_QUERY))

    async def totals(self, code: str) -> Totals:
        return totals_from_row(
            await self._row(f"SELECT {TOTALS_COLUMNS} FROM unit_totals WHERE code = ?", (code,))
        )

    async def totals_of(self, codes: Sequence[str]) -> dict[str, Totals]:
        """Totals of many units in one go."""
        rows = await self._rows_in(
            f"SELECT code, {TOTALS_COLUMNS} FROM unit_totals WHERE code IN ({{marks}})", codes
        )
        found = {row["code"]: totals_from_row(row) for row in rows}
        return {code: found.get(code, Totals()) for code in codes}

    async def person(self, user_id: int) -> Person | None:
        """A registered person with their units.

        Registered people are cached until a write changes people; "not registered" is never
        cached, so a registration is seen at once. Concurrent lookups of one person share a
        single read (a burst from one chief)."""
        if user_id in self._people:
            return self._people[user_id]
        reading = self._people_reads.get(user_id)
        if reading is not None:
            return await asyncio.shield(reading)
        reading = asyncio.ensure_future(self._read_person(user_id))
        self._people_reads[user_id] = reading
        generation = self._people_generation
        try:
            found = await reading
        finally:
            self._people_reads.pop(user_id, None)
        if found is not None and generation == self._people_generation:
            self._people[user_id] = found
        return found

    async def _read_person(self, user_id: int) -> Person | None:
        row = await self._row("SELECT * FROM people WHERE user_id = ?", (user_id,))
        if row is None:
            return None
        return Person(
            user_id=row["user_id"],
            phone=row["phone"],
            name=row["name"],
            chat_id=row["chat_id"],
            units=await self.units_of_phone(row["phone"]),
        )

    async def person_by_phone(self, phone: str) -> Person | None:
        row = await self._row("SELECT user_id FROM people WHERE phone = ?", (phone,))
        return None if row is None else await self.person(row[0])

    async def units_of_phone(self, phone: str) -> tuple[str, ...]:
        rows = await self._rows(
            "SELECT DISTINCT c.unit_code FROM unit_contacts c JOIN units u ON u.code = c.unit_code"
            " WHERE c.phone = ? ORDER BY u.depth, u.position",
            (phone,),
        )
        return tuple(row[0] for row in rows)

    async def area_reports(self, area_code: str, *, include_replaced: bool = False) -> list[Report]:
        where = "" if include_replaced else " AND replaced_by IS NULL"
        rows = await self._rows(
            f"SELECT * FROM reports WHERE area_code = ?{where} ORDER BY id", (area_code,)
        )
        return [report_from_row(row) for row in rows]

    async def unreported_areas(self) -> set[str]:
        """Codes of every area with no turnout or completion report yet."""
        rows = await self._rows(
            "SELECT t.code FROM unit_totals t JOIN units u ON u.code = t.code"
            " WHERE u.is_area = 1 AND t.areas_reported = 0"
        )
        return {row[0] for row in rows}

    async def people_with_phones(self, phones: Sequence[str]) -> dict[str, Person]:
        """Registered people by phone (only those whose phone is in `phones`)."""
        rows = await self._rows_in("SELECT * FROM people WHERE phone IN ({marks})", phones)
        return {row["phone"]: person_from_row(row) for row in rows}

    async def people_by_id(self, user_ids: Sequence[int]) -> dict[int, Person]:
        rows = await self._rows_in("SELECT * FROM people WHERE user_id IN ({marks})", user_ids)
        return {row["user_id"]: person_from_row(row) for row in rows}

    async def count_points(self, area_codes: Sequence[str]) -> list[CountPoint]:
        """Current turnout and completion counts of these areas, in time order."""
        if len(area_codes) > 5000:  # most of the tree: one scan beats thousands of lookups
            wanted = set(area_codes)
            rows = await self._rows(
                "SELECT area_code, at, voted FROM reports"
                " WHERE replaced_by IS NULL AND kind != 'covid'"
            )
            rows = [row for row in rows if row[0] in wanted]
        else:
            rows = await self._rows_in(
                "SELECT area_code, at, voted FROM reports WHERE replaced_by IS NULL"
                " AND kind != 'covid' AND area_code IN ({marks})",
                area_codes,
            )
        points = [CountPoint(r[0], r[1], r[2]) for r in rows]
        points.sort(key=lambda p: p.at)
        return points

    async def subscriptions(self) -> list[Subscription]:
        rows = await self._rows("SELECT * FROM subscriptions ORDER BY chat_id")
        return [subscription_from_row(row) for row in rows]

    async def subscription(self, chat_id: int) -> Subscription | None:
        row = await self._row("SELECT * FROM subscriptions WHERE chat_id = ?", (chat_id,))
        return None if row is None else subscription_from_row(row)

    async def inbox_pending(self) -> list[tuple[int, str]]:
        """Updates stored but not yet handled, oldest first."""
        rows = await self._rows("SELECT update_id, payload FROM inbox ORDER BY update_id")
        return [(row[0], row[1]) for row in rows]

    async def inbox_next_update_id(self) -> int:
        value = await self._scalar("SELECT next_update_id FROM inbox_offset WHERE id = 1")
        return int(value or 0)

    async def audit_entries(self, limit: int) -> list[AuditEntry]:
        """The latest admin actions, newest first."""
        rows = await self._rows(
            "SELECT at, user_id, action, detail FROM audit_log ORDER BY id DESC LIMIT ?", (limit,)
        )
        return [AuditEntry(r[0], r[1], r[2], r[3]) for r in rows]
