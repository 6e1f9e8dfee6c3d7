"""SQLite, the embedded default: one file, reads through aiosqlite, one writer thread.

Every change runs in one dedicated thread on its own connection between BEGIN IMMEDIATE and
COMMIT, so writes never interleave and a batch costs one thread hop and one fsync; WAL lets
readers read while the writer writes. One process owns the file.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from storage.engine import Cursor, Row, StorageError, WriteConnection, check_schema_version
from storage.schema import SQLITE_MIGRATIONS

T = TypeVar("T")

_PRAGMAS = (
    "journal_mode=WAL",
    # FULL: an acknowledged report must survive a power cut, not only a crash.
    "synchronous=FULL",
    "foreign_keys=ON",
    "busy_timeout=5000",
    # On a small disk the WAL must not grow into the last free space: checkpoint every
    # 1,000 pages (~4 MB) and cut the file back to 4 MB after each checkpoint.
    "wal_autocheckpoint=1000",
    "journal_size_limit=4194304",
)
# Writes are refused (a storage fault: the intake pauses, nothing is lost) while the disk
# holding the database has less than this free, so that the WAL, a checkpoint and the
# marks of finished work always have room, and the operator has time to make space.
DISK_RESERVE_BYTES = 16 * 1024 * 1024
# Values bound in one statement at most: under the 999 of SQLite builds before 3.32.
MAX_BOUND_VALUES = 900


class DiskAlmostFull(StorageError):
    """Less free space than the reserve: new work waits until there is room."""


def check_free_space(path: Path, reserve: int | None = None) -> None:
    """Raise DiskAlmostFull when the disk holding `path` has less than `reserve` free."""
    reserve = DISK_RESERVE_BYTES if reserve is None else reserve
    try:
        stats = os.statvfs(path.parent)
    except OSError:
        return  # cannot tell: SQLite itself will say if the disk is full
    free = stats.f_bavail * stats.f_frsize
    if free < reserve:
        raise DiskAlmostFull(
            f"the disk of {path} is almost full: {free // 1024} KiB free,"
            f" {reserve // 1024} KiB kept in reserve"
        )


class SqliteDialect:
    def lock(self, connection: WriteConnection, key: str) -> None:
        """Nothing to do: BEGIN IMMEDIATE already excludes every other writer."""

    def lock_all(self, connection: WriteConnection, keys: Sequence[str]) -> None:
        """Nothing to do, as for `lock`."""

    def values_tables(
        self, rows: Sequence[Sequence[Any]], types: Sequence[str]
    ) -> Iterator[tuple[str, list[Any]]]:
        per_statement = max(1, MAX_BOUND_VALUES // max(1, len(types)))
        mark = f"({','.join('?' * len(types))})"
        for start in range(0, len(rows), per_statement):
            chunk = rows[start : start + per_statement]
            yield f"(VALUES {','.join([mark] * len(chunk))}) AS k", [v for r in chunk for v in r]

    def insert_rows(
        self,
        connection: WriteConnection,
        insert: str,
        types: Sequence[str],
        rows: Sequence[Sequence[Any]],
        tail: str = "",
    ) -> None:
        if rows:
            marks = ",".join("?" * len(types))
            connection.executemany(f"{insert} VALUES ({marks}) {tail}", rows)

    def reserve_ids(self, connection: WriteConnection, table: str, count: int) -> Cursor:
        # An INTEGER PRIMARY KEY without AUTOINCREMENT takes max(id) + 1, and only this
        # writer (inside BEGIN IMMEDIATE) inserts: the next `count` ids are exactly those.
        return connection.execute(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)"
            f" SELECT (SELECT coalesce(max(id), 0) FROM {table}) + i FROM n",
            (count,),
        )

    def defer_foreign_keys(self, connection: WriteConnection) -> None:
        connection.execute("PRAGMA defer_foreign_keys = ON")

    def is_conflict(self, error: BaseException) -> bool:
        return False  # writers never run concurrently; busy_timeout covers other processes


def _create_private(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        # Owner-only from the first byte: the file holds phone numbers.
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))


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
            for pragma in _PRAGMAS:
                connection.execute(f"PRAGMA {pragma}")
            self._local.connection = connection
        return connection

    def _run(self, job: Callable[[WriteConnection], T]) -> T:
        check_free_space(self._path)
        connection = self._connection()
        connection.execute("BEGIN IMMEDIATE")
        try:
            result = job(connection)
            connection.execute("COMMIT")
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise
        return result

    async def run(self, job: Callable[[WriteConnection], T]) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._run, job)

    async def close(self) -> None:
        def close_connection() -> None:
            connection = getattr(self._local, "connection", None)
            if connection is not None:
                connection.close()

        await asyncio.get_running_loop().run_in_executor(self._executor, close_connection)
        self._executor.shutdown(wait=True)


class SqliteEngine:
    name = "sqlite"
    shared = False
    dialect = SqliteDialect()

    def __init__(self, reader: aiosqlite.Connection, path: Path) -> None:
        self._reader = reader
        self._writer = _Writer(path)
        self.path = path

    @classmethod
    async def connect(cls, path: Path) -> SqliteEngine:
        await asyncio.to_thread(_create_private, path)
        reader = await aiosqlite.connect(path, isolation_level=None)
        reader.row_factory = sqlite3.Row
        return cls(reader, path)

    async def prepare(self, verify: bool = True, migrate: bool = True) -> None:
        try:
            for pragma in _PRAGMAS:
                await self._reader.execute(f"PRAGMA {pragma}")
            # integrity_check reads the whole file: seconds on a national database.
            verdict = (await self.read("PRAGMA integrity_check" if verify else "SELECT 'ok'"))[0][0]
        except sqlite3.DatabaseError as error:
            raise StorageError(f"{self.path} is not a readable SQLite database ({error})") from None
        if verdict != "ok":
            raise StorageError(f"{self.path} is damaged (integrity_check: {verdict})")
        version = await self.schema_version()
        check_schema_version(version, len(SQLITE_MIGRATIONS), migrate=migrate)
        for number in range(version, len(SQLITE_MIGRATIONS)):
            await self._reader.executescript(
                f"BEGIN; {SQLITE_MIGRATIONS[number]}; PRAGMA user_version = {number + 1}; COMMIT;"
            )

    async def schema_version(self) -> int:
        return int((await self.read("PRAGMA user_version"))[0][0])

    async def read(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Run a query to completion in one step of the reading thread.

        Never an `execute` and a `fetch` apart: between the two, another coroutine's query
        could start inside the same, older read snapshot and miss a write that committed
        just before it (a chief's registration, read back as "not registered")."""
        return list(await self._reader.execute_fetchall(sql, params))

    async def write(self, job: Callable[[WriteConnection], T]) -> T:
        return await self._writer.run(job)

    async def backup(self, target: Path) -> None:
        """A consistent copy, safe while the bot runs (SQLite's backup API), owner-only."""
        target.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(target, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
        os.close(fd)
        os.chmod(target, 0o600)  # an existing file keeps its mode on O_CREAT: set it
        destination = sqlite3.connect(target, check_same_thread=False)
        try:
            await self._reader.backup(destination)
            verdict = destination.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            destination.close()
        if verdict != "ok":
            raise StorageError(f"the backup {target} failed its integrity check: {verdict}")

    async def close(self) -> None:
        try:
            await self._writer.close()
        finally:
            await self._reader.close()
