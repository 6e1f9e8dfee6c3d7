"""Building the python-telegram-bot Application and running it (long polling)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.core import Clock, Core
from bot.inbox import Inbox
from bot.settings import Settings
from handlers.callbacks import TelegramCallbacks
from handlers.menus import set_menus
from handlers.telegram_io import TELEGRAM_SENDS_PER_SECOND, DurablePoller, PatientRateLimiter
from handlers.updates import BoundedUpdateQueue, PerChatUpdateProcessor

AnyApplication = Application[Any, Any, Any, Any, Any, Any]

# Updates handled at once (each chat still one at a time), and how many may be taken
# from Telegram before it must wait: at 50 ms per round trip, 64 at once answer ~1,000
# messages a second while memory stays bounded however large the burst.
CONCURRENT_UPDATES = 64
UPDATES_IN_FLIGHT = 512
QUEUED_UPDATES = 512


def build_application(
    settings: Settings, core: Core, sends_per_second: float = TELEGRAM_SENDS_PER_SECOND
) -> AnyApplication:
    assert settings.bot_token is not None
    api = settings.api_url
    processor = PerChatUpdateProcessor(
        CONCURRENT_UPDATES, UPDATES_IN_FLIGHT, on_done=_mark_done(core.inbox)
    )
    application = (
        Application.builder()
        .token(settings.bot_token.get_secret_value())
        .base_url(f"{api}/bot")
        .base_file_url(f"{api}/file/bot")
        .rate_limiter(PatientRateLimiter(sends_per_second))
        .concurrent_updates(processor)
        .update_queue(BoundedUpdateQueue(UPDATES_IN_FLIGHT, QUEUED_UPDATES))
        # One connection per concurrent update, so replies do not queue for the pool.
        .connection_pool_size(CONCURRENT_UPDATES)
        .pool_timeout(30.0)
        .updater(None)  # DurablePoller instead: it stores updates before confirming them
        .build()
    )
    calls = TelegramCallbacks(core)
    add_handlers(application, calls)
    application.bot_data["callbacks"] = calls
    return application


def _mark_done(inbox: Inbox) -> Callable[[object], Awaitable[None]]:
    async def done(update: object) -> None:
        if isinstance(update, Update):
            inbox.done(update.update_id)

    return done


def add_handlers(application: AnyApplication, calls: TelegramCallbacks) -> None:
    private = filters.ChatType.PRIVATE
    new = filters.UpdateType.MESSAGE
    import_caption = filters.CaptionRegex(r"^\s*/(nhap|import)(@\w+)?\b")
    handlers = [
        CommandHandler("start", calls.start, filters=private & new),
        CommandHandler(["huongdan", "help"], calls.help, filters=new),
        CommandHandler(["nhap", "import"], calls.import_units, filters=private & new),
        MessageHandler(private & new & filters.Document.ALL & import_caption, calls.import_units),
        CommandHandler(["phancong", "assign"], calls.assign, filters=new),
        CommandHandler(["xuat", "export"], calls.export, filters=new),
        CommandHandler(["tonghop", "summary"], calls.summary, filters=new),
        CommandHandler(["chuabaocao", "missing"], calls.missing, filters=new),
        CommandHandler(["nhacnho", "remind"], calls.remind, filters=new),
        CommandHandler(["lichsu", "history"], calls.history, filters=new),
        CommandHandler(["theodoi", "subscribe"], calls.subscribe, filters=new),
        CommandHandler(["huytheodoi", "unsubscribe"], calls.unsubscribe, filters=new),
        CommandHandler(["khoa", "lock"], calls.lock, filters=new),
        CommandHandler(["nhatky", "audit"], calls.audit_log, filters=new),
        CommandHandler(["mokhoa", "unlock"], calls.unlock, filters=new),
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


async def run_bot(
    settings: Settings,
    stop: asyncio.Event,
    *,
    poll_timeout: float = 10.0,
    ready: asyncio.Event | None = None,
    clock: Clock | None = None,
    chart_workers: int = 2,
    sends_per_second: float = TELEGRAM_SENDS_PER_SECOND,
) -> None:
    """Run the bot with long polling until `stop` is set; always closes the database.

    `clock` replaces the wall clock for summaries (the offline drill replays a past day)."""
    core = await Core.open(settings, chart_workers=chart_workers, clock=clock)
    try:
        application = build_application(settings, core, sends_per_second)
        async with application:
            await prepare(application, application.bot_data["callbacks"])
            await application.bot.delete_webhook()  # polling and a webhook exclude each other
            await application.start()
            poller = DurablePoller(
                application.bot, core.inbox, application.update_queue, int(poll_timeout)
            )
            await poller.replay()
            polling = asyncio.create_task(poller.run(stop))
            if ready is not None:
                ready.set()
            stopping = asyncio.create_task(stop.wait())
            await asyncio.wait({polling, stopping}, return_when=asyncio.FIRST_COMPLETED)
            stop.set()
            await polling  # re-raises a fatal polling error (e.g. a revoked token)
            await application.stop()
    finally:
        await core.inbox.flush()
        await core.close()
