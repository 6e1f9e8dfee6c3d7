"""Runtime settings, read from the environment or a `.env` file (the product contract's table)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.channel import Address
from bot.identities import parse_identities, parse_identity
from storage.database import is_postgres_url

DEFAULT_SCHEDULE = "09:00,11:00,14:00,17:00,19:00"
# A bare number in FIELDTALLY_ADMINS is a user id on this channel (the setting's first form).
BARE_ADMIN_CHANNEL = "telegram"
_DURATION = re.compile(r"^\s*(\d+)\s*(s|m|h)\s*$", re.IGNORECASE)
_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600}


class Settings(BaseSettings):
    """Every setting of the contract. Field aliases are the environment variable names."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )

    bot_token: SecretStr | None = Field(default=None, alias="TELEGRAM_BOT_TOKEN")
    api_url: str = Field(default="https://api.telegram.org", alias="TELEGRAM_API_URL")
    database: str = Field(default="./data/fieldtally.db", alias="FIELDTALLY_DB")
    admins: Annotated[frozenset[Address], NoDecode] = Field(
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
    # Deployment (not chat-facing): webhook mode, logs, metrics.
    webhook_url: str | None = Field(default=None, alias="FIELDTALLY_WEBHOOK_URL")
    webhook_listen: str = Field(default="127.0.0.1", alias="FIELDTALLY_WEBHOOK_LISTEN")
    webhook_port: int = Field(default=8443, ge=1, le=65535, alias="FIELDTALLY_WEBHOOK_PORT")
    webhook_secret: SecretStr | None = Field(default=None, alias="FIELDTALLY_WEBHOOK_SECRET")
    # Telegram's documented limit for one bot is about 30 messages a second in all; 0 lifts
    # the cap (429s are still waited out), for a bot whose limit Telegram has raised.
    sends_per_second: float = Field(default=30.0, ge=0, alias="FIELDTALLY_SENDS_PER_SECOND")
    # Telegram's limit for one group: about 20 messages a minute; 0 lifts it (429s are still
    # waited out), for a bot whose limit Telegram has raised or a local Bot API server.
    group_sends_per_minute: float = Field(
        default=20.0, ge=0, alias="FIELDTALLY_GROUP_SENDS_PER_MINUTE"
    )
    log_format: Literal["text", "json"] = Field(default="text", alias="FIELDTALLY_LOG_FORMAT")
    metrics_port: int | None = Field(default=None, ge=1, le=65535, alias="FIELDTALLY_METRICS_PORT")
    metrics_listen: str = Field(default="127.0.0.1", alias="FIELDTALLY_METRICS_LISTEN")

    @field_validator("database")
    @classmethod
    def _database(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("must be a SQLite file path or a postgresql:// URL")
        if "://" in value and not is_postgres_url(value):
            raise ValueError("only SQLite file paths and postgresql:// URLs are supported")
        if is_postgres_url(value):
            _check_postgres_url(value)
        return value

    @field_validator("webhook_url", "metrics_port", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

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
    def _webhook_needs_secret(self) -> Settings:
        if self.webhook_url is not None and self.webhook_secret is None:
            raise ValueError(
                "FIELDTALLY_WEBHOOK_SECRET is required when FIELDTALLY_WEBHOOK_URL is set"
            )
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

    @field_validator("admins", mode="before")
    @classmethod
    def _admins(cls, value: Any) -> Any:
        if isinstance(value, str):
            try:
                return parse_identities(value, BARE_ADMIN_CHANNEL)
            except ValueError as error:
                raise ValueError(
                    f"must be comma-separated identities (123, telegram:123, zalo:<bot>:<user>,"
                    f" sms:+84…): {error}"
                ) from None
        if isinstance(value, set | frozenset | list | tuple):  # given in code (tests, drills)
            return frozenset(
                v if isinstance(v, Address) else parse_identity(str(v), BARE_ADMIN_CHANNEL)
                for v in value
            )
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
    def uses_postgres(self) -> bool:
        return is_postgres_url(self.database)

    @property
    def db_path(self) -> Path:
        """The SQLite file (only when FIELDTALLY_DB is not a PostgreSQL URL)."""
        if self.uses_postgres:
            raise ValueError("FIELDTALLY_DB is a PostgreSQL URL, not a file")
        return Path(self.database)

    @property
    def health_file(self) -> Path:
        """Where the running bot keeps its storage state for `fieldtally status`: next to
        the SQLite file, or under ./data for a PostgreSQL database (one file per bot)."""
        if self.uses_postgres:
            return Path("data") / f"fieldtally-{self.bot_id}.health"
        return self.db_path.with_name(self.db_path.name + ".health")

    @property
    def bot_id(self) -> int:
        """The bot's Telegram id (the token's prefix; 0 without a token): keys what is per bot
        in a database that several bots share."""
        if self.bot_token is None:
            return 0
        return int(self.bot_token.get_secret_value().split(":", 1)[0])

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.tz_name)

    def election_day(self, now: dt.datetime | None = None) -> dt.date:
        """The election date, or today in the configured time zone."""
        if self.election_date is not None:
            return self.election_date
        return (now or dt.datetime.now(self.tz)).astimezone(self.tz).date()


def _check_postgres_url(url: str) -> None:
    """A URL libpq and this program read the same way, or a ValueError that never quotes it
    (it holds a password)."""
    netloc = url.split("://", 1)[1].split("/", 1)[0]
    if netloc.count("@") > 1:
        # libpq ends the password at the first "@" and takes the rest for the host name, so
        # its errors would show the password's tail.
        raise ValueError(
            "the user or password in the postgresql:// URL contains '@': write it as %40"
        )
    try:
        parts = urlsplit(url)
        _ = parts.port, parts.hostname, parts.password
    except ValueError:
        raise ValueError("is not a valid postgresql:// URL (check the host and port)") from None


class SettingsError(Exception):
    """A bad setting; `str()` is one line naming the setting, never its (possibly secret) value."""


def load_settings(**overrides: Any) -> Settings:
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        message = str(first["msg"]).removeprefix("Value error, ")
        if not first["loc"]:  # a rule across settings names them in its message
            raise SettingsError(message) from None
        name = str(first["loc"][0])
        field = Settings.model_fields.get(name)
        env_name = field.alias if field is not None and field.alias else name
        raise SettingsError(f"{env_name}: {message}") from None
