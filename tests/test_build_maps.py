"""The dashboard's bundled maps (handlers/dashboard/build_maps.py): the simplification keeps
its promise, and the committed maps cover the official 2025 units, Hoàng Sa and Trường Sa
included, small enough for a phone."""

from __future__ import annotations

import csv
import io
import itertools
import json
import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handlers.dashboard.build_maps import OUTPUT, build_map, douglas_peucker, simplify_ring

OFFICIAL = Path(__file__).parents[1] / "fieldtally" / "data" / "vn_units_2025"
SHARED_GEO = Path("/work/shared/data/geo")


def official(name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO((OFFICIAL / name).read_text(encoding="utf-8-sig"))))


def distance_to_segment(
    p: tuple[float, float], a: tuple[float, float], b: tuple[float, float]
) -> float:
    dx, dy = b[0] - a[0], b[1] - a[1]
    if dx == 0 and dy == 0:
        return math.dist(p, a)
    t = max(0.0, min(1.0, ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / (dx * dx + dy * dy)))
    return math.dist(p, (a[0] + t * dx, a[1] + t * dy))


coordinates = st.floats(min_value=-1000, max_value=1000, allow_nan=False)
polylines = st.lists(st.tuples(coordinates, coordinates), min_size=2, max_size=60, unique=True)


@settings(deadline=None, max_examples=200)
@given(polylines, st.floats(min_value=0.1, max_value=50))
def test_douglas_peucker_keeps_the_ends_and_every_point_within_tolerance(
    points: list[tuple[float, float]], tolerance: float
) -> None:
    kept = douglas_peucker(points, tolerance)
    assert kept[0] == points[0] and kept[-1] == points[-1]
    # The kept points are a subsequence of the input, and every dropped point lies within
    # `tolerance` of the segment that replaced it.
    indexes = []
    start = 0
    for point in kept:
        start = points.index(point, start)
        indexes.append(start)
    for a, b in itertools.pairwise(indexes):
        for i in range(a + 1, b):
            assert distance_to_segment(points[i], points[a], points[b]) <= tolerance + 1e-9


@settings(deadline=None, max_examples=100)
@given(st.integers(min_value=3, max_value=200), st.floats(min_value=1, max_value=500))
def test_a_simplified_circle_stays_a_ring(sides: int, radius: float) -> None:
    ring = [
        (radius * math.cos(2 * math.pi * i / sides), radius * math.sin(2 * math.pi * i / sides))
        for i in range(sides)
    ]
    simple = simplify_ring([*ring, ring[0]], 1.0)
    assert 2 <= len(simple) <= sides
    assert all(point in ring for point in simple)


def test_the_maps_cover_the_official_2025_units() -> None:
    provinces = json.loads((OUTPUT / "provinces.json").read_text(encoding="utf-8"))
    assert sorted(f["code"] for f in provinces["features"]) == sorted(
        r["province_code"] for r in official("provinces.csv")
    )
    assert {label["text"] for label in provinces["labels"]} == {
        "Quần đảo Hoàng Sa",
        "Quần đảo Trường Sa",
    }
    assert {f["code"] for f in provinces["features"] if f.get("islands")} == {"48", "56"}
    communes = official("communes.csv")
    by_province: dict[str, set[str]] = {}
    for row in communes:
        by_province.setdefault(row["province_code"], set()).add(row["commune_code"])
    files = sorted((OUTPUT / "communes").glob("*.json"))
    assert len(files) == 34
    seen = 0
    for path in files:
        document = json.loads(path.read_text(encoding="utf-8"))
        codes = {f["code"] for f in document["features"]}
        assert codes == by_province[path.name[:2]], path.name
        # Every feature drawn (Hoàng Sa, all islands, only as its `islands` path).
        assert all((f["d"] or f.get("islands", "")).startswith("M") for f in document["features"])
        seen += len(codes)
        assert path.stat().st_size < 60_000, path.name  # a phone loads one quickly
    assert seen == len(communes) == 3321
    da_nang = json.loads((OUTPUT / "communes" / "48_da_nang.json").read_text(encoding="utf-8"))
    assert any(f.get("islands") and f["name"] == "Hoàng Sa" for f in da_nang["features"])


@pytest.mark.skipif(not SHARED_GEO.is_dir(), reason="the shared GIS files are not on this machine")
def test_the_committed_country_map_is_what_the_build_makes() -> None:
    source = json.loads((SHARED_GEO / "provinces.geojson").read_text(encoding="utf-8"))
    committed = json.loads((OUTPUT / "provinces.json").read_text(encoding="utf-8"))
    assert build_map(source, country=True) == committed
