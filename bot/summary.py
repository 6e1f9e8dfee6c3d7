"""Summaries of a unit: its totals, its children slowest first, and the data for its charts.

Totals come from the running totals the store keeps, so a summary of the national root
reads a few dozen rows. Only the turnout-over-the-day chart reads report history.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from bot import texts
from bot.charts import DaySeries, TurnoutByChild, TurnoutOverDay, UnitBar
from bot.formatting import turnout_percent
from storage.database import Database
from storage.records import CountPoint, Totals, Unit

DAY_START = dt.time(5, 0)
DAY_END = dt.time(21, 0)
SAMPLE_STEP = dt.timedelta(minutes=30)
SLOWEST_IN_DAY_CHART = 5


@dataclass(frozen=True, slots=True)
class Overview:
    unit: Unit
    totals: Totals
    children: tuple[tuple[Unit, Totals], ...]  # slowest (lowest turnout) first


def _slowness(item: tuple[Unit, Totals]) -> tuple[object, ...]:
    unit, totals = item
    return (turnout_percent(totals.voted, totals.registered_voters), unit.position)


async def overview(db: Database, unit: Unit) -> Overview:
    children = db.units.children(unit.code)
    totals = await db.totals_of([unit.code, *(c.code for c in children)])
    ordered = sorted(((c, totals[c.code]) for c in children), key=_slowness)
    return Overview(unit, totals[unit.code], tuple(ordered))


def summary_text(view: Overview, now: dt.datetime) -> str:
    return texts.summary(
        label=texts.unit_label(view.unit.code, view.unit.name),
        is_area=view.unit.is_area,
        totals=view.totals,
        children=[(texts.unit_label(u.code, u.name), t) for u, t in view.children],
        now=now,
    )


def chart_by_child(view: Overview, now: dt.datetime) -> TurnoutByChild:
    return TurnoutByChild(
        title=texts.chart_by_child_title(view.unit.name),
        subtitle=texts.chart_subtitle(view.totals, now),
        bars=tuple(
            UnitBar(
                label=unit.name,
                voted=totals.voted,
                voters=totals.registered_voters,
                areas_reported=totals.areas_reported,
                areas_total=totals.areas_total,
            )
            for unit, totals in view.children
        ),
    )


async def chart_over_day(db: Database, view: Overview, now: dt.datetime) -> TurnoutOverDay:
    """Cumulative turnout of the unit and its slowest children, every half hour of the day."""
    tz = now.tzinfo
    assert tz is not None
    start = dt.datetime.combine(now.date(), DAY_START, tzinfo=tz)
    end = dt.datetime.combine(now.date(), DAY_END, tzinfo=tz)
    slowest = [unit for unit, _ in view.children[:SLOWEST_IN_DAY_CHART]]
    members: dict[str, list[int]] = defaultdict(list)  # area -> indexes of the series it is in
    for area in db.units.areas_under(view.unit.code):
        members[area.code].append(0)
    for index, child in enumerate(slowest, start=1):
        for area in db.units.areas_under(child.code):
            members[area.code].append(index)
    child_totals = dict(view.children)
    voters = [view.totals.registered_voters] + [child_totals[c].registered_voters for c in slowest]
    points = await db.count_points(list(members))
    samples = _samples(start, min(max(now, start), end))
    curves = _cumulative(points, members, voters, samples)
    # End each curve on the totals the summary shows, so one image never disagrees with
    # itself when reports were stored between reading the totals and the history.
    finals = [view.totals] + [child_totals[c] for c in slowest]
    for curve, totals in zip(curves, finals, strict=True):
        if curve:
            moment, _ = curve[-1]
            percent = float(turnout_percent(totals.voted, totals.registered_voters, 1))
            curve[-1] = (moment, percent)
    labels = [view.unit.name] + [c.name for c in slowest]
    return TurnoutOverDay(
        title=texts.chart_over_day_title(view.unit.name),
        subtitle=texts.chart_subtitle(view.totals, now),
        series=tuple(
            DaySeries(label, tuple(curve)) for label, curve in zip(labels, curves, strict=True)
        ),
        day_start=start,
        day_end=end,
    )


def _samples(start: dt.datetime, last: dt.datetime) -> list[dt.datetime]:
    moments = []
    moment = start
    while moment < last:
        moments.append(moment)
        moment += SAMPLE_STEP
    moments.append(last)
    return moments


def _cumulative(
    points: Sequence[CountPoint],
    members: dict[str, list[int]],
    voters: Sequence[int],
    samples: Sequence[dt.datetime],
) -> list[list[tuple[dt.datetime, float]]]:
    """For each series, the turnout % at each sample: every area counts its latest count."""
    latest: dict[str, int] = {}
    voted = [0] * len(voters)
    curves: list[list[tuple[dt.datetime, float]]] = [[] for _ in voters]
    index = 0
    for moment in samples:
        limit = moment.timestamp()
        while index < len(points) and points[index].at <= limit:
            point = points[index]
            change = point.voted - latest.get(point.area_code, 0)
            latest[point.area_code] = point.voted
            for series in members[point.area_code]:
                voted[series] += change
            index += 1
        for series, curve in enumerate(curves):
            curve.append((moment, float(turnout_percent(voted[series], voters[series], 1))))
    return curves
