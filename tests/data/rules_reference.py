"""The rule engine as it was before issue 19 made it lean (bot/turnout/rules.py at b55e5fe):
the reference tests/test_rules_lean.py checks the lean one against. Do not edit: it is what
the rules meant when they were written plainly.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from bot.model import Report, Totals, Unit
from bot.turnout.lines import ParsedReport, ReportKind

DAY_OPENS = dt.time(5, 0)
DAY_CLOSES = dt.time(21, 0)
FUTURE_TOLERANCE = dt.timedelta(minutes=5)
LIST_TOLERANCE = 0.10  # a stated list size within ±10% of the imported one is a real change


class Outcome(StrEnum):
    ACCEPTED = "accepted"
    WARNED = "warned"  # stored, with a warning (the list size changed)
    REPEAT = "repeat"  # identical to what is stored: answered ✅, stored once
    REJECTED = "rejected"


class Reason(StrEnum):
    """Why a report is refused, or what a warning is about."""

    LOCKED = "locked"
    OUTSIDE_HOURS = "outside_hours"
    IN_FUTURE = "in_future"
    LIST_SIZE_OFF = "list_size_off"
    LIST_SIZE_CHANGED = "list_size_changed"  # the warning
    VOTED_OVER_LIST = "voted_over_list"
    COMPLETION_NEEDS_COUNT = "completion_needs_count"
    AFTER_COMPLETION = "after_completion"
    SAME_TIME_DIFFERENT_COUNT = "same_time_different_count"
    LOWER_THAN_EARLIER = "lower_than_earlier"
    HIGHER_THAN_LATER = "higher_than_later"
    COMPLETION_BEFORE_LAST = "completion_before_last"
    AFTER_FINISH_TIME = "after_finish_time"  # a corrected turnout later than the finish
    TESTED_OVER_STAFF = "tested_over_staff"
    STAFF_MISMATCH = "staff_mismatch"
    POSITIVES_OVER_TESTED = "positives_over_tested"


@dataclass(frozen=True, slots=True)
class Candidate:
    """A parsed report placed in time, about to be judged for one area."""

    report: ParsedReport
    at: dt.datetime  # aware: the stated time on the election date, or the arrival time
    received_at: dt.datetime  # aware
    same_origin: tuple[int, ...] = ()  # for an edited message: reports of the same line before


@dataclass(frozen=True, slots=True)
class Verdict:
    outcome: Outcome
    reason: Reason | None = None
    voted: int | None = None  # the count stored (for `xong` without one: the last count)
    list_size: int | None = None  # the list the count is measured against
    replaces: tuple[int, ...] = ()
    # Figures for the reply: e.g. the earlier report a count conflicts with.
    facts: dict[str, int | str | dt.datetime] = field(default_factory=dict)


def minute_of(epoch: int) -> int:
    """The start of the minute an epoch-seconds time falls in: people see times to the minute."""
    return epoch - epoch % 60


def to_minute(moment: dt.datetime) -> dt.datetime:
    """`moment` without its seconds: an arrival at 11:00:57 counts as 11:00."""
    return moment.replace(second=0, microsecond=0)


def _order(report: Report) -> tuple[int, bool, int]:
    """Reports in time order, to the minute. Within a minute, by arrival (the id); a completion
    comes last, since it is final whatever turnout reports share its minute."""
    return (minute_of(report.at), report.kind == ReportKind.COMPLETION, report.id)


def _counted(reports: Sequence[Report]) -> list[Report]:
    """Turnout and completion reports in time order (see `_order`)."""
    return sorted((r for r in reports if r.kind != ReportKind.COVID), key=_order)


def current_list_size(area: Unit, reports: Sequence[Report]) -> int:
    """The list size in force: the latest stated `/N`, else the imported one."""
    stated = [r.list_size for r in _counted(reports) if r.list_size is not None]
    return stated[-1] if stated else area.registered_voters or 0


def area_state(area: Unit, reports: Sequence[Report]) -> Totals:
    """An area's figures from its current reports, in the shape of subtree totals.

    A completion is final: once there is one, its count is the area's count."""
    counted = _counted(reports)
    completion = next((r for r in counted if r.kind == ReportKind.COMPLETION), None)
    latest = completion if completion is not None else (counted[-1] if counted else None)
    covid = [r for r in reports if r.kind == ReportKind.COVID]
    tally = max(covid, key=lambda r: r.id) if covid else None
    staff_total = area.staff if area.staff is not None else (tally.staff_total if tally else 0)
    times = [r.at for r in reports]
    return Totals(
        areas_total=1,
        areas_reported=int(bool(counted)),
        areas_finished=int(completion is not None),
        registered_voters=current_list_size(area, reports),
        voted=(latest.voted or 0) if latest is not None else 0,
        staff_total=staff_total or 0,
        staff_tested=(tally.staff_tested or 0) if tally else 0,
        positives=(tally.positives or 0) if tally else 0,
        last_report_at=max(times) if times else None,
    )


def judge(area: Unit, locked: bool, reports: Sequence[Report], candidate: Candidate) -> Verdict:
    """Decide what happens to `candidate` given the area's current reports."""
    if locked:
        return Verdict(Outcome.REJECTED, Reason.LOCKED)
    if candidate.report.kind == ReportKind.COVID:
        return _judge_covid(area, reports, candidate.report)
    return _judge_count(area, reports, candidate)


def _judge_covid(area: Unit, reports: Sequence[Report], report: ParsedReport) -> Verdict:
    tested, total, positives = report.staff_tested, report.staff_total, report.positives
    assert tested is not None and total is not None and positives is not None
    if tested > total:
        return Verdict(Outcome.REJECTED, Reason.TESTED_OVER_STAFF, facts={"total": total})
    if area.staff is not None and total != area.staff:
        return Verdict(Outcome.REJECTED, Reason.STAFF_MISMATCH, facts={"staff": area.staff})
    if positives > tested:
        return Verdict(Outcome.REJECTED, Reason.POSITIVES_OVER_TESTED, facts={"tested": tested})
    previous = [r for r in reports if r.kind == ReportKind.COVID]
    if any(
        (r.staff_tested, r.staff_total, r.positives) == (tested, total, positives) for r in previous
    ):
        return Verdict(Outcome.REPEAT)
    return Verdict(Outcome.ACCEPTED, replaces=tuple(r.id for r in previous))


def _judge_count(area: Unit, reports: Sequence[Report], candidate: Candidate) -> Verdict:
    """Judge a turnout or completion report, to the minute (see `_order`)."""
    report = candidate.report
    at = to_minute(candidate.at)
    local = at.timetz().replace(tzinfo=None)
    if not DAY_OPENS <= local <= DAY_CLOSES:
        return Verdict(Outcome.REJECTED, Reason.OUTSIDE_HOURS, facts={"at": at})
    if at > to_minute(candidate.received_at) + FUTURE_TOLERANCE:
        return Verdict(Outcome.REJECTED, Reason.IN_FUTURE, facts={"at": at})

    minute = int(at.timestamp())
    kind = report.kind.value
    is_completion = kind == ReportKind.COMPLETION
    # Reports this one replaces: for a correction, the same kind in the same minute (a
    # completion replaces the completion whatever its time); for an edit, also its origin.
    replaced: set[int] = set()
    if report.is_correction:
        replaced.update(candidate.same_origin)
        for r in reports:
            if r.kind == kind and (minute_of(r.at) == minute or is_completion):
                replaced.add(r.id)
    others = [r for r in _counted(reports) if r.id not in replaced]
    # Where the candidate falls among them: after everything of its minute that arrived
    # before it, and before a completion of its minute.
    place = (minute, is_completion)
    before = [r for r in others if _order(r)[:2] <= place]
    after = [r for r in others if _order(r)[:2] > place]

    imported = area.registered_voters or 0
    list_in_force = current_list_size(area, others)
    warning = None
    if report.list_size is not None:
        # Measured against the imported size, even when the list stated is the one in force:
        # after a re-import moved the imported size, an old list more than 10% off is a typo
        # now as it would be on its first report.
        if abs(report.list_size - imported) > LIST_TOLERANCE * imported:
            return Verdict(
                Outcome.REJECTED, Reason.LIST_SIZE_OFF,
                facts={"stated": report.list_size, "imported": imported},
            )  # fmt: skip
        if report.list_size not in (list_in_force, imported):  # no news: no warning
            warning = Reason.LIST_SIZE_CHANGED
    list_size = report.list_size if report.list_size is not None else list_in_force

    voted = report.voted
    if voted is None:  # `xong` without a count: the last count reported before it
        if not others:
            return Verdict(Outcome.REJECTED, Reason.COMPLETION_NEEDS_COUNT)
        if not before:
            return Verdict(
                Outcome.REJECTED, Reason.COMPLETION_BEFORE_LAST, facts={"other_at": after[-1].at}
            )
        voted = before[-1].voted
        assert voted is not None
    if voted > list_size:
        return Verdict(
            Outcome.REJECTED, Reason.VOTED_OVER_LIST, facts={"voted": voted, "list": list_size}
        )

    completion = next((r for r in others if r.kind == ReportKind.COMPLETION), None)
    if report.is_correction:
        same = [r for r in reports if r.id in replaced]
        if len(same) == 1 and _same_values(same[0], voted, report, minute):
            return Verdict(Outcome.REPEAT, voted=voted, list_size=list_size)
        if completion is not None and minute_of(completion.at) < minute:
            # A turnout cannot be later than the finish; the finish itself may be corrected.
            return Verdict(
                Outcome.REJECTED, Reason.AFTER_FINISH_TIME, facts={"finished_at": completion.at}
            )
    else:
        # Once finished, only `sửa` may change the area: a resent plain report is refused too.
        if completion is not None:
            return Verdict(
                Outcome.REJECTED, Reason.AFTER_COMPLETION,
                facts={"finished_at": completion.at, "other_voted": completion.voted or 0},
            )  # fmt: skip
        same_time = [r for r in others if r.kind == kind and minute_of(r.at) == minute]
        if same_time:
            if _same_values(same_time[-1], voted, report, minute):
                return Verdict(Outcome.REPEAT, voted=voted, list_size=list_size)
            return Verdict(
                Outcome.REJECTED, Reason.SAME_TIME_DIFFERENT_COUNT,
                facts={"other_voted": same_time[-1].voted or 0},
            )  # fmt: skip
    # Counts never go down over time: the stored reports already rise, so the candidate
    # must lie between the last one before it and the first one after it.
    higher_before = [r for r in before if (r.voted or 0) > voted]
    if higher_before:
        other = higher_before[-1]
        return Verdict(
            Outcome.REJECTED, Reason.LOWER_THAN_EARLIER,
            facts={"other_voted": other.voted or 0, "other_at": other.at},
        )  # fmt: skip
    lower_after = [r for r in after if (r.voted or 0) < voted]
    if lower_after:
        other = lower_after[0]
        return Verdict(
            Outcome.REJECTED, Reason.HIGHER_THAN_LATER,
            facts={"other_voted": other.voted or 0, "other_at": other.at},
        )  # fmt: skip
    if is_completion and after:
        return Verdict(
            Outcome.REJECTED, Reason.COMPLETION_BEFORE_LAST, facts={"other_at": after[-1].at}
        )
    outcome = Outcome.WARNED if warning else Outcome.ACCEPTED
    facts: dict[str, int | str | dt.datetime] = {"previous_list": list_in_force}
    return Verdict(outcome, warning, voted, list_size, tuple(sorted(replaced)), facts)


def _same_values(stored: Report, voted: int, report: ParsedReport, minute: int) -> bool:
    return (
        stored.voted == voted
        and minute_of(stored.at) == minute
        and stored.kind == report.kind
        and (report.list_size is None or stored.list_size in (None, report.list_size))
    )


# bot/turnout/phrasing.py's `afternoon_reading` at b55e5fe, on the rules above.


@dataclass(frozen=True, slots=True)
class TimeChoice:
    candidate: Candidate
    verdict: Verdict
    ask: tuple[dt.datetime, dt.datetime] | None = None


def afternoon_reading(
    area: Unit,
    locked: bool,
    current: Sequence[Report],
    candidate: Candidate,
) -> TimeChoice:
    report = candidate.report
    morning = candidate.at
    verdict = judge(area, locked, current, candidate)
    if not report.afternoon_possible or report.kind == ReportKind.COVID or report.time is None:
        return TimeChoice(candidate, verdict)
    afternoon = morning + dt.timedelta(hours=12)
    later = Candidate(
        report=report.model_copy(update={"time": report.time.replace(hour=report.time.hour + 12)}),
        at=afternoon,
        received_at=candidate.received_at,
        same_origin=candidate.same_origin,
    )
    late_verdict = judge(area, locked, current, later)
    morning_ok = verdict.outcome != Outcome.REJECTED
    afternoon_ok = late_verdict.outcome != Outcome.REJECTED
    if morning_ok and afternoon_ok:
        return TimeChoice(candidate, verdict, ask=(morning, afternoon))
    if afternoon_ok:
        return TimeChoice(later, late_verdict)
    return TimeChoice(candidate, verdict)
