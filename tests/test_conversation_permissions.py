"""Who may do what, through the core and the in-memory channel: each command and the report
path, for each role, in a private chat or in a group.

A cell of the matrix is what the answer must be: `OK` (accepted, with something to show),
`SILENT` (no answer at all: a group ignores reports and other bots' commands), or the reason
of the refusal. What only a real Telegram round trip shows stays in `test_e2e_permissions.py`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot import texts
from bot.core import Where
from bot.messaging.answers import Answer, Refusal, Status
from bot.messaging.commands import Attachment
from bot.messaging.content import Document, Image, Text
from bot.turnout.intake import InboundText
from handlers.memory import CAPABILITIES, address
from tests.harness import ADMIN_ID
from tests.memory import (
    CHIEF_KV01,
    CHIEF_KV02,
    CHIEF_KV03_KV04,
    CHIEF_KV05,
    SMALL_TREE,
    SUPERVISOR_X1,
    Day,
    open_day,
)

CHIEF, SUPERVISOR, STRANGER, GROUP_MEMBER = CHIEF_KV01, SUPERVISOR_X1, 999, 777
GROUP = -100300  # follows MK, the district: every area
OK, SILENT = "ok", "silent"
ADMIN_ONLY, SUPERVISORS_ONLY = Refusal.ADMIN_ONLY, Refusal.SUPERVISORS_ONLY
NOT_YOURS, UNREGISTERED = Refusal.NOT_YOUR_UNIT, Refusal.NOT_REGISTERED
SUBSCRIBE_WHO, NOT_SUBSCRIBED, USAGE = Refusal.SUBSCRIBE_WHO, Refusal.NOT_SUBSCRIBED, Refusal.USAGE
WRONG_CODE = Refusal.INVITATION_UNKNOWN

ROLES = ("chief", "supervisor", "group", "admin", "stranger")
USER_OF_ROLE = {
    "chief": CHIEF,  # KV01
    "supervisor": SUPERVISOR,  # X1: KV01–KV04
    "group": GROUP_MEMBER,  # a member of the MK group, not registered, writing there
    "admin": ADMIN_ID,
    "stranger": STRANGER,  # not registered
}
# command -> what each role gets, in the order of ROLES; each role's column is played in a
# day of its own, top to bottom (the admin's `/khoa X1` comes before `/mokhoa X1`).
MATRIX: dict[str, tuple[str, str, str, str, str]] = {
    "/tonghop": (OK, OK, OK, OK, UNREGISTERED),
    "/tonghop KV02": (NOT_YOURS, OK, OK, OK, UNREGISTERED),
    "/tonghop KV05": (NOT_YOURS, NOT_YOURS, OK, OK, UNREGISTERED),
    "/chuabaocao": (SUPERVISORS_ONLY, OK, OK, OK, SUPERVISORS_ONLY),
    "/chuabaocao KV05": (SUPERVISORS_ONLY, NOT_YOURS, OK, OK, SUPERVISORS_ONLY),
    "/xuat": (SUPERVISORS_ONLY, OK, SUPERVISORS_ONLY, OK, SUPERVISORS_ONLY),
    "/xuat KV05 xlsx": (SUPERVISORS_ONLY, NOT_YOURS, SUPERVISORS_ONLY, OK, SUPERVISORS_ONLY),
    "/lichsu KV01": (SUPERVISORS_ONLY, OK, SUPERVISORS_ONLY, OK, SUPERVISORS_ONLY),
    "/lichsu KV05": (SUPERVISORS_ONLY, NOT_YOURS, SUPERVISORS_ONLY, OK, SUPERVISORS_ONLY),
    "/nhacnho": (SUPERVISORS_ONLY, OK, SUPERVISORS_ONLY, OK, SUPERVISORS_ONLY),
    "/khoa X1": (ADMIN_ONLY, ADMIN_ONLY, ADMIN_ONLY, OK, ADMIN_ONLY),
    "/mokhoa X1": (ADMIN_ONLY, ADMIN_ONLY, ADMIN_ONLY, OK, ADMIN_ONLY),
    "/phancong KV05 0912999888": (ADMIN_ONLY, ADMIN_ONLY, ADMIN_ONLY, OK, ADMIN_ONLY),
    "/nhatky": (ADMIN_ONLY, ADMIN_ONLY, ADMIN_ONLY, OK, ADMIN_ONLY),
    # in a private chat, an admin or the unit's supervisor subscribes their own chat; in the
    # group, its member may not (un)subscribe it; without a code, the use is shown
    "/theodoi": (SUBSCRIBE_WHO, USAGE, SUBSCRIBE_WHO, USAGE, SUBSCRIBE_WHO),
    "/theodoi MK": (SUBSCRIBE_WHO, SUBSCRIBE_WHO, SUBSCRIBE_WHO, OK, SUBSCRIBE_WHO),
    "/theodoi X1": (SUBSCRIBE_WHO, OK, SUBSCRIBE_WHO, OK, SUBSCRIBE_WHO),
    "/huytheodoi": (NOT_SUBSCRIBED, OK, SUBSCRIBE_WHO, OK, NOT_SUBSCRIBED),
    # invitation codes: admins, and supervisors for their subtree; never in a group
    "/moi": (SUPERVISORS_ONLY, OK, SILENT, OK, SUPERVISORS_ONLY),
    "/moi KV05": (SUPERVISORS_ONLY, NOT_YOURS, SILENT, OK, SUPERVISORS_ONLY),
    "/moi X1 xlsx": (SUPERVISORS_ONLY, OK, SILENT, OK, SUPERVISORS_ONLY),
    # registering by code: anyone in a private chat (a wrong code is refused as such)
    "/dangky": (USAGE, USAGE, SILENT, USAGE, USAGE),
    "dk 2345ABCD": (WRONG_CODE, WRONG_CODE, SILENT, WRONG_CODE, WRONG_CODE),
    "KV01: 10/320 9h": (OK, OK, SILENT, OK, UNREGISTERED),
    "KV02: 10/2000 9h": (NOT_YOURS, OK, SILENT, OK, UNREGISTERED),
    "KV05: 10/250 9h": (NOT_YOURS, NOT_YOURS, SILENT, OK, UNREGISTERED),
}
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
async def setup(db_target: Path | str) -> AsyncIterator[Day]:
    """The small tree; the chief of KV01 and the supervisor of X1 registered; the admin has
    subscribed the district's group to MK."""
    async with open_day(db_target) as day:
        await day.register([CHIEF, SUPERVISOR])
        subscribed = await day.channel.say(ADMIN_ID, "/theodoi MK", group=GROUP)
        assert subscribed.status is Status.ACCEPTED, subscribed
        yield day


def verdict(answer: Answer) -> str:
    """OK, SILENT, or the refusal's reason (a refusal always gives one)."""
    if not answer.replies:
        return SILENT
    if answer.status is Status.REFUSED:
        assert answer.reason is not None, answer
        return answer.reason
    assert answer.status is Status.ACCEPTED, answer
    return OK


def shows_what_was_asked(command: str, answer: Answer) -> bool:
    """An accepted answer carries the thing asked for: a file for `/xuat` (xlsx when asked),
    a text with real PNG charts for `/tonghop`, a text for everything else."""
    contents = [reply.content for reply in answer.replies]
    first = contents[0]
    if command.startswith(("/xuat", "/moi")):
        wanted = ".xlsx" if "xlsx" in command else ".csv"
        return (
            isinstance(first, Document) and first.filename.endswith(wanted) and len(contents) == 1
        )
    if command.startswith("/tonghop"):
        charts = contents[1:]
        pictures = all(isinstance(c, Image) and c.png.startswith(PNG) for c in charts)
        return isinstance(first, Text) and bool(charts) and pictures
    return all(isinstance(c, Text) for c in contents)


@pytest.mark.parametrize("role", ROLES)
async def test_every_command_for_a_role(setup: Day, role: str) -> None:
    column = ROLES.index(role)
    user = USER_OF_ROLE[role]
    wrong: list[tuple[str, str, str, list[str]]] = []
    for command, cells in MATRIX.items():
        answer = await setup.channel.say(user, command, group=GROUP if role == "group" else None)
        got = verdict(answer)
        if got != cells[column]:
            wrong.append((command, cells[column], got, answer.texts[:1]))
        elif got == OK and not shows_what_was_asked(command, answer):
            wrong.append((command, "what was asked", got, answer.texts[:1]))
    assert wrong == []
    # What the report rows stored: exactly the reports this role's answers accepted.
    for area in ("KV01", "KV02", "KV05"):
        row = next(cells for command, cells in MATRIX.items() if command.startswith(area))
        stored = [(r.sender, r.voted) for r in await setup.reports(area)]
        assert stored == ([(address(user), 10)] if row[column] == OK else []), (area, stored)


async def test_import_by_document_only_for_admins(setup: Day) -> None:
    data = await asyncio.to_thread(SMALL_TREE.read_bytes)
    for user, expected in (
        (CHIEF, ADMIN_ONLY),
        (SUPERVISOR, ADMIN_ONLY),
        (STRANGER, ADMIN_ONLY),
        (ADMIN_ID, OK),
    ):
        answer = await setup.channel.send_file(user, "u.csv", data)
        assert verdict(answer) == expected, (user, answer)
    # The admin's audit log holds the two imports (the fixture's and this one), nobody else's.
    imports = [e for e in await setup.core.db.audit_entries(50) if e.action == "import"]
    assert [e.actor for e in imports] == [address(ADMIN_ID), address(ADMIN_ID)]
    # In a group, even the admin's document with `/nhap` is ignored: imports are private.
    fetched: list[bool] = []

    async def fetch() -> bytes:
        fetched.append(True)
        return data

    group, admin, bot = address(GROUP), address(ADMIN_ID), setup.channel.name
    message = InboundText(group, "9001", admin, "/nhap", sent_at=setup.clock(), bot=bot)
    where = Where(admin, group, bot, in_group=True, chat_title="Nhóm huyện")
    attachment = Attachment("u.csv", len(data), fetch)
    answer = await setup.channel.conversation.handle(message, where, CAPABILITIES, attachment)
    assert verdict(answer) == SILENT and fetched == []


async def test_subscribing_a_group_needs_the_units_supervisor_or_an_admin(setup: Day) -> None:
    other = -100301  # a commune's group
    for user, command, expected in [
        (CHIEF, "/theodoi KV01", SUBSCRIBE_WHO),  # a chief may not
        (SUPERVISOR, "/theodoi MK", SUBSCRIBE_WHO),  # above the supervisor's commune
        (SUPERVISOR, "/theodoi X1", OK),
        # the group now sees X1 and only X1's subtree, whoever asks there
        (STRANGER, "/tonghop KV02", OK),
        (STRANGER, "/tonghop KV05", NOT_YOURS),
        (STRANGER, "/huytheodoi", SUBSCRIBE_WHO),
    ]:
        answer = await setup.channel.say(user, command, group=other, group_title="Nhóm xã")
        assert verdict(answer) == expected, (user, command, answer)
    subscription = await setup.core.db.subscription(setup.channel.name, address(other))
    assert subscription is not None
    assert (subscription.unit_code, subscription.subscribed_by) == ("X1", address(SUPERVISOR))
    answer = await setup.channel.say(SUPERVISOR, "/huytheodoi", group=other)
    assert verdict(answer) == OK
    assert await setup.core.db.subscription(setup.channel.name, address(other)) is None
    assert (
        await setup.core.db.subscription(setup.channel.name, address(GROUP)) is not None
    )  # the other group still follows


async def test_reminders_go_to_the_registered_chiefs_of_unreported_areas(setup: Day) -> None:
    """`/nhacnho`: one private message per registered chief of the caller's unreported areas,
    naming all of that chief's areas; a chief who has reported is not reminded."""
    await setup.register([CHIEF_KV02, CHIEF_KV03_KV04, CHIEF_KV05])
    label = {unit.code: texts.unit_label(unit.code, unit.name) for unit in setup.core.db.units}

    def sent(answer: Answer) -> dict[str, object]:
        assert answer.status is Status.ACCEPTED, answer
        return {message.to.id: message.content for message in answer.sends}

    assert sent(await setup.channel.say(SUPERVISOR, "/nhacnho")) == {
        str(CHIEF_KV01): Text(texts.reminder([label["KV01"]])),
        str(CHIEF_KV02): Text(texts.reminder([label["KV02"]])),
        str(CHIEF_KV03_KV04): Text(texts.reminder([label["KV03"], label["KV04"]])),
    }
    assert (await setup.channel.say(CHIEF_KV01, "250/320 9h")).status is Status.ACCEPTED
    assert (await setup.channel.say(CHIEF_KV03_KV04, "KV04: 100/400 9h")).status is Status.ACCEPTED
    assert sent(await setup.channel.say(ADMIN_ID, "/nhacnho")) == {
        str(CHIEF_KV02): Text(texts.reminder([label["KV02"]])),
        str(CHIEF_KV03_KV04): Text(texts.reminder([label["KV03"]])),
        str(CHIEF_KV05): Text(texts.reminder([label["KV05"]])),
    }
    # Nobody else is written to by a refused `/nhacnho`.
    refused = await setup.channel.say(CHIEF_KV02, "/nhacnho")
    assert verdict(refused) == SUPERVISORS_ONLY and refused.sends == ()


async def test_reminding_with_no_chief_registered_is_a_warning_to_call(setup: Day) -> None:
    """Unreported areas whose chiefs have not registered: nobody is written to, and the
    answer is a warning (the supervisor must phone them), not a plain acceptance."""
    assert (await setup.channel.say(CHIEF, "250/320 9h")).status is Status.ACCEPTED
    answer = await setup.channel.say(ADMIN_ID, "/nhacnho KV02")
    assert answer.status is Status.WARNED and answer.reason == "nobody_to_remind"
    assert answer.sends == ()
    # Once every area of the unit has reported, there is nothing to warn about.
    assert (await setup.channel.say(ADMIN_ID, "/nhacnho KV01")).status is Status.ACCEPTED
