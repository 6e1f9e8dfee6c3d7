"""Storage faults are states, not crashes: the real `fieldtally run` meets a database that
is locked by another process, full, or gone, in the middle of a burst of reports. It stays
alive, tells the admins once when the fault starts and once when it ends, answers every
report exactly once when the database is back, stores nothing twice, and what was
acknowledged ✅ is what the export shows."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

from sandbox import BotApiSandbox
from tests.harness import ADMIN_ID
from tests.test_cli import run_env
from tests.test_crash_safety import (
    CHIEFS,
    REPORTS,
    Burst,
    acknowledged,
    answered_and_exported,
    check_stored_once,
    send_burst,
    start_bot,
    stop_bot,
)

OUTAGE_STARTED = "Sự cố lưu trữ"
OUTAGE_ENDED = "Hết sự cố lưu trữ"


def answers_per_message(
    sandbox: BotApiSandbox, token: str, burst: Burst
) -> Counter[tuple[int, int]]:
    return Counter(
        (r.chat_id, (r.reply_parameters or {}).get("message_id"))
        for r in sandbox.outgoing(token)
        if r.seq >= burst.since and r.chat_id != ADMIN_ID and r.text
    )


async def admin_told(sandbox: BotApiSandbox, token: str, words: str, since: int) -> str:
    [told] = await sandbox.wait_for(
        token, lambda r: words in (r.text or ""), chat_id=ADMIN_ID, since=since, timeout=120
    )
    return told.text or ""


def status(cwd: Path, env: dict[str, str]) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-m", "fieldtally", "status", "--json"],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    facts: dict[str, object] = json.loads(done.stdout)
    facts["exit"] = done.returncode
    return facts


async def hold_exclusive_lock(database: Path) -> asyncio.subprocess.Process:
    """Another process holds `BEGIN EXCLUSIVE` on the file until its stdin closes."""
    script = (
        "import sqlite3, sys\n"
        "c = sqlite3.connect(sys.argv[1], timeout=60, isolation_level=None)\n"
        "c.execute('BEGIN EXCLUSIVE'); print('locked', flush=True)\n"
        "sys.stdin.read(); c.execute('COMMIT')\n"
    )
    holder = await asyncio.create_subprocess_exec(
        sys.executable, "-c", script, str(database),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert holder.stdout is not None
    assert (await holder.stdout.readline()).strip() == b"locked"
    return holder


async def test_sqlite_locked_by_another_process_longer_than_the_busy_timeout(
    tmp_path: Path,
) -> None:
    async with BotApiSandbox() as sandbox:
        token = sandbox.create_bot()
        env = run_env(tmp_path, sandbox, token)
        bot = await start_bot(env, tmp_path)
        try:
            burst = await send_burst(sandbox, token)
            await sandbox.wait_for(token, CHIEFS, since=burst.since, timeout=60)
            holder = await hold_exclusive_lock(tmp_path / "cli.db")
            # The bot's writes wait out the 5 s busy timeout, then the fault is a state.
            await admin_told(sandbox, token, OUTAGE_STARTED, burst.since)
            acknowledged_during = acknowledged(sandbox, token, burst)
            assert bot.returncode is None  # alive
            facts = status(tmp_path, env)
            assert facts["degraded"] is True and facts["fault"] == "locked"
            assert facts["exit"] == 1 and facts["degraded_since"]
            assert holder.stdin is not None
            holder.stdin.close()
            await holder.wait()
            await admin_told(sandbox, token, OUTAGE_ENDED, burst.since)
            export = await answered_and_exported(sandbox, token, burst)
            assert bot.returncode is None
            assert status(tmp_path, env)["degraded"] is False
        finally:
            await stop_bot(bot)
    counts = answers_per_message(sandbox, token, burst)
    assert len(counts) == CHIEFS * REPORTS and set(counts.values()) == {1}  # once each
    check_stored_once(export, tmp_path / "cli.db", acknowledged_during)
    admin_texts = [r.text or "" for r in sandbox.outgoing(token, ADMIN_ID)]
    assert sum(OUTAGE_STARTED in t and OUTAGE_ENDED not in t for t in admin_texts) == 1
    assert sum(OUTAGE_ENDED in t for t in admin_texts) == 1
