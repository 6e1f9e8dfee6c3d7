"""The entry points: ``run_demo`` reads the list, plans the day, runs the drill with its
progress bar, checks the answers and the export and writes the outputs; ``main`` is what the
`fieldtally demo` command calls.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import random
import sys
import tempfile
import time
from pathlib import Path

from fieldtally.demo.constants import (
    DEFAULT_OUTPUT,
    DEFAULT_SEED,
    DEFAULT_SPEED,
    DemoError,
)
from fieldtally.demo.drill import DemoOptions, DemoResult, Drill
from fieldtally.demo.night import load_sample_ballots, plan_night
from fieldtally.demo.progress import Progress
from fieldtally.demo.results import (
    _read_export,
    _summary_file,
    _write_outputs,
    check_export,
    night_lines,
)
from fieldtally.demo.script import plan_day
from fieldtally.demo.units import load_unit_list


async def run_demo(options: DemoOptions) -> DemoResult:
    """Run the whole drill; raise DemoError when it cannot run or the bot surprises it."""
    if not options.speed > 0:
        raise DemoError("--speed must be a positive number")
    units = load_unit_list(options.units)
    plan = plan_day(units, random.Random(options.seed))
    night = None
    if units.is_sample:  # the sample's ballot files: the drill goes on into the night
        ballots = load_sample_ballots()
        night = (ballots, plan_night(units, plan.chiefs, ballots, random.Random(options.seed + 1)))
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="fieldtally-demo-") as workdir:
        if options.channel == "telegram":  # the night's counting records: on Telegram only
            drill = Drill(units, plan, options, Path(workdir), night)
        else:
            drill = _drill_for(options.channel)(units, plan, options, Path(workdir))
        progress = Progress(options.progress, drill)
        ticker = asyncio.create_task(progress.run())
        try:
            await drill.run()
        except ExceptionGroup as errors:  # a chief's surprise cancels the other chiefs
            first = _first_demo_error(errors)
            if first is None:
                raise
            raise first from None
        finally:
            ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ticker
        progress.show(final=True)
    drill.check_answers()
    rows: list[dict[str, str]] = []
    for name, content in drill.exports.items():
        if name.startswith("tonghop_") and name.endswith(".csv"):
            rows.extend(_read_export(content))
    check_export(units, plan, rows)
    kinds = drill.reply_kinds()
    result = DemoResult(
        summary_text=drill.final_summary(),
        export_rows=tuple(rows),
        files=(),
        messages_sent=drill.sent,
        replies=kinds,
        refused_then_fixed=drill.refused_then_fixed,
        group_summaries=drill.automatic_summaries(),
        real_seconds=time.monotonic() - began,
        sim_end=drill.ended_at,
        transcript=tuple(drill.talk.lines),
        night=drill.night_result,
    )
    files = _write_outputs(drill, options.output, _summary_file(drill, result, rows))
    return dataclasses.replace(result, files=tuple(files))


CHANNELS = ("telegram", "zalo", "sms")  # the channels the chiefs may use in the drill
def _drill_for(channel: str) -> type[Drill]:
    """The drill whose chiefs use `channel`."""
    if channel == "telegram":
        return Drill
    if channel == "zalo":
        from fieldtally.demo.zalo import ZaloDrill  # the Zalo sandbox and channel only for it

        return ZaloDrill
    if channel == "sms":
        from fieldtally.demo.sms import SmsDrill  # the SMS gateway's pieces only for it

        return SmsDrill
    raise DemoError(
        f"--channel: {channel!r} is not a channel the drill plays ({', '.join(CHANNELS)})"
    )


def _first_demo_error(group: BaseExceptionGroup[BaseException]) -> DemoError | None:
    for error in group.exceptions:
        if isinstance(error, DemoError):
            return error
        if isinstance(error, BaseExceptionGroup):
            found = _first_demo_error(error)
            if found is not None:
                return found
    return None


def main(
    units: Path | None = None,
    output: Path | None = None,
    speed: float | None = None,
    seed: int | None = None,
    channel: str = "telegram",
) -> int:
    """`fieldtally demo`: run the drill, print the final summary; 0 when all went as planned."""
    output = DEFAULT_OUTPUT if output is None else output
    options = DemoOptions(
        units=units,
        output=output,
        speed=DEFAULT_SPEED if speed is None else speed,
        seed=DEFAULT_SEED if seed is None else seed,
        progress=sys.stderr,
        channel=channel,
    )
    try:
        result = asyncio.run(run_demo(options))
    except DemoError as error:
        print(f"fieldtally demo: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("fieldtally demo: interrupted", file=sys.stderr)
        return 130
    print(result.summary_text)
    if result.night is not None:
        print()
        print(night_lines(result.night))
    print()
    exports = "tonghop_*" if result.night is None else "tonghop_*, results_*"
    print(
        f"{len(result.files)} files in {output}/: charts (chart-*.png), exports ({exports}), "
        "transcript.txt, summary.txt"
    )
    return 0
