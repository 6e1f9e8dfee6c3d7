"""Shared fixtures: a sandbox Bot API server on loopback and the real bot running against it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from sandbox import BotApiSandbox
from tests.harness import BotRun, make_settings


@pytest.fixture
async def sandbox() -> AsyncIterator[BotApiSandbox]:
    async with BotApiSandbox() as server:
        yield server


@pytest.fixture
async def bot(sandbox: BotApiSandbox, tmp_path: Path) -> AsyncIterator[BotRun]:
    token = sandbox.create_bot(username="fieldtally_bot")
    run = BotRun(sandbox, token, make_settings(sandbox, token, tmp_path / "fieldtally.db"))
    await run.start()
    try:
        yield run
    finally:
        await run.stop()
