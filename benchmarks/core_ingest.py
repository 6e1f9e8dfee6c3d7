"""Core ingest: parse + validate + store + running totals, without Telegram, on SQLite and on
PostgreSQL, with one bot process or several sharing one PostgreSQL database.

Chiefs' reports go through the real `Core.report`. SQLite: a real file (WAL,
synchronous=FULL: every acknowledged report is on disk), one process (one process owns the
file). PostgreSQL: a throwaway server with PostgreSQL's durable defaults (fsync=on,
synchronous_commit=on), or `--postgres-url`, a fresh database per run; with N processes, each
runs its own `Core` (its own bot id) on the same database and ingests a disjoint share of the
areas, chosen so that every process reports into every commune (the worst case for the
communes' and the root's running-totals rows), all starting together at a barrier.

Two arrival patterns: one message at a time (each waits for its own commit; with N processes
that is N messages in flight), and many messages at once, as the bot sees them when chats are
handled concurrently (they share group commits). Units are imported once per run, before the
ingest; after each run the root's totals, the stored turnout points and every reply are
checked against what was sent.

    .venv/bin/python benchmarks/core_ingest.py [--backend sqlite|postgresql|all]
        [--processes 1 2] [--arrival one many] [--areas 500] [--rounds 4] [--runs 3]
        [--postgres-url postgresql://user@host/db]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import logging
import multiprocessing
import os
import platform
import statistics
import sys
import tempfile
import time
import traceback
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

PROJECT = Path(__file__).resolve().parents[1]
if str(PROJECT) not in sys.path:  # `tests` (the throwaway PostgreSQL server) is not installed
    sys.path.insert(0, str(PROJECT))

import psycopg  # noqa: E402

from bot.channel import Address  # noqa: E402
from bot.core import Core, settle_memory  # noqa: E402
from bot.messaging.answers import Status  # noqa: E402
from bot.model import Person  # noqa: E402
from bot.registration.phones import normalize_phone  # noqa: E402
from bot.registration.unit_import import import_units  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.turnout.intake import InboundText  # noqa: E402
from handlers.telegram.identity import bot_name  # noqa: E402
from storage.database import Database, Transaction  # noqa: E402
from tests.postgres_server import PostgresServer, find_binaries, new_database  # noqa: E402

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
TARGET = 20_000
BARRIER_SECONDS = 120  # a worker that cannot open its Core by then breaks the run
RUN_SECONDS = 1800  # the most one run may take before the workers are given up on


def communes_for(areas: int) -> int:
    return max(1, areas // 25)


def unit_file(areas: int) -> bytes:
    lines = ["code,parent_code,kind,name,registered_voters,staff,contact_phones", "P,,tỉnh,P,,,"]
    communes = communes_for(areas)
    lines += [f"C{c:04d},P,xã,Xã {c},,," for c in range(communes)]
    lines += [
        f"A{n:06d},C{n % communes:04d},khu vực bỏ phiếu,KV {n},900,15,09{n:08d}"
        for n in range(areas)
    ]
    return "\n".join(lines).encode()


def share_of(n: int, areas: int, processes: int) -> int:
    """The process that reports area n. Area n is in commune n % communes, so the areas of
    one commune are n = c, c + communes, c + 2·communes, …: dealing those out in turn
    (starting one process further on in each commune, to even out the shares) puts every
    commune — and the root — in every process's share."""
    communes = communes_for(areas)
    return (n // communes + n % communes) % processes


def messages(
    areas: int, rounds: int, share: int = 0, processes: int = 1, *, chiefs: bool = False
) -> list[InboundText]:
    """Round after round, every area's turnout; only the areas of `share` of `processes`.
    Message ids are the same whatever the split (chat = area, so shares never collide).
    The sender: the admin (`FIELDTALLY_ADMINS=1`, not registered: the store is asked who they
    are for every message), or with `chiefs` each area's own registered chief, writing from
    their private chat (see `register_chiefs`)."""
    sent = dt.datetime(2021, 5, 23, 20, 0, tzinfo=TZ)
    out = []
    message_id = 0
    for round_number in range(rounds):
        hour = 7 + 2 * round_number
        for n in range(areas):
            message_id += 1
            if share_of(n, areas, processes) != share:
                continue
            voted = 100 * (round_number + 1) + n % 50
            text = f"A{n:06d}: {voted}/900 {hour:02d}h"  # "07h": morning (issue 14)
            chat = Address("telegram", str(n + 1))
            sender = chat if chiefs else Address("telegram", "1")
            out.append(InboundText(chat, str(message_id), sender, text, sent_at=sent))
    return out


def settings_for(target: str, token: str | None = None) -> Settings:
    return Settings(
        _env_file=None,
        FIELDTALLY_DB=target,
        FIELDTALLY_ADMINS="1",
        FIELDTALLY_ELECTION_DATE="2021-05-23",
    )


def bot_of(token: str | None) -> str:
    """The name of the bot a token stands for ("" without one), as the Telegram channel
    names it."""
    return "" if token is None else bot_name(int(token.split(":", 1)[0]))


# -- one run -----------------------------------------------------------------------------------


class _LogTally(logging.Handler):
    """Counts the store's conflict retries and keeps every warning or error logged."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.retries = 0
        self.problems: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name == "storage.postgres_engine" and "clashed" in record.getMessage():
            self.retries += 1
        elif record.levelno >= logging.WARNING:
            self.problems.append(f"{record.name}: {record.getMessage()}"[:300])


@contextlib.contextmanager
def log_tally() -> Iterator[_LogTally]:
    root = logging.getLogger()
    tally = _LogTally()
    level = root.level
    root.addHandler(tally)
    root.setLevel(logging.INFO)
    try:
        yield tally
    finally:
        root.removeHandler(tally)
        root.setLevel(level)


async def ingest(
    target: str,
    share: int,
    processes: int,
    token: str | None,
    areas: int,
    rounds: int,
    concurrent: bool,
    barrier: Barrier | None,
    chiefs: bool = False,
) -> dict[str, Any]:
    """One process's part: open a Core, wait for the others, send its share, close.
    Returns plain values (they cross a process boundary)."""
    batch = messages(areas, rounds, share, processes, chiefs=chiefs)
    with log_tally() as tally:
        core = await Core.open(settings_for(target), chart_workers=0, bot=bot_of(token))
        settle_memory()  # as the bot's process does once its store is open
        try:
            if barrier is not None:
                barrier.wait(BARRIER_SECONDS)  # the loop has nothing else to do meanwhile
            start = time.monotonic()  # CLOCK_MONOTONIC: comparable across processes
            cpu_start = time.process_time()  # every thread of this process: loop, writer, reader
            if concurrent:
                results = await asyncio.gather(*(core.report(m) for m in batch))
            else:
                results = [await core.report(m) for m in batch]
            end = time.monotonic()
            cpu = time.process_time() - cpu_start
        finally:
            await core.close()
    bad = [r.texts for r in results if r.status is not Status.ACCEPTED]
    return {
        "start": start,
        "end": end,
        "cpu": cpu,
        "reports": len(batch),
        "bad": len(bad),
        "first_bad": bad[0] if bad else None,
        "retries": tally.retries,
        "problems": tally.problems,
    }


def _worker(
    share: int,
    processes: int,
    target: str,
    areas: int,
    rounds: int,
    concurrent: bool,
    barrier: Barrier,
    results: multiprocessing.Queue[tuple[int, Any]],
    chiefs: bool = False,
) -> None:
    try:
        token = f"{1000 + share}:bench"  # a bot id of its own
        part = asyncio.run(
            ingest(target, share, processes, token, areas, rounds, concurrent, barrier, chiefs)
        )
        results.put((share, part))
    except BaseException:
        barrier.abort()
        results.put((share, traceback.format_exc()))


def ingest_in_processes(
    target: str, processes: int, areas: int, rounds: int, concurrent: bool, chiefs: bool = False
) -> list[dict[str, Any]]:
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(processes)
    queue: multiprocessing.Queue[tuple[int, Any]] = context.Queue()
    workers = [
        context.Process(
            target=_worker,
            args=(i, processes, target, areas, rounds, concurrent, barrier, queue, chiefs),
            name=f"ingest-{i}",
        )
        for i in range(processes)
    ]
    for worker in workers:
        worker.start()
    try:
        parts: list[dict[str, Any]] = []
        failures: list[str] = []
        for _ in workers:
            share, part = queue.get(timeout=RUN_SECONDS)
            if isinstance(part, str):
                failures.append(f"worker {share}:\n{part}")
            else:
                parts.append(part)
        if failures:
            raise RuntimeError("\n".join(failures))
        return parts
    finally:
        for worker in workers:
            worker.join(timeout=30)
            if worker.is_alive():
                worker.terminate()
                worker.join()


async def import_tree(target: str, areas: int, chiefs: bool = False) -> None:
    core = await Core.open(settings_for(target), chart_workers=0)
    try:
        ok, summary = await import_units(core.db, unit_file(areas))
        assert ok, summary
        if chiefs:
            await register_chiefs(core.db, areas)
    finally:
        await core.close()


async def register_chiefs(db: Database, areas: int) -> None:
    """Each area's chief registered, as sharing their contact registers them (the phone of
    `unit_file`, their private chat as `messages` sends from), in one write before the run:
    the bot process that ingests starts with none of them in its cache."""
    people = [
        Person(chat, phone, f"Tổ trưởng {n}", chat)
        for n in range(areas)
        for chat in [Address("telegram", str(n + 1))]
        for phone in [normalize_phone(f"09{n:08d}")]
        if phone is not None
    ]
    assert len(people) == areas

    def save(tx: Transaction) -> None:
        for person in people:
            tx.save_person(person)

    await db.write(save)


@dataclass
class Check:
    voted: int
    expected_voted: int
    areas_reported: int
    expected_areas: int
    points: int
    expected_points: int
    bad_messages: int

    @property
    def ok(self) -> bool:
        return (
            self.voted == self.expected_voted
            and self.areas_reported == self.expected_areas
            and self.points == self.expected_points
            and self.bad_messages == 0
        )

    def describe(self) -> str:
        return (
            f"root voted {self.voted:,} (expected {self.expected_voted:,}), areas reported "
            f"{self.areas_reported:,} (expected {self.expected_areas:,}), turnout points "
            f"{self.points:,} (expected {self.expected_points:,}), replies not ✅: "
            f"{self.bad_messages}"
        )


async def check_totals(target: str, areas: int, rounds: int, bad_messages: int) -> Check:
    """The root's running totals and the stored points, against what the messages imply."""
    database = await Database.open(target)
    try:
        root = await database.totals("P")
        points = await database.count_points([f"A{n:06d}" for n in range(areas)])
    finally:
        await database.close()
    return Check(
        voted=root.voted,
        expected_voted=sum(100 * rounds + n % 50 for n in range(areas)),
        areas_reported=root.areas_reported,
        expected_areas=areas,
        points=len(points),
        expected_points=areas * rounds,
        bad_messages=bad_messages,
    )


@dataclass(frozen=True)
class Case:
    backend: str  # "sqlite" or "postgresql"
    processes: int
    concurrent: bool

    @property
    def arrival(self) -> str:
        return "many at once (group commit)" if self.concurrent else "one at a time"


@dataclass
class Outcome:
    seconds: float
    cpu: float  # process CPU time (all threads) of the ingest, summed over the processes
    reports: int
    retries: int
    problems: list[str]
    check: Check


def run_case(case: Case, target: str, areas: int, rounds: int, chiefs: bool = False) -> Outcome:
    asyncio.run(import_tree(target, areas, chiefs))
    if case.processes == 1:
        token = "1000:bench" if case.backend == "postgresql" else None
        parts = [
            asyncio.run(ingest(target, 0, 1, token, areas, rounds, case.concurrent, None, chiefs))
        ]
    else:
        parts = ingest_in_processes(target, case.processes, areas, rounds, case.concurrent, chiefs)
    seconds = max(p["end"] for p in parts) - min(p["start"] for p in parts)
    bad = sum(p["bad"] for p in parts)
    check = asyncio.run(check_totals(target, areas, rounds, bad))
    problems = [text for p in parts for text in p["problems"]]
    problems += [f"first reply not ✅: {p['first_bad']}" for p in parts if p["first_bad"]]
    return Outcome(
        seconds=seconds,
        cpu=sum(p["cpu"] for p in parts),
        reports=sum(p["reports"] for p in parts),
        retries=sum(p["retries"] for p in parts),
        problems=problems,
        check=check,
    )


# -- databases ---------------------------------------------------------------------------------


class Postgres:
    """Where the PostgreSQL runs happen: a throwaway durable server, or the given one."""

    def __init__(self, url: str | None) -> None:
        self._given = url
        self._server: PostgresServer | None = None
        self.created: list[str] = []

    def __enter__(self) -> Postgres:
        if self._given is None:
            binaries = find_binaries()
            assert binaries is not None
            self._server = PostgresServer(binaries, durable=True)
            self._server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            if self._given is not None:  # leave the server as it was found
                with psycopg.connect(self._given, autocommit=True) as connection:
                    for url in self.created:
                        name = url.rsplit("/", 1)[1]
                        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            if self._server is not None:
                self._server.stop()

    @property
    def admin_url(self) -> str:
        if self._given is not None:
            return self._given
        assert self._server is not None
        return self._server.admin_url

    def new_database(self) -> str:
        url = new_database(self.admin_url)
        self.created.append(url)
        return url

    def settings(self) -> dict[str, str]:
        names = ("server_version", "fsync", "synchronous_commit", "full_page_writes", "wal_level")
        with psycopg.connect(self.admin_url) as connection:
            return {
                name: str(connection.execute(f"SHOW {name}").fetchone()[0])  # type: ignore[index]
                for name in names
            }


@contextlib.contextmanager
def sqlite_target() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="fieldtally-bench-") as folder:
        yield str(Path(folder) / f"bench-{uuid.uuid4().hex[:8]}.db")


# -- main --------------------------------------------------------------------------------------


@dataclass
class Row:
    case: Case
    outcomes: list[Outcome] = field(default_factory=list)


def plan(backends: list[str], processes: list[int], arrivals: list[str]) -> list[Case]:
    cases = []
    for backend in backends:
        for count in sorted(set(processes)) if backend == "postgresql" else [1]:
            for arrival in arrivals:
                cases.append(Case(backend, count, arrival == "many"))
    return cases


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--areas", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=4, help="reports per area (default 4)")
    parser.add_argument("--runs", type=int, default=3, help="runs per row; the median is shown")
    parser.add_argument(
        "--backend",
        choices=("sqlite", "postgresql", "all"),
        help="default: all when PostgreSQL binaries (or --postgres-url) are found, else sqlite",
    )
    parser.add_argument(
        "--postgres-url",
        help="a server to use instead of starting a throwaway one; the user must be allowed to"
        " CREATE DATABASE (one per run, dropped at the end)",
    )
    parser.add_argument(
        "--processes",
        type=int,
        nargs="+",
        default=[1, 2],
        help="bot processes sharing the PostgreSQL database (default: 1 2; SQLite runs 1)",
    )
    parser.add_argument(
        "--arrival",
        choices=("one", "many"),
        nargs="+",
        default=["one", "many"],
        help="one message at a time, and/or many at once (default: both)",
    )
    parser.add_argument(
        "--senders",
        choices=("admin", "chiefs"),
        default="admin",
        help="who sends every report: the admin, not registered, so the store is asked for"
        " each message (default, the figures of issues 4–19); or each area's registered"
        " chief, as on election day (looked up once, then cached)",
    )
    args = parser.parse_args()
    if min(args.processes) < 1:
        parser.error("--processes must be at least 1")

    have_postgres = args.postgres_url is not None or find_binaries() is not None
    backend = args.backend or ("all" if have_postgres else "sqlite")
    if args.backend is None and not have_postgres:
        print("note: no PostgreSQL binaries found (tests.postgres_server.find_binaries) and no")
        print("      --postgres-url: SQLite only")
    if backend != "sqlite" and not have_postgres:
        parser.error("PostgreSQL is not installed here; pass --postgres-url")
    backends = ["sqlite", "postgresql"] if backend == "all" else [backend]
    cases = plan(backends, args.processes, args.arrival)
    chiefs = args.senders == "chiefs"

    started = time.monotonic()
    print(
        f"machine: {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}, load average "
        + " ".join(f"{load:.2f}" for load in os.getloadavg())
    )
    print(
        f"{args.areas:,} areas ({communes_for(args.areas)} communes) × {args.rounds} reports, "
        f"one report per message, median of {args.runs} runs; units imported before each run; "
        "root totals, stored points and every reply checked after each run; senders: "
        + ("each area's registered chief" if chiefs else "the admin (not registered)")
    )
    if "sqlite" in backends:
        print("SQLite: a file in a temporary folder, journal_mode=WAL, synchronous=FULL;")
        print("        one process only (one process owns the file)")

    rows = [Row(case) for case in cases]
    with contextlib.ExitStack() as stack:
        postgres = (
            stack.enter_context(Postgres(args.postgres_url)) if "postgresql" in backends else None
        )
        if postgres is not None:
            shown = postgres.settings()
            where = "--postgres-url" if args.postgres_url else "throwaway server on loopback"
            print(
                f"PostgreSQL {shown['server_version']} ({where}): fsync={shown['fsync']}, "
                f"synchronous_commit={shown['synchronous_commit']}, "
                f"full_page_writes={shown['full_page_writes']} (read back with SHOW); "
                "a fresh database per run; N processes: each its own Core and bot id, "
                "a disjoint share of every commune's areas, started together at a barrier"
            )
        print(flush=True)
        for row in rows:
            for _ in range(args.runs):
                if row.case.backend == "sqlite":
                    with sqlite_target() as target:
                        outcome = run_case(row.case, target, args.areas, args.rounds, chiefs)
                else:
                    assert postgres is not None
                    target = postgres.new_database()
                    outcome = run_case(row.case, target, args.areas, args.rounds, chiefs)
                row.outcomes.append(outcome)
                mark = "✔" if outcome.check.ok else "✘"
                print(
                    f"  {row.case.backend} × {row.case.processes}, {row.case.arrival}: "
                    f"{outcome.reports / outcome.seconds:,.0f} reports/s in "
                    f"{outcome.seconds:.2f} s, CPU {outcome.cpu / outcome.reports * 1e6:,.0f} µs "
                    f"a report, conflict retries {outcome.retries}, totals {mark}",
                    flush=True,
                )
                if not outcome.check.ok:
                    print(f"    ✘ {outcome.check.describe()}")
                for problem in outcome.problems[:5]:
                    print(f"    logged: {problem}")

    print()
    print(
        "| backend | processes | arrival | reports | seconds | reports/s | runs (reports/s) "
        "| conflict retries | totals |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        rates = [o.reports / o.seconds for o in row.outcomes]
        seconds = statistics.median(o.seconds for o in row.outcomes)
        every = ", ".join(f"{rate:,.0f}" for rate in rates)
        verified = "✔" if all(o.check.ok for o in row.outcomes) else "✘"
        print(
            f"| {row.case.backend} | {row.case.processes} | {row.case.arrival} "
            f"| {row.outcomes[0].reports:,} | {seconds:.2f} | {statistics.median(rates):,.0f} "
            f"| {every} | {sum(o.retries for o in row.outcomes)} | {verified} |"
        )
    print(f"\nchecked after each run, e.g. the last: {rows[-1].outcomes[-1].check.describe()}")
    best = max(statistics.median(o.reports / o.seconds for o in row.outcomes) for row in rows)
    print(
        f"\ntarget (issue 4): ≥ {TARGET:,} reports/s — best row {best:,.0f} "
        f"{'✔' if best >= TARGET else '✘'}; total time {time.monotonic() - started:.0f} s, "
        "load average now " + " ".join(f"{load:.2f}" for load in os.getloadavg())
    )
    if not all(o.check.ok for row in rows for o in row.outcomes):
        sys.exit("✘ some run stored wrong totals (see above)")


if __name__ == "__main__":
    main()
