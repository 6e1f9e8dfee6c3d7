"""Storage faults are states, not crashes: the real `fieldtally run` meets a database that
is locked by another process, full, or gone, in the middle of a burst of reports. It stays
alive, tells the admins once when the fault starts and once when it ends, answers every
report exactly once when the database is back, stores nothing twice, and what was
acknowledged ✅ is what the export shows."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from sandbox import BotApiSandbox, OutgoingRecord
from tests.harness import ADMIN_ID, TELEGRAM_ORIGINS, at, free_port, scrape
from tests.postgres_server import MISSING, PostgresServer, find_binaries, new_database
from tests.test_cli import run_env
from tests.test_crash_safety import (
    CHIEFS,
    REPORTS,
    Burst,
    acknowledged,
    answered_and_exported,
    send_burst,
    stop_bot,
)

OUTAGE_STARTED = "Sự cố lưu trữ"
OUTAGE_ENDED = "Hết sự cố lưu trữ"


async def start_bot(env: dict[str, str], cwd: Path) -> asyncio.subprocess.Process:
    """`fieldtally run`, its log in cwd/bot.log (a pipe nobody reads could fill and block)."""
    with (cwd / "bot.log").open("ab") as log:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "fieldtally", "run", cwd=cwd, env=env,
            stdout=asyncio.subprocess.DEVNULL, stderr=log,
        )  # fmt: skip


def answers_per_message(
    sandbox: BotApiSandbox, token: str, burst: Burst
) -> Counter[tuple[int, int]]:
    return Counter(
        (r.chat_id, (r.reply_parameters or {}).get("message_id"))
        for r in sandbox.outgoing(token)
        if r.seq >= burst.since and r.chat_id != ADMIN_ID and r.text
    )


async def admin_told(sandbox: BotApiSandbox, token: str, words: str, since: int) -> None:
    await sandbox.wait_for(
        token, lambda r: words in (r.text or ""), chat_id=ADMIN_ID, since=since, timeout=180
    )


async def status(cwd: Path, env: dict[str, str]) -> dict[str, object]:
    """`fieldtally status --json`, awaited: the sandbox playing Telegram runs on this event
    loop, and a loop blocked while a loaded machine starts Python (seconds) leaves the
    bot's sends unanswered; a send that times out is sent again (Telegram has no
    idempotency key), and the answer arrives twice."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "fieldtally", "status", "--json",
        cwd=cwd, env=env, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    # A safety net only: the command reads a small file.
    stdout, _ = await asyncio.wait_for(process.communicate(), timeout=300)
    facts: dict[str, object] = json.loads(stdout)
    facts["exit"] = process.returncode
    return facts


StoredRows = Callable[[], list[tuple[int, int]]]
ALL_REPORTS = REPORTS + 1  # the burst, then one report per chief sent during the fault


def send_wave(sandbox: BotApiSandbox, token: str, burst: Burst) -> None:
    """Each chief's last report, the burst's next step, sent once the fault is there."""
    for chief in burst.chiefs:
        message = sandbox.send_text(
            token, chief, f"{100 * ALL_REPORTS}/1000 {8 + REPORTS:02d}h", date=at(20)
        )
        burst.sent[chief.id].append(message["message_id"])


async def through_a_fault(
    tmp_path: Path,
    env: dict[str, str],
    stored_rows: StoredRows,
    fault: Callable[[], Awaitable[None]],
    repair: Callable[[], Awaitable[None]],
    kind: str | None,
) -> None:
    """Start the bot, send the burst, cause `fault` once part of it is acknowledged, check
    the bot is alive and says it is degraded, `repair`, and check every report ends
    answered once, stored once, and every ✅ is in the export and the database."""
    async with BotApiSandbox() as sandbox:
        token = sandbox.create_bot()
        env = {
            **run_env(tmp_path, sandbox, token),
            "FIELDTALLY_METRICS_PORT": str(free_port()),
            **env,
        }
        bot = await start_bot(env, tmp_path)
        try:
            burst = await send_burst(sandbox, token)
            await sandbox.wait_for(token, CHIEFS, since=burst.since, timeout=60)
            await fault()
            # One more report per chief after the fault: the bot must meet it, however fast
            # it went through the burst on this machine.
            send_wave(sandbox, token, burst)
            await admin_told(sandbox, token, OUTAGE_STARTED, burst.since)
            assert bot.returncode is None  # alive
            metrics = await scrape(int(env["FIELDTALLY_METRICS_PORT"]))
            assert metrics[("fieldtally_store_degraded", ())] == 1
            assert metrics[("fieldtally_store_degraded_since_seconds", ())] > 0
            facts = await status(tmp_path, env)
            assert facts["degraded"] is True and facts["degraded_since"]
            assert facts["exit"] == 1
            if kind is not None:
                assert facts["fault"] == kind
            acknowledged_during = acknowledged(sandbox, token, burst)
            assert len(acknowledged_during) < CHIEFS * ALL_REPORTS  # the fault came mid-burst
            await repair()
            await admin_told(sandbox, token, OUTAGE_ENDED, burst.since)
            export = await answered_and_exported(sandbox, token, burst)
            assert bot.returncode is None
            assert (await status(tmp_path, env))["degraded"] is False
            metrics = await scrape(int(env["FIELDTALLY_METRICS_PORT"]))
            assert metrics[("fieldtally_store_degraded", ())] == 0
        finally:
            await stop_bot(bot)
    counts = answers_per_message(sandbox, token, burst)
    twice = [
        (r.seq, r.chat_id, r.text)
        for r in sandbox.outgoing(token)
        if counts.get((r.chat_id, (r.reply_parameters or {}).get("message_id")), 0) > 1
    ]
    assert twice == []  # every report answered once …
    assert len(counts) == CHIEFS * ALL_REPORTS  # … and none left unanswered
    check_export_and_store(export, stored_rows(), acknowledged(sandbox, token, burst))
    admin_texts = [r.text or "" for r in sandbox.outgoing(token, ADMIN_ID)]
    assert sum(OUTAGE_STARTED in t for t in admin_texts) == 1
    assert sum(OUTAGE_ENDED in t for t in admin_texts) == 1


def check_export_and_store(
    export: OutgoingRecord, stored: list[tuple[int, int]], acknowledged: set[tuple[int, int]]
) -> None:
    """Each area ends at its last count, each report is stored exactly once, and the
    reports stored are exactly those acknowledged ✅."""
    assert export.document is not None
    rows = {
        r["code"]: r
        for r in csv.DictReader(io.StringIO(export.document.content.decode("utf-8-sig")))
    }
    assert all(rows[f"A{n:03d}"]["voted"] == str(100 * ALL_REPORTS) for n in range(CHIEFS))
    assert rows["P"]["voted"] == str(CHIEFS * 100 * ALL_REPORTS)
    assert len(stored) == len(set(stored)) == CHIEFS * ALL_REPORTS  # nothing twice
    reports_acknowledged = {(chat, message) for chat, message in acknowledged if chat != ADMIN_ID}
    assert set(stored) == reports_acknowledged  # export = what was acknowledged


def sqlite_rows(database: Path) -> StoredRows:
    def rows() -> list[tuple[int, int]]:
        with sqlite3.connect(database) as db:
            return [tuple(r) for r in db.execute(TELEGRAM_ORIGINS)]

    return rows


def postgres_rows(url: str) -> StoredRows:
    def rows() -> list[tuple[int, int]]:
        with psycopg.connect(url) as db:
            return [(r[0], r[1]) for r in db.execute(TELEGRAM_ORIGINS)]

    return rows


# -- SQLite ------------------------------------------------------------------------------------


async def test_sqlite_locked_by_another_process_longer_than_the_busy_timeout(
    tmp_path: Path,
) -> None:
    database = tmp_path / "cli.db"
    script = (
        "import sqlite3, sys\n"
        "c = sqlite3.connect(sys.argv[1], timeout=60, isolation_level=None)\n"
        "c.execute('BEGIN EXCLUSIVE'); print('locked', flush=True)\n"
        "sys.stdin.read(); c.execute('COMMIT')\n"
    )
    holders: list[asyncio.subprocess.Process] = []

    async def lock() -> None:
        holder = await asyncio.create_subprocess_exec(
            sys.executable, "-c", script, str(database),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        holders.append(holder)
        assert holder.stdout is not None
        assert (await holder.stdout.readline()).strip() == b"locked"

    async def unlock() -> None:
        [holder] = holders
        assert holder.stdin is not None
        holder.stdin.close()
        assert await holder.wait() == 0

    env = {"FIELDTALLY_DB": str(database)}
    await through_a_fault(tmp_path, env, sqlite_rows(database), lock, unlock, "locked")


def _mount_small_disk(folder: Path) -> str | None:
    """Mount a 48 MB tmpfs on `folder`; None, or why it cannot be done here."""
    folder.mkdir()
    if os.geteuid() != 0:
        return "mounting a small tmpfs needs root"
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=48m", "tmpfs", str(folder)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    return None if done.returncode == 0 else f"mount is not allowed here: {done.stderr.strip()}"


async def test_sqlite_on_a_full_disk(tmp_path: Path) -> None:
    disk = tmp_path / "disk"
    why_not = _mount_small_disk(disk)
    if why_not is not None:
        pytest.skip(why_not)
    database = disk / "fieldtally.db"
    filler = disk / "filler"

    def fill_every_byte() -> None:
        # Every last byte: the bot must refuse new work, not crash, and not corrupt the file.
        # Unbuffered, and the error caught outside the file: a buffered file's close would
        # try to flush what the full disk refused and raise again.
        with contextlib.suppress(OSError), filler.open("wb", buffering=0) as out:
            while True:
                out.write(b"\0" * 65536)

    async def fill() -> None:
        # In a thread: the sandbox answering the bot runs on this event loop, and a loop
        # busy writing 48 MB would leave the bot's sends unanswered (a timed-out send is
        # sent again: Telegram has no idempotency key).
        await asyncio.to_thread(fill_every_byte)

    async def make_room() -> None:
        filler.unlink()

    try:
        env = {"FIELDTALLY_DB": str(database)}
        await through_a_fault(tmp_path, env, sqlite_rows(database), fill, make_room, "disk_full")
        with sqlite3.connect(database) as db:
            assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        await asyncio.to_thread(subprocess.run, ["umount", "-l", str(disk)], check=False)


# -- PostgreSQL ----------------------------------------------------------------------------------


@pytest.fixture
def own_postgres() -> Iterator[PostgresServer]:
    """A server of the test's own, to crash and restart (not the session's shared one)."""
    binaries = find_binaries()
    if binaries is None:
        pytest.skip(MISSING)
    server = PostgresServer(binaries)
    server.start()
    try:
        yield server
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):
            server.crash()
        server.stop_and_remove()


async def _postgres_outage(
    tmp_path: Path, server: PostgresServer, fault: Callable[[], None], kind: str | None
) -> None:
    url = new_database(server.admin_url)

    async def cause() -> None:
        await asyncio.to_thread(fault)

    async def repair() -> None:
        await asyncio.to_thread(server.start_again)

    env = {"FIELDTALLY_DB": url}
    await through_a_fault(tmp_path, env, postgres_rows(url), cause, repair, kind)


async def test_postgres_killed_mid_burst(tmp_path: Path, own_postgres: PostgresServer) -> None:
    await _postgres_outage(tmp_path, own_postgres, own_postgres.crash, None)


async def test_postgres_restarted_mid_burst(tmp_path: Path, own_postgres: PostgresServer) -> None:
    await _postgres_outage(tmp_path, own_postgres, own_postgres.stop_fast, None)


async def test_postgres_table_locked_longer_than_the_pool_timeout(
    tmp_path: Path, own_postgres: PostgresServer
) -> None:
    url = new_database(own_postgres.admin_url)
    holder: list[psycopg.AsyncConnection[Any]] = []

    async def lock() -> None:
        connection = await psycopg.AsyncConnection.connect(url)
        await connection.execute("LOCK TABLE people IN ACCESS EXCLUSIVE MODE")
        holder.append(connection)  # held until repair: the sender lookups wait, then time out

    async def unlock() -> None:
        await holder[0].commit()
        await holder[0].close()

    env = {"FIELDTALLY_DB": url}
    await through_a_fault(tmp_path, env, postgres_rows(url), lock, unlock, "locked")


async def test_stopped_during_an_outage_and_restarted_answers_each_report_once(
    tmp_path: Path,
) -> None:
    """SIGTERM while the database is locked ends the bot promptly; what it had answered but
    could not mark done is not answered again after the restart, and what it had not
    handled is handled then."""
    database = tmp_path / "cli.db"
    connection = sqlite3.connect(
        database, timeout=60, isolation_level=None, check_same_thread=False
    )
    async with BotApiSandbox() as sandbox:
        token = sandbox.create_bot()
        env = run_env(tmp_path, sandbox, token)
        bot = await start_bot(env, tmp_path)
        try:
            burst = await send_burst(sandbox, token)
            await sandbox.wait_for(token, CHIEFS, since=burst.since, timeout=60)
            await asyncio.to_thread(connection.execute, "BEGIN EXCLUSIVE")
            send_wave(sandbox, token, burst)  # met by the bot whatever it had done of the burst
            await admin_told(sandbox, token, OUTAGE_STARTED, burst.since)
            loop = asyncio.get_running_loop()
            asked = loop.time()
            bot.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(bot.wait(), timeout=60) == 0
            assert loop.time() - asked < 30  # the contract says 10 s; this guard has slack
            connection.execute("COMMIT")
            bot = await start_bot(env, tmp_path)
            export = await answered_and_exported(sandbox, token, burst)
            await admin_told(sandbox, token, OUTAGE_ENDED, burst.since)  # by the new process
        finally:
            connection.close()
            await stop_bot(bot)
    counts = answers_per_message(sandbox, token, burst)
    assert len(counts) == CHIEFS * ALL_REPORTS and set(counts.values()) == {1}  # once each
    check_export_and_store(export, sqlite_rows(database)(), acknowledged(sandbox, token, burst))
    admin_texts = [r.text or "" for r in sandbox.outgoing(token, ADMIN_ID)]
    assert sum(OUTAGE_STARTED in t for t in admin_texts) == 1
    assert sum(OUTAGE_ENDED in t for t in admin_texts) == 1
