"""Hostile and clumsy input end to end: floods, oversized messages, forged button presses."""

from __future__ import annotations

from bot.messaging.flood import BURST
from bot.turnout.intake import MAX_MESSAGE_CHARS, MAX_REPORTS_PER_MESSAGE
from tests.harness import ADMIN_ID, DATA, BotRun, at


async def registered_chief(bot: BotRun) -> int:
    assert (await bot.import_units((DATA / "small_tree.csv").read_bytes())).startswith("✅")
    chief = bot.user(101)
    assert (await bot.share_contact(chief, "0912345001"))[0].startswith("✅")
    return chief.id


def stored(bot: BotRun) -> int:
    return int(bot.query("SELECT count(*) FROM reports")[0][0])


async def test_a_flood_is_refused_once_then_ignored_and_resends_are_free(bot: BotRun) -> None:
    chief_id = await registered_chief(bot)
    chief = bot.user(chief_id)
    since = bot.sandbox.outgoing(bot.token)[-1].seq + 1
    # Twice the burst: the allowance refills one message a second, so however slowly a busy
    # machine handles the flood (under 40 s), it runs out before the flood ends. "06h…": the
    # leading zero says morning (a bare "6h" sent at 20:00 is asked about: 06:00 or 18:00).
    texts = [f"{n + 1}/320 {6 + n // 60:02d}h{n % 60:02d}" for n in range(2 * BURST)]
    text_of = {}
    for text in texts:
        message = bot.sandbox.send_text(bot.token, chief, text, date=at(20))
        text_of[message["message_id"]] = text
    [refusal] = await bot.sandbox.wait_for(
        bot.token, lambda r: "quá nhiều tin" in (r.text or ""), chat_id=chief.id, since=since
    )
    # The chat is handled in order, so once the refusal is out, the reports admitted before
    # it are known; a phone resending the last of them is answered (as a repeat), not
    # punished.
    admitted = [
        text_of[(r.reply_parameters or {}).get("message_id")]
        for r in bot.sandbox.outgoing(bot.token, chief.id)
        if since <= r.seq < refusal.seq and (r.text or "").startswith("✅")
    ]
    resend = bot.sandbox.send_text(bot.token, chief, admitted[-1], date=at(20))
    await bot.sandbox.wait_for(
        bot.token,
        lambda r: (r.reply_parameters or {}).get("message_id") == resend["message_id"],
        chat_id=chief.id, since=since,
    )  # fmt: skip
    # The resend came after the whole flood, so every message of it has been handled now.
    answers = [r for r in bot.sandbox.outgoing(bot.token, chief.id) if r.seq >= since]
    everything = [r.text or "" for r in answers]
    assert sum("quá nhiều tin" in t for t in everything) == 1  # refused once, then ignored
    assert len(everything) < len(texts)  # the rest of the flood got no answers
    assert everything[-1].startswith("✅") and "không tính thêm" in everything[-1]
    accepted = [
        r for r in answers
        if (r.text or "").startswith("✅") and (r.reply_parameters or {}).get("message_id")
        in text_of
    ]  # fmt: skip
    assert stored(bot) == len(accepted)  # what was answered ✅ is what was stored


async def test_oversized_messages_are_refused_whole(bot: BotRun) -> None:
    chief = bot.user(await registered_chief(bot))
    [too_long] = await bot.texts_of(chief, "250/320 9h " + "x" * MAX_MESSAGE_CHARS)
    assert too_long.startswith("❌") and "quá dài" in too_long
    many = "\n".join(f"{n}/320 9h{n:02d}" for n in range(MAX_REPORTS_PER_MESSAGE + 1))
    [too_many] = await bot.texts_of(chief, many)
    assert too_many.startswith("❌") and str(MAX_REPORTS_PER_MESSAGE) in too_many
    assert stored(bot) == 0


async def test_a_forged_button_press_is_refused_and_changes_nothing(bot: BotRun) -> None:
    chief = bot.user(await registered_chief(bot))
    [reply] = await bot.say(chief, "250/320 9h")
    assert reply.message_id is not None
    stranger = bot.user(999)
    query_id = bot.sandbox.send_callback_query(
        bot.token, stranger, reply.message_id, "khoa:X1", chat_id=chief.id
    )
    call = await bot.sandbox.wait_for_call(
        bot.token, "answerCallbackQuery", lambda c: c.params.get("callback_query_id") == query_id
    )
    assert str(call.params.get("text", "")).startswith("❌")
    [still_open] = await bot.texts_of(chief, "260/320 10h")
    assert still_open.startswith("✅")  # nothing was locked


async def test_admin_actions_are_in_the_audit_log(bot: BotRun) -> None:
    await registered_chief(bot)
    admin = bot.user(ADMIN_ID, "Chị Hoa")
    await bot.texts_of(admin, "/phancong KV05 0912999888")
    await bot.texts_of(admin, "/khoa X1")
    await bot.texts_of(admin, "/mokhoa X1")
    [log] = await bot.texts_of(admin, "/nhatky")
    lines = log.splitlines()[1:]
    assert [line.split(" · ")[2].split(":")[0] for line in lines] == [
        "mở khóa",
        "khóa",
        "phân công",
        "nhập danh sách",
    ]
    assert "KV05 ← +84912999888" in log and "small_tree.csv" not in log  # sent as units.csv
    # The admin never registered a phone: shown by the name they write under, not their id.
    assert all(" · Chị Hoa · " in line for line in lines), lines
