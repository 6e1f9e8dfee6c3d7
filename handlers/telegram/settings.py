"""The Telegram channel's settings: its token, Bot API root, webhook and Telegram's rate limits.

Read from the same environment and `.env` as the core's settings (`bot.settings`), with the
names of the contract's table. Loading never imports python-telegram-bot, so the command
line's `status`, `export` and `backup` stay light.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.settings import check_public_url, read_settings

TELEGRAM = "telegram"  # the channel's name, in FIELDTALLY_CHANNELS and in addresses
# Where the webhook is when only FIELDTALLY_PUBLIC_URL (and the secret) are set.
DEFAULT_WEBHOOK_PATH = "/telegram/webhook"


class TelegramSettings(BaseSettings):
    """Field aliases are the environment variable names."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )

    bot_token: SecretStr | None = Field(default=None, alias="TELEGRAM_BOT_TOKEN")
    api_url: str = Field(default="https://api.telegram.org", alias="TELEGRAM_API_URL")
    webhook_url: str | None = Field(default=None, alias="FIELDTALLY_WEBHOOK_URL")
    webhook_secret: SecretStr | None = Field(default=None, alias="FIELDTALLY_WEBHOOK_SECRET")
    # Read here too (the core validates and owns it): the webhook's default URL hangs off it.
    public_url: str | None = Field(default=None, alias="FIELDTALLY_PUBLIC_URL")
    # Telegram's documented limit for one bot is about 30 messages a second in all; 0 lifts
    # the cap (429s are still waited out), for a bot whose limit Telegram has raised.
    sends_per_second: float = Field(default=30.0, ge=0, alias="FIELDTALLY_SENDS_PER_SECOND")
    # Telegram's limit for one group: about 20 messages a minute; 0 lifts it (429s are still
    # waited out), for a bot whose limit Telegram has raised or a local Bot API server.
    group_sends_per_minute: float = Field(
        default=20.0, ge=0, alias="FIELDTALLY_GROUP_SENDS_PER_MINUTE"
    )

    @field_validator("webhook_url", "public_url", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        return None if value is None else check_public_url(value)

    @field_validator("webhook_url")
    @classmethod
    def _webhook_url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https://[^\s/]+(/\S*)?$", value.strip()):
            raise ValueError("must be the public https:// URL Telegram posts updates to")
        return None if value is None else value.strip()

    @field_validator("webhook_secret", mode="before")
    @classmethod
    def _webhook_secret(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            return None
        if isinstance(value, str) and not re.fullmatch(r"[A-Za-z0-9_-]{16,256}", value.strip()):
            # Telegram's rule for secret_token, with a floor against guessable secrets.
            raise ValueError("must be 16-256 characters of A-Z, a-z, 0-9, _ and -")
        return value.strip() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _webhook(self) -> TelegramSettings:
        if self.webhook_url is not None and self.webhook_secret is None:
            raise ValueError(
                "FIELDTALLY_WEBHOOK_SECRET is required when FIELDTALLY_WEBHOOK_URL is set"
            )
        if (
            self.webhook_url is None
            and self.webhook_secret is not None
            and self.public_url is not None
            and self.public_url.startswith("https://")  # Telegram posts to https:// only
        ):
            self.webhook_url = self.public_url + DEFAULT_WEBHOOK_PATH
        return self

    @field_validator("api_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not re.match(r"^https?://[^\s/]+", value):
            raise ValueError("must be an http(s) URL such as https://api.telegram.org")
        return value

    @field_validator("bot_token", mode="before")
    @classmethod
    def _token(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            return None
        if isinstance(value, str) and not re.fullmatch(r"\d+:[\w-]+", value.strip()):
            # Never echo the value: it is a secret even when malformed.
            raise ValueError("does not look like a bot token (digits:letters)")
        return value.strip() if isinstance(value, str) else value

    @property
    def bot_id(self) -> int:
        """The bot's Telegram id (the token's prefix; 0 without a token): keys what is per bot
        in a database that several bots share."""
        if self.bot_token is None:
            return 0
        return int(self.bot_token.get_secret_value().split(":", 1)[0])

    @property
    def webhook_path(self) -> str | None:
        """The path Telegram posts to (that of the public URL: nginx passes it on unchanged);
        None in long-polling mode."""
        if self.webhook_url is None:
            return None
        return urlsplit(self.webhook_url).path or "/"

    def secrets(self) -> list[str]:
        """What the logs must never show."""
        return [s.get_secret_value() for s in (self.bot_token, self.webhook_secret) if s]


def load_telegram_settings(**overrides: Any) -> TelegramSettings:
    return read_settings(TelegramSettings, **overrides)
