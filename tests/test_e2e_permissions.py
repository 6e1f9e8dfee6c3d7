"""Permissions end to end, where Telegram's group semantics are part of the answer.

Who may do what (every command and the report path, for every role, in a private chat or
a group) is proven through the core and the in-memory channel
(`test_conversation_permissions.py`). Here remain, over the Bot API: a group subscribed and
unsubscribed by the people allowed to, and what the group then sees (the smoke test of the
whole path); and a report and a document with the `/nhap` caption sent in a group, both
ignored (reports and imports are private).

"ok" means an answer that is not a refusal (✅, 📊, 📋, 🗂 or a document); "no" means a
refusal that starts with ❌; "silent" means the bot ignores it (group chatter). Each verdict
reads exactly the bot's answers to one message (the harness's barrier), and nothing else
writes to these chats: the bot runs without scheduled summaries."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from sandbox import BotApiSandbox, OutgoingRecord
from tests.harness import ADMIN_ID, DATA, BotRun, make_run

CHIEF, SUPERVISOR, STRANGER = 101, 201, 999
GROUP = -100300
SMALL = (DATA / "small_tree.csv").read_bytes()


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


async def test_reports_and_documents_sent_in_a_group_are_ignored(setup: BotRun) -> None:
    """Reports are sent privately: in a group, even the chief's own report gets no answer
    and stores nothing; so does the admin's document with `/nhap` (imports are private)."""
    assert await setup.say_in(GROUP, setup.user(CHIEF), "KV01: 10/320 9h") == []
    since = setup._next_seq()  # before sending: an answer may come at once
    setup.sandbox.send_document(
        setup.token, setup.user(ADMIN_ID), "u.csv", SMALL, "/nhap", chat_id=GROUP
    )
    assert verdict(await setup._through_barrier(GROUP, setup.user(ADMIN_ID), since)) == "silent"
    assert setup.query("SELECT count(*) FROM reports") == [(0,)]
    assert setup.query("SELECT count(*) FROM audit_log WHERE action = 'import'") == [(1,)]


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
