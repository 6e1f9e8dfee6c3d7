"""bot.monitoring.spreadsheets: the units file as .xlsx, and the export written as .xlsx."""

from __future__ import annotations

import contextlib
import csv
import io
import re
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.monitoring import spreadsheets
from bot.monitoring.spreadsheets import (
    MAX_COLUMN_WIDTH,
    XLSX_TOO_LARGE,
    XLSX_UNREADABLE,
    export_xlsx,
    parse_units_file,
    parse_units_xlsx,
)
from bot.registration.units_file import (
    ImportIssue,
    ImportIssueKind,
    UnitsFileError,
    UnitTree,
    parse_units_csv,
)

K = ImportIssueKind
DATA = Path(__file__).resolve().parent / "data"
TREE_2021 = DATA / "tree_2021_bac_ha.csv"
SHEET = "xl/worksheets/sheet1.xml"
CONTRACT = ["code", "parent_code", "kind", "name", "registered_voters", "staff", "contact_phones"]
SMALL: list[list[Any]] = [
    ["code", "parent_code", "kind", "name", "registered_voters"],
    ["T1", None, "tỉnh", "Tỉnh Một", None],
    ["K1", "T1", "khu vực bỏ phiếu", "Khu vực 1", 320],
    ["K2", "T1", "khu vực bỏ phiếu", "Khu vực 2", 410.0],
]


# --------------------------------------------------------------------------- helpers


def xlsx(rows: Sequence[Sequence[Any]], title: str = "Đơn vị") -> bytes:
    """A workbook written by openpyxl (normal mode: it declares the sheet's dimension)."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = title
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def rezip(data: bytes, member: str, change: Callable[[bytes], bytes]) -> bytes:
    """The same zip with one member's bytes changed (CRCs stay right)."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            content = source.read(info)
            target.writestr(info.filename, change(content) if info.filename == member else content)
    return out.getvalue()


def with_sheet_xml(data: bytes, old: str, new: str) -> bytes:
    def change(content: bytes) -> bytes:
        text = content.decode("utf-8")
        assert old in text, text[:500]
        return text.replace(old, new, 1).encode("utf-8")

    return rezip(data, SHEET, change)


def with_dimension(data: bytes, dimension: str | None) -> bytes:
    """The sheet declaring another dimension (None: declaring none)."""

    def change(content: bytes) -> bytes:
        text, found = re.subn(
            r'<dimension ref="[^"]*" ?/>',
            "" if dimension is None else f'<dimension ref="{dimension}"/>',
            content.decode("utf-8"),
        )
        assert found == 1
        return text.encode("utf-8")

    return rezip(data, SHEET, change)


def rejected(call: Callable[[], UnitTree]) -> list[ImportIssue]:
    with pytest.raises(UnitsFileError) as caught:
        call()
    return caught.value.issues


def file_issue(value: str | None) -> list[ImportIssue]:
    return [ImportIssue(line=1, column=None, kind=K.MALFORMED_CSV, value=value)]


def read_back(data: bytes) -> Any:
    return openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]


# --------------------------------------------------------------------------- reading


def test_xlsx_equals_the_same_data_as_csv() -> None:
    """Other column order, an extra column, counts as int and as float, blank rows at the
    end: unit for unit what the CSV gives, line numbers included."""
    text = TREE_2021.read_text("utf-8")
    records = list(csv.reader(io.StringIO(text)))
    assert records[0] == CONTRACT
    header = ["Name", "contact_phones", "registered_voters", "Ghi chú", "code", "kind", "staff"]
    rows: list[list[Any]] = [[*header, "parent_code"]]  # "Name": header case is ignored
    numeric = 0
    for record in records[1:]:
        cell = dict(zip(CONTRACT, record, strict=True))
        counts: dict[str, Any] = {}
        for name in ("registered_voters", "staff"):
            value: Any = cell[name] or None
            if value is not None and value.isdigit():
                value = int(value) if numeric % 2 else float(value)  # 320 and 320.0
                numeric += 1
            counts[name] = value
        rows.append(
            [
                cell["name"],
                cell["contact_phones"] or None,
                counts["registered_voters"],
                "ghi chú tự do",  # the extra column: ignored
                cell["code"],  # text: "085" keeps its leading zero
                cell["kind"],
                counts["staff"],
                cell["parent_code"] or None,
            ]
        )
    rows += [[None] * 8, [], ["", "  ", None]]  # blank rows at the end
    assert numeric > 100

    from_xlsx = parse_units_xlsx(xlsx(rows))
    from_csv = parse_units_csv(TREE_2021.read_bytes())

    assert len(from_xlsx) == len(from_csv) == len(records) - 1
    assert list(from_xlsx) == list(from_csv)  # UnitRow equality: every field, line too
    assert [u.code for u in from_xlsx.leaves] == [u.code for u in from_csv.leaves]
    assert from_xlsx["085"].contact_phones == from_csv["085"].contact_phones


def test_numeric_code_cell_reads_as_text_and_float_counts_as_integers() -> None:
    tree = parse_units_xlsx(
        xlsx([SMALL[0], ["T1", None, "tỉnh", "T", None], [2752, "T1", "kv", "K", 320.0]])
    )
    assert tree["2752"].registered_voters == 320
    assert tree["2752"].parent_code == "T1"


def test_line_numbers_are_row_numbers() -> None:
    """Blank rows above the header and between units keep the sheet's numbering."""
    data = xlsx(
        [
            [],
            [None, None],
            ["Code", "parent_code", "kind", "name", "Registered_Voters"],  # row 3
            ["T1", None, "tỉnh", "T", None],
            [None] * 5,
            ["K1", "T1", "kv", "K1", 320.5],  # row 6
            ["K2", "T1", "kv", "K2", -3],
            ["K3", "T1", "kv", "K3", "abc"],
            ["K4", "T1", "kv", "K4", None],  # row 9
        ]
    )
    issues = rejected(lambda: parse_units_xlsx(data))
    assert [(i.line, i.column, i.kind, i.value) for i in issues] == [
        (6, "Registered_Voters", K.BAD_NUMBER, "320.5"),
        (7, "Registered_Voters", K.NEGATIVE_NUMBER, "-3"),
        (8, "Registered_Voters", K.BAD_NUMBER, "abc"),
        (9, "Registered_Voters", K.MISSING_VOTERS, None),
    ]


def test_header_problems_are_line_1() -> None:
    issues = rejected(lambda: parse_units_xlsx(xlsx([["code", "kind", "name"], ["A", "k", "n"]])))
    assert {(i.line, i.column, i.kind) for i in issues} == {
        (1, "parent_code", K.MISSING_COLUMN),
        (1, "registered_voters", K.MISSING_COLUMN),
    }


def test_value_right_of_the_header_is_too_many_fields_but_empty_cells_are_not() -> None:
    rows: list[list[Any]] = [[*row, None, "", " "] for row in SMALL]  # empty cells: fine
    assert len(parse_units_xlsx(xlsx(rows))) == 3
    rows[2] = [*SMALL[2], None, "lạc cột"]
    issues = rejected(lambda: parse_units_xlsx(xlsx(rows)))
    # the validator's value: the extra cells joined by "," (the empty one included)
    assert [(i.line, i.kind, i.value) for i in issues] == [(3, K.TOO_MANY_FIELDS, ",lạc cột")]


def test_formulas_read_as_cached_values_never_evaluated() -> None:
    data = xlsx(SMALL)
    # K1's voters become a formula whose cached value (what Excel saved) is 320
    cached = with_sheet_xml(
        data, '<c r="E3" t="n"><v>320</v></c>', '<c r="E3"><f>SUM(1,2)</f><v>320</v></c>'
    )
    assert parse_units_xlsx(cached)["K1"].registered_voters == 320
    # a formula without a cached value (written by a script, never opened) is empty
    uncached = xlsx([*SMALL[:2], ["K1", "T1", "kv", "K1", "=100+220"]])
    issues = rejected(lambda: parse_units_xlsx(uncached))
    assert [(i.line, i.kind) for i in issues] == [(3, K.MISSING_VOTERS)]


def test_wrong_declared_dimension_does_not_lose_rows() -> None:
    """Some writers declare "A1" whatever the size; read-only openpyxl would trust it."""
    data = with_dimension(xlsx(SMALL), "A1")
    assert [u.code for u in parse_units_xlsx(data)] == ["T1", "K1", "K2"]
    assert len(parse_units_xlsx(with_dimension(xlsx(SMALL), "B2:C3"))) == 3
    assert len(parse_units_xlsx(with_dimension(xlsx(SMALL), None))) == 3


def test_only_the_first_sheet_is_read() -> None:
    workbook = openpyxl.Workbook()
    workbook.active.append(["nothing", "here"])
    workbook.active.append(["a", "b"])
    other = workbook.create_sheet("units")
    for row in SMALL:
        other.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    issues = rejected(lambda: parse_units_xlsx(buffer.getvalue()))
    assert {(i.line, i.kind) for i in issues} == {(1, K.MISSING_COLUMN)}


def test_empty_sheet_and_header_only() -> None:
    assert rejected(lambda: parse_units_xlsx(xlsx([]))) == [
        ImportIssue(line=1, column=None, kind=K.EMPTY_FILE)
    ]
    assert rejected(lambda: parse_units_xlsx(xlsx([[None], [" "]]))) == [
        ImportIssue(line=1, column=None, kind=K.EMPTY_FILE)
    ]
    issues = rejected(lambda: parse_units_xlsx(xlsx([SMALL[0], [None] * 5])))
    assert [(i.line, i.kind) for i in issues] == [(1, K.NO_UNITS)]


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"not a zip at all",
        b"code,parent_code,kind,name,registered_voters\nT1,,t,T,\n",
        b"PK\x03\x04" + b"\x00" * 100,  # a zip's magic, then nothing
    ],
)
def test_not_an_xlsx(data: bytes) -> None:
    assert rejected(lambda: parse_units_xlsx(data)) == file_issue(XLSX_UNREADABLE)


def test_a_zip_that_is_not_a_workbook() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "xin chào")
    assert rejected(lambda: parse_units_xlsx(buffer.getvalue())) == file_issue(XLSX_UNREADABLE)
    broken = with_sheet_xml(xlsx(SMALL), "</sheetData>", "<row><c r=")
    assert rejected(lambda: parse_units_xlsx(broken)) == file_issue(XLSX_UNREADABLE)


# --------------------------------------------------------------------------- limits


@pytest.mark.parametrize(
    "dimension",
    ["A1:E200001", "A1:AY10", "A1:XFD1048576"],  # 200,001 rows; 51 columns; everything
)
def test_declared_dimension_over_the_limits_refused(dimension: str) -> None:
    data = with_dimension(xlsx(SMALL), dimension)
    assert rejected(lambda: parse_units_xlsx(data)) == file_issue(XLSX_TOO_LARGE)


def test_declared_dimension_at_the_limits_accepted() -> None:
    data = with_dimension(xlsx(SMALL), "A1:AX200000")  # 200,000 rows, 50 columns
    assert len(parse_units_xlsx(data)) == 3


@pytest.mark.parametrize(
    "cell",
    [
        '<row r="250000"><c r="A250000" t="n"><v>1</v></c></row>',  # far below
        '<row r="5"><c r="AY5" t="n"><v>1</v></c></row>',  # column 51
        '<row r="5"><c r="XFD5" t="n"><v>1</v></c></row>',  # column 16,384
    ],
)
def test_cells_beyond_the_limits_refused_whatever_the_dimension_says(cell: str) -> None:
    data = with_sheet_xml(xlsx(SMALL), "</sheetData>", cell + "</sheetData>")
    assert rejected(lambda: parse_units_xlsx(data)) == file_issue(XLSX_TOO_LARGE)


def test_many_actual_rows_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """Real rows, not filler: counted as read (limit lowered to keep the test fast)."""
    monkeypatch.setattr(spreadsheets, "MAX_ROWS", 50)
    rows = [SMALL[0], SMALL[1]] + [[f"K{i}", "T1", "kv", "K", 1] for i in range(48)]
    assert len(parse_units_xlsx(xlsx(rows))) == 49  # 50 sheet rows: the header counts
    rows.append(["K99", "T1", "kv", "K", 1])
    assert rejected(lambda: parse_units_xlsx(xlsx(rows))) == file_issue(XLSX_TOO_LARGE)


def test_zip_members_over_100_mb_refused_before_openpyxl() -> None:
    """A valid workbook plus a member of 100 MB + 1 byte of zeros (~100 KB compressed)."""
    buffer = io.BytesIO(xlsx(SMALL))
    chunk = bytes(1024 * 1024)
    with (
        zipfile.ZipFile(buffer, "a", zipfile.ZIP_DEFLATED) as archive,
        archive.open("xl/media/padding.bin", "w") as member,
    ):
        for _ in range(100):
            member.write(chunk)
        member.write(b"\x00")
    data = buffer.getvalue()
    assert len(data) < 1_000_000
    assert rejected(lambda: parse_units_xlsx(data)) == file_issue(XLSX_TOO_LARGE)


# --------------------------------------------------------------------------- by extension


def test_dispatch_on_the_extension() -> None:
    csv_bytes = TREE_2021.read_bytes()
    expected = list(parse_units_csv(csv_bytes))
    assert list(parse_units_file("units.csv", csv_bytes)) == expected
    assert list(parse_units_file("Danh sách.CSV", csv_bytes)) == expected
    assert len(parse_units_file("units.XLSX", xlsx(SMALL))) == 3
    assert len(parse_units_file("dir.v2/units.xlsx ", xlsx(SMALL))) == 3


def test_csv_named_xlsx() -> None:
    data = TREE_2021.read_bytes()
    assert rejected(lambda: parse_units_file("units.xlsx", data)) == file_issue(XLSX_UNREADABLE)


@pytest.mark.parametrize(
    ("filename", "value"),
    [
        ("units.ods", ".ods"),
        ("units.XLS", ".XLS"),
        ("units.csv.txt", ".txt"),
        ("units", None),
        ("dir.v2/units", None),
        ("", None),
    ],
)
def test_unknown_extension(filename: str, value: str | None) -> None:
    assert rejected(lambda: parse_units_file(filename, xlsx(SMALL))) == file_issue(value)


# --------------------------------------------------------------------------- fuzz

GOOD = xlsx(SMALL)
with zipfile.ZipFile(io.BytesIO(GOOD)) as _archive:
    GOOD_SHEET = _archive.read(SHEET)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=2048))
def test_arbitrary_bytes_raise_only_units_file_error(data: bytes) -> None:
    with contextlib.suppress(UnitsFileError):
        parse_units_xlsx(data)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.tuples(st.integers(0, len(GOOD) - 1), st.integers(0, 255)), max_size=8),
    st.integers(1, len(GOOD)),
)
def test_damaged_workbook_raises_only_units_file_error(
    flips: list[tuple[int, int]], keep: int
) -> None:
    data = bytearray(GOOD)
    for position, byte in flips:
        data[position] = byte
    with contextlib.suppress(UnitsFileError):
        parse_units_xlsx(bytes(data[:keep]))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, len(GOOD_SHEET) - 1), st.binary(max_size=3)), max_size=6))
def test_damaged_sheet_xml_raises_only_units_file_error(edits: list[tuple[int, bytes]]) -> None:
    """Broken XML inside a sound zip: openpyxl's own parsing errors, read lazily."""
    sheet = bytearray(GOOD_SHEET)
    for position, replacement in edits:
        sheet[position : position + len(replacement)] = replacement
    data = rezip(GOOD, SHEET, lambda _: bytes(sheet))
    with contextlib.suppress(UnitsFileError):
        parse_units_xlsx(data)


# --------------------------------------------------------------------------- export

EXPORT_HEADER = [
    "code", "parent_code", "kind", "name", "areas_total", "areas_reported", "areas_finished",
    "registered_voters", "voted", "turnout_percent", "staff_total", "staff_tested", "positives",
    "last_report_at",
]  # fmt: skip


def export_row(code: str, name: str, voters: int, voted: int, last: str) -> list[str | int]:
    percent = f"{voted * 100 / voters:.2f}" if voters else "0.00"
    return [code, "LC", "xã", name, 3, 2, 1, voters, voted, percent, 5, 4, 0, last]


def test_export_header_types_and_layout() -> None:
    rows = [
        export_row("X1", "Xã Pha Long", 1280, 1000, "2026-03-15T09:30:00+07:00"),
        export_row("X2", "=1+1", 0, 0, ""),
        export_row("X3", "+84912345678", 7, 7, ""),
        export_row("-X4", "@SUM(A1)", 3, 1, ""),
        export_row("X5", "#N/A", 3, 2, ""),
        export_row("X6", "tên\x01lạ", 3, 3, ""),
        export_row("X7", "a\ud800b\uffff", 3, 3, ""),
    ]
    sheet = read_back(export_xlsx(EXPORT_HEADER, rows, "Lào Cai"))

    assert sheet.title == "Lào Cai"
    assert sheet.freeze_panes == "A2"
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert values[0] == EXPORT_HEADER
    assert all(cell.font.b for cell in sheet[1])
    assert len(values) == 1 + len(rows)

    first = values[1]
    assert first[:4] == ["X1", "LC", "xã", "Xã Pha Long"]
    assert first[4:9] == [3, 2, 1, 1280, 1000]
    assert all(type(v) is int for v in first[4:9] + first[10:13])
    assert rows[0][9] == "78.12"  # 78.125 in binary is a hair below: f"{x:.2f}" says .12
    assert type(first[9]) is float and first[9] == float(rows[0][9])
    assert sheet["J2"].number_format == "0.00"
    assert first[13] == "2026-03-15T09:30:00+07:00"
    # XLSX numbers are all doubles: "0.00" is stored as 0, which openpyxl reads as int 0
    assert values[2][9] == 0.0 and sheet["J3"].number_format == "0.00"
    assert values[2][13] is None  # "" is an empty cell

    assert [row[3] for row in values[2:]] == [
        "=1+1",
        "+84912345678",
        "@SUM(A1)",
        "#N/A",
        "tên\ufffdlạ",  # characters XML cannot hold: shown as U+FFFD
        "a\ufffdb\ufffd",
    ]
    assert values[4][0] == "-X4"
    assert sheet["D3"].data_type == "s"
    assert sheet["D6"].data_type == "s"
    types = {cell.data_type for row in sheet.iter_rows() for cell in row}
    assert "f" not in types and "e" not in types


def test_export_column_widths_fitted_and_capped() -> None:
    rows = [export_row("X1", "Xã " + "rất " * 40 + "dài", 10, 5, "")]
    sheet = read_back(export_xlsx(EXPORT_HEADER, rows, "t"))
    widths = {k: d.width for k, d in sheet.column_dimensions.items()}
    assert widths["A"] == len("code") + 2
    assert widths["D"] == MAX_COLUMN_WIDTH
    assert widths["J"] == len("turnout_percent") + 2
    assert widths["N"] == len("last_report_at") + 2


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Xã A/B: [test]?", "Xã A_B_ _test__"),
        ("'quoted'", "quoted"),
        ("", "Sheet1"),
        ("Huyện " * 10, ("Huyện " * 10)[:31].strip()),
    ],
)
def test_export_sheet_title_made_acceptable(title: str, expected: str) -> None:
    assert read_back(export_xlsx(["code"], [["A"]], title)).title == expected


def test_export_10000_rows() -> None:
    rows = [
        export_row(f"KV{i:05d}", f"Khu vực bỏ phiếu số {i}", 1000 + i, i % 1000, "")
        for i in range(10_000)
    ]
    data = export_xlsx(EXPORT_HEADER, rows, "Toàn quốc")
    workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    try:
        values = list(workbook.worksheets[0].iter_rows(values_only=True))
    finally:
        workbook.close()
    assert len(values) == 10_001
    assert list(values[0]) == EXPORT_HEADER
    last = values[-1]
    assert last[0] == "KV09999" and last[7] == 10_999 and last[8] == 999
    assert last[9] == float(rows[-1][9])
    assert all(type(row[7]) is int for row in values[1:])
    percents = [(row[9], float(source[9])) for row, source in zip(values[1:], rows, strict=True)]
    assert all(read == written for read, written in percents)
    # whole percentages ("0.00") come back as int 0: XLSX stores doubles, "0" has no point
    assert all(type(read) is float for read, written in percents if not written.is_integer())


def test_export_round_trips_through_the_units_reader() -> None:
    """The export's first columns are a units file's: a reader of one reads the other."""
    rows: list[list[str | int]] = [
        ["T1", "", "tỉnh", "Tỉnh", 100],
        ["K1", "T1", "kv", "=Khu vực", 100],
    ]
    header = ["code", "parent_code", "kind", "name", "registered_voters"]
    tree = parse_units_xlsx(export_xlsx(header, rows, "units"))
    assert tree["K1"].name == "=Khu vực" and tree["K1"].registered_voters == 100
