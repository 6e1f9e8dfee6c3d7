"""What a database engine (SQLite or PostgreSQL) offers the store: the shared contract.

`Database` and `Transaction` speak one SQL dialect — `?` placeholders and statements both
engines accept — and an engine supplies the connection, the transaction and the few
things that differ (locks, deferred foreign keys, versioning, conflicts worth a retry).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Protocol, TypeVar

T = TypeVar("T")


class StorageError(Exception):
    """The store cannot do what was asked (a corrupt, newer or unreachable database)."""


def check_schema_version(version: int, current: int, *, migrate: bool) -> None:
    """Refuse a database newer than this program, or (when not migrating) an older one."""
    if version > current:
        raise StorageError(
            f"database schema version {version} is newer than this program ({current})"
        )
    if not migrate and version < current:
        raise StorageError(
            f"database schema version {version} is older than this program's ({current});"
            " `fieldtally run` upgrades it at start"
        )


class Row(Protocol):
    """A result row, read by position or by column name (sqlite3.Row is one)."""

    def __getitem__(self, key: int | str, /) -> Any: ...


class Cursor(Protocol):
    """What the store reads of a cursor: its rows (never `rowcount`, which PostgreSQL's
    pipelined writer only knows once the pipeline has synced: use RETURNING)."""

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class WriteConnection(Protocol):
    """The writer's connection, used only inside a transaction the engine opened."""

    def execute(self, sql: str, params: Sequence[Any] = ..., /) -> Cursor: ...

    def executemany(self, sql: str, params: Iterable[Sequence[Any]], /) -> Cursor: ...


class Engine(Protocol):
    """One database: asynchronous reads, serialised writes in a worker thread."""

    name: str  # "sqlite" or "postgresql"
    # Other processes may write the same database: caches of rows must not outlive a
    # transaction, and writers must lock what they read before they change it.
    shared: bool

    @property
    def dialect(self) -> Dialect: ...

    async def prepare(self, verify: bool = True, migrate: bool = True) -> None:
        """Check the database (fully, if `verify`) and bring its schema up to date (or, if
        not `migrate`, refuse one that is not)."""

    async def schema_version(self) -> int: ...

    async def read(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Run one query to completion."""

    async def write(self, job: Callable[[WriteConnection], T]) -> T:
        """Run `job` in one transaction on the writer connection; commit, or roll back and
        re-raise. A conflict with another process (`Dialect.is_conflict`) is retried."""

    async def close(self) -> None: ...


class Dialect(Protocol):
    """The SQL that differs between engines, run on the writer connection."""

    def lock(self, connection: WriteConnection, key: str) -> None:
        """Hold a lock named `key` until the transaction ends (no-op where the engine
        already serialises every writer)."""

    def lock_all(self, connection: WriteConnection, keys: Sequence[str]) -> None:
        """`lock` each of `keys`, in the order given, in one statement (the caller sorts
        them, so that two processes take the locks they share in the same order)."""

    def values_tables(
        self, rows: Sequence[Sequence[Any]], types: Sequence[str]
    ) -> Iterator[tuple[str, list[Any]]]:
        """`rows` as a table to select from or join: FROM items `(…) AS k`, with columns
        `column1`, `column2`… of these SQL `types`, each with its parameters (several where
        one statement would bind too many values)."""

    def insert_rows(
        self,
        connection: WriteConnection,
        insert: str,
        types: Sequence[str],
        rows: Sequence[Sequence[Any]],
        tail: str = "",
    ) -> None:
        """Run `insert` (`INSERT INTO table (columns)`) for every row, then `tail` (e.g. `ON
        CONFLICT DO NOTHING`): as one statement where the engine can (PostgreSQL: arrays
        of each column), else as `executemany`."""

    def reserve_ids(self, connection: WriteConnection, table: str, count: int) -> Cursor:
        """A query whose rows are `count` new ids of `table`'s `id` column, never handed
        out before, rising; the caller inserts rows with them. (SQLite: one writer per file,
        so the ids after the largest stored one; PostgreSQL: taken from the column's
        sequence, so no other process gets them.)"""

    def defer_foreign_keys(self, connection: WriteConnection) -> None:
        """Check foreign keys at commit, not per statement, for the rest of the transaction."""

    def is_conflict(self, error: BaseException) -> bool:
        """Whether `error` is a clash with a concurrent transaction, cured by a retry."""
