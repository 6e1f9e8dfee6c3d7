"""`fieldtally demo`: the offline drill runs end to end, at high speed, and ends with the seed's
figures; the files it writes are what they claim to be. Plus the pieces that can be checked
without running a day: the plan, the simulated clock, the unit list copy."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import random
import re
import struct
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import openpyxl
import pytest

from fieldtally import demo
from fieldtally.demo import DemoOptions, DemoResult, SimClock, load_unit_list, plan_day, run_demo
from fieldtally.demo.night import (
    COUNTING_FROM,
    NIGHT_QUIRKS,
    REAL_TALLY_END,
    load_sample_ballots,
    plan_night,
)
from tests.harness import DATA

FAST = 50_000.0  # simulated seconds per real second: the bot's rate limit sets the pace
NUMBERS = (
    "areas_total", "areas_reported", "areas_finished", "registered_voters", "voted",
    "staff_total", "staff_tested", "positives",
)  # fmt: skip
TRANSCRIPT_LINE = re.compile(r"^(\d\d:\d\d:\d\d)  (\S.*?)  +(.*)$")


def read_export(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as file:
        return list(csv.DictReader(file))


def check_rows_consistent(rows: list[dict[str, str]]) -> None:
    """Every inner unit's numbers are its children's sums; percentages and times agree."""
    children: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in rows:
        children[row["parent_code"]].append(row)
    for row in rows:
        voters, voted = int(row["registered_voters"]), int(row["voted"])
        percent = (Decimal(voted * 100) / voters if voters else Decimal(0)).quantize(
            Decimal("0.01"), rounding=ROUND_HALF_UP
        )
        assert row["turnout_percent"] == str(percent), row
        assert int(row["staff_tested"]) <= int(row["staff_total"]), row
        below = children.get(row["code"])
        if not below:
            assert row["areas_total"] == "1", row
            continue
        for name in NUMBERS:
            assert int(row[name]) == sum(int(c[name]) for c in below), (row["code"], name)
        times = [dt.datetime.fromisoformat(c["last_report_at"]) for c in below]
        assert dt.datetime.fromisoformat(row["last_report_at"]) == max(times), row["code"]


def transcript_entries(path: Path) -> list[tuple[str, str, str]]:
    """(time, who, first line of text) of every entry of transcript.txt."""
    entries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        match = TRANSCRIPT_LINE.match(line)
        if match:
            entries.append((match[1], match[2], match[3]))
    return entries


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path
    width, height = struct.unpack(">II", data[16:24])
    return width, height


# -- the drill, end to end -------------------------------------------------------------------------


async def test_the_sample_drill_ends_with_the_seed_figures(tmp_path: Path) -> None:
    output = tmp_path / "demo-output"
    result = await run_demo(DemoOptions(output=output, speed=FAST))

    rows = read_export(output / "tonghop_LC.csv")
    assert [r["code"] for r in rows[:2]] == ["LC", "MK"]
    for row in rows[:2]:  # the province and its one district: the seed's figures
        assert {name: row[name] for name in (*NUMBERS, "turnout_percent")} == {
            "areas_total": "139",
            "areas_reported": "139",
            "areas_finished": "139",
            "registered_voters": "38851",
            "voted": "38851",
            "turnout_percent": "100.00",
            "staff_total": "2157",
            "staff_tested": "2123",
            "positives": "0",
        }
    assert len(rows) == 157
    check_rows_consistent(rows)
    sheet = openpyxl.load_workbook(output / "tonghop_LC.xlsx", read_only=True).worksheets[0]
    header, first = [list(r) for r in sheet.iter_rows(min_row=2, max_row=3, values_only=True)]
    assert dict(zip(header, first, strict=True))["Số cử tri đã bỏ phiếu"] == 38851

    entries = transcript_entries(output / "transcript.txt")
    assert len(entries) == len(result.transcript)
    chiefs = {who.removeprefix("bot → ") for _, who, _ in entries if "·" in who}
    assert len(chiefs) == 139
    # A refusal the same chief then fixes: ❌ to them, later ✅ to them.
    fixed = [
        chief
        for chief in chiefs
        if (answers := [t[:1] for _, w, t in entries if w == f"bot → {chief}"])
        and "❌" in answers
        and "✅" in answers[answers.index("❌") :]
    ]
    assert fixed
    said = [text for _, who, text in entries if "·" in who and not who.startswith("bot")]
    assert any(text.lower().startswith(("sửa ", "sua ")) for text in said)
    assert any(text.startswith("[edits message #") for text in said)
    assert any(re.match(r"\d*[ol]\d*/\d+ ", text) for text in said)  # 25o/320 9h, l25/320 9h
    group = [text for _, who, text in entries if who.startswith("bot → group «")]
    assert sum(text.startswith("📊") for text in group) >= 1
    assert sum(text.startswith("🎉") for text in group) == 1
    assert result.group_summaries >= 1
    assert result.refused_then_fixed >= 10

    charts = sorted(output.glob("chart-*.png"))
    assert len(charts) >= 4  # at least one automatic summary and the final /tonghop: 2 each
    assert all(png_size(path)[0] == 1080 for path in charts)
    assert "38.851/38.851 (100,0%)" in result.summary_text
    assert "2.123/2.157" in result.summary_text
    assert "<b>" not in result.summary_text
    summary = (output / "summary.txt").read_text(encoding="utf-8")
    assert "Areas finished: 139/139" in summary
    assert set(result.files) >= {output / "transcript.txt", output / "summary.txt", *charts}
    the_night_ends_with_every_electoral_unit_complete(result, output, entries)


def the_night_ends_with_every_electoral_unit_complete(
    result: DemoResult, output: Path, entries: list[tuple[str, str, str]]
) -> None:
    """The sample's results night: 139 areas × their ballots (556 records), every one of the
    125 electoral units complete, the time the last closed beside the real 01:30."""
    night = result.night
    assert night is not None
    assert night.records == 556
    assert night.units_complete == night.units_total == 125
    assert night.last_closed < REAL_TALLY_END
    assert night.corrections >= 1 and night.photos >= 1
    assert night.group_notices >= 1
    units = read_export(output / "results_units_LC.csv")
    assert {row["outcome"] for row in units} == {"elected", "not elected"}
    assert {row["electoral_unit"] for row in units} == {
        row["electoral_unit"] for row in units if row["areas_reported"] == row["areas_total"]
    }
    seats = {row["electoral_unit"]: (row["ballot"], int(row["seats"])) for row in units}
    per_ballot: dict[str, int] = defaultdict(int)
    for ballot, count in seats.values():
        per_ballot[ballot] += count
    assert per_ballot == {"qh": 3, "tinh": 5, "huyen": 33, "xa": 339}  # the district's seats
    areas = read_export(output / "results_areas_LC.csv")
    assert len({(row["area_code"], row["ballot"]) for row in areas}) == 556
    said = [text for _, who, text in entries if "·" in who and not who.startswith("bot")]
    assert sum(text.lower().startswith(("kq", "kết quả")) for text in said) >= 556
    assert any(text.lower().startswith("sửa k") for text in said)
    assert any(text.startswith("[photo of the signed record]") for text in said)
    answers = [text for _, who, text in entries if who.startswith("bot → ") and "·" in who]
    assert sum(text.startswith("Biên bản") for text in answers) >= 556  # each read back
    assert sum(text.startswith("✅ Đã lưu biên bản") for text in answers) >= 556
    summary = (output / "summary.txt").read_text(encoding="utf-8")
    assert "Electoral units complete: 125/125" in summary
    assert "at 01:30 the next morning" in summary
    assert "Quốc hội: bầu được" in night.results_text  # /ketqua of the province


def test_the_night_plan_is_seeded_and_every_record_adds_up() -> None:
    units = load_unit_list(None)
    day = plan_day(units, random.Random(7))
    ballots = load_sample_ballots()
    night = plan_night(units, day.chiefs, ballots, random.Random(8))  # checks every record
    again = plan_night(units, day.chiefs, ballots, random.Random(8))
    assert night.steps == again.steps and night.records == 556
    assert sorted(night.quirks.values()) == sorted(NIGHT_QUIRKS)
    for steps in night.steps.values():
        assert [s.at for s in steps] == sorted(s.at for s in steps)
        assert all(s.at.time() >= COUNTING_FROM for s in steps)


SEED_ROW = {
    "areas_total": "139",
    "areas_reported": "139",
    "areas_finished": "139",
    "registered_voters": "38851",
    "voted": "38851",
    "turnout_percent": "100.00",
    "staff_total": "2157",
    "staff_tested": "2123",
    "positives": "0",
}


async def test_the_sample_drill_on_zalo_ends_with_the_same_figures(tmp_path: Path) -> None:
    """`fieldtally demo --channel zalo`: everyone on Zalo through its sandbox, chiefs
    registering with the codes the admin's `/moi` link gave; the Telegram drill's figures."""
    output = tmp_path / "demo-zalo"
    result = await run_demo(DemoOptions(output=output, speed=FAST, channel="zalo"))

    rows = read_export(output / "tonghop_LC.csv")  # downloaded from the `/xuat` link
    assert [r["code"] for r in rows[:2]] == ["LC", "MK"]
    for row in rows[:2]:
        assert {name: row[name] for name in (*NUMBERS, "turnout_percent")} == SEED_ROW
    assert len(rows) == 157
    check_rows_consistent(rows)
    sheet = openpyxl.load_workbook(output / "tonghop_LC.xlsx", read_only=True).worksheets[0]
    header, first = [list(r) for r in sheet.iter_rows(min_row=2, max_row=3, values_only=True)]
    assert dict(zip(header, first, strict=True))["Số cử tri đã bỏ phiếu"] == 38851
    assert "38.851/38.851 (100,0%)" in result.summary_text
    assert "2.123/2.157" in result.summary_text
    assert "139/139" in result.summary_text

    entries = transcript_entries(output / "transcript.txt")
    said = [text for _, who, text in entries if "·" in who and not who.startswith("bot")]
    # No shared contact and no edit on Zalo: a code registers, a correction is retyped.
    assert not any(text.startswith(("[shares", "[edits")) for text in said)
    registrations = [
        t for t in said if t.lower().startswith(("dk ", "đăng ký", "dang ky", "/dangky"))
    ]
    assert len(registrations) >= 139 and all(t.endswith("····") for t in registrations)
    assert any(text.lower().startswith(("sửa ", "sua ")) for text in said)
    assert result.replies["other"] == 0 and result.replies["❌"] >= 10
    assert result.refused_then_fixed >= 10
    admin = [text for _, who, text in entries if who == "bot → admin"]
    assert sum(text.startswith("🎉") for text in admin) == 1
    assert result.group_summaries >= 1  # automatic summaries in the admin's private chat
    charts = sorted(output.glob("chart-*.png"))  # photos Zalo fetched from their URLs
    assert len(charts) >= 4 and all(png_size(path)[0] == 1080 for path in charts)
    summary = (output / "summary.txt").read_text(encoding="utf-8")
    assert "Areas finished: 139/139" in summary and "Zalo" in summary


def test_on_zalo_a_chief_registers_by_code_and_retypes_instead_of_editing() -> None:
    from fieldtally.demo.constants import NO, OK
    from fieldtally.demo.script import Action
    from fieldtally.demo.zalo import mistyped, registration_steps

    plan = plan_day(load_unit_list(None), random.Random(2021))
    rng = random.Random(1)
    for chief in plan.chiefs:
        # A mistyped code first, for chiefs who start by registering (as the drill picks).
        first = chief.steps[0].action is Action.CONTACT
        wrong = mistyped("ABCD2345", {"ABCD2345"}, rng) if first else None
        assert wrong != "ABCD2345"
        steps = registration_steps(chief, "ABCD2345", wrong, rng)
        assert all(step.action is Action.TEXT for step in steps)
        codes = [s for s in steps if s.text.upper().endswith("ABCD2345") or s.text == f"dk {wrong}"]
        expected = [(NO,), (OK,)] if first else [(OK,)]
        assert [s.expect for s in codes] == expected
        assert [s.at for s in steps] == sorted(s.at for s in steps)
        if chief.quirk == "edit":  # the stored wrong count is corrected with `sửa`
            assert any(step.text.startswith("sửa ") for step in steps)


def finished_everywhere(result: DemoResult) -> None:
    roots = [r for r in result.export_rows if not r["parent_code"]]
    assert roots
    for root in roots:
        assert root["areas_finished"] == root["areas_total"]
        assert root["voted"] == root["registered_voters"]
    check_rows_consistent(list(result.export_rows))


async def test_a_post_2025_list_replays_to_the_end(tmp_path: Path) -> None:
    units = DATA / "tree_2025_lao_cai.csv"
    result = await run_demo(DemoOptions(units=units, output=tmp_path, speed=FAST, seed=7))
    finished_everywhere(result)
    assert (tmp_path / "tonghop_15.csv").exists()
    assert result.export_rows[0]["areas_total"] == str(len(load_unit_list(units).areas))


def xlsx_with_gaps(source: Path) -> bytes:
    """The 2025 list as .xlsx, without some phones and staff, and one chief for two areas."""
    rows = list(csv.reader(io.StringIO(source.read_text(encoding="utf-8"))))
    header, body = rows[0], rows[1:]
    phone, staff = header.index("contact_phones"), header.index("staff")
    areas = [row for row in body if row[4]]
    for row in areas[:3]:
        row[phone] = ""
    for row in areas[3:6]:
        row[staff] = ""
    areas[7][phone] = areas[6][phone]  # one chief, two areas: reports carry the area code
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in body:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


@pytest.mark.parametrize("channel", ["telegram", "zalo"])
async def test_an_xlsx_list_with_gaps_replays_to_the_end(tmp_path: Path, channel: str) -> None:
    units = tmp_path / "lao_cai_2025.xlsx"
    units.write_bytes(xlsx_with_gaps(DATA / "tree_2025_lao_cai.csv"))
    options = DemoOptions(units=units, output=tmp_path / "out", speed=FAST, channel=channel)
    result = await run_demo(options)
    finished_everywhere(result)
    said = [line.text for line in result.transcript if not line.who.startswith(("bot", "admin"))]
    assert any(re.match(r"^\d{5}-\d\d: ", text) for text in said)  # the two-area chief
    rows = {r["code"]: r for r in result.export_rows}
    no_staff = [c for c, r in rows.items() if "-" in c and int(r["staff_total"]) == 0]
    assert no_staff == []  # areas without `staff` took their tally's total


# -- the pieces ----------------------------------------------------------------------------------


def test_the_plan_is_seeded_and_holds_every_quirk() -> None:
    units = load_unit_list(None)
    first = plan_day(units, random.Random(2021))
    again = plan_day(units, random.Random(2021))
    other = plan_day(units, random.Random(2022))
    texts = [[(s.at, s.text) for s in c.steps] for c in first.chiefs]
    assert texts == [[(s.at, s.text) for s in c.steps] for c in again.chiefs]
    assert texts != [[(s.at, s.text) for s in c.steps] for c in other.chiefs]
    assert {c.quirk for c in first.chiefs} >= set(demo.QUIRKS)
    assert sum(d.staff_total for d in first.days) == 2157
    assert sum(d.tested for d in first.days) == 2123
    assert all(d.finish <= demo.at(demo.LAST_FINISH) for d in first.days)
    assert all(d.finish >= demo.at(demo.FIRST_FINISH) for d in first.days)
    for chief in first.chiefs:
        times = [s.at for s in chief.steps]
        assert times == sorted(times)
        assert chief.steps[-1].finishes == chief.areas[0].code


@pytest.mark.parametrize("seed", range(12))
def test_plans_for_any_seed_read_as_meant(seed: int) -> None:
    for path in (None, DATA / "tree_2025_lao_cai.csv", DATA / "tree_2021_bac_ha.csv"):
        plan = plan_day(load_unit_list(path), random.Random(seed))  # checks every text it plans
        assert plan.end < demo.at(dt.time(13, 0))


class HandMovedTime:
    """Real seconds that pass only when the test says so."""

    def __init__(self) -> None:
        self.seconds = 1000.0

    def __call__(self) -> float:
        return self.seconds


def test_the_clock_pauses_for_the_bot_and_never_runs_back() -> None:
    start = demo.at(dt.time(5, 0))
    real = HandMovedTime()
    step = 0.125  # real seconds (exact in binary): 7.5 simulated minutes at 3600×
    clock = SimClock(start, speed=3600.0, lead=dt.timedelta(minutes=10), real_time=real)
    real.seconds += 10
    assert clock.now() == start  # stands still until started
    clock.start()
    real.seconds += step
    hold = clock.hold(clock.now())
    assert clock.now() == start + dt.timedelta(minutes=7.5)
    real.seconds += 4 * step  # 30 simulated minutes: it stops 10 minutes past the held message
    paused = clock.now()
    assert paused == start + dt.timedelta(minutes=17.5)
    real.seconds += 8  # eight hours more: still paused while the bot has not answered
    assert clock.now() == paused
    clock.release(hold)
    assert clock.now() == paused  # released: it runs on from where it stood, no jump
    real.seconds += step
    assert clock.now() == paused + dt.timedelta(minutes=7.5)
    # A hold for a message older than the clock's last anchor: the clock stops, never goes back.
    older = clock.hold(paused - dt.timedelta(minutes=30))
    real.seconds += 8
    assert clock.now() == paused + dt.timedelta(minutes=7.5)
    clock.release(older)
    real.seconds += step
    assert clock.now() == paused + dt.timedelta(minutes=15)


def test_the_clock_stops_at_each_booked_moment_until_its_message_is_sent() -> None:
    """However late a simulated person is woken (a loaded machine), the clock waits at the
    moment they are booked to act: their message goes out at its scheduled time."""
    start = demo.at(dt.time(5, 0))
    real = HandMovedTime()
    first, second = start + dt.timedelta(minutes=10), start + dt.timedelta(minutes=20)
    clock = SimClock(start, speed=3600.0, lead=dt.timedelta(minutes=5), real_time=real)
    clock.book([second, first])
    clock.start()
    real.seconds += 3600  # an hour of real time late: the day stands at the first booking
    assert clock.now() == first
    hold = clock.hold(clock.now(), booked=first)  # sent: the hold keeps the clock now
    with pytest.raises(ValueError):
        clock.hold(clock.now(), booked=first)  # booked once, sent once
    real.seconds += 3600
    assert clock.now() == first + dt.timedelta(minutes=5)  # the lead past the message
    clock.release(hold)
    real.seconds += 3600
    assert clock.now() == second  # the next booking
    clock.release(clock.hold(second, booked=second))
    assert clock.now() == second  # released: runs on from where it stood, no jump
    real.seconds += 0.125
    assert clock.now() == second + dt.timedelta(minutes=7.5)


async def test_a_sleeper_booked_at_a_moment_wakes_exactly_at_it() -> None:
    clock = SimClock(demo.at(dt.time(5, 0)), speed=1_000_000.0)
    moment = demo.at(dt.time(5, 0, 30))
    clock.book([moment])
    clock.start()
    await clock.sleep_until(moment)
    await asyncio.sleep(0.01)  # 10,000 simulated seconds, were it not booked
    assert clock.now() == moment


async def test_sleeping_until_a_moment_of_the_day_ends_at_or_after_it() -> None:
    clock = SimClock(demo.at(dt.time(5, 0)), speed=3600.0)
    clock.start()
    moment = clock.now() + dt.timedelta(minutes=1)
    await clock.sleep_until(moment)
    assert clock.now() >= moment


def test_areas_without_a_phone_get_one_in_the_demo_copy(tmp_path: Path) -> None:
    source = (DATA / "tree_2025_lao_cai.csv").read_text(encoding="utf-8")
    header, *rows = source.splitlines()
    without = [header.removesuffix(",contact_phones")]
    without += [row.rsplit(",", 1)[0] for row in rows]
    path = tmp_path / "no_phones.csv"
    path.write_text("\n".join(without) + "\n", encoding="utf-8")
    units = load_unit_list(path)
    assert units.synthetic_phones == len(units.areas)
    assert len({a.phone for a in units.areas}) == len(units.areas)
    assert b"contact_phones" in units.content
    assert path.read_text(encoding="utf-8") == "\n".join(without) + "\n"  # the user's file stays

    xlsx = tmp_path / "gaps.xlsx"
    xlsx.write_bytes(xlsx_with_gaps(DATA / "tree_2025_lao_cai.csv"))
    units = load_unit_list(xlsx)
    assert units.synthetic_phones == 3
    assert units.content[:2] == b"PK"  # still an .xlsx, for the bot's xlsx import


def test_a_bad_unit_list_is_refused_with_its_problems(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("code,parent_code,kind,name,registered_voters\nA,,tỉnh,A,\nB,A,kv,B,-3\n")
    with pytest.raises(demo.DemoError, match="dòng 3"):
        load_unit_list(path)
