"""End to end over real HTTP against the Telegram sandbox: an admin hands out invitation codes
with `/moi` (a CSV document), and a person who cannot share a contact registers on Telegram with
`dk <code>` as typed words, then reports (issue 15 §2: codes work on Telegram too)."""

from __future__ import annotations

import csv
import io

from bot import texts
from tests.harness import ADMIN_ID, DATA, BotRun, at

SMALL = (DATA / "small_tree.csv").read_bytes()


async def test_a_person_registers_on_telegram_with_an_invitation_code(bot: BotRun) -> None:
    assert (await bot.import_units(SMALL)).startswith("✅")
    admin = bot.user(ADMIN_ID, "Quản trị")
    [answer] = await bot.say(admin, "/moi KV01")
    assert answer.document is not None and answer.document.filename.endswith(".csv")
    [row] = csv.DictReader(io.StringIO(answer.document.content.decode("utf-8-sig")))
    assert (row["unit_code"], row["phone"]) == ("KV01", "+84912345001")
    code = row["invitation_code"]

    chief = bot.user(601, "Nguyễn Thị Bình")
    [wrong] = await bot.texts_of(chief, "dk 2345ABCD" if code != "2345ABCD" else "dk 2345ABCE")
    assert wrong.startswith("❌")
    [registered] = await bot.texts_of(chief, f"dk {code.lower()}")
    assert registered.startswith("✅") and "Khu vực bỏ phiếu số 1 – Pha Long (KV01)" in registered
    # stored like a registration by contact, named as Telegram shows the person
    assert bot.query("SELECT identity, phone, name FROM people") == [
        ("telegram:601", "+84912345001", "Nguyễn Thị Bình")
    ]
    [used] = await bot.texts_of(bot.user(602), f"/dangky {code}")
    assert used == texts.INVITATION_USED
    [stored] = await bot.texts_of(chief, "250/320 9h", date=at(9, 1))
    assert stored.startswith("✅")
    assert bot.query("SELECT sender, voted FROM reports") == [("telegram:601", 250)]
