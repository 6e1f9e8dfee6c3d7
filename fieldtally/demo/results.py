"""Checking and writing the drill's results: every unit's figures in the export against the
script (the sample's against the seed report), and the files in ``--output``: the charts the
bot sent, the exports, ``transcript.txt`` and ``summary.txt``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path

from bot.formatting import turnout_percent, vn_int
from bot.registration.units_file import UnitRow
from fieldtally.demo.constants import ELECTION_DAY, SAMPLE_FIGURES, DemoError
from fieldtally.demo.conversation import Line
from fieldtally.demo.drill import DemoResult, Drill, NightResult
from fieldtally.demo.night import REAL_TALLY_END
from fieldtally.demo.script import Plan
from fieldtally.demo.units import UnitList

_NUMBERS = (
    "areas_total", "areas_reported", "areas_finished", "registered_voters", "voted",
    "staff_total", "staff_tested", "positives",
)  # fmt: skip


def _expected_rows(units: UnitList, plan: Plan) -> dict[str, dict[str, int]]:
    """Every unit's figures at the end of the day, from the plan."""
    per_area = {
        d.area.code: {
            "areas_total": 1,
            "areas_reported": 1,
            "areas_finished": 1,
            "registered_voters": d.area.voters,
            "voted": d.area.voters,
            "staff_total": d.staff_total,
            "staff_tested": d.tested,
            "positives": 0,
        }
        for d in plan.days
    }
    tree = units.tree
    expected: dict[str, dict[str, int]] = {}

    def visit(row: UnitRow) -> dict[str, int]:
        if tree.is_leaf(row.code):
            figures = per_area[row.code]
        else:
            parts = [visit(child) for child in tree.children(row.code)]
            figures = {name: sum(p[name] for p in parts) for name in _NUMBERS}
        expected[row.code] = figures
        return figures

    for root in tree.roots:
        visit(root)
    return expected


def check_export(units: UnitList, plan: Plan, rows: Sequence[dict[str, str]]) -> None:
    """The export shows, for every unit, the day the plan played; the sample's, the seed's."""
    expected = _expected_rows(units, plan)
    seen = set()
    for row in rows:
        code = row["code"].lstrip("'")
        seen.add(code)
        want = expected.get(code)
        if want is None:
            raise DemoError(f"the export has a unit the list has not: {code}")
        got = {name: int(row[name]) for name in _NUMBERS}
        if got != want:
            diff = ", ".join(
                f"{n} {got[n]} (expected {want[n]})" for n in _NUMBERS if got[n] != want[n]
            )
            raise DemoError(f"the export's row {code} is wrong: {diff}")
    if seen != set(expected):
        raise DemoError(f"the export misses units: {sorted(set(expected) - seen)[:10]}")
    if units.is_sample:
        root = expected[units.tree.roots[0].code]
        for name, value in SAMPLE_FIGURES.items():
            if root[name] != value:
                raise DemoError(f"the sample's {name} is {root[name]}, the seed's is {value}")


def _read_export(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))


def _transcript(lines: Sequence[Line]) -> str:
    out = [
        f"fieldtally demo — election day {ELECTION_DAY:%d/%m/%Y}, simulated local times",
        "",
    ]
    width = min(max((len(line.who) for line in lines), default=10), 48)
    for line in lines:
        first, *rest = line.text.split("\n")
        out.append(f"{line.at:%H:%M:%S}  {line.who:<{width}}  {first}")
        out.extend(f"{'':10}{'':<{width}}  {more}" for more in rest)
    return "\n".join(out) + "\n"


def _write_outputs(drill: Drill, output: Path, result_text: str) -> list[Path]:
    output.mkdir(parents=True, exist_ok=True)
    for old in output.glob("chart-*.png"):  # charts of an earlier run
        old.unlink()
    written: list[Path] = []
    for name, png in drill.charts():
        path = output / name
        path.write_bytes(png)
        written.append(path)
    for name, content in drill.exports.items():
        path = output / name
        path.write_bytes(content)
        written.append(path)
    transcript = output / "transcript.txt"
    transcript.write_text(_transcript(drill.talk.lines), encoding="utf-8")
    summary = output / "summary.txt"
    summary.write_text(result_text, encoding="utf-8")
    return [*written, transcript, summary]


def _summary_file(drill: Drill, result: DemoResult, rows: Sequence[dict[str, str]]) -> str:
    roots = [r for r in rows if not r["parent_code"]]
    root = {name: str(sum(int(r[name]) for r in roots)) for name in _NUMBERS}
    root["turnout_percent"] = str(
        turnout_percent(int(root["voted"]), int(root["registered_voters"]))
    )
    lines = [
        "fieldtally demo — the offline election-day drill",
        f"Unit list: {drill.units.filename} ({len(drill.units.areas)} areas"
        + (
            f", {drill.units.synthetic_phones} synthetic phones"
            if drill.units.synthetic_phones
            else ""
        )
        + ")",
        f"Seed {drill.options.seed}, speed {drill.options.speed:g}× "
        f"(simulated 05:00–{result.sim_end:%H:%M} in {result.real_seconds:.0f} s real time)",
        "",
        f"Areas finished: {vn_int(int(root['areas_finished']))}/{vn_int(int(root['areas_total']))}",
        f"Voters: {vn_int(int(root['voted']))}/{vn_int(int(root['registered_voters']))} "
        f"({root['turnout_percent'].replace('.', ',')}%)",
        f"Polling staff tested: {vn_int(int(root['staff_tested']))}/"
        f"{vn_int(int(root['staff_total']))}, positives: {vn_int(int(root['positives']))}",
        "",
        f"Messages sent to the bot: {result.messages_sent}; answers: "
        + ", ".join(f"{kind} {n}" for kind, n in result.replies.items()),
        f"Refused reports later corrected by the same chief: {result.refused_then_fixed}",
        f"Automatic summaries received by {drill.subscriber_label}: {result.group_summaries}",
        "",
        "Final summary (/tonghop):",
        result.summary_text,
    ]
    if result.night is not None:
        lines += ["", night_lines(result.night)]
    return "\n".join(lines) + "\n"


def night_lines(night: NightResult) -> str:
    """Results night in a few lines: the records, the units complete, when the last closed,
    beside the 01:30 at which the district really finished adding up in 2021."""
    last = night.last_closed
    day = "" if last.date() == ELECTION_DAY else f" on {last:%d/%m}"
    earlier = REAL_TALLY_END - last
    hours, minutes = divmod(round(earlier.total_seconds() / 60), 60)
    return "\n".join(
        [
            f"Results night: {night.records} counting records kept (read back, confirmed), "
            f"{night.corrections} corrected, {night.photos} with a photo of the signed record",
            f"Electoral units complete: {night.units_complete}/{night.units_total}; the last "
            f"closed at {last:%H:%M}{day} — in 2021 the district finished adding up its results "
            f"at {REAL_TALLY_END:%H:%M} the next morning ({hours} h {minutes:02d} min later)",
            f"Notices to the group (an electoral unit or a ballot complete): {night.group_notices}",
            "",
            "Results (/ketqua):",
            night.results_text,
        ]
    )
