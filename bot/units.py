"""The units file: a CSV (or, later, spreadsheet rows) describing the tree of units.

Pure: bytes or rows in, a validated `UnitTree` out, or `UnitsFileError` listing every
problem found. No I/O, no SQL, no Telegram, and no Vietnamese sentences: another module
turns each `ImportIssue` into a message for the user.

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
  use another letter case). `kind` and `name` are trimmed and NFC-normalised.
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
import io
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final, NoReturn, cast

from pydantic import BaseModel, ConfigDict, NonNegativeInt, PositiveInt

from bot.phones import normalize_phone

__all__ = [
    "MAX_COUNT",
    "Cell",
    "ImportIssue",
    "ImportIssueKind",
    "UnitRow",
    "UnitTree",
    "UnitsFileError",
    "parse_unit_records",
    "parse_units_csv",
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
    CYCLE = "cycle"  # each row of the cycle; related_lines = all of its lines
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


@dataclass(frozen=True, slots=True, eq=False)
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


# --------------------------------------------------------------------------- parsing


def parse_units_csv(data: bytes) -> UnitTree:
    """Parse a units CSV file (UTF-8, with or without BOM); raise UnitsFileError."""
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

    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    header_line = 1
    records: list[tuple[int, list[str]]] = []
    stopped: ImportIssue | None = None
    start = 1
    try:
        for row in reader:
            line, start = start, reader.line_num + 1
            if header is None:
                if _is_blank(row):
                    continue
                header, header_line = row, line
            else:
                records.append((line, row))
    except csv.Error:
        stopped = _issue(start, None, ImportIssueKind.MALFORMED_CSV, None)
    if header is None:
        if stopped is not None:
            raise UnitsFileError([stopped])
        raise UnitsFileError([_issue(1, None, ImportIssueKind.EMPTY_FILE, None)])
    return _validate(header, header_line, records, stopped, text_only=True)


def parse_unit_records(
    header: Sequence[Cell], rows: Iterable[Sequence[Cell]], first_line: int = 2
) -> UnitTree:
    """Validate rows from any tabular reader; `first_line` is the line of the first row
    (the header is the line before it). Raise UnitsFileError."""
    header_line = max(first_line - 1, 1)
    return _validate(header, header_line, enumerate(rows, start=header_line + 1), None)


# --------------------------------------------------------------------------- internals

_CODE_RE: Final = re.compile(r"[A-Za-z0-9._-]+")
_PLAIN_NUMBER: Final = re.compile(r"[0-9]+")
_GROUPED_NUMBER: Final = re.compile(r"[0-9]{1,3}(?:\.[0-9]{3})+")
_MAX_DIGITS: Final = len(str(MAX_COUNT))
_MAX_VALUE_CHARS: Final = 200  # issue values are for messages: keep them short


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


def _parse_count(cell: object) -> int | ImportIssueKind | None:
    """None for an empty cell, else the count or why it is not one."""
    if type(cell) is str:  # fast path for the usual "  320 "
        text = cell.strip()
        if len(text) < _MAX_DIGITS and text.isdigit() and text.isascii():
            return int(text)
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


# A row after the cell checks: line, code, parent code as written ("" for a root), kind,
# name, registered voters, staff, phones, cells checked (False: too many fields), first use
# of its code, registered_voters cell empty.
_Record = tuple[int, str, str, str, str, int | None, int | None, tuple[str, ...], bool, bool, bool]


def _validate(
    header: Sequence[Cell],
    header_line: int,
    rows: Iterable[tuple[int, Sequence[Cell]]],
    stopped: ImportIssue | None,
    text_only: bool = False,
) -> UnitTree:
    """Check everything, collect every issue; `text_only`: every cell is a str already."""
    issues: list[ImportIssue] = []
    add = issues.append
    Kind = ImportIssueKind

    # ---- header
    columns: dict[str, int] = {}  # canonical name -> index in the row
    labels: dict[str, str] = {}  # canonical name -> as written in the header
    order: dict[str | None, int] = {None: -1}  # column label -> sort position
    for index, cell in enumerate(header):
        label = _text(cell).strip()
        if index == 0:
            label = label.lstrip("\ufeff").strip()
        order.setdefault(label, index)
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
            order.setdefault(name, len(header) + KNOWN_COLUMNS.index(name))
            add(_issue(header_line, name, Kind.MISSING_COLUMN, None))
    width = len(header)

    col_code = columns.get(CODE)
    col_parent = columns.get(PARENT_CODE)
    col_kind = columns.get(KIND)
    col_name = columns.get(NAME)
    col_voters = columns.get(REGISTERED_VOTERS)
    col_staff = columns.get(STAFF)
    col_phones = columns.get(CONTACT_PHONES)

    def count(line: int, cell: Cell, column: str) -> int | None:
        result = _parse_count(cell)
        if isinstance(result, ImportIssueKind):
            add(_issue(line, labels[column], result, _text(cell).strip()))
            return None
        return result

    # ---- rows, cell by cell (the hot loop: keep it lean)
    records: list[_Record] = []
    first: dict[str, int] = {}  # code.lower() -> index of the record that first used it
    kinds: dict[str, str] = {}  # kind as written -> cleaned
    for line, row in rows:
        texts: Sequence[str] = (
            cast("Sequence[str]", row)
            if text_only
            else [c if type(c) is str else _text(c) for c in row]
        )
        checked = True
        if len(texts) != width:
            if not "".join(texts).strip():
                continue  # a blank row
            if len(texts) < width:  # missing trailing cells read as empty
                texts = [*texts, *[""] * (width - len(texts))]
                row = [*row, *[None] * (width - len(row))]
            else:  # likely shifted by an unquoted comma: do not check its cells
                add(_issue(line, None, Kind.TOO_MANY_FIELDS, ",".join(texts[width:])))
                checked = False

        code = texts[col_code].strip() if col_code is not None else ""
        if not code and not "".join(texts[:width]).strip():
            continue  # a blank row
        parent_raw = texts[col_parent].strip() if col_parent is not None else ""
        is_first = False
        if col_code is not None:
            if not code:
                if checked:
                    add(_issue(line, labels[CODE], Kind.EMPTY_VALUE, None))
            else:
                if len(code) > MAX_CODE_LENGTH or not _CODE_RE.fullmatch(code):
                    add(_issue(line, labels[CODE], Kind.BAD_CODE, code))
                key = code.lower()
                earlier = first.get(key)
                if earlier is None:
                    first[key] = len(records)
                    is_first = True
                else:
                    first_use = (records[earlier][0],)
                    add(_issue(line, labels[CODE], Kind.DUPLICATE_CODE, code, first_use))

        kind = name = ""
        voters = staff = None
        phones: tuple[str, ...] = ()
        empty_voters = False
        if checked:
            if col_kind is not None:
                raw_kind = texts[col_kind]
                kind = kinds.get(raw_kind, "")  # few distinct kinds: clean each once
                if not kind:
                    kind = kinds[raw_kind] = _clean(raw_kind)
                    if not kind:
                        add(_issue(line, labels[KIND], Kind.EMPTY_VALUE, None))
            if col_name is not None:
                name = _clean(texts[col_name])
                if not name:
                    add(_issue(line, labels[NAME], Kind.EMPTY_VALUE, None))
            if col_voters is not None:
                cell = row[col_voters]
                text = cell.strip() if type(cell) is str else None
                if text and len(text) < _MAX_DIGITS and text.isdigit() and text.isascii():
                    voters = int(text)  # the usual case, fast
                elif text == "" or cell is None:
                    empty_voters = True
                else:
                    voters = count(line, cell, REGISTERED_VOTERS)
            if col_staff is not None:
                cell = row[col_staff]
                text = cell.strip() if type(cell) is str else None
                if text and len(text) < _MAX_DIGITS and text.isdigit() and text.isascii():
                    staff = int(text)
                elif text or (text is None and cell is not None):
                    staff = count(line, cell, STAFF)
            if col_phones is not None:
                text = texts[col_phones]
                if text and not text.isspace():
                    phones = _phones(line, text, labels[CONTACT_PHONES], add)

        records.append(
            (line, code, parent_raw, kind, name, voters, staff, phones, checked, is_first,
             empty_voters)
        )  # fmt: skip

    if stopped is not None:
        add(stopped)  # the file was cut short: structure checks would only add noise
        _raise(issues, order)
    if not records:
        add(_issue(header_line, None, Kind.NO_UNITS, None))
        _raise(issues, order)

    # ---- structure: parents, cycles, leaves
    parents = [-1] * len(records)  # index of the parent record; -1: root or unknown
    if col_code is not None and col_parent is not None:
        has_child = [False] * len(records)
        for index, record in enumerate(records):
            parent_raw = record[2]
            if not parent_raw:
                continue
            parent = first.get(parent_raw.lower())
            if parent is None:
                column = labels[PARENT_CODE]
                add(_issue(record[0], column, Kind.UNKNOWN_PARENT, parent_raw))
            else:
                parents[index] = parent
                has_child[parent] = True
        _find_cycles(records, parents, labels[PARENT_CODE], add)
        if col_voters is not None:
            column = labels[REGISTERED_VOTERS]
            for index, record in enumerate(records):
                # a leaf (first use of its code, checked) without its list size
                if record[10] and record[9] and record[8] and not has_child[index]:
                    add(_issue(record[0], column, Kind.MISSING_VOTERS, None))
        if not issues:
            return _build_tree(records, parents, has_child)
    _raise(issues, order)


def _clean(text: str) -> str:
    """Trimmed, NFC (text typed with decomposed accents compares equal to precomposed)."""
    text = text.strip()
    if text.isascii() or unicodedata.is_normalized("NFC", text):
        return text
    return unicodedata.normalize("NFC", text)


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


def _find_cycles(
    records: list[_Record],
    parents: list[int],
    column: str,
    add: Callable[[ImportIssue], None],
) -> None:
    """Report every record on a parent cycle. Iterative: each record is walked once.
    Only first uses of a code are linked as parents, so duplicates never join a cycle."""
    state = [0] * len(records)  # 0 unseen, 1 on the current walk, 2 done
    for start in range(len(records)):
        if state[start]:
            continue
        path: list[int] = []
        node = start
        while node >= 0 and state[node] == 0:
            state[node] = 1
            path.append(node)
            node = parents[node]
        if node >= 0 and state[node] == 1:
            cycle = path[path.index(node) :]
            lines = tuple(sorted(records[i][0] for i in cycle))
            for i in cycle:
                line, parent_raw = records[i][0], records[i][2]
                add(_issue(line, column, ImportIssueKind.CYCLE, parent_raw, lines))
        for i in path:
            state[i] = 2


def _raise(issues: list[ImportIssue], order: dict[str | None, int]) -> NoReturn:
    kinds = list(ImportIssueKind)
    position = {kind: i for i, kind in enumerate(kinds)}
    issues.sort(key=lambda i: (i.line, order.get(i.column, len(order)), position[i.kind]))
    raise UnitsFileError(issues)


_ALL_ROW_FIELDS: Final = frozenset(UnitRow.model_fields)
_new_object = object.__new__
_set_attribute = object.__setattr__


def _trusted_row(values: dict[str, object]) -> UnitRow:
    """A UnitRow from values this module has already validated, without validating again.

    What `UnitRow.model_construct` does, minus its per-field Python loop: pydantic's
    validation (7 µs a row) or `model_construct` (5 µs) would be most of the time spent on a
    national file. tests/test_units_file.py checks these rows equal validated ones.
    """
    row = _new_object(UnitRow)
    _set_attribute(row, "__dict__", values)
    _set_attribute(row, "__pydantic_fields_set__", _ALL_ROW_FIELDS)
    _set_attribute(row, "__pydantic_extra__", None)
    _set_attribute(row, "__pydantic_private__", None)
    return row


def _build_tree(records: list[_Record], parents: list[int], has_child: list[bool]) -> UnitTree:
    """Topological order (ancestors pulled up before their first descendant), then links.
    Called only on a valid file: codes unique, parents known, no cycle."""
    count = len(records)
    placed = [-1] * count  # record index -> position in the tree
    order: list[int] = []
    for start in range(count):
        if placed[start] >= 0:
            continue
        chain: list[int] = []
        node = start
        while node >= 0 and placed[node] < 0:
            chain.append(node)
            node = parents[node]
        for i in reversed(chain):
            placed[i] = len(order)
            order.append(i)

    units: list[UnitRow] = []
    tree_parents: list[int] = []
    depths: list[int] = []
    children: list[list[int]] = [[] for _ in range(count)]
    index: dict[str, int] = {}
    for position, i in enumerate(order):
        line, code, _, kind, name, voters, staff, phones = records[i][:8]
        parent = parents[i]
        if parent >= 0:
            parent_position = placed[parent]
            parent_code: str | None = records[parent][1]
            depths.append(depths[parent_position] + 1)
            children[parent_position].append(position)
        else:
            parent_position = -1
            parent_code = None
            depths.append(0)
        tree_parents.append(parent_position)
        index[code.lower()] = position
        if has_child[i]:
            voters = None  # inner totals are sums of the leaves
        units.append(
            _trusted_row(
                {
                    "line": line,
                    "code": code,
                    "parent_code": parent_code,
                    "kind": kind,
                    "name": name,
                    "registered_voters": voters,
                    "staff": staff,
                    "contact_phones": phones,
                }
            )
        )
    return UnitTree(
        units=tuple(units),
        _index=index,
        _parents=tuple(tree_parents),
        _children=tuple(map(tuple, children)),
        _depths=tuple(depths),
    )
