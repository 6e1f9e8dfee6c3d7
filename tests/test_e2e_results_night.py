"""End to end over real HTTP against the Telegram sandbox: a whole results night (RESULTS.md,
"The counting record, in the chat"), on a 2021 tree (province, district, communes: 4 ballots)
and on a 2026 tree (province and communes: 3 ballots).

The admin imports the units and the three ballot files with `/nhap`; a supervisor has a group
follow the province; every chief sends a counting record per ballot, gets it read back with
the `Đúng` / `Hủy` buttons and presses `Đúng`. Along the way one record is refused, one is
corrected and one photo of a signed record is kept. The night ends with every electoral unit
complete, the stored totals equal to the sum of the records, and the group told once per
electoral unit and once per ballot.

Waiting is on the bot's answers (the sandbox's records), never on time. The usual
`/huongdan` barrier of `BotRun.say` would drop a record awaiting confirmation (any other
message does), so the flow waits on the answer it expects instead."""

from __future__ import annotations

import json
import struct
import zlib
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from sandbox import OutgoingRecord, SimUser
from tests.harness import ADMIN_ID, PATIENCE, BotRun, at

GROUP = -100777
SUPERVISOR, SUPERVISOR_PHONE = 900, "+84912000009"


@dataclass(frozen=True)
class Night:
    """A small election: its units file, its three ballot files, and the areas' chiefs."""

    units: str
    electoral_units: str
    candidates: str
    area_ballots: str
    chiefs: dict[str, tuple[int, str]]  # area → (user id, phone)
    lists: dict[str, int]  # area → registered voters


AREAS_2021 = {"X1-01": (301, "0912100001"), "X1-02": (302, "0912100002"),
              "X2-01": (303, "0912100003")}  # fmt: skip
LISTS = {"X1-01": 300, "X1-02": 280, "X2-01": 320}

NIGHT_2021 = Night(
    units=(
        "code,parent_code,kind,name,registered_voters,staff,contact_phones\n"
        f"T,,tỉnh,Tỉnh Thử,,,{SUPERVISOR_PHONE}\n"
        "H,T,huyện,Huyện Thử,,,\n"
        "X1,H,xã,Xã Một,,,\n"
        "X1-01,X1,khu vực bỏ phiếu,Khu vực bỏ phiếu số 1,300,10,0912100001\n"
        "X1-02,X1,khu vực bỏ phiếu,Khu vực bỏ phiếu số 2,280,10,0912100002\n"
        "X2,H,xã,Xã Hai,,,\n"
        "X2-01,X2,khu vực bỏ phiếu,Khu vực bỏ phiếu số 1,320,10,0912100003\n"
    ),
    electoral_units=(
        "ballot,code,name,seats,organizing_unit\n"
        "qh,QH-1,Đơn vị bầu cử số 1,2,T\n"
        "tinh,TI-1,Đơn vị bầu cử số 1,2,T\n"
        "huyen,HU-1,Đơn vị bầu cử số 1,2,H\n"
        "xa,XA-1,Đơn vị bầu cử số 1 – Xã Một,2,X1\n"
        "xa,XA-2,Đơn vị bầu cử số 1 – Xã Hai,2,X2\n"
    ),
    candidates="ballot,electoral_unit,number,name,birth_date\n"
    + "".join(
        f"{ballot},{unit},{n},{name} {n},19{60 + n}-0{n}-1{n}\n"
        for ballot, unit, k, name in (
            ("qh", "QH-1", 4, "Nguyễn Văn An"),
            ("tinh", "TI-1", 3, "Trần Thị Bình"),
            ("huyen", "HU-1", 3, "Lê Văn Cường"),
            ("xa", "XA-1", 3, "Phạm Thị Dung"),
            ("xa", "XA-2", 3, "Hoàng Văn Em"),
        )
        for n in range(1, k + 1)
    ),
    area_ballots="area_code,ballot,electoral_unit,registered_voters\n"
    + "".join(
        f"{area},{ballot},{unit},\n"
        for area in AREAS_2021
        for ballot, unit in (("qh", "QH-1"), ("tinh", "TI-1"), ("huyen", "HU-1"))
    )
    + "X1-01,xa,XA-1,\nX1-02,xa,XA-1,\nX2-01,xa,XA-2,\n",
    chiefs=AREAS_2021,
    lists=LISTS,
)

# 2026: no districts, three ballots.
NIGHT_2026 = Night(
    units=(
        "code,parent_code,kind,name,registered_voters,staff,contact_phones\n"
        f"T,,tỉnh,Tỉnh Thử,,,{SUPERVISOR_PHONE}\n"
        "X1,T,xã,Xã Một,,,\n"
        "X1-01,X1,khu vực bỏ phiếu,Khu vực bỏ phiếu số 1,300,10,0912100001\n"
        "X1-02,X1,khu vực bỏ phiếu,Khu vực bỏ phiếu số 2,280,10,0912100002\n"
        "X2,T,xã,Xã Hai,,,\n"
        "X2-01,X2,khu vực bỏ phiếu,Khu vực bỏ phiếu số 1,320,10,0912100003\n"
    ),
    electoral_units="\n".join(
        line for line in NIGHT_2021.electoral_units.splitlines() if not line.startswith("huyen")
    )
    + "\n",
    candidates="\n".join(
        line for line in NIGHT_2021.candidates.splitlines() if not line.startswith("huyen")
    )
    + "\n",
    area_ballots="\n".join(
        line for line in NIGHT_2021.area_ballots.splitlines() if ",huyen," not in line
    )
    + "\n",
    chiefs=AREAS_2021,
    lists=LISTS,
)

BALLOT_WORDS = {"qh": "QH", "tinh": "HĐND tỉnh", "huyen": "huyện", "xa": "xã"}


def record_text(ballot: str, listed: int, k: int, shift: int, *, correction: bool = False) -> str:
    """A record whose numbers add up for 2 seats: every voter's ballot returned, 3 spoiled,
    votes falling by a fifth of the valid ballots per candidate."""
    voted = listed - 20 - shift
    valid = voted - 3
    votes = [valid * (8 - 2 * i) // 10 for i in range(k)]
    head = ("sửa " if correction else "") + f"KQ {BALLOT_WORDS[ballot]}"
    return f"{head}\nbp {voted}, pr {voted}, tv {voted}\nhl {valid}, khl 3\n" + " ".join(
        f"{n}) {v}" for n, v in enumerate(votes, start=1)
    )


def tiny_png() -> bytes:
    """A 1×1 PNG, as a phone's photo would be a JPEG: what the sandbox recognises."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


async def answer_to(
    bot: BotRun, user: SimUser, send: Callable[[], object], wanted: Callable[[str], bool]
) -> OutgoingRecord:
    """Do `send` and wait for the bot's answer in the user's chat that `wanted` accepts."""
    everything = bot.sandbox.outgoing(bot.token)
    since = everything[-1].seq + 1 if everything else 0
    send()
    [record] = await bot.sandbox.wait_for(
        bot.token,
        lambda r: wanted(r.text or r.caption or ""),
        chat_id=user.id,
        since=since,
        timeout=PATIENCE,
    )
    return record


async def confirmed(bot: BotRun, user: SimUser, text: str) -> str:
    """Send a record, press `Đúng` under its read-back; the ✅ answer's text."""
    read_back = await answer_to(
        bot,
        user,
        lambda: bot.sandbox.send_text(bot.token, user, text, date=at(21, 0)),
        lambda body: "Chưa lưu." in body or body.startswith("❌"),
    )
    assert read_back.message is not None
    markup = read_back.message.get("reply_markup") if isinstance(read_back.message, dict) else None
    assert markup is not None, read_back.text  # the read-back has its buttons
    [[yes, no]] = markup["inline_keyboard"]
    assert (yes["text"], no["text"]) == ("Đúng", "Hủy")
    assert read_back.message_id is not None
    stored = await answer_to(
        bot,
        user,
        lambda: bot.sandbox.send_callback_query(
            bot.token, user, read_back.message_id or 0, yes["callback_data"]
        ),
        lambda body: body.startswith("✅"),
    )
    return stored.text or ""


async def whole_night(bot: BotRun, night: Night) -> None:
    assert (await bot.import_units(night.units.encode())).startswith("✅")
    admin = bot.user(ADMIN_ID, "Quản trị")
    for name in ("electoral_units", "candidates", "area_ballots"):
        [reply] = await bot.send_file(admin, f"{name}.csv", getattr(night, name).encode())
        assert (reply.text or "").startswith(("✅", "⚠️")), reply.text
    supervisor = bot.user(SUPERVISOR, "Giám sát")
    await bot.share_contact(supervisor, SUPERVISOR_PHONE)
    followed = await bot.say_in(GROUP, supervisor, "/theodoi T")
    assert (followed[0].text or "").startswith("✅")
    chiefs = {area: bot.user(uid, "Tổ trưởng") for area, (uid, _) in night.chiefs.items()}
    for area, (_, phone) in night.chiefs.items():
        await bot.share_contact(chiefs[area], phone)

    ballots = [line.split(",")[0] for line in night.electoral_units.splitlines()[1:]]
    ballots = list(dict.fromkeys(ballots))
    k_of = {"qh": 4, "tinh": 3, "huyen": 3, "xa": 3}
    first_area = next(iter(chiefs))
    chief = chiefs[first_area]

    # A refused record: valid + invalid ≠ returned; nothing kept, and no buttons.
    bad = record_text("qh", night.lists[first_area], 4, 0).replace("khl 3", "khl 4")
    refused = await answer_to(
        bot,
        chief,
        lambda: bot.sandbox.send_text(bot.token, chief, bad, date=at(21, 0)),
        lambda body: body.startswith("❌"),
    )
    assert "lệch 1" in (refused.text or "")

    # A photo of the signed record before the record: kept, waiting for it.
    photo = await answer_to(
        bot,
        chief,
        lambda: bot.sandbox.send_photo(bot.token, chief, tiny_png(), caption="kq qh"),
        lambda body: body.startswith("✅"),
    )
    assert "Đã lưu ảnh biên bản" in (photo.text or "")

    for shift, (area, user) in enumerate(chiefs.items()):
        for ballot in ballots:
            text = record_text(ballot, night.lists[area], k_of[ballot], shift)
            assert "Đã lưu" in await confirmed(bot, user, text)

    # A correction: the whole record again, read back, confirmed; the old one stays.
    fixed = record_text("qh", night.lists[first_area], 4, 1, correction=True)
    assert "thay biên bản" in await confirmed(bot, chief, fixed)

    # Every electoral unit complete; the totals are the sums of the current records.
    units = bot.query("SELECT code, areas_mapped, areas_reported, valid, voted FROM"
                      " electoral_unit_totals ORDER BY code")  # fmt: skip
    assert len(units) == len(night.electoral_units.splitlines()) - 1
    assert all(mapped == reported > 0 for _, mapped, reported, _, _ in units)
    sums: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    votes: dict[tuple[str, int], int] = defaultdict(int)
    for unit, valid, voted, vote_list in bot.query(
        "SELECT electoral_unit, valid, voted, votes FROM result_records WHERE replaced_by IS NULL"
    ):
        sums[unit][0] += valid
        sums[unit][1] += voted
        for n, v in enumerate(json.loads(vote_list), start=1):
            votes[(unit, n)] += v
    assert {code: [valid, voted] for code, _, _, valid, voted in units} == dict(sums)
    stored_votes = bot.query("SELECT electoral_unit, number, votes FROM candidate_totals")
    assert {(u, n): v for u, n, v in stored_votes} == dict(votes)
    assert len(bot.query("SELECT id FROM result_records WHERE replaced_by IS NOT NULL")) == 1
    [(photo_record,)] = bot.query("SELECT record_id FROM record_photos")
    assert photo_record is not None  # joined its record once that came

    # The group was told once per electoral unit and once per ballot.
    notices = [
        r.text or ""
        for r in bot.sandbox.outgoing(bot.token, GROUP)
        if "đã đủ biên bản kết quả" in (r.text or "")
    ]
    per_unit = [n for n in notices if n.startswith("🗳️ Đơn vị bầu cử")]
    per_ballot = [n for n in notices if n.startswith("🗳️ Tất cả")]
    assert len(per_unit) == len(units) and len(per_ballot) == len(ballots)


@pytest.mark.parametrize("night", [NIGHT_2021, NIGHT_2026], ids=["2021", "2026"])
async def test_a_whole_results_night_through_telegram(bot: BotRun, night: Night) -> None:
    await whole_night(bot, night)
