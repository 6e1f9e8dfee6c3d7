"""The unit list the drill replays: the bundled Mường Khương 2021 sample or any CSV/.xlsx,
checked as the bot would, with a synthetic phone for each area that has none (in the demo's
own copy of the file): ``load_unit_list`` gives a ``UnitList`` of ``Area``s.
"""

from __future__ import annotations

import csv
import importlib.resources
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl

from bot import texts
from bot.messaging.marked import plain
from bot.monitoring.spreadsheets import parse_units_file
from bot.registration.units_file import UnitRow, UnitsFileError, UnitTree
from fieldtally.demo.constants import _SYNTHETIC_PHONE_PREFIX, SAMPLE_NAME, DemoError


@dataclass(frozen=True, slots=True)
class Area:
    code: str
    name: str
    voters: int
    staff: int | None  # None: the area's COVID tally defines its staff
    phone: str  # `+84…`: the chief who reports (the first of the area's contact phones)


@dataclass(frozen=True, slots=True)
class UnitList:
    filename: str  # as sent to the bot
    content: bytes  # what the admin imports: the file, or the demo's copy with phones added
    tree: UnitTree
    areas: tuple[Area, ...]
    synthetic_phones: int  # areas that had no phone in the file
    is_sample: bool

    def focus(self) -> UnitRow:
        """The unit the group follows: the first root, then down while it has a single inner
        child (the sample's province LC holds one district, MK, whose board has the group)."""
        unit = self.tree.roots[0]
        while True:
            children = self.tree.children(unit.code)
            if len(children) != 1 or self.tree.is_leaf(children[0].code):
                return unit
            unit = children[0]


def load_unit_list(path: Path | None) -> UnitList:
    """Read and check the unit file (default: the bundled sample); raise DemoError."""
    if path is None:
        filename = SAMPLE_NAME
        resource = importlib.resources.files("fieldtally") / "data" / "samples" / SAMPLE_NAME
        data = resource.read_bytes()
    else:
        filename = path.name
        try:
            data = path.read_bytes()
        except OSError as error:
            raise DemoError(f"cannot read {path}: {error.strerror}") from None
    tree = _parse_units(filename, data)
    leaves = [row for row in tree if tree.is_leaf(row.code)]
    missing = [row.code for row in leaves if not row.contact_phones]
    if missing:
        used = {phone for row in tree for phone in row.contact_phones}
        phones = dict(zip(missing, _synthetic_phones(len(missing), used), strict=True))
        data = _with_phones(filename, data, phones)
        tree = _parse_units(filename, data)
        leaves = [row for row in tree if tree.is_leaf(row.code)]
    areas = tuple(
        Area(row.code, row.name, row.registered_voters or 0, row.staff, row.contact_phones[0])
        for row in leaves
    )
    return UnitList(filename, data, tree, areas, len(missing), path is None)


def _parse_units(filename: str, data: bytes) -> UnitTree:
    try:
        return parse_units_file(filename, data)
    except UnitsFileError as error:
        shown = [
            plain(texts.import_issue(i.line, i.column, i.kind.value, i.value, i.related_lines))
            for i in error.issues[:20]
        ]
        if len(error.issues) > len(shown):
            shown.append(f"… and {len(error.issues) - len(shown)} more")
        raise DemoError("\n".join([f"{filename} is not a valid unit list:", *shown])) from None


def _synthetic_phones(count: int, used: set[str]) -> list[str]:
    phones: list[str] = []
    number = 0
    while len(phones) < count:
        number += 1
        phone = f"{_SYNTHETIC_PHONE_PREFIX}{number:06d}"
        if phone not in used:
            phones.append(phone)
    return phones


def _with_phones(filename: str, data: bytes, phones: dict[str, str]) -> bytes:
    """The file with `phones` (area code -> phone) in its contact_phones column, same format."""
    wanted = {code.lower(): phone for code, phone in phones.items()}
    if filename.lower().endswith(".xlsx"):
        return _xlsx_with_phones(data, wanted)
    return _csv_with_phones(data, wanted)


def _column(header: Sequence[str], name: str) -> int | None:
    return next((i for i, cell in enumerate(header) if cell.strip().lower() == name), None)


def _csv_with_phones(data: bytes, phones: dict[str, str]) -> bytes:
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    start = next(i for i, row in enumerate(rows) if any(cell.strip() for cell in row))
    header = rows[start]
    code_at = _column(header, "code")
    assert code_at is not None  # the file parsed: the column is there
    phone_at = _column(header, "contact_phones")
    if phone_at is None:
        header.append("contact_phones")
        phone_at = len(header) - 1
    for row in rows[start + 1 :]:
        if len(row) > code_at and row[code_at].strip().lower() in phones:
            row.extend([""] * (len(header) - len(row)))
            row[phone_at] = phones[row[code_at].strip().lower()]
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue().encode("utf-8")


def _cell_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return "" if value is None else str(value).strip()


def _xlsx_with_phones(data: bytes, phones: dict[str, str]) -> bytes:
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    sheet = workbook.worksheets[0]
    rows = list(sheet.iter_rows())
    start = next(i for i, row in enumerate(rows) if any(_cell_text(c.value) for c in row))
    header = [_cell_text(cell.value) for cell in rows[start]]
    code_at = _column(header, "code")
    assert code_at is not None
    phone_at = _column(header, "contact_phones")
    if phone_at is None:
        phone_at = len(header)
        sheet.cell(row=start + 1, column=phone_at + 1, value="contact_phones")
    for number, row in enumerate(rows[start + 1 :], start=start + 2):  # openpyxl counts from 1
        if len(row) > code_at and _cell_text(row[code_at].value).lower() in phones:
            phone = phones[_cell_text(row[code_at].value).lower()]
            sheet.cell(row=number, column=phone_at + 1, value=phone)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
