"""Two bot processes, each with its own token, on one PostgreSQL database: the chiefs of one
commune report through either bot at once, some updates arrive twice, and the running
totals come out exact; the group following the commune is told once that it finished."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

import psycopg

from sandbox import BotApiSandbox
from storage.database import Database
from tests.harness import ADMIN_ID, PATIENCE, at
from tests.steps_check import assert_steps_kept
from tests.test_cli import fieldtally, run_env

AREAS = 40  # all in one commune: every report of either bot updates the same totals rows
ROUNDS = 4  # turnout reports per area before its completion report
GROUP = -100777


def unit_file() -> bytes:
    lines = ["code,parent_code,kind,name,registered_voters,staff,contact_phones", "P,,tỉnh,P,,,"]
    lines.append("C,P,xã,Xã C,,,")
    lines += [f"A{n:02d},C,khu vực bỏ phiếu,KV {n},1000,12,09140{n:05d}" for n in range(AREAS)]
    return "\n".join(lines).encode()


async def start_bot(env: dict[str, str], cwd: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "fieldtally", "run", cwd=cwd, env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip


async def stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), timeout=PATIENCE)


async def test_two_processes_with_their_own_tokens_keep_exact_totals(
    postgres_url: str, tmp_path: Path
) -> None:
    units = tmp_path / "units.csv"
    units.write_bytes(unit_file())
    imported = fieldtally(tmp_path, "units", "import", str(units), FIELDTALLY_DB=postgres_url)
    assert imported.returncode == 0, imported.stdout + imported.stderr

    async with BotApiSandbox() as sandbox:
        tokens = [sandbox.create_bot(username=f"tinh_{i}_bot") for i in range(2)]
        processes = []
        for i, token in enumerate(tokens):
            folder = tmp_path / f"bot{i}"
            folder.mkdir()
            env = {**run_env(folder, sandbox, token), "FIELDTALLY_DB": postgres_url}
            processes.append(await start_bot(env, folder))
        try:
            admin = sandbox.make_user(ADMIN_ID, "Quản trị")
            group = sandbox.make_group(GROUP, "Tổ giúp việc xã C")
            sandbox.send_text(tokens[0], admin, "/theodoi C", chat_id=group["id"])
            await sandbox.wait_for(tokens[0], 1, chat_id=GROUP, timeout=PATIENCE)

            # Area n's chief talks to bot n % 2: both bots store reports of commune C.
            chiefs = [sandbox.make_user(700 + n, f"Tổ trưởng {n}") for n in range(AREAS)]
            for n, chief in enumerate(chiefs):
                sandbox.send_contact(tokens[n % 2], chief, f"09140{n:05d}")
            for n, chief in enumerate(chiefs):
                await sandbox.wait_for(tokens[n % 2], 1, chat_id=chief.id, timeout=PATIENCE)
            since = [sandbox.outgoing(token)[-1].seq + 1 for token in tokens]

            last_count = {n: 0 for n in range(AREAS)}
            for step in range(ROUNDS):
                for n, chief in enumerate(chiefs):
                    last_count[n] = 100 * (step + 1) + n
                    text = f"{last_count[n]}/1000 {8 + 2 * step}h"
                    sandbox.send_text(tokens[n % 2], chief, text, date=at(8 + 2 * step))
            # Telegram redelivers what it thinks was not received: a second copy of some
            # updates, under new update ids, must not count twice.
            for token in tokens:
                for update in sandbox.history(token)[-10:]:
                    sandbox.redeliver(token, update["update_id"])
            for n, chief in enumerate(chiefs):
                sandbox.send_text(tokens[n % 2], chief, "xong 16h", date=at(16, 5))

            for n, chief in enumerate(chiefs):  # every chief's completion is acknowledged
                await sandbox.wait_for(
                    tokens[n % 2],
                    lambda r: (r.text or "").startswith("✅") and "16:00" in (r.text or ""),
                    chat_id=chief.id, since=since[n % 2], timeout=PATIENCE,
                )  # fmt: skip
            notices = await sandbox.wait_for(
                tokens[0],
                lambda r: (r.text or "").startswith("🎉"),
                chat_id=GROUP,
                timeout=PATIENCE,
            )
            answers = [
                r for i, token in enumerate(tokens) for r in sandbox.outgoing(token)
                if r.seq >= since[i] and r.chat_id != GROUP
            ]  # fmt: skip
        finally:
            for process in processes:
                await stop(process)
        assert [p.returncode for p in processes] == [0, 0]

    # every report sent, once each, was answered ✅ (a redelivered copy repeats its answer)
    assert len(answers) >= AREAS * (ROUNDS + 1)
    assert all((r.text or "").startswith("✅") for r in answers)
    assert len(notices) == 1
    with psycopg.connect(postgres_url) as db:
        stored = db.execute("SELECT count(*) FROM reports").fetchone()
        twice = db.execute(
            "SELECT count(*) FROM (SELECT 1 FROM reports GROUP BY bot, chat, message_ref,"
            " line_index HAVING count(*) > 1) AS d"
        ).fetchone()
        totals = {
            row[0]: row[1:]
            for row in db.execute(
                "SELECT code, areas_total, areas_reported, areas_finished, voted,"
                " registered_voters FROM unit_totals WHERE code IN ('C', 'P')"
            )
        }
        bots = db.execute("SELECT count(DISTINCT bot) FROM reports").fetchone()
    assert stored == (AREAS * (ROUNDS + 1),) and twice == (0,) and bots == (2,)
    expected = (AREAS, AREAS, AREAS, sum(last_count.values()), 1000 * AREAS)
    assert totals == {"C": expected, "P": expected}
    # the over-the-day steps both processes added up are the reports' own
    database = await Database.open(postgres_url)
    try:
        assert await assert_steps_kept(database) == (AREAS + 2) * (ROUNDS + 1)
    finally:
        await database.close()
