"""End-to-end benchmark (issue 4, part 2): the real bot against a bare echo bot, same sandbox.

    .venv/bin/python benchmarks/end_to_end.py [--chiefs 100] [--reports 5] [--latency-ms 0,50]
        [--runs 3] [--runs-at-latency 2] [--quick] [--bots process|loop]
        [--breakdown] [--profile DIR] [--rate-limiter-off]

For each latency setting, in one run on one machine:

* **fieldtally** — the real bot (``handlers.run.run_bot``, as ``fieldtally run``
  starts it) with a fresh SQLite file, against the project's Bot-API sandbox. Setup, at 0 ms:
  the admin imports a generated unit list (one province, a few communes, ``--chiefs`` areas of
  1,000 voters with one phone each) with ``/nhap``; every chief registers by sharing their
  contact. Then the sandbox latency is set and every chief sends ``--reports`` turnout reports
  (``{count}/1000 {hour:02d}h{minute:02d}``, counts and times increasing, messages dated 20:00 on
  2021-05-23) — all chiefs × reports queued at once, round-robin over the chiefs, as fast as
  the sandbox accepts them. Every one must be answered ✅ (the run fails otherwise).
* **echo** — a minimal python-telegram-bot ``Application`` with default settings (no rate
  limiter, updates handled one at a time) and one ``MessageHandler(filters.TEXT, echo)`` that
  answers ``message.reply_text(text)``; same sandbox, latency and messages; every message must
  come back with its own text.

Figures per run: acknowledgements per second from the first send to the last answer, and
p50/p95/p99 of each message's time from its send to its answer. A reply is tied to its
message by ``reply_parameters.message_id`` when it quotes it (fieldtally does), else by order
within the chat (the echo bot does not quote in private chats). Times are taken with
``time.perf_counter`` by a sandbox listener, when the sandbox stores the reply (after the
injected latency: the moment a user would see it). Each measurement is repeated (bots
alternating: fieldtally, echo, fieldtally, ...) and the median is reported; the ratio is
fieldtally's median throughput over the echo bot's. Targets are printed with ✔/✘; missing one
does not fail the run.

Latency: ``sandbox.set_latency(None, ms)`` delays every Bot API answer (getUpdates and
sendMessage included); it is set after setup, so import and registration stay fast. The echo
bot handles one update at a time, so at 50 ms each answer costs at least one round trip: ~18
messages/s, ~30 s for 500 messages. To keep the default run under ~5 minutes, settings
above 0 ms are measured ``--runs-at-latency`` times (default 2, so the median is the mean)
instead of ``--runs``; the output says so.

Process model (``--bots``): by default each bot runs in its own child process (this script
with ``--serve``, driven by lines on its stdin), the sandbox and the measuring driver in this
process. ``--bots loop`` runs everything on one event loop instead. Measured both ways (see
docs/PERFORMANCE.md) the difference is within the run-to-run noise today; the child process is
the default because it is what production looks like — the bot alone in its interpreter, the
Bot API elsewhere. On one loop the sandbox's HTTP server (~0.5 ms of Python per sendMessage)
shares the bot's core and GIL, which does not happen against api.telegram.org and matters as
soon as the bot is CPU-bound (a bot handling chats concurrently, issue 7, is); and a profile
of the child shows the bot only.

``--breakdown`` (process mode) times, by wrapping functions in the bot processes, where the
wall time of each message goes: for fieldtally the report handler, the core (the writer
thread's transaction, other database round trips), the reply (rate limiter wait, HTTP round
trip, PTB's own work); for the echo bot the handler and its HTTP round trip. The wrappers cost
a few microseconds, so the figures stay close to an unmeasured run. ``--profile DIR`` adds
cProfile over each measurement window (``DIR/<bot>-<ms>ms-run<k>-1.prof``) and prints the top
functions; a profiled run is much slower, so read its proportions, not its figures.

``--rate-limiter-off`` is a what-if: fieldtally without its overall cap of 30 sends a second
(``run_bot(sends_per_second=0)``; for an older ``run_bot`` without that parameter, its
AIORateLimiter is patched to no overall and no per-group limit), to see what the bot could do
beyond the cap.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import datetime as dt
import functools
import inspect
import io
import json
import math
import os
import platform
import pstats
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

PROJECT = Path(__file__).resolve().parents[1]
if str(PROJECT) not in sys.path:  # runnable from a checkout without the editable install
    sys.path.insert(0, str(PROJECT))

from telegram import Update  # noqa: E402
from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters  # noqa: E402

from bot.settings import Settings  # noqa: E402
from handlers.run import run_bot  # noqa: E402
from handlers.telegram.settings import TelegramSettings  # noqa: E402
from sandbox import BotApiSandbox, OutgoingRecord, SimUser  # noqa: E402

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
ELECTION_DAY = dt.date(2021, 5, 23)
SENT_AT = dt.datetime.combine(ELECTION_DAY, dt.time(20, 0), tzinfo=TZ)  # after every stated time
ADMIN_ID = 1
FIRST_CHIEF_ID = 100_001
VOTERS = 1_000
COMMUNES = 4
OK = "✅"

# Targets: issue 4 (this benchmark) and issue 7 (latency work, to come).
TARGET_RATIO_0MS = 0.8
TARGET_RATIO_0MS_ISSUE7 = 1.0
TARGET_RATIO_50MS_ISSUE7 = 15.0
TARGET_P95_50MS_S = 2.0

STALL_SECONDS = 30.0  # no new answer for this long: the run fails
KINDS = ("fieldtally", "echo")


# -- the workload --------------------------------------------------------------------------------


def phone(index: int) -> str:
    """The national form of chief `index`'s phone (a valid Vietnamese mobile)."""
    return f"0912{index:06d}"


def units_csv(chiefs: int) -> bytes:
    """One province, a few communes, `chiefs` areas of 1,000 voters with one phone each."""
    rows = ["code,parent_code,kind,name,registered_voters,staff,contact_phones"]
    rows.append("BM,,tỉnh,Tỉnh Thử Nghiệm,,,")
    communes = max(1, min(COMMUNES, chiefs))
    for c in range(communes):
        rows.append(f"BM{c + 1:02d},BM,xã,Xã Thử Nghiệm {c + 1},,,")
    for i in range(chiefs):
        commune = f"BM{i % communes + 1:02d}"
        rows.append(
            f"{commune}-{i + 1:05d},{commune},khu vực bỏ phiếu,"
            f"Khu vực bỏ phiếu số {i + 1},{VOTERS},15,{phone(i)}"
        )
    return ("\n".join(rows) + "\n").encode()


def report_text(j: int, reports: int) -> str:
    """Report `j` (0-based) of `reports`: counts and times increase, all before 19:00."""
    count = 100 + j * (800 // reports)
    minutes = 7 * 60 + j * ((12 * 60) // reports)
    # "07h00": the leading zero says morning; "7h00" sent at 20:00 would be asked about
    # (06:00–11:59 or 18:00–23:59?), the contract's afternoon rule (issue 14).
    return f"{count}/{VOTERS} {minutes // 60:02d}h{minutes % 60:02d}"


# -- timing replies ------------------------------------------------------------------------------


@dataclass
class Sent:
    chat_id: int
    message_id: int
    text: str
    at: float
    answered_at: float | None = None
    answer: str | None = None


@dataclass
class ChatLog:
    sent: list[Sent] = field(default_factory=list)
    by_id: dict[int, Sent] = field(default_factory=dict)
    next_unquoted: int = 0  # for replies that do not quote: the next message in order


class Stopwatch:
    """Ties each answer of one bot to the message it answers, with perf_counter times."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.chats: dict[int, ChatLog] = {}
        self.expected = 0
        self.answered = 0
        self.stray: list[OutgoingRecord] = []
        self.last_answer = 0.0
        self.first_send = math.inf
        self.progress = asyncio.Event()

    def sent(self, message: dict[str, Any], at: float) -> None:
        chat_id = int(message["chat"]["id"])
        item = Sent(chat_id, int(message["message_id"]), message.get("text", ""), at)
        log = self.chats.setdefault(chat_id, ChatLog())
        log.sent.append(item)
        log.by_id[item.message_id] = item
        self.expected += 1
        self.first_send = min(self.first_send, at)

    def on_record(self, token: str, record: OutgoingRecord) -> None:
        if token != self.token:
            return
        now = time.perf_counter()
        log = self.chats.get(record.chat_id)
        target: Sent | None = None
        if log is not None:
            quoted = (record.reply_parameters or {}).get("message_id")
            if quoted is not None:
                target = log.by_id.get(int(quoted))
            else:
                while log.next_unquoted < len(log.sent):
                    candidate = log.sent[log.next_unquoted]
                    log.next_unquoted += 1
                    if candidate.answered_at is None:
                        target = candidate
                        break
        if target is None or target.answered_at is not None:
            self.stray.append(record)
        else:
            target.answered_at = now
            target.answer = record.plain_text or record.text or ""
            self.answered += 1
            self.last_answer = now
        self.progress.set()

    async def wait_all(self, what: str) -> None:
        """Until every message sent has an answer; fails when answers stop coming."""
        while self.answered < self.expected:
            self.progress.clear()
            before = self.answered
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.progress.wait(), STALL_SECONDS)
            if self.answered == before and not self.progress.is_set():
                missing = [s for log in self.chats.values() for s in log.sent if not s.answer]
                raise RuntimeError(
                    f"{what}: {self.answered}/{self.expected} answered, none for "
                    f"{STALL_SECONDS:g} s; first unanswered: {missing[0].text!r} in chat "
                    f"{missing[0].chat_id}; stray records: {len(self.stray)}"
                )

    def items(self) -> list[Sent]:
        return [s for log in self.chats.values() for s in log.sent]


class Listeners:
    """The sandbox keeps its listeners forever; this one forwards to the current stopwatches."""

    def __init__(self, sandbox: BotApiSandbox) -> None:
        self.watches: list[Stopwatch] = []
        sandbox.add_listener(self)

    def __call__(self, token: str, record: OutgoingRecord) -> None:
        for watch in self.watches:
            watch.on_record(token, record)

    @contextlib.contextmanager
    def watching(self, watch: Stopwatch) -> Iterator[Stopwatch]:
        self.watches.append(watch)
        try:
            yield watch
        finally:
            self.watches.remove(watch)


@dataclass(frozen=True)
class Measurement:
    messages: int
    seconds: float
    per_second: float
    p50_ms: float
    p95_ms: float
    p99_ms: float


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def measurement(watch: Stopwatch) -> Measurement:
    items = watch.items()
    waits = sorted((s.answered_at - s.at) * 1000 for s in items if s.answered_at is not None)
    seconds = watch.last_answer - watch.first_send
    return Measurement(
        messages=len(items),
        seconds=seconds,
        per_second=len(items) / seconds,
        p50_ms=percentile(waits, 50),
        p95_ms=percentile(waits, 95),
        p99_ms=percentile(waits, 99),
    )


# -- the bots ------------------------------------------------------------------------------------


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is not None and message.text is not None:
        await message.reply_text(message.text)


async def run_echo(
    api_url: str, token: str, stop: asyncio.Event, ready: asyncio.Event | None = None
) -> None:
    """The bare bot: PTB defaults throughout, one text handler, long polling."""
    application = (
        ApplicationBuilder()
        .token(token)
        .base_url(f"{api_url}/bot")
        .base_file_url(f"{api_url}/file/bot")
        .build()
    )
    application.add_handler(MessageHandler(filters.TEXT, echo))
    async with application:
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling()
        if ready is not None:
            ready.set()
        await stop.wait()
        await application.updater.stop()
        await application.stop()


def fieldtally_settings(
    api_url: str, token: str, db_path: Path
) -> tuple[Settings, TelegramSettings]:
    values = {
        "TELEGRAM_BOT_TOKEN": token,
        "TELEGRAM_API_URL": api_url,
        "FIELDTALLY_DB": str(db_path),
        "FIELDTALLY_ADMINS": str(ADMIN_ID),
        "FIELDTALLY_ELECTION_DATE": ELECTION_DAY.isoformat(),
    }
    return (
        Settings(_env_file=None, **values),  # type: ignore[arg-type]
        TelegramSettings(_env_file=None, **values),  # type: ignore[arg-type]
    )


def serve(
    kind: str, api_url: str, token: str, db_path: Path | None, rate_limiter_off: bool = False
) -> Callable[..., Awaitable[None]]:
    """A coroutine function (stop, ready) running bot `kind` until `stop` is set."""
    if kind == "fieldtally":
        assert db_path is not None
        settings = fieldtally_settings(api_url, token, db_path)
        extra: dict[str, Any] = {}
        if rate_limiter_off:
            if "sends_per_second" in inspect.signature(run_bot).parameters:
                extra["sends_per_second"] = 0  # run_bot's own switch (0 = no overall cap)
            else:
                lift_rate_limits()  # older run_bot: patch the limiter
        return functools.partial(_serve_fieldtally, settings, extra)
    return functools.partial(run_echo, api_url, token)


async def _serve_fieldtally(
    settings: tuple[Settings, TelegramSettings],
    extra: dict[str, Any],
    stop: asyncio.Event,
    ready: asyncio.Event | None = None,
) -> None:
    core_settings, telegram = settings
    await run_bot(core_settings, telegram, stop, poll_timeout=1, ready=ready, **extra)


def lift_rate_limits() -> None:
    """What-if (--rate-limiter-off): every AIORateLimiter (fieldtally's, or a subclass of it)
    without its 30 messages/s overall and 20/min per group limits; 429 retries are kept."""
    from telegram.ext import AIORateLimiter

    original = AIORateLimiter.__init__
    signature = inspect.signature(original)

    @functools.wraps(original)
    def unlimited(self: AIORateLimiter, *args: Any, **kwargs: Any) -> None:
        bound = signature.bind(self, *args, **kwargs)
        bound.arguments.update(overall_max_rate=0, group_max_rate=0)
        original(*bound.args, **bound.kwargs)

    AIORateLimiter.__init__ = unlimited  # type: ignore[method-assign]


class RunningBot(Protocol):
    async def start(self) -> None: ...
    async def mark(self) -> None: ...
    async def unmark(self) -> dict[str, Any] | None: ...
    async def stop(self) -> None: ...


class LoopBot:
    """The bot as a task on this event loop."""

    def __init__(
        self, kind: str, api_url: str, token: str, db_path: Path | None, rate_limiter_off: bool
    ) -> None:
        self._main = serve(kind, api_url, token, db_path, rate_limiter_off)
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        ready = asyncio.Event()
        self._task = asyncio.create_task(self._main(self._stop, ready))
        waiter = asyncio.create_task(ready.wait())
        done, _ = await asyncio.wait(
            {self._task, waiter}, timeout=60, return_when=asyncio.FIRST_COMPLETED
        )
        if self._task in done:
            waiter.cancel()
            self._task.result()
            raise RuntimeError("bot ended before it was ready")
        if waiter not in done:
            raise RuntimeError("bot did not start within 60 s")

    async def mark(self) -> None:
        return None

    async def unmark(self) -> dict[str, Any] | None:
        return None

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            await asyncio.wait_for(self._task, timeout=60)


class ChildBot:
    """The bot in a child process (this script with --serve), driven by lines on its stdin."""

    def __init__(
        self,
        kind: str,
        api_url: str,
        token: str,
        db_path: Path | None,
        profile_to: Path | None = None,
        rate_limiter_off: bool = False,
        breakdown: bool = False,
    ) -> None:
        self._argv = [
            sys.executable, str(Path(__file__).resolve()), "--serve", kind,
            "--api-url", api_url, "--token", token,
        ]  # fmt: skip
        if db_path is not None:
            self._argv += ["--db", str(db_path)]
        if profile_to is not None:
            self._argv += ["--profile-to", str(profile_to)]
        if rate_limiter_off:
            self._argv.append("--rate-limiter-off")
        if breakdown:
            self._argv.append("--breakdown")
        self._process: asyncio.subprocess.Process | None = None

    async def _line(self, seconds: float) -> str:
        assert self._process is not None and self._process.stdout is not None
        line = await asyncio.wait_for(self._process.stdout.readline(), seconds)
        if not line:
            code = await self._process.wait()
            raise RuntimeError(f"bot process ended (exit code {code})")
        return line.decode().strip()

    async def _say(self, command: str) -> None:
        assert self._process is not None and self._process.stdin is not None
        self._process.stdin.write(command.encode() + b"\n")
        await self._process.stdin.drain()

    async def start(self) -> None:
        self._process = await asyncio.create_subprocess_exec(
            *self._argv, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE
        )
        line = await self._line(60)
        if line != "ready":
            raise RuntimeError(f"bot process said {line!r} instead of 'ready'")

    async def mark(self) -> None:
        await self._say("mark")
        if await self._line(10) != "marked":
            raise RuntimeError("bot process did not acknowledge 'mark'")

    async def unmark(self) -> dict[str, Any] | None:
        await self._say("unmark")
        answer: dict[str, Any] = json.loads(await self._line(30))
        return answer or None

    async def stop(self) -> None:
        if self._process is None:
            return
        assert self._process.stdin is not None
        self._process.stdin.close()
        try:
            code = await asyncio.wait_for(self._process.wait(), 60)
        except TimeoutError:
            self._process.kill()
            await self._process.wait()
            raise RuntimeError("bot process did not stop within 60 s") from None
        if code != 0:
            raise RuntimeError(f"bot process exited with code {code}")


# -- where fieldtally's time goes (--profile, in the child) ---------------------------------------


class Breakdown:
    """Wall time of each step of a report, by wrapping the functions that make it up."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.calls: dict[str, int] = {}

    def reset(self) -> None:
        self.seconds.clear()
        self.calls.clear()

    def add(self, name: str, seconds: float) -> None:
        self.seconds[name] = self.seconds.get(name, 0.0) + seconds
        self.calls[name] = self.calls.get(name, 0) + 1

    def wrap(self, owner: Any, attribute: str, name: str | Callable[..., str]) -> None:
        original = getattr(owner, attribute)
        breakdown = self

        @functools.wraps(original)
        async def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return await original(*args, **kwargs)
            finally:
                label = name(*args, **kwargs) if callable(name) else name
                breakdown.add(label, time.perf_counter() - started)

        setattr(owner, attribute, timed)

    def install_echo(self) -> None:
        from telegram.request import HTTPXRequest

        self.wrap(sys.modules[__name__], "echo", "handler")  # before run_echo registers it
        self.wrap(HTTPXRequest, "do_request", self._http_label)

    @staticmethod
    def _http_label(_self: Any, *args: Any, **kwargs: Any) -> str:
        url = str(kwargs.get("url", args[0] if args else ""))
        return "HTTP getUpdates" if url.endswith("getUpdates") else "HTTP round trip"

    @staticmethod
    def _post_label(prefix: str) -> Callable[..., str]:
        def label(_self: Any, *args: Any, **kwargs: Any) -> str:
            endpoint = str(kwargs.get("endpoint", args[0] if args else ""))
            return f"{prefix} getUpdates" if endpoint == "getUpdates" else prefix

        return label

    def install(self) -> None:
        import aiosqlite.core
        from telegram import Bot
        from telegram.ext import ExtBot
        from telegram.request import HTTPXRequest

        from bot.turnout.intake import ReportIntake
        from handlers.telegram.callbacks import TelegramCallbacks
        from storage.database import Database

        self.wrap(TelegramCallbacks, "report", "handler")
        self.wrap(ReportIntake, "handle", "core")
        if hasattr(Database, "write"):  # storage that runs each transaction in a writer thread
            self.wrap(Database, "write", "db Database.write")
        self.wrap(
            aiosqlite.core.Connection,
            "_execute",
            lambda _self, fn, *args, **kwargs: (
                "db COMMIT" if args and args[0] == "COMMIT" else "db other round trips"
            ),
        )
        # ExtBot._do_post = the rate limiter around Bot._do_post (build request, HTTP, parse).
        self.wrap(ExtBot, "_do_post", self._post_label("ExtBot._do_post"))
        self.wrap(Bot, "_do_post", self._post_label("Bot._do_post"))
        self.wrap(HTTPXRequest, "do_request", self._http_label)

    def report(self, window_s: float, cpu_s: float) -> dict[str, Any]:
        return {
            "window_s": window_s,
            "cpu_s": cpu_s,
            "seconds": dict(self.seconds),
            "calls": dict(self.calls),
        }


def print_breakdown(data: dict[str, Any], messages: int) -> None:
    """Mean wall time per message of each step; nested steps are included in their parent."""
    kind = str(data.get("kind", "fieldtally"))
    seconds: dict[str, float] = data["seconds"]
    calls: dict[str, int] = data["calls"]
    window = float(data["window_s"]) * 1000 / messages

    def ms(name: str) -> float:
        return seconds.get(name, 0.0) * 1000 / messages

    handler, http = ms("handler"), ms("HTTP round trip")
    cpu = float(data["cpu_s"]) * 1000 / messages
    rows: list[tuple[str, float, str | None]] = [
        ("whole window (first send → last answer)", window, None),
        ("  CPU of the bot process, all threads", cpu, None),
    ]
    if kind == "fieldtally":
        core, write = ms("core"), ms("db Database.write")
        commit, other = ms("db COMMIT"), ms("db other round trips")
        limiter = ms("ExtBot._do_post") - ms("Bot._do_post")
        reply = handler - core
        rows += [
            ("  report handler (TelegramCallbacks.report)", handler, "handler"),
            ("    core (ReportIntake.handle)", core, "core"),
            ("      Database.write (writer thread: BEGIN…COMMIT)", write, "db Database.write"),
            ("      aiosqlite round trips: COMMIT", commit, "db COMMIT"),
            ("      aiosqlite round trips: others", other, "db other round trips"),
            ("      rest of the core (Python on the loop)", core - write - commit - other, None),
            ("    reply (message.reply_text)", reply, None),
            ("      rate limiter wait (ExtBot._do_post − Bot._do_post)", limiter, None),
            ("      HTTP round trip (HTTPXRequest.do_request)", http, "HTTP round trip"),
            ("      PTB: build request, parse answer", reply - limiter - http, None),
        ]
    else:
        rows += [
            ("  echo handler", handler, "handler"),
            ("    HTTP round trip (HTTPXRequest.do_request)", http, "HTTP round trip"),
            ("    PTB: build request, parse answer", handler - http, None),
        ]
    overlapping = handler > window * 1.05
    if not overlapping:
        rows.append(("  outside the handler (getUpdates, dispatch)", window - handler, None))
    print(f"    where {kind}'s time goes, ms per message ({messages} messages):")
    if overlapping:
        print(
            f"      (updates handled concurrently: {handler / window:.1f} handlers in flight on "
            "average, so the steps add up to more than the window)"
        )
    for label, value, counter in rows:
        if counter is not None and not calls.get(counter):
            continue
        extra = f"   ({calls[counter] / messages:.1f} calls/message)" if counter else ""
        print(f"      {label:<52} {value:7.2f}{extra}")


async def child_main(args: argparse.Namespace) -> None:
    """`--serve`: run one bot until stdin closes; answer 'mark'/'unmark' for measurements."""
    breakdown: Breakdown | None = None
    if args.breakdown or args.profile_to is not None:
        breakdown = Breakdown()
        # Before the bot binds its callbacks.
        breakdown.install() if args.serve == "fieldtally" else breakdown.install_echo()
    stop = asyncio.Event()
    ready = asyncio.Event()
    main = serve(args.serve, args.api_url, args.token, args.db, args.rate_limiter_off)
    task = asyncio.create_task(main(stop, ready))
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    waiter = asyncio.create_task(ready.wait())
    await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        waiter.cancel()
        task.result()
        return
    print("ready", flush=True)

    profiler: cProfile.Profile | None = None
    profiles = 0
    marked_at = cpu_at = 0.0
    while not task.done():
        line = (await reader.readline()).decode().strip()
        if not line or line == "stop":
            break
        if line == "mark":
            if breakdown is not None:
                breakdown.reset()
            if args.profile_to is not None:
                profiler = cProfile.Profile()
                profiler.enable()
            marked_at, cpu_at = time.perf_counter(), time.process_time()
            print("marked", flush=True)
        elif line == "unmark":
            window = time.perf_counter() - marked_at
            answer: dict[str, Any] = {}
            if breakdown is not None:
                answer = breakdown.report(window, time.process_time() - cpu_at)
                answer["kind"] = args.serve
            if profiler is not None:
                profiler.disable()
                profiles += 1
                path = Path(f"{args.profile_to}-{profiles}.prof")
                profiler.dump_stats(path)
                answer["profile"] = str(path)
                profiler = None
            print(json.dumps(answer), flush=True)
    stop.set()
    await asyncio.wait_for(task, 60)


# -- one measurement -------------------------------------------------------------------------------


@dataclass
class Bench:
    sandbox: BotApiSandbox
    listeners: Listeners
    args: argparse.Namespace
    workdir: Path
    chiefs: list[SimUser]
    csv: bytes
    runs_started: int = 0

    def start_bot(self, kind: str, token: str, tag: str) -> RunningBot:
        db = self.workdir / f"{tag}.db" if kind == "fieldtally" else None
        if self.args.bots == "loop":
            return LoopBot(kind, self.sandbox.url, token, db, self.args.rate_limiter_off)
        profile = None
        if self.args.profile is not None:
            profile = self.args.profile / tag
        return ChildBot(
            kind,
            self.sandbox.url,
            token,
            db,
            profile,
            rate_limiter_off=self.args.rate_limiter_off,
            breakdown=self.args.breakdown,
        )

    async def setup_fieldtally(self, token: str) -> None:
        """Import the unit list and register every chief, at 0 ms latency."""
        admin = self.sandbox.make_user(ADMIN_ID, first_name="Quản trị")
        with self.listeners.watching(Stopwatch(token)) as watch:
            watch.sent(
                self.sandbox.send_document(
                    token, admin, "units.csv", self.csv, caption="/nhap", date=SENT_AT
                ),
                time.perf_counter(),
            )
            await watch.wait_all("unit import")
        [answer] = [s.answer or "" for s in watch.items()]
        if not answer.startswith(OK):
            raise RuntimeError(f"unit import refused: {answer[:500]}")
        with self.listeners.watching(Stopwatch(token)) as watch:
            for index, chief in enumerate(self.chiefs):
                message = self.sandbox.send_contact(
                    token, chief, "84" + phone(index)[1:], date=SENT_AT
                )
                watch.sent(message, time.perf_counter())
            await watch.wait_all("registration")
        refused = [s.answer for s in watch.items() if not (s.answer or "").startswith(OK)]
        if refused:
            raise RuntimeError(f"{len(refused)} registrations refused, e.g. {refused[0]!r}")

    async def measure(self, kind: str, latency_ms: int, run: int) -> Measurement:
        self.runs_started += 1
        token = self.sandbox.create_bot(username=f"bench{self.runs_started}_bot")
        tag = f"{kind}-{latency_ms}ms-run{run}"
        bot = self.start_bot(kind, token, tag)
        await bot.start()
        try:
            if kind == "fieldtally":
                await self.setup_fieldtally(token)
            await bot.mark()
            watch = Stopwatch(token)
            with self.listeners.watching(watch):
                self.sandbox.set_latency(None, latency_ms)
                try:
                    for j in range(self.args.reports):
                        text = report_text(j, self.args.reports)
                        for chief in self.chiefs:
                            message = self.sandbox.send_text(token, chief, text, date=SENT_AT)
                            watch.sent(message, time.perf_counter())
                    await watch.wait_all(f"{kind} at {latency_ms} ms")
                finally:
                    self.sandbox.set_latency(None, 0)
            breakdown = await bot.unmark()
        finally:
            await bot.stop()
        if breakdown is not None:
            print_breakdown(breakdown, watch.expected)
            if "profile" in breakdown:
                print_profile(kind, Path(breakdown["profile"]))
        self.check(kind, watch)
        return measurement(watch)

    def check(self, kind: str, watch: Stopwatch) -> None:
        """Every message answered as it should be: ✅ from fieldtally, its own text from echo."""
        if kind == "fieldtally":
            bad = [s for s in watch.items() if not (s.answer or "").startswith(OK)]
        else:
            bad = [s for s in watch.items() if s.answer != s.text]
        if bad or watch.stray:
            example = bad[0] if bad else None
            texts = sorted({s.text for s in bad})
            raise RuntimeError(
                f"{kind}: {len(bad)} of {watch.expected} messages not acknowledged, in "
                f"{len({s.chat_id for s in bad})} chats; their texts: {texts}"
                + (f"; e.g. {example.text!r} → {example.answer!r}" if example else "")
                + (f"; {len(watch.stray)} replies to no message" if watch.stray else "")
            )


def print_profile(kind: str, path: Path, top: int = 25) -> None:
    out = io.StringIO()
    stats = pstats.Stats(str(path), stream=out)
    stats.sort_stats("tottime").print_stats(top)
    lines = [line for line in out.getvalue().splitlines() if line.strip()]
    start = next((i for i, line in enumerate(lines) if "ncalls" in line), 0)
    print(f"    cProfile of the {kind} process, top {top} by own time ({path}):")
    for line in lines[start : start + top + 1]:
        print(f"      {line}")


# -- main ------------------------------------------------------------------------------------------


def machine() -> str:
    try:
        pages, page_size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
        ram = f"{pages * page_size / 2**30:.0f} GiB RAM"
    except (ValueError, OSError):
        ram = "RAM unknown"
    return (
        f"{os.cpu_count()} CPUs, {ram}, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}"
    )


def mark(ok: bool) -> str:
    return "✔" if ok else "✘"


def fmt_runs(values: Sequence[float], digits: int) -> str:
    return ", ".join(f"{v:.{digits}f}" for v in values)


def print_results(
    latency_ms: int, runs: int, results: dict[str, list[Measurement]], messages: int
) -> None:
    print(f"\n## latency {latency_ms} ms — {messages} messages, median of {runs} run(s)")
    print(
        f"  {'bot':<11} {'answers/s':>10} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}   "
        "answers/s of each run"
    )
    medians: dict[str, Measurement] = {}
    for kind in KINDS:
        ms = results[kind]
        median = Measurement(
            messages=messages,
            seconds=statistics.median(m.seconds for m in ms),
            per_second=statistics.median(m.per_second for m in ms),
            p50_ms=statistics.median(m.p50_ms for m in ms),
            p95_ms=statistics.median(m.p95_ms for m in ms),
            p99_ms=statistics.median(m.p99_ms for m in ms),
        )
        medians[kind] = median
        print(
            f"  {kind:<11} {median.per_second:10.1f} {median.p50_ms:8.0f} {median.p95_ms:8.0f} "
            f"{median.p99_ms:8.0f}   {fmt_runs([m.per_second for m in ms], 1)}"
        )
    ratio = medians["fieldtally"].per_second / medians["echo"].per_second
    p95_s = medians["fieldtally"].p95_ms / 1000
    if latency_ms == 0:
        targets = (
            f"target ≥ {TARGET_RATIO_0MS} (issue 4) {mark(ratio >= TARGET_RATIO_0MS)}, "
            f"≥ {TARGET_RATIO_0MS_ISSUE7} (issue 7) {mark(ratio >= TARGET_RATIO_0MS_ISSUE7)}"
        )
    elif latency_ms == 50:
        targets = (
            f"target ≥ {TARGET_RATIO_50MS_ISSUE7:g}× (issue 7) "
            f"{mark(ratio >= TARGET_RATIO_50MS_ISSUE7)}; fieldtally p95 {p95_s:.2f} s, "
            f"target ≤ {TARGET_P95_50MS_S:g} s (issue 7) {mark(p95_s <= TARGET_P95_50MS_S)}"
        )
    else:
        targets = "no target at this latency"
    print(f"  ratio fieldtally / echo (answers/s): {ratio:.2f}×   {targets}", flush=True)


async def run(args: argparse.Namespace, workdir: Path) -> None:
    print(f"# End-to-end benchmark — {dt.datetime.now():%Y-%m-%d %H:%M}, {machine()}")
    print(f"# command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    print("# load average at start: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    messages = args.chiefs * args.reports
    print(
        f"# {args.chiefs} chiefs × {args.reports} reports = {messages} messages sent at once; "
        f"bots in {'child processes' if args.bots == 'process' else 'this event loop'}; "
        f"runs: {args.runs} at 0 ms, {args.runs_at_latency} above 0 ms"
        + (" (fewer, to keep the run short)" if args.runs_at_latency < args.runs else ""),
        flush=True,
    )
    if args.profile is not None:
        args.profile.mkdir(parents=True, exist_ok=True)
        print("# --profile: the figures are slowed by the profiler", flush=True)
    if args.rate_limiter_off:
        print("# --rate-limiter-off: fieldtally runs WITHOUT its 30 messages/s limit", flush=True)
    async with BotApiSandbox() as sandbox:
        bench = Bench(
            sandbox=sandbox,
            listeners=Listeners(sandbox),
            args=args,
            workdir=workdir,
            chiefs=[
                sandbox.make_user(FIRST_CHIEF_ID + i, first_name=f"Tổ trưởng {i + 1}")
                for i in range(args.chiefs)
            ],
            csv=units_csv(args.chiefs),
        )
        for latency_ms in args.latency_ms:
            runs = args.runs if latency_ms == 0 else args.runs_at_latency
            results: dict[str, list[Measurement]] = {kind: [] for kind in KINDS}
            for run_index in range(runs):
                for kind in KINDS:
                    m = await bench.measure(kind, latency_ms, run_index + 1)
                    results[kind].append(m)
                    print(
                        f"  {latency_ms} ms run {run_index + 1} {kind:<10}: "
                        f"{m.per_second:7.1f} answers/s, {m.seconds:5.1f} s, "
                        f"p50/p95/p99 {m.p50_ms:.0f}/{m.p95_ms:.0f}/{m.p99_ms:.0f} ms",
                        flush=True,
                    )
            print_results(latency_ms, runs, results, messages)


def latencies(value: str) -> list[int]:
    try:
        values = [int(v) for v in value.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError("comma-separated whole milliseconds, e.g. 0,50") from None
    if not values or any(v < 0 for v in values):
        raise argparse.ArgumentTypeError("comma-separated whole milliseconds, e.g. 0,50")
    return values


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--chiefs", type=int, default=100, help="chiefs/areas (default 100)")
    parser.add_argument("--reports", type=int, default=5, help="reports per chief (default 5)")
    parser.add_argument(
        "--latency-ms", type=latencies, default=[0, 50], help="Bot API latencies (default 0,50)"
    )
    parser.add_argument("--runs", type=int, default=3, help="runs per bot at 0 ms (default 3)")
    parser.add_argument(
        "--runs-at-latency",
        type=int,
        default=2,
        help="runs per bot above 0 ms (default 2: each bot needs ~30 s per run at 50 ms)",
    )
    parser.add_argument(
        "--bots",
        choices=("process", "loop"),
        default="process",
        help="run each bot in a child process (default) or on this event loop",
    )
    parser.add_argument(
        "--breakdown",
        action="store_true",
        help="time the steps of each message in the bot processes (cheap; figures stay true)",
    )
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        help="--breakdown, plus cProfile of the bot processes into DIR (slows them down)",
    )
    parser.add_argument(
        "--rate-limiter-off",
        action="store_true",
        help="what-if: fieldtally without AIORateLimiter's 30 messages/s overall limit",
    )
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: 20 chiefs × 3 reports, 1 run each"
    )
    # The child side of --bots process (not for direct use).
    parser.add_argument("--serve", choices=KINDS, help=argparse.SUPPRESS)
    parser.add_argument("--api-url", help=argparse.SUPPRESS)
    parser.add_argument("--token", help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--profile-to", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.chiefs, args.reports, args.runs, args.runs_at_latency = 20, 3, 1, 1
    if args.chiefs < 1 or not 1 <= args.reports <= 720:
        parser.error("--chiefs must be ≥ 1 and --reports in 1..720")
    if args.runs < 1 or args.runs_at_latency < 1:
        parser.error("--runs and --runs-at-latency must be ≥ 1")
    if args.profile is not None:
        args.breakdown = True
    if args.breakdown and args.bots != "process":
        parser.error("--breakdown and --profile need --bots process")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.serve is not None:
        asyncio.run(child_main(args))
        return 0
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="fieldtally-e2e-") as workdir:
        try:
            asyncio.run(run(args, Path(workdir)))
        except RuntimeError as error:
            print(f"\nFAILED: {error}", file=sys.stderr)
            return 1
    print(f"\ntotal wall time {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
