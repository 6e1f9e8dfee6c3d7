"""Every reply the SMS channel can produce for a report fits one SMS (issue 16 §3, its
acceptance property), and so does every refusal of a command.

The real core runs on a real database, with a units file at the limits the import allows:
unit codes of 32 characters, lists and staff of 100,000,000. People talk to it through the
in-memory channel dressed as an SMS channel (`SMS_CAPABILITIES`: brief replies), so the
`Switchboard` picks what an SMS carries; `to_sms` writes it. Hypothesis sends report
messages of every kind (valid, warned, refused, unreadable, repeated, corrections, from
chiefs of one or several areas, supervisors, admins and strangers); every reply must be
GSM-7 and exactly one segment, and one segment again with `SMS_UNICODE`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot import texts
from bot.channel import Capabilities
from bot.core import ALREADY_ANSWERED, Core
from bot.formatting import vn_int
from bot.messaging.answers import Answer, Refusal, Reply, Status, refused
from bot.messaging.content import Content, Text
from bot.messaging.flood import FloodGuard
from bot.model import Totals
from bot.registration.units_file import MAX_CODE_LENGTH, MAX_COUNT
from bot.turnout.intake import InboundText
from bot.turnout.lines import UnreadableReason
from bot.turnout.rules import Outcome, Reason
from handlers.memory import MemoryChannel, address
from handlers.sms.gsm7 import is_gsm7
from handlers.sms.render import MAX_SEGMENTS, SMS_CAPABILITIES, segments, to_sms
from tests.harness import ADMIN_ID, at
from tests.memory import Clock, settings_for

DASHBOARD = "https://bau-cu.example.vn/bang-dieu-khien"


def wide(stem: str) -> str:
    """A unit code as long as the import allows."""
    code = f"{stem}.MUONG-KHUONG_LAO-CAI.2026.0123456789"[:MAX_CODE_LENGTH]
    assert len(code) == MAX_CODE_LENGTH
    return code


PROVINCE, DISTRICT, COMMUNE = wide("LC"), wide("MK"), wide("XA01")
BIG, HUGE, SMALL = wide("KV01"), wide("KV02"), wide("KV03")  # codes at the limit
PLAIN = "KV04"  # an ordinary area: 320 voters, 16 staff
LONG_NAME = "Khu vực bỏ phiếu số {n} – Thôn Nậm Chảy Trên, xã Tả Ngải Chồ, huyện Mường Khương"
QUOTED_NAMES = {n: '"' + LONG_NAME.format(n=n) + '"' for n in range(1, 5)}  # with commas
CHIEF_BIG, CHIEF_TWO, CHIEF_PLAIN, SUPERVISOR, STRANGER = 301, 302, 304, 401, 999
PHONES = {
    CHIEF_BIG: "0912345301",
    CHIEF_TWO: "0912345302",  # HUGE and SMALL: must name the area
    CHIEF_PLAIN: "0912345304",
    SUPERVISOR: "0912000401",
}
UNITS = "\n".join(
    [
        "code,parent_code,kind,name,registered_voters,staff,contact_phones",
        f"{PROVINCE},,tỉnh,Tỉnh Lào Cai,,,",
        f"{DISTRICT},{PROVINCE},huyện,Huyện Mường Khương,,,",
        f"{COMMUNE},{DISTRICT},xã,Xã Tả Ngải Chồ,,,{PHONES[SUPERVISOR]}",
        f"{BIG},{COMMUNE},khu vực bỏ phiếu,{QUOTED_NAMES[1]},{MAX_COUNT},{MAX_COUNT},"
        f"{PHONES[CHIEF_BIG]}",
        f"{HUGE},{COMMUNE},khu vực bỏ phiếu,{QUOTED_NAMES[2]},{MAX_COUNT - 1},16,"
        f"{PHONES[CHIEF_TWO]}",
        f"{SMALL},{COMMUNE},khu vực bỏ phiếu,{QUOTED_NAMES[3]},320,,{PHONES[CHIEF_TWO]}",
        f"{PLAIN},{COMMUNE},khu vực bỏ phiếu,{QUOTED_NAMES[4]},320,16,{PHONES[CHIEF_PLAIN]}",
    ]
).encode()


class SmsMemoryChannel(MemoryChannel):
    """The in-memory channel with what an SMS channel can do: replies go out brief."""

    @property
    def capabilities(self) -> Capabilities:
        return SMS_CAPABILITIES


def one_sms(content: Content) -> None:
    """`content` is sent as one SMS: GSM-7 and one segment; one segment with SMS_UNICODE."""
    sent = to_sms(content)
    assert sent is not None and is_gsm7(sent), (content, sent)
    assert segments(sent) == 1, (sent, len(sent))
    accented = to_sms(content, unicode=True)
    assert accented is not None and segments(accented) == 1, (accented, len(accented))


def brief_of(reply: Reply) -> Text:
    assert reply.brief is not None, reply
    return reply.brief


class Sms:
    """The worst-case day on its own event loop (hypothesis drives it example by example)."""

    def __init__(self, db: Path | str) -> None:
        self.loop = asyncio.new_event_loop()
        self.clock = Clock(at(20, 0))
        self.core = self.loop.run_until_complete(
            Core.open(settings_for(db), chart_workers=0, clock=self.clock)
        )
        # Flood control on a clock that moves a minute per message: never throttled here.
        self.core.flood = FloodGuard(itertools.count(0, 60).__next__)
        self.channel = SmsMemoryChannel(self.core, self.clock)
        imported = self.run(MemoryChannel(self.core).send_file(ADMIN_ID, "units.csv", UNITS))
        assert imported.status is Status.ACCEPTED, imported
        for person, phone in PHONES.items():
            assert self.run(self.channel.share_contact(person, phone)).ok

    def run(self, work: object) -> Answer:
        assert asyncio.iscoroutine(work)
        result = self.loop.run_until_complete(work)
        assert isinstance(result, Answer)
        return result

    def say(self, sender: int, text: str, when: dt.datetime) -> Answer:
        """`sender` sends `text`; every reply is checked to go out as one SMS."""
        before = len(self.channel.sent_to(sender))
        answer = self.run(self.channel.say(sender, text, at=when))
        sent = self.channel.sent_to(sender)[before:]
        assert sent == [brief_of(reply) for reply in answer.replies]  # what SMS carries
        for content in sent:
            one_sms(content)
        return answer

    def close(self) -> None:
        self.loop.run_until_complete(self.core.close())
        self.loop.close()


@pytest.fixture
def sms(db_target: Path | str) -> Iterator[Sms]:
    day = Sms(db_target)
    try:
        yield day
    finally:
        day.close()


# -- what chiefs send ---------------------------------------------------------------------------

CODES = [BIG, HUGE, SMALL, PLAIN, COMMUNE, "kv04", wide("ZZ99")]
prefixes = st.one_of(
    st.sampled_from(["", "", *[f"{c}: " for c in CODES]]),
    st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,40}", fullmatch=True).map(lambda c: f"{c}: "),
)
counts = st.one_of(
    st.integers(min_value=0, max_value=400),
    st.sampled_from([MAX_COUNT, MAX_COUNT - 1, MAX_COUNT + MAX_COUNT // 10, 10**18 - 1, 330]),
    st.integers(min_value=0, max_value=10**18 - 1),
).flatmap(lambda n: st.sampled_from([str(n), vn_int(n)]))
lists = st.one_of(
    st.sampled_from(["320", "330", "352", "400", "0", vn_int(MAX_COUNT), vn_int(MAX_COUNT + 1)]),
    st.sampled_from([str(MAX_COUNT - 1), vn_int(MAX_COUNT + MAX_COUNT // 10), "16"]),
    counts,
)
times = st.sampled_from(
    ["9h", "09h", "9h30", "12:30", "6h", "18h", "21h", "4h", "25h", "23h59", "7h sáng",
     "2h chiều", "", "lúc 11 giờ", "9.30", "15h"]
)  # fmt: skip
junk = st.text(
    alphabet=st.one_of(
        st.sampled_from(list("đăâêôơưáàảãạ…–“”«»≥×·€{}[]~|^\\`😀🎉✅❌ ")),
        st.characters(exclude_categories=("Cs",)),
    ),
    max_size=40,
)
line = st.one_of(
    st.builds(lambda p, s, v, n, t: f"{p}{s}{v}/{n} {t}", prefixes, st.sampled_from(["", "sửa "]),
              counts, lists, times),
    st.builds(lambda p, v, t: f"{p}{v} lúc {t}", prefixes, counts, times),
    st.builds(lambda p, s, t, v, n: f"{p}{s}xong {t} {v}/{n}", prefixes,
              st.sampled_from(["", "sửa "]), times, counts, lists),
    st.builds(lambda p, t: f"{p}xong {t}", prefixes, times),
    st.builds(lambda p, a, b, r: f"{p}xn {a}/{b} {r}", prefixes, counts, lists,
              st.sampled_from(["âm tính", "dương tính 1", "dt 3", "", "âm tính dương tính 2"])),
    st.builds(lambda p, v, n, t, pct: f"{p}{v}/{n} {t} đạt {pct}%", prefixes, counts, lists,
              times, st.sampled_from(["78", "78,1", "99999999999", "100"])),
    st.builds(lambda p, v, n, t, d: f"{p}{v}/{n} {t} ngày {d}", prefixes, counts, lists, times,
              st.sampled_from(["23/5", "24/5/2021", "1/1", "23-5"])),
    st.builds(lambda p, j: f"{p}{j}", prefixes, junk),
    st.sampled_from(
        ["Khu vực 2: 250/320 9h", "KVBP số 7 250/320 9h", "đạt 78%", "-5/320 9h", "1,234/2000 9h",
         "1.2k/320 9h", "Dạ em báo cáo ạ", "xn 15/16", "250/320 9h 10h", "9h 250 300/320"]
    ),
)  # fmt: skip
# Reports that mostly make sense, so that stores, repeats and warnings happen too.
plausible = st.builds(
    lambda p, s, v, n, h, m: f"{p}{s}{v}/{n} {h:02d}h{m:02d}",
    st.sampled_from(["", "", f"{PLAIN}: ", f"{SMALL}: ", f"{BIG}: "]),
    st.sampled_from(["", "", "", "sửa ", "xong "]),
    st.integers(min_value=0, max_value=352),
    st.sampled_from([320, 320, 330, 340, 352, 400]),
    st.integers(min_value=5, max_value=20),
    st.sampled_from([0, 30]),
)
messages = st.one_of(
    plausible,
    line,
    st.lists(line, min_size=2, max_size=4).map("\n".join),
    st.text(max_size=120),
)
senders = st.sampled_from([CHIEF_BIG, CHIEF_TWO, CHIEF_PLAIN, SUPERVISOR, ADMIN_ID, STRANGER])


def test_every_reply_to_any_report_is_one_sms(sms: Sms) -> None:
    seen: set[tuple[Status, str | None]] = set()

    @settings(
        max_examples=600,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(
        text=messages,
        sender=senders,
        minute=st.one_of(
            st.integers(min_value=5 * 60, max_value=21 * 60),
            st.integers(min_value=-24 * 60, max_value=24 * 60 - 1),
        ),
        twice=st.booleans(),
    )
    # Each kind of outcome at least once, whatever the generated examples reach: a stored
    # report, the same again (a repeat), a new list size (a warning).
    @example(text=f"{PLAIN}: 250/320 09h00", sender=CHIEF_PLAIN, minute=9 * 60, twice=True)
    @example(text=f"{PLAIN}: 260/330 09h30", sender=CHIEF_PLAIN, minute=9 * 60 + 30, twice=False)
    def check(text: str, sender: int, minute: int, twice: bool) -> None:
        for _ in range(2 if twice else 1):  # sent again: a repeat, or refused again
            answer = sms.say(sender, text, at(0) + dt.timedelta(minutes=minute))
            seen.update((reply.status, reply.reason) for reply in answer.replies)

    check()
    statuses = {status for status, _ in seen}
    assert {Status.ACCEPTED, Status.WARNED, Status.REFUSED} <= statuses, seen
    assert (Status.ACCEPTED, Outcome.REPEAT.value) in seen
    assert len({reason for _, reason in seen}) >= 15, seen  # the property was exercised


# -- every outcome, at the limits, by name -------------------------------------------------------

REPORT_TABLE: list[tuple[int, str, int, Status, str | None]] = [
    # (sender, message, hour, status, reason), in order on one day
    (CHIEF_BIG, f"{vn_int(MAX_COUNT - 1)}/{vn_int(MAX_COUNT)} 12h30", 13, Status.ACCEPTED, None),
    (CHIEF_BIG, f"{vn_int(MAX_COUNT - 1)}/{vn_int(MAX_COUNT)} 12h30", 13, Status.ACCEPTED,
     Outcome.REPEAT.value),
    (CHIEF_BIG, f"sửa {vn_int(MAX_COUNT - 2)}/{vn_int(MAX_COUNT)} 12h30", 13, Status.ACCEPTED,
     None),
    (CHIEF_BIG, f"{vn_int(MAX_COUNT)}/{vn_int(MAX_COUNT + MAX_COUNT // 10)} 12h31", 13,
     Status.WARNED, Reason.LIST_SIZE_CHANGED.value),
    (CHIEF_BIG, f"{vn_int(MAX_COUNT)}/{vn_int(MAX_COUNT + MAX_COUNT // 10)} 12h31", 13,
     Status.ACCEPTED, Outcome.REPEAT.value),
    (CHIEF_BIG, f"{vn_int(10**18 - 1)}/{vn_int(MAX_COUNT)} 12h40", 13, Status.REFUSED,
     Reason.VOTED_OVER_LIST.value),
    (CHIEF_BIG, f"5/{vn_int(10**18 - 1)} 12h40", 13, Status.REFUSED, Reason.LIST_SIZE_OFF.value),
    (CHIEF_BIG, "5 lúc 12h50", 13, Status.REFUSED, Reason.LOWER_THAN_EARLIER.value),
    (CHIEF_BIG, f"{vn_int(MAX_COUNT)} lúc 22h", 23, Status.REFUSED, Reason.OUTSIDE_HOURS.value),
    (CHIEF_BIG, f"{vn_int(MAX_COUNT)} lúc 15h", 13, Status.REFUSED, Reason.IN_FUTURE.value),
    (CHIEF_BIG, f"{vn_int(MAX_COUNT - 5)} lúc 12h31", 13, Status.REFUSED,
     Reason.SAME_TIME_DIFFERENT_COUNT.value),
    (CHIEF_BIG, f"{vn_int(MAX_COUNT)} lúc 11h", 13, Status.REFUSED,
     Reason.HIGHER_THAN_LATER.value),
    (CHIEF_BIG, "xong 11h", 13, Status.REFUSED, Reason.COMPLETION_BEFORE_LAST.value),
    (CHIEF_BIG, f"xong 12h45 {vn_int(MAX_COUNT)}/{vn_int(MAX_COUNT + MAX_COUNT // 10)}", 13,
     Status.ACCEPTED, None),
    (CHIEF_BIG, f"{vn_int(MAX_COUNT)} lúc 12h50", 13, Status.REFUSED,
     Reason.AFTER_COMPLETION.value),
    (CHIEF_BIG, f"sửa {vn_int(MAX_COUNT)} lúc 12h55", 13, Status.REFUSED,
     Reason.AFTER_FINISH_TIME.value),
    (CHIEF_BIG, f"xn {vn_int(MAX_COUNT)}/{vn_int(MAX_COUNT)} dương tính {vn_int(MAX_COUNT)}", 13,
     Status.ACCEPTED, None),
    (CHIEF_BIG, f"xn {vn_int(MAX_COUNT)}/{vn_int(MAX_COUNT - 1)} âm tính", 13, Status.REFUSED,
     Reason.TESTED_OVER_STAFF.value),
    (CHIEF_BIG, f"xn 5/{vn_int(MAX_COUNT - 1)} âm tính", 13, Status.REFUSED,
     Reason.STAFF_MISMATCH.value),
    (CHIEF_BIG, f"xn 5/{vn_int(MAX_COUNT)} dương tính 6", 13, Status.REFUSED,
     Reason.POSITIVES_OVER_TESTED.value),
    (CHIEF_TWO, f"{HUGE}: xong 12h", 13, Status.REFUSED, Reason.COMPLETION_NEEDS_COUNT.value),
    (CHIEF_TWO, "250/320 9h", 13, Status.REFUSED, "needs_prefix"),
    (CHIEF_TWO, f"{BIG}: 250/320 9h", 13, Status.REFUSED, "not_your_unit"),
    (CHIEF_TWO, f"{wide('ZZ99')}: 250/320 9h", 13, Status.REFUSED, "unknown_unit"),
    (ADMIN_ID, f"{wide('ZZ99')}: 250/320 9h", 13, Status.REFUSED, "unknown_unit"),
    (ADMIN_ID, f"{COMMUNE}: 250/320 9h", 13, Status.REFUSED, "not_an_area"),
    (ADMIN_ID, "250/320 9h", 13, Status.REFUSED, "needs_code"),
    (CHIEF_TWO, "Khu vực 9 tổ Pha Long Hạ Thượng: 250/320 9h", 13, Status.REFUSED,
     "named_not_yours"),
    (CHIEF_PLAIN, "250/320 6h", 20, Status.REFUSED, "ask_afternoon"),
    (CHIEF_PLAIN, "250/320 9h đạt 99999999999%", 13, Status.REFUSED, "percent_mismatch"),
    (CHIEF_PLAIN, "250/320 9h ngày 24/5", 13, Status.REFUSED, "wrong_date"),
    (CHIEF_PLAIN, "đạt 78%", 13, Status.REFUSED, "percent_only"),
    (CHIEF_PLAIN, "250/320", 13 - 48, Status.REFUSED, "arrived_off_day"),
    (CHIEF_PLAIN, "xét nghiệm âm tính", 13, Status.REFUSED, "covid_missing_fraction"),
    (CHIEF_TWO, f"{SMALL}: xn 5 âm tính", 13, Status.REFUSED, "covid_needs_total"),
    (CHIEF_PLAIN, "xn 15/16", 13, Status.REFUSED, "covid_missing_result"),
    (CHIEF_PLAIN, "xn 15/16 âm tính dương tính 2", 13, Status.REFUSED, "covid_contradiction"),
    (CHIEF_PLAIN, "250/0 9h", 13, Status.REFUSED, "zero_list"),
    (CHIEF_PLAIN, "250/320 25h", 13, Status.REFUSED, "bad_time"),
    (CHIEF_PLAIN, "cử tri 9h", 13, Status.REFUSED, "missing_count"),
    (CHIEF_PLAIN, "250/320 9h 10h", 13, Status.REFUSED, "too_many_numbers"),
    (CHIEF_PLAIN, "-5/320 9h", 13, Status.REFUSED, "negative_number"),
    (CHIEF_PLAIN, "còn 70 người 250/320 9h khoảng 300", 13, Status.REFUSED, "unplaced_number"),
    (CHIEF_PLAIN, "1,234/2000 9h", 13, Status.REFUSED, "unclear_digits"),
    (CHIEF_PLAIN, "250/320 9h ‰‰‰‰‰‰‰‰‰‰‰‰‰‰‰‰ ⑽⑽⑽⑽⑽⑽⑽⑽⑽", 13, Status.REFUSED, "unknown_words"),
    (CHIEF_PLAIN, f"{PLAIN}:", 13, Status.REFUSED, "unreadable"),
    (CHIEF_TWO, f"{HUGE}:", 13, Status.REFUSED, "unreadable"),
    (CHIEF_PLAIN, "Dạ em hỏi ạ", 13, Status.REFUSED, Refusal.NO_REPORT.value),
    (STRANGER, "250/320 9h", 13, Status.REFUSED, Refusal.NOT_REGISTERED.value),
    (CHIEF_PLAIN, "\u202e250/320 9h", 13, Status.REFUSED, Refusal.HIDDEN_CONTROLS.value),
    (CHIEF_PLAIN, "250/320 9h " * 200, 13, Status.REFUSED, Refusal.MESSAGE_TOO_LONG.value),
    (CHIEF_PLAIN, "\n".join(["250/320 9h"] * 31), 13, Status.REFUSED,
     Refusal.TOO_MANY_REPORTS.value),
]  # fmt: skip


def test_every_report_outcome_at_the_limits_is_one_sms(sms: Sms) -> None:
    for sender, text, hour, status, reason in REPORT_TABLE:
        sms.clock.now = at(0) + dt.timedelta(hours=hour)
        answer = sms.say(sender, text, sms.clock.now)
        [first, *_] = answer.replies
        assert (first.status, first.reason) == (status, reason), (text, answer)
    assert sms.run(sms.channel.say(ADMIN_ID, f"/khoa {BIG}")).status is Status.ACCEPTED
    locked = sms.say(CHIEF_BIG, f"{vn_int(MAX_COUNT)} lúc 12h59", at(13))
    assert locked.replies[0].reason == Reason.LOCKED
    covered = {reason for *_, reason in REPORT_TABLE} | {Reason.LOCKED.value}
    assert {r.value for r in Reason} <= covered
    assert {r.value for r in UnreadableReason} - {UnreadableReason.NO_REPORT.value} <= covered


ORDINARY_DAY = [
    "250/320 9h", "250/320 9h", "260/330 9h30", "200/320 10h", "255 lúc 9h", "xong 12h",
    "300 lúc 12h30", "sửa 300 lúc 12h40", "sửa xong 12h 260/330", "xn 15/16 âm tính",
    "xn 15/16 âm tính", "xn 17/16 âm tính", "xn 15/15 âm tính", "xn 5/16 dương tính 6",
    "400/320 11h", "250/3200 11h", "250 lúc 22h", "250 lúc 15h", "250/320 9h 10h",
]  # fmt: skip


def test_an_ordinary_areas_replies_go_out_accented_in_one_segment(sms: Sms) -> None:
    """With SMS_UNICODE, an area with a short code and a list of hundreds gets its replies
    with diacritics, each in one 70-unit segment (an area at the import's limits gets them
    unaccented in one 160-character segment instead, as the property test shows)."""
    rows = [(text, 13) for text in ORDINARY_DAY] + [
        (text, hour) for sender, text, hour, *_ in REPORT_TABLE if sender == CHIEF_PLAIN
    ]
    reasons = set()
    for text, hour in rows:
        sms.clock.now = at(0) + dt.timedelta(hours=hour)
        for reply in sms.say(CHIEF_PLAIN, text, sms.clock.now).replies:
            brief = brief_of(reply)
            assert to_sms(brief, unicode=True) == brief.body, brief
            assert not is_gsm7(brief.body) and segments(brief.body) == 1, brief
            reasons.add(reply.reason)
    assert {None, Outcome.REPEAT.value, Reason.LIST_SIZE_CHANGED.value} < reasons
    assert len(reasons) > 30, reasons


def test_an_acknowledgement_says_what_was_stored_in_the_contracts_words(sms: Sms) -> None:
    sms.clock.now = at(13)
    answer = sms.say(CHIEF_PLAIN, "250/320 9h", sms.clock.now)
    assert to_sms(brief_of(answer.replies[0])) == "Da luu KV04: 250/320 (78,1%) luc 9:00"
    accented = to_sms(brief_of(answer.replies[0]), unicode=True)
    assert accented == "Đã lưu KV04: 250/320 (78,1%) lúc 9:00"
    warned = sms.say(CHIEF_PLAIN, "260/330 9h30", sms.clock.now)
    assert warned.replies[0].status is Status.WARNED
    assert (to_sms(brief_of(warned.replies[0])) or "").startswith("Luu y KV04:")
    refusal = sms.say(CHIEF_PLAIN, "200/320 10h", sms.clock.now)
    assert (to_sms(brief_of(refusal.replies[0])) or "").startswith("Chua luu KV04:")


def test_other_channels_still_get_the_whole_replies(sms: Sms) -> None:
    whole = MemoryChannel(sms.core, sms.clock)  # no brief replies
    sms.clock.now = at(13)
    answer = sms.run(whole.say(CHIEF_PLAIN, "250/320 9h\n200 lúc 10h"))
    assert whole.sent_to(CHIEF_PLAIN) == [reply.content for reply in answer.replies]
    assert all(r.brief is not None and r.brief != r.content for r in answer.replies)


def test_a_redelivered_message_gets_the_same_brief_replies(sms: Sms) -> None:
    message = InboundText(
        chat=address(CHIEF_PLAIN),
        message_ref="delivered-twice",
        sender=address(CHIEF_PLAIN),
        text="250/320 9h\n251 lúc 8h",
        sent_at=at(13),
        bot=sms.channel.name,
    )
    first = sms.run(sms.core.report(message))
    again = sms.run(sms.core.report(message))
    assert [r.status for r in first.replies] == [Status.ACCEPTED, Status.REFUSED]
    assert {r.reason for r in again.replies} == {ALREADY_ANSWERED}
    assert [r.brief for r in again.replies] == [r.brief for r in first.replies]
    for reply in again.replies:
        one_sms(brief_of(reply))


# -- command refusals, and long answers ----------------------------------------------------------


@pytest.mark.parametrize("reason", list(Refusal))
@pytest.mark.parametrize("naming", ["", wide("KV01"), "«" + "x" * 300 + "€{}"])
def test_every_command_refusal_is_one_sms(reason: Refusal, naming: str) -> None:
    [reply] = refused(reason, "❌ …", naming=naming).replies
    assert reply.status is Status.REFUSED and reply.reason == reason
    one_sms(brief_of(reply))


def summary_of(children: int) -> str:
    totals = Totals(
        children, children, 1, MAX_COUNT * children, MAX_COUNT * children, 16, 16, 0, None
    )
    kids = [(f"{LONG_NAME.format(n=i)} ({wide(f'KV{i:02d}')})", totals) for i in range(children)]
    return texts.summary(label="Xã Tả Ngải Chồ", is_area=False, totals=totals, children=kids,
                         now=at(11))  # fmt: skip


@pytest.mark.parametrize("unicode", [False, True])
def test_a_supervisors_summary_is_three_segments_with_the_link(unicode: bool) -> None:
    sent = to_sms(Text(summary_of(15)), unicode=unicode, dashboard_url=DASHBOARD)
    assert sent is not None and segments(sent) <= MAX_SEGMENTS
    assert sent.endswith(DASHBOARD)
    assert is_gsm7(sent) is not unicode


def test_a_supervisors_summary_through_the_core_is_three_segments(sms: Sms) -> None:
    sms.clock.now = at(13)
    sms.say(CHIEF_PLAIN, "250/320 9h", sms.clock.now)
    answer = sms.run(sms.channel.say(SUPERVISOR, "/tonghop"))
    assert answer.status is Status.ACCEPTED
    sent = [to_sms(content, dashboard_url=DASHBOARD) for content in sms.channel.sent_to(SUPERVISOR)]
    assert sent and all(text is not None and segments(text) <= MAX_SEGMENTS for text in sent)
    assert sent[-1] is not None and is_gsm7(sent[-1])
