"""A small aiohttp server on one local address, for the webhook endpoint and the metrics page.

Each also answers `GET /healthz` with 200 while the bot's event loop is alive.
"""

from __future__ import annotations

import logging

from aiohttp import web

log = logging.getLogger(__name__)

# On stop, requests still being answered get this long; then they are cancelled. An update
# whose 200 was not sent is sent again by Telegram, and one already stored is in the inbox.
SHUTDOWN_TIMEOUT = 5.0


async def _healthy(request: web.Request) -> web.Response:
    return web.Response(text="ok\n")


class LocalServer:
    def __init__(self, app: web.Application, host: str, port: int, name: str) -> None:
        app.router.add_get("/healthz", _healthy)
        self._app = app
        self._host = host
        self._port = port
        self._name = name
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        # No access log: it would log every update (and any scanner's requests).
        runner = web.AppRunner(self._app, access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT)
        await runner.setup()
        try:
            await web.TCPSite(runner, self._host, self._port).start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        log.info("%s listening on %s:%d", self._name, self._host, self._port)

    async def stop(self) -> None:
        """Stop listening and finish (or cancel) the requests in progress. Safe to call twice."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
