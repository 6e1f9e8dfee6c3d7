"""End-to-end harness for Zalo: the real bot process (`run_bot` with the Zalo channels, as
`fieldtally run` builds them) against the Zalo sandbox over loopback HTTP.

The database is prepared first, as an admin would (the small tree of `tests/data` imported),
and chiefs are registered directly in the store with their Zalo identity (invitation codes
are another part's). The bot then runs in webhook mode (FIELDTALLY_PUBLIC_URL on loopback:
Zalo posts to `/zalo/{bot id}`), or polling without it. Every wait is for an event (a
message the sandbox recorded); `PATIENCE` only turns a hang into a failure.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from bot.channel import Address
from bot.core import Core
from bot.messaging.answers import Answer
from bot.model import Person
from bot.registration.phones import normalize_phone
from bot.registration.unit_import import import_units
from bot.settings import Settings
from handlers.media import MediaLinks
from handlers.run import run_bot
from handlers.telegram.settings import TelegramSettings
from handlers.zalo import ZaloChannel, zalo_channels
from handlers.zalo.settings import ZaloSettings
from sandbox.zalo import SentMessage, ZaloSandbox
from tests.harness import ELECTION_DAY, PATIENCE, free_port
from tests.memory import SMALL_TREE

HOOK_SECRET = "zalo-hook-secret-0123"
TEXT_EVENT = "message.text.received"


def zalo_identity(bot_id: str, user_id: str) -> Address:
    return Address("zalo", f"{bot_id}:{user_id}")


async def prepare(
    db: Path | str, chiefs: Sequence[tuple[Address, str]] = (), units: Path = SMALL_TREE
) -> None:
    """The units file (default: the small tree) imported, and each (identity, phone)
    registered as that phone's person, in the bot's database (before the bot starts)."""
    settings = Settings(_env_file=None, FIELDTALLY_DB=str(db))  # type: ignore[call-arg]
    core = await Core.open(settings)
    try:
        data = await asyncio.to_thread(units.read_bytes)
        ok, reply = await import_units(core.db, data, units.name)
        assert ok, reply
        for identity, phone in chiefs:
            normalized = normalize_phone(phone)
            assert normalized is not None
            person = Person(identity, normalized, "Tổ trưởng", identity)
            await core.db.write(lambda tx, p=person: tx.save_person(p))
    finally:
        await core.close()


@dataclass
class ZaloRun:
    """One bot process with its Zalo bots (and optionally a Telegram bot)."""

    zs: ZaloSandbox
    db: Path | str
    env: dict[str, str]
    telegram: TelegramSettings | None = None
    probe_every: float = 300.0
    webhook: bool = True
    media_clock: Callable[[], float] | None = None  # what media links expire on
    channels: list[ZaloChannel] = field(default_factory=list)
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _task: asyncio.Task[None] | None = None
    port: int = 0

    def __post_init__(self) -> None:
        self.port = free_port()

    def values(self) -> dict[str, str]:
        values = {
            "FIELDTALLY_DB": str(self.db),
            "FIELDTALLY_ELECTION_DATE": ELECTION_DAY.isoformat(),
            "FIELDTALLY_SCHEDULE": "",  # no pushes on the wall clock
            "FIELDTALLY_HTTP_PORT": str(self.port),
            "ZALO_API_URL": self.zs.url,
            "ZALO_WEBHOOK_SECRET": HOOK_SECRET,
        }
        if self.webhook:
            values["FIELDTALLY_PUBLIC_URL"] = f"http://127.0.0.1:{self.port}"
        values.update(self.env)
        return values

    @property
    def settings(self) -> Settings:
        return Settings(_env_file=None, **self.values())  # type: ignore[arg-type]

    @property
    def zalo(self) -> ZaloSettings:
        return ZaloSettings(_env_file=None, **self.values())  # type: ignore[arg-type]

    @property
    def core(self) -> Core:
        return self.channels[0].core

    def channel(self, bot_id: str) -> ZaloChannel:
        return next(c for c in self.channels if c.bot.bot_id == bot_id)

    async def start(self) -> None:
        factory = zalo_channels(self.zalo, poll_timeout=1, retry_delay=0.01,
                                probe_every=self.probe_every)  # fmt: skip

        def build(
            core: Core, stop: asyncio.Event, *, media: MediaLinks | None
        ) -> Sequence[ZaloChannel]:
            self.channels = list(factory(core, stop, media=media))
            return self.channels

        ready = asyncio.Event()
        self._stop = asyncio.Event()
        self._task = asyncio.create_task(
            run_bot(
                self.settings,
                self.telegram,
                self._stop,
                poll_timeout=1,
                ready=ready,
                channels=[build],
                media_clock=self.media_clock,
            )
        )
        waiting = asyncio.create_task(ready.wait())
        done, _ = await asyncio.wait(
            {self._task, waiting}, timeout=PATIENCE, return_when=asyncio.FIRST_COMPLETED
        )
        if self._task in done:
            waiting.cancel()
            self._task.result()
        assert waiting in done, "the bot did not start"

    async def stop(self) -> None:
        if self._task is None:
            return
        self._stop.set()
        try:
            await asyncio.wait_for(self._task, timeout=PATIENCE)
        finally:
            self._task = None

    async def ended(self) -> BaseException | None:
        """Wait for the bot to end by itself (a fatal error): what it raised."""
        assert self._task is not None
        try:
            await asyncio.wait_for(asyncio.shield(self._task), timeout=PATIENCE)
        except BaseException as error:  # SystemExit included
            self._task = None
            return error
        self._task = None
        return None

    async def __aenter__(self) -> ZaloRun:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


async def replies(
    zs: ZaloSandbox, bot: str, chat: str, count: int, since: int = 0
) -> list[SentMessage]:
    """The next `count` texts the bot sent to `chat` after its `since` first ones."""
    sent = await zs.messages_to(bot, chat, count, since=since)
    return list(sent)


def at(hour: int, minute: int = 0) -> dt.datetime:
    from tests.harness import at as local

    return local(hour, minute)


class Observed:
    """Every typed answer of the process's Zalo bots, once delivered, by bot and event."""

    def __init__(self, run: ZaloRun) -> None:
        self.answers: dict[tuple[str, str], Answer] = {}
        self._signals: dict[tuple[str, str], asyncio.Event] = {}
        for channel in run.channels:
            channel.observers.append(partial(self._seen, channel.bot.bot_id))

    def _signal(self, key: tuple[str, str]) -> asyncio.Event:
        return self._signals.setdefault(key, asyncio.Event())

    def _seen(self, bot_id: str, event_id: str, answer: Answer) -> None:
        self.answers[(bot_id, event_id)] = answer
        self._signal((bot_id, event_id)).set()

    async def of(self, bot_id: str, message_id: str, event: str = TEXT_EVENT) -> Answer:
        """The answer to an event, once it is delivered (waits for it)."""
        key = (bot_id, f"{event}:{message_id}")
        await asyncio.wait_for(self._signal(key).wait(), timeout=PATIENCE)
        return self.answers[key]


class Captured(logging.Handler):
    """Every log record's message (for the warnings a run must give)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())
