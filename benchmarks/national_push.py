"""The national 09:00 push, measured (issue 19): every commune group gets its summary.

    .venv/bin/python benchmarks/national_rollup.py --db /tmp/national.db   # builds the country
    .venv/bin/python benchmarks/national_push.py --db /tmp/national.db [--groups 3321]
        [--time-limit S]

Works on a copy of the database that ``national_rollup.py --db`` kept (85,000 areas, their
reports). Subscribes one group to each of the first ``--groups`` communes (all 3,321 by
default), then runs the bot's own push with the clock at 09:00 on election day, as the schedule
does (``handlers/run.py``): ``Core.scheduled_push_stream`` into ``Switchboard.send_stream``,
one summary (text, by-child chart, over-the-day chart) per group, rendered through the core's
pool of 2 chart workers (started before the timing), each handed to the sender as soon as it is
rendered. The sender is a channel that sends nothing (the send cap lifted: rendering is what is
measured). Prints the wall time until the last group was served and until the first, the CPU
time of the bot process and of the chart workers during the push, the bot process's peak RSS
during the push, and then::

    RESULT push_national <s> s target 120 met|missed

With ``--groups`` below 3,321, or when ``--time-limit`` stops the push before the last group,
the RESULT is the measured rate scaled to 3,321 groups, and the line before says so.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import os
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

PROJECT = Path(__file__).resolve().parent.parent
if str(PROJECT) not in sys.path:  # runnable from a checkout without the editable install
    sys.path.insert(0, str(PROJECT))

from bot.channel import Address, Capabilities, Markup, PhotoDelivery  # noqa: E402
from bot.core import Core  # noqa: E402
from bot.messaging.content import Content, Image, Outgoing  # noqa: E402
from bot.messaging.port import Switchboard  # noqa: E402
from bot.model import Subscription  # noqa: E402
from bot.monitoring.charts import ChartImage, ChartRenderer, ChartSpec  # noqa: E402
from bot.monitoring.summary import chart_by_child, overview  # noqa: E402
from bot.settings import Settings  # noqa: E402
from storage.database import Transaction  # noqa: E402

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
ELECTION_DAY = dt.date(2026, 3, 15)  # that of national_rollup.py
PUSH_AT = dt.datetime.combine(ELECTION_DAY, dt.time(9, 0), tzinfo=TZ)
COMMUNE_GROUPS = 3_321
TARGET_S = 120.0
ADMIN_ID = 1
ADMIN = Address("telegram", str(ADMIN_ID))
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


class NullChannel:
    """A Telegram-like bot that sends nothing: it counts what it was given and drops it."""

    name = "telegram:0"
    capabilities = Capabilities(
        channel="telegram",
        text_limit=4096,
        markup=Markup.HTML,
        edits=True,
        contact_button=True,
        command_menu=True,
        photos=PhotoDelivery.UPLOAD,
        documents=True,
        groups=True,
        buttons=True,
        numeric_ids=True,
    )

    def __init__(self) -> None:
        self.messages = 0
        self.images = 0
        self.png_bytes = 0
        self.chats: set[Address] = set()

    async def open(self) -> None:
        return None

    async def run(self, stop: asyncio.Event, ready: asyncio.Event | None = None) -> None:
        await stop.wait()

    async def send(self, to: Address, content: Content, *, automatic: bool = False) -> bool:
        self.messages += 1
        self.chats.add(to)
        if isinstance(content, Image):
            self.images += 1
            self.png_bytes += len(content.png)
        return True

    async def close(self) -> None:
        return None


@dataclass
class Served:
    """When each batch (one unit's summary to its chats) had been sent, from the start."""

    started: float = field(default_factory=time.perf_counter)
    at: list[float] = field(default_factory=list)

    async def watch(self, batches: AsyncIterator[list[Outgoing]]) -> AsyncIterator[list[Outgoing]]:
        async for batch in batches:
            yield batch  # resumed once the switchboard has sent it
            self.at.append(time.perf_counter() - self.started)


class PoolWatch:
    """How many charts are in the renderer (queued for or drawn by a worker) over time: its
    time-weighted mean says whether both workers had work, whatever the machine's load."""

    def __init__(self, renderer: ChartRenderer) -> None:
        self.charts = 0
        self.most = 0
        self._area = 0.0
        self._since = self._started = time.perf_counter()
        draw = renderer.render

        async def render(spec: ChartSpec) -> ChartImage:
            self._move(+1)
            try:
                return await draw(spec)
            finally:
                self._move(-1)

        renderer.render = render  # type: ignore[method-assign]

    def _move(self, step: int) -> None:
        now = time.perf_counter()
        self._area += self.charts * (now - self._since)
        self._since = now
        self.charts += step
        self.most = max(self.most, self.charts)

    def mean(self) -> float:
        self._move(0)
        return self._area / max(self._since - self._started, 1e-9)


def chart_workers() -> list[int]:
    """The pids of this process's multiprocessing workers (spawned children)."""
    pids = []
    for children in Path("/proc/self/task").glob("*/children"):
        for pid in children.read_text().split():
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            if b"spawn_main" in cmdline:  # not multiprocessing's resource tracker
                pids.append(int(pid))
    return sorted(pids)


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (/proc/<pid>/stat)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def status_mb(field_name: str, pid: int | str = "self") -> float:
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return float("nan")
    for line in lines:
        if line.startswith(field_name + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def reset_peak_rss() -> bool:
    """Start this process's high-water mark (VmHWM) again from its current RSS (Linux ≥ 4.0)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


async def sample_rss(peak: list[float], stop: asyncio.Event) -> None:
    """The highest VmRSS seen every 50 ms: the peak where VmHWM cannot be reset."""
    while not stop.is_set():
        peak[0] = max(peak[0], status_mb("VmRSS"))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.05)


@dataclass
class Figures:
    groups: int
    served: int
    wall_s: float
    first_s: float
    bot_cpu_s: float
    workers_cpu_s: list[float]
    peak_rss_mb: float
    rss_before_mb: float
    workers_peak_mb: list[float]
    messages: int
    images: int
    png_mb: float
    charts_in_pool_mean: float
    charts_in_pool_most: int


def commune_groups(core: Core, groups: int) -> Iterable[Subscription]:
    units = core.db.units
    communes = [u for root in units.roots for p in units.children(root.code)
                for u in units.children(p.code)][:groups]  # fmt: skip
    for number, commune in enumerate(communes):
        group = Address("telegram", str(-100_000 - number))
        yield Subscription(group, "", commune.code, commune.name, ADMIN)


async def run(db_path: Path, groups: int, time_limit: float | None) -> Figures:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        FIELDTALLY_DB=str(db_path),
        FIELDTALLY_ELECTION_DATE=ELECTION_DAY.isoformat(),
        FIELDTALLY_ADMINS=str(ADMIN_ID),
    )
    core = await Core.open(settings, chart_workers=2, clock=lambda: PUSH_AT)
    try:
        subscriptions = list(commune_groups(core, groups))

        def subscribe_all(tx: Transaction) -> None:
            for subscription in subscriptions:
                tx.subscribe(subscription)

        await core.db.write(subscribe_all)
        print(f"{len(subscriptions):,} commune groups subscribed", flush=True)
        # Start both chart workers (spawn + matplotlib import): a running bot has them. Two
        # provinces' charts at once; no commune's, so the push finds nothing drawn.
        units = core.db.units
        provinces = units.children(units.roots[0].code)[:2]
        views = [await overview(core.db, p) for p in provinces]
        await asyncio.gather(*(core.renderer.render(chart_by_child(v, PUSH_AT)) for v in views))
        workers = chart_workers()
        channel = NullChannel()
        switchboard = Switchboard([channel])
        workers_before = [cpu_seconds(pid) for pid in workers]
        rss_before = status_mb("VmRSS")
        hwm_reset = reset_peak_rss()
        sampled = [rss_before]
        sampling_stop = asyncio.Event()
        sampler = asyncio.create_task(sample_rss(sampled, sampling_stop))
        watch = PoolWatch(core.renderer)
        served = Served()
        cpu = time.process_time()
        stream = core.scheduled_push_stream()
        async with contextlib.aclosing(served.watch(stream)) as pushes:
            push = asyncio.ensure_future(switchboard.send_stream(pushes))
            done, _ = await asyncio.wait({push}, timeout=time_limit)
            if not done:
                push.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await push
                print(f"stopped at the time limit ({time_limit:g} s)", flush=True)
            else:
                push.result()
        wall_s = time.perf_counter() - served.started
        bot_cpu_s = time.process_time() - cpu
        sampling_stop.set()
        await sampler
        workers_cpu = [cpu_seconds(pid) - b for pid, b in zip(workers, workers_before, strict=True)]
        peak = max(status_mb("VmHWM"), sampled[0]) if hwm_reset else sampled[0]
        if not hwm_reset:
            peak = max(peak, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
        return Figures(
            groups=len(subscriptions),
            served=len(served.at),
            wall_s=served.at[-1] if len(served.at) == len(subscriptions) else wall_s,
            first_s=served.at[0] if served.at else float("nan"),
            bot_cpu_s=bot_cpu_s,
            workers_cpu_s=workers_cpu,
            peak_rss_mb=peak,
            rss_before_mb=rss_before,
            workers_peak_mb=[status_mb("VmHWM", pid) for pid in workers],
            messages=channel.messages,
            images=channel.images,
            png_mb=channel.png_bytes / 1e6,
            charts_in_pool_mean=watch.mean(),
            charts_in_pool_most=watch.most,
        )
    finally:
        await core.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--db", type=Path, required=True, help="national_rollup.py --db file")
    parser.add_argument("--groups", type=int, default=COMMUNE_GROUPS, help="commune groups")
    parser.add_argument(
        "--time-limit", type=float, help="stop the push after this many seconds (then scaled)"
    )
    args = parser.parse_args(argv)
    print(f"# load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    with tempfile.TemporaryDirectory(prefix="fieldtally-push-") as tmp:
        copy = Path(tmp) / "national.db"
        for suffix in ("", "-wal"):
            source = Path(str(args.db) + suffix)
            if source.exists():
                shutil.copyfile(source, str(copy) + suffix)
        f = asyncio.run(run(copy, args.groups, args.time_limit))
    workers_cpu = sum(f.workers_cpu_s)
    print(
        f"push: {f.served:,} of {f.groups:,} groups served, {f.messages:,} messages "
        f"({f.images:,} charts, {f.png_mb:,.0f} MB of PNG) in {f.wall_s:,.1f} s "
        f"({f.images / f.wall_s:,.1f} charts/s); first group served after {f.first_s:,.2f} s"
    )
    print(
        f"CPU during the push: bot process {f.bot_cpu_s:,.1f} s, chart workers "
        + " + ".join(f"{c:,.1f}" for c in f.workers_cpu_s)
        + f" = {workers_cpu:,.1f} s ({(f.bot_cpu_s + workers_cpu) / max(f.images, 1) * 1000:,.0f}"
        f" ms a chart in all)"
    )
    print(
        f"peak RSS of the bot process during the push {f.peak_rss_mb:,.0f} MB "
        f"(before it {f.rss_before_mb:,.0f} MB); chart workers' peaks "
        + " / ".join(f"{w:,.0f}" for w in f.workers_peak_mb)
        + " MB"
    )
    print(
        f"charts in the pool (queued or drawn) during the push: mean {f.charts_in_pool_mean:.2f},"
        f" most {f.charts_in_pool_most}"
    )
    print(f"# load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"PUSH first_group_s {f.first_s:.2f} peak_rss_mb {f.peak_rss_mb:.0f}")
    push_s = f.wall_s
    if f.served < COMMUNE_GROUPS:
        push_s = f.wall_s * COMMUNE_GROUPS / max(f.served, 1)
        print(f"(scaled from {f.served:,} groups served to {COMMUNE_GROUPS:,})")
    verdict = "met" if push_s <= TARGET_S else "missed"
    print(f"RESULT push_national {push_s:.0f} s target {TARGET_S:g} {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
