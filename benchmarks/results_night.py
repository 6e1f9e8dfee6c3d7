"""Results night benchmark (issue 17): a national night ingested, then `/ketqua` timed.

    .venv/bin/python benchmarks/results_night.py [--areas 72000] [--voters 69000000]
        [--qh-units 500] [--tinh-units 500] [--batch 500] [--runs 7] [--db PATH] [--quick]

1. Writes the national units CSV of ``national_rollup.py`` (root ``VN`` → the 34 real provinces →
   their 3,321 real communes → ``--areas`` synthetic polling areas, same generator and seed) and
   imports it into a fresh SQLite file.
2. Builds the ballot files of a 2026 night over it (3 ballots): ``qh`` and ``tinh`` electoral
   units (``--qh-units``, ``--tinh-units``) spread over the provinces by their areas, each a run
   of neighbouring communes, organized by the province; ``xa`` units inside each commune (one per
   ~4 areas). Seats: ``qh`` 3, ``tinh`` 3–5, ``xa`` 3–5; candidates seats + 2 (the legal
   minimum). Imported with ``bot.results.imports.import_results`` (the path of ``/nhap`` and
   ``fieldtally ballots import``), timed.
3. Ingests one confirmed record per area and ballot (areas × 3) through the store's API
   (``tx.results.add_record``: the record, the running totals of its electoral unit and of its
   candidates, in the same transaction), ``--batch`` records per transaction, timed.
4. Times ``/ketqua`` for the root and for the largest province (``Core.results``: the
   administrative unit's per-ballot lines, from the running totals), ``/ketqua`` of one ``qh``
   electoral unit (its standing and its chart, drawn in this process), ``/chuakq`` and
   ``/xuat kq`` of the province; median, min and max of ``--runs``.
5. Checks the root's answer: every electoral unit complete, and the ``qh`` units' summed votes
   equal to what was sent. Prints the figures and the lines ``make bench``-style tools read::

       RESULT results_root <ms> ms
       RESULT results_province <ms> ms

Exits non-zero when an import is refused or a check fails.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import datetime as dt
import io
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parents[1]
if str(PROJECT) not in sys.path:  # runnable from a checkout without the editable install
    sys.path.insert(0, str(PROJECT))

from benchmarks.national_rollup import (  # noqa: E402
    ADMIN_ID,
    ELECTION_DAY,
    SEED,
    TZ,
    machine,
    memory,
    write_country,
)
from bot.channel import Address  # noqa: E402
from bot.core import Core, Where  # noqa: E402
from bot.messaging.answers import Answer, Status  # noqa: E402
from bot.messaging.content import Document  # noqa: E402
from bot.registration.unit_import import import_units  # noqa: E402
from bot.results.imports import import_results  # noqa: E402
from bot.results.model import Ballot, ResultRecord  # noqa: E402
from bot.results.views import ResultsView  # noqa: E402
from bot.settings import Settings  # noqa: E402
from storage.database import Transaction  # noqa: E402

ADMIN = Address("telegram", str(ADMIN_ID))
NIGHT = int(dt.datetime.combine(ELECTION_DAY, dt.time(21, 0), tzinfo=TZ).timestamp())
BALLOTS = (Ballot.QH, Ballot.TINH, Ballot.XA)
AREAS_PER_XA_UNIT = 4
CANDIDATES_HEADER = ("ballot", "electoral_unit", "number", "name", "birth_date")


@dataclass(slots=True)
class Night:
    """The ballot files, and what was mapped (to build the records and check the totals)."""

    units: list[list[str | int]] = field(default_factory=list)
    candidates: list[list[str | int]] = field(default_factory=list)
    mappings: list[tuple[str, Ballot, str]] = field(default_factory=list)  # area, ballot, unit
    seats: dict[str, int] = field(default_factory=dict)
    voters: dict[str, int] = field(default_factory=dict)  # area -> list

    def files(self) -> list[tuple[str, bytes]]:
        def table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
            out = io.StringIO()
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(header)
            writer.writerows(rows)
            return out.getvalue().encode()

        return [
            (
                "electoral_units.csv",
                table(["ballot", "code", "name", "seats", "organizing_unit"], self.units),
            ),
            (
                "candidates.csv",
                table(CANDIDATES_HEADER, self.candidates),
            ),
            (
                "area_ballots.csv",
                table(
                    ["area_code", "ballot", "electoral_unit", "registered_voters"],
                    [(a, b.value, u, "") for a, b, u in self.mappings],
                ),
            ),
        ]


def _unit(night: Night, ballot: Ballot, code: str, name: str, seats: int, organizer: str,
          rng: random.Random) -> None:  # fmt: skip
    night.units.append([ballot.value, code, name, seats, organizer])
    night.seats[code] = seats
    for number in range(1, seats + 3):
        born = dt.date(1955, 1, 1) + dt.timedelta(days=rng.randrange(0, 12_000))
        night.candidates.append(
            [ballot.value, code, number, f"Người ứng cử {number} {code}", born.isoformat()]
        )


def _split(items: Sequence[str], parts: int) -> list[list[str]]:
    """`items` in `parts` runs of neighbours, as even as can be (each non-empty)."""
    parts = max(1, min(parts, len(items)))
    size, extra = divmod(len(items), parts)
    runs, start = [], 0
    for index in range(parts):
        end = start + size + (1 if index < extra else 0)
        runs.append(list(items[start:end]))
        start = end
    return runs


def build_night(units_csv: Path, qh_units: int, tinh_units: int, rng: random.Random) -> Night:
    """The 2026 night's ballot files over the units file just imported."""
    night = Night()
    provinces: dict[str, list[str]] = {}  # province -> its communes, file order
    areas_of: dict[str, list[str]] = {}  # commune -> its areas
    with units_csv.open(encoding="utf-8", newline="") as file:
        rows = list(csv.DictReader(file))
    kinds = {row["code"]: row["kind"] for row in rows}
    for row in rows:
        parent = row["parent_code"]
        if row["kind"] == "khu vực bỏ phiếu":
            areas_of.setdefault(parent, []).append(row["code"])
            night.voters[row["code"]] = int(row["registered_voters"] or 0)
        elif parent and kinds.get(parent) not in (None, "quốc gia"):
            provinces.setdefault(parent, []).append(row["code"])
    total = sum(len(a) for a in areas_of.values())
    for ballot, wanted in ((Ballot.QH, qh_units), (Ballot.TINH, tinh_units)):
        prefix = ballot.value.upper()
        for province, communes in provinces.items():
            share = sum(len(areas_of.get(c, ())) for c in communes) / total
            for k, run in enumerate(_split(communes, max(1, round(wanted * share))), start=1):
                code = f"{prefix}-{province}-{k}"
                seats = 3 if ballot is Ballot.QH else rng.randint(3, 5)
                _unit(night, ballot, code, f"Đơn vị bầu cử số {k}", seats, province, rng)
                night.mappings += [(a, ballot, code) for c in run for a in areas_of.get(c, ())]
    for communes in provinces.values():
        for commune in communes:
            areas = areas_of.get(commune, [])
            groups = _split(areas, max(1, len(areas) // AREAS_PER_XA_UNIT)) if areas else []
            for k, group in enumerate(groups, start=1):
                code = f"XA-{commune}-{k}"
                _unit(night, Ballot.XA, code, f"Đơn vị bầu cử số {k}", rng.randint(3, 5),
                      commune, rng)  # fmt: skip
                night.mappings += [(a, Ballot.XA, code) for a in group]
    return night


def a_record(area: str, ballot: Ballot, unit: str, listed: int, seats: int,
             rng: random.Random) -> ResultRecord:  # fmt: skip
    """A record whose numbers add up (the checks of the chat would pass it)."""
    voted = int(listed * rng.uniform(0.88, 0.99))
    invalid = int(voted * rng.uniform(0.0, 0.02))
    valid = voted - invalid
    candidates = seats + 2
    keep = valid * rng.uniform(max(1.0, seats - 0.5), seats)  # names kept on all valid ballots
    # the unit's favourites (the same in every area of it) well ahead of the others
    favourite = random.Random(unit).sample(range(candidates), seats)
    weights = [rng.uniform(1.6, 2.4) if n in favourite else 1.0 for n in range(candidates)]
    votes = [min(valid, int(keep * w / sum(weights))) for w in weights]
    votes[0] += max(0, valid - sum(votes))  # every valid ballot keeps at least one name
    return ResultRecord(
        area_code=area, ballot=ballot, electoral_unit=unit, registered_voters=listed,
        voted=voted, issued=voted, returned=voted, valid=valid, invalid=invalid,
        votes=tuple(votes), entered_by=ADMIN, entered_at=NIGHT + rng.randrange(0, 14_400),
        chat=ADMIN, text="kq",
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class Timing:
    median_ms: float
    min_ms: float
    max_ms: float


async def timed(action: Callable[[], Awaitable[Any]], runs: int) -> tuple[Timing, Any]:
    samples, last = [], None
    for _ in range(runs):
        started = time.perf_counter()
        last = await action()
        samples.append((time.perf_counter() - started) * 1000)
    return Timing(statistics.median(samples), min(samples), max(samples)), last


def row(name: str, value: str) -> None:
    print(f"  {name:<58} {value:>18}")


def timing_row(name: str, timing: Timing) -> None:
    row(
        name,
        f"{timing.median_ms:,.1f} ms (min {timing.min_ms:,.1f}, max {timing.max_ms:,.1f})",
    )


async def run(args: argparse.Namespace, workdir: Path) -> bool:
    rng = random.Random(SEED)
    db_path = args.db or workdir / "night.db"
    if db_path.exists():
        raise SystemExit(f"{db_path} exists; the benchmark needs a fresh file")
    print(f"# Results night benchmark — {dt.datetime.now():%Y-%m-%d %H:%M}, {machine()}")
    print(f"# command: {' '.join([Path(sys.executable).name, *sys.argv])}", flush=True)
    units_csv = workdir / "national_units.csv"
    country = write_country(units_csv, args.areas, args.voters, rng)
    settings = Settings(
        _env_file=None,
        FIELDTALLY_DB=str(db_path),
        FIELDTALLY_ELECTION_DATE=ELECTION_DAY.isoformat(),
        FIELDTALLY_ADMINS=str(ADMIN_ID),
    )
    clock_now = dt.datetime.combine(ELECTION_DAY, dt.time(23, 59), tzinfo=TZ)
    core = await Core.open(settings, chart_workers=0, clock=lambda: clock_now)
    ok = True
    try:
        started = time.perf_counter()
        stored, reply = await import_units(core.db, units_csv.read_bytes())
        if not stored:
            raise SystemExit(f"units import refused:\n{reply[:2000]}")
        print(f"units: {country.units:,} ({len(country.areas):,} areas) imported in "
              f"{time.perf_counter() - started:.1f} s")  # fmt: skip

        night = build_night(units_csv, args.qh_units, args.tinh_units, rng)
        by_ballot = {b: sum(1 for u in night.units if u[0] == b.value) for b in BALLOTS}
        started = time.perf_counter()
        outcome = await import_results(core.db, night.files(), by=ADMIN)
        ballots_s = time.perf_counter() - started
        if not outcome.stored:
            raise SystemExit(f"ballot files refused:\n{outcome.text[:3000]}")
        print(
            f"ballot files: {len(night.units):,} electoral units (qh {by_ballot[Ballot.QH]}, "
            f"tinh {by_ballot[Ballot.TINH]}, xa {by_ballot[Ballot.XA]:,}), "
            f"{len(night.candidates):,} candidates, {len(night.mappings):,} area mappings; "
            f"imported in {ballots_s:.1f} s",
            flush=True,
        )

        records = [
            a_record(area, ballot, unit, night.voters[area], night.seats[unit], rng)
            for area, ballot, unit in night.mappings
        ]
        rng.shuffle(records)  # areas report in any order
        sent_qh_votes = sum(sum(r.votes) for r in records if r.ballot is Ballot.QH)
        started = time.perf_counter()
        for start in range(0, len(records), args.batch):
            batch = records[start : start + args.batch]

            def add(tx: Transaction, batch: Sequence[ResultRecord] = batch) -> None:
                for record in batch:
                    tx.results.add_record(record)

            await core.db.write(add)
        ingest_s = time.perf_counter() - started
        print(
            f"records: {len(records):,} confirmed in {ingest_s:.1f} s "
            f"({len(records) / ingest_s:,.0f} records/s, {args.batch} a transaction)",
            flush=True,
        )

        admin = Where(ADMIN, ADMIN)
        sizes: dict[str, int] = {}
        for commune, count in country.communes.items():
            parent = core.db.units.get(commune)
            if parent is not None and parent.parent_code:
                sizes[parent.parent_code] = sizes.get(parent.parent_code, 0) + count
        province = max(sizes, key=lambda p: sizes[p])
        qh_unit = next(str(u[1]) for u in night.units if u[0] == "qh" and u[4] == province)

        async def results(args_: list[str]) -> ResultsView:
            view = await core.view_results(admin, args_)
            assert isinstance(view, ResultsView), view
            return view

        async def answer(call: Callable[[], Awaitable[Answer]]) -> Answer:
            got = await call()
            assert got.status is Status.ACCEPTED, got
            return got

        root_t, root_view = await timed(lambda: results([]), args.runs)
        province_t, province_view = await timed(lambda: results([province]), args.runs)
        unit_t, _ = await timed(lambda: answer(lambda: core.results(admin, [qh_unit])), 3)
        missing_t, _ = await timed(
            lambda: answer(lambda: core.missing_results(admin, [province])), 3
        )
        export_t, exported = await timed(
            lambda: answer(lambda: core.export_results(ADMIN, [province])), 3
        )
        print(f"\n/ketqua and friends ({args.runs} runs, 3 for the last three):")
        timing_row(f"/ketqua (root VN: {len(root_view.standings):,} electoral units)", root_t)
        timing_row(
            f"/ketqua {province} (largest province: {len(province_view.standings):,} units)",
            province_t,
        )
        timing_row(f"/ketqua {qh_unit} (one qh unit; its chart drawn once, then cached)", unit_t)
        timing_row(f"/chuakq {province}", missing_t)
        size = sum(
            len(r.content.content) for r in exported.replies if isinstance(r.content, Document)
        )
        timing_row(f"/xuat kq {province} (two CSV files, {size / 1e6:.1f} MB)", export_t)
        peak, now = memory()
        row("RSS peak / now", f"{peak:,.0f} / {now:,.0f} MB")
        row("database size", f"{db_path.stat().st_size / 1e6:,.0f} MB")

        print("\nroot:")
        for tally in root_view.tallies:
            print(
                f"  {tally.ballot.value}: {tally.units_complete:,}/{tally.units_total:,} units "
                f"complete, {tally.seats_filled:,}/{tally.seats:,} seats filled, "
                f"{tally.revotes} re-votes, {tally.additional_votes} additional votes"
            )
        complete = all(t.units_complete == t.units_total for t in root_view.tallies)
        qh_codes = [u.code for u in root_view.standings if u.ballot is Ballot.QH]
        qh_votes = sum(sum(t.votes) for t in (await core.db.results.totals_of(qh_codes)).values())
        print(f"  {'✔' if complete else '✘'} every electoral unit complete")
        print(f"  {'✔' if qh_votes == sent_qh_votes else '✘'} qh votes {qh_votes:,} = sent "
              f"{sent_qh_votes:,}")  # fmt: skip
        ok = complete and qh_votes == sent_qh_votes
        print(f"\nRESULT results_root {root_t.median_ms:.1f} ms")
        print(f"RESULT results_province {province_t.median_ms:.1f} ms")
        print(f"RESULT results_ingest {len(records) / ingest_s:.0f} records/s")
    finally:
        await core.close()
    return ok


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--areas", type=int, default=72_000)
    parser.add_argument("--voters", type=int, default=69_000_000)
    parser.add_argument("--qh-units", type=int, default=500)
    parser.add_argument("--tinh-units", type=int, default=500)
    parser.add_argument("--batch", type=int, default=500, help="records a transaction")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--db", type=Path, help="keep the database here (a new file)")
    parser.add_argument("--quick", action="store_true", help="5,000 areas, 4 M voters")
    args = parser.parse_args(argv)
    if args.quick:
        args.areas, args.voters = 5_000, 4_000_000
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="fieldtally-night-") as workdir:
        return 0 if asyncio.run(run(args, Path(workdir))) else 1


if __name__ == "__main__":
    sys.exit(main())
