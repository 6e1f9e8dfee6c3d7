"""A supervisor's own chat follows a unit (issue 15 §5): where the bot cannot be in a group
(Zalo without `can_join_groups`), `/theodoi <code>` in a private chat brings the automatic
summaries and the "all finished" notice there; `/huytheodoi` (`/botheodoi`) ends them. On the
real core through the in-memory channel; the schedule is driven by `core.scheduled_pushes`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.messaging.answers import Refusal, Status
from bot.messaging.content import Image, Outgoing, Text
from handlers.memory import address
from tests.harness import ADMIN_ID, at
from tests.memory import CHIEF_KV01, SUPERVISOR_X1, Day, open_day

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
async def day(db_target: Path | str) -> AsyncIterator[Day]:
    async with open_day(db_target) as opened:
        await opened.register([CHIEF_KV01, SUPERVISOR_X1])
        yield opened


def pushes_to(pushes: list[Outgoing], user: int) -> list[Outgoing]:
    return [push for push in pushes if push.to == address(user)]


async def test_a_supervisor_subscribes_their_own_chat_and_gets_the_pushes(day: Day) -> None:
    answer = await day.channel.say(SUPERVISOR_X1, "/theodoi X1")
    assert answer.status is Status.ACCEPTED, answer
    subscription = await day.core.db.subscription(day.channel.name, address(SUPERVISOR_X1))
    assert subscription is not None and subscription.unit_code == "X1"
    mine = pushes_to(await day.core.scheduled_pushes([day.channel.name]), SUPERVISOR_X1)
    # the unit's summary, then its charts, through the bot the chat is with
    assert [type(push.content) for push in mine][:1] == [Text]
    charts = [push.content for push in mine if isinstance(push.content, Image)]
    assert charts and all(chart.png.startswith(PNG) for chart in charts)
    assert {push.via for push in mine} == {day.channel.name}
    assert pushes_to(await day.core.scheduled_pushes([day.channel.name]), CHIEF_KV01) == []


async def test_the_all_finished_notice_reaches_the_private_chat(day: Day) -> None:
    assert (await day.channel.say(SUPERVISOR_X1, "/theodoi X1")).ok
    finals = {"KV01": 320, "KV02": 2000, "KV03": 500, "KV04": 400}
    sends: list[Outgoing] = []
    for area, voters in finals.items():
        answer = await day.channel.say(
            ADMIN_ID, f"{area}: Hoàn thành {voters}/{voters} lúc 12h30", at=at(12, 31)
        )
        assert answer.status is Status.ACCEPTED, answer
        sends += answer.sends
    [notice] = pushes_to(sends, SUPERVISOR_X1)
    assert isinstance(notice.content, Text) and notice.content.body.startswith("🎉")


@pytest.mark.parametrize("stop", ["/huytheodoi", "/bothteodoi", "/botheodoi", "/unsubscribe"])
async def test_ending_a_private_subscription(day: Day, stop: str) -> None:
    assert (await day.channel.say(SUPERVISOR_X1, "/theodoi X1")).ok
    answer = await day.channel.say(SUPERVISOR_X1, stop)
    assert answer.status is Status.ACCEPTED, answer
    assert pushes_to(await day.core.scheduled_pushes([day.channel.name]), SUPERVISOR_X1) == []
    again = await day.channel.say(SUPERVISOR_X1, stop)
    assert again.reason == Refusal.NOT_SUBSCRIBED


async def test_who_may_follow_privately(day: Day) -> None:
    for user, command, reason in [
        (SUPERVISOR_X1, "/theodoi", Refusal.USAGE),  # the code is needed in a private chat
        (SUPERVISOR_X1, "/theodoi MK", Refusal.SUBSCRIBE_WHO),  # above the commune
        (SUPERVISOR_X1, "/theodoi KV05", Refusal.SUBSCRIBE_WHO),  # another commune's area
        (SUPERVISOR_X1, "/theodoi ZZ", Refusal.UNKNOWN_UNIT),
        (CHIEF_KV01, "/theodoi KV01", Refusal.SUBSCRIBE_WHO),  # chiefs do not follow
        (ADMIN_ID, "/theodoi MK", None),
        (SUPERVISOR_X1, "/theodoi KV02", None),  # an area of the commune
    ]:
        answer = await day.channel.say(user, command)
        assert answer.reason == reason, (user, command, answer)
    followed = {s.chat: s.unit_code for s in await day.core.db.subscriptions(day.channel.name)}
    assert followed == {address(ADMIN_ID): "MK", address(SUPERVISOR_X1): "KV02"}
    actions = [(e.action, e.detail) for e in await day.core.db.audit_entries(10)]
    assert ("subscribe", "KV02 → trò chuyện riêng") in actions
