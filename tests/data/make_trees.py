"""Write the two realistic unit files of tests/data from the real unit lists.

    .venv/bin/python tests/data/make_trees.py

Deterministic (seeded): re-running rewrites identical files; tests/test_units_file.py
checks that. Real: codes, names and kinds of the province, districts and communes
(fieldtally/data/, see its SOURCES.md). Synthetic: the polling areas ("khu vực bỏ
phiếu"), their voters, staff and every phone number (fake `+849130…` / `+849140…`).

* tree_2021_bac_ha.csv: 4 levels as on 23/05/2021: tỉnh Lào Cai (10) → huyện Bắc Hà
  (085) and Si Ma Cai (084) → their 29 communes (xã / thị trấn) → 2–4 areas each.
* tree_2025_lao_cai.csv: 3 levels after 01/07/2025: tỉnh Lào Cai (15) → 8 of its
  communes (xã / phường) → 2–4 areas each.
"""

from __future__ import annotations

import csv
import io
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent
UNITS = HERE.parents[1] / "fieldtally" / "data"
HEADER = ["code", "parent_code", "kind", "name", "registered_voters", "staff", "contact_phones"]

DISTRICTS_2021 = ("085", "084")  # Bắc Hà, Si Ma Cai
# Lào Cai 2025: two phường and the communes covering former Bắc Hà / Si Ma Cai
COMMUNES_2025 = ("02647", "03006", "02809", "02824", "02839", "02842", "02848", "02869")


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as file:
        return list(csv.DictReader(file))


def _csv(rows: list[list[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows(rows)
    return out.getvalue()


def _areas(
    rng: random.Random, commune_code: str, commune_name: str, phone_prefix: str, first: int
) -> list[list[str]]:
    """2–4 synthetic polling areas; phones numbered from `first`."""
    rows = []
    for k in range(1, rng.randint(2, 4) + 1):
        rows.append(
            [
                f"{commune_code}-{k:02d}",
                commune_code,
                "khu vực bỏ phiếu",
                f"Khu vực bỏ phiếu số {k} – {commune_name}",
                str(rng.randint(150, 900)),
                str(rng.randint(11, 21)),
                f"{phone_prefix}{first + k - 1:05d}",
            ]
        )
    return rows


def build_2021() -> str:
    rng = random.Random(20210523)
    prefix = "+849130"
    communes = _read(UNITS / "vn_units_2021" / "lao_cai_communes.csv")
    rows = [["10", "", "tỉnh", "Tỉnh Lào Cai", "", "", ""]]
    supervisor = 90001
    phones = 1
    for district in DISTRICTS_2021:
        mine = [c for c in communes if c["district_code"] == district]
        # district supervisors: two numbers, written the way people type them
        a, b = f"{supervisor:05d}", f"{supervisor + 1:05d}"
        two = f"0913 0{a[:2]} {a[2:]}; 0913.0{b[:2]}.{b[2:]}"
        supervisor += 2
        rows.append([district, "10", "huyện", mine[0]["district_full_name"], "", "", two])
        for index, commune in enumerate(mine):
            phone = ""
            if index % 5 == 0:  # a few commune supervisors
                phone = f"{prefix}{supervisor:05d}"
                supervisor += 1
            code, name = commune["commune_code"], commune["commune_name"]
            kind = commune["commune_type"].lower()
            rows.append([code, district, kind, commune["commune_full_name"], "", "", phone])
            areas = _areas(rng, code, name, prefix, phones)
            phones += len(areas)
            rows.extend(areas)
    return _csv(rows)


def build_2025() -> str:
    rng = random.Random(20260315)
    prefix = "+849140"
    communes = {c["commune_code"]: c for c in _read(UNITS / "vn_units_2025" / "communes.csv")}
    rows = [["15", "", "tỉnh", "Tỉnh Lào Cai", "", "", f"{prefix}90001"]]
    phones = 1
    for index, code in enumerate(COMMUNES_2025):
        commune = communes[code]
        assert commune["province_code"] == "15", code
        phone = f"{prefix}{90002 + index:05d}" if index % 3 == 0 else ""
        kind = commune["commune_type"].lower()
        rows.append([code, "15", kind, commune["commune_full_name"], "", "", phone])
        areas = _areas(rng, code, commune["commune_name"], prefix, phones)
        phones += len(areas)
        rows.extend(areas)
    return _csv(rows)


FILES = {"tree_2021_bac_ha.csv": build_2021, "tree_2025_lao_cai.csv": build_2025}


def main() -> None:
    for name, build in FILES.items():
        (HERE / name).write_text(build(), encoding="utf-8", newline="")
        print(f"wrote {HERE / name}")


if __name__ == "__main__":
    main()
