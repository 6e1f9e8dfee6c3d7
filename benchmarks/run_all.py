"""`make bench`: quick variants of every benchmark, then one RESULT line per target of issue 19.

    .venv/bin/python benchmarks/run_all.py [--skip NAME ...] [--only NAME ...]
        [--national-db FILE]

Runs each benchmark in its own process (its output is shown as it comes), collects its figures
and ends with, for every target of issue 19's table, exactly one line::

    RESULT <name> <value> <unit> target <target> met|missed

A figure that could not be measured (a benchmark failed, PostgreSQL is not installed) is
printed as `nan` and `missed`, with the reason on a `#` line above the results. The driver
only measures: whether a target is met is the benchmark's figure against the issue's number.

Steps (about 8–12 minutes on 2 shared cores; each has a time limit):

- ``ingest``: ``core_ingest.py --runs 1`` (500 areas × 4 reports, SQLite, and PostgreSQL with
  1 and 2 processes when its binaries are found) → ``ingest_sqlite_many``, ``ingest_sqlite_one``,
  ``ingest_postgresql_1proc_many``, ``ingest_postgresql_2proc_many``;
- ``national``: ``national_rollup.py`` at national size (88,356 units, 244,800 reports) with
  small pushes → ``chart_data_root`` (the over-the-day chart data of the root, median of 20);
  its database is kept (in a temporary directory, removed at the end) for the next step;
- ``push``: ``national_push.py`` on that database: the bot's 09:00 push to 3,321 commune groups,
  measured (``--time-limit 540``: a push stopped there is scaled from the groups served) →
  ``push_national``, with the time until the first group was served and the bot process's
  peak RSS during the push on a ``#`` line;
- ``charts``: ``charts_rate.py --charts 24`` → ``charts_16_bars_pool``, ``charts_34_bars_pool``,
  ``charts_over_day_pool`` (it also prints its own estimate of the push from the pool rates,
  which ``make bench`` no longer reports: ``push`` measures it);
- ``import``: ``import_national.py --runs 2`` (clean processes) → ``rss_import_national``,
  ``import_national``;
- ``end_to_end``: ``end_to_end.py --quick`` (the real bot through the Bot-API sandbox), shown for
  information: no target of issue 19.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parent


@dataclass(frozen=True, slots=True)
class Target:
    name: str
    unit: str
    target: float
    higher_is_better: bool

    def line(self, value: float) -> str:
        if math.isnan(value):
            met = False
        else:
            met = value >= self.target if self.higher_is_better else value <= self.target
        shown = "nan" if math.isnan(value) else f"{value:.{_decimals(value)}f}"
        return (
            f"RESULT {self.name} {shown} {self.unit} target {self.target:g} "
            f"{'met' if met else 'missed'}"
        )


def _decimals(value: float) -> int:
    return 0 if abs(value) >= 100 else 1 if abs(value) >= 10 else 2


# Issue 19's table, in its order.
TARGETS = (
    Target("charts_16_bars_pool", "charts/s", 30, True),
    Target("charts_34_bars_pool", "charts/s", 15, True),
    Target("charts_over_day_pool", "charts/s", 30, True),
    Target("push_national", "s", 120, False),
    Target("ingest_sqlite_many", "reports/s", 20_000, True),
    Target("ingest_sqlite_one", "reports/s", 4_000, True),
    Target("ingest_postgresql_1proc_many", "reports/s", 5_000, True),
    Target("ingest_postgresql_2proc_many", "reports/s", 9_000, True),
    Target("rss_import_national", "MB", 300, False),
    Target("import_national", "s", 3, False),
    Target("chart_data_root", "ms", 100, False),
)

_RESULT = re.compile(r"^RESULT (\S+) (\S+) ")
_INGEST_ROW = re.compile(
    r"^\| (sqlite|postgresql) \| (\d+) \| (one at a time|many at once)[^|]*\| [\d,]+ \| [\d.]+ "
    r"\| ([\d,]+) \|"
)
_OVER_DAY_ROOT = re.compile(
    r"^\| chart_over_day spec, root \(median / p95 of \d+\)\s*\|\s*([\d,.]+) /"
)


def results(output: str) -> dict[str, float]:
    """RESULT lines a benchmark printed itself."""
    found = {}
    for line in output.splitlines():
        match = _RESULT.match(line)
        if match:
            found[match[1]] = float(match[2])
    return found


def ingest_figures(output: str) -> dict[str, float]:
    """core_ingest.py's final table: reports/s (median of the runs) per row."""
    found = {}
    for line in output.splitlines():
        match = _INGEST_ROW.match(line)
        if not match:
            continue
        backend, processes, arrival, rate = match.groups()
        value = float(rate.replace(",", ""))
        many = arrival.startswith("many")
        if backend == "sqlite":
            found["ingest_sqlite_many" if many else "ingest_sqlite_one"] = value
        elif many:
            found[f"ingest_postgresql_{processes}proc_many"] = value
    return found


_PUSH = re.compile(r"^PUSH first_group_s (\S+) peak_rss_mb (\S+)")


def push_figures(output: str) -> dict[str, float]:
    """national_push.py's RESULT, and (for the `#` line) its first group and peak RSS."""
    found = results(output)
    for line in output.splitlines():
        match = _PUSH.match(line)
        if match:
            found["push_first_group_s"] = float(match[1])
            found["push_peak_rss_mb"] = float(match[2])
    return found


def national_figures(output: str) -> dict[str, float]:
    for line in output.splitlines():
        match = _OVER_DAY_ROOT.match(line)
        if match:
            return {"chart_data_root": float(match[1].replace(",", ""))}
    return {}


@dataclass(frozen=True, slots=True)
class Step:
    name: str
    command: list[str]
    timeout_s: int
    collect: Callable[[str], dict[str, float]]
    needs_exit_zero: bool = True


def steps(python: str, national_db: Path, keep_db: bool = False) -> list[Step]:
    """The steps; `national` creates `national_db` (unless `keep_db`: it exists), `push` uses it."""

    def script(name: str, *args: str) -> list[str]:
        return [python, str(HERE / name), *args]

    national = script(
        "national_rollup.py", "--push-units", "20", "--thread-push-units", "4",
        "--summary-units", "2",
    )  # fmt: skip
    if not keep_db:
        national += ["--db", str(national_db)]
    push = script("national_push.py", "--db", str(national_db), "--time-limit", "540")
    return [
        Step("ingest", script("core_ingest.py", "--runs", "1"), 600, ingest_figures),
        Step("national", national, 900, national_figures),
        Step("push", push, 720, push_figures),
        Step("charts", script("charts_rate.py", "--charts", "24"), 600, results),
        Step("import", script("import_national.py", "--runs", "2"), 300, results),
        Step("end_to_end", script("end_to_end.py", "--quick"), 300, lambda _: {}),
    ]


def run(step: Step) -> tuple[str, str | None]:
    """The step's output and, when it failed, why."""
    print(f"\n===== {step.name}: {' '.join(step.command[1:])}", flush=True)
    started = time.monotonic()
    lines: list[str] = []
    with subprocess.Popen(
        step.command,
        cwd=PROJECT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    ) as process:
        assert process.stdout is not None
        timer = threading.Timer(step.timeout_s, process.kill)  # a silent hang is stopped too
        timer.start()
        try:
            for line in process.stdout:  # the benchmarks print as they go
                print(line, end="", flush=True)
                lines.append(line)
            code = process.wait()
        finally:
            timer.cancel()
    seconds = time.monotonic() - started
    print(f"===== {step.name}: exit {code} after {seconds:.0f} s", flush=True)
    if seconds >= step.timeout_s:
        return "".join(lines), f"over its {step.timeout_s} s limit, stopped"
    if code != 0 and step.needs_exit_zero:
        return "".join(lines), f"exited with {code}"
    return "".join(lines), None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--skip", nargs="*", default=[], help="steps to leave out")
    parser.add_argument("--only", nargs="*", help="run only these steps")
    parser.add_argument(
        "--national-db", type=Path, help="the push's database, kept by national_rollup.py --db"
        " (default: the national step's, in a temporary directory)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    started = time.monotonic()
    figures: dict[str, float] = {}
    notes: list[str] = []
    workdir = Path(tempfile.mkdtemp(prefix="fieldtally-bench-"))
    try:
        national_db = args.national_db or workdir / "national.db"
        for step in steps(sys.executable, national_db, keep_db=args.national_db is not None):
            if step.name in args.skip or (args.only is not None and step.name not in args.only):
                notes.append(f"# {step.name}: not run (--skip/--only)")
                continue
            if step.name == "push" and not national_db.exists():
                notes.append("# push: not run (no national database: the national step failed"
                             " or did not run; --national-db FILE)")  # fmt: skip
                continue
            run_step(step, figures, notes)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"\n===== all steps: {time.monotonic() - started:.0f} s, load average "
          + " ".join(f"{x:.2f}" for x in os.getloadavg()))  # fmt: skip
    if "push_first_group_s" in figures:
        notes.append(
            f"# push_national: first group served after {figures['push_first_group_s']:.2f} s;"
            f" peak RSS of the bot process during the push {figures['push_peak_rss_mb']:.0f} MB"
        )
    for target in TARGETS:
        if target.name not in figures:
            notes.append(f"# {target.name}: not measured (see the steps above)")
    for note in notes:
        print(note)
    for target in TARGETS:
        print(target.line(figures.get(target.name, math.nan)))
    return 0


def run_step(step: Step, figures: dict[str, float], notes: list[str]) -> None:
    output, failure = run(step)
    figures.update(step.collect(output))
    if failure is not None:
        notes.append(f"# {step.name}: {failure}; its figures may be missing")


if __name__ == "__main__":
    sys.exit(main())
