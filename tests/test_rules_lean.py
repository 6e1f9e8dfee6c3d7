"""The lean rule engine (bot/turnout/rules.py, issue 19) against its plain reference
(tests/data/rules_reference.py, the rules before they were made lean): on random areas,
stored reports and candidates, `judge`, `area_state`, `current_list_size` and
`phrasing.afternoon_reading` agree."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.channel import Address
from bot.model import Report, Unit
from bot.turnout import phrasing, rules
from bot.turnout.lines import ParsedReport, ReportKind
from tests.data import rules_reference as reference
from tests.harness import ELECTION_DAY, TZ

CHAT = Address("sms", "+84912345678")
OPENING = int(dt.datetime.combine(ELECTION_DAY, dt.time(4, 0), tzinfo=TZ).timestamp())
SPAN = 18 * 3600  # 04:00–22:00: inside and around the voting hours
KINDS = [kind.value for kind in ReportKind]


@st.composite
def areas(draw: st.DrawFn) -> Unit:
    return Unit(
        code="KV05",
        parent_code="X1",
        kind="khu vực bỏ phiếu",
        name="Khu vực bỏ phiếu số 5",
        depth=2,
        is_area=True,
        registered_voters=draw(st.sampled_from([None, 0, 320, 900])),
        staff=draw(st.sampled_from([None, 16])),
        contact_phones=(),
        position=5,
    )


@st.composite
def stored(draw: st.DrawFn) -> list[Report]:
    count = draw(st.integers(0, 8))
    ids = draw(st.lists(st.integers(1, 40), min_size=count, max_size=count, unique=True))
    # Few distinct minutes, so that reports share minutes as corrections and repeats do.
    minutes = st.integers(0, SPAN // 60).map(lambda m: OPENING + 60 * (m % 40) * 20)
    reports = []
    for report_id in ids:
        kind = draw(st.sampled_from(KINDS))
        at = draw(minutes) + draw(st.sampled_from([0, 0, 7, 59]))
        covid = kind == ReportKind.COVID
        reports.append(
            Report(
                area_code="KV05",
                kind=kind,
                at=at,
                time_stated=draw(st.booleans()),
                received_at=at,
                sender=CHAT,
                chat=CHAT,
                message_ref=str(report_id),
                line_index=0,
                text="",
                is_correction=draw(st.booleans()),
                voted=None if covid else draw(st.integers(0, 400)),
                list_size=None if covid else draw(st.sampled_from([None, 300, 320, 330, 900])),
                staff_tested=draw(st.integers(0, 17)) if covid else None,
                staff_total=draw(st.sampled_from([15, 16])) if covid else None,
                positives=draw(st.integers(0, 2)) if covid else None,
                id=report_id,
            )
        )
    return reports


@st.composite
def candidates(draw: st.DrawFn, reports: list[Report]) -> rules.Candidate:
    kind = draw(st.sampled_from(list(ReportKind)))
    covid = kind == ReportKind.COVID
    minute = draw(st.sampled_from([r.at for r in reports] + [OPENING + 60 * 600]))
    at = dt.datetime.fromtimestamp(minute + draw(st.sampled_from([0, 30])), TZ)
    if draw(st.booleans()):
        at = dt.datetime.fromtimestamp(OPENING + draw(st.integers(0, SPAN)), TZ)
    received = at + dt.timedelta(minutes=draw(st.sampled_from([-10, 0, 3, 6, 60])))
    line = ParsedReport(
        index=0,
        text="",
        area_code=None,
        kind=kind,
        is_correction=draw(st.booleans()),
        voted=None if covid else draw(st.one_of(st.none(), st.integers(0, 400))),
        list_size=None if covid else draw(st.sampled_from([None, 280, 320, 330, 900, 1000])),
        staff_tested=draw(st.integers(0, 17)) if covid else None,
        staff_total=draw(st.sampled_from([15, 16])) if covid else None,
        positives=draw(st.integers(0, 17)) if covid else None,
    )
    if reports and draw(st.booleans()):  # the same values as a stored report: a repeat?
        twin = draw(st.sampled_from(reports))
        line = line.model_copy(
            update={
                "kind": ReportKind(twin.kind),
                "voted": twin.voted,
                "list_size": twin.list_size,
                "staff_tested": twin.staff_tested,
                "staff_total": twin.staff_total,
                "positives": twin.positives,
            }
        )
        at = dt.datetime.fromtimestamp(twin.at, TZ)
        received = at + dt.timedelta(minutes=1)
    ids = [r.id for r in reports]
    origin = draw(st.lists(st.sampled_from(ids), max_size=2)) if ids else []
    return rules.Candidate(line, at, received, tuple(origin))


def _fields(verdict: rules.Verdict | reference.Verdict) -> tuple[object, ...]:
    reason = verdict.reason.value if verdict.reason is not None else None
    return (verdict.outcome.value, reason, verdict.voted, verdict.list_size, verdict.replaces,
            verdict.facts)  # fmt: skip


@settings(max_examples=1500, deadline=None)
@given(st.data())
def test_lean_rules_agree_with_the_reference(data: st.DataObject) -> None:
    area = data.draw(areas())
    reports = data.draw(stored())
    data.draw(st.randoms()).shuffle(reports)  # stored reports come in any order
    candidate = data.draw(candidates(reports))
    locked = data.draw(st.sampled_from([False, False, False, True]))
    assert rules.area_state(area, reports) == reference.area_state(area, reports)
    assert rules.current_list_size(area, reports) == reference.current_list_size(area, reports)
    lean = rules.judge(area, locked, reports, candidate)
    plain = reference.judge(area, locked, reports, candidate)  # type: ignore[arg-type]
    assert _fields(lean) == _fields(plain)


@settings(max_examples=1000, deadline=None)
@given(st.data())
def test_afternoon_reading_agrees_with_the_reference(data: st.DataObject) -> None:
    """ "9h" read as 09:00 or 21:00: the same choice, the same verdict, the same question."""
    area = data.draw(areas())
    reports = data.draw(stored())
    candidate = data.draw(candidates(reports))
    hour = data.draw(st.integers(1, 11))
    placed = candidate.at.replace(hour=hour, minute=data.draw(st.sampled_from([0, 30])))
    kind = data.draw(
        st.sampled_from([ReportKind.TURNOUT, ReportKind.COMPLETION, candidate.report.kind])
    )
    line = candidate.report.model_copy(
        update={"time": placed.time().replace(second=0, microsecond=0), "kind": kind,
                "afternoon_possible": data.draw(st.sampled_from([True, True, True, False])),
                "voted": data.draw(st.one_of(st.none(), st.integers(0, 420))),
                "list_size": data.draw(st.sampled_from([None, None, 900]))}
    )  # fmt: skip
    received = placed + dt.timedelta(hours=data.draw(st.sampled_from([0, 12, 12, 13])))
    candidate = rules.Candidate(line, placed, received, candidate.same_origin)
    locked = data.draw(st.sampled_from([False, False, False, False, False, True]))
    lean = phrasing.afternoon_reading(area, locked, reports, candidate)
    plain = reference.afternoon_reading(area, locked, reports, candidate)  # type: ignore[arg-type]
    assert lean.candidate.report == plain.candidate.report
    assert (lean.candidate.at, lean.candidate.received_at, lean.candidate.same_origin) == (
        plain.candidate.at, plain.candidate.received_at, plain.candidate.same_origin
    )  # fmt: skip
    assert _fields(lean.verdict) == _fields(plain.verdict)
    assert lean.ask == plain.ask


def test_the_reference_is_exercised() -> None:
    """Not vacuous: the generated cases reach acceptances, repeats and refusals alike."""
    seen: set[str] = set()

    @settings(max_examples=400, deadline=None)
    @given(st.data())
    def collect(data: st.DataObject) -> None:
        area = data.draw(areas())
        reports = data.draw(stored())
        verdict = rules.judge(area, False, reports, data.draw(candidates(reports)))
        seen.add(verdict.outcome.value)

    collect()
    assert {"accepted", "repeat", "rejected"} <= seen
