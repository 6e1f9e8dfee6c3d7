"""The store: opening a database (a SQLite file or a PostgreSQL URL), reads, and writes.

Every change is a function run by `Database.write()` in one transaction in the engine's
writer thread, so a batch of reports costs one thread hop and one commit. Running totals
(`unit_totals`) and each unit's over-the-day steps (`unit_steps`) are kept in step with
reports inside the same transaction, so a summary and its charts read a few rows whatever the
tree's size.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

from bot.channel import Address
from bot.model import (
    AuditEntry,
    CountPoint,
    DashboardLink,
    Person,
    Report,
    Subscription,
    Totals,
)
from storage.engine import Engine, Row, StorageError, WriteConnection
from storage.media import MediaStore
from storage.postgres_engine import PostgresEngine
from storage.results import ResultsReader
from storage.results_intake import ResultsIntakeReader
from storage.rows import (
    CONTACTS_QUERY,
    TOTALS_COLUMNS,
    UNITS_QUERY,
    person_from_row,
    read_units,
    report_from_row,
    subscription_from_row,
    totals_from_row,
)
from storage.sms import SmsReads
from storage.sqlite_engine import SqliteEngine
from storage.transaction import (
    ConflictDuringWrite,
    ImportSummary,
    ReportCache,
    Transaction,
    UnitsHaveReports,
)
from storage.tree import UnitIndex

__all__ = [
    "ConflictDuringWrite",
    "Database",
    "ImportSummary",
    "StorageError",
    "StoreChange",
    "StoreHealth",
    "Transaction",
    "UnitsHaveReports",
]

T = TypeVar("T")

# What the bot-specific tables hold under no bot (the empty bot '': rows from before several
# bots could share a database, schema 5, which were bot 0 there) is the first bot's to adopt.
_ADOPTED_TABLES = ("inbox", "channel_cursors", "processed_messages", "reports", "subscriptions")


@dataclass(frozen=True, slots=True)
class StoreChange:
    """What one committed write changed, as far as readers that keep views care: the units
    whose totals changed (areas and their ancestors; a results record: its area's and its
    electoral unit's organizer's too), whether the tree, who is registered or results night's
    setup changed (every view may be stale), whether dashboard links changed."""

    version: int  # `Database.data_version` after this write
    totals: frozenset[str]
    structure: bool
    links: bool


ChangeListener = Callable[[StoreChange], None]


@dataclass(frozen=True, slots=True)
class StoreHealth:
    """What `fieldtally status` reports about the store, for one bot."""

    backend: str  # "sqlite" or "postgresql"
    schema_version: int
    pending_events: int  # stored in the inbox, not yet handled
    cursor: str | None  # where the bot's channel left off (its adapter's own form)
    last_handled_at: int | None  # epoch seconds an event was last marked handled
    known: bool = True  # whether this bot has used the database (it has an inbox row)
    # Every other bot that has used the database: (its name, events waiting in its inbox).
    other_bots: tuple[tuple[str, int], ...] = ()


def is_postgres_url(target: str | Path) -> bool:
    return isinstance(target, str) and target.startswith(("postgresql://", "postgres://"))


class Database(SmsReads):
    """Handle on one database. Open with `await Database.open(target)`; always `close()`.

    `target` is a SQLite file path or a postgresql:// URL. What is per bot (the inbox,
    handled messages, a report's origin, subscriptions) is keyed by the bot's name, given
    with each call, so several bots and channels may share one database."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self.backend = engine.name
        self.media = MediaStore(engine)  # charts and exports fetched by URL
        # The writer's report cache is safe only where this process is the only writer.
        self._report_cache = None if engine.shared else ReportCache()
        self.units = UnitIndex([])
        self._units_generation = 0  # store_meta's units_generation when `units` was read
        self._people: dict[Address, Person | None] = {}
        self._people_reads: dict[Address, asyncio.Future[Person | None]] = {}
        self._people_generation = 0
        self.results = ResultsReader(self._rows, lambda: self.units)  # results night's reads
        # A cheap monotonic version of what this process wrote (totals, units, people,
        # links): +1 per committed write that changed any; listeners hear of each such write.
        self.data_version = 0
        self._listeners: list[ChangeListener] = []
        self.results_intake = ResultsIntakeReader(self._rows)  # its chat state

    # -- lifecycle ---------------------------------------------------------------------------

    @classmethod
    async def open(
        cls, target: Path | str, *, verify: bool = True, migrate: bool = True
    ) -> Database:
        """Open and migrate. For a quick health probe: `verify=False` skips SQLite's
        whole-file integrity check, `migrate=False` refuses an older schema instead of
        upgrading it."""
        engine: Engine
        if is_postgres_url(target):
            engine = await PostgresEngine.connect(str(target))
        else:
            engine = await SqliteEngine.connect(Path(target))
        database = cls(engine)
        try:
            await engine.prepare(verify, migrate)
            await database.reload_units()
        except BaseException:
            await database.close()
            raise
        return database

    async def adopt_rows_without_bot(self, bot: str) -> None:
        """A bot starting on this database takes over what was stored under no bot (`''`)
        by a release from before several bots could share it, if that release polled here
        (it left a cursor): its inbox, cursor, handled messages, report origins and groups.
        Called by a channel's adapter as its bot starts; the same rule schema 5 had."""
        if not bot or not await self._rows("SELECT 1 FROM channel_cursors WHERE bot = ''"):
            return

        def adopt(connection: WriteConnection) -> None:
            for table in _ADOPTED_TABLES:
                connection.execute(f"UPDATE {table} SET bot = ? WHERE bot = ''", (bot,))

        await self._engine.write(adopt)

    async def close(self) -> None:
        await self._engine.close()

    @property
    def shared(self) -> bool:
        """Whether other processes may write this database too (PostgreSQL)."""
        return self._engine.shared

    @property
    def path(self) -> Path:
        """The SQLite file (a PostgreSQL database has none)."""
        if not isinstance(self._engine, SqliteEngine):
            raise StorageError("a PostgreSQL database is not a file")
        return self._engine.path

    async def backup(self, target: Path) -> None:
        """A consistent copy of a SQLite database, safe while the bot runs, owner-only."""
        if not isinstance(self._engine, SqliteEngine):
            raise StorageError("back up a PostgreSQL database with pg_dump (see deploy/README.md)")
        await self._engine.backup(target)

    async def schema_version(self) -> int:
        return await self._engine.schema_version()

    async def health(self, bot: str) -> StoreHealth:
        pending = await self._scalar("SELECT count(*) FROM inbox WHERE bot = ?", (bot,))
        cursor = await self._row(
            "SELECT cursor, last_handled_at FROM channel_cursors WHERE bot = ?", (bot,)
        )
        others = await self._rows(
            "SELECT bot, sum(waiting) FROM (SELECT bot, 1 AS waiting FROM inbox"
            " UNION ALL SELECT bot, 0 AS waiting FROM channel_cursors) AS seen"
            " WHERE bot != ? GROUP BY bot ORDER BY bot",
            (bot,),
        )
        return StoreHealth(
            backend=self.backend,
            schema_version=await self.schema_version(),
            pending_events=int(pending or 0),
            cursor=None if cursor is None or cursor[0] is None else str(cursor[0]),
            last_handled_at=None if cursor is None or cursor[1] is None else int(cursor[1]),
            known=cursor is not None or bool(pending),
            other_bots=tuple((str(row[0]), int(row[1])) for row in others),
        )

    # -- writes ------------------------------------------------------------------------------

    async def write(self, work: Callable[[Transaction], T]) -> T:
        """Run `work` in one transaction in the writer thread; commit, or roll back on error.

        In a shared database a clash with another process runs `work` again from the start
        in a new transaction, so `work` must only act through `tx`."""
        units = self.units
        cache = self._report_cache
        shared = self._engine.shared
        known_generation = self._units_generation

        def job(connection: WriteConnection) -> tuple[T, Transaction, UnitIndex | None, int]:
            tx = Transaction(connection, self._engine.dialect, units, cache)
            generation = known_generation
            if shared:  # another process may have changed the tree since we read it
                generation = tx.units_generation()
                if generation != known_generation:
                    tx.reload_units()
            try:
                result = work(tx)
                tx.flush_totals()
            except BaseException as error:
                if cache is not None:
                    cache.forget(tx.touched)
                if isinstance(error, ConflictDuringWrite) and tx.conflict is not None:
                    raise tx.conflict from None  # the engine retries the original clash
                raise
            if tx.conflict is not None:
                raise tx.conflict
            if tx.units_changed:
                generation = tx.units_generation()
            changed = tx.units_changed or generation != known_generation
            return result, tx, tx.unit_index() if changed else None, generation

        result, tx, new_units, generation = await self._engine.write(job)
        if new_units is not None:
            self.units = new_units
            self._units_generation = generation
        if tx.people_changed:
            self._people.clear()
            self._people_generation += 1
        structure = tx.units_changed or tx.people_changed or tx.results_setup_changed
        if tx.totals_changed or structure or tx.links_changed:
            self.data_version += 1
            change = StoreChange(
                self.data_version,
                frozenset(tx.totals_changed),
                structure,
                tx.links_changed,
            )
            for listener in list(self._listeners):
                listener(change)
        return result

    def listen(self, listener: ChangeListener) -> Callable[[], None]:
        """Call `listener` (in the event loop, after the commit) for every write of this
        process that changed totals, units, people or dashboard links; returns the function
        that stops it. Writes of other processes sharing the database are not heard: a
        reader that must see them also polls (see `bot.monitoring.dashboard`)."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    # -- reads -------------------------------------------------------------------------------

    async def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return await self._engine.read(sql, params)

    async def _row(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        rows = await self._rows(sql, params)
        return rows[0] if rows else None

    async def _scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        row = await self._row(sql, params)
        return None if row is None else row[0]

    async def _rows_in(self, sql: str, values: Sequence[Any]) -> list[Row]:
        """Run `sql` (with one `{marks}` placeholder list) for all values, in chunks that stay
        under SQLite's limit on bound variables."""
        rows: list[Row] = []
        for start in range(0, len(values), 900):
            chunk = list(values[start : start + 900])
            rows.extend(await self._rows(sql.format(marks=",".join("?" * len(chunk))), chunk))
        return rows

    async def reload_units(self) -> None:
        """Read the unit tree again."""
        generation = await self._scalar(
            "SELECT value FROM store_meta WHERE key = 'units_generation'"
        )
        self.units = read_units(await self._rows(UNITS_QUERY), await self._rows(CONTACTS_QUERY))
        self._units_generation = int(generation or 0)

    async def refresh_units(self) -> bool:
        """Re-read the unit tree if another process changed it (a shared database); whether
        it did. Writes notice such changes by themselves; this is for readers in between."""
        generation = await self._scalar(
            "SELECT value FROM store_meta WHERE key = 'units_generation'"
        )
        if int(generation or 0) == self._units_generation:
            return False
        await self.reload_units()
        return True

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

    async def person(self, identity: Address) -> Person | None:
        """A registered person with their units.

        Registered people are cached until a write changes people (only where no other
        process writes); "not registered" is never cached, so a registration is seen at
        once. Concurrent lookups of one person share a single read (a burst from one
        chief)."""
        if identity in self._people:
            return self._people[identity]
        reading = self._people_reads.get(identity)
        if reading is not None:
            return await asyncio.shield(reading)
        reading = asyncio.ensure_future(self._read_person(identity))
        self._people_reads[identity] = reading
        generation = self._people_generation
        try:
            found = await reading
        finally:
            self._people_reads.pop(identity, None)
        if found is not None and generation == self._people_generation and not self._engine.shared:
            self._people[identity] = found
        return found

    async def _read_person(self, identity: Address) -> Person | None:
        """The person and the units of their phone (`units_of_phone`) in one query: one trip
        to the reading thread, one snapshot."""
        rows = await self._rows(
            "SELECT p.identity, p.phone, p.name, p.chat, u.code AS unit_code FROM people p"
            " LEFT JOIN unit_contacts c ON c.phone = p.phone"
            " LEFT JOIN units u ON u.code = c.unit_code"
            " WHERE p.identity = ? ORDER BY u.depth, u.position",
            (str(identity),),
        )
        if not rows:
            return None
        codes = dict.fromkeys(row["unit_code"] for row in rows if row["unit_code"] is not None)
        return replace(person_from_row(rows[0]), units=tuple(codes))

    async def person_by_phone(self, phone: str) -> Person | None:
        row = await self._row("SELECT identity FROM people WHERE phone = ?", (phone,))
        return None if row is None else await self.person(Address.parse(row[0]))

    async def units_of_phone(self, phone: str) -> tuple[str, ...]:
        rows = await self._rows(
            "SELECT DISTINCT c.unit_code, u.depth, u.position FROM unit_contacts c"
            " JOIN units u ON u.code = c.unit_code"
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

    async def people_by_identity(self, identities: Sequence[Address]) -> dict[Address, Person]:
        rows = await self._rows_in(
            "SELECT * FROM people WHERE identity IN ({marks})", [str(i) for i in identities]
        )
        people = (person_from_row(row) for row in rows)
        return {person.identity: person for person in people}

    async def count_points(self, area_codes: Sequence[str]) -> list[CountPoint]:
        """Current turnout and completion counts of these areas, in time order.

        The order is the rules' order (`bot.turnout.rules`): to the minute, then by arrival, a
        completion last in its minute; so each area's counts never go down along the list."""
        columns = (
            "SELECT area_code, at, voted, id, CASE WHEN kind = 'completion' THEN 1 ELSE 0 END"
            " FROM reports WHERE replaced_by IS NULL AND kind != 'covid'"
        )
        if len(area_codes) > 5000:  # most of the tree: one scan beats thousands of lookups
            wanted = set(area_codes)
            rows = await self._rows(columns)
            rows = [row for row in rows if row[0] in wanted]
        else:
            rows = await self._rows_in(columns + " AND area_code IN ({marks})", area_codes)
        rows.sort(key=lambda r: (r[1] - r[1] % 60, r[4], r[3]))
        return [CountPoint(r[0], r[1] - r[1] % 60, r[2]) for r in rows]

    async def voted_steps(self, area_codes: Sequence[str] | None) -> list[tuple[int, int]]:
        """How the voted count of these areas (None: every area) rose, minute by minute:
        (minute, sum of the areas' changes in it), in time order, one row per minute with
        a current count (a change may be 0).

        Each area's change is its count minus its previous count in the rules' order (that
        of `count_points`), so the total up to a minute is what `count_points` gives when
        every area counts its latest count up to it; SQL does the sums, so a chart reads a
        few hundred rows, not one per report. (A unit's chart reads the same sums kept per
        unit: `unit_steps`.)"""
        return [(minute, change) for minute, change, _ in await self._summed_steps(area_codes)]

    async def _summed_steps(self, area_codes: Sequence[str] | None) -> list[tuple[int, int, int]]:
        """`voted_steps` with, for each minute, how many current counts sit at it. Areas are
        whole in each chunk of the IN list (the window is per area), so the chunks' sums add
        up."""
        steps = (
            "SELECT m, SUM(change), COUNT(*) FROM (SELECT at - at % 60 AS m, voted"
            " - COALESCE(LAG(voted) OVER (PARTITION BY area_code ORDER BY at - at % 60,"
            " CASE WHEN kind = 'completion' THEN 1 ELSE 0 END, id), 0) AS change"
            " FROM reports WHERE replaced_by IS NULL AND kind != 'covid'{where}) AS changes"
            " GROUP BY m"
        )
        if area_codes is None:
            rows = await self._rows(
                steps.format(where=" AND area_code IN (SELECT code FROM units WHERE is_area = 1)")
            )
        else:
            rows = await self._rows_in(
                steps.format(where=" AND area_code IN ({marks})"), area_codes
            )
        totals: dict[int, tuple[int, int]] = {}
        for row in rows:
            minute = int(row[0])
            change, points = totals.get(minute, (0, 0))
            totals[minute] = (change + int(row[1]), points + int(row[2]))
        return [(minute, change, points) for minute, (change, points) in sorted(totals.items())]

    async def unit_steps(self, code: str) -> list[tuple[int, int]]:
        """`voted_steps` of the unit's areas, as kept per unit (`unit_steps`, changed with
        every report): (minute, sum of changes), in time order; a few hundred rows read by
        key, however many areas the unit has."""
        return [(minute, change) for minute, change, _ in await self.unit_step_rows(code)]

    async def unit_step_rows(self, code: str) -> list[tuple[int, int, int]]:
        """The unit's steps: (minute, sum of its areas' changes, counts at the minute). An
        area's are summed from its own reports (a handful, by index): only the units above
        the areas have kept rows."""
        unit = self.units.get(code)
        if unit is not None and unit.is_area:
            return await self._summed_steps([unit.code])
        rows = await self._rows(
            "SELECT minute, change, points FROM unit_steps WHERE code = ? ORDER BY minute",
            (code,),
        )
        return [(int(row[0]), int(row[1]), int(row[2])) for row in rows]

    async def subscriptions(self, bot: str) -> list[Subscription]:
        """One bot's group subscriptions."""
        rows = await self._rows("SELECT * FROM subscriptions WHERE bot = ?", (bot,))
        return sorted((subscription_from_row(row) for row in rows), key=lambda s: s.chat)

    async def subscription(self, bot: str, chat: Address) -> Subscription | None:
        row = await self._row(
            "SELECT * FROM subscriptions WHERE bot = ? AND chat = ?", (bot, str(chat))
        )
        return None if row is None else subscription_from_row(row)

    async def inbox_pending(self, bot: str) -> list[tuple[str, str]]:
        """One bot's events stored but not yet handled, in arrival order."""
        rows = await self._rows(
            "SELECT event_id, payload FROM inbox WHERE bot = ? ORDER BY seq", (bot,)
        )
        return [(str(row[0]), str(row[1])) for row in rows]

    async def channel_cursor(self, bot: str) -> str | None:
        """Where the bot's channel left off, as its adapter stored it (None: never)."""
        value = await self._scalar("SELECT cursor FROM channel_cursors WHERE bot = ?", (bot,))
        return None if value is None else str(value)

    async def sends_in_month(self, bot: str, month: str) -> int:
        """How many messages `bot` sent successfully in `month` (`YYYY-MM`)."""
        value = await self._scalar(
            "SELECT sent FROM bot_sends WHERE bot = ? AND month = ?", (bot, month)
        )
        return int(value or 0)

    async def dashboard_link(self, token_hash: str) -> DashboardLink | None:
        row = await self._row(
            "SELECT token_hash, unit_code, created_at, expires_at, revoked_at, created_by"
            " FROM dashboard_links WHERE token_hash = ?",
            (token_hash,),
        )
        return None if row is None else _link_from_row(row)

    async def dashboard_links(self, unit_code: str) -> list[DashboardLink]:
        """Every link of a unit, revoked and expired ones included, oldest first."""
        rows = await self._rows(
            "SELECT token_hash, unit_code, created_at, expires_at, revoked_at, created_by"
            " FROM dashboard_links WHERE unit_code = ? ORDER BY created_at, token_hash",
            (unit_code,),
        )
        return [_link_from_row(row) for row in rows]

    async def live_dashboard_hashes(self, unit_codes: Sequence[str], now: int) -> set[str]:
        """The token hashes of these units' links that still work at `now` (one query for
        every open page of these units)."""
        rows = await self._rows_in(
            "SELECT token_hash FROM dashboard_links WHERE revoked_at IS NULL"
            f" AND expires_at > {int(now)} AND unit_code IN ({{marks}})",
            unit_codes,
        )
        return {str(row[0]) for row in rows}

    async def audit_entries(self, limit: int) -> list[AuditEntry]:
        """The latest admin actions, newest first."""
        rows = await self._rows(
            "SELECT at, actor, action, detail FROM audit_log ORDER BY id DESC LIMIT ?", (limit,)
        )
        return [AuditEntry(r[0], Address.parse(r[1]), r[2], r[3]) for r in rows]


def _link_from_row(row: Row) -> DashboardLink:
    return DashboardLink(
        token_hash=str(row[0]),
        unit_code=str(row[1]),
        created_at=int(row[2]),
        expires_at=int(row[3]),
        revoked_at=None if row[4] is None else int(row[4]),
        created_by=Address.parse(row[5]),
    )
