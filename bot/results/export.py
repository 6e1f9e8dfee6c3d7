"""The results night's export (RESULTS.md, "Export columns"): two tables with exactly the
contract's columns, in its order — the confirmed records per area and candidate
(`results_areas.csv`) and the totals and provisional outcome per electoral unit and candidate
(`results_units.csv`) — as two CSV files, or one .xlsx with a sheet for each.

Pure: records, outcomes and candidates in, rows and file bytes out. Numbers are plain;
percentages are half-up to 2 places (`0.00` when the denominator is 0); `entered_at` is ISO
8601 with the election's offset. The CSV is written like the per-unit export
(`bot.monitoring.export`: a UTF-8 byte-order mark, text a spreadsheet would run as a formula
prefixed with `'`); the .xlsx reuses its styles (`bot.monitoring.spreadsheets`).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Mapping, Sequence
from enum import StrEnum

from bot.monitoring.spreadsheets import ColumnKind, ReportSheet, export_report_workbook
from bot.results import texts
from bot.results.model import Candidate, ResultRecord
from bot.results.outcome import UnitOutcome, percent_of

RESULTS_AREAS_COLUMNS = (
    "ballot", "electoral_unit", "area_code", "registered_voters", "voted", "ballots_issued",
    "ballots_returned", "valid", "invalid", "candidate_number", "candidate_name", "votes",
    "status", "entered_at",
)  # fmt: skip
RESULTS_UNITS_COLUMNS = (
    "ballot", "electoral_unit", "name", "seats", "areas_total", "areas_reported",
    "registered_voters", "voted", "turnout_percent", "valid", "invalid", "candidate_number",
    "candidate_name", "birth_date", "votes", "percent_of_valid", "outcome", "unit_flag",
)  # fmt: skip

Row = list[str | int]


class RecordStatus(StrEnum):
    """The `status` column of `results_areas.csv`."""

    CHECKED = "checked"  # a second entry matched (FIELDTALLY_RESULTS_DOUBLE_ENTRY)
    SINGLE_ENTRY = "single entry"  # entered once: no second entry asked, or still awaited
    CONFLICT = "conflict"  # a second entry disagreed


def record_status(record: ResultRecord, *, double_entry: bool, conflict: bool = False) -> str:
    """Without double entry every record is entered once; with it, a record is `checked`
    once its second entry matched, a `conflict` while a second entry disagrees."""
    if conflict:
        return RecordStatus.CONFLICT.value
    if double_entry and record.checked:
        return RecordStatus.CHECKED.value
    return RecordStatus.SINGLE_ENTRY.value


def areas_rows(
    records: Sequence[ResultRecord],
    candidates: Mapping[str, Sequence[Candidate]],
    tz: dt.tzinfo,
    *,
    double_entry: bool,
    conflicts: frozenset[int] = frozenset(),
) -> list[Row]:
    """One row per confirmed current record × candidate, in the records' order, candidates in
    ballot order (`conflicts`: ids of records whose second entry disagrees)."""
    rows: list[Row] = []
    for record in records:
        names = {c.number: c.name for c in candidates.get(record.electoral_unit, ())}
        entered = dt.datetime.fromtimestamp(record.entered_at, tz).isoformat()
        status = record_status(record, double_entry=double_entry, conflict=record.id in conflicts)
        for number, votes in enumerate(record.votes, start=1):
            row: Row = [
                record.ballot.value, record.electoral_unit, record.area_code,
                record.registered_voters, record.voted, record.issued, record.returned,
                record.valid, record.invalid, number, names.get(number, ""), votes,
                status, entered,
            ]  # fmt: skip
            rows.append(row)
    return rows


def units_rows(outcomes: Sequence[UnitOutcome]) -> list[Row]:
    """One row per candidate of each electoral unit, in the outcomes' order, candidates in
    ballot order."""
    rows: list[Row] = []
    for unit in outcomes:
        turnout = str(percent_of(unit.voted, unit.registered_voters))
        flag = unit.flag.value if unit.flag is not None else ""
        for candidate in unit.candidates:
            row: Row = [
                unit.ballot.value, unit.electoral_unit, unit.name, unit.seats,
                unit.areas_mapped, unit.areas_reported, unit.registered_voters, unit.voted,
                turnout, unit.valid, unit.invalid, candidate.number, candidate.name,
                candidate.birth_date.isoformat(), candidate.votes, str(candidate.percent),
                candidate.result.value, flag,
            ]  # fmt: skip
            rows.append(row)
    return rows


# A spreadsheet runs a cell that starts with one of these as a formula.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
UTF8_BOM = "\ufeff".encode()


def to_csv(columns: Sequence[str], rows: Sequence[Sequence[str | int]]) -> bytes:
    """A CSV file: a UTF-8 byte-order mark, the contract's header, then `rows`."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(
        [
            "'" + cell if isinstance(cell, str) and cell.startswith(_FORMULA_STARTS) else cell
            for cell in row
        ]
        for row in rows
    )
    return UTF8_BOM + buffer.getvalue().encode("utf-8")


_KINDS = {
    "ballot": ColumnKind.TEXT, "electoral_unit": ColumnKind.TEXT, "area_code": ColumnKind.TEXT,
    "name": ColumnKind.NAME, "seats": ColumnKind.COUNT, "areas_total": ColumnKind.COUNT,
    "areas_reported": ColumnKind.COUNT, "registered_voters": ColumnKind.COUNT,
    "voted": ColumnKind.COUNT, "turnout_percent": ColumnKind.PERCENT,
    "ballots_issued": ColumnKind.COUNT, "ballots_returned": ColumnKind.COUNT,
    "valid": ColumnKind.COUNT, "invalid": ColumnKind.COUNT,
    "candidate_number": ColumnKind.COUNT, "candidate_name": ColumnKind.TEXT,
    "birth_date": ColumnKind.TEXT, "votes": ColumnKind.COUNT,
    "percent_of_valid": ColumnKind.PERCENT, "outcome": ColumnKind.TEXT,
    "unit_flag": ColumnKind.TEXT, "status": ColumnKind.TEXT, "entered_at": ColumnKind.DATETIME,
}  # fmt: skip

SHEET_AREAS = "results_areas"
SHEET_UNITS = "results_units"


def to_xlsx(
    areas: Sequence[Sequence[str | int]],
    units: Sequence[Sequence[str | int]],
    label: str,
    as_of: dt.datetime,
) -> bytes:
    """One workbook, two sheets named as the CSV files (`results_areas`, `results_units`):
    a title row, Vietnamese headers, typed cells, as the per-unit export's .xlsx."""
    sheets = []
    for name, columns, rows, which in (
        (SHEET_AREAS, RESULTS_AREAS_COLUMNS, areas, texts.RESULTS_SHEET_AREAS),
        (SHEET_UNITS, RESULTS_UNITS_COLUMNS, units, texts.RESULTS_SHEET_UNITS),
    ):
        sheets.append(
            ReportSheet(
                sheet_title=name,
                title=texts.results_sheet_title(label, as_of, which),
                headers=[texts.RESULTS_HEADERS_VI[column] for column in columns],
                kinds=[_KINDS[column] for column in columns],
                rows=rows,
                levels=[0] * len(rows),
                inner=[False] * len(rows),
            )
        )
    return export_report_workbook(sheets)
