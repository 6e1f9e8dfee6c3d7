"""End to end: unit import by an admin's document, registration by contact, assignment, export."""

from __future__ import annotations

import csv
import io

import openpyxl

from tests.harness import ADMIN_ID, DATA, SAMPLE, BotRun

SMALL = (DATA / "small_tree.csv").read_bytes()


def unit_count(bot: BotRun) -> int:
    return int(bot.query("SELECT count(*) FROM units")[0][0])


async def test_admin_imports_units_by_document(bot: BotRun) -> None:
    reply = await bot.import_units(SMALL)
    assert reply.startswith("✅")
    assert "9 đơn vị" in reply and "5 khu vực" in reply and "3.470 cử tri" in reply
    assert unit_count(bot) == 9


async def test_import_sample_district(bot: BotRun) -> None:
    reply = await bot.import_units(SAMPLE.read_bytes())
    assert reply.startswith("✅")
    assert "157 đơn vị" in reply and "139 khu vực" in reply and "38.851 cử tri" in reply


async def test_non_admin_cannot_import(bot: BotRun) -> None:
    stranger = bot.user(500)
    [reply] = await bot.send_file(stranger, "units.csv", SMALL)
    assert reply.text is not None and reply.text.startswith("❌")
    assert "quản trị" in reply.text
    assert unit_count(bot) == 0


async def test_import_command_without_file_and_non_csv(bot: BotRun) -> None:
    admin = bot.user(ADMIN_ID)
    [reply] = await bot.texts_of(admin, "/nhap")
    assert reply.startswith("❌") and "/nhap" in reply
    [refused] = await bot.send_file(admin, "units.pdf", b"%PDF-1.4")
    assert refused.text is not None and refused.text.startswith("❌") and "CSV" in refused.text


BAD_FILES = {
    # each: file body, expected fragments in the reply (line and column named)
    "duplicate code": (
        "code,parent_code,kind,name,registered_voters\nA,,tỉnh,A,\nB,A,kv,B,10\nb,A,kv,B2,10\n",
        ["dòng 4", "«code»", "bị trùng"],
    ),
    "unknown parent": (
        "code,parent_code,kind,name,registered_voters\nA,,tỉnh,A,\nB,Z,kv,B,10\n",
        ["dòng 3", "«parent_code»", "«Z»"],
    ),
    "cycle": (
        "code,parent_code,kind,name,registered_voters\nR,,tỉnh,R,\nA,B,xã,A,\nB,A,xã,B,\n"
        "C,R,kv,C,5\n",
        ["dòng 3", "dòng 4", "vòng lặp"],
    ),
    "leaf without voters": (
        "code,parent_code,kind,name,registered_voters\nA,,tỉnh,A,\nB,A,kv,B,\n",
        ["dòng 3", "«registered_voters»", "thiếu số cử tri"],
    ),
    "negative count": (
        "code,parent_code,kind,name,registered_voters,staff\nA,,tỉnh,A,,\nB,A,kv,B,10,-3\n",
        ["dòng 3", "«staff»", "số âm"],
    ),
    "non-integer count": (
        "code,parent_code,kind,name,registered_voters\nA,,tỉnh,A,\nB,A,kv,B,12.5\n",
        ["dòng 3", "«registered_voters»", "«12.5»", "số nguyên"],
    ),
    "bad phone": (
        "code,parent_code,kind,name,registered_voters,contact_phones\nA,,tỉnh,A,,\n"
        "B,A,kv,B,10,12345\n",
        ["dòng 3", "«contact_phones»", "«12345»"],
    ),
    "missing column": (
        "code,parent_code,kind,registered_voters\nA,,tỉnh,\n",
        ["dòng 1", "«name»", "thiếu cột"],
    ),
}


async def test_each_bad_file_is_refused_with_line_and_column(bot: BotRun) -> None:
    assert (await bot.import_units(SMALL)).startswith("✅")
    before = await export_csv(bot)
    for label, (body, fragments) in BAD_FILES.items():
        reply = await bot.import_units(body.encode())
        assert reply.startswith("❌"), label
        assert "không có gì thay đổi" in reply, label
        for fragment in fragments:
            assert fragment in reply, (label, fragment, reply)
    assert unit_count(bot) == 9
    assert await export_csv(bot) == before


async def test_all_errors_of_a_file_are_listed_together(bot: BotRun) -> None:
    body = (
        "code,parent_code,kind,name,registered_voters,staff\n"
        "A,,tỉnh,A,,\nB,Z,kv,B,10,\nC,A,kv,C,,\nD,A,kv,D,5,x\n"
    )
    reply = await bot.import_units(body.encode())
    assert "Có 3 lỗi" in reply
    assert "dòng 3" in reply and "dòng 4" in reply and "dòng 5" in reply


async def test_reimport_updates_in_place_and_refuses_removing_reported_units(bot: BotRun) -> None:
    await bot.import_units(SMALL)
    chief = bot.user(101)
    await bot.share_contact(chief, "0912345001")
    [stored] = await bot.texts_of(chief, "250/320 9h")
    assert stored.startswith("✅")
    renamed = SMALL.decode().replace("Xã Pha Long", "Xã Pha Long (mới)")
    assert (await bot.import_units(renamed.encode())).startswith("✅")
    rows = await export_csv(bot)
    assert rows[2]["name"] == "Xã Pha Long (mới)"
    assert rows[3]["voted"] == "250"  # the report survived the re-import
    without_kv01 = "\n".join(
        line for line in SMALL.decode().splitlines() if not line.startswith("KV01,")
    )
    refused = await bot.import_units(without_kv01.encode())
    assert refused.startswith("❌") and "KV01" in refused
    assert unit_count(bot) == 9
    without_x2 = "\n".join(
        line for line in SMALL.decode().splitlines() if not line.startswith(("KV05,", "X2,"))
    )
    assert (await bot.import_units(without_x2.encode())).startswith("✅")
    assert unit_count(bot) == 7


async def test_registration_by_own_contact(bot: BotRun) -> None:
    await bot.import_units(SMALL)
    chief = bot.user(101, "Lan")
    [reply] = await bot.share_contact(chief, "84912345001")  # Telegram's own format
    assert reply.startswith("✅") and "KV01" in reply and "Khu vực bỏ phiếu số 1" in reply
    two_areas = bot.user(103)
    [reply] = await bot.share_contact(two_areas, "+84 912 345 003")
    assert reply.startswith("✅") and "KV03" in reply and "KV04" in reply


async def test_registration_refuses_someone_elses_contact_and_unknown_numbers(bot: BotRun) -> None:
    await bot.import_units(SMALL)
    somebody = bot.user(102)
    [reply] = await bot.share_contact(somebody, "0912345001", contact_user_id=999)
    assert reply.startswith("❌") and "chính mình" in reply
    [reply] = await bot.share_contact(somebody, "0987654321")
    assert reply.startswith("❌") and "+84987654321" in reply
    [reply] = await bot.texts_of(somebody, "250/320 9h")
    assert reply.startswith("❌") and "/start" in reply  # still not registered


async def test_start_offers_contact_button_and_help_explains(bot: BotRun) -> None:
    chief = bot.user(101)
    [start] = await bot.say(chief, "/start")
    assert start.text is not None and "250/320 9h" in start.text
    [[button]] = start.button_rows()
    assert button.get("request_contact") is True
    # /help answers what the harness barrier answers, so read it straight from the sandbox.
    since = start.seq + 2
    bot.sandbox.send_text(bot.token, chief, "/help")
    [help_reply] = await bot.sandbox.wait_for(bot.token, 1, chat_id=chief.id, since=since)
    assert help_reply.text is not None
    assert "xong 12h30" in help_reply.text and "XN 16/16 âm tính" in help_reply.text


async def test_admin_assigns_a_phone(bot: BotRun) -> None:
    await bot.import_units(SMALL)
    admin = bot.user(ADMIN_ID)
    chief = bot.user(106)
    [refused] = await bot.texts_of(chief, "/phancong KV05 0912999888")
    assert refused.startswith("❌")
    [usage] = await bot.texts_of(admin, "/phancong KV05")
    assert usage.startswith("❌") and "/phancong" in usage
    [unknown] = await bot.texts_of(admin, "/phancong KV99 0912999888")
    assert unknown.startswith("❌") and "KV99" in unknown
    [done] = await bot.texts_of(admin, "/phancong kv05 0912 999 888")
    assert done.startswith("✅") and "+84912999888" in done
    [registered] = await bot.share_contact(chief, "0912999888")
    assert registered.startswith("✅") and "KV05" in registered
    [stored] = await bot.texts_of(chief, "100/250 9h")
    assert stored.startswith("✅")


async def export_csv(bot: BotRun, args: str = "") -> list[dict[str, str]]:
    admin = bot.user(ADMIN_ID)
    [reply] = await bot.say(admin, f"/xuat {args}".strip())
    assert reply.document is not None, reply.summary()
    content = reply.document.content
    assert content[:3] == b"\xef\xbb\xbf"  # UTF-8 BOM: Excel on Windows reads the diacritics
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))


async def test_admin_imports_an_xlsx_unit_list(bot: BotRun) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in csv.reader(io.StringIO(SMALL.decode())):
        sheet.append([int(c) if c.isdigit() and len(c) < 6 else c for c in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    reply = await bot.import_units(buffer.getvalue(), filename="donvi.xlsx")
    assert reply.startswith("✅") and "9 đơn vị" in reply and "3.470 cử tri" in reply
    rows = await export_csv(bot)
    assert [r["code"] for r in rows] == [
        "LC",
        "MK",
        "X1",
        "KV01",
        "KV02",
        "KV03",
        "KV04",
        "X2",
        "KV05",
    ]
