"""`fieldtally status` with Zalo bots: each bot reachable (getMe), its webhook as Zalo has it
(getWebhookInfo) against the URL it should be, and its messages this month against the
quota; a bot Zalo does not know, or whose webhook is not registered, makes it unhealthy.
Never a token in what it prints."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from fieldtally.cli import main
from sandbox.zalo import ZaloSandbox
from tests.zalo_harness import HOOK_SECRET, Observed, ZaloRun, at, prepare, zalo_identity


@pytest.fixture
async def zs() -> AsyncIterator[ZaloSandbox]:
    async with ZaloSandbox() as sandbox:
        yield sandbox


@pytest.fixture(autouse=True)
def no_settings_from_outside(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith(("FIELDTALLY_", "TELEGRAM_", "ZALO_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


async def status(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], env: dict[str, str]
) -> tuple[int, dict[str, object], str]:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    code = await asyncio.to_thread(main, ["status", "--json"])
    out = capsys.readouterr()
    return code, json.loads(out.out), out.out + out.err


async def test_status_reports_each_zalo_bot(
    zs: ZaloSandbox,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    token, bot_id = zs.add_bot("bot.phalong")
    chief = zalo_identity(bot_id, zs.add_user(token, "chief"))
    db = tmp_path / "status.db"
    await prepare(db, [(chief, "0912345001")])
    run = ZaloRun(zs, db, {"ZALO_BOT_TOKEN": token})
    async with run:
        seen = Observed(run)
        message_id = zs.user_says(token, "chief", "250/320 9h", date=at(10))
        await seen.of(bot_id, message_id)
    env = run.values()
    code, facts, printed = await status(monkeypatch, capsys, env)
    assert code == 0, printed
    [bot] = facts["zalo"]  # type: ignore[misc]
    assert (bot["reachable"], bot["mode"], bot["webhook_registered"]) == (True, "webhook", True)
    assert (bot["sent_this_month"], bot["monthly_quota"], bot["problem"]) == (1, 3000, None)
    assert token.split(":")[1] not in printed and HOOK_SECRET not in printed
    code = await asyncio.to_thread(main, ["status"])
    lines = capsys.readouterr().out.splitlines()
    assert f"zalo bot {bot_id}: reachable, webhook registered, 1/3000 messages this month" in lines

    # The webhook gone (deleted elsewhere): unhealthy, and the line says so.
    assert zs.webhook_url(token) == f"http://127.0.0.1:{run.port}/zalo/{bot_id}"
    await run.channels[0].client.open()
    await run.channels[0].client.delete_webhook()
    await run.channels[0].client.close()
    code, facts, printed = await status(monkeypatch, capsys, env)
    assert code == 1 and "webhook not registered" in str(facts["reason"])

    # A token Zalo does not know: unhealthy, without the token.
    wrong = f"{bot_id}:not-its-secret"
    code, facts, printed = await status(monkeypatch, capsys, {**env, "ZALO_BOT_TOKEN": wrong})
    assert code == 1 and "token rejected" in str(facts["reason"])
    assert "not-its-secret" not in printed
