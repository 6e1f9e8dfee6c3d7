"""The election day in memory: the real core on a real database, talked to through the
in-memory channel, on a clock the test moves.

`open_day` opens a `Core` on the test's database (a SQLite file; PostgreSQL when the
end-to-end tests run on it, see `db_target`), imports a units file from `tests/data` as the
admin would (a document with the caption `/nhap`), and yields a `Day`: the channel, the
clock, and typed reads of what is stored. The core is closed on the way out (its store
threads would otherwise keep the test process alive).
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from bot.core import Core
from bot.messaging.answers import Status
from bot.messaging.content import Document
from bot.model import Report, Totals
from bot.settings import Settings
from handlers.memory import MemoryChannel
from tests.harness import ADMIN_ID, DATA, ELECTION_DAY, at

SMALL_TREE = DATA / "small_tree.csv"
# Who is who in the small tree once registered: the chiefs of KV01, KV02, KV03+KV04 (one
# phone for both), KV05, and the supervisor of X1 (the commune: KV01–KV04).
CHIEF_KV01, CHIEF_KV02, CHIEF_KV03_KV04, CHIEF_KV05, SUPERVISOR_X1 = 101, 102, 103, 105, 201
PHONES = {
    CHIEF_KV01: "0912345001",
    CHIEF_KV02: "0912345002",
    CHIEF_KV03_KV04: "0912345003",
    CHIEF_KV05: "0912345005",
    SUPERVISOR_X1: "0912000002",
}


class Clock:
    """The day's time, moved by the test; messages are sent at it unless told otherwise."""

    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def set(self, hour: int, minute: int = 0) -> None:
        self.now = at(hour, minute)


@dataclass
class Day:
    """One election day: the core, the channel people talk through, and the clock."""

    core: Core
    channel: MemoryChannel
    clock: Clock

    async def register(self, people: Iterable[int]) -> None:
        """Each person shares their own phone number (see `PHONES`): registered."""
        for user_id in people:
            answer = await self.channel.share_contact(user_id, PHONES[user_id])
            assert answer.status is Status.ACCEPTED, (user_id, answer)

    async def reports(self, area: str) -> list[Report]:
        """Every stored report of an area, replaced ones included, oldest first."""
        stored = await self.core.db.area_reports(area, include_replaced=True)
        return sorted(stored, key=lambda report: report.id)

    async def current(self, area: str) -> list[Report]:
        """The area's reports in force (not replaced), oldest first."""
        return [r for r in await self.reports(area) if r.replaced_by is None]

    async def totals(self, code: str) -> Totals:
        return await self.core.db.totals(code)

    async def export(self, args: str = "") -> dict[str, dict[str, str]]:
        """The admin's `/xuat` table, row by unit code: what a supervisor downloads."""
        answer = await self.channel.say(ADMIN_ID, f"/xuat {args}".strip())
        assert answer.status is Status.ACCEPTED, answer
        [reply] = answer.replies
        assert isinstance(reply.content, Document), reply
        content = reply.content.content
        assert content[:3] == b"\xef\xbb\xbf"  # UTF-8 BOM: Excel on Windows reads the diacritics
        rows = csv.DictReader(io.StringIO(content.decode("utf-8-sig")))
        return {row["code"]: row for row in rows}


def settings_for(db: Path | str) -> Settings:
    return Settings(
        _env_file=None,
        FIELDTALLY_DB=str(db),
        FIELDTALLY_ADMINS=f"memory:{ADMIN_ID}",
        FIELDTALLY_ELECTION_DATE=ELECTION_DAY.isoformat(),
    )


@asynccontextmanager
async def open_day(
    db: Path | str, units: Path = SMALL_TREE, start: dt.datetime | None = None
) -> AsyncIterator[Day]:
    """The core with `units` imported by the admin, at `start` (20:00 by default: every
    report time of the day is past)."""
    clock = Clock(start or at(20, 0))
    core = await Core.open(settings_for(db), chart_workers=0, clock=clock)
    try:
        channel = MemoryChannel(core, clock)
        data = await asyncio.to_thread(units.read_bytes)
        imported = await channel.send_file(ADMIN_ID, units.name, data)
        assert imported.status is Status.ACCEPTED, imported
        yield Day(core, channel, clock)
    finally:
        await core.close()
