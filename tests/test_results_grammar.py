"""The counting record's grammar (RESULTS.md, "The counting record, in the chat"): every
start, label and vote form it reads, every refusal with its reason and where, the
confirmation words, and properties: any text is read without crashing, never into a number
it does not contain, and a written record reads back as itself."""

from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.results.grammar import (
    ParsedRecord,
    RecordField,
    UnreadableReason,
    UnreadableRecord,
    VoteForm,
    WriteStyle,
    is_confirmation,
    parse_record,
    write_record,
)
from bot.results.model import BALLOTS, Ballot
from bot.turnout.grammar import fold

FIELDS = "cử tri 1.250, đã bầu 1.238, phát ra 1.238, thu vào 1.238\nhợp lệ 1.220, không hợp lệ 18"
VOTES = "1) 950 2) 870 3) 640 4) 500 5) 410"
CONTRACT_EXAMPLE = ParsedRecord(
    ballot=Ballot.QH,
    voted=1238,
    issued=1238,
    returned=1238,
    valid=1220,
    invalid=18,
    votes=(950, 870, 640, 500, 410),
    registered_voters=1250,
    area_code="KV05",
)


def read(text: str) -> ParsedRecord:
    record = parse_record(text)
    assert isinstance(record, ParsedRecord), record
    return record


def test_the_contracts_example() -> None:
    assert read(f"KQ QH KV05\n{FIELDS}\n{VOTES}") == CONTRACT_EXAMPLE


@pytest.mark.parametrize(
    ("start", "ballot"),
    [
        ("KQ QH", "qh"),
        ("kq quốc hội", "qh"),
        ("Kết quả ĐBQH", "qh"),
        ("ket qua quoc hoi", "qh"),
        ("KQ tinh", "tinh"),
        ("kq Tỉnh", "tinh"),
        ("kết quả HĐND tỉnh", "tinh"),
        ("kq hdnd tinh", "tinh"),
        ("KQ huyen", "huyen"),
        ("kq huyện", "huyen"),
        ("KQ HĐND huyện", "huyen"),
        ("kq xa", "xa"),
        ("KQ XÃ", "xa"),
        ("kết quả hđnd xã", "xa"),
        ("Kq: qh", "qh"),
    ],
)
def test_every_ballot_alias(start: str, ballot: str) -> None:
    record = read(f"{start}\n{FIELDS}\n{VOTES}")
    assert (record.ballot, record.area_code, record.is_correction) == (ballot, None, False)


@pytest.mark.parametrize(
    ("start", "area", "correction"),
    [
        ("KQ QH KV05", "KV05", False),
        ("KQ QH KV05:", "KV05", False),
        ("KV05: KQ QH", "KV05", False),
        ("kv05 : kq qh", "kv05", False),
        ("KQ QH 02752-01", "02752-01", False),
        ("05: KQ QH", "05", False),
        ("sửa kq qh", None, True),
        ("Sửa lại KQ QH KV05", "KV05", True),
        ("sua kq qh KV05:", "KV05", True),
        ("KV05: sửa KQ QH", "KV05", True),
    ],
)
def test_the_area_and_the_correction_in_the_start(
    start: str, area: str | None, correction: bool
) -> None:
    record = read(f"{start}\n{FIELDS}\n{VOTES}")
    assert (record.area_code, record.is_correction) == (area, correction)


@pytest.mark.parametrize(
    ("label", "name"),
    [
        ("cử tri", RecordField.REGISTERED_VOTERS),
        ("Cu tri", RecordField.REGISTERED_VOTERS),
        ("CT", RecordField.REGISTERED_VOTERS),
        ("tổng số cử tri", RecordField.REGISTERED_VOTERS),
        ("đã bầu", RecordField.VOTED),
        ("bầu", RecordField.VOTED),
        ("bỏ phiếu", RecordField.VOTED),
        ("BP", RecordField.VOTED),
        ("da bau", RecordField.VOTED),
        ("số cử tri đã bầu", RecordField.VOTED),
        ("phát ra", RecordField.ISSUED),
        ("phát", RecordField.ISSUED),
        ("pr", RecordField.ISSUED),
        ("số phiếu phát ra", RecordField.ISSUED),
        ("thu vào", RecordField.RETURNED),
        ("thu", RecordField.RETURNED),
        ("TV", RecordField.RETURNED),
        ("hợp lệ", RecordField.VALID),
        ("HL", RecordField.VALID),
        ("phiếu hợp lệ", RecordField.VALID),
        ("không hợp lệ", RecordField.INVALID),
        ("khong hop le", RecordField.INVALID),
        ("KHL", RecordField.INVALID),
    ],
)
@pytest.mark.parametrize("glue", [" ", ": ", " - ", ":"])
def test_every_label_alias(label: str, name: RecordField, glue: str) -> None:
    """Each label names its field, whatever the case, diacritics and sign after it; `hợp lệ`
    inside `không hợp lệ` is the invalid count."""
    values = {
        RecordField.REGISTERED_VOTERS: 1250,
        RecordField.VOTED: 1238,
        RecordField.ISSUED: 1237,
        RecordField.RETURNED: 1236,
        RecordField.VALID: 1220,
        RecordField.INVALID: 16,
    }
    others = {
        RecordField.REGISTERED_VOTERS: "ct",
        RecordField.VOTED: "bp",
        RecordField.ISSUED: "pr",
        RecordField.RETURNED: "tv",
        RecordField.VALID: "hl",
        RecordField.INVALID: "khl",
    }
    lines = [
        f"{label}{glue}{values[f]}" if f is name else f"{others[f]} {values[f]}" for f in values
    ]
    record = read("kq qh\n" + "\n".join(lines) + "\n950 870")
    assert {f: record.value(f) for f in values} == values


@pytest.mark.parametrize(
    "votes",
    [
        "1) 950 2) 870 3) 640",
        "1)950 2)870 3)640",
        "(1) 950 (2) 870 (3) 640",
        "1-950 2-870 3-640",
        "1 - 950, 2 - 870, 3 - 640",
        "1:950 2:870 3:640",
        "1: 950; 2: 870; 3: 640",
        "950 870 640",
        "950, 870, 640",
        "950\n870\n640",
        "1) 950\n2) 870\n3) 640",
        "- 950\n- 870\n- 640",
    ],
)
def test_every_vote_form(votes: str) -> None:
    assert read(f"kq qh\nbp 1238, pr 1238, tv 1238, hl 1220, khl 18\n{votes}").votes == (
        950,
        870,
        640,
    )


@pytest.mark.parametrize(
    "text",
    [
        "KQ QH\ncử tri 1250\nđã bầu 1238\nphát ra 1238\nthu vào 1238\nhợp lệ 1220\n"
        "không hợp lệ 18\n1) 950 2) 870 3) 640 4) 500 5) 410",
        "KQ QH: ct 1.250; bp 1.238; pr 1.238; tv 1.238; hl 1.220; khl 18; 950 870 640 500 410",
        "kq qh ct 1250 bp 1238 pr 1238 tv 1238 hl 1220 khl 18\n950 870 640 500 410",
        "KQ QH\n• Cử tri: 1.250\n• Đã bầu: 1.238\n• Phát ra: 1.238\n• Thu vào: 1.238\n"
        "• Hợp lệ: 1.220\n• Không hợp lệ: 18\n950\n870\n640\n500\n410",
        "KQ QH\nhợp lệ 1.220, không hợp lệ 18, cử tri 1.250, đã bầu 1.238, phát ra 1.238, "
        "thu vào 1.238.\n950 870 640 500 410",
        "🗳 kq qh\n\n  CT １２５０, bp\u200b 1238, pr 1238, tv 1238, hl 1220, khl 18\n"
        "950 870 640 500 410 ✅",
    ],
)
def test_layouts_of_the_same_record(text: str) -> None:
    record = read(text)
    assert (record.registered_voters, record.voted, record.valid, record.invalid) == (
        1250,
        1238,
        1220,
        18,
    )
    assert record.votes == (950, 870, 640, 500, 410)


def test_sorted_valid_ballots() -> None:
    record = read(
        "kq xa\nbp 100, pr 100, tv 100, hl 98, khl 2\n1) 80 2) 70 3) 60\n"
        "loại 1: 40 loai 2 - 30, Loại 3: 28"
    )
    assert record.loai == (40, 30, 28)


def test_sorted_kinds_not_stated_are_zero() -> None:
    record = read("kq xa\nbp 100, pr 100, tv 100, hl 98, khl 2\n1) 80 2) 70 3) 60\nloại 3: 28")
    assert record.loai == (0, 0, 28)


def test_the_stated_list_is_optional() -> None:
    record = read("kq qh bp 10, pr 10, tv 10, hl 10, khl 0\n6 4")
    assert record.registered_voters is None


@pytest.mark.parametrize(
    ("text", "reason", "where"),
    [
        ("kq abc\nbp 10", UnreadableReason.UNKNOWN_BALLOT, "abc"),
        ("kq\nbp 10", UnreadableReason.UNKNOWN_BALLOT, ""),
        ("KQ qh5 bp 10", UnreadableReason.UNKNOWN_BALLOT, "qh5"),
        ("KV05: KQ QH KV06: bp 10", UnreadableReason.TWO_AREAS, "KV05, KV06"),
        ("kq qh bp 10, pr 10, tv 10, hl 10, khl 0, phiếu trắng 2", UnreadableReason.UNKNOWN_WORD,
         "phiếu"),
        ("kq qh bp 10, pr 10, tv 10, hl 10, khl 0\n77%", UnreadableReason.UNEXPECTED, "77%"),
        ("kq qh bp 10/12, pr 10, tv 10, hl 10, khl 0", UnreadableReason.UNEXPECTED, "10/12"),
        ("kq qh bp 10, pr 10, tv 10, hl, khl 0", UnreadableReason.FIELD_WITHOUT_NUMBER, "hl"),
        ("kq qh bp 10, pr 10, tv 10, hl 10, khl 0\n6 4\nloại 1",
         UnreadableReason.FIELD_WITHOUT_NUMBER, "loại 1"),
        ("kq qh bp 10, pr 10, tv 10, hl 10, khl 0, HL 9", UnreadableReason.DUPLICATE_FIELD, "HL 9"),
        ("kq qh bp 10, pr 10, tv 10, hl 10, khl 0\n6 4\nloại 1: 2 loại 1: 3",
         UnreadableReason.DUPLICATE_FIELD, "loại 1: 3"),
        ("kq qh cử tri 1 250, bp 10, pr 10, tv 10, hl 10, khl 0", UnreadableReason.SPACE_IN_NUMBER,
         "1 250"),
        ("kq qh bp 10 12, pr 10, tv 10, hl 10, khl 0", UnreadableReason.STRAY_NUMBER, "12"),
        ("kq qh bp 1,250, pr 10, tv 10, hl 10, khl 0", UnreadableReason.UNCLEAR_NUMBER, "1,250"),
        ("kq qh bp 12.5, pr 10, tv 10, hl 10, khl 0", UnreadableReason.UNCLEAR_NUMBER, "12.5"),
        ("kq qh bp 10, pr 10, tv 10, hl 10, khl 0\n1. 6 2. 4", UnreadableReason.UNCLEAR_NUMBER,
         "1. 6"),
        ("kq qh bp 10, pr 10, tv 10, hl 10, khl 0\n6 ٤", UnreadableReason.UNCLEAR_NUMBER, "٤"),
        ("kq qh bp 1" + "0" * 30 + ", pr 10", UnreadableReason.NUMBER_TOO_LONG, "1" + "0" * 30),
        ("kq qh bp 10, pr 10, tv 10, hl 10, khl 0\n1) 6 3) 4", UnreadableReason.VOTE_OUT_OF_ORDER,
         "3) 4"),
        ("kq qh bp 10, pr 10, tv 10, hl 10, khl 0\n2) 6 1) 4", UnreadableReason.VOTE_OUT_OF_ORDER,
         "2) 6"),
        ("kq qh bp 10, pr 10, tv 10, hl 10, khl 0\n1) 6 4", UnreadableReason.MIXED_VOTE_FORMS, "4"),
        ("kq qh bp 10, pr 10, tv 10, hl 10, khl 0\n) 6", UnreadableReason.UNEXPECTED, ")"),
        ("kq qh bp 10, pr 10, tv 10, hl 10, khl 0\n6 4\nloại 0: 2", UnreadableReason.UNEXPECTED,
         "loại 0"),
        ("kq qh bp 10, pr 10, tv 10, hl 10, khl 0\n6 4\nloại 100: 2", UnreadableReason.UNEXPECTED,
         "loại 100"),
    ],
)  # fmt: skip
def test_refusals_say_why_and_where(text: str, reason: UnreadableReason, where: str) -> None:
    record = parse_record(text)
    assert isinstance(record, UnreadableRecord)
    assert (record.reason, record.where) == (reason, where)


def test_kq_is_always_a_counting_record() -> None:
    """`kq` is the results' own word: a message starting with it is answered as a record even
    when it reads as nothing else; `kết quả` only when it names a field of one."""
    for text in ("KQ xã Bản Lầu: 250/320 9h", "kq qh", "Kết quả QH: hợp lệ 1/2"):
        assert isinstance(parse_record(text), UnreadableRecord), text


def test_missing_fields_are_named() -> None:
    record = parse_record("KQ QH KV05\nbp 10, hl 10\n6 4")
    assert isinstance(record, UnreadableRecord)
    assert record.reason is UnreadableReason.MISSING_FIELDS
    assert record.fields == (
        RecordField.ISSUED,
        RecordField.RETURNED,
        RecordField.INVALID,
    )
    assert (record.ballot, record.area_code) == (Ballot.QH, "KV05")


def test_a_field_without_its_number_names_the_field() -> None:
    record = parse_record("kq xa bp 10, pr, tv 10")
    assert isinstance(record, UnreadableRecord)
    assert (record.reason, record.fields) == (
        UnreadableReason.FIELD_WITHOUT_NUMBER,
        (RecordField.ISSUED,),
    )


@pytest.mark.parametrize(
    "text",
    [
        "250/320 9h",
        "Kết quả: 250/320 9h",  # a turnout report that says "kết quả"
        "kết quả tốt",
        "sửa 245/320 9h",
        "/ketqua",
        "đúng",
        "",
        "KV05: 250/320",
        "Kết quả xã Bản Lầu: 250/320 9h",  # "kết quả" and "xã" in a turnout report
        "Kết quả tỉnh: 250/320",
        "/kq qh",  # a command, whatever it is
    ],
)
def test_what_is_not_a_counting_record(text: str) -> None:
    assert parse_record(text) is None


@pytest.mark.parametrize(
    ("text", "confirms"),
    [
        ("đúng", True),
        ("Đúng", True),
        ("ĐÚNG!", True),
        ("dung", True),
        ("DUNG", True),
        ("ok", True),
        ("OK 👍", True),
        ("Ok.", True),
        ("xác nhận", True),
        ("Xác Nhận", True),
        ("xac nhan", True),
        ("  đúng  ", True),
        ("dừng", False),  # stop
        ("dùng", False),
        ("đúng rồi sửa lại", False),
        ("ok 950", False),
        ("không", False),
        ("", False),
        ("kq qh", False),
    ],
)
def test_confirmation_words(text: str, confirms: bool) -> None:
    assert is_confirmation(text) is confirms


# --------------------------------------------------------------------------- properties


def numbers_in(text: str) -> set[int]:
    """Every number the text could be said to contain: each digit run, and each run of
    dot-grouped digits read as one number."""
    folded = fold(text).text
    found = {int(d) for d in re.findall(r"[0-9]+", folded)}
    found |= {int(d.replace(".", "")) for d in re.findall(r"[0-9]+(?:\.[0-9]{3})+", folded)}
    return found


def figures(record: ParsedRecord) -> list[int]:
    values = [record.value(f) for f in RecordField]
    flat = [v for v in values if v is not None] + list(record.votes)
    for kind, count in enumerate(record.loai or (), start=1):
        if count:
            flat += [kind, count]
    return flat


PIECES = st.sampled_from(
    [
        "kq", "KQ", "qh", "xã", "tỉnh", "huyện", "sửa", "KV05", ":", " ", "\n", ",", ";", ")",
        "(", "-", ".", "%", "/", "cử tri", "ct", "đã bầu", "bp", "phát ra", "thu vào", "tv",
        "hợp lệ", "không hợp lệ", "khl", "hl", "loại", "1", "950", "1.250", "1 250", "0", "07",
        "12.5", "1,250", "٤", "²", "½", "\u200b", "đúng", "abc", "🎉",
    ]
)  # fmt: skip


@settings(deadline=None, max_examples=400)
@given(st.lists(PIECES, max_size=40).map("".join) | st.text(max_size=200))
def test_any_text_is_read_without_inventing_numbers(text: str) -> None:
    record = parse_record(text)
    if isinstance(record, ParsedRecord):
        assert set(figures(record)) <= numbers_in(text)
    elif isinstance(record, UnreadableRecord):
        assert unicodedata.normalize("NFC", record.where).replace(" ", "") in (
            unicodedata.normalize("NFC", text).replace(" ", "").replace("\n", "")
        ) or record.reason in (UnreadableReason.TWO_AREAS,)


COUNTS = st.integers(min_value=0, max_value=99_999)
RECORDS = st.builds(
    ParsedRecord,
    ballot=st.sampled_from(BALLOTS),
    voted=COUNTS,
    issued=COUNTS,
    returned=COUNTS,
    valid=COUNTS,
    invalid=COUNTS,
    votes=st.lists(COUNTS, max_size=12).map(tuple),
    registered_voters=st.none() | COUNTS,
    loai=st.none() | st.lists(COUNTS, min_size=1, max_size=6).map(tuple),
    area_code=st.none() | st.sampled_from(["KV05", "02752-01", "kv12", "LC-7"]),
    is_correction=st.booleans(),
)
STYLES = st.builds(
    WriteStyle,
    diacritics=st.booleans(),
    short_labels=st.booleans(),
    vote_form=st.sampled_from(VoteForm),
    separator=st.sampled_from([", ", "; ", "\n", ",", " "]),
    dotted=st.booleans(),
    area_first=st.booleans(),
)


@settings(deadline=None, max_examples=400)
@given(RECORDS, STYLES)
def test_a_written_record_reads_back_as_itself(record: ParsedRecord, style: WriteStyle) -> None:
    assert parse_record(write_record(record, style)) == record
