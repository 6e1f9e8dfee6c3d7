"""The bot process: the one place that wires channels to the core.

It opens the core, builds every enabled channel, mounts what each serves on the process's one
HTTP server (with `/metrics`, and `/media` where FIELDTALLY_PUBLIC_URL is set: the charts and
exports that channels send as links, `handlers/media.py`), runs the schedules every channel
shares (group summaries, the look at what other processes sharing the database did), tells
admins when the store fails and recovers, and stops everything in order: the server first
(nothing new comes in), then the channels (what is queued is handled), then the core.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from pathlib import Path

from bot import texts
from bot.channel import Address
from bot.core import Clock, Core, settle_memory
from bot.messaging.content import Outgoing, Text
from bot.messaging.port import Channel, Relays, Switchboard
from bot.monitoring.schedule import next_push
from bot.outage import OutageChange, answered_before, read_state_file
from bot.settings import Settings
from handlers.dashboard.routes import Dashboard
from handlers.directory import load_directory
from handlers.factory import ChannelFactory
from handlers.http_server import HttpServer, ServesHttp
from handlers.media import MediaLinks
from handlers.metrics_page import metrics_routes
from handlers.sms.channel import SmsChannel
from handlers.telegram.channel import TelegramChannel
from handlers.telegram.identity import bot_name
from handlers.telegram.settings import TelegramSettings
from storage.faults import fault_reason, is_storage_fault

log = logging.getLogger(__name__)

# Seconds between looks at what other processes sharing the database changed (imports,
# units they finished): a group hears of its unit's last area within this delay.
SHARED_STORE_SWEEP = 5.0
PENDING_SWEEP = 60.0  # seconds between looks for counting records whose 30 minutes are up
VIETNAM_TZ = "Asia/Ho_Chi_Minh"  # the contract's zone; another draws a warning at start


async def run_bot(
    settings: Settings,
    telegram: TelegramSettings | None,
    stop: asyncio.Event,
    *,
    poll_timeout: float = 10.0,
    ready: asyncio.Event | None = None,
    clock: Clock | None = None,
    chart_workers: int = 2,
    sends_per_second: float | None = None,
    stop_deadline: float | None = None,
    channels: Sequence[ChannelFactory] = (),
    media_clock: Callable[[], float] | None = None,
) -> None:
    """Run the bot until `stop` is set; always closes the database.

    `telegram`: the Telegram bot's settings, or None where Telegram is not enabled;
    `channels`: the factories of the other enabled channels (Zalo, SMS), all served by the
    same core in this process. `stop_deadline` (the `fieldtally run` process): seconds after
    `stop` is set by when the process exits even if a database call or a request never
    returns (a lock held forever); what is unfinished stays in the inbox and is handled at
    the next start. `clock` replaces the wall clock for summaries (the offline drill replays
    a past day); `sends_per_second` overrides FIELDTALLY_SENDS_PER_SECOND (benchmarks);
    `media_clock` (epoch seconds) is the wall clock media links expire on (tests move it)."""
    if settings.tz_name != VIETNAM_TZ:
        log.warning(
            "FIELDTALLY_TZ is %s, not %s: the times chiefs state (9h, 12h30) are read in %s",
            settings.tz_name, VIETNAM_TZ, settings.tz_name,
        )  # fmt: skip
    watchdog: asyncio.Task[None] | None = None
    if stop_deadline is not None:
        watchdog = asyncio.create_task(_exit_after_deadline(stop, stop_deadline))
    # The Telegram bot is the first bot: it adopts what a release before schema 5 stored.
    first = bot_name(telegram.bot_id) if telegram is not None else ""
    core = await Core.open(settings, chart_workers=chart_workers, clock=clock, bot=first)
    settle_memory()  # a long-running process from here on
    try:
        # Charts and exports as links, served here, where the process has a public origin.
        media = None
        if settings.public_url:
            media = MediaLinks(core, settings.public_url, clock=media_clock or time.time)
        # Which bot serves which subtree (invitations carry their links; a code sent to the
        # wrong bot is refused with the right one's). A channel's factory may add its bots.
        core.directory = load_directory(settings)
        built: list[Channel] = []
        if telegram is not None:
            built.append(
                TelegramChannel(
                    core, telegram, stop, poll_timeout=poll_timeout,
                    sends_per_second=sends_per_second,
                )
            )  # fmt: skip
        for factory in channels:
            built.extend(factory(core, stop, media=media))
        if not built:
            raise SystemExit("fieldtally: no channel is enabled (FIELDTALLY_CHANNELS)")
        if not core.bot:
            core.bot = built[0].name  # the bot whose health `/metrics` and status show
        health_file = settings.health_file(telegram.bot_id if telegram else core.bot)
        await _serve(settings, core, built, stop, ready, health_file, media)
    finally:
        await core.close_inboxes()
        core.outage.close()
        await core.close()
        if watchdog is not None and not stop.is_set():
            watchdog.cancel()  # ended by an error, not by a stop


async def _serve(
    settings: Settings,
    core: Core,
    channels: Sequence[Channel],
    stop: asyncio.Event,
    ready: asyncio.Event | None,
    health_file: Path,
    media: MediaLinks | None = None,
) -> None:
    switchboard = Switchboard(channels)
    for channel in channels:
        if isinstance(channel, TelegramChannel):
            channel.callbacks.elsewhere = switchboard.send_all
        elif isinstance(channel, Relays):
            channel.switchboard = switchboard
        elif isinstance(channel, SmsChannel):
            channel.elsewhere = switchboard.send_all
    core.intake.stop = stop
    for channel in channels:
        inbox = core.inbox_for(channel.name)
        inbox.keep_flushing(stop)
        await inbox.forget_answered(answered_before(health_file, channel.name))
    ended = previous_outage(health_file)  # the database works again: it is over
    core.outage.keep_state_in(health_file)
    core.outage.listen(partial(tell_admins, core, switchboard))
    async with contextlib.AsyncExitStack() as running:
        for channel in channels:  # closed last: what is queued is handled before
            await channel.open()
            running.push_async_callback(channel.close)
        server = HttpServer(settings.http_binds)
        for channel in channels:
            if isinstance(channel, ServesHttp):
                channel.mount(server)
        if settings.metrics_enabled:
            server.mount("metrics", metrics_routes(core))
        if media is not None:
            server.mount("media", media.routes())
            sweeping = asyncio.create_task(media.keep_sweeping(stop))
            running.callback(sweeping.cancel)
        dashboard = None
        if server.mounted or settings.public_url:  # the server runs, or links name an origin
            dashboard = Dashboard(core)
            dashboard.mount(server)
        if server.mounted:  # a long-polling run without metrics opens no port
            await server.start()
            running.push_async_callback(server.stop)  # stopped first: nothing new comes in
        if dashboard is not None:  # its streams end before the server stops
            running.push_async_callback(dashboard.close)
        if ended is not None:
            await tell_admins(core, switchboard, ended)
        for job in _schedules(core, switchboard):
            task = asyncio.create_task(_repeat(stop, *job))
            running.callback(task.cancel)
        await _run_all(channels, stop, ready)


Job = tuple[str, Callable[[dt.datetime], dt.datetime | None], Callable[[], Awaitable[None]]]


def _schedules(core: Core, switchboard: Switchboard) -> list[Job]:
    """(name, when next, what): the group summaries, the counting records read back 30
    minutes ago and never confirmed (dropped, with a word to each sender), and where the
    database is shared, the look at what other processes changed."""
    settings = core.settings

    bots = [channel.name for channel in switchboard]

    async def push() -> None:  # each unit's summary sent as soon as it is rendered
        async with contextlib.aclosing(core.scheduled_push_stream(bots)) as pushes:
            await switchboard.send_stream(pushes)

    async def sweep() -> None:
        await switchboard.send_all(await core.catch_up_with_other_processes(bots))

    async def expire() -> None:
        await switchboard.send_all(await core.expire_pending_records())

    summaries = partial(next_push, settings.schedule, settings.summary_every, settings.tz)
    every_minute = partial(next_push, (), dt.timedelta(seconds=PENDING_SWEEP), settings.tz)
    jobs: list[Job] = [
        ("summaries", summaries, push),
        ("counting records awaiting confirmation", every_minute, expire),
    ]
    # Also with several bots in one process: a report through one bot (an SMS) that finishes
    # a unit claims the notices of that bot's groups only; the sweep tells the others' groups.
    if core.shares_database or len(bots) > 1:
        every = dt.timedelta(seconds=SHARED_STORE_SWEEP)
        jobs.append(("shared store sweep", partial(next_push, (), every, settings.tz), sweep))
    return jobs


async def _repeat(
    stop: asyncio.Event,
    name: str,
    when: Callable[[dt.datetime], dt.datetime | None],
    job: Callable[[], Awaitable[None]],
) -> None:
    """Run `job` at each time `when` gives (None: never), until `stop`. A failure is logged
    and the job runs again at its next time."""
    now = dt.datetime.now(dt.UTC)
    while (due := when(now)) is not None:
        delay = max(0.0, (due - dt.datetime.now(dt.UTC)).total_seconds())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=delay)
            return  # stopped
        try:
            await job()
        except Exception as error:
            if is_storage_fault(error):
                log.warning("%s met a storage fault: %s", name, fault_reason(error))
            else:
                log.exception("%s failed", name)
        now = due


async def _run_all(
    channels: Sequence[Channel], stop: asyncio.Event, ready: asyncio.Event | None
) -> None:
    """Every channel until `stop`; the first that fails for good stops the others."""
    ready_each = [asyncio.Event() for _ in channels]
    runs = [asyncio.create_task(c.run(stop, r)) for c, r in zip(channels, ready_each, strict=True)]
    if ready is not None:
        waiting = asyncio.create_task(_all_set(ready_each))
        done, _ = await asyncio.wait({waiting, *runs}, return_when=asyncio.FIRST_COMPLETED)
        if waiting in done:
            ready.set()
        else:
            waiting.cancel()
    try:
        await asyncio.gather(*runs)
    finally:
        stop.set()
        for run in runs:
            run.cancel()


async def _all_set(events: Sequence[asyncio.Event]) -> None:
    for event in events:
        await event.wait()


async def tell_admins(core: Core, switchboard: Switchboard, change: OutageChange) -> None:
    """Every admin hears once when a storage outage starts and once when it ends, on each
    channel that reaches them."""
    tz = core.settings.tz
    since = dt.datetime.fromtimestamp(change.since, tz)
    if change.until is None:
        text = texts.store_outage_started(change.kind, since)
    else:
        text = texts.store_outage_ended(since, dt.datetime.fromtimestamp(change.until, tz))
    names = {channel.name for channel in switchboard}
    messages = [
        Outgoing(admin, Text(text), channel.name)
        for channel in switchboard
        for admin in core.settings.admins.on(
            channel.capabilities.channel, numbered=channel.capabilities.numeric_ids
        )
        if _reaches(channel.name, admin, names)
    ]
    await switchboard.send_all(messages)


def _reaches(bot: str, admin: Address, bots: set[str]) -> bool:
    """Whether `bot` can write to `admin`: an identity that belongs to one bot of this process
    (`zalo:<bot id>:<user id>`) only through that bot."""
    head, sep, _ = admin.id.partition(":")
    owner = f"{admin.channel}:{head}"
    return not sep or owner == bot or owner not in bots


def previous_outage(path: Path) -> OutageChange | None:
    """An outage the last run stopped during (its state file says so), to report as over."""
    state = read_state_file(path, alive_only=False) or {}
    since = state.get("since")
    if not state.get("degraded") or not isinstance(since, int | float):
        return None
    return OutageChange(str(state.get("kind") or "other"), float(since), time.time())


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
