"""The rules that judge a report against its area, to the minute, as a table of cases.

Each case is a chief's messages for one area (320 voters, 16 staff unless said) with their
arrival times; every step names the outcome and the reason the rules must give, and the
case ends on the area's state. Messages go through the real grammar and `judge`, and an
accepted report is applied as storage applies it (stored, and what it replaces set aside).

Times are judged to the minute: an arrival counts as its minute, reports of one minute are
ordered by arrival, and a completion is final: its count is the area's from then on.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.channel import Address
from bot.core import Core
from bot.model import Report, Unit
from bot.registration.unit_import import import_units
from bot.settings import Settings
from bot.turnout.grammar import parse_message
from bot.turnout.intake import InboundText
from bot.turnout.lines import ParsedReport, ReportKind
from bot.turnout.rules import (
    Candidate,
    Outcome,
    Reason,
    Verdict,
    area_state,
    judge,
    minute_of,
)
from tests.harness import ELECTION_DAY, TZ
from tests.steps_check import assert_steps_kept

ACCEPTED, WARNED, REPEAT, REJECTED = (
    Outcome.ACCEPTED,
    Outcome.WARNED,
    Outcome.REPEAT,
    Outcome.REJECTED,
)

CHIEF = Address("sms", "+84912345678")  # the chief of every area here


def arrival(clock: str) -> dt.datetime:
    """`"11:00:57"` on the election day."""
    return dt.datetime.combine(ELECTION_DAY, dt.time.fromisoformat(clock), tzinfo=TZ)


@dataclass
class AreaLog:
    """One area's current reports, changed as storage changes them."""

    unit: Unit
    locked: bool = False
    current: list[Report] = field(default_factory=list)
    next_id: int = 1

    def send(self, text: str, clock: str) -> Verdict:
        (line,) = parse_message(text)
        assert isinstance(line, ParsedReport), f"the grammar did not read {text!r}: {line}"
        received = arrival(clock)
        if line.time is None or line.kind == ReportKind.COVID:
            placed = received  # with its seconds: the rules judge it as its minute
        else:
            placed = dt.datetime.combine(ELECTION_DAY, line.time, tzinfo=TZ)
        verdict = judge(self.unit, self.locked, self.current, Candidate(line, placed, received))
        if verdict.outcome in (ACCEPTED, WARNED):
            stored = Report(
                area_code=self.unit.code,
                kind=line.kind.value,
                at=int(placed.timestamp()),
                time_stated=line.time is not None,
                received_at=int(received.timestamp()),
                sender=CHIEF,
                chat=CHIEF,
                message_ref=str(self.next_id),
                line_index=0,
                text=text,
                is_correction=line.is_correction,
                voted=verdict.voted,
                list_size=verdict.list_size if line.kind != ReportKind.COVID else None,
                staff_tested=line.staff_tested,
                staff_total=line.staff_total,
                positives=line.positives,
                id=self.next_id,
            )
            self.next_id += 1
            self.current = [r for r in self.current if r.id not in verdict.replaces] + [stored]
        return verdict


def area(voters: int = 320, staff: int | None = 16) -> Unit:
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


Step = tuple[str, str, Outcome, Reason | None]  # text, arrival, outcome, reason


@dataclass(frozen=True)
class Case:
    steps: list[Step]
    voted: int  # the area's count at the end
    finished: bool = False
    voters: int = 320
    locked: bool = False


CASES: dict[str, Case] = {
    # The reproduction: a turnout without a time at 11:00:57 counts as 11:00, so
    # finishing at 11:00 is not "earlier"; the completion, once there, is final and its
    # correction sets the area's count.
    "finish in the minute of an untimed report": Case(
        voters=306,
        steps=[
            ("ct 260/306", "11:00:57", ACCEPTED, None),
            ("xong 11h", "11:01:10", ACCEPTED, None),
            ("280/306 11h", "11:01:30", REJECTED, Reason.AFTER_COMPLETION),
            ("sua xong 11h 300/306", "11:02:00", ACCEPTED, None),
        ],
        voted=300,
        finished=True,
    ),
    "a completion with a higher count in the minute of a turnout is final": Case(
        voters=306,
        steps=[
            ("ct 260/306", "11:00:57", ACCEPTED, None),
            ("xong 11h 300/306", "11:01:05", ACCEPTED, None),
        ],
        voted=300,
        finished=True,
    ),
    "a correction of a completion that does not exist stores the completion": Case(
        voters=306,
        steps=[
            ("ct 260/306", "11:00:57", ACCEPTED, None),
            ("sua xong 11h 300/306", "11:02:00", ACCEPTED, None),
        ],
        voted=300,
        finished=True,
    ),
    "a completion lower than the turnout of its minute": Case(
        steps=[
            ("260/320 11h", "11:00:10", ACCEPTED, None),
            ("xong 11h 250/320", "11:00:40", REJECTED, Reason.LOWER_THAN_EARLIER),
        ],
        voted=260,
    ),
    "a completion before the last report": Case(
        steps=[
            ("260/320 11h30", "11:31:00", ACCEPTED, None),
            ("xong 11h", "11:32:00", REJECTED, Reason.COMPLETION_BEFORE_LAST),
            ("xong 11h 260/320", "11:32:00", REJECTED, Reason.COMPLETION_BEFORE_LAST),
            ("xong 11h30", "11:33:00", ACCEPTED, None),
        ],
        voted=260,
        finished=True,
    ),
    "an untimed report and a timed one in the same minute with different counts": Case(
        steps=[
            ("ct 260/320", "11:00:57", ACCEPTED, None),
            ("280/320 11h", "11:01:30", REJECTED, Reason.SAME_TIME_DIFFERENT_COUNT),
            ("260/320 11h", "11:01:40", REPEAT, None),
            ("sua 280/320 11h", "11:02:00", ACCEPTED, None),
        ],
        voted=280,
    ),
    "reports arriving out of time order": Case(
        steps=[
            ("280/320 10h", "10:05:00", ACCEPTED, None),
            ("250/320 9h", "10:06:00", ACCEPTED, None),
            ("290/320 9h30", "10:07:00", REJECTED, Reason.HIGHER_THAN_LATER),
            ("240/320 9h30", "10:07:00", REJECTED, Reason.LOWER_THAN_EARLIER),
            ("265/320 9h30", "10:08:00", ACCEPTED, None),
        ],
        voted=280,
    ),
    "a correction cannot make the counts go down over time": Case(
        steps=[
            ("250/320 9h", "09:00:30", ACCEPTED, None),
            ("270/320 10h", "10:00:30", ACCEPTED, None),
            ("sua 280/320 9h", "10:01:00", REJECTED, Reason.HIGHER_THAN_LATER),
            ("sua 300/320 10h", "10:02:00", ACCEPTED, None),
            ("sua 280/320 9h", "10:03:00", ACCEPTED, None),
            ("sua 280/320 9h", "10:04:00", REPEAT, None),
        ],
        voted=300,
    ),
    "a corrected turnout later than the finish": Case(
        steps=[
            ("250/320 9h", "09:00:30", ACCEPTED, None),
            ("xong 11h 300/320", "11:00:30", ACCEPTED, None),
            ("sua 310/320 12h", "12:01:00", REJECTED, Reason.AFTER_FINISH_TIME),
            ("sua 260/320 9h", "12:02:00", ACCEPTED, None),
            ("sua 305/320 11h", "12:03:00", REJECTED, Reason.HIGHER_THAN_LATER),
            ("sua 295/320 11h", "12:04:00", ACCEPTED, None),
        ],
        voted=300,
        finished=True,
    ),
    "a corrected completion lower than the last turnout": Case(
        steps=[
            ("300/320 11h", "11:00:30", ACCEPTED, None),
            ("xong 11h30", "11:30:30", ACCEPTED, None),
            ("sua xong 11h30 290/320", "11:40:00", REJECTED, Reason.LOWER_THAN_EARLIER),
            ("sua xong 11h 310/320", "11:41:00", ACCEPTED, None),
            ("xong 11h 310/320", "11:42:00", REJECTED, Reason.AFTER_COMPLETION),
        ],
        voted=310,
        finished=True,
    ),
    "the edges of the voting day, to the minute": Case(
        steps=[
            ("ct 10/320 4h59", "05:00:10", REJECTED, Reason.OUTSIDE_HOURS),
            ("ct 10/320 5h", "05:00:10", ACCEPTED, None),
            ("ct 300/320", "21:00:59", ACCEPTED, None),
            ("ct 301/320", "21:01:00", REJECTED, Reason.OUTSIDE_HOURS),
        ],
        voted=300,
    ),
    "the future, to the minute": Case(
        steps=[
            ("250/320 9h05", "09:00:59", ACCEPTED, None),
            ("260/320 9h06", "09:00:59", REJECTED, Reason.IN_FUTURE),
        ],
        voted=250,
    ),
    "list size within 10%, and back to the imported one without a second warning": Case(
        steps=[
            ("250/352 9h", "09:01:00", WARNED, Reason.LIST_SIZE_CHANGED),
            ("260/320 10h", "10:01:00", ACCEPTED, None),
            ("270/353 11h", "11:01:00", REJECTED, Reason.LIST_SIZE_OFF),
            ("270/288 11h", "11:01:00", WARNED, Reason.LIST_SIZE_CHANGED),
            ("280/287 11h30", "11:31:00", REJECTED, Reason.LIST_SIZE_OFF),
        ],
        voted=270,
    ),
    "more voters than the list": Case(
        steps=[("321/320 9h", "09:01:00", REJECTED, Reason.VOTED_OVER_LIST)],
        voted=0,
    ),
    "a completion needs a count when nothing was reported": Case(
        steps=[
            ("xong 11h", "11:01:00", REJECTED, Reason.COMPLETION_NEEDS_COUNT),
            ("xong 11h 300/320", "11:02:00", ACCEPTED, None),
            ("xong 11h 300/320", "11:03:00", REJECTED, Reason.AFTER_COMPLETION),
        ],
        voted=300,
        finished=True,
    ),
    "a locked area": Case(
        locked=True,
        steps=[
            ("250/320 9h", "09:01:00", REJECTED, Reason.LOCKED),
            ("xn 16/16 am tinh", "09:01:00", REJECTED, Reason.LOCKED),
        ],
        voted=0,
    ),
    "COVID tallies": Case(
        steps=[
            ("xn 17/16 am tinh", "06:00:00", REJECTED, Reason.TESTED_OVER_STAFF),
            ("xn 15/15 am tinh", "06:00:00", REJECTED, Reason.STAFF_MISMATCH),
            ("xn 10/16 duong tinh 11", "06:00:00", REJECTED, Reason.POSITIVES_OVER_TESTED),
            ("xn 16/16 am tinh", "06:00:00", ACCEPTED, None),
            ("xn 16/16 am tinh", "06:10:00", REPEAT, None),
            ("xn 16/16 dt 1", "06:20:00", ACCEPTED, None),
        ],
        voted=0,
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_rules(name: str) -> None:
    case = CASES[name]
    log = AreaLog(area(case.voters), locked=case.locked)
    for text, clock, outcome, reason in case.steps:
        verdict = log.send(text, clock)
        assert (verdict.outcome, verdict.reason) == (outcome, reason), (text, clock, verdict)
    state = area_state(log.unit, log.current)
    assert (state.voted, bool(state.areas_finished)) == (case.voted, case.finished)
    counts = [
        r.voted or 0
        for r in sorted(
            (r for r in log.current if r.kind != ReportKind.COVID),
            key=lambda r: (minute_of(r.at), r.kind == ReportKind.COMPLETION, r.id),
        )
    ]
    assert counts == sorted(counts), "an area's counts went down over time"


# --- Fuzz: random report sequences of one area, through the real core and a real SQLite file,
# against a reference model that holds the area as a few plain values.

FUZZ_AREAS = 300
FUZZ_LIST = 320


@dataclass
class ReferenceArea:
    """The rules restated over the simplest state: a count per minute and the finish."""

    turnouts: dict[int, int] = field(default_factory=dict)  # minute of day -> count
    finish: tuple[int, int] | None = None  # (minute of day, count)

    def counts(self) -> list[tuple[int, int, int]]:
        rows = [(m, 0, v) for m, v in self.turnouts.items()]
        if self.finish is not None:
            rows.append((self.finish[0], 1, self.finish[1]))
        return sorted(rows)

    def send(self, kind: str, correction: bool, minute: int, count: int | None, now: int) -> bool:
        """Apply a report; False when the rules refuse it (nothing changes)."""
        if not 5 * 60 <= minute <= 21 * 60 or minute > now + 5:
            return False
        turnouts, finish = dict(self.turnouts), self.finish
        if correction and kind == "completion":
            finish = None
        elif correction:
            turnouts.pop(minute, None)
            if finish is not None and finish[0] < minute:
                return False
        elif finish is not None:
            return False
        elif kind == "turnout" and minute in turnouts:
            return turnouts[minute] == count  # a repeat is answered ✅ and changes nothing
        if count is None:  # `xong` without a count: the last count at or before its minute
            earlier = [v for m, v in sorted(turnouts.items()) if m <= minute]
            if not earlier:
                return False
            count = earlier[-1]
        if count > FUZZ_LIST:
            return False
        if kind == "turnout":
            turnouts[minute] = count
        else:
            finish = (minute, count)
        candidate = ReferenceArea(turnouts, finish)
        values = [v for _, _, v in candidate.counts()]
        if values != sorted(values):
            return False
        if finish is not None and any(m > finish[0] for m in turnouts):
            return False
        self.turnouts, self.finish = turnouts, finish
        return True

    @property
    def voted(self) -> int:
        if self.finish is not None:
            return self.finish[1]
        return self.turnouts[max(self.turnouts)] if self.turnouts else 0


step = st.tuples(
    st.sampled_from(["turnout", "turnout", "completion"]),
    st.booleans(),  # a correction
    st.sampled_from([None, -45, -20, -3, -1, 0, 0, 0, 1, 5, 6]),  # stated minute vs arrival
    st.one_of(st.none(), st.integers(min_value=200, max_value=FUZZ_LIST + 5)),
    st.integers(min_value=0, max_value=150),  # seconds since the previous arrival
)


def message_text(kind: str, correction: bool, hhmm: str | None, count: int | None) -> str:
    head = "sửa " if correction else ""
    fraction = "" if count is None else f"{count}/{FUZZ_LIST}"
    if kind == "turnout":
        return f"{head}{fraction} {hhmm}" if hhmm else f"{head}ct {fraction}"
    return f"{head}xong {hhmm or ''} {fraction}"


def test_random_sequences_match_the_reference_and_never_go_down(tmp_path: Path) -> None:
    rows = ["code,parent_code,kind,name,registered_voters,staff,contact_phones", "X,,xã,Xã X,,,"]
    rows += [f"A{i},X,khu vực,Khu vực {i},{FUZZ_LIST},16,0912345678" for i in range(FUZZ_AREAS)]
    loop = asyncio.new_event_loop()
    config = Settings(
        _env_file=None,  # type: ignore[call-arg]
        FIELDTALLY_DB=str(tmp_path / "fuzz.db"),
        FIELDTALLY_ELECTION_DATE=ELECTION_DAY.isoformat(),
    )
    core = loop.run_until_complete(Core.open(config, chart_workers=1))
    areas = iter(range(FUZZ_AREAS))
    message_ids = itertools.count(1)
    exercised = {"accepted": 0, "refused": 0}
    try:
        ok, _ = loop.run_until_complete(import_units(core.db, "\n".join(rows).encode()))
        assert ok
        loop.run_until_complete(
            core.register(
                sender=CHIEF, chat=CHIEF, contact_owner=CHIEF, phone="0912345678", name="C"
            )
        )

        @settings(max_examples=FUZZ_AREAS, deadline=None, derandomize=True)
        @given(steps=st.lists(step, min_size=1, max_size=10))
        def check(steps: list[tuple[str, bool, int | None, int | None, int]]) -> None:
            code = f"A{next(areas)}"
            model = ReferenceArea()
            moment = arrival("08:50:00")
            for kind, correction, offset, count, pause in steps:
                if kind == "turnout" and count is None:
                    count = FUZZ_LIST - 20
                moment += dt.timedelta(seconds=pause)
                now = moment.hour * 60 + moment.minute
                hhmm = None
                minute = now
                if offset is not None:
                    minute = now + offset
                    hhmm = f"{minute // 60}h{minute % 60:02d}"
                text = f"{code}: " + message_text(kind, correction, hhmm, count)
                inbound = InboundText(CHIEF, str(next(message_ids)), CHIEF, text, sent_at=moment)
                (reply,) = loop.run_until_complete(core.report(inbound)).texts
                before = model.voted
                expected = model.send(kind, correction, minute, count, now)
                assert reply.startswith(("✅", "⚠️")) == expected, (text, reply, model)
                exercised["accepted" if expected else "refused"] += 1
                totals = loop.run_until_complete(core.db.totals(code))
                assert (totals.voted, totals.areas_finished) == (
                    model.voted,
                    int(bool(model.finish)),
                )
                if not correction:
                    assert totals.voted >= before, (text, "a plain report lowered the count")
            points = loop.run_until_complete(core.db.count_points([code]))
            values = [p.voted for p in points]
            assert values == sorted(values), ("the count over the day went down", points)
            if points:
                assert values[-1] == model.voted
            # the over-the-day steps kept for the area and its commune follow every report
            loop.run_until_complete(assert_steps_kept(core.db, [code, "X"]))

        check()
        assert exercised["accepted"] > 100 and exercised["refused"] > 100, exercised
    finally:
        loop.run_until_complete(core.close())
        loop.close()
