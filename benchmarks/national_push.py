"""The national 09:00 push, measured (issue 19): every commune group gets its summary.

    .venv/bin/python benchmarks/national_rollup.py --db /tmp/national.db   # builds the country
    .venv/bin/python benchmarks/national_push.py --db /tmp/national.db [--groups 3321]

Works on a copy of the national database that ``national_rollup.py --db`` kept (85,000 areas,
its reports). Subscribes one group to each of the first ``--groups`` communes (all 3,321 by
default), then times ``Core.scheduled_summaries()`` with the clock at 09:00 on election day:
the bot's own push, one summary (text, by-child chart, over-the-day chart) per subscribed
unit, rendered through the core's chart pool (2 workers). Nothing is sent: the send cap is
lifted, so the figure is the time until the last group has its charts (roll-ups, chart data,
rendering). Prints, with wall and CPU time of this process:

    RESULT push_national <s> s target 120 met|missed

(with ``--groups`` below 3,321 the RESULT is the measured rate scaled to 3,321 groups, and
says so on the line before).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from zoneinfo import ZoneInfo

PROJECT = Path(__file__).resolve().parent.parent
if str(PROJECT) not in sys.path:  # runnable from a checkout without the editable install
    sys.path.insert(0, str(PROJECT))

from bot.channel import Address  # noqa: E402
from bot.core import Core  # noqa: E402
from bot.model import Subscription  # noqa: E402
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


async def run(db_path: Path, groups: int) -> float:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        FIELDTALLY_DB=str(db_path),
        FIELDTALLY_ELECTION_DATE=ELECTION_DAY.isoformat(),
        FIELDTALLY_ADMINS=str(ADMIN_ID),
    )
    core = await Core.open(settings, chart_workers=2, clock=lambda: PUSH_AT)
    try:
        units = core.db.units
        communes = [u for root in units.roots for p in units.children(root.code)
                    for u in units.children(p.code)][:groups]  # fmt: skip

        def subscribe_all(tx: Transaction) -> None:
            for number, commune in enumerate(communes):
                group = Address("telegram", str(-100_000 - number))
                tx.subscribe(Subscription(group, "", commune.code, commune.name, ADMIN))

        await core.db.write(subscribe_all)
        print(f"{len(communes):,} commune groups subscribed", flush=True)
        # Start the chart workers (spawn + matplotlib import): a running bot has them.
        root = units.roots[0]
        await core.renderer.render(chart_by_child(await overview(core.db, root), PUSH_AT))
        wall, cpu = time.perf_counter(), time.process_time()
        summaries = await core.scheduled_summaries()
        wall_s, cpu_s = time.perf_counter() - wall, time.process_time() - cpu
        charts = sum(len(summary.charts) for _, summary in summaries)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"push: {len(summaries):,} summaries, {charts:,} charts in {wall_s:,.1f} s "
            f"({charts / wall_s:,.1f} charts/s); CPU of this process {cpu_s:,.1f} s; "
            f"peak RSS of this process {peak:,.0f} MB",
            flush=True,
        )
        return wall_s * COMMUNE_GROUPS / len(communes)
    finally:
        await core.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--db", type=Path, required=True, help="national_rollup.py --db file")
    parser.add_argument("--groups", type=int, default=COMMUNE_GROUPS, help="commune groups")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="fieldtally-push-") as tmp:
        copy = Path(tmp) / "national.db"
        for suffix in ("", "-wal"):
            source = Path(str(args.db) + suffix)
            if source.exists():
                shutil.copyfile(source, str(copy) + suffix)
        push_s = asyncio.run(run(copy, args.groups))
    if args.groups < COMMUNE_GROUPS:
        print(f"(scaled from {args.groups:,} groups to {COMMUNE_GROUPS:,})")
    verdict = "met" if push_s <= TARGET_S else "missed"
    print(f"RESULT push_national {push_s:.0f} s target {TARGET_S:g} {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
