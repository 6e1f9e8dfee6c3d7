"""The bot process's one HTTP server, over real HTTP on loopback: every feature mounted on it
answers on the same port, an unknown path is 404, the body limit holds for every route, a
path cannot be mounted twice, and a bot with nothing to mount opens no port."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from aiohttp import web

from handlers.http_server import MAX_BODY_BYTES, HttpServer
from sandbox import BotApiSandbox
from tests.harness import PATIENCE, free_port, make_run


async def echo_length(request: web.Request) -> web.Response:
    body = await request.read()
    return web.Response(text=f"got {len(body)}")


async def hello(request: web.Request) -> web.Response:
    return web.Response(text="hello")


def feature_routes() -> web.RouteTableDef:
    routes = web.RouteTableDef()
    routes.get("/dash/hello")(hello)
    return routes


@pytest.fixture
async def server() -> AsyncIterator[HttpServer]:
    one = HttpServer([("127.0.0.1", 0)])
    one.mount("uploads", [web.post("/sms/webhook", echo_length)])
    one.mount("dashboard", feature_routes())  # a RouteTableDef, as a later feature would
    await one.start()
    try:
        yield one
    finally:
        await one.stop()


def base(server: HttpServer, which: int = 0) -> str:
    host, port = server.addresses[which]
    return f"http://{host}:{port}"


async def test_every_mounted_feature_answers_on_the_one_port(server: HttpServer) -> None:
    assert server.mounted == ("uploads", "dashboard")
    [(_, port)] = server.addresses
    assert port > 0  # the real port, asked for as 0
    async with httpx.AsyncClient(base_url=base(server), timeout=PATIENCE) as client:
        assert (await client.get("/dash/hello")).text == "hello"
        assert (await client.post("/sms/webhook", content=b"abc")).text == "got 3"
        assert (await client.get("/healthz")).status_code == 200
        assert (await client.get("/nothing/here")).status_code == 404
        assert (await client.get("/sms/webhook")).status_code == 405  # POST only


async def test_the_body_limit_applies_to_every_route(server: HttpServer) -> None:
    async with httpx.AsyncClient(base_url=base(server), timeout=PATIENCE) as client:
        fits = await client.post("/sms/webhook", content=b"x" * MAX_BODY_BYTES)
        assert fits.text == f"got {MAX_BODY_BYTES}"
        too_big = await client.post("/sms/webhook", content=b"x" * (MAX_BODY_BYTES + 1))
        assert too_big.status_code == 413


async def test_a_path_is_mounted_once_and_only_before_the_start(server: HttpServer) -> None:
    fresh = HttpServer([("127.0.0.1", 0)])
    fresh.mount("one", [web.get("/metrics", hello)])
    with pytest.raises(ValueError, match="GET /metrics is mounted twice"):
        fresh.mount("two", [web.get("/metrics", hello)])
    with pytest.raises(ValueError, match="GET /healthz is mounted twice"):
        fresh.mount("three", [web.get("/healthz", hello)])
    with pytest.raises(RuntimeError, match="before the server starts"):
        server.mount("late", [web.get("/late", hello)])


async def test_one_server_may_listen_on_two_ports_with_the_same_routes() -> None:
    """The deprecated FIELDTALLY_METRICS_PORT, when it is not the server's port."""
    both = HttpServer([("127.0.0.1", 0), ("127.0.0.1", 0)])
    both.mount("metrics", [web.get("/metrics", hello)])
    await both.start()
    try:
        assert len({port for _, port in both.addresses}) == 2
        async with httpx.AsyncClient(timeout=PATIENCE) as client:
            for which in (0, 1):
                assert (await client.get(base(both, which) + "/metrics")).text == "hello"
    finally:
        await both.stop()
    await both.stop()  # twice is harmless


async def refused(port: int) -> bool:
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
    except ConnectionRefusedError:
        return True
    writer.close()
    await writer.wait_closed()
    return False


async def test_a_port_in_use_fails_the_start_and_leaves_nothing_open() -> None:
    first = HttpServer([("127.0.0.1", 0)])
    await first.start()
    try:
        taken = first.addresses[0]
        free = free_port()
        second = HttpServer([("127.0.0.1", free), taken])
        with pytest.raises(OSError):
            await second.start()
        assert await refused(free)  # the listener it had opened is closed again
    finally:
        await first.stop()


async def test_a_polling_bot_without_metrics_opens_no_port(
    sandbox: BotApiSandbox, tmp_path: Path
) -> None:
    port = free_port()
    token = sandbox.create_bot()
    polling = make_run(sandbox, token, tmp_path / "poll.db", FIELDTALLY_HTTP_PORT=str(port))
    await polling.start()
    try:
        assert await refused(port)
    finally:
        await polling.stop()
    # The same bot with metrics: the server runs, /metrics and /healthz on that port.
    metered = make_run(
        sandbox, token, tmp_path / "poll.db", FIELDTALLY_HTTP_PORT=str(port), FIELDTALLY_METRICS="1"
    )
    await metered.start()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=PATIENCE) as c:
            assert (await c.get("/healthz")).status_code == 200
            assert "fieldtally_updates_handled_total" in (await c.get("/metrics")).text
            assert (await c.post("/telegram/hook", content=b"{}")).status_code == 404  # polling
    finally:
        await metered.stop()
