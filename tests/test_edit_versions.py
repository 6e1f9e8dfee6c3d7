"""Edits of a report message, several within one second: each edit is a version of its own.

An edit's version was its edit time in whole seconds, so a second edit within the same
second was taken for a repeat of the first and not applied. The property: over random
messages and random sequences of edits (many in the same second, some delivered twice),
what is stored for each area is what the last accepted version of its message says.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.channel import Address
from bot.core import Core
from bot.registration.unit_import import import_units
from bot.settings import Settings
from bot.turnout.intake import InboundText
from sandbox import BotApiSandbox
from tests.harness import at, make_run
from tests.test_e2e_concurrency import unit_file

AREAS = 400  # each example uses fresh areas: no state leaks from one example to the next
VOTERS = 1000  # each area's list; a count above it is refused

# One message's versions: the counts of the original and of each edit; and, per version,
# whether Telegram delivers it twice.
versions = st.lists(
    st.tuples(st.integers(min_value=0, max_value=VOTERS + 200), st.booleans()),
    min_size=1,
    max_size=6,
)


def chief_address(number: int) -> Address:
    return Address("telegram", str(number))


def test_stored_state_is_the_last_accepted_version_of_each_message(tmp_path: Path) -> None:
    loop = asyncio.new_event_loop()
    config = Settings(
        _env_file=None,  # type: ignore[call-arg]
        FIELDTALLY_DB=str(tmp_path / "edits.db"),
        FIELDTALLY_ELECTION_DATE="2021-05-23",
    )
    core = loop.run_until_complete(Core.open(config))
    areas = itertools.count()
    update_ids = itertools.count(1000)
    exercised = {"edits_in_one_second": 0, "refused": 0}
    try:
        ok, _ = loop.run_until_complete(import_units(core.db, unit_file(AREAS)))
        assert ok
        for n in range(AREAS):
            reply = loop.run_until_complete(
                core.register(
                    sender=chief_address(5000 + n), chat=chief_address(5000 + n),
                    contact_owner=chief_address(5000 + n),
                    phone=f"09130{n:05d}", name=f"Chief {n}",
                )
            )  # fmt: skip
            assert reply.ok, reply

        @settings(
            max_examples=60,
            deadline=None,
            derandomize=True,
            suppress_health_check=[HealthCheck.too_slow],
        )
        @given(
            messages=st.lists(versions, min_size=1, max_size=4),
            order=st.randoms(use_true_random=False),
            same_second=st.booleans(),
        )
        def check(messages: list[list[tuple[int, bool]]], order: object, same_second: bool) -> None:
            # Each message is a chief's first report, in an area of its own.
            chiefs = [next(areas) for _ in messages]
            events = [(m, v) for m, message in enumerate(messages) for v in range(len(message))]
            # The versions of a message keep their order; messages interleave at random.
            rng = order  # hypothesis' Random
            events.sort(key=lambda e: (rng.random(), 0))  # type: ignore[attr-defined]
            next_version = [0] * len(messages)
            expected: dict[int, int | None] = {}
            for m, _ in events:
                v = next_version[m]
                next_version[m] += 1
                count, twice = messages[m][v]
                chief = 5000 + chiefs[m]
                edited = None
                if v > 0:  # all edits in one second, or one a second
                    edited = at(20, 10) + dt.timedelta(
                        milliseconds=100 * v if same_second else 1000 * v
                    )
                inbound = InboundText(
                    chat=chief_address(chief), message_ref="1", sender=chief_address(chief),
                    text=f"{count}/{VOTERS} 9h", sent_at=at(20), edited_at=edited,
                    revision=next(update_ids) if v > 0 else 0,
                )  # fmt: skip
                first = loop.run_until_complete(core.report(inbound)).texts
                if twice:  # the same delivery again: the same answer, nothing changes
                    assert loop.run_until_complete(core.report(inbound)).texts == first
                accepted = count <= VOTERS
                assert first[0].startswith("✅" if accepted else "❌"), first
                if accepted:
                    expected[m] = count
                else:
                    expected.setdefault(m, None)
                    exercised["refused"] += 1
                if v > 1 and same_second:
                    exercised["edits_in_one_second"] += 1
            for m, chief_area in enumerate(chiefs):
                code = f"A{chief_area:03d}"
                totals = loop.run_until_complete(core.db.totals(code))
                current = loop.run_until_complete(core.db.area_reports(code))
                if expected[m] is None:
                    assert current == [] and totals.voted == 0
                else:
                    assert [r.voted for r in current] == [expected[m]]
                    assert totals.voted == expected[m]

        check()
        assert exercised["edits_in_one_second"] >= 10  # the property was exercised
        assert exercised["refused"] >= 5
    finally:
        loop.run_until_complete(core.close())
        loop.close()


async def test_two_edits_within_one_second_through_telegram(
    sandbox: BotApiSandbox, tmp_path: Path
) -> None:
    """The handler gives each Telegram edit its own version (its update id)."""
    token = sandbox.create_bot()
    bot = make_run(sandbox, token, tmp_path / "db.sqlite")
    await bot.start()
    try:
        assert (await bot.import_units(unit_file(1))).startswith("✅")
        chief = bot.user(700)
        assert (await bot.share_contact(chief, "0913000000"))[0].startswith("✅")
        [stored] = await bot.texts_of(chief, "200/1000 9h")
        assert stored.startswith("✅") and "200/1.000" in stored
        message_id = bot.last_message["message_id"]
        same_second = at(20, 10)
        [first] = await bot.edit(chief, message_id, "210/1000 9h", edit_date=same_second)
        [second] = await bot.edit(chief, message_id, "220/1000 9h", edit_date=same_second)
        assert "210/1.000" in first and "220/1.000" in second
        assert bot.query("SELECT voted FROM reports WHERE replaced_by IS NULL") == [(220,)]
        assert bot.query("SELECT voted FROM unit_totals WHERE code = 'P'") == [(220,)]
    finally:
        await bot.stop()
