"""The counting record's flow in the chat (RESULTS.md, "The counting record, in the chat"),
through the in-memory channel on the real core and a real SQLite file (or PostgreSQL with
FIELDTALLY_TEST_BACKEND=postgresql): Mường Khương 2021's units with the three communes'
ballots (tests/data/results/three_communes).

Every answer is judged by its typed status and reason; the store is read back for what was
kept. Time moves only by the test's clock."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.messaging.answers import Answer, Status
from bot.messaging.content import Choice, Text
from bot.results.checks import CheckReason
from bot.results.grammar import UnreadableReason
from bot.results.intake import RecordReason
from bot.results.model import Ballot
from handlers.memory import address
from handlers.sms.render import to_sms
from tests.harness import ADMIN_ID, SAMPLE, at
from tests.memory import Day, open_day
from tests.results_data import THREE_COMMUNES, files_of

# Chiefs of Pha Long's areas (their phones in the units sample), a second person of 02752-01
# (the same phone: the thư ký), a chief of an area no ballot maps, and the commune's supervisor.
CHIEF_01, CHIEF_08, CHIEF_02, SECRETARY_01, CHIEF_UNMAPPED, SUPERVISOR = 11, 18, 12, 21, 31, 41
PHONES = {
    CHIEF_01: "0912001000",
    SECRETARY_01: "0912001000",
    CHIEF_08: "0912001007",
    CHIEF_02: "0912001001",
    CHIEF_UNMAPPED: "0912001009",
    SUPERVISOR: "+84912000752",
}

# 02752-01 for `qh` (QH-LC-2: 3 seats, 5 candidates, the area's own list of 275).
GOOD_QH = "KQ QH\nbp 250, pr 250, tv 250\nhl 245, khl 5\n1) 200 2) 180 3) 150 4) 100 5) 90"
# For `xa` (X-02752-1: 3 seats, 5 candidates; areas 02752-01 and 02752-08).
GOOD_XA = "KQ xã\nbp 240, pr 240, tv 240\nhl 236, khl 4\n200 190 120 80 50"


async def open_night(db: Path | str, *, double_entry: bool = False) -> AsyncIterator[Day]:
    async with open_day(db, units=SAMPLE, start=at(20, 0)) as day:
        if double_entry:
            settings = day.core.settings.model_copy(update={"results_double_entry": True})
            day.core.settings = settings
            day.core.records._settings = settings
        for name, data in files_of(THREE_COMMUNES):
            imported = await day.channel.send_file(ADMIN_ID, name, data)
            assert imported.ok, imported
        for person, phone in PHONES.items():
            answer = await day.channel.share_contact(person, phone)
            assert answer.ok, answer
        yield day


@pytest.fixture
async def night(db_target: Path | str) -> AsyncIterator[Day]:
    async for day in open_night(db_target):
        yield day


@pytest.fixture
async def double_night(db_target: Path | str) -> AsyncIterator[Day]:
    async for day in open_night(db_target, double_entry=True):
        yield day


def reasons(answer: Answer) -> list[str | None]:
    return [reply.reason for reply in answer.replies]


async def records(day: Day, area: str, ballot: Ballot | None = None) -> list:  # type: ignore[type-arg]
    return await day.core.db.results.records_of_area(area, ballot, include_replaced=True)


# -- read back, then confirm ---------------------------------------------------------------------


async def test_a_record_is_read_back_and_stored_only_at_dung(night: Day) -> None:
    read_back = await night.channel.say(CHIEF_01, GOOD_QH)
    assert reasons(read_back) == [RecordReason.AWAITING_CONFIRMATION]
    assert read_back.status is Status.ACCEPTED
    [reply] = read_back.replies
    # the memory channel has buttons: the read-back offers Đúng / Hủy
    assert isinstance(reply.content, Choice) and reply.content.options == ("Đúng", "Hủy")
    assert "Hầu Ngọc Chúng" in reply.content.body and "81,63%" in reply.content.body
    assert await records(night, "02752-01") == []  # nothing stored before `đúng`

    stored = await night.channel.say(CHIEF_01, "Đúng")
    assert reasons(stored) == [RecordReason.STORED]
    [record] = await records(night, "02752-01")
    assert (record.ballot, record.electoral_unit, record.valid, record.votes) == (
        Ballot.QH, "QH-LC-2", 245, (200, 180, 150, 100, 90),
    )  # fmt: skip
    assert record.registered_voters == 275 and not record.list_stated
    assert f"#{record.id}" in stored.texts[0]
    totals = await night.core.db.results.totals("QH-LC-2")
    assert totals is not None and totals.valid == 245 and totals.votes == (200, 180, 150, 100, 90)
    # confirmed once: a second `ok` has nothing to confirm
    again = await night.channel.say(CHIEF_01, "ok")
    assert again.status is Status.REFUSED and again.reason == RecordReason.NOTHING_TO_CONFIRM


@pytest.mark.parametrize("word", ["đúng", "dung", "OK", "Xác nhận", "ĐÚNG!"])
async def test_every_confirmation_word_stores(night: Day, word: str) -> None:
    await night.channel.say(CHIEF_01, GOOD_QH)
    assert reasons(await night.channel.say(CHIEF_01, word)) == [RecordReason.STORED]


# Each blocking rule, as a sender would break it, reaches the sender as its reason.
BLOCKING = [
    ("hl 245, khl 5", "hl 245, khl 6", CheckReason.VALID_PLUS_INVALID_NE_RETURNED),
    ("bp 250, pr 250, tv 250", "bp 250, pr 249, tv 250", CheckReason.RETURNED_OVER_ISSUED),
    ("bp 250, pr 250, tv 250", "ct 240, bp 240, pr 250, tv 250", CheckReason.ISSUED_OVER_VOTERS),
    ("bp 250, pr 250, tv 250", "bp 280, pr 250, tv 250", CheckReason.VOTED_OVER_VOTERS),
    ("1) 200 2) 180", "1) 246 2) 180", CheckReason.VOTES_OVER_VALID),
    ("1) 200 2) 180 3) 150 4) 100 5) 90", "1) 50 2) 40 3) 30 4) 20 5) 10",
     CheckReason.VOTES_UNDER_VALID),
    ("1) 200 2) 180 3) 150 4) 100 5) 90", "1) 245 2) 245 3) 245 4) 100 5) 90",
     CheckReason.VOTES_OVER_SEATS_TIMES_VALID),
    ("1) 200 2) 180 3) 150 4) 100 5) 90", "1) 200 2) 180 3) 150 4) 100",
     CheckReason.VOTE_COUNT_NE_CANDIDATES),
    ("5) 90", "5) 90\nloại 1: 100 loại 2: 100", CheckReason.LOAI_SUM_NE_VALID),
    ("5) 90", "5) 90\nloại 1: 100 loại 2: 100 loại 3: 45", CheckReason.LOAI_WEIGHTED_NE_VOTES),
]  # fmt: skip


@pytest.mark.parametrize(("old", "new", "reason"), BLOCKING)
async def test_each_blocking_error_is_refused_with_its_numbers(
    night: Day, old: str, new: str, reason: CheckReason
) -> None:
    text = GOOD_QH.replace(old, new)
    assert text != GOOD_QH
    answer = await night.channel.say(CHIEF_01, text)
    assert answer.status is Status.REFUSED and answer.reason == reason.value
    assert answer.texts[0].startswith("❌")
    # nothing kept: not even pending
    assert (await night.channel.say(CHIEF_01, "đúng")).reason == RecordReason.NOTHING_TO_CONFIRM
    assert await records(night, "02752-01") == []


async def test_all_zeros_and_an_unmapped_area_are_refused(night: Day) -> None:
    zeros = "KQ QH\nbp 0, pr 0, tv 0\nhl 0, khl 0\n0 0 0 0 0"
    assert (await night.channel.say(CHIEF_01, zeros)).reason == CheckReason.ALL_ZEROS
    unmapped = await night.channel.say(CHIEF_UNMAPPED, GOOD_QH)
    assert unmapped.reason == CheckReason.AREA_NOT_MAPPED


async def test_an_unreadable_record_says_why(night: Day) -> None:
    answer = await night.channel.say(CHIEF_01, "KQ QH\nbp 250, pr 250\nhl 245, khl 5\n1 2 3 4 5")
    assert answer.status is Status.REFUSED
    assert answer.reason == UnreadableReason.MISSING_FIELDS


async def test_warnings_are_read_back_and_kept_with_the_record(night: Day) -> None:
    warned = GOOD_QH.replace("bp 250", "bp 252").replace("ct", "ct")
    answer = await night.channel.say(CHIEF_01, warned)
    assert answer.status is Status.WARNED and answer.reason == RecordReason.AWAITING_CONFIRMATION
    assert "⚠️" in answer.texts[0]
    assert (await night.channel.say(CHIEF_01, "đúng")).reason == RecordReason.STORED
    [record] = await records(night, "02752-01")
    kept = await night.core.db.results_intake.warnings_of([record.id])
    assert kept == {record.id: (CheckReason.VOTED_NE_RETURNED, CheckReason.VOTED_NE_ISSUED)}


async def test_any_other_message_drops_the_pending_record_then_is_handled(night: Day) -> None:
    await night.channel.say(CHIEF_01, GOOD_QH)
    answer = await night.channel.say(CHIEF_01, "/huongdan")
    assert reasons(answer)[0] == RecordReason.PENDING_DROPPED
    assert len(answer.replies) == 2 and answer.replies[1].status is Status.ACCEPTED  # the help
    assert (await night.channel.say(CHIEF_01, "đúng")).reason == RecordReason.NOTHING_TO_CONFIRM
    assert await records(night, "02752-01") == []


async def test_huy_cancels_the_pending_record(night: Day) -> None:
    await night.channel.say(CHIEF_01, GOOD_QH)
    assert (await night.channel.say(CHIEF_01, "Hủy")).reason == RecordReason.PENDING_CANCELLED
    assert (await night.channel.say(CHIEF_01, "đúng")).reason == RecordReason.NOTHING_TO_CONFIRM


async def test_a_new_record_replaces_the_pending_one_and_says_so(night: Day) -> None:
    await night.channel.say(CHIEF_01, GOOD_QH)
    answer = await night.channel.say(CHIEF_01, GOOD_XA)
    assert reasons(answer) == [RecordReason.PENDING_REPLACED, RecordReason.AWAITING_CONFIRMATION]
    assert (await night.channel.say(CHIEF_01, "đúng")).reason == RecordReason.STORED
    [record] = await records(night, "02752-01")
    assert record.ballot is Ballot.XA  # the first one was never stored


async def test_a_pending_record_expires_after_30_minutes_with_a_word(night: Day) -> None:
    await night.channel.say(CHIEF_01, GOOD_QH)
    night.clock.set(20, 29)
    assert await night.core.expire_pending_records() == []
    night.clock.set(20, 30)
    [notice] = await night.core.expire_pending_records()
    assert notice.to == address(CHIEF_01) and isinstance(notice.content, Text)
    assert "30 phút" in notice.content.body
    assert (await night.channel.say(CHIEF_01, "đúng")).reason == RecordReason.NOTHING_TO_CONFIRM


async def test_dung_after_30_minutes_without_the_sweep_is_refused(night: Day) -> None:
    await night.channel.say(CHIEF_01, GOOD_QH)
    night.clock.set(20, 31)
    assert (await night.channel.say(CHIEF_01, "đúng")).reason == RecordReason.PENDING_EXPIRED
    assert await records(night, "02752-01") == []


async def test_a_pending_record_survives_a_restart(db_target: Path | str) -> None:
    async for day in open_night(db_target):
        await day.channel.say(CHIEF_01, GOOD_QH)
    from bot.core import Core
    from handlers.memory import MemoryChannel
    from tests.memory import Clock, settings_for

    clock = Clock(at(20, 5))
    core = await Core.open(settings_for(db_target), chart_workers=0, clock=clock)
    try:
        channel = MemoryChannel(core, clock)
        assert (await channel.say(CHIEF_01, "đúng")).reason == RecordReason.STORED
    finally:
        await core.close()


# -- corrections, the lock ------------------------------------------------------------------------


async def test_a_second_kq_is_refused_and_a_correction_keeps_the_history(night: Day) -> None:
    await night.channel.say(CHIEF_01, GOOD_QH)
    await night.channel.say(CHIEF_01, "đúng")
    again = await night.channel.say(CHIEF_01, GOOD_QH)
    assert again.reason == RecordReason.ALREADY_RECORDED
    fixed = "sửa " + GOOD_QH.replace("1) 200 2) 180", "1) 210 2) 170")
    read_back = await night.channel.say(CHIEF_01, fixed)
    assert read_back.reason == RecordReason.AWAITING_CONFIRMATION
    assert "sửa lại" in read_back.texts[0]
    assert (await night.channel.say(CHIEF_01, "đúng")).reason == RecordReason.STORED
    old, new = await records(night, "02752-01")
    assert old.replaced_by == new.id and new.replaces == old.id and new.votes[:2] == (210, 170)
    totals = await night.core.db.results.totals("QH-LC-2")
    assert totals is not None and totals.votes[:2] == (210, 170) and totals.areas_reported == 1
    history = await night.channel.say(ADMIN_ID, "/lichsu kq 02752-01")
    assert history.status is Status.ACCEPTED
    assert f"#{old.id}" in history.texts[0] and f"#{new.id}" in history.texts[0]


async def test_the_lock_refuses_at_once_and_at_dung(night: Day) -> None:
    await night.channel.say(CHIEF_01, GOOD_QH)
    chief_lock = await night.channel.say(CHIEF_01, "/khoa kq QH-LC-2")
    assert chief_lock.status is Status.REFUSED  # a chief may not lock (and the record dropped)
    await night.channel.say(CHIEF_01, GOOD_QH)
    locked = await night.channel.say(ADMIN_ID, "/khoa kq QH-LC-2")
    assert locked.reason == RecordReason.RESULTS_LOCKED
    at_dung = await night.channel.say(CHIEF_01, "đúng")
    assert at_dung.reason == RecordReason.UNIT_LOCKED
    at_once = await night.channel.say(CHIEF_01, GOOD_QH)
    assert at_once.reason == RecordReason.UNIT_LOCKED
    assert await records(night, "02752-01") == []
    # the commune's supervisor may reopen a commune's (xa) unit, not the province's (qh)
    assert (await night.channel.say(SUPERVISOR, "/mokhoa kq QH-LC-2")).status is Status.REFUSED
    assert (await night.channel.say(SUPERVISOR, "/khoa kq X-02752-1")).ok
    assert (await night.channel.say(ADMIN_ID, "/mokhoa kq QH-LC-2")).reason == (
        RecordReason.RESULTS_UNLOCKED
    )
    await night.channel.say(CHIEF_01, GOOD_QH)
    assert (await night.channel.say(CHIEF_01, "đúng")).reason == RecordReason.STORED
    # the administrative lock still works as before
    assert (await night.channel.say(ADMIN_ID, "/khoa 02752-01")).ok


# -- photos --------------------------------------------------------------------------------------

PNG = b"\x89PNG\r\n\x1a\n" + b"signed record" * 10


async def test_a_photo_before_its_record_waits_then_joins_it(night: Day) -> None:
    before = await night.channel.send_file(CHIEF_01, "bienban.jpg", PNG, caption="kq qh")
    assert before.reason == RecordReason.PHOTO_WAITING and before.texts[0].startswith("✅")
    await night.channel.say(CHIEF_01, GOOD_QH)
    await night.channel.say(CHIEF_01, "đúng")
    [record] = await records(night, "02752-01")
    [photo] = await night.core.db.results.photos("02752-01")
    assert photo.record_id == record.id and photo.sha256 == hashlib.sha256(PNG).hexdigest()
    assert photo.sent_by == address(CHIEF_01)
    after = await night.channel.send_file(CHIEF_01, "bienban2.jpg", PNG + b"2", caption="KQ QH")
    assert after.reason == RecordReason.PHOTO_KEPT
    assert "Đã lưu ảnh biên bản" in after.texts[0]
    assert [r.votes for r in await records(night, "02752-01")] == [record.votes]  # no number moved


# -- double entry --------------------------------------------------------------------------------


async def test_second_entry_match_checks_the_record(double_night: Day) -> None:
    await double_night.channel.say(CHIEF_01, GOOD_QH)
    first = await double_night.channel.say(CHIEF_01, "đúng")
    assert first.reason == RecordReason.AWAITING_SECOND_ENTRY
    [record] = await records(double_night, "02752-01")
    assert not record.checked
    await double_night.channel.say(SECRETARY_01, GOOD_QH)
    second = await double_night.channel.say(SECRETARY_01, "đúng")
    assert second.reason == RecordReason.SECOND_ENTRY_MATCHED
    [record] = await records(double_night, "02752-01")
    assert record.checked
    totals = await double_night.core.db.results.totals("QH-LC-2")
    assert totals is not None and totals.areas_checked == 1 and totals.areas_reported == 1


async def test_second_entry_mismatch_tells_both_which_fields_differ(double_night: Day) -> None:
    await double_night.channel.say(CHIEF_01, GOOD_QH)
    await double_night.channel.say(CHIEF_01, "đúng")
    other = GOOD_QH.replace("1) 200 2) 180", "1) 180 2) 200")
    await double_night.channel.say(SECRETARY_01, other)
    second = await double_night.channel.say(SECRETARY_01, "đúng")
    assert second.status is Status.WARNED and second.reason == RecordReason.SECOND_ENTRY_DIFFERS
    [to_first] = second.sends
    assert to_first.to == address(CHIEF_01)
    [record] = await records(double_night, "02752-01")
    assert not record.checked
    assert await double_night.core.db.results_intake.conflicts([record.id]) == {record.id}
    [entry] = await double_night.core.db.results_intake.second_entries_of_area("02752-01")
    assert entry.differing == ("votes",)
    history = await double_night.channel.say(SUPERVISOR, "/lichsu kq 02752-01")
    assert "chưa khớp" in history.texts[0]


# -- notices -------------------------------------------------------------------------------------

GROUP = -500


async def test_a_completed_unit_and_ballot_are_told_once(night: Day) -> None:
    follow = await night.channel.say(SUPERVISOR, "/theodoi 02752", group=GROUP)
    assert follow.ok
    await night.channel.say(CHIEF_01, GOOD_XA)
    first = await night.channel.say(CHIEF_01, "đúng")
    assert first.sends == ()  # 02752-08 has not reported yet
    xa_08 = "KQ xã\nbp 260, pr 260, tv 260\nhl 258, khl 2\n210 200 140 90 60"
    await night.channel.say(CHIEF_08, xa_08)
    second = await night.channel.say(CHIEF_08, "đúng")
    [unit_notice] = second.sends
    assert unit_notice.to == address(GROUP)
    assert isinstance(unit_notice.content, Text) and "trúng cử" in unit_notice.content.body
    # a correction later changes numbers, not completeness: nobody is told again
    await night.channel.say(CHIEF_08, "sửa " + xa_08)
    assert (await night.channel.say(CHIEF_08, "đúng")).sends == ()


async def test_every_reply_of_the_flow_fits_a_text_message(night: Day) -> None:
    answers = [
        await night.channel.say(CHIEF_01, GOOD_QH.replace("khl 5", "khl 6")),
        await night.channel.say(CHIEF_01, GOOD_QH),
        await night.channel.say(CHIEF_01, "đúng"),
        await night.channel.say(CHIEF_01, "đúng"),
        await night.channel.say(CHIEF_01, GOOD_QH),
        await night.channel.send_file(CHIEF_01, "a.jpg", PNG, caption="kq qh"),
    ]
    for answer in answers:
        for reply in answer.replies:
            assert reply.brief is not None, reply
            limit = 3 * 153 if reply.reason == RecordReason.AWAITING_CONFIRMATION else 160
            assert len(reply.brief.body) <= limit, reply.brief.body
            assert to_sms(reply.brief) is not None




async def test_the_bot_process_sweeps_expired_records_on_a_schedule(night: Day) -> None:
    from handlers.run import _schedules

    jobs = {name: job for name, _, job in _schedules(night.core, night.channel.switchboard)}
    sweep = jobs["counting records awaiting confirmation"]
    await night.channel.say(CHIEF_01, GOOD_QH)
    night.clock.set(20, 45)
    await sweep()
    assert "30 phút" in night.channel.texts_to(CHIEF_01)[-1]
