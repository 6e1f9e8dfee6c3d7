"""Shared fixtures: a sandbox Bot API server on loopback and the real bot running against it."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from sandbox import BotApiSandbox
from tests.harness import BotRun, make_run
from tests.postgres_server import MISSING, PostgresServer, find_binaries, new_database

# Property tests judge answers, never speed: no per-example deadline and no health check on
# how fast examples are made, which a machine busy with other work would fail at random.
settings.register_profile("fieldtally", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("fieldtally")


@pytest.fixture
async def sandbox() -> AsyncIterator[BotApiSandbox]:
    async with BotApiSandbox() as server:
        yield server


@pytest.fixture
def db_target(tmp_path: Path, request: pytest.FixtureRequest) -> Path | str:
    """The database of an end-to-end test's bot: a SQLite file, or with
    FIELDTALLY_TEST_BACKEND=postgresql a new PostgreSQL database (the same tests on it)."""
    if os.environ.get("FIELDTALLY_TEST_BACKEND") == "postgresql":
        url: str = request.getfixturevalue("postgres_url")
        return url
    return tmp_path / "fieldtally.db"


@pytest.fixture
async def bot(sandbox: BotApiSandbox, db_target: Path | str) -> AsyncIterator[BotRun]:
    token = sandbox.create_bot(username="fieldtally_bot")
    run = make_run(sandbox, token, db_target)
    await run.start()
    try:
        yield run
    finally:
        await run.stop()


@pytest.fixture(scope="session")
def postgres_admin_url() -> Iterator[str]:
    """A PostgreSQL server for the run: FIELDTALLY_TEST_POSTGRES_URL, or one started here."""
    given = os.environ.get("FIELDTALLY_TEST_POSTGRES_URL")
    if given:
        yield given
        return
    binaries = find_binaries()
    if binaries is None:
        pytest.skip(MISSING)
    server = PostgresServer(binaries)
    server.start()
    try:
        yield server.admin_url
    finally:
        server.stop()


@pytest.fixture
def postgres_url(postgres_admin_url: str) -> str:
    """A new, empty database on the test server."""
    return new_database(postgres_admin_url)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_target(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where a store lives: a SQLite file, then a PostgreSQL database (same tests, both)."""
    if request.param == "sqlite":
        return str(tmp_path / "store.db")
    url: str = request.getfixturevalue("postgres_url")
    return url
