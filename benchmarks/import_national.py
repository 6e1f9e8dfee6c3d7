"""National units import benchmark (issue 19): time and peak RSS of one import in a clean process.

    .venv/bin/python benchmarks/import_national.py [--areas 85000] [--voters 69000000]
        [--runs 2] [--reimport] [--xlsx] [--profile DIR]

1. Writes the national units CSV that ``national_rollup.py`` imports (root ``VN`` → the 34 real
   provinces → their 3,321 real communes from fieldtally/data/vn_units_2025 → ``--areas``
   synthetic polling areas; 88,356 units by default, 9.1 MB), with the same generator and seed.
2. For each run, starts a fresh Python process that loads what the bot loads (``bot.core``,
   ``handlers.telegram.application``: the libraries and the domain), opens a ``Core`` on a new
   SQLite file (no chart workers), reads the file and imports it with ``Core.import_units`` —
   the path of a ``/nhap`` upload — then reports:
   - the RSS of the process before the import (libraries only) and its peak over the whole run
     (``ru_maxrss``, i.e. VmHWM: the high-water mark, including everything before the import);
   - the import's wall time (parse, validate, store, totals), and with ``--reimport`` the time
     of importing the same file again over the stored tree (updates in place);
   - its RSS after the import (VmRSS: what the bot keeps).
3. Prints a table (median of the runs) and, last, the two lines ``make bench`` collects::

       RESULT rss_import_national <MB> MB target 300 met|missed
       RESULT import_national <s> s target 3 met|missed

Exits non-zero when the import is refused or the stored tree is not the file's.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
if str(PROJECT) not in sys.path:  # runnable from a checkout without the editable install
    sys.path.insert(0, str(PROJECT))

TARGET_RSS_MB = 300.0
TARGET_IMPORT_S = 3.0
ADMIN_ID = 1


def _rss_now_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _rss_peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def child(units_file: Path, workdir: Path, reimport: bool, profile: Path | None) -> int:
    """One clean process: load the bot, import the file, print the figures as JSON."""
    import asyncio

    import handlers.telegram.application  # noqa: F401  (the bot process loads it: count its memory)
    from bot.channel import Address
    from bot.core import Core
    from bot.settings import Settings

    admin = Address("telegram", str(ADMIN_ID))  # FIELDTALLY_ADMINS' bare 1: this Telegram user

    async def run() -> dict[str, float | int | str]:
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None,
            FIELDTALLY_DB=str(workdir / "import.db"),
            FIELDTALLY_ELECTION_DATE="2026-03-15",
            FIELDTALLY_ADMINS=str(ADMIN_ID),
        )
        core = await Core.open(settings, chart_workers=0)
        try:
            figures: dict[str, float | int | str] = {"before_mb": _rss_now_mb()}
            data = units_file.read_bytes()  # noqa: ASYNC240 (nothing else runs meanwhile)
            profiler = None
            if profile is not None:
                import cProfile

                profiler = cProfile.Profile()
                profiler.enable()
            started, cpu = time.perf_counter(), time.process_time()
            reply = await core.import_units(admin, data, units_file.name)
            figures["import_s"] = time.perf_counter() - started
            figures["import_cpu_s"] = time.process_time() - cpu  # every thread of the process
            if profiler is not None:
                profiler.disable()
                profile.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240
                profiler.dump_stats(str(profile / "import.prof"))
            if not reply.ok:
                raise SystemExit(f"import refused:\n{reply.texts[0][:2000]}")
            del data
            figures["peak_mb"] = _rss_peak_mb()
            figures["after_mb"] = _rss_now_mb()
            figures["units"] = len(core.db.units)
            figures["areas"] = sum(1 for unit in core.db.units if unit.is_area)
            root = core.db.units.roots[0]
            figures["voters"] = (await core.db.totals(root.code)).registered_voters
            if reimport:
                data = units_file.read_bytes()  # noqa: ASYNC240
                started = time.perf_counter()
                again = await core.import_units(admin, data, units_file.name)
                figures["reimport_s"] = time.perf_counter() - started
                if not again.ok:
                    raise SystemExit(f"re-import refused:\n{again.texts[0][:2000]}")
                del data
                figures["reimport_peak_mb"] = _rss_peak_mb()
                figures["reimport_after_mb"] = _rss_now_mb()
            return figures
        finally:
            await core.close()

    print(json.dumps(asyncio.run(run())))
    return 0


def write_units(path: Path, areas: int, voters: int) -> tuple[int, int]:
    """The national file of national_rollup.py (same generator, same seed): (units, voters)."""
    from benchmarks.national_rollup import SEED, write_country

    country = write_country(path, areas, voters, random.Random(SEED))
    return country.units, sum(area.voters for area in country.areas)


def to_xlsx(csv_path: Path, xlsx_path: Path) -> None:
    """The same rows as a workbook (codes as text), for the .xlsx path."""
    import csv

    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Đơn vị")
    with csv_path.open(encoding="utf-8", newline="") as file:
        for number, row in enumerate(csv.reader(file)):
            if number == 0:
                sheet.append(row)
                continue
            cells: list[str | int | None] = [cell or None for cell in row]
            for column in (4, 5):  # registered_voters, staff as numbers, as Excel keeps them
                if row[column]:
                    cells[column] = int(row[column])
            sheet.append(cells)
    workbook.save(xlsx_path)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--areas", type=int, default=85_000, help="polling areas (85000)")
    parser.add_argument("--voters", type=int, default=69_000_000, help="voters in all")
    parser.add_argument("--runs", type=int, default=2, help="clean processes (2)")
    parser.add_argument(
        "--reimport", action="store_true", help="also time a second import of the same file"
    )
    parser.add_argument("--xlsx", action="store_true", help="import the list as .xlsx instead")
    parser.add_argument("--profile", type=Path, help="cProfile the first run's import into DIR")
    parser.add_argument("--child", nargs=2, type=Path, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child:
        return child(args.child[0], args.child[1], args.reimport, args.profile)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="fieldtally-import-") as name:
        workdir = Path(name)
        units_path = workdir / "national_units.csv"
        n_units, n_voters = write_units(units_path, args.areas, args.voters)
        size = units_path.stat().st_size
        if args.xlsx:
            xlsx_path = workdir / "national_units.xlsx"
            to_xlsx(units_path, xlsx_path)
            units_path, size = xlsx_path, xlsx_path.stat().st_size
        print(f"# national units import — {n_units:,} units, {size / 1e6:.1f} MB {units_path.name}")
        print(f"# command: {' '.join([Path(sys.executable).name, *sys.argv])}")
        print(f"# load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        runs: list[dict[str, float]] = []
        for run in range(args.runs):
            rundir = workdir / f"run{run}"
            rundir.mkdir()
            command = [sys.executable, str(Path(__file__).resolve()), "--child",
                       str(units_path), str(rundir)]  # fmt: skip
            if args.reimport:
                command.append("--reimport")
            if args.profile and run == 0:
                command += ["--profile", str(args.profile)]
            done = subprocess.run(command, capture_output=True, text=True, cwd=PROJECT)
            if done.returncode != 0:
                print(done.stdout + done.stderr, file=sys.stderr)
                return 1
            figures = json.loads(done.stdout.strip().splitlines()[-1])
            if (figures["units"], figures["voters"]) != (n_units, n_voters):
                print(f"stored tree differs from the file: {figures}", file=sys.stderr)
                return 1
            runs.append(figures)
            extra = (
                f", re-import {figures['reimport_s']:.2f} s (peak {figures['reimport_peak_mb']:.0f}"
                " MB)"
                if args.reimport
                else ""
            )
            print(
                f"run {run + 1}: import {figures['import_s']:.2f} s "
                f"(CPU {figures['import_cpu_s']:.2f} s), RSS before "
                f"{figures['before_mb']:.0f} MB, peak {figures['peak_mb']:.0f} MB, after "
                f"{figures['after_mb']:.0f} MB{extra}",
                flush=True,
            )

    def median(key: str) -> float:
        return statistics.median(r[key] for r in runs)

    peak, seconds = median("peak_mb"), median("import_s")
    print(f"\n## median of {len(runs)} clean process(es), {n_units:,} units")
    print(f"{'RSS before the import (libraries)':<44} {median('before_mb'):>8.0f} MB")
    print(f"{'peak RSS (ru_maxrss)':<44} {peak:>8.0f} MB   target ≤ {TARGET_RSS_MB:g} MB")
    print(f"{'RSS after the import':<44} {median('after_mb'):>8.0f} MB")
    print(f"{'import time':<44} {seconds:>8.2f} s    target ≤ {TARGET_IMPORT_S:g} s")
    print(f"{'  … of it CPU time (all threads)':<44} {median('import_cpu_s'):>8.2f} s")
    if args.reimport:
        print(f"{'re-import over the stored tree':<44} {median('reimport_s'):>8.2f} s")
        print(f"{'peak RSS after the re-import':<44} {median('reimport_peak_mb'):>8.0f} MB")
    print(f"total wall time {time.perf_counter() - started:.0f} s\n")
    suffix = "_xlsx" if args.xlsx else ""
    print(f"RESULT rss_import_national{suffix} {peak:.0f} MB target {TARGET_RSS_MB:g} "
          f"{'met' if peak <= TARGET_RSS_MB else 'missed'}")  # fmt: skip
    print(f"RESULT import_national{suffix} {seconds:.2f} s target {TARGET_IMPORT_S:g} "
          f"{'met' if seconds <= TARGET_IMPORT_S else 'missed'}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
