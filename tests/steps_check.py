"""The check that the over-the-day steps kept per unit (`unit_steps`, changed with every
report) are what the reports themselves give: for a unit, `Database.voted_steps` over its
areas (the window query over the current counts) and, per minute, how many current counts
of its areas sit at it (`Database.count_points`)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from storage.database import Database


async def assert_steps_kept(db: Database, codes: Iterable[str] | None = None) -> int:
    """Check the units `codes` (None: every unit); the number of step rows seen (so a
    caller can tell the check was not vacuous)."""
    units = db.units
    seen = 0
    for code in [unit.code for unit in units] if codes is None else codes:
        areas = [area.code for area in units.areas_under(code)]
        kept = await db.unit_step_rows(code)
        summed = await db.voted_steps(areas) if areas else []
        assert [(minute, change) for minute, change, _ in kept] == summed, code
        points = Counter(point.at for point in await db.count_points(areas)) if areas else {}
        assert {minute: count for minute, _, count in kept} == dict(points), code
        assert await db.unit_steps(code) == summed, code
        seen += len(kept)
    return seen
