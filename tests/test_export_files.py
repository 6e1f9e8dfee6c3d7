"""The two export files as the contract describes them: the CSV for programs (UTF-8 BOM, the
English columns in order, plain numbers) and the .xlsx for people (title row, Vietnamese
headers, number formats, a filter, a frozen header, inner units bold and indented, landscape
one page wide). Each file is read back the way its reader would: csv with `utf-8-sig`, the
workbook with openpyxl."""

from __future__ import annotations

import csv
import datetime as dt
import io
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from bot import texts
from bot.monitoring.export import EXPORT_COLUMNS, to_csv, to_xlsx, unit_levels
from bot.monitoring.spreadsheets import (
    COUNT_FORMAT,
    DATETIME_FORMAT,
    PERCENT_FORMAT,
    parse_units_xlsx,
)

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
AS_OF = dt.datetime(2021, 5, 23, 12, 33, tzinfo=TZ)


def row(
    code: str, parent: str, kind: str, name: str, areas: int, voters: int, voted: int, last: str
) -> list[str | int]:
    percent = f"{voted * 100 / voters:.2f}" if voters else "0.00"
    return [code, parent, kind, name, areas, areas, 0, voters, voted, percent, 16, 15, 0, last]


ROWS: list[list[str | int]] = [
    row("MK", "LC", "huyện", "Huyện Mường Khương", 3, 38851, 30123, "2021-05-23T12:30:00+07:00"),
    row("02752", "MK", "xã", "Xã Pha Long", 2, 2874, 2500, "2021-05-23T12:30:00+07:00"),
    row(
        "02752-01", "02752", "khu vực bỏ phiếu", "=1+1", 1, 1500, 1400, "2021-05-23T12:30:00+07:00"
    ),
    row("02752-02", "02752", "khu vực bỏ phiếu", "@SUM(A1)", 1, 1374, 1100, ""),
    row("02755", "MK", "xã", "-Xã Tả Ngải Chồ", 1, 35977, 27623, ""),
    row("02755-01", "02755", "khu vực bỏ phiếu", "+84912345678", 1, 35977, 27623, ""),
]


def read_csv(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))


def test_csv_starts_with_a_bom_and_keeps_the_english_columns() -> None:
    content = to_csv(ROWS)
    assert content[:3] == b"\xef\xbb\xbf"  # Excel on Windows then reads UTF-8, not cp1258
    assert content.count(b"\xef\xbb\xbf") == 1
    rows = read_csv(content)
    assert list(rows[0]) == list(EXPORT_COLUMNS)
    assert rows[0]["registered_voters"] == "38851"  # plain numbers, no separator
    assert rows[0]["turnout_percent"] == "77.53"
    assert rows[0]["name"] == "Huyện Mường Khương"  # the diacritics survive the round trip
    # Formula-looking text is still defused with a leading apostrophe.
    assert [r["name"] for r in rows[2:]] == [
        "'=1+1",
        "'@SUM(A1)",
        "'-Xã Tả Ngải Chồ",
        "'+84912345678",
    ]


def load(content: bytes) -> openpyxl.worksheet.worksheet.Worksheet:
    return openpyxl.load_workbook(io.BytesIO(content)).worksheets[0]


def test_xlsx_title_headers_and_number_formats() -> None:
    sheet = load(to_xlsx(ROWS, "MK", as_of=AS_OF))
    title = sheet["A1"].value
    assert (
        title
        == "Tổng hợp báo cáo bầu cử – Huyện Mường Khương (MK) – số liệu lúc 12:33 ngày 23/05/2021"
    )
    assert sheet["A1"].font.b and sheet["A1"].font.sz >= 14
    headers = [cell.value for cell in sheet[2]]
    assert headers == [texts.EXPORT_HEADERS_VI[name] for name in EXPORT_COLUMNS]
    assert headers[:4] == ["Mã đơn vị", "Mã đơn vị cấp trên", "Loại đơn vị", "Tên đơn vị"]
    assert all(cell.font.b and cell.alignment.wrap_text for cell in sheet[2])

    column = {name: index + 1 for index, name in enumerate(EXPORT_COLUMNS)}
    first = 3  # the unit itself, under the title and the header
    voters = sheet.cell(first, column["registered_voters"])
    assert voters.value == 38851 and voters.number_format == COUNT_FORMAT == "#,##0"
    for name in ("areas_total", "areas_reported", "areas_finished", "voted", "staff_total",
                 "staff_tested", "positives"):  # fmt: skip
        cell = sheet.cell(first, column[name])
        assert isinstance(cell.value, int) and cell.number_format == "#,##0", name
    percent = sheet.cell(first, column["turnout_percent"])
    # A fraction shown as a percentage: Excel displays 77.53%, and sums and charts work.
    assert percent.value == pytest.approx(0.7753) and percent.number_format == PERCENT_FORMAT
    last = sheet.cell(first, column["last_report_at"])
    assert last.is_date and last.value == dt.datetime(2021, 5, 23, 12, 30)  # local, naive
    assert last.number_format == DATETIME_FORMAT
    assert sheet.cell(first + 3, column["last_report_at"]).value is None  # no report: empty


def test_xlsx_filter_frozen_header_and_page_setup() -> None:
    sheet = load(to_xlsx(ROWS, "MK", as_of=AS_OF))
    assert sheet.auto_filter.ref == f"A2:N{2 + len(ROWS)}"  # the header row and every unit
    assert sheet.freeze_panes == "A3"  # scrolling keeps the title and the header in view
    assert sheet.page_setup.orientation == "landscape"
    assert sheet.sheet_properties.pageSetUpPr.fitToPage is True
    assert sheet.page_setup.fitToWidth == 1 and sheet.page_setup.fitToHeight == 0
    assert sheet.print_title_rows == "$2:$2"  # the header on every printed page
    widths = {key: dim.width for key, dim in sheet.column_dimensions.items()}
    assert widths["D"] >= len("-Xã Tả Ngải Chồ") + 2  # the longest name fits, with its indent
    assert all(11 <= width <= 60 for width in widths.values())


def test_xlsx_inner_units_bold_and_indented_by_level() -> None:
    sheet = load(to_xlsx(ROWS, "MK", as_of=AS_OF))
    names = [(cell.value, cell.font.b, cell.alignment.indent) for cell in sheet["D"][2:]]
    assert names == [
        ("Huyện Mường Khương", True, 0),
        ("Xã Pha Long", True, 1),
        ("=1+1", False, 2),
        ("@SUM(A1)", False, 2),
        ("-Xã Tả Ngải Chồ", True, 1),  # one area, but the parent of a row: inner
        ("+84912345678", False, 2),
    ]
    assert all(cell.font.b for cell in sheet[4])  # the whole row of an inner unit
    assert not any(cell.font.b for cell in sheet[5])


def test_xlsx_text_is_never_a_formula() -> None:
    sheet = load(to_xlsx(ROWS, "MK", as_of=AS_OF))
    assert sheet["D5"].value == "=1+1" and sheet["D5"].data_type == "s"
    assert sheet["D6"].value == "@SUM(A1)" and sheet["D6"].data_type == "s"
    assert sheet["D8"].value == "+84912345678" and sheet["D8"].data_type == "s"
    types = {cell.data_type for line in sheet.iter_rows() for cell in line}
    assert "f" not in types and "e" not in types


def test_xlsx_title_defaults_to_the_latest_report_and_says_when_there_is_none() -> None:
    sheet = load(to_xlsx(ROWS, "MK"))
    assert sheet["A1"].value.endswith("số liệu lúc 12:30 ngày 23/05/2021")
    quiet = [row("X", "", "xã", "Xã Im Lặng", 0, 0, 0, "")]
    assert load(to_xlsx(quiet, "X"))["A1"].value.endswith("(X) – chưa có báo cáo")


def test_unit_levels_follow_the_parent_codes() -> None:
    levels, inner = unit_levels(ROWS)
    assert levels == [0, 1, 2, 2, 1, 2]
    assert inner == [True, True, False, False, True, False]
    assert unit_levels([]) == ([], [])


def test_the_units_file_import_still_reads_units_workbooks() -> None:
    """The export for people is not a units file; the units .xlsx reader is unchanged."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["code", "parent_code", "kind", "name", "registered_voters"])
    sheet.append(["T1", None, "tỉnh", "Tỉnh", None])
    sheet.append(["K1", "T1", "khu vực bỏ phiếu", "Khu vực bỏ phiếu số 1", 1250])
    buffer = io.BytesIO()
    workbook.save(buffer)
    tree = parse_units_xlsx(buffer.getvalue())
    assert tree["K1"].registered_voters == 1250
