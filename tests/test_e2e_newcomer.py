"""What a newcomer meets in the chat (issue 11 §4): each person is told their own role, a
file sent without its caption gets a hint, a reminder with nobody to remind says so, and the
audit log names people in Vietnamese. The real bot against the sandbox."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot import texts
from bot.registration.identities import Admins
from handlers.telegram.render import to_html
from sandbox import BotApiSandbox
from tests.harness import ADMIN_ID, DATA, BotRun, at, make_run

SMALL = (DATA / "small_tree.csv").read_bytes()
CHIEF, SUPERVISOR, STRANGER = 101, 201, 301
CHIEF_PHONE, SUPERVISOR_PHONE = "0912345001", "0912000002"  # KV01; X1 (Xã Pha Long)


@pytest.fixture
async def imported(bot: BotRun) -> BotRun:
    assert (await bot.import_units(SMALL)).startswith("✅")
    return bot


async def test_a_supervisor_is_told_a_supervisors_commands_not_how_to_report(
    imported: BotRun,
) -> None:
    [reply] = await imported.share_contact(imported.user(SUPERVISOR), SUPERVISOR_PHONE)
    assert reply.startswith("✅") and "Xã Pha Long (X1)" in reply
    assert "Cán bộ giám sát" in reply
    for command in ("/tonghop", "/chuabaocao", "/nhacnho", "/lichsu", "/xuat"):
        assert command in reply, command
    assert "Tổ trưởng" not in reply and "250/320 9h" not in reply  # the chief's instructions


async def test_a_chief_is_told_how_to_report_and_nothing_of_supervisors(imported: BotRun) -> None:
    [reply] = await imported.share_contact(imported.user(CHIEF), CHIEF_PHONE)
    assert reply.startswith("✅") and "Tổ trưởng" in reply and "(KV01)" in reply
    assert "250/320 9h" in reply and "/chuabaocao" not in reply


async def test_start_pitches_registration_only_to_newcomers(imported: BotRun) -> None:
    [pitch] = await imported.say(imported.user(STRANGER), "/start")
    assert pitch.text == to_html(texts.start(contact_button=True))
    assert [[b.get("request_contact") for b in row] for row in pitch.button_rows()] == [[True]]

    chief = imported.user(CHIEF, "Lò Văn Sáng")
    await imported.share_contact(chief, CHIEF_PHONE)
    [known] = await imported.say(chief, "/start")
    assert known.text is not None and "đã đăng ký" in known.text
    assert "Lò Văn Sáng" in known.text and "(KV01)" in known.text
    assert "Gửi số điện thoại" not in known.text and known.button_rows() == []

    [admin] = await imported.say(imported.user(ADMIN_ID), "/start")
    assert admin.text is not None and "quản trị viên" in admin.text and "/nhap" in admin.text
    assert admin.button_rows() == []


async def test_start_shows_the_id_to_make_an_admin_while_there_is_none(
    sandbox: BotApiSandbox, tmp_path: Path
) -> None:
    token = sandbox.create_bot()
    run = make_run(sandbox, token, tmp_path / "x.db")
    run.settings = run.settings.model_copy(update={"admins": Admins()})
    await run.start()
    try:
        [pitch] = await run.say(run.user(4242), "/start")
    finally:
        await run.stop()
    newcomer = to_html(texts.start(contact_button=True))
    assert pitch.text is not None and pitch.text.startswith(newcomer)
    assert "4242" in pitch.text and "FIELDTALLY_ADMINS" in pitch.text


async def test_a_file_without_the_import_caption_gets_a_hint_and_changes_nothing(
    bot: BotRun,
) -> None:
    admin = bot.user(ADMIN_ID)
    [hint] = await bot.send_file(admin, "units.csv", SMALL, caption=None)
    assert hint.text is not None and hint.text.startswith("❌") and "/nhap" in hint.text
    assert bot.query("SELECT count(*) FROM units") == [(0,)]
    [typo] = await bot.send_file(admin, "units.csv", SMALL, caption="nhap")
    assert typo.text == hint.text
    # Anyone else sending a file is told the bot reads text messages.
    [other] = await bot.send_file(bot.user(STRANGER), "units.csv", SMALL, caption=None)
    assert other.text == texts.TEXT_ONLY


async def test_remind_with_nobody_registered_says_there_is_nobody(imported: BotRun) -> None:
    admin = imported.user(ADMIN_ID)
    [answer] = await imported.texts_of(admin, "/nhacnho X1")
    assert not answer.startswith("✅") and "tới 0" not in answer
    assert "Không có ai để nhắc" in answer and "KV01" in answer and "4 khu vực" in answer
    assert not [r for r in imported.sandbox.outgoing(imported.token) if "⏰" in (r.text or "")]


async def test_remind_when_every_area_reported_needs_nobody(imported: BotRun) -> None:
    chief = imported.user(CHIEF)
    await imported.share_contact(chief, "+84912345005")  # KV05, the only area of X2
    assert (await imported.texts_of(chief, "100/250 9h", date=at(9)))[0].startswith("✅")
    [answer] = await imported.texts_of(imported.user(ADMIN_ID), "/nhacnho X2")
    assert answer.startswith("✅") and "Không cần nhắc" in answer and "đã báo cáo" in answer


async def test_the_audit_log_names_people_and_groups_in_vietnamese(imported: BotRun) -> None:
    admin = imported.user(ADMIN_ID, "Chị Hoa")
    group = -100500
    imported.sandbox.make_group(group, "Ban bầu cử xã Pha Long")
    await imported.texts_of(admin, "/phancong KV05 0912999888")
    await imported.say_in(group, admin, "/theodoi X1")
    await imported.say_in(group, admin, "/huytheodoi")
    [log] = await imported.texts_of(admin, "/nhatky")
    lines = log.splitlines()[1:]
    assert [line.split(" · ")[2].split(":")[0] for line in lines] == [
        "nhóm dừng theo dõi",
        "nhóm theo dõi",
        "phân công",
        "nhập danh sách",
    ]
    assert all(" · Chị Hoa · " in line for line in lines)
    assert "X1 → nhóm «Ban bầu cử xã Pha Long»" in log
    assert "X1 ✕ nhóm «Ban bầu cử xã Pha Long»" in log
    assert "9 đơn vị (thêm 9, cập nhật 0, bỏ 0)" in log
    assert str(group) not in log and f"· {ADMIN_ID} ·" not in log  # no raw ids
    assert "chat" not in log and " units " not in log  # Vietnamese throughout
