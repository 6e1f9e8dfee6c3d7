"""The over-the-day chart's data, summed by the database (`Database.voted_steps`), is what the
simple reference gives: walk every current count in the rules' order (`count_points`), each
area counting its latest count; on random reports, corrections and subsets of areas, on
SQLite and on PostgreSQL. And the steps kept per unit (`unit_steps`, what the chart reads)
are those sums for every unit after every write: reports at random earlier or later
minutes, corrections, completion and turnout in one minute, COVID reports, a batch undone
by its savepoint, and a units re-import that moves areas between communes."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from bot.channel import Address
from bot.formatting import turnout_percent
from bot.model import CountPoint, NewReport, UnitSpec
from bot.monitoring.summary import _cumulative, _samples
from bot.registration.unit_import import import_units
from bot.turnout.steps import step_changes
from storage.database import Database, Transaction
from tests.steps_check import assert_steps_kept

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
DAY = dt.datetime(2021, 5, 23, 7, 0, tzinfo=TZ)
CHILDREN = ("C1", "C2", "C3")
TREE = [UnitSpec("R", None, "tỉnh", "Tỉnh R", None, None)] + [
    UnitSpec(child, "R", "xã", f"Xã {child}", None, None) for child in CHILDREN
]
AREAS = {child: [f"{child}A{n}" for n in range(6)] for child in CHILDREN}
for child, areas in AREAS.items():
    TREE += [UnitSpec(code, child, "khu vực bỏ phiếu", code, 500, None) for code in areas]
ALL_AREAS = [code for areas in AREAS.values() for code in areas]

SOMEONE = Address("telegram", "1")  # whoever sent the reports here


def reference_curve(
    points: Sequence[CountPoint], voters: int, samples: Sequence[dt.datetime]
) -> list[tuple[dt.datetime, float]]:
    """The chart's former computation: every area counts its latest count up to a sample."""
    latest: dict[str, int] = {}
    curve = []
    index = 0
    for moment in samples:
        while index < len(points) and points[index].at <= moment.timestamp():
            latest[points[index].area_code] = points[index].voted
            index += 1
        curve.append((moment, float(turnout_percent(sum(latest.values()), voters, 1))))
    return curve


def random_reports(rng: random.Random, tx: Transaction, count: int) -> None:
    """Turnout, completion and COVID reports at random seconds (several in one minute, counts
    that may go down), some replaced by a later correction; each area's steps changed as the
    intake changes them."""
    for n in range(count):
        area = rng.choice(ALL_AREAS)
        before = tx.current_reports(area)
        kind = rng.choice(["turnout", "turnout", "turnout", "completion", "covid"])
        at = int((DAY + dt.timedelta(seconds=rng.randint(-3_600, 10 * 3_600))).timestamp())
        if rng.random() < 0.3:  # crowd a few minutes
            at = int(DAY.timestamp()) + 7_200 + rng.randint(0, 179)
        report = tx.add_report(
            NewReport(
                area_code=area,
                kind=kind,
                at=at,
                time_stated=True,
                received_at=at,
                sender=SOMEONE,
                chat=SOMEONE,
                message_ref=str(n),
                line_index=0,
                text="random",
                voted=None if kind == "covid" else rng.randint(0, 500),
                staff_tested=1 if kind == "covid" else None,
                staff_total=1 if kind == "covid" else None,
                positives=0 if kind == "covid" else None,
            )
        )
        earlier = [r.id for r in tx.current_reports(area) if r.id != report.id]
        if earlier and rng.random() < 0.3:  # a correction: replaces an earlier report
            tx.mark_replaced(area, [rng.choice(earlier)], report.id)
        tx.update_steps(area, step_changes(before, tx.current_reports(area)))


def some_writes(rng: random.Random, tx: Transaction) -> None:
    """A write as the intake's batches make them: some parts undone by their savepoint."""
    for _ in range(rng.randint(1, 4)):
        try:
            with tx.savepoint():
                random_reports(rng, tx, rng.randint(0, 30))
                if rng.random() < 0.2:
                    raise LookupError("this part fails: its reports and steps are undone")
        except LookupError:
            pass


def units_file(moved: dict[str, str]) -> bytes:
    """The tree as a units file, the areas in `moved` under another commune."""
    lines = ["code,parent_code,kind,name,registered_voters,staff,contact_phones"]
    for spec in TREE:
        parent = moved.get(spec.code, spec.parent_code)
        voters = "" if spec.registered_voters is None else spec.registered_voters
        lines.append(f"{spec.code},{parent or ''},{spec.kind},{spec.name},{voters},,")
    return "\n".join(lines).encode()


async def test_summed_steps_equal_the_reference_walk_over_count_points(
    store_target: str,
) -> None:
    db = await Database.open(store_target)
    try:
        await db.write(lambda tx: tx.replace_units(TREE))
        kept = 0
        for seed in range(12):
            rng = random.Random(seed)
            for _ in range(rng.randint(1, 3)):
                await db.write(lambda tx, rng=rng: some_writes(rng, tx))  # type: ignore[misc]
                kept += await assert_steps_kept(db)
            if seed in (5, 9):  # areas move to another commune: the steps follow them
                moved = {code: rng.choice(CHILDREN) for code in rng.sample(ALL_AREAS, 5)}
                ok, reply = await import_units(db, units_file(moved))
                assert ok, reply
                kept += await assert_steps_kept(db)
            subsets: list[list[str] | None] = [None, ALL_AREAS, *AREAS.values()]
            subsets += [rng.sample(ALL_AREAS, rng.randint(1, len(ALL_AREAS))) for _ in range(3)]
            for subset in subsets:
                points = await db.count_points(ALL_AREAS if subset is None else subset)
                steps = await db.voted_steps(subset)
                assert [minute for minute, _ in steps] == sorted({p.at for p in points})
                last = dt.datetime.fromtimestamp(max([p.at for p in points] or [0]), TZ)
                samples = _samples(DAY - dt.timedelta(hours=2), max(last, DAY))
                samples += [dt.datetime.fromtimestamp(p.at, TZ) for p in points]
                samples.sort()
                voters = 500 * len(ALL_AREAS if subset is None else subset)
                [curve] = _cumulative([steps], [voters], samples)
                assert curve == reference_curve(points, voters, samples), (seed, subset)
        assert kept > 500  # the checks saw steps
    finally:
        await db.close()
