"""An area's over-the-day steps (`bot.turnout.steps`), the pure side of the steps kept per
unit: the changes up to any minute add up to the area's latest count up to it in the rules'
order (the reference walk), and `step_changes` between two report lists is exactly what
turns the first's steps into the second's; its quick path (one report added) agrees with
the full walk."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.channel import Address
from bot.model import Report
from bot.turnout.rules import _counted, minute_of
from bot.turnout.steps import _walked_changes, add_steps, area_steps, step_changes

SOMEONE = Address("sms", "+84900000000")
BASE = 1_621_728_000  # a minute


def report(number: int, kind: str, second: int, voted: int) -> Report:
    return Report(
        area_code="A",
        kind=kind,
        at=BASE + second,
        time_stated=True,
        received_at=BASE + second,
        sender=SOMEONE,
        chat=SOMEONE,
        message_ref=str(number),
        line_index=0,
        text="",
        voted=None if kind == "covid" else voted,
        id=number,
    )


reports = st.lists(
    st.tuples(
        st.sampled_from(["turnout", "turnout", "completion", "covid"]),
        st.integers(0, 600),  # seconds: ten minutes, so minutes are crowded
        st.integers(0, 500),
    ),
    max_size=12,
).map(lambda rows: [report(n, *row) for n, row in enumerate(rows, 1)])


def latest_count_by_minute(counted: list[Report]) -> dict[int, int]:
    """The reference: the area's latest count at the end of each minute with a count."""
    latest: dict[int, int] = {}
    for r in counted:  # the rules' order
        latest[minute_of(r.at)] = r.voted or 0
    return latest


@settings(deadline=None, max_examples=300)
@given(reports)
def test_steps_add_up_to_the_latest_count_in_the_rules_order(area: list[Report]) -> None:
    steps = area_steps(area)
    counted = _counted(area)
    assert sorted(steps) == sorted({minute_of(r.at) for r in counted})
    assert sum(points for _, points in steps.values()) == len(counted)
    running = 0
    for minute, latest in sorted(latest_count_by_minute(counted).items()):
        running += steps[minute][0]
        assert running == latest


@settings(deadline=None, max_examples=300)
@given(reports, st.data())
def test_step_changes_turn_the_steps_before_into_the_steps_after(
    area: list[Report], data: st.DataObject
) -> None:
    """As the intake changes an area: `after` keeps some of `before` (a correction replaces
    the others) and adds a report."""
    before = area[:-1]
    kept = [r for r in before if data.draw(st.booleans())]
    after = [*kept, *area[-1:]]
    changes = step_changes(before, after)
    assert add_steps(area_steps(before), changes) == area_steps(after)
    assert all(change or points for change, points in changes.values())
    assert step_changes(after, after) == {}


@settings(deadline=None, max_examples=500)
@given(reports)
def test_the_quick_path_for_one_added_report_agrees_with_the_full_walk(
    area: list[Report],
) -> None:
    """One report added to the same objects (the intake's usual case; it has the highest
    id): at the end of the rules' order (the quick path), or at an earlier minute (a late
    report: its minute's change and the next count's change move too), or a COVID report."""
    before, after = area[:-1], area
    assert step_changes(before, after) == _walked_changes(before, after)
