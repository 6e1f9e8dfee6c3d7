"""The results night's tables (RESULTS.md): electoral units, candidates, the areas each
counts, confirmed counting records with their history, record photos, and the running totals
of every electoral unit and candidate, kept in step with the records in the same transaction.

`ResultsWriter` works inside `Database.write()` (`tx.results`), `ResultsReader` reads
(`db.results`). Both engines, one SQL dialect, like the rest of `storage/`. Votes and sorted
counts are stored as JSON lists (read only with their record); the running totals are
increments (`x = x + ?`), never read-modify-write, so processes sharing a database add up.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from bot.results.model import (
    AreaBallot,
    Ballot,
    Candidate,
    ElectoralUnit,
    RecordPhoto,
    ResultRecord,
    UnitStanding,
    UnitTotals,
)
from storage.engine import Row, WriteConnection
from storage.rows import address
from storage.tree import UnitIndex

__all__ = [
    "RECORD_FIELDS",
    "RecordNotMapped",
    "ResultsHaveRecords",
    "ResultsReader",
    "ResultsState",
    "ResultsWriter",
]

# The counted fields of a record, in the order of the totals' columns.
RECORD_FIELDS = ("voted", "issued", "returned", "valid", "invalid")
_TOTALS_SUMS = ("registered_voters", "reported_voters", *RECORD_FIELDS)
_TOTALS_COLUMNS = ", ".join(
    ("areas_mapped", "areas_reported", "areas_checked", *_TOTALS_SUMS, "last_record_at")
)
_RECORD_COLUMNS = (
    "area_code, ballot, electoral_unit, registered_voters, list_stated, voted, issued,"
    " returned, valid, invalid, votes, loai, checked, entered_by, entered_at, chat, bot, text,"
    " replaces"
)
_PHOTO_COLUMNS = "area_code, ballot, sha256, sent_by, sent_at, file_ref, chat, bot, record_id"
_encode = json.JSONEncoder(separators=(",", ":")).encode
# Past this many organizing units, the electoral units are all read and matched in Python:
# fewer rows than a country's 3,356 organizers in chunked IN lists.
_MANY_ORGANIZERS = 900


class ResultsHaveRecords(Exception):
    """An import would change what entered records rest on: remove an electoral unit or a
    candidate, change a unit's candidate count, or move or unmap an area that has a record.
    `what` names each (an electoral unit's code, or `area/ballot`)."""

    def __init__(self, what: Sequence[str]) -> None:
        super().__init__(", ".join(what))
        self.what = list(what)


class RecordNotMapped(Exception):
    """A record of an area for a ballot it is not mapped to (or for another electoral unit):
    the rules refuse these before they reach the store."""


@dataclass(frozen=True, slots=True)
class ResultsState:
    """Everything imported, and which parts of it records rest on: what an import of the
    ballot files is checked against."""

    electoral_units: tuple[ElectoralUnit, ...] = ()
    candidates: tuple[Candidate, ...] = ()
    area_ballots: tuple[AreaBallot, ...] = ()
    # (area_code, ballot) of every area with a current record, and the electoral units
    # that have one
    recorded_areas: frozenset[tuple[str, Ballot]] = frozenset()
    recorded_units: frozenset[str] = frozenset()


# -- rows ------------------------------------------------------------------------------------


def _unit_from_row(row: Row) -> ElectoralUnit:
    return ElectoralUnit(
        ballot=Ballot(row["ballot"]),
        code=row["code"],
        name=row["name"],
        seats=int(row["seats"]),
        organizing_unit=row["organizing_unit"],
        round=int(row["round"]),
        position=int(row["position"]),
        locked=bool(row["locked"]),
    )


def _candidate_from_row(row: Row, ballot: str) -> Candidate:
    return Candidate(
        ballot=Ballot(ballot),
        electoral_unit=row["electoral_unit"],
        number=int(row["number"]),
        name=row["name"],
        birth_date=dt.date.fromisoformat(row["birth_date"]),
    )


def _mapping_from_row(row: Row) -> AreaBallot:
    voters = row["registered_voters"]
    return AreaBallot(
        area_code=row["area_code"],
        ballot=Ballot(row["ballot"]),
        electoral_unit=row["electoral_unit"],
        registered_voters=None if voters is None else int(voters),
    )


def _record_from_row(row: Row) -> ResultRecord:
    loai = row["loai"]
    chat = row["chat"]
    return ResultRecord(
        id=int(row["id"]),
        area_code=row["area_code"],
        ballot=Ballot(row["ballot"]),
        electoral_unit=row["electoral_unit"],
        registered_voters=int(row["registered_voters"]),
        list_stated=bool(row["list_stated"]),
        voted=int(row["voted"]),
        issued=int(row["issued"]),
        returned=int(row["returned"]),
        valid=int(row["valid"]),
        invalid=int(row["invalid"]),
        votes=tuple(json.loads(row["votes"])),
        loai=None if loai is None else tuple(json.loads(loai)),
        checked=bool(row["checked"]),
        entered_by=address(row["entered_by"]),
        entered_at=int(row["entered_at"]),
        chat=None if chat is None else address(chat),
        bot=row["bot"],
        text=row["text"],
        replaces=row["replaces"],
        replaced_by=row["replaced_by"],
    )


def _photo_from_row(row: Row) -> RecordPhoto:
    chat = row["chat"]
    return RecordPhoto(
        id=int(row["id"]),
        area_code=row["area_code"],
        ballot=Ballot(row["ballot"]),
        sha256=row["sha256"],
        sent_by=address(row["sent_by"]),
        sent_at=int(row["sent_at"]),
        file_ref=row["file_ref"],
        chat=None if chat is None else address(chat),
        bot=row["bot"],
        record_id=row["record_id"],
    )


def _totals(code: str, ballot: Ballot, row: Row | None, votes: Sequence[int]) -> UnitTotals:
    if row is None:
        return UnitTotals(ballot=ballot, electoral_unit=code, votes=tuple(votes))
    return UnitTotals(
        ballot=ballot,
        electoral_unit=code,
        areas_mapped=int(row["areas_mapped"]),
        areas_reported=int(row["areas_reported"]),
        areas_checked=int(row["areas_checked"]),
        registered_voters=int(row["registered_voters"]),
        reported_voters=int(row["reported_voters"]),
        voted=int(row["voted"]),
        issued=int(row["issued"]),
        returned=int(row["returned"]),
        valid=int(row["valid"]),
        invalid=int(row["invalid"]),
        votes=tuple(votes),
        last_record_at=row["last_record_at"],
    )


_BALLOTS = {ballot.value: ballot for ballot in Ballot}


def _standing_from_row(row: Row) -> UnitStanding:
    """A row of `standings_organized_in`'s query, by position (tens of thousands a read)."""
    return UnitStanding(
        _BALLOTS[row[1]], row[0], row[2], int(row[3]), int(row[4]), int(row[6]), int(row[7]),
        int(row[8]), int(row[9]), int(row[10]), int(row[11]),
    )  # fmt: skip


def _record_params(record: ResultRecord) -> tuple[Any, ...]:
    return (
        record.area_code, record.ballot.value, record.electoral_unit, record.registered_voters,
        int(record.list_stated), record.voted, record.issued, record.returned, record.valid,
        record.invalid, _encode(list(record.votes)),
        None if record.loai is None else _encode(list(record.loai)), int(record.checked),
        str(record.entered_by), record.entered_at,
        None if record.chat is None else str(record.chat), record.bot, record.text,
        record.replaces,
    )  # fmt: skip


# -- writes ----------------------------------------------------------------------------------


class ResultsWriter:
    """The results tables' write API, valid only inside `Database.write()` (`tx.results`).

    `lock(key)` holds a named lock until the commit where other processes write too
    (`shared`). `changed(codes)` tells the transaction which administrative units' views a
    write changed (None: all of them), so that live dashboards hear of it."""

    def __init__(
        self,
        connection: WriteConnection,
        lock: Callable[[str], None],
        shared: bool,
        changed: Callable[[Iterable[str] | None], None] | None = None,
    ) -> None:
        self._db = connection
        self._lock = lock
        self._shared = shared
        self._changed = changed or (lambda codes: None)

    def _record_changed(self, area_code: str, electoral_unit: str) -> None:
        """The area's and the electoral unit's organizing unit's views changed."""
        row = self._one(
            "SELECT organizing_unit FROM electoral_units WHERE code = ?", (electoral_unit,)
        )
        self._changed([area_code] if row is None else [area_code, str(row[0])])

    def _all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return self._db.execute(sql, params).fetchall()

    def _one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        row: Row | None = self._db.execute(sql, params).fetchone()
        return row

    # -- the setup: electoral units, candidates, areas ---------------------------------------

    def state(self) -> ResultsState:
        """Everything imported, with what records rest on (for an import's checks)."""
        self._lock("results:setup")
        units = tuple(
            map(_unit_from_row, self._all("SELECT * FROM electoral_units ORDER BY position"))
        )
        ballot_of = {unit.code: unit.ballot.value for unit in units}
        candidates = tuple(
            _candidate_from_row(row, ballot_of[row["electoral_unit"]])
            for row in self._all("SELECT * FROM candidates ORDER BY electoral_unit, number")
        )
        mappings = tuple(
            map(
                _mapping_from_row,
                self._all("SELECT * FROM area_ballots ORDER BY ballot, area_code"),
            )
        )
        recorded = self._all(
            "SELECT area_code, ballot, electoral_unit FROM result_records WHERE replaced_by IS NULL"
        )
        return ResultsState(
            electoral_units=units,
            candidates=candidates,
            area_ballots=mappings,
            recorded_areas=frozenset((row[0], Ballot(row[1])) for row in recorded),
            recorded_units=frozenset(
                row[0] for row in self._all("SELECT DISTINCT electoral_unit FROM result_records")
            ),
        )

    def replace_setup(
        self,
        electoral_units: Mapping[Ballot, Sequence[ElectoralUnit]],
        candidates: Mapping[Ballot, Sequence[Candidate]],
        area_ballots: Mapping[Ballot, Sequence[AreaBallot]],
    ) -> None:
        """Make the setup of each ballot named in a mapping equal to its list, in place
        (electoral units by code, case-insensitively; candidates by unit and number; areas by
        area and ballot); other ballots keep theirs. Then recount every running total.

        Refuses (ResultsHaveRecords, the caller's transaction rolls back) to remove an
        electoral unit that has records, to change the candidates' count of a unit that has
        records, or to move or unmap an area that has a record. Removing an electoral unit
        removes its candidates and areas. Positions follow each list's order."""
        self._lock("results:setup")
        self._changed(None)
        refused: list[str] = []
        stored = {
            row[0]: (row[1], Ballot(row[2]))
            for row in self._all("SELECT code_key, code, ballot FROM electoral_units")
        }
        recorded_units = {
            row[0] for row in self._all("SELECT DISTINCT electoral_unit FROM result_records")
        }
        for ballot, units in electoral_units.items():
            wanted = {unit.code.lower() for unit in units}
            for key, (code, of) in stored.items():
                if of is ballot and key not in wanted and code in recorded_units:
                    refused.append(code)
        counts = {
            row[0]: int(row[1])
            for row in self._all(
                "SELECT electoral_unit, count(*) FROM candidates GROUP BY electoral_unit"
            )
        }
        for ballot_candidates in candidates.values():
            new_counts: dict[str, int] = {}
            for candidate in ballot_candidates:
                code = self._stored_code(stored, candidate.electoral_unit)
                new_counts[code] = new_counts.get(code, 0) + 1
            for code, count in new_counts.items():
                if code in recorded_units and counts.get(code, 0) != count:
                    refused.append(code)
        current = {
            (row[0], row[1]): row[2]
            for row in self._all(
                "SELECT r.area_code, r.ballot, r.electoral_unit FROM result_records r"
                " WHERE r.replaced_by IS NULL"
            )
        }
        for ballot, mappings in area_ballots.items():
            new_units = {m.area_code: self._stored_code(stored, m.electoral_unit) for m in mappings}
            for (area, of), unit_code in current.items():
                if of == ballot.value and new_units.get(area) != unit_code:
                    refused.append(f"{area}/{ballot.value}")
        if refused:
            raise ResultsHaveRecords(sorted(set(refused)))

        for ballot, units in electoral_units.items():
            wanted = {unit.code.lower() for unit in units}
            for key, (code, of) in stored.items():
                if of is ballot and key not in wanted:
                    self._db.execute("DELETE FROM area_ballots WHERE electoral_unit = ?", (code,))
                    self._db.execute("DELETE FROM candidates WHERE electoral_unit = ?", (code,))
                    self._db.execute("DELETE FROM electoral_units WHERE code = ?", (code,))
            self._db.executemany(
                "INSERT INTO electoral_units (code, code_key, ballot, name, seats,"
                " organizing_unit, round, position) VALUES (?,?,?,?,?,?,?,?)"
                " ON CONFLICT(code_key) DO UPDATE SET ballot = excluded.ballot,"
                " name = excluded.name, seats = excluded.seats,"
                " organizing_unit = excluded.organizing_unit, round = excluded.round,"
                " position = excluded.position",
                [
                    (
                        stored.get(unit.code.lower(), (unit.code,))[0],
                        unit.code.lower(),
                        ballot.value,
                        unit.name,
                        unit.seats,
                        unit.organizing_unit,
                        unit.round,
                        _position(ballot, index),
                    )
                    for index, unit in enumerate(units)
                ],
            )
        stored = {
            row[0]: (row[1], Ballot(row[2]))
            for row in self._all("SELECT code_key, code, ballot FROM electoral_units")
        }
        for ballot, ballot_candidates in candidates.items():
            codes = [code for code, of in stored.values() if of is ballot]
            keep: dict[str, int] = {}
            rows = []
            for candidate in ballot_candidates:
                code = self._stored_code(stored, candidate.electoral_unit)
                keep[code] = max(keep.get(code, 0), candidate.number)
                rows.append(
                    (code, candidate.number, candidate.name, candidate.birth_date.isoformat())
                )
            self._db.executemany(
                "DELETE FROM candidates WHERE electoral_unit = ? AND number > ?",
                [(code, keep.get(code, 0)) for code in codes],
            )
            self._db.executemany(
                "INSERT INTO candidates (electoral_unit, number, name, birth_date)"
                " VALUES (?,?,?,?) ON CONFLICT(electoral_unit, number) DO UPDATE SET"
                " name = excluded.name, birth_date = excluded.birth_date",
                rows,
            )
        for ballot, mappings in area_ballots.items():
            self._db.execute("DELETE FROM area_ballots WHERE ballot = ?", (ballot.value,))
            self._db.executemany(
                "INSERT INTO area_ballots (area_code, ballot, electoral_unit, registered_voters)"
                " VALUES (?,?,?,?)",
                [
                    (
                        m.area_code,
                        ballot.value,
                        self._stored_code(stored, m.electoral_unit),
                        m.registered_voters,
                    )
                    for m in mappings
                ],
            )
        self.rebuild_totals()

    @staticmethod
    def _stored_code(stored: Mapping[str, tuple[str, Ballot]], code: str) -> str:
        found = stored.get(code.lower())
        return code if found is None else found[0]

    def forget_areas(self, area_codes: Iterable[str]) -> None:
        """Unmap areas that are no longer areas (a units re-import removed them or gave them
        children), except for a ballot they have a record of; the caller recounts the
        totals."""
        self._db.executemany(
            "DELETE FROM area_ballots WHERE area_code = ? AND NOT EXISTS (SELECT 1 FROM"
            " result_records r WHERE r.area_code = area_ballots.area_code"
            " AND r.ballot = area_ballots.ballot)",
            [(code,) for code in area_codes],
        )

    def rebuild_totals(self) -> None:
        """Recount every electoral unit's and candidate's totals from the areas mapped and
        the current records (after an import: of the ballot files, or of the units, whose
        list sizes are the default of each ballot's list)."""
        self._changed(None)
        sums: dict[str, list[int]] = {}
        latest: dict[str, int] = {}
        votes: dict[tuple[str, int], int] = {}
        for row in self._all("SELECT code FROM electoral_units"):
            sums[row[0]] = [0] * (3 + len(_TOTALS_SUMS))
        for row in self._all("SELECT electoral_unit, number FROM candidates"):
            votes[(row[0], int(row[1]))] = 0
        records = {
            (row["area_code"], row["ballot"]): row
            for row in self._all(
                "SELECT area_code, ballot, electoral_unit, registered_voters, checked, votes,"
                f" entered_at, {', '.join(RECORD_FIELDS)} FROM result_records"
                " WHERE replaced_by IS NULL"
            )
        }
        for row in self._all(
            "SELECT m.area_code, m.ballot, m.electoral_unit,"
            " COALESCE(m.registered_voters, u.registered_voters, 0)"
            " FROM area_ballots m LEFT JOIN units u ON u.code = m.area_code"
        ):
            unit = sums[row[2]]
            unit[0] += 1
            record = records.get((row[0], row[1]))
            if record is None or record["electoral_unit"] != row[2]:
                unit[3] += int(row[3])
                continue
            unit[1] += 1
            unit[2] += int(record["checked"])
            unit[3] += int(record["registered_voters"])
            unit[4] += int(record["registered_voters"])
            for offset, name in enumerate(RECORD_FIELDS, 5):
                unit[offset] += int(record[name])
            for number, count in enumerate(json.loads(record["votes"]), 1):
                key = (row[2], number)
                if key in votes:
                    votes[key] += int(count)
            latest[row[2]] = max(latest.get(row[2], 0), int(record["entered_at"]))
        self._db.execute("DELETE FROM candidate_totals")
        self._db.execute("DELETE FROM electoral_unit_totals")
        self._db.executemany(
            f"INSERT INTO electoral_unit_totals (code, {_TOTALS_COLUMNS})"
            f" VALUES ({','.join('?' * (5 + len(_TOTALS_SUMS)))})",
            [(code, *values, latest.get(code)) for code, values in sorted(sums.items())],
        )
        self._db.executemany(
            "INSERT INTO candidate_totals (electoral_unit, number, votes) VALUES (?,?,?)",
            [(code, number, count) for (code, number), count in sorted(votes.items())],
        )

    def set_locked(self, codes: Iterable[str], locked: bool) -> None:
        """End (or resume) entry of records for these electoral units."""
        self._db.executemany(
            "UPDATE electoral_units SET locked = ? WHERE code = ?",
            [(int(locked), code) for code in codes],
        )

    # -- records -----------------------------------------------------------------------------

    def electoral_unit(self, code: str) -> ElectoralUnit | None:
        row = self._one("SELECT * FROM electoral_units WHERE code_key = ?", (code.lower(),))
        return None if row is None else _unit_from_row(row)

    def mapping(self, area_code: str, ballot: Ballot) -> AreaBallot | None:
        """The electoral unit the area counts `ballot` for, with this ballot's imported list
        (the area's own when the import left it empty)."""
        row = self._one(
            "SELECT m.area_code, m.ballot, m.electoral_unit,"
            " COALESCE(m.registered_voters, u.registered_voters) AS registered_voters"
            " FROM area_ballots m LEFT JOIN units u ON u.code = m.area_code"
            " WHERE m.area_code = ? AND m.ballot = ?",
            (area_code, ballot.value),
        )
        return None if row is None else _mapping_from_row(row)

    def current_record(self, area_code: str, ballot: Ballot) -> ResultRecord | None:
        """The area's record of `ballot` not replaced by a correction. Locks the area's
        ballot until the commit where other processes write too: whoever judges a record
        against it sees every record stored before."""
        self._lock(f"result:{area_code}:{ballot.value}")
        row = self._one(
            "SELECT * FROM result_records WHERE area_code = ? AND ballot = ?"
            " AND replaced_by IS NULL",
            (area_code, ballot.value),
        )
        return None if row is None else _record_from_row(row)

    def add_record(self, record: ResultRecord) -> ResultRecord:
        """Store a confirmed record; the area's current record of the ballot, if any, is
        replaced by it (it stays, with `replaced_by`); the running totals of its electoral unit
        and candidates change by the difference, and photos waiting for it join it. Returns
        the record as stored (its `id`, `replaces`)."""
        mapping = self.mapping(record.area_code, record.ballot)
        if mapping is None or mapping.electoral_unit != record.electoral_unit:
            raise RecordNotMapped(f"{record.area_code}/{record.ballot.value}")
        old = self.current_record(record.area_code, record.ballot)
        record = replace(record, replaces=None if old is None else old.id, replaced_by=None)
        if old is not None:  # not current any more, for the unique index: itself until the new id
            self._db.execute("UPDATE result_records SET replaced_by = id WHERE id = ?", (old.id,))
        row = self._one(
            f"INSERT INTO result_records ({_RECORD_COLUMNS})"
            f" VALUES ({','.join('?' * 19)}) RETURNING id",
            _record_params(record),
        )
        assert row is not None
        stored = replace(record, id=int(row[0]))
        if old is not None:
            self._db.execute(
                "UPDATE result_records SET replaced_by = ? WHERE id = ?", (stored.id, old.id)
            )
        before_list = old.registered_voters if old else mapping.registered_voters or 0
        changes = (
            0 if old else 1,
            int(stored.checked) - int(old.checked if old else 0),
            stored.registered_voters - before_list,
            stored.registered_voters - (old.registered_voters if old else 0),
            *(getattr(stored, name) - (getattr(old, name) if old else 0) for name in RECORD_FIELDS),
        )
        self._db.execute(
            "UPDATE electoral_unit_totals SET areas_reported = areas_reported + ?,"
            " areas_checked = areas_checked + ?,"
            + ", ".join(f"{name} = {name} + ?" for name in _TOTALS_SUMS)
            + ", last_record_at = CASE WHEN last_record_at IS NULL OR last_record_at < ?"
            " THEN ? ELSE last_record_at END WHERE code = ?",
            (*changes, stored.entered_at, stored.entered_at, stored.electoral_unit),
        )
        before = old.votes if old else ()
        self._db.executemany(
            "UPDATE candidate_totals SET votes = votes + ? WHERE electoral_unit = ? AND number = ?",
            [
                (count - (before[i] if i < len(before) else 0), stored.electoral_unit, i + 1)
                for i, count in enumerate(stored.votes)
                if count != (before[i] if i < len(before) else 0)
            ],
        )
        self._db.execute(
            "UPDATE record_photos SET record_id = ? WHERE area_code = ? AND ballot = ?"
            " AND record_id IS NULL",
            (stored.id, stored.area_code, stored.ballot.value),
        )
        self._record_changed(stored.area_code, stored.electoral_unit)
        return stored

    def mark_checked(self, record_id: int) -> bool:
        """A current record now counts as checked (its second entry matched); whether it
        changed anything."""
        row = self._one(
            "SELECT electoral_unit, checked, area_code FROM result_records"
            " WHERE id = ? AND replaced_by IS NULL",
            (record_id,),
        )
        if row is None or row[1]:
            return False
        self._db.execute("UPDATE result_records SET checked = 1 WHERE id = ?", (record_id,))
        self._db.execute(
            "UPDATE electoral_unit_totals SET areas_checked = areas_checked + 1 WHERE code = ?",
            (row[0],),
        )
        self._record_changed(str(row[2]), str(row[0]))
        return True

    def add_photo(self, photo: RecordPhoto) -> RecordPhoto:
        """Keep a photo of a signed record, with the area's current record of its ballot
        if there is one (else it waits for it). Returns it as stored."""
        current = self.current_record(photo.area_code, photo.ballot)
        photo = replace(photo, record_id=None if current is None else current.id)
        row = self._one(
            f"INSERT INTO record_photos ({_PHOTO_COLUMNS}) VALUES ({','.join('?' * 9)})"
            " RETURNING id",
            (
                photo.area_code,
                photo.ballot.value,
                photo.sha256,
                str(photo.sent_by),
                photo.sent_at,
                photo.file_ref,
                None if photo.chat is None else str(photo.chat),
                photo.bot,
                photo.record_id,
            ),
        )
        assert row is not None
        return replace(photo, id=int(row[0]))

    def totals(self, code: str, *, settled: bool = False) -> UnitTotals | None:
        """An electoral unit's running totals as this transaction sees them (None: no such
        unit). `settled`: where other processes write too, wait for their changes to this
        unit and hold them off until the commit (to tell "this record completed the unit")."""
        unit = self.electoral_unit(code)
        if unit is None:
            return None
        lock = " FOR UPDATE" if settled and self._shared else ""
        row = self._one(
            f"SELECT {_TOTALS_COLUMNS} FROM electoral_unit_totals WHERE code = ?{lock}",
            (unit.code,),
        )
        votes = [
            int(r[0])
            for r in self._all(
                "SELECT votes FROM candidate_totals WHERE electoral_unit = ? ORDER BY number",
                (unit.code,),
            )
        ]
        return _totals(unit.code, unit.ballot, row, votes)


def _position(ballot: Ballot, index: int) -> int:
    """Listing order: by ballot, then the file's order."""
    return list(Ballot).index(ballot) * 1_000_000 + index


# -- reads -----------------------------------------------------------------------------------

Reader = Callable[[str, Sequence[Any]], Awaitable[list[Row]]]


class ResultsReader:
    """The results tables' reads (`db.results`); `units()` gives the unit tree as the
    database holds it now."""

    def __init__(self, read: Reader, units: Callable[[], UnitIndex]) -> None:
        self._read = read
        self._units = units

    async def _rows_in(self, sql: str, values: Sequence[Any], *params: Any) -> list[Row]:
        """`sql` with one `{marks}` list, for all values, in chunks under SQLite's limit on
        bound variables; `params` are bound after each chunk."""
        rows: list[Row] = []
        for start in range(0, len(values), 900):
            chunk = list(values[start : start + 900])
            marks = ",".join("?" * len(chunk))
            rows.extend(await self._read(sql.format(marks=marks), [*chunk, *params]))
        return rows

    async def electoral_units(self, ballot: Ballot | None = None) -> list[ElectoralUnit]:
        """Every electoral unit (of one ballot), by ballot then import order."""
        if ballot is None:
            rows = await self._read("SELECT * FROM electoral_units ORDER BY position", ())
        else:
            rows = await self._read(
                "SELECT * FROM electoral_units WHERE ballot = ? ORDER BY position",
                (ballot.value,),
            )
        return [_unit_from_row(row) for row in rows]

    async def electoral_unit(self, code: str) -> ElectoralUnit | None:
        """The electoral unit of `code`, case-insensitively."""
        rows = await self._read(
            "SELECT * FROM electoral_units WHERE code_key = ?", (code.strip().lower(),)
        )
        return _unit_from_row(rows[0]) if rows else None

    async def electoral_units_organized_in(
        self, unit_codes: Sequence[str], ballot: Ballot | None = None
    ) -> list[ElectoralUnit]:
        """The electoral units whose organizing unit is one of `unit_codes` (an administrative
        subtree: `db.units.subtree(code)`'s codes), by ballot then import order."""
        where = "" if ballot is None else " AND ballot = ?"
        extra = () if ballot is None else (ballot.value,)
        rows = await self._rows_in(
            f"SELECT * FROM electoral_units WHERE organizing_unit IN ({{marks}}){where}",
            unit_codes,
            *extra,
        )
        return sorted(map(_unit_from_row, rows), key=lambda unit: unit.position)

    async def electoral_units_within(
        self, unit_code: str, ballot: Ballot | None = None
    ) -> list[ElectoralUnit]:
        """The electoral units an administrative unit's commands take: those whose organizing
        unit is the unit or lies below it (RESULTS.md), by ballot then import order."""
        codes = [unit.code for unit in self._units().subtree(unit_code)]
        return await self.electoral_units_organized_in(codes, ballot) if codes else []

    async def candidates(self, code: str) -> list[Candidate]:
        """An electoral unit's candidates in ballot order."""
        unit = await self.electoral_unit(code)
        if unit is None:
            return []
        rows = await self._read(
            "SELECT * FROM candidates WHERE electoral_unit = ? ORDER BY number", (unit.code,)
        )
        return [_candidate_from_row(row, unit.ballot.value) for row in rows]

    async def area_ballots(self, area_code: str) -> list[AreaBallot]:
        """The electoral units an area counts for, one per ballot, ballot order; the list as
        imported (None: the area's own)."""
        rows = await self._read("SELECT * FROM area_ballots WHERE area_code = ?", (area_code,))
        order = list(Ballot)
        return sorted(map(_mapping_from_row, rows), key=lambda m: order.index(m.ballot))

    async def areas_of(self, code: str) -> list[AreaBallot]:
        """The areas an electoral unit counts, by area code."""
        rows = await self._read(
            "SELECT * FROM area_ballots WHERE electoral_unit = ? ORDER BY area_code", (code,)
        )
        return [_mapping_from_row(row) for row in rows]

    async def records_of_area(
        self, area_code: str, ballot: Ballot | None = None, *, include_replaced: bool = False
    ) -> list[ResultRecord]:
        """An area's records (of one ballot), oldest first; replaced ones only if asked."""
        where = "" if include_replaced else " AND replaced_by IS NULL"
        params: tuple[str, ...] = (area_code,)
        if ballot is not None:
            where += " AND ballot = ?"
            params = (area_code, ballot.value)
        rows = await self._read(
            f"SELECT * FROM result_records WHERE area_code = ?{where} ORDER BY id", params
        )
        return [_record_from_row(row) for row in rows]

    async def records_of_unit(
        self, code: str, *, include_replaced: bool = False
    ) -> list[ResultRecord]:
        """An electoral unit's records, by area then age."""
        where = "" if include_replaced else " AND replaced_by IS NULL"
        rows = await self._read(
            f"SELECT * FROM result_records WHERE electoral_unit = ?{where} ORDER BY area_code, id",
            (code,),
        )
        return [_record_from_row(row) for row in rows]

    async def photos(self, area_code: str, ballot: Ballot | None = None) -> list[RecordPhoto]:
        """An area's record photos (of one ballot), oldest first."""
        if ballot is None:
            rows = await self._read(
                "SELECT * FROM record_photos WHERE area_code = ? ORDER BY id", (area_code,)
            )
        else:
            rows = await self._read(
                "SELECT * FROM record_photos WHERE area_code = ? AND ballot = ? ORDER BY id",
                (area_code, ballot.value),
            )
        return [_photo_from_row(row) for row in rows]

    async def totals(self, code: str) -> UnitTotals | None:
        """An electoral unit's running totals (None: no such unit)."""
        found = await self.totals_of([code])
        return next(iter(found.values()), None)

    async def totals_of(self, codes: Sequence[str]) -> dict[str, UnitTotals]:
        """The running totals of many electoral units in three reads, keyed by each unit's
        stored code, in the order given; unknown codes are left out."""
        units = await self._rows_in(
            "SELECT e.code, e.ballot, t.* FROM electoral_units e"
            " LEFT JOIN electoral_unit_totals t ON t.code = e.code"
            " WHERE e.code_key IN ({marks})",
            [code.strip().lower() for code in codes],
        )
        found = [str(row[0]) for row in units]
        votes: dict[str, list[int]] = {code: [] for code in found}
        for row in await self._rows_in(
            "SELECT electoral_unit, votes FROM candidate_totals WHERE electoral_unit IN ({marks})"
            " ORDER BY electoral_unit, number",
            found,
        ):
            votes[row[0]].append(int(row[1]))
        by_key = {
            str(row[0]).lower(): _totals(
                row[0],
                Ballot(row[1]),
                row if row["areas_mapped"] is not None else None,
                votes[row[0]],
            )
            for row in units
        }
        ordered = (by_key.get(code.strip().lower()) for code in codes)
        return {totals.electoral_unit: totals for totals in ordered if totals is not None}

    async def areas_without_record(self, codes: Sequence[str]) -> dict[str, list[str]]:
        """For each of these electoral units, the areas it counts that have no current
        record yet (by area code); every unit given is a key."""
        missing: dict[str, list[str]] = {code: [] for code in codes}
        for row in await self._rows_in(
            "SELECT m.electoral_unit, m.area_code FROM area_ballots m"
            " WHERE m.electoral_unit IN ({marks}) AND NOT EXISTS (SELECT 1 FROM result_records r"
            " WHERE r.area_code = m.area_code AND r.ballot = m.ballot"
            " AND r.replaced_by IS NULL) ORDER BY m.area_code",
            codes,
        ):
            missing.setdefault(row[0], []).append(row[1])
        return missing

    # -- results night's views (/ketqua, /chuakq, /xuat kq) ----------------------------------

    async def candidates_of(self, codes: Sequence[str]) -> dict[str, list[Candidate]]:
        """The candidates of many electoral units in one read (chunked), each unit's in
        ballot order, keyed by the units' stored codes; every known unit given is a key."""
        found: dict[str, list[Candidate]] = {}
        for row in await self._rows_in(
            "SELECT c.electoral_unit, c.number, c.name, c.birth_date, e.ballot"
            " FROM electoral_units e JOIN candidates c ON c.electoral_unit = e.code"
            " WHERE e.code IN ({marks}) ORDER BY c.electoral_unit, c.number",
            list(codes),
        ):
            found.setdefault(row["electoral_unit"], []).append(
                _candidate_from_row(row, row["ballot"])
            )
        return {code: found.get(code, []) for code in codes}

    async def mappings_of_areas(
        self, area_codes: Sequence[str], ballot: Ballot | None = None
    ) -> list[AreaBallot]:
        """The electoral units these areas count for (of one ballot), by area then ballot;
        each with the list as imported (None: the area's own)."""
        where = "" if ballot is None else " AND ballot = ?"
        extra = () if ballot is None else (ballot.value,)
        rows = await self._rows_in(
            f"SELECT * FROM area_ballots WHERE area_code IN ({{marks}}){where}",
            list(area_codes),
            *extra,
        )
        order = list(Ballot)
        mappings = map(_mapping_from_row, rows)
        return sorted(mappings, key=lambda m: (m.area_code, order.index(m.ballot)))

    async def records_of_areas(
        self, area_codes: Sequence[str], ballot: Ballot | None = None
    ) -> list[ResultRecord]:
        """The current records of these areas (of one ballot), by area then ballot."""
        where = "" if ballot is None else " AND ballot = ?"
        extra = () if ballot is None else (ballot.value,)
        rows = await self._rows_in(
            "SELECT * FROM result_records WHERE replaced_by IS NULL"
            f" AND area_code IN ({{marks}}){where}",
            list(area_codes),
            *extra,
        )
        order = list(Ballot)
        records = map(_record_from_row, rows)
        return sorted(records, key=lambda r: (r.area_code, order.index(r.ballot)))

    async def records_of_units(self, codes: Sequence[str]) -> list[ResultRecord]:
        """The current records of these electoral units, by unit (as given) then area."""
        rows = await self._rows_in(
            "SELECT * FROM result_records WHERE replaced_by IS NULL"
            " AND electoral_unit IN ({marks})",
            list(codes),
        )
        rank = {code: index for index, code in enumerate(codes)}
        records = map(_record_from_row, rows)
        return sorted(records, key=lambda r: (rank.get(r.electoral_unit, -1), r.area_code))

    async def standings_organized_in(
        self, organizers: Sequence[str], ballot: Ballot | None = None
    ) -> list[UnitStanding]:
        """What the per-ballot tallies need of every electoral unit organized by one of
        `organizers` (administrative units that are not areas: an import never lets an area
        organize), one row each, by ballot then import order: the running totals and the
        number of candidates over half of the valid ballots, counted by the database. Many
        organizers (a country's communes) are matched here rather than in the query."""
        select = (
            "SELECT e.code, e.ballot, e.name, e.seats, e.round, e.position, t.areas_mapped,"
            " t.areas_reported, t.registered_voters, t.voted, t.valid,"
            " (SELECT count(*) FROM candidate_totals c WHERE c.electoral_unit = e.code"
            " AND c.votes * 2 > t.valid), e.organizing_unit"
            " FROM electoral_units e JOIN electoral_unit_totals t ON t.code = e.code"
        )
        extra: tuple[str, ...] = () if ballot is None else (ballot.value,)
        if len(organizers) > _MANY_ORGANIZERS:
            where = "" if ballot is None else " WHERE e.ballot = ?"
            wanted = set(organizers)
            rows = [row for row in await self._read(select + where, extra) if row[12] in wanted]
        else:
            where = "" if ballot is None else " AND e.ballot = ?"
            rows = await self._rows_in(
                f"{select} WHERE e.organizing_unit IN ({{marks}}){where}", list(organizers), *extra
            )
        rows.sort(key=lambda row: int(row[5]))
        return [_standing_from_row(row) for row in rows]

    async def any_electoral_unit(self) -> bool:
        """Whether any ballot file has been imported (an electoral unit exists)."""
        return bool(await self._read("SELECT 1 FROM electoral_units LIMIT 1", ()))
