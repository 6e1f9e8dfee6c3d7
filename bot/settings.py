"""The core's runtime settings, read from the environment or a `.env` file.

What every channel shares: the database, admins, time zone, election date, summary schedule,
logs, the one HTTP server (`FIELDTALLY_HTTP_LISTEN`/`_PORT`), the public origin it is reached
at (`FIELDTALLY_PUBLIC_URL`), metrics, and which channels run (`FIELDTALLY_CHANNELS`). Each
channel's own settings (its token, API root, webhook, rate limits) live with its adapter
under `handlers/`, read from the same environment; `read_settings` loads either kind and
turns a bad value into one line naming the setting.
"""

from __future__ import annotations

import datetime as dt
import re
from ipaddress import ip_address, ip_network
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.registration.identities import Admins, parse_admins
from storage.database import is_postgres_url

DEFAULT_SCHEDULE = "09:00,11:00,14:00,17:00,19:00"
_DURATION = re.compile(r"^\s*(\d+)\s*(s|m|h)\s*$", re.IGNORECASE)
_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600}
DEFAULT_HTTP_LISTEN = "127.0.0.1"
DEFAULT_HTTP_PORT = 8080
DEFAULT_MEDIA_TTL = 600  # a chart's URL: the platform fetches it at once
DEFAULT_EXPORT_LINK_TTL = 86400  # an export's download link: a day
_CHANNEL_NAME = re.compile(r"[a-z][a-z0-9_]*")


class Settings(BaseSettings):
    """The core's settings (every channel's share). Field aliases are the environment names."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )

    database: str = Field(default="./data/fieldtally.db", alias="FIELDTALLY_DB")
    admins: Annotated[Admins, NoDecode] = Field(default=Admins(), alias="FIELDTALLY_ADMINS")
    tz_name: str = Field(default="Asia/Ho_Chi_Minh", alias="FIELDTALLY_TZ")
    election_date: dt.date | None = Field(default=None, alias="FIELDTALLY_ELECTION_DATE")
    schedule: Annotated[tuple[dt.time, ...], NoDecode] = Field(
        default=DEFAULT_SCHEDULE, validate_default=True, alias="FIELDTALLY_SCHEDULE"
    )
    summary_every: Annotated[dt.timedelta | None, NoDecode] = Field(
        default=None, alias="FIELDTALLY_SUMMARY_EVERY"
    )
    # Deployment (not chat-facing): channels, the HTTP server, logs, metrics.
    channels: Annotated[frozenset[str] | None, NoDecode] = Field(
        default=None, alias="FIELDTALLY_CHANNELS"
    )  # None: every channel whose credentials are set
    public_url: str | None = Field(default=None, alias="FIELDTALLY_PUBLIC_URL")
    # Seconds a link to a chart (a photo sent by URL) and to an export file stays valid.
    media_ttl: int = Field(default=DEFAULT_MEDIA_TTL, gt=0, alias="FIELDTALLY_MEDIA_TTL")
    export_link_ttl: int = Field(
        default=DEFAULT_EXPORT_LINK_TTL, gt=0, alias="FIELDTALLY_EXPORT_LINK_TTL"
    )
    http_listen: str = Field(default=DEFAULT_HTTP_LISTEN, alias="FIELDTALLY_HTTP_LISTEN")
    http_port: int = Field(default=DEFAULT_HTTP_PORT, ge=1, le=65535, alias="FIELDTALLY_HTTP_PORT")
    # Deprecated names of the server's address (from when the webhook had its own listener):
    # used only when the FIELDTALLY_HTTP_* name is unset.
    webhook_listen: str | None = Field(default=None, alias="FIELDTALLY_WEBHOOK_LISTEN")
    webhook_port: int | None = Field(default=None, ge=1, le=65535, alias="FIELDTALLY_WEBHOOK_PORT")
    log_format: Literal["text", "json"] = Field(default="text", alias="FIELDTALLY_LOG_FORMAT")
    # Results night: a counting record counts as checked only once a second registered person
    # of the area has entered the same numbers (RESULTS.md, "Second entry").
    results_double_entry: bool = Field(default=False, alias="FIELDTALLY_RESULTS_DOUBLE_ENTRY")
    # /metrics on the HTTP server. The deprecated FIELDTALLY_METRICS_PORT enables it too; a
    # port other than the server's is then listened on as well (same routes), so an old
    # Prometheus scrape target keeps working.
    metrics: bool = Field(default=False, alias="FIELDTALLY_METRICS")
    metrics_port: int | None = Field(default=None, ge=1, le=65535, alias="FIELDTALLY_METRICS_PORT")
    metrics_listen: str | None = Field(default=None, alias="FIELDTALLY_METRICS_LISTEN")

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

    @field_validator(
        "metrics_port", "webhook_port", "webhook_listen", "metrics_listen", "public_url",
        mode="before",
    )  # fmt: skip
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("media_ttl", "export_link_ttl", mode="before")
    @classmethod
    def _ttl(cls, value: Any, info: ValidationInfo) -> Any:
        """Whole seconds; blank is the default."""
        if isinstance(value, str):
            if not value.strip():
                defaults = {
                    "media_ttl": DEFAULT_MEDIA_TTL,
                    "export_link_ttl": DEFAULT_EXPORT_LINK_TTL,
                }
                return defaults[str(info.field_name)]
            if not value.strip().isdigit():
                raise ValueError("must be a whole number of seconds, greater than 0")
            return int(value.strip())
        return value

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        return None if value is None else check_public_url(value)

    @field_validator("channels", mode="before")
    @classmethod
    def _channels(cls, value: Any) -> Any:
        if isinstance(value, str):
            names = [p.strip().lower() for p in value.split(",") if p.strip()]
            if not names:
                return None
            for name in names:
                # Which channels exist is the wiring's business (handlers/channels.py).
                if not _CHANNEL_NAME.fullmatch(name):
                    raise ValueError(f"{name!r} is not a channel name")
            return frozenset(names)
        return value

    @field_validator("http_listen", mode="before")
    @classmethod
    def _listen(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            return DEFAULT_HTTP_LISTEN
        return value.strip() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _old_server_names(self) -> Settings:
        """The deprecated FIELDTALLY_WEBHOOK_LISTEN/PORT (then FIELDTALLY_METRICS_*) stand
        for the server's address when the FIELDTALLY_HTTP_* names are unset."""
        given = self.model_fields_set
        if "http_port" not in given:
            old_port = self.webhook_port or self.metrics_port
            if old_port is not None:
                self.http_port = old_port
        if "http_listen" not in given:
            old_listen = self.webhook_listen or self.metrics_listen
            if old_listen is not None:
                self.http_listen = old_listen
        return self

    @field_validator("admins", mode="before")
    @classmethod
    def _admins(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.split(",")
        if isinstance(value, set | frozenset | list | tuple):  # also given in code (tests)
            try:
                return parse_admins([str(v) for v in value])
            except ValueError as error:
                raise ValueError(
                    "must be comma-separated user ids or channel identities (123, "
                    f"zalo:<bot>:<user>, sms:+84…): {error}"
                ) from None
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

    def health_file(self, bot: str | int = 0) -> Path:
        """Where the running bot keeps its storage state for `fieldtally status`: next to
        the SQLite file, or under ./data for a PostgreSQL database (one file per `bot`, the
        name of the bot's identity that keys what is per bot in a shared database)."""
        if self.uses_postgres:
            return Path("data") / f"fieldtally-{bot}.health"
        return self.db_path.with_name(self.db_path.name + ".health")

    @property
    def metrics_enabled(self) -> bool:
        return self.metrics or self.metrics_port is not None

    @property
    def http_binds(self) -> tuple[tuple[str, int], ...]:
        """Every address the HTTP server listens on: its own, then the deprecated metrics
        port when that is another one."""
        binds = [(self.http_listen, self.http_port)]
        if self.metrics_port is not None and self.metrics_port != self.http_port:
            binds.append((self.metrics_listen or self.http_listen, self.metrics_port))
        return tuple(binds)

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


# Loopback and private-LAN networks (RFC 1918, RFC 4193), where http:// is allowed.
_LOCAL_NETWORKS = tuple(
    ip_network(n)
    for n in ("127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7")
)


def _local_host(host: str) -> bool:
    """A loopback or private-LAN host: `localhost`, 127/8, ::1, 10/8, 172.16/12, 192.168/16,
    fc00::/7 (a host name other than localhost is not resolved: it does not count)."""
    if host.lower() == "localhost" or host.lower().endswith(".localhost"):
        return True
    try:
        address = ip_address(host)
    except ValueError:
        return False
    return any(address in network for network in _LOCAL_NETWORKS)


def check_public_url(value: str) -> str:
    """FIELDTALLY_PUBLIC_URL: an origin (scheme, host, optional port; no path, query or
    fragment), `https://`, or `http://` for a loopback or private-LAN host only. Returned
    without a trailing slash, so `{url}/path` is well formed."""
    value = value.strip()
    try:
        parts = urlsplit(value)
        host, _ = parts.hostname, parts.port
    except ValueError:
        raise ValueError("is not a valid URL (check the host and port)") from None
    if parts.scheme not in ("https", "http") or not host:
        raise ValueError("must be an https:// origin such as https://bot.example.vn")
    if parts.username is not None or parts.password is not None:
        raise ValueError("must not hold a user name or password")
    if parts.path not in ("", "/") or parts.query or parts.fragment or value.endswith("?"):
        raise ValueError("must be an origin only (no path, query or fragment): "
                         "the routes are added to it")  # fmt: skip
    if parts.scheme == "http" and not _local_host(host):
        raise ValueError("must be https:// (http:// only for a loopback or private-LAN host)")
    return f"{parts.scheme}://{parts.netloc}"


class SettingsError(Exception):
    """A bad setting; `str()` is one line naming the setting, never its (possibly secret) value."""


AnySettings = TypeVar("AnySettings", bound=BaseSettings)


def read_settings(kind: type[AnySettings], **overrides: Any) -> AnySettings:
    """Settings of `kind` from the environment, `.env` and `overrides`, or a SettingsError."""
    try:
        return kind(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        message = str(first["msg"]).removeprefix("Value error, ")
        if not first["loc"]:  # a rule across settings names them in its message
            raise SettingsError(message) from None
        name = str(first["loc"][0])
        field = kind.model_fields.get(name)
        env_name = field.alias if field is not None and field.alias else name
        raise SettingsError(f"{env_name}: {message}") from None


def load_settings(**overrides: Any) -> Settings:
    return read_settings(Settings, **overrides)
