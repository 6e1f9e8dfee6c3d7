"""Supervisors' and groups' views: summaries with charts, areas not reported, reminders, history."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from bot import texts
from bot.channel import Address
from bot.messaging.answers import Answer, Refusal, refused
from bot.messaging.content import Outgoing, Text
from bot.model import Unit
from bot.monitoring.charts import ChartRenderer, ChartSpec
from bot.monitoring.summary import (
    before_turnout,
    chart_by_child,
    chart_over_day,
    overview,
    registered_areas,
    summary_text,
)
from bot.registration.access import Viewer
from storage.database import Database


@dataclass(frozen=True, slots=True)
class Summary:
    unit_code: str
    text: str
    charts: tuple[bytes, ...]  # PNG images
    chart_values: tuple[tuple[tuple[str, float], ...], ...]  # what each chart drew
    # For each chart, the children it marks as not reported (not drawn as 0 %).
    not_reported: tuple[tuple[str, ...], ...] = ()


def resolve_unit(db: Database, viewer: Viewer, args: Sequence[str], command: str) -> Unit | Answer:
    """The unit a command works on: the one named (if the viewer may see it), else its own;
    or the refusal to answer."""
    units = db.units
    if args:
        unit = units.get(args[0])
        if unit is None:
            return refused(Refusal.UNKNOWN_UNIT, texts.unknown_unit(args[0]), naming=args[0])
        if not viewer.may_view(units, unit):
            return refused(Refusal.NOT_YOUR_UNIT, texts.not_your_unit(unit.code), naming=unit.code)
        return unit
    home = viewer.home_units(units)
    if not home:
        if viewer.in_group:
            return refused(Refusal.GROUP_NOT_SUBSCRIBED, texts.GROUP_NOT_SUBSCRIBED)
        if not len(units):
            return refused(Refusal.NO_UNITS_YET, texts.NO_UNITS_YET)
        return refused(Refusal.NOT_REGISTERED, texts.NOT_REGISTERED)
    if len(home) > 1:
        return refused(Refusal.CHOOSE_UNIT, texts.choose_unit([u.code for u in home], command))
    return home[0]


async def build_summary(
    db: Database, renderer: ChartRenderer, unit: Unit, now: dt.datetime
) -> Summary:
    view = await overview(db, unit)
    # Before any turnout, the charts show who is ready instead of a wall of zeros.
    registered = await registered_areas(db, view) if before_turnout(view.totals) else None
    specs: list[ChartSpec] = []
    if view.children:
        specs.append(chart_by_child(view, now, registered))
    specs.append(await chart_over_day(db, view, now, registered))
    # Both charts in the pool together: one worker draws each.
    images = await asyncio.gather(*(renderer.render(spec) for spec in specs))
    return Summary(
        unit_code=unit.code,
        text=summary_text(view, now),
        charts=tuple(image.png for image in images),
        chart_values=tuple(image.plotted for image in images),
        not_reported=tuple(image.not_reported for image in images),
    )


async def missing_report(db: Database, unit: Unit) -> str:
    """Areas of the subtree without any report, grouped by parent, with whom to call."""
    unreported = await db.unreported_areas()
    areas = [a for a in db.units.areas_under(unit.code) if a.code in unreported]
    label = texts.unit_label(unit.code, unit.name)
    if not areas:
        return texts.nothing_missing(label)
    people = await db.people_with_phones(sorted({p for a in areas for p in a.contact_phones}))
    total = len(db.units.areas_under(unit.code))
    lines = [texts.missing_header(label, len(areas), total)]
    parent = None
    for area in areas:
        if area.parent_code != parent:
            parent = area.parent_code
            parent_unit = db.units.get(parent) if parent else None
            if parent_unit is not None and parent_unit.code != unit.code:
                lines.append(
                    texts.missing_group(texts.unit_label(parent_unit.code, parent_unit.name))
                )
        contacts = [(people[p].name if p in people else None, p) for p in area.contact_phones]
        lines.append(texts.missing_area(texts.unit_label(area.code, area.name), contacts))
    return "\n".join(lines)  # whole: each channel splits it at its own limit


async def reminders(db: Database, unit: Unit) -> tuple[list[Outgoing], str, int]:
    """A private reminder for every registered chief of an unreported area, the answer, and
    how many areas have not reported."""
    unreported = await db.unreported_areas()
    areas = [a for a in db.units.areas_under(unit.code) if a.code in unreported]
    people = await db.people_with_phones(sorted({p for a in areas for p in a.contact_phones}))
    sent: dict[Address, list[str]] = {}
    nobody: list[str] = []
    for area in areas:
        chiefs = [people[p] for p in area.contact_phones if p in people]
        if not chiefs:
            nobody.append(area.code)
        for chief in chiefs:
            sent.setdefault(chief.chat, []).append(texts.unit_label(area.code, area.name))
    notes = [Outgoing(chat, Text(texts.reminder(labels))) for chat, labels in sent.items()]
    answer = texts.reminders_sent(
        texts.unit_label(unit.code, unit.name), len(notes), len(areas), nobody
    )
    return notes, answer, len(areas)


async def history(db: Database, area: Unit, tz: dt.tzinfo) -> str:
    reports = await db.area_reports(area.code, include_replaced=True)
    label = texts.unit_label(area.code, area.name)
    if not reports:
        return texts.history_empty(label)
    senders = await db.people_by_identity(sorted({r.sender for r in reports}))
    lines = [texts.history_header(label, area.registered_voters or 0)]
    for r in reports:
        sender = senders.get(r.sender)
        lines.append(
            texts.history_line(
                report_id=r.id,
                text=r.text,
                at=dt.datetime.fromtimestamp(r.at, tz),
                received=dt.datetime.fromtimestamp(r.received_at, tz),
                sender=f"{sender.name} ({sender.phone})" if sender else str(r.sender),
                replaced_by=r.replaced_by,
                correction=r.is_correction,
                stored=texts.stored_figures(
                    r.kind, r.voted, r.list_size, r.staff_tested, r.staff_total, r.positives
                ),
            )
        )
    return "\n".join(lines)  # whole: each channel splits it at its own limit
