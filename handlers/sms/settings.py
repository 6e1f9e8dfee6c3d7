"""The SMS channel's settings: the gateway's API root and credentials, the webhook's signing
key, pacing and accented text.

Read from the same environment and `.env` as the core's settings, with the names of the
contract's table. `SMS_GATEWAY_URL` is the API root as the gateway's client takes it: the
phone's local server (`http://<phone>:8080`) or the cloud/private server
(`https://<host>/3rdparty/v1`). The password and the signing key are secrets: never logged.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.settings import check_public_url, read_settings

SMS = "sms"  # the channel's name, in FIELDTALLY_CHANNELS and in addresses
WEBHOOK_PATH = "/sms/webhook"  # where the gateway posts, under FIELDTALLY_PUBLIC_URL


class SmsSettings(BaseSettings):
    """Field aliases are the environment variable names."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )

    gateway_url: str | None = Field(default=None, alias="SMS_GATEWAY_URL")
    user: str | None = Field(default=None, alias="SMS_GATEWAY_USER")
    password: SecretStr | None = Field(default=None, alias="SMS_GATEWAY_PASSWORD")
    signing_key: SecretStr | None = Field(default=None, alias="SMS_WEBHOOK_SIGNING_KEY")
    per_minute: int = Field(default=20, ge=1, le=10_000, alias="SMS_PER_MINUTE")
    unicode: bool = Field(default=False, alias="SMS_UNICODE")
    # Read here too (the core validates and owns it): the webhook's URL hangs off it.
    public_url: str | None = Field(default=None, alias="FIELDTALLY_PUBLIC_URL")

    @field_validator("gateway_url", "user", "public_url", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        if isinstance(value, str):
            return value.strip() or None
        return value

    @field_validator("password", "signing_key", mode="before")
    @classmethod
    def _blank_secret_is_unset(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("gateway_url")
    @classmethod
    def _gateway_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not re.match(r"^https?://[^\s/@]+(/\S*)?$", value):
            raise ValueError(
                "must be the gateway's API root: http://<phone>:8080 (local server) or"
                " https://<host>/3rdparty/v1 (cloud or private server), without credentials"
            )
        return value.rstrip("/")

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        return None if value is None else check_public_url(value)

    @property
    def configured(self) -> bool:
        """Whether the channel's credentials are set (what makes it run)."""
        return self.gateway_url is not None and self.password is not None

    def missing(self) -> str | None:
        """The one line `run` stops with when the channel is enabled and cannot run."""
        if self.gateway_url is None:
            return "SMS_GATEWAY_URL: required for the SMS channel"
        if self.password is None:
            return "SMS_GATEWAY_PASSWORD: required for the SMS channel"
        if self.signing_key is None:
            return "SMS_WEBHOOK_SIGNING_KEY: required for the SMS channel (webhooks are signed)"
        if self.public_url is None:
            return "FIELDTALLY_PUBLIC_URL: required for the SMS channel (the gateway posts to it)"
        return None

    @property
    def webhook_url(self) -> str | None:
        """The URL the gateway posts received SMS to."""
        return None if self.public_url is None else self.public_url + WEBHOOK_PATH

    def secrets(self) -> list[str]:
        """What the logs must never show."""
        return [s.get_secret_value() for s in (self.password, self.signing_key) if s]


def load_sms_settings(**overrides: Any) -> SmsSettings:
    return read_settings(SmsSettings, **overrides)
