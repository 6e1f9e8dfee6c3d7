"""Results night on the live dashboard (DASHBOARD.md "On results night…", RESULTS.md "Roll-up,
winners"): the snapshot's `results` section, from the running totals as `/ketqua` reads them,
over the small night of tests/test_results_views.py (computed by hand there and here):

| unit | seats | valid | votes | % of valid | outcome |
|---|---|---|---|---|---|
| QH-1 | 2 | 2.978 | 1.760 1.440 1.370 1.386 | 59,10 48,35 46,00 46,54 | `đề nghị bầu thêm` |
| X1-1 | 2 | 2.070 | 1.750 1.400 500 | 84,54 67,63 24,15 | 2 elected |
| X1-2 | 1 | 810 | 405 405 | 50,00 50,00 | nobody over half: `bầu thêm` |
| X2-1 | 1 | 98 | 60 38 | 61,22 38,78 | 100 of 250 voted: `bầu lại` |

And that a confirmed record makes a new snapshot of its units (the store tells the cache).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.monitoring.dashboard import (
    DashboardSnapshots,
    read_snapshot,
    results_section,
    snapshot_json,
)
from bot.results.imports import import_results
from storage.database import StoreChange
from tests.memory import Day, open_day
from tests.test_results_views import AREA_BALLOTS, CANDIDATES, ELECTORAL_UNITS, NIGHT, store


@pytest.fixture
async def ballots(db_target: Path | str) -> AsyncIterator[Day]:
    """The small tree with the night's ballots imported; no record yet."""
    async with open_day(db_target) as day:
        outcome = await import_results(
            day.core.db,
            [
                ("electoral_units.csv", ELECTORAL_UNITS.encode()),
                ("candidates.csv", CANDIDATES.encode()),
                ("area_ballots.csv", AREA_BALLOTS.encode()),
            ],
        )
        assert outcome.stored, outcome.text
        yield day


async def section(day: Day, code: str) -> dict[str, Any] | None:
    unit = day.core.db.units.get(code)
    assert unit is not None
    return await results_section(day.core.db, unit)


def candidates(unit: dict[str, Any]) -> list[tuple[str, int, str, bool]]:
    return [(c["name"], c["votes"], c["percent_text"], c["elected"]) for c in unit["candidates"]]


async def test_no_record_means_no_results_section(ballots: Day) -> None:
    assert await section(ballots, "LC") is None
    unit = ballots.core.db.units.get("LC")
    assert unit is not None
    shown = snapshot_json(await read_snapshot(ballots.core.db, unit, ballots.core.now()))
    assert shown["results"] is None


async def test_a_complete_night_per_ballot(ballots: Day) -> None:
    await store(ballots, *NIGHT)
    shown = await section(ballots, "LC")
    assert shown is not None
    lines = [
        (
            b["ballot"], b["units_complete"], b["units_total"], b["seats_filled"], b["seats"],
            b["revotes"], b["additional_votes"], b["units_text"], b["seats_text"], b["flags_text"],
        )
        for b in shown["ballots"]
    ]  # fmt: skip
    assert lines == [
        ("qh", 1, 1, 1, 2, 0, 1, "1/1", "bầu được 1/2", "đề nghị bầu thêm: 1"),
        ("xa", 3, 3, 2, 4, 1, 1, "3/3", "bầu được 2/4", "bầu lại: 1; bầu thêm: 1"),
    ]
    assert shown["units_total"] == shown["units_shown"] == 4
    assert shown["more_text"] is None


async def test_each_unit_its_candidates_marks_and_flags(ballots: Day) -> None:
    await store(ballots, *NIGHT)
    shown = await section(ballots, "LC")
    assert shown is not None
    units = {u["code"]: u for u in shown["units"]}
    assert list(units) == ["QH-1", "X1-1", "X1-2", "X2-1"]
    qh, x11, x12, x21 = units.values()
    assert candidates(qh) == [
        ("Hầu Ngọc Chúng", 1760, "59,10%", True),
        ("Tráng Văn Hoa", 1440, "48,35%", False),
        ("Hầu Thị Mỷ Dế", 1370, "46,00%", False),
        ("Nguyễn Minh Mẩy", 1386, "46,54%", False),
    ]
    assert (qh["valid"], qh["flag"], qh["flag_text"]) == (
        2978,
        "additional vote",
        "đề nghị bầu thêm",
    )
    assert candidates(x11) == [
        ("Lù Văn Sử", 1750, "84,54%", True),
        ("Thào Thị Mai", 1400, "67,63%", True),
        ("Giàng Seo Phử", 500, "24,15%", False),
    ]
    assert (x11["flag"], x11["flag_text"]) == (None, None)
    assert candidates(x12) == [
        ("Vàng Văn Dũng", 405, "50,00%", False),
        ("Sần Thị Lan", 405, "50,00%", False),
    ]
    assert [c["percent"] for c in x12["candidates"]] == [50.0, 50.0]
    assert (x12["flag"], x12["flag_text"]) == ("additional vote", "bầu thêm")
    assert candidates(x21) == [
        ("Tẩn Văn Chảo", 60, "61,22%", False),
        ("Lồ Thị Hoa", 38, "38,78%", False),
    ]
    assert (x21["flag"], x21["flag_text"]) == ("re-vote", "bầu lại")
    for unit in units.values():
        assert unit["complete"] is True
        assert unit["status_text"] == "tạm tính"
        assert unit["areas_reported"] == unit["areas_mapped"]


async def test_an_incomplete_unit_elects_nobody_yet(ballots: Day) -> None:
    await store(ballots, NIGHT[5])  # KV01 for X1-1 only
    shown = await section(ballots, "X1")
    assert shown is not None
    [xa] = shown["ballots"]
    assert (xa["units_complete"], xa["units_total"], xa["seats_filled"], xa["seats"]) == (
        0,
        2,
        0,
        3,
    )
    x11, x12 = shown["units"]
    assert (x11["code"], x11["areas_reported"], x11["areas_mapped"], x11["complete"]) == (
        "X1-1", 1, 2, False,
    )  # fmt: skip
    assert x11["areas_text"] == "biên bản 1/2 KV"
    assert x11["status_text"] == "chưa đủ biên bản"
    assert x11["flag"] is None
    assert candidates(x11) == [
        ("Lù Văn Sử", 250, "86,21%", False),
        ("Thào Thị Mai", 200, "68,97%", False),
        ("Giàng Seo Phử", 100, "34,48%", False),
    ]
    assert (x12["areas_reported"], x12["valid"], x12["candidates"][0]["percent_text"]) == (
        0,
        0,
        "0,00%",
    )


async def test_a_unit_sees_the_electoral_units_organized_in_its_subtree(ballots: Day) -> None:
    await store(ballots, *NIGHT)
    x2 = await section(ballots, "X2")
    assert x2 is not None
    assert [u["code"] for u in x2["units"]] == ["X2-1"]  # QH-1 is the province's
    assert [b["ballot"] for b in x2["ballots"]] == ["xa"]
    mk = await section(ballots, "MK")
    assert mk is not None
    assert [u["code"] for u in mk["units"]] == ["X1-1", "X1-2", "X2-1"]


async def test_a_big_unit_lists_some_units_and_counts_the_rest(ballots: Day) -> None:
    await store(ballots, *NIGHT)
    unit = ballots.core.db.units.get("LC")
    assert unit is not None
    shown = await results_section(ballots.core.db, unit, shown=2)
    assert shown is not None
    assert [u["code"] for u in shown["units"]] == ["QH-1", "X1-1"]
    assert (shown["units_total"], shown["units_shown"]) == (4, 2)
    assert shown["more_text"] == "và 2 đơn vị bầu cử khác"
    assert sum(b["units_total"] for b in shown["ballots"]) == 4  # the lines count them all


async def test_a_confirmed_record_tells_the_dashboards_of_its_units(ballots: Day) -> None:
    db = ballots.core.db
    heard: list[StoreChange] = []
    stop = db.listen(heard.append)
    try:
        await store(ballots, NIGHT[9])  # KV05 for X2-1
    finally:
        stop()
    [change] = heard
    assert {"KV05", "X2", "MK", "LC"} <= change.totals
    assert "X1" not in change.totals


async def test_one_new_snapshot_per_confirmed_record(ballots: Day) -> None:
    db = ballots.core.db
    snapshots = DashboardSnapshots(db, ballots.core.now, max_age=3600)
    try:
        unit = db.units.get("X2")
        assert unit is not None
        before = await snapshots.get(unit)
        assert before.results is None
        assert (await snapshots.get(unit)).version == before.version  # cached
        await store(ballots, NIGHT[9])
        after = await snapshots.get(unit)
        assert after.version == before.version + 1
        assert after.results is not None
        assert after.results["units"][0]["flag"] == "re-vote"
        assert snapshots.computed == 2
    finally:
        snapshots.close()
