"""bot.registration.phones.normalize_phone: Vietnamese numbers to `+84…`, anything else to None."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.registration.phones import normalize_phone


@pytest.mark.parametrize(
    "raw",
    [
        "0912 345 678",
        "0912.345.678",
        "0912-345-678",
        "0912345678",
        "84912345678",  # Telegram's contact format: country code, no `+`
        "+84912345678",
        "(+84) 912 345 678",
        "+84 0912345678",  # the redundant trunk 0 after the country code
        "+84 (0) 912 345 678",
        "84 0912 345 678",
        "0084 912 345 678",  # international prefix dialled from Vietnam
        "  0912 345 678  ",
        "\u00a00912\u00a0345\u00a0678",  # non-breaking spaces from a spreadsheet
        "0 912 345 678",
    ],
)
def test_mobile_forms(raw: str) -> None:
    assert normalize_phone(raw) == "+84912345678"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("024 3825 1234", "+842438251234"),  # Hà Nội landline, 10 digits after +84
        ("(024) 3825-1234", "+842438251234"),
        ("+84 24 3825 1234", "+842438251234"),
        ("842438251234", "+842438251234"),
        ("0214 3840 123", "+842143840123"),  # Lào Cai landline
        ("020 3840 123", "+84203840123"),  # 9 digits after +84: old-style landline
        ("0345 678 901", "+84345678901"),  # Viettel 03x
        ("0567 890 123", "+84567890123"),  # 05x
        ("0789 012 345", "+84789012345"),  # 07x
        ("0845 123 456", "+84845123456"),  # 084 prefix: not confused with the country code
        ("84845123456", "+84845123456"),
        ("+84913000001", "+84913000001"),
    ],
)
def test_other_vietnamese_numbers(raw: str, expected: str) -> None:
    assert normalize_phone(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "+",
        "abc",
        "0912 345 67",  # a digit short
        "09123456789",  # a digit too many
        "912345678",  # no trunk 0 and no country code: ambiguous, a digit may be missing
        "+1 202 555 0100",  # foreign numbers: we only register Vietnamese chiefs
        "+33 6 12 34 56 78",
        "0033612345678",
        "+840",
        "+84",
        "01662345678",  # pre-2018 11-digit mobile, no longer in service
        "0612345678",  # no 06x mobile range
        "0412345678",  # no 04x mobile range (old Hà Nội landline prefix)
        "1900 1234",  # service numbers
        "1800 1234",
        "113",  # emergency short code
        "0912345678 ext 12",
        "0912/345/678",
        "+84+912345678",
        "0912+345678",
        "++84912345678",
        "０９１２３４５６７８",  # full-width digits
        "٠٩١٢٣٤٥٦٧٨",  # Arabic-Indic digits
        "0912 345 678; 0913 345 678",  # a list is the caller's job
        "0" * 100,
        "+84 0 0912345678",  # two trunk zeros
    ],
)
def test_rejected(raw: str) -> None:
    assert normalize_phone(raw) is None


@given(st.text())
def test_any_text_gives_none_or_e164(raw: str) -> None:
    result = normalize_phone(raw)
    if result is not None:
        assert result.startswith("+84")
        assert result[3:].isdigit() and result[3:].isascii()
        assert len(result) in (12, 13)
        assert normalize_phone(result) == result  # idempotent


@given(st.from_regex(r"0[35789][0-9]{8}", fullmatch=True))
def test_every_national_mobile_round_trips(national: str) -> None:
    e164 = "+84" + national[1:]
    assert normalize_phone(national) == e164
    assert normalize_phone(e164[1:]) == e164  # Telegram's form
    assert normalize_phone(e164) == e164
