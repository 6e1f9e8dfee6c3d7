"""Writes the results-night samples of Mường Khương 2021 (RESULTS.md's three files).

Real: the district's units and areas (`fieldtally/data/samples/muong_khuong_2021_units.csv`)
and its seats on the four ballots of 23/05/2021 (SOURCES.md): 5 HĐND tỉnh deputies elected
in the district, 33 HĐND huyện, 339 HĐND xã. Synthetic (seeded): how those seats are split
into electoral units (ĐBQH: one 3-seat unit of the province; HĐND tỉnh: 3 + 2 seats; HĐND
huyện: nine units of 4 or 3 seats over the 16 communes; HĐND xã: 3-seat units, 7 per xã and
8 for the thị trấn), which areas each unit counts, the candidates (the legal minimum: seats + 2
for ĐBQH and 3 seats, + 3 for 4–5 seats, + 1 for 1–2), and the per-ballot lists (a few
short-term residents vote only for ĐBQH, a soldier or two only up to HĐND tỉnh).

    python tests/data/results/make_sample.py   # rewrites muong_khuong_2021/ and three_communes/
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from pathlib import Path

HERE = Path(__file__).parent
UNITS = HERE.parents[2] / "fieldtally" / "data" / "samples" / "muong_khuong_2021_units.csv"
FAMILY = ("Nguyễn", "Lý", "Vàng", "Giàng", "Thào", "Hoàng", "Lù", "Sùng", "Tráng", "Lồ",
          "Phạm", "Trần", "Lê", "Vũ", "Đỗ", "Nông", "Chảo", "Tẩn", "Hầu", "Mã")  # fmt: skip
MIDDLE = ("Văn", "Thị", "Seo", "A", "Thị Mỷ", "Đức", "Minh", "Quốc", "Ngọc", "Xuân")
GIVEN = ("Páo", "Chứ", "Sính", "Mai", "Lan", "Dũng", "Hùng", "Thắm", "Hà", "Phương", "Vần",
         "Sử", "Chiến", "Hương", "Nhung", "Tuấn", "Sơn", "Dế", "Chúng", "Hoa", "Long", "Thanh",
         "Vinh", "Phử", "Mẩy", "Lìn", "Chinh", "Tùng")  # fmt: skip
THREE_COMMUNES = ("02752", "02761", "02797")


def minimum(ballot: str, seats: int) -> int:
    if ballot == "qh" or seats == 3:
        return seats + 2
    return seats + 1 if seats <= 2 else seats + 3


def main() -> None:
    rng = random.Random(20210523)
    with UNITS.open(encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    communes = [r for r in rows if r["kind"] in ("xã", "thị trấn")]
    areas = {c["code"]: [r for r in rows if r["parent_code"] == c["code"]] for c in communes}
    voters = {r["code"]: int(r["registered_voters"]) for r in rows if r["registered_voters"]}

    units: list[dict[str, object]] = []  # ballot, code, name, seats, organizing_unit, areas
    every_area = [a["code"] for c in communes for a in areas[c["code"]]]
    units.append(dict(ballot="qh", code="QH-LC-2", name="Đơn vị bầu cử số 2", seats=3,
                      organizing_unit="LC", areas=every_area))  # fmt: skip
    half = [c["code"] for c in communes[:8]], [c["code"] for c in communes[8:]]
    for number, (seats, group) in enumerate(zip((3, 2), half, strict=True), 11):
        units.append(dict(ballot="tinh", code=f"T-LC-{number}", seats=seats,
                          name=f"Đơn vị bầu cử số {number}", organizing_unit="LC",
                          areas=[a["code"] for g in group for a in areas[g]]))  # fmt: skip
    huyen_seats = (4, 4, 4, 4, 4, 4, 3, 3, 3)  # 33
    start = 0
    for number, seats in enumerate(huyen_seats, 1):
        size = 2 if number <= 7 else 1
        group = communes[start : start + size]
        start += size
        units.append(dict(ballot="huyen", code=f"H-MK-{number:02d}", seats=seats,
                          name=f"Đơn vị bầu cử số {number}", organizing_unit="MK",
                          areas=[a["code"] for c in group for a in areas[c["code"]]]))  # fmt: skip
    for commune in communes:
        count = 8 if commune["kind"] == "thị trấn" else 7  # 8×3 + 15×7×3 = 339
        commune_areas = [a["code"] for a in areas[commune["code"]]]
        chunks = [commune_areas[i::count] for i in range(count)]
        short = commune["name"].split(" ", 1)[1].replace("trấn ", "")
        for number, chunk in enumerate(chunks, 1):
            units.append(dict(ballot="xa", code=f"X-{commune['code']}-{number}", seats=3,
                              name=f"Đơn vị bầu cử số {number} – {short}",
                              organizing_unit=commune["code"], areas=sorted(chunk)))  # fmt: skip
    assert sum(u["seats"] for u in units if u["ballot"] == "tinh") == 5  # type: ignore[misc]
    assert sum(u["seats"] for u in units if u["ballot"] == "huyen") == 33  # type: ignore[misc]
    assert sum(u["seats"] for u in units if u["ballot"] == "xa") == 339  # type: ignore[misc]

    candidates = []
    for unit in units:
        seats = int(unit["seats"])  # type: ignore[call-overload]
        for number in range(1, minimum(str(unit["ballot"]), seats) + 1):
            name = f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"
            born = dt.date(1960, 1, 1) + dt.timedelta(days=rng.randrange(365 * 36))
            candidates.append((unit["ballot"], unit["code"], number, name, born.isoformat()))

    lists: dict[tuple[str, str], int | None] = {}
    for area in every_area:
        qh = voters[area]
        tinh = qh - rng.choice((0, 0, 0, 1, 2, 3))
        huyen = tinh - rng.choice((0, 0, 0, 1))
        for ballot, size in (("qh", qh), ("tinh", tinh), ("huyen", huyen), ("xa", huyen)):
            lists[(area, ballot)] = None if size == qh else size

    for folder, keep in (("muong_khuong_2021", None), ("three_communes", THREE_COMMUNES)):
        def kept(area: str, keep: tuple[str, ...] | None = keep) -> bool:
            return keep is None or area.split("-")[0] in keep

        chosen = [u for u in units if any(kept(a) for a in u["areas"])]  # type: ignore[attr-defined]
        codes = {u["code"] for u in chosen}
        out = HERE / folder
        out.mkdir(exist_ok=True)
        with (out / "electoral_units.csv").open("w", encoding="utf-8", newline="") as file:
            writer = csv.writer(file, lineterminator="\n")
            writer.writerow(("ballot", "code", "name", "seats", "organizing_unit"))
            for u in chosen:
                writer.writerow((u["ballot"], u["code"], u["name"], u["seats"], u["organizing_unit"]))
        with (out / "candidates.csv").open("w", encoding="utf-8", newline="") as file:
            writer = csv.writer(file, lineterminator="\n")
            writer.writerow(("ballot", "electoral_unit", "number", "name", "birth_date"))
            writer.writerows(c for c in candidates if c[1] in codes)
        with (out / "area_ballots.csv").open("w", encoding="utf-8", newline="") as file:
            writer = csv.writer(file, lineterminator="\n")
            writer.writerow(("area_code", "ballot", "electoral_unit", "registered_voters"))
            for u in chosen:
                for area in u["areas"]:  # type: ignore[attr-defined]
                    if kept(area):
                        size = lists[(area, str(u["ballot"]))]
                        writer.writerow((area, u["ballot"], u["code"], "" if size is None else size))


if __name__ == "__main__":
    main()
