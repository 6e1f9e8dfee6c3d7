"""A property of the SMS channel: whatever a chief or a supervisor sends, every reply the
channel sends for a report outcome (accepted, warned, refused, unreadable, asked) fits one
segment, GSM-7 (160 characters) or, with SMS_UNICODE, UCS-2 (70), through the real core,
the real intake and a real SQLite file. Also the replies a number gets before it is known."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot import texts
from bot.channel import Address
from bot.core import Core
from bot.messaging.answers import Refusal, Status, refused
from bot.registration.unit_import import import_units
from bot.settings import Settings
from bot.turnout.intake import InboundText
from handlers.sms.channel import SMS_BOT, reply_text
from handlers.sms.gsm7 import is_gsm7, segments
from tests.harness import DATA, at
from tests.test_core_fuzz import messages

CHIEF = Address("sms", "+84912345001")  # KV01 in the small tree
SUPERVISOR = Address("sms", "+84912000002")  # X1: KV01–KV04, must prefix


def fits_one_segment(reply_texts: list[str | None]) -> None:
    for text in reply_texts:
        assert text is not None
        assert segments(text) == 1, (segments(text), text)


def test_every_reply_to_a_report_fits_one_segment(tmp_path: Path) -> None:
    loop = asyncio.new_event_loop()
    config = Settings(
        _env_file=None,  # type: ignore[call-arg]
        FIELDTALLY_DB=str(tmp_path / "sms-fit.db"),
        FIELDTALLY_ELECTION_DATE="2021-05-23",
    )
    core = loop.run_until_complete(Core.open(config, chart_workers=0, bot=SMS_BOT))
    message_ids = itertools.count(1)
    outcomes: set[Status] = set()
    try:
        data = (DATA / "small_tree.csv").read_bytes()
        ok, _ = loop.run_until_complete(import_units(core.db, data))
        assert ok
        for who in (CHIEF, SUPERVISOR):
            registered = loop.run_until_complete(
                core.register(sender=who, chat=who, contact_owner=who, phone=who.id, name=who.id)
            )
            assert registered.ok, registered

        def one(text: str, sender: Address, minute: int) -> None:
            sent = at(0) + dt.timedelta(minutes=minute)
            inbound = InboundText(
                sender, str(next(message_ids)), sender, text, sent_at=sent, bot=SMS_BOT
            )
            answer = loop.run_until_complete(core.report(inbound))
            assert answer.replies
            outcomes.update(reply.status for reply in answer.replies)
            for unicode in (False, True):
                sms = [reply_text(r, unicode=unicode, dashboard_url=None) for r in answer.replies]
                fits_one_segment(sms)
                if not unicode:
                    assert all(text is not None and is_gsm7(text) for text in sms), sms

        # Every kind of outcome at least once, whatever the examples below draw.
        one("KV02: 100/2100 06h00", SUPERVISOR, 23 * 60)  # warned: the list changed by 5%
        one("KV03: 120/500 06h30", SUPERVISOR, 23 * 60)  # accepted
        one("KV03: 110/500 07h00", SUPERVISOR, 23 * 60)  # refused: lower than earlier
        one("KV03: xong 500/500 20h00", SUPERVISOR, 23 * 60)  # completion
        one("KV04: xn 12/12 âm tính", SUPERVISOR, 23 * 60)  # COVID tests

        @settings(
            max_examples=300,
            deadline=None,
            derandomize=True,
            suppress_health_check=[HealthCheck.too_slow],
        )
        @given(
            text=messages,
            sender=st.sampled_from([CHIEF, SUPERVISOR]),
            minute=st.integers(min_value=0, max_value=24 * 60 - 1),
        )
        def check(text: str, sender: Address, minute: int) -> None:
            one(text, sender, minute)

        check()
    finally:
        loop.run_until_complete(core.close())
        loop.close()
    assert outcomes >= {Status.ACCEPTED, Status.WARNED, Status.REFUSED}


def test_the_replies_before_a_number_is_known_fit_one_segment() -> None:
    for answer in (
        refused(Refusal.UNKNOWN_PHONE, texts.unknown_phone("+84987654321")),
        refused(Refusal.NOT_REGISTERED, texts.NOT_REGISTERED),
        refused(Refusal.SLOW_DOWN, texts.SLOW_DOWN),
    ):
        for unicode in (False, True):
            fits_one_segment(
                [reply_text(r, unicode=unicode, dashboard_url=None) for r in answer.replies]
            )
