"""An area's voted count, minute by minute, as steps: what the over-the-day chart sums.

Pure functions, no I/O. Along an area's current counts in the rules' order (to the minute,
then by arrival, a completion last in its minute: `rules._order`), each count's *change* is
the count minus the area's previous count (0 before the first), so the changes up to a minute
add up to the area's latest count up to it. A minute's step is (sum of its changes, how many
counts sit at it). The store keeps, for every unit, the sum of its areas' steps
(`unit_steps`), changed by `step_changes` whenever a report changes an area's current reports;
`Database.voted_steps` computes the same sums from the reports themselves.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Mapping, Sequence

from bot.model import Report
from bot.turnout.lines import ReportKind

Steps = dict[int, tuple[int, int]]  # minute (epoch s) -> (sum of changes, counts at it)

_COVID = ReportKind.COVID.value
_COMPLETION = ReportKind.COMPLETION.value


def area_steps(reports: Iterable[Report]) -> Steps:
    """One area's steps from its current reports (COVID reports are not counts)."""
    counted = sorted(
        (r.at - r.at % 60, r.kind == _COMPLETION, r.id, r.voted or 0)
        for r in reports
        if r.kind != _COVID
    )
    steps: Steps = {}
    previous = 0
    for minute, _, _, voted in counted:
        change, points = steps.get(minute, (0, 0))
        steps[minute] = (change + voted - previous, points + 1)
        previous = voted
    return steps


def step_changes(before: Sequence[Report], after: Sequence[Report]) -> Steps:
    """What an area's steps gain when its current reports go from `before` to `after`:
    per minute, (change after − change before, counts after − counts before); minutes where
    nothing changed are left out.

    The usual case is quick: `after` is `before` (the same objects) and one more report,
    latest in the rules' order (or a COVID report); otherwise both lists are walked."""
    if len(after) == len(before) + 1 and all(map(operator.is_, before, after)):
        added = after[-1]
        if added.kind == _COVID:
            return {}
        minute = added.at - added.at % 60
        place = (minute, added.kind == _COMPLETION, added.id)
        last: tuple[int, bool, int] | None = None
        previous = 0
        for report in before:
            if report.kind != _COVID:
                key = (report.at - report.at % 60, report.kind == _COMPLETION, report.id)
                if last is None or key > last:
                    last, previous = key, report.voted or 0
        if last is None or place > last:
            return {minute: ((added.voted or 0) - previous, 1)}
    return _walked_changes(before, after)


def _walked_changes(before: Iterable[Report], after: Iterable[Report]) -> Steps:
    """`step_changes` by walking both lists in full (the general case)."""
    old = area_steps(before)
    new = area_steps(after)
    changes: Steps = {}
    for minute in old.keys() | new.keys():
        change, points = new.get(minute, (0, 0))
        change_before, points_before = old.get(minute, (0, 0))
        if change != change_before or points != points_before:
            changes[minute] = (change - change_before, points - points_before)
    return changes


def add_steps(
    steps: Mapping[int, tuple[int, int]], changes: Mapping[int, tuple[int, int]]
) -> Steps:
    """`steps` with `changes` added; a minute whose counts drop to 0 disappears."""
    total = dict(steps)
    for minute, (change, points) in changes.items():
        old_change, old_points = total.get(minute, (0, 0))
        if old_points + points == 0:
            total.pop(minute, None)
        else:
            total[minute] = (old_change + change, old_points + points)
    return total
