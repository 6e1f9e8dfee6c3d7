"""A replayed day on real-shaped trees (4-level 2021, 3-level 2025): the export, cell by cell,
equals totals this test computes itself from what it sent."""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from bot.phones import normalize_phone
from tests.harness import DATA, TZ, BotRun, at
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
            return [1, int(a.reported), int(a.finished), a.voters, a.voted, staff_total,
                    a.tested, a.positives, last]  # fmt: skip
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
        percent = (
            Decimal(voted * 100) / Decimal(voters) if voters else Decimal(0)
        ).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        last = t[8]
        assert last is None or isinstance(last, dt.datetime)
        rows[unit["code"]] = [
            unit["code"], unit["parent_code"], unit["kind"], unit["name"],
            *(str(v) for v in t[:5]), str(percent), *(str(v) for v in t[5:8]),
            "" if last is None else last.astimezone(TZ).isoformat(),
        ]  # fmt: skip
    return rows


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
    for number, area in enumerate(leaves):
        messages, expected = plan_day(rng, area)
        plans[area["code"]] = expected
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
