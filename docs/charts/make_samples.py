"""Write the sample charts in this folder: Huyện Mường Khương (Lào Cai) at 11:05 on election day.

Run from the repository root: `.venv/bin/python docs/charts/make_samples.py`.
Add `--time` to also print how long each chart takes to render (median of 10, after a warm-up).
The numbers are invented but shaped like a real morning: polls open at 07:00, areas report
hourly, a few remote communes lag behind.
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.charts import DaySeries, TurnoutByChild, TurnoutOverDay, UnitBar, render
from bot.formatting import vn_int

HERE = Path(__file__).resolve().parent
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
DAY = dt.date(2021, 5, 23)
NOW = dt.datetime.combine(DAY, dt.time(11, 5), TZ)
OPEN = dt.datetime.combine(DAY, dt.time(7, 0), TZ)

# name, voters, areas total, areas reported at 11:05, pace (hours to reach ~63 % of the way)
COMMUNES = (
    ("Xã Pha Long", 2_874, 9, 9, 1.7),
    ("Xã Tả Ngải Chồ", 2_301, 8, 6, 3.6),
    ("Xã Tung Chung Phố", 1_642, 5, 5, 1.4),
    ("Thị trấn Mường Khương", 4_513, 11, 11, 1.1),
    ("Xã Dìn Chin", 1_918, 6, 5, 2.9),
    ("Xã Tả Gia Khâu", 2_265, 7, 7, 2.2),
    ("Xã Nậm Chảy", 2_106, 7, 6, 4.4),
    ("Xã Nấm Lư", 2_547, 8, 8, 1.6),
    ("Xã Lùng Khấu Nhin", 2_089, 7, 7, 1.9),
    ("Xã Thanh Bình", 2_392, 8, 8, 1.3),
    ("Xã Cao Sơn", 2_973, 9, 7, 3.2),
    ("Xã Lùng Vai", 3_120, 9, 9, 1.2),
    ("Xã Bản Lầu", 3_466, 10, 10, 1.0),
    ("Xã La Pan Tẩn", 1_873, 6, 4, 6.8),
    ("Xã Tả Thàng", 1_436, 5, 5, 2.6),
    ("Xã Bản Sen", 1_336, 5, 5, 2.0),
)
REPORT_TIMES = [OPEN + dt.timedelta(hours=h) for h in (0, 1, 2, 3, 4)]  # 07:00 … 11:00


def voted_at(voters: int, pace: float, moment: dt.datetime) -> int:
    hours = max((moment - OPEN).total_seconds() / 3600, 0.0)
    return round(voters * 0.99 * (1 - math.exp(-hours / pace)))


def main() -> None:
    total_voters = sum(c[1] for c in COMMUNES)
    subtitle = f"Cập nhật {NOW:%H:%M %d/%m/%Y} · {vn_int(total_voters)} cử tri"
    by_commune = TurnoutByChild(
        title="Tỷ lệ cử tri đi bầu – Huyện Mường Khương",
        subtitle=subtitle,
        bars=tuple(
            UnitBar(name, voted_at(voters, pace, REPORT_TIMES[-1]), voters, reported, areas)
            for name, voters, areas, reported, pace in COMMUNES
        ),
    )

    def series(label: str, rows: tuple[tuple[str, int, int, int, float], ...]) -> DaySeries:
        voters = sum(r[1] for r in rows)
        return DaySeries(
            label,
            tuple(
                (t, 100 * sum(voted_at(r[1], r[4], t) for r in rows) / voters) for t in REPORT_TIMES
            ),
        )

    slowest = sorted(COMMUNES, key=lambda c: voted_at(c[1], c[4], REPORT_TIMES[-1]) / c[1])[:5]
    over_day = TurnoutOverDay(
        title="Cử tri đi bầu theo giờ – Huyện Mường Khương",
        subtitle=f"{subtitle} · 5 xã chậm nhất",
        series=(
            series("Huyện Mường Khương", COMMUNES),
            *(series(c[0], (c,)) for c in slowest),
        ),
        day_start=dt.datetime.combine(DAY, dt.time(5, 0), TZ),
        day_end=dt.datetime.combine(DAY, dt.time(21, 0), TZ),
    )
    for name, spec in (
        ("turnout_by_commune.png", by_commune),
        ("turnout_over_day.png", over_day),
    ):
        image = render(spec)
        (HERE / name).write_bytes(image.png)
        print(f"{name}: {image.width}x{image.height}, {len(image.png):,} bytes")
        for label, value in image.plotted:
            print(f"  {value:5.1f}  {label}")
        if "--time" in sys.argv:
            wall, cpu = [], []
            for _ in range(10):
                started, started_cpu = time.perf_counter(), time.process_time()
                render(spec)
                wall.append(time.perf_counter() - started)
                cpu.append(time.process_time() - started_cpu)
            print(
                f"  render: median {statistics.median(wall) * 1000:.0f} ms wall, "
                f"{statistics.median(cpu) * 1000:.0f} ms CPU (10 runs)"
            )


if __name__ == "__main__":
    main()
