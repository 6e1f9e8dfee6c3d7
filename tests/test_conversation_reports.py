"""Chiefs' reports through the core and the in-memory channel: every form and every rule.

Each case reads the typed answer (a status per report line, and the reason of anything not
plainly accepted) and what the store then holds: the reports in force, the replaced ones,
and the `/xuat` table a supervisor downloads. Replies are read only for the figures they
must echo back (the count, the list, the time), never for their wording. What only a real
Telegram round trip shows stays in `test_e2e_reports.py`.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import psycopg
import pytest

from bot import texts
from bot.core import Where
from bot.formatting import hhmm, local_time, vn_int, vn_percent
from bot.messaging.answers import Refusal, Reply, Status
from bot.messaging.content import Text
from bot.model import Report
from bot.settings import Settings
from bot.turnout.intake import STORE_FAILED, InboundText
from bot.turnout.lines import UnreadableReason
from bot.turnout.rules import Outcome, Reason
from handlers.memory import CAPABILITIES, address
from tests.harness import ADMIN_ID, ELECTION_DAY, TZ, at
from tests.memory import (
    CHIEF_KV01,
    CHIEF_KV02,
    CHIEF_KV03_KV04,
    CHIEF_KV05,
    PHONES,
    SUPERVISOR_X1,
    Day,
    open_day,
)

ACCEPTED, WARNED, REFUSED = Status.ACCEPTED, Status.WARNED, Status.REFUSED
REPEAT = Outcome.REPEAT.value  # the reason of a report stored before: accepted, not counted
# The intake's reasons for a line it cannot tie to one area (bot/turnout/phrasing.py names them).
NEEDS_PREFIX, NEEDS_CODE, NAMED_NOT_YOURS = "needs_prefix", "needs_code", "named_not_yours"


@pytest.fixture
async def day(db_target: Path | str) -> AsyncIterator[Day]:
    """The small tree imported by the admin and every chief and the supervisor registered."""
    async with open_day(db_target) as opened:
        await opened.register(PHONES)
        yield opened


async def one(day: Day, sender: int, text: str, when: dt.datetime | None = None) -> Reply:
    """The single reply to a one-report message."""
    answer = await day.channel.say(sender, text, at=when)
    assert len(answer.replies) == 1, (text, answer)
    return answer.replies[0]


def body(reply: Reply) -> str:
    assert isinstance(reply.content, Text), reply
    return reply.content.body


def shows(reply: Reply, voted: int, voters: int, time: str) -> bool:
    """Whether a confirmation echoes what was stored: the count, the list, its share, the time."""
    text = body(reply)
    figures = (f"{vn_int(voted)}/{vn_int(voters)}", vn_percent(voted, voters), time)
    return all(figure in text for figure in figures)


def when(report: Report) -> str:
    return hhmm(local_time(report.at, TZ))


def figures(report: Report) -> tuple[str, int | None, int | None, str]:
    return (report.kind, report.voted, report.list_size, when(report))


# -- every form of the contract's table -------------------------------------------------------

TURNOUT_FORMS = [
    # (text, stored as (voted, list, time)); all sent by KV01's chief at 20:00, in this order
    ("250/320 9h", (250, 320, "09:00")),
    ("9h30 ct 260/320", (260, 320, "09:30")),
    ("Cử tri: 270/320 lúc 10 giờ", (270, 320, "10:00")),
    ("275 lúc 10:15", (275, 320, "10:15")),
    ("280/320 10h30'", (280, 320, "10:30")),
    ("09:45 ct 270/320", (270, 320, "09:45")),  # equal to 10:00's 270: allowed
    ("cu tri 290/320 luc 11 gio", (290, 320, "11:00")),
    ("300/320 11 giờ 30", (300, 320, "11:30")),
    ("lúc 11h45 ct 305/320", (305, 320, "11:45")),
]


async def test_every_turnout_form_is_read_and_stored(day: Day) -> None:
    for text, (voted, voters, time) in TURNOUT_FORMS:
        reply = await one(day, CHIEF_KV01, text)
        assert (reply.status, reply.reason) == (ACCEPTED, None), (text, reply)
        assert shows(reply, voted, voters, time) and "KV01" in body(reply), (text, reply)
        newest = (await day.reports("KV01"))[-1]
        assert figures(newest) == ("turnout", voted, voters, time), text
        assert newest.text == text and newest.time_stated
    assert len(await day.current("KV01")) == len(TURNOUT_FORMS)  # none replaced another
    rows = await day.export()
    assert rows["KV01"]["voted"] == "305"
    assert rows["KV01"]["last_report_at"] == "2021-05-23T11:45:00+07:00"


async def test_thousands_separators_and_a_report_without_time(day: Day) -> None:
    cases = [
        # (text, sent at, stored as (voted, list, time)); an untimed report: its arrival
        ("Cử tri: 1.250/2.000 lúc 11 giờ", None, (1250, 2000, "11:00")),
        ("ct 1 300/2 000", at(11, 40), (1300, 2000, "11:40")),
        ("19 giờ 1.643/2.000", None, (1643, 2000, "19:00")),
    ]
    for text, sent, (voted, voters, time) in cases:
        reply = await one(day, CHIEF_KV02, text, sent)
        assert reply.status is ACCEPTED and shows(reply, voted, voters, time), (text, reply)
        assert figures((await day.reports("KV02"))[-1]) == ("turnout", voted, voters, time)
    [_, untimed, _] = await day.reports("KV02")
    assert not untimed.time_stated
    assert (await day.export())["KV02"]["voted"] == "1643"


async def test_completion_forms(day: Day) -> None:
    assert (await one(day, CHIEF_KV01, "310/320 11h")).status is ACCEPTED
    cases = [
        # (sender, text, stored completion as (voted, list, time))
        (CHIEF_KV01, "xong 12h30", (310, 320, "12:30")),  # takes the last count
        (CHIEF_KV02, "Hoàn thành 2.000/2.000 lúc 12h30", (2000, 2000, "12:30")),
        (CHIEF_KV05, "kết thúc 17h 248/250", (248, 250, "17:00")),
    ]
    for sender, text, (voted, voters, time) in cases:
        reply = await one(day, sender, text)
        assert reply.status is ACCEPTED and shows(reply, voted, voters, time), (text, reply)
        area = {CHIEF_KV01: "KV01", CHIEF_KV02: "KV02", CHIEF_KV05: "KV05"}[sender]
        assert figures((await day.reports(area))[-1]) == ("completion", voted, voters, time)
    rows = await day.export()
    assert rows["KV01"]["areas_finished"] == "1" and rows["KV01"]["voted"] == "310"
    assert rows["X1"]["areas_finished"] == "2" and rows["LC"]["areas_finished"] == "3"


async def test_covid_staff_test_forms(day: Day) -> None:
    cases = [
        # (text, stored as (tested, total, positives))
        ("XN 16/16 âm tính", (16, 16, 0)),
        ("xét nghiệm 15/16 dương tính 1", (15, 16, 1)),
        ("xn 15/16 dt 0", (15, 16, 0)),
    ]
    for text, stored in cases:
        reply = await one(day, CHIEF_KV01, text)
        assert reply.status is ACCEPTED, (text, reply)
        tested, total, _ = stored
        assert f"{tested}/{total}" in body(reply)
        latest = (await day.reports("KV01"))[-1]
        assert latest.kind == "covid"
        assert (latest.staff_tested, latest.staff_total, latest.positives) == stored
    rows = await day.export()
    assert (rows["KV01"]["staff_tested"], rows["KV01"]["positives"]) == ("15", "0")
    assert rows["KV01"]["areas_reported"] == "0"  # a COVID tally alone does not count
    # An area without `staff`: the tally's total serves as its staff.
    assert (await one(day, CHIEF_KV03_KV04, "KV03: xn 13/14 am tinh")).status is ACCEPTED
    rows = await day.export()
    assert rows["KV03"]["staff_total"] == "14"
    assert rows["X1"]["staff_total"] == str(16 + 15 + 14 + 12)


async def test_several_reports_in_one_message_each_judged_alone(day: Day) -> None:
    answer = await day.channel.say(
        CHIEF_KV01, "250/320 9h; xn 16/16 am tinh\n999/320 10h\n280/320 10h"
    )
    assert [(r.status, r.reason) for r in answer.replies] == [
        (ACCEPTED, None),
        (ACCEPTED, None),
        (REFUSED, Reason.VOTED_OVER_LIST),
        (ACCEPTED, None),
    ]
    assert answer.status is REFUSED  # the whole answer: something was refused
    assert [figures(r) for r in await day.current("KV01") if r.kind == "turnout"] == [
        ("turnout", 250, 320, "09:00"),
        ("turnout", 280, 320, "10:00"),
    ]
    assert (await day.export())["KV01"]["voted"] == "280"


async def test_area_prefix_for_several_areas_carries_over(day: Day) -> None:
    needs = await one(day, CHIEF_KV03_KV04, "100/500 9h")
    assert (needs.status, needs.reason) == (REFUSED, NEEDS_PREFIX)
    assert "KV03" in body(needs) and "KV04" in body(needs)  # the choices offered
    answer = await day.channel.say(
        CHIEF_KV03_KV04, "kv03: 100/500 9h\n120/500 10h\nKV04: 50/400 9h"
    )
    assert [r.status for r in answer.replies] == [ACCEPTED] * 3
    assert [figures(r) for r in await day.reports("KV03")] == [
        ("turnout", 100, 500, "09:00"),
        ("turnout", 120, 500, "10:00"),
    ]
    assert [figures(r) for r in await day.reports("KV04")] == [("turnout", 50, 400, "09:00")]
    rows = await day.export()
    assert (rows["KV03"]["voted"], rows["KV04"]["voted"]) == ("120", "50")


async def test_supervisor_reports_on_behalf_of_an_area_in_the_subtree(day: Day) -> None:
    cases = [
        ("KV02: 500/2000 9h", ACCEPTED, None),
        ("KV05: 10/250 9h", REFUSED, Refusal.NOT_YOUR_UNIT),  # X2: not the supervisor's
        ("10/250 9h", REFUSED, NEEDS_CODE),  # a supervisor must name the area
    ]
    for text, status, reason in cases:
        reply = await one(day, SUPERVISOR_X1, text)
        assert (reply.status, reply.reason) == (status, reason), (text, reply)
    [stored] = await day.reports("KV02")
    assert (stored.sender, stored.voted) == (address(SUPERVISOR_X1), 500)
    assert await day.reports("KV05") == []


# -- every rejection rule --------------------------------------------------------------------


async def test_voted_over_list_and_list_size_rules(day: Day) -> None:
    for text, reason in [
        ("330/320 9h", Reason.VOTED_OVER_LIST),
        ("400 lúc 9h", Reason.VOTED_OVER_LIST),  # against the imported list of 320
        ("250/400 9h", Reason.LIST_SIZE_OFF),  # 25% off: a likely typo
        ("250/353 9h", Reason.LIST_SIZE_OFF),  # just over 10%
    ]:
        reply = await one(day, CHIEF_KV01, text)
        assert (reply.status, reply.reason) == (REFUSED, reason), (text, reply)
        assert "320" in body(reply), (text, reply)  # the list in force, to check against
    assert await day.reports("KV01") == []
    warned = await one(day, CHIEF_KV01, "250/352 9h")  # exactly 10%: stored, with a warning
    assert (warned.status, warned.reason) == (WARNED, Reason.LIST_SIZE_CHANGED)
    assert "352" in body(warned) and "320" in body(warned)  # the new list and the imported one
    assert [figures(r) for r in await day.reports("KV01")] == [("turnout", 250, 352, "09:00")]
    rows = await day.export()
    assert rows["KV01"]["registered_voters"] == "352"
    assert rows["LC"]["registered_voters"] == str(352 + 2000 + 500 + 400 + 250)
    again = await one(day, CHIEF_KV01, "260/352 10h")  # the new size is now the list in force
    assert (again.status, again.reason) == (ACCEPTED, None)


async def test_counts_must_not_go_backwards_in_time(day: Day) -> None:
    assert (await one(day, CHIEF_KV01, "250/320 9h")).status is ACCEPTED
    assert (await one(day, CHIEF_KV01, "300/320 11h")).status is ACCEPTED
    cases = [
        # (text, reason, what the refusal must name: the report it conflicts with)
        ("240/320 10h", Reason.LOWER_THAN_EARLIER, ("09:00", "250")),
        ("310/320 10h", Reason.HIGHER_THAN_LATER, ("11:00", "300")),
        ("260/320 9h", Reason.SAME_TIME_DIFFERENT_COUNT, ("250",)),
    ]
    for text, reason, named in cases:
        reply = await one(day, CHIEF_KV01, text)
        assert (reply.status, reply.reason) == (REFUSED, reason), (text, reply)
        assert all(fact in body(reply) for fact in named), (text, reply)
    repeat = await one(day, CHIEF_KV01, "250/320 9h")  # the same report again: not counted twice
    assert (repeat.status, repeat.reason) == (ACCEPTED, REPEAT)
    assert [figures(r) for r in await day.reports("KV01")] == [
        ("turnout", 250, 320, "09:00"),
        ("turnout", 300, 320, "11:00"),
    ]


async def test_after_completion_only_corrections(day: Day) -> None:
    needs_count = await one(day, CHIEF_KV01, "xong 12h30")
    assert (needs_count.status, needs_count.reason) == (REFUSED, Reason.COMPLETION_NEEDS_COUNT)
    assert "xong 12h30 320/320" in body(needs_count)  # the example, with the area's own list
    assert (await one(day, CHIEF_KV01, "300/320 11h")).status is ACCEPTED
    assert (await one(day, CHIEF_KV01, "xong 12h30 320/320")).status is ACCEPTED
    for text in ("310/320 14h", "305/320 12h", "xong 13h", "xong 12h30 320/320"):
        reply = await one(day, CHIEF_KV01, text)
        assert (reply.status, reply.reason) == (REFUSED, Reason.AFTER_COMPLETION), (text, reply)
    [turnout, finish] = await day.reports("KV01")
    fixed = await one(day, CHIEF_KV01, "sửa 290/320 11h")
    assert (fixed.status, fixed.reason) == (ACCEPTED, None)
    fixed_finish = await one(day, CHIEF_KV01, "sua xong 12h45 318/320")
    assert (fixed_finish.status, fixed_finish.reason) == (ACCEPTED, None)
    stored = {r.id: r for r in await day.reports("KV01")}
    [new_turnout, new_finish] = [r for r in stored.values() if r.id not in (turnout.id, finish.id)]
    assert new_turnout.is_correction and stored[turnout.id].replaced_by == new_turnout.id
    assert new_finish.is_correction and stored[finish.id].replaced_by == new_finish.id
    assert figures(new_finish) == ("completion", 318, 320, "12:45")
    rows = await day.export()
    assert (rows["KV01"]["voted"], rows["KV01"]["areas_finished"]) == ("318", "1")


async def test_a_finish_in_the_minute_of_an_untimed_report_is_final(day: Day) -> None:
    """Issue 11's reproduction: times are judged to the minute; the finish sets the count."""
    untimed = at(11, 0) + dt.timedelta(seconds=57)
    first = await one(day, CHIEF_KV01, "ct 260/320", untimed)
    assert first.status is ACCEPTED and shows(first, 260, 320, "11:00")
    finished = await one(day, CHIEF_KV01, "xong 11h", at(11, 1))
    assert finished.status is ACCEPTED and shows(finished, 260, 320, "11:00")
    late = await one(day, CHIEF_KV01, "280/320 11h", at(11, 1))
    assert (late.status, late.reason) == (REFUSED, Reason.AFTER_COMPLETION)
    fixed = await one(day, CHIEF_KV01, "sua xong 11h 300/320", at(11, 2))
    assert fixed.status is ACCEPTED and shows(fixed, 300, 320, "11:00")
    rows = await day.export()
    assert (rows["KV01"]["voted"], rows["KV01"]["areas_finished"]) == ("300", "1")
    assert (rows["X1"]["voted"], rows["LC"]["voted"]) == ("300", "300")
    assert rows["KV01"]["last_report_at"] == "2021-05-23T11:00:00+07:00"
    current = sorted(await day.current("KV01"), key=lambda r: (r.at, r.kind == "completion"))
    assert [(r.kind, r.voted) for r in current] == [("turnout", 260), ("completion", 300)]
    assert {r.at % 60 for r in current} == {0}  # stored to the minute


async def test_time_window_and_future(day: Day) -> None:
    # (text, sent at, status, reason). "04h30": the leading zero says morning. (Since issue
    # 14, "4h30" sent at 20:00 is read as 16:30, its only valid reading: the contract's
    # afternoon rule; see test_phrasing.)
    cases = [
        ("100/320 04h30", None, REFUSED, Reason.OUTSIDE_HOURS),
        ("100/320 21h30", None, REFUSED, Reason.OUTSIDE_HOURS),
        ("100/320 23:00", None, REFUSED, Reason.OUTSIDE_HOURS),
        ("100/320 9h10", at(9, 0), REFUSED, Reason.IN_FUTURE),
        ("100/320 9h05", at(9, 0), ACCEPTED, None),  # a few minutes ahead: a slow clock
        ("200/320 21h", at(21, 0), ACCEPTED, None),  # the last minute of the window
        ("210/320", at(21, 30), REFUSED, Reason.OUTSIDE_HOURS),  # arrived after it
        ("xn 16/16 am tinh", at(22, 0), ACCEPTED, None),  # staff tests at any time
    ]
    for text, sent, status, reason in cases:
        reply = await one(day, CHIEF_KV01, text, sent)
        assert (reply.status, reply.reason) == (status, reason), (text, reply)
    assert [figures(r) for r in await day.reports("KV01")] == [
        ("turnout", 100, 320, "09:05"),
        ("turnout", 200, 320, "21:00"),
        ("covid", None, None, "22:00"),
    ]


async def test_turnout_is_on_the_election_day_only(day: Day) -> None:
    """Without a time, a report takes its arrival's: on another day than the election's that
    time means nothing, and the sender is asked for the time; a stated time is placed on the
    election date whenever it is sent; COVID tallies may come the day before."""
    after = at(10, 0, day=ELECTION_DAY + dt.timedelta(days=1))
    before = at(18, 0, day=ELECTION_DAY - dt.timedelta(days=1))
    cases = [
        ("ct 260/320", after, REFUSED, "arrived_off_day"),
        ("xong 300/320", after, REFUSED, "arrived_off_day"),
        ("250/320", before, REFUSED, "arrived_off_day"),
        ("xn 16/16 am tinh", before, ACCEPTED, None),
        ("260/320 10h", after, ACCEPTED, None),  # late, but it says when
    ]
    for text, sent, status, reason in cases:
        reply = await one(day, CHIEF_KV01, text, sent)
        assert (reply.status, reply.reason) == (status, reason), (text, reply)
    assert [figures(r) for r in await day.reports("KV01")] == [
        ("covid", None, None, "18:00"),
        ("turnout", 260, 320, "10:00"),
    ]
    [turnout] = [r for r in await day.reports("KV01") if r.kind == "turnout"]
    assert dt.datetime.fromtimestamp(turnout.at, TZ).date() == ELECTION_DAY


async def test_covid_rules(day: Day) -> None:
    for text, reason, named in [  # KV01 has 16 staff
        ("xn 17/16 am tinh", Reason.TESTED_OVER_STAFF, "16"),
        ("xn 12/12 am tinh", Reason.STAFF_MISMATCH, "16"),  # the staff the area has
        ("xn 10/16 dt 11", Reason.POSITIVES_OVER_TESTED, "10"),  # the count tested
    ]:
        reply = await one(day, CHIEF_KV01, text)
        assert (reply.status, reply.reason) == (REFUSED, reason), (text, reply)
        assert named in body(reply), (text, reply)
    assert await day.reports("KV01") == []


async def test_unknown_area_outside_units_and_unreadable(day: Day) -> None:
    cases = [
        # (sender, text, reason, what the refusal must name)
        (CHIEF_KV03_KV04, "KV99: 10/20 9h", NAMED_NOT_YOURS, "KV99"),
        (CHIEF_KV03_KV04, "KV01: 10/320 9h", Refusal.NOT_YOUR_UNIT, "KV01"),
        (SUPERVISOR_X1, "X1: 10/20 9h", Refusal.NOT_AN_AREA, "X1"),
        (CHIEF_KV01, "xin chào", Refusal.NO_REPORT, "250/320 9h"),  # how to report
        (CHIEF_KV01, "250/320 25h", UnreadableReason.BAD_TIME, "25h"),
    ]
    for sender, text, reason, named in cases:
        reply = await one(day, sender, text)
        assert (reply.status, reply.reason) == (REFUSED, reason), (text, reply)
        assert named in body(reply), (text, reply)
    assert all([await day.reports(code) == [] for code in ("KV01", "KV03", "KV04")])


async def test_locked_subtree_refuses_reports(day: Day) -> None:
    cases = [
        # (sender, text, status, reason)
        (CHIEF_KV01, "/khoa X1", REFUSED, Refusal.ADMIN_ONLY),
        (ADMIN_ID, "/khoa X1", ACCEPTED, None),
        (CHIEF_KV01, "250/320 9h", REFUSED, Reason.LOCKED),
        (CHIEF_KV05, "100/250 9h", ACCEPTED, None),  # X2 is not locked
        (ADMIN_ID, "/mokhoa X1", ACCEPTED, None),
        (CHIEF_KV01, "250/320 9h", ACCEPTED, None),
    ]
    for sender, text, status, reason in cases:
        reply = await one(day, sender, text)
        assert (reply.status, reply.reason) == (status, reason), (sender, text, reply)
    assert [r.voted for r in await day.reports("KV01")] == [250]  # once: after the unlock


# -- corrections, edits, duplicates ----------------------------------------------------------


async def test_correction_by_sua_keeps_the_replaced_report(day: Day) -> None:
    assert (await one(day, CHIEF_KV01, "250/320 9h")).status is ACCEPTED
    reply = await one(day, CHIEF_KV01, "sửa 245/320 9h")
    assert (reply.status, reply.reason) == (ACCEPTED, None) and shows(reply, 245, 320, "09:00")
    [first, second] = await day.reports("KV01")
    assert first.replaced_by == second.id and second.replaced_by is None
    assert (second.voted, second.is_correction) == (245, True)
    assert (await day.export())["KV01"]["voted"] == "245"


async def test_correction_by_editing_the_message(day: Day) -> None:
    assert (await one(day, CHIEF_KV01, "250/320 9h")).status is ACCEPTED
    message_id = day.channel.last_message_id
    edit = await day.channel.say(
        CHIEF_KV01, "240/320 9h", edits=message_id, edited_at=at(20, 10), revision=1
    )
    assert edit.status is ACCEPTED and shows(edit.replies[0], 240, 320, "09:00")
    assert (await day.export())["KV01"]["voted"] == "240"
    # An edit that moves the time replaces the original too.
    moved = await day.channel.say(
        CHIEF_KV01, "240/320 9h30", edits=message_id, edited_at=at(20, 20), revision=2
    )
    assert moved.status is ACCEPTED
    stored = await day.reports("KV01")
    assert [r.replaced_by is None for r in stored] == [False, False, True]
    assert figures(stored[-1]) == ("turnout", 240, 320, "09:30")
    # A bad edit is refused and the last good version stays.
    bad = await day.channel.say(
        CHIEF_KV01, "400/320 9h30", edits=message_id, edited_at=at(20, 25), revision=3
    )
    assert (bad.status, bad.reason) == (REFUSED, Reason.VOTED_OVER_LIST)
    assert await day.current("KV01") == stored[-1:]
    assert (await day.export())["KV01"]["voted"] == "240"


async def test_same_message_handled_twice_is_stored_once(day: Day) -> None:
    """A platform may deliver one message again (Telegram, under a new update id): the
    message's identity is its chat and message id, so the second delivery is answered with
    the first replies and stores nothing."""
    chief = address(CHIEF_KV01)
    message = InboundText(
        chat=chief,
        message_ref="4242",
        sender=chief,
        text="250/320 9h; xn 16/16 am tinh",
        sent_at=at(9, 5),
        bot=day.channel.name,
    )
    where = Where(chief, chief, day.channel.name)
    first = await day.channel.conversation.handle(message, where, CAPABILITIES)
    again = await day.channel.conversation.handle(message, where, CAPABILITIES)
    assert first.status is ACCEPTED and len(first.replies) == 2
    assert again.texts == first.texts
    assert len(await day.reports("KV01")) == 2  # one turnout, one tally: not four
    assert (await day.export())["KV01"]["voted"] == "250"


def break_inserts(settings: Settings, broken: bool) -> None:
    """Make every insert of a report fail inside the database (a trigger), or mend it."""
    if settings.uses_postgres:
        with psycopg.connect(settings.database, autocommit=True) as pg:
            if broken:
                pg.execute(
                    "CREATE FUNCTION broken() RETURNS trigger LANGUAGE plpgsql AS"
                    " $$ BEGIN RAISE EXCEPTION 'disk I/O error'; END $$"
                )
                pg.execute(
                    "CREATE TRIGGER broken BEFORE INSERT ON reports"
                    " FOR EACH ROW EXECUTE FUNCTION broken()"
                )
            else:
                pg.execute("DROP TRIGGER broken ON reports")
        return
    with sqlite3.connect(settings.db_path) as db:
        if broken:
            db.execute(
                "CREATE TRIGGER broken BEFORE INSERT ON reports "
                "BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END"
            )
        else:
            db.execute("DROP TRIGGER broken")


async def test_when_the_store_fails_the_reporter_gets_an_error_and_no_tick(day: Day) -> None:
    break_inserts(day.core.settings, True)
    failed = await day.channel.say(CHIEF_KV01, "250/320 9h\nxn 16/16 am tinh")
    assert [(r.status, r.reason) for r in failed.replies] == [(Status.FAILED, STORE_FAILED)] * 2
    assert failed.status is Status.FAILED and not failed.ok
    break_inserts(day.core.settings, False)
    assert await day.reports("KV01") == []
    reply = await one(day, CHIEF_KV01, "250/320 9h")
    assert (reply.status, reply.reason) == (ACCEPTED, None)
    assert [r.voted for r in await day.reports("KV01")] == [250]


# -- what reports cause elsewhere: the groups' notice ------------------------------------------


async def test_the_last_area_to_finish_tells_each_subscribed_group_once(day: Day) -> None:
    """A group following a unit is told once, when its last area finishes; the notice is a
    message to that group, whatever chat the report came from."""
    commune, district = -100401, -100402  # X2 (one area, KV05), and MK (all five)
    for group, code in ((commune, "X2"), (district, "MK")):
        subscribed = await day.channel.say(ADMIN_ID, f"/theodoi {code}", group=group)
        assert subscribed.status is ACCEPTED, subscribed
    day.clock.set(17, 5)
    finish = await day.channel.say(CHIEF_KV05, "kết thúc 17h 248/250")
    assert finish.status is ACCEPTED
    [notice] = finish.sends
    assert notice.to.id == str(commune)
    assert notice.content == Text(
        texts.all_finished(
            texts.unit_label("X2", "Xã Tả Ngải Chồ"), await day.totals("X2"), at(17, 5)
        )
    )
    # A correction of the finish changes the figures but tells nobody again.
    fixed = await day.channel.say(CHIEF_KV05, "sửa xong 17h 249/250")
    assert fixed.status is ACCEPTED and fixed.sends == ()
    # The district's last areas: its group is told, once.
    for sender, text in [
        (CHIEF_KV01, "xong 17h 300/320"),
        (CHIEF_KV02, "xong 17h 1900/2000"),
        (CHIEF_KV03_KV04, "KV03: xong 17h 450/500"),
    ]:
        answer = await day.channel.say(sender, text)
        assert answer.status is ACCEPTED and answer.sends == (), (text, answer)
    last = await day.channel.say(CHIEF_KV03_KV04, "KV04: xong 17h 390/400")
    assert last.status is ACCEPTED
    [notice] = last.sends
    assert notice.to.id == str(district)
    assert isinstance(notice.content, Text)
    totals = await day.totals("MK")
    assert (totals.areas_finished, totals.voted) == (5, 249 + 300 + 1900 + 450 + 390)
    assert notice.content == Text(
        texts.all_finished(texts.unit_label("MK", "Huyện Mường Khương"), totals, at(17, 5))
    )
