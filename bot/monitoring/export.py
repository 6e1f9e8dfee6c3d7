"""The per-unit export of the contract: exact columns, one row per unit, the unit itself first.

Two files from the same rows: the CSV for programs (English column names, plain numbers,
a UTF-8 byte-order mark so that Excel on Windows reads the diacritics), and the .xlsx for
people (`bot.monitoring.spreadsheets.export_report_xlsx`: title, Vietnamese headers, formats).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence

from bot import texts
from bot.formatting import turnout_percent
from bot.model import Totals, Unit
from bot.monitoring.spreadsheets import ColumnKind, ReportSheet, export_report_xlsx
from storage.database import Database

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


UTF8_BOM = "\ufeff".encode()  # b"\xef\xbb\xbf"


def to_csv(rows: Sequence[Sequence[str | int]]) -> bytes:
    """The CSV file: a UTF-8 byte-order mark, the English header, then `rows` (text cells a
    spreadsheet would run as a formula prefixed with `'`). Read it back with `utf-8-sig`."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    writer.writerows([_text_cell(c) if isinstance(c, str) else c for c in row] for row in rows)
    return UTF8_BOM + buffer.getvalue().encode("utf-8")


# How each column is shown in the .xlsx.
XLSX_KINDS = {
    "code": ColumnKind.TEXT, "parent_code": ColumnKind.TEXT, "kind": ColumnKind.TEXT,
    "name": ColumnKind.NAME, "areas_total": ColumnKind.COUNT, "areas_reported": ColumnKind.COUNT,
    "areas_finished": ColumnKind.COUNT, "registered_voters": ColumnKind.COUNT,
    "voted": ColumnKind.COUNT, "turnout_percent": ColumnKind.PERCENT,
    "staff_total": ColumnKind.COUNT, "staff_tested": ColumnKind.COUNT,
    "positives": ColumnKind.COUNT, "last_report_at": ColumnKind.DATETIME,
}  # fmt: skip


def to_xlsx(
    rows: Sequence[Sequence[str | int]], sheet_title: str, *, as_of: dt.datetime | None = None
) -> bytes:
    """The .xlsx for people: the CSV's rows under a title row (the first row's unit and
    `as_of`, the time of the data; by default the time of its latest report), with
    Vietnamese headers, number formats, a filter, and inner units bold and indented."""
    column = {name: index for index, name in enumerate(EXPORT_COLUMNS)}
    levels, inner = unit_levels(rows)
    if rows and as_of is None:
        last = rows[0][column["last_report_at"]]
        as_of = dt.datetime.fromisoformat(last) if isinstance(last, str) and last else None
    first = rows[0] if rows else None
    title = texts.export_sheet_title(
        str(first[column["name"]]) if first else sheet_title,
        str(first[column["code"]]) if first else sheet_title,
        as_of,
    )
    return export_report_xlsx(
        ReportSheet(
            sheet_title=sheet_title,
            title=title,
            headers=[texts.EXPORT_HEADERS_VI[name] for name in EXPORT_COLUMNS],
            kinds=[XLSX_KINDS[name] for name in EXPORT_COLUMNS],
            rows=rows,
            levels=levels,
            inner=inner,
        )
    )


def unit_levels(rows: Sequence[Sequence[str | int]]) -> tuple[list[int], list[bool]]:
    """For export rows (the unit first, then depth-first): each row's level below the first
    row, and whether it is an inner unit (a parent of another row, or not exactly one area)."""
    code_at, parent_at = EXPORT_COLUMNS.index("code"), EXPORT_COLUMNS.index("parent_code")
    areas_at = EXPORT_COLUMNS.index("areas_total")
    parents = {str(row[parent_at]) for row in rows}
    level_of: dict[str, int] = {}
    levels: list[int] = []
    inner: list[bool] = []
    for row in rows:
        code = str(row[code_at])
        level = level_of.get(str(row[parent_at]), -1) + 1
        level_of[code] = level
        levels.append(level)
        inner.append(code in parents or row[areas_at] != 1)
    return levels, inner
