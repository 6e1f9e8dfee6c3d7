"""Build the dashboard's bundled maps from the shared boundaries (at build time, not by the bot).

Input: a folder like `shared/data/geo/` (`provinces.geojson`, 34 provinces, and
`communes/{code}_{code_name}.geojson`, one file per province; `vietnamese-provinces-database`,
MIT, see that folder's SOURCES.md). Output: `handlers/dashboard/static/maps/provinces.json` and
`.../maps/communes/{code}_{code_name}.json`, committed so a clone works alone.

Each output is already projected and simplified for a phone: the boundaries are projected
(equirectangular, x scaled by cos of the middle latitude, north up) onto a box whose longer side
is `SIZE` units, simplified with Douglas-Peucker (plain Python, no GIS dependency) to about one
unit, rounded to whole units and written as SVG path data (first point absolute, then relative
moves), so the page draws each feature as one `<path>` without any projection code:

    {"width": W, "height": H, "features": [{"code": "02647", "name": "Lào Cai", "d": "M…z"}],
     "labels": [{"text": "Quần đảo Hoàng Sa", "x": …, "y": …}]}

Islands too small to survive the rounding are dropped, except the offshore islands of Đà Nẵng
(48: Hoàng Sa) and Khánh Hòa (56: Trường Sa), which are kept on every map (a tiny marker at
least) as the feature's separate `islands` path (the page outlines them so they stay
visible), and labelled on the country's map.

    python -m handlers.dashboard.build_maps /work/shared/data/geo
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path

OUTPUT = Path(__file__).parent / "static" / "maps"
SIZE = 1000.0  # the longer side of every map, in path units
TOLERANCE = 0.9  # Douglas-Peucker tolerance, in path units
MIN_AREA = 3.0  # rings smaller than this (square units) are dropped, the offshore islands aside
ARCHIPELAGOS = {
    # province code: (label, longitude west of which a ring is the mainland)
    "48": ("Quần đảo Hoàng Sa", 110.5),
    "56": ("Quần đảo Trường Sa", 110.0),
}

Point = tuple[float, float]


def _rings(geometry: dict[str, object]) -> list[list[list[Point]]]:
    """The polygons of a Polygon or MultiPolygon, each a list of rings."""
    coords = geometry["coordinates"]
    assert isinstance(coords, list)
    if geometry["type"] == "Polygon":
        return [[[(float(x), float(y)) for x, y, *_ in ring] for ring in coords]]
    return [[[(float(x), float(y)) for x, y, *_ in ring] for ring in poly] for poly in coords]


def _segment_distance(p: Point, a: Point, b: Point) -> float:
    dx, dy = b[0] - a[0], b[1] - a[1]
    if dx == 0 and dy == 0:
        return math.hypot(p[0] - a[0], p[1] - a[1])
    t = max(0.0, min(1.0, ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / (dx * dx + dy * dy)))
    return math.hypot(p[0] - a[0] - t * dx, p[1] - a[1] - t * dy)


def douglas_peucker(points: Sequence[Point], tolerance: float) -> list[Point]:
    """The points of a polyline that keep it within `tolerance` (iterative, no recursion limit)."""
    if len(points) < 3:
        return list(points)
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        first, last = stack.pop()
        worst, index = 0.0, -1
        for i in range(first + 1, last):
            distance = _segment_distance(points[i], points[first], points[last])
            if distance > worst:
                worst, index = distance, i
        if index >= 0 and worst > tolerance:
            keep[index] = True
            stack.append((first, index))
            stack.append((index, last))
    return [p for p, kept in zip(points, keep, strict=True) if kept]


def simplify_ring(ring: Sequence[Point], tolerance: float) -> list[Point]:
    """A closed ring simplified, split at its farthest point so both halves keep their ends."""
    if ring and ring[0] == ring[-1]:
        ring = ring[:-1]
    if len(ring) < 4:
        return list(ring)
    far = max(range(len(ring)), key=lambda i: math.dist(ring[0], ring[i]))
    first = douglas_peucker([*ring[: far + 1]], tolerance)
    second = douglas_peucker([*ring[far:], ring[0]], tolerance)
    return first[:-1] + second[:-1]


def ring_area(ring: Sequence[Point]) -> float:
    return (
        abs(sum(a[0] * b[1] - b[0] * a[1] for a, b in zip(ring, [*ring[1:], ring[0]], strict=True)))
        / 2
    )


class Projection:
    """Longitude/latitude to map units: equirectangular at the middle latitude, north up."""

    def __init__(self, bounds: tuple[float, float, float, float], size: float = SIZE) -> None:
        west, south, east, north = bounds
        self.kx = math.cos(math.radians((south + north) / 2))
        span = max((east - west) * self.kx, north - south)
        self.scale = size / span
        self.west, self.north = west, north
        self.width = math.ceil((east - west) * self.kx * self.scale)
        self.height = math.ceil((north - south) * self.scale)

    def __call__(self, point: Point) -> Point:
        return ((point[0] - self.west) * self.kx * self.scale, (self.north - point[1]) * self.scale)


def _path(rings: Sequence[Sequence[tuple[int, int]]]) -> str:
    parts: list[str] = []
    for ring in rings:
        x0, y0 = ring[0]
        out = [f"M{x0} {y0}"]
        steps: list[str] = []
        for (ax, ay), (bx, by) in itertools.pairwise(ring):
            steps.append(f"{bx - ax} {by - ay}")
        if steps:
            out.append("l" + " ".join(steps).replace(" -", "-"))
        out.append("z")
        parts.append("".join(out))
    return "".join(parts)


def _rounded(ring: Sequence[Point]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for x, y in ring:
        p = (round(x), round(y))
        if not out or out[-1] != p:
            out.append(p)
    while len(out) > 1 and out[0] == out[-1]:
        out.pop()
    return out


def _marker(ring: Sequence[Point]) -> list[tuple[int, int]]:
    """A tiny island as a small diamond, so it stays visible."""
    cx = round(sum(p[0] for p in ring) / len(ring))
    cy = round(sum(p[1] for p in ring) / len(ring))
    return [(cx, cy - 1), (cx + 1, cy), (cx, cy + 1), (cx - 1, cy)]


def build_map(collection: dict[str, object], *, country: bool) -> dict[str, object]:
    """One FeatureCollection as the page's map document (see the module's docstring)."""
    features = collection["features"]
    assert isinstance(features, list)
    points = [p for f in features for poly in _rings(f["geometry"]) for r in poly for p in r]
    bounds = (
        min(p[0] for p in points),
        min(p[1] for p in points),
        max(p[0] for p in points),
        max(p[1] for p in points),
    )
    project = Projection(bounds)
    out_features: list[dict[str, str]] = []
    offshore: dict[str, list[Point]] = {}
    for feature in features:
        code = str(feature.get("id") or feature["properties"]["code"])
        properties = feature["properties"]
        province = code[:2] if len(code) == 2 else str(properties.get("provinceCode", ""))
        archipelago = ARCHIPELAGOS.get(code if country else province)
        kept: list[list[tuple[int, int]]] = []
        islands: list[list[tuple[int, int]]] = []
        polygons = _rings(feature["geometry"])
        largest = max((r[0] for r in polygons), key=lambda r: ring_area([project(p) for p in r]))
        for polygon in polygons:
            ring = polygon[0]  # holes: too small to matter at this scale
            is_island = archipelago is not None and min(p[0] for p in ring) > archipelago[1]
            projected = [project(p) for p in ring]
            simple = _rounded(simplify_ring(projected, TOLERANCE))
            shape = simple if len(simple) >= 3 else _marker(projected)
            if is_island and archipelago is not None:
                islands.append(shape)
                offshore.setdefault(archipelago[0], []).extend(projected)
            elif (len(simple) >= 3 and ring_area(simple) >= MIN_AREA) or ring is largest:
                kept.append(shape)
        entry = {"code": code, "name": str(properties["name"]), "d": _path(kept)}
        if islands:
            entry["islands"] = _path(islands)
        out_features.append(entry)
    labels = []
    if country:
        for text, where in offshore.items():
            xs = sorted(p[0] for p in where)
            ys = sorted(p[1] for p in where)
            labels.append({"text": text, "x": round(xs[len(xs) // 2]), "y": round(min(ys)) - 12})
    out_features.sort(key=lambda f: f["code"])
    return {
        "width": project.width,
        "height": project.height,
        "features": out_features,
        "labels": labels,
    }


def _write(document: dict[str, object], path: Path) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    path.write_text(text + "\n", encoding="utf-8")
    return len(text.encode()) + 1


def build_all(source: Path, output: Path = OUTPUT) -> dict[str, int]:
    """Every map of `source` into `output`; the bytes written per file."""
    sizes: dict[str, int] = {}
    provinces = json.loads((source / "provinces.geojson").read_text(encoding="utf-8"))
    sizes["provinces.json"] = _write(build_map(provinces, country=True), output / "provinces.json")
    for path in sorted((source / "communes").glob("*.geojson")):
        communes = json.loads(path.read_text(encoding="utf-8"))
        for feature in communes["features"]:
            feature["properties"].setdefault("provinceCode", path.name[:2])
        name = f"communes/{path.stem}.json"
        sizes[name] = _write(build_map(communes, country=False), output / name)
    return sizes


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="the geo folder (provinces.geojson, communes/)")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    sizes = build_all(args.source, args.output)
    for name, size in sizes.items():
        print(f"{size:>9,} {name}")
    print(f"{sum(sizes.values()):>9,} in all, largest {max(sizes.values()):,}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
