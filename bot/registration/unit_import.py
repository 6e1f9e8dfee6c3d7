"""Importing the unit list: validate the whole file, then replace the tree in one transaction.

Lean for a national list (~90,000 units): the file is read into columns (`UnitTable`, no
object per row), turned into the `UnitSpec`s storage writes, and dropped before the write;
storage builds the new tree's index once from those specs (no read-back) and writes the rows
as it makes them. What the reply says is counted before the write.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from bot import texts
from bot.channel import COMMAND_LINE, Address
from bot.model import Totals, Unit, UnitSpec
from bot.monitoring.spreadsheets import read_units_file
from bot.registration.units_file import UnitsFileError, UnitTable
from bot.turnout.rules import area_state
from storage.database import Database, ImportSummary, Transaction, UnitsHaveReports


@dataclass(frozen=True, slots=True)
class _Counts:
    """What the reply tells of the file: units, polling areas (leaves), their voters."""

    units: int
    areas: int
    voters: int


def _specs(table: UnitTable) -> list[UnitSpec]:
    return list(
        map(
            UnitSpec,
            table.codes,
            table.parent_codes,
            table.kinds,
            table.names,
            table.registered_voters,
            table.staff,
            table.contact_phones,
        )
    )


def _counts(table: UnitTable) -> _Counts:
    leaves = [v for v, inner in zip(table.registered_voters, table.has_children, strict=True)
              if not inner]  # fmt: skip
    return _Counts(units=len(table), areas=len(leaves), voters=sum(v or 0 for v in leaves))


def _read(filename: str, data: bytes) -> tuple[list[UnitSpec], _Counts]:
    """Parse and validate; only the specs and the counts outlive the columns."""
    table = read_units_file(filename, data)
    return _specs(table), _counts(table)


async def import_units(
    db: Database, data: bytes, filename: str = "units.csv", by: Address = COMMAND_LINE
) -> tuple[bool, str]:
    """All or nothing: (True, summary) when stored, (False, every problem) when refused.

    The file is CSV or .xlsx, told apart by its name."""
    try:  # a national list takes a second to check: keep the event loop free meanwhile
        specs, counts = await asyncio.to_thread(_read, filename, data)
    except UnitsFileError as error:
        lines = [
            texts.import_issue(i.line, i.column, i.kind.value, i.value, i.related_lines)
            for i in error.issues
        ]
        return False, texts.import_failed(lines)
    return await store_specs(db, specs, counts, by, filename)


def _no_reports(area: Unit, known: dict[tuple[int, int], Totals]) -> Totals:
    """`area_state(area, [])` without the work (most areas have no report at import), one
    object for each (list size, staff): a national list has a few thousand of them."""
    key = (area.registered_voters or 0, area.staff or 0)
    state = known.get(key)
    if state is None:
        state = known[key] = Totals(areas_total=1, registered_voters=key[0], staff_total=key[1])
    return state


async def store_specs(
    db: Database,
    specs: list[UnitSpec],
    counts: _Counts,
    by: Address = COMMAND_LINE,
    filename: str = "",
) -> tuple[bool, str]:
    """Replace the tree with `specs` (parents first) and recount every total, in one
    transaction (run again whole if it clashes with another process)."""

    def replace_and_recount(tx: Transaction) -> ImportSummary:
        summary = tx.replace_units(specs)
        tx.audit(
            by,
            "import",
            texts.audit_import_detail(
                filename, counts.units, summary.added, summary.updated, summary.removed
            ),
        )
        reports = tx.current_reports_by_area()
        known: dict[tuple[int, int], Totals] = {}
        states = {
            unit.code: area_state(unit, found) if found else _no_reports(unit, known)
            for unit in tx.unit_index()
            if unit.is_area
            for found in (reports.get(unit.code),)
        }
        del reports
        tx.rebuild_totals(states)
        return summary

    try:
        summary = await db.write(replace_and_recount)
    except UnitsHaveReports as refused:
        return False, texts.import_removes_reported(refused.codes)
    return True, texts.import_done(
        units=counts.units,
        areas=counts.areas,
        voters=counts.voters,
        added=summary.added,
        updated=summary.updated,
        removed=summary.removed,
    )
