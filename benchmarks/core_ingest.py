"""Core ingest: parse + validate + store + running totals, without Telegram.

Chiefs' reports go through the real `Core.report` on a real SQLite file (WAL,
synchronous=FULL: every acknowledged report is on disk). Two arrival patterns:
one message at a time (each waits for its own commit), and many messages at once, as the
bot sees them when chats are handled concurrently (they share group commits).

    .venv/bin/python benchmarks/core_ingest.py [--areas 2000] [--rounds 6]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.core import Core
from bot.intake import InboundText
from bot.settings import Settings
from bot.unit_import import import_units

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
TARGET = 20_000


def unit_file(areas: int) -> bytes:
    lines = ["code,parent_code,kind,name,registered_voters,staff,contact_phones", "P,,tỉnh,P,,,"]
    communes = max(1, areas // 25)
    lines += [f"C{c:04d},P,xã,Xã {c},,," for c in range(communes)]
    lines += [
        f"A{n:06d},C{n % communes:04d},khu vực bỏ phiếu,KV {n},900,15,09{n:08d}"
        for n in range(areas)
    ]
    return "\n".join(lines).encode()


def messages(areas: int, rounds: int, first_id: int) -> list[InboundText]:
    sent = dt.datetime(2021, 5, 23, 20, 0, tzinfo=TZ)
    out = []
    message_id = first_id
    for round_number in range(rounds):
        hour = 7 + 2 * round_number
        for n in range(areas):
            message_id += 1
            voted = 100 * (round_number + 1) + n % 50
            text = f"A{n:06d}: {voted}/900 {hour}h"
            out.append(InboundText(n + 1, message_id, 1, text, sent_at=sent))
    return out


async def run(areas: int, rounds: int, concurrent: bool) -> tuple[float, int]:
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            FIELDTALLY_DB=str(Path(folder) / "bench.db"),
            FIELDTALLY_ADMINS="1",
            FIELDTALLY_ELECTION_DATE="2021-05-23",
        )
        core = await Core.open(settings, chart_workers=0)
        try:
            ok, _ = await import_units(core.db, unit_file(areas))
            assert ok
            batch = messages(areas, rounds, first_id=0)
            start = time.perf_counter()
            if concurrent:
                results = await asyncio.gather(*(core.report(m) for m in batch))
            else:
                results = [await core.report(m) for m in batch]
            elapsed = time.perf_counter() - start
            assert all(r.replies[0].startswith("✅") for r in results), results[0].replies
            root = await core.db.totals("P")
            assert root.voted == sum(100 * rounds + n % 50 for n in range(areas))  # totals check
            return elapsed, len(batch)
        finally:
            await core.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--areas", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"{args.areas} areas × {args.rounds} reports, one report per message, "
          f"median of {args.runs} runs; totals checked after each run")  # fmt: skip
    for concurrent in (False, True):
        rates = []
        for _ in range(args.runs):
            elapsed, count = asyncio.run(run(args.areas, args.rounds, concurrent))
            rates.append(count / elapsed)
        label = "all at once (group commit)" if concurrent else "one message at a time"
        verdict = "✔" if statistics.median(rates) >= TARGET else "✘"
        print(f"  {label:28s} {statistics.median(rates):8,.0f} reports/s  "
              f"(target ≥ {TARGET:,} {verdict})")  # fmt: skip


if __name__ == "__main__":
    main()
