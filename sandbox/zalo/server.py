"""``ZaloSandbox``: a fake Zalo Bot Platform (bot-api.zaloplatforms.com) on loopback, assembled
from its parts (`state.py`, `faults.py`, `webhooks.py`, `api.py`, `driver.py`). This module
starts and stops the HTTP server; everything runs on the caller's event loop.
"""

from __future__ import annotations

import asyncio
from types import TracebackType

import aiohttp
from aiohttp import web

from sandbox.zalo.driver import DEFAULT_WAIT, ZaloDriver

__all__ = ["DEFAULT_WAIT", "ZaloSandbox"]


class ZaloSandbox(ZaloDriver):
    """The fake platform plus the test-side controls. Typical use::

    async with ZaloSandbox() as zs:
        token, bot_id = zs.add_bot("bot.fieldtally")
        # the adapter under test: ZALO_API_URL=zs.url, ZALO_BOT_TOKEN=token
        zs.user_says(token, "lan", "dk 7KQ2M9XA")
        [reply] = await zs.messages_to(token, "lan")
    """

    async def start(self) -> None:
        """Start serving; afterwards ``url`` is valid."""
        if self._runner is not None:
            raise RuntimeError("sandbox already started")
        app = web.Application(client_max_size=2 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        runner = web.AppRunner(app, shutdown_timeout=2.0, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self._requested_port)
        await site.start()
        self._runner = runner
        self._closing = asyncio.Event()
        self._port = int(runner.addresses[0][1])
        self._http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))

    async def stop(self) -> None:
        """Stop serving: long polls answer at once, holds open, deliveries stop. Safe twice."""
        if self._runner is None:
            return
        assert self._closing is not None
        self._closing.set()
        for hold in self._holds:
            hold.release()
        self._calls_signal.notify()
        for bot in self._bots.values():
            bot.event_signal.notify()
            bot.sent_signal.notify()
            bot.deliveries_signal.notify()
            bot.taken_signal.notify()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        runner, self._runner = self._runner, None
        await runner.cleanup()
        if self._http is not None:
            await self._http.close()
            self._http = None

    async def __aenter__(self) -> ZaloSandbox:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("sandbox not started")
        return self._port

    @property
    def url(self) -> str:
        """The API root, e.g. ``http://127.0.0.1:8082``: what ``ZALO_API_URL`` should be."""
        return f"http://{self.host}:{self.port}"
