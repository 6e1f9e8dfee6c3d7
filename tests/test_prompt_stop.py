"""Stop is always prompt: SIGTERM ends `fieldtally run` within the contract's 10 s in every
state, start-up retries included (Telegram unreachable, or answering only errors). And a
time zone other than Vietnam's draws one warning line at start."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

from sandbox import BotApiSandbox
from tests.harness import ADMIN_ID, free_port
from tests.test_cli import clean_env

GUARD = 30  # seconds: the contract says 10; the test's guard leaves slack for a busy machine


async def start(env: dict[str, str], cwd: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "fieldtally", "run", cwd=cwd, env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def log_until(process: asyncio.subprocess.Process, words: str) -> list[str]:
    """Read the bot's log until a line containing `words` (the event waited for)."""
    assert process.stderr is not None
    lines: list[str] = []
    while not any(words in line for line in lines):
        line = await asyncio.wait_for(process.stderr.readline(), timeout=60)
        assert line, f"the bot ended before logging {words!r}: {lines}"
        lines.append(line.decode())
    return lines


async def terminated_promptly(process: asyncio.subprocess.Process) -> list[str]:
    """SIGTERM; the bot exits 0 within the guard; the rest of its log."""
    loop = asyncio.get_running_loop()
    asked = loop.time()
    process.send_signal(signal.SIGTERM)
    assert process.stderr is not None
    rest = await asyncio.wait_for(process.stderr.read(), timeout=60)
    assert await process.wait() == 0
    assert loop.time() - asked < GUARD
    return rest.decode().splitlines()


async def test_sigterm_while_telegram_is_unreachable_at_start(tmp_path: Path) -> None:
    nobody = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    env = clean_env(tmp_path, TELEGRAM_BOT_TOKEN="123:abc", TELEGRAM_API_URL=nobody,
                    FIELDTALLY_ADMINS=str(ADMIN_ID))  # fmt: skip
    bot = await start(env, tmp_path)
    lines = await log_until(bot, "getMe")  # its start-up retry loop has begun
    lines += await terminated_promptly(bot)
    assert not any("FIELDTALLY_TZ" in line for line in lines)  # Vietnam's zone: no warning
    assert not any("Traceback" in line for line in lines)


async def test_sigterm_while_telegram_answers_errors_and_a_foreign_zone_warns(
    tmp_path: Path,
) -> None:
    async with BotApiSandbox() as sandbox:
        token = sandbox.create_bot()
        sandbox.inject_faults("getMe", 502, count=10**9)
        env = clean_env(tmp_path, TELEGRAM_BOT_TOKEN=token, TELEGRAM_API_URL=sandbox.url,
                        FIELDTALLY_TZ="UTC")  # fmt: skip
        bot = await start(env, tmp_path)
        await sandbox.wait_for_call(token, "getMe", lambda c: c.status == 502)
        lines = await log_until(bot, "getMe")
        lines += await terminated_promptly(bot)
    warnings = [line for line in lines if "FIELDTALLY_TZ is UTC" in line]
    assert len(warnings) == 1 and "WARNING" in warnings[0]
