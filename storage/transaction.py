"""The write API: one transaction in the writer thread, on the writer's own connection.

Everything here is synchronous and runs only inside `Database.write()`, which calls the
caller's function inside one transaction in a single dedicated thread. A whole batch of
reports therefore costs one thread hop and one commit, not one per statement. The SQL is
the dialect both engines accept; what differs goes through `Dialect`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from bot.channel import Address
from bot.model import (
    ADDITIVE_TOTALS,
    DashboardLink,
    Invitation,
    MessageKey,
    NewReport,
    Person,
    Report,
    Subscription,
    Totals,
    Unit,
    UnitSpec,
)
from storage.engine import Dialect, Row, WriteConnection
from storage.results import ResultsWriter
from storage.results_intake import ResultsIntakeWriter
from storage.rows import (
    CONTACTS_QUERY,
    REPORT_COLUMNS,
    TOTALS_COLUMNS,
    UNITS_QUERY,
    address,
    invitation_from_row,
    read_units,
    report_from_row,
    subscription_from_row,
    totals_from_row,
)
from storage.schema import UNIT_STEPS_FROM_REPORTS
from storage.sms import SmsWrites
from storage.tree import UnitIndex

# What `json.dumps(value, ensure_ascii=False)` does, without building an encoder per call.
_encode_json = json.JSONEncoder(ensure_ascii=False).encode


class ReportCache:
    """Each area's current reports, kept by the writer thread between transactions.

    Only the writer thread touches it, and where it is the only writer of the database
    (SQLite) the cache cannot go stale; areas changed by a rolled-back transaction or
    savepoint are dropped and re-read. Bounded: the oldest areas are dropped past `limit`.
    A shared database (PostgreSQL) keeps none between transactions: each transaction
    has its own, of the areas it has locked.
    """

    def __init__(self, limit: int = 50_000) -> None:
        self._areas: dict[str, list[Report]] = {}
        self._limit = limit

    def get(self, area_code: str) -> list[Report] | None:
        return self._areas.get(area_code)

    def put(self, area_code: str, reports: list[Report]) -> None:
        if len(self._areas) >= self._limit:
            self._areas.pop(next(iter(self._areas)))
        self._areas[area_code] = reports

    def forget(self, area_codes: Iterable[str]) -> None:
        for code in area_codes:
            self._areas.pop(code, None)


_MESSAGE_KEY_MATCH = "bot = ? AND chat = ? AND message_ref = ? AND revision = ?"
# A report batch's statements (`Dialect.insert_rows` adds the values).
_INSERT_REPORT = f"INSERT INTO reports (id, {REPORT_COLUMNS})"
_REPORT_TYPES = (
    "bigint", "text", "text", "bigint", "integer", "bigint", "text", "text", "text",
    "integer", "text", "integer", "text", "bigint", "bigint", "bigint", "bigint", "bigint",
)  # fmt: skip
_MARK_REPLACED = "UPDATE reports SET replaced_by = ? WHERE id = ? AND replaced_by IS NULL"
_INSERT_MESSAGE = (
    "INSERT INTO processed_messages (bot, chat, message_ref, revision, replies, processed_at)"
)
_MESSAGE_TYPES = ("text", "text", "text", "bigint", "text", "bigint")
_IF_NEW = "ON CONFLICT DO NOTHING"
# A current report's columns in `_report_from_values`' order.
_REPORT_FIELDS = f"id, {REPORT_COLUMNS}, replaced_by"


def _report_from_values(row: Sequence[Any]) -> Report:
    """A `reports` row selected as `_REPORT_FIELDS` (by position: cheaper than by name);
    the same as `report_from_row` of the whole row."""
    return Report(
        row[1], row[2], row[3], bool(row[4]), row[5], address(row[6]), address(row[7]),
        row[8], row[9], row[10], bool(row[11]), row[12], row[13], row[14], row[15],
        row[16], row[17], row[0], row[18],
    )  # fmt: skip


def _message_lock(key: MessageKey) -> str:
    return f"message:{key.bot}:{key.chat}:{key.message_ref}"


def _report_row(report_id: int, report: NewReport) -> tuple[Any, ...]:
    return (
        report_id, report.area_code, report.kind, report.at, int(report.time_stated),
        report.received_at, str(report.sender), str(report.chat), report.message_ref,
        report.line_index, report.text, int(report.is_correction), report.bot,
        report.voted, report.list_size, report.staff_tested, report.staff_total,
        report.positives,
    )  # fmt: skip


def _stored(report: NewReport, report_id: int) -> Report:
    """`report` as stored under `report_id` (positional: ~3× cheaper than by keyword)."""
    return Report(
        report.area_code, report.kind, report.at, report.time_stated, report.received_at,
        report.sender, report.chat, report.message_ref, report.line_index, report.text,
        report.is_correction, report.bot, report.voted, report.list_size,
        report.staff_tested, report.staff_total, report.positives, report_id,
    )  # fmt: skip


class _ReportBatch:
    """What a report batch (`Transaction.begin_report_batch`) keeps until it is written:
    the rows to insert and update with one `executemany` each, the ids reserved for new
    reports, and the answers of the batch's messages (read once, or recorded by it)."""

    __slots__ = ("answers", "ids", "messages", "replaced", "reports")

    def __init__(self) -> None:
        self.reports: list[tuple[Any, ...]] = []
        self.replaced: list[tuple[int, int]] = []
        self.messages: list[tuple[Any, ...]] = []
        self.ids: list[int] = []  # reserved, not yet used; the next one last
        # Every message key of the batch: its answers, or None (never processed).
        self.answers: dict[MessageKey, list[tuple[str, str | None]] | None] = {}


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


class ConflictDuringWrite(Exception):
    """A savepoint was undone because of a clash with another process: the whole
    transaction must be run again (the engine does)."""


def _unit_row(unit: Unit) -> tuple[Any, ...]:
    """The units row of `unit` (codes already spelled as stored)."""
    return (
        unit.code, unit.code.lower(), unit.parent_code, unit.kind, unit.name, unit.depth,
        int(unit.is_area), unit.registered_voters, unit.staff, unit.position,
    )  # fmt: skip


class Transaction(SmsWrites):
    """The write API, valid only inside the function passed to `Database.write()`."""

    def __init__(
        self,
        connection: WriteConnection,
        dialect: Dialect,
        units: UnitIndex,
        reports: ReportCache | None,
    ) -> None:
        self._db = connection
        self._dialect = dialect
        self._units = units
        # None: other processes write too, so nothing is cached between transactions;
        # within this one, the areas it has locked are (no other process changes them).
        self._is_shared = reports is None
        self._reports = ReportCache() if reports is None else reports
        self._batch: _ReportBatch | None = None  # see `begin_report_batch`
        self._locked: set[str] = set()
        self.conflict: BaseException | None = None  # set when a savepoint hid a clash
        self.units_changed = False  # the unit tree or its contacts changed
        self._index_stale = False  # changed since `_units` was last read back
        self.people_changed = False  # who is registered for what may have changed
        # Units whose totals this transaction changed (the areas and their ancestors), known
        # after `flush_totals`: what a live dashboard must show again.
        self.totals_changed: set[str] = set()
        self.links_changed = False  # a dashboard link was added or revoked
        self.results_setup_changed = False  # ballots, candidates or area mappings changed
        self.touched: set[str] = set()  # areas whose cached reports this transaction changed
        self._savepoint_touched: set[str] = set()
        # Totals changes staged until flush_totals(): additive deltas per unit, exact
        # last_report_at per area, rising maxima per ancestor, ancestors to recompute.
        self._deltas: dict[str, list[int]] = {}
        self._latest: dict[str, int | None] = {}
        self._rising: dict[str, int] = {}
        self._recount: set[str] = set()
        # Over-the-day steps staged until flush_totals(): each area's changes (minute ->
        # (change, counts)) in order, added up for its ancestors' `unit_steps` rows at the
        # flush (a list, so a savepoint undoes its part by cutting it back).
        self._steps: list[tuple[str, Mapping[int, tuple[int, int]]]] = []

    def _all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return self._db.execute(sql, params).fetchall()

    @property
    def results(self) -> ResultsWriter:
        """The results night's tables (electoral units, records, their totals)."""
        return ResultsWriter(self._db, self._lock, self._shared, self._results_changed)

    def _results_changed(self, codes: Iterable[str] | None) -> None:
        """A results write changed what these administrative units' dashboards show (the
        units and their ancestors; None: the setup changed, every view may be stale)."""
        if codes is None:
            self.results_setup_changed = True
            return
        for code in codes:
            unit = self._units.get(code)
            if unit is not None:
                self.totals_changed.add(unit.code)
                self.totals_changed.update(self._units.ancestor_codes(unit.code))

    @property
    def results_intake(self) -> ResultsIntakeWriter:
        """The results night's chat state (pending records, second entries, notices)."""
        return ResultsIntakeWriter(self._db, self._lock)

    def _one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        row: Row | None = self._db.execute(sql, params).fetchone()
        return row

    @property
    def _shared(self) -> bool:
        """Other processes write this database too (so nothing is cached here)."""
        return self._is_shared

    def _lock(self, key: str) -> None:
        """Hold `key` until the transaction ends, where other processes write too."""
        if self._shared and key not in self._locked:
            self._dialect.lock(self._db, key)
            self._locked.add(key)
            if self._batch is not None:
                # ids reserved before this lock could be lower than those of a report
                # another process stored under it: take new ones after it
                self._batch.ids.clear()

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """Undo only this block on error: one bad message must not sink its whole batch.

        A clash with another process is remembered: the caller may carry on with the rest
        of the batch, but the transaction is then rolled back and run again whole."""
        if self.conflict is not None:  # the batch will be run again: skip the work
            raise ConflictDuringWrite(str(self.conflict))
        self._db.execute("SAVEPOINT part")
        self._savepoint_touched = set()
        staged = (dict(self._deltas), dict(self._latest), dict(self._rising), set(self._recount))
        steps = len(self._steps)
        locked = set(self._locked)
        try:
            yield
        except BaseException as error:
            self._db.execute("ROLLBACK TO SAVEPOINT part")
            self._db.execute("RELEASE SAVEPOINT part")
            if self._shared:  # the locks taken inside are gone: what they guarded may change
                self._reports = ReportCache()
            else:
                self._reports.forget(self._savepoint_touched)
            self._deltas, self._latest, self._rising, self._recount = staged
            del self._steps[steps:]
            self._locked = locked  # locks taken inside the savepoint were released with it
            if self._dialect.is_conflict(error):
                self.conflict = error
            raise
        self._db.execute("RELEASE SAVEPOINT part")

    def _units_changed(self) -> None:
        """The tree or its contacts changed: read it back, and tell other processes."""
        if not self.units_changed:
            self._db.execute(
                "UPDATE store_meta SET value = value + 1 WHERE key = 'units_generation'"
            )
        self.units_changed = self.people_changed = self._index_stale = True

    def units_generation(self) -> int:
        row = self._one("SELECT value FROM store_meta WHERE key = 'units_generation'")
        return 0 if row is None else int(row[0])

    def reload_units(self) -> None:
        """Read the tree afresh (another process changed it)."""
        self._index_stale = True
        self.unit_index()

    def unit_index(self) -> UnitIndex:
        """The unit tree as this transaction sees it (after `replace_units`, the new one).

        Read back from the database only when something changed it since the last read: a
        national tree takes seconds to read."""
        if self._index_stale:
            self._units = read_units(self._all(UNITS_QUERY), self._all(CONTACTS_QUERY))
            self._index_stale = False
        return self._units

    def current_reports(self, area_code: str) -> list[Report]:
        """The area's reports not replaced by a correction (served from the writer's cache).

        In a shared database the area is locked first, until the commit: whoever judges a
        report against these reports must see every report stored before it."""
        self._lock(f"area:{area_code}")
        cached = self._reports.get(area_code)
        if cached is None:
            self._write_batch_rows()  # what the batch stored must be read back
            rows = self._all(
                "SELECT * FROM reports WHERE area_code = ? AND replaced_by IS NULL ORDER BY id",
                (area_code,),
            )
            cached = [report_from_row(row) for row in rows]
            self._reports.put(area_code, cached)
        return list(cached)

    def _touch(self, area_code: str) -> None:
        self.touched.add(area_code)
        self._savepoint_touched.add(area_code)

    def message_replies(self, key: MessageKey) -> list[str] | None:
        """Checked inside the transaction so two deliveries of one message cannot both apply
        (in a shared database, the message is locked until the commit)."""
        answers = self.message_answers(key)
        return None if answers is None else [text for text, _ in answers]

    def message_answers(self, key: MessageKey) -> list[tuple[str, str | None]] | None:
        """The replies a message got, each with its brief form (None where it had none, or
        was stored before brief forms); None if the message was never processed. Locked
        as `message_replies`."""
        self._lock(_message_lock(key))
        if self._batch is not None and key in self._batch.answers:
            known = self._batch.answers[key]
            return None if known is None else list(known)
        row = self._one(
            f"SELECT replies FROM processed_messages WHERE {_MESSAGE_KEY_MATCH}",
            (key.bot, str(key.chat), key.message_ref, key.revision),
        )
        return None if row is None else [_stored_answer(item) for item in json.loads(row[0])]

    # -- a batch of reports written at once -----------------------------------------------

    def begin_report_batch(
        self, keys: Sequence[MessageKey], area_codes: Iterable[str], reports: int
    ) -> None:
        """Prepare a batch of messages that store up to `reports` reports in these areas.

        In a shared database, the batch's messages and areas are locked in one sorted
        order; then, in one round trip, the messages' stored answers (`message_answers`),
        the areas' current reports (`current_reports`; those not cached) and `reports` new
        ids are read. Until `end_report_batch`, `add_report`, `mark_replaced` and
        `record_message` only stage their rows (the batch's own reads see them), written
        then with one `executemany` per table. `abandon_report_batch` forgets them."""
        batch = _ReportBatch()
        areas = sorted(set(area_codes))
        if self._shared:
            wanted = {_message_lock(key) for key in keys}
            wanted.update(f"area:{code}" for code in areas)
            new = sorted(wanted - self._locked)
            if new:
                self._dialect.lock_all(self._db, new)
                self._locked.update(new)
        unique = list(dict.fromkeys(keys))
        dialect = self._dialect
        found = [
            self._db.execute(
                # a join, not `(…) IN (VALUES …)`: SQLite scans the table for that
                "SELECT p.bot, p.chat, p.message_ref, p.revision, p.replies"
                f" FROM {table} JOIN processed_messages p ON p.bot = k.column1"
                " AND p.chat = k.column2 AND p.message_ref = k.column3"
                " AND p.revision = k.column4",
                params,
            )
            for table, params in dialect.values_tables(
                [(k.bot, str(k.chat), k.message_ref, k.revision) for k in unique],
                ("text", "text", "text", "bigint"),
            )
        ]
        missing = [code for code in areas if self._reports.get(code) is None]
        current = (
            [
                self._db.execute(
                    f"SELECT {_REPORT_FIELDS} FROM reports WHERE area_code IN"
                    f" (SELECT column1 FROM {table}) AND replaced_by IS NULL ORDER BY id",
                    params,
                )
                for table, params in dialect.values_tables([(code,) for code in missing], ("text",))
            ]
            if missing
            else []
        )
        ids = self._dialect.reserve_ids(self._db, "reports", reports) if reports else None
        # Read only now: on PostgreSQL, the statements above went out together.
        by_key = {(k.bot, str(k.chat), k.message_ref, k.revision): k for k in unique}
        batch.answers = dict.fromkeys(unique)
        for cursor in found:
            for row in cursor.fetchall():
                key = by_key[(row[0], row[1], row[2], row[3])]
                batch.answers[key] = [_stored_answer(item) for item in json.loads(row[4])]
        by_area: dict[str, list[Report]] = {code: [] for code in missing}
        for cursor in current:
            for row in cursor.fetchall():
                by_area[row[1]].append(_report_from_values(row))
        for code, listed in by_area.items():
            self._reports.put(code, listed)
        if ids is not None:
            batch.ids = sorted((int(row[0]) for row in ids.fetchall()), reverse=True)
        self._batch = batch

    def end_report_batch(self) -> None:
        """Write what the batch staged (see `begin_report_batch`); any error it meets is
        raised here."""
        self._write_batch_rows()
        self._batch = None
        if self._shared:  # pipelined: an insert's error is known only once a result is read
            self._one("SELECT 1")

    def abandon_report_batch(self) -> None:
        """Forget what the batch staged (the caller rolls back what it wrote)."""
        self._batch = None

    def _write_batch_rows(self) -> None:
        batch = self._batch
        if batch is None:
            return
        dialect = self._dialect
        if batch.reports:  # first: the updates and the next ones may refer to these rows
            dialect.insert_rows(self._db, _INSERT_REPORT, _REPORT_TYPES, batch.reports)
            batch.reports = []
        if batch.replaced:
            self._db.executemany(_MARK_REPLACED, batch.replaced)
            batch.replaced = []
        if batch.messages:
            dialect.insert_rows(self._db, _INSERT_MESSAGE, _MESSAGE_TYPES, batch.messages, _IF_NEW)
            batch.messages = []

    def _new_report_id(self, batch: _ReportBatch) -> int:
        if not batch.ids:  # more reports than announced, or a lock taken since
            self._write_batch_rows()  # SQLite: the next ids follow the stored ones
            cursor = self._dialect.reserve_ids(self._db, "reports", 16)
            batch.ids = sorted((int(row[0]) for row in cursor.fetchall()), reverse=True)
        return batch.ids.pop()

    def origin_reports(self, bot: str, chat: Address, message_ref: str) -> list[Report]:
        """Current reports that came from one chat message (to replace them on an edit)."""
        self._write_batch_rows()
        rows = self._all(
            "SELECT * FROM reports WHERE bot = ? AND chat = ? AND message_ref = ?"
            " AND replaced_by IS NULL",
            (bot, str(chat), message_ref),
        )
        return [report_from_row(row) for row in rows]

    def current_reports_by_area(self) -> dict[str, list[Report]]:
        self._write_batch_rows()
        by_area: dict[str, list[Report]] = {}
        for row in self._db.execute("SELECT * FROM reports WHERE replaced_by IS NULL ORDER BY id"):
            by_area.setdefault(row["area_code"], []).append(report_from_row(row))
        return by_area

    def add_report(self, report: NewReport) -> Report:
        batch = self._batch
        if batch is not None:
            stored = _stored(report, self._new_report_id(batch))
            batch.reports.append(_report_row(stored.id, report))
            self._touch(report.area_code)
            cached = self._reports.get(report.area_code)
            if cached is not None:
                cached.append(stored)
            return stored
        row = self._one(
            f"INSERT INTO reports ({REPORT_COLUMNS}) VALUES ({','.join('?' * 17)})"
            " RETURNING id",
            (
                report.area_code, report.kind, report.at, int(report.time_stated),
                report.received_at, str(report.sender), str(report.chat), report.message_ref,
                report.line_index, report.text, int(report.is_correction), report.bot,
                report.voted, report.list_size, report.staff_tested, report.staff_total,
                report.positives,
            ),
        )  # fmt: skip
        assert row is not None
        stored = _stored(report, int(row[0]))
        self._touch(report.area_code)
        cached = self._reports.get(report.area_code)
        if cached is not None:
            cached.append(stored)
        return stored

    def mark_replaced(self, area_code: str, report_ids: Iterable[int], by_id: int) -> None:
        replaced = set(report_ids)
        if not replaced:
            return
        rows = [(by_id, report_id) for report_id in replaced]
        if self._batch is not None:
            self._batch.replaced.extend(rows)
        else:
            self._db.executemany(_MARK_REPLACED, rows)
        self._touch(area_code)
        cached = self._reports.get(area_code)
        if cached is not None:
            cached[:] = [r for r in cached if r.id not in replaced]

    def update_area(self, area_code: str, old: Totals, new: Totals) -> None:
        """Record an area's new state; the change reaches every ancestor at `flush_totals`.

        Staged in memory and written once per touched unit at the end of the transaction:
        a batch of reports from one commune updates its few totals rows once, not per report.
        """
        delta = new.minus(old)
        values = [getattr(delta, name) for name in ADDITIVE_TOTALS]
        chain = [area_code, *self._units.ancestor_codes(area_code)]
        if any(values):
            for code in chain:
                staged = self._deltas.get(code)
                if staged is None:
                    self._deltas[code] = list(values)
                else:
                    self._deltas[code] = [a + b for a, b in zip(staged, values, strict=True)]
        if new.last_report_at != old.last_report_at:
            self._latest[area_code] = new.last_report_at
            rising = new.last_report_at is not None and (
                old.last_report_at is None or new.last_report_at > old.last_report_at
            )
            for code in chain[1:]:
                if not rising:  # went back (a correction to an earlier time): recompute
                    self._recount.add(code)
                elif new.last_report_at is not None:
                    self._rising[code] = max(self._rising.get(code, 0), new.last_report_at)

    def update_steps(self, area_code: str, changes: Mapping[int, tuple[int, int]]) -> None:
        """Record how an area's over-the-day steps changed (`bot.turnout.steps.step_changes`:
        minute -> (change, counts)); they reach every ancestor's rows in `unit_steps` at
        `flush_totals`, staged in memory like the totals. (The area's own steps are not
        kept: read from its few reports, they cost less than a row changed per report.)"""
        if changes:
            self._steps.append((area_code, changes))

    def area_state(self, area_code: str, *, settled: bool = False) -> Totals:
        """A unit's totals as this transaction will leave them (stored plus staged).

        `settled`: in a shared database, first wait for other transactions that change this
        unit's totals, and hold them off until the commit, so that of two processes storing
        a commune's last two areas at once, the second sees the first's."""
        lock = " FOR UPDATE" if settled and self._shared else ""
        stored = totals_from_row(
            self._one(
                f"SELECT {TOTALS_COLUMNS} FROM unit_totals WHERE code = ?{lock}", (area_code,)
            )
        )
        staged = self._deltas.get(area_code)
        if staged is None:
            return stored
        values = {
            name: getattr(stored, name) + change
            for name, change in zip(ADDITIVE_TOTALS, staged, strict=True)
        }
        return Totals(**values, last_report_at=stored.last_report_at)

    def flush_totals(self) -> None:
        """Write the staged changes to `unit_totals` (called once, before COMMIT).

        Increments, never read-modify-write, so processes sharing a database add up; rows
        in code order, so two such processes take their row locks in the same order."""
        if self.conflict is not None:
            raise ConflictDuringWrite(str(self.conflict))
        self._write_batch_rows()  # a batch left open: its rows are part of the transaction
        self._batch = None
        changed = self.totals_changed
        changed.update(code for code, values in self._deltas.items() if any(values))
        changed.update(self._latest, self._rising, self._recount)
        if self._shared:
            self._write_totals_at_once()
        else:
            sets = ", ".join(f"{name} = {name} + ?" for name in ADDITIVE_TOTALS)
            self._db.executemany(
                f"UPDATE unit_totals SET {sets} WHERE code = ?",
                [(*values, code) for code, values in sorted(self._deltas.items()) if any(values)],
            )
            self._db.executemany(
                "UPDATE unit_totals SET last_report_at = ? WHERE code = ?",
                [(value, code) for code, value in sorted(self._latest.items())],
            )
            self._db.executemany(
                "UPDATE unit_totals SET last_report_at = CASE WHEN last_report_at IS NULL"
                " OR last_report_at < ? THEN ? ELSE last_report_at END WHERE code = ?",
                [
                    (value, value, code)
                    for code, value in sorted(self._rising.items())
                    if code not in self._recount
                ],
            )
        # Deepest first, so each parent is recomputed from already-correct children.
        for code in sorted(self._recount, key=lambda c: -len(self._units.ancestor_codes(c))):
            self._db.execute(
                "UPDATE unit_totals SET last_report_at = (SELECT max(t.last_report_at)"
                " FROM unit_totals t JOIN units u ON u.code = t.code WHERE u.parent_code = ?)"
                " WHERE code = ?",
                (code, code),
            )
        self._deltas.clear()
        self._latest.clear()
        self._rising.clear()
        self._recount.clear()
        self._flush_steps()

    def _flush_steps(self) -> None:
        """Add the staged steps to `unit_steps`: increments (so processes sharing a database
        add up), rows in key order (so they lock in the same order); a minute whose counts
        reach 0 is deleted."""
        if not self._steps:
            return
        units = self._units
        chains: dict[str | None, list[str]] = {None: []}  # by parent: areas share communes
        staged: dict[tuple[str, int], tuple[int, int]] = {}
        for area_code, changes in self._steps:
            area = units.get(area_code)
            parent = None if area is None else area.parent_code
            chain = chains.get(parent)
            if chain is None:
                assert parent is not None
                chain = chains[parent] = [parent, *units.ancestor_codes(parent)]
            for minute, step in changes.items():
                for code in chain:
                    key = (code, minute)
                    old = staged.get(key)
                    staged[key] = step if old is None else (old[0] + step[0], old[1] + step[1])
        self._steps.clear()
        rows = sorted(
            (code, minute, change, points)
            for (code, minute), (change, points) in staged.items()
            if change or points
        )
        self._db.executemany(
            "INSERT INTO unit_steps (code, minute, change, points) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (code, minute) DO UPDATE SET"
            " change = unit_steps.change + excluded.change,"
            " points = unit_steps.points + excluded.points",
            rows,
        )
        self._db.executemany(
            "DELETE FROM unit_steps WHERE code = ? AND minute = ? AND points <= 0",
            [(code, minute) for code, minute, _, points in rows if points < 0],
        )

    def rebuild_steps(self) -> None:
        """Recompute every unit's steps from the current reports (with the totals: on a units
        import, which may move areas). Steps staged so far are in the reports already."""
        self._steps.clear()
        self._db.execute("DELETE FROM unit_steps")
        self._db.execute(UNIT_STEPS_FROM_REPORTS)

    def _write_totals_at_once(self) -> None:
        """`flush_totals`' three kinds of change (deltas; an area's exact last report; an
        ancestor's rising last report) as one UPDATE of every row, after locking the rows
        in code order (byte order, as Python sorts): a round trip's worth of statements
        where one per row and kind cost psycopg ~25 µs each."""
        rising = {c: v for c, v in self._rising.items() if c not in self._recount}
        codes = {code for code, values in self._deltas.items() if any(values)}
        codes.update(self._latest, rising)
        if not codes:
            return
        zero = [0] * len(ADDITIVE_TOTALS)
        rows = [
            (
                code,
                *(self._deltas.get(code) or zero),
                code in self._latest,
                self._latest.get(code),
                rising.get(code),
            )
            for code in sorted(codes)
        ]
        types = ("text", *("bigint" for _ in ADDITIVE_TOTALS), "boolean", "bigint", "bigint")
        n = len(ADDITIVE_TOTALS)
        sets = ", ".join(
            f"{name} = t.{name} + k.column{i}" for i, name in enumerate(ADDITIVE_TOTALS, start=2)
        )
        exact, latest, rises = (f"k.column{n + 2}", f"k.column{n + 3}", f"k.column{n + 4}")
        base = f"CASE WHEN {exact} THEN {latest} ELSE t.last_report_at END"
        for table, params in self._dialect.values_tables([(row[0],) for row in rows], ["text"]):
            self._db.execute(
                "SELECT code FROM unit_totals WHERE code IN (SELECT column1 FROM"
                f' {table}) ORDER BY code COLLATE "C" FOR UPDATE',
                params,
            )
        for table, params in self._dialect.values_tables(rows, types):
            self._db.execute(
                f"UPDATE unit_totals AS t SET {sets}, last_report_at = CASE WHEN {rises}"
                f" IS NOT NULL AND ({base} IS NULL OR {base} < {rises}) THEN {rises}"
                f" ELSE {base} END FROM {table} WHERE t.code = k.column1",
                params,
            )

    def audit(self, actor: Address, action: str, detail: str) -> None:
        """Record an admin action in the same transaction as the action itself."""
        self._db.execute(
            "INSERT INTO audit_log (at, actor, action, detail) VALUES (?, ?, ?, ?)",
            (int(time.time()), str(actor), action, detail),
        )

    def inbox_store(
        self,
        bot: str,
        events: Sequence[tuple[str, str]],
        lease_until: int = 0,
        cursor: str | None = None,
    ) -> None:
        """Keep (event id, payload) pairs of one bot until they are handled, in arrival
        order; and, if given, the channel's `cursor` (where it left off; only the channel's
        adapter reads it).

        `lease_until`: this process handles them until then (renewed while it lives); past
        it, another process sharing the database may claim them (`inbox_claim_expired`)."""
        now = int(time.time())
        self._db.executemany(
            "INSERT INTO inbox (bot, event_id, payload, received_at, lease_until)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            [(bot, event_id, payload, now, lease_until) for event_id, payload in events],
        )
        if cursor is not None:
            self._db.execute(
                "INSERT INTO channel_cursors (bot, cursor) VALUES (?, ?)"
                " ON CONFLICT(bot) DO UPDATE SET cursor = excluded.cursor",
                (bot, cursor),
            )

    def inbox_renew(self, bot: str, event_ids: Sequence[str], lease_until: int) -> None:
        """Extend this process's hold on events it is still handling."""
        self._db.executemany(
            "UPDATE inbox SET lease_until = ? WHERE bot = ? AND event_id = ?",
            [(lease_until, bot, event_id) for event_id in event_ids],
        )

    def inbox_claim_expired(self, bot: str, now: int, lease_until: int) -> list[tuple[str, str]]:
        """Take over the events whose holder's lease ran out (it stopped or crashed before
        handling them), in arrival order: one statement, so two processes cannot both take one."""
        rows = self._all(
            "UPDATE inbox SET lease_until = ? WHERE bot = ? AND lease_until < ?"
            " RETURNING seq, event_id, payload",
            (lease_until, bot, now),
        )
        return [(str(row[1]), str(row[2])) for row in sorted(rows, key=lambda r: int(r[0]))]

    def inbox_done(self, bot: str, event_ids: Sequence[str]) -> None:
        self._db.executemany(
            "DELETE FROM inbox WHERE bot = ? AND event_id = ?", [(bot, e) for e in event_ids]
        )
        self._db.execute(
            "INSERT INTO channel_cursors (bot, last_handled_at) VALUES (?, ?)"
            " ON CONFLICT(bot) DO UPDATE SET last_handled_at = excluded.last_handled_at",
            (bot, int(time.time())),
        )

    def record_message(
        self, key: MessageKey, replies: Sequence[str], briefs: Sequence[str | None] = ()
    ) -> None:
        """The replies a message got (a JSON list of texts; with brief forms, a list of
        `{"text", "brief"}` objects), so a redelivery is answered the same way."""
        stored: list[object] = list(replies)
        if any(briefs):
            stored = [
                {"text": text, "brief": brief} for text, brief in zip(replies, briefs, strict=True)
            ]
        row = (
            key.bot,
            str(key.chat),
            key.message_ref,
            key.revision,
            _encode_json(stored),
            int(time.time()),
        )
        batch = self._batch
        if batch is None:
            self._db.execute(f"{_INSERT_MESSAGE} VALUES (?, ?, ?, ?, ?, ?) {_IF_NEW}", row)
            return
        batch.messages.append(row)
        if batch.answers.get(key) is None:  # as `message_answers` would read it back
            batch.answers[key] = [_stored_answer(item) for item in stored]

    def save_person(self, person: Person) -> None:
        self._db.execute(
            "INSERT INTO people (identity, phone, name, chat, registered_at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT(identity) DO UPDATE SET"
            " phone = excluded.phone, name = excluded.name, chat = excluded.chat",
            (str(person.identity), person.phone, person.name, str(person.chat), int(time.time())),
        )
        self.people_changed = True

    def add_contact(self, unit_code: str, phone: str) -> None:
        self._db.execute(
            "INSERT INTO unit_contacts VALUES (?, ?, 'assign') ON CONFLICT DO NOTHING",
            (unit_code, phone),
        )
        self._units_changed()

    def replace_units(self, specs: Sequence[UnitSpec]) -> ImportSummary:
        """Make the unit table equal to `specs` (parents before children), keeping reports.

        Units are matched by code case-insensitively and updated in place. Removing a unit
        that has reports raises UnitsHaveReports and the caller's transaction rolls back.
        """
        existing: dict[str, str] = {}  # code_key -> code as stored
        locked: set[str] = set()
        for row in self._all("SELECT code_key, code, locked FROM units"):
            existing[row[0]] = row[1]
            if row[2]:
                locked.add(row[0])
        wanted = {spec.code.lower() for spec in specs}
        removed = [code for key, code in existing.items() if key not in wanted]
        if removed:
            marks = ",".join("?" * len(removed))
            with_reports = sorted(
                {
                    row[0]
                    for table in ("reports", "result_records")
                    for row in self._all(
                        f"SELECT DISTINCT area_code FROM {table} WHERE area_code IN ({marks})",
                        removed,
                    )
                }
            )
            if with_reports:
                raise UnitsHaveReports(with_reports)
        assigned: dict[str, list[str]] = {}
        for row in self._all(
            "SELECT unit_code, phone FROM unit_contacts WHERE source = 'assign'"
            " ORDER BY unit_code, phone"
        ):
            assigned.setdefault(row[0], []).append(row[1])
        # The new tree as reading it back would give it, built once: later writes in this
        # transaction walk it, and it becomes `Database.units` at the commit.
        index = UnitIndex.from_specs(specs, existing, locked, assigned)
        del assigned
        # Children of removed units may be re-parented, so detach before deleting.
        self._dialect.defer_foreign_keys(self._db)
        insert = (
            "INSERT INTO units (code, code_key, parent_code, kind, name, depth, is_area,"
            " registered_voters, staff, position) VALUES (?,?,?,?,?,?,?,?,?,?)"
        )
        if existing:  # a first import has nothing to update: a plain insert is ~1/3 cheaper
            insert += (
                " ON CONFLICT(code_key) DO UPDATE SET parent_code = excluded.parent_code,"
                " kind = excluded.kind, name = excluded.name, depth = excluded.depth,"
                " is_area = excluded.is_area, registered_voters = excluded.registered_voters,"
                " staff = excluded.staff, position = excluded.position"
            )
        # rows made as they are written, not listed first
        self._db.executemany(insert, map(_unit_row, index))
        for code in removed:  # foreign keys are checked at commit, so order does not matter
            self._db.execute("DELETE FROM units WHERE code = ?", (code,))
        self._db.execute("DELETE FROM unit_contacts WHERE source = 'import'")
        self._db.executemany(
            "INSERT INTO unit_contacts VALUES (?, ?, 'import') ON CONFLICT DO NOTHING",
            (
                (existing.get(spec.code.lower(), spec.code), phone)
                for spec in specs
                for phone in spec.contact_phones
            ),
        )
        self._db.execute(
            "INSERT INTO unit_totals (code) SELECT code FROM units WHERE true"
            " ON CONFLICT DO NOTHING"
        )
        self._units_changed()
        self._units, self._index_stale = index, False
        # The results night's areas follow the tree: an area gone (or no longer an area) is
        # unmapped, and each ballot's default list is the area's new one.
        mapped = {row[0] for row in self._all("SELECT DISTINCT area_code FROM area_ballots")}
        if mapped:
            results = self.results
            results.forget_areas(
                sorted(code for code in mapped if not (unit := index.get(code)) or not unit.is_area)
            )
            results.rebuild_totals()
        added = sum(1 for key in wanted if key not in existing)
        return ImportSummary(added=added, updated=len(wanted) - added, removed=len(removed))

    def rebuild_totals(self, area_states: dict[str, Totals]) -> None:
        """Write every area's state and recompute every inner unit's totals from them."""
        from operator import add, attrgetter

        # children first: a unit's sums are complete before they go to its parent
        units = sorted(self.unit_index(), key=attrgetter("depth"), reverse=True)
        values_of = attrgetter(*ADDITIVE_TOTALS)
        zero = (0,) * len(ADDITIVE_TOTALS)
        sums: dict[str, tuple[int, ...]] = {}
        latest: dict[str, int | None] = {}
        seen: dict[int, tuple[int, ...]] = {}  # by id: the states outlive this function
        for unit in units:
            code = unit.code
            own = sums.get(code, zero)
            state = area_states.get(code)
            if state is not None:
                values = seen.get(id(state))  # areas alike often share one Totals: and its tuple
                if values is None:
                    values = seen[id(state)] = values_of(state)
                own = values if own is zero else tuple(map(add, own, values))
                if state.last_report_at is not None:
                    latest[code] = max(latest.get(code) or 0, state.last_report_at)
                sums[code] = own
            parent = unit.parent_code
            if parent is not None:
                above = sums.get(parent)
                sums[parent] = own if above is None else tuple(map(add, above, own))
                mine = latest.get(code)
                if mine is not None:
                    latest[parent] = max(latest.get(parent) or 0, mine)
        self.rebuild_steps()
        self._db.execute("DELETE FROM unit_totals")
        self._db.executemany(
            f"INSERT INTO unit_totals (code, {TOTALS_COLUMNS}) VALUES"
            f" ({','.join('?' * (len(ADDITIVE_TOTALS) + 2))})",
            (
                (unit.code, *sums.get(unit.code, zero), latest.get(unit.code))
                for unit in reversed(units)
            ),
        )

    def subscribe(self, subscription: Subscription) -> None:
        self._db.execute(
            "INSERT INTO subscriptions (bot, chat, unit_code, title, subscribed_by,"
            " subscribed_at, finished_notified) VALUES (?, ?, ?, ?, ?, ?, 0)"
            " ON CONFLICT(bot, chat) DO UPDATE SET"
            " unit_code = excluded.unit_code, title = excluded.title,"
            " subscribed_by = excluded.subscribed_by, subscribed_at = excluded.subscribed_at,"
            " finished_notified = 0",
            (subscription.bot, str(subscription.chat), subscription.unit_code,
             subscription.title, str(subscription.subscribed_by), int(time.time())),
        )  # fmt: skip

    def unsubscribe(self, bot: str, chat: Address) -> bool:
        removed = self._all(
            "DELETE FROM subscriptions WHERE bot = ? AND chat = ? RETURNING chat",
            (bot, str(chat)),
        )
        return bool(removed)

    def claim_finished_notices(self, bot: str, unit_codes: Sequence[str]) -> list[Subscription]:
        """This bot's subscriptions to these (now finished) units not yet told; marks them
        told, in one statement, so two processes of one bot cannot both claim a group.
        (Another bot's groups are told by that bot: see `finished_unclaimed`.)"""
        claimed: list[Subscription] = []
        for code in unit_codes:
            rows = self._all(
                "UPDATE subscriptions SET finished_notified = 1 WHERE bot = ? AND unit_code = ?"
                " AND finished_notified = 0 RETURNING *",
                (bot, code),
            )
            claimed.extend(subscription_from_row(row) for row in rows)
        return sorted(claimed, key=lambda s: s.chat)

    def finished_unclaimed(self, bot: str) -> list[tuple[Subscription, Totals]]:
        """This bot's subscriptions whose unit has finished but whose group was not told,
        with the unit's totals; marks them told. Needed where other processes store
        reports: the last area of a unit may have been finished through another bot."""
        rows = self._all(
            "UPDATE subscriptions SET finished_notified = 1 WHERE bot = ?"
            " AND finished_notified = 0 AND unit_code IN (SELECT code FROM unit_totals"
            " WHERE areas_total > 0 AND areas_finished = areas_total) RETURNING *",
            (bot,),
        )
        claimed = sorted((subscription_from_row(row) for row in rows), key=lambda s: s.chat)
        totals: dict[str, Totals] = {}
        for subscription in claimed:
            if subscription.unit_code not in totals:
                totals[subscription.unit_code] = totals_from_row(
                    self._one(
                        f"SELECT {TOTALS_COLUMNS} FROM unit_totals WHERE code = ?",
                        (subscription.unit_code,),
                    )
                )
        return [(subscription, totals[subscription.unit_code]) for subscription in claimed]

    def add_dashboard_link(self, link: DashboardLink) -> None:
        self._db.execute(
            "INSERT INTO dashboard_links (token_hash, unit_code, created_at, expires_at,"
            " revoked_at, created_by) VALUES (?, ?, ?, ?, ?, ?)",
            (link.token_hash, link.unit_code, link.created_at, link.expires_at,
             link.revoked_at, str(link.created_by)),
        )  # fmt: skip
        self.links_changed = True

    def revoke_dashboard_links(self, unit_code: str, at: int) -> int:
        """Revoke every link of the unit not revoked yet; how many were."""
        rows = self._all(
            "UPDATE dashboard_links SET revoked_at = ? WHERE unit_code = ?"
            " AND revoked_at IS NULL RETURNING token_hash",
            (at, unit_code),
        )
        self.links_changed = True
        return len(rows)

    def set_locked(self, codes: Iterable[str], locked: bool) -> None:
        self._db.executemany(
            "UPDATE units SET locked = ? WHERE code = ?", [(int(locked), c) for c in codes]
        )
        self._units_changed()

    # -- invitation codes and registration lock-outs (issue 15) ----------------------------

    def add_invitation(self, invitation: Invitation) -> bool:
        """Store a new code for its (unit, phone) and revoke that pair's codes not yet used.
        False, and nothing changed, when the hash is already taken (another code, even a
        used one, has it): the caller draws another code."""
        if self._one("SELECT 1 FROM invitations WHERE code_hash = ?", (invitation.code_hash,)):
            return False
        self._db.execute(
            "UPDATE invitations SET revoked = 1 WHERE unit_code = ? AND phone = ?"
            " AND used_at IS NULL AND revoked = 0",
            (invitation.unit_code, invitation.phone),
        )
        self._db.execute(
            "INSERT INTO invitations (code_hash, unit_code, phone, issued_at, expires_at,"
            " used_at, used_by, revoked) VALUES (?, ?, ?, ?, ?, NULL, NULL, 0)",
            (invitation.code_hash, invitation.unit_code, invitation.phone,
             invitation.issued_at, invitation.expires_at),
        )  # fmt: skip
        return True

    def invitation(self, code_hash: str) -> Invitation | None:
        row = self._one("SELECT * FROM invitations WHERE code_hash = ?", (code_hash,))
        return None if row is None else invitation_from_row(row)

    def use_invitation(self, code_hash: str, identity: Address, at: int) -> bool:
        """Mark a live code used by `identity`; False when it was used or revoked meanwhile
        (one statement: two processes cannot both use it)."""
        used = self._all(
            "UPDATE invitations SET used_at = ?, used_by = ? WHERE code_hash = ?"
            " AND used_at IS NULL AND revoked = 0 RETURNING code_hash",
            (at, str(identity), code_hash),
        )
        return bool(used)

    def name_of_phone(self, phone: str) -> str | None:
        """The name a person registered with this phone gave first (on any channel)."""
        row = self._one(
            "SELECT name FROM people WHERE phone = ? ORDER BY registered_at, identity LIMIT 1",
            (phone,),
        )
        return None if row is None else str(row[0])

    def registration_locked_until(self, identity: Address, now: int) -> int | None:
        """Until when `identity` may not register (epoch seconds), or None."""
        row = self._one(
            "SELECT locked_until FROM registration_lockouts"
            " WHERE identity = ? AND locked_until > ?",
            (str(identity), now),
        )
        return None if row is None else int(row[0])

    def add_registration_failure(self, identity: Address, at: int, window: int) -> int:
        """Record a wrong code from `identity`; how many it has sent in the last `window`
        seconds, this one included (older ones are forgotten)."""
        self._db.execute(
            "DELETE FROM registration_failures WHERE identity = ? AND at <= ?",
            (str(identity), at - window),
        )
        self._db.execute(
            "INSERT INTO registration_failures (identity, at) VALUES (?, ?)", (str(identity), at)
        )
        row = self._one(
            "SELECT count(*) FROM registration_failures WHERE identity = ?", (str(identity),)
        )
        return 0 if row is None else int(row[0])

    def lock_registration(self, identity: Address, until: int) -> None:
        """Lock `identity` out of registration until then; its wrong codes are forgotten (after
        the lock, it starts afresh)."""
        self._db.execute(
            "INSERT INTO registration_lockouts (identity, locked_until) VALUES (?, ?)"
            " ON CONFLICT(identity) DO UPDATE SET locked_until = excluded.locked_until",
            (str(identity), until),
        )
        self._db.execute("DELETE FROM registration_failures WHERE identity = ?", (str(identity),))

    # -- metered bots: sends per month, events seen, identities greeted ---------------------

    def count_send(
        self, bot: str, month: str, thresholds: Sequence[tuple[int, int]] = ()
    ) -> tuple[int, list[int]]:
        """One more successful send of `bot` in `month` (`YYYY-MM`). `thresholds`: (share
        in %, count at which it is passed); returns the month's count and the shares passed
        now that admins were not told of yet (each is returned once, in a rising order)."""
        row = self._one(
            "INSERT INTO bot_sends (bot, month, sent) VALUES (?, ?, 1)"
            " ON CONFLICT (bot, month) DO UPDATE SET sent = bot_sends.sent + 1"
            " RETURNING sent, told",
            (bot, month),
        )
        assert row is not None
        sent, told = int(row[0]), int(row[1])
        passed = sorted(share for share, at in thresholds if sent >= at and share > told)
        if passed:
            self._db.execute(
                "UPDATE bot_sends SET told = ? WHERE bot = ? AND month = ? AND told < ?",
                (passed[-1], bot, month, passed[-1]),
            )
        return sent, passed

    def first_seen(
        self, bot: str, event_ids: Sequence[str], now: int, forget_before: int
    ) -> list[str]:
        """Of `event_ids`, those `bot` has not received since `forget_before` (epoch s), now
        remembered as received at `now`; what was received before `forget_before` is
        forgotten."""
        self._db.execute(
            "DELETE FROM seen_events WHERE bot = ? AND seen_at < ?", (bot, forget_before)
        )
        new: list[str] = []
        for event_id in dict.fromkeys(event_ids):
            row = self._one(
                "INSERT INTO seen_events (bot, event_id, seen_at) VALUES (?, ?, ?)"
                " ON CONFLICT DO NOTHING RETURNING event_id",
                (bot, event_id, now),
            )
            if row is not None:
                new.append(event_id)
        return new

    def greet_first(self, identity: Address, now: int) -> bool:
        """True the first time it is asked about `identity` (then remembered), else False."""
        row = self._one(
            "INSERT INTO greeted_identities (identity, greeted_at) VALUES (?, ?)"
            " ON CONFLICT DO NOTHING RETURNING identity",
            (str(identity), now),
        )
        return row is not None


def _stored_answer(item: object) -> tuple[str, str | None]:
    """One stored reply: a text (before brief forms) or a `{"text", "brief"}` object."""
    if isinstance(item, dict):
        brief = item.get("brief")
        return str(item["text"]), brief if isinstance(brief, str) else None
    return str(item), None
