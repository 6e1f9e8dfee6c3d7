"""Runtime settings, read from the environment or a `.env` file (the product contract's table)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_SCHEDULE = "09:00,11:00,14:00,17:00,19:00"
_DURATION = re.compile(r"^\s*(\d+)\s*(s|m|h)\s*$", re.IGNORECASE)
_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600}


class Settings(BaseSettings):
    """Every setting of the contract. Field aliases are the environment variable names."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )

    bot_token: SecretStr | None = Field(default=None, alias="TELEGRAM_BOT_TOKEN")
    api_url: str = Field(default="https://api.telegram.org", alias="TELEGRAM_API_URL")
    db_path: Path = Field(default=Path("./data/fieldtally.db"), alias="FIELDTALLY_DB")
    admins: Annotated[frozenset[int], NoDecode] = Field(
        default=frozenset(), alias="FIELDTALLY_ADMINS"
    )
    tz_name: str = Field(default="Asia/Ho_Chi_Minh", alias="FIELDTALLY_TZ")
    election_date: dt.date | None = Field(default=None, alias="FIELDTALLY_ELECTION_DATE")
    schedule: Annotated[tuple[dt.time, ...], NoDecode] = Field(
        default=DEFAULT_SCHEDULE, validate_default=True, alias="FIELDTALLY_SCHEDULE"
    )
    summary_every: Annotated[dt.timedelta | None, NoDecode] = Field(
        default=None, alias="FIELDTALLY_SUMMARY_EVERY"
    )

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

    @field_validator("admins", mode="before")
    @classmethod
    def _admins(cls, value: Any) -> Any:
        if isinstance(value, str):
            parts = [p.strip() for p in value.split(",") if p.strip()]
            if not all(re.fullmatch(r"-?\d+", p) for p in parts):
                raise ValueError("must be comma-separated Telegram user ids (numbers)")
            return frozenset(int(p) for p in parts)
        return value

    @field_validator("tz_name")
    @classmethod
    def _tz(cls, value: str) -> str:
        try:
            ZoneInfo(value.strip())
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value.strip()

    @field_validator("election_date", mode="before")
    @classmethod
    def _date(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            return None
        if isinstance(value, str) and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
            raise ValueError("must be a date YYYY-MM-DD")
        return value

    @field_validator("schedule", mode="before")
    @classmethod
    def _schedule(cls, value: Any) -> Any:
        if isinstance(value, str):
            times = []
            for part in (p.strip() for p in value.split(",")):
                if not part:
                    continue
                match = re.fullmatch(r"(\d{1,2}):(\d{2})", part)
                if not match or int(match[1]) > 23 or int(match[2]) > 59:
                    raise ValueError(f"{part!r} is not a time HH:MM")
                times.append(dt.time(int(match[1]), int(match[2])))
            return tuple(sorted(set(times)))
        return value

    @field_validator("summary_every", mode="before")
    @classmethod
    def _every(cls, value: Any) -> Any:
        if isinstance(value, str):
            if not value.strip():
                return None
            match = _DURATION.match(value)
            if not match or int(match[1]) == 0:
                raise ValueError("must be a duration like 30m, 10s or 1h")
            return dt.timedelta(seconds=int(match[1]) * _DURATION_UNITS[match[2].lower()])
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.tz_name)

    def election_day(self, now: dt.datetime | None = None) -> dt.date:
        """The election date, or today in the configured time zone."""
        if self.election_date is not None:
            return self.election_date
        return (now or dt.datetime.now(self.tz)).astimezone(self.tz).date()


class SettingsError(Exception):
    """A bad setting; `str()` is one line naming the setting, never its (possibly secret) value."""


def load_settings(**overrides: Any) -> Settings:
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]) if first["loc"] else "?"
        field = Settings.model_fields.get(name)
        env_name = field.alias if field is not None and field.alias else name
        message = str(first["msg"]).removeprefix("Value error, ")
        raise SettingsError(f"{env_name}: {message}") from None
