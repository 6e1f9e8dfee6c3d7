"""The bot process's one HTTP server (aiohttp): every feature mounts its routes on it.

Mounted today: the Telegram webhook (at the path of its public URL), `/metrics`, and
`GET /healthz` (200 while the bot's event loop is alive). Later channels add theirs
(`/zalo/{bot id}`, `/sms/webhook`, `/media/...`, the dashboard's `/d/...` and
`/static/...`) with `mount`, without changing this module. It runs when something is
mounted: a plain long-polling run opens no port.
Nginx in front terminates TLS and forwards the public paths (`FIELDTALLY_PUBLIC_URL`).

Guarded against slow and many clients (aiohttp has no header timeout of its own): at most
`MAX_CONNECTIONS` connections are open at once (one more is closed at once, so the process
never runs out of file descriptors and keeps serving those it has), a connection must send
its first request's headers within `HEADER_TIMEOUT` seconds, and an idle keep-alive
connection is closed after `KEEPALIVE_TIMEOUT`. Handlers bound their body reads themselves.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Protocol, runtime_checkable

from aiohttp import web

log = logging.getLogger(__name__)

# On stop, requests still being answered get this long; then they are cancelled. An update
# whose 200 was not sent is sent again by Telegram, and one already stored is in the inbox.
SHUTDOWN_TIMEOUT = 5.0
MAX_CONNECTIONS = 256  # well under systemd's default of 1,024 open files
HEADER_TIMEOUT = 10.0  # seconds for a new connection's first request headers
KEEPALIVE_TIMEOUT = 30.0  # seconds an idle keep-alive connection stays open
# The largest body any route accepts (a Telegram update is a few KB, nothing sends near
# this); a larger one is refused (413 from aiohttp, or the route's own 400).
MAX_BODY_BYTES = 1024 * 1024


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


PrepareHook = Callable[[web.Request, web.StreamResponse], Awaitable[None]]


@runtime_checkable
class ServesHttp(Protocol):
    """A channel (or feature) that takes requests on the process's HTTP server: a webhook."""

    def mount(self, server: HttpServer) -> None: ...


class HttpServer:
    """One aiohttp application, listening on one or more local addresses.

    Features add their routes with `mount` before `start`; each `mount` names the feature
    (for the log line and `mounted`). A path mounted twice is refused at once."""

    def __init__(
        self,
        binds: Iterable[tuple[str, int]],
        *,
        max_connections: int | None = None,
        header_timeout: float | None = None,
    ) -> None:
        self._binds = tuple(binds)
        if not self._binds:
            raise ValueError("the HTTP server needs an address to listen on")
        self._app = web.Application(client_max_size=MAX_BODY_BYTES)
        self._app.router.add_get("/healthz", _healthy)
        self._features: list[str] = []
        self._paths: set[tuple[str, str]] = {("GET", "/healthz")}
        self._limit = max_connections
        self._header_timeout = header_timeout
        self._runner: web.AppRunner | None = None
        self._listeners: list[asyncio.Server] = []

    def mount(
        self,
        feature: str,
        routes: Iterable[web.AbstractRouteDef],
        *,
        on_prepare: PrepareHook | None = None,
    ) -> None:
        """Add a feature's routes (a `web.RouteTableDef`, or `web.post(...)`-made defs).

        `on_prepare(request, response)` runs for every response of the server just before
        its headers are sent (streams and aiohttp's own 404 and 405 included): a feature
        sets its headers there for the paths it owns."""
        if self._runner is not None:
            raise RuntimeError("routes are mounted before the server starts")
        routes = list(routes)
        for route in routes:
            if isinstance(route, web.RouteDef):
                key = (route.method, route.path)
                if key in self._paths:
                    raise ValueError(f"{route.method} {route.path} is mounted twice")
                self._paths.add(key)
        self._app.router.add_routes(routes)
        if on_prepare is not None:
            self._app.on_response_prepare.append(on_prepare)
        self._features.append(feature)

    @property
    def mounted(self) -> tuple[str, ...]:
        """The features mounted, in order (`/healthz` is always there)."""
        return tuple(self._features)

    @property
    def addresses(self) -> tuple[tuple[str, int], ...]:
        """Where it listens: the bound host and port of every listener (the real port when
        0 was asked for), or the configured addresses before `start`."""
        if not self._listeners:
            return self._binds
        found: list[tuple[str, int]] = []
        for listener in self._listeners:
            for sock in listener.sockets:
                host, port = sock.getsockname()[:2]
                found.append((str(host), int(port)))
        return tuple(found)

    async def start(self) -> None:
        # No access log: it would log every update (and any scanner's requests).
        runner = web.AppRunner(
            self._app, access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT,
            keepalive_timeout=KEEPALIVE_TIMEOUT,
        )  # fmt: skip
        await runner.setup()
        assert runner.server is not None
        # Read at start, so a test (or a deployment) can change the module's limits.
        limit = MAX_CONNECTIONS if self._limit is None else self._limit
        header_timeout = HEADER_TIMEOUT if self._header_timeout is None else self._header_timeout
        guard = _ConnectionGuard(runner.server, "http server", limit, header_timeout)
        loop = asyncio.get_running_loop()
        self._runner = runner
        try:
            for host, port in self._binds:
                listener = await loop.create_server(guard, host, port, reuse_address=True)
                self._listeners.append(listener)
        except BaseException:
            await self.stop()
            raise
        where = ", ".join(f"{host}:{port}" for host, port in self.addresses)
        features = ", ".join(self._features) or "nothing"
        log.info("http server listening on %s (%s, /healthz)", where, features)

    async def stop(self) -> None:
        """Stop listening and finish (or cancel) the requests in progress. Safe to call twice."""
        listeners, self._listeners = self._listeners, []
        for listener in listeners:
            listener.close()
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
