"""bot.registration.units_file: the units file, parsed and validated all-or-nothing."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from bot.registration.units_file import (
    Cell,
    ImportIssue,
    ImportIssueKind,
    UnitRow,
    UnitsFileError,
    UnitTree,
    parse_unit_records,
    parse_units_csv,
)

K = ImportIssueKind
ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"
SAMPLE = ROOT / "fieldtally" / "data" / "samples" / "muong_khuong_2021_units.csv"
TREE_2021 = DATA / "tree_2021_bac_ha.csv"
TREE_2025 = DATA / "tree_2025_lao_cai.csv"
HEADER = "code,parent_code,kind,name,registered_voters,staff,contact_phones\n"
BOM = b"\xef\xbb\xbf"


def parse(text: str) -> UnitTree:
    return parse_units_csv(text.encode("utf-8"))


def rejected(data: str | bytes) -> list[ImportIssue]:
    with pytest.raises(UnitsFileError) as caught:
        parse_units_csv(data.encode("utf-8") if isinstance(data, str) else data)
    return caught.value.issues


def where(data: str | bytes) -> list[tuple[int, str | None, ImportIssueKind]]:
    """(line, column, kind) of every issue, in the order reported."""
    return [(i.line, i.column, i.kind) for i in rejected(data)]


def leaves_depths(tree: UnitTree) -> set[int]:
    return {tree.depth(u.code) for u in tree.leaves}


# --------------------------------------------------------------------------- real files


def test_muong_khuong_sample() -> None:
    tree = parse_units_csv(SAMPLE.read_bytes())
    assert len(tree) == 157
    assert len(tree.leaves) == 139
    assert sum(u.registered_voters or 0 for u in tree.leaves) == 38851
    assert sum(u.staff or 0 for u in tree) == 2157
    assert leaves_depths(tree) == {3}
    assert [u.code for u in tree.roots] == ["LC"]
    assert [u.code for u in tree.children("LC")] == ["MK"]
    assert len(tree.children("mk")) == 16
    assert all(u.kind == "khu vực bỏ phiếu" for u in tree.leaves)
    assert all(u.registered_voters is None for u in tree if not tree.is_leaf(u.code))
    area = tree["02752-01"]
    assert area.contact_phones == ("+84912001000",)  # written 0912001000
    assert area.parent_code == "02752"
    assert tree["02752"].contact_phones == ("+84912000752",)


def test_tree_2021_four_levels() -> None:
    tree = parse_units_csv(TREE_2021.read_bytes())
    assert len(tree) < 150
    assert [u.code for u in tree.roots] == ["10"]
    assert [u.code for u in tree.children("10")] == ["085", "084"]
    assert tree["085"].name == "Huyện Bắc Hà"
    assert tree["02839"].name == "Thị trấn Bắc Hà"
    assert tree["02839"].kind == "thị trấn"
    assert len(tree.children("085")) == 19
    assert len(tree.children("084")) == 10
    kinds = {tree.depth(u.code): u.kind for u in tree if u.kind != "thị trấn"}
    assert kinds == {0: "tỉnh", 1: "huyện", 2: "xã", 3: "khu vực bỏ phiếu"}
    assert leaves_depths(tree) == {3}
    for unit in tree.leaves:
        assert 150 <= (unit.registered_voters or 0) <= 900
        assert 11 <= (unit.staff or 0) <= 21
        assert len(unit.contact_phones) == 1
        assert unit.contact_phones[0].startswith("+849130")
        assert 2 <= len(tree.children(unit.parent_code or "")) <= 4
    assert tree["085"].contact_phones == ("+84913090001", "+84913090002")


def test_tree_2025_three_levels() -> None:
    tree = parse_units_csv(TREE_2025.read_bytes())
    assert len(tree) < 150
    assert [u.code for u in tree.roots] == ["15"]
    assert len(tree.children("15")) == 8
    assert {u.kind for u in tree.children("15")} == {"xã", "phường"}
    assert tree["02839"].name == "Xã Bắc Hà"
    assert leaves_depths(tree) == {2}
    assert all(p.startswith("+849140") for u in tree for p in u.contact_phones)


def _make_trees() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_trees", DATA / "make_trees.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_tree_files_are_reproducible() -> None:
    make_trees = _make_trees()
    assert make_trees.build_2021() == TREE_2021.read_text(encoding="utf-8")
    assert make_trees.build_2025() == TREE_2025.read_text(encoding="utf-8")


def test_rows_equal_validated_models() -> None:
    """The parser builds UnitRow without re-validating: they must be indistinguishable."""
    tree = parse_units_csv(SAMPLE.read_bytes())
    for row in tree:
        validated = UnitRow.model_validate(row.model_dump())
        assert row == validated
        assert hash(row) == hash(validated)
        assert row.model_fields_set == validated.model_fields_set
        assert repr(row) == repr(validated)
    with pytest.raises(ValidationError):
        tree.units[0].code = "X"  # type: ignore[misc]


# --------------------------------------------------------------------------- format


def test_bom_and_no_bom_give_the_same_tree() -> None:
    plain = TREE_2025.read_bytes()
    assert not plain.startswith(BOM)
    assert list(parse_units_csv(BOM + plain)) == list(parse_units_csv(plain))


def test_crlf_line_endings() -> None:
    plain = TREE_2025.read_bytes()
    assert list(parse_units_csv(plain.replace(b"\n", b"\r\n"))) == list(parse_units_csv(plain))


def test_columns_in_any_order_with_extra_columns() -> None:
    text = (
        " Name ,Ghi chú,STAFF,Registered_Voters,Contact_Phones,Kind,Parent_Code,CODE\n"
        "Tỉnh Lào Cai,gốc,,,,tỉnh,,LC\n"
        "Xã Pha Long,,,,0912 000 752,xã,lc,x1\n"
        "Khu vực bỏ phiếu số 1,mới,16,275,0912001000,khu vực bỏ phiếu,X1,KV01\n"
    )
    tree = parse(text)
    assert [u.code for u in tree] == ["LC", "x1", "KV01"]
    area = tree["kv01"]
    assert area == UnitRow(
        line=4,
        code="KV01",
        parent_code="x1",  # spelled as the parent's own code
        kind="khu vực bỏ phiếu",
        name="Khu vực bỏ phiếu số 1",
        registered_voters=275,
        staff=16,
        contact_phones=("+84912001000",),
    )
    assert tree["X1"].parent_code == "LC"
    assert tree.depth("KV01") == 2


def test_bom_header_with_columns_reordered() -> None:
    text = "name,code,parent_code,kind,registered_voters\nTỉnh,T,,tỉnh,\nKhu 1,A1,T,kv,100\n"
    tree = parse_units_csv(BOM + text.encode())
    assert tree["A1"].registered_voters == 100
    assert tree["A1"].staff is None
    assert tree["A1"].contact_phones == ()


def test_optional_columns_may_be_absent() -> None:
    tree = parse("code,parent_code,kind,name,registered_voters\nA,,xã,Xã A,\nA-1,A,kv,Khu 1,10\n")
    assert tree["A-1"].staff is None and tree["A-1"].contact_phones == ()


def test_counts_accepted_forms() -> None:
    text = HEADER + (
        "R,,tỉnh,Gốc,,,\n"
        "A,R,kv,Khu A, 1250 ,  12 ,\n"
        "B,R,kv,Khu B,1.250,0,\n"
        "C,R,kv,Khu C,0320,,\n"
        "D,R,kv,Khu D,12.500.000,,\n"
        "E,R,kv,Khu E,0,,\n"
        "F,R,kv,Khu F,100000000,,\n"
    )
    tree = parse(text)
    voters = {u.code: u.registered_voters for u in tree.leaves}
    assert voters == {"A": 1250, "B": 1250, "C": 320, "D": 12_500_000, "E": 0, "F": 100_000_000}
    assert tree["A"].staff == 12
    assert tree["B"].staff == 0


def test_inner_unit_voters_ignored_when_well_formed() -> None:
    tree = parse(HEADER + "R,,tỉnh,Gốc,99999,30,\nA,R,kv,Khu A,100,11,\n")
    assert tree["R"].registered_voters is None  # inner totals are sums
    assert tree["R"].staff == 30  # staff kept on any unit


def test_phones_normalised_deduplicated_in_order() -> None:
    text = HEADER + 'R,,tỉnh,Gốc,,,"0913 000 002; +84912000001;84913000002 ;; 0912.000.001"\n'
    text += "A,R,kv,Khu A,100,11,\n"
    assert parse(text)["R"].contact_phones == ("+84913000002", "+84912000001")


def test_blank_rows_skipped_and_lines_kept() -> None:
    text = HEADER + "\nR,,tỉnh,Gốc,,,\n,,,,,,\n   \nA,R,kv,Khu A,100,11,\nB,R\n"
    issues = rejected(text)
    # B is on line 7: blank lines still count
    assert [(i.line, i.column, i.kind) for i in issues] == [
        (7, "kind", K.EMPTY_VALUE),
        (7, "name", K.EMPTY_VALUE),
        (7, "registered_voters", K.MISSING_VOTERS),
    ]
    tree = parse(HEADER + "\nR,,tỉnh,Gốc,,,\n,,,,,,\n   \nA,R,kv,Khu A,100,11,\n,,\n")
    assert [(u.code, u.line) for u in tree] == [("R", 3), ("A", 6)]


def test_blank_lines_before_header() -> None:
    tree = parse("\n\n" + HEADER + "R,,tỉnh,Gốc,,,\nA,R,kv,Khu A,100,11,\n")
    assert tree["A"].line == 5


def test_multiline_quoted_value_reports_its_first_line() -> None:
    text = HEADER + 'R,,tỉnh,"Gốc\ncó hai dòng",,,\nA,R,kv,Khu A,-1,11,\n'
    assert where(text) == [(4, "registered_voters", K.NEGATIVE_NUMBER)]


def test_fewer_fields_read_as_empty() -> None:
    tree = parse(HEADER + "R,,tỉnh,Gốc\nA,R,kv,Khu A,100\n")
    assert tree["A"].registered_voters == 100 and tree["A"].staff is None


def test_topological_order_and_helpers() -> None:
    text = HEADER + (
        "a1,X,kv,Khu 1,10,,\n"  # line 2: before its parent
        "Z,,tỉnh,Gốc Z,,,\n"
        "x,r,xã,Xã X,,,\n"  # parent R comes later still
        "a2,X,kv,Khu 2,20,,\n"
        "R,,tỉnh,Gốc R,,,\n"
        "z1,Z,kv,Khu Z1,5,,\n"
    )
    tree = parse(text)
    assert [u.code for u in tree] == ["R", "x", "a1", "Z", "a2", "z1"]
    assert [u.code for u in tree.roots] == ["R", "Z"]
    assert [u.code for u in tree.children("X")] == ["a1", "a2"]
    assert [u.code for u in tree.leaves] == ["a1", "a2", "z1"]
    assert (tree.depth("r"), tree.depth("x"), tree.depth("A1"), tree.depth("z1")) == (0, 1, 2, 1)
    assert tree.is_leaf("a2") and not tree.is_leaf("r")
    assert tree["a1"].parent_code == "x" and tree["x"].parent_code == "R"
    assert "A2" in tree and " a2 " in tree and "nope" not in tree and 5 not in tree
    assert tree.get("nope") is None and tree.get("Z") == tree["z"]
    assert len(tree) == 6
    with pytest.raises(KeyError):
        tree.depth("nope")
    with pytest.raises(KeyError):
        tree.children("nope")
    seen: set[str] = set()
    for unit in tree:  # every parent before its children
        assert unit.parent_code is None or unit.parent_code in seen
        seen.add(unit.code)


def test_deep_tree_has_no_recursion_limit() -> None:
    depth = 5_000
    rows = ["U0,,root,Gốc,,,"] + [f"U{i},U{i - 1},level,Cấp {i},,," for i in range(1, depth)]
    rows[-1] = f"U{depth - 1},U{depth - 2},kv,Khu,7,,"
    tree = parse(HEADER + "\n".join(reversed(rows)) + "\n")  # children first: worst order
    assert tree.depth(f"U{depth - 1}") == depth - 1
    assert [u.code for u in tree][:3] == ["U0", "U1", "U2"]


def test_deep_cycle_is_found_iteratively() -> None:
    n = 5_000
    rows = [f"C{i},C{(i + 1) % n},level,Cấp {i},,," for i in range(n)]
    issues = rejected(HEADER + "\n".join(rows) + "\n")
    assert len(issues) == n and {i.kind for i in issues} == {K.CYCLE}
    assert issues[0].related_lines == tuple(range(3, 13))  # the first 10 others


# --------------------------------------------------------------------------- each error


def test_not_utf8() -> None:
    data = HEADER.encode() + "R,,tinh,Lào Cai,,,\n".encode("cp1258")  # Windows Vietnamese
    assert where(data) == [(2, None, K.NOT_UTF8)]
    utf16 = (HEADER + "R,,tỉnh,Gốc,,,\n").encode("utf-16")  # with its BOM
    assert where(utf16) == [(1, None, K.NOT_UTF8)]
    no_bom = (HEADER + "R,,tinh,Goc,,,\n").encode("utf-16-le")  # decodes, full of NULs
    assert where(no_bom) == [(1, None, K.NOT_UTF8)]


def test_empty_file() -> None:
    for data in (b"", b"\n\n", b"  \r\n", BOM, b",,,\n"):
        assert where(data) == [(1, None, K.EMPTY_FILE)]


def test_header_only() -> None:
    assert where(HEADER) == [(1, None, K.NO_UNITS)]
    assert where(HEADER + "\n,,,,,,\n\n") == [(1, None, K.NO_UNITS)]


def test_malformed_csv() -> None:
    huge = "x" * 200_000  # over the csv module's field limit
    text = HEADER + "R,,tỉnh,Gốc,,,\nA,R,kv,Khu A,-5,,\n" + f'B,R,kv,"{huge}",1,,\n'
    assert where(text) == [(3, "registered_voters", K.NEGATIVE_NUMBER), (4, None, K.MALFORMED_CSV)]


def test_wrong_delimiter() -> None:
    text = HEADER.replace(",", ";") + "R;;tỉnh;Gốc;;;\n"
    issues = rejected(text)
    assert [(i.line, i.column, i.kind, i.value) for i in issues] == [
        (1, None, K.WRONG_DELIMITER, ";")
    ]
    assert where(HEADER.replace(",", "\t") + "R\t\ttỉnh\tGốc\t\t\t\n") == [
        (1, None, K.WRONG_DELIMITER)
    ]


def test_missing_columns_reported_once() -> None:
    text = "code,parent,name,voters\nR,,Gốc,\nA,R,Khu A,100\nB,R,Khu B,200\n"
    assert where(text) == [
        (1, "parent_code", K.MISSING_COLUMN),
        (1, "kind", K.MISSING_COLUMN),
        (1, "registered_voters", K.MISSING_COLUMN),
    ]


def test_missing_column_and_row_errors_together() -> None:
    text = "code,parent_code,name,registered_voters\nR,,Gốc,\nA,R,,-1\nA,R,Khu,1\n"
    assert where(text) == [
        (1, "kind", K.MISSING_COLUMN),
        (3, "name", K.EMPTY_VALUE),
        (3, "registered_voters", K.NEGATIVE_NUMBER),
        (4, "code", K.DUPLICATE_CODE),
    ]


def test_duplicate_column() -> None:
    text = "code,parent_code,kind,name,registered_voters,Code\nR,,tỉnh,Gốc,,X\nA,R,kv,Khu,1,Y\n"
    assert where(text) == [(1, "Code", K.DUPLICATE_COLUMN)]


def test_too_many_fields() -> None:
    text = HEADER + "R,,tỉnh,Gốc,,,\nA,R,kv,Khu 1, thôn Nấm,100,12,0912000001\nB,R,kv,Khu 2,1,,\n"
    issues = rejected(text)
    assert [(i.line, i.column, i.kind, i.value) for i in issues] == [
        (3, None, K.TOO_MANY_FIELDS, "0912000001")
    ]  # its shifted cells are not checked, and its code still counts as a unit


def test_empty_required_values() -> None:
    text = HEADER + "R,,tỉnh,Gốc,,,\n,R,kv,Khu 1,100,,\nB,R, ,Khu 2,100,,\nC,R,kv,  ,100,,\n"
    assert where(text) == [
        (3, "code", K.EMPTY_VALUE),
        (4, "kind", K.EMPTY_VALUE),
        (5, "name", K.EMPTY_VALUE),
    ]


@pytest.mark.parametrize("code", ["KV 05", "kv/05", "Đ01", "kv05!", "x" * 33, "ＫＶ05"])
def test_bad_code(code: str) -> None:
    issues = rejected(HEADER + f'R,,tỉnh,Gốc,,,\n"{code}",R,kv,Khu,1,,\n')
    assert [(i.line, i.column, i.kind, i.value) for i in issues] == [(3, "code", K.BAD_CODE, code)]


def test_legal_code_characters() -> None:
    tree = parse(HEADER + "R,,tỉnh,Gốc,,,\nkv_05.a-1,R,kv,Khu,1,,\n" + f"{'x' * 32},R,kv,K,2,,\n")
    assert len(tree) == 3


def test_bad_code_children_do_not_cascade() -> None:
    text = HEADER + 'R,,tỉnh,Gốc,,,\n"X 1",R,xã,Xã,,,\nA,X 1,kv,Khu,1,,\n'
    assert where(text) == [(3, "code", K.BAD_CODE)]


def test_duplicate_code_case_insensitive() -> None:
    text = (
        HEADER + "R,,tỉnh,Gốc,,,\nkv05,R,kv,Khu 5,100,,\nB,R,kv,Khu B,1,,\nKV05,R,kv,Khu 5b,1,,\n"
    )
    issues = rejected(text)
    assert [(i.line, i.column, i.kind, i.value, i.related_lines) for i in issues] == [
        (5, "code", K.DUPLICATE_CODE, "KV05", (3,))
    ]


def test_unknown_parent() -> None:
    text = HEADER + "R,,tỉnh,Gốc,,,\nA,R,kv,Khu A,1,,\nB,RR,kv,Khu B,1,,\n"
    issues = rejected(text)
    assert [(i.line, i.column, i.kind, i.value) for i in issues] == [
        (4, "parent_code", K.UNKNOWN_PARENT, "RR")
    ]


def test_cycle_names_every_row() -> None:
    text = HEADER + (
        "R,,tỉnh,Gốc,,,\n"
        "R1,R,kv,Khu R1,1,,\n"
        "A,C,xã,Xã A,,,\n"  # 4
        "A1,A,kv,Khu A1,1,,\n"  # 5: hangs below the cycle, not part of it
        "B,A,xã,Xã B,,,\n"  # 6
        "C,b,xã,Xã C,,,\n"  # 7
        "S,S,xã,Tự trỏ,1,,\n"  # 8: its own parent
    )
    issues = rejected(text)
    assert [(i.line, i.column, i.kind, i.value, i.related_lines) for i in issues] == [
        (4, "parent_code", K.CYCLE, "C", (6, 7)),
        (6, "parent_code", K.CYCLE, "A", (4, 7)),
        (7, "parent_code", K.CYCLE, "b", (4, 6)),
        (8, "parent_code", K.CYCLE, "S", ()),
    ]


def test_leaf_without_voters() -> None:
    text = HEADER + "R,,tỉnh,Gốc,,,\nX,R,xã,Xã,,,\nA,X,kv,Khu A,,12,\nB,R,xã,Xã rỗng,,,\n"
    assert where(text) == [
        (4, "registered_voters", K.MISSING_VOTERS),
        (5, "registered_voters", K.MISSING_VOTERS),  # a unit nobody names as parent is a leaf
    ]


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("12.5", K.BAD_NUMBER),
        ("1.25", K.BAD_NUMBER),
        ("abc", K.BAD_NUMBER),
        ('"1,250"', K.BAD_NUMBER),
        ("1 250", K.BAD_NUMBER),
        ("+3", K.BAD_NUMBER),
        ("3e2", K.BAD_NUMBER),
        ("١٢", K.BAD_NUMBER),  # non-ASCII digits
        ("-3", K.NEGATIVE_NUMBER),
        ("-1.250", K.NEGATIVE_NUMBER),
        ("100000001", K.NUMBER_TOO_LARGE),
        ("9" * 5000, K.NUMBER_TOO_LARGE),
    ],
)
def test_bad_counts(value: str, kind: ImportIssueKind) -> None:
    text = HEADER + f"R,,tỉnh,Gốc,,,\nA,R,kv,Khu A,{value},{value},\n"
    assert where(text) == [(3, "registered_voters", kind), (3, "staff", kind)]


def test_inner_unit_malformed_voters_is_an_error() -> None:
    text = HEADER + "R,,tỉnh,Gốc,12.5,,\nA,R,kv,Khu A,1,,\n"
    issues = rejected(text)
    assert [(i.line, i.column, i.kind, i.value) for i in issues] == [
        (2, "registered_voters", K.BAD_NUMBER, "12.5")
    ]


def test_bad_phone() -> None:
    text = HEADER + 'R,,tỉnh,Gốc,,,"0912 000 001; 12345;+1 202 555 0100"\nA,R,kv,Khu,1,,\n'
    issues = rejected(text)
    assert [(i.line, i.column, i.kind, i.value) for i in issues] == [
        (2, "contact_phones", K.BAD_PHONE, "12345"),
        (2, "contact_phones", K.BAD_PHONE, "+1 202 555 0100"),
    ]


def test_columns_named_as_written_in_the_header() -> None:
    text = "CODE,Parent_Code,Kind,Name,Registered_Voters\nR,,tỉnh,Gốc,\nA,Q,kv,,x\n"
    assert where(text) == [
        (2, "Registered_Voters", K.MISSING_VOTERS),  # R: no child any more, so a leaf
        (3, "Parent_Code", K.UNKNOWN_PARENT),
        (3, "Name", K.EMPTY_VALUE),
        (3, "Registered_Voters", K.BAD_NUMBER),
    ]


def test_every_error_reported_together_sorted() -> None:
    text = HEADER + (
        "R,,tỉnh,Gốc,,,\n"  # 2
        "A,R,kv,Khu A,abc,-2,0912\n"  # 3
        "a,R,kv,Khu A bis,100,,\n"  # 4
        "B,NOPE,kv,,100,,\n"  # 5
        "C,R,kv,Khu C,,,\n"  # 6
        "D E,R,,Khu D,1,1,\n"  # 7
        "F,R,kv,Khu, F,1,1,\n"  # 8
        "G,H,xã,Xã G,,,\n"  # 9
        "H,G,xã,Xã H,,,\n"  # 10
    )
    assert where(text) == [
        (3, "registered_voters", K.BAD_NUMBER),
        (3, "staff", K.NEGATIVE_NUMBER),
        (3, "contact_phones", K.BAD_PHONE),
        (4, "code", K.DUPLICATE_CODE),
        (5, "parent_code", K.UNKNOWN_PARENT),
        (5, "name", K.EMPTY_VALUE),
        (6, "registered_voters", K.MISSING_VOTERS),
        (7, "code", K.BAD_CODE),
        (7, "kind", K.EMPTY_VALUE),
        (8, None, K.TOO_MANY_FIELDS),
        (9, "parent_code", K.CYCLE),
        (10, "parent_code", K.CYCLE),
    ]


def test_issue_values_are_bounded() -> None:
    issues = rejected(HEADER + f"R,,tỉnh,Gốc,,,\nA,R,kv,Khu,{'x' * 5000},,\n")
    assert issues[0].value is not None and len(issues[0].value) <= 200


# one minimal file per kind: the only issue it raises
ONE_OF_EACH: dict[ImportIssueKind, tuple[bytes, int, str | None]] = {
    K.NOT_UTF8: (HEADER.encode() + b"R,,t\xe0,G,,,\n", 2, None),
    K.EMPTY_FILE: (b"", 1, None),
    K.NO_UNITS: (HEADER.encode(), 1, None),
    K.MALFORMED_CSV: ((HEADER + 'R,,t,"' + "x" * 140_000 + '",,,\n').encode(), 2, None),
    K.WRONG_DELIMITER: (HEADER.replace(",", ";").encode() + b"R;;t;G;;;\n", 1, None),
    K.MISSING_COLUMN: (b"code,parent_code,kind,name\nR,,t,G\n", 1, "registered_voters"),
    K.DUPLICATE_COLUMN: (HEADER.replace("\n", ",name\n").encode() + b"R,,t,G,1,,,G\n", 1, "name"),
    K.TOO_MANY_FIELDS: (HEADER.encode() + b"R,,t,G,1,,,x\n", 2, None),
    K.EMPTY_VALUE: (HEADER.encode() + b"R,,t,,1,,\n", 2, "name"),
    K.BAD_CODE: (HEADER.encode() + b"R#,,t,G,1,,\n", 2, "code"),
    K.DUPLICATE_CODE: (HEADER.encode() + b"R,,t,G,1,,\nr,,t,G,1,,\n", 3, "code"),
    K.UNKNOWN_PARENT: (HEADER.encode() + b"R,Q,t,G,1,,\n", 2, "parent_code"),
    K.CYCLE: (HEADER.encode() + b"R,R,t,G,,,\n", 2, "parent_code"),
    K.MISSING_VOTERS: (HEADER.encode() + b"R,,t,G,,,\n", 2, "registered_voters"),
    K.BAD_NUMBER: (HEADER.encode() + b"R,,t,G,1,1.5,\n", 2, "staff"),
    K.NEGATIVE_NUMBER: (HEADER.encode() + b"R,,t,G,-1,,\n", 2, "registered_voters"),
    K.NUMBER_TOO_LARGE: (HEADER.encode() + b"R,,t,G,123.456.789,,\n", 2, "registered_voters"),
    K.BAD_PHONE: (HEADER.encode() + b"R,,t,G,1,,0912\n", 2, "contact_phones"),
}


def test_every_kind_has_an_example() -> None:
    assert set(ONE_OF_EACH) == set(ImportIssueKind)


@pytest.mark.parametrize("kind", list(ImportIssueKind))
def test_each_kind_alone(kind: ImportIssueKind) -> None:
    data, line, column = ONE_OF_EACH[kind]
    assert where(data) == [(line, column, kind)]


# --------------------------------------------------------------------------- records API


def test_records_from_a_spreadsheet() -> None:
    header: list[Cell] = ["code", "parent_code", "kind", "name", "registered_voters", "staff"]
    rows: list[list[Cell]] = [
        ["R", None, "tỉnh", "Gốc", None, None],
        ["A", "R", "kv", "Khu A", 320.0, 12],
        ["B", "R", "kv", "Khu B", 320, 11.0],
        [2752.0, "R", "xã", "Xã số", None, None],  # numeric code cell: becomes "2752"
        ["C", 2752, "kv", "Khu C", 5, None],
        [None, None, None, None, None, None],  # blank row
    ]
    tree = parse_unit_records(header, rows, first_line=5)
    assert tree["A"].registered_voters == 320 and tree["A"].line == 6
    assert tree["B"].staff == 11
    assert tree["C"].parent_code == "2752"
    assert tree["2752"].line == 8


@pytest.mark.parametrize(
    ("cell", "kind"),
    [
        (320.5, K.BAD_NUMBER),
        (1.234, K.BAD_NUMBER),  # a decimal, not "1.234" = 1234
        (float("nan"), K.BAD_NUMBER),
        (float("inf"), K.BAD_NUMBER),
        (True, K.BAD_NUMBER),
        (-3, K.NEGATIVE_NUMBER),
        (-3.0, K.NEGATIVE_NUMBER),
        (10**12, K.NUMBER_TOO_LARGE),
        (1e300, K.NUMBER_TOO_LARGE),
    ],
)
def test_records_bad_numbers(cell: Cell, kind: ImportIssueKind) -> None:
    header: list[Cell] = ["code", "parent_code", "kind", "name", "registered_voters"]
    rows: list[list[Cell]] = [["R", None, "tỉnh", "Gốc", None], ["A", "R", "kv", "Khu", cell]]
    with pytest.raises(UnitsFileError) as caught:
        parse_unit_records(header, rows)
    assert [(i.line, i.column, i.kind) for i in caught.value.issues] == [
        (3, "registered_voters", kind)
    ]


def test_records_without_rows() -> None:
    with pytest.raises(UnitsFileError) as caught:
        parse_unit_records(["code", "parent_code", "kind", "name", "registered_voters"], [])
    assert [(i.line, i.kind) for i in caught.value.issues] == [(1, K.NO_UNITS)]


def test_kind_and_name_are_nfc() -> None:
    decomposed = "Xã Pha Long".replace("ã", "a\u0303")
    tree = parse(HEADER + f"R,,x\u0061\u0303,{decomposed},,,\nA,R,kv,Khu,1,,\n")
    assert tree["R"].name == "Xã Pha Long" and tree["R"].kind == "xã"


# --------------------------------------------------------------------------- never crashes

CELL = st.one_of(
    st.none(),
    st.text(max_size=12),
    st.sampled_from(["", " ", "R", "A", "a", "B", "-1", "1.250", "12.5", "0912345678", ";"]),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
)
VALID_HEADER: list[Cell] = [
    "code",
    "parent_code",
    "kind",
    "name",
    "registered_voters",
    "staff",
    "contact_phones",
]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_arbitrary_bytes(data: bytes) -> None:
    try:
        parse_units_csv(data)
    except UnitsFileError as error:
        assert error.issues
        assert error.issues == sorted(error.issues, key=lambda i: i.line)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.sampled_from(["R", "A", "b", "", "1", "x y", "-2", ";"]), max_size=9)))
def test_arbitrary_csv_text(rows: list[list[str]]) -> None:
    text = HEADER + "\n".join(",".join(row) for row in rows) + "\n"
    try:
        tree = parse(text)
    except UnitsFileError as error:
        assert error.issues
    else:
        assert len(tree) == len({u.code.lower() for u in tree})


@settings(max_examples=200, deadline=None)
@given(
    st.one_of(st.just(VALID_HEADER), st.lists(CELL, max_size=9)),
    st.lists(st.lists(CELL, max_size=9), max_size=12),
)
def test_arbitrary_records(header: list[Cell], rows: list[list[Cell]]) -> None:
    try:
        tree = parse_unit_records(header, rows)
    except UnitsFileError as error:
        assert error.issues
    else:
        for unit in tree:  # a tree that parses is consistent
            assert tree.is_leaf(unit.code) == (unit.registered_voters is not None)
            assert unit.parent_code is None or tree.depth(unit.code) > 0
