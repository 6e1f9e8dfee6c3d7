"""The Zalo channel's settings: its bots (one token, or the bots file), API root, webhook
secret and monthly quota.

Read from the same environment and `.env` as the core's settings (`bot.settings`), with the
names of the channels contract. `ZALO_BOT_TOKEN` alone is one bot that serves the whole unit
tree; `ZALO_BOTS_FILE` is a CSV with the header `unit_code,token[,link]`, one bot per row, each
serving the subtree of its unit. The file holds secrets: one that its group or others may read
is refused, as is a malformed one, with one line that names the file's line and never a token.
A bot's id is its token's numeric prefix (the same as `getMe`'s id); its link opens a chat
with it (`https://zalo.me/<bot id>` unless the file gives another).
"""

from __future__ import annotations

import csv
import io
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import Field, PrivateAttr, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.messaging.directory import BotDirectory, BotEntry
from bot.settings import check_public_url, read_settings

ZALO = "zalo"  # the channel's name, in FIELDTALLY_CHANNELS and in addresses
DEFAULT_API_URL = "https://bot-api.zaloplatforms.com"
DEFAULT_MONTHLY_QUOTA = 3000  # the Basic plan's messages per bot per month
_TOKEN = re.compile(r"(\d{1,20}):[A-Za-z0-9_-]{1,256}")
_SECRET = re.compile(r"[\x21-\x7e]{8,256}")  # printable ASCII without spaces
_LINK = re.compile(r"https://[^\s/]+(/\S*)?")
MAX_BOTS = 1000


def default_link(bot_id: str) -> str:
    """What opens a chat with a Zalo bot: its page on zalo.me."""
    return f"https://zalo.me/{bot_id}"


@dataclass(frozen=True, slots=True)
class ZaloBot:
    """One bot: its id (the token's prefix), token, the subtree it serves and its link."""

    bot_id: str
    token: SecretStr
    unit_code: str | None  # None: the whole unit tree
    link: str

    @property
    def name(self) -> str:
        """The bot's name (`zalo:<bot id>`): keys its inbox, groups and quota."""
        return f"{ZALO}:{self.bot_id}"

    def entry(self) -> BotEntry:
        return BotEntry(bot=self.name, channel=ZALO, unit_code=self.unit_code, link=self.link)


def token_bot_id(token: str) -> str | None:
    """The bot id of a token (its numeric prefix), or None if it is not a Zalo bot token."""
    found = _TOKEN.fullmatch(token.strip())
    return found.group(1) if found else None


class ZaloSettings(BaseSettings):
    """Field aliases are the environment variable names."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )

    bot_token: SecretStr | None = Field(default=None, alias="ZALO_BOT_TOKEN")
    bots_file: Path | None = Field(default=None, alias="ZALO_BOTS_FILE")
    api_url: str = Field(default=DEFAULT_API_URL, alias="ZALO_API_URL")
    webhook_secret: SecretStr | None = Field(default=None, alias="ZALO_WEBHOOK_SECRET")
    monthly_quota: int = Field(
        default=DEFAULT_MONTHLY_QUOTA, ge=1, le=10_000_000, alias="ZALO_MONTHLY_QUOTA"
    )
    # Read here too (the core validates and owns it): with it, Zalo posts to our webhook.
    public_url: str | None = Field(default=None, alias="FIELDTALLY_PUBLIC_URL")
    _bots: tuple[ZaloBot, ...] = PrivateAttr(default=())

    @field_validator("bots_file", "public_url", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        return None if value is None else check_public_url(value)

    @field_validator("bot_token", mode="before")
    @classmethod
    def _token(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            return None
        if isinstance(value, str) and token_bot_id(value) is None:
            # Never echo the value: it is a secret even when malformed.
            raise ValueError("does not look like a Zalo bot token (digits:letters)")
        return value.strip() if isinstance(value, str) else value

    @field_validator("webhook_secret", mode="before")
    @classmethod
    def _secret(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            return None
        if isinstance(value, str) and not _SECRET.fullmatch(value.strip()):
            raise ValueError("must be 8-256 printable characters without spaces")
        return value.strip() if isinstance(value, str) else value

    @field_validator("api_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not re.match(r"^https?://[^\s/]+", value):
            raise ValueError(f"must be an http(s) URL such as {DEFAULT_API_URL}")
        return value

    @model_validator(mode="after")
    def _bots_and_webhook(self) -> ZaloSettings:
        if self.bot_token is not None and self.bots_file is not None:
            raise ValueError("ZALO_BOT_TOKEN and ZALO_BOTS_FILE: set one of them, not both")
        if self.bots_file is not None:
            self._bots = read_bots_file(self.bots_file)
        elif self.bot_token is not None:
            token = self.bot_token.get_secret_value()
            bot_id = token_bot_id(token)
            assert bot_id is not None  # checked by the field's validator
            self._bots = (ZaloBot(bot_id, self.bot_token, None, default_link(bot_id)),)
        if self._bots and self.public_url is not None and self.webhook_secret is None:
            raise ValueError(
                "ZALO_WEBHOOK_SECRET: required when FIELDTALLY_PUBLIC_URL is set "
                "(Zalo then posts to the webhook)"
            )
        return self

    @property
    def bots(self) -> tuple[ZaloBot, ...]:
        """Every bot to run, in the file's order (empty: the channel has no credentials)."""
        return self._bots

    @property
    def uses_webhook(self) -> bool:
        """With FIELDTALLY_PUBLIC_URL, Zalo posts to us; without, we poll (a laptop drill)."""
        return self.public_url is not None

    def webhook_url(self, bot: ZaloBot) -> str:
        assert self.public_url is not None
        return f"{self.public_url}/zalo/{bot.bot_id}"

    def fill(self, directory: BotDirectory) -> None:
        """Put every bot, with the subtree it serves and its link, in the directory."""
        for bot in self._bots:
            if directory.entry(bot.name) is None:
                directory.add(bot.entry())

    def secrets(self) -> list[str]:
        """What the logs must never show."""
        found = [bot.token.get_secret_value() for bot in self._bots]
        if self.webhook_secret is not None:
            found.append(self.webhook_secret.get_secret_value())
        return found


def read_bots_file(path: Path) -> tuple[ZaloBot, ...]:
    """The bots of ZALO_BOTS_FILE, or a ValueError: one line naming the file and the problem
    (its line number), never a token."""
    where = f"ZALO_BOTS_FILE {path}"
    try:
        mode = path.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise ValueError(
                f"{where}: its group or others may read it (mode {stat.S_IMODE(mode):o}); "
                f"it holds bot tokens: chmod 600 {path}"
            )
        raw = path.read_bytes()
    except OSError as error:
        raise ValueError(f"{where}: cannot be read ({error.strerror or 'error'})") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError(f"{where}: not UTF-8 text") from None
    rows = [row for row in csv.reader(io.StringIO(text)) if any(cell.strip() for cell in row)]
    if not rows:
        raise ValueError(f"{where}: empty (the header is unit_code,token[,link])")
    header = [cell.strip().lower() for cell in rows[0]]
    if header not in (["unit_code", "token"], ["unit_code", "token", "link"]):
        raise ValueError(f"{where}: line 1 must be the header unit_code,token[,link]")
    bots: list[ZaloBot] = []
    seen_ids: set[str] = set()
    seen_units: set[str] = set()
    for number, row in enumerate(rows[1:], 2):
        cells = [cell.strip() for cell in row]
        if len(cells) not in (2, 3) or len(cells) > len(header):
            raise ValueError(f"{where}: line {number}: expected {','.join(header)}")
        unit_code, token = cells[0], cells[1]
        link = cells[2] if len(cells) == 3 else ""
        bot_id = token_bot_id(token)
        if bot_id is None:
            raise ValueError(f"{where}: line {number}: the token is not a Zalo bot token")
        if bot_id in seen_ids:
            raise ValueError(f"{where}: line {number}: bot {bot_id} is listed twice")
        key = unit_code.lower()
        if key in seen_units:
            raise ValueError(f"{where}: line {number}: unit {unit_code or '(all)'} has two bots")
        if link and not _LINK.fullmatch(link):
            raise ValueError(f"{where}: line {number}: the link must be an https:// URL")
        seen_ids.add(bot_id)
        seen_units.add(key)
        bots.append(
            ZaloBot(bot_id, SecretStr(token), unit_code or None, link or default_link(bot_id))
        )
        if len(bots) > MAX_BOTS:
            raise ValueError(f"{where}: more than {MAX_BOTS} bots")
    if not bots:
        raise ValueError(f"{where}: no bot listed under the header")
    return tuple(bots)


def load_zalo_settings(**overrides: Any) -> ZaloSettings:
    return read_settings(ZaloSettings, **overrides)
