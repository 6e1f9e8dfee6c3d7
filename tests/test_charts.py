"""bot.monitoring.charts: turnout charts as PNGs that stay legible on a phone, rendered off the
event loop."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import functools
import io
import itertools
import multiprocessing
import os
import pickle
import signal
import struct
import warnings
from concurrent.futures.process import BrokenProcessPool
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

import matplotlib.image
import pytest
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.text import Text

from bot.monitoring.charts import (
    AMBER,
    GREEN,
    MAX_BARS,
    NO_REPORT_FILL,
    RED,
    WIDTH_PX,
    ChartImage,
    ChartRenderer,
    DaySeries,
    TurnoutByChild,
    TurnoutOverDay,
    UnitBar,
    build_figure,
    render,
)

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
DAY = dt.date(2021, 5, 23)


def at(hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(DAY, dt.time(hour, minute), TZ)


def half_up(voted: int, voters: int) -> float:
    """Turnout percent rounded half-up to one decimal, computed independently of bot code."""
    if voters == 0:
        return 0.0
    exact = Decimal(voted) * 100 / Decimal(voters)
    return float(exact.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


BARS = (
    UnitBar("Xã Pha Long", 2_245, 2_874, 9, 9, 4),
    UnitBar("Xã Tả Ngải Chồ", 1_528, 2_301, 6, 8),
    UnitBar("Thị trấn Mường Khương", 4_350, 4_513, 11, 11, 11),
    UnitBar("Xã Dìn Chin", 1_561, 2_000, 5, 6, 2),  # exactly 78.05 %: half-up gives 78.1
    UnitBar("Xã Nậm Chảy", 0, 2_106, 0, 7),  # no report at all: marked, not 0 %
    UnitBar("Xã La Pan Tẩn", 824, 1_873, 4, 6),
    UnitBar("Xã Bản Lầu", 3_466, 3_466, 10, 10, 10),
    UnitBar("Xã Tả Gia Khâu", 1_890, 1_800, 7, 7, 7),  # list shrank after the morning: over 100 %
)
BY_CHILD = TurnoutByChild(
    title="Tỷ lệ cử tri đi bầu – Huyện Mường Khương",
    subtitle="Cập nhật 11:05 23/05/2021 · 38.851 cử tri",
    bars=BARS,
)
OVER_DAY = TurnoutOverDay(
    title="Cử tri đi bầu theo giờ – Huyện Mường Khương",
    subtitle="Cập nhật 11:05 23/05/2021",
    series=(
        DaySeries(
            "Huyện Mường Khương", ((at(7), 0.0), (at(8), 41.9), (at(9), 64.0), (at(11), 83.5))
        ),
        DaySeries("Xã La Pan Tẩn", ((at(7), 0.0), (at(9), 25.2), (at(11), 78.05))),
        DaySeries("Xã Tả Ngải Chồ", ((at(7, 30), 10.0), (at(10), 56.04))),
        DaySeries("Xã Nậm Chảy", ()),  # nothing reported yet: not drawn
    ),
    day_start=at(5),
    day_end=at(21),
)


@functools.cache
def rendered(spec: TurnoutByChild | TurnoutOverDay) -> ChartImage:
    """render(spec), once per spec: rendering takes a good fraction of a second."""
    return render(spec)


def png_header(png: bytes) -> tuple[int, int]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    length, kind = struct.unpack(">I4s", png[8:16])
    assert (length, kind) == (13, b"IHDR")
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def check_png(image: ChartImage) -> None:
    assert png_header(image.png) == (WIDTH_PX, image.height) == (image.width, image.height)
    pixels = matplotlib.image.imread(io.BytesIO(image.png), format="png")
    assert pixels.shape[:2] == (image.height, WIDTH_PX)


def visible_texts(figure: Figure) -> list[Text]:
    figure.draw_without_rendering()
    return [
        text
        for text in figure.findobj(Text)
        if isinstance(text, Text) and text.get_visible() and text.get_text().strip()
    ]


def check_legible(figure: Figure) -> None:
    """Every text is big enough, wholly inside the image, and clear of every other text."""
    width, height = figure.bbox.width, figure.bbox.height
    boxes = []
    for text in visible_texts(figure):
        px = text.get_fontproperties().get_size_in_points() * figure.dpi / 72
        assert px >= 22, f"{text.get_text()!r} is {px:.1f} px"
        box = text.get_window_extent()  # as laid out by the last draw
        assert box.x0 >= 0 and box.y0 >= 0, text.get_text()
        assert box.x1 <= width and box.y1 <= height, text.get_text()
        boxes.append((text.get_text(), box))
    for (a, box_a), (b, box_b) in itertools.combinations(boxes, 2):
        assert not box_a.overlaps(box_b), f"{a!r} overlaps {b!r}"


# -- chart 1 ---------------------------------------------------------------------------------------


def test_by_child_is_a_1080_px_png() -> None:
    check_png(rendered(BY_CHILD))


def test_by_child_plots_in_vietnamese_name_order_with_half_up_percentages() -> None:
    # Name order after the kind word ("Xã", "Thị trấn"), in the Vietnamese alphabet: Tả before
    # Tung, Nậm with the N's (code-point order would put "Xã Tả…" after "Xã Tung…"). Turnout
    # rounds half-up: Dìn Chin's exact 78.05 % prints as 78,1 %.
    plotted = rendered(BY_CHILD).plotted
    assert [label for label, _ in plotted] == [
        "Xã Bản Lầu",
        "Xã Dìn Chin",
        "Xã La Pan Tẩn",
        "Thị trấn Mường Khương",
        "Xã Nậm Chảy",
        "Xã Pha Long",
        "Xã Tả Gia Khâu",
        "Xã Tả Ngải Chồ",
    ]
    by_label = {bar.label: bar for bar in BARS}
    assert plotted == tuple(
        (label, half_up(by_label[label].voted, by_label[label].voters)) for label, _ in plotted
    )
    assert dict(plotted)["Xã Dìn Chin"] == 78.1
    assert dict(plotted)["Xã Tả Gia Khâu"] == 105.0


def test_by_child_prints_vietnamese_style_numbers_and_areas_finished() -> None:
    shown = {text.get_text() for text in visible_texts(build_figure(BY_CHILD))}
    assert "78,1%" in shown and "100,0%" in shown and "105,0%" in shown
    assert "5/6 · xong 2" in shown  # areas reported / total, and finished
    assert "10/10 · xong 10" in shown
    assert "KV báo cáo · xong" in shown  # the column's header says what the numbers are
    assert "80%" in shown  # axis ticks


def test_by_child_has_a_colour_key() -> None:
    shown = {text.get_text() for text in visible_texts(build_figure(BY_CHILD))}
    assert {"dưới 50%", "50–80%", "từ 80%", "chưa báo cáo"} <= shown
    figure = build_figure(BY_CHILD)
    swatches = {patch.get_facecolor() for patch in figure.artists if isinstance(patch, Rectangle)}
    assert {to_rgba(RED), to_rgba(AMBER), to_rgba(GREEN), to_rgba(NO_REPORT_FILL)} <= swatches


def test_a_child_without_any_report_is_marked_not_shown_as_zero() -> None:
    image = rendered(BY_CHILD)
    assert image.not_reported == ("Xã Nậm Chảy",)
    figure = build_figure(BY_CHILD)
    shown = [text.get_text() for text in visible_texts(figure)]
    assert "chưa báo cáo" in shown  # on the row, and in the key
    assert "0,0%" not in shown
    (axes,) = figure.axes
    hatched = [bar for bar in axes.patches if isinstance(bar, Rectangle) and bar.get_hatch()]
    assert len(hatched) == 1 and hatched[0].get_width() == 100  # a full-width hatched row
    row = [label for label, _ in image.plotted].index("Xã Nậm Chảy")
    assert hatched[0].get_y() + hatched[0].get_height() / 2 == pytest.approx(row)


def test_many_bars_keep_the_40_lowest_in_name_order() -> None:
    bars = tuple(UnitBar(f"Xã số {i}", (i * 37) % 1000, 1000, 1, 2) for i in range(60))
    spec = TurnoutByChild("Tỷ lệ cử tri đi bầu – Tỉnh Lào Cai", "Cập nhật 11:05", bars)
    image = render(spec)
    check_png(image)
    lowest = sorted(bars, key=lambda bar: bar.voted)[:MAX_BARS]
    # Natural numbers: "Xã số 4" before "Xã số 10".
    assert [label for label, _ in image.plotted] == [
        bar.label for bar in sorted(lowest, key=lambda bar: int(bar.label.split()[-1]))
    ]
    figure = build_figure(spec)
    assert any(
        "40 đơn vị thấp nhất · +20 đơn vị khác" in t.get_text() for t in visible_texts(figure)
    )
    check_legible(figure)


def test_long_names_wrap_and_numbers_stay_inside() -> None:
    spec = TurnoutByChild(
        title="Tỷ lệ cử tri đi bầu – Thành phố Lào Cai, tỉnh Lào Cai, đơn vị bầu cử số 3",
        subtitle="Cập nhật 21:00 23/05/2021 · 1.234.567 cử tri · dòng phụ đề dài để thử xuống dòng",
        bars=(
            UnitBar("Phường Nguyễn Thị Minh Khai thành phố Lào Cai tỉnh Lào Cai", 10, 10, 12, 12),
            UnitBar("Xã Siêuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuudài", 1, 1000, 1, 12),
            UnitBar("Xã $x$ có dấu đô la", 500, 1000, 3, 7),  # no mathtext
            UnitBar("Xã Bản Lầu", 1_100, 1_000, 1_000, 1_000),
        ),
    )
    check_legible(build_figure(spec))
    check_png(render(spec))


def test_sample_layouts_are_legible() -> None:
    check_legible(build_figure(BY_CHILD))
    check_legible(build_figure(OVER_DAY))
    check_legible(build_figure(TurnoutByChild("Tỷ lệ cử tri đi bầu", "", ())))
    check_legible(build_figure(TurnoutOverDay("Theo giờ", "", (), at(5), at(21))))


def test_negative_counts_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        render(TurnoutByChild("t", "s", (UnitBar("Xã A", -1, 10, 0, 1),)))


# -- chart 2 ---------------------------------------------------------------------------------------


def test_over_day_is_a_1080_px_png() -> None:
    image = rendered(OVER_DAY)
    check_png(image)
    assert 700 <= image.height <= 900


def test_over_day_plots_last_values_of_drawn_series() -> None:
    # 78.05 is stored as 78.04999…; the label still rounds half-up, as written.
    assert rendered(OVER_DAY).plotted == (
        ("Huyện Mường Khương", 83.5),
        ("Xã La Pan Tẩn", 78.1),
        ("Xã Tả Ngải Chồ", 56.0),
    )


def test_over_day_ticks_every_two_hours() -> None:
    figure = build_figure(OVER_DAY)
    (axes,) = figure.axes
    labels = [label.get_text() for label in axes.get_xticklabels()]
    assert labels == [
        "05:00",
        "07:00",
        "09:00",
        "11:00",
        "13:00",
        "15:00",
        "17:00",
        "19:00",
        "21:00",
    ]


def test_over_day_caps_series_and_drops_points_outside_the_day() -> None:
    series = tuple(
        DaySeries(f"Xã {i}", ((at(4), 1.0), (at(7), 0.0), (at(10), 10.0 + i), (at(22), 99.0)))
        for i in range(9)
    )
    image = render(TurnoutOverDay("Theo giờ", "", series, at(5), at(21)))
    assert image.plotted == tuple((f"Xã {i}", 10.0 + i) for i in range(6))


def test_over_day_rejects_mixed_naive_and_aware_times() -> None:
    naive = DaySeries("Xã A", ((dt.datetime(2021, 5, 23, 9), 10.0),))
    with pytest.raises(ValueError, match="naive"):
        render(TurnoutOverDay("t", "", (naive,), at(5), at(21)))


# -- fonts -----------------------------------------------------------------------------------------


def glyph_warnings(spec: TurnoutByChild | TurnoutOverDay) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        render(spec)
    return [str(w.message) for w in caught if "Glyph" in str(w.message)]


def test_vietnamese_diacritics_have_glyphs() -> None:
    names = (
        "Xã Tả Ngải Chồ",
        "Thị trấn Mường Khương",
        "Xã Lùng Khấu Nhin",
        "Xã Nậm Chảy",
        "Phường Đông Hưng Thuận",
        "Xã Ta\u0309 Gia\u0301 Khâu",  # decomposed marks, as some phone keyboards send them
    )
    bars = tuple(UnitBar(name, 10 * i, 100, i, 9) for i, name in enumerate(names))
    series = tuple(DaySeries(name, ((at(8), 5.0 * i),)) for i, name in enumerate(names))
    assert glyph_warnings(TurnoutByChild("Tỷ lệ – Ủy ban bầu cử", "Cập nhật lúc 11:05", bars)) == []
    assert (
        glyph_warnings(TurnoutOverDay("Đi bầu theo giờ", "Ước tính", series, at(5), at(21))) == []
    )


def test_missing_glyphs_would_be_caught() -> None:
    # The check above is only worth something if a really missing glyph does warn.
    spec = TurnoutByChild("漢字", "", (UnitBar("Xã A", 1, 2, 1, 1),))
    assert glyph_warnings(spec)


# -- rendering off the event loop ------------------------------------------------------------------


def test_specs_and_images_pickle() -> None:
    for spec in (BY_CHILD, OVER_DAY):
        assert pickle.loads(pickle.dumps(spec)) == spec
    image = rendered(BY_CHILD)
    assert pickle.loads(pickle.dumps(image)) == image


def test_same_spec_same_bytes() -> None:
    assert render(OVER_DAY).png == rendered(OVER_DAY).png


async def test_thread_renderer_matches_render() -> None:
    with ChartRenderer(workers=0) as renderer:
        # Both at once: two figures drawn in two threads must not disturb each other.
        by_child, over_day = await asyncio.gather(
            renderer.render(BY_CHILD), renderer.render(OVER_DAY)
        )
    assert by_child == rendered(BY_CHILD)
    assert over_day == rendered(OVER_DAY)
    with pytest.raises(RuntimeError, match="closed"):
        await renderer.render(BY_CHILD)


def children() -> set[int]:
    return {process.pid for process in multiprocessing.active_children() if process.pid}


async def test_process_renderer_matches_render_survives_a_dead_worker_and_exits() -> None:
    # One test, so the (slow) worker start-up is paid as few times as possible.
    before = children()
    async with ChartRenderer(workers=2) as renderer:
        by_child, over_day = await asyncio.gather(
            renderer.render(BY_CHILD), renderer.render(OVER_DAY)
        )
        assert by_child.plotted == rendered(BY_CHILD).plotted
        assert over_day.plotted == rendered(OVER_DAY).plotted
        check_png(by_child)
        check_png(over_day)
        first_workers = children() - before
        assert first_workers

        os.kill(min(first_workers), signal.SIGKILL)  # as the OOM killer would
        # The pool notices the death on a thread of its own, when the machine lets it; until
        # then the other worker may still draw. Render until the death surfaces (the guard
        # only turns a pool that never notices into a failure instead of a hang).
        guard = asyncio.get_running_loop().time() + 120
        with pytest.raises(BrokenProcessPool):
            while asyncio.get_running_loop().time() < guard:
                await renderer.render(OVER_DAY)
        again = await renderer.render(OVER_DAY)
        assert again.plotted == over_day.plotted
        all_workers = children() - before
    # Every worker exits: the last pool's were joined on close; the broken pool's are ended
    # by its own thread, so wait for them (the join's timeout is only a guard).
    for process in multiprocessing.active_children():
        if process.pid in all_workers:
            process.join(timeout=120)
    assert not all_workers & children()


async def test_renderer_remembers_charts_by_their_data_within_a_byte_budget() -> None:
    # The bot's push: groups following the same unit ask for the same chart at once, and a
    # chart whose data did not change is not drawn again.
    budget = len(rendered(BY_CHILD).png) + len(rendered(OVER_DAY).png) + 2_000
    with ChartRenderer(workers=0, cache_bytes=budget) as renderer:
        first, same_time = await asyncio.gather(
            renderer.render(BY_CHILD), renderer.render(BY_CHILD)
        )
        assert first is same_time  # one drawing served both
        assert first == rendered(BY_CHILD)
        assert await renderer.render(BY_CHILD) is first  # remembered
        over_day = await renderer.render(OVER_DAY)
        assert await renderer.render(OVER_DAY) is over_day
        # Different data, a different chart: drawn, and the least recently used one (BY_CHILD)
        # makes room for it within the budget.
        changed = dataclasses.replace(BY_CHILD, title=BY_CHILD.title + " (mới)")
        assert (await renderer.render(changed)).plotted == first.plotted
        assert await renderer.render(OVER_DAY) is over_day
        again = await renderer.render(BY_CHILD)
        assert again == first and again is not first


async def test_renderer_without_a_cache_draws_every_time() -> None:
    with ChartRenderer(workers=0) as renderer:
        one = await renderer.render(OVER_DAY)
        two = await renderer.render(OVER_DAY)
    assert one == two and one is not two
