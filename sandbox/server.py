"""A fake Telegram Bot API server on loopback: python-telegram-bot talks to it over real HTTP
as if it were api.telegram.org, while tests drive simulated users and read what the bot did.

Point PTB at it with ``base_url=f"{sb.url}/bot"`` and ``base_file_url=f"{sb.url}/file/bot"``.
Everything runs on the caller's event loop; the driver methods (``send_text`` and friends) are
plain functions so tests can call them between awaits.

Updates reach a bot by getUpdates or, after setWebhook, by HTTP POST to its webhook, as on
Telegram. The sandbox never leaves loopback: ``route_webhook`` says where the public https
URL of a webhook is served locally (the part a TLS-terminating proxy plays in production).

``BotApiSandbox`` is assembled here from its parts, one job per module: `state.py` (bots,
users, chats, messages, files, the update queues), `bot_api.py` (the Bot API methods and HTTP
routes), `webhooks.py` (delivering updates to a webhook), `faults.py` (injected faults, held
answers, latency) and `driver.py` (the test-facing API: simulated users, waiting for answers);
`wire.py` decodes requests and encodes answers. This module starts and stops the HTTP server.
"""

from __future__ import annotations

import asyncio
from types import TracebackType

import aiohttp
from aiohttp import web

from sandbox.bot_api import _MAX_UPLOAD, BotApi
from sandbox.driver import DEFAULT_WAIT, Driver
from sandbox.faults import AnswerHold
from sandbox.webhooks import _WEBHOOK_TIMEOUT
from sandbox.wire import ApiError

__all__ = ["DEFAULT_WAIT", "AnswerHold", "ApiError", "BotApiSandbox"]


class BotApiSandbox(Driver, BotApi):
    """Fake Bot API server plus the test-side controls for simulated users and faults.

    Typical use::

        async with BotApiSandbox() as sb:
            token = sb.create_bot(username="fieldtally_bot")
            bot = telegram.Bot(token, base_url=sb.base_url, base_file_url=sb.base_file_url)
            user = sb.make_user(1001, first_name="Lan")
            sb.send_text(token, user, "/start")
            [reply] = await sb.wait_for(token, 1, chat_id=user.id)
    """

    # --- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        """Start serving; afterwards ``url`` is valid."""
        if self._runner is not None:
            raise RuntimeError("sandbox already started")
        app = web.Application(client_max_size=_MAX_UPLOAD + 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_method)
        app.router.add_route("GET", "/file/bot{token}/{path:.+}", self._handle_file)
        # A short shutdown timeout: waiting handlers are woken on stop, so nothing should need
        # the default 60 s, and a stuck test must not hang for a minute.
        runner = web.AppRunner(app, shutdown_timeout=2.0, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self._requested_port)
        await site.start()
        self._runner = runner
        self._closing = asyncio.Event()
        self._port = int(runner.addresses[0][1])
        self._http = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0),  # each webhook's max_connections limits
            timeout=aiohttp.ClientTimeout(total=_WEBHOOK_TIMEOUT),
        )

    async def stop(self) -> None:
        """Stop serving; waiting long polls answer at once. Safe to call twice."""
        if self._runner is None:
            return
        assert self._closing is not None
        self._closing.set()
        for hold in self._holds:
            hold.release()
        for bot in self._bots.values():
            await self._stop_pushing(bot)
            bot.update_signal.notify()
            bot.outgoing_signal.notify()
            bot.calls_signal.notify()
            bot.deliveries_signal.notify()
        runner, self._runner = self._runner, None
        await runner.cleanup()
        if self._http is not None:
            await self._http.close()
            self._http = None

    async def __aenter__(self) -> BotApiSandbox:
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
        """Server root, e.g. ``http://127.0.0.1:8081`` (what TELEGRAM_API_URL should be)."""
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """Value for PTB's ``base_url`` (PTB appends the token)."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        """Value for PTB's ``base_file_url`` (PTB appends the token)."""
        return f"{self.url}/file/bot"
