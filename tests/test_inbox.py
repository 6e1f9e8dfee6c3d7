"""The inbox commits stores that arrive together in one transaction (a webhook brings updates
one request at a time, many at once), and each store returns only after its commit."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from bot.messaging.inbox import Inbox
from storage.database import Database

BOT = "telegram:42"


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    db = await Database.open(tmp_path / "inbox.db")
    try:
        yield db
    finally:
        await db.close()


def count_writes(database: Database, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    writes: list[int] = []
    real = database.write

    async def counting(work: Callable[[Any], Any]) -> Any:
        writes.append(1)
        return await real(work)

    monkeypatch.setattr(database, "write", counting)
    return writes


async def test_concurrent_stores_share_a_commit(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    writes = count_writes(database, monkeypatch)
    inbox = Inbox(database, BOT)
    await asyncio.gather(
        *(inbox.store([(str(n), f'{{"n": {n}}}')], cursor=str(n + 1)) for n in range(1, 51))
    )
    # All fifty were queued before the writer got its turn: one transaction, not fifty.
    assert len(writes) == 1
    pending = await inbox.pending()
    assert [event_id for event_id, _ in pending] == [str(n) for n in range(1, 51)]
    assert await inbox.cursor() == "51"  # the last cursor given
    assert await Inbox(database, "zalo:other").pending() == []  # one inbox per bot


async def test_a_failed_commit_fails_every_store_in_it(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def failing(work: Callable[[Any], Any]) -> Any:
        raise OSError("disk full")

    monkeypatch.setattr(database, "write", failing)
    inbox = Inbox(database, BOT)
    results = await asyncio.gather(
        *(inbox.store([(str(n), "{}")]) for n in range(1, 4)), return_exceptions=True
    )
    assert all(isinstance(r, OSError) for r in results)
    monkeypatch.undo()
    assert await inbox.pending() == []
