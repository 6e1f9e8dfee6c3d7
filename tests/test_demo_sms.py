"""`fieldtally demo --channel sms`: the same drill with every chief on SMS through the gateway
sandbox (the admin and the group on Telegram, one process, one database) ends on the same
figures as the Telegram drill; each reply goes out through the gateway once."""

from __future__ import annotations

import random
from pathlib import Path

from fieldtally.demo import DemoOptions, load_unit_list, plan_day, run_demo
from fieldtally.demo.constants import NO, OK
from fieldtally.demo.script import Action
from fieldtally.demo.sms import sms_steps
from tests.test_demo import FAST, NUMBERS, check_rows_consistent, read_export, transcript_entries


def test_the_script_as_sms_has_no_contacts_and_no_edits() -> None:
    plan = plan_day(load_unit_list(None), random.Random(2021))
    for chief in plan.chiefs:
        steps = sms_steps(chief)
        assert all(step.action is Action.TEXT for step in steps)
        assert len(steps) == sum(step.action is not Action.CONTACT for step in chief.steps)
        if chief.quirk == "unregistered":  # the number registers itself by its first SMS
            assert steps[0].expect == (OK,)
        if chief.quirk == "edit":  # the stored wrong count is corrected with `sửa`
            assert any(step.text.startswith("sửa ") for step in steps)


async def test_the_sample_drill_on_sms_ends_with_the_seed_figures(tmp_path: Path) -> None:
    output = tmp_path / "demo-sms"
    result = await run_demo(DemoOptions(output=output, speed=FAST, channel="sms"))

    rows = read_export(output / "tonghop_LC.csv")
    for row in rows[:2]:
        assert {name: row[name] for name in NUMBERS} == {
            "areas_total": "139", "areas_reported": "139", "areas_finished": "139",
            "registered_voters": "38851", "voted": "38851",
            "staff_total": "2157", "staff_tested": "2123", "positives": "0",
        }  # fmt: skip
    check_rows_consistent(rows)
    assert "38.851/38.851 (100,0%)" in result.summary_text
    assert "2.123/2.157" in result.summary_text
    assert result.replies[NO] >= 10 and result.replies["other"] == 0
    assert result.refused_then_fixed >= 10

    entries = transcript_entries(output / "transcript.txt")
    to_chiefs = [text for _, who, text in entries if who.startswith("bot → ") and "(SMS +84" in who]
    assert len(to_chiefs) == result.replies[OK] + result.replies[NO]
    assert all(text.startswith(("Da luu", "Chua luu", "Luu y")) or "/" not in text
               for text in to_chiefs)  # fmt: skip
    assert all(text.isascii() for text in to_chiefs)  # GSM-7, unaccented
    group = [text for _, who, text in entries if who.startswith("bot → group «")]
    assert sum(text.startswith("🎉") for text in group) == 1  # told on Telegram, finished by SMS
