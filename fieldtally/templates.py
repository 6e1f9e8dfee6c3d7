"""`fieldtally units template`: a units file to fill in, from the bundled official lists.

The official lists (`fieldtally/data/vn_units_2025/`, see its SOURCES.md) hold the 34
provinces and 3,321 communes of the two-level structure in force since 01/07/2025, with the
changes of 30/04/2026 (Đồng Nai a Thành phố, ten of its xã now phường) applied. A template for
a province has the province and all its communes; for a commune, the commune alone. The
official codes are the unit codes, so maps and other systems can join on them. Each commune
gets one example polling area (`<commune code>-01`, 0 voters) for the commune's staff to copy
once per area and fill in: names, voters, staff, phones. The file imports as it is.
"""

from __future__ import annotations

import csv
import importlib.resources
import io
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from openpyxl import Workbook
from openpyxl.styles import Font

from bot.registration.units_file import KNOWN_COLUMNS

__all__ = ["COLUMNS", "TemplateError", "main", "template_rows", "to_csv", "to_xlsx"]

COLUMNS: Final = KNOWN_COLUMNS  # the units file's columns, in their usual order
AREA_KIND: Final = "khu vực bỏ phiếu"
EXAMPLE_VOTERS: Final = 0  # a placeholder the commune replaces with its list's size

Row = tuple[str, str, str, str, int | str, str, str]


class TemplateError(Exception):
    """The code names no province or commune of the official lists."""


@dataclass(frozen=True, slots=True)
class Commune:
    code: str
    name: str  # bare: "Mường Khương"
    full_name: str  # with its type: "Xã Mường Khương"
    kind: str  # "xã", "phường", "đặc khu"


@dataclass(frozen=True, slots=True)
class Province:
    code: str
    full_name: str
    kind: str  # "tỉnh", "thành phố"
    communes: tuple[Commune, ...]


def _read(name: str) -> Iterator[dict[str, str]]:
    resource = importlib.resources.files("fieldtally") / "data" / "vn_units_2025" / name
    yield from csv.DictReader(io.StringIO(resource.read_text(encoding="utf-8")))


def official_provinces() -> dict[str, Province]:
    """The official lists, the 30/04/2026 changes applied, by province code."""
    communes: dict[str, list[Commune]] = {}
    for row in _read("communes.csv"):
        kind = row["type_after_2026_04_30"] or row["commune_type"]
        full_name = (
            f"{kind} {row['commune_name']}"
            if row["type_after_2026_04_30"]
            else row["commune_full_name"]
        )
        communes.setdefault(row["province_code"], []).append(
            Commune(row["commune_code"], row["commune_name"], full_name, kind.lower())
        )
    provinces = {}
    for row in _read("provinces.csv"):
        changed = bool(row["type_after_2026_04_30"])
        kind = row["type_after_2026_04_30"] if changed else row["province_type"]
        full_name = row["full_name_after_2026_04_30"] if changed else row["province_full_name"]
        code = row["province_code"]
        provinces[code] = Province(code, full_name, kind.lower(), tuple(communes.get(code, [])))
    return provinces


def _example_area(commune: Commune) -> Row:
    name = f"Khu vực bỏ phiếu số 1 – {commune.name}"
    return (f"{commune.code}-01", commune.code, AREA_KIND, name, EXAMPLE_VOTERS, "", "")


def template_rows(code: str) -> list[Row]:
    """The rows for a province (2 digits) or commune (5 digits) code; TemplateError else."""
    code = code.strip()
    provinces = official_provinces()
    province = provinces.get(code)
    if province is not None:
        rows: list[Row] = [(province.code, "", province.kind, province.full_name, "", "", "")]
        for commune in province.communes:
            rows.append((commune.code, province.code, commune.kind, commune.full_name, "", "", ""))
            rows.append(_example_area(commune))
        return rows
    for province in provinces.values():
        for commune in province.communes:
            if commune.code == code:
                return [(commune.code, "", commune.kind, commune.full_name, "", "", ""),
                        _example_area(commune)]  # fmt: skip
    raise TemplateError(
        f"{code!r} is not the code of a province (2 digits, e.g. 15) or a commune (5 digits, "
        "e.g. 02761) of the official 2025 lists (fieldtally/data/vn_units_2025/)"
    )


def to_csv(rows: Sequence[Row]) -> bytes:
    """UTF-8 with a BOM, so that Excel shows the diacritics."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(rows: Sequence[Row], title: str) -> bytes:
    """One sheet: the header bold and frozen; codes as text, so "02761" keeps its zero."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title[:31]
    sheet.append(list(COLUMNS))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(list(row))
    for column, width in zip("ABCDEFG", (12, 12, 18, 42, 18, 8, 24), strict=True):
        sheet.column_dimensions[column].width = width
        for cell in sheet[column][1:]:
            if isinstance(cell.value, str):
                cell.number_format = "@"  # text: Excel must not turn codes into numbers
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def main(code: str, output: Path | None) -> int:
    """Print or write the template; 0 on success."""
    try:
        rows = template_rows(code)
    except TemplateError as error:
        print(f"fieldtally: {error}", file=sys.stderr)
        return 1
    if output is None:
        sys.stdout.buffer.write(to_csv(rows))
        return 0
    suffix = output.suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        print(f"fieldtally: {output}: the file name must end in .xlsx or .csv", file=sys.stderr)
        return 1
    content = to_xlsx(rows, f"units {code}") if suffix == ".xlsx" else to_csv(rows)
    try:
        output.write_bytes(content)
    except OSError as error:
        print(f"fieldtally: cannot write {output}: {error.strerror}", file=sys.stderr)
        return 1
    communes = sum(1 for row in rows if row[2] != AREA_KIND) - (1 if len(rows) > 2 else 0)
    print(
        f"fieldtally: {output}: {communes} communes, one example polling area each "
        "(copy the area row once per polling area, fill in names, voters, staff, phones; "
        "then `fieldtally units import` or send it to the bot with the caption /nhap)"
    )
    return 0
