"""The Telegram channel on the port: python-telegram-bot's Application, fed by the durable
poller or the webhook, and the way the core's messages reach Telegram chats.

`open` starts the Application (menus, and where processes share the database, the renewal of
the inbox's leases), `mount` puts the webhook on the process's HTTP server in webhook mode,
`run` polls or keeps the webhook registered until the bot stops, `send` delivers one message
(pictures uploaded once per push and then sent by Telegram's file id), `close` handles what
is queued and stops.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from telegram import Update
from telegram.error import InvalidToken, NetworkError, TelegramError, TimedOut

from bot.channel import Address, Capabilities
from bot.core import Core
from bot.messaging.content import Content
from bot.messaging.inbox import RENEW_EVERY
from handlers.http_server import HttpServer
from handlers.telegram.application import WEBHOOK_CONNECTIONS, AnyApplication, build_application
from handlers.telegram.callbacks import TelegramCallbacks, Uploads, send_content
from handlers.telegram.identity import telegram_id
from handlers.telegram.menus import set_menus
from handlers.telegram.polling import DurablePoller, UpdateFeed
from handlers.telegram.render import TELEGRAM_CAPABILITIES
from handlers.telegram.settings import TelegramSettings
from handlers.telegram.webhook import webhook_routes

log = logging.getLogger(__name__)

REJECTED_TOKEN = (
    "fieldtally: Telegram rejected the bot token (TELEGRAM_BOT_TOKEN): revoked or mistyped"
)


class TelegramChannel:
    """One Telegram bot (one token), bound to the core it serves."""

    def __init__(
        self,
        core: Core,
        telegram: TelegramSettings,
        stop: asyncio.Event,
        *,
        poll_timeout: float = 10.0,
        sends_per_second: float | None = None,
    ) -> None:
        self.core = core
        self.telegram = telegram
        self._stop = stop
        self._opened = False  # the Application started (not when the bot stopped before)
        self._poll_timeout = poll_timeout
        rate = telegram.sends_per_second if sends_per_second is None else sends_per_second
        self.application: AnyApplication = build_application(telegram, core, rate)
        self.feed: UpdateFeed = self.application.bot_data["feed"]
        self.feed.stop = stop  # a retry after a storage fault gives up when the bot stops
        self.application.bot_data["limiter"].stop = stop  # and so does a retry to Telegram
        self._uploads = Uploads()

    @property
    def name(self) -> str:
        return self.core.bot

    @property
    def capabilities(self) -> Capabilities:
        return TELEGRAM_CAPABILITIES

    @property
    def callbacks(self) -> TelegramCallbacks:
        calls: TelegramCallbacks = self.application.bot_data["callbacks"]
        return calls

    async def open(self) -> None:
        """Start the Application; in webhook mode, first what a crash left in the inbox."""
        try:
            await self.application.initialize()
        except InvalidToken:  # PTB's message quotes the token: this one does not
            raise SystemExit(REJECTED_TOKEN) from None
        except (NetworkError, TimedOut) as error:
            if not self._stop.is_set():
                raise
            log.info("stopped while Telegram could not be reached (%s)", error)
            return  # `run` returns at once: the bot is stopping
        await set_menus(self.application.bot, self.core)
        if self.core.shares_database:
            jobs = self.application.job_queue
            assert jobs is not None

            async def keep_and_claim(context: Any) -> None:
                await self.feed.keep_and_claim(context.bot)

            jobs.run_repeating(
                keep_and_claim, interval=RENEW_EVERY, first=RENEW_EVERY, name="inbox leases"
            )
        await self.application.start()
        self._opened = True
        if self.telegram.webhook_url is not None:
            await self.feed.replay(self.application.bot)

    def mount(self, server: HttpServer) -> None:
        """In webhook mode, Telegram's posts at the path of FIELDTALLY_WEBHOOK_URL."""
        if self.telegram.webhook_url is None:
            return
        assert self.telegram.webhook_path is not None and self.telegram.webhook_secret is not None
        server.mount(
            "telegram webhook",
            webhook_routes(
                self.application.bot, self.feed, self.core.metrics,
                path=self.telegram.webhook_path,
                secret=self.telegram.webhook_secret.get_secret_value(),
            ),
        )  # fmt: skip

    async def run(self, stop: asyncio.Event, ready: asyncio.Event | None = None) -> None:
        """Long polling, or the webhook registered, until `stop` (or a fatal polling error)."""
        if not self._opened:  # stopped before it could start
            return
        try:
            if self.telegram.webhook_url is None:
                await self._poll(stop, ready)
            else:
                await self._keep_webhook(stop, ready)
        except InvalidToken:
            raise SystemExit(REJECTED_TOKEN) from None
        except (NetworkError, TimedOut) as error:
            if not stop.is_set():
                raise
            log.info("stopped while Telegram could not be reached (%s)", error)

    async def close(self) -> None:
        """Handle what is queued, then stop the Application."""
        if self.application.running:
            await self.application.stop()
        await self.application.shutdown()

    async def send(self, to: Address, content: Content, *, automatic: bool = False) -> bool:
        try:
            await send_content(self.application.bot, telegram_id(to), content, self._uploads)
        except (TelegramError, ValueError) as error:  # e.g. a chief who never opened the bot
            log.warning("message to chat %s failed: %s", to, error)
            return False
        return True

    async def _poll(self, stop: asyncio.Event, ready: asyncio.Event | None) -> None:
        bot = self.application.bot
        await bot.delete_webhook()  # polling and a webhook exclude each other
        await self.feed.replay(bot)
        poller = DurablePoller(bot, self.core.inbox, self.feed, int(self._poll_timeout))
        polling = asyncio.create_task(poller.run(stop))
        if ready is not None:
            ready.set()
        stopping = asyncio.create_task(stop.wait())
        await asyncio.wait({polling, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stop.set()
        stopping.cancel()
        await polling  # re-raises a fatal polling error

    async def _keep_webhook(self, stop: asyncio.Event, ready: asyncio.Event | None) -> None:
        """The server already takes Telegram's posts. The webhook stays registered when we
        stop: Telegram keeps the updates of a restart and delivers them when we are back."""
        assert self.telegram.webhook_url is not None and self.telegram.webhook_secret is not None
        await self.application.bot.set_webhook(
            url=self.telegram.webhook_url,
            secret_token=self.telegram.webhook_secret.get_secret_value(),
            allowed_updates=Update.ALL_TYPES,  # as polling asks for
            max_connections=WEBHOOK_CONNECTIONS,
            drop_pending_updates=False,
        )
        if ready is not None:
            ready.set()
        await stop.wait()
