"""Chart rendering rate (issue 19): by-child turnout charts of 16, 23 and 34 bars, in this process
and through the bot's process pool.

    .venv/bin/python benchmarks/charts_rate.py [--charts 40] [--workers 2]

Specs come from the bot's own path (`bot.monitoring.summary.chart_by_child` over an `Overview`),
with
different numbers in every chart (seeded), so nothing is served from a cache keyed on the data.
16 bars: a small province's communes; 23: a commune's polling areas (the median of the national
benchmark's communes, 6–128); 34: the provinces under the root, or a big province's communes.

- one process: `bot.monitoring.charts.render(spec)` one after another (the first, a warm-up, not
counted);
- pool: `ChartRenderer(workers=N)` (the bot's), every chart submitted at once as a push would,
  after the workers are started (a running bot has them).

Ends with the lines `make bench` collects (the pool rate against the issue's targets, and the
national push estimated from the 23-bar rate: 3,321 commune charts at that rate)::

    RESULT charts_16_bars_pool <n> charts/s target 30 met|missed
    RESULT charts_34_bars_pool <n> charts/s target 15 met|missed
    RESULT push_national_estimate <s> s target 120 met|missed
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
from bot.monitoring.charts import ChartRenderer, ChartSpec, render  # noqa: E402
from bot.monitoring.summary import Overview, chart_by_child  # noqa: E402

NOW = dt.datetime(2026, 3, 15, 9, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
COMMUNE_GROUPS = 3_321  # the national push: one chart per commune group
TARGETS = {16: 30.0, 34: 15.0}  # charts/s on 2 cores (issue 19)
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
    rates: dict[int, tuple[float, float]] = {}
    for bars in (16, 23, 34):
        specs = [spec(bars, rng, n) for n in range(args.charts)]
        alone, alone_cpu = one_process(specs[: max(2, args.charts // 2)])
        pooled = asyncio.run(pool(specs, args.workers))
        rates[bars] = (alone, pooled)
        print(f"{bars} bars: one process {alone:.1f} charts/s ({1000 / alone_cpu:.0f} ms CPU a "
              f"chart), pool {pooled:.1f} charts/s", flush=True)  # fmt: skip
    push_s = COMMUNE_GROUPS / rates[23][1]
    print(f"national push estimate: {COMMUNE_GROUPS:,} commune charts at the 23-bar pool rate "
          f"= {push_s:.0f} s (rendering only; sending not counted)")  # fmt: skip
    print()
    for bars, target in TARGETS.items():
        rate = rates[bars][1]
        print(f"RESULT charts_{bars}_bars_pool {rate:.1f} charts/s target {target:g} "
              f"{verdict(rate >= target)}")  # fmt: skip
    print(f"RESULT push_national_estimate {push_s:.0f} s target {PUSH_TARGET_S:g} "
          f"{verdict(push_s <= PUSH_TARGET_S)}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
