"""Chats are processed concurrently and each chat strictly in arrival order.

Concurrency is proved by construction, not by timing: the sandbox holds the bot's answers
until every chat has one waiting, which a bot handling one chat at a time could never do."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from pathlib import Path

from sandbox import BotApiSandbox
from tests.harness import at, make_run

CHIEFS = 24


def unit_file(areas: int) -> bytes:
    lines = ["code,parent_code,kind,name,registered_voters,staff,contact_phones", "P,,tỉnh,P,,,"]
    lines += [f"A{n:03d},P,khu vực bỏ phiếu,KV {n},1000,12,09130{n:05d}" for n in range(areas)]
    return "\n".join(lines).encode()


async def test_chats_overlap_and_each_chat_keeps_its_order(
    sandbox: BotApiSandbox, db_target: Path | str
) -> None:
    token = sandbox.create_bot()
    bot = make_run(sandbox, token, db_target)
    await bot.start()
    try:
        assert (await bot.import_units(unit_file(CHIEFS))).startswith("✅")
        chiefs = [bot.user(500 + n) for n in range(CHIEFS)]
        for n, chief in enumerate(chiefs):
            assert (await bot.share_contact(chief, f"09130{n:05d}"))[0].startswith("✅")
        since = sandbox.outgoing(token)[-1].seq + 1
        # No answer goes out until all the chats have one waiting at the same time.
        hold = sandbox.hold_answers("sendMessage", chats=CHIEFS, token=token)
        # Interleaved across chats: a 9h report, its edit, an 11h report, a 10h report that
        # is valid only if the edit was applied first (it lowered 9h below 10h's count).
        sent: dict[int, list[int]] = defaultdict(list)
        for step in range(4):
            for chief in chiefs:
                if step == 0:
                    message = sandbox.send_text(token, chief, "400/1000 9h", date=at(20))
                    sent[chief.id].append(message["message_id"])
                elif step == 1:
                    first = sent[chief.id][0]
                    sandbox.edit_text(token, chief, None, first, "100/1000 9h",
                                      edit_date=at(20) + dt.timedelta(seconds=1))  # fmt: skip
                elif step == 2:
                    message = sandbox.send_text(token, chief, "300/1000 11h", date=at(20))
                    sent[chief.id].append(message["message_id"])
                else:
                    message = sandbox.send_text(token, chief, "200/1000 10h", date=at(20))
                    sent[chief.id].append(message["message_id"])
        # Different chats overlapped: all of them were being answered at once. (Fails, saying
        # how many chats ever waited together, if the bot answered chats one at a time.)
        await hold.wait_filled(timeout=120)
        for chief in chiefs:
            replies = await sandbox.wait_for(token, 4, chat_id=chief.id, since=since, timeout=120)
            texts = [r.text or "" for r in replies]
            # the 10h report (200) is accepted only because the edit (9h: 400 → 100) came first
            assert [t[0] for t in texts] == ["✅", "✅", "✅", "✅"], texts
            assert "400/1.000" in texts[0] and "100/1.000" in texts[1]
            assert "300/1.000" in texts[2] and "200/1.000" in texts[3]
        for n, chief in enumerate(chiefs):
            rows = bot.query(
                "SELECT CAST(message_ref AS INTEGER), voted, replaced_by IS NULL FROM reports"
                " WHERE area_code = ? ORDER BY id",
                (f"A{n:03d}",),
            )
            first, second, third = sent[chief.id]
            # stored in arrival order; the original replaced by its edit
            assert rows == [(first, 400, 0), (first, 100, 1), (second, 300, 1), (third, 200, 1)]
    finally:
        sandbox.clear_faults()
        await bot.stop()
