"""Invitation codes (issue 15 §2), rule by rule, on the real core through the in-memory channel,
with the test's clock: how codes are drawn and read, how long they last, single use, reissue,
the lock-out after five wrong codes within an hour, and the code sent to the wrong bot.

What only a real round trip shows (registering with `dk …` on Telegram) is in
`test_e2e_invitations.py`; the files `fieldtally invites` writes in `test_invitation_files.py`.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import string
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core import Where
from bot.messaging.answers import Answer, Refusal, Status
from bot.messaging.commands import parse_text_command
from bot.messaging.content import Document
from bot.messaging.directory import BotEntry
from bot.registration.invitations import (
    ALPHABET,
    CODE_LENGTH,
    code_hash,
    expires_at,
    new_code,
    read_code,
)
from bot.turnout.intake import InboundText
from handlers.memory import CAPABILITIES, address
from tests.data.phrasing_corpus import CASES
from tests.harness import ADMIN_ID, ELECTION_DAY, at
from tests.memory import CHIEF_KV01, SUPERVISOR_X1, Day, open_day

NEWCOMER, OTHER = 301, 302  # people with no contact shared: they register by code
PHONE_KV01, PHONE_KV03_KV04, PHONE_KV05 = "+84912345001", "+84912345003", "+84912345005"


# -- the code itself ----------------------------------------------------------------------------


def test_codes_are_eight_characters_of_the_alphabet_without_look_alikes() -> None:
    assert set(ALPHABET).isdisjoint("01OIL") and len(set(ALPHABET)) == len(ALPHABET) == 31
    drawn = [new_code() for _ in range(2000)]
    assert all(len(code) == CODE_LENGTH and set(code) <= set(ALPHABET) for code in drawn)
    assert len(set(drawn)) == len(drawn)
    assert set("".join(drawn)) == set(ALPHABET)  # every character is drawn


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        ("K7M2QX9P", "K7M2QX9P"),
        ("k7m2qx9p", "K7M2QX9P"),
        ("K7m2-Qx9p", "K7M2QX9P"),
        (" k7m2 qx9p ", "K7M2QX9P"),
        ("K7M2QX9", None),  # seven characters
        ("K7M2QX9PP", None),  # nine
        ("K7M2QX9O", None),  # O is not in the alphabet (nor 0, 1, I, L)
        ("K7M2QX91", None),
        ("", None),
    ],
)
def test_reading_a_typed_code(typed: str, read: str | None) -> None:
    assert read_code(typed) == read


@given(
    st.text(alphabet=ALPHABET, min_size=CODE_LENGTH, max_size=CODE_LENGTH),
    st.lists(st.booleans(), min_size=CODE_LENGTH, max_size=CODE_LENGTH),
    st.sampled_from(["", " ", "-", " - "]),
)
def test_any_code_reads_back_whatever_the_case_and_separators(
    code: str, lower: list[bool], separator: str
) -> None:
    typed = "".join(c.lower() if low else c for c, low in zip(code, lower, strict=True))
    typed = typed[:4] + separator + typed[4:]
    assert read_code(typed) == code
    assert parse_text_command(f"dk {typed}") == ("dangky", [code.lower()])


@given(st.text(max_size=40))
def test_reading_never_yields_anything_but_a_code(text: str) -> None:
    read = read_code(text)
    assert read is None or (len(read) == CODE_LENGTH and set(read) <= set(ALPHABET))


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("dk K7M2QX9P", ("dangky", ["k7m2qx9p"])),
        ("DK k7m2qx9p", ("dangky", ["k7m2qx9p"])),
        ("đăng ký K7M2QX9P", ("dangky", ["k7m2qx9p"])),
        ("Đăng Ký: K7M2-QX9P", ("dangky", ["k7m2qx9p"])),
        ("dang ky K7M2QX9P", ("dangky", ["k7m2qx9p"])),
        ("dangky K7M2QX9P", ("dangky", ["k7m2qx9p"])),
        ("dk", ("dangky", [])),
        ("đăng ký", ("dangky", [])),
        # reports and sentences are never registrations
        ("250/320 9h", None),
        ("xong 12h30", None),
        ("KV05: 250/320 9h", None),
        ("đăng ký giúp tôi với, tôi là tổ trưởng khu vực số 5", None),
        ("dkK7M2QX9P", None),
    ],
)
def test_registration_typed_as_words(text: str, parsed: tuple[str, list[str]] | None) -> None:
    assert parse_text_command(text) == parsed


LOCAL = dt.timezone(dt.timedelta(hours=7))


@pytest.mark.parametrize(
    ("issued", "election", "until"),
    [
        # the end of the day after the election (24/05, so until 25/05 00:00)...
        (dt.datetime(2021, 5, 1, 10, 0, tzinfo=LOCAL), ELECTION_DAY,
         dt.datetime(2021, 5, 25, 0, 0, tzinfo=LOCAL)),
        (dt.datetime(2021, 5, 10, 8, 0, tzinfo=LOCAL), ELECTION_DAY,
         dt.datetime(2021, 5, 25, 0, 0, tzinfo=LOCAL)),
        (dt.datetime(2021, 5, 17, 23, 59, tzinfo=LOCAL), ELECTION_DAY,
         dt.datetime(2021, 5, 25, 0, 0, tzinfo=LOCAL)),
        # ...or 7 days after issue, whichever is later (issued after the election too)
        (dt.datetime(2021, 5, 20, 8, 0, tzinfo=LOCAL), ELECTION_DAY,
         dt.datetime(2021, 5, 27, 8, 0, tzinfo=LOCAL)),
        (dt.datetime(2021, 5, 18, 0, 1, tzinfo=LOCAL), ELECTION_DAY,
         dt.datetime(2021, 5, 25, 0, 1, tzinfo=LOCAL)),
        (dt.datetime(2021, 6, 1, 9, 0, tzinfo=LOCAL), ELECTION_DAY,
         dt.datetime(2021, 6, 8, 9, 0, tzinfo=LOCAL)),
    ],
)  # fmt: skip
def test_validity_is_the_later_of_the_day_after_the_election_and_a_week(
    issued: dt.datetime, election: dt.date, until: dt.datetime
) -> None:
    assert expires_at(issued, election) == until


# -- through the core -----------------------------------------------------------------------------


def rows_of(answer: Answer) -> list[dict[str, str]]:
    assert answer.status is Status.ACCEPTED, answer
    [reply] = answer.replies
    assert isinstance(reply.content, Document) and reply.content.filename.endswith(".csv")
    return list(csv.DictReader(io.StringIO(reply.content.content.decode("utf-8-sig"))))


async def invite(day: Day, args: str = "", by: int = ADMIN_ID) -> dict[tuple[str, str], str]:
    """`/moi …`: the code of each (unit, phone)."""
    rows = rows_of(await day.channel.say(by, f"/moi {args}".strip()))
    return {(row["unit_code"], row["phone"]): row["invitation_code"] for row in rows}


def verdict(answer: Answer) -> str:
    return answer.reason or answer.status.value if not answer.ok else "registered"


@pytest.fixture
async def day(db_target: Path | str) -> AsyncIterator[Day]:
    async with open_day(db_target, start=at(7, 0)) as opened:
        yield opened


async def test_moi_issues_a_code_per_unit_and_phone(day: Day) -> None:
    codes = await invite(day)
    assert sorted(codes) == [
        ("KV01", PHONE_KV01), ("KV02", "+84912345002"), ("KV03", PHONE_KV03_KV04),
        ("KV04", PHONE_KV03_KV04), ("KV05", PHONE_KV05), ("MK", "+84912000001"),
        ("X1", "+84912000002"),
    ]  # fmt: skip
    # a phone listed on two areas gets two codes, each of the alphabet
    assert codes["KV03", PHONE_KV03_KV04] != codes["KV04", PHONE_KV03_KV04]
    assert all(read_code(code) == code for code in codes.values())
    # A supervisor gets their subtree only; a chief, nothing.
    await day.register([SUPERVISOR_X1, CHIEF_KV01])
    refused = await day.channel.say(CHIEF_KV01, "/moi")
    assert refused.reason == Refusal.SUPERVISORS_ONLY
    assert {unit for unit, _ in await invite(day, by=SUPERVISOR_X1)} == {
        "X1", "KV01", "KV02", "KV03", "KV04",
    }  # fmt: skip


async def test_codes_are_stored_hashed_and_audited_without_the_code(day: Day) -> None:
    codes = await invite(day)
    stored = await day.core.db.write(
        lambda tx: [tx.invitation(code_hash(code)) for code in codes.values()]
    )
    assert all(s is not None for s in stored)
    db = day.core.db
    rows = await db._rows("SELECT * FROM invitations")  # what is on disk
    columns = ("code_hash", "unit_code", "phone", "issued_at", "expires_at", "used_by")
    everything = " ".join(str(row[column]) for row in rows for column in columns)
    audit = " ".join(e.detail for e in await db.audit_entries(10))
    for code in codes.values():
        assert code not in everything and code not in audit


@pytest.mark.parametrize(
    "form",
    ["dk {code}", "DK {lower}", "đăng ký {code}", "Dang ky: {lower}", "/dangky {code}",
     "/register {lower}", "dk {dashed}"],
)  # fmt: skip
async def test_registering_by_code_in_every_form(day: Day, form: str) -> None:
    code = (await invite(day, "KV01"))["KV01", PHONE_KV01]
    text = form.format(code=code, lower=code.lower(), dashed=f"{code[:4]}-{code[4:]}")
    answer = await day.channel.say(NEWCOMER, text)
    assert answer.status is Status.ACCEPTED and answer.reason is None, answer
    # exactly like a shared contact of that phone: the chief of KV01, who can report now
    caller = await day.core.caller(address(NEWCOMER))
    assert caller.areas == ("KV01",) and caller.person is not None
    assert caller.person.phone == PHONE_KV01
    assert caller.person.name == "Tổ trưởng KV01"  # nobody gave a name: the role and unit
    report = await day.channel.say(NEWCOMER, "100/320 9h", at=at(9, 1))
    assert report.status is Status.ACCEPTED, report


async def test_a_supervisor_registered_by_code_is_a_supervisor(day: Day) -> None:
    code = (await invite(day, "X1"))["X1", "+84912000002"]
    assert (await day.channel.say(NEWCOMER, f"dk {code}")).status is Status.ACCEPTED
    caller = await day.core.caller(address(NEWCOMER))
    assert caller.supervised == ("X1",) and caller.areas == ()
    assert (await day.channel.say(NEWCOMER, "/chuabaocao")).status is Status.ACCEPTED


async def test_the_phones_name_is_kept_when_someone_registered_it_before(day: Day) -> None:
    await day.channel.share_contact(CHIEF_KV01, PHONE_KV01, name="Nguyễn Văn An")
    code = (await invite(day, "KV01"))["KV01", PHONE_KV01]
    assert (await day.channel.say(NEWCOMER, f"dk {code}")).status is Status.ACCEPTED
    person = (await day.core.caller(address(NEWCOMER))).person
    assert person is not None and person.name == "Nguyễn Văn An"


async def test_a_code_is_used_once(day: Day) -> None:
    code = (await invite(day, "KV01"))["KV01", PHONE_KV01]
    assert verdict(await day.channel.say(NEWCOMER, f"dk {code}")) == "registered"
    # the same person again (a resend): registered, nothing new; anyone else: used
    assert verdict(await day.channel.say(NEWCOMER, f"dk {code}")) == "registered"
    assert verdict(await day.channel.say(OTHER, f"dk {code}")) == Refusal.INVITATION_USED
    assert (await day.core.caller(address(OTHER))).person is None


async def test_reissuing_revokes_the_unused_code_of_that_unit_and_phone(day: Day) -> None:
    first = await invite(day)
    again = await invite(day, "KV01")
    old, new = first["KV01", PHONE_KV01], again["KV01", PHONE_KV01]
    assert old != new
    assert verdict(await day.channel.say(NEWCOMER, f"dk {old}")) == Refusal.INVITATION_EXPIRED
    # the other pairs' codes were not reissued: still good
    assert verdict(await day.channel.say(OTHER, f"dk {first['KV05', PHONE_KV05]}")) == "registered"
    assert verdict(await day.channel.say(NEWCOMER, f"dk {new}")) == "registered"


async def test_a_code_whose_phone_is_no_longer_the_units_is_refused(day: Day) -> None:
    code = (await invite(day, "KV01"))["KV01", PHONE_KV01]
    moved = (Path(__file__).parent / "data" / "small_tree.csv").read_text()
    moved = moved.replace("0912345001", "0912345009")  # KV01's chief changed
    imported = await day.channel.send_file(ADMIN_ID, "units.csv", moved.encode())
    assert imported.status is Status.ACCEPTED, imported
    assert verdict(await day.channel.say(NEWCOMER, f"dk {code}")) == Refusal.INVITATION_EXPIRED


@pytest.mark.parametrize(
    ("later", "outcome"),
    [
        (dt.timedelta(days=6, hours=23), "registered"),  # issued 23/05 07:00: a week
        (dt.timedelta(days=7), Refusal.INVITATION_EXPIRED),
    ],
)
async def test_a_code_expires(day: Day, later: dt.timedelta, outcome: str) -> None:
    code = (await invite(day, "KV01"))["KV01", PHONE_KV01]
    day.clock.now = at(7, 0) + later
    assert verdict(await day.channel.say(NEWCOMER, f"dk {code}")) == outcome


async def test_five_wrong_codes_within_an_hour_lock_the_sender_out_for_an_hour(day: Day) -> None:
    code = (await invite(day, "KV01"))["KV01", PHONE_KV01]
    wrong = "2345ABCD" if code != "2345ABCD" else "2345ABCE"
    start = day.clock.now
    for minute in range(4):
        day.clock.now = start + dt.timedelta(minutes=10 * minute)
        assert verdict(await day.channel.say(NEWCOMER, f"dk {wrong}")) == (
            Refusal.INVITATION_UNKNOWN
        )
    day.clock.now = start + dt.timedelta(minutes=59)  # the fifth within the hour
    fifth = await day.channel.say(NEWCOMER, f"dk {wrong}")
    assert verdict(fifth) == Refusal.REGISTRATION_LOCKED
    # locked: even the right code, on any form, until an hour after the fifth
    day.clock.now = start + dt.timedelta(minutes=59 + 59)
    assert verdict(await day.channel.say(NEWCOMER, f"/dangky {code}")) == (
        Refusal.REGISTRATION_LOCKED
    )
    # someone else is not locked out
    assert verdict(await day.channel.say(OTHER, f"dk {wrong}")) == Refusal.INVITATION_UNKNOWN
    day.clock.now = start + dt.timedelta(minutes=59 + 60)
    assert verdict(await day.channel.say(NEWCOMER, f"dk {code}")) == "registered"


async def test_wrong_codes_spread_over_more_than_an_hour_do_not_lock(day: Day) -> None:
    start = day.clock.now
    for minute in (0, 20, 40, 59, 61, 81, 101, 120):  # never five within 60 minutes
        day.clock.now = start + dt.timedelta(minutes=minute)
        answer = await day.channel.say(NEWCOMER, "dk 2345ABCD")
        assert verdict(answer) == Refusal.INVITATION_UNKNOWN, minute


async def test_text_not_shaped_like_a_code_does_not_count(day: Day) -> None:
    for _ in range(8):
        assert verdict(await day.channel.say(NEWCOMER, "dk 1234")) == Refusal.INVITATION_UNKNOWN
    assert verdict(await day.channel.say(NEWCOMER, "dk")) == Refusal.USAGE
    code = (await invite(day, "KV01"))["KV01", PHONE_KV01]
    assert verdict(await day.channel.say(NEWCOMER, f"dk {code}")) == "registered"


async def test_the_lock_out_survives_a_restart(db_target: Path | str) -> None:
    async with open_day(db_target, start=at(7, 0)) as day:
        code = (await invite(day, "KV01"))["KV01", PHONE_KV01]
        answers = [await day.channel.say(NEWCOMER, "dk 2345ABCD") for _ in range(5)]
        assert verdict(answers[-1]) == Refusal.REGISTRATION_LOCKED
    async with open_day(db_target, start=at(7, 30)) as day:
        locked = await day.channel.say(NEWCOMER, f"dk {code}")
        assert verdict(locked) == Refusal.REGISTRATION_LOCKED
        day.clock.now = at(8, 0)
        assert verdict(await day.channel.say(NEWCOMER, f"dk {code}")) == "registered"


async def say_through(day: Day, bot: str, sender: int, text: str) -> Answer:
    """`sender` writes to another bot of the in-memory channel than the default one."""
    message = InboundText(
        address(sender), "77", address(sender), text, sent_at=day.clock(), bot=bot
    )
    where = Where(address(sender), address(sender), bot)
    return await day.channel.conversation.handle(message, where, CAPABILITIES)


async def test_a_code_sent_to_the_bot_of_another_subtree_is_refused_with_its_link(
    day: Day,
) -> None:
    """Two bots of one channel: the default one serves X1, another X2 (KV05)."""
    here, there = day.channel.name, "memory:x2"
    day.core.directory.add(BotEntry(here, "memory", "X1", "https://chat.example/x1"))
    day.core.directory.add(BotEntry(there, "memory", "X2", "https://chat.example/x2"))
    code = (await invite(day, "KV05"))["KV05", PHONE_KV05]
    answer = await day.channel.say(NEWCOMER, f"dk {code}")
    assert verdict(answer) == Refusal.WRONG_BOT
    assert "https://chat.example/x2" in answer.texts[0]
    # not used, not counted as wrong: the right bot registers the sender
    assert verdict(await say_through(day, there, NEWCOMER, f"dk {code}")) == "registered"
    # a bot of the channel that is not in the directory serves nothing the others serve
    code = (await invite(day, "KV01"))["KV01", PHONE_KV01]
    elsewhere = await say_through(day, "memory:lone", OTHER, f"dk {code}")
    assert verdict(elsewhere) == Refusal.WRONG_BOT
    assert "https://chat.example/x1" in elsewhere.texts[0]


async def test_invitations_link_the_zalo_bot_serving_each_unit(day: Day) -> None:
    day.core.directory.add(BotEntry("zalo:11", "zalo", "X1", "https://zalo.me/11"))
    day.core.directory.add(BotEntry("zalo:22", "zalo", None, "https://zalo.me/22"))
    rows = rows_of(await day.channel.say(ADMIN_ID, "/moi"))
    links = {row["unit_code"]: row["bot_link"] for row in rows}
    assert links == {
        "MK": "https://zalo.me/22", "X1": "https://zalo.me/11", "KV01": "https://zalo.me/11",
        "KV02": "https://zalo.me/11", "KV03": "https://zalo.me/11", "KV04": "https://zalo.me/11",
        "KV05": "https://zalo.me/22",
    }  # fmt: skip


async def test_moi_without_phones_and_with_bad_arguments(day: Day) -> None:
    imported = await day.channel.send_file(
        ADMIN_ID, "u.csv", b"code,parent_code,kind,name,registered_voters\nR,,t,R,\nA,R,kv,A,5\n"
    )
    assert imported.status is Status.ACCEPTED
    assert verdict(await day.channel.say(ADMIN_ID, "/moi R")) == Refusal.NO_PHONES
    assert verdict(await day.channel.say(ADMIN_ID, "/moi R A")) == Refusal.USAGE
    assert verdict(await day.channel.say(ADMIN_ID, "/moi ZZ")) == Refusal.UNKNOWN_UNIT


def test_hashes_are_slow_and_salted_not_plain_digests() -> None:
    import hashlib

    code = "K7M2QX9P"
    assert code_hash(code) == code_hash(code) and len(code_hash(code)) == 64
    assert code_hash(code) != hashlib.sha256(code.encode()).hexdigest()
    assert code_hash(code) != code_hash("K7M2QX9Q")
    assert set(code_hash(code)) <= set(string.hexdigits.lower())


def test_no_message_of_the_phrasing_corpus_is_taken_for_a_registration() -> None:
    assert len(CASES) > 300
    taken = [case["text"] for case in CASES if parse_text_command(case["text"]) is not None]
    assert taken == []
