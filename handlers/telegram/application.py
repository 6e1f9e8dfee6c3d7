"""Building the python-telegram-bot Application and running it, by long polling or webhook."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import threading
import time
from functools import partial
from pathlib import Path
from typing import Any

from telegram import Bot, Update
from telegram.constants import ParseMode
from telegram.error import InvalidToken, NetworkError, TelegramError, TimedOut
from telegram.ext import (
    Application,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot import texts
from bot.core import Clock, Core, settle_memory
from bot.messaging.commands import COMMANDS, IMPORT
from bot.messaging.inbox import RENEW_EVERY
from bot.outage import OutageChange, answered_before, read_state_file
from bot.settings import Settings
from handlers.http_server import HttpServer
from handlers.metrics_page import metrics_routes
from handlers.telegram.callbacks import TelegramCallbacks
from handlers.telegram.http_client import AiohttpRequest
from handlers.telegram.identity import TELEGRAM, bot_name, telegram_id
from handlers.telegram.menus import set_menus
from handlers.telegram.polling import (
    TELEGRAM_SENDS_PER_SECOND,
    DurablePoller,
    PatientRateLimiter,
    UpdateFeed,
)
from handlers.telegram.render import html_messages
from handlers.telegram.settings import TelegramSettings
from handlers.telegram.updates import BoundedUpdateQueue, PerChatUpdateProcessor
from handlers.telegram.webhook import webhook_routes

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
# Seconds between looks at what other processes sharing the database changed (imports,
# units they finished): a group hears of its unit's last area within this delay.
SHARED_STORE_SWEEP = 5.0
VIETNAM_TZ = "Asia/Ho_Chi_Minh"  # the contract's zone; another draws a warning at start


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
    application.add_handlers([*handlers, CallbackQueryHandler(calls.stale_button)])
    application.add_error_handler(calls.error)


def schedule_summaries(application: AnyApplication, calls: TelegramCallbacks) -> None:
    """Automatic group summaries: every FIELDTALLY_SUMMARY_EVERY, else at FIELDTALLY_SCHEDULE."""
    jobs = application.job_queue
    assert jobs is not None
    settings = calls.core.settings
    if settings.summary_every is not None:
        jobs.run_repeating(
            calls.scheduled_push, interval=settings.summary_every, first=settings.summary_every,
            name="summaries",
        )  # fmt: skip
        return
    for moment in settings.schedule:
        jobs.run_daily(
            calls.scheduled_push, time=moment.replace(tzinfo=settings.tz),
            name=f"summaries {moment:%H:%M}",
        )  # fmt: skip


async def prepare(application: AnyApplication, calls: TelegramCallbacks) -> None:
    """Start-up work (what post_init would do under run_polling): menus and schedules."""
    await set_menus(application.bot, calls.core)
    schedule_summaries(application, calls)
    if calls.core.shares_database:  # other processes write too: see what they changed
        jobs = application.job_queue
        assert jobs is not None
        jobs.run_repeating(
            calls.shared_store_sweep, interval=SHARED_STORE_SWEEP, first=SHARED_STORE_SWEEP,
            name="shared store sweep",
        )  # fmt: skip
        feed: UpdateFeed = application.bot_data["feed"]

        async def keep_and_claim(context: Any) -> None:
            await feed.keep_and_claim(context.bot)

        jobs.run_repeating(
            keep_and_claim, interval=RENEW_EVERY, first=RENEW_EVERY, name="inbox leases"
        )


async def run_bot(
    settings: Settings,
    telegram: TelegramSettings,
    stop: asyncio.Event,
    *,
    poll_timeout: float = 10.0,
    ready: asyncio.Event | None = None,
    clock: Clock | None = None,
    chart_workers: int = 2,
    sends_per_second: float | None = None,
    stop_deadline: float | None = None,
) -> None:
    """Run the bot until `stop` is set; always closes the database.

    `stop_deadline` (the `fieldtally run` process): seconds after `stop` is set by when the
    process exits even if a database call or a request never returns (a lock held forever);
    what is unfinished stays in the inbox and is handled at the next start.

    By webhook when FIELDTALLY_WEBHOOK_URL is set (or defaults from FIELDTALLY_PUBLIC_URL),
    else by long polling. The HTTP server runs when anything is mounted on it: the webhook,
    /metrics (FIELDTALLY_METRICS). `clock` replaces the
    wall clock for summaries (the offline drill replays a past day); `sends_per_second`
    overrides FIELDTALLY_SENDS_PER_SECOND (benchmarks)."""
    if settings.tz_name != VIETNAM_TZ:
        log.warning(
            "FIELDTALLY_TZ is %s, not %s: the times chiefs state (9h, 12h30) are read in %s",
            settings.tz_name, VIETNAM_TZ, settings.tz_name,
        )  # fmt: skip
    watchdog: asyncio.Task[None] | None = None
    if stop_deadline is not None:
        watchdog = asyncio.create_task(_exit_after_deadline(stop, stop_deadline))
    core = await Core.open(
        settings, chart_workers=chart_workers, clock=clock, bot=bot_name(telegram.bot_id)
    )
    settle_memory()  # a long-running process from here on
    try:
        await _run_application(
            settings, telegram, core, stop, poll_timeout, ready, sends_per_second
        )
    except InvalidToken:
        # PTB's message quotes the token: this one does not.
        raise SystemExit(
            "fieldtally: Telegram rejected the bot token (TELEGRAM_BOT_TOKEN): revoked or mistyped"
        ) from None
    except (NetworkError, TimedOut) as error:
        if not stop.is_set():
            raise
        log.info("stopped while Telegram could not be reached (%s)", error)
    finally:
        await core.inbox.close()
        core.outage.close()
        await core.close()
        if watchdog is not None and not stop.is_set():
            watchdog.cancel()  # ended by an error, not by a stop


async def _run_application(
    settings: Settings,
    telegram: TelegramSettings,
    core: Core,
    stop: asyncio.Event,
    poll_timeout: float,
    ready: asyncio.Event | None,
    sends_per_second: float | None,
) -> None:
    """Build the Application and run it until `stop` (run_bot's body, inside its cleanup)."""
    if sends_per_second is None:
        sends_per_second = telegram.sends_per_second
    application = build_application(telegram, core, sends_per_second)
    feed: UpdateFeed = application.bot_data["feed"]
    feed.stop = stop  # a retry after a storage fault gives up when the bot stops
    application.bot_data["limiter"].stop = stop  # and so does a retry to Telegram
    core.intake.stop = stop
    core.inbox.keep_flushing(stop)
    health_file = settings.health_file(telegram.bot_id)
    await core.inbox.forget_answered(answered_before(health_file))
    ended = previous_outage(health_file)  # the database works again: it is over
    core.outage.keep_state_in(health_file)
    core.outage.listen(partial(tell_admins, application.bot, core))
    async with application:
        await prepare(application, application.bot_data["callbacks"])
        await application.start()
        if ended is not None:
            await tell_admins(application.bot, core, ended)
        try:
            # The servers stop first, so nothing is queued once the Application stops.
            async with contextlib.AsyncExitStack() as servers:
                if telegram.webhook_url is not None:
                    # What a crash left in the inbox first, before new posts are taken.
                    await feed.replay(application.bot)
                server = http_server(settings, telegram, core, application)
                if server is not None:
                    await server.start()
                    servers.push_async_callback(server.stop)
                if telegram.webhook_url is None:
                    await _poll(application, core, stop, ready, poll_timeout)
                else:
                    await _serve_webhook(application, telegram, stop, ready)
        finally:
            if application.running:
                await application.stop()  # handles what is queued, then returns


async def _exit_after_deadline(stop: asyncio.Event, seconds: float) -> None:
    """Once `stop` is set, a thread that ends the process if it is still running after
    `seconds` (a thread: it must act even if the event loop is stuck)."""
    await stop.wait()
    timer = threading.Timer(seconds, _give_up, args=(seconds,))
    timer.daemon = True
    timer.start()


def _give_up(seconds: float) -> None:
    log.warning("still stopping after %.0f s: exiting now; unfinished updates stay in the inbox",
                seconds)  # fmt: skip
    logging.shutdown()
    os._exit(0)


def previous_outage(path: Path) -> OutageChange | None:
    """An outage the last run stopped during (its state file says so), to report as over."""
    state = read_state_file(path, alive_only=False) or {}
    since = state.get("since")
    if not state.get("degraded") or not isinstance(since, int | float):
        return None
    return OutageChange(str(state.get("kind") or "other"), float(since), time.time())


async def tell_admins(bot: Bot, core: Core, change: OutageChange) -> None:
    """Every admin hears once when a storage outage starts and once when it ends."""
    tz = core.settings.tz
    since = dt.datetime.fromtimestamp(change.since, tz)
    if change.until is None:
        text = texts.store_outage_started(change.kind, since)
    else:
        text = texts.store_outage_ended(since, dt.datetime.fromtimestamp(change.until, tz))
    for admin in core.settings.admins.on(TELEGRAM, numbered=True):
        if admin.channel != TELEGRAM:  # told by their own channel's adapter
            continue
        try:
            for part in html_messages(text):
                await bot.send_message(telegram_id(admin), part, parse_mode=ParseMode.HTML)
        except TelegramError as error:  # an admin who never opened a chat with the bot
            log.warning("telling admin %s of the storage outage failed: %s", admin, error)


async def _poll(
    application: AnyApplication,
    core: Core,
    stop: asyncio.Event,
    ready: asyncio.Event | None,
    poll_timeout: float,
) -> None:
    """Long polling until `stop` is set or polling fails for good (e.g. a revoked token)."""
    await application.bot.delete_webhook()  # polling and a webhook exclude each other
    feed: UpdateFeed = application.bot_data["feed"]
    await feed.replay(application.bot)
    poller = DurablePoller(application.bot, core.inbox, feed, int(poll_timeout))
    polling = asyncio.create_task(poller.run(stop))
    if ready is not None:
        ready.set()
    stopping = asyncio.create_task(stop.wait())
    await asyncio.wait({polling, stopping}, return_when=asyncio.FIRST_COMPLETED)
    stop.set()
    await polling  # re-raises a fatal polling error


def http_server(
    settings: Settings, telegram: TelegramSettings, core: Core, application: AnyApplication
) -> HttpServer | None:
    """The process's HTTP server with what this run mounts on it (the webhook in webhook
    mode, /metrics when enabled), or None when nothing is: a long-polling run without
    metrics opens no port."""
    server = HttpServer(settings.http_binds)
    if telegram.webhook_url is not None:
        assert telegram.webhook_path is not None and telegram.webhook_secret is not None
        feed: UpdateFeed = application.bot_data["feed"]
        server.mount(
            "telegram webhook",
            webhook_routes(
                application.bot, feed, core.metrics, path=telegram.webhook_path,
                secret=telegram.webhook_secret.get_secret_value(),
            ),
        )  # fmt: skip
    if settings.metrics_enabled:
        server.mount("metrics", metrics_routes(core))
    return server if server.mounted else None


async def _serve_webhook(
    application: AnyApplication,
    telegram: TelegramSettings,
    stop: asyncio.Event,
    ready: asyncio.Event | None,
) -> None:
    """Webhook mode until `stop` is set (the server already takes Telegram's posts). The
    webhook stays registered when we stop: Telegram keeps the updates of a restart and
    delivers them when we are back."""
    assert telegram.webhook_url is not None and telegram.webhook_secret is not None
    secret = telegram.webhook_secret.get_secret_value()
    await application.bot.set_webhook(
        url=telegram.webhook_url,
        secret_token=secret,
        allowed_updates=Update.ALL_TYPES,  # as polling asks for
        max_connections=WEBHOOK_CONNECTIONS,
        drop_pending_updates=False,
    )
    if ready is not None:
        ready.set()
    await stop.wait()
