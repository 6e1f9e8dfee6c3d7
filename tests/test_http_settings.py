"""Settings of the one HTTP server and of the channels: FIELDTALLY_PUBLIC_URL is an origin
(https://, or http:// on a loopback or private-LAN host), FIELDTALLY_CHANNELS names channels
this version has, the Telegram webhook defaults from the public URL, and the deprecated
names of the webhook's and the metrics' listeners still set where the server listens.

Each refusal is checked for what it is about (the setting named, the reason), and `fieldtally
run` stops on it with one line and exit status 2."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.settings import (
    DEFAULT_HTTP_PORT,
    Settings,
    SettingsError,
    check_public_url,
    load_settings,
    read_settings,
)
from handlers.channels import enabled_channels, missing_credentials
from handlers.sms.settings import SmsSettings
from handlers.telegram.settings import TelegramSettings, load_telegram_settings
from tests.test_cli import fieldtally

SECRET = "s3cret_0123456789abcdef"


@pytest.fixture(autouse=True)
def no_settings_from_outside(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Only what a test gives: no variable of the developer's shell, no stray .env."""
    for name in list(os.environ):
        if name.startswith(("FIELDTALLY_", "TELEGRAM_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


TOKEN = "123456:ABCdef"


def core(**values: str) -> Settings:
    return load_settings(_env_file=None, **values)


def telegram(**values: str) -> TelegramSettings:
    return load_telegram_settings(_env_file=None, **values)


# -- FIELDTALLY_PUBLIC_URL ---------------------------------------------------------------------

ACCEPTED = [
    ("https://bot.example.vn", "https://bot.example.vn"),
    ("https://bot.example.vn/", "https://bot.example.vn"),  # the trailing slash is dropped
    ("  https://bot.example.vn:8443 ", "https://bot.example.vn:8443"),
    ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),  # loopback: tests
    ("http://localhost:8080", "http://localhost:8080"),
    ("http://[::1]:8080", "http://[::1]:8080"),
    ("http://192.168.1.20", "http://192.168.1.20"),  # private LAN: a wall screen
    ("http://10.0.0.5:8080", "http://10.0.0.5:8080"),
    ("http://172.16.4.1", "http://172.16.4.1"),
    ("http://[fd00::1]:8080", "http://[fd00::1]:8080"),  # IPv6 unique-local
]

REFUSED = [
    ("http://bot.example.vn", "https://"),  # plain HTTP on the internet
    ("http://8.8.8.8", "https://"),  # a public address
    ("http://169.254.1.1", "https://"),  # link-local is not a LAN
    ("http://100.64.0.1", "https://"),  # carrier-grade NAT is not the office LAN
    ("http://172.32.0.1", "https://"),  # just outside 172.16/12
    ("http://printer.lan", "https://"),  # a name is not resolved: not known to be local
    ("https://bot.example.vn/fieldtally", "origin only"),  # a path
    ("https://bot.example.vn?x=1", "origin only"),  # a query
    ("https://bot.example.vn/#top", "origin only"),  # a fragment
    ("ftp://bot.example.vn", "https:// origin"),
    ("bot.example.vn", "https:// origin"),  # no scheme
    ("https://", "https:// origin"),  # no host
    ("https://user:pw@bot.example.vn", "user name or password"),
    ("https://bot.example.vn:99999", "not a valid URL"),
]


@pytest.mark.parametrize(("given", "kept"), ACCEPTED)
def test_public_url_accepted(given: str, kept: str) -> None:
    assert check_public_url(given) == kept
    assert core(FIELDTALLY_PUBLIC_URL=given).public_url == kept


@pytest.mark.parametrize(("given", "reason"), REFUSED)
def test_public_url_refused_with_its_reason(given: str, reason: str) -> None:
    with pytest.raises(SettingsError) as refused:
        core(FIELDTALLY_PUBLIC_URL=given)
    line = str(refused.value)
    assert line.startswith("FIELDTALLY_PUBLIC_URL: ") and reason in line, line
    assert "pw" not in line.split(":", 1)[1]  # a password in it is never echoed


def test_public_url_unset_or_blank_is_none() -> None:
    assert core().public_url is None
    assert core(FIELDTALLY_PUBLIC_URL=" ").public_url is None


# -- the Telegram webhook and the public URL ---------------------------------------------------


def test_the_webhook_defaults_to_the_public_url_with_a_secret() -> None:
    hooked = telegram(
        FIELDTALLY_PUBLIC_URL="https://bot.example.vn", FIELDTALLY_WEBHOOK_SECRET=SECRET
    )
    assert hooked.webhook_url == "https://bot.example.vn/telegram/webhook"
    assert hooked.webhook_path == "/telegram/webhook"


def test_an_explicit_webhook_url_wins_over_the_public_url() -> None:
    hooked = telegram(
        FIELDTALLY_PUBLIC_URL="https://bot.example.vn",
        FIELDTALLY_WEBHOOK_URL="https://hooks.example.vn/telegram/abc",
        FIELDTALLY_WEBHOOK_SECRET=SECRET,
    )
    assert hooked.webhook_url == "https://hooks.example.vn/telegram/abc"
    assert hooked.webhook_path == "/telegram/abc"


@pytest.mark.parametrize(
    "values",
    [
        {},  # nothing: polling, as today
        {"FIELDTALLY_PUBLIC_URL": "https://bot.example.vn"},  # no secret: still polling
        {"FIELDTALLY_WEBHOOK_SECRET": SECRET},  # a secret but nowhere to be reached
        # Telegram posts to https:// only: a LAN origin does not make a webhook
        {"FIELDTALLY_PUBLIC_URL": "http://192.168.1.20", "FIELDTALLY_WEBHOOK_SECRET": SECRET},
    ],
)
def test_without_a_public_https_url_and_a_secret_the_bot_polls(values: dict[str, str]) -> None:
    assert telegram(**values).webhook_url is None
    assert telegram(**values).webhook_path is None


def test_a_webhook_url_without_its_secret_is_refused() -> None:
    with pytest.raises(SettingsError, match="FIELDTALLY_WEBHOOK_SECRET is required"):
        telegram(FIELDTALLY_WEBHOOK_URL="https://bot.example.vn/telegram/x")


def test_the_bot_id_is_the_tokens_prefix_and_lives_with_telegram() -> None:
    assert telegram(TELEGRAM_BOT_TOKEN=TOKEN).bot_id == 123456
    assert telegram().bot_id == 0
    assert not hasattr(core(), "bot_id") and not hasattr(core(), "bot_token")


def test_the_core_settings_name_no_telegram_setting() -> None:
    source = (Path(__file__).parents[1] / "bot" / "settings.py").read_text("utf-8").lower()
    for word in ("telegram", "4096", "update_id", "<b>"):
        # FIELDTALLY_ADMINS' message still says "Telegram user ids" until that setting
        # takes channel identities (another change of issue 13); nothing else may.
        hits = [line for line in source.splitlines() if word in line and "user ids" not in line]
        assert not hits, hits


# -- FIELDTALLY_CHANNELS -----------------------------------------------------------------------

CHANNELS = [
    # (FIELDTALLY_CHANNELS, token set, enabled, or the start's refusal)
    ("", True, {"telegram"}, None),  # unset: the channels with credentials
    ("", False, set(), None),
    ("telegram", True, {"telegram"}, None),
    (" Telegram , telegram ", True, {"telegram"}, None),
    ("telegram,zalo", True, {"telegram", "zalo"}, None),  # zalo's credentials: see below
    ("telegram,sms", True, {"telegram", "sms"}, None),
    ("whatsapp", True, None, "unknown channel 'whatsapp'"),
]


@pytest.mark.parametrize(("value", "token", "enabled", "refusal"), CHANNELS)
def test_channels_setting(
    value: str, token: bool, enabled: set[str] | None, refusal: str | None
) -> None:
    settings = core(FIELDTALLY_CHANNELS=value)
    channel_settings = telegram(TELEGRAM_BOT_TOKEN=TOKEN if token else "")
    if refusal is None:
        assert enabled_channels(settings, channel_settings) == enabled
        return
    with pytest.raises(SettingsError) as refused:
        enabled_channels(settings, channel_settings)
    assert str(refused.value).startswith("FIELDTALLY_CHANNELS: ") and refusal in str(refused.value)


def test_a_channel_name_that_is_not_one_is_refused_by_the_core() -> None:
    with pytest.raises(SettingsError, match=r"^FIELDTALLY_CHANNELS: '9x' is not a channel name"):
        core(FIELDTALLY_CHANNELS="telegram,9x")


def test_telegram_without_a_token_is_the_usual_missing_token() -> None:
    without = telegram()
    for channels in (frozenset({"telegram"}), frozenset()):
        assert missing_credentials(channels, without) == "TELEGRAM_BOT_TOKEN: required for run"
    assert missing_credentials(frozenset({"telegram"}), telegram(TELEGRAM_BOT_TOKEN=TOKEN)) is None


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"FIELDTALLY_CHANNELS": "telegram,zalo", "TELEGRAM_BOT_TOKEN": TOKEN},
         "ZALO_BOT_TOKEN or ZALO_BOTS_FILE: required for the zalo channel"),
        ({"FIELDTALLY_CHANNELS": "telegram,sms", "TELEGRAM_BOT_TOKEN": TOKEN},
         "SMS_GATEWAY_URL"),
        ({"FIELDTALLY_CHANNELS": "telegram"}, "TELEGRAM_BOT_TOKEN: required for run"),
        ({"FIELDTALLY_PUBLIC_URL": "http://bot.example.vn", "TELEGRAM_BOT_TOKEN": TOKEN},
         "FIELDTALLY_PUBLIC_URL: must be https://"),
    ],
)  # fmt: skip
def test_run_stops_on_a_bad_channel_setting_with_one_line(
    tmp_path: Path, env: dict[str, str], expected: str
) -> None:
    result = fieldtally(tmp_path, "run", **env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], result.stderr
    assert TOKEN.split(":")[1] not in result.stderr + result.stdout


# -- where the server listens ------------------------------------------------------------------


def test_the_server_listens_on_loopback_8080_by_default() -> None:
    settings = core()
    assert settings.http_binds == (("127.0.0.1", DEFAULT_HTTP_PORT),)
    assert not settings.metrics_enabled


def test_the_new_names_set_the_address() -> None:
    settings = core(FIELDTALLY_HTTP_LISTEN="0.0.0.0", FIELDTALLY_HTTP_PORT="9000")
    assert settings.http_binds == (("0.0.0.0", 9000),)


def test_the_old_webhook_names_set_the_address_when_the_new_ones_are_unset() -> None:
    settings = core(FIELDTALLY_WEBHOOK_LISTEN="0.0.0.0", FIELDTALLY_WEBHOOK_PORT="8443")
    assert settings.http_binds == (("0.0.0.0", 8443),)
    newer = core(FIELDTALLY_WEBHOOK_PORT="8443", FIELDTALLY_HTTP_PORT="9000")
    assert newer.http_binds == (("127.0.0.1", 9000),)  # the new name wins


def test_the_old_metrics_port_enables_metrics_on_the_server() -> None:
    alone = core(FIELDTALLY_METRICS_PORT="9108", FIELDTALLY_METRICS_LISTEN="0.0.0.0")
    assert alone.metrics_enabled
    assert alone.http_binds == (("0.0.0.0", 9108),)  # it is the server's address
    # With the webhook's port too (an old two-listener deployment): one server, both ports,
    # so the old scrape target and nginx's proxy_pass both keep working.
    both = core(FIELDTALLY_WEBHOOK_PORT="8443", FIELDTALLY_METRICS_PORT="9108")
    assert both.http_binds == (("127.0.0.1", 8443), ("127.0.0.1", 9108))
    # The extra listener binds where the server does unless FIELDTALLY_METRICS_LISTEN says.
    docker = core(
        FIELDTALLY_HTTP_LISTEN="0.0.0.0",
        FIELDTALLY_HTTP_PORT="8080",
        FIELDTALLY_METRICS_PORT="9108",
    )
    assert docker.http_binds == (("0.0.0.0", 8080), ("0.0.0.0", 9108))
    same = core(FIELDTALLY_HTTP_PORT="9108", FIELDTALLY_METRICS_PORT="9108")
    assert same.http_binds == (("127.0.0.1", 9108),)


def test_metrics_are_off_unless_asked_for() -> None:
    assert core(FIELDTALLY_METRICS="true").metrics_enabled
    assert not core(FIELDTALLY_METRICS="false").metrics_enabled
    with pytest.raises(SettingsError, match=r"^FIELDTALLY_METRICS: "):
        core(FIELDTALLY_METRICS="sometimes")


@pytest.mark.parametrize("name", ["FIELDTALLY_HTTP_PORT", "FIELDTALLY_WEBHOOK_PORT"])
def test_a_bad_port_names_its_setting(name: str) -> None:
    with pytest.raises(SettingsError, match=f"^{name}: "):
        core(**{name: "70000"})


# -- the SMS channel's settings ----------------------------------------------------------------


def sms(**values: str) -> SmsSettings:
    return SmsSettings(_env_file=None, **values)  # type: ignore[arg-type]


SMS_READY = {
    "SMS_GATEWAY_URL": "http://192.168.1.20:8080/",
    "SMS_GATEWAY_USER": "sms",
    "SMS_GATEWAY_PASSWORD": "gateway-password",
    "SMS_WEBHOOK_SIGNING_KEY": "signing-key",
    "FIELDTALLY_PUBLIC_URL": "https://bot.example.vn",
}


def test_sms_runs_when_its_gateway_is_set_and_says_what_it_lacks() -> None:
    assert enabled_channels(core(), telegram(), sms=sms(**SMS_READY)) == {"sms"}
    assert enabled_channels(core(), telegram(TELEGRAM_BOT_TOKEN=TOKEN), sms=sms()) == {"telegram"}
    ready = sms(**SMS_READY)
    assert ready.gateway_url == "http://192.168.1.20:8080"
    assert ready.webhook_url == "https://bot.example.vn/sms/webhook"
    assert (ready.per_minute, ready.unicode) == (20, False)
    assert missing_credentials(frozenset({"sms"}), telegram(), sms=ready) is None
    for name in ("SMS_GATEWAY_URL", "SMS_GATEWAY_PASSWORD", "SMS_WEBHOOK_SIGNING_KEY",
                 "FIELDTALLY_PUBLIC_URL"):  # fmt: skip
        lacking = sms(**{k: v for k, v in SMS_READY.items() if k != name})
        reason = missing_credentials(frozenset({"sms"}), telegram(), sms=lacking)
        assert reason is not None and reason.startswith(f"{name}: required"), reason


def test_sms_settings_keep_their_secrets_out_of_errors() -> None:
    with pytest.raises(SettingsError) as refused:
        read_settings(SmsSettings, _env_file=None, SMS_GATEWAY_URL="http://u:secretpw@phone:8080")
    assert str(refused.value).startswith("SMS_GATEWAY_URL: ")
    assert "secretpw" not in str(refused.value)
    ready = sms(**SMS_READY)
    assert set(ready.secrets()) == {"gateway-password", "signing-key"}
    assert "gateway-password" not in repr(ready) and "signing-key" not in repr(ready)
