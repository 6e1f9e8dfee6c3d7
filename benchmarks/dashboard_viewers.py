"""Issue 18 §5: what 200 open live dashboards cost the bot during a burst of reports.

The bot's side runs as in production, in one process: the real `Core` on a SQLite file (WAL,
synchronous=FULL), the real HTTP server on loopback with the dashboard mounted (shared
snapshots, the hub, `settle` 1 s, heartbeat 15 s), and reports going through `Core.report`
(`benchmarks/core_ingest.py`'s tree and messages: every area's turnout, round after round),
`--in-flight` messages at a time as chats are handled concurrently. The viewers are another
process (as browsers are elsewhere): `--viewers` event streams (`GET /d/{token}/events`)
spread over the root and `--viewed-communes` communes, each counting the snapshots it
receives. Each run imports the tree into a fresh database, opens the viewers (or not), waits
until every one has its first snapshot, then times the burst. Runs alternate without and with
viewers; the table gives the medians and the cost (1 − with / without).

    .venv/bin/python benchmarks/dashboard_viewers.py [--viewers 200] [--areas 2000]
        [--rounds 4] [--in-flight 50] [--runs 3] [--viewed-communes 20]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import multiprocessing
import os
import platform
import statistics
import sys
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parents[1]
if str(PROJECT) not in sys.path:
    sys.path.insert(0, str(PROJECT))

import aiohttp  # noqa: E402

from benchmarks.core_ingest import TZ, communes_for, messages, settings_for, unit_file  # noqa: E402
from bot.channel import COMMAND_LINE  # noqa: E402
from bot.core import Core, settle_memory  # noqa: E402
from bot.messaging.answers import Status  # noqa: E402
from bot.monitoring.dashboard_links import issue_link  # noqa: E402
from bot.registration.unit_import import import_units  # noqa: E402
from handlers.dashboard.routes import Dashboard  # noqa: E402
from handlers.http_server import HttpServer  # noqa: E402

TARGET_COST = 0.05  # issue 18: 200 open dashboards cost at most 5% of the report throughput


# -- the viewers' process ----------------------------------------------------------------------


async def _watch(urls: list[str], pipe: Connection) -> None:
    counts = [0] * len(urls)
    first = [asyncio.Event() for _ in urls]
    timeout = aiohttp.ClientTimeout(total=None, sock_read=None)
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as http:

        async def view(index: int, url: str) -> None:
            async with http.get(url) as response:
                assert response.status == 200, response.status
                async for line in response.content:
                    if line.startswith(b"event: snapshot"):
                        counts[index] += 1
                        first[index].set()

        tasks = [asyncio.create_task(view(i, url)) for i, url in enumerate(urls)]
        await asyncio.gather(*(event.wait() for event in first))
        pipe.send("ready")
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, pipe.recv)  # "stop"
        pipe.send(counts)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def _viewers(urls: list[str], pipe: Connection) -> None:
    asyncio.run(_watch(urls, pipe))


# -- the bot's side ----------------------------------------------------------------------------


async def one_run(
    target: str, areas: int, rounds: int, in_flight: int, viewers: int, viewed_communes: int
) -> dict[str, Any]:
    # The evening of the election day the messages are sent on (links expire on this clock).
    evening = dt.datetime(2021, 5, 23, 20, 0, tzinfo=TZ)
    core = await Core.open(settings_for(target), chart_workers=0, clock=lambda: evening)
    try:
        ok, summary = await import_units(core.db, unit_file(areas))
        assert ok, summary
        settle_memory()
        dashboard = Dashboard(core)
        server = HttpServer([("127.0.0.1", 0)])
        dashboard.mount(server)
        await server.start()
        host, port = server.addresses[0]
        watcher = None
        pipe = None
        try:
            if viewers:
                codes = ["P"] + [
                    f"C{c:04d}" for c in range(min(viewed_communes, communes_for(areas)))
                ]
                links = []
                for code in codes:
                    unit = core.db.units.get(code)
                    assert unit is not None
                    issued = await issue_link(
                        core.db, core.settings, unit, COMMAND_LINE, core.now()
                    )
                    links.append(f"http://{host}:{port}/d/{issued.url.rsplit('/d/', 1)[1]}/events")
                # Half the viewers on the root, the rest spread over the communes.
                spread = links[1:] or links[:1]
                urls = [links[0] if i % 2 == 0 else spread[(i // 2) % len(spread)]
                        for i in range(viewers)]  # fmt: skip
                context = multiprocessing.get_context("spawn")
                pipe, child = context.Pipe()
                watcher = context.Process(target=_viewers, args=(urls, child), name="viewers")
                watcher.start()
                loop = asyncio.get_running_loop()
                ready = await loop.run_in_executor(None, pipe.recv)
                assert ready == "ready", ready
            batch = messages(areas, rounds)
            computed_before = dashboard.snapshots.computed
            pushes_before = dashboard.hub.pushes
            gate = asyncio.Semaphore(in_flight)

            async def send(message: Any) -> Status:
                async with gate:
                    return (await core.report(message)).status

            start, cpu_start = time.perf_counter(), time.process_time()
            statuses = await asyncio.gather(*(send(m) for m in batch))
            seconds = time.perf_counter() - start
            cpu = time.process_time() - cpu_start  # every thread of the bot's process
            bad = sum(1 for s in statuses if s is not Status.ACCEPTED)
            # Let the last snapshot reach the viewers before counting what they received.
            await asyncio.sleep(3)
            received: list[int] = []
            if pipe is not None:
                pipe.send("stop")
                received = await asyncio.get_running_loop().run_in_executor(None, pipe.recv)
            return {
                "reports": len(batch),
                "seconds": seconds,
                "cpu": cpu,
                "bad": bad,
                "computed": dashboard.snapshots.computed - computed_before,
                "pushes": dashboard.hub.pushes - pushes_before,
                "received": received,
                "streams": dashboard.hub.open_streams,
            }
        finally:
            await dashboard.close()
            await server.stop()
            if watcher is not None:
                watcher.join(timeout=30)
                if watcher.is_alive():
                    watcher.terminate()
    finally:
        await core.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--viewers", type=int, default=200)
    parser.add_argument("--areas", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--in-flight", type=int, default=50)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--viewed-communes", type=int, default=20)
    args = parser.parse_args()
    print(
        f"machine: {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}, load average "
        + " ".join(f"{load:.2f}" for load in os.getloadavg())
    )
    print(
        f"{args.areas:,} areas ({communes_for(args.areas)} communes) × {args.rounds} reports, "
        f"{args.in_flight} messages in flight, SQLite (WAL, synchronous=FULL); viewers: "
        f"{args.viewers} event streams in another process, half on the root, half over "
        f"{args.viewed_communes} communes; runs alternate without / with viewers",
        flush=True,
    )
    results: dict[int, list[dict[str, Any]]] = {0: [], args.viewers: []}
    for run in range(args.runs):
        for viewers in (0, args.viewers):
            with tempfile.TemporaryDirectory(prefix="fieldtally-dash-") as folder:
                outcome = asyncio.run(
                    one_run(
                        str(Path(folder) / "bench.db"), args.areas, args.rounds,
                        args.in_flight, viewers, args.viewed_communes,
                    )
                )  # fmt: skip
            results[viewers].append(outcome)
            rate = outcome["reports"] / outcome["seconds"]
            received = outcome["received"]
            seen = (
                f", snapshots computed {outcome['computed']}, pushed {outcome['pushes']}, "
                f"received per viewer min {min(received)} / max {max(received)}"
                if received
                else ""
            )
            print(
                f"  run {run + 1}, {viewers:>3} viewers: {rate:,.0f} reports/s "
                f"({outcome['reports']:,} in {outcome['seconds']:.2f} s, CPU "
                f"{outcome['cpu'] / outcome['reports'] * 1000:.3f} ms a report, not ✅: "
                f"{outcome['bad']}){seen}",
                flush=True,
            )
    without = statistics.median(r["reports"] / r["seconds"] for r in results[0])
    with_viewers = statistics.median(r["reports"] / r["seconds"] for r in results[args.viewers])
    cost = 1 - with_viewers / without
    cpu_without = statistics.median(r["cpu"] / r["reports"] for r in results[0])
    cpu_with = statistics.median(r["cpu"] / r["reports"] for r in results[args.viewers])
    cpu_cost = cpu_with / cpu_without - 1
    print()
    print("| viewers | reports/s (median) | runs | bot CPU ms a report (median) |")
    print("|---|---|---|---|")
    for viewers, outcomes in results.items():
        rates = [o["reports"] / o["seconds"] for o in outcomes]
        cpu = statistics.median(o["cpu"] / o["reports"] * 1000 for o in outcomes)
        print(
            f"| {viewers} | {statistics.median(rates):,.0f} | "
            + ", ".join(f"{r:,.0f}" for r in rates)
            + f" | {cpu:.3f} |"
        )
    print(
        f"\ncost of {args.viewers} open dashboards: {cost:.1%} of the report throughput, "
        f"{cpu_cost:+.1%} CPU of the bot's process per report (target ≤ {TARGET_COST:.0%}) "
        f"{'✔' if cost <= TARGET_COST else '✘'}"
    )
    print(f"RESULT dashboard_viewers_cost {cost * 100:.1f} % target 5 "
          f"{'met' if cost <= TARGET_COST else 'missed'}")  # fmt: skip
    if any(r["bad"] for rs in results.values() for r in rs):
        sys.exit("✘ some report was not accepted")


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main()
