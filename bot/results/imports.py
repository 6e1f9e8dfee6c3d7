"""Importing the ballots: electoral units, candidates and the areas each counts (RESULTS.md).

Three files, `electoral_units.csv`, `candidates.csv`, `area_ballots.csv` (header names as the
contract spells them, any order, case-insensitive; `round` optional in the first), given
one at a time or together, or one .xlsx with sheets of those names. All or nothing: every
problem is listed by file, line and column; a problem of a whole electoral unit (its
candidates' numbering, their count) names the unit's code and the column instead of a line.
Each file is checked against what is already imported and what the other files of the same
import bring, in the order above.

Decisions where the contract is silent:

* A file is the whole list of every ballot it has rows for: on re-import, that ballot's
  electoral units (or candidates, or areas) not in the file are removed; ballots the file
  does not name keep theirs. Things are updated in place (an electoral unit by its code).
* An electoral unit's candidates are all in one file: a unit of a ballot the candidates file
  names with no candidate row is refused (no candidates means K = 0 ≤ seats).
* Refused to protect entered records: removing an electoral unit with records, changing the
  number of candidates of a unit with records (removing one, and adding one, whose votes
  the records lack), moving an area with a record to another unit or unmapping it.
* The organizing unit is an existing administrative unit that is not a polling area.
* Warnings (imported anyway): fewer candidates than the legal minimum; an electoral unit
  with no area; an area whose lists do not nest (`qh` ⊇ `tinh` ⊇ `huyen` ⊇ `xa`).
* Numbers as in the units file (`1.250` allowed); `birth_date` `YYYY-MM-DD` (a spreadsheet
  date cell too), from 1900 on; `ballot` `qh`, `tinh`, `huyen`, `xa`, any case, diacritics
  allowed (`tỉnh`).
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import itertools
import re
import unicodedata
import warnings
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from io import BytesIO
from typing import Any, Final, Literal

from openpyxl import load_workbook
from pydantic import BaseModel, ConfigDict, NonNegativeInt, PositiveInt

from bot.channel import COMMAND_LINE, Address
from bot.messaging.marked import without_markers
from bot.monitoring.spreadsheets import MAX_COLUMNS, MAX_ROWS, MAX_UNCOMPRESSED_BYTES
from bot.registration.units_file import MAX_CODE_LENGTH, ImportIssueKind, parse_count
from bot.results import texts
from bot.results.model import (
    AreaBallot,
    Ballot,
    Candidate,
    ElectoralUnit,
    legal_minimum_candidates,
)
from storage.database import Database, Transaction
from storage.results import ResultsHaveRecords, ResultsState
from storage.tree import UnitIndex

__all__ = [
    "IMPORT_WARNED",
    "ResultsFile",
    "ResultsImport",
    "ResultsIssue",
    "ResultsIssueKind",
    "ResultsTable",
    "check_import",
    "import_results",
    "is_results_file",
    "read_results_files",
]


# The reason of an import stored with warnings (`Status.WARNED`).
IMPORT_WARNED: Final = "import_warnings"


class ResultsFile(StrEnum):
    """The three tables, in the order an import applies them."""

    ELECTORAL_UNITS = "electoral_units"
    CANDIDATES = "candidates"
    AREA_BALLOTS = "area_ballots"


REQUIRED_COLUMNS: Final[dict[ResultsFile, tuple[str, ...]]] = {
    ResultsFile.ELECTORAL_UNITS: ("ballot", "code", "name", "seats", "organizing_unit"),
    ResultsFile.CANDIDATES: ("ballot", "electoral_unit", "number", "name", "birth_date"),
    ResultsFile.AREA_BALLOTS: ("area_code", "ballot", "electoral_unit", "registered_voters"),
}
OPTIONAL_COLUMNS: Final[dict[ResultsFile, tuple[str, ...]]] = {
    ResultsFile.ELECTORAL_UNITS: ("round",),
    ResultsFile.CANDIDATES: (),
    ResultsFile.AREA_BALLOTS: (),
}
_FILE_ORDER: Final = tuple(ResultsFile)


class ResultsIssueKind(StrEnum):
    """Why an import was refused (errors) or what it warns about (warnings); the kinds shared
    with the units file have the units file's values, and its texts."""

    # the file as a whole
    NOT_UTF8 = ImportIssueKind.NOT_UTF8.value
    EMPTY_FILE = ImportIssueKind.EMPTY_FILE.value
    MALFORMED_CSV = ImportIssueKind.MALFORMED_CSV.value
    WRONG_DELIMITER = ImportIssueKind.WRONG_DELIMITER.value
    UNKNOWN_FILE = "unknown_file"  # neither name nor header says which table it is
    DUPLICATE_FILE = "duplicate_file"  # two files of one table in one import
    NO_SHEETS = "no_sheets"  # a workbook without any of the three sheets
    XLSX_UNREADABLE = "xlsx_unreadable"
    XLSX_TOO_LARGE = "xlsx_too_large"
    NO_ROWS = "no_rows"  # a header and nothing else
    # the header
    MISSING_COLUMN = ImportIssueKind.MISSING_COLUMN.value
    DUPLICATE_COLUMN = ImportIssueKind.DUPLICATE_COLUMN.value
    # one row
    TOO_MANY_FIELDS = ImportIssueKind.TOO_MANY_FIELDS.value
    EMPTY_VALUE = ImportIssueKind.EMPTY_VALUE.value
    BAD_CODE = ImportIssueKind.BAD_CODE.value
    DUPLICATE_CODE = ImportIssueKind.DUPLICATE_CODE.value
    BAD_NUMBER = ImportIssueKind.BAD_NUMBER.value
    NEGATIVE_NUMBER = ImportIssueKind.NEGATIVE_NUMBER.value
    NUMBER_TOO_LARGE = ImportIssueKind.NUMBER_TOO_LARGE.value
    UNKNOWN_BALLOT = "unknown_ballot"
    CODE_USED_BY_BALLOT = "code_used_by_ballot"  # value: the other ballot
    CODE_IS_ADMINISTRATIVE = "code_is_administrative"
    SEATS_BELOW_ONE = "seats_below_one"
    BAD_ROUND = "bad_round"
    UNKNOWN_ORGANIZING_UNIT = "unknown_organizing_unit"
    ORGANIZING_UNIT_IS_AREA = "organizing_unit_is_area"
    UNKNOWN_ELECTORAL_UNIT = "unknown_electoral_unit"
    WRONG_BALLOT = "wrong_ballot"  # value: the unit's own ballot
    NUMBER_BELOW_ONE = "number_below_one"
    DUPLICATE_CANDIDATE = "duplicate_candidate"
    BAD_DATE = "bad_date"
    UNKNOWN_AREA = "unknown_area"
    NOT_AN_AREA = "not_an_area"
    DUPLICATE_MAPPING = "duplicate_mapping"
    # a whole electoral unit (or a whole area)
    CANDIDATE_GAP = "candidate_gap"  # value: the numbers missing
    NO_CANDIDATES = "no_candidates"
    TOO_FEW_CANDIDATES = "too_few_candidates"  # K ≤ seats; value: "K/seats"
    REMOVES_RECORDED_UNIT = "removes_recorded_unit"
    CHANGES_RECORDED_CANDIDATES = "changes_recorded_candidates"  # value: "old→new"
    MOVES_RECORDED_AREA = "moves_recorded_area"  # value: the area
    UNMAPS_RECORDED_AREA = "unmaps_recorded_area"  # value: the area
    # warnings
    BELOW_LEGAL_MINIMUM = "below_legal_minimum"  # value: "K/minimum"
    UNIT_WITHOUT_AREAS = "unit_without_areas"
    LISTS_NOT_NESTED = "lists_not_nested"  # value: "area: ballot N < ballot M"


WARNINGS: Final = frozenset(
    {
        ResultsIssueKind.BELOW_LEGAL_MINIMUM,
        ResultsIssueKind.UNIT_WITHOUT_AREAS,
        ResultsIssueKind.LISTS_NOT_NESTED,
    }
)


class ResultsIssue(BaseModel):
    """One problem (or warning) of an import: the file (and sheet), the line (None for a
    whole electoral unit or file), the column, and the electoral unit it is about."""

    model_config = ConfigDict(frozen=True)

    file: str
    sheet: str | None = None
    line: PositiveInt | None = None
    column: str | None = None
    kind: ResultsIssueKind
    value: str | None = None
    electoral_unit: str | None = None
    related_lines: tuple[int, ...] = ()

    @property
    def is_warning(self) -> bool:
        return self.kind in WARNINGS


# -- rows: the pydantic boundary ---------------------------------------------------------------


class ElectoralUnitRow(BaseModel):
    model_config = ConfigDict(frozen=True)

    line: PositiveInt
    ballot: Ballot
    code: str
    name: str
    seats: PositiveInt
    organizing_unit: str
    round: Literal[1, 2] = 1


class CandidateRow(BaseModel):
    model_config = ConfigDict(frozen=True)

    line: PositiveInt
    ballot: Ballot
    electoral_unit: str
    number: PositiveInt
    name: str
    birth_date: dt.date


class AreaBallotRow(BaseModel):
    model_config = ConfigDict(frozen=True)

    line: PositiveInt
    area_code: str
    ballot: Ballot
    electoral_unit: str
    registered_voters: NonNegativeInt | None


Cell = str | int | float | dt.date | None


@dataclass(frozen=True, slots=True)
class ResultsTable:
    """One table as read: where it came from, its header labels and its non-blank rows
    (line, cells by canonical column name)."""

    kind: ResultsFile
    file: str
    sheet: str | None
    labels: dict[str, str]  # canonical column -> as written
    rows: tuple[tuple[int, dict[str, Cell]], ...]


@dataclass(frozen=True, slots=True)
class ResultsImport:
    """What a checked import brings: per ballot replaced, its new lists, and the problems."""

    issues: tuple[ResultsIssue, ...]  # errors and warnings, in file and line order
    electoral_units: dict[Ballot, tuple[ElectoralUnit, ...]] = field(default_factory=dict)
    candidates: dict[Ballot, tuple[Candidate, ...]] = field(default_factory=dict)
    area_ballots: dict[Ballot, tuple[AreaBallot, ...]] = field(default_factory=dict)

    @property
    def errors(self) -> tuple[ResultsIssue, ...]:
        return tuple(i for i in self.issues if not i.is_warning)

    @property
    def warnings(self) -> tuple[ResultsIssue, ...]:
        return tuple(i for i in self.issues if i.is_warning)


# -- recognising and reading files ---------------------------------------------------------------


def _fold(text: str) -> str:
    """Lower case without diacritics (`Tỉnh` → `tinh`, `đ` → `d`)."""
    decomposed = unicodedata.normalize("NFD", text.strip().lower().replace("đ", "d"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _extension(filename: str) -> str:
    _, dot, extension = filename.strip().rpartition(".")
    return extension.lower() if dot and "/" not in extension and "\\" not in extension else ""


def _kind_by_name(filename: str) -> ResultsFile | None:
    stem = re.split(r"[\\/]", filename.strip())[-1].rsplit(".", 1)[0].lower()
    for kind in ResultsFile:
        if stem.startswith(kind.value):
            return kind
    return None


def _kind_by_header(cells: Sequence[object]) -> ResultsFile | None:
    names = {str(c).strip().lstrip("\ufeff").strip().lower() for c in cells if c is not None}
    for kind in ResultsFile:
        if names.issuperset(REQUIRED_COLUMNS[kind]):
            return kind
    return None


def _first_csv_row(data: bytes) -> list[str]:
    try:
        head = data[:4096].decode("utf-8-sig", errors="replace")
    except Exception:  # pragma: no cover - decode with errors="replace" does not raise
        return []
    first = next((line for line in head.splitlines() if line.strip()), "")
    return next(csv.reader([first]), [])


def is_results_file(filename: str, data: bytes) -> bool:
    """Whether an uploaded file is one of the ballot files (by its name, its header, or for
    a workbook its sheets' names) rather than a units file."""
    extension = _extension(filename)
    if extension == "xlsx":
        return bool(_sheet_names(data) & {kind.value for kind in ResultsFile})
    if extension != "csv":
        return False
    return _kind_by_name(filename) is not None or _kind_by_header(_first_csv_row(data)) is not None


def _sheet_names(data: bytes) -> set[str]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            workbook = load_workbook(BytesIO(data), read_only=True)
            try:
                return {str(name).strip().lower() for name in workbook.sheetnames}
            finally:
                workbook.close()
    except Exception:
        return set()


class _Refused(Exception):
    def __init__(self, issues: Sequence[ResultsIssue]) -> None:
        super().__init__(f"{len(issues)} issue(s)")
        self.issues = list(issues)


def read_results_files(
    files: Sequence[tuple[str, bytes]],
) -> tuple[list[ResultsTable], list[ResultsIssue]]:
    """Read CSV files and workbooks into tables (header checked, blank rows dropped), and
    the problems found reading them."""
    tables: list[ResultsTable] = []
    issues: list[ResultsIssue] = []
    for filename, data in files:
        name = re.split(r"[\\/]", filename.strip())[-1] or filename
        extension = _extension(filename)
        try:
            if extension == "xlsx":
                tables.extend(_read_workbook(name, data))
            elif extension == "csv":
                tables.append(_read_csv(name, data))
            else:
                raise _Refused(
                    [ResultsIssue(file=name, kind=ResultsIssueKind.UNKNOWN_FILE, value=extension)]
                )
        except _Refused as refused:
            issues.extend(refused.issues)
    seen: dict[ResultsFile, ResultsTable] = {}
    for table in tables:
        if table.kind in seen:
            issues.append(
                ResultsIssue(
                    file=table.file,
                    sheet=table.sheet,
                    kind=ResultsIssueKind.DUPLICATE_FILE,
                    value=seen[table.kind].file,
                )
            )
        else:
            seen[table.kind] = table
    return sorted(seen.values(), key=lambda t: _FILE_ORDER.index(t.kind)), issues


def _read_csv(name: str, data: bytes) -> ResultsTable:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        bad = data[error.start : error.end].hex(" ")
        raise _Refused(
            [ResultsIssue(file=name, line=line, kind=ResultsIssueKind.NOT_UTF8, value=bad)]
        ) from None
    if "\x00" in text:
        line = text.count("\n", 0, text.find("\x00")) + 1
        raise _Refused(
            [ResultsIssue(file=name, line=line, kind=ResultsIssueKind.NOT_UTF8, value="00")]
        )
    reader = csv.reader(re.findall(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+", text))
    rows: list[tuple[int, list[Cell]]] = []
    start = 1
    try:
        for row in reader:
            rows.append((start, list(row)))
            start = reader.line_num + 1
    except csv.Error:
        raise _Refused(
            [ResultsIssue(file=name, line=start, kind=ResultsIssueKind.MALFORMED_CSV)]
        ) from None
    return _table(name, None, rows, _kind_by_name(name))


def _read_workbook(name: str, data: bytes) -> list[ResultsTable]:
    def whole(kind: ResultsIssueKind) -> _Refused:
        return _Refused([ResultsIssue(file=name, kind=kind)])

    try:
        with zipfile.ZipFile(BytesIO(data)) as archive:
            declared = sum(member.file_size for member in archive.infolist())
        if declared > MAX_UNCOMPRESSED_BYTES:
            raise whole(ResultsIssueKind.XLSX_TOO_LARGE)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            workbook = load_workbook(BytesIO(data), read_only=True, data_only=True)
            try:
                sheets = {str(s.title).strip().lower(): s for s in workbook.worksheets}
                found = [(kind, sheets[kind.value]) for kind in ResultsFile if kind.value in sheets]
                if not found:
                    raise whole(ResultsIssueKind.NO_SHEETS)
                tables = []
                for kind, sheet in found:
                    rows = _sheet_rows(sheet, whole)
                    tables.append(_table(name, kind.value, rows, kind))
                return tables
            finally:
                workbook.close()
    except _Refused:
        raise
    except Exception:  # a corrupt upload fails anywhere in zipfile, zlib, XML or openpyxl
        raise whole(ResultsIssueKind.XLSX_UNREADABLE) from None


def _sheet_rows(sheet: Any, whole: Any) -> list[tuple[int, list[Cell]]]:  # openpyxl: untyped
    if (sheet.max_row or 0) > MAX_ROWS or (sheet.max_column or 0) > MAX_COLUMNS:
        raise whole(ResultsIssueKind.XLSX_TOO_LARGE)
    sheet.reset_dimensions()
    rows: list[tuple[int, list[Cell]]] = []
    for number, values in enumerate(sheet.iter_rows(values_only=True), 1):
        if number > MAX_ROWS or len(values) > MAX_COLUMNS:
            raise whole(ResultsIssueKind.XLSX_TOO_LARGE)
        rows.append((number, [_cell(v) for v in values]))
    return rows


def _cell(value: object) -> Cell:
    if isinstance(value, dt.datetime):
        return value.date()
    if value is None or isinstance(value, str | int | float | dt.date):
        return value
    return str(value)


def _text(cell: Cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    if isinstance(cell, dt.date):
        return cell.isoformat()
    return str(cell)


def _blank(cells: Sequence[Cell]) -> bool:
    return not "".join(_text(c) for c in cells).strip()


def _table(
    name: str, sheet: str | None, rows: list[tuple[int, list[Cell]]], kind: ResultsFile | None
) -> ResultsTable:
    """Header checks and rows as dictionaries; `kind` from the name, else the header."""
    issues: list[ResultsIssue] = []
    body = [(line, cells) for line, cells in rows if not _blank(cells)]
    if not body:
        raise _Refused(
            [ResultsIssue(file=name, sheet=sheet, line=1, kind=ResultsIssueKind.EMPTY_FILE)]
        )
    header_line, header = body[0]
    kind = kind or _kind_by_header(header)
    if kind is None:
        for delimiter in (";", "\t"):
            if any(delimiter in _text(cell) for cell in header):
                split = [p for c in header for p in _text(c).split(delimiter)]
                if _kind_by_header(split) is not None:
                    raise _Refused(
                        [
                            ResultsIssue(
                                file=name,
                                sheet=sheet,
                                line=header_line,
                                kind=ResultsIssueKind.WRONG_DELIMITER,
                                value=delimiter,
                            )
                        ]
                    )
        raise _Refused([ResultsIssue(file=name, sheet=sheet, kind=ResultsIssueKind.UNKNOWN_FILE)])
    known = (*REQUIRED_COLUMNS[kind], *OPTIONAL_COLUMNS[kind])
    columns: dict[str, int] = {}
    labels: dict[str, str] = {}
    for index, cell in enumerate(header):
        label = _text(cell).strip().lstrip("\ufeff").strip()
        key = label.lower()
        if key not in known:
            continue
        if key in columns:
            issues.append(
                ResultsIssue(
                    file=name,
                    sheet=sheet,
                    line=header_line,
                    column=label,
                    kind=ResultsIssueKind.DUPLICATE_COLUMN,
                    value=label,
                )
            )
        else:
            columns[key] = index
            labels[key] = label
    for missing in (c for c in REQUIRED_COLUMNS[kind] if c not in columns):
        issues.append(
            ResultsIssue(
                file=name,
                sheet=sheet,
                line=header_line,
                column=missing,
                kind=ResultsIssueKind.MISSING_COLUMN,
            )
        )
    width = len(header)
    while width and _text(header[width - 1]).strip() == "":
        width -= 1
    table_rows: list[tuple[int, dict[str, Cell]]] = []
    for line, cells in body[1:]:
        extra = [c for c in cells[width:] if _text(c).strip()]
        if extra:
            issues.append(
                ResultsIssue(
                    file=name,
                    sheet=sheet,
                    line=line,
                    kind=ResultsIssueKind.TOO_MANY_FIELDS,
                    value=",".join(_text(c) for c in extra),
                )
            )
            continue
        table_rows.append(
            (line, {key: cells[i] if i < len(cells) else None for key, i in columns.items()})
        )
    if not table_rows and not issues:
        issues.append(
            ResultsIssue(file=name, sheet=sheet, line=header_line, kind=ResultsIssueKind.NO_ROWS)
        )
    if issues:
        raise _Refused(issues)
    for key in known:
        labels.setdefault(key, key)
    return ResultsTable(kind, name, sheet, labels, tuple(table_rows))


# -- checking ---------------------------------------------------------------------------------

_CODE: Final = re.compile(rf"[A-Za-z0-9._-]{{1,{MAX_CODE_LENGTH}}}")
_DATE: Final = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_BALLOTS: Final = {_fold(b.value): b for b in Ballot}


def _clean(cell: Cell) -> str:
    text = without_markers(_text(cell)).strip()
    return text if text.isascii() else unicodedata.normalize("NFC", text)


class _Checker:
    """Collects the issues of one import; the row checks return None where a cell is bad."""

    def __init__(self) -> None:
        self.issues: list[ResultsIssue] = []
        self._table: ResultsTable | None = None

    def table(self, table: ResultsTable) -> None:
        self._table = table

    def add(
        self,
        kind: ResultsIssueKind,
        line: int | None,
        column: str | None,
        value: str | None = None,
        *,
        unit: str | None = None,
        related: tuple[int, ...] = (),
    ) -> None:
        table = self._table
        assert table is not None
        label = None if column is None else table.labels.get(column, column)
        if value is not None and len(value) > 200:
            value = value[:199] + "…"
        self.issues.append(
            ResultsIssue(
                file=table.file,
                sheet=table.sheet,
                line=line,
                column=label,
                kind=kind,
                value=value,
                electoral_unit=unit,
                related_lines=related,
            )
        )

    def text(self, line: int, cells: Mapping[str, Cell], column: str) -> str | None:
        value = _clean(cells.get(column))
        if not value:
            self.add(ResultsIssueKind.EMPTY_VALUE, line, column)
            return None
        return value

    def code(self, line: int, cells: Mapping[str, Cell], column: str) -> str | None:
        value = self.text(line, cells, column)
        if value is not None and not _CODE.fullmatch(value):
            self.add(ResultsIssueKind.BAD_CODE, line, column, value)
            return None
        return value

    def ballot(self, line: int, cells: Mapping[str, Cell]) -> Ballot | None:
        value = self.text(line, cells, "ballot")
        if value is None:
            return None
        ballot = _BALLOTS.get(_fold(value))
        if ballot is None:
            self.add(ResultsIssueKind.UNKNOWN_BALLOT, line, "ballot", value)
        return ballot

    def count(
        self, line: int, cells: Mapping[str, Cell], column: str, *, required: bool = True
    ) -> int | Literal[False] | None:
        """The count, None when empty (reported if required), False when bad (reported)."""
        cell = cells.get(column)
        if isinstance(cell, dt.date):
            self.add(ResultsIssueKind.BAD_NUMBER, line, column, _text(cell))
            return False
        parsed = parse_count(cell)
        if parsed is None:
            if required:
                self.add(ResultsIssueKind.EMPTY_VALUE, line, column)
            return None
        if isinstance(parsed, ImportIssueKind):
            self.add(ResultsIssueKind(parsed.value), line, column, _text(cell).strip())
            return False
        return parsed

    def date(self, line: int, cells: Mapping[str, Cell], column: str) -> dt.date | None:
        cell = cells.get(column)
        if isinstance(cell, dt.date):
            value: dt.date | None = cell
        else:
            text = self.text(line, cells, column)
            if text is None:
                return None
            value = None
            match = _DATE.fullmatch(text)
            if match:
                try:
                    value = dt.date(*map(int, match.groups()))
                except ValueError:
                    value = None
        if value is None or not 1900 <= value.year <= dt.date.today().year:
            self.add(ResultsIssueKind.BAD_DATE, line, column, _text(cell).strip())
            return None
        return value


def check_import(
    tables: Sequence[ResultsTable], state: ResultsState, units: UnitIndex
) -> ResultsImport:
    """Every rule of the contract on the tables (in file order) against what is imported:
    the import's lists per ballot replaced, or the issues that refuse it. Pure."""
    check = _Checker()
    kinds = {table.kind: table for table in tables}

    # ---- the electoral units after the import
    after_units: dict[str, ElectoralUnit] = {u.code.lower(): u for u in state.electoral_units}
    new_units: dict[Ballot, list[ElectoralUnit]] = {}
    unit_lines: dict[str, int] = {}
    table = kinds.get(ResultsFile.ELECTORAL_UNITS)
    # ---- the candidates after the import
    after_candidates: dict[str, list[Candidate]] = {}
    new_candidates: dict[Ballot, list[Candidate]] = {}
    candidate_table = kinds.get(ResultsFile.CANDIDATES)
    candidate_units: set[str] = set()
    written_counts: dict[str, int] = {}
    # ---- the areas after the import
    after_mappings: dict[tuple[str, Ballot], AreaBallot] = {}
    new_mappings: dict[Ballot, list[AreaBallot]] = {}
    mapping_lines: dict[tuple[str, Ballot], int] = {}
    area_table = kinds.get(ResultsFile.AREA_BALLOTS)

    def electoral_units_rules() -> None:
        if table is not None:
            check.table(table)
            first_line: dict[str, int] = {}
            rows: list[ElectoralUnitRow] = []
            for line, cells in table.rows:
                ballot = check.ballot(line, cells)
                code = check.code(line, cells, "code")
                name = check.text(line, cells, "name")
                seats = check.count(line, cells, "seats")
                if isinstance(seats, int) and seats < 1:
                    check.add(ResultsIssueKind.SEATS_BELOW_ONE, line, "seats", str(seats))
                    seats = False
                organizer = check.code(line, cells, "organizing_unit")
                round_ = check.count(line, cells, "round", required=False)
                if round_ is None:
                    round_ = 1
                elif round_ not in (1, 2):
                    if round_ is not False:
                        check.add(ResultsIssueKind.BAD_ROUND, line, "round", str(round_))
                    round_ = False
                if code is not None:
                    key = code.lower()
                    if key in first_line:
                        check.add(
                            ResultsIssueKind.DUPLICATE_CODE,
                            line,
                            "code",
                            code,
                            related=(first_line[key],),
                        )
                        code = None
                    else:
                        first_line[key] = line
                        if units.get(code) is not None:
                            check.add(ResultsIssueKind.CODE_IS_ADMINISTRATIVE, line, "code", code)
                            code = None
                if organizer is not None:
                    admin = units.get(organizer)
                    if admin is None:
                        check.add(
                            ResultsIssueKind.UNKNOWN_ORGANIZING_UNIT,
                            line,
                            "organizing_unit",
                            organizer,
                        )
                        organizer = None
                    elif admin.is_area:
                        check.add(
                            ResultsIssueKind.ORGANIZING_UNIT_IS_AREA,
                            line,
                            "organizing_unit",
                            organizer,
                        )
                        organizer = None
                    else:
                        organizer = admin.code
                if (
                    ballot is not None and code is not None and name is not None
                    and isinstance(seats, int) and seats is not False and organizer is not None
                    and round_ in (1, 2)
                ):  # fmt: skip
                    rows.append(
                        ElectoralUnitRow(
                            line=line,
                            ballot=ballot,
                            code=code,
                            name=name,
                            seats=seats,
                            organizing_unit=organizer,
                            round=round_,
                        )
                    )
            replaced = {row.ballot for row in rows}
            # codes unique across ballots: against the ballots this file does not replace
            for row in rows:
                other = after_units.get(row.code.lower())
                if (
                    other is not None
                    and other.ballot is not row.ballot
                    and other.ballot not in replaced
                ):
                    check.add(
                        ResultsIssueKind.CODE_USED_BY_BALLOT,
                        row.line,
                        "code",
                        other.ballot.value,
                        unit=other.code,
                    )
            for key, unit in list(after_units.items()):
                if unit.ballot in replaced:
                    del after_units[key]
            for key, unit in {u.code.lower(): u for u in state.electoral_units}.items():
                if (
                    unit.ballot in replaced
                    and key not in first_line
                    and unit.code in state.recorded_units
                ):
                    check.add(
                        ResultsIssueKind.REMOVES_RECORDED_UNIT,
                        None,
                        "code",
                        unit.code,
                        unit=unit.code,
                    )
            for row in rows:
                stored = {u.code.lower(): u for u in state.electoral_units}.get(row.code.lower())
                unit = ElectoralUnit(
                    ballot=row.ballot,
                    code=stored.code if stored is not None else row.code,
                    name=row.name,
                    seats=row.seats,
                    organizing_unit=row.organizing_unit,
                    round=row.round,
                    locked=stored.locked if stored is not None else False,
                )
                after_units[row.code.lower()] = unit
                unit_lines[unit.code] = row.line
                new_units.setdefault(row.ballot, []).append(unit)

    def candidates_rules() -> None:
        for candidate in state.candidates:
            if candidate.electoral_unit.lower() in after_units:
                after_candidates.setdefault(
                    after_units[candidate.electoral_unit.lower()].code, []
                ).append(candidate)
        if candidate_table is not None:
            check.table(candidate_table)
            numbers: dict[tuple[str, int], int] = {}
            rows_c: list[CandidateRow] = []
            ballots_named: set[Ballot] = set()
            for line, cells in candidate_table.rows:
                ballot = check.ballot(line, cells)
                if ballot is not None:
                    ballots_named.add(ballot)
                unit_code = check.code(line, cells, "electoral_unit")
                number = check.count(line, cells, "number")
                if isinstance(number, int) and number is not False and number < 1:
                    check.add(ResultsIssueKind.NUMBER_BELOW_ONE, line, "number", str(number))
                    number = False
                name = check.text(line, cells, "name")
                birth = check.date(line, cells, "birth_date")
                unit = None
                if unit_code is not None:
                    unit = after_units.get(unit_code.lower())
                    if unit is None:
                        check.add(
                            ResultsIssueKind.UNKNOWN_ELECTORAL_UNIT,
                            line,
                            "electoral_unit",
                            unit_code,
                        )
                    elif ballot is not None and unit.ballot is not ballot:
                        check.add(
                            ResultsIssueKind.WRONG_BALLOT,
                            line,
                            "electoral_unit",
                            unit.ballot.value,
                            unit=unit.code,
                        )
                        unit = None
                if unit is not None and isinstance(number, int) and number is not False:
                    key = (unit.code, number)
                    if key in numbers:
                        check.add(
                            ResultsIssueKind.DUPLICATE_CANDIDATE,
                            line,
                            "number",
                            str(number),
                            unit=unit.code,
                            related=(numbers[key],),
                        )
                        number = False
                    else:
                        numbers[key] = line
                if (
                    unit is not None and ballot is not None and isinstance(number, int)
                    and number is not False and name is not None and birth is not None
                ):  # fmt: skip
                    rows_c.append(
                        CandidateRow(
                            line=line,
                            ballot=ballot,
                            electoral_unit=unit.code,
                            number=number,
                            name=name,
                            birth_date=birth,
                        )
                    )
            for code in [c for c, cs in after_candidates.items() if cs[0].ballot in ballots_named]:
                del after_candidates[code]
            for row in rows_c:
                candidate = Candidate(
                    row.ballot, row.electoral_unit, row.number, row.name, row.birth_date
                )
                after_candidates.setdefault(row.electoral_unit, []).append(candidate)
                new_candidates.setdefault(row.ballot, []).append(candidate)
            for ballot in ballots_named:
                new_candidates.setdefault(ballot, [])
            # a whole unit: numbering, count, records
            old_counts: dict[str, int] = {}
            for candidate in state.candidates:
                old_counts[candidate.electoral_unit] = (
                    old_counts.get(candidate.electoral_unit, 0) + 1
                )
            for unit in after_units.values():
                if unit.ballot not in ballots_named:
                    continue
                candidate_units.add(unit.code)
                written = sorted(n for (code, n) in numbers if code == unit.code)
                written_counts[unit.code] = len(written)
                if not written:
                    check.add(
                        ResultsIssueKind.NO_CANDIDATES,
                        None,
                        "electoral_unit",
                        unit.code,
                        unit=unit.code,
                    )
                    continue
                k = max(written)
                missing = sorted(set(range(1, k + 1)) - set(written))
                if missing:
                    check.add(
                        ResultsIssueKind.CANDIDATE_GAP,
                        None,
                        "number",
                        ", ".join(map(str, missing)),
                        unit=unit.code,
                    )
                if unit.code in state.recorded_units and old_counts.get(unit.code, 0) != len(
                    written
                ):
                    check.add(
                        ResultsIssueKind.CHANGES_RECORDED_CANDIDATES,
                        None,
                        "number",
                        f"{old_counts.get(unit.code, 0)}→{len(written)}",
                        unit=unit.code,
                    )

    def seats_rules() -> None:
        # K against seats, for units whose candidates (or seats) this import sets
        for unit in after_units.values():
            if unit.code in candidate_units and candidate_table is not None:
                count = written_counts.get(unit.code, 0)  # NO_CANDIDATES when 0
                check.table(candidate_table)
                line, column = None, "number"
            elif unit.code in unit_lines and table is not None:
                count = len(after_candidates.get(unit.code, []))  # 0: candidates come later
                check.table(table)
                line, column = unit_lines[unit.code], "seats"
            else:
                continue
            if count == 0:
                continue
            if count <= unit.seats:
                check.add(
                    ResultsIssueKind.TOO_FEW_CANDIDATES,
                    line,
                    column,
                    f"{count}/{unit.seats}",
                    unit=unit.code,
                )
            elif count < (minimum := legal_minimum_candidates(unit.ballot, unit.seats)):
                check.add(
                    ResultsIssueKind.BELOW_LEGAL_MINIMUM,
                    line,
                    column,
                    f"{count}/{minimum}",
                    unit=unit.code,
                )

    def areas_rules() -> None:
        for mapping in state.area_ballots:
            unit = after_units.get(mapping.electoral_unit.lower())
            if unit is not None:
                after_mappings[(mapping.area_code, mapping.ballot)] = mapping
        if area_table is not None:
            check.table(area_table)
            rows_a: list[AreaBallotRow] = []
            ballots_named = set()
            for line, cells in area_table.rows:
                area_code = check.code(line, cells, "area_code")
                ballot = check.ballot(line, cells)
                if ballot is not None:
                    ballots_named.add(ballot)
                unit_code = check.code(line, cells, "electoral_unit")
                voters = check.count(line, cells, "registered_voters", required=False)
                area = None
                if area_code is not None:
                    area = units.get(area_code)
                    if area is None:
                        check.add(ResultsIssueKind.UNKNOWN_AREA, line, "area_code", area_code)
                    elif not area.is_area:
                        check.add(ResultsIssueKind.NOT_AN_AREA, line, "area_code", area_code)
                        area = None
                unit = None
                if unit_code is not None:
                    unit = after_units.get(unit_code.lower())
                    if unit is None:
                        check.add(
                            ResultsIssueKind.UNKNOWN_ELECTORAL_UNIT,
                            line,
                            "electoral_unit",
                            unit_code,
                        )
                    elif ballot is not None and unit.ballot is not ballot:
                        check.add(
                            ResultsIssueKind.WRONG_BALLOT,
                            line,
                            "electoral_unit",
                            unit.ballot.value,
                            unit=unit.code,
                        )
                        unit = None
                if area is not None and ballot is not None:
                    key = (area.code, ballot)
                    if key in mapping_lines:
                        check.add(
                            ResultsIssueKind.DUPLICATE_MAPPING,
                            line,
                            "area_code",
                            area.code,
                            related=(mapping_lines[key],),
                        )
                        area = None
                    else:
                        mapping_lines[key] = line
                if (
                    area is not None
                    and ballot is not None
                    and unit is not None
                    and voters is not False
                ):
                    rows_a.append(
                        AreaBallotRow(
                            line=line,
                            area_code=area.code,
                            ballot=ballot,
                            electoral_unit=unit.code,
                            registered_voters=voters,
                        )
                    )
            for key in [k for k in after_mappings if k[1] in ballots_named]:
                del after_mappings[key]
            for row in rows_a:
                mapping = AreaBallot(
                    row.area_code, row.ballot, row.electoral_unit, row.registered_voters
                )
                after_mappings[(row.area_code, row.ballot)] = mapping
                new_mappings.setdefault(row.ballot, []).append(mapping)
            for ballot in ballots_named:
                new_mappings.setdefault(ballot, [])
            # records: an area keeps its unit
            before = {(m.area_code, m.ballot): m for m in state.area_ballots}
            for area_code, ballot in sorted(state.recorded_areas):
                if ballot not in ballots_named:
                    continue
                old = before.get((area_code, ballot))
                new = after_mappings.get((area_code, ballot))
                if new is None:
                    check.add(
                        ResultsIssueKind.UNMAPS_RECORDED_AREA,
                        None,
                        "area_code",
                        f"{area_code}/{ballot.value}",
                    )
                elif old is not None and new.electoral_unit != old.electoral_unit:
                    check.add(
                        ResultsIssueKind.MOVES_RECORDED_AREA,
                        mapping_lines.get((area_code, ballot)),
                        "electoral_unit",
                        f"{area_code}/{ballot.value}",
                        unit=old.electoral_unit,
                    )

    def warnings_rules() -> None:
        # a unit with no area, and lists that do not nest (warnings)
        if area_table is not None or table is not None:
            mapped_units = {m.electoral_unit for m in after_mappings.values()}
            source = area_table if area_table is not None else table
            assert source is not None
            check.table(source)
            mapped_ballots = {m.ballot for m in after_mappings.values()} | set(new_mappings)
            for unit in after_units.values():
                if unit.code not in mapped_units and unit.ballot in mapped_ballots:
                    check.add(
                        ResultsIssueKind.UNIT_WITHOUT_AREAS,
                        None,
                        "electoral_unit",
                        unit.code,
                        unit=unit.code,
                    )
        if area_table is not None:
            check.table(area_table)
            by_area: dict[str, dict[Ballot, int]] = {}
            for (area_code, ballot), mapping in after_mappings.items():
                area = units.get(area_code)
                size = mapping.registered_voters
                if size is None and area is not None:
                    size = area.registered_voters
                if size is not None:
                    by_area.setdefault(area_code, {})[ballot] = size
            for area_code, sizes in sorted(by_area.items()):
                ordered = [(b, sizes[b]) for b in Ballot if b in sizes]
                for (upper, big), (lower, small) in itertools.pairwise(ordered):
                    if small > big:
                        check.add(
                            ResultsIssueKind.LISTS_NOT_NESTED,
                            mapping_lines.get((area_code, lower)),
                            "registered_voters",
                            f"{area_code}: {upper.value} {big} < {lower.value} {small}",
                        )

    electoral_units_rules()
    candidates_rules()
    seats_rules()
    areas_rules()
    warnings_rules()

    rank = {(t.file, t.sheet): i for i, t in enumerate(tables)}
    issues = sorted(
        check.issues,
        key=lambda i: (rank.get((i.file, i.sheet), 0), i.line or 0, i.electoral_unit or "", i.kind),
    )
    return ResultsImport(
        issues=tuple(issues),
        electoral_units={b: tuple(us) for b, us in new_units.items()},
        candidates={b: tuple(cs) for b, cs in new_candidates.items()},
        area_ballots={b: tuple(ms) for b, ms in new_mappings.items()},
    )


# -- the use case -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ImportOutcome:
    """What an import did: stored or not, the reply, and the issues (errors refuse it;
    warnings come with a stored import)."""

    stored: bool
    text: str
    issues: tuple[ResultsIssue, ...] = ()

    @property
    def warnings(self) -> tuple[ResultsIssue, ...]:
        return tuple(i for i in self.issues if i.is_warning)

    @property
    def errors(self) -> tuple[ResultsIssue, ...]:
        return tuple(i for i in self.issues if not i.is_warning)


async def import_results(
    db: Database, files: Sequence[tuple[str, bytes]], by: Address = COMMAND_LINE
) -> ImportOutcome:
    """Check the files (CSV or one workbook) against what is imported and store them, all or
    nothing, in one transaction."""
    tables, issues = await asyncio.to_thread(read_results_files, files)
    if issues:
        return ImportOutcome(False, texts.import_refused(issues), tuple(issues))

    def check_and_store(tx: Transaction) -> ResultsImport:
        plan = check_import(tables, tx.results.state(), tx.unit_index())
        if plan.errors:
            return plan
        tx.results.replace_setup(plan.electoral_units, plan.candidates, plan.area_ballots)
        tx.audit(by, "import", texts.audit_detail([t.file for t in tables], _counts(plan)))
        return plan

    try:
        plan = await db.write(check_and_store)
    except ResultsHaveRecords as refused:  # a record arrived between the check and the write
        return ImportOutcome(False, texts.import_touches_records(refused.what))
    if plan.errors:
        return ImportOutcome(False, texts.import_refused(plan.issues), plan.issues)
    return ImportOutcome(True, texts.import_done(_counts(plan), plan.warnings), plan.issues)


def _counts(plan: ResultsImport) -> texts.ImportCounts:
    return texts.ImportCounts(
        ballots=tuple(
            b
            for b in Ballot
            if b in plan.electoral_units or b in plan.candidates or b in plan.area_ballots
        ),
        electoral_units=sum(map(len, plan.electoral_units.values())),
        candidates=sum(map(len, plan.candidates.values())),
        area_ballots=sum(map(len, plan.area_ballots.values())),
    )


def files_in_order(paths: Iterable[str]) -> list[str]:
    """Paths sorted in the import's order of tables (by name), others last."""

    def rank(path: str) -> int:
        kind = _kind_by_name(path)
        return len(_FILE_ORDER) if kind is None else _FILE_ORDER.index(kind)

    return sorted(paths, key=rank)
