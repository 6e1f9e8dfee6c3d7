"""The webhook under abuse: a body nested 100,000 deep or too large is refused (no
traceback), a client that sends its headers or body too slowly is cut off, and more
connections than the cap are refused at once while the bot keeps serving."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

import handlers.http_server
import handlers.telegram.webhook
from sandbox import BotApiSandbox
from tests.harness import (
    WEBHOOK_PATH,
    WEBHOOK_SECRET,
    BotRun,
    free_port,
    make_run,
    webhook_env,
)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
CAP = 20


@pytest.fixture
async def guarded(
    sandbox: BotApiSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[BotRun]:
    """The real bot in webhook mode, with short limits so the tests need not wait long."""
    monkeypatch.setattr(handlers.http_server, "MAX_CONNECTIONS", CAP)
    monkeypatch.setattr(handlers.http_server, "HEADER_TIMEOUT", 0.5)
    monkeypatch.setattr(handlers.telegram.webhook, "BODY_TIMEOUT", 0.5)
    token = sandbox.create_bot(username="fieldtally_bot")
    extra = webhook_env(sandbox, free_port())
    run = make_run(sandbox, token, tmp_path / "hook.db", **extra)
    await run.start()
    try:
        yield run
    finally:
        await run.stop()


async def post(bot: BotRun, body: bytes) -> int:
    async with httpx.AsyncClient() as client:
        answer = await client.post(
            f"http://127.0.0.1:{bot.http_port}{WEBHOOK_PATH}",
            content=body,
            headers={SECRET_HEADER: WEBHOOK_SECRET, "Content-Type": "application/json"},
            timeout=30,
        )
    return answer.status_code


async def healthy(bot: BotRun) -> bool:
    try:
        async with httpx.AsyncClient() as client:
            answer = await client.get(f"http://127.0.0.1:{bot.http_port}/healthz", timeout=5)
    except httpx.TransportError:
        return False
    return answer.status_code == 200


async def test_deep_and_huge_bodies_are_refused_cleanly(
    guarded: BotRun, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    deep = b'{"update_id": 5, "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    assert await post(guarded, deep) == 400
    assert await post(guarded, b'{"update_id": 6, "x": "' + b"a" * 2_000_000 + b'"}') == 400
    assert await healthy(guarded)
    tracebacks = [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    assert tracebacks == []


async def open_raw(bot: BotRun) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", bot.http_port)


async def test_slow_headers_and_slow_bodies_are_cut_off(guarded: BotRun) -> None:
    reader, writer = await open_raw(guarded)
    writer.write(f"POST {WEBHOOK_PATH} HTTP/1.1\r\nHost: x\r\n".encode())  # never finished
    assert await asyncio.wait_for(reader.read(), timeout=30) == b""  # closed by the bot
    writer.close()

    reader, writer = await open_raw(guarded)
    head = (
        f"POST {WEBHOOK_PATH} HTTP/1.1\r\nHost: x\r\n{SECRET_HEADER}: {WEBHOOK_SECRET}\r\n"
        "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
    )
    writer.write(head.encode() + b'{"update_id": 7')  # the rest never comes
    status = await asyncio.wait_for(reader.readline(), timeout=30)
    assert status.split()[1] == b"400"
    writer.close()


async def test_more_connections_than_the_cap_are_refused_and_service_resumes(
    guarded: BotRun, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(handlers.http_server, "HEADER_TIMEOUT", 60.0)  # idle ones stay
    held = []
    for _ in range(CAP):
        reader, writer = await open_raw(guarded)
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")  # kept alive after
        assert (await reader.readline()).split()[1] == b"200"
        held.append((reader, writer))
    reader, writer = await open_raw(guarded)  # one too many: closed at once
    assert await asyncio.wait_for(reader.read(), timeout=30) == b""
    writer.close()
    for _, writer in held:
        writer.close()
    # The bot counts the closed ones out as their close reaches it: wait for that event.
    while not await healthy(guarded):  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    assert await post(guarded, b'{"update_id": 8}') == 200
