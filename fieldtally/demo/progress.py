"""The progress bar of the drill on stderr: the simulated time, answers so far and areas
finished (one line redrawn on a terminal, a line per simulated hour otherwise).
"""

from __future__ import annotations

import asyncio
from typing import TextIO

from fieldtally.demo.drill import Drill


class Progress:
    """A one-line bar of the simulated day on a terminal; a line per hour otherwise."""

    def __init__(self, stream: TextIO | None, drill: Drill) -> None:
        self._stream = stream
        self._drill = drill
        self._tty = bool(stream is not None and stream.isatty())
        self._last_hour = -1

    def show(self, final: bool = False) -> None:
        if self._stream is None:
            return
        drill, plan = self._drill, self._drill.plan
        now = plan.end if final else min(drill.clock.now(), plan.end)
        share = (now - plan.start) / (plan.end - plan.start)
        width = 28
        done = round(width * share)
        line = (
            f"diễn tập {now:%H:%M} [{'#' * done}{'.' * (width - done)}] {share:4.0%}  "
            f"answers {drill.answered}  areas finished {drill.finished}/{len(drill.units.areas)}"
        )
        if self._tty:
            self._stream.write("\r" + line + ("\n" if final else ""))
            self._stream.flush()
        elif final or now.hour != self._last_hour:
            self._last_hour = now.hour
            self._stream.write(line + "\n")
            self._stream.flush()

    async def run(self) -> None:
        while True:
            self.show()
            await asyncio.sleep(0.2)
