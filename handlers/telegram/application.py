"""Building the python-telegram-bot Application: its request transports, rate limiter,
per-chat update processing, and a handler for each entry of the command table (how it runs,
by long polling or webhook, is `handlers.telegram.channel`)."""

from __future__ import annotations

import logging
from typing import Any

from telegram import Update
from telegram.ext import (
    Application,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.core import Core
from bot.messaging.commands import COMMANDS, IMPORT
from handlers.telegram.callbacks import TelegramCallbacks
from handlers.telegram.http_client import AiohttpRequest
from handlers.telegram.polling import (
    TELEGRAM_SENDS_PER_SECOND,
    PatientRateLimiter,
    UpdateFeed,
)
from handlers.telegram.settings import TelegramSettings
from handlers.telegram.updates import BoundedUpdateQueue, PerChatUpdateProcessor

AnyApplication = Application[Any, Any, Any, Any, Any, Any]
log = logging.getLogger(__name__)

# Updates handled at once (each chat still one at a time), and how many may be taken
# from Telegram before it must wait: at 50 ms per round trip, 64 at once answer ~1,000
# messages a second while memory stays bounded however large the burst.
CONCURRENT_UPDATES = 64
UPDATES_IN_FLIGHT = 512
QUEUED_UPDATES = 512
# Connections Telegram may open to the webhook at once (its limit is 100): one per update
# handled at once; more would only wait for the queue.
WEBHOOK_CONNECTIONS = CONCURRENT_UPDATES


def build_application(
    settings: TelegramSettings, core: Core, sends_per_second: float = TELEGRAM_SENDS_PER_SECOND
) -> AnyApplication:
    """The Application; its `bot_data` holds the callbacks and the `UpdateFeed` into it."""
    assert settings.bot_token is not None
    api = settings.api_url
    queue = BoundedUpdateQueue(UPDATES_IN_FLIGHT, QUEUED_UPDATES)
    feed = UpdateFeed(core.inbox, queue, core.metrics, core.outage)
    core.metrics.watch_update_queue(queue.qsize, lambda: queue.in_flight)
    processor = PerChatUpdateProcessor(CONCURRENT_UPDATES, UPDATES_IN_FLIGHT, on_done=feed.handled)
    limiter = PatientRateLimiter(sends_per_second, settings.group_sends_per_minute)
    application = (
        Application.builder()
        .token(settings.bot_token.get_secret_value())
        .base_url(f"{api}/bot")
        .base_file_url(f"{api}/file/bot")
        .rate_limiter(limiter)
        .concurrent_updates(processor)
        .update_queue(queue)
        # One connection per concurrent update, so replies do not queue for the pool; on
        # aiohttp, whose pool costs the same however many connections it holds.
        .request(AiohttpRequest(CONCURRENT_UPDATES, pool_timeout=30.0))
        .get_updates_request(AiohttpRequest(1))  # PTB adds getUpdates' own wait to its read
        .updater(None)  # DurablePoller or the webhook: both store updates before confirming
        .build()
    )
    processor.retry_with(feed.again, application.process_update)
    calls = TelegramCallbacks(core)
    add_handlers(application, calls)
    application.bot_data["callbacks"] = calls
    application.bot_data["feed"] = feed
    application.bot_data["limiter"] = limiter
    return application


def add_handlers(application: AnyApplication, calls: TelegramCallbacks) -> None:
    private = filters.ChatType.PRIVATE
    new = filters.UpdateType.MESSAGE
    import_caption = filters.CaptionRegex(r"^\s*/(nhap|import)(@\w+)?\b")
    handlers: list[BaseHandler[Update, Any, Any]] = [
        CommandHandler(
            list(command.names),
            calls.command(command),
            filters=private & new if command.private_only else new,
        )
        for command in COMMANDS
    ]
    handlers += [
        MessageHandler(
            private & new & filters.Document.ALL & import_caption, calls.command(IMPORT)
        ),
        MessageHandler(private & new & filters.CONTACT, calls.contact),
        MessageHandler(private & filters.COMMAND & new, calls.unknown_command),
        MessageHandler(
            private & filters.TEXT & ~filters.COMMAND & filters.UpdateType.MESSAGES, calls.report
        ),
        MessageHandler(private & new & ~filters.TEXT & ~filters.StatusUpdate.ALL, calls.not_text),
    ]
    # Group -1 runs first for every update: flood control before any work is done.
    application.add_handler(TypeHandler(Update, calls.flood_gate), group=-1)
    application.add_handlers([*handlers, CallbackQueryHandler(calls.button)])
    application.add_error_handler(calls.error)
