"""The by-child and over-the-day charts drawn straight into pixels (``render``) against the
same charts drawn by matplotlib (``build_figure``, which the chart tests inspect): the same
texts at the same places, the same image; and the remembered text layouts against
matplotlib's own."""

from __future__ import annotations

import datetime as dt
import io
import itertools
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from matplotlib.backends.backend_agg import RendererAgg, get_hinting_flag
from matplotlib.colors import to_hex
from matplotlib.text import Text
from PIL import Image

from bot.monitoring import chart_canvas, charts
from bot.monitoring.chart_canvas import (
    HAlign,
    LineSpacing,
    TextCachingCanvas,
    VAlign,
    encode_png,
    glyph_layout,
    matplotlib_text_layout,
    measuring_renderer,
    text_layout,
)
from bot.monitoring.charts import (
    DPI,
    LABEL_PX,
    PALETTE,
    SUBTITLE_PX,
    TICK_PX,
    TITLE_PX,
    DaySeries,
    TurnoutByChild,
    TurnoutOverDay,
    UnitBar,
    build_figure,
    render,
)

# Every character the charts print: Vietnamese letters in both cases, digits, punctuation of
# the numbers, cells and titles, and the marks (✓, …, ·, –).
LOWER = (
    "aàảãáạăằẳẵắặâầẩẫấậbcdđeèẻẽéẹêềểễếệghiìỉĩíịklmnoòỏõóọôồổỗốộơờởỡớợpqrstuùủũúụưừửữứựvxyỳỷỹýỵfjwz"
)
CHARACTERS = LOWER + LOWER.upper() + "0123456789 ,.%/:()–-·…✓+"
FONTS = [(px, bold) for px in (TITLE_PX, SUBTITLE_PX, LABEL_PX, TICK_PX) for bold in (False, True)]

texts = st.text(st.sampled_from(CHARACTERS), min_size=1, max_size=30)


@settings(deadline=None, max_examples=300)
@given(texts, st.sampled_from(FONTS))
def test_glyphs_are_placed_where_freetype_lays_them_out(text: str, font: tuple[int, bool]) -> None:
    prop = charts._font(font[0], bold=font[1])
    ft = measuring_renderer(DPI)._prepare_font(prop)  # type: ignore[no-untyped-call]
    flags = get_hinting_flag()  # type: ignore[no-untyped-call]
    expected = [(i.x, i.y, i.glyph_index, i.ft_object.fname) for i in ft._layout(text, flags=flags)]
    placed = glyph_layout(ft, text, prop.get_size_in_points(), DPI, flags)
    assert [(x, y, index, face.fname) for x, y, index, face in placed] == expected


@settings(deadline=None, max_examples=300)
@given(st.text(st.sampled_from(CHARACTERS), max_size=30), st.sampled_from(FONTS))
def test_text_metrics_are_freetypes(text: str, font: tuple[int, bool]) -> None:
    """Widths, heights and descents composed from remembered glyphs are what matplotlib's own
    Agg renderer measures (FT2Font.set_text)."""
    prop = charts._font(font[0], bold=font[1])
    plain = RendererAgg(1, 1, DPI)  # type: ignore[no-untyped-call]
    measured = plain.get_text_width_height_descent(text, prop, False)  # type: ignore[no-untyped-call]
    assert measuring_renderer(DPI).get_text_width_height_descent(text, prop, False) == measured


@settings(deadline=None, max_examples=300)
@given(
    st.lists(texts, min_size=1, max_size=3).map("\n".join),
    st.sampled_from(FONTS),
    st.sampled_from(["left", "center", "right"]),
    st.sampled_from(["top", "center", "center_baseline", "baseline", "bottom"]),
    st.sampled_from(["normal", 1.15, 1.2, 1.5, 1.7]),
)
def test_text_layout_is_matplotlibs(
    text: str, font: tuple[int, bool], ha: HAlign, va: VAlign, linespacing: LineSpacing
) -> None:
    prop = charts._font(font[0], bold=font[1])
    assert text_layout(text, prop, ha, va, linespacing, DPI) == matplotlib_text_layout(
        text, prop, ha, va, linespacing, DPI
    )


NAMES = (
    "Xã Pha Long",
    "Thị trấn Mường Khương",
    "Phường số 4",
    "Phường số 10",
    "Xã Tả Ngải Chồ",
    "Xã Nậm Chảy",
    "Khu vực bỏ phiếu số 12 – Thôn Bản Lầu Trên và Bản Lầu Dưới của xã",
    "Đ",
    "Xã Tung Chung Phố",
)


@st.composite
def unit_bars(draw: st.DrawFn) -> UnitBar:
    voters = draw(st.integers(0, 20_000))
    areas = draw(st.integers(0, 60))
    reported = draw(st.integers(0, areas))
    return UnitBar(
        label=draw(st.sampled_from(NAMES)) + draw(st.sampled_from(["", " 2", " 17", " Trên"])),
        voted=draw(st.integers(0, voters + voters // 10)) if reported else 0,
        voters=voters,
        areas_reported=reported,
        areas_total=areas,
        areas_finished=draw(st.integers(0, reported)),
        chiefs_registered=draw(st.integers(0, areas)),
        staff_tested=draw(st.integers(0, 40)),
        staff_total=40,
        positives=draw(st.sampled_from([0, 0, 0, 1, 3])),
    )


by_child_specs = st.builds(
    TurnoutByChild,
    title=st.sampled_from(["Tỷ lệ cử tri đi bầu – Huyện Mường Khương", "Tỷ lệ " * 20]),
    subtitle=st.sampled_from(["", "Cập nhật 11:05 23/05/2021 · 38.851 cử tri"]),
    bars=st.lists(unit_bars(), max_size=44).map(tuple),
    before_turnout=st.booleans(),
)


def figure_texts(
    spec: TurnoutByChild | TurnoutOverDay,
) -> tuple[list[tuple[str, str, tuple[float, float, float, float]]], bytes]:
    """The visible texts of build_figure(spec) and its image, drawn by matplotlib."""
    figure = build_figure(spec)
    canvas = figure.canvas
    assert isinstance(canvas, TextCachingCanvas)
    canvas.draw()  # type: ignore[no-untyped-call]
    found = []
    for text in figure.findobj(Text):
        assert isinstance(text, Text)
        if text.get_visible() and text.get_text().strip():
            box = text.get_window_extent()
            corners = (float(box.x0), float(box.y0), float(box.x1), float(box.y1))
            found.append((text.get_text(), to_hex(text.get_color()), corners))
    return found, encode_png(canvas, PALETTE)


def pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)


def check_same_chart(spec: TurnoutByChild | TurnoutOverDay) -> None:
    expected_texts, expected_png = figure_texts(spec)
    layout: Any
    if isinstance(spec, TurnoutByChild):
        layout = charts._layout_by_child(spec)
        painter = charts._paint_by_child(layout)
        plotted, not_reported = layout.plotted, layout.not_reported
    else:
        layout = charts._layout_over_day(spec)
        painter = charts._paint_over_day(layout)
        plotted, not_reported = layout.plotted, spec.not_reported
    drawn = sorted((s, to_hex(colour), box) for s, colour, box in painter.texts if s.strip())
    expected = sorted(expected_texts)
    # The same strings in the same colours at the same places (to a thousandth of a pixel:
    # the figure's transforms and the layout's sums round the last bit differently).
    assert [(s, colour) for s, colour, _ in drawn] == [(s, colour) for s, colour, _ in expected]
    for (s, _, box), (_, _, figure_box) in zip(drawn, expected, strict=True):
        assert np.allclose(box, figure_box, rtol=0, atol=1e-3), (s, box, figure_box)

    image = render(spec)
    assert image.plotted == plotted and image.not_reported == not_reported
    figure_plotted = charts._build(spec)[1]
    assert figure_plotted == plotted
    ours, theirs = pixels(image.png), pixels(expected_png)
    assert ours.shape == theirs.shape
    apart = np.abs(ours - theirs).max(axis=2)
    # The same pixels but for the palette's rounding of anti-aliased edges (a few units), and
    # a rare edge exactly between two pixels that the two computations round apart (1 px).
    assert (apart > 32).mean() <= 0.001, f"{(apart > 32).sum()} pixels differ"
    assert (apart > 24).sum() <= 2 * ours.shape[1]


@settings(
    deadline=None,
    max_examples=30,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(by_child_specs)
def test_by_child_pixels_are_the_figures(spec: TurnoutByChild) -> None:
    check_same_chart(spec)


def test_by_child_examples_are_the_figures() -> None:
    """The cases the generator may miss: no bars, over 40 bars, a hatched row, every colour."""
    bars = [UnitBar(f"Xã số {n}", n * 97 % 1000, 1000, n % 3, 2, n % 2) for n in range(45)]
    for spec in (
        TurnoutByChild("Không có", "", ()),
        TurnoutByChild("Bốn mươi lăm xã", "Cập nhật 09:00", tuple(bars)),
        TurnoutByChild("Trước giờ bầu", "Cập nhật 06:00", tuple(bars[:7]), before_turnout=True),
    ):
        check_same_chart(spec)


DAY_START = dt.datetime(2026, 3, 15, 7)
LONG_NAMES = (
    "Khu vực bỏ phiếu số 12 – Thôn Bản Lầu Trên và Bản Lầu Dưới của xã Bản Lầu huyện Mường Khương",
    "Thị trấn " * 12,
)


@st.composite
def day_series(draw: st.DrawFn, start: dt.datetime, end: dt.datetime) -> DaySeries:
    span = int((end - start).total_seconds() // 60)
    minutes = draw(st.lists(st.integers(-90, span + 90), max_size=30))
    values = draw(
        st.lists(
            st.floats(-5, 110, allow_nan=False) | st.sampled_from([0.0, 100.0, 50.05]),
            min_size=len(minutes),
            max_size=len(minutes),
        )
    )
    label = draw(st.sampled_from(NAMES + LONG_NAMES)) + draw(st.sampled_from(["", " 2", " Trên"]))
    return DaySeries(
        label,
        tuple((start + dt.timedelta(minutes=m), v) for m, v in zip(minutes, values, strict=True)),
    )


@st.composite
def over_day_specs(draw: st.DrawFn) -> TurnoutOverDay:
    start = DAY_START + dt.timedelta(minutes=draw(st.sampled_from([0, 0, -60, 30, 47])))
    end = start + dt.timedelta(minutes=draw(st.integers(20, 15 * 60)))
    return TurnoutOverDay(
        title=draw(st.sampled_from(["Cử tri đi bầu trong ngày – Xã Pha Long", "Tỷ lệ " * 20])),
        subtitle=draw(st.sampled_from(["", "Cập nhật 09:00 15/03/2026 · 4.512/12.000 cử tri"])),
        series=tuple(draw(st.lists(day_series(start, end), max_size=8))),
        day_start=start,
        day_end=end,
        unit_note=draw(st.sampled_from(["", "xong 2/9", "xong 12/12 khu vực"])),
        not_reported=tuple(draw(st.lists(st.sampled_from(NAMES + LONG_NAMES), max_size=12))),
        known=tuple(
            draw(
                st.lists(
                    st.sampled_from(["Đã đăng ký 5/9 tổ", "Thử 40/40", "12.000 cử tri"]), max_size=4
                )
            )
        ),
    )


@settings(
    deadline=None,
    max_examples=40,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(over_day_specs())
def test_over_day_pixels_are_the_figures(spec: TurnoutOverDay) -> None:
    check_same_chart(spec)


def test_over_day_examples_are_the_figures() -> None:
    """The cases the generator may miss: every child style and more series than are drawn,
    points on 0 % and 100 % and beyond, before turnout, no data, a long not-reported list."""

    def points(n: int, k: int) -> tuple[tuple[dt.datetime, float], ...]:
        return tuple(
            (DAY_START + dt.timedelta(minutes=30 * i + k), min(105.0, 9.7 * i + k - 3))
            for i in range(n)
        )

    end = DAY_START.replace(hour=11, minute=33)
    many = tuple(DaySeries(f"{NAMES[k]} {k}", points(10, k)) for k in range(8))
    for spec in (
        TurnoutOverDay(
            "Cả ngày", "Cập nhật 11:33", many, DAY_START, end, "xong 2/9", tuple(NAMES) * 3
        ),
        TurnoutOverDay("Một dòng", "", many[:1], DAY_START, end),
        TurnoutOverDay("Hai dòng", "", many[:2], DAY_START, end, not_reported=("Xã A",)),
        TurnoutOverDay("Chưa có", "Cập nhật 06:30", (), DAY_START, end),
        TurnoutOverDay(
            "Trước giờ bầu",
            "Cập nhật 06:30",
            (),
            DAY_START,
            end,
            not_reported=("Xã A",),
            known=("Đã đăng ký 9/9", "Thử 40/40"),
        ),
        TurnoutOverDay("Một điểm", "", (DaySeries("Xã", ((end, 0.0),)),), DAY_START, end),
    ):
        check_same_chart(spec)


def test_over_day_painted_texts_are_apart() -> None:
    """The over-the-day layout's own legibility: its texts do not overlap."""
    spec = TurnoutOverDay(
        "Cử tri đi bầu trong ngày",
        "Cập nhật 09:00",
        tuple(
            DaySeries(name, ((DAY_START, 0.0), (DAY_START.replace(hour=9), 40.0)))
            for name in NAMES[:6]
        ),
        DAY_START,
        DAY_START.replace(hour=9, minute=3),
        "xong 2/9",
        NAMES[6:],
    )
    boxes = [box for s, _, box in charts._paint_over_day(charts._layout_over_day(spec)).texts]
    assert len(boxes) > 15
    for a, b in itertools.combinations(boxes, 2):
        assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], (a, b)


def test_painted_texts_are_apart() -> None:
    """The layout model's own legibility: the painter's texts do not overlap (as
    check_legible checks the figure's)."""
    spec = TurnoutByChild(
        "Tỷ lệ cử tri đi bầu", "Cập nhật 09:00",
        tuple(UnitBar(name, 500, 1000, 1, 2, 1) for name in NAMES),
    )  # fmt: skip
    boxes = [box for s, _, box in charts._paint_by_child(charts._layout_by_child(spec)).texts]
    for a, b in itertools.combinations(boxes, 2):
        assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], (a, b)


def test_threads_draw_the_same_charts() -> None:
    """render is called from threads (ChartRenderer(workers=0)): the shared text caches give
    every thread the same images as drawing one after another."""

    def bars(n: int) -> tuple[UnitBar, ...]:
        return tuple(
            UnitBar(f"{NAMES[k % len(NAMES)]} {n}", 37 * k + n, 900, k % 3, 2) for k in range(12)
        )

    specs = [TurnoutByChild(f"Tỷ lệ {n}", "Cập nhật 09:00", bars(n)) for n in range(8)]
    alone = [render(spec).png for spec in specs]
    charts_module_caches_cleared()
    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(lambda spec: render(spec).png, specs))
    assert together == alone


def charts_module_caches_cleared() -> None:
    """Forget every remembered text, so that the threads fill the caches at the same time."""
    for cache in (
        chart_canvas._METRICS, chart_canvas._RASTERS, chart_canvas._GLYPHS, chart_canvas._CHARS,
        chart_canvas._PAIRS, chart_canvas._BOXES, chart_canvas._MASKS, chart_canvas._LAYOUTS,
    ):  # fmt: skip
        cache.clear()
    charts._WIDTHS.clear()
