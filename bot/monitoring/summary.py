"""Summaries of a unit: its totals, its children slowest first, and the data for its charts.

Totals come from the running totals the store keeps, so a summary of the national root
reads a few dozen rows. Only the turnout-over-the-day chart reads report history, and only
the view before any turnout reads who has registered.

The charts name children shortly under their parent (`bot.monitoring.names.short_name`), mark
children
without a report as such, end the time axis at the time of the data (`day_axis`), and before
any turnout (`before_turnout`) show what is known: registrations, COVID tallies, list sizes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot import texts
from bot.formatting import turnout_percent, vn_int
from bot.model import Totals, Unit
from bot.monitoring.charts import DaySeries, TurnoutByChild, TurnoutOverDay, UnitBar
from bot.monitoring.names import name_order_key, short_name
from storage.database import Database

DAY_START = dt.time(5, 0)  # the earliest a polling team may open
POLLS_OPEN = dt.time(7, 0)  # when most open: the time axis starts here at the latest
DAY_END = dt.time(21, 0)
SHORTEST_AXIS = dt.timedelta(hours=1)
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


def before_turnout(totals: Totals) -> bool:
    """Whether no area of the unit has sent turnout or completion yet."""
    return totals.areas_reported == 0


def chart_by_child(
    view: Overview, now: dt.datetime, registered: Mapping[str, int] | None = None
) -> TurnoutByChild:
    """Chart 1's data: every child, named shortly under the unit. Before any turnout the
    chart shows `registered` (areas with a registered chief, by unit code) instead."""
    early = before_turnout(view.totals)
    known = registered or {}
    return TurnoutByChild(
        title=(
            texts.chart_readiness_title(view.unit.name)
            if early
            else texts.chart_by_child_title(view.unit.name)
        ),
        subtitle=texts.chart_subtitle(view.totals, now),
        bars=tuple(
            UnitBar(
                label=short_name(unit.name, view.unit.name),
                voted=totals.voted,
                voters=totals.registered_voters,
                areas_reported=totals.areas_reported,
                areas_total=totals.areas_total,
                areas_finished=totals.areas_finished,
                chiefs_registered=known.get(unit.code, 0),
                staff_tested=totals.staff_tested,
                staff_total=totals.staff_total,
                positives=totals.positives,
            )
            for unit, totals in view.children
        ),
        before_turnout=early,
    )


async def registered_areas(db: Database, view: Overview) -> dict[str, int]:
    """For the unit and each child: how many of its areas have a registered chief."""
    units = db.units
    areas = units.areas_under(view.unit.code)
    phones = sorted({phone for area in areas for phone in area.contact_phones})
    people = await db.people_with_phones(phones) if phones else {}
    ready = {area.code for area in areas if any(p in people for p in area.contact_phones)}
    counts = {view.unit.code: len(ready)}
    for child, _ in view.children:
        counts[child.code] = sum(1 for a in units.areas_under(child.code) if a.code in ready)
    return counts


def day_axis(now: dt.datetime, first_report: dt.datetime | None) -> tuple[dt.datetime, dt.datetime]:
    """The time axis of the over-the-day chart: from the opening of the polls (07:00, or the
    hour of an earlier first report, not before 05:00) to the time of the data, `now` (not
    past 21:00), at least an hour long."""
    tz = now.tzinfo
    day = now.date()
    earliest = dt.datetime.combine(day, DAY_START, tzinfo=tz)
    latest = dt.datetime.combine(day, DAY_END, tzinfo=tz)
    end = min(max(now, earliest + SHORTEST_AXIS), latest)
    start = dt.datetime.combine(day, POLLS_OPEN, tzinfo=tz)
    if first_report is not None:
        start = min(start, first_report.replace(minute=0, second=0, microsecond=0))
    start = min(start, (end - SHORTEST_AXIS).replace(minute=0, second=0, microsecond=0))
    return max(start, earliest), end


async def chart_over_day(
    db: Database,
    view: Overview,
    now: dt.datetime,
    registered: Mapping[str, int] | None = None,
    children: int = SLOWEST_IN_DAY_CHART,
) -> TurnoutOverDay:
    """Cumulative turnout of the unit and its `children` slowest reporting children, every
    half hour of the day up to the time of the data; children without a report are named, not
    drawn."""
    tz = now.tzinfo
    assert tz is not None
    reporting = [(unit, totals) for unit, totals in view.children if totals.areas_reported]
    slowest = [unit for unit, _ in reporting[:children]]
    child_totals = dict(view.children)
    voters = [view.totals.registered_voters] + [child_totals[c].registered_voters for c in slowest]
    steps = [await db.unit_steps(unit.code) for unit in [view.unit, *slowest]]
    first = dt.datetime.fromtimestamp(steps[0][0][0], tz) if steps[0] else None
    start, end = day_axis(now, first)
    samples = _samples(start, min(max(now, start), end))
    curves = _cumulative(steps, voters, samples) if steps[0] else [[] for _ in voters]
    # End each curve on the totals the summary shows, so one image never disagrees with
    # itself when reports were stored between reading the totals and the history.
    finals = [view.totals] + [child_totals[c] for c in slowest]
    for curve, totals in zip(curves, finals, strict=True):
        if curve:
            moment, _ = curve[-1]
            percent = float(turnout_percent(totals.voted, totals.registered_voters, 1))
            curve[-1] = (moment, percent)
    parent = view.unit.name
    labels = [view.unit.name] + [short_name(c.name, parent) for c in slowest]
    silent = sorted(
        (
            short_name(unit.name, parent)
            for unit, totals in view.children
            if not totals.areas_reported
        ),
        key=name_order_key,
    )
    t = view.totals
    known: tuple[str, ...] = ()
    if before_turnout(t):
        known = (
            texts.CHART_NO_TURNOUT_YET,
            texts.CHART_KNOWN_VOTERS.format(
                voters=vn_int(t.registered_voters), areas=vn_int(t.areas_total)
            ),
            texts.CHART_KNOWN_TESTED.format(
                tested=vn_int(t.staff_tested),
                total=vn_int(t.staff_total),
                positives=vn_int(t.positives),
            ),
        )
        if registered is not None and view.unit.code in registered:
            known += (
                texts.CHART_KNOWN_REGISTERED.format(
                    registered=vn_int(registered[view.unit.code]), total=vn_int(t.areas_total)
                ),
            )
    return TurnoutOverDay(
        title=texts.chart_over_day_title(view.unit.name),
        subtitle=texts.chart_subtitle(view.totals, now),
        series=tuple(
            DaySeries(label, tuple(curve)) for label, curve in zip(labels, curves, strict=True)
        ),
        day_start=start,
        day_end=end,
        unit_note=texts.CHART_UNIT_FINISHED.format(
            finished=vn_int(t.areas_finished), total=vn_int(t.areas_total)
        ),
        not_reported=tuple(silent) if not before_turnout(t) else (),
        known=known,
    )


def _samples(start: dt.datetime, last: dt.datetime) -> list[dt.datetime]:
    """Every half hour from `start`, then `last` (the time of the data); a half hour within
    10 minutes of `last` is left out, so two markers do not sit on top of each other."""
    moments = []
    moment = start
    while moment < last - SAMPLE_STEP / 3:
        moments.append(moment)
        moment += SAMPLE_STEP
    moments.append(last)
    return moments


def _cumulative(
    steps: Sequence[Sequence[tuple[int, int]]],
    voters: Sequence[int],
    samples: Sequence[dt.datetime],
) -> list[list[tuple[dt.datetime, float]]]:
    """For each series, the turnout % at each sample from its minute-by-minute changes
    (`Database.voted_steps`): every area counts its latest count up to the sample."""
    curves: list[list[tuple[dt.datetime, float]]] = []
    for series_steps, series_voters in zip(steps, voters, strict=True):
        curve: list[tuple[dt.datetime, float]] = []
        voted = 0
        index = 0
        for moment in samples:
            limit = moment.timestamp()
            while index < len(series_steps) and series_steps[index][0] <= limit:
                voted += series_steps[index][1]
                index += 1
            curve.append((moment, float(turnout_percent(voted, series_voters, 1))))
        curves.append(curve)
    return curves
