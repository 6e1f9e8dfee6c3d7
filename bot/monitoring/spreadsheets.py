"""Spreadsheets: the units file as .xlsx (read) and the per-unit export as .xlsx (write).

Pure: bytes in, a validated `UnitTree` or `UnitsFileError` out; rows in, .xlsx bytes out.
No I/O beyond memory (openpyxl's write-only mode may spool to a temporary file), no SQL,
no chat platform, no Vietnamese sentences.

Reading (`parse_units_xlsx`, `parse_units_file`):

* The first worksheet, read with `openpyxl` in read-only mode with `data_only=True`: a
  formula counts as its cached value (None when the file was never saved by a spreadsheet
  program); nothing is ever evaluated.
* The first non-blank row is the header; line numbers are the sheet's row numbers, so the
  header is line 1 in the usual file and `bot.registration.units_file`' "line N, column X" wording
  points at
  the right cell. Blank rows are skipped wherever they are (as in a CSV).
* Rows are handed to `bot.registration.units_file.parse_unit_records` as cells (text, numbers,
None), so
  every rule of the contract applies unchanged. Empty cells right of the header are
  dropped (spreadsheets leave formatted empty cells there); a *value* right of the header
  is `TOO_MANY_FIELDS`, as in a CSV, rather than silently ignored.
* Files are untrusted. Before openpyxl sees them: the zip's members must not declare more
  than `MAX_UNCOMPRESSED_BYTES` in total (the zip reader never yields more than a member
  declares, so the sum bounds the work). Then the sheet's declared dimension and the rows
  actually read must stay within `MAX_ROWS` × `MAX_COLUMNS`. XML entity expansion is
  bounded by the expat parser itself (≥ 2.4.1 refuses billion-laughs amplification).
* Every whole-file problem uses an existing kind, `MALFORMED_CSV` (line 1, no column),
  told apart by `value`: `XLSX_UNREADABLE`, `XLSX_TOO_LARGE`, or for `parse_units_file`
  the unsupported extension itself (".ods", or None without one). A sheet with nothing
  in it is `EMPTY_FILE`.

Writing (`export_xlsx`): one sheet, bold frozen header, widths fitted to the content
(capped), counts as numbers, the percentage column (header ending in "percent") as a
number with two decimals, everything else as text that is never a formula.

Writing for people (`export_report_xlsx`, the `/xuat … xlsx` file): a title row, the
headers the caller gives (Vietnamese) wrapped and frozen under it with an auto-filter, each
column typed by a `ColumnKind` (counts with thousands separators, a percentage stored as a
fraction shown as `0.00%`, a time as a real date-time cell in local time), inner units in
bold with their name indented by level, and a landscape page printed one page wide with the
header repeated on every page. Text is never a formula, as above.
"""

from __future__ import annotations

import datetime as dt
import re
import warnings
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import Enum
from io import BytesIO
from typing import Any, Final

from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from bot.registration.units_file import (
    Cell,
    ImportIssue,
    ImportIssueKind,
    UnitsFileError,
    UnitTable,
    UnitTree,
    read_unit_records,
    read_units_csv,
)

__all__ = [
    "MAX_COLUMNS",
    "MAX_COLUMN_WIDTH",
    "MAX_ROWS",
    "MAX_UNCOMPRESSED_BYTES",
    "XLSX_TOO_LARGE",
    "XLSX_UNREADABLE",
    "ColumnKind",
    "ReportSheet",
    "export_report_workbook",
    "export_report_xlsx",
    "export_xlsx",
    "parse_units_file",
    "parse_units_xlsx",
    "read_units_file",
    "read_units_xlsx",
]

MAX_ROWS: Final = 200_000  # a national file has ~100,000 units
MAX_COLUMNS: Final = 50  # the contract has 7 columns
MAX_UNCOMPRESSED_BYTES: Final = 100 * 1024 * 1024
MAX_COLUMN_WIDTH: Final = 60  # characters; longer text wraps past the screen anyway

# `ImportIssue.value` of a MALFORMED_CSV issue raised here, for the message layer.
XLSX_UNREADABLE: Final = "xlsx_unreadable"  # not a zip, not a workbook, corrupt XML…
XLSX_TOO_LARGE: Final = "xlsx_too_large"  # over one of the limits above

_PLAIN_CELL_TYPES: Final = frozenset({str, int, float, bool, type(None)})


# --------------------------------------------------------------------------- reading


def parse_units_file(filename: str, data: bytes) -> UnitTree:
    """Parse a units file by its extension (`.csv` or `.xlsx`, any letter case); raise
    UnitsFileError, also for any other extension."""
    return read_units_file(filename, data).tree()


def read_units_file(filename: str, data: bytes) -> UnitTable:
    """`parse_units_file` without a `UnitRow` per unit (what the import stores): the same
    checks, the same errors."""
    _, dot, extension = filename.strip().rpartition(".")
    if not dot or "/" in extension or "\\" in extension:
        extension = ""  # no dot in the last path component: no extension at all
    kind = extension.lower()
    if kind == "csv":
        return read_units_csv(data)
    if kind == "xlsx":
        return read_units_xlsx(data)
    raise UnitsFileError([_file_issue("." + extension if extension else None)])


def parse_units_xlsx(data: bytes) -> UnitTree:
    """Parse a units workbook (.xlsx, first worksheet); raise UnitsFileError."""
    return read_units_xlsx(data).tree()


def read_units_xlsx(data: bytes) -> UnitTable:
    """`parse_units_xlsx` without a `UnitRow` per unit: the same checks, the same errors."""
    rows = _read_first_sheet(data)
    start = 0
    while start < len(rows) and _is_blank(rows[start]):
        start += 1  # blank rows above the header
    if start == len(rows):
        raise UnitsFileError([ImportIssue(line=1, column=None, kind=ImportIssueKind.EMPTY_FILE)])
    header = _trim(rows[start], 0)
    width = len(header)
    end = len(rows)
    while end > start + 1 and _is_blank(rows[end - 1]):
        end -= 1  # trailing blank rows: the validator would skip them too, only slower
    body = [row if len(row) <= width else _trim(row, width) for row in rows[start + 1 : end]]
    del rows
    return read_unit_records(header, body, first_line=start + 2)


def _read_first_sheet(data: bytes) -> list[tuple[Cell, ...]]:
    """Every row of the first worksheet from row 1 on (missing rows as `()`), or
    UnitsFileError when the file is unreadable or over the limits."""
    try:
        with zipfile.ZipFile(BytesIO(data)) as archive:
            declared = sum(member.file_size for member in archive.infolist())
        if declared > MAX_UNCOMPRESSED_BYTES:
            raise UnitsFileError([_file_issue(XLSX_TOO_LARGE)])
        # openpyxl warns about features it drops (data validation, default styles…):
        # nothing the import needs, and not worth a log line per upload.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            workbook = load_workbook(BytesIO(data), read_only=True, data_only=True)
            try:
                return _rows(workbook)
            finally:
                workbook.close()
    except UnitsFileError:
        raise
    except Exception:
        # A corrupt upload can fail anywhere in zipfile, zlib, the XML parser or openpyxl,
        # each with its own exception types, and read-only mode parses lazily, so errors
        # also surface while iterating. Whatever it is, the file cannot be read.
        raise UnitsFileError([_file_issue(XLSX_UNREADABLE)]) from None


def _rows(workbook: Any) -> list[tuple[Cell, ...]]:  # openpyxl is untyped
    sheets = workbook.worksheets
    if not sheets:
        raise UnitsFileError([ImportIssue(line=1, column=None, kind=ImportIssueKind.EMPTY_FILE)])
    sheet = sheets[0]
    declared_rows, declared_columns = sheet.max_row, sheet.max_column  # None: not declared
    if (declared_rows or 0) > MAX_ROWS or (declared_columns or 0) > MAX_COLUMNS:
        raise UnitsFileError([_file_issue(XLSX_TOO_LARGE)])
    # Read-only mode trusts the declared dimension and silently drops cells outside it;
    # some writers declare "A1" for any sheet. Read what is there, within our own limits.
    sheet.reset_dimensions()
    rows: list[tuple[Cell, ...]] = []
    append = rows.append
    plain = _PLAIN_CELL_TYPES
    for values in sheet.iter_rows(values_only=True):
        if len(rows) == MAX_ROWS or len(values) > MAX_COLUMNS:
            raise UnitsFileError([_file_issue(XLSX_TOO_LARGE)])
        if all(type(v) in plain for v in values):
            append(tuple(values))
        else:
            append(tuple(_cell(v) for v in values))
    return rows


def _cell(value: object) -> Cell:
    """A cell as `parse_unit_records` takes it: dates and other values become text."""
    if value is None or isinstance(value, str | int | float):  # bool is an int: BAD_NUMBER
        return value
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return str(value)


def _is_blank(row: Sequence[Cell]) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in row)


def _trim(row: Sequence[Cell], width: int) -> tuple[Cell, ...]:
    """The row without its empty cells past `width` (a value past it stays)."""
    end = len(row)
    while end > width and _is_blank(row[end - 1 : end]):
        end -= 1
    return tuple(row[:end])


def _file_issue(value: str | None) -> ImportIssue:
    return ImportIssue(line=1, column=None, kind=ImportIssueKind.MALFORMED_CSV, value=value)


# --------------------------------------------------------------------------- writing

_DECIMAL: Final = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
# Strings a spreadsheet (or openpyxl itself, for "=" and error codes) would not take as
# plain text: they are written with an explicit string type.
_FORMULA_STARTS: Final = ("=", "+", "-", "@")
_ERROR_CODES: Final = frozenset(ERROR_CODES)
# Characters XML 1.0 cannot hold (openpyxl refuses the control ones, and would write the
# others into a file Excel then calls corrupt): shown as U+FFFD instead.
_NOT_XML: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_BAD_TITLE_CHARACTERS: Final = re.compile(r"[\\/*?:\[\]\x00-\x1f]")
_MAX_TITLE: Final = 31  # Excel's limit for sheet names


def export_xlsx(
    header: Sequence[str], rows: Sequence[Sequence[str | int]], sheet_title: str
) -> bytes:
    """One sheet: `header` in bold and frozen, then `rows`. Ints are numbers; in a column
    whose header ends in "percent", a decimal string ("78.13") is a number shown with two
    decimals; any other string is text (never a formula), "" an empty cell."""
    # Write-only mode streams rows instead of building a cell object per value: a national
    # export has ~100,000 rows. Its column widths must be set before the first row.
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_sheet_title(sheet_title))
    for index, width in enumerate(_widths(header, rows), start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"

    bold = Font(bold=True)
    header_cells = []
    for name in header:
        cell = _text_cell(sheet, name)
        cell.font = bold
        header_cells.append(cell)
    sheet.append(header_cells)

    percent = {i for i, name in enumerate(header) if name.strip().lower().endswith("percent")}
    for row in rows:
        values: list[object] = []
        for index, value in enumerate(row):
            if index in percent and (
                isinstance(value, int) or (isinstance(value, str) and _DECIMAL.fullmatch(value))
            ):
                cell = WriteOnlyCell(sheet, float(value))
                cell.number_format = "0.00"
                values.append(cell)
            elif isinstance(value, str):
                values.append(_text(sheet, value))
            else:
                values.append(value)
        sheet.append(values)

    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _text(sheet: Any, value: str) -> Any:
    """What to append for a text value: None for "", a plain str when openpyxl keeps it
    as text anyway (the fast path), else a cell typed as a string explicitly."""
    if not value:
        return None
    if value.startswith(_FORMULA_STARTS) or value in _ERROR_CODES or _NOT_XML.search(value):
        return _text_cell(sheet, value)
    return value


def _text_cell(sheet: Any, value: str) -> Any:
    """A cell holding `value` as a string, whatever it starts with."""
    cell = WriteOnlyCell(sheet, _NOT_XML.sub("\ufffd", value))
    cell.data_type = "s"  # openpyxl infers "f" for "=…" and "e" for "#N/A"; never here
    return cell


def _widths(header: Sequence[str], rows: Sequence[Sequence[str | int]]) -> list[int]:
    """Each column's width in characters: its longest value plus a margin, capped."""
    longest = [len(name) for name in header]
    for row in rows:
        for index, value in enumerate(row):
            length = len(value) if isinstance(value, str) else len(str(value))
            if index >= len(longest):
                longest.extend([0] * (index + 1 - len(longest)))
            if length > longest[index]:
                longest[index] = length
    return [min(MAX_COLUMN_WIDTH, length + 2) for length in longest]


def _sheet_title(title: str) -> str:
    """A sheet name Excel accepts: no `\\ / * ? : [ ]`, at most 31 characters, not
    starting or ending with an apostrophe, not empty."""
    cleaned = _BAD_TITLE_CHARACTERS.sub("_", title).strip()[:_MAX_TITLE].strip("'").strip()
    return cleaned or "Sheet1"


# --------------------------------------------------------------------------- the report for people

COUNT_FORMAT: Final = "#,##0"  # Excel shows the locale's separator: 38.851 in Vietnamese
PERCENT_FORMAT: Final = "0.00%"
DATETIME_FORMAT: Final = "dd/mm/yyyy hh:mm"
TITLE_ROW: Final = 1
HEADER_ROW: Final = 2
_HEADER_LINE_HEIGHT: Final = 15.0  # points per wrapped header line
_MIN_WIDTH: Final = 11  # a wrapped Vietnamese header stays within three lines


class ColumnKind(Enum):
    TEXT = "text"
    COUNT = "count"  # an int, shown with thousands separators
    PERCENT = "percent"  # a decimal string of percent ("78.13"), stored as the fraction
    DATETIME = "datetime"  # an ISO 8601 string ("" for none), stored as a naive local time
    NAME = "name"  # text, indented by the row's level


@dataclass(frozen=True, slots=True)
class ReportSheet:
    """What `export_report_xlsx` writes: `rows[i]` is at `levels[i]` (0 for the first unit)
    and is an inner unit (bold) when `inner[i]`."""

    sheet_title: str
    title: str
    headers: Sequence[str]
    kinds: Sequence[ColumnKind]
    rows: Sequence[Sequence[str | int]]
    levels: Sequence[int]
    inner: Sequence[bool]


def export_report_xlsx(report: ReportSheet) -> bytes:
    """The spreadsheet for people (see the module's docstring)."""
    return export_report_workbook([report])


def export_report_workbook(reports: Sequence[ReportSheet]) -> bytes:
    """Several report sheets in one workbook, in order, each styled as `export_report_xlsx`
    styles its one (the results night's two tables)."""
    workbook = Workbook(write_only=True)
    for report in reports:
        _write_report_sheet(workbook, report)
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _write_report_sheet(workbook: Any, report: ReportSheet) -> None:
    if not len(report.headers) == len(report.kinds):
        raise ValueError("one kind per header")
    if not len(report.rows) == len(report.levels) == len(report.inner):
        raise ValueError("one level and one inner flag per row")
    sheet = workbook.create_sheet(_sheet_title(report.sheet_title))
    widths = _report_widths(report)
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    lines = max(
        (_wrapped_lines(h, w) for h, w in zip(report.headers, widths, strict=True)), default=1
    )
    sheet.row_dimensions[HEADER_ROW].height = _HEADER_LINE_HEIGHT * lines + 4
    last_column = get_column_letter(max(len(report.headers), 1))
    sheet.freeze_panes = f"A{HEADER_ROW + 1}"
    sheet.auto_filter.ref = f"A{HEADER_ROW}:{last_column}{HEADER_ROW + max(len(report.rows), 1)}"
    sheet.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = 9  # A4
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0  # as many pages down as it takes
    sheet.page_margins.left = sheet.page_margins.right = 0.4
    sheet.page_margins.top = sheet.page_margins.bottom = 0.5

    title = _text_cell(sheet, report.title)
    title.font = Font(bold=True, size=14)
    sheet.append([title])

    header_font = Font(bold=True)
    header_alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
    header_cells = []
    for name in report.headers:
        cell = _text_cell(sheet, name)
        cell.font = header_font
        cell.alignment = header_alignment
        header_cells.append(cell)
    sheet.append(header_cells)

    bold = Font(bold=True)
    indents: dict[int, Alignment] = {}
    for row, level, inner in zip(report.rows, report.levels, report.inner, strict=True):
        values: list[object] = []
        for kind, value in zip(report.kinds, row, strict=False):
            cell = _report_cell(sheet, kind, value)
            if kind is ColumnKind.NAME and level > 0:
                if cell is None:
                    cell = _text_cell(sheet, "")
                cell.alignment = indents.setdefault(level, Alignment(indent=min(level, 15)))
            if inner and cell is not None:
                cell.font = bold
            values.append(cell)
        sheet.append(values)


def _report_cell(sheet: Any, kind: ColumnKind, value: str | int) -> Any:
    """A styled cell for `value`, or None for an empty one."""
    if kind is ColumnKind.COUNT and isinstance(value, int):
        cell = WriteOnlyCell(sheet, value)
        cell.number_format = COUNT_FORMAT
        return cell
    if kind is ColumnKind.PERCENT and (
        isinstance(value, int) or (isinstance(value, str) and _DECIMAL.fullmatch(value))
    ):
        cell = WriteOnlyCell(sheet, float(Decimal(value) / 100))
        cell.number_format = PERCENT_FORMAT
        return cell
    if kind is ColumnKind.DATETIME and isinstance(value, str) and value:
        moment = _local_datetime(value)
        if moment is not None:
            cell = WriteOnlyCell(sheet, moment)
            cell.number_format = DATETIME_FORMAT
            return cell
    if isinstance(value, str):
        return _text_cell(sheet, value) if value else None
    cell = WriteOnlyCell(sheet, value)
    if kind is ColumnKind.COUNT:
        cell.number_format = COUNT_FORMAT
    return cell


def _local_datetime(value: str) -> dt.datetime | None:
    """An ISO 8601 time as the naive local time it states (Excel has no time zones)."""
    try:
        return dt.datetime.fromisoformat(value).replace(tzinfo=None)
    except ValueError:
        return None


def _display_width(kind: ColumnKind, value: str | int, level: int) -> int:
    if kind is ColumnKind.COUNT and isinstance(value, int):
        return len(f"{value:,}")
    if kind is ColumnKind.PERCENT:
        try:
            return len(f"{Decimal(str(value)):.2f}%")
        except InvalidOperation:
            return len(str(value))
    if kind is ColumnKind.DATETIME:
        return len("23/05/2021 12:33") if value else 0
    length = len(value) if isinstance(value, str) else len(str(value))
    return length + (2 * level if kind is ColumnKind.NAME else 0)


def _report_widths(report: ReportSheet) -> list[int]:
    """Each column's width: its widest value or the longest word of its header, plus a margin,
    capped. Headers wrap, so they do not widen a column of short numbers much."""
    longest = [max((len(word) for word in header.split()), default=0) for header in report.headers]
    for row, level in zip(report.rows, report.levels, strict=True):
        for index, (kind, value) in enumerate(zip(report.kinds, row, strict=False)):
            length = _display_width(kind, value, level)
            if length > longest[index]:
                longest[index] = length
    return [min(MAX_COLUMN_WIDTH, max(_MIN_WIDTH, length + 2)) for length in longest]


def _wrapped_lines(text: str, width: int) -> int:
    """How many lines `text` takes word-wrapped in a column `width` characters wide."""
    lines, current = 1, 0
    for word in text.split():
        needed = len(word) if current == 0 else current + 1 + len(word)
        if needed <= width - 1 or current == 0:
            current = needed
        else:
            lines, current = lines + 1, len(word)
    return lines
