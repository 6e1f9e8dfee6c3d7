"""End to end: chiefs' reports through the sandbox, what only a real Telegram round trip shows.

Every form and every rule of the report path is proven through the core and the in-memory
channel (`test_conversation_reports.py`); here remain a message with several reports and
its replies, in order, over the Bot API (the smoke test of the whole path), a correction
made by editing the message (Telegram's `edited_message` updates), and a message Telegram
delivers twice under a new update id."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from sandbox import BotApiSandbox
from tests.harness import DATA, BotRun, at, make_run
from tests.test_e2e_import_register import export_csv

CHIEF_KV01 = 101


@pytest.fixture
async def day(sandbox: BotApiSandbox, db_target: Path | str) -> AsyncIterator[BotRun]:
    """The bot with the small tree imported and the chief of KV01 registered."""
    token = sandbox.create_bot()
    run = make_run(sandbox, token, db_target)
    await run.start()
    try:
        assert (await run.import_units((DATA / "small_tree.csv").read_bytes())).startswith("✅")
        [reply] = await run.share_contact(run.user(CHIEF_KV01), "0912345001")
        assert reply.startswith("✅"), reply
        yield run
    finally:
        await run.stop()


def rows_by_code(rows: list[dict[str, str]]) -> dict[str, dict[str, str]]:
    return {row["code"]: row for row in rows}


def reports_in_db(bot: BotRun, area: str) -> list[tuple[int, int, int | None]]:
    """(id, voted, replaced_by) of every stored report of an area, oldest first."""
    return bot.query(
        "SELECT id, voted, replaced_by FROM reports WHERE area_code = ? ORDER BY id", (area,)
    )


async def test_several_reports_in_one_message_each_judged_alone(day: BotRun) -> None:
    chief = day.user(CHIEF_KV01)
    replies = await day.texts_of(chief, "250/320 9h; xn 16/16 am tinh\n999/320 10h\n280/320 10h")
    assert [r[0] for r in replies] == ["✅", "✅", "❌", "✅"]
    assert (rows_by_code(await export_csv(day)))["KV01"]["voted"] == "280"


async def test_correction_by_editing_the_message(day: BotRun) -> None:
    chief = day.user(CHIEF_KV01)
    assert (await day.texts_of(chief, "250/320 9h"))[0].startswith("✅")
    message_id = day.last_message["message_id"]
    [reply] = await day.edit(chief, message_id, "240/320 9h")
    assert reply.startswith("✅") and "240/320" in reply
    assert rows_by_code(await export_csv(day))["KV01"]["voted"] == "240"
    # An edit that moves the time replaces the original too.
    [reply] = await day.edit(chief, message_id, "240/320 9h30", edit_date=at(20, 20))
    assert reply.startswith("✅")
    stored = reports_in_db(day, "KV01")
    assert [r[2] is None for r in stored] == [False, False, True]
    # A bad edit is refused and the last good version stays.
    [bad] = await day.edit(chief, message_id, "400/320 9h30", edit_date=at(20, 25))
    assert bad.startswith("❌")
    assert rows_by_code(await export_csv(day))["KV01"]["voted"] == "240"


async def test_same_message_delivered_twice_is_stored_once(day: BotRun) -> None:
    chief = day.user(CHIEF_KV01)
    first, _ = await day.texts_of(chief, "250/320 9h; xn 16/16 am tinh")
    update_id = day.sandbox.history(day.token)[-2]["update_id"]  # before the barrier
    since = day.sandbox.outgoing(day.token)[-1].seq + 1
    day.sandbox.redeliver(day.token, update_id)
    again = await day._through_barrier(chief.id, chief, since)
    assert again[0].text == first
    assert len(again) == 2
    assert len(reports_in_db(day, "KV01")) == 2  # one turnout, one tally: not four
