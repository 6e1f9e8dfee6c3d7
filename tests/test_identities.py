"""FIELDTALLY_ADMINS names people by their channel identity (`telegram:123`,
`zalo:<bot>:<user>`, `sms:+84…`), or by a bare number as before (a Telegram user id: the
only channel whose user ids are bare numbers); a bad entry stops the start with one line
naming the setting."""

from __future__ import annotations

import pytest

from bot.channel import Address
from bot.registration.identities import Admins
from bot.settings import SettingsError, load_settings


def admins(value: str) -> Admins:
    return load_settings(_env_file=None, FIELDTALLY_ADMINS=value).admins


def test_a_bare_number_is_a_telegram_user_id_as_before() -> None:
    given = admins("123, 456")
    assert Address("telegram", "123") in given and Address("telegram", "456") in given
    assert Address("telegram", "789") not in given
    assert given.on("telegram", numbered=True) == [
        Address("telegram", "123"),
        Address("telegram", "456"),
    ]
    assert admins("123").on("telegram", numbered=True) == admins("telegram:123").on(
        "telegram", numbered=True
    )


def test_a_bare_number_is_nobody_on_a_channel_whose_ids_are_not_numbers() -> None:
    given = admins("123")
    assert Address("zalo", "4001:123") not in given
    assert Address("sms", "+84912345678") not in given
    assert given.on("zalo", numbered=False) == []


def test_channel_identities_are_accepted_and_an_sms_phone_is_normalised() -> None:
    given = admins("zalo:4001:8f3a9b, sms:0912 345 678, telegram:-100123")
    assert given.identities == {
        Address("zalo", "4001:8f3a9b"),
        Address("sms", "+84912345678"),
        Address("telegram", "-100123"),
    }
    assert Address("telegram", "-100123") in given and Address("telegram", "4001") not in given
    # written any way, an SMS admin matches the sender address the SMS channel gives
    assert admins("sms:+84 912.345.678") == admins("sms:0912345678")
    assert Address("sms", "+84912345678") in admins("sms:+84 912.345.678")


def test_no_admins_is_empty() -> None:
    assert not admins("") and admins("") == Admins()


@pytest.mark.parametrize("value", ["12,abc", "sms:12345", "zalo:", ":9", "telegram: 5"])
def test_a_bad_entry_is_one_line_naming_the_setting(value: str) -> None:
    with pytest.raises(SettingsError) as refused:
        admins(value)
    message = str(refused.value)
    assert message.startswith("FIELDTALLY_ADMINS: ") and "\n" not in message
