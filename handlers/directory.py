"""The directory of bots (`bot.messaging.directory.BotDirectory`) as the settings describe it.

Kept tiny on purpose: today it knows one Zalo bot, `ZALO_BOT_TOKEN`, serving the whole tree
(its name `zalo:<bot id>`, the bot id being the token's numeric prefix, and its link
`https://zalo.me/<bot id>`). The Zalo adapter extends it with `ZALO_BOTS_FILE` (one bot per
subtree, with an optional link of its own). The command line (`fieldtally invites`) and the
bot process fill `core.directory` from it; the token itself is never kept or shown.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.messaging.directory import BotDirectory, BotEntry
from bot.settings import Settings, read_settings

ZALO = "zalo"


class _ZaloToken(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )

    bot_token: SecretStr | None = Field(default=None, alias="ZALO_BOT_TOKEN")

    @field_validator("bot_token", mode="before")
    @classmethod
    def _token(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            return None
        if isinstance(value, str) and not re.fullmatch(r"\d+:\S+", value.strip()):
            # Never echo the value: it is a secret even when malformed.
            raise ValueError("does not look like a Zalo bot token (digits:letters)")
        return value.strip() if isinstance(value, str) else value


def zalo_entry(bot_id: str, unit_code: str | None = None, link: str | None = None) -> BotEntry:
    """A Zalo bot in the directory: its name, the subtree it serves, its chat link."""
    return BotEntry(f"{ZALO}:{bot_id}", ZALO, unit_code, link or f"https://zalo.me/{bot_id}")


def load_directory(settings: Settings, **overrides: Any) -> BotDirectory:
    """The bots the settings name (today: the one Zalo bot of ZALO_BOT_TOKEN, if set).
    A malformed token is a SettingsError naming the setting, never quoting it. `settings`
    is the core's: the bots file the Zalo adapter adds is found through it."""
    del settings  # the one-token case needs nothing of the core's settings
    zalo = read_settings(_ZaloToken, **overrides)
    directory = BotDirectory()
    if zalo.bot_token is not None:
        bot_id = zalo.bot_token.get_secret_value().split(":", 1)[0]
        directory.add(zalo_entry(bot_id))
    return directory
