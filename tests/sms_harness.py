"""End-to-end harness for the SMS channel: the real bot (`run_bot`, as `fieldtally run` runs
it, with the SMS channel's factory) against the SMS gateway sandbox, over real HTTP on
loopback, on a real SQLite file (or PostgreSQL where the end-to-end tests run on it).

Two clocks, both moved by the test: the day's (`day`: what the core calls now, for the
refusal's calendar day and summaries) and the outbox's (`clock`: pacing, backoff, webhook
timestamps). Every wait is for an event: the gateway's delivery of a webhook, the channel
having handled an SMS, the outbox having handed everything over, the outbox sleeping on its
clock. `PATIENCE` only turns a hang into a failure.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from bot.channel import COMMAND_LINE
from bot.core import Core
from bot.messaging.port import Channel
from bot.registration.unit_import import import_units
from bot.settings import Settings
from handlers.media import MediaLinks
from handlers.run import run_bot
from handlers.sms.channel import SmsChannel, sms_channels
from handlers.sms.clock import ManualClock
from handlers.sms.settings import SmsSettings
from handlers.telegram.settings import TelegramSettings
from sandbox.sms import Delivery, SmsGatewaySandbox
from storage.database import Database
from tests.harness import ELECTION_DAY, PATIENCE, free_port
from tests.memory import SMALL_TREE, Clock

SIGNING_KEY = "sms-signing-key-for-tests"
ADMIN_PHONE = "+84900000001"


def settings_for(db: Path | str, port: int, **extra: str) -> tuple[Settings, SmsSettings]:
    values = {
        "FIELDTALLY_DB": str(db),
        "FIELDTALLY_ADMINS": f"sms:{ADMIN_PHONE}",
        "FIELDTALLY_ELECTION_DATE": ELECTION_DAY.isoformat(),
        "FIELDTALLY_SCHEDULE": "",
        "FIELDTALLY_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "FIELDTALLY_HTTP_PORT": str(port),
        **extra,
    }
    return (
        Settings(_env_file=None, **values),  # type: ignore[arg-type]
        SmsSettings(_env_file=None, **values),  # type: ignore[arg-type]
    )


async def import_small_tree(settings: Settings, units: Path = SMALL_TREE) -> None:
    """The units imported on the server (`fieldtally units import`)."""
    data = await asyncio.to_thread(units.read_bytes)
    db = await Database.open(settings.database)
    try:
        stored, reply = await import_units(db, data, units.name, by=COMMAND_LINE)
        assert stored, reply
    finally:
        await db.close()


@dataclass
class SmsRun:
    gateway: SmsGatewaySandbox
    settings: Settings
    sms: SmsSettings
    day: Clock
    clock: ManualClock
    telegram: TelegramSettings | None = None
    channel: SmsChannel | None = None
    core: Core | None = None
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _task: asyncio.Task[None] | None = None

    async def start(self, *, registered: bool = True) -> None:
        """Start the bot; with `registered`, return once its webhooks are registered."""
        ready = asyncio.Event()
        self._stop = asyncio.Event()
        factory = sms_channels(self.sms, self.clock)

        def build(core: Core, stop: asyncio.Event, *, media: MediaLinks | None) -> list[Channel]:
            built = list(factory(core, stop, media=media))
            assert isinstance(built[0], SmsChannel)
            self.channel, self.core = built[0], core
            return built

        self._task = asyncio.create_task(
            run_bot(
                self.settings, self.telegram, self._stop, ready=ready, clock=self.day,
                chart_workers=0, poll_timeout=1, channels=[build],
            )
        )  # fmt: skip
        waiting = asyncio.create_task(ready.wait())
        done, _ = await asyncio.wait(
            {self._task, waiting}, timeout=PATIENCE, return_when=asyncio.FIRST_COMPLETED
        )
        if self._task in done:
            waiting.cancel()
            self._task.result()
        assert waiting in done, "the bot did not start"
        assert self.channel is not None
        if registered:
            await asyncio.wait_for(self.channel.webhooks_registered.wait(), PATIENCE)

    async def stop(self) -> None:
        if self._task is not None:
            self._stop.set()
            await asyncio.wait_for(self._task, PATIENCE)
            self._task = None

    @property
    def sms_channel(self) -> SmsChannel:
        assert self.channel is not None
        return self.channel

    def received_at(self, moment: dt.datetime | None = None) -> str:
        return (moment or self.day()).isoformat()

    async def text(
        self,
        phone: str,
        text: str,
        *,
        at: dt.datetime | None = None,
        envelope_id: str | None = None,
        received_at: str | None = None,
    ) -> list[Delivery]:
        """An SMS from `phone` reaches the gateway; returns once the gateway has posted it
        (2xx, or its retries spent)."""
        deliveries = self.gateway.receive(
            phone, text, received_at=received_at or self.received_at(at), envelope_id=envelope_id
        )
        await self.gateway.delivered(deliveries, PATIENCE)
        return deliveries

    async def answers(
        self, phone: str, e164: str, text: str, *, at: dt.datetime | None = None
    ) -> list[str]:
        """An SMS from `phone` and exactly the SMS the bot sent back to `e164` for it."""
        before = len(self.gateway.sent_to(e164))
        handled = self.sms_channel.handled
        await self.text(phone, text, at=at)
        await self.sms_channel.wait_handled(handled + 1, PATIENCE)
        await asyncio.wait_for(self.sms_channel.outbox.wait_idle(), PATIENCE)
        return self.gateway.sent_to(e164)[before:]

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Rows of `sql` (`?` placeholders) read straight from the bot's database, SQLite
        file or PostgreSQL."""
        if self.settings.uses_postgres:
            with psycopg.connect(self.settings.database) as pg:
                return [tuple(r) for r in pg.execute(sql.replace("?", "%s"), params)]
        with sqlite3.connect(self.settings.db_path) as db:
            return [tuple(row) for row in db.execute(sql, params)]


def make_gateway() -> SmsGatewaySandbox:
    return SmsGatewaySandbox(
        user="fieldtally", password="gateway-password", signing_key=SIGNING_KEY, retry_delay=0.01
    )


async def sms_run(
    gateway: SmsGatewaySandbox, db: Path | str, *, day: dt.datetime, gateway_url: str | None = None,
    **extra: str,
) -> SmsRun:  # fmt: skip
    """A bot with the SMS channel on `gateway` (not started), the small tree imported."""
    port = free_port()
    settings, sms = settings_for(
        db, port,
        SMS_GATEWAY_URL=gateway_url or gateway.url, SMS_GATEWAY_USER=gateway.user,
        SMS_GATEWAY_PASSWORD=gateway.password, SMS_WEBHOOK_SIGNING_KEY=SIGNING_KEY, **extra,
    )  # fmt: skip
    await import_small_tree(settings)
    clock = ManualClock(time.time())
    gateway.clock = clock.time
    return SmsRun(gateway, settings, sms, Clock(day), clock)
