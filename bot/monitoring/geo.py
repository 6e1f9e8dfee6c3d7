"""Which map applies to a unit: the official 2025 codes the bundled boundaries use.

The boundaries (`vietnamese-provinces-database`, MIT; see fieldtally/data/SOURCES.md) come as
one file of the 34 provinces and one file of communes per province,
`communes/{province code}_{code name}.geojson`, each feature's id an official code (`01`…`96`,
5-digit commune codes). A unit has a map when its children's codes are such codes: the
country's children are provinces (`provinces`), a province's children are its communes
(`communes/<file>`). Codes of another era (2021's districts) match nothing: no map.
"""

from __future__ import annotations

import csv
import importlib.resources
import io
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from bot.model import Unit

PROVINCES_MAP = "provinces"
# Wherever a map is shown (SOURCES.md asks for both names).
MAP_ATTRIBUTION = (
    "Ranh giới: vietnamese-provinces-database (MIT), từ Bản đồ tham chiếu đơn vị hành chính"
    " (sapnhap.bando.com.vn)"
)


def code_name(name: str) -> str:
    """`Hồ Chí Minh` -> `ho_chi_minh`: how the dataset names a province's file."""
    plain = name.replace("đ", "d").replace("Đ", "D")
    plain = "".join(c for c in unicodedata.normalize("NFD", plain) if not unicodedata.combining(c))
    return "_".join(plain.lower().split())


@dataclass(frozen=True, slots=True)
class GeoIndex:
    """Province codes with their communes file, and each commune's province."""

    province_files: Mapping[str, str] = field(default_factory=dict)  # "15" -> "15_lao_cai.geojson"
    commune_province: Mapping[str, str] = field(default_factory=dict)  # "02761" -> "15"

    @classmethod
    def from_rows(
        cls, provinces: Iterable[Mapping[str, str]], communes: Iterable[Mapping[str, str]]
    ) -> GeoIndex:
        """From the rows of the official lists (vn_units_2025's provinces.csv, communes.csv)."""
        files = {
            p["province_code"]: f"{p['province_code']}_{code_name(p['province_name'])}.geojson"
            for p in provinces
        }
        return cls(files, {c["commune_code"]: c["province_code"] for c in communes})

    def map_for(self, unit: Unit, children: Iterable[Unit]) -> str | None:
        """`provinces`, `communes/<file>`, or None when no child's code is in the dataset."""
        codes = [child.code for child in children]
        if any(code in self.province_files for code in codes):
            return PROVINCES_MAP
        provinces = {self.commune_province[c] for c in codes if c in self.commune_province}
        if not provinces:
            return None
        # Communes of one province: that province's file (its own code decides a tie).
        province = unit.code if unit.code in provinces else min(provinces)
        return f"communes/{self.province_files[province]}"


@lru_cache(maxsize=1)
def official_geo_index() -> GeoIndex:
    """The index of the official 2025 lists shipped with fieldtally (read once)."""
    folder = importlib.resources.files("fieldtally") / "data" / "vn_units_2025"

    def rows(name: str) -> list[dict[str, str]]:
        text = (folder / name).read_text(encoding="utf-8-sig")
        return list(csv.DictReader(io.StringIO(text)))

    return GeoIndex.from_rows(rows("provinces.csv"), rows("communes.csv"))
