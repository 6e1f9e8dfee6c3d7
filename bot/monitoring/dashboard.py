"""The live dashboard's snapshot of a unit (bảng theo dõi, DASHBOARD.md), and its shared cache.

`read_snapshot` computes what the page shows from the store's reads (the running totals, the
turnout history, who has registered), channel-neutral; `snapshot_json` is that snapshot as the
page's JSON (`GET /d/{token}/data`, every `snapshot` event of the stream, and the server-rendered
page). `DashboardSnapshots` keeps ONE snapshot per unit, shared by every open page of that unit,
and computes it again only after a write changed that unit's totals (the store tells it, see
`Database.listen`), the tree or who is registered changed, or it is older than `max_age` (the
curve's axis ends at "now").

The JSON fields (stable: fields are added, never renamed; every number is a JSON number, and
where the page shows it as text a `*_text` twin holds it written the Vietnamese way, `38.851`,
`78,1%`):

- `version`: int, the snapshot's sequence number for its unit (rises with every new snapshot).
- `generated_at`: ISO 8601 local time it was computed; `generated_time`: `HH:MM`.
- `unit`: `code`, `name`, `kind`, `label` (`Xã A (02752)`), `is_area`.
- `headline`: `voted`, `registered`, `turnout` (percent, 1 decimal), `areas_total`,
  `areas_reported`, `areas_finished`, `staff_total`, `staff_tested`, `positives`, each with
  `*_text`; `last_report_at` (ISO or null), `last_report_time` (`HH:MM` or null), `as_of_text`
  (`số liệu lúc 09:41`, or `chưa có số liệu` before any report).
- `children`: list, those that have not reported first (in import order), then from the lowest
  turnout up. Each: `code`, `name`, `short_name` (named under the unit, `KVBP số 3`), `label`,
  `reported` (bool: an area sent turnout or completion), `voted`, `registered`, `turnout`
  (percent; null when not reported: never 0 %), `turnout_text` (`45,2%` or `chưa báo cáo`),
  `areas_total`, `areas_reported`, `areas_finished`, `areas_text` (`9/9 · xong 5`),
  `staff_total`, `staff_tested`, `positives`, `last_report_time`.
- `curve`: `start`, `end` (ISO; the axis ends at the time of the data, "now"), `series`: the
  unit first, then its reporting children slowest first (at most `CURVE_CHILDREN`, 10);
  each `code`, `label`, `is_unit`, `points`: list of `{at (ISO), time (HH:MM), turnout
  (percent), turnout_text}`;
  `not_reported`: short names of children without a report (named, not drawn).
- `missing`: the areas without any report: `total`, `shown`, `more_text` (`và N khu vực khác`
  or null), `groups`: by commune (the area's parent), each `code`, `name`, `label`, `areas`:
  each `code`, `name`, `short_name` (`KVBP số 3` under its commune), `label`, `chiefs`: the
  names of its registered chiefs (never a phone number), `chiefs_text`.
- `results`: results night (RESULTS.md, "Roll-up, winners"), from the electoral units' running
  totals exactly as `/ketqua` reads them (`bot.results.views`, `bot.results.outcome`): null
  while no area of the unit's electoral units has a record; otherwise
  `title`, `provisional_text` (`tạm tính`), `labels` (the page's words: `units_complete`,
  `elected`, `half`, `votes`), `ballots`: per ballot in ballot order (`qh`,
  `tinh`, `huyen`, `xa`) each `ballot`, `label` (`HĐND xã`), `units_total`, `units_complete`,
  `units_text` (`3/5`), `units_percent` (complete in % of total, for the bar), `seats`,
  `seats_filled`, `seats_text` (`bầu được 1.952/2.019`), `revotes`, `additional_votes`,
  `flags_text` (`bầu lại: 1; bầu thêm: 2` or null), `line` (the whole `/ketqua` line);
  `units`: the electoral units organized in the subtree (organizing unit the unit or below),
  by ballot then import order, at most `RESULTS_UNITS_SHOWN` (the per-ballot lines always
  count them all), each `ballot`, `ballot_label`, `code`, `name`, `seats`, `areas_mapped`,
  `areas_reported`, `areas_text` (`biên bản 3/4 KV`), `complete`, `valid`, `valid_text`,
  `flag` (null, `re-vote`, `additional vote`: the export's `unit_flag`), `flag_text` (`bầu
  lại`, `bầu thêm`, `đề nghị bầu thêm` for `qh`, or null), `status_text` (`tạm tính` once
  complete, else `chưa đủ biên bản`), `candidates` in ballot order, each `number`, `name`,
  `votes`, `votes_text`, `percent` (of the unit's valid ballots, 2 decimals half-up, a JSON
  number), `percent_text` (`52,34%`), `over_half`, `elected` (only once complete);
  `units_total`, `units_shown`, `more_text` (`và N đơn vị bầu cử khác` or null).
  A confirmed record changes the snapshot of its area and every ancestor (and of the
  electoral unit's organizing unit and its ancestors): the store reports it like a turnout
  write (`StoreChange.totals`).
- `map`: null, `provinces` (the unit is the country, its children provinces), or
  `communes/<file>` (a province whose children are communes, e.g.
  `communes/15_lao_cai.geojson`): which bundled boundaries file applies (`bot.monitoring.geo`);
  `map_attribution`: the text to show with it (null without a map).
- `texts`: the page's fixed Vietnamese labels: `title`, `not_reported`, `disconnected`,
  `revoked`, `live`, `nothing_missing`, `missing`, `no_chief`, `as_of` and `more_missing`
  (templates with `{time}`, `{count}`: the TV layout ends its cut list with the latter).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from bot.formatting import hhmm, turnout_percent, vn_int, vn_percent
from bot.model import Totals, Unit
from bot.monitoring import dashboard_texts as texts
from bot.monitoring.geo import MAP_ATTRIBUTION, GeoIndex
from bot.monitoring.names import name_order_key, short_name
from bot.monitoring.summary import Overview, chart_over_day, overview
from bot.results import texts as result_texts
from bot.results import views as results_views
from bot.results.model import Ballot
from bot.results.outcome import BallotTally, UnitOutcome, standing_tallies
from bot.texts import unit_label
from storage.database import Database, StoreChange

CURVE_CHILDREN = 10  # the slowest children drawn on the curve beside the unit
MISSING_SHOWN = 1000  # areas listed by name at most (a national unit early in the morning)
SMALL_SUBTREE = 5000  # up to this many areas, their totals are read by code
RESULTS_UNITS_SHOWN = 24  # electoral units listed with their candidates at most


@dataclass(frozen=True, slots=True)
class ChildRow:
    unit: Unit
    short_name: str
    totals: Totals

    @property
    def reported(self) -> bool:
        return self.totals.areas_reported > 0


@dataclass(frozen=True, slots=True)
class MissingArea:
    unit: Unit
    short_name: str
    chiefs: tuple[str, ...]  # registered chiefs' names, never their phones


@dataclass(frozen=True, slots=True)
class MissingGroup:
    unit: Unit | None  # the commune (the areas' parent); None for areas without one
    areas: tuple[MissingArea, ...]


@dataclass(frozen=True, slots=True)
class CurveSeries:
    code: str
    label: str
    is_unit: bool
    points: tuple[tuple[dt.datetime, float], ...]


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What one unit's dashboard shows at one moment (see the module's docstring)."""

    unit: Unit
    totals: Totals
    children: tuple[ChildRow, ...]
    curve: tuple[CurveSeries, ...]
    curve_start: dt.datetime
    curve_end: dt.datetime
    curve_not_reported: tuple[str, ...]
    missing: tuple[MissingGroup, ...]
    missing_total: int
    map: str | None
    generated_at: dt.datetime
    results: dict[str, Any] | None = None
    version: int = 0


def dashboard_order(view: Overview) -> list[ChildRow]:
    """Children not reported first (import order), then from the lowest turnout up."""
    rows = [ChildRow(u, short_name(u.name, view.unit.name), t) for u, t in view.children]
    silent = sorted((r for r in rows if not r.reported), key=lambda r: r.unit.position)
    reporting = sorted(
        (r for r in rows if r.reported),
        key=lambda r: (
            turnout_percent(r.totals.voted, r.totals.registered_voters),
            r.unit.position,
        ),
    )
    return silent + reporting


async def _unreported_under(db: Database, unit: Unit, totals: Totals) -> list[Unit]:
    if totals.areas_reported >= totals.areas_total:
        return []
    areas = db.units.areas_under(unit.code)
    if len(areas) <= SMALL_SUBTREE:
        states = await db.totals_of([a.code for a in areas])
        return [a for a in areas if states[a.code].areas_reported == 0]
    unreported = await db.unreported_areas()
    return [a for a in areas if a.code in unreported]


async def _missing(db: Database, unit: Unit, totals: Totals) -> tuple[list[MissingGroup], int]:
    areas = await _unreported_under(db, unit, totals)
    shown = areas[:MISSING_SHOWN]
    phones = sorted({p for a in shown for p in a.contact_phones})
    people = await db.people_with_phones(phones) if phones else {}
    groups: list[MissingGroup] = []
    for area in shown:
        parent = db.units.get(area.parent_code) if area.parent_code else None
        chiefs = tuple(dict.fromkeys(people[p].name for p in area.contact_phones if p in people))
        entry = MissingArea(area, short_name(area.name, parent.name if parent else None), chiefs)
        group_unit = parent if parent is not None and parent.code != unit.code else None
        if groups and groups[-1].unit == group_unit:
            groups[-1] = MissingGroup(group_unit, (*groups[-1].areas, entry))
        else:
            groups.append(MissingGroup(group_unit, (entry,)))
    return groups, len(areas)


async def read_snapshot(
    db: Database,
    unit: Unit,
    now: dt.datetime,
    geo: GeoIndex | None = None,
    curve_children: int = CURVE_CHILDREN,
) -> Snapshot:
    """The unit's dashboard at `now` (a time in the election's zone), from the store's reads."""
    view = await overview(db, unit)
    children = dashboard_order(view)
    day = await chart_over_day(db, view, now, children=curve_children)
    reporting = [u for u, t in view.children if t.areas_reported][:curve_children]
    codes = [unit.code, *(u.code for u in reporting)]
    curve = tuple(
        CurveSeries(code, series.label, code == unit.code, series.points)
        for code, series in zip(codes, day.series, strict=True)
    )
    missing, missing_total = await _missing(db, unit, view.totals)
    return Snapshot(
        unit=unit,
        totals=view.totals,
        children=tuple(children),
        curve=curve,
        curve_start=day.day_start,
        curve_end=day.day_end,
        curve_not_reported=tuple(sorted(day.not_reported, key=name_order_key)),
        missing=tuple(missing),
        missing_total=missing_total,
        map=geo.map_for(unit, (u for u, _ in view.children)) if geo is not None else None,
        generated_at=now,
        results=await results_section(db, unit),
    )


async def results_section(
    db: Database, unit: Unit, shown: int = RESULTS_UNITS_SHOWN
) -> dict[str, Any] | None:
    """Results night's section of the snapshot (the module's docstring), or None while none
    of the electoral units organized in the unit's subtree has a record. The per-ballot lines
    come from the units' standings (one row each, as `/ketqua` for an administrative unit);
    the candidates of the first `shown` units from their outcomes (`/ketqua <unit>`)."""
    organizers = results_views.organizers_within(db.units, unit.code)
    standings = await db.results.standings_organized_in(organizers)
    if not any(s.areas_reported for s in standings):
        return None
    tallies = standing_tallies(standings)
    listed = await db.results.electoral_units_organized_in(organizers)
    outcomes = await results_views.outcomes_of(db, listed[:shown])
    return {
        "title": texts.RESULTS_TITLE,
        "provisional_text": texts.PROVISIONAL,
        "labels": {
            "units_complete": texts.UNITS_COMPLETE,
            "elected": texts.ELECTED,
            "half": texts.HALF_LINE,
            "votes": texts.VOTES,
        },
        "ballots": [_tally_json(t) for t in tallies],
        "units": [_outcome_json(o) for o in outcomes],
        "units_total": len(standings),
        "units_shown": len(outcomes),
        "more_text": (
            texts.more_electoral_units(len(standings) - len(outcomes))
            if len(standings) > len(outcomes)
            else None
        ),
    }


def _tally_json(tally: BallotTally) -> dict[str, Any]:
    flags = texts.tally_flags(tally.revotes, tally.additional_votes, qh=tally.ballot is Ballot.QH)
    return {
        "ballot": tally.ballot.value,
        "label": result_texts.BALLOT_LABELS[tally.ballot],
        "units_total": tally.units_total,
        "units_complete": tally.units_complete,
        "units_text": f"{vn_int(tally.units_complete)}/{vn_int(tally.units_total)}",
        "units_percent": float(turnout_percent(tally.units_complete, tally.units_total, 1)),
        "seats": tally.seats,
        "seats_filled": tally.seats_filled,
        "seats_text": texts.seats_filled(tally.seats_filled, tally.seats),
        "revotes": tally.revotes,
        "additional_votes": tally.additional_votes,
        "flags_text": flags,
        "line": result_texts.ballot_tally(tally),
    }


def _outcome_json(result: UnitOutcome) -> dict[str, Any]:
    return {
        "ballot": result.ballot.value,
        "ballot_label": result_texts.BALLOT_LABELS[result.ballot],
        "code": result.electoral_unit,
        "name": result.name,
        "seats": result.seats,
        "areas_mapped": result.areas_mapped,
        "areas_reported": result.areas_reported,
        "areas_text": texts.record_areas(result.areas_reported, result.areas_mapped),
        "complete": result.complete,
        "valid": result.valid,
        "valid_text": vn_int(result.valid),
        "flag": result.flag.value if result.flag is not None else None,
        "flag_text": (
            texts.unit_flag(result.flag, qh=result.ballot is Ballot.QH)
            if result.flag is not None
            else None
        ),
        "status_text": texts.PROVISIONAL if result.complete else texts.INCOMPLETE,
        "candidates": [
            {
                "number": c.number,
                "name": c.name,
                "votes": c.votes,
                "votes_text": vn_int(c.votes),
                "percent": float(c.percent),
                "percent_text": result_texts.vn_decimal_percent(c.percent),
                "over_half": c.over_half,
                "elected": c.elected,
            }
            for c in result.candidates
        ],
    }


def _local(epoch: int | None, tz: dt.tzinfo) -> dt.datetime | None:
    return None if epoch is None else dt.datetime.fromtimestamp(epoch, tz)


def _percent(voted: int, registered: int) -> float:
    return float(turnout_percent(voted, registered, 1))


def _counts(totals: Totals) -> dict[str, Any]:
    values = {
        "voted": totals.voted,
        "registered": totals.registered_voters,
        "areas_total": totals.areas_total,
        "areas_reported": totals.areas_reported,
        "areas_finished": totals.areas_finished,
        "staff_total": totals.staff_total,
        "staff_tested": totals.staff_tested,
        "positives": totals.positives,
    }
    return {**values, **{f"{name}_text": vn_int(value) for name, value in values.items()}}


def snapshot_json(snapshot: Snapshot) -> dict[str, Any]:
    """The snapshot as the page's JSON (fields: the module's docstring)."""
    tz = snapshot.generated_at.tzinfo
    assert tz is not None
    t = snapshot.totals
    latest = _local(t.last_report_at, tz)
    unit = snapshot.unit
    children = []
    for row in snapshot.children:
        c = row.totals
        child_latest = _local(c.last_report_at, tz)
        children.append(
            {
                "code": row.unit.code,
                "name": row.unit.name,
                "short_name": row.short_name,
                "label": unit_label(row.unit.code, row.unit.name),
                "reported": row.reported,
                **_counts(c),
                "turnout": _percent(c.voted, c.registered_voters) if row.reported else None,
                "turnout_text": (
                    vn_percent(c.voted, c.registered_voters) if row.reported else texts.NOT_REPORTED
                ),
                "areas_text": texts.areas_text(c.areas_reported, c.areas_total, c.areas_finished),
                "last_report_time": hhmm(child_latest) if child_latest else None,
            }
        )
    shown = sum(len(g.areas) for g in snapshot.missing)
    return {
        "version": snapshot.version,
        "generated_at": snapshot.generated_at.isoformat(timespec="seconds"),
        "generated_time": hhmm(snapshot.generated_at),
        "unit": {
            "code": unit.code,
            "name": unit.name,
            "kind": unit.kind,
            "label": unit_label(unit.code, unit.name),
            "is_area": unit.is_area,
        },
        "headline": {
            **_counts(t),
            "turnout": _percent(t.voted, t.registered_voters),
            "turnout_text": vn_percent(t.voted, t.registered_voters),
            "last_report_at": latest.isoformat(timespec="seconds") if latest else None,
            "last_report_time": hhmm(latest) if latest else None,
            "as_of_text": texts.as_of(hhmm(latest)) if latest else texts.NO_DATA_YET,
        },
        "children": children,
        "curve": {
            "start": snapshot.curve_start.isoformat(timespec="seconds"),
            "end": snapshot.curve_end.isoformat(timespec="seconds"),
            "series": [
                {
                    "code": s.code,
                    "label": s.label,
                    "is_unit": s.is_unit,
                    "points": [
                        {
                            "at": at.isoformat(timespec="seconds"),
                            "time": hhmm(at),
                            "turnout": value,
                            "turnout_text": f"{value:.1f}%".replace(".", ","),
                        }
                        for at, value in s.points
                    ],
                }
                for s in snapshot.curve
            ],
            "not_reported": list(snapshot.curve_not_reported),
        },
        "missing": {
            "total": snapshot.missing_total,
            "shown": shown,
            "more_text": (
                texts.more_missing(snapshot.missing_total - shown)
                if snapshot.missing_total > shown
                else None
            ),
            "groups": [
                {
                    "code": g.unit.code if g.unit else None,
                    "name": g.unit.name if g.unit else None,
                    "label": unit_label(g.unit.code, g.unit.name) if g.unit else None,
                    "areas": [
                        {
                            "code": a.unit.code,
                            "name": a.unit.name,
                            "short_name": a.short_name,
                            "label": unit_label(a.unit.code, a.unit.name),
                            "chiefs": list(a.chiefs),
                            "chiefs_text": ", ".join(a.chiefs) if a.chiefs else texts.NO_CHIEF,
                        }
                        for a in g.areas
                    ],
                }
                for g in snapshot.missing
            ],
        },
        "results": snapshot.results,
        "map": snapshot.map,
        "map_attribution": MAP_ATTRIBUTION if snapshot.map else None,
        "texts": {
            "title": texts.PAGE_TITLE,
            "not_reported": texts.NOT_REPORTED,
            "disconnected": texts.DISCONNECTED,
            "revoked": texts.REVOKED,
            "live": texts.LIVE,
            "nothing_missing": texts.NOTHING_MISSING,
            "missing": texts.MISSING,
            "no_chief": texts.NO_CHIEF,
            "as_of": texts.AS_OF,
            "more_missing": texts.MORE_MISSING,
        },
    }


Clock = Callable[[], dt.datetime]


@dataclass(slots=True)
class _Entry:
    snapshot: Snapshot
    computed_at: float  # monotonic seconds
    stale: bool = False


class DashboardSnapshots:
    """One snapshot per unit, shared by every viewer of that unit, computed again only when
    the unit's data changed (or it is older than `max_age` seconds, so "now" moves on).

    Concurrent requests for a stale unit share one computation. `computed` counts the
    computations (what the tests and the benchmark check). Writes of this process mark the
    units they changed stale at once (`Database.listen`); where other processes write too,
    `check_others` (called every few seconds by whoever serves pages) compares the units'
    totals, one read for all cached units (a results record stored by another process is
    not compared: its units' pages show it within `max_age`)."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        geo: GeoIndex | None = None,
        *,
        max_age: float = 60.0,
        limit: int = 512,
    ) -> None:
        self._db = db
        self._clock = clock
        self._geo = geo
        self._max_age = max_age
        self._limit = limit
        self._entries: dict[str, _Entry] = {}
        self._computing: dict[str, asyncio.Future[Snapshot]] = {}
        self._versions: dict[str, int] = {}
        self._dirty: set[str] = set()  # changed while being computed
        self._changed: list[Callable[[set[str] | None, bool], None]] = []
        self.computed = 0
        self._stop_listening = db.listen(self._on_change)

    def close(self) -> None:
        self._stop_listening()

    def on_stale(self, callback: Callable[[set[str] | None, bool], None]) -> None:
        """`callback(codes, links)` when cached units become stale (None: all of them) or
        dashboard links changed: the live pages' hub listens."""
        self._changed.append(callback)

    def _on_change(self, change: StoreChange) -> None:
        codes: set[str] | None
        if change.structure:
            codes = None
            for entry in self._entries.values():
                entry.stale = True
            self._dirty.update(self._computing)
        else:
            codes = {code for code in change.totals if code in self._entries}
            for code in codes:
                self._entries[code].stale = True
            self._dirty.update(code for code in change.totals if code in self._computing)
        if codes is None or codes or change.links:
            for callback in self._changed:
                callback(codes, change.links)

    def cached(self, code: str) -> Snapshot | None:
        entry = self._entries.get(code)
        return None if entry is None else entry.snapshot

    def is_fresh(self, code: str) -> bool:
        entry = self._entries.get(code)
        return (
            entry is not None
            and not entry.stale
            and time.monotonic() - entry.computed_at < self._max_age
        )

    async def get(self, unit: Unit) -> Snapshot:
        """The unit's current snapshot: the cached one while fresh, else computed once."""
        if self.is_fresh(unit.code):
            return self._entries[unit.code].snapshot
        running = self._computing.get(unit.code)
        if running is not None:
            return await asyncio.shield(running)
        future: asyncio.Future[Snapshot] = asyncio.get_running_loop().create_future()
        self._computing[unit.code] = future
        try:
            snapshot = await self._compute(unit)
        except BaseException as error:
            future.set_exception(error)
            future.exception()  # retrieved: waiting viewers get it, nobody else must
            raise
        finally:
            self._computing.pop(unit.code, None)
        future.set_result(snapshot)
        return snapshot

    async def _compute(self, unit: Unit) -> Snapshot:
        started = time.monotonic()
        self._dirty.discard(unit.code)  # a change from here on makes the result stale
        snapshot = await read_snapshot(self._db, unit, self._clock(), self._geo)
        self.computed += 1
        version = self._versions.get(unit.code, 0) + 1
        self._versions[unit.code] = version
        snapshot = replace(snapshot, version=version)
        stale = unit.code in self._dirty
        self._dirty.discard(unit.code)
        if len(self._entries) >= self._limit and unit.code not in self._entries:
            self._entries.pop(next(iter(self._entries)))
        self._entries[unit.code] = _Entry(snapshot, started, stale)
        return snapshot

    async def check_others(self, codes: Sequence[str]) -> set[str]:
        """Where other processes write too: mark stale (and return) those of `codes` whose
        totals in the store differ from their cached snapshot's."""
        cached = [c for c in codes if c in self._entries]
        if not cached:
            return set()
        if await self._db.refresh_units():
            for entry in self._entries.values():
                entry.stale = True
            return set(cached)
        totals = await self._db.totals_of(cached)
        changed = {c for c in cached if totals[c] != self._entries[c].snapshot.totals}
        for code in changed:
            self._entries[code].stale = True
        return changed
