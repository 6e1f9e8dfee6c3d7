"""The rule engine on its own: `judge` and `area_state` called directly, as tables of cases.

No Core, no database, no grammar, no Telegram: each row builds one polling area (320 voters,
16 staff unless said), its current reports and a candidate report, and states the outcome, the
reason and the figures the reply is built from (`Verdict.facts`), never the wording. Each block
cites the line of `shared/spec/PRODUCT.md` ("PRODUCT l.N") or the issue that fixed the rule.

Where the contract states a rule the engine does not hold, the row is marked
`xfail(strict=True)` with the disagreement: the engine is not changed here.

Rules enforced outside `judge` are tested where they live: the stated date, percentages and the
COVID total from `staff` in `bot/phrasing.complete_report` and the morning/afternoon reading in
`afternoon_reading` (tests/test_phrasing.py); registration, area codes and the grammar in the
intake (tests/test_e2e_reports.py, tests/test_e2e_permissions.py, tests/test_grammar.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.channel import Address
from bot.model import Report, Totals, Unit
from bot.turnout.lines import ParsedReport, ReportKind
from bot.turnout.rules import (
    DAY_CLOSES,
    DAY_OPENS,
    FUTURE_TOLERANCE,
    LIST_TOLERANCE,
    Candidate,
    Outcome,
    Reason,
    Verdict,
    area_state,
    judge,
    minute_of,
)

CHIEF = Address("memory", "1")  # who sent a stored report: judge never looks

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
DAY = dt.date(2021, 5, 23)  # the election day of the rows
VOTERS, STAFF = 320, 16

TURNOUT, COMPLETION, COVID = ReportKind.TURNOUT, ReportKind.COMPLETION, ReportKind.COVID
ACCEPTED, WARNED, REPEAT, REJECTED = (
    Outcome.ACCEPTED,
    Outcome.WARNED,
    Outcome.REPEAT,
    Outcome.REJECTED,
)


def moment(clock: str, day: dt.date = DAY) -> dt.datetime:
    """`"9:00"` or `"11:00:57"` on the election day, in Vietnam's time zone."""
    padded = clock if clock[2:3] == ":" else "0" + clock
    return dt.datetime.combine(day, dt.time.fromisoformat(padded), tzinfo=TZ)


# --- The domain values. The only place that builds `Unit` and `Report` (moving to
# `bot/model.py`, with `Address` ids): the merge edits these two functions and nothing else.


def area(voters: int | None = VOTERS, staff: int | None = STAFF) -> Unit:
    """Polling area KV05 with `voters` on its imported list and a team of `staff`."""
    return Unit(
        code="KV05",
        parent_code="X1",
        kind="khu vực bỏ phiếu",
        name="Khu vực bỏ phiếu số 5",
        depth=2,
        is_area=True,
        registered_voters=voters,
        staff=staff,
        contact_phones=(),
        position=5,
    )


def stored(
    id: int,
    kind: ReportKind,
    at: dt.datetime,
    voted: int | None = None,
    list_size: int | None = None,
    covid: tuple[int, int, int] | None = None,
    correction: bool = False,
) -> Report:
    """A current report of KV05 as storage keeps it: `at` is the time it is stored under."""
    tested, total, positives = covid if covid is not None else (None, None, None)
    return Report(
        area_code="KV05",
        kind=kind.value,
        at=int(at.timestamp()),
        time_stated=kind != COVID,
        received_at=int(at.timestamp()),
        sender=CHIEF,
        chat=CHIEF,
        message_ref=str(id),
        line_index=0,
        text="",
        is_correction=correction,
        voted=voted,
        list_size=list_size,
        staff_tested=tested,
        staff_total=total,
        positives=positives,
        id=id,
    )


# --- Shorthands for the tables.


def T(id: int, clock: str, voted: int, list_size: int | None = None) -> Report:
    """A stored turnout."""
    return stored(id, TURNOUT, moment(clock), voted, list_size)


def C(id: int, clock: str, voted: int, list_size: int | None = None) -> Report:
    """A stored completion (its count is always known once stored)."""
    return stored(id, COMPLETION, moment(clock), voted, list_size)


def X(id: int, clock: str, tested: int, total: int, positives: int) -> Report:
    """A stored COVID tally, stored under its arrival time."""
    return stored(id, COVID, moment(clock), covid=(tested, total, positives))


def candidate(
    kind: ReportKind,
    at: str,
    voted: int | None = None,
    list_size: int | None = None,
    *,
    fix: bool = False,
    received: str | None = None,
    covid: tuple[int, int, int] | None = None,
    origin: tuple[int, ...] = (),
    day: dt.date = DAY,
) -> Candidate:
    """A report about to be judged: placed at `at` (its stated time, or its arrival), arrived at
    `received` (default: `at`); `fix` for `sửa …` or an edit, `origin` the edited line's reports."""
    tested, total, positives = covid if covid is not None else (None, None, None)
    line = ParsedReport(
        index=0,
        text="",
        area_code=None,
        kind=kind,
        is_correction=fix,
        voted=voted,
        list_size=list_size,
        staff_tested=tested,
        staff_total=total,
        positives=positives,
    )
    placed = moment(at, day)
    arrived = moment(received, day) if received is not None else placed
    return Candidate(report=line, at=placed, received_at=arrived, same_origin=origin)


def turnout(
    at: str,
    voted: int,
    list_size: int | None = None,
    *,
    fix: bool = False,
    received: str | None = None,
    origin: tuple[int, ...] = (),
    day: dt.date = DAY,
) -> Candidate:
    return candidate(
        TURNOUT, at, voted, list_size, fix=fix, received=received, origin=origin, day=day
    )


def finish(
    at: str,
    voted: int | None = None,
    list_size: int | None = None,
    *,
    fix: bool = False,
    received: str | None = None,
) -> Candidate:
    return candidate(COMPLETION, at, voted, list_size, fix=fix, received=received)


def tally(at: str, tested: int, total: int, positives: int) -> Candidate:
    return candidate(COVID, at, covid=(tested, total, positives))


# --- The judge table.


@dataclass(frozen=True)
class Row:
    """One judgement: the area, its current reports, the candidate, and what must come out.
    `facts` lists only the figures that matter (times as "HH:MM"); `voted`, `list_size` and
    `replaces` are checked when given."""

    now: Sequence[Report]
    report: Candidate
    outcome: Outcome
    reason: Reason | None = None
    facts: dict[str, int | str] = field(default_factory=dict)
    voted: int | None = None
    list_size: int | None = None
    replaces: tuple[int, ...] | None = None
    unit: Unit = field(default_factory=area)
    locked: bool = False


def row(id: str, case: Row, *, xfail: str | None = None) -> tuple[str, Row, str | None]:
    """A named row; `xfail` says where the engine disagrees with the contract."""
    return (id, case, xfail)


ROWS = [
    # Locked: "reporting while the unit is locked" is refused (PRODUCT l.95), whatever the
    # report: turnout, COVID tally or correction. The lock is checked before anything else.
    row("locked/turnout", Row([], turnout("9:00", 250), REJECTED, Reason.LOCKED, locked=True)),
    row("locked/covid", Row([], tally("9:00", 16, 16, 0), REJECTED, Reason.LOCKED, locked=True)),
    row(
        "locked/correction",
        Row(
            [T(1, "9:00", 250)],
            turnout("9:00", 245, fix=True),
            REJECTED,
            Reason.LOCKED,
            locked=True,
        ),
    ),
    row(
        "locked/even-an-invalid-report-gets-the-lock-reason",
        Row([], turnout("4:00", 999), REJECTED, Reason.LOCKED, locked=True),
    ),
    row(
        "unlocked/turnout-accepted",
        Row(
            [],
            turnout("9:00", 250),
            ACCEPTED,
            voted=250,
            list_size=320,
            replaces=(),
            facts={"previous_list": 320},
        ),
    ),
    # Voting hours: "a turnout or completion time outside 05:00–21:00" is refused
    # (PRODUCT l.91); both ends are inside, and times are judged to the minute (issue 11 §1).
    row(
        "hours/04:59-refused",
        Row(
            [],
            turnout("4:59", 10, received="5:00:10"),
            REJECTED,
            Reason.OUTSIDE_HOURS,
            facts={"at": "04:59"},
        ),
    ),
    row("hours/05:00-accepted", Row([], turnout("5:00", 10, received="5:00:10"), ACCEPTED)),
    row("hours/untimed-21:00:59-is-21:00-accepted", Row([], turnout("21:00:59", 300), ACCEPTED)),
    row(
        "hours/untimed-21:01-refused",
        Row([], turnout("21:01:00", 300), REJECTED, Reason.OUTSIDE_HOURS, facts={"at": "21:01"}),
    ),
    row(
        "hours/completion-21:30-refused",
        Row(
            [T(1, "17:00", 300)],
            finish("21:30", 310, received="21:40"),
            REJECTED,
            Reason.OUTSIDE_HOURS,
            facts={"at": "21:30"},
        ),
    ),
    row(
        "hours/completion-21:00-accepted",
        Row([T(1, "17:00", 300)], finish("21:00", 310, received="21:40"), ACCEPTED, voted=310),
    ),
    row(
        "hours/correction-04:30-refused",
        Row([], turnout("4:30", 10, fix=True, received="9:00"), REJECTED, Reason.OUTSIDE_HOURS),
    ),
    # "COVID tallies carry no time and are accepted at any hour" (PRODUCT l.92).
    row("hours/covid-at-03:00-accepted", Row([], tally("3:00", 16, 16, 0), ACCEPTED)),
    row("hours/covid-at-23:30-accepted", Row([], tally("23:30", 16, 16, 0), ACCEPTED)),
    # The future: "more than 5 minutes in the future" is refused (PRODUCT l.91); the stated
    # time and the arrival both count as their minute, so 09:05 sent at 09:00:59 is in time.
    row("future/+5min-accepted", Row([], turnout("9:05", 250, received="9:00:59"), ACCEPTED)),
    row(
        "future/+6min-refused",
        Row(
            [],
            turnout("9:06", 250, received="9:00:59"),
            REJECTED,
            Reason.IN_FUTURE,
            facts={"at": "09:06"},
        ),
    ),
    row(
        "future/completion-refused",
        Row(
            [T(1, "11:00", 300)],
            finish("12:00", received="11:50"),
            REJECTED,
            Reason.IN_FUTURE,
            facts={"at": "12:00"},
        ),
    ),
    row(
        "future/sent-late-for-a-past-time-accepted",
        Row([], turnout("9:00", 250, received="20:00"), ACCEPTED),
    ),
    # "voted > voters on the list" is refused (PRODUCT l.84), measured against the list in
    # force: the stated `/N`, else the latest stated one, else the imported size (l.86, l.180).
    row(
        "voted-over-list/321-of-320",
        Row(
            [],
            turnout("9:00", 321, 320),
            REJECTED,
            Reason.VOTED_OVER_LIST,
            facts={"voted": 321, "list": 320},
        ),
    ),
    row(
        "voted-over-list/untimed-321-of-imported-320",
        Row(
            [],
            turnout("9:00", 321),
            REJECTED,
            Reason.VOTED_OVER_LIST,
            facts={"voted": 321, "list": 320},
        ),
    ),
    row(
        "voted-over-list/320-of-320-accepted",
        Row([], turnout("9:00", 320, 320), ACCEPTED, voted=320, list_size=320),
    ),
    row(
        "voted-over-list/completion-321",
        Row(
            [T(1, "9:00", 250)],
            finish("11:00", 321, 320),
            REJECTED,
            Reason.VOTED_OVER_LIST,
            facts={"voted": 321, "list": 320},
        ),
    ),
    row(
        "voted-over-list/against-a-changed-list",
        Row(
            [T(1, "9:00", 250, 300)],
            turnout("10:00", 301),
            REJECTED,
            Reason.VOTED_OVER_LIST,
            facts={"voted": 301, "list": 300},
        ),
    ),
    row(
        "voted-over-list/changed-list-full-accepted",
        Row([T(1, "9:00", 250, 300)], turnout("10:00", 300), ACCEPTED, voted=300, list_size=300),
    ),
    row(
        "voted-over-list/against-the-stated-list",
        Row(
            [],
            turnout("9:00", 300, 295),
            REJECTED,
            Reason.VOTED_OVER_LIST,
            facts={"voted": 300, "list": 295},
        ),
    ),
    row(
        "voted-over-list/above-imported-within-a-larger-stated-list",
        Row(
            [],
            turnout("9:00", 340, 352),
            WARNED,
            Reason.LIST_SIZE_CHANGED,
            voted=340,
            list_size=352,
        ),
    ),
    # The list size: a `/N` more than 10% away from the imported size is refused; within 10%,
    # inclusive, it is stored with ⚠️ and becomes the current list (PRODUCT l.85-88, l.180).
    # 10% of 320 is 32: 288 and 352 are in, 287 and 353 out.
    row(
        "list/+10%-352-warned",
        Row(
            [],
            turnout("9:00", 250, 352),
            WARNED,
            Reason.LIST_SIZE_CHANGED,
            voted=250,
            list_size=352,
            facts={"previous_list": 320},
        ),
    ),
    row(
        "list/+10%-353-refused",
        Row(
            [],
            turnout("9:00", 250, 353),
            REJECTED,
            Reason.LIST_SIZE_OFF,
            facts={"stated": 353, "imported": 320},
        ),
    ),
    row(
        "list/-10%-288-warned",
        Row([], turnout("9:00", 250, 288), WARNED, Reason.LIST_SIZE_CHANGED, list_size=288),
    ),
    row(
        "list/-10%-287-refused",
        Row(
            [],
            turnout("9:00", 250, 287),
            REJECTED,
            Reason.LIST_SIZE_OFF,
            facts={"stated": 287, "imported": 320},
        ),
    ),
    row(
        "list/on-a-completion-refused",
        Row(
            [T(1, "9:00", 250)],
            finish("11:00", 300, 400),
            REJECTED,
            Reason.LIST_SIZE_OFF,
            facts={"stated": 400, "imported": 320},
        ),
    ),
    row(
        "list/measured-against-imported-not-current",
        Row(
            [T(1, "9:00", 250, 352)],
            turnout("10:00", 260, 380),
            REJECTED,
            Reason.LIST_SIZE_OFF,
            facts={"stated": 380, "imported": 320},
        ),
    ),
    row(
        "list/imported-size-restated-accepted",
        Row([], turnout("9:00", 250, 320), ACCEPTED, list_size=320),
    ),
    # Issue 11: going back to the imported list size draws no second ⚠️; restating the list
    # already in force is no change either.
    row(
        "list/back-to-imported-no-warning",
        Row(
            [T(1, "9:00", 250, 352)],
            turnout("10:00", 260, 320),
            ACCEPTED,
            None,
            list_size=320,
            facts={"previous_list": 352},
        ),
    ),
    row(
        "list/restating-the-changed-list-no-second-warning",
        Row([T(1, "9:00", 250, 352)], turnout("10:00", 260, 352), ACCEPTED, None, list_size=352),
    ),
    row(
        "list/a-second-change-warned",
        Row(
            [T(1, "9:00", 250, 352)],
            turnout("10:00", 260, 340),
            WARNED,
            Reason.LIST_SIZE_CHANGED,
            list_size=340,
            facts={"previous_list": 352},
        ),
    ),
    row(
        "list/untimed-keeps-the-changed-list",
        Row([T(1, "9:00", 250, 352)], turnout("10:00", 260), ACCEPTED, None, list_size=352),
    ),
    row(
        "list/in-force-but-off-the-reimported-size",
        Row(
            [T(1, "9:00", 250, 352)],
            turnout("10:00", 260, 352),
            REJECTED,
            Reason.LIST_SIZE_OFF,
            facts={"stated": 352, "imported": 300},
            unit=area(voters=300),
        ),
    ),  # (after a re-import moved the imported size 320 → 300, the earlier 352 is 17% off)
    # Order: "a count lower than an earlier-in-time report, or higher than a later-in-time one"
    # is refused (PRODUCT l.89); equal counts are fine; reports may arrive out of time order.
    row(
        "order/lower-than-earlier",
        Row(
            [T(1, "9:00", 250)],
            turnout("10:00", 240),
            REJECTED,
            Reason.LOWER_THAN_EARLIER,
            facts={"other_voted": 250, "other_at": "09:00"},
        ),
    ),
    row(
        "order/equal-to-earlier-accepted",
        Row([T(1, "9:00", 250)], turnout("10:00", 250), ACCEPTED, voted=250),
    ),
    row(
        "order/higher-than-later",
        Row(
            [T(1, "10:00", 280)],
            turnout("9:30", 290, received="10:05"),
            REJECTED,
            Reason.HIGHER_THAN_LATER,
            facts={"other_voted": 280, "other_at": "10:00"},
        ),
    ),
    row(
        "order/equal-to-later-accepted",
        Row([T(1, "10:00", 280)], turnout("9:30", 280, received="10:05"), ACCEPTED),
    ),
    row(
        "order/between-two-accepted",
        Row(
            [T(1, "9:00", 250), T(2, "10:00", 280)],
            turnout("9:30", 265, received="10:05"),
            ACCEPTED,
            voted=265,
            replaces=(),
        ),
    ),
    row(
        "order/lower-than-the-nearest-earlier-one-named",
        Row(
            [T(1, "8:00", 100), T(2, "9:00", 250)],
            turnout("10:00", 200),
            REJECTED,
            Reason.LOWER_THAN_EARLIER,
            facts={"other_voted": 250, "other_at": "09:00"},
        ),
    ),
    row(
        "order/higher-than-the-nearest-later-one-named",
        Row(
            [T(1, "10:00", 250), T(2, "11:00", 280)],
            turnout("9:00", 290, received="11:05"),
            REJECTED,
            Reason.HIGHER_THAN_LATER,
            facts={"other_voted": 250, "other_at": "10:00"},
        ),
    ),
    row(
        "order/completion-lower-than-a-turnout-of-its-minute",
        Row(
            [T(1, "11:00", 260)],
            finish("11:00", 250),
            REJECTED,
            Reason.LOWER_THAN_EARLIER,
            facts={"other_voted": 260, "other_at": "11:00"},
        ),
    ),
    row(
        "order/completion-higher-in-the-minute-of-a-turnout-accepted",
        Row([T(1, "11:00", 260)], finish("11:00:40", 300), ACCEPTED, voted=300),
    ),
    row(
        "order/covid-does-not-count",
        Row([X(1, "6:00", 16, 16, 0)], turnout("9:00", 0), ACCEPTED, voted=0),
    ),
    # "unless it is a correction" (PRODUCT l.89): a correction replaces the report of its
    # minute (l.72), so it may go below what it replaces; issue 11 §1 (no count goes down over
    # time) keeps corrections in order with the *other* reports.
    row(
        "order/correction-below-what-it-replaces-accepted",
        Row(
            [T(1, "9:00", 250)],
            turnout("9:00", 245, fix=True, received="9:30"),
            ACCEPTED,
            voted=245,
            replaces=(1,),
        ),
    ),
    row(
        "order/correction-above-a-later-report-refused",
        Row(
            [T(1, "9:00", 250), T(2, "10:00", 270)],
            turnout("9:00", 280, fix=True, received="10:01"),
            REJECTED,
            Reason.HIGHER_THAN_LATER,
            facts={"other_voted": 270, "other_at": "10:00"},
        ),
    ),
    row(
        "order/correction-below-an-earlier-report-refused",
        Row(
            [T(1, "9:00", 250), T(2, "10:00", 270)],
            turnout("10:00", 240, fix=True, received="10:01"),
            REJECTED,
            Reason.LOWER_THAN_EARLIER,
            facts={"other_voted": 250, "other_at": "09:00"},
        ),
    ),
    row(
        "order/correction-that-replaces-nothing-accepted",
        Row([T(1, "9:00", 250)], turnout("10:00", 260, fix=True), ACCEPTED, voted=260, replaces=()),
    ),
    # An edited message corrects what its line said before (PRODUCT l.72): its earlier reports
    # (`same_origin`) are replaced even at another time, so they do not count against it.
    row(
        "edit/replaces-its-origin-at-another-time",
        Row(
            [T(1, "9:00", 250), T(2, "10:00", 270)],
            turnout("9:30", 240, fix=True, received="10:05", origin=(1,)),
            ACCEPTED,
            voted=240,
            replaces=(1,),
        ),
    ),
    row(
        "edit/the-same-without-origin-is-refused",
        Row(
            [T(1, "9:00", 250), T(2, "10:00", 270)],
            turnout("9:30", 240, fix=True, received="10:05"),
            REJECTED,
            Reason.LOWER_THAN_EARLIER,
            facts={"other_voted": 250, "other_at": "09:00"},
        ),
    ),
    # A plain report at a time the area already has a report for: the same count is a repeat,
    # a different count is refused (use `sửa`) (PRODUCT l.166-167). Times are minutes: an
    # untimed report arriving at 11:00:57 is at 11:00 (issue 11 §1).
    row(
        "same-time/same-count-repeat",
        Row([T(1, "9:00", 250, 320)], turnout("9:00", 250, 320), REPEAT, voted=250, list_size=320),
    ),
    row(
        "same-time/same-count-without-list-repeat",
        Row([T(1, "9:00", 250, 320)], turnout("9:00", 250), REPEAT),
    ),
    row(
        "same-time/untimed-in-the-minute-repeat",
        Row([T(1, "11:00", 260)], turnout("11:00:57", 260), REPEAT, voted=260),
    ),
    row(
        "same-time/different-count",
        Row(
            [T(1, "9:00", 250)],
            turnout("9:00", 260),
            REJECTED,
            Reason.SAME_TIME_DIFFERENT_COUNT,
            facts={"other_voted": 250},
        ),
    ),
    row(
        "same-time/untimed-in-the-minute-different-count",
        Row(
            [T(1, "11:00", 260)],
            turnout("11:00:57", 280),
            REJECTED,
            Reason.SAME_TIME_DIFFERENT_COUNT,
            facts={"other_voted": 260},
        ),
    ),
    row(
        "same-time/same-count-other-list",
        Row(
            [T(1, "9:00", 250, 320)],
            turnout("9:00", 250, 330),
            REJECTED,
            Reason.SAME_TIME_DIFFERENT_COUNT,
            facts={"other_voted": 250},
        ),
    ),
    row(
        "same-time/different-count-by-correction-accepted",
        Row(
            [T(1, "9:00", 250)],
            turnout("9:00", 260, fix=True, received="9:10"),
            ACCEPTED,
            voted=260,
            replaces=(1,),
        ),
    ),
    row(
        "same-time/same-count-by-correction-repeat",
        Row(
            [T(1, "9:00", 250)], turnout("9:00", 250, fix=True, received="9:10"), REPEAT, voted=250
        ),
    ),
    row(
        "same-time/next-minute-is-another-time",
        Row([T(1, "9:00", 250)], turnout("9:01", 260), ACCEPTED, replaces=()),
    ),
    # After completion: "a turnout report after the area's completion, unless it is a
    # correction" is refused (PRODUCT l.90); "every plain turnout or completion report ... is ❌,
    # whatever time it states; `sửa …` corrects (including the completion itself)" (l.168-169).
    row(
        "completed/plain-turnout-later",
        Row(
            [T(1, "9:00", 250), C(2, "11:00", 300)],
            turnout("12:00", 310),
            REJECTED,
            Reason.AFTER_COMPLETION,
            facts={"finished_at": "11:00", "other_voted": 300},
        ),
    ),
    row(
        "completed/plain-turnout-earlier-time",
        Row(
            [T(1, "9:00", 250), C(2, "11:00", 300)],
            turnout("10:00", 280, received="12:00"),
            REJECTED,
            Reason.AFTER_COMPLETION,
            facts={"finished_at": "11:00", "other_voted": 300},
        ),
    ),
    row(
        "completed/plain-resend-of-a-turnout-is-not-a-repeat",
        Row(
            [T(1, "9:00", 250), C(2, "11:00", 300)],
            turnout("9:00", 250, received="12:00"),
            REJECTED,
            Reason.AFTER_COMPLETION,
        ),
    ),
    row(
        "completed/plain-resend-of-the-completion-is-not-a-repeat",
        Row(
            [C(1, "11:00", 300)],
            finish("11:00", 300, received="11:05"),
            REJECTED,
            Reason.AFTER_COMPLETION,
            facts={"finished_at": "11:00", "other_voted": 300},
        ),
    ),
    row(
        "completed/plain-second-completion",
        Row([C(1, "11:00", 300)], finish("11:30", 310), REJECTED, Reason.AFTER_COMPLETION),
    ),
    row(
        "completed/covid-still-accepted",
        Row([C(1, "11:00", 300)], tally("12:00", 16, 16, 0), ACCEPTED),
    ),
    row(
        "completed/correcting-the-completion-at-another-time",
        Row(
            [T(1, "9:00", 250), C(2, "11:00", 300)],
            finish("11:30", 310, fix=True),
            ACCEPTED,
            voted=310,
            replaces=(2,),
        ),
    ),
    row(
        "completed/correcting-the-completion-unchanged-repeat",
        Row(
            [C(1, "11:00", 300)],
            finish("11:00", 300, fix=True, received="11:30"),
            REPEAT,
            voted=300,
        ),
    ),
    row(
        "completed/correcting-a-completion-that-does-not-exist",
        Row(
            [T(1, "11:00", 260)],
            finish("11:00", 300, fix=True, received="11:02"),
            ACCEPTED,
            voted=300,
            replaces=(),
        ),
    ),
    row(
        "completed/correcting-a-turnout-before-the-finish",
        Row(
            [T(1, "9:00", 250), C(2, "11:00", 300)],
            turnout("9:00", 260, fix=True, received="12:00"),
            ACCEPTED,
            voted=260,
            replaces=(1,),
        ),
    ),
    row(
        "completed/corrected-turnout-in-the-finish-minute-accepted",
        Row(
            [T(1, "9:00", 250), C(2, "11:00", 300)],
            turnout("11:00", 295, fix=True, received="12:00"),
            ACCEPTED,
            voted=295,
            replaces=(),
        ),
    ),
    # Issue 11 §1: a corrected turnout later than the finish is refused (`after_finish_time`).
    row(
        "completed/corrected-turnout-after-the-finish-time",
        Row(
            [T(1, "9:00", 250), C(2, "11:00", 300)],
            turnout("12:00", 310, fix=True),
            REJECTED,
            Reason.AFTER_FINISH_TIME,
            facts={"finished_at": "11:00"},
        ),
    ),
    row(
        "completed/corrected-turnout-above-the-final-count",
        Row(
            [T(1, "9:00", 250), C(2, "11:00", 300)],
            turnout("10:00", 305, fix=True, received="12:00"),
            REJECTED,
            Reason.HIGHER_THAN_LATER,
            facts={"other_voted": 300, "other_at": "11:00"},
        ),
    ),
    row(
        "completed/corrected-completion-below-the-last-turnout",
        Row(
            [T(1, "11:00", 300), C(2, "11:30", 300)],
            finish("11:30", 290, fix=True, received="11:40"),
            REJECTED,
            Reason.LOWER_THAN_EARLIER,
            facts={"other_voted": 300, "other_at": "11:00"},
        ),
    ),
    # A completion ends the day: it cannot come before a turnout (PRODUCT l.70, l.90; the
    # finish in the minute of the last report is fine, issue 11 §1).
    row(
        "completion/before-the-last-report",
        Row(
            [T(1, "11:30", 260)],
            finish("11:00", 260, received="11:32"),
            REJECTED,
            Reason.COMPLETION_BEFORE_LAST,
            facts={"other_at": "11:30"},
        ),
    ),
    row(
        "completion/in-the-minute-of-the-last-report",
        Row([T(1, "11:00", 260)], finish("11:00", received="11:01:10"), ACCEPTED, voted=260),
    ),
    row(
        "completion/corrected-to-before-the-last-turnout",
        Row(
            [T(1, "11:30", 300), C(2, "12:00", 300)],
            finish("11:00", 300, fix=True, received="12:10"),
            REJECTED,
            Reason.COMPLETION_BEFORE_LAST,
            facts={"other_at": "11:30"},
        ),
    ),
    # `xong` without a count takes the area's last reported count; with no earlier report it
    # is refused and asks for the count (PRODUCT l.70, l.178).
    row(
        "completion-count/none-reported",
        Row([], finish("11:00"), REJECTED, Reason.COMPLETION_NEEDS_COUNT),
    ),
    row(
        "completion-count/a-covid-tally-is-no-count",
        Row([X(1, "6:00", 16, 16, 0)], finish("11:00"), REJECTED, Reason.COMPLETION_NEEDS_COUNT),
    ),
    row(
        "completion-count/takes-the-last-count",
        Row(
            [T(1, "9:00", 250), T(2, "10:00", 270)],
            finish("11:00"),
            ACCEPTED,
            voted=270,
            list_size=320,
        ),
    ),
    row(
        "completion-count/takes-the-last-list",
        Row([T(1, "9:00", 250, 340)], finish("11:00"), ACCEPTED, voted=250, list_size=340),
    ),
    row(
        "completion-count/only-reports-later-than-it",
        Row(
            [T(1, "11:30", 270)],
            finish("11:00", received="11:35"),
            REJECTED,
            Reason.COMPLETION_BEFORE_LAST,
            facts={"other_at": "11:30"},
        ),
    ),
    # COVID tallies: "staff tested > staff total (or ≠ the area's `staff` when known);
    # positives > tested" are refused (PRODUCT l.93); a tally replaces the area's previous one
    # (l.173); `âm tính` is 0 positives (l.71).
    row(
        "covid/tested-over-total",
        Row([], tally("7:00", 17, 16, 0), REJECTED, Reason.TESTED_OVER_STAFF, facts={"total": 16}),
    ),
    row(
        "covid/tested-equals-total-accepted",
        Row([], tally("7:00", 16, 16, 0), ACCEPTED, replaces=()),
    ),
    row(
        "covid/total-below-area-staff",
        Row([], tally("7:00", 15, 15, 0), REJECTED, Reason.STAFF_MISMATCH, facts={"staff": 16}),
    ),
    row(
        "covid/total-above-area-staff",
        Row([], tally("7:00", 16, 17, 0), REJECTED, Reason.STAFF_MISMATCH, facts={"staff": 16}),
    ),
    row(
        "covid/tested-over-total-named-before-staff-mismatch",
        Row([], tally("7:00", 18, 17, 0), REJECTED, Reason.TESTED_OVER_STAFF, facts={"total": 17}),
    ),
    row(
        "covid/any-total-when-staff-unknown",
        Row([], tally("7:00", 15, 15, 0), ACCEPTED, unit=area(staff=None)),
    ),
    row(
        "covid/tested-over-total-when-staff-unknown",
        Row(
            [],
            tally("7:00", 16, 15, 0),
            REJECTED,
            Reason.TESTED_OVER_STAFF,
            facts={"total": 15},
            unit=area(staff=None),
        ),
    ),
    row(
        "covid/positives-over-tested",
        Row(
            [],
            tally("7:00", 10, 16, 11),
            REJECTED,
            Reason.POSITIVES_OVER_TESTED,
            facts={"tested": 10},
        ),
    ),
    row("covid/positives-equal-tested-accepted", Row([], tally("7:00", 10, 16, 10), ACCEPTED)),
    row(
        "covid/replaces-the-previous-tally",
        Row([X(1, "6:00", 15, 16, 0)], tally("7:00", 16, 16, 1), ACCEPTED, replaces=(1,)),
    ),
    row(
        "covid/same-tally-again-repeat",
        Row([X(1, "6:00", 16, 16, 0)], tally("7:00", 16, 16, 0), REPEAT),
    ),
    row(
        "covid/not-judged-against-counts",
        Row(
            [T(1, "9:00", 250), C(2, "11:00", 300)],
            tally("23:00", 16, 16, 0),
            ACCEPTED,
            replaces=(),
        ),
    ),
    # "Turnout and completion must be on the election date" (PRODUCT l.149) is not `judge`'s:
    # a stated date is checked, and an untimed report arriving on another day is refused
    # (`arrived_off_day`), by `complete_report` before `judge` (tests/test_phrasing.py and
    # tests/test_conversation_reports.py); a stated time is placed on the election date.
]

TABLE = [
    pytest.param(case, id=id, marks=[pytest.mark.xfail(strict=True, reason=why)] if why else [])
    for id, case, why in ROWS
]


def shown(key: str, value: object) -> object:
    """A fact as the table states it: a time (a datetime, or epoch seconds under a time key)
    as its local "HH:MM", anything else as it is."""
    if isinstance(value, dt.datetime):
        return value.astimezone(TZ).strftime("%H:%M")
    if isinstance(value, int) and (key == "at" or key.endswith("_at")):
        return dt.datetime.fromtimestamp(value, TZ).strftime("%H:%M")
    return value


@pytest.mark.parametrize("case", TABLE)
def test_judge(case: Row) -> None:
    reports = list(case.now)
    verdict = judge(case.unit, case.locked, reports, case.report)
    assert (verdict.outcome, verdict.reason) == (case.outcome, case.reason), verdict
    facts = {key: shown(key, verdict.facts.get(key)) for key in case.facts}
    assert facts == case.facts, verdict.facts
    if case.voted is not None:
        assert verdict.voted == case.voted, verdict
    if case.list_size is not None:
        assert verdict.list_size == case.list_size, verdict
    if case.replaces is not None:
        assert verdict.replaces == case.replaces, verdict
    assert reports == list(case.now), "judge changed the reports it was given"


def test_the_table_names_every_reason() -> None:
    """Every `Reason` the engine has is the expected reason of at least one passing row."""
    named = {case.reason for _, case, disagreement in ROWS if disagreement is None}
    assert set(Reason) <= named, set(Reason) - named


# --- area_state: what an area's figures are, from its current reports.


def state(
    reported: int = 0,
    finished: int = 0,
    listed: int = VOTERS,
    voted: int = 0,
    staff: int = STAFF,
    tested: int = 0,
    positives: int = 0,
    last: str | None = None,
) -> Totals:
    """An area's figures, in the shape of subtree totals (one area); `last` as a clock time."""
    return Totals(
        areas_total=1,
        areas_reported=reported,
        areas_finished=finished,
        registered_voters=listed,
        voted=voted,
        staff_total=staff,
        staff_tested=tested,
        positives=positives,
        last_report_at=int(moment(last).timestamp()) if last is not None else None,
    )


STATES = [
    pytest.param(area(), [], state(), id="nothing-reported"),
    # PRODUCT l.172: a COVID tally alone does not make an area reported.
    pytest.param(
        area(),
        [X(1, "6:00", 16, 16, 0)],
        state(tested=16, last="6:00"),
        id="a-covid-tally-alone-is-not-reported",
    ),
    # PRODUCT l.208: without `staff`, the total of the latest tally serves as the area's staff.
    pytest.param(
        area(staff=None),
        [X(1, "6:00", 14, 15, 1)],
        state(staff=15, tested=14, positives=1, last="6:00"),
        id="no-staff-figure-the-tally-total-serves",
    ),
    pytest.param(area(staff=None), [], state(staff=0), id="no-staff-figure-no-tally"),
    # PRODUCT l.190: voted is the latest count, in time (not in arrival).
    pytest.param(
        area(),
        [T(2, "10:00", 280), T(3, "9:00", 250)],
        state(reported=1, voted=280, last="10:00"),
        id="the-latest-in-time-not-in-arrival",
    ),
    # PRODUCT l.86, l.180: the current list size is the latest stated `/N`, else the imported.
    pytest.param(
        area(),
        [T(1, "9:00", 250, 352), T(2, "10:00", 260)],
        state(reported=1, listed=352, voted=260, last="10:00"),
        id="the-list-size-is-the-latest-stated",
    ),
    pytest.param(
        area(),
        [T(1, "9:00", 250, 352), T(2, "10:00", 260, 320)],
        state(reported=1, voted=260, last="10:00"),
        id="the-list-size-back-to-imported",
    ),
    pytest.param(
        area(),
        [T(1, "9:00", 250), C(2, "11:00", 300), X(3, "6:00", 16, 16, 0)],
        state(reported=1, finished=1, voted=300, tested=16, last="11:00"),
        id="finished-with-its-count-and-tally",
    ),
    # Issue 11 §1: a completion is final; its count is the area's, whatever shares its minute.
    pytest.param(
        area(),
        [C(1, "11:00", 300), T(2, "11:00", 290)],
        state(reported=1, finished=1, voted=300, last="11:00"),
        id="a-completion-is-final-in-its-minute",
    ),
    # PRODUCT l.173: a tally replaces the previous one; the latest by arrival counts.
    pytest.param(
        area(),
        [X(1, "6:00", 15, 16, 0), X(2, "6:00", 16, 16, 1)],
        state(tested=16, positives=1, last="6:00"),
        id="the-latest-tally-by-arrival",
    ),
    # PRODUCT l.209-210: last_report_at is the latest time a report was stored under.
    pytest.param(
        area(),
        [T(1, "9:00", 250), X(2, "11:00", 16, 16, 0)],
        state(reported=1, voted=250, tested=16, last="11:00"),
        id="last-report-at-counts-a-tally",
    ),
]


@pytest.mark.parametrize(("unit", "reports", "expected"), STATES)
def test_area_state(unit: Unit, reports: list[Report], expected: Totals) -> None:
    assert area_state(unit, reports) == expected


# --- Properties: an area driven by random reports through `judge`, stored as storage stores
# them (the verdict's count and list; what it replaces set aside). Whatever the sequence, what
# is accepted obeys the contract, and `judge` is a pure function of its arguments.

IMPORTED = 320

report_step = st.tuples(
    st.sampled_from([TURNOUT, TURNOUT, TURNOUT, COMPLETION, COVID]),
    st.booleans(),  # a correction
    st.integers(min_value=-90, max_value=8),  # stated minute against the arrival's
    st.one_of(st.none(), st.integers(min_value=0, max_value=IMPORTED + 40)),  # voted
    st.sampled_from([None, None, 320, 300, 352, 353, 287, 288]),  # a stated `/N`
    st.integers(min_value=0, max_value=40),  # minutes since the previous arrival
    st.tuples(st.integers(0, 18), st.integers(14, 18), st.integers(0, 3)),  # a COVID tally
)


def _series(reports: Sequence[Report]) -> list[Report]:
    return sorted(
        (r for r in reports if r.kind != COVID),
        key=lambda r: (minute_of(r.at), r.kind == COMPLETION, r.id),
    )


@settings(max_examples=300, deadline=None, derandomize=True)
@given(steps=st.lists(report_step, min_size=1, max_size=14), start=st.integers(4 * 60, 20 * 60))
def test_whatever_arrives_what_is_stored_obeys_the_rules(
    steps: list[tuple[ReportKind, bool, int, int | None, int | None, int, tuple[int, int, int]]],
    start: int,
) -> None:
    unit = area()
    current: list[Report] = []
    arrived = moment("0:00") + dt.timedelta(minutes=start)
    for n, (kind, fix, offset, voted, list_size, pause, covid) in enumerate(steps, start=1):
        arrived += dt.timedelta(minutes=pause, seconds=n)
        placed = arrived + dt.timedelta(minutes=offset)
        if kind == TURNOUT and voted is None:
            voted = 250
        line = ParsedReport(
            index=0, text="", area_code=None, kind=kind, is_correction=fix,
            voted=None if kind == COVID else voted,
            list_size=None if kind == COVID else list_size,
            staff_tested=covid[0] if kind == COVID else None,
            staff_total=covid[1] if kind == COVID else None,
            positives=covid[2] if kind == COVID else None,
        )  # fmt: skip
        if kind == COVID:
            placed = arrived
        report = Candidate(line, placed, arrived)
        given_reports = list(current)
        verdict = judge(unit, False, current, report)

        # Pure: the same arguments give the same verdict, and nothing given is changed.
        assert judge(unit, False, current, report) == verdict
        assert current == given_reports
        assert judge(unit, True, current, report) == Verdict(REJECTED, Reason.LOCKED)
        # A refusal always says why; an acceptance gives no reason, a warning its subject.
        expected_reason = {ACCEPTED: False, REPEAT: False, REJECTED: True}
        if verdict.outcome == WARNED:
            assert verdict.reason == Reason.LIST_SIZE_CHANGED
        else:
            assert (verdict.reason is not None) == expected_reason[verdict.outcome], verdict
        if verdict.outcome not in (ACCEPTED, WARNED):
            continue

        if kind != COVID:
            # An accepted count is within its list, its list within 10% of the imported one,
            # its time within voting hours and not in the future.
            assert verdict.voted is not None and verdict.list_size is not None
            assert 0 <= verdict.voted <= verdict.list_size, verdict
            assert abs(verdict.list_size - IMPORTED) <= LIST_TOLERANCE * IMPORTED
            minute = placed.replace(second=0, microsecond=0)
            assert DAY_OPENS <= minute.time() <= DAY_CLOSES
            assert minute <= arrived.replace(second=0, microsecond=0) + FUTURE_TOLERANCE
        else:
            assert covid[2] <= covid[0] <= covid[1] == STAFF
        assert set(verdict.replaces) <= {r.id for r in current}
        new = stored(
            n, kind, placed.replace(second=0, microsecond=0) if kind != COVID else placed,
            voted=verdict.voted, list_size=verdict.list_size if kind != COVID else None,
            covid=covid if kind == COVID else None, correction=fix,
        )  # fmt: skip
        previous = area_state(unit, current)
        current = [r for r in current if r.id not in verdict.replaces] + [new]

        # The area's counts never go down over time, a completion is the last thing in
        # time, there is one of it, and only a correction can lower the area's figure.
        counts = [r.voted or 0 for r in _series(current)]
        assert counts == sorted(counts), _series(current)
        completions = [r for r in current if r.kind == COMPLETION]
        assert len(completions) <= 1
        if completions:
            assert _series(current)[-1].kind == COMPLETION
        assert len([r for r in current if r.kind == COVID]) <= 1
        if not fix:
            assert area_state(unit, current).voted >= previous.voted
