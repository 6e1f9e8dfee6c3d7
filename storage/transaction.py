"""The write API: one SQLite transaction in the writer thread, on the writer's own connection.

Everything here is synchronous and runs only inside `Database.write()`, which calls the
caller's function between BEGIN IMMEDIATE and COMMIT in a single dedicated thread. A whole
batch of reports therefore costs one thread hop and one fsync, not one per statement.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields, replace
from typing import Any

from storage.records import (
    ADDITIVE_TOTALS,
    MessageKey,
    NewReport,
    Person,
    Report,
    Subscription,
    Totals,
    Unit,
    UnitSpec,
)
from storage.rows import (
    REPORT_COLUMNS,
    TOTALS_COLUMNS,
    UNITS_QUERY,
    read_units,
    report_from_row,
    subscription_from_row,
    totals_from_row,
)
from storage.tree import UnitIndex

_NEW_REPORT_FIELDS = tuple(f.name for f in fields(NewReport))


def _fields_of(report: NewReport) -> dict[str, Any]:
    # dataclasses.asdict deep-copies every value: far slower on the hot path, for nothing.
    return {name: getattr(report, name) for name in _NEW_REPORT_FIELDS}


class ReportCache:
    """Each area's current reports, kept by the writer thread between transactions.

    Only the writer thread touches it, and it is the only writer of the file, so the cache
    cannot go stale; areas changed by a rolled-back transaction or savepoint are dropped
    and re-read. Bounded: the oldest areas are dropped past `limit`.
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


def _unit_row(unit: Unit, existing: dict[str, str]) -> tuple[Any, ...]:
    """The units row of `unit`, keeping the spelling of codes already stored."""

    def stored_code(code: str) -> str:
        return existing.get(code.lower(), code)

    parent = None if unit.parent_code is None else stored_code(unit.parent_code)
    return (
        stored_code(unit.code), unit.code.lower(), parent, unit.kind, unit.name, unit.depth,
        int(unit.is_area), unit.registered_voters, unit.staff, unit.position,
    )  # fmt: skip


class Transaction:
    """The write API, valid only inside the function passed to `Database.write()`."""

    def __init__(
        self, connection: sqlite3.Connection, units: UnitIndex, reports: ReportCache
    ) -> None:
        self._db = connection
        self._units = units
        self._reports = reports
        self.units_changed = False  # the unit tree or its contacts changed
        self._index_stale = False  # changed since `_units` was last read back
        self.people_changed = False  # who is registered for what may have changed
        self.touched: set[str] = set()  # areas whose cached reports this transaction changed
        self._savepoint_touched: set[str] = set()
        # Totals changes staged until flush_totals(): additive deltas per unit, exact
        # last_report_at per area, rising maxima per ancestor, ancestors to recompute.
        self._deltas: dict[str, list[int]] = {}
        self._latest: dict[str, int | None] = {}
        self._rising: dict[str, int] = {}
        self._recount: set[str] = set()

    def _all(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        return self._db.execute(sql, params).fetchall()

    def _one(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self._db.execute(sql, params).fetchone()
        return row

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """Undo only this block on error: one bad message must not sink its whole batch."""
        self._db.execute("SAVEPOINT part")
        self._savepoint_touched = set()
        staged = (dict(self._deltas), dict(self._latest), dict(self._rising), set(self._recount))
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK TO part")
            self._db.execute("RELEASE part")
            self._reports.forget(self._savepoint_touched)
            self._deltas, self._latest, self._rising, self._recount = staged
            raise
        self._db.execute("RELEASE part")

    def unit_index(self) -> UnitIndex:
        """The unit tree as this transaction sees it (after `replace_units`, the new one).

        Read back from the database only when something changed it since the last read: a
        national tree takes seconds to read."""
        if self._index_stale:
            self._units = read_units(self._all(UNITS_QUERY))
            self._index_stale = False
        return self._units

    def current_reports(self, area_code: str) -> list[Report]:
        """The area's reports not replaced by a correction (served from the writer's cache)."""
        cached = self._reports.get(area_code)
        if cached is None:
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
        """Checked inside the transaction so two deliveries of one message cannot both apply."""
        row = self._one(
            "SELECT replies FROM processed_messages WHERE chat_id=? AND message_id=? AND version=?",
            (key.chat_id, key.message_id, key.version),
        )
        return None if row is None else list(json.loads(row[0]))

    def origin_reports(self, chat_id: int, message_id: int) -> list[Report]:
        """Current reports that came from one chat message (to replace them on an edit)."""
        rows = self._all(
            "SELECT * FROM reports WHERE chat_id = ? AND message_id = ? AND replaced_by IS NULL",
            (chat_id, message_id),
        )
        return [report_from_row(row) for row in rows]

    def current_reports_by_area(self) -> dict[str, list[Report]]:
        by_area: dict[str, list[Report]] = {}
        for row in self._db.execute("SELECT * FROM reports WHERE replaced_by IS NULL ORDER BY id"):
            by_area.setdefault(row["area_code"], []).append(report_from_row(row))
        return by_area

    def add_report(self, report: NewReport) -> Report:
        cursor = self._db.execute(
            f"INSERT INTO reports ({REPORT_COLUMNS}) VALUES ({','.join('?' * 16)})",
            (
                report.area_code, report.kind, report.at, int(report.time_stated),
                report.received_at, report.sender_id, report.chat_id, report.message_id,
                report.line_index, report.text, int(report.is_correction), report.voted,
                report.list_size, report.staff_tested, report.staff_total, report.positives,
            ),
        )  # fmt: skip
        assert cursor.lastrowid is not None
        stored = Report(**_fields_of(report), id=cursor.lastrowid)
        self._touch(report.area_code)
        cached = self._reports.get(report.area_code)
        if cached is not None:
            cached.append(stored)
        return stored

    def mark_replaced(self, area_code: str, report_ids: Iterable[int], by_id: int) -> None:
        replaced = set(report_ids)
        if not replaced:
            return
        self._db.executemany(
            "UPDATE reports SET replaced_by = ? WHERE id = ? AND replaced_by IS NULL",
            [(by_id, report_id) for report_id in replaced],
        )
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

    def area_state(self, area_code: str) -> Totals:
        """A unit's totals as this transaction will leave them (stored plus staged)."""
        stored = totals_from_row(
            self._one(f"SELECT {TOTALS_COLUMNS} FROM unit_totals WHERE code = ?", (area_code,))
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
        """Write the staged changes to `unit_totals` (called once, before COMMIT)."""
        sets = ", ".join(f"{name} = {name} + ?" for name in ADDITIVE_TOTALS)
        self._db.executemany(
            f"UPDATE unit_totals SET {sets} WHERE code = ?",
            [(*values, code) for code, values in self._deltas.items() if any(values)],
        )
        self._db.executemany(
            "UPDATE unit_totals SET last_report_at = ? WHERE code = ?",
            [(value, code) for code, value in self._latest.items()],
        )
        self._db.executemany(
            "UPDATE unit_totals SET last_report_at = max(coalesce(last_report_at, 0), ?)"
            " WHERE code = ?",
            [(value, code) for code, value in self._rising.items() if code not in self._recount],
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

    def audit(self, user_id: int, action: str, detail: str) -> None:
        """Record an admin action in the same transaction as the action itself."""
        self._db.execute(
            "INSERT INTO audit_log (at, user_id, action, detail) VALUES (?, ?, ?, ?)",
            (int(time.time()), user_id, action, detail),
        )

    def inbox_store(self, updates: Sequence[tuple[int, str]]) -> None:
        """Keep updates until they are handled, and move the polling offset past them."""
        now = int(time.time())
        self._db.executemany(
            "INSERT OR IGNORE INTO inbox VALUES (?, ?, ?)",
            [(update_id, payload, now) for update_id, payload in updates],
        )
        if updates:
            self._db.execute(
                "INSERT INTO inbox_offset VALUES (1, ?) ON CONFLICT(id) DO UPDATE SET"
                " next_update_id = max(next_update_id, excluded.next_update_id)",
                (max(update_id for update_id, _ in updates) + 1,),
            )

    def inbox_done(self, update_ids: Sequence[int]) -> None:
        self._db.executemany("DELETE FROM inbox WHERE update_id = ?", [(u,) for u in update_ids])

    def record_message(self, key: MessageKey, replies: Sequence[str]) -> None:
        self._db.execute(
            "INSERT OR IGNORE INTO processed_messages VALUES (?, ?, ?, ?, ?)",
            (
                key.chat_id,
                key.message_id,
                key.version,
                json.dumps(list(replies), ensure_ascii=False),
                int(time.time()),
            ),
        )

    def save_person(self, person: Person) -> None:
        self._db.execute(
            "INSERT INTO people (user_id, phone, name, chat_id, registered_at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT(user_id) DO UPDATE SET"
            " phone = excluded.phone, name = excluded.name, chat_id = excluded.chat_id",
            (person.user_id, person.phone, person.name, person.chat_id, int(time.time())),
        )
        self.people_changed = True

    def add_contact(self, unit_code: str, phone: str) -> None:
        self._db.execute(
            "INSERT OR IGNORE INTO unit_contacts VALUES (?, ?, 'assign')", (unit_code, phone)
        )
        self.units_changed = self.people_changed = self._index_stale = True

    def replace_units(self, specs: Sequence[UnitSpec]) -> ImportSummary:
        """Make the unit table equal to `specs` (parents before children), keeping reports.

        Units are matched by code case-insensitively and updated in place. Removing a unit
        that has reports raises UnitsHaveReports and the caller's transaction rolls back.
        """
        index = UnitIndex.from_specs(specs)
        wanted = {unit.code.lower(): unit for unit in index}
        existing: dict[str, str] = {}
        for row in self._all("SELECT code_key, code FROM units"):
            existing[row[0]] = row[1]
        removed = [code for key, code in existing.items() if key not in wanted]
        if removed:
            marks = ",".join("?" * len(removed))
            with_reports = sorted(
                row[0]
                for row in self._all(
                    f"SELECT DISTINCT area_code FROM reports WHERE area_code IN ({marks})", removed
                )
            )
            if with_reports:
                raise UnitsHaveReports(with_reports)
        # Children of removed units may be re-parented, so detach before deleting.
        self._db.execute("PRAGMA defer_foreign_keys = ON")
        self._db.executemany(
            "INSERT INTO units (code, code_key, parent_code, kind, name, depth, is_area,"
            " registered_voters, staff, position) VALUES (?,?,?,?,?,?,?,?,?,?)"
            " ON CONFLICT(code_key) DO UPDATE SET parent_code = excluded.parent_code,"
            " kind = excluded.kind, name = excluded.name, depth = excluded.depth,"
            " is_area = excluded.is_area, registered_voters = excluded.registered_voters,"
            " staff = excluded.staff, position = excluded.position",
            [_unit_row(unit, existing) for unit in index],
        )
        for code in removed:  # foreign keys are checked at commit, so order does not matter
            self._db.execute("DELETE FROM units WHERE code = ?", (code,))
        self._db.execute("DELETE FROM unit_contacts WHERE source = 'import'")
        self._db.executemany(
            "INSERT OR IGNORE INTO unit_contacts VALUES (?, ?, 'import')",
            [
                (existing.get(unit.code.lower(), unit.code), phone)
                for unit in index
                for phone in unit.contact_phones
            ],
        )
        self._db.execute("INSERT OR IGNORE INTO unit_totals (code) SELECT code FROM units")
        self.units_changed = self.people_changed = self._index_stale = True
        self._units = self.unit_index()  # later writes in this transaction walk the new tree
        added = sum(1 for key in wanted if key not in existing)
        return ImportSummary(added=added, updated=len(wanted) - added, removed=len(removed))

    def rebuild_totals(self, area_states: dict[str, Totals]) -> None:
        """Write every area's state and recompute every inner unit's totals from them."""
        rows = self._all("SELECT code, parent_code, is_area FROM units")
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
        self._db.execute("DELETE FROM unit_totals")
        self._db.executemany(
            f"INSERT INTO unit_totals (code, {TOTALS_COLUMNS}) VALUES"
            f" ({','.join('?' * (len(ADDITIVE_TOTALS) + 2))})",
            [(code, *sums[code], latest[code]) for code in sums],
        )

    def subscribe(self, subscription: Subscription) -> None:
        self._db.execute(
            "INSERT INTO subscriptions (chat_id, unit_code, title, subscribed_by, subscribed_at,"
            " finished_notified) VALUES (?, ?, ?, ?, ?, 0) ON CONFLICT(chat_id) DO UPDATE SET"
            " unit_code = excluded.unit_code, title = excluded.title,"
            " subscribed_by = excluded.subscribed_by, subscribed_at = excluded.subscribed_at,"
            " finished_notified = 0",
            (subscription.chat_id, subscription.unit_code, subscription.title,
             subscription.subscribed_by, int(time.time())),
        )  # fmt: skip

    def unsubscribe(self, chat_id: int) -> bool:
        cursor = self._db.execute("DELETE FROM subscriptions WHERE chat_id = ?", (chat_id,))
        return cursor.rowcount > 0

    def claim_finished_notices(self, unit_codes: Sequence[str]) -> list[Subscription]:
        """Subscriptions to these (now finished) units not yet told; marks them told."""
        claimed: list[Subscription] = []
        for code in unit_codes:
            rows = self._all(
                "SELECT * FROM subscriptions WHERE unit_code = ? AND finished_notified = 0",
                (code,),
            )
            claimed.extend(
                replace(subscription_from_row(row), finished_notified=True) for row in rows
            )
            self._db.execute(
                "UPDATE subscriptions SET finished_notified = 1 WHERE unit_code = ?", (code,)
            )
        return claimed

    def set_locked(self, codes: Iterable[str], locked: bool) -> None:
        self._db.executemany(
            "UPDATE units SET locked = ? WHERE code = ?", [(int(locked), c) for c in codes]
        )
        self.units_changed = self.people_changed = self._index_stale = True
