"""Chart rendering rate (issue 19): by-child turnout charts of 16, 23 and 34 bars, and the
over-the-day chart, in this process and through the bot's process pool.

    .venv/bin/python benchmarks/charts_rate.py [--charts 40] [--workers 2]

Specs come from the bot's own path (`bot.monitoring.summary.chart_by_child` over an `Overview`),
with
different numbers in every chart (seeded), so nothing is served from a cache keyed on the data.
16 bars: a small province's communes; 23: a commune's polling areas (the median of the national
benchmark's communes, 6–128); 34: the provinces under the root, or a big province's communes.
Over the day: the chart a commune group gets with its by-child chart at 09:00 (the commune
and its 5 slowest areas, a point every half hour from 07:00, two areas without a report), as
`bot.monitoring.summary.chart_over_day` shapes it.

- one process: `bot.monitoring.charts.render(spec)` one after another (the first, a warm-up, not
counted);
- pool: `ChartRenderer(workers=N)` (the bot's), every chart submitted at once as a push would,
  after the workers are started (a running bot has them).

Ends with the lines `make bench` collects (the pool rate against the issue's targets), after a
`#` line estimating the national push from the 23-bar and over-the-day rates (3,321 commune
groups, each sent one chart of each kind; `national_push.py` measures the real push)::

    RESULT charts_16_bars_pool <n> charts/s target 30 met|missed
    RESULT charts_34_bars_pool <n> charts/s target 15 met|missed
    RESULT charts_over_day_pool <n> charts/s target 30 met|missed

(The over-the-day target, 30/s, is what ≤ ~30 ms of CPU a chart on 2 cores gives: the push's
budget of 120 s for 2 × 3,321 charts.)
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from zoneinfo import ZoneInfo

PROJECT = Path(__file__).resolve().parents[1]
if str(PROJECT) not in sys.path:  # runnable from a checkout without the editable install
    sys.path.insert(0, str(PROJECT))

from bot.model import Totals, Unit  # noqa: E402
from bot.monitoring.charts import (  # noqa: E402
    ChartRenderer,
    ChartSpec,
    DaySeries,
    TurnoutOverDay,
    render,
)
from bot.monitoring.summary import Overview, chart_by_child  # noqa: E402

NOW = dt.datetime(2026, 3, 15, 9, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
COMMUNE_GROUPS = 3_321  # the national push: one chart per commune group
TARGETS = {16: 30.0, 34: 15.0}  # charts/s on 2 cores (issue 19)
OVER_DAY_TARGET = 30.0  # charts/s: ~30 ms of CPU a chart on 2 cores
PUSH_TARGET_S = 120.0


def unit(code: str, name: str, parent: str | None, depth: int, position: int) -> Unit:
    return Unit(code, parent, "xã", name, depth, False, None, None, (), position)


def spec(bars: int, rng: random.Random, number: int) -> ChartSpec:
    """A by-child chart of `bars` children with made-up but plausible numbers."""
    parent = unit(f"P{number}", f"Tỉnh Thử Nghiệm {number}", None, 0, 0)
    children = []
    reported = voted = voters = 0
    for k in range(bars):
        areas = rng.randint(6, 60)
        listed = areas * rng.randint(600, 1_000)
        done = rng.randint(0, areas)
        counted = int(listed * rng.uniform(0.05, 0.95))
        child = unit(f"C{number}-{k}", f"Phường Nguyễn Văn Cừ số {k + 1}", parent.code, 1, k)
        children.append((child, Totals(areas, done, 0, listed, counted, 0, 0, 0, None)))
        reported, voted, voters = reported + done, voted + counted, voters + listed
    total = Totals(sum(t.areas_total for _, t in children), reported, 0, voters, voted)
    return chart_by_child(Overview(parent, total, tuple(children)), NOW)


def over_day(rng: random.Random, number: int) -> TurnoutOverDay:
    """An over-the-day chart as a commune group gets it at 09:00: the commune and its five
    slowest areas, a point every half hour since 07:00, two areas without a report."""
    start = NOW.replace(hour=7)
    moments = [start + dt.timedelta(minutes=30 * k) for k in range(5)]
    series = []
    for k in range(6):
        value, points = 0.0, []
        for moment in moments:
            value = min(100.0, value + rng.uniform(0, 12))
            points.append((moment, round(value, 1)))
        name = f"Xã Thử Nghiệm {number}" if k == 0 else f"Khu vực bỏ phiếu số {k + 3}"
        series.append(DaySeries(name, tuple(points)))
    voted = rng.randint(1_000, 9_000)
    return TurnoutOverDay(
        title=f"Cử tri đi bầu trong ngày – Xã Thử Nghiệm {number}",
        subtitle=f"Cập nhật 09:00 15/03/2026 · {voted:,}/12.000 cử tri".replace(",", "."),
        series=tuple(series),
        day_start=start,
        day_end=NOW,
        unit_note=f"xong {rng.randint(0, 9)}/23 KV",
        not_reported=("Khu vực bỏ phiếu số 21", "Khu vực bỏ phiếu số 22"),
    )


def one_process(specs: Sequence[ChartSpec]) -> tuple[float, float]:
    """(charts/s of wall time, charts/s of this process's CPU time): on a shared machine the
    CPU figure is the steadier one, and twice it is what two idle cores could do."""
    render(specs[0])  # warm-up: fonts, caches
    started, cpu = time.perf_counter(), time.process_time()
    for each in specs[1:]:
        render(each)
    count = len(specs) - 1
    return count / (time.perf_counter() - started), count / (time.process_time() - cpu)


async def pool(specs: Sequence[ChartSpec], workers: int) -> float:
    renderer = ChartRenderer(workers=workers)
    try:
        await asyncio.gather(*(renderer.render(s) for s in specs[: 2 * workers]))  # start them
        started = time.perf_counter()
        await asyncio.gather(*(renderer.render(s) for s in specs))
        return len(specs) / (time.perf_counter() - started)
    finally:
        renderer.close()


def verdict(ok: bool) -> str:
    return "met" if ok else "missed"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--charts", type=int, default=40, help="charts per measurement (40)")
    parser.add_argument("--workers", type=int, default=2, help="pool size (2, the bot's)")
    args = parser.parse_args(argv)
    rng = random.Random(19)
    print(f"# chart rates: {args.charts} charts per measurement, pool of {args.workers}")
    rates: dict[int | str, tuple[float, float]] = {}
    kinds: list[tuple[int | str, list[ChartSpec]]] = [
        (bars, [spec(bars, rng, n) for n in range(args.charts)]) for bars in (16, 23, 34)
    ]
    kinds.append(("over the day", [over_day(rng, n) for n in range(args.charts)]))
    for kind, specs in kinds:
        alone, alone_cpu = one_process(specs[: max(2, args.charts // 2)])
        pooled = asyncio.run(pool(specs, args.workers))
        rates[kind] = (alone, pooled)
        name = f"{kind} bars" if isinstance(kind, int) else kind
        print(f"{name}: one process {alone:.1f} charts/s ({1000 / alone_cpu:.0f} ms CPU a "
              f"chart), pool {pooled:.1f} charts/s", flush=True)  # fmt: skip
    day_rate = rates["over the day"][1]
    push_s = COMMUNE_GROUPS / rates[23][1] + COMMUNE_GROUPS / day_rate
    print(f"national push estimate: {COMMUNE_GROUPS:,} commune groups × (a 23-bar chart + an "
          f"over-the-day chart) at the pool rates = {push_s:.0f} s (rendering only; sending "
          "not counted)")  # fmt: skip
    print(f"# push_national_estimate {push_s:.0f} s (target {PUSH_TARGET_S:g}; an estimate)")
    print()
    for bars, target in TARGETS.items():
        rate = rates[bars][1]
        print(f"RESULT charts_{bars}_bars_pool {rate:.1f} charts/s target {target:g} "
              f"{verdict(rate >= target)}")  # fmt: skip
    print(f"RESULT charts_over_day_pool {day_rate:.1f} charts/s target {OVER_DAY_TARGET:g} "
          f"{verdict(day_rate >= OVER_DAY_TARGET)}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
