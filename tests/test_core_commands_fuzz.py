"""Every command's arguments, fuzzed through the command table on a real SQLite file: no
exception escapes, every answer is typed (a refusal names its reason) and reads as a clear
Vietnamese one, and a refused command changes nothing."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.channel import Address, Capabilities, Markup, PhotoDelivery
from bot.core import Core, Where
from bot.messaging.answers import Answer, Status
from bot.messaging.commands import Request, find
from bot.messaging.content import Document, Image, Text
from bot.monitoring.export import to_csv
from bot.registration.unit_import import import_units
from bot.settings import Settings
from tests.harness import ADMIN_ID, DATA

CHIEF, SUPERVISOR = Address("telegram", "101"), Address("sms", "+84912000002")
STRANGER, ADMIN = Address("telegram", "999"), Address("telegram", str(ADMIN_ID))
GROUP = Address("telegram", "-500")
CAPABILITIES = Capabilities(
    channel="test", text_limit=4096, markup=Markup.PLAIN, edits=True, contact_button=False,
    command_menu=False, photos=PhotoDelivery.UPLOAD, documents=True, groups=True, buttons=False,
)  # fmt: skip

argument = st.one_of(
    st.sampled_from(["KV01", "kv05", "X1", "MK", "LC", "csv", "xlsx", "0912999888", "+84", "",
                     "KV99", "=1+1", "@x", "-1", "1e9", "X1;DROP TABLE units", "'", "\x00"]),
    st.text(max_size=12),
)  # fmt: skip
arguments = st.lists(argument, max_size=4)
who = st.sampled_from([CHIEF, SUPERVISOR, STRANGER, ADMIN])
COMMANDS = ["tonghop", "chuabaocao", "nhacnho", "lichsu", "xuat", "phancong", "khoa", "mokhoa",
            "theodoi", "huytheodoi", "nhatky", "moi", "dangky", "bangtin"]  # fmt: skip


def snapshot(path: Path) -> tuple[object, ...]:
    with sqlite3.connect(path) as db:
        return tuple(
            tuple(db.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall())
            for table in ("units", "unit_contacts", "people", "reports", "subscriptions")
        )


def is_clear_answer(answer: Answer) -> bool:
    """At least one reply; a refusal has a reason and says ❌; texts open with a sign."""
    if not answer.replies:
        return False
    for reply in answer.replies:
        if reply.status is Status.REFUSED and (not reply.reason or not _text_of(reply.content)):
            return False
        if isinstance(reply.content, Text) and reply.content.body[:1] not in "✅❌⚠📊📋🗂🗒":
            return False
        if reply.status is Status.WARNED and not _text_of(reply.content).startswith("⚠️"):
            return False
        if reply.status is Status.REFUSED and not _text_of(reply.content).startswith("❌"):
            return False
    return all(
        isinstance(s.content, Text) and s.content.body.startswith("⏰") for s in answer.sends
    )


def _text_of(content: object) -> str:
    return content.body if isinstance(content, Text) else ""


def _is_file_or_chart(content: object) -> bool:
    return isinstance(content, Document | Image)


def test_any_arguments_to_any_command(tmp_path: Path) -> None:
    loop = asyncio.new_event_loop()
    config = Settings(
        _env_file=None,  # type: ignore[call-arg]
        FIELDTALLY_DB=str(tmp_path / "cmd.db"),
        FIELDTALLY_ADMINS=str(ADMIN_ID),
        FIELDTALLY_ELECTION_DATE="2021-05-23",
    )
    core = loop.run_until_complete(Core.open(config, chart_workers=0))
    try:
        ok, _ = loop.run_until_complete(
            import_units(core.db, (DATA / "small_tree.csv").read_bytes())
        )
        assert ok
        for user_id, phone in ((CHIEF, "0912345001"), (SUPERVISOR, "0912000002")):
            loop.run_until_complete(
                core.register(
                    sender=user_id, chat=user_id, contact_owner=user_id,
                    phone=phone, name="x",
                )
            )  # fmt: skip

        async def run(command: str, user: Address, args: list[str], in_group: bool) -> Answer:
            where = Where(user, GROUP if in_group else user, "telegram:77", in_group, "Nhóm")
            found = find(command)
            assert found is not None
            return await found.run(core, Request(where, args, CAPABILITIES))

        @settings(max_examples=300, deadline=None, derandomize=True,
                  suppress_health_check=[HealthCheck.too_slow])  # fmt: skip
        @given(st.sampled_from(COMMANDS), who, arguments, st.booleans())
        def check(command: str, user: Address, args: list[str], in_group: bool) -> None:
            before = snapshot(tmp_path / "cmd.db")
            answer = loop.run_until_complete(run(command, user, args, in_group))
            assert is_clear_answer(answer), (command, user, args, answer)
            if answer.status is Status.REFUSED:
                assert snapshot(tmp_path / "cmd.db") == before, (command, user, args)
                assert not any(_is_file_or_chart(r.content) for r in answer.replies)

        check()
    finally:
        loop.run_until_complete(core.close())
        loop.close()


def test_exported_text_cells_never_run_as_formulas() -> None:
    rows: list[list[str | int]] = [
        ['=HYPERLINK("http://x")', "+1", "-2", "@SUM(A1)"],
        ["ok", "\t=1", "x", 1],
    ]
    content = to_csv(rows)
    assert content.startswith(b"\xef\xbb\xbf")
    text = content.decode("utf-8-sig")
    for cell in ("'=HYPERLINK", "'+1", "'-2", "'@SUM(A1)", "'\t=1"):
        assert cell in text
    assert "\nok," in text and text.endswith(",x,1\n")  # harmless cells are left alone
