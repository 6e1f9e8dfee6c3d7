"""Several channels and bots in one process: `run_bot` serves the channels its factories
build on one core (no Telegram needed), each with its own inbox, and the automatic
summaries reach every bot's subscribed chats through the bot each subscribed with."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.core import Core
from bot.messaging.answers import Status
from bot.messaging.content import Image, Text
from handlers.memory import MemoryChannel
from handlers.run import run_bot
from tests.harness import ADMIN_ID
from tests.memory import open_day, settings_for

GROUP_A, GROUP_B = -1001, -1002


class NamedMemoryChannel(MemoryChannel):
    """The in-memory channel as another bot (a second Zalo bot, say)."""

    def __init__(self, core: Core, name: str) -> None:
        self._name = name  # before the base class builds its switchboard by name
        super().__init__(core)

    @property
    def name(self) -> str:
        return self._name


async def test_pushes_go_to_each_bots_subscribed_chats_through_that_bot(tmp_path: Path) -> None:
    async with open_day(tmp_path / "day.db") as day:
        second = NamedMemoryChannel(day.core, "memory:second")
        first_answer = await day.channel.say(ADMIN_ID, "/theodoi MK", group=GROUP_A)
        second_answer = await second.say(ADMIN_ID, "/theodoi X1", group=GROUP_B)
        assert (first_answer.status, second_answer.status) == (Status.ACCEPTED, Status.ACCEPTED)

        pushes = await day.core.scheduled_pushes([day.channel.name, second.name])

        by_chat = {(p.to.id, p.via) for p in pushes}
        assert by_chat == {(str(GROUP_A), day.channel.name), (str(GROUP_B), second.name)}
        assert all(p.automatic for p in pushes)
        assert {type(p.content) for p in pushes} <= {Text, Image}
        # Only the bots asked for: the first bot alone pushes to its own group only.
        alone = await day.core.scheduled_pushes([day.channel.name])
        assert {p.to.id for p in alone} == {str(GROUP_A)}


async def test_run_bot_serves_channels_from_factories_without_telegram(tmp_path: Path) -> None:
    settings = settings_for(tmp_path / "run.db")
    stop, ready = asyncio.Event(), asyncio.Event()
    built: list[MemoryChannel] = []

    def memory_channels(core: Core, stop: asyncio.Event) -> list[MemoryChannel]:
        built.extend([MemoryChannel(core), NamedMemoryChannel(core, "memory:second")])
        return built

    run = asyncio.create_task(
        run_bot(settings, None, stop, ready=ready, channels=[memory_channels])
    )
    waiting = asyncio.create_task(ready.wait())
    done, _ = await asyncio.wait({run, waiting}, return_when=asyncio.FIRST_COMPLETED)
    assert waiting in done, run.exception() if run.done() else "not ready"
    core = built[0].core
    assert core.bot == built[0].name  # the first channel's bot is the process's first bot
    assert {inbox.bot for inbox in core.inboxes} >= {"memory:bot", "memory:second"}
    answer = await built[1].say(ADMIN_ID, "/start")
    assert answer.status is Status.ACCEPTED
    stop.set()
    await run


async def test_run_bot_without_any_channel_stops_with_one_line(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="no channel is enabled"):
        await run_bot(settings_for(tmp_path / "none.db"), None, asyncio.Event())
