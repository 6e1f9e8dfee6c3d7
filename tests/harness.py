"""End-to-end harness: the real bot (`run_bot`, as `fieldtally run` uses it) against the sandbox.

Replies are collected with a barrier: after a message, the harness sends `/huongdan` in the
same chat and waits for its answer. The bot handles a chat's updates in order, so every reply
before the barrier's answer belongs to the message, and none can arrive later.

Nothing here measures time: every wait is for an event, and its timeout (`PATIENCE`) only
turns a hang into a failure, so it is generous enough for a machine busy with other work.
The bots run without the wall-clock summary schedule (a push at 09:00 sharp would land in
whatever chat a test is reading); tests of the pushes ask for them.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import socket
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import psycopg
from prometheus_client.parser import text_string_to_metric_families

from bot import texts
from bot.settings import Settings
from handlers.run import run_bot
from handlers.telegram.render import to_html
from handlers.telegram.settings import TelegramSettings
from sandbox import BotApiSandbox, OutgoingRecord, SimUser

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
ELECTION_DAY = dt.date(2021, 5, 23)
ADMIN_ID = 1
DATA = Path(__file__).parent / "data"
PROJECT_DATA = Path(__file__).parents[1] / "fieldtally" / "data"
SAMPLE = PROJECT_DATA / "samples" / "muong_khuong_2021_units.csv"
# Webhook mode: the public URL Telegram is given, and its secret token. The sandbox delivers
# posts for it to the bot's local port (`route_webhook`), as nginx would.
WEBHOOK_PUBLIC = "https://fieldtally.example.org"
WEBHOOK_PATH = "/telegram/hook"
WEBHOOK_SECRET = "test-secret_0123456789"
# Every report's origin as Telegram's (chat id, message id) integers, from the stored channel
# identities (`telegram:<chat id>`, the message id as text); the same SQL on both engines.
TELEGRAM_ORIGINS = (
    "SELECT CAST(substr(chat, 10) AS BIGINT), CAST(message_ref AS BIGINT) FROM reports"
)
# Seconds any wait of the harness may take before it fails: a guard against a hang only.
PATIENCE = 120.0


def at(hour: int, minute: int = 0, day: dt.date = ELECTION_DAY) -> dt.datetime:
    """An aware moment on the election day, local time."""
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=TZ)


def make_settings(
    sandbox: BotApiSandbox, token: str, db_path: Path | str, **extra: str
) -> Settings:
    """The core's settings of a test bot (what is Telegram's in `values` is ignored here)."""
    return Settings(_env_file=None, **_values(sandbox, token, db_path, **extra))  # type: ignore[call-arg]


def make_telegram_settings(sandbox: BotApiSandbox, token: str, **extra: str) -> TelegramSettings:
    """The Telegram settings of a test bot on the sandbox, read from the same names."""
    values = {"TELEGRAM_BOT_TOKEN": token, "TELEGRAM_API_URL": sandbox.url, **extra}
    return TelegramSettings(_env_file=None, **values)  # type: ignore[arg-type]


def make_run(sandbox: BotApiSandbox, token: str, db_path: Path | str, **extra: str) -> BotRun:
    """A bot on the sandbox, both kinds of settings read from one set of values."""
    return BotRun(
        sandbox, token, make_settings(sandbox, token, db_path, **extra),
        make_telegram_settings(sandbox, token, **extra),
    )  # fmt: skip


def _values(
    sandbox: BotApiSandbox, token: str, db_path: Path | str, **extra: str
) -> dict[str, str]:
    values = {
        "TELEGRAM_BOT_TOKEN": token,
        "TELEGRAM_API_URL": sandbox.url,
        "FIELDTALLY_DB": str(db_path),
        "FIELDTALLY_ADMINS": str(ADMIN_ID),
        "FIELDTALLY_ELECTION_DATE": ELECTION_DAY.isoformat(),
        # No automatic summaries on the wall clock: tests that want pushes set
        # FIELDTALLY_SUMMARY_EVERY (or a schedule) themselves.
        "FIELDTALLY_SCHEDULE": "",
        **extra,
    }
    return values


def free_port() -> int:
    """A loopback port nothing listens on now (for a server that must be told its port)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def webhook_env(sandbox: BotApiSandbox, port: int) -> dict[str, str]:
    """Settings of webhook mode, the HTTP server on `port`, routed by the sandbox from the
    public URL."""
    sandbox.route_webhook(WEBHOOK_PUBLIC, f"http://127.0.0.1:{port}")
    return {
        "FIELDTALLY_WEBHOOK_URL": WEBHOOK_PUBLIC + WEBHOOK_PATH,
        "FIELDTALLY_HTTP_PORT": str(port),
        "FIELDTALLY_WEBHOOK_SECRET": WEBHOOK_SECRET,
    }


def metrics_env(port: int) -> dict[str, str]:
    """Settings of /metrics on the HTTP server at `port`."""
    return {"FIELDTALLY_METRICS": "true", "FIELDTALLY_HTTP_PORT": str(port)}


Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


async def scrape(port: int) -> Samples:
    """GET /metrics on `port`, parsed: value by (sample name, sorted labels)."""
    async with httpx.AsyncClient() as client:
        answer = await client.get(f"http://127.0.0.1:{port}/metrics", timeout=PATIENCE)
    answer.raise_for_status()
    assert answer.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


async def scrape_until(port: int, condition: Any, timeout: float = PATIENCE) -> Samples:  # noqa: ASYNC109
    """Scrape until `condition(samples)` holds: the counters of an update move just after its
    last reply is sent, so a test that saw the reply may scrape a moment too early. The
    metrics page has no push, so this polls; `timeout` is only a guard against a hang."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        samples = await scrape(port)
        if condition(samples):
            return samples
        if loop.time() > deadline:
            raise AssertionError(f"metrics never reached the expected state: {samples}")
        await asyncio.sleep(0.02)


@dataclass
class BotRun:
    sandbox: BotApiSandbox
    token: str
    settings: Settings
    telegram: TelegramSettings | None = None  # None: the token's, on the sandbox
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _task: asyncio.Task[None] | None = None
    sends_per_second: float | None = None  # None: as deployed (Telegram's limit)
    last_message: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.telegram is None:
            self.telegram = make_telegram_settings(self.sandbox, self.token)

    @property
    def http_port(self) -> int:
        """The port of the bot's HTTP server (webhook, /metrics, /healthz)."""
        return self.settings.http_port

    async def start(self) -> None:
        assert self.telegram is not None
        ready = asyncio.Event()
        self._stop = asyncio.Event()
        limit = {} if self.sends_per_second is None else {"sends_per_second": self.sends_per_second}
        self._task = asyncio.create_task(
            run_bot(self.settings, self.telegram, self._stop, poll_timeout=1, ready=ready, **limit)
        )
        ready_wait = asyncio.create_task(ready.wait())
        done, _ = await asyncio.wait(
            {self._task, ready_wait}, timeout=PATIENCE, return_when=asyncio.FIRST_COMPLETED
        )
        if self._task in done:
            ready_wait.cancel()
            self._task.result()  # raises the start-up error
        assert ready_wait in done, "bot did not start"

    async def stop(self) -> None:
        if self._task is None:
            return
        self._stop.set()
        await asyncio.wait_for(self._task, timeout=PATIENCE)
        self._task = None

    @property
    def db_path(self) -> Path:
        return self.settings.db_path

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Rows of `sql` (`?` placeholders) read straight from the bot's database, SQLite
        file or PostgreSQL (the end-to-end tests run on either)."""
        if self.settings.uses_postgres:
            with psycopg.connect(self.settings.database) as pg:
                return [tuple(r) for r in pg.execute(sql.replace("?", "%s"), params)]
        with sqlite3.connect(self.db_path) as db:
            return [tuple(r) for r in db.execute(sql, params)]

    def user(self, user_id: int, first_name: str = "Tổ trưởng") -> SimUser:
        return self.sandbox.make_user(user_id, first_name=first_name)

    async def _through_barrier(
        self, chat_id: int, user: SimUser, since: int
    ) -> list[OutgoingRecord]:
        self.sandbox.send_text(self.token, user, "/huongdan", chat_id=chat_id, date=at(20, 30))
        await self.sandbox.wait_for(
            self.token,
            lambda r: r.text == to_html(texts.HELP),
            chat_id=chat_id,
            since=since,
            timeout=PATIENCE,
        )
        records = [r for r in self.sandbox.outgoing(self.token, chat_id) if r.seq >= since]
        barrier = next(i for i, r in enumerate(records) if r.text == to_html(texts.HELP))
        return records[:barrier]

    def _next_seq(self) -> int:
        everything = self.sandbox.outgoing(self.token)
        return everything[-1].seq + 1 if everything else 0

    async def say(
        self, user: SimUser, text: str, *, date: dt.datetime | None = None
    ) -> list[OutgoingRecord]:
        """Send a private text and return exactly the bot's answers to it."""
        since = self._next_seq()
        self.last_message = self.sandbox.send_text(self.token, user, text, date=date or at(20, 0))
        return await self._through_barrier(user.id, user, since)

    async def say_in(
        self, chat_id: int, user: SimUser, text: str, *, date: dt.datetime | None = None
    ) -> list[OutgoingRecord]:
        """Send a text in a group (or any chat) and return exactly the bot's answers to it."""
        since = self._next_seq()
        self.sandbox.send_text(self.token, user, text, chat_id=chat_id, date=date or at(20, 0))
        return await self._through_barrier(chat_id, user, since)

    async def texts_of(
        self, user: SimUser, text: str, *, date: dt.datetime | None = None
    ) -> list[str]:
        return [r.text or r.caption or "" for r in await self.say(user, text, date=date)]

    async def edit(
        self, user: SimUser, message_id: int, text: str, *, edit_date: dt.datetime | None = None
    ) -> list[str]:
        since = self._next_seq()
        self.sandbox.edit_text(
            self.token, user, None, message_id, text, edit_date=edit_date or at(20, 10)
        )
        return [r.text or "" for r in await self._through_barrier(user.id, user, since)]

    async def share_contact(
        self, user: SimUser, phone: str, contact_user_id: int | None = None
    ) -> list[str]:
        since = self._next_seq()
        self.sandbox.send_contact(
            self.token,
            user,
            phone,
            contact_user_id="sender" if contact_user_id is None else contact_user_id,
        )
        return [r.text or "" for r in await self._through_barrier(user.id, user, since)]

    async def send_file(
        self, user: SimUser, filename: str, content: bytes, caption: str | None = "/nhap"
    ) -> list[OutgoingRecord]:
        since = self._next_seq()
        self.sandbox.send_document(self.token, user, filename, content, caption=caption)
        return await self._through_barrier(user.id, user, since)

    async def import_units(self, content: bytes, filename: str = "units.csv") -> str:
        admin = self.user(ADMIN_ID, "Quản trị")
        [reply] = await self.send_file(admin, filename, content)
        assert reply.text is not None
        return reply.text
