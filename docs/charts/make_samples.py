"""Write the sample charts in this folder: Huyện Mường Khương (Lào Cai) on 23/05/2021 at 07:09
(before any turnout), 09:39 (two communes silent) and 12:33 (areas finishing).

Run from the repository root: `.venv/bin/python docs/charts/make_samples.py`.
Add `--time` to also print how long each chart takes to render (median of 10, after a warm-up).

The specs are built by the bot's own code (`bot.monitoring.summary.chart_by_child`, `day_axis`), so
the
samples show what a committee member's phone shows: name order, short names, the key, the
"chưa báo cáo" rows, the axis ending at the time of the data. The numbers are invented but
shaped like the demo's morning: polls open at 07:00, areas report every hour or so, a few
remote communes lag behind. The `before-*.png` files are the demo's charts from before these
rules (kept for comparison; this script does not rewrite them).

The PNGs are stored as 96-colour palette images to keep the repository small; the bot sends
full-colour PNGs.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import statistics
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

from PIL import Image

from bot import texts
from bot.formatting import turnout_percent, vn_int
from bot.model import Totals, Unit
from bot.monitoring.charts import ChartSpec, DaySeries, TurnoutOverDay, render
from bot.monitoring.names import name_order_key, short_name
from bot.monitoring.summary import Overview, chart_by_child, day_axis

HERE = Path(__file__).resolve().parent
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
DAY = dt.date(2021, 5, 23)
OPEN = dt.datetime.combine(DAY, dt.time(7, 0), TZ)
DISTRICT = "Huyện Mường Khương"

# name, voters, areas, staff, pace (hours to ~63 % of the list), first report (hours after 07:00)
COMMUNES = (
    ("Xã Pha Long", 2_489, 9, 142, 1.7, 1.0),
    ("Xã Tả Ngải Chồ", 2_625, 9, 142, 3.6, 1.0),
    ("Xã Tung Chung Phố", 2_519, 9, 141, 1.4, 1.0),
    ("Thị trấn Mường Khương", 3_105, 11, 174, 1.1, 1.0),
    ("Xã Dìn Chin", 2_416, 9, 146, 2.9, 1.0),
    ("Xã Tả Gia Khâu", 2_558, 9, 145, 2.2, 1.0),
    ("Xã Nậm Chảy", 2_407, 9, 148, 4.4, 2.8),  # remote: first report after 09:39
    ("Xã Nấm Lư", 2_549, 9, 139, 1.6, 1.0),
    ("Xã Lùng Khấu Nhin", 2_193, 8, 124, 1.9, 1.0),
    ("Xã Thanh Bình", 2_771, 10, 151, 1.3, 1.0),
    ("Xã Cao Sơn", 2_281, 8, 121, 3.2, 1.0),
    ("Xã Lùng Vai", 2_306, 8, 119, 1.2, 1.0),
    ("Xã Bản Lầu", 2_172, 8, 119, 1.0, 1.0),
    ("Xã La Pan Tẩn", 1_931, 7, 103, 6.8, 3.0),  # remote: first report after 09:39
    ("Xã Tả Thàng", 2_265, 8, 119, 2.6, 1.0),
    ("Xã Bản Sen", 2_264, 8, 124, 2.0, 1.0),
)


def hours(moment: dt.datetime) -> float:
    return max((moment - OPEN).total_seconds() / 3600, 0.0)


def share(pace: float, moment: dt.datetime) -> float:
    """The share of the list that has voted by `moment`: fast at first, then slower; a
    commune with pace p is done 4.5 + p/2 hours after the opening (the fastest by noon)."""
    done = 4.5 + pace / 2
    return min(1.0, (1 - math.exp(-hours(moment) / pace)) / (1 - math.exp(-done / pace)))


def totals_at(commune: tuple[str, int, int, int, float, float], moment: dt.datetime) -> Totals:
    _, voters, areas, staff, pace, first = commune
    reported = 0 if hours(moment) < first else areas
    done = share(pace, moment) if reported else 0.0
    return Totals(
        areas_total=areas,
        areas_reported=reported,
        areas_finished=round(areas * max(0.0, done - 0.8) / 0.2),
        registered_voters=voters,
        voted=round(voters * done),
        staff_total=staff,
        staff_tested=staff - (1 if pace > 3 else 0),
    )


def add(a: Totals, b: Totals) -> Totals:
    return Totals(
        **{
            f: getattr(a, f) + getattr(b, f)
            for f in a.__dataclass_fields__
            if f != "last_report_at"
        }
    )


def unit(code: str, parent: str | None, kind: str, name: str, position: int) -> Unit:
    return Unit(code, parent, kind, name, 1 if parent else 0, False, None, None, (), position)


def overview(moment: dt.datetime) -> Overview:
    children = tuple(
        (unit(f"X{i}", "MK", "xã", commune[0], i), totals_at(commune, moment))
        for i, commune in enumerate(COMMUNES, start=1)
    )
    total = Totals()
    for _, totals in children:
        total = add(total, totals)
    return Overview(unit("MK", None, "huyện", DISTRICT, 0), total, children)


def over_day(view: Overview, moment: dt.datetime) -> TurnoutOverDay:
    start, end = day_axis(moment, OPEN)
    reporting = [(u, t) for u, t in view.children if t.areas_reported]
    slowest = sorted(reporting, key=lambda c: c[1].voted / c[1].registered_voters)[:5]
    silent = sorted(
        (short_name(u.name, DISTRICT) for u, t in view.children if not t.areas_reported),
        key=name_order_key,
    )
    steps = [OPEN + dt.timedelta(minutes=30 * n) for n in range(int(hours(end) * 2) + 1)]
    samples = [s for s in steps if s < end - dt.timedelta(minutes=10)] + [end]

    def curve(rows: list[tuple[str, int, int, int, float, float]]) -> DaySeries:
        voters = sum(r[1] for r in rows)
        points = tuple(
            (s, float(turnout_percent(sum(totals_at(r, s).voted for r in rows), voters, 1)))
            for s in samples
        )
        return DaySeries(rows[0][0] if len(rows) == 1 else DISTRICT, points)

    by_name = {c[0]: c for c in COMMUNES}
    t = view.totals
    return TurnoutOverDay(
        title=texts.chart_over_day_title(DISTRICT),
        subtitle=texts.chart_subtitle(t, moment),
        series=(curve(list(COMMUNES)), *(curve([by_name[u.name]]) for u, _ in slowest)),
        day_start=start,
        day_end=end,
        unit_note=texts.CHART_UNIT_FINISHED.format(
            finished=vn_int(t.areas_finished), total=vn_int(t.areas_total)
        ),
        not_reported=tuple(silent),
    )


def save(name: str, spec: ChartSpec) -> None:
    image = render(spec)
    # 96 colours: the charts are flat colours and anti-aliased text; this keeps each file small.
    palette = Image.open(io.BytesIO(image.png)).convert("RGB").quantize(colors=96)
    palette.save(HERE / name, optimize=True)
    print(f"{name}: {image.width}x{image.height}, {(HERE / name).stat().st_size:,} bytes")
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


def main() -> None:
    early = dt.datetime.combine(DAY, dt.time(7, 9), TZ)
    registered = {"MK": 131} | {
        f"X{i}": c[2] - (1 if c[4] > 4 else 0) for i, c in enumerate(COMMUNES, start=1)
    }
    view = overview(early)
    save("after-0709-by-commune.png", chart_by_child(view, early, registered))
    t = view.totals
    start, end = day_axis(early, None)
    card = TurnoutOverDay(
        title=texts.chart_over_day_title(DISTRICT),
        subtitle=texts.chart_subtitle(t, early),
        series=(),
        day_start=start,
        day_end=end,
        known=(
            texts.CHART_NO_TURNOUT_YET,
            texts.CHART_KNOWN_VOTERS.format(
                voters=vn_int(t.registered_voters), areas=vn_int(t.areas_total)
            ),
            texts.CHART_KNOWN_TESTED.format(
                tested=vn_int(t.staff_tested), total=vn_int(t.staff_total), positives=0
            ),
            texts.CHART_KNOWN_REGISTERED.format(
                registered=vn_int(registered["MK"]), total=vn_int(t.areas_total)
            ),
        ),
    )
    save("after-0709-over-day.png", card)
    morning = dt.datetime.combine(DAY, dt.time(9, 39), TZ)
    view = overview(morning)
    save("after-0939-by-commune.png", chart_by_child(view, morning))
    save("after-0939-over-day.png", over_day(view, morning))
    noon = dt.datetime.combine(DAY, dt.time(12, 33), TZ)
    save("after-1233-by-commune.png", chart_by_child(overview(noon), noon))


if __name__ == "__main__":
    main()


def convert_before(source: Path, name: str) -> None:
    """Store one of the old demo's charts as a `before-*.png` (run by hand, once)."""
    Image.open(source).convert("RGB").quantize(colors=96).save(HERE / name, optimize=True)
