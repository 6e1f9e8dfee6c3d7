"""Importing the unit list: validate the whole file, then replace the tree in one transaction."""

from __future__ import annotations

import asyncio

from bot import texts
from bot.area_rules import area_state
from bot.spreadsheets import parse_units_file
from bot.units import UnitsFileError, UnitTree
from storage.database import Database, ImportSummary, Transaction, UnitsHaveReports
from storage.records import UnitSpec


def _specs(tree: UnitTree) -> list[UnitSpec]:
    return [
        UnitSpec(
            code=row.code,
            parent_code=row.parent_code,
            kind=row.kind,
            name=row.name,
            registered_voters=row.registered_voters,
            staff=row.staff,
            contact_phones=row.contact_phones,
        )
        for row in tree
    ]


async def import_units(
    db: Database, data: bytes, filename: str = "units.csv", by_user: int = 0
) -> tuple[bool, str]:
    """All or nothing: (True, summary) when stored, (False, every problem) when refused.

    The file is CSV or .xlsx, told apart by its name."""
    try:  # a national list takes seconds to check: keep the event loop free meanwhile
        tree = await asyncio.to_thread(parse_units_file, filename, data)
    except UnitsFileError as error:
        lines = [
            texts.import_issue(i.line, i.column, i.kind.value, i.value, i.related_lines)
            for i in error.issues
        ]
        return False, texts.import_failed(lines)
    return await store_tree(db, tree, by_user, filename)


async def store_tree(
    db: Database, tree: UnitTree, by_user: int = 0, filename: str = ""
) -> tuple[bool, str]:
    specs = _specs(tree)

    def replace_and_recount(tx: Transaction) -> ImportSummary:
        summary = tx.replace_units(specs)
        tx.audit(
            by_user,
            "import",
            texts.audit_import_detail(
                filename, len(specs), summary.added, summary.updated, summary.removed
            ),
        )
        reports = tx.current_reports_by_area()
        states = {
            unit.code: area_state(unit, reports.get(unit.code, []))
            for unit in tx.unit_index()
            if unit.is_area
        }
        tx.rebuild_totals(states)
        return summary

    try:
        summary = await db.write(replace_and_recount)
    except UnitsHaveReports as refused:
        return False, texts.import_removes_reported(refused.codes)
    areas = [row for row in tree if tree.is_leaf(row.code)]
    return True, texts.import_done(
        units=len(tree),
        areas=len(areas),
        voters=sum(row.registered_voters or 0 for row in areas),
        added=summary.added,
        updated=summary.updated,
        removed=summary.removed,
    )
