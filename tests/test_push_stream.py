"""The streamed automatic push (issue 19): each unit's summary is rendered once, built a few at a
time, and handed to the sender as soon as it is rendered, not after the last one; every chat
gets what the whole-push list (`Core.scheduled_pushes`) gives it, in the same order (the text,
then the charts).

The real core on a real SQLite file through the in-memory channel. Renderers that count, hold
back or delay charts stand in for the chart pool where the test is about the pipeline; the
first test renders real PNGs. Nothing waits for a time window: a held-back chart waits for an
event the test sets (`PATIENCE` only bounds a test that would otherwise hang on a bug).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.channel import Address
from bot.core import Core
from bot.messaging.content import Content, Image, Outgoing, Text
from bot.messaging.port import Switchboard
from bot.model import Subscription
from bot.monitoring.charts import ChartImage, ChartRenderer, ChartSpec
from handlers.memory import MemoryChannel
from tests.harness import ADMIN_ID, PATIENCE
from tests.memory import CHIEF_KV01, CHIEF_KV02, Day, open_day

ADMIN = Address("memory", str(ADMIN_ID))
BOT = "memory:bot"  # the in-memory channel's name
UNITS = ("MK", "X1", "X2", "KV01", "KV02", "KV05")  # units with and without children
NAMES = {
    "MK": "Huyện Mường Khương",
    "X1": "Xã Pha Long",
    "X2": "Xã Tả Ngải Chồ",
    "KV01": "Khu vực bỏ phiếu số 1 – Pha Long",
    "KV02": "Khu vực bỏ phiếu số 2 – Pha Long",
    "KV05": "Khu vực bỏ phiếu số 1 – Tả Ngải Chồ",
}


def unit_of(spec: ChartSpec) -> str:
    """The unit a chart is of, from its title ("… – <unit name>")."""
    [code] = [code for code, name in NAMES.items() if spec.title.endswith(f" – {name}")]
    return code


class CountingRenderer(ChartRenderer):
    """Draws in a thread like `ChartRenderer(0)`, and counts what it was asked for."""

    def __init__(self) -> None:
        super().__init__(0)
        self.asked: Counter[ChartSpec] = Counter()

    async def render(self, spec: ChartSpec) -> ChartImage:
        self.asked[spec] += 1
        return await super().render(spec)


class HeldRenderer(ChartRenderer):
    """Charts without pixels, each drawn only once its unit's gate is open; it records which
    units are being drawn (asked for, not yet returned) and the most at once."""

    def __init__(self, closed: set[str]) -> None:
        super().__init__(0)
        self.gates = {code: asyncio.Event() for code in UNITS}
        for code in UNITS:
            if code not in closed:
                self.gates[code].set()
        self.drawing: Counter[str] = Counter()
        self.most_units_at_once = 0
        self.cancelled: list[str] = []

    async def render(self, spec: ChartSpec) -> ChartImage:
        code = unit_of(spec)
        self.drawing[code] += 1
        self.most_units_at_once = max(self.most_units_at_once, len(+self.drawing))
        try:
            await self.gates[code].wait()
        except asyncio.CancelledError:
            self.cancelled.append(code)
            raise
        finally:
            self.drawing[code] -= 1
        return fake_image(spec)


def fake_image(spec: ChartSpec) -> ChartImage:
    return ChartImage(f"png of {spec.title}".encode(), 1080, 1080, ())


async def subscribe(day: Day, follows: list[tuple[str, int, str]]) -> None:
    """(bot, group id, unit code): each group follows the unit through that bot."""

    def write(tx: object) -> None:
        for bot, group, code in follows:
            chat = Address("memory", str(group))
            tx.subscribe(Subscription(chat, bot, code, NAMES[code], ADMIN))  # type: ignore[attr-defined]

    await day.core.db.write(write)


async def some_turnout(day: Day) -> None:
    await day.register([CHIEF_KV01, CHIEF_KV02])
    for chief, text in ((CHIEF_KV01, "250/320 9h"), (CHIEF_KV02, "800/2.000 9h30")):
        answer = await day.channel.say(chief, text)
        assert answer.ok, answer


def by_chat(messages: list[Outgoing]) -> dict[tuple[Address, str | None], list[Content]]:
    chats: dict[tuple[Address, str | None], list[Content]] = defaultdict(list)
    for message in messages:
        assert message.automatic
        chats[(message.to, message.via)].append(message.content)
    return dict(chats)


def shown(contents: list[Content]) -> list[object]:
    return [c.body if isinstance(c, Text) else (type(c), c.png) for c in contents]  # type: ignore[attr-defined]


FOLLOWS = [
    (BOT, -1, "MK"),
    (BOT, -2, "X1"),
    (BOT, -3, "X1"),  # two groups of one unit
    ("memory:second", -4, "X1"),  # and a third through another bot
    ("memory:second", -5, "X2"),
    (BOT, -6, "KV01"),  # an area: its summary has one chart
]
BOTS = [BOT, "memory:second"]


async def test_the_stream_gives_each_chat_what_the_whole_push_gives_it(tmp_path: Path) -> None:
    async with open_day(tmp_path / "day.db") as day:
        await some_turnout(day)
        await subscribe(day, FOLLOWS)
        whole = by_chat(await day.core.scheduled_pushes(BOTS))

        renderer = CountingRenderer()
        day.core.renderer = renderer
        streamed: list[Outgoing] = []
        batches = 0
        async with contextlib.aclosing(day.core.scheduled_push_stream(BOTS)) as stream:
            async for batch in stream:
                batches += 1
                streamed += batch
        renderer.close()

        assert batches == 4  # one per followed unit
        chats = by_chat(streamed)
        assert {chat: shown(c) for chat, c in chats.items()} == {
            chat: shown(c) for chat, c in whole.items()
        }
        for (chat, _), contents in chats.items():
            text, *charts = contents
            assert isinstance(text, Text) and text.body.startswith("📊")
            assert charts and all(isinstance(c, Image) for c in charts)
            assert len(charts) == (1 if chat.id == "-6" else 2)  # an area: over the day only
        # Each unit rendered once for all the chats that follow it: the same images.
        assert set(renderer.asked.values()) == {1} and len(renderer.asked) == 3 * 2 + 1
        x1 = [chats[(Address("memory", g), bot)] for g, bot in
              (("-2", BOT), ("-3", BOT), ("-4", "memory:second"))]  # fmt: skip
        for charts in zip(*(c[1:] for c in x1), strict=True):
            assert all(chart is charts[0] for chart in charts)  # type: ignore[comparison-overlap]


async def test_a_summary_is_handed_over_while_a_slow_one_is_still_drawn(tmp_path: Path) -> None:
    async with open_day(tmp_path / "day.db") as day:
        await some_turnout(day)
        follows = [(BOT, -1 - n, code) for n, code in enumerate(UNITS)]
        await subscribe(day, follows)
        renderer = HeldRenderer(closed={"MK"})  # the first unit's charts wait
        day.core.renderer = renderer
        handed: list[str] = []
        async with asyncio.timeout(PATIENCE):
            stream = day.core.scheduled_summary_stream([BOT], in_flight=2)
            async with contextlib.aclosing(stream) as summaries:
                async for subscriptions, summary in summaries:
                    handed.append(summary.unit_code)
                    assert [s.unit_code for s in subscriptions] == [summary.unit_code]
                    if len(handed) == len(UNITS) - 1:
                        # Every other unit came through while MK's charts are still drawn.
                        assert renderer.drawing["MK"] == 2  # both charts in flight together
                        renderer.gates["MK"].set()
        assert handed == [*UNITS[1:], "MK"]
        assert renderer.most_units_at_once == 2  # never more than `in_flight` at once


async def test_stopping_the_stream_cancels_what_is_being_drawn(tmp_path: Path) -> None:
    async with open_day(tmp_path / "day.db") as day:
        await some_turnout(day)
        await subscribe(day, [(BOT, -1, "MK"), (BOT, -2, "X1"), (BOT, -3, "X2")])
        renderer = HeldRenderer(closed={"MK", "X2"})
        day.core.renderer = renderer
        async with asyncio.timeout(PATIENCE):
            stream = day.core.scheduled_push_stream([BOT], in_flight=3)
            async with contextlib.aclosing(stream) as pushes:
                first = await anext(pushes)
                assert {m.to.id for m in first} == {"-2"}  # X1, while MK and X2 wait
        assert sorted(renderer.cancelled) == ["MK", "MK", "X2", "X2"]
        assert +renderer.drawing == Counter()


class MeteredMemory(MemoryChannel):
    """The in-memory channel with a quota: `room` says whether summaries may start."""

    def __init__(self, core: Core, room: Iterator[bool]) -> None:
        super().__init__(core)
        self.room = room
        self.asked = 0

    def room_for_automatic(self) -> bool:
        self.asked += 1
        return next(self.room)


async def test_a_metered_bot_is_asked_once_for_the_whole_stream(tmp_path: Path) -> None:
    async with open_day(tmp_path / "day.db") as day:
        await some_turnout(day)
        await subscribe(day, [(BOT, -1, "MK"), (BOT, -2, "X1"), (BOT, -3, "X2")])
        day.core.renderer = HeldRenderer(closed=set())
        for answers, groups in (([True, False], 3), ([False, True], 0)):
            metered = MeteredMemory(day.core, iter(answers))
            count = await Switchboard([metered]).send_stream(day.core.scheduled_push_stream([BOT]))
            assert count == 3 and metered.asked == 1
            got = [metered.sent_to(group) for group in (-1, -2, -3)]
            assert sum(1 for contents in got if contents) == groups  # whole, or not at all
            for contents in got[:groups]:
                assert [type(c) for c in contents] == [Text, Image, Image]


# -- the stream against the list, on random follows and drawing orders ----------------------------


class ShuffledRenderer(ChartRenderer):
    """Charts without pixels, each returned after its unit's number of turns of the loop, so
    summaries finish in an order the test chooses; counts what it was asked for."""

    def __init__(self, delays: dict[str, int]) -> None:
        super().__init__(0)
        self.delays = delays
        self.asked: Counter[ChartSpec] = Counter()

    async def render(self, spec: ChartSpec) -> ChartImage:
        self.asked[spec] += 1
        for _ in range(self.delays[unit_of(spec)]):
            await asyncio.sleep(0)  # a turn of the event loop, not a wait for time
        return fake_image(spec)


follows_strategy = st.lists(
    st.tuples(st.sampled_from(BOTS), st.sampled_from(UNITS)), min_size=1, max_size=10
)


def test_the_stream_and_the_list_agree(tmp_path: Path) -> None:
    loop = asyncio.new_event_loop()
    run = loop.run_until_complete
    stack = contextlib.AsyncExitStack()
    day = run(stack.enter_async_context(open_day(tmp_path / "day.db")))
    run(some_turnout(day))
    rounds = itertools.count()
    try:

        @settings(
            max_examples=40,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture],
        )
        @given(
            follows=follows_strategy,
            delays=st.fixed_dictionaries({code: st.integers(0, 6) for code in UNITS}),
            in_flight=st.integers(1, 4),
        )
        def agree(follows: list[tuple[str, str]], delays: dict[str, int], in_flight: int) -> None:
            round_ = next(rounds)
            bots = [f"{bot}:{round_}" for bot in BOTS]  # this round's bots: no old follows
            chats = [(f"{bot}:{round_}", -1 - n, code) for n, (bot, code) in enumerate(follows)]
            run(subscribe(day, chats))
            day.core.renderer = ShuffledRenderer(delays)
            whole = run(day.core.scheduled_pushes(bots))
            renderer = ShuffledRenderer(delays)
            day.core.renderer = renderer

            async def streamed() -> list[list[Outgoing]]:
                stream = day.core.scheduled_push_stream(bots, in_flight=in_flight)
                async with contextlib.aclosing(stream) as pushes:
                    return [batch async for batch in pushes]

            batches = run(streamed())
            followed = {code for _, _, code in chats}
            assert len(batches) == len(followed)  # one batch per unit
            for batch in batches:  # each batch is one unit's summary to all its chats
                assert len({m.content for m in batch if isinstance(m.content, Text)}) == 1
            stream_chats = by_chat([m for batch in batches for m in batch])
            assert {c: shown(x) for c, x in stream_chats.items()} == {
                c: shown(x) for c, x in by_chat(whole).items()
            }
            # Every unit's charts asked for once, however many chats follow it.
            assert set(renderer.asked.values()) == {1}
            assert {unit_of(spec) for spec in renderer.asked} == followed

        agree()
    finally:
        run(stack.aclose())
        loop.close()
