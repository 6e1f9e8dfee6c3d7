"""A small aiohttp server on one local address, for the webhook endpoint and the metrics page.

Each also answers `GET /healthz` with 200 while the bot's event loop is alive.

Guarded against slow and many clients (aiohttp has no header timeout of its own): at most
`MAX_CONNECTIONS` connections are open at once (one more is closed at once, so the process
never runs out of file descriptors and keeps serving those it has), a connection must send
its first request's headers within `HEADER_TIMEOUT` seconds, and an idle keep-alive
connection is closed after `KEEPALIVE_TIMEOUT`. Handlers bound their body reads themselves.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import web

log = logging.getLogger(__name__)

# On stop, requests still being answered get this long; then they are cancelled. An update
# whose 200 was not sent is sent again by Telegram, and one already stored is in the inbox.
SHUTDOWN_TIMEOUT = 5.0
MAX_CONNECTIONS = 256  # well under systemd's default of 1,024 open files
HEADER_TIMEOUT = 10.0  # seconds for a new connection's first request headers
KEEPALIVE_TIMEOUT = 30.0  # seconds an idle keep-alive connection stays open


async def _healthy(request: web.Request) -> web.Response:
    return web.Response(text="ok\n")


class _Guarded(asyncio.Protocol):
    """aiohttp's protocol for one connection, behind the cap and the header deadline."""

    def __init__(self, guard: _ConnectionGuard) -> None:
        self._guard = guard
        self._inner: asyncio.Protocol | None = None
        self._transport: asyncio.Transport | None = None
        self._deadline: asyncio.TimerHandle | None = None
        self._tail = b""  # the last bytes seen, until the first headers are complete

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        if self._guard.open >= self._guard.limit:
            self._guard.refused += 1
            if self._guard.refused % 100 == 1:
                log.warning("%s: %d connections open, refusing more", self._guard.name,
                            self._guard.open)  # fmt: skip
            transport.abort()
            return
        self._guard.open += 1
        self._inner = self._guard.make()
        self._deadline = asyncio.get_running_loop().call_later(
            self._guard.header_timeout, self._too_slow
        )
        self._inner.connection_made(transport)

    def _too_slow(self) -> None:
        if self._transport is not None:
            self._transport.abort()

    def data_received(self, data: bytes) -> None:
        if self._inner is None:
            return
        if self._deadline is not None:
            self._tail = (self._tail + data)[-(len(data) + 3) :]
            if b"\r\n\r\n" in self._tail:
                self._deadline.cancel()
                self._deadline = None
                self._tail = b""
        self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self._inner.eof_received() if self._inner is not None else None

    def connection_lost(self, exc: Exception | None) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
        if self._inner is not None:
            self._guard.open -= 1
            self._inner.connection_lost(exc)

    def pause_writing(self) -> None:
        if self._inner is not None:
            self._inner.pause_writing()

    def resume_writing(self) -> None:
        if self._inner is not None:
            self._inner.resume_writing()


class _ConnectionGuard:
    def __init__(self, make: Any, name: str, limit: int, header_timeout: float) -> None:
        self.make = make
        self.name = name
        self.limit = limit
        self.header_timeout = header_timeout
        self.open = 0
        self.refused = 0

    def __call__(self) -> _Guarded:
        return _Guarded(self)


class LocalServer:
    def __init__(
        self,
        app: web.Application,
        host: str,
        port: int,
        name: str,
        *,
        max_connections: int | None = None,
        header_timeout: float | None = None,
    ) -> None:
        app.router.add_get("/healthz", _healthy)
        self._app = app
        self._host = host
        self._port = port
        self._name = name
        self._limit = MAX_CONNECTIONS if max_connections is None else max_connections
        self._header_timeout = HEADER_TIMEOUT if header_timeout is None else header_timeout
        self._runner: web.AppRunner | None = None
        self._listener: asyncio.Server | None = None

    async def start(self) -> None:
        # No access log: it would log every update (and any scanner's requests).
        runner = web.AppRunner(
            self._app, access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT,
            keepalive_timeout=KEEPALIVE_TIMEOUT,
        )  # fmt: skip
        await runner.setup()
        assert runner.server is not None
        guard = _ConnectionGuard(runner.server, self._name, self._limit, self._header_timeout)
        try:
            self._listener = await asyncio.get_running_loop().create_server(
                guard, self._host, self._port, reuse_address=True
            )
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        log.info("%s listening on %s:%d", self._name, self._host, self._port)

    async def stop(self) -> None:
        """Stop listening and finish (or cancel) the requests in progress. Safe to call twice."""
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
