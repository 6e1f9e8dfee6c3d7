"""The results night's chat state (migration 11): records read back and awaiting `đúng`,
the warnings a confirmed record acknowledged, second entries (double entry) and the results
notices each chat was told.

`ResultsIntakeWriter` works inside `Database.write()` (`tx.results_intake`);
`ResultsIntakeReader` reads (`db.results_intake`). Both engines, one SQL dialect.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from typing import Any

from bot.channel import Address
from bot.results.model import Ballot, PendingRecord, SecondEntry
from storage.engine import Row, WriteConnection
from storage.rows import address

__all__ = ["ResultsIntakeReader", "ResultsIntakeWriter"]

_encode = json.JSONEncoder(separators=(",", ":")).encode
_PENDING_COLUMNS = "sender, bot, chat, area_code, ballot, text, created_at"
_ENTRY_COLUMNS = "record_id, area_code, ballot, entered_by, entered_at, text, differing"


def _pending_from_row(row: Row) -> PendingRecord:
    return PendingRecord(
        sender=address(row["sender"]),
        chat=address(row["chat"]),
        area_code=row["area_code"],
        ballot=Ballot(row["ballot"]),
        text=row["text"],
        created_at=int(row["created_at"]),
        bot=row["bot"],
    )


def _entry_from_row(row: Row) -> SecondEntry:
    return SecondEntry(
        record_id=int(row["record_id"]),
        area_code=row["area_code"],
        ballot=Ballot(row["ballot"]),
        entered_by=address(row["entered_by"]),
        entered_at=int(row["entered_at"]),
        text=row["text"],
        differing=tuple(json.loads(row["differing"])),
        id=int(row["id"]),
    )


class ResultsIntakeWriter:
    """Writes of the chat's results state, valid only inside `Database.write()`."""

    def __init__(self, connection: WriteConnection, lock: Callable[[str], None]) -> None:
        self._db = connection
        self._lock = lock

    def _all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return self._db.execute(sql, params).fetchall()

    def _one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        row: Row | None = self._db.execute(sql, params).fetchone()
        return row

    # -- pending records ---------------------------------------------------------------------

    def pending(self, sender: Address) -> PendingRecord | None:
        """The sender's record awaiting `đúng` (locked until the commit where other
        processes write too)."""
        self._lock(f"pending:{sender}")
        row = self._one("SELECT * FROM pending_records WHERE sender = ?", (str(sender),))
        return None if row is None else _pending_from_row(row)

    def put_pending(self, record: PendingRecord) -> PendingRecord | None:
        """Keep `record` as the sender's pending one; returns the one it replaces, if any."""
        old = self.drop_pending(record.sender)
        self._db.execute(
            f"INSERT INTO pending_records ({_PENDING_COLUMNS}) VALUES (?,?,?,?,?,?,?)",
            (
                str(record.sender),
                record.bot,
                str(record.chat),
                record.area_code,
                record.ballot.value,
                record.text,
                record.created_at,
            ),
        )
        return old

    def drop_pending(self, sender: Address) -> PendingRecord | None:
        """Forget the sender's pending record; returns it (None: there was none)."""
        old = self.pending(sender)
        if old is not None:
            self._db.execute("DELETE FROM pending_records WHERE sender = ?", (str(sender),))
        return old

    def take_expired(self, created_before: int) -> list[PendingRecord]:
        """Forget every pending record read back at or before `created_before`; returns them
        (oldest first), for the word to each sender."""
        rows = self._all(
            "SELECT * FROM pending_records WHERE created_at <= ? ORDER BY created_at, sender",
            (created_before,),
        )
        expired = [_pending_from_row(row) for row in rows]
        for record in expired:
            self._lock(f"pending:{record.sender}")
        self._db.executemany(
            "DELETE FROM pending_records WHERE sender = ? AND created_at <= ?",
            [(str(record.sender), created_before) for record in expired],
        )
        return expired

    # -- what a confirmed record carries -----------------------------------------------------

    def keep_warnings(self, record_id: int, reasons: Sequence[str]) -> None:
        """The warnings the sender acknowledged by confirming record `record_id`."""
        if reasons:
            self._db.execute(
                "INSERT INTO record_warnings (record_id, reasons) VALUES (?, ?)",
                (record_id, _encode(list(reasons))),
            )

    def add_second_entry(self, entry: SecondEntry) -> SecondEntry:
        row = self._one(
            f"INSERT INTO second_entries ({_ENTRY_COLUMNS}) VALUES (?,?,?,?,?,?,?) RETURNING id",
            (
                entry.record_id,
                entry.area_code,
                entry.ballot.value,
                str(entry.entered_by),
                entry.entered_at,
                entry.text,
                _encode(list(entry.differing)),
            ),
        )
        assert row is not None
        return replace(entry, id=int(row[0]))

    def second_entries(self, record_id: int) -> list[SecondEntry]:
        rows = self._all(
            "SELECT * FROM second_entries WHERE record_id = ? ORDER BY id", (record_id,)
        )
        return [_entry_from_row(row) for row in rows]

    # -- notices -----------------------------------------------------------------------------

    def claim_notice(self, bot: str, chat: Address, subject: str, at: int) -> bool:
        """Whether the chat is to be told about `subject` now: True the first time only."""
        self._lock(f"results-notice:{bot}:{chat}:{subject}")
        row = self._one(
            "SELECT 1 FROM results_notices WHERE bot = ? AND chat = ? AND subject = ?",
            (bot, str(chat), subject),
        )
        if row is not None:
            return False
        self._db.execute(
            "INSERT INTO results_notices (bot, chat, subject, sent_at) VALUES (?,?,?,?)",
            (bot, str(chat), subject, at),
        )
        return True


Reader = Callable[[str, Sequence[Any]], Awaitable[list[Row]]]


class ResultsIntakeReader:
    """Reads of the chat's results state (`db.results_intake`)."""

    def __init__(self, read: Reader) -> None:
        self._read = read

    async def ballots(self) -> list[Ballot]:
        """The ballots of this election: those with electoral units imported, in order."""
        rows = await self._read("SELECT DISTINCT ballot FROM electoral_units", ())
        found = {Ballot(row[0]) for row in rows}
        return [ballot for ballot in Ballot if ballot in found]

    async def counting_started(self) -> bool:
        """Whether any counting record was read back or stored."""
        rows = await self._read(
            "SELECT 1 FROM pending_records UNION ALL SELECT 1 FROM result_records LIMIT 1", ()
        )
        return bool(rows)

    async def has_pending(self, sender: Address) -> bool:
        rows = await self._read("SELECT 1 FROM pending_records WHERE sender = ?", (str(sender),))
        return bool(rows)

    async def pending(self, sender: Address) -> PendingRecord | None:
        rows = await self._read("SELECT * FROM pending_records WHERE sender = ?", (str(sender),))
        return _pending_from_row(rows[0]) if rows else None

    async def warnings_of(self, record_ids: Sequence[int]) -> dict[int, tuple[str, ...]]:
        """The warnings each of these records acknowledged (records without any left out)."""
        found: dict[int, tuple[str, ...]] = {}
        for start in range(0, len(record_ids), 900):
            chunk = list(record_ids[start : start + 900])
            if not chunk:
                continue
            rows = await self._read(
                "SELECT record_id, reasons FROM record_warnings"
                f" WHERE record_id IN ({','.join('?' * len(chunk))})",
                chunk,
            )
            found.update((int(row[0]), tuple(json.loads(row[1]))) for row in rows)
        return found

    async def second_entries_of_area(
        self, area_code: str, ballot: Ballot | None = None
    ) -> list[SecondEntry]:
        """An area's second entries (of one ballot), oldest first."""
        where, params = "area_code = ?", [area_code]
        if ballot is not None:
            where += " AND ballot = ?"
            params.append(ballot.value)
        rows = await self._read(f"SELECT * FROM second_entries WHERE {where} ORDER BY id", params)
        return [_entry_from_row(row) for row in rows]

    async def conflicts(self, record_ids: Sequence[int]) -> set[int]:
        """Of these records, those whose latest second entry differs (a conflict)."""
        conflicted: set[int] = set()
        for start in range(0, len(record_ids), 900):
            chunk = list(record_ids[start : start + 900])
            if not chunk:
                continue
            rows = await self._read(
                "SELECT record_id, differing FROM second_entries"
                f" WHERE record_id IN ({','.join('?' * len(chunk))}) ORDER BY id",
                chunk,
            )
            latest = {int(row[0]): row[1] for row in rows}
            conflicted |= {rid for rid, differing in latest.items() if differing != "[]"}
        return conflicted
