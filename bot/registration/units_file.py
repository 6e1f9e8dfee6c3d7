"""The units file: a CSV (or, later, spreadsheet rows) describing the tree of units.

Pure: bytes or rows in, a validated `UnitTree` out, or `UnitsFileError` listing every
problem found. No I/O, no SQL, no chat platform, and no Vietnamese sentences: another module
turns each `ImportIssue` into a message for the user. The import takes the same units as
columns (`read_units_csv`, `read_unit_records` → `UnitTable`): a national list has ~90,000
units, and an object per unit is most of the import's memory.

The contract (columns matched by header name, case-insensitively, trimmed; any order;
unknown columns ignored):

==================  =========================  ==============================================
column              required                   meaning
==================  =========================  ==============================================
code                yes                        unique unit code: ASCII letters, digits, `-`,
                                               `_`, `.`; at most 32 characters; unique
                                               case-insensitively (`kv05` and `KV05` clash)
parent_code         yes (empty for a root)     code of the parent unit, case-insensitively
kind                yes                        free label: `tỉnh`, `xã`, `khu vực bỏ phiếu`…
name                yes                        display name
registered_voters   yes for leaves             integer ≥ 0; ignored on inner units (sums)
staff               no                         integer ≥ 0
contact_phones      no                         `;`-separated Vietnamese phone numbers
==================  =========================  ==============================================

Decisions worth knowing:

* Line numbers are the file's physical lines (header = line 1). A quoted value spanning
  several lines is reported at the line where its record starts.
* Blank rows (every cell empty or spaces) are skipped, wherever they are; a row with
  fewer fields than the header reads the missing cells as empty. A row with *more* fields
  than the header is an error (usually an unquoted comma in a name) and its cells are not
  checked further (they are likely shifted), though its code still counts as a unit.
* Counts: plain ASCII digits with optional surrounding spaces, or grouped with Vietnamese
  thousands dots (`1.250`, `12.500`). Rejected: `12.5`, `1,250`, `1 250`, `+3`, `abc`
  (`BAD_NUMBER`), `-3` (`NEGATIVE_NUMBER`), above 100,000,000 (`NUMBER_TOO_LARGE`).
  Spreadsheet numbers: `320` and `320.0` are 320; `320.5`, NaN and booleans are bad.
* `registered_voters` on an inner unit is checked (malformed → error) and then dropped:
  `UnitRow.registered_voters` is None for every inner unit. `staff` is kept on any unit.
* A unit's `parent_code` in the result is spelled as its parent's `code` (the file may
  use another letter case). `kind` and `name` are trimmed and NFC-normalised;
  `name` loses the core's emphasis characters (`bot.messaging.marked`).
* A code that is present but malformed still counts as "known" for parent look-ups, so
  its children do not cascade into `UNKNOWN_PARENT` errors.
* Header problems: a missing required column is reported once (line 1, column = the
  expected name); a known column given twice is `DUPLICATE_COLUMN`; a header that looks
  separated by `;` or tabs (Excel in Vietnamese locale) is `WRONG_DELIMITER`, alone.
* Issues are sorted by line, then by the column's position in the header (file-level
  issues without a column first), then by kind.
* Spreadsheet readers should pass code cells as text: a numeric cell `2752` becomes
  the code "2752" (a lost leading zero cannot be recovered here).
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final, NoReturn, cast

from pydantic import BaseModel, ConfigDict, NonNegativeInt, PositiveInt

from bot.messaging.marked import without_markers
from bot.registration.phones import normalize_phone

__all__ = [
    "MAX_CODE_LENGTH",
    "MAX_COUNT",
    "Cell",
    "ImportIssue",
    "ImportIssueKind",
    "UnitRow",
    "UnitTable",
    "UnitTree",
    "UnitsFileError",
    "parse_count",
    "parse_unit_records",
    "parse_units_csv",
    "read_unit_records",
    "read_units_csv",
]

Cell = str | int | float | None
"""One cell as a reader hands it over: text (CSV), or a number / None (spreadsheets)."""

MAX_COUNT: Final = 100_000_000  # more than the country's population: surely a typo
MAX_CODE_LENGTH: Final = 32

CODE: Final = "code"
PARENT_CODE: Final = "parent_code"
KIND: Final = "kind"
NAME: Final = "name"
REGISTERED_VOTERS: Final = "registered_voters"
STAFF: Final = "staff"
CONTACT_PHONES: Final = "contact_phones"

REQUIRED_COLUMNS: Final = (CODE, PARENT_CODE, KIND, NAME, REGISTERED_VOTERS)
KNOWN_COLUMNS: Final = (*REQUIRED_COLUMNS, STAFF, CONTACT_PHONES)


class ImportIssueKind(StrEnum):
    """Why a units file was rejected; another module turns each into Vietnamese text."""

    # the file as a whole (line 1 or the line where reading stopped; column None)
    NOT_UTF8 = "not_utf8"  # undecodable bytes or NUL characters; value = the bytes, hex
    EMPTY_FILE = "empty_file"  # nothing but blank lines
    NO_UNITS = "no_units"  # a header, but no unit rows
    MALFORMED_CSV = "malformed_csv"  # the CSV reader gave up (e.g. a field over 128 KiB)
    WRONG_DELIMITER = "wrong_delimiter"  # header separated by `;` / tab; value = it
    # the header (line 1)
    MISSING_COLUMN = "missing_column"  # column = the expected name
    DUPLICATE_COLUMN = "duplicate_column"  # a known column twice; column = 2nd spelling
    # one row
    TOO_MANY_FIELDS = "too_many_fields"  # value = the extra fields joined by `,`
    EMPTY_VALUE = "empty_value"  # code, kind or name empty
    BAD_CODE = "bad_code"  # characters outside [A-Za-z0-9._-] or too long
    DUPLICATE_CODE = "duplicate_code"  # related_lines = (line of the first use,)
    UNKNOWN_PARENT = "unknown_parent"  # parent_code names no row's code
    CYCLE = "cycle"  # each row of the cycle; related_lines = its other rows (first 10)
    MISSING_VOTERS = "missing_voters"  # a leaf without registered_voters
    BAD_NUMBER = "bad_number"  # not a whole number
    NEGATIVE_NUMBER = "negative_number"
    NUMBER_TOO_LARGE = "number_too_large"  # above MAX_COUNT
    BAD_PHONE = "bad_phone"  # value = the one bad number of the list


class ImportIssue(BaseModel):
    """One problem of a units file, located by line and column."""

    model_config = ConfigDict(frozen=True)

    line: PositiveInt  # the file's line; the header is line 1
    column: str | None  # header name as written in the file (or the expected name)
    kind: ImportIssueKind
    value: str | None = None  # the offending value, trimmed, for the message
    related_lines: tuple[int, ...] = ()  # other lines involved (duplicate, cycle)


class UnitRow(BaseModel):
    """One validated unit, as the file describes it."""

    model_config = ConfigDict(frozen=True)

    line: PositiveInt
    code: str
    parent_code: str | None  # the parent's code as spelled on the parent's row
    kind: str
    name: str
    registered_voters: NonNegativeInt | None  # leaves only; None for inner units
    staff: NonNegativeInt | None
    contact_phones: tuple[str, ...] = ()  # `+84…`, deduplicated, file order


class UnitsFileError(Exception):
    """The file was rejected; `issues` lists every problem, sorted by line then column."""

    def __init__(self, issues: list[ImportIssue]) -> None:
        super().__init__(f"units file rejected: {len(issues)} issue(s)")
        self.issues = issues


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class UnitTree:
    """Validated units in topological order: every parent before its children, file order
    otherwise (a parent listed after its child moves up to just before that child).

    Codes are looked up case-insensitively; an unknown code raises KeyError.
    """

    units: tuple[UnitRow, ...]
    _index: dict[str, int] = field(repr=False)  # code.lower() -> position in units
    _parents: tuple[int, ...] = field(repr=False)  # position of the parent, -1 for a root
    _children: tuple[tuple[int, ...], ...] = field(repr=False)
    _depths: tuple[int, ...] = field(repr=False)

    def __len__(self) -> int:
        return len(self.units)

    def __repr__(self) -> str:
        return f"<UnitTree: {len(self.units)} units, {len(self.roots)} root(s)>"

    def __iter__(self) -> Iterator[UnitRow]:
        return iter(self.units)

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and code.strip().lower() in self._index

    def __getitem__(self, code: str) -> UnitRow:
        return self.units[self._position(code)]

    def get(self, code: str) -> UnitRow | None:
        position = self._index.get(code.strip().lower())
        return None if position is None else self.units[position]

    @property
    def roots(self) -> tuple[UnitRow, ...]:
        return tuple(u for u, p in zip(self.units, self._parents, strict=True) if p < 0)

    @property
    def leaves(self) -> tuple[UnitRow, ...]:
        return tuple(u for u, c in zip(self.units, self._children, strict=True) if not c)

    def children(self, code: str) -> tuple[UnitRow, ...]:
        return tuple(self.units[i] for i in self._children[self._position(code)])

    def is_leaf(self, code: str) -> bool:
        return not self._children[self._position(code)]

    def depth(self, code: str) -> int:
        """0 for a root."""
        return self._depths[self._position(code)]

    def _position(self, code: str) -> int:
        try:
            return self._index[code.strip().lower()]
        except KeyError:
            raise KeyError(code) from None


@dataclass(frozen=True, slots=True, eq=False)
class UnitTable:
    """Validated units as columns, in the order of `UnitTree` (parents first): what the
    import stores, without an object per unit (a national list has ~90,000).

    Row `i` of every column is one unit; `parents[i]` is its parent's row (-1 for a root),
    `parent_codes[i]` the parent's code as spelled on the parent's row, and
    `registered_voters[i]` is None for an inner unit. `tree()` gives the `UnitTree`."""

    lines: Sequence[int]
    codes: list[str]
    parent_codes: list[str | None]
    kinds: list[str]
    names: list[str]
    registered_voters: list[int | None]
    staff: list[int | None]
    contact_phones: list[tuple[str, ...]]
    parents: list[int]
    has_children: list[bool]

    def __len__(self) -> int:
        return len(self.codes)

    def tree(self) -> UnitTree:
        return _build_tree(self)


# --------------------------------------------------------------------------- parsing


def parse_units_csv(data: bytes) -> UnitTree:
    """Parse a units CSV file (UTF-8, with or without BOM); raise UnitsFileError."""
    return read_units_csv(data).tree()


def parse_unit_records(
    header: Sequence[Cell], rows: Iterable[Sequence[Cell]], first_line: int = 2
) -> UnitTree:
    """Validate rows from any tabular reader (cells: text, numbers or None); raise
    UnitsFileError. `first_line` is the line of the first row, the header's is the one
    before it."""
    return read_unit_records(header, rows, first_line).tree()


def read_units_csv(data: bytes) -> UnitTable:
    """`parse_units_csv` without a `UnitRow` per unit: the same checks, the same errors."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        bad = data[exc.start : exc.end].hex(" ")
        raise UnitsFileError([_issue(line, None, ImportIssueKind.NOT_UTF8, bad)]) from None
    nul = text.find("\x00")
    if nul >= 0:  # UTF-16 without a BOM decodes "fine" as UTF-8, with NULs everywhere
        line = text.count("\n", 0, nul) + 1
        raise UnitsFileError([_issue(line, None, ImportIssueKind.NOT_UTF8, "00")])

    rows, lines, stopped = _read_csv(text)
    del text  # the rows hold the cells: the whole text need not stay meanwhile
    start = 0
    while start < len(rows) and _is_blank(rows[start]):
        start += 1  # blank lines before the header
    if start == len(rows):
        empty = _issue(1, None, ImportIssueKind.EMPTY_FILE, None)
        raise UnitsFileError([stopped if stopped is not None else empty])
    header = rows[start]
    del rows[: start + 1]
    table = cast("list[Sequence[Cell]]", rows)
    del rows
    return _validate(header, lines[start], lines[start + 1 :], table, stopped, text_only=True)


def read_unit_records(
    header: Sequence[Cell], rows: Iterable[Sequence[Cell]], first_line: int = 2
) -> UnitTable:
    """`parse_unit_records` without a `UnitRow` per unit: the same checks, the same errors."""
    if first_line < 2:
        raise ValueError("first_line: the header needs a line before the first row")
    table = list(rows)
    lines = range(first_line, first_line + len(table))
    return _validate(header, first_line - 1, lines, table, None, text_only=False)


# --------------------------------------------------------------------------- internals

_CODE_RE: Final = re.compile(rf"[A-Za-z0-9._-]{{1,{MAX_CODE_LENGTH}}}")
_PLAIN_NUMBER: Final = re.compile(r"[0-9]+")
_GROUPED_NUMBER: Final = re.compile(r"[0-9]{1,3}(?:\.[0-9]{3})+")
_MAX_DIGITS: Final = len(str(MAX_COUNT))
_MAX_VALUE_CHARS: Final = 200  # issue values are for messages: keep them short
_MAX_RELATED: Final = 10  # a cycle's other lines listed on each of its rows, at most
_KIND_ORDER: Final = {kind: i for i, kind in enumerate(ImportIssueKind)}


_LINE: Final = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")


def _lines(text: str) -> Iterator[str]:
    """The text's lines as `io.StringIO(text, newline="")` gives them (ending at `\\n`,
    `\\r\\n` or a lone `\\r`, which stay on the line), one at a time: a StringIO would
    first copy a national file into 4 bytes a character."""
    return map(re.Match.group, _LINE.finditer(text))


_SHARED_COLUMNS: Final = (PARENT_CODE, KIND, REGISTERED_VOTERS, STAFF)
_MAX_SHARED: Final = 8192  # distinct values kept per column


class _SharedCells:
    """Makes equal cells of the columns that repeat (kind, parent code, counts) one string.

    A national file has ~90,000 rows: without this, each row's copy of "khu vực bỏ phiếu",
    of its parent's code and of its counts stays in memory until the whole file is checked.
    Columns are found in the first non-blank row as the checks find them; a mistake here only
    shares less, it changes no value."""

    def __init__(self) -> None:
        self._columns: list[tuple[int, dict[str, str]]] | None = None

    def __call__(self, row: list[str]) -> list[str]:
        columns = self._columns
        if columns is None:
            if _is_blank(row):
                return row
            names = [cell.strip().lstrip("\ufeff").strip().lower() for cell in row]
            self._columns = [(names.index(n), {}) for n in _SHARED_COLUMNS if n in names]
            return row
        width = len(row)
        for index, cells in columns:
            if index < width:
                cell = row[index]
                shared = cells.get(cell)
                if shared is not None:
                    row[index] = shared
                elif len(cells) < _MAX_SHARED:
                    cells[cell] = cell
        return row


def _read_csv(text: str) -> tuple[list[list[str]], Sequence[int], ImportIssue | None]:
    """Records, the line where each starts, and the issue that stopped the reader if any."""
    reader = csv.reader(_lines(text))
    try:
        rows = list(map(_SharedCells(), reader))
    except csv.Error:
        pass
    else:
        if reader.line_num == len(rows):  # one line per record: the usual case, fast
            return rows, range(1, len(rows) + 1), None
    # a value spans several lines, or the reader gave up: track the line of each record
    reader = csv.reader(_lines(text))
    share = _SharedCells()
    rows, lines, start = [], [], 1
    try:
        for row in reader:
            rows.append(share(row))
            lines.append(start)
            start = reader.line_num + 1
    except csv.Error:
        return rows, lines, _issue(start, None, ImportIssueKind.MALFORMED_CSV, None)
    return rows, lines, None


def _issue(
    line: int,
    column: str | None,
    kind: ImportIssueKind,
    value: str | None,
    related: tuple[int, ...] = (),
) -> ImportIssue:
    if value is not None and len(value) > _MAX_VALUE_CHARS:
        value = value[: _MAX_VALUE_CHARS - 1] + "…"
    return ImportIssue(line=line, column=column, kind=kind, value=value, related_lines=related)


def _text(cell: object) -> str:
    if cell is None:
        return ""
    if isinstance(cell, str):
        return cell
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell)


def _is_blank(cells: Sequence[object]) -> bool:
    return not "".join(_text(c) for c in cells).strip()


def _clean(text: str) -> str:
    """Trimmed, NFC (text typed with decomposed accents compares equal to precomposed)."""
    text = text.strip()
    if text.isascii() or unicodedata.is_normalized("NFC", text):
        return text
    return unicodedata.normalize("NFC", text)


def _parse_count(cell: object) -> int | ImportIssueKind | None:
    """None for an empty cell, else the count or why it is not one."""
    if cell is None:
        return None
    if isinstance(cell, bool):
        return ImportIssueKind.BAD_NUMBER
    if isinstance(cell, int):
        number = cell
    elif isinstance(cell, float):
        if not cell.is_integer():  # also NaN and infinities
            return ImportIssueKind.BAD_NUMBER
        number = int(cell)
    else:
        text = _text(cell).strip()
        if not text:
            return None
        negative = text.startswith("-")
        body = text[1:] if negative else text
        if _PLAIN_NUMBER.fullmatch(body):
            digits = body
        elif _GROUPED_NUMBER.fullmatch(body):
            digits = body.replace(".", "")
        else:
            return ImportIssueKind.BAD_NUMBER
        if negative:
            return ImportIssueKind.NEGATIVE_NUMBER
        digits = digits.lstrip("0") or "0"
        if len(digits) > _MAX_DIGITS:  # also keeps int() away from huge strings
            return ImportIssueKind.NUMBER_TOO_LARGE
        number = int(digits)
    if number < 0:
        return ImportIssueKind.NEGATIVE_NUMBER
    if number > MAX_COUNT:
        return ImportIssueKind.NUMBER_TOO_LARGE
    return number


parse_count = _parse_count  # the import of the ballot files reads counts the same way


def _guess_delimiter(header: Sequence[Cell]) -> str | None:
    """`;` or tab if one header cell, split on it, holds every required column."""
    for cell in header:
        text = _text(cell)
        for delimiter in (";", "\t"):
            if delimiter in text:
                names = {part.strip().lstrip("\ufeff").lower() for part in text.split(delimiter)}
                if names.issuperset(REQUIRED_COLUMNS):
                    return delimiter
    return None


def _validate(
    header: Sequence[Cell],
    header_line: int,
    lines: Sequence[int],
    table: list[Sequence[Cell]],
    stopped: ImportIssue | None,
    text_only: bool,
) -> UnitTable:
    """Check everything and collect every issue. `table` (ours to change) holds the rows
    after the header, `lines` their line numbers; `text_only`: every cell is a str.

    Works column by column with comprehensions and per-row slow paths only where a cell is
    unusual: a national file has ~100,000 rows and per-row Python code is what costs.
    """
    issues: list[ImportIssue] = []
    add = issues.append
    Kind = ImportIssueKind

    # ---- header
    columns: dict[str, int] = {}  # canonical name -> index in the row
    labels: dict[str, str] = {}  # canonical name -> as written in the header
    rank: dict[str | None, int] = {None: -1}  # column label -> sort position
    for index, cell in enumerate(header):
        label = _text(cell).strip()
        if index == 0:
            label = label.lstrip("\ufeff").strip()
        rank.setdefault(label, index)
        key = label.lower()
        if key not in KNOWN_COLUMNS:
            continue
        if key in columns:
            add(_issue(header_line, label, Kind.DUPLICATE_COLUMN, label))
        else:
            columns[key] = index
            labels[key] = label
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    if missing:
        delimiter = _guess_delimiter(header)
        if delimiter is not None:
            raise UnitsFileError([_issue(header_line, None, Kind.WRONG_DELIMITER, delimiter)])
        for name in missing:
            rank.setdefault(name, len(header) + KNOWN_COLUMNS.index(name))
            add(_issue(header_line, name, Kind.MISSING_COLUMN, None))
    width = len(header)
    col_code = columns.get(CODE)
    col_parent = columns.get(PARENT_CODE)
    col_kind = columns.get(KIND)
    col_name = columns.get(NAME)
    col_voters = columns.get(REGISTERED_VOTERS)
    col_staff = columns.get(STAFF)
    col_phones = columns.get(CONTACT_PHONES)

    # ---- rows as text, without blank rows, all `width` wide
    raw = table
    texts = (
        cast("list[Sequence[str]]", raw)
        if text_only
        else [[c if type(c) is str else _text(c) for c in row] for row in raw]
    )
    if col_code is None:
        maybe_blank: Iterable[int] = range(len(texts))
    else:
        cc = col_code
        maybe_blank = [
            i for i, t in enumerate(texts) if len(t) <= cc or not t[cc] or t[cc].isspace()
        ]
    blank = {i for i in maybe_blank if not "".join(texts[i]).strip()}
    if blank:
        keep = [i for i in range(len(texts)) if i not in blank]
        lines = [lines[i] for i in keep]
        raw = [raw[i] for i in keep]
        texts = cast("list[Sequence[str]]", raw) if text_only else [texts[i] for i in keep]
    n = len(texts)
    unchecked: set[int] = set()  # rows with too many fields: their cells are not checked
    for i in [i for i, t in enumerate(texts) if len(t) != width]:
        t = texts[i]
        if len(t) < width:  # missing trailing cells read as empty
            texts[i] = [*t, *[""] * (width - len(t))]
            if raw is not texts:
                raw[i] = [*raw[i], *[None] * (width - len(t))]
        else:  # likely shifted by an unquoted comma
            add(_issue(lines[i], None, Kind.TOO_MANY_FIELDS, ",".join(t[width:])))
            unchecked.add(i)

    # ---- codes: legal, unique
    first: dict[str, int] = {}  # code.lower() -> index of its first row
    if col_code is None:
        codes = [""] * n
        registered = [False] * n  # row is the first use of its code
    else:
        codes = [t[col_code].strip() for t in texts]
        label = labels[CODE]
        for i in [i for i, m in enumerate(map(_CODE_RE.fullmatch, codes)) if m is None]:
            if codes[i]:
                add(_issue(lines[i], label, Kind.BAD_CODE, codes[i]))
            elif i not in unchecked:
                add(_issue(lines[i], label, Kind.EMPTY_VALUE, None))
        keys = [c.lower() for c in codes]
        first = dict(zip(reversed(keys), range(n - 1, -1, -1), strict=True))
        first.pop("", None)
        if len(first) + keys.count("") == n:
            registered = [bool(k) for k in keys]
        else:
            registered = [bool(k) and first[k] == i for i, k in enumerate(keys)]
            for i in [i for i, r in enumerate(registered) if not r and keys[i]]:
                related = (lines[first[keys[i]]],)
                add(_issue(lines[i], label, Kind.DUPLICATE_CODE, codes[i], related))

    # ---- text cells
    kinds = names = [""] * n
    if col_kind is not None:
        written = [t[col_kind] for t in texts]
        cleaned = {k: _clean(k) for k in set(written)}  # few distinct kinds
        kinds = [cleaned[k] for k in written]
        for i in [i for i, k in enumerate(kinds) if not k and i not in unchecked]:
            add(_issue(lines[i], labels[KIND], Kind.EMPTY_VALUE, None))
    if col_name is not None:
        is_nfc, nfc = unicodedata.is_normalized, unicodedata.normalize
        names = [without_markers(t[col_name]).strip() for t in texts]  # no forged emphasis
        names = [s if s.isascii() or is_nfc("NFC", s) else nfc("NFC", s) for s in names]
        for i in [i for i, s in enumerate(names) if not s and i not in unchecked]:
            add(_issue(lines[i], labels[NAME], Kind.EMPTY_VALUE, None))

    # ---- counts
    def counts(col: int | None, column: str) -> tuple[list[int | None], list[int]]:
        """The counts of a column (None: empty or bad) and the rows where it is empty."""
        if col is None:
            return [None] * n, []
        cells = [t[col].strip() for t in texts]
        values: list[int | None] = [
            int(s) if s.isdigit() and len(s) < _MAX_DIGITS and s.isascii() else None for s in cells
        ]
        empty: list[int] = []
        for i in [i for i, v in enumerate(values) if v is None and i not in unchecked]:
            cell = raw[i][col]
            result = _parse_count(cell)
            if result is None:
                empty.append(i)
            elif isinstance(result, ImportIssueKind):
                add(_issue(lines[i], labels[column], result, _text(cell).strip()))
            else:
                values[i] = result
        return values, empty

    voters, voters_empty = counts(col_voters, REGISTERED_VOTERS)
    staff, _ = counts(col_staff, STAFF)

    # ---- phones
    phones: list[tuple[str, ...]] = [()] * n
    if col_phones is not None:
        written = [t[col_phones] for t in texts]
        single = [normalize_phone(s) if s and ";" not in s else None for s in written]
        phones = [() if p is None else (p,) for p in single]
        for i in [i for i, p in enumerate(single) if p is None and written[i]]:
            if i not in unchecked and not written[i].isspace():
                phones[i] = _phones(lines[i], written[i], labels[CONTACT_PHONES], add)

    if stopped is not None:
        add(stopped)  # the file was cut short: structure checks would only add noise
        _raise(issues, rank)
    if n == 0:
        add(_issue(header_line, None, Kind.NO_UNITS, None))
        _raise(issues, rank)
    if col_code is None or col_parent is None:
        _raise(issues, rank)  # MISSING_COLUMN is among them

    # ---- structure: parents, cycles, leaves
    parent_codes = [t[col_parent].strip() for t in texts]
    parents = [first.get(p.lower(), -2) if p else -1 for p in parent_codes]  # -2: unknown
    for i in [i for i, p in enumerate(parents) if p == -2]:
        add(_issue(lines[i], labels[PARENT_CODE], Kind.UNKNOWN_PARENT, parent_codes[i]))
        parents[i] = -1
    # a cycle needs a parent at or after its child: files in parent-first order skip this
    order: Sequence[int] = range(n)
    placed: Sequence[int] = order  # row index -> position in `order`
    if any([p >= i for i, p in enumerate(parents)]):
        order, placed, cycles = _walk(parents)
        for cycle in cycles:
            shown = sorted(lines[i] for i in cycle)[: _MAX_RELATED + 1]
            for i in cycle:
                others = tuple(line for line in shown if line != lines[i])[:_MAX_RELATED]
                column = labels[PARENT_CODE]
                add(_issue(lines[i], column, Kind.CYCLE, parent_codes[i], others))
    named = set(parents)
    has_child = [i in named for i in range(n)]
    for i in voters_empty:
        if registered[i] and not has_child[i]:
            add(_issue(lines[i], labels[REGISTERED_VOTERS], Kind.MISSING_VOTERS, None))
    if issues:
        _raise(issues, rank)

    return _table(
        order, placed, lines, codes, parents, has_child, kinds, names, voters, staff, phones
    )


def _phones(
    line: int, text: str, column: str, add: Callable[[ImportIssue], None]
) -> tuple[str, ...]:
    """The `;`-separated list, normalised, deduplicated in order; each bad one reported."""
    found: dict[str, None] = {}
    for piece in text.split(";"):
        piece = piece.strip()
        if not piece:
            continue
        phone = normalize_phone(piece)
        if phone is None:
            add(_issue(line, column, ImportIssueKind.BAD_PHONE, piece))
        else:
            found[phone] = None
    return tuple(found)


def _walk(parents: list[int]) -> tuple[list[int], list[int], list[list[int]]]:
    """Topological order by following parent links, iteratively, each row once.

    Returns the order (an ancestor listed late moves up to just before its first
    descendant), each row's position in it, and the cycles found (rows in link order).
    Rows on or below a cycle get no position (-3).
    """
    unseen, walking, stuck = -1, -2, -3
    placed = [unseen] * len(parents)
    order: list[int] = []
    cycles: list[list[int]] = []
    for start in range(len(parents)):
        if placed[start] != unseen:
            continue
        path: list[int] = []
        node = start
        while node >= 0 and placed[node] == unseen:
            placed[node] = walking
            path.append(node)
            node = parents[node]
        if node >= 0 and placed[node] in (walking, stuck):
            if placed[node] == walking:  # came back onto this very walk
                cycles.append(path[path.index(node) :])
            for i in path:
                placed[i] = stuck
            continue
        for i in reversed(path):
            placed[i] = len(order)
            order.append(i)
    return order, placed, cycles


def _raise(issues: list[ImportIssue], rank: dict[str | None, int]) -> NoReturn:
    """Sorted by line, then column (header position), then kind."""
    last = len(rank)
    issues.sort(key=lambda i: (i.line, rank.get(i.column, last), _KIND_ORDER[i.kind]))
    raise UnitsFileError(issues)


def _table(
    order: Sequence[int],
    placed: Sequence[int],
    lines: Sequence[int],
    codes: list[str],
    parents: list[int],
    has_child: list[bool],
    kinds: list[str],
    names: list[str],
    voters: list[int | None],
    staff: list[int | None],
    phones: list[tuple[str, ...]],
) -> UnitTable:
    """The table of a valid file (codes unique, parents known, no cycle), in `order`;
    `placed`: each row's position in `order`."""
    parent_codes = [None if p < 0 else codes[p] for p in parents]
    voters = [None if c else v for c, v in zip(has_child, voters, strict=True)]
    if not isinstance(order, range):  # a parent listed after its child: reorder the columns
        lines = [lines[i] for i in order]
        codes = [codes[i] for i in order]
        parent_codes = [parent_codes[i] for i in order]
        kinds = [kinds[i] for i in order]
        names = [names[i] for i in order]
        voters = [voters[i] for i in order]
        staff = [staff[i] for i in order]
        phones = [phones[i] for i in order]
        has_child = [has_child[i] for i in order]
        parents = [-1 if parents[i] < 0 else placed[parents[i]] for i in order]
    return UnitTable(
        lines=lines,
        codes=codes,
        parent_codes=parent_codes,
        kinds=kinds,
        names=names,
        registered_voters=voters,
        staff=staff,
        contact_phones=phones,
        parents=parents,
        has_children=has_child,
    )


_ALL_ROW_FIELDS: Final = frozenset(UnitRow.model_fields)


def _build_tree(table: UnitTable) -> UnitTree:
    """The `UnitTree` of a table: a `UnitRow` per unit, and the lookups."""
    n = len(table)
    codes, tree_parents = table.codes, table.parents
    depths = [0] * n  # parents come first
    for position, parent in enumerate(tree_parents):
        if parent >= 0:
            depths[position] = depths[parent] + 1
    children: list[list[int]] = [[] for _ in range(n)]
    for position, parent in enumerate(tree_parents):
        if parent >= 0:
            children[parent].append(position)
    # UnitRows from values validated above, built without validating again: what
    # `UnitRow.model_construct` does, minus its per-field Python loop. Pydantic validation
    # (~7 µs a row here) or `model_construct` (~5 µs) would be a good part of the time
    # spent on a national file. tests/test_units_file.py checks these rows equal validated
    # ones (equality, hash, repr, fields set, frozen).
    new, set_attribute, fields_set = object.__new__, object.__setattr__, _ALL_ROW_FIELDS
    units: list[UnitRow] = []
    append = units.append
    for line, code, parent_code, kind, name, voters, staff, phones in zip(
        table.lines,
        codes,
        table.parent_codes,
        table.kinds,
        table.names,
        table.registered_voters,
        table.staff,
        table.contact_phones,
        strict=True,
    ):
        row = new(UnitRow)
        set_attribute(
            row,
            "__dict__",
            {
                "line": line,
                "code": code,
                "parent_code": parent_code,
                "kind": kind,
                "name": name,
                "registered_voters": voters,
                "staff": staff,
                "contact_phones": phones,
            },
        )
        set_attribute(row, "__pydantic_fields_set__", fields_set)
        set_attribute(row, "__pydantic_extra__", None)
        set_attribute(row, "__pydantic_private__", None)
        append(row)
    return UnitTree(
        units=tuple(units),
        _index=dict(zip([code.lower() for code in codes], range(n), strict=True)),
        _parents=tuple(tree_parents),
        _children=tuple(map(tuple, children)),
        _depths=tuple(depths),
    )
