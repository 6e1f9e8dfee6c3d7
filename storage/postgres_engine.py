"""PostgreSQL, for deployments where several bot processes share one database.

Reads go through a small pool of async connections. Each process writes through one
connection in one worker thread, like SQLite's writer, so a batch of reports is one
transaction and one commit. Between processes, correctness comes from the database:
running totals change by `x = x + delta` (row locks, never read-modify-write), a
transaction-scoped advisory lock per area and per message serialises whoever judges the
same area or handles the same message, and a deadlock or serialisation failure rolls the
whole batch back and runs it again.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, TypeVar

import psycopg
from psycopg import errors as pg_errors
from psycopg.rows import RowMaker
from psycopg.types.array import ListBinaryDumper
from psycopg_pool import AsyncConnectionPool

from storage.engine import Cursor, Row, StorageError, WriteConnection, check_schema_version
from storage.schema import POSTGRES_MIGRATIONS

T = TypeVar("T")
log = logging.getLogger(__name__)

# Seconds a read waits for a pooled connection before it is a storage fault (the update is
# kept and handled again later): a table locked for long, a server gone.
READ_POOL_TIMEOUT = 10.0
CONFLICT_RETRIES = 8  # a batch that keeps clashing with other processes is run again
_MIGRATION_LOCK = 0x6669656C64  # advisory lock id held while migrating ("field")


@functools.lru_cache(maxsize=512)
def _translated(sql: str) -> str:
    """The store's `?` placeholders as psycopg's `%s` (and a literal % escaped)."""
    return sql.replace("%", "%%").replace("?", "%s")


class PgRow:
    """A row readable by position and by column name, like sqlite3.Row."""

    __slots__ = ("_index", "_values")

    def __init__(self, values: Sequence[Any], index: dict[str, int]) -> None:
        self._values = values
        self._index = index

    def __getitem__(self, key: int | str, /) -> Any:
        return self._values[self._index[key] if isinstance(key, str) else key]

    def __len__(self) -> int:
        return len(self._values)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._values)


def _pg_row(cursor: Any) -> RowMaker[PgRow]:
    index = {column.name: i for i, column in enumerate(cursor.description or ())}
    return lambda values: PgRow(values, index)


class _Connection:
    """The writer's psycopg connection behind the store's `?`-placeholder interface."""

    def __init__(self, connection: psycopg.Connection[PgRow]) -> None:
        self.raw = connection

    def execute(self, sql: str, params: Sequence[Any] = (), /) -> Cursor:
        if not params:  # no placeholders: several statements may run at once (migrations)
            return self.raw.execute(sql)
        return self.raw.execute(_translated(sql), params)

    def executemany(self, sql: str, params: Iterable[Sequence[Any]], /) -> Cursor:
        cursor = self.raw.cursor()
        cursor.executemany(_translated(sql), params)
        return cursor


class PostgresDialect:
    def lock(self, connection: WriteConnection, key: str) -> None:
        connection.execute("SELECT pg_advisory_xact_lock(hashtextextended(?, 0))", (key,))

    def lock_all(self, connection: WriteConnection, keys: Sequence[str]) -> None:
        # unnest yields the array in its order, and each row's lock is taken before the next
        connection.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(k, 0)) FROM unnest(?::text[]) AS k",
            (list(keys),),
        )

    def values_tables(
        self, rows: Sequence[Sequence[Any]], types: Sequence[str]
    ) -> Iterator[tuple[str, list[Any]]]:
        # One array per column: a short statement psycopg prepares once, whatever the rows.
        arrays = ", ".join(f"?::{kind}[]" for kind in types)
        names = ", ".join(f"column{n}" for n in range(1, len(types) + 1))
        columns = [list(column) for column in zip(*rows, strict=True)] or [[] for _ in types]
        yield f"unnest({arrays}) AS k({names})", columns

    def insert_rows(
        self,
        connection: WriteConnection,
        insert: str,
        types: Sequence[str],
        rows: Sequence[Sequence[Any]],
        tail: str = "",
    ) -> None:
        if rows:
            arrays = ", ".join(f"?::{kind}[]" for kind in types)
            columns = [list(column) for column in zip(*rows, strict=True)]
            connection.execute(f"{insert} SELECT * FROM unnest({arrays}) {tail}", columns)

    def reserve_ids(self, connection: WriteConnection, table: str, count: int) -> Cursor:
        return connection.execute(
            f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) AS id"
            " FROM generate_series(1, ?::integer) ORDER BY 1",
            (count,),
        )

    def defer_foreign_keys(self, connection: WriteConnection) -> None:
        connection.execute("SET CONSTRAINTS ALL DEFERRED")

    def is_conflict(self, error: BaseException) -> bool:
        return isinstance(error, pg_errors.DeadlockDetected | pg_errors.SerializationFailure)


class PostgresEngine:
    name = "postgresql"
    shared = True
    dialect = PostgresDialect()

    def __init__(self, url: str, pool: AsyncConnectionPool[Any]) -> None:
        self._url = url
        self._pool = pool
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pg-writer")
        self._local = threading.local()

    @classmethod
    async def connect(cls, url: str, readers: int = 4) -> PostgresEngine:
        try:  # one plain connection first: its error says why (the pool's only times out)
            probe = await psycopg.AsyncConnection.connect(url, connect_timeout=10)
            await probe.close()
        except (psycopg.Error, OSError) as error:
            raise StorageError(f"cannot reach the PostgreSQL database ({_reason(error)})") from None
        pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
            url,
            min_size=1,
            max_size=readers,
            kwargs={"autocommit": True, "row_factory": _pg_row},
            timeout=READ_POOL_TIMEOUT,
            open=False,
        )
        try:
            await pool.open(wait=True, timeout=10)
        except Exception as error:
            await pool.close()
            raise StorageError(f"cannot reach the PostgreSQL database ({_reason(error)})") from None
        return cls(url, pool)

    async def prepare(self, verify: bool = True, migrate: bool = True) -> None:
        """Bring the schema up to date (the server keeps its own pages consistent)."""
        await self.write(partial(self._migrate, migrate), pipelined=False)

    def _migrate(self, migrate: bool, connection: WriteConnection) -> None:
        # Several processes may start together: one migrates, the others wait and see it done.
        connection.execute("SELECT pg_advisory_xact_lock(?)", (_MIGRATION_LOCK,))
        connection.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        row = connection.execute("SELECT version FROM schema_version").fetchone()
        version = 0 if row is None else int(row[0])
        check_schema_version(version, len(POSTGRES_MIGRATIONS), migrate=migrate)
        for number in range(version, len(POSTGRES_MIGRATIONS)):
            connection.execute(POSTGRES_MIGRATIONS[number])
        if row is None:
            connection.execute("INSERT INTO schema_version VALUES (?)", (len(POSTGRES_MIGRATIONS),))
        elif version < len(POSTGRES_MIGRATIONS):
            connection.execute("UPDATE schema_version SET version = ?", (len(POSTGRES_MIGRATIONS),))

    async def schema_version(self) -> int:
        rows = await self.read("SELECT version FROM schema_version")
        return int(rows[0][0]) if rows else 0

    async def read(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        try:
            async with self._pool.connection() as connection:
                cursor = await connection.execute(_translated(sql), params)
                return list(await cursor.fetchall())
        except psycopg.OperationalError as error:
            raise StorageError(f"the PostgreSQL database failed ({_reason(error)})") from error

    # -- writes ------------------------------------------------------------------------------

    def _connection(self) -> _Connection:
        connection: _Connection | None = getattr(self._local, "connection", None)
        if connection is None or connection.raw.closed:
            raw = psycopg.connect(self._url, autocommit=True, row_factory=_pg_row)
            # Lists (the arrays of `values_tables`, `insert_rows`, `lock_all`) go in binary:
            # ~3× cheaper to dump than text, whose strings are quoted by regular expressions.
            raw.adapters.register_dumper(list, ListBinaryDumper)
            connection = _Connection(raw)
            self._local.connection = connection
        return connection

    def _run(self, job: Callable[[WriteConnection], T], pipelined: bool = True) -> T:
        for attempt in range(1, CONFLICT_RETRIES + 1):
            connection = self._connection()
            connection.raw.execute("BEGIN")
            try:
                # Pipelined: a statement whose result nobody reads (a lock, a savepoint, an
                # update) goes out without waiting for its answer, and travels with the next
                # query that is read: half the round trips. The server still runs them in
                # order, so a query sent after a lock is planned only once the lock is held.
                if pipelined:
                    with connection.raw.pipeline():
                        result = job(connection)
                else:  # a script of several statements cannot be pipelined
                    result = job(connection)
                connection.raw.execute("COMMIT")
                return result
            except BaseException as error:
                if not connection.raw.closed:
                    connection.raw.execute("ROLLBACK")
                if not self.dialect.is_conflict(error) or attempt == CONFLICT_RETRIES:
                    raise
                log.info("write clashed with another process (%s); retry %d", error, attempt)
        raise AssertionError("unreachable")

    async def write(self, job: Callable[[WriteConnection], T], *, pipelined: bool = True) -> T:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor, self._run, job, pipelined)
        except psycopg.OperationalError as error:
            raise StorageError(f"the PostgreSQL database failed ({_reason(error)})") from error

    async def close(self) -> None:
        def close_connection() -> None:
            connection: _Connection | None = getattr(self._local, "connection", None)
            if connection is not None:
                connection.raw.close()

        try:
            await asyncio.get_running_loop().run_in_executor(self._executor, close_connection)
            self._executor.shutdown(wait=True)
        finally:
            await self._pool.close()


def _reason(error: BaseException) -> str:
    """The first line of a driver error, without the connection string (it may hold a
    password)."""
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__
