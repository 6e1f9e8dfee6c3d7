"""National roll-up benchmark (issue 3): a whole country's election day through the real core.

    .venv/bin/python benchmarks/national_rollup.py [--areas 85000] [--voters 69000000]
        [--reported 0.9] [--db PATH] [--in-flight 100] [--quick] [--profile DIR]

1. Writes a synthetic national units CSV to a temporary directory: root ``VN`` → the 34 real
   provinces → their 3,321 real communes (real codes, names and kinds, from
   fieldtally/data/vn_units_2025) → ``--areas`` synthetic polling areas spread over the communes
   (by a noisy weight, at least one each), voters summing exactly to ``--voters``, staff 11–21,
   one fake phone each. Seeded: the same arguments give the same file.
2. Imports it with ``bot.registration.unit_import.import_units`` into a fresh SQLite file.
3. Feeds reports for ``--reported`` of the areas through ``Core.report`` (parse, validate,
   store, running totals; no Telegram), as an admin with area prefixes, 20 lines per message:
   a turnout at 9h and at 11h for all of them, a completion at 14h for half, a COVID tally for
   70%. Waves are sent one after the other; within a wave ``--in-flight`` messages are
   outstanding at once, like that many chats sending together (the core commits whatever
   is waiting as one group; ``--in-flight 1`` gives the one-message-at-a-time figure).
4. Times the roll-up (``overview``), the over-the-day chart data, chart rendering, a push of
   by-child charts for many units through the core's process pool (and through a thread), and
   the bot's own scheduled push (``Core.scheduled_summaries``).
5. Prints peak RSS (this process, by phase, and the chart workers) and the database size, and
   checks the national totals against sums the benchmark keeps of what it sent.

Exits non-zero when a report is not accepted or a total is wrong. Targets are printed next
to the figures; missing one does not fail the run (they are what issue 3 aims for).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import csv
import datetime as dt
import os
import platform
import pstats
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

PROJECT = Path(__file__).resolve().parents[1]
if str(PROJECT) not in sys.path:  # runnable from a checkout without the editable install
    sys.path.insert(0, str(PROJECT))

from bot.channel import Address  # noqa: E402
from bot.core import MAX_IMPORT_BYTES, Core, Where  # noqa: E402
from bot.messaging.answers import Status  # noqa: E402
from bot.model import Unit  # noqa: E402
from bot.monitoring.charts import ChartRenderer, ChartSpec, render  # noqa: E402
from bot.monitoring.summary import chart_by_child, chart_over_day, overview  # noqa: E402
from bot.registration.unit_import import import_units  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.turnout.intake import InboundText  # noqa: E402
from storage.tree import UnitIndex  # noqa: E402

UNITS_2025 = PROJECT / "fieldtally" / "data" / "vn_units_2025"
HEADER = ["code", "parent_code", "kind", "name", "registered_voters", "staff", "contact_phones"]
ROOT = "VN"
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
ELECTION_DAY = dt.date(2026, 3, 15)
SENT_AT = dt.datetime.combine(ELECTION_DAY, dt.time(20, 0), tzinfo=TZ)  # after every stated time
ADMIN_ID = 1
ADMIN = Address("telegram", str(ADMIN_ID))
SEED = 20260315

# Targets of issue 3.
TARGET_ROOT_MS = 50.0
TARGET_COMMUNE_MS = 2.0
TARGET_RSS_MB = 300.0
TARGET_CHARTS_PER_S = 30.0
TARGET_INGEST_PER_S = 20_000.0


# -- 1. the units file ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Area:
    code: str
    voters: int
    staff: int


@dataclass(slots=True)
class Country:
    provinces: list[str]
    communes: dict[str, int] = field(default_factory=dict)  # commune code -> number of areas
    areas: list[Area] = field(default_factory=list)

    @property
    def units(self) -> int:
        return 1 + len(self.provinces) + len(self.communes) + len(self.areas)


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as file:
        return list(csv.DictReader(file))


def _spread(total: int, weights: Sequence[float], minimum: int) -> list[int]:
    """`total` split by `weights` (largest remainder), each share at least `minimum`."""
    spare = total - minimum * len(weights)
    if spare < 0:
        raise SystemExit(f"cannot give {len(weights)} parts at least {minimum} out of {total}")
    scale = spare / sum(weights)
    exact = [w * scale for w in weights]
    shares = [int(x) for x in exact]
    left = spare - sum(shares)
    for i in sorted(range(len(exact)), key=lambda i: shares[i] - exact[i])[:left]:
        shares[i] += 1
    return [minimum + s for s in shares]


def write_country(path: Path, n_areas: int, n_voters: int, rng: random.Random) -> Country:
    """Write the units CSV to `path` row by row (nothing big stays in memory)."""
    provinces = _read(UNITS_2025 / "provinces.csv")
    communes = _read(UNITS_2025 / "communes.csv")
    # Communes differ in size: a log-normal weight, cities' wards a little heavier.
    weights = [
        rng.lognormvariate(0.0, 0.45) * (1.3 if c["commune_type"] == "Phường" else 1.0)
        for c in communes
    ]
    per_commune = _spread(n_areas, weights, 1)
    area_voters = _spread(n_voters, [rng.uniform(0.55, 1.45) for _ in range(n_areas)], 0)
    country = Country([p["province_code"] for p in provinces])
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file, lineterminator="\n")
        writer.writerow(HEADER)
        writer.writerow([ROOT, "", "quốc gia", "Việt Nam", "", "", ""])
        for p in provinces:
            kind = p["province_type"].lower()
            writer.writerow([p["province_code"], ROOT, kind, p["province_full_name"], "", "", ""])
        index = 0
        for commune, count in zip(communes, per_commune, strict=True):
            code, province = commune["commune_code"], commune["province_code"]
            kind = commune["commune_type"].lower()
            writer.writerow([code, province, kind, commune["commune_full_name"], "", "", ""])
            country.communes[code] = count
            for k in range(1, count + 1):
                area = Area(f"{code}-{k:03d}", area_voters[index], rng.randint(11, 21))
                name = f"Khu vực bỏ phiếu số {k} – {commune['commune_name']}"
                writer.writerow([area.code, code, "khu vực bỏ phiếu", name, area.voters,
                                 area.staff, f"+849{index:08d}"])  # fmt: skip
                country.areas.append(area)
                index += 1
    return country


# -- 3. the reports ------------------------------------------------------------------------------


@dataclass(slots=True)
class Expected:
    """What the national totals must be, from what was sent."""

    voted: dict[str, int] = field(default_factory=dict)  # area -> latest count
    finished: int = 0
    staff_tested: int = 0
    positives: int = 0


def plan_reports(
    areas: Sequence[Area], share: float, rng: random.Random, expected: Expected
) -> list[tuple[str, list[str]]]:
    """The report lines of the day, wave by wave: (wave name, lines in sending order)."""
    reported = rng.sample(list(areas), round(share * len(areas)))
    nine, eleven, done, covid = [], [], [], []
    for a in reported:
        v9 = round(a.voters * rng.uniform(0.25, 0.45))
        v11 = min(a.voters, v9 + round(a.voters * rng.uniform(0.2, 0.35)))
        nine.append(f"{a.code}: {v9}/{a.voters} 9h")
        eleven.append(f"{a.code}: {v11}/{a.voters} 11h")
        expected.voted[a.code] = v11
    for a in rng.sample(reported, len(reported) // 2):
        final = max(expected.voted[a.code], round(a.voters * rng.uniform(0.9, 0.995)))
        done.append(f"{a.code}: xong {final}/{a.voters} 14h")
        expected.voted[a.code] = final
        expected.finished += 1
    for a in rng.sample(reported, round(0.7 * len(reported))):
        if rng.random() < 0.05:
            tested, positives = a.staff - 1, 1
            covid.append(f"{a.code}: xn {tested}/{a.staff} dương tính {positives}")
        else:
            tested, positives = a.staff, 0
            covid.append(f"{a.code}: xn {tested}/{a.staff} âm tính")
        expected.staff_tested += tested
        expected.positives += positives
    waves = [
        ("turnout 9h", nine),
        ("turnout 11h", eleven),
        ("completion 14h", done),
        ("covid", covid),
    ]
    for _, lines in waves:
        rng.shuffle(lines)  # reports arrive from all over the country
    return waves


async def send_wave(
    core: Core, lines: list[str], per_message: int, in_flight: int, first_id: int
) -> int:
    """Send `lines` as messages, `in_flight` outstanding at once; the next free message id.

    Fails on any reply that is not a ✅."""
    chunks: Iterator[tuple[int, list[str]]] = (
        (first_id + n, lines[start : start + per_message])
        for n, start in enumerate(range(0, len(lines), per_message))
    )

    async def chat() -> None:
        for message_id, chunk in chunks:  # shared iterator: each chunk is sent once
            result = await core.report(
                InboundText(ADMIN, str(message_id), ADMIN, "\n".join(chunk), SENT_AT)
            )
            bad = [r for r in result.replies if r.status is not Status.ACCEPTED]
            if len(result.replies) != len(chunk) or bad:
                raise SystemExit(f"report not accepted in message {message_id}: {bad[:1]}")

    await asyncio.gather(*(chat() for _ in range(max(1, in_flight))))
    return first_id + -(-len(lines) // per_message)


async def ingest(
    core: Core, waves: Sequence[tuple[str, list[str]]], per_message: int, in_flight: int
) -> tuple[int, float, list[str]]:
    """Send every wave through the core; (reports, seconds, a note per wave)."""
    message_id = 1
    total_reports = 0
    total_seconds = 0.0
    notes = []
    for name, lines in waves:
        started = time.perf_counter()
        message_id = await send_wave(core, lines, per_message, in_flight, message_id)
        seconds = time.perf_counter() - started
        total_reports += len(lines)
        total_seconds += seconds
        rate = len(lines) / seconds
        notes.append(f"{name}: {len(lines):,} reports in {seconds:.1f} s ({rate:,.0f}/s)")
    return total_reports, total_seconds, notes


# -- 4. timings ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Timing:
    median_ms: float
    p95_ms: float
    runs: int


async def timed(action: Callable[[], Awaitable[Any]], runs: int) -> Timing:
    await action()  # warm-up, not counted
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        await action()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    p95 = samples[min(len(samples) - 1, max(0, round(0.95 * len(samples)) - 1))]
    return Timing(statistics.median(samples), p95, runs)


async def push(renderer: ChartRenderer, specs: Sequence[ChartSpec]) -> tuple[float, float]:
    """(charts per second, mean PNG kB) rendering all `specs` at once, as a push would.

    Each PNG is dropped when it arrives (a push sends it and forgets it)."""
    sizes: list[int] = []

    async def one(spec: ChartSpec) -> None:
        image = await renderer.render(spec)
        sizes.append(len(image.png))

    started = time.perf_counter()
    await asyncio.gather(*(one(spec) for spec in specs))
    seconds = time.perf_counter() - started
    return len(specs) / seconds, statistics.mean(sizes) / 1000


def push_units(units: UnitIndex, provinces: Sequence[str], count: int) -> list[Unit]:
    """`count` units with children: every province, then communes spread over the land."""
    chosen = [u for u in (units.get(code) for code in provinces) if u is not None][:count]
    communes = [u for p in provinces for u in units.children(p)]
    step = max(1, len(communes) // max(1, count - len(chosen)))
    chosen += communes[::step][: count - len(chosen)]
    return chosen


# -- memory and machine ----------------------------------------------------------------------------


def rss_mb() -> float:
    """This process's peak RSS so far (ru_maxrss is in KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb() -> float:
    """This process's resident set now (VmRSS): what it holds, not its high-water mark."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def memory() -> tuple[float, float]:
    return rss_mb(), current_rss_mb()


def worker_peaks_mb() -> list[float]:
    """Peak RSS (VmHWM) of this process's multiprocessing workers, read from /proc.

    Not RUSAGE_CHILDREN: a spawned child starts as a fork of this process and Linux keeps
    that fork's RSS as the child's ru_maxrss, so it would report at least our own size."""
    peaks = []
    for children in Path("/proc/self/task").glob("*/children"):
        for pid in children.read_text().split():
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            if b"spawn_main" not in cmdline:
                continue  # e.g. multiprocessing's resource tracker
            for line in status.splitlines():
                if line.startswith("VmHWM:"):
                    peaks.append(int(line.split()[1]) / 1024)
    return peaks


def machine() -> str:
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            kib = int(meminfo.readline().split()[1])
        ram = f"{kib / 1024 / 1024:.1f} GiB RAM"
    except (OSError, ValueError, IndexError):
        ram = "RAM unknown"
    return f"{os.cpu_count()} CPUs, {ram}, Python {platform.python_version()}, {platform.system()}"


def code_version() -> str:
    """The commit measured, and whether bot/ or storage/ had uncommitted changes (read-only git)."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=PROJECT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "bot", "storage"],
            cwd=PROJECT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return f"{head}" + (" + uncommitted changes in bot/ or storage/" if dirty else "")


def load() -> str:
    return "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


# -- output --------------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def row(name: str, value: str, target: str = "", status: str = "") -> None:
    print(f"| {name:<66} | {value:>22} | {target:>10} | {status:<6} |", flush=True)


def timing_row(name: str, t: Timing, target_ms: float | None = None) -> None:
    label = f"{name} (median / p95 of {t.runs})"
    value = f"{t.median_ms:,.2f} / {t.p95_ms:,.2f} ms"
    if target_ms is None:
        row(label, value)
    else:
        row(label, value, f"≤ {target_ms:g} ms", verdict(t.median_ms <= target_ms))


# -- main ----------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--areas", type=int, default=85_000, help="polling areas (85000)")
    parser.add_argument("--voters", type=int, default=69_000_000, help="voters in all")
    parser.add_argument("--reported", type=float, default=0.9, help="share of areas reporting")
    parser.add_argument("--db", type=Path, help="SQLite file to create (must not exist); kept")
    parser.add_argument("--lines-per-message", type=int, default=20)
    parser.add_argument(
        "--in-flight", type=int, default=100, help="messages outstanding at once (100)"
    )
    parser.add_argument("--push-units", type=int, default=700, help="units in the pool push")
    parser.add_argument(
        "--thread-push-units", type=int, default=50, help="units in the thread push (a rate)"
    )
    parser.add_argument(
        "--summary-units", type=int, default=30, help="groups in the scheduled-summary test"
    )
    parser.add_argument("--runs", type=int, default=20, help="runs per timing (at least 20)")
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: 5,000 areas, smaller pushes"
    )
    parser.add_argument(
        "--profile", type=Path, help="cProfile the ingest (event loop and writer thread) into DIR"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.areas, args.push_units, args.thread_push_units = 5_000, 100, 20
        args.summary_units = 10
        args.voters = min(args.voters, args.areas * 812)
    args.runs = max(20, args.runs)
    if not 0 < args.reported <= 1:
        parser.error("--reported must be in (0, 1]")
    return args


async def run(args: argparse.Namespace, workdir: Path) -> bool:
    rng = random.Random(SEED)
    db_path = args.db or workdir / "national.db"
    if db_path.exists():
        raise SystemExit(f"{db_path} exists; the benchmark needs a fresh file")
    print(f"# National roll-up benchmark — {dt.datetime.now():%Y-%m-%d %H:%M}, {machine()}")
    print(f"# command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    print(f"# code: {code_version()}")
    print(f"# load average at start: {load()}", flush=True)

    started = time.perf_counter()
    csv_path = workdir / "national_units.csv"
    country = write_country(csv_path, args.areas, args.voters, rng)
    csv_bytes = csv_path.read_bytes()
    print(
        f"generated {csv_path}: {country.units:,} units, {len(csv_bytes) / 1e6:.1f} MB "
        f"(upload limit {MAX_IMPORT_BYTES / 1e6:.1f} MB) in {time.perf_counter() - started:.1f} s"
    )
    figures: dict[str, Any] = {"baseline": memory()}

    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        FIELDTALLY_DB=str(db_path),
        FIELDTALLY_ELECTION_DATE=ELECTION_DAY.isoformat(),
        FIELDTALLY_ADMINS=str(ADMIN_ID),
    )
    core = await Core.open(settings, chart_workers=2)
    thread_renderer = ChartRenderer(workers=0)
    try:
        # 2. import
        started = time.perf_counter()
        ok, reply = await import_units(core.db, csv_bytes)
        import_s = time.perf_counter() - started
        if not ok:
            raise SystemExit(f"import refused:\n{reply[:2000]}")
        del csv_bytes
        print(f"import {country.units:,} units: {import_s:.1f} s", flush=True)
        figures["import"] = memory()
        expected = Expected()
        waves = plan_reports(country.areas, args.reported, rng, expected)

        # 3. ingest
        profilers = (cProfile.Profile(), cProfile.Profile()) if args.profile else None
        if profilers:
            await core.db.write(lambda _: profilers[1].enable())  # the writer thread
            profilers[0].enable()
        n_reports, ingest_s, notes = await ingest(
            core, waves, args.lines_per_message, args.in_flight
        )
        if profilers:
            profilers[0].disable()
            await core.db.write(lambda _: profilers[1].disable())
        del waves
        for note in notes:
            print(f"  {note}")
        print(
            f"ingest {n_reports:,} reports ({args.lines_per_message} per message, "
            f"{args.in_flight} in flight): {ingest_s:.1f} s, {n_reports / ingest_s:,.0f} reports/s",
            flush=True,
        )
        figures["ingest"] = memory()

        # 6. totals check (before the timings, so a wrong total fails fast)
        totals_ok = await check_totals(core, country, expected, n_reports)

        # 4. timings
        db = core.db
        now = SENT_AT
        root = db.units.get(ROOT)
        # The largest province (most communes) and a commune of typical size.
        province = db.units.get(max(country.provinces, key=lambda p: len(db.units.children(p))))
        typical = round(len(country.areas) / len(country.communes))
        commune = db.units.get(
            min(country.communes, key=lambda c: abs(country.communes[c] - typical))
        )
        assert root is not None and province is not None and commune is not None
        runs = args.runs

        t_root = await timed(lambda: overview(db, root), runs)
        t_prov = await timed(lambda: overview(db, province), runs)
        t_comm = await timed(lambda: overview(db, commune), runs)
        root_view = await overview(db, root)
        comm_view = await overview(db, commune)
        t_day_root = await timed(lambda: chart_over_day(db, root_view, now), runs)
        t_day_comm = await timed(lambda: chart_over_day(db, comm_view, now), runs)
        figures["rollups"] = memory()

        # The push as the bot does it: by-child charts through its process pool.
        units = push_units(db.units, country.provinces, args.push_units)
        started = time.perf_counter()
        specs: list[ChartSpec] = [chart_by_child(await overview(db, u), now) for u in units]
        specs_ms = (time.perf_counter() - started) * 1000
        # Start the workers (spawn + matplotlib import) before timing: a running bot has them.
        await asyncio.gather(*(core.renderer.render(spec) for spec in specs[:4]))
        pool_rate, png_kb = await push(core.renderer, specs)

        # The bot's own scheduled push: one summary (text + 2 charts) per subscribed unit.
        subscribed = units[:: max(1, len(units) // args.summary_units)][: args.summary_units]
        for number, unit in enumerate(subscribed):
            group = Address("telegram", str(-100_000 - number))
            where = Where(ADMIN, group, in_group=True, chat_title=unit.name)
            answer = await core.subscribe(where, [unit.code])
            if not answer.ok:
                raise SystemExit(f"subscribing a group to {unit.code} failed: {answer.texts}")
        started = time.perf_counter()
        summaries = await core.scheduled_summaries()
        summaries_s = time.perf_counter() - started
        n_summary_charts = sum(len(summary.charts) for _, summary in summaries)
        del summaries
        figures["bot"] = memory()
        workers = worker_peaks_mb()

        # Rendering in this process: single charts, then the push through a thread.
        by_child_spec = chart_by_child(root_view, now)
        over_day_spec = await chart_over_day(db, root_view, now)

        async def render_here(spec: ChartSpec) -> None:
            render(spec)

        t_render_child = await timed(lambda: render_here(by_child_spec), runs)
        t_render_day = await timed(lambda: render_here(over_day_spec), runs)
        thread_specs = specs[: args.thread_push_units]
        thread_rate, _ = await push(thread_renderer, thread_specs)
        figures["end"] = memory()
        figures["load_end"] = load()
    finally:
        thread_renderer.close()
        await core.close()
    db_size = sum(p.stat().st_size for p in db_path.parent.glob(db_path.name + "*"))

    print()
    print(
        f"## Figures ({len(country.areas):,} areas, {args.voters:,} voters, "
        f"{args.reported:.0%} reporting)"
    )
    row("figure", "value", "target", "status")
    row("-" * 66, "-" * 22, "-" * 10, "-" * 6)
    row(f"import {country.units:,} units", f"{import_s:,.1f} s")
    ingest_rate = n_reports / ingest_s
    row(
        f"core ingest ({n_reports:,} reports, {args.in_flight} in flight)",
        f"{ingest_rate:,.0f} reports/s",
        f"≥ {TARGET_INGEST_PER_S:,.0f}",
        verdict(ingest_rate >= TARGET_INGEST_PER_S),
    )
    timing_row(f"overview root ({len(root_view.children)} children)", t_root, TARGET_ROOT_MS)
    n_prov = len(db.units.children(province.code))
    timing_row(f"overview province {province.code} ({n_prov} children)", t_prov)
    n_comm = len(comm_view.children)
    timing_row(f"overview commune {commune.code} ({n_comm} areas)", t_comm, TARGET_COMMUNE_MS)
    timing_row("chart_over_day spec, root", t_day_root)
    timing_row(f"chart_over_day spec, commune {commune.code}", t_day_comm)
    timing_row(f"render() by-child chart, root ({len(root_view.children)} bars)", t_render_child)
    timing_row("render() over-day chart, root", t_render_day)
    row(f"build {len(specs)} by-child chart specs", f"{specs_ms:,.0f} ms")
    row(
        f"push {len(specs)} by-child charts, ChartRenderer(workers=2)",
        f"{pool_rate:,.1f} charts/s",
        f"≥ {TARGET_CHARTS_PER_S:g}/s",
        verdict(pool_rate >= TARGET_CHARTS_PER_S),
    )
    row(f"push {len(thread_specs)} by-child charts, ChartRenderer(workers=0)",
        f"{thread_rate:,.1f} charts/s")  # fmt: skip
    row("mean PNG size, by-child chart", f"{png_kb:,.0f} kB")
    row(
        f"Core.scheduled_summaries(), {len(subscribed)} units",
        f"{len(subscribed) / summaries_s:,.2f} units/s",
    )
    row("  … its charts (by-child + over-day)", f"{n_summary_charts / summaries_s:,.1f} charts/s")
    for key, label in (
        ("baseline", "RSS before import (Python, libraries, benchmark data)"),
        ("import", "RSS after import"),
        ("ingest", "RSS after ingest (+ the benchmark's report lines)"),
        ("rollups", "RSS after roll-up timings"),
    ):
        row(f"{label}, peak / now", "{:,.0f} / {:,.0f} MB".format(*figures[key]))
    peak_bot, now_bot = figures["bot"]
    row(
        "RSS of the bot process after the pushes, peak / now",
        f"{peak_bot:,.0f} / {now_bot:,.0f} MB",
        f"≤ {TARGET_RSS_MB:g} MB",
        verdict(peak_bot <= TARGET_RSS_MB),
    )
    row("peak RSS of each chart worker", " / ".join(f"{w:,.0f}" for w in workers) + " MB")
    row("peak RSS, bot + chart workers", f"{peak_bot + sum(workers):,.0f} MB")
    row("RSS at the end (+ renders in this process), peak / now",
        "{:,.0f} / {:,.0f} MB".format(*figures["end"]))  # fmt: skip
    row("database file (with WAL)", f"{db_size / 1e6:,.1f} MB")
    row("totals check", "ok" if totals_ok else "FAILED")
    print(f"load average at the end: {figures['load_end']}")
    if args.profile and profilers:
        args.profile.mkdir(parents=True, exist_ok=True)
        for name, profiler in zip(("event-loop", "writer-thread"), profilers, strict=True):
            path = args.profile / f"ingest-{name}.prof"
            profiler.dump_stats(str(path))
            print(f"\n## Ingest profile, {name} ({path}; cProfile slows the run: read shares)")
            pstats.Stats(str(path)).sort_stats("tottime").print_stats(25)
    return totals_ok


async def check_totals(core: Core, country: Country, expected: Expected, n_reports: int) -> bool:
    """The root's running totals against the benchmark's own sums, and the provinces' sum."""
    db = core.db
    root = await db.totals(ROOT)
    want = {
        "areas_total": len(country.areas),
        "areas_reported": len(expected.voted),
        "areas_finished": expected.finished,
        "registered_voters": sum(a.voters for a in country.areas),
        "voted": sum(expected.voted.values()),
        "staff_total": sum(a.staff for a in country.areas),
        "staff_tested": expected.staff_tested,
        "positives": expected.positives,
    }
    problems = [
        f"{name}: stored {getattr(root, name):,}, expected {value:,}"
        for name, value in want.items()
        if getattr(root, name) != value
    ]
    provinces = await db.totals_of(country.provinces)
    for name in want:
        summed = sum(getattr(t, name) for t in provinces.values())
        if summed != getattr(root, name):
            problems.append(f"{name}: root {getattr(root, name):,} != provinces' sum {summed:,}")
    # Turnout and completion reports in force: 9h and 11h for each area, and the completions.
    counted = len(await db.count_points([a.code for a in country.areas]))
    want_points = 2 * len(expected.voted) + expected.finished
    if counted != want_points:
        problems.append(f"count reports in force {counted:,}, sent {want_points:,}")
    if problems:
        print("totals check: FAILED\n  " + "\n  ".join(problems), file=sys.stderr, flush=True)
        return False
    print(
        f"totals check: ok (voted {root.voted:,} of {root.registered_voters:,}, "
        f"{root.areas_reported:,} areas reported, {root.areas_finished:,} finished, "
        f"{n_reports:,} reports sent)",
        flush=True,
    )
    return True


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="fieldtally-bench-") as workdir:
        ok = asyncio.run(run(args, Path(workdir)))
    print(f"\ntotal wall time {time.perf_counter() - started:.0f} s")
    if not ok:
        print("FAILED: totals check", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
