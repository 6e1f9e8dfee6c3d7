"""Which channels run: FIELDTALLY_CHANNELS checked against the channels this version has.

The core's settings only check that the setting names channels; which exist, which are
available and what each needs (its credentials) is known here, next to the adapters.
"""

from __future__ import annotations

from bot.settings import Settings, SettingsError
from handlers.sms.settings import SMS, SmsSettings
from handlers.telegram.settings import TELEGRAM, TelegramSettings
from handlers.zalo.settings import ZALO, ZaloSettings

CONTRACT_CHANNELS = (TELEGRAM, ZALO, SMS)  # the channels contract's names
AVAILABLE_CHANNELS = (TELEGRAM, ZALO, SMS)  # those this version can run


def enabled_channels(
    settings: Settings,
    telegram: TelegramSettings,
    zalo: ZaloSettings | None = None,
    sms: SmsSettings | None = None,
) -> frozenset[str]:
    """The channels to run: FIELDTALLY_CHANNELS, or every available channel whose
    credentials are set (Telegram: its token; SMS: the gateway's URL and password). A
    SettingsError (one line naming the setting) for a channel that is unknown or not
    available yet."""
    if settings.channels is None:
        found = set()
        if telegram.bot_token is not None:
            found.add(TELEGRAM)
        if zalo is not None and zalo.bots:
            found.add(ZALO)
        if sms is not None and sms.configured:
            found.add(SMS)
        return frozenset(found)
    for name in sorted(settings.channels):
        if name not in CONTRACT_CHANNELS:
            raise SettingsError(
                f"FIELDTALLY_CHANNELS: unknown channel {name!r} (the channels are "
                + ", ".join(CONTRACT_CHANNELS) + ")"
            )  # fmt: skip
        if name not in AVAILABLE_CHANNELS:
            raise SettingsError(
                f"FIELDTALLY_CHANNELS: the {name} channel is not available yet in this version"
                " (available: " + ", ".join(AVAILABLE_CHANNELS) + ")"
            )  # fmt: skip
    return settings.channels


def missing_credentials(
    channels: frozenset[str],
    telegram: TelegramSettings,
    zalo: ZaloSettings | None = None,
    sms: SmsSettings | None = None,
) -> str | None:
    """The one line `run` stops with when an enabled channel lacks its credentials (or none
    is enabled), else None."""
    if not channels or (TELEGRAM in channels and telegram.bot_token is None):
        return "TELEGRAM_BOT_TOKEN: required for run"
    if ZALO in channels and (zalo is None or not zalo.bots):
        return "ZALO_BOT_TOKEN or ZALO_BOTS_FILE: required for the zalo channel"
    if SMS in channels:
        return (sms or SmsSettings(_env_file=None)).missing()
    return None
