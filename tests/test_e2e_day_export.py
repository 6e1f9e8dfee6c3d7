"""A replayed day on real-shaped trees (4-level 2021, 3-level 2025): the export, cell by cell,
equals totals this test computes itself from what it sent."""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import openpyxl
import pytest

from bot import texts
from bot.channel import Address
from bot.core import Core, Where
from bot.monitoring.names import name_order_key, short_name
from bot.monitoring.views import Summary
from bot.registration.phones import normalize_phone
from tests.harness import ADMIN_ID, DATA, TZ, BotRun, at
from tests.test_e2e_import_register import export_csv

TREES = {
    "2021 four levels": (DATA / "tree_2021_bac_ha.csv", 3),
    "2025 three levels": (DATA / "tree_2025_lao_cai.csv", 2),
}


@dataclass
class Expected:
    """What one area should show, from the reports the test sent."""

    voters: int
    staff: int | None
    voted: int = 0
    reported: bool = False
    finished: bool = False
    tested: int = 0
    tally_total: int = 0
    positives: int = 0
    times: list[dt.datetime] = field(default_factory=list)


def plan_day(rng: random.Random, area: dict[str, str]) -> tuple[list[str], Expected]:
    """Messages a chief sends for one area, and what the area should end with."""
    voters = int(area["registered_voters"])
    staff = int(area["staff"]) if area.get("staff") else None
    expected = Expected(voters=voters, staff=staff)
    messages: list[str] = []
    if rng.random() < 0.15:  # some areas never report
        return messages, expected
    first = rng.randint(0, voters // 2)
    second = rng.randint(first, voters)
    messages.append(f"{first}/{voters} 9h")
    messages.append(f"cu tri {second:,}/{voters:,} luc 11 gio".replace(",", "."))
    expected.voted, expected.reported = second, True
    expected.times += [at(9), at(11)]
    if rng.random() < 0.6:
        final = rng.randint(second, voters)
        messages.append(f"kết thúc 14h30 {final}/{voters}")
        expected.voted, expected.finished = final, True
        expected.times.append(at(14, 30))
    if rng.random() < 0.7:
        total = staff if staff is not None else rng.randint(11, 20)
        tested = rng.randint(total - 2, total)
        positives = rng.choice([0, 0, 0, 1])
        result = "am tinh" if positives == 0 else f"duong tinh {positives}"
        messages.append(f"XN {tested}/{total} {result}")
        expected.tested, expected.tally_total, expected.positives = tested, total, positives
        expected.times.append(at(20))  # no stated time: the message's arrival
    return messages, expected


def expected_rows(units: list[dict[str, str]], areas: dict[str, Expected]) -> dict[str, list[str]]:
    children: dict[str, list[str]] = {}
    for unit in units:
        children.setdefault(unit["parent_code"], []).append(unit["code"])

    def totals(code: str) -> list[int | dt.datetime | None]:
        if code in areas:
            a = areas[code]
            staff_total = a.staff if a.staff is not None else a.tally_total
            last = max(a.times) if a.times else None
            return [
                1,
                int(a.reported),
                int(a.finished),
                a.voters,
                a.voted,
                staff_total,
                a.tested,
                a.positives,
                last,
            ]
        parts = [totals(child) for child in children.get(code, [])]
        sums: list[int | dt.datetime | None] = [
            sum(int(p[i] or 0) for p in parts)  # type: ignore[call-overload]
            for i in range(8)
        ]
        times = [p[8] for p in parts if p[8] is not None]
        return [*sums, max(times) if times else None]  # type: ignore[type-var]

    rows = {}
    for unit in units:
        t = totals(unit["code"])
        voters, voted = int(t[3] or 0), int(t[4] or 0)  # type: ignore[arg-type]
        percent = (Decimal(voted * 100) / Decimal(voters) if voters else Decimal(0)).quantize(
            Decimal("0.01"), rounding=ROUND_HALF_UP
        )
        last = t[8]
        assert last is None or isinstance(last, dt.datetime)
        rows[unit["code"]] = [
            unit["code"],
            unit["parent_code"],
            unit["kind"],
            unit["name"],
            *(str(v) for v in t[:5]),
            str(percent),
            *(str(v) for v in t[5:8]),
            "" if last is None else last.astimezone(TZ).isoformat(),
        ]
    return rows


def vn_percent(voted: int, voters: int) -> str:
    value = Decimal(voted * 100) / Decimal(voters) if voters else Decimal(0)
    return f"{value.quantize(Decimal('0.1'), rounding=ROUND_HALF_UP)}%".replace(".", ",")


def vn_int(value: int) -> str:
    return f"{value:,}".replace(",", ".")


async def check_summary_and_charts(
    bot: BotRun, units: list[dict[str, str]], want: dict[str, list[str]]
) -> None:
    """/tonghop's numbers and the chart's bars equal the test's own aggregates."""
    root = units[0]["code"]
    children = [u for u in units if u["parent_code"] == root]
    records = await bot.say(bot.user(ADMIN_ID), f"/tonghop {root}")
    text = records[0].text or ""
    voters, voted = int(want[root][7]), int(want[root][8])
    assert f"Cử tri đã bầu: {vn_int(voted)}/{vn_int(voters)} ({vn_percent(voted, voters)})" in text
    assert f"đã xong: {vn_int(int(want[root][6]))}/{vn_int(int(want[root][4]))}" in text
    for child in children[:15]:
        row = want[child["code"]]
        line = f"{child['name']} ({child['code']}): {vn_percent(int(row[8]), int(row[7]))}"
        assert line in text, line
    photos = [r for r in records if r.method == "sendPhoto"]
    assert len(photos) == 2 and all(p.photo and p.photo.width == 1080 for p in photos)
    # The bars drawn: read the same database with a second core, as the bot's own code does.
    core = await Core.open(bot.settings, chart_workers=0)
    try:
        admin = Address("telegram", str(ADMIN_ID))
        summary = await core.view_summary(Where(admin, admin), [root])
        assert isinstance(summary, Summary)
        bars = summary.chart_values[0]
        # In Vietnamese name order (bot.monitoring.names, tested rule by rule in test_chart_rules),
        # each
        # child named shortly under the root, with its own turnout; the silent ones marked.
        root_name = units[0]["name"]
        expected_bars = sorted(
            (
                (
                    short_name(child["name"], root_name),
                    Decimal(row[8]) * 100 / Decimal(row[7]) if int(row[7]) else Decimal(0),
                    int(row[5]),
                )
                for child in children
                for row in [want[child["code"]]]
            ),
            key=lambda bar: name_order_key(bar[0]),
        )
        assert [label for label, _ in bars] == [name for name, _, _ in expected_bars]
        assert [value for _, value in bars] == [
            float(p.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)) for _, p, _ in expected_bars
        ]
        assert summary.not_reported[0] == tuple(name for name, _, n in expected_bars if n == 0)
    finally:
        await core.close()


async def check_xlsx_matches_csv(bot: BotRun, root: str, csv_rows: list[dict[str, str]]) -> None:
    """The .xlsx for people holds the CSV's figures, typed and formatted: counts as numbers,
    the percentage as a fraction, the last report as a date-time (local, naive)."""
    [reply] = await bot.say(bot.user(ADMIN_ID), f"/xuat {root} xlsx")
    assert reply.document is not None and (reply.document.filename or "").endswith(".xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(reply.document.content), read_only=True).active
    title, header, *rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert str(title[0]).startswith("Tổng hợp báo cáo bầu cử – ") and f"({root})" in title[0]
    assert header == [texts.EXPORT_HEADERS_VI[name] for name in csv_rows[0]]
    assert len(rows) == len(csv_rows)
    for row, expected in zip(rows, csv_rows, strict=True):
        padded = row + [None] * (len(header) - len(row))  # empty trailing cells are not stored
        by_name = dict(zip(csv_rows[0], padded, strict=True))
        for name in ("areas_total", "voted", "registered_voters", "staff_tested", "positives"):
            assert isinstance(by_name[name], int) and str(by_name[name]) == expected[name]
        assert isinstance(by_name["turnout_percent"], int | float)  # 0.0 is stored as 0
        assert by_name["turnout_percent"] == pytest.approx(float(expected["turnout_percent"]) / 100)
        assert by_name["code"] == expected["code"] and by_name["name"] == expected["name"]
        last = by_name["last_report_at"]
        if expected["last_report_at"]:
            stated = dt.datetime.fromisoformat(expected["last_report_at"])
            assert last == stated.replace(tzinfo=None)
        else:
            assert last is None
    # What a person sees in Excel: formats, the filter over the header, the frozen header.
    full = openpyxl.load_workbook(io.BytesIO(reply.document.content)).active
    assert full["H3"].number_format == "#,##0" and full["J3"].number_format == "0.00%"
    assert full.auto_filter.ref == f"A2:N{2 + len(csv_rows)}" and full.freeze_panes == "A3"
    assert full["D3"].font.b and full.page_setup.orientation == "landscape"


async def check_missing(bot: BotRun, root: str, never_reported: list[str]) -> None:
    parts = await bot.texts_of(bot.user(ADMIN_ID), f"/chuabaocao {root}")
    listed = re.findall(r"^• .*\(([A-Za-z0-9._-]+)\):", "\n".join(parts), flags=re.MULTILINE)
    assert sorted(listed) == sorted(never_reported)
    assert never_reported  # the day plan leaves some areas silent


@pytest.mark.parametrize("tree", TREES, ids=list(TREES))
async def test_replayed_day_export_matches_cell_by_cell(bot: BotRun, tree: str) -> None:
    path, area_depth = TREES[tree]
    content = path.read_bytes()
    units = list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))
    parents = {u["parent_code"] for u in units}
    leaves = [u for u in units if u["code"] not in parents]
    assert (await bot.import_units(content)).startswith("✅")

    rng = random.Random(f"{tree}-day")
    plans: dict[str, Expected] = {}
    plans_sent: dict[str, bool] = {}
    for number, area in enumerate(leaves):
        messages, expected = plan_day(rng, area)
        plans[area["code"]] = expected
        plans_sent[area["code"]] = bool(messages)
        phone = normalize_phone(area["contact_phones"].split(";")[0])
        assert phone is not None
        chief = bot.user(10_000 + number)
        [registered] = await bot.share_contact(chief, phone)
        assert registered.startswith("✅") and area["code"] in registered
        prefix = "" if registered.count("• ") == 1 else f"{area['code']}: "
        for text in messages:
            [reply] = await bot.texts_of(chief, prefix + text, date=at(20))
            assert reply.startswith("✅"), (text, reply)

    exported = await export_csv(bot)
    want = expected_rows(units, plans)
    assert len(exported) == len(units)
    assert exported[0]["code"] == units[0]["code"]  # the root first
    seen: set[str] = set()
    for row in exported:  # depth-first: a unit comes after its parent
        assert row["parent_code"] == "" or row["parent_code"] in seen
        seen.add(row["code"])
        assert list(row.values()) == want[row["code"]], row["code"]
    await check_xlsx_matches_csv(bot, units[0]["code"], exported)
    await check_summary_and_charts(bot, units, want)
    await check_missing(
        bot, units[0]["code"], [a["code"] for a in leaves if not plans_sent[a["code"]]]
    )
    # the tree really has the depth it claims
    depth = {u["code"]: 0 for u in units if not u["parent_code"]}
    for u in units:
        if u["parent_code"]:
            depth[u["code"]] = depth[u["parent_code"]] + 1
    assert {depth[a["code"]] for a in leaves} == {area_depth}


async def test_subtree_export_starts_with_the_unit(bot: BotRun, tmp_path: Path) -> None:
    content = TREES["2025 three levels"][0].read_bytes()
    units = list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))
    assert (await bot.import_units(content)).startswith("✅")
    commune = units[1]["code"]
    rows = await export_csv(bot, commune)
    assert rows[0]["code"] == commune
    children = [u["code"] for u in units if u["parent_code"] == commune]
    assert [r["code"] for r in rows[1:]] == children
