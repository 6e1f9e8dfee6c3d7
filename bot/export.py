"""The per-unit export of the contract: exact columns, one row per unit, the unit itself first."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence

from bot.formatting import turnout_percent
from bot.spreadsheets import export_xlsx
from storage.database import Database
from storage.records import Totals, Unit

EXPORT_COLUMNS = (
    "code", "parent_code", "kind", "name", "areas_total", "areas_reported", "areas_finished",
    "registered_voters", "voted", "turnout_percent", "staff_total", "staff_tested", "positives",
    "last_report_at",
)  # fmt: skip

# A spreadsheet runs a cell that starts with one of these as a formula.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _text_cell(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def export_row(unit: Unit, totals: Totals, tz: dt.tzinfo) -> list[str | int]:
    last = (
        ""
        if totals.last_report_at is None
        else dt.datetime.fromtimestamp(totals.last_report_at, tz).isoformat()
    )
    return [
        unit.code,
        unit.parent_code or "",
        unit.kind,
        unit.name,
        totals.areas_total,
        totals.areas_reported,
        totals.areas_finished,
        totals.registered_voters,
        totals.voted,
        str(turnout_percent(totals.voted, totals.registered_voters)),
        totals.staff_total,
        totals.staff_tested,
        totals.positives,
        last,
    ]


async def export_rows(db: Database, code: str, tz: dt.tzinfo) -> list[list[str | int]]:
    """Rows of the subtree of `code`, depth-first, the unit itself first."""
    units: Sequence[Unit] = db.units.subtree(code)
    totals = await db.totals_of([unit.code for unit in units])
    return [export_row(unit, totals[unit.code], tz) for unit in units]


def to_csv(rows: Sequence[Sequence[str | int]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    writer.writerows([_text_cell(c) if isinstance(c, str) else c for c in row] for row in rows)
    return buffer.getvalue().encode("utf-8")


def to_xlsx(rows: Sequence[Sequence[str | int]], sheet_title: str) -> bytes:
    """The same columns as the CSV; counts as numbers, text stored as text (never formulas)."""
    return export_xlsx(EXPORT_COLUMNS, rows, sheet_title)
