"""Kill the bot with SIGKILL in the middle of a burst, restart it: nothing acknowledged is
lost, nothing is counted twice, and every report sent gets an answer."""

from __future__ import annotations

import asyncio
import csv
import io
import signal
import sqlite3
import sys
from dataclasses import dataclass
from pathlib import Path

from sandbox import BotApiSandbox, OutgoingRecord, SimUser
from tests.harness import ADMIN_ID, PATIENCE, TELEGRAM_ORIGINS, at
from tests.test_cli import run_env
from tests.test_e2e_concurrency import unit_file

CHIEFS, REPORTS = 100, 5


async def start_bot(env: dict[str, str], cwd: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "fieldtally", "run", cwd=cwd, env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


@dataclass
class Burst:
    """Chiefs registered, then a burst of their reports sent all at once."""

    admin: SimUser
    chiefs: list[SimUser]
    sent: dict[int, list[int]]  # chief -> message ids, in order
    since: int  # the first outgoing record after registration


async def send_burst(sandbox: BotApiSandbox, token: str) -> Burst:
    admin = sandbox.make_user(ADMIN_ID, "Quản trị")
    sandbox.send_document(token, admin, "u.csv", unit_file(CHIEFS), caption="/nhap")
    await sandbox.wait_for(token, 1, chat_id=ADMIN_ID, timeout=PATIENCE)
    chiefs = [sandbox.make_user(500 + n, f"Chief {n}") for n in range(CHIEFS)]
    for n, chief in enumerate(chiefs):
        sandbox.send_contact(token, chief, f"09130{n:05d}")
    for chief in chiefs:
        await sandbox.wait_for(token, 1, chat_id=chief.id, timeout=PATIENCE)
    since = sandbox.outgoing(token)[-1].seq + 1
    sent: dict[int, list[int]] = {}
    for step in range(REPORTS):
        for chief in chiefs:
            message = sandbox.send_text(
                token, chief, f"{100 * (step + 1)}/1000 {8 + step:02d}h", date=at(20)
            )
            sent.setdefault(chief.id, []).append(message["message_id"])
    return Burst(admin, chiefs, sent, since)


def acknowledged(sandbox: BotApiSandbox, token: str, burst: Burst) -> set[tuple[int, int]]:
    """(chat, message) of every report answered ✅ so far."""
    return {
        (r.chat_id, (r.reply_parameters or {}).get("message_id"))
        for r in sandbox.outgoing(token)
        if r.seq >= burst.since and (r.text or "").startswith("✅")
    }


async def answered_and_exported(sandbox: BotApiSandbox, token: str, burst: Burst) -> OutgoingRecord:
    """Wait until every report of the burst is answered (after a restart if need be), check
    none is missing, and return the admin's export."""
    for chief in burst.chiefs:
        await sandbox.wait_for(
            token,
            lambda r, c=chief.id: (r.reply_parameters or {}).get("message_id")
            == burst.sent[c][-1],
            chat_id=chief.id, since=burst.since, timeout=PATIENCE,
        )  # fmt: skip
    answered = {
        (r.chat_id, (r.reply_parameters or {}).get("message_id"))
        for r in sandbox.outgoing(token)
        if r.seq >= burst.since and r.text
    }
    missing = [(c, m) for c, ids in burst.sent.items() for m in ids if (c, m) not in answered]
    assert missing == []
    sandbox.send_text(token, burst.admin, "/xuat", date=at(20, 30))
    [export] = await sandbox.wait_for(
        token, lambda r: r.document is not None, chat_id=ADMIN_ID, timeout=PATIENCE
    )
    return export


def check_stored_once(
    export: OutgoingRecord, database: Path, acknowledged_before: set[tuple[int, int]]
) -> None:
    """Every area ends at its last count, each report was stored exactly once, and every ✅
    given before the kill was kept."""
    assert export.document is not None
    rows = {
        r["code"]: r
        for r in csv.DictReader(io.StringIO(export.document.content.decode("utf-8-sig")))
    }
    assert all(rows[f"A{n:03d}"]["voted"] == str(100 * REPORTS) for n in range(CHIEFS))
    assert rows["P"]["voted"] == str(CHIEFS * 100 * REPORTS)
    with sqlite3.connect(database) as db:
        per_message = db.execute(
            "SELECT count(*) FROM reports GROUP BY chat, message_ref HAVING count(*) > 1"
        ).fetchall()
        stored = set(db.execute(TELEGRAM_ORIGINS).fetchall())
    assert per_message == [] and len(stored) == CHIEFS * REPORTS
    assert acknowledged_before <= stored


async def kill_mid_burst(
    sandbox: BotApiSandbox, token: str, bot: asyncio.subprocess.Process
) -> tuple[Burst, set[tuple[int, int]]]:
    """Send the burst and SIGKILL the bot once a part of it is acknowledged; the burst, and
    what was acknowledged before the kill."""
    burst = await send_burst(sandbox, token)
    await sandbox.wait_for(token, CHIEFS, since=burst.since, timeout=PATIENCE)
    # From here no answer goes out until the bot is dead: the burst is cut in the middle
    # however fast the bot is. (The sandbox runs on this loop: nothing is answered between
    # the wait above and this line.)
    frozen = sandbox.hold_answers("sendMessage", chats=None, token=token)
    bot.send_signal(signal.SIGKILL)
    await bot.wait()
    acknowledged_before = acknowledged(sandbox, token, burst)
    frozen.release()  # what was held went out, but the dead bot never heard so
    assert 0 < len(acknowledged_before) < CHIEFS * REPORTS  # killed mid-burst
    return burst, acknowledged_before


async def stop_bot(bot: asyncio.subprocess.Process) -> None:
    if bot.returncode is None:
        bot.send_signal(signal.SIGTERM)
        await asyncio.wait_for(bot.wait(), timeout=PATIENCE)


async def test_sigkill_mid_burst_loses_nothing(tmp_path: Path) -> None:
    async with BotApiSandbox() as sandbox:
        token = sandbox.create_bot()
        env = run_env(tmp_path, sandbox, token)
        bot = await start_bot(env, tmp_path)
        try:
            burst, acknowledged_before = await kill_mid_burst(sandbox, token, bot)
            bot = await start_bot(env, tmp_path)
            export = await answered_and_exported(sandbox, token, burst)
        finally:
            await stop_bot(bot)
    check_stored_once(export, tmp_path / "cli.db", acknowledged_before)
