"""A message delivered again after the upgrade: its stored replies, written as HTML by the
previous release, are answered as marked text (bot.messaging.marked.stored_reply), so the Telegram
renderer shows them as the first time and another channel shows them without tags."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from bot.channel import Address
from bot.core import Core
from bot.messaging.marked import Style, plain, spans
from bot.registration.unit_import import import_units
from bot.settings import Settings
from bot.turnout.intake import InboundText
from handlers.telegram.render import to_html
from tests.test_e2e_concurrency import unit_file

CHIEF = Address("telegram", "5000")
SENT = dt.datetime(2021, 5, 23, 9, 5, tzinfo=dt.timezone(dt.timedelta(hours=7)))


async def test_a_redelivered_message_gets_its_legacy_html_replies_as_marked_text(
    tmp_path: Path,
) -> None:
    config = Settings(
        _env_file=None,  # type: ignore[call-arg]
        FIELDTALLY_DB=str(tmp_path / "legacy.db"),
        FIELDTALLY_ELECTION_DATE="2021-05-23",
    )
    core = await Core.open(config)
    try:
        ok, _ = await import_units(core.db, unit_file(2))
        assert ok
        await core.register(
            sender=CHIEF, chat=CHIEF, contact_owner=CHIEF, phone="0913000000", name="Lò Văn Sáng"
        )
        inbound = InboundText(
            chat=CHIEF, message_ref="7", sender=CHIEF, text="25O/1000 9h", sent_at=SENT
        )
        # What the previous release stored for this message: HTML, escaped.
        legacy = (
            "❌ «25O/1000 &lt;9h&gt; &amp;»: Không đọc được báo cáo. Báo cáo chưa được lưu. "
            "Viết đúng mẫu, ví dụ <code>250/320 9h</code>."
        )
        await core.db.write(lambda tx: tx.record_message(inbound.key, [legacy]))

        [reply] = (await core.report(inbound)).texts

        assert plain(reply) == (
            "❌ «25O/1000 <9h> &»: Không đọc được báo cáo. Báo cáo chưa được lưu. "
            "Viết đúng mẫu, ví dụ 250/320 9h."
        )
        assert [s.text for s in spans(reply) if s.style is Style.CODE] == ["250/320 9h"]
        assert to_html(reply) == legacy  # Telegram sees exactly what it saw the first time
        # Nothing was judged again: the area still has no report.
        assert await core.db.area_reports("A000", include_replaced=True) == []
    finally:
        await core.close()
