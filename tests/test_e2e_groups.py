"""End to end: groups subscribed to a unit get scheduled summaries with charts, exactly one
"all finished" notice, and keep their subscription across a restart of the bot.

Only the tests of the pushes run the bot with a summary every 2 s (`pushing`); a push may
then land between any message and its answer, so those tests look for answers among what
the group got. The others (`watched`) have no pushes, and read exact answers."""

from __future__ import annotations

import struct
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from handlers.telegram.polling import PatientRateLimiter
from handlers.telegram.settings import TelegramSettings
from sandbox import BotApiSandbox, OutgoingRecord
from tests.harness import ADMIN_ID, DATA, PATIENCE, BotRun, at, make_run

GROUP = -100200
CHIEFS = {101: "0912345001", 102: "0912345002", 103: "0912345003", 105: "0912345005"}


def png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    return width, height


async def start(sandbox: BotApiSandbox, token: str, db: Path, *, pushes: bool) -> BotRun:
    extra = {"FIELDTALLY_SUMMARY_EVERY": "2s"} if pushes else {}
    run = make_run(sandbox, token, db, **extra)
    await run.start()
    return run


async def set_up_groups(
    sandbox: BotApiSandbox, tmp_path: Path, *, pushes: bool
) -> AsyncIterator[BotRun]:
    token = sandbox.create_bot()
    run = await start(sandbox, token, tmp_path / "groups.db", pushes=pushes)
    try:
        assert (await run.import_units((DATA / "small_tree.csv").read_bytes())).startswith("✅")
        for user_id, phone in CHIEFS.items():
            assert (await run.share_contact(run.user(user_id), phone))[0].startswith("✅")
        sandbox.make_group(GROUP, "Ban bầu cử huyện Mường Khương")
        yield run
    finally:
        await run.stop()


@pytest.fixture
async def watched(sandbox: BotApiSandbox, tmp_path: Path) -> AsyncIterator[BotRun]:
    """The bot with registered chiefs and a group, without scheduled summaries."""
    async for run in set_up_groups(sandbox, tmp_path, pushes=False):
        yield run


@pytest.fixture
async def pushing(sandbox: BotApiSandbox, tmp_path: Path) -> AsyncIterator[BotRun]:
    """The same, with a summary to each subscribed group every 2 seconds."""
    async for run in set_up_groups(sandbox, tmp_path, pushes=True):
        yield run


def the_answer(records: list[OutgoingRecord], mark: str) -> OutgoingRecord:
    """The one answer starting with `mark` among what a group got (pushes may interleave)."""
    [answer] = [r for r in records if (r.text or "").startswith(mark)]
    return answer


def summaries(records: list[OutgoingRecord]) -> list[OutgoingRecord]:
    return [r for r in records if r.text is not None and r.text.startswith("📊")]


async def test_subscribed_group_gets_scheduled_summaries_with_charts(pushing: BotRun) -> None:
    watched = pushing
    admin = watched.user(ADMIN_ID)
    reply = the_answer(await watched.say_in(GROUP, admin, "/theodoi MK"), "✅")
    assert reply.text is not None and "MK" in reply.text
    first = watched.sandbox.outgoing(watched.token)[-1].seq + 1
    pushed = await watched.sandbox.wait_for(
        watched.token,
        lambda r: len(summaries(watched.sandbox.outgoing(watched.token, GROUP))) >= 2,
        chat_id=GROUP,
        since=first,
        timeout=PATIENCE,
    )
    assert pushed
    records = [r for r in watched.sandbox.outgoing(watched.token, GROUP) if r.seq >= first]
    texts = summaries(records)
    assert "Huyện Mường Khương (MK)" in (texts[0].text or "")
    photos = [r for r in records if r.method == "sendPhoto"]
    assert len(photos) >= 2  # by commune and over the day, each push
    assert photos[0].photo is not None
    assert png_size(photos[0].photo.content)[0] == 1080
    # The same chart is uploaded once and then reused: Telegram file_ids, not new uploads.
    uploads = [c for c in watched.sandbox.calls(watched.token, "sendPhoto") if c.files]
    assert len(uploads) <= len(photos)


async def test_all_finished_notice_is_sent_exactly_once(watched: BotRun) -> None:
    admin = watched.user(ADMIN_ID)
    await watched.say_in(GROUP, admin, "/theodoi X1")  # KV01–KV04
    finals = {101: "xong 12h 300/320", 102: "xong 12h 1.800/2.000", 105: "xong 12h 200/250"}
    for user_id, text in finals.items():
        assert (await watched.texts_of(watched.user(user_id), text))[0].startswith("✅")
    kv03_kv04 = watched.user(103)
    assert (await watched.texts_of(kv03_kv04, "KV03: xong 13h 400/500"))[0].startswith("✅")
    notices = [r for r in watched.sandbox.outgoing(watched.token, GROUP) if "🎉" in (r.text or "")]
    assert notices == []  # KV04 is still voting
    assert (await watched.texts_of(kv03_kv04, "KV04: xong 13h30 390/400"))[0].startswith("✅")
    # a later correction finishes nothing new: no second notice
    assert (await watched.texts_of(kv03_kv04, "KV04: sửa xong 13h30 395/400"))[0].startswith("✅")
    await watched.say_in(GROUP, admin, "/huongdan")  # the group's updates are all handled
    notices = [r for r in watched.sandbox.outgoing(watched.token, GROUP) if "🎉" in (r.text or "")]
    assert len(notices) == 1
    assert "4 khu vực" in (notices[0].text or "") and "Xã Pha Long (X1)" in (notices[0].text or "")


async def test_subscription_survives_a_restart(sandbox: BotApiSandbox, tmp_path: Path) -> None:
    token = sandbox.create_bot()
    db = tmp_path / "restart.db"
    run = await start(sandbox, token, db, pushes=True)
    try:
        await run.import_units((DATA / "small_tree.csv").read_bytes())
        sandbox.make_group(GROUP, "Nhóm xã")
        ok = the_answer(await run.say_in(GROUP, run.user(ADMIN_ID), "/theodoi X2"), "✅")
        assert ok.text is not None and "X2" in ok.text
    finally:
        await run.stop()
    since = sandbox.outgoing(token)[-1].seq + 1
    again = await start(sandbox, token, db, pushes=True)
    try:
        pushed = await sandbox.wait_for(
            token,
            lambda r: (r.text or "").startswith("📊"),
            chat_id=GROUP,
            since=since,
            timeout=PATIENCE,
        )
        assert "Xã Tả Ngải Chồ (X2)" in (pushed[0].text or "")
        answers = await again.say_in(GROUP, again.user(555), "/tonghop")
        # scheduled pushes may interleave: look for the summary among the answers
        assert any("(X2)" in (r.text or "") for r in summaries(answers))
    finally:
        await again.stop()


async def test_unsubscribe_stops_the_pushes(watched: BotRun) -> None:
    admin = watched.user(ADMIN_ID)
    await watched.say_in(GROUP, admin, "/theodoi MK")
    [stranger_refused] = await watched.say_in(GROUP, watched.user(777), "/huytheodoi")
    assert (stranger_refused.text or "").startswith("❌")
    [done] = await watched.say_in(GROUP, admin, "/huytheodoi")
    assert (done.text or "").startswith("✅")
    [again] = await watched.say_in(GROUP, admin, "/huytheodoi")
    assert (again.text or "").startswith("❌")
    [summary] = await watched.say_in(GROUP, watched.user(777), "/tonghop")
    assert (summary.text or "").startswith("❌") and "/theodoi" in (summary.text or "")


async def test_reminders_reach_registered_chiefs_of_unreported_areas(watched: BotRun) -> None:
    admin = watched.user(ADMIN_ID)
    assert (await watched.texts_of(watched.user(101), "250/320 9h", date=at(9)))[0][0] == "✅"
    [answer] = await watched.texts_of(admin, "/nhacnho X1")
    # KV02 (102) and KV03+KV04 (103) have not reported; KV01 has.
    assert answer.startswith("✅") and "2 tổ trưởng" in answer and "3 khu vực" in answer
    for chief, areas in ((102, ["KV02"]), (103, ["KV03", "KV04"])):
        [note] = [
            r for r in watched.sandbox.outgoing(watched.token, chief) if "⏰" in (r.text or "")
        ]
        assert all(code in (note.text or "") for code in areas)
    assert not [r for r in watched.sandbox.outgoing(watched.token, 101) if "⏰" in (r.text or "")]


async def test_menus_are_set_per_scope(watched: BotRun) -> None:
    private = watched.sandbox.commands(watched.token, {"type": "all_private_chats"})
    groups = watched.sandbox.commands(watched.token, {"type": "all_group_chats"})
    admin = watched.sandbox.commands(watched.token, {"type": "chat", "chat_id": ADMIN_ID})
    assert [c["command"] for c in private] == ["start", "huongdan", "tonghop"]
    assert "theodoi" in [c["command"] for c in groups]
    assert {"nhap", "khoa", "phancong", "xuat"} <= {c["command"] for c in admin}


async def test_a_429_on_a_push_is_waited_out_and_retried_not_dropped(pushing: BotRun) -> None:
    watched = pushing
    admin = watched.user(ADMIN_ID)
    the_answer(await watched.say_in(GROUP, admin, "/theodoi X2"), "✅")
    since = watched.sandbox.outgoing(watched.token)[-1].seq + 1
    watched.sandbox.inject_faults("sendMessage", 429, count=2, retry_after=1)
    pushed = await watched.sandbox.wait_for(
        watched.token,
        lambda r: (r.text or "").startswith("📊"),
        chat_id=GROUP,
        since=since,
        timeout=PATIENCE,
    )
    assert pushed
    refused = [c for c in watched.sandbox.calls(watched.token, "sendMessage") if c.status == 429]
    assert len(refused) == 2  # both were answered 429, and the summary still arrived


def test_telegrams_send_limits_apply_unless_a_setting_lifts_them() -> None:
    """20 messages a minute to one group and 30 a second in all, as Telegram documents; the
    settings change them (the permission matrix lifts the group limit to run in seconds)."""
    defaults = TelegramSettings(_env_file=None)  # type: ignore[call-arg]
    assert defaults.group_sends_per_minute == 20 and defaults.sends_per_second == 30
    limiter = PatientRateLimiter(defaults.sends_per_second, defaults.group_sends_per_minute)
    group = limiter._get_group_limiter(GROUP)
    assert (group.max_rate, group.time_period) == (20, 60)
    assert limiter._base_limiter is not None and limiter._base_limiter.max_rate == 30
    lifted = TelegramSettings(_env_file=None, FIELDTALLY_GROUP_SENDS_PER_MINUTE="0")  # type: ignore[call-arg]
    assert PatientRateLimiter(30, lifted.group_sends_per_minute)._group_max_rate == 0
