"""Permission matrix, end to end: each command and the report path, for each role.

"ok" means an answer that is not a refusal (✅, 📊, 📋, 🗂 or a document); "no" means a
refusal that starts with ❌; "silent" means the bot ignores it (group chatter).

Each verdict reads exactly the bot's answers to one message (the harness's barrier), and
nothing else writes to these chats: the bot runs without scheduled summaries. Telegram's
limit of 20 messages a minute per group is lifted here (the group's row alone is ~60
messages, a minute of waiting): what is checked is who may do what, not the pacing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from sandbox import BotApiSandbox, OutgoingRecord
from tests.harness import ADMIN_ID, DATA, BotRun, make_run

CHIEF, SUPERVISOR, STRANGER, GROUP_MEMBER = 101, 201, 999, 777
GROUP = -100300
SMALL = (DATA / "small_tree.csv").read_bytes()

# command -> expected answer for
# (chief, supervisor of X1, a member of the MK group, admin, stranger)
MATRIX: dict[str, tuple[str, str, str, str, str]] = {
    "/tonghop": ("ok", "ok", "ok", "ok", "no"),
    "/tonghop KV02": ("no", "ok", "ok", "ok", "no"),
    "/tonghop KV05": ("no", "no", "ok", "ok", "no"),
    "/chuabaocao": ("no", "ok", "ok", "ok", "no"),
    "/chuabaocao KV05": ("no", "no", "ok", "ok", "no"),
    "/xuat": ("no", "ok", "no", "ok", "no"),
    "/xuat KV05 xlsx": ("no", "no", "no", "ok", "no"),
    "/lichsu KV01": ("no", "ok", "no", "ok", "no"),
    "/lichsu KV05": ("no", "no", "no", "ok", "no"),
    "/nhacnho": ("no", "ok", "no", "ok", "no"),
    "/khoa X1": ("no", "no", "no", "ok", "no"),
    "/mokhoa X1": ("no", "no", "no", "ok", "no"),
    "/phancong KV05 0912999888": ("no", "no", "no", "ok", "no"),
    "/nhatky": ("no", "no", "no", "ok", "no"),
    "/theodoi MK": ("no", "no", "no", "no", "no"),  # in a private chat: groups only
    "/huytheodoi": ("no", "no", "no", "no", "no"),  # the group member is not allowed
    "KV01: 10/320 9h": ("ok", "ok", "silent", "ok", "no"),
    "KV02: 10/2000 9h": ("no", "ok", "silent", "ok", "no"),
    "KV05: 10/250 9h": ("no", "no", "silent", "ok", "no"),
}
ROLES = ("chief", "supervisor", "group", "admin", "stranger")


def verdict(records: list[OutgoingRecord]) -> str:
    if not records:
        return "silent"
    first = records[0]
    if first.document is not None:
        return "ok"
    text = first.text or ""
    if text.startswith("❌"):
        return "no"
    assert text[:1] in ("✅", "📊", "📋", "🗂", "🗒"), text
    return "ok"


@pytest.fixture
async def setup(sandbox: BotApiSandbox, db_target: Path | str) -> AsyncIterator[BotRun]:
    token = sandbox.create_bot()
    run = make_run(sandbox, token, db_target, FIELDTALLY_GROUP_SENDS_PER_MINUTE="0")
    await run.start()
    try:
        assert (await run.import_units(SMALL)).startswith("✅")
        for user_id, phone in ((CHIEF, "0912345001"), (SUPERVISOR, "0912000002")):
            assert (await run.share_contact(run.user(user_id), phone))[0].startswith("✅")
        sandbox.make_group(GROUP, "Nhóm huyện")
        [ok] = await run.say_in(GROUP, run.user(ADMIN_ID), "/theodoi MK")
        assert (ok.text or "").startswith("✅")
        yield run
    finally:
        await run.stop()


@pytest.mark.parametrize("role", ROLES)
async def test_every_command_for_a_role(setup: BotRun, role: str) -> None:
    column = ROLES.index(role)
    user_id = {
        "chief": CHIEF,
        "supervisor": SUPERVISOR,
        "group": GROUP_MEMBER,
        "admin": ADMIN_ID,
        "stranger": STRANGER,
    }[role]
    user = setup.user(user_id)
    wrong = []
    for command, expected in MATRIX.items():
        if role == "group":
            records = await setup.say_in(GROUP, user, command)
        else:
            records = await setup.say(user, command)
        got = verdict(records)
        if got != expected[column]:
            wrong.append((command, expected[column], got, records[0].text if records else None))
    assert wrong == []


async def test_import_by_document_only_for_admins(setup: BotRun) -> None:
    for user_id, expected in (
        (CHIEF, "no"),
        (SUPERVISOR, "no"),
        (STRANGER, "no"),
        (ADMIN_ID, "ok"),
    ):
        assert verdict(await setup.send_file(setup.user(user_id), "u.csv", SMALL)) == expected
    since = setup._next_seq()  # before sending: an answer may come at once
    setup.sandbox.send_document(
        setup.token, setup.user(ADMIN_ID), "u.csv", SMALL, "/nhap", chat_id=GROUP
    )
    assert verdict(await setup._through_barrier(GROUP, setup.user(ADMIN_ID), since)) == "silent"


async def test_subscribing_a_group_needs_the_units_supervisor_or_an_admin(setup: BotRun) -> None:
    other = -100301
    setup.sandbox.make_group(other, "Nhóm xã")
    assert verdict(await setup.say_in(other, setup.user(CHIEF), "/theodoi KV01")) == "no"
    assert verdict(await setup.say_in(other, setup.user(SUPERVISOR), "/theodoi MK")) == "no"
    assert verdict(await setup.say_in(other, setup.user(SUPERVISOR), "/theodoi X1")) == "ok"
    # the group now sees X1 and only X1's subtree
    assert verdict(await setup.say_in(other, setup.user(STRANGER), "/tonghop KV02")) == "ok"
    assert verdict(await setup.say_in(other, setup.user(STRANGER), "/tonghop KV05")) == "no"
    assert verdict(await setup.say_in(other, setup.user(STRANGER), "/huytheodoi")) == "no"
    assert verdict(await setup.say_in(other, setup.user(SUPERVISOR), "/huytheodoi")) == "ok"
