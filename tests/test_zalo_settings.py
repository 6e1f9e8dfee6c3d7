"""The Zalo channel's settings (handlers/zalo/settings.py): one bot from ZALO_BOT_TOKEN, or
one bot per row of ZALO_BOTS_FILE (owner-only, with its header), the webhook secret required
with FIELDTALLY_PUBLIC_URL, the monthly quota; the bots fill the directory of which bot
serves which subtree. Each refusal is one line naming the setting, never a token."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.messaging.directory import BotDirectory, BotEntry
from bot.settings import SettingsError
from handlers.zalo.settings import (
    DEFAULT_API_URL,
    ZaloSettings,
    load_zalo_settings,
    read_bots_file,
    token_bot_id,
)

TOKEN = "4001:aBcDeF_secret-1"
OTHER = "4002:ZzYyXx_secret-2"
SECRET = "zalo-hook-secret"


@pytest.fixture(autouse=True)
def no_settings_from_outside(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith(("FIELDTALLY_", "ZALO_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def zalo(**values: str) -> ZaloSettings:
    return load_zalo_settings(_env_file=None, **values)


def bots_file(tmp_path: Path, text: str, mode: int = 0o600) -> Path:
    path = tmp_path / "zalo-bots.csv"
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


def refusal(**values: str) -> str:
    with pytest.raises(SettingsError) as caught:
        zalo(**values)
    message = str(caught.value)
    assert "\n" not in message
    for secret in ("aBcDeF_secret", "ZzYyXx_secret", SECRET):
        assert secret not in message
    return message


def test_no_token_is_no_bot() -> None:
    settings = zalo()
    assert settings.bots == () and settings.api_url == DEFAULT_API_URL
    assert settings.monthly_quota == 3000 and not settings.uses_webhook


def test_one_token_is_one_bot_for_the_whole_tree() -> None:
    settings = zalo(ZALO_BOT_TOKEN=TOKEN)
    (bot,) = settings.bots
    assert (bot.bot_id, bot.name, bot.unit_code) == ("4001", "zalo:4001", None)
    assert bot.link == "https://zalo.me/4001"
    assert bot.token.get_secret_value() == TOKEN
    assert TOKEN not in repr(settings) and TOKEN not in repr(bot)


def test_the_bots_file_gives_each_bot_its_subtree_and_link(tmp_path: Path) -> None:
    path = bots_file(
        tmp_path,
        f"unit_code,token,link\n02752,{TOKEN},\n02755,{OTHER},https://zalo.me/s/xa-2755\n",
    )
    settings = zalo(ZALO_BOTS_FILE=str(path), ZALO_MONTHLY_QUOTA="500")
    assert [(b.name, b.unit_code, b.link) for b in settings.bots] == [
        ("zalo:4001", "02752", "https://zalo.me/4001"),
        ("zalo:4002", "02755", "https://zalo.me/s/xa-2755"),
    ]
    assert settings.monthly_quota == 500
    directory = BotDirectory()
    settings.fill(directory)
    assert list(directory) == [
        BotEntry("zalo:4001", "zalo", "02752", "https://zalo.me/4001"),
        BotEntry("zalo:4002", "zalo", "02755", "https://zalo.me/s/xa-2755"),
    ]
    assert sorted(settings.secrets()) == sorted([TOKEN, OTHER])


def test_a_header_without_link_and_a_bom_are_fine(tmp_path: Path) -> None:
    path = bots_file(tmp_path, f"\ufeffUnit_Code,Token\n02752,{TOKEN}\n")
    assert [b.bot_id for b in read_bots_file(path)] == ["4001"]


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644, 0o660])
def test_a_bots_file_others_may_read_is_refused(tmp_path: Path, mode: int) -> None:
    path = bots_file(tmp_path, f"unit_code,token\n02752,{TOKEN}\n", mode)
    message = refusal(ZALO_BOTS_FILE=str(path))
    assert message.startswith("ZALO_BOTS_FILE") and "chmod 600" in message


@pytest.mark.parametrize(
    ("text", "about"),
    [
        ("", "empty"),
        (f"code,token\n02752,{TOKEN}\n", "line 1"),
        ("unit_code,token\n", "no bot"),
        ("unit_code,token\n02752,not-a-token\n", "line 2: the token"),
        (f"unit_code,token\n02752,{TOKEN}\n02753,{TOKEN}\n", "line 3: bot 4001 is listed twice"),
        (f"unit_code,token\n02752,{TOKEN}\n02752,{OTHER}\n", "line 3: unit 02752 has two bots"),
        (f"unit_code,token,link\n02752,{TOKEN},http://zalo.me/4001\n", "line 2: the link"),
        (f"unit_code,token\n02752,{TOKEN},extra\n", "line 2: expected"),
    ],
)
def test_a_malformed_bots_file_is_refused_with_its_line(
    tmp_path: Path, text: str, about: str
) -> None:
    path = bots_file(tmp_path, text)
    message = refusal(ZALO_BOTS_FILE=str(path))
    assert message.startswith("ZALO_BOTS_FILE") and about in message


def test_a_missing_bots_file_is_refused(tmp_path: Path) -> None:
    assert "cannot be read" in refusal(ZALO_BOTS_FILE=str(tmp_path / "none.csv"))


def test_token_and_file_together_are_refused(tmp_path: Path) -> None:
    path = bots_file(tmp_path, f"unit_code,token\n02752,{OTHER}\n")
    assert "not both" in refusal(ZALO_BOT_TOKEN=TOKEN, ZALO_BOTS_FILE=str(path))


def test_a_malformed_token_is_refused_without_being_quoted() -> None:
    message = refusal(ZALO_BOT_TOKEN="aBcDeF_secret")
    assert message.startswith("ZALO_BOT_TOKEN")


def test_the_webhook_needs_its_secret_with_a_public_url() -> None:
    message = refusal(ZALO_BOT_TOKEN=TOKEN, FIELDTALLY_PUBLIC_URL="https://bot.example.vn")
    assert message.startswith("ZALO_WEBHOOK_SECRET")
    settings = zalo(
        ZALO_BOT_TOKEN=TOKEN, FIELDTALLY_PUBLIC_URL="https://bot.example.vn",
        ZALO_WEBHOOK_SECRET=SECRET,
    )  # fmt: skip
    assert settings.uses_webhook
    assert settings.webhook_url(settings.bots[0]) == "https://bot.example.vn/zalo/4001"
    assert SECRET in settings.secrets()


@pytest.mark.parametrize("secret", ["short", "x" * 257, "has space inside"])
def test_the_webhook_secret_is_8_to_256_characters(secret: str) -> None:
    assert refusal(ZALO_WEBHOOK_SECRET=secret).startswith("ZALO_WEBHOOK_SECRET")


@pytest.mark.parametrize(("name", "value"), [("ZALO_MONTHLY_QUOTA", "0"),
                                             ("ZALO_API_URL", "ftp://x")])  # fmt: skip
def test_bad_values_are_refused(name: str, value: str) -> None:
    assert refusal(**{name: value}).startswith(name)


@given(st.text(max_size=40))
def test_a_bot_id_is_only_ever_a_tokens_numeric_prefix(text: str) -> None:
    bot_id = token_bot_id(text)
    if bot_id is not None:
        assert bot_id.isdigit() and text.strip().startswith(bot_id + ":")
