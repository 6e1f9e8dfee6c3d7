"""Turnout charts as PNG images, sized to be read on a cheap phone in a chat.

Three charts:

* :class:`TurnoutByChild` — one horizontal bar per child unit, in Vietnamese alphabetical order
  with natural numbers (:func:`order_bars`), so a committee member finds their commune at the
  same place in every chart of the day. Each bar is coloured by turnout and labelled with it;
  a column on the right gives areas reported / total and areas finished (``9/9 · xong 5``); a
  child with no report at all is a hatched grey row saying "chưa báo cáo", never a 0 % bar. A
  colour key sits under the title. Before any turnout is in (``before_turnout``), the bars show
  what is known instead: areas whose chief has registered, and the column the list size and
  the COVID staff tests.
* :class:`TurnoutOverDay` — cumulative turnout against local time for a unit (bold) and a few
  of its slowest children; the time axis ends at the time of the data (``day_end``, labelled in
  bold); children with no report are named under the key rather than drawn as lines at 0 %;
  before any turnout the plot shows the known figures (``known``) instead of lines of zeros.

* :class:`CandidateShares` — results night: each candidate of an electoral unit as a bar of
  their % of the unit's valid ballots, in ballot order, labelled `59,10% · 1.760 phiếu`, with
  the 50 % line a candidate must pass drawn across the bars (dashed, red, in the key) and the
  provisionally elected marked by a ✓, bold green names and green bars (none while the unit
  still waits for records).

:func:`render` turns a spec into a :class:`ChartImage` (PNG bytes plus the values exactly as
printed, so callers and tests can check them against the aggregates). :class:`ChartRenderer`
runs :func:`render` off the event loop, in a process pool by default.

Only matplotlib's object-oriented API is used (a ``Figure`` with its own ``FigureCanvasAgg``):
pyplot keeps global figure state, which is unsafe in threads and leaks figures in a long-lived
process. Layout is done in pixels by hand rather than with a layout engine, so the image is
exactly 1080 px wide and every text size is known, whatever the data. Charts 1 and 2 have
layout models of their own (``_ByChildLayout``, ``_OverDayLayout``): :func:`build_figure`
turns them into matplotlib artists, :func:`render` draws them straight into pixels with
:class:`~bot.monitoring.chart_canvas.Painter` (chart 2's curves, markers and legend handles by
matplotlib's own ``Line2D.draw`` on a bare Agg renderer over the plot band), the same images
at a quarter to a third of the CPU; ``tests/test_chart_drawing.py`` checks they agree.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import math
import multiprocessing
import struct
import unicodedata
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path
from types import TracebackType
from typing import Any, Final, Self

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.backend_bases import RendererBase
from matplotlib.backends.backend_agg import RendererAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from matplotlib.transforms import IdentityTransform, blended_transform_factory
from PIL import Image

from bot import texts
from bot.formatting import turnout_percent, vn_int
from bot.monitoring.chart_canvas import (
    FixedPalette,
    HAlign,
    LineSpacing,
    Painter,
    TextCachingCanvas,
    TextLayout,
    VAlign,
    encode_png,
    encode_rgb,
    measuring_renderer,
    rgb,
    snap,
    text_layout,
)
from bot.monitoring.names import name_order_key
from bot.results import texts as results_texts

# Titles, subtitles and labels come from the caller; the few words this module adds are in
# bot.texts (CHART_*).
AREAS_ABBREVIATION: Final = texts.CHART_AREAS
MORE_UNITS_NOTE: Final = texts.CHART_MORE_UNITS
NO_DATA_NOTE: Final = texts.CHART_NO_DATA
SEPARATOR: Final = " · "
ELLIPSIS: Final = "…"

WIDTH_PX: Final = 1080
# A power of two, so that pixels / DPI * DPI is exact in floating point: with DPI 100, a height
# of 2900 px would come out as 2899 px because 0.29 * 100 == 28.999999999999996.
DPI: Final = 128
MAX_BARS: Final = 40
MAX_SERIES: Final = 6  # the unit itself and up to five children

# Text sizes in pixels of the 1080-px-wide image. A chat bubble on a phone shows the image at
# well under half that width, so 22 px is about the smallest that stays readable without zooming.
TITLE_PX: Final = 36
SUBTITLE_PX: Final = 25
LABEL_PX: Final = 25  # unit names, bar values, legend
TICK_PX: Final = 24
PAD_PX: Final = 28  # outer margin

# Row per bar: 56 px keeps 40 one-line bars under 2,560 px tall, the largest photo a phone chat
# app keeps at full size (it fits a photo in a 2560x2560 box; a taller image is scaled down, and
# the text with it).
# A row with a name wrapped to two lines needs 72.
BAR_ROW_PX: Final = 56
BAR_ROW_WRAPPED_PX: Final = 72
BAR_LABEL_MAX_PX: Final = 340  # unit names wider than this wrap to two lines, then are shortened
BAR_FILL: Final = 0.64  # bar thickness as a share of its row
DAY_AXES_PX: Final = 440

# Progress colours, dark enough for white text except amber, which carries black text.
RED: Final = "#C62828"
AMBER: Final = "#F9A825"
GREEN: Final = "#2E7D32"
INK: Final = "#212121"
MUTED: Final = "#616161"
GRID: Final = "#D9D9D9"
UNIT_COLOUR: Final = "#0D47A1"
NO_REPORT_FILL: Final = "#EEEEEE"  # a hatched light-grey row: no report yet
NO_REPORT_HATCH: Final = "#9E9E9E"
KEY_PATCH_PX: Final = (30, 22)  # colour swatch of the key
EXACT_COLOURS: Final = ("#FFFFFF", RED, AMBER, GREEN, INK, MUTED, GRID, UNIT_COLOUR, NO_REPORT_FILL,
                        NO_REPORT_HATCH, "#EF6C00", "#6A1B9A", "#00838F", "#5D4037")  # fmt: skip
# Text and lines drawn on a colour other than white (blends with white are always in the
# palette): their anti-aliased edges get palette entries of their own.
BLENDED_ON: Final = (
    ("#FFFFFF", RED), ("#FFFFFF", GREEN), ("#FFFFFF", UNIT_COLOUR), (INK, AMBER),
    (NO_REPORT_HATCH, NO_REPORT_FILL), (INK, NO_REPORT_FILL), (INK, GRID), (UNIT_COLOUR, GRID),
)  # fmt: skip
PALETTE: Final = FixedPalette(EXACT_COLOURS, BLENDED_ON)
CHILD_STYLES: Final = (  # colour and marker: series stay distinguishable without colour vision
    ("#C62828", "o"),
    ("#EF6C00", "s"),
    ("#6A1B9A", "^"),
    ("#00838F", "D"),
    ("#5D4037", "v"),
)

_FONT_DIR = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
# The DejaVu files bundled with matplotlib, by path: a system font of the same family name could
# be an older version without every precomposed Vietnamese letter.
_REGULAR = _FONT_DIR / "DejaVuSans.ttf"
_BOLD = _FONT_DIR / "DejaVuSans-Bold.ttf"


@dataclasses.dataclass(frozen=True, slots=True)
class UnitBar:
    """One child unit in the bar chart (the label as it should be shown: already shortened)."""

    label: str
    voted: int
    voters: int  # current list size
    areas_reported: int
    areas_total: int
    areas_finished: int = 0
    # What is known before any turnout (drawn when the chart is ``before_turnout``):
    chiefs_registered: int = 0  # areas with at least one registered chief
    staff_tested: int = 0
    staff_total: int = 0
    positives: int = 0

    @property
    def reported(self) -> bool:
        """Whether any area of the unit has sent turnout or completion."""
        return self.areas_reported > 0


@dataclasses.dataclass(frozen=True, slots=True)
class TurnoutByChild:
    """Chart 1: turnout of each child unit in name order; pass all children: when there are
    more than MAX_BARS, the lowest MAX_BARS are drawn (see :func:`order_bars`).

    ``before_turnout``: no turnout is in yet; the bars show the share of areas whose chief has
    registered, and the right column the list size and the COVID tests.
    """

    title: str
    subtitle: str
    bars: tuple[UnitBar, ...]
    before_turnout: bool = False


@dataclasses.dataclass(frozen=True, slots=True)
class DaySeries:
    """One line of chart 2: (local time, cumulative turnout percent 0..100), time-ordered."""

    label: str
    points: tuple[tuple[dt.datetime, float], ...]


@dataclasses.dataclass(frozen=True, slots=True)
class TurnoutOverDay:
    """Chart 2: the unit itself first (drawn bold), then its slowest children.

    Points outside day_start..day_end are left out, then series without points; of the rest,
    the first MAX_SERIES are drawn. ``day_end`` is the time of the data: the axis ends there.
    ``unit_note`` is added to the unit's key entry (areas finished); ``not_reported`` names
    the children without any report, listed under the key; ``known`` lines are drawn in the
    plot when no series has a point (before any turnout: registrations, tests, list sizes).
    """

    title: str
    subtitle: str
    series: tuple[DaySeries, ...]
    day_start: dt.datetime
    day_end: dt.datetime
    unit_note: str = ""
    not_reported: tuple[str, ...] = ()
    known: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True, slots=True)
class ChartImage:
    """A rendered chart.

    ``plotted`` holds (caller's label, value as printed): for chart 1 each bar's turnout in
    drawing order, top to bottom (0.0 for a child drawn as not reported, which is listed in
    ``not_reported``; before any turnout, the share of areas with a registered chief); for
    chart 2 each drawn series' last turnout; for chart 3 each candidate's % of the valid
    ballots, ballot order (``marked``: the elected). Labels are the caller's strings unchanged, even
    where the image shows them wrapped or shortened.
    """

    png: bytes
    width: int
    height: int
    plotted: tuple[tuple[str, float], ...]
    not_reported: tuple[str, ...] = ()
    marked: tuple[str, ...] = ()  # chart 3: the candidates marked elected


@dataclasses.dataclass(frozen=True, slots=True)
class CandidateBar:
    """One candidate of an electoral unit in chart 3 (the label as it should be shown)."""

    label: str  # "1. Hầu Ngọc Chúng"
    votes: int
    percent: Decimal  # of the unit's valid ballots, 2 decimals, half-up
    elected: bool = False  # provisionally elected (only in a complete unit)


@dataclasses.dataclass(frozen=True, slots=True)
class CandidateShares:
    """Chart 3 (results night): each candidate's % of the electoral unit's valid ballots, in
    ballot order, with the 50 % line a candidate must pass and the provisionally elected
    marked (✓, bold, green). ``complete``: every area has a record (else no one is marked
    and the key says the standing is not known yet)."""

    title: str
    subtitle: str
    bars: tuple[CandidateBar, ...]
    complete: bool = True


ChartSpec = TurnoutByChild | TurnoutOverDay | CandidateShares


# -- public entry points ---------------------------------------------------------------------------


def render(spec: ChartSpec) -> ChartImage:
    """Draw ``spec`` as a PNG. Pure and synchronous; safe to call from any thread or process."""
    if isinstance(spec, TurnoutByChild):
        # Drawn straight into pixels from the layout that build_figure turns into artists.
        layout = _layout_by_child(spec)
        png = encode_rgb(_paint_by_child(layout).image, PALETTE)
        width, height = png_size(png)
        return ChartImage(png, width, height, layout.plotted, layout.not_reported)
    if isinstance(spec, TurnoutOverDay):  # the same, for chart 2
        day = _layout_over_day(spec)
        png = encode_rgb(_paint_over_day(day).image, PALETTE)
        width, height = png_size(png)
        return ChartImage(png, width, height, day.plotted, spec.not_reported)
    figure, plotted, named = _build(spec)
    # Drawn on the figure's own canvas (a TextCachingCanvas: text remembered between charts),
    # then encoded as a palette PNG without metadata, so the same spec gives the same bytes.
    canvas = figure.canvas
    if not isinstance(canvas, TextCachingCanvas):
        raise TypeError("a chart figure is drawn on a TextCachingCanvas")
    canvas.draw()  # type: ignore[no-untyped-call]  # backend_agg has no annotations
    png = encode_png(canvas, PALETTE)
    width, height = png_size(png)
    if isinstance(spec, CandidateShares):  # what it names are the elected
        return ChartImage(png=png, width=width, height=height, plotted=plotted, marked=named)
    return ChartImage(png=png, width=width, height=height, plotted=plotted, not_reported=named)


def warm_up() -> None:
    """Draw a small chart of each kind once, so that a process's first real chart does not
    pay for loading fonts, glyphs and matplotlib's lazily built parts (the chart workers run
    this when they start)."""
    moment = dt.datetime(2026, 1, 1, 8)
    bars = (UnitBar("Xã Đ 1", 1, 2, 1, 2, 1), UnitBar("Xã Đ 2", 0, 2, 0, 2))
    series = (DaySeries("Xã Đ", ((moment, 50.0),)),)
    for spec in (
        TurnoutByChild("Đ", "Cập nhật 0,1%", bars),
        TurnoutOverDay("Đ", "Đ", series, moment.replace(hour=7), moment, "xong", ("Xã Đ 2",)),
        CandidateShares("Đ", "", (CandidateBar("1. Đ", 1, Decimal("50.00"), elected=True),)),
    ):
        render(spec)


def build_figure(spec: ChartSpec) -> Figure:
    """The laid-out figure behind :func:`render`, for inspecting text sizes and positions."""
    return _build(spec)[0]


def png_size(png: bytes) -> tuple[int, int]:
    """(width, height) from a PNG's IHDR chunk."""
    if png[:8] != b"\x89PNG\r\n\x1a\n" or png[12:16] != b"IHDR":
        raise ValueError("not a PNG image")
    width, height = struct.unpack(">II", png[16:24])
    return int(width), int(height)


class ChartRenderer:
    """Renders charts off the event loop.

    ``workers > 0``: a process pool of that size. Rendering takes 15–30 milliseconds of CPU
    holding the GIL, which would stall the bot's other updates if run in a thread. The pool
    uses the "spawn" start method: forking a process that already runs threads (asyncio's
    executors, the HTTP client) can copy a lock held by another thread and deadlock the child.
    ``workers == 0``: render in a thread with :func:`asyncio.to_thread` (tests, tiny installs).

    Spawned workers import the parent's ``__main__`` module, so the program's entry point must
    keep its start-up code under ``if __name__ == "__main__":`` (console scripts do).

    ``cache_bytes > 0``: images are remembered by their spec (the data they show), up to that
    many PNG bytes, least recently used first out: a repeated request (the same unit's
    `/tonghop` twice with the same data) is free, and a spec asked for while the same spec is
    being drawn waits for that drawing. It does not make hourly pushes redraw only the units that
    changed: the specs carry the push's time (the over-the-day axis ends at it), see
    docs/PERFORMANCE.md, "the national push". ``0`` (the default): every call draws.
    """

    def __init__(self, workers: int = 2, *, cache_bytes: int = 0) -> None:
        if workers < 0:
            raise ValueError(f"workers must be >= 0, got {workers}")
        if cache_bytes < 0:
            raise ValueError(f"cache_bytes must be >= 0, got {cache_bytes}")
        self._workers = workers
        self._closed = False
        self._cache_limit = cache_bytes
        self._cache: OrderedDict[ChartSpec, ChartImage] = OrderedDict()
        self._cache_size = 0
        self._drawing: dict[ChartSpec, asyncio.Future[ChartImage]] = {}
        # Worker processes start on the first render, not here.
        self._pool: ProcessPoolExecutor | None = self._new_pool() if workers else None

    def _new_pool(self) -> ProcessPoolExecutor:
        context = multiprocessing.get_context("spawn")
        return ProcessPoolExecutor(
            max_workers=self._workers, mp_context=context, initializer=warm_up
        )

    async def render(self, spec: ChartSpec) -> ChartImage:
        if self._closed:
            raise RuntimeError("ChartRenderer is closed")
        if not self._cache_limit:
            return await self._draw(spec)
        cached = self._cache.get(spec)
        if cached is not None:
            self._cache.move_to_end(spec)
            return cached
        drawing = self._drawing.get(spec)
        if drawing is None:
            drawing = asyncio.ensure_future(self._draw(spec))
            self._drawing[spec] = drawing
            drawing.add_done_callback(lambda done: self._drawn(spec, done))
        # Shielded: one caller giving up does not cancel the drawing the others wait for.
        return await asyncio.shield(drawing)

    def _drawn(self, spec: ChartSpec, done: asyncio.Future[ChartImage]) -> None:
        self._drawing.pop(spec, None)
        if done.cancelled() or done.exception() is not None:
            return  # not remembered: the next call draws again
        image = done.result()
        if len(image.png) > self._cache_limit or spec in self._cache:
            return
        self._cache[spec] = image
        self._cache_size += len(image.png)
        while self._cache_size > self._cache_limit:
            _, oldest = self._cache.popitem(last=False)
            self._cache_size -= len(oldest.png)

    async def _draw(self, spec: ChartSpec) -> ChartImage:
        pool = self._pool
        if pool is None:
            return await asyncio.to_thread(render, spec)
        try:
            return await asyncio.get_running_loop().run_in_executor(pool, render, spec)
        except BrokenProcessPool:
            # A worker died (for instance killed by the OOM killer) and the executor refuses all
            # work from then on. Replace it so later charts work, but fail this one instead of
            # retrying: the spec itself may be what killed the worker.
            if self._pool is pool and not self._closed:
                self._pool = self._new_pool()
                pool.shutdown(wait=False, cancel_futures=True)
            raise

    def close(self) -> None:
        """Stop the worker processes, waiting for them to exit. Idempotent."""
        self._closed = True
        self._cache.clear()
        self._cache_size = 0
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # Joining the workers blocks; do not stall the event loop while they finish.
        await asyncio.to_thread(self.close)


# -- shared drawing helpers ----------------------------------------------------------------------


def _font(px: float, *, bold: bool = False) -> FontProperties:
    return FontProperties(fname=_BOLD if bold else _REGULAR, size=_pt(px))


def _pt(px: float) -> float:
    """Pixels of the output image to points, matplotlib's unit for font sizes and line widths."""
    return px * 72 / DPI


def _display(text: str) -> str:
    # Text typed on some phones arrives decomposed (a + combining marks); matplotlib draws
    # combining marks as separate glyphs next to the letter. The precomposed letters look right.
    return unicodedata.normalize("NFC", " ".join(text.split()))


def _percent_label(value: Decimal) -> str:
    return f"{value}%".replace(".", ",")


def _round1(value: float) -> Decimal:
    # Via the shortest repr: Decimal(78.05) is 78.04999…, which would round down.
    return Decimal(repr(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


# Text widths depend only on text, font file and size (DPI is fixed), and shaping a string costs
# about a millisecond, so they are worth remembering between charts. Plain dict operations are
# atomic under the GIL, which is all the sharing between threads this needs.
_WIDTHS: dict[tuple[str, str, float], float] = {}


class _Measure:
    """Text widths in output pixels, from the figure's own renderer."""

    def __init__(self, renderer: RendererBase) -> None:
        self._renderer = renderer

    @classmethod
    def shared(cls) -> _Measure:
        """Widths from a renderer kept for the process (a width depends on the DPI only)."""
        return cls(measuring_renderer(DPI))

    def width(self, text: str, font: FontProperties) -> float:
        key = (text, str(font.get_file()), font.get_size_in_points())
        cached = _WIDTHS.get(key)
        if cached is None:
            width, _, _ = self._renderer.get_text_width_height_descent(text, font, ismath=False)
            if len(_WIDTHS) >= 20_000:  # a long-lived worker sees many labels; stay bounded
                _WIDTHS.clear()
            cached = _WIDTHS[key] = float(width)
        return cached

    def fit(self, text: str, font: FontProperties, max_px: float, max_lines: int) -> list[str]:
        """Word-wrap ``text`` to ``max_px``; past ``max_lines``, shorten the last line with …."""
        lines: list[str] = []
        for word in text.split():
            candidate = f"{lines[-1]} {word}" if lines else word
            if lines and self.width(candidate, font) <= max_px:
                lines[-1] = candidate
            else:
                lines.append(word)
        if not lines:
            return [""]
        if len(lines) > max_lines:
            lines = [*lines[: max_lines - 1], " ".join(lines[max_lines - 1 :]) + ELLIPSIS]
        return [self.shorten(line, font, max_px) for line in lines]

    def shorten(self, line: str, font: FontProperties, max_px: float) -> str:
        if self.width(line, font) <= max_px:
            return line
        body = line.removesuffix(ELLIPSIS)
        while body and self.width(body.rstrip() + ELLIPSIS, font) > max_px:
            body = body[:-1]
        return body.rstrip() + ELLIPSIS


def _new_figure(height_px: float) -> tuple[Figure, _Measure]:
    figure = Figure(figsize=(WIDTH_PX / DPI, height_px / DPI), dpi=DPI, facecolor="white")
    canvas = TextCachingCanvas(figure)
    renderer: RendererBase = canvas.get_renderer()
    return figure, _Measure(renderer)


def _header_lines(
    measure: _Measure, title: str, subtitle: str
) -> tuple[list[str], list[str], float]:
    """Wrapped title and subtitle lines, and the header height in pixels."""
    room = WIDTH_PX - 2 * PAD_PX
    title_lines = measure.fit(_display(title), _font(TITLE_PX, bold=True), room, 2)
    subtitle_lines = (
        measure.fit(_display(subtitle), _font(SUBTITLE_PX), room, 2) if subtitle.strip() else []
    )
    height = (
        PAD_PX
        + len(title_lines) * TITLE_PX * 1.25
        + len(subtitle_lines) * SUBTITLE_PX * 1.3
        + (8 if subtitle_lines else 0)
        + 24
    )
    return title_lines, subtitle_lines, height


def _draw_header(
    figure: Figure, height_px: float, title_lines: list[str], subtitle_lines: list[str]
) -> None:
    top = height_px - PAD_PX
    figure.text(
        PAD_PX / WIDTH_PX,
        top / height_px,
        "\n".join(title_lines),
        fontproperties=_font(TITLE_PX, bold=True),
        color=INK,
        ha="left",
        va="top",
        linespacing=1.15,
        parse_math=False,
    )
    if subtitle_lines:
        top -= len(title_lines) * TITLE_PX * 1.25 + 8
        figure.text(
            PAD_PX / WIDTH_PX,
            top / height_px,
            "\n".join(subtitle_lines),
            fontproperties=_font(SUBTITLE_PX),
            color=MUTED,
            ha="left",
            va="top",
            linespacing=1.2,
            parse_math=False,
        )


def _place_axes(
    figure: Figure, height_px: float, left: float, right: float, bottom: float, top: float
) -> Axes:
    """An axes whose plotting area spans the given pixel edges (measured from the bottom-left)."""
    return figure.add_axes(
        (
            left / WIDTH_PX,
            bottom / height_px,
            (right - left) / WIDTH_PX,
            (top - bottom) / height_px,
        )
    )


def _style_axes(axes: Axes) -> None:
    axes.set_axisbelow(True)
    for side in ("top", "right", "left"):
        axes.spines[side].set_visible(False)
    axes.spines["bottom"].set_color(MUTED)
    axes.tick_params(colors=INK, length=_pt(6), width=_pt(2), pad=_pt(8))


def _percent_axis(
    figure: Figure,
    axes: Axes,
    height_px: float,
    bottom_px: float,
    ticks: Sequence[int],
    font: FontProperties,
) -> None:
    """The bar chart's 0–100 % axis drawn by hand: grid lines, tick marks and labels, as
    matplotlib's ticks would draw them (6 px marks, labels 8 px below), without its Tick
    objects, each of which builds two lines and two texts (a good part of the render time)."""
    axes.set_xticks([])
    axes.vlines(ticks, 0, 1, transform=axes.get_xaxis_transform(), colors=GRID,
                linewidth=_pt(2), zorder=0.5)  # fmt: skip
    below = blended_transform_factory(axes.transData, figure.transFigure)
    axes.vlines(ticks, (bottom_px - 6) / height_px, bottom_px / height_px, transform=below,
                colors=INK, linewidth=_pt(2), clip_on=False)  # fmt: skip
    for tick in ticks:
        figure.text(
            tick,
            (bottom_px - 6 - 8) / height_px,
            f"{tick}%",
            transform=below,
            fontproperties=font,
            color=INK,
            ha="center",
            va="top",
            parse_math=False,
            clip_on=False,
        )


def _note_in_axes(axes: Axes, lines: Sequence[str]) -> None:
    """Text in the middle of an empty plot: "no data", or what is known instead."""
    axes.text(
        0.5,
        0.5,
        "\n".join(lines),
        transform=axes.transAxes,
        fontproperties=_font(LABEL_PX),
        color=INK if len(lines) > 1 else MUTED,
        ha="center",
        va="center",
        linespacing=1.5,
        parse_math=False,
        bbox={"facecolor": "white", "edgecolor": "none"},
    )


Built = tuple[Figure, tuple[tuple[str, float], ...], tuple[str, ...]]


def _build(spec: ChartSpec) -> Built:
    if isinstance(spec, TurnoutByChild):
        return _build_by_child(spec)
    if isinstance(spec, TurnoutOverDay):
        return _build_over_day(spec)
    if isinstance(spec, CandidateShares):
        return _build_candidate_shares(spec)
    raise TypeError(f"unknown chart spec: {type(spec).__name__}")


# -- the colour key ------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class KeyItem:
    """One entry of a chart's colour key: a swatch (hatched or plain) and what it means."""

    label: str
    colour: str
    hatched: bool = False
    line: bool = False  # a dashed line (a threshold), not a swatch


KEY_ROW_PX: Final = LABEL_PX * 1.6
KEY_GAP_PX: Final = 30  # between entries


def _key_rows(measure: _Measure, items: Sequence[KeyItem], room_px: float) -> list[list[KeyItem]]:
    """The key's entries in rows that fit ``room_px``."""
    font = _font(LABEL_PX)
    rows: list[list[KeyItem]] = []
    used = 0.0
    for item in items:
        width = KEY_PATCH_PX[0] + 8 + measure.width(item.label, font)
        if rows and used + KEY_GAP_PX + width <= room_px:
            rows[-1].append(item)
            used += KEY_GAP_PX + width
        else:
            rows.append([item])
            used = width
    return rows


def _draw_key(
    figure: Figure,
    measure: _Measure,
    height_px: float,
    top_px: float,
    rows: Sequence[Sequence[KeyItem]],
) -> None:
    """Draw the key from ``top_px`` (pixels from the bottom) downwards, from the left margin."""
    font = _font(LABEL_PX)
    swatch_w, swatch_h = KEY_PATCH_PX
    for number, row in enumerate(rows):
        centre = top_px - (number + 0.5) * KEY_ROW_PX
        x = float(PAD_PX)
        for item in row:
            if item.line:
                figure.add_artist(
                    Line2D(
                        [x / WIDTH_PX, (x + swatch_w) / WIDTH_PX],
                        [centre / height_px, centre / height_px],
                        transform=figure.transFigure,
                        color=item.colour,
                        linewidth=_pt(4),
                        linestyle=(0, (2, 1)),
                    )
                )
            else:
                figure.add_artist(
                    Rectangle(
                        (x / WIDTH_PX, (centre - swatch_h / 2) / height_px),
                        swatch_w / WIDTH_PX,
                        swatch_h / height_px,
                        transform=figure.transFigure,
                        facecolor=item.colour,
                        edgecolor=NO_REPORT_HATCH if item.hatched else item.colour,
                        hatch="///" if item.hatched else None,
                        linewidth=_pt(1.5),
                    )
                )
            figure.text(
                (x + swatch_w + 8) / WIDTH_PX,
                centre / height_px,
                item.label,
                fontproperties=font,
                color=INK,
                ha="left",
                va="center_baseline",
                parse_math=False,
            )
            x += swatch_w + 8 + measure.width(item.label, font) + KEY_GAP_PX


TURNOUT_KEY: Final = (
    KeyItem(texts.CHART_KEY_LOW, RED),
    KeyItem(texts.CHART_KEY_MID, AMBER),
    KeyItem(texts.CHART_KEY_HIGH, GREEN),
)
NOT_REPORTED_KEY: Final = KeyItem(texts.CHART_KEY_NOT_REPORTED, NO_REPORT_FILL, hatched=True)
READINESS_KEY: Final = (KeyItem(texts.CHART_KEY_REGISTERED, UNIT_COLOUR),)


# -- chart 1: turnout per child unit -------------------------------------------------------------


def _exact_turnout(bar: UnitBar) -> Fraction:
    # The exact ratio, not the rounded label, so near-ties still order correctly.
    return Fraction(bar.voted, bar.voters) if bar.voters > 0 else Fraction(0)


def _registered_share(bar: UnitBar) -> Fraction:
    return Fraction(bar.chiefs_registered, bar.areas_total) if bar.areas_total > 0 else Fraction(0)


def order_bars(
    bars: Sequence[UnitBar], limit: int = MAX_BARS, *, before_turnout: bool = False
) -> tuple[list[UnitBar], int]:
    """The bars to draw, top to bottom, and how many are left out.

    Name order (Vietnamese alphabet, natural numbers: ``bot.monitoring.names``), so that each unit
    keeps
    its place from one chart of the day to the next and is found by name; the colours and the
    text summary (slowest first) point at the laggards. When there are more than ``limit``,
    the ``limit`` lowest are drawn — children with no report first, then by exact turnout
    (before any turnout: by the share of areas with a registered chief) — still in name order.
    """
    for bar in bars:
        counts = (
            *(bar.voted, bar.voters, bar.areas_reported, bar.areas_total, bar.areas_finished),
            *(bar.chiefs_registered, bar.staff_tested, bar.staff_total, bar.positives),
        )
        if min(counts) < 0:
            raise ValueError(f"negative count in {bar!r}")
    chosen = list(bars)
    if len(chosen) > limit:
        if before_turnout:
            chosen = sorted(
                chosen, key=lambda bar: (_registered_share(bar), name_order_key(bar.label))
            )
        else:
            chosen = sorted(
                chosen,
                key=lambda bar: (bar.reported, _exact_turnout(bar), name_order_key(bar.label)),
            )
        chosen = chosen[:limit]
    return sorted(chosen, key=lambda bar: name_order_key(bar.label)), len(bars) - len(chosen)


def _progress_colour(percent: Decimal) -> tuple[str, str]:
    """(bar colour, colour of text drawn on it), from the value as printed."""
    if percent < 50:
        return RED, "white"
    if percent < 80:
        return AMBER, INK
    return GREEN, "white"


def areas_cell(bar: UnitBar) -> str:
    """The right column of the turnout chart: areas reported / total, and finished."""
    return (
        f"{vn_int(bar.areas_reported)}/{vn_int(bar.areas_total)}{SEPARATOR}"
        f"{texts.CHART_FINISHED} {vn_int(bar.areas_finished)}"
    )


def readiness_cell(bar: UnitBar) -> str:
    """The right column before any turnout: the list size and the COVID staff tests."""
    cell = f"{vn_int(bar.voters)}{SEPARATOR}" + texts.CHART_TESTED.format(
        tested=vn_int(bar.staff_tested), total=vn_int(bar.staff_total)
    )
    if bar.positives:
        cell += SEPARATOR + texts.CHART_POSITIVE.format(count=vn_int(bar.positives))
    return cell


@dataclasses.dataclass(frozen=True, slots=True)
class _Row:
    bar: UnitBar
    length: float  # bar length, 0..100
    value: Decimal  # the number printed by the bar (percent, or registered share)
    text: str  # printed by the bar
    cell: str  # printed in the right column
    colour: str
    on_bar: str  # text colour on the bar


def _rows(spec: TurnoutByChild, bars: Sequence[UnitBar]) -> list[_Row]:
    rows = []
    for bar in bars:
        if spec.before_turnout:
            share = turnout_percent(bar.chiefs_registered, bar.areas_total, 1)
            text = f"{vn_int(bar.chiefs_registered)}/{vn_int(bar.areas_total)} {AREAS_ABBREVIATION}"
            length = float(min(share, Decimal(100)))
            rows.append(_Row(bar, length, share, text, readiness_cell(bar), UNIT_COLOUR, "white"))
        elif not bar.reported:
            rows.append(
                _Row(bar, 100.0, Decimal(0), texts.CHART_NOT_REPORTED, areas_cell(bar), "", INK)
            )
        else:
            # The same rounding as the text reports (bot.formatting): chart and replies agree.
            percent = turnout_percent(bar.voted, bar.voters, 1)
            colour, on_bar = _progress_colour(percent)
            # A list that shrank during the day can put turnout over 100 %: the bar stops at
            # the axis end, the printed number tells the truth.
            length = float(min(percent, Decimal(100)))
            rows.append(
                _Row(bar, length, percent, _percent_label(percent), areas_cell(bar), colour, on_bar)
            )
    return rows


@dataclasses.dataclass(frozen=True, slots=True)
class _ValueLabel:
    """The text printed by a bar: where (data x), aligned how, in which colours and font."""

    x: float
    ha: HAlign
    colour: str
    backdrop: str
    bold: bool


@dataclasses.dataclass(frozen=True, slots=True)
class _ByChildLayout:
    """Everything chart 1 draws, placed in pixels (y upwards from the bottom, as matplotlib's
    figure coordinates): drawn either as a matplotlib Figure (:func:`build_figure`) or
    straight into pixels (:func:`render`), from the same numbers."""

    spec: TurnoutByChild
    rows: tuple[_Row, ...]
    names: tuple[str, ...]  # as drawn: shortened, wrapped ("\n")
    silent: frozenset[int]  # rows drawn as not reported
    labels: tuple[_ValueLabel, ...]
    height_px: int
    title_lines: tuple[str, ...]
    subtitle_lines: tuple[str, ...]
    key_rows: tuple[tuple[KeyItem, ...], ...]
    key_top: float
    column_header: str
    left_px: float
    right_px: float
    top_px: float
    bottom_px: float
    ticks: tuple[int, ...]

    @property
    def count(self) -> int:
        return max(len(self.rows), 1)

    def row_y(self, index: float) -> float:
        """Pixels from the bottom of row ``index``'s centre (data y of the axes, row 0 on top)."""
        return self.bottom_px + (self.count - 0.5 - index) / self.count * (
            self.top_px - self.bottom_px
        )

    def bar_x(self, value: float) -> float:
        return self.left_px + value / 100 * (self.right_px - self.left_px)

    @property
    def plotted(self) -> tuple[tuple[str, float], ...]:
        return tuple((row.bar.label, float(row.value)) for row in self.rows)

    @property
    def not_reported(self) -> tuple[str, ...]:
        return tuple(self.rows[i].bar.label for i in sorted(self.silent))


def _layout_by_child(spec: TurnoutByChild) -> _ByChildLayout:
    bars, hidden = order_bars(spec.bars, before_turnout=spec.before_turnout)
    rows = _rows(spec, bars)
    subtitle = spec.subtitle
    if hidden:
        note = (
            texts.CHART_LOWEST_SHOWN.format(count=vn_int(len(rows)))
            + SEPARATOR
            + MORE_UNITS_NOTE.format(count=vn_int(hidden))
        )
        subtitle = f"{subtitle}{SEPARATOR}{note}" if subtitle.strip() else note

    label_font = _font(LABEL_PX)
    value_font = _font(LABEL_PX, bold=True)
    column_header = (
        texts.CHART_READINESS_COLUMN if spec.before_turnout else texts.CHART_AREAS_COLUMN
    )
    measure = _Measure.shared()
    title_lines, subtitle_lines, header_px = _header_lines(measure, spec.title, subtitle)
    names = [
        "\n".join(measure.fit(_display(r.bar.label), label_font, BAR_LABEL_MAX_PX, 2)) for r in rows
    ]
    name_px = max(
        (measure.width(line, label_font) for n in names for line in n.split("\n")), default=0.0
    )
    column_px = max(
        [measure.width(column_header, label_font)]
        + [measure.width(r.cell, label_font) for r in rows]
    )
    if spec.before_turnout:
        key: list[KeyItem] = list(READINESS_KEY)
    else:
        key = list(TURNOUT_KEY)
        if any(not r.bar.reported for r in rows):
            key.append(NOT_REPORTED_KEY)
    # The key on the left; the right column's header on the key's last row, at the right.
    key_rows = _key_rows(measure, key, WIDTH_PX - 2 * PAD_PX - column_px - KEY_GAP_PX)
    key_px = len(key_rows) * KEY_ROW_PX + 8

    count = max(len(rows), 1)
    row_px = BAR_ROW_WRAPPED_PX if any("\n" in name for name in names) else BAR_ROW_PX
    bottom_px = PAD_PX + TICK_PX * 1.2 + 20  # x tick labels under the axis
    height_px = math.ceil(header_px + key_px + count * row_px + bottom_px)
    left_px = PAD_PX + name_px + 14
    right_px = WIDTH_PX - PAD_PX - column_px - 24
    # Fewer ticks on a narrow axis (a wide right column), so "100%" never touches "80%".
    ticks = (0, 20, 40, 60, 80, 100) if right_px - left_px >= 420 else (0, 50, 100)

    axes_px = right_px - left_px
    silent = [i for i, r in enumerate(rows) if not spec.before_turnout and not r.bar.reported]
    gap = 10 / axes_px * 100  # 10 px, in data units
    labels = []
    for index, row in enumerate(rows):
        if index in silent:
            # On the hatched row, near its start, on a white backdrop: "chưa báo cáo".
            labels.append(_ValueLabel(gap, "left", INK, "white", bold=False))
            continue
        text_px = measure.width(row.text, value_font)
        end_px = row.length / 100 * axes_px
        # Beside the bar when it fits in the axes, else inside its end in a contrasting
        # colour; the printed number, not the colour, is what the reader relies on.
        if end_px + 10 + text_px <= axes_px:
            labels.append(_ValueLabel(row.length + gap, "left", INK, "white", bold=True))
        else:
            labels.append(_ValueLabel(row.length - gap, "right", row.on_bar, row.colour, True))
    return _ByChildLayout(
        spec=spec,
        rows=tuple(rows),
        names=tuple(names),
        silent=frozenset(silent),
        labels=tuple(labels),
        height_px=height_px,
        title_lines=tuple(title_lines),
        subtitle_lines=tuple(subtitle_lines),
        key_rows=tuple(tuple(row) for row in key_rows),
        key_top=height_px - header_px + 12,
        column_header=column_header,
        left_px=left_px,
        right_px=right_px,
        top_px=height_px - header_px - key_px,
        bottom_px=bottom_px,
        ticks=ticks,
    )


def _build_by_child(spec: TurnoutByChild) -> Built:
    layout = _layout_by_child(spec)
    return _figure_by_child(layout), layout.plotted, layout.not_reported


def _figure_by_child(layout: _ByChildLayout) -> Figure:
    """Chart 1 as matplotlib artists (what :func:`build_figure` returns)."""
    label_font = _font(LABEL_PX)
    tick_font = _font(TICK_PX)
    value_font = _font(LABEL_PX, bold=True)
    height_px = layout.height_px
    rows = layout.rows
    figure, measure = _new_figure(height_px)
    _draw_header(figure, height_px, list(layout.title_lines), list(layout.subtitle_lines))
    _draw_key(figure, measure, height_px, layout.key_top, layout.key_rows)
    figure.text(
        (WIDTH_PX - PAD_PX) / WIDTH_PX,
        (layout.key_top - (len(layout.key_rows) - 0.5) * KEY_ROW_PX) / height_px,
        layout.column_header,
        fontproperties=label_font,
        color=MUTED,
        ha="right",
        va="center_baseline",
        parse_math=False,
    )
    axes = _place_axes(
        figure, height_px, layout.left_px, layout.right_px, layout.bottom_px, layout.top_px
    )
    _style_axes(axes)
    axes.set_xlim(0, 100)
    axes.set_ylim(layout.count - 0.5, -0.5)  # row 0 at the top
    _percent_axis(figure, axes, height_px, layout.bottom_px, layout.ticks, tick_font)
    # Names as plain texts beside the rows, not as y tick labels: matplotlib builds two lines
    # and two texts per tick, which was a quarter of the chart's render time. Texts drawn
    # outside the axes belong to the figure: an axes' text gets a clip path set up for it
    # even when it is not clipped, a cost per text.
    axes.set_yticks([])
    if not rows:
        _note_in_axes(axes, [NO_DATA_NOTE])
    beside = blended_transform_factory(figure.transFigure, axes.transData)
    for index, name in enumerate(layout.names):
        figure.text(
            (layout.left_px - 8) / WIDTH_PX,
            index,
            name,
            transform=beside,
            fontproperties=label_font,
            color=INK,
            ha="right",
            va="center_baseline" if "\n" not in name else "center",
            parse_math=False,
            clip_on=False,
        )
    # The bars as plain rectangles in data coordinates, as barh would draw them, without its
    # bookkeeping (data limits and autoscaling per bar: the limits are already set above).
    for index, row in enumerate(rows):
        if index in layout.silent:
            continue
        axes.add_artist(
            Rectangle(
                (0.0, index - BAR_FILL / 2),
                row.length,
                BAR_FILL,
                facecolor=row.colour,
                edgecolor="none",
                linewidth=0,
            )
        )
    for index in sorted(layout.silent):
        axes.add_artist(
            Rectangle(
                (0.0, index - BAR_FILL / 2),
                100.0,
                BAR_FILL,
                facecolor=NO_REPORT_FILL,
                edgecolor=NO_REPORT_HATCH,
                hatch="///",
                linewidth=0,
            )
        )
    for index, (row, place) in enumerate(zip(rows, layout.labels, strict=True)):
        label = axes.text(
            place.x,
            index,
            row.text,
            fontproperties=value_font if place.bold else label_font,
            color=place.colour,
            ha=place.ha,
            va="center_baseline",
            parse_math=False,
        )
        # A backdrop in the colour underneath, so grid lines do not cross the digits.
        label.set_bbox({"facecolor": place.backdrop, "edgecolor": "none", "pad": _pt(2)})
        figure.text(
            (WIDTH_PX - PAD_PX) / WIDTH_PX,
            index,
            row.cell,
            transform=beside,
            fontproperties=label_font,
            color=_cell_colour(layout.spec, row),
            ha="right",
            va="center_baseline",
            parse_math=False,
            clip_on=False,
        )
    return figure


def _cell_colour(spec: TurnoutByChild, row: _Row) -> str:
    return RED if spec.before_turnout and row.bar.positives else INK


# Agg's line widths in pixels: the axis line (rcParams axes.linewidth, 0.8 pt), the key
# swatch's edge (_pt(1.5)).
_SPINE_PX: Final = 0.8 * DPI / 72
_SWATCH_EDGE_PX: Final = 1.5
_NOTE_PAD_PX: Final = 4 * DPI / 72  # a text backdrop's default padding, 4 pt


def _hatch_tile() -> Any:
    """The "///" hatch of a not-reported row over its fill, one repeat (one inch) of it, as
    Agg draws it: rendered by matplotlib once per process."""
    global _HATCH_TILE  # made on first use, then kept
    if _HATCH_TILE is None:
        figure = Figure(figsize=(1, 1), dpi=DPI, facecolor="white")
        canvas = TextCachingCanvas(figure)
        figure.add_artist(
            Rectangle(
                (0, 0),
                1,
                1,
                transform=figure.transFigure,
                facecolor=NO_REPORT_FILL,
                edgecolor=NO_REPORT_HATCH,
                hatch="///",
                linewidth=0,
            )
        )
        canvas.draw()  # type: ignore[no-untyped-call]  # backend_agg has no annotations
        _HATCH_TILE = np.asarray(canvas.buffer_rgba())[:, :, :3].copy()  # type: ignore[no-untyped-call]
    return _HATCH_TILE


_HATCH_TILE: Any = None


def _figure_span(
    start: float, length: float, size: float, *, flip: bool = False
) -> tuple[float, float]:
    """The device pixels of start and start + length of a patch placed in figure fractions,
    computed as matplotlib's composed transform does (so that a corner exactly between two
    pixels goes where Agg's rounding sends it in the figure); ``flip``: a y, counted from the
    image's top."""
    low = start / size
    extent = (low + length / size) - low
    if flip:
        return -size * low + size, -size * extent + (-size * low + size)
    return size * low, size * extent + size * low


@dataclasses.dataclass(frozen=True, slots=True)
class _FigurePixels:
    """A painter spoken to in matplotlib's figure terms: y up from the bottom, positions
    through figure fractions (with their float rounding, so a point lands on the pixel Agg
    would choose), texts laid out as matplotlib lays them out. Both painters draw with it."""

    paint: Painter
    height: int

    def down(self, up: float) -> float:  # matplotlib's y (up from the bottom) to the image's
        return self.height - up

    def across(self, x: float) -> float:  # a figure fraction's x, in pixels as matplotlib has it
        return WIDTH_PX * (x / WIDTH_PX)

    def up(self, y: float) -> float:  # the same for y
        return self.height * (y / self.height)

    def text(self, x: float, y: float, s: str, font: FontProperties, colour: str, ha: HAlign,
             va: VAlign, linespacing: LineSpacing = "normal") -> TextLayout:  # fmt: skip
        placed = text_layout(s, font, ha, va, linespacing, DPI)
        self.paint.text(x, y, placed, font, colour)
        return placed


def _paint_by_child(layout: _ByChildLayout) -> Painter:
    """Chart 1 drawn straight into pixels, as Agg draws :func:`_figure_by_child`'s artists
    (the same layout; text from the same glyph cache), without building a Figure: about a
    third of the CPU time."""
    height = layout.height_px
    paint = Painter(WIDTH_PX, height, DPI)
    label_font = _font(LABEL_PX)
    tick_font = _font(TICK_PX)
    value_font = _font(LABEL_PX, bold=True)
    figure = _FigurePixels(paint, height)
    down, across, up, text = figure.down, figure.across, figure.up, figure.text

    # The axes: grid lines under the bars (2 px, snapped like Agg's even-width lines).
    top, bottom = down(layout.top_px), down(layout.bottom_px)
    # Clipped to the axes, as Agg clips them (the box's edges rounded to whole pixels).
    clip_left, clip_right = snap(layout.left_px), snap(layout.right_px)
    for tick in layout.ticks:
        line = snap(layout.bar_x(tick))
        paint.box(max(line - 1, clip_left), top, min(line + 1, clip_right), bottom, GRID)
    for index, row in enumerate(layout.rows):
        # Row index + BAR_FILL / 2 is the lower edge (row 0 on top).
        y0, y1 = down(layout.row_y(index - BAR_FILL / 2)), down(layout.row_y(index + BAR_FILL / 2))
        if index in layout.silent:
            paint.box(layout.bar_x(0), y0, layout.bar_x(100), y1, NO_REPORT_FILL)
            left, right = sorted((snap(layout.bar_x(0)), snap(layout.bar_x(100))))
            paint.pattern(left, snap(y0), right, snap(y1), _hatch_tile())
        else:
            paint.box(layout.bar_x(0), y0, layout.bar_x(row.length), y1, row.colour)
    for tick in layout.ticks:  # tick marks under the axis
        line = snap(layout.bar_x(tick))
        paint.box(line - 1, bottom, line + 1, bottom + 6, INK)
    # The axis line: odd width, so snapped to pixel centres; projecting caps.
    half = _SPINE_PX / 2
    centre = snap(bottom) + 0.5
    ends = snap(layout.left_px) + 0.5, snap(layout.right_px) + 0.5
    paint.fill(ends[0] - half, centre - half, ends[1] + half, centre + half, MUTED)
    for index, (row, place) in enumerate(zip(layout.rows, layout.labels, strict=True)):
        font = value_font if place.bold else label_font
        x, y = layout.bar_x(place.x), layout.row_y(index)
        placed = text_layout(row.text, font, place.ha, "center_baseline", "normal", DPI)
        box_x, box_y, box_w, box_h = placed.box
        pad = 2.0
        paint.box(x + box_x - pad, down(y + box_y + box_h + pad), x + box_x + box_w + pad,
                  down(y + box_y - pad), place.backdrop)  # fmt: skip
        paint.text(x, y, placed, font, place.colour)
    if not layout.rows:
        x, y = (layout.left_px + layout.right_px) / 2, (layout.top_px + layout.bottom_px) / 2
        placed = text_layout(NO_DATA_NOTE, label_font, "center", "center", 1.5, DPI)
        box_x, box_y, box_w, box_h = placed.box
        pad = _NOTE_PAD_PX
        paint.box(x + box_x - pad, down(y + box_y + box_h + pad), x + box_x + box_w + pad,
                  down(y + box_y - pad), "white")  # fmt: skip
        paint.text(x, y, placed, label_font, MUTED)

    # Outside the axes: the key's swatches, then every text.
    _paint_key_rows(paint, height, layout.key_top, layout.key_rows, text)
    text(across(WIDTH_PX - PAD_PX), up(layout.key_top - (len(layout.key_rows) - 0.5) * KEY_ROW_PX),
         layout.column_header, label_font, MUTED, "right", "center_baseline")  # fmt: skip
    top_px: float = height - PAD_PX
    text(across(PAD_PX), up(top_px), "\n".join(layout.title_lines), _font(TITLE_PX, bold=True), INK,
         "left", "top", 1.15)  # fmt: skip
    if layout.subtitle_lines:
        top_px -= len(layout.title_lines) * TITLE_PX * 1.25 + 8
        text(across(PAD_PX), up(top_px), "\n".join(layout.subtitle_lines),
             _font(SUBTITLE_PX), MUTED, "left", "top", 1.2)  # fmt: skip
    for tick in layout.ticks:
        text(layout.bar_x(tick), up(layout.bottom_px - 6 - 8), f"{tick}%", tick_font, INK,
             "center", "top")  # fmt: skip
    for index, (name, row) in enumerate(zip(layout.names, layout.rows, strict=True)):
        y = layout.row_y(index)
        va: VAlign = "center_baseline" if "\n" not in name else "center"
        text(across(layout.left_px - 8), y, name, label_font, INK, "right", va)
        text(across(WIDTH_PX - PAD_PX), y, row.cell, label_font,
             _cell_colour(layout.spec, row), "right", "center_baseline")  # fmt: skip
    return paint


# -- chart 2: turnout over the day ---------------------------------------------------------------


def _hours(moment: dt.datetime, start: dt.datetime) -> float:
    if (moment.tzinfo is None) != (start.tzinfo is None):
        raise ValueError("mixing naive and timezone-aware times")
    return (moment - start).total_seconds() / 3600


def time_ticks(
    start: dt.datetime, end: dt.datetime, min_gap_hours: float = 0.0
) -> tuple[list[float], list[str]]:
    """Ticks on whole hours, every hour on a short day and wider on a long one (at most 8
    steps), labelled `05:00`; the last tick is the end itself, the time of the data (`12:33`),
    and whole hours closer to it than ``min_gap_hours`` are left out so labels do not touch."""
    span = _hours(end, start)
    if span <= 0:
        raise ValueError("day_end must be after day_start")
    step = next((s for s in (1, 2, 3, 4, 6, 12) if span / s <= 8), 24)
    first = start.replace(minute=0, second=0, microsecond=0)
    if first < start:
        first += dt.timedelta(hours=1)
    positions: list[float] = []
    labels: list[str] = []
    moment = first
    while moment < end:
        if _hours(end, moment) >= min_gap_hours:
            positions.append(_hours(moment, start))
            labels.append(moment.strftime("%H:%M"))
        moment += dt.timedelta(hours=step)
    positions.append(span)
    labels.append(end.strftime("%H:%M"))
    return positions, labels


def _day_points(
    spec: TurnoutOverDay,
) -> list[tuple[DaySeries, list[tuple[float, float]]]]:
    """The series to draw, each with its (hours since day_start, percent) points in range."""
    span = _hours(spec.day_end, spec.day_start)
    drawn: list[tuple[DaySeries, list[tuple[float, float]]]] = []
    for one in spec.series:
        if not all(math.isfinite(value) for _, value in one.points):
            raise ValueError(f"non-finite turnout in series {one.label!r}")
        points = sorted((_hours(moment, spec.day_start), value) for moment, value in one.points)
        points = [(x, value) for x, value in points if 0 <= x <= span]
        if points:
            drawn.append((one, points))
    return drawn[:MAX_SERIES]


@dataclasses.dataclass(frozen=True, slots=True)
class _DayLine:
    """One series as drawn: style, points in data units (hours, percent clamped to 0..100)."""

    colour: str
    marker: str
    width_px: float
    marker_px: float
    zorder: float
    xs: tuple[float, ...]
    ys: tuple[float, ...]


@dataclasses.dataclass(frozen=True, slots=True)
class _OverDayLayout:
    """Everything chart 2 draws, placed in pixels (y upwards from the bottom): drawn either as
    a matplotlib Figure (:func:`build_figure`) or straight into pixels (:func:`render`)."""

    spec: TurnoutOverDay
    height_px: int
    header_px: float
    title_lines: tuple[str, ...]
    subtitle_lines: tuple[str, ...]
    card: bool  # before any turnout: the known figures instead of a plot
    left_px: float
    right_px: float
    bottom_px: float
    top_px: float
    span: float
    ticks: tuple[float, ...]
    tick_labels: tuple[str, ...]
    lines: tuple[_DayLine, ...]
    labels: tuple[str, ...]  # legend entries, as printed
    legend_top: float
    key: KeyItem | None  # the not-reported list
    key_top: float
    plotted: tuple[tuple[str, float], ...]

    @property
    def box(self) -> tuple[float, float, float, float]:
        """The axes' edges in pixels (left, bottom, right, top; y upwards), as matplotlib has
        them from the figure fractions :func:`_place_axes` gives (the last bit matters: an
        edge exactly between two pixels is rounded to one or the other)."""
        height = self.height_px
        left, bottom = self.left_px / WIDTH_PX, self.bottom_px / height
        width, tall = (
            (self.right_px - self.left_px) / WIDTH_PX,
            (self.top_px - self.bottom_px) / height,
        )
        return WIDTH_PX * left, height * bottom, WIDTH_PX * (left + width), height * (bottom + tall)

    def x(self, hours: float) -> float:
        """A time's x in pixels, by the floating-point steps of the axes' data transform."""
        x0, _, x1, _ = self.box
        return (x1 - x0) * (1.0 / self.span) * hours + x0

    def y(self, percent: float) -> float:
        """A percentage's y in pixels (upwards), as :meth:`x`."""
        _, y0, _, y1 = self.box
        return (y1 - y0) * (1.0 / 100) * percent + y0


_DAY_YTICKS: Final = (0, 20, 40, 60, 80, 100)
_LEGEND_ROW_PX: Final = LABEL_PX * 1.6


def _layout_over_day(spec: TurnoutOverDay) -> _OverDayLayout:
    series = _day_points(spec)
    tick_font = _font(TICK_PX)
    legend_font = _font(LABEL_PX)
    legend_bold = _font(LABEL_PX, bold=True)
    measure = _Measure.shared()
    title_lines, subtitle_lines, header_px = _header_lines(measure, spec.title, spec.subtitle)
    # Legend under the plot, where it cannot hide a line: the unit alone on the first row, the
    # children in two columns below it.
    legend_rows = (1 + math.ceil((len(series) - 1) / 2)) if series else 0
    silent_rows = 1 if spec.not_reported and series else 0
    xticks_px = TICK_PX * 1.2 + 30
    bottom_px = (
        PAD_PX + (legend_rows + silent_rows) * _LEGEND_ROW_PX + (16 if series else 0) + xticks_px
    )
    card = not series and bool(spec.known)
    if card:  # a card of what is known, not an empty plot
        card_px = 20 + (SUBTITLE_PX + 4) * 2 + (len(spec.known) - 1) * (LABEL_PX + 2) * 1.7
        height_px = math.ceil(header_px + card_px + PAD_PX)
    else:
        height_px = math.ceil(header_px + DAY_AXES_PX + bottom_px)
    left_px = PAD_PX + measure.width("100%", tick_font) + 16
    label_px = measure.width("00:00", tick_font)
    right_px = WIDTH_PX - PAD_PX - label_px / 2
    span = _hours(spec.day_end, spec.day_start)
    # The axis ends at the time of the data; a whole hour too close to it gives way.
    ticks, tick_labels = time_ticks(
        spec.day_start, spec.day_end, (label_px + 16) / (right_px - left_px) * span
    )
    # Handle and gap before a legend label, in pixels (handlelength + handletextpad, in em).
    handle_px = (2.2 + 0.6) * LABEL_PX
    column_gap_px = 1.5 * LABEL_PX
    full_px = WIDTH_PX - 2 * PAD_PX - handle_px
    column_px = (WIDTH_PX - 2 * PAD_PX - column_gap_px) / 2 - handle_px
    lines: list[_DayLine] = []
    labels: list[str] = []
    plotted: list[tuple[str, float]] = []
    for index, (one, points) in enumerate(series):
        xs = tuple(x for x, _ in points)
        ys = tuple(min(max(value, 0.0), 100.0) for _, value in points)
        last = _round1(points[-1][1])
        # Straight segments between reports rather than steps: voters arrive all along, so the
        # line is the better guess between reports, and a step would end in a bare vertical
        # spike at the latest report. Markers show where the reported numbers are.
        if index == 0:
            lines.append(_DayLine(UNIT_COLOUR, "o", 7, 15, 3, xs, ys))
        else:
            colour, marker = CHILD_STYLES[(index - 1) % len(CHILD_STYLES)]
            lines.append(_DayLine(colour, marker, 3.5, 13, 2, xs, ys))
        font = legend_bold if index == 0 else legend_font
        suffix = f"{SEPARATOR}{_percent_label(last)}"
        if index == 0 and spec.unit_note:
            suffix += f"{SEPARATOR}{spec.unit_note}"
        room = (full_px if index == 0 else column_px) - measure.width(suffix, font)
        labels.append(measure.shorten(_display(one.label), font, room) + suffix)
        plotted.append((one.label, float(last)))
    legend_top = bottom_px - xticks_px - 16
    key = None
    if silent_rows:
        # Children without any report: named here, not drawn as lines lying on 0 %.
        key = KeyItem(_not_reported_list(measure, spec.not_reported), NO_REPORT_FILL, True)
    return _OverDayLayout(
        spec=spec,
        height_px=height_px,
        header_px=header_px,
        title_lines=tuple(title_lines),
        subtitle_lines=tuple(subtitle_lines),
        card=card,
        left_px=left_px,
        right_px=right_px,
        bottom_px=bottom_px,
        top_px=height_px - header_px,
        span=span,
        ticks=tuple(ticks),
        tick_labels=tuple(tick_labels),
        lines=tuple(lines),
        labels=tuple(labels),
        legend_top=legend_top,
        key=key,
        key_top=legend_top - legend_rows * _LEGEND_ROW_PX + (_LEGEND_ROW_PX - KEY_ROW_PX) / 2,
        plotted=tuple(plotted),
    )


def _build_over_day(spec: TurnoutOverDay) -> Built:
    layout = _layout_over_day(spec)
    return _figure_over_day(layout), layout.plotted, spec.not_reported


def _figure_over_day(layout: _OverDayLayout) -> Figure:
    """Chart 2 as matplotlib artists (what :func:`build_figure` returns)."""
    spec = layout.spec
    height_px = layout.height_px
    header_px = layout.header_px
    tick_font = _font(TICK_PX)
    figure, measure = _new_figure(height_px)
    _draw_header(figure, height_px, list(layout.title_lines), list(layout.subtitle_lines))
    if layout.card:
        # Before any turnout: what is known, as a card in place of an empty grid of zeros.
        first, *rest = spec.known
        figure.text(
            PAD_PX / WIDTH_PX,
            (height_px - header_px - 20) / height_px,
            first,
            fontproperties=_font(SUBTITLE_PX + 4, bold=True),
            color=INK,
            ha="left",
            va="top",
            parse_math=False,
        )
        figure.text(
            PAD_PX / WIDTH_PX,
            (height_px - header_px - 20 - (SUBTITLE_PX + 4) * 2) / height_px,
            "\n".join(f"• {line}" for line in rest),
            fontproperties=_font(LABEL_PX + 2),
            color=INK,
            ha="left",
            va="top",
            linespacing=1.7,
            parse_math=False,
        )
        return figure
    left_px = layout.left_px
    axes = _place_axes(figure, height_px, left_px, layout.right_px, layout.bottom_px,
                       layout.top_px)  # fmt: skip
    _style_axes(axes)
    axes.set_xlim(0, layout.span)
    axes.set_ylim(0, 100)
    axes.set_xticks(layout.ticks, layout.tick_labels, fontproperties=tick_font, parse_math=False)
    axes.get_xticklabels()[-1].set_fontproperties(_font(TICK_PX, bold=True))
    # Further from the axis than usual: "05:00" would otherwise touch the "0%" beside it.
    axes.tick_params(axis="x", pad=_pt(14))
    axes.grid(axis="x", color=GRID, linewidth=_pt(2))
    # The 0–100 % axis by hand, as its ticks would draw it (grid lines, labels 8 px left of the
    # axes, no marks), without six Tick objects of two lines and two texts each.
    axes.set_yticks([])
    axes.hlines(_DAY_YTICKS, 0, 1, transform=axes.get_yaxis_transform(), colors=GRID,
                linewidth=_pt(2), zorder=0.5)  # fmt: skip
    beside = blended_transform_factory(figure.transFigure, axes.transData)
    for tick in _DAY_YTICKS:
        figure.text((left_px - 8) / WIDTH_PX, tick, f"{tick}%", transform=beside,
                    fontproperties=tick_font, color=INK, ha="right", va="center_baseline",
                    parse_math=False, clip_on=False)  # fmt: skip
    if not layout.lines:
        _note_in_axes(axes, [NO_DATA_NOTE])
        return figure
    handles: list[Line2D] = []
    for one in layout.lines:
        (line,) = axes.plot(
            one.xs,
            one.ys,
            color=one.colour,
            linewidth=_pt(one.width_px),
            marker=one.marker,
            markersize=_pt(one.marker_px),
            zorder=one.zorder,
            clip_on=False,  # points are in range; keep markers on the 100 % line whole
        )
        handles.append(line)
    legend_font = _font(LABEL_PX)
    legend_bold = _font(LABEL_PX, bold=True)
    top_px = layout.legend_top
    for group, entries, font, top in (
        (handles[:1], layout.labels[:1], legend_bold, top_px),
        (handles[1:], layout.labels[1:], legend_font, top_px - _LEGEND_ROW_PX),
    ):
        if not group:
            continue
        legend = figure.legend(
            group,
            list(entries),
            loc="upper left",
            bbox_to_anchor=(PAD_PX / WIDTH_PX, top / height_px),
            ncols=2,
            frameon=False,
            prop=font,
            borderaxespad=0,
            borderpad=0,
            handlelength=2.2,
            handletextpad=0.6,
            columnspacing=1.5,
        )
        for text in legend.get_texts():
            text.set_parse_math(False)
    if layout.key is not None:
        _draw_key(figure, measure, height_px, layout.key_top, [[layout.key]])
    return figure


def _legend_places(
    labels: Sequence[str], font: FontProperties, left: float, top: float
) -> list[tuple[float, float]]:
    """Where a two-column legend (as :func:`_figure_over_day` asks matplotlib for, its upper
    left corner at (left, top)) puts each entry's handle box: its lower left corner, which is
    also the label's baseline start less the handle and gap. Ported from Legend and offsetbox's
    packers (columns filled top to bottom, the first taking the odd entry)."""
    measure = measuring_renderer(DPI)
    size = font.get_size_in_points()
    dpicor = DPI / 72
    handle_w, handle_h = 2.2 * size * dpicor, 0.7 * size * dpicor
    text_sep, row_sep, column_sep = 0.6 * size * dpicor, 0.5 * size * dpicor, 1.5 * size * dpicor
    _, lp_h, lp_d = measure.get_text_width_height_descent("lp", font, False)
    items: list[tuple[float, float, float]] = []  # width, y0, y1 of each entry's box
    for label in labels:
        placed = text_layout(label, font, "left", "baseline", "normal", DPI)
        _, below, width, height = placed.box
        last_descent = -below  # the last line's descent, as Text._get_layout has it
        h_d = max(lp_h - lp_d, height - last_descent)
        items.append(((handle_w + text_sep) + width, -last_descent, max(handle_h, h_d)))
    count = len(items)
    split = [items[: (count + 1) // 2], items[(count + 1) // 2 :]] if count > 1 else [items]
    columns: list[tuple[float, float, float, list[float]]] = []  # width, y0, y1, item offsets
    for column in filter(len, split):
        heights = [y1 - y0 for _, y0, y1 in column]
        starts = [0.0]
        for h in heights:
            starts.append(starts[-1] + h + row_sep)
        height = starts[-1] - row_sep
        offsets = [height - (start + y1) for start, (_, _, y1) in zip(starts, column, strict=False)]
        descent = offsets[0]
        columns.append((max(w for w, _, _ in column), -descent, -descent + height,
                        [o - descent for o in offsets]))  # fmt: skip
    y0 = min(c[1] for c in columns)
    y1 = max(c[2] for c in columns)
    x = 0.0
    origin_y = top - (y1 - y0) - y0
    places: list[tuple[float, float]] = []
    for width, _, _, offsets in columns:
        places.extend((left + x, origin_y + offset) for offset in offsets)
        x += width + column_sep
    return places


def _paint_key_rows(
    paint: Painter,
    height: int,
    key_top: float,
    rows: Sequence[Sequence[KeyItem]],
    text: Any,
) -> None:
    """A colour key as :func:`_draw_key` draws it: swatches, then their labels (``text``)."""
    label_font = _font(LABEL_PX)
    measure = _Measure.shared()
    swatch_w, swatch_h = KEY_PATCH_PX
    for row_number, key_row in enumerate(rows):
        centre = key_top - (row_number + 0.5) * KEY_ROW_PX
        x = float(PAD_PX)
        for item in key_row:
            near, far = _figure_span(x, swatch_w, WIDTH_PX)
            bottom_edge, top_edge = _figure_span(centre - swatch_h / 2, swatch_h, height, flip=True)
            sx0, sx1, sy0, sy1 = snap(near), snap(far), snap(top_edge), snap(bottom_edge)
            paint.box(sx0, sy0, sx1, sy1, item.colour)
            if item.hatched:
                paint.pattern(sx0, sy0, sx1, sy1, _hatch_tile())
            paint.ring(sx0, sy0, sx1, sy1, _SWATCH_EDGE_PX,
                       NO_REPORT_HATCH if item.hatched else item.colour)  # fmt: skip
            text(WIDTH_PX * ((x + swatch_w + 8) / WIDTH_PX), height * (centre / height),
                 item.label, label_font, INK, "left", "center_baseline")  # fmt: skip
            x += swatch_w + 8 + measure.width(item.label, label_font) + KEY_GAP_PX


class _AggBand:
    """Rows ``top``..``bottom`` (device pixels) of an image drawn on a bare Agg renderer: boxes
    snapped as :meth:`Painter.box` draws them, then lines and markers by matplotlib's own Agg
    code (anti-aliased, blended over what is under them, as in the figure), then laid into the
    painted image. Only its white background and what is drawn here are in those rows."""

    def __init__(self, paint: Painter, top: int, bottom: int) -> None:
        self.paint = paint
        self.top, self.bottom = max(top, 0), min(bottom, paint.height)
        # backend_agg has no annotations
        self.renderer = RendererAgg(paint.width, max(self.bottom - self.top, 1), DPI)  # type: ignore[no-untyped-call]
        self.pixels = np.asarray(self.renderer.buffer_rgba())  # type: ignore[no-untyped-call]
        self.pixels[...] = 255

    def box(self, x0: float, y0: float, x1: float, y1: float, colour: str) -> None:
        top, bottom = sorted((snap(y0), snap(y1)))
        left, right = sorted((snap(x0), snap(x1)))
        left, top = max(left, 0), max(top, self.top)
        right, bottom = min(right, self.paint.width), min(bottom, self.bottom)
        if left < right and top < bottom:
            self.pixels[top - self.top : bottom - self.top, left:right, :3] = rgb(colour)

    def line(self, xs: Sequence[float], ys: Sequence[float], style: dict[str, Any]) -> None:
        """A Line2D of ``style`` through pixels (x, y upwards from the image's bottom)."""
        lift = self.paint.height - self.bottom  # image rows below the band
        drawn = Line2D(xs, [y - lift for y in ys], transform=IdentityTransform(), **style)
        drawn.draw(self.renderer)

    def finish(self) -> None:
        size = (self.paint.width, self.bottom - self.top)
        if size[1] > 0:
            buffer = self.renderer.buffer_rgba()  # type: ignore[no-untyped-call]
            drawn = Image.frombuffer("RGB", size, buffer, "raw", "RGBX", 0, 1)
            self.paint.image.paste(drawn, (0, self.top))


def _line_style(one: _DayLine) -> dict[str, Any]:
    """A series' Line2D style, as :func:`_figure_over_day` plots it."""
    return {"color": one.colour, "linewidth": _pt(one.width_px), "marker": one.marker,
            "markersize": _pt(one.marker_px)}  # fmt: skip


def _paint_over_day(layout: _OverDayLayout) -> Painter:
    """Chart 2 drawn straight into pixels, as Agg draws :func:`_figure_over_day`'s artists: the
    boxes and texts with the :class:`Painter`, the curves and their legend handles by
    matplotlib's Agg path code on a bare renderer over the plot band (no Figure, Axes,
    ticks or legend objects)."""
    spec = layout.spec
    height = layout.height_px
    paint = Painter(WIDTH_PX, height, DPI)
    tick_font = _font(TICK_PX)
    label_font = _font(LABEL_PX)
    figure = _FigurePixels(paint, height)
    down, across, up, text = figure.down, figure.across, figure.up, figure.text

    def header() -> None:
        top_px: float = height - PAD_PX
        text(across(PAD_PX), up(top_px), "\n".join(layout.title_lines),
             _font(TITLE_PX, bold=True), INK, "left", "top", 1.15)  # fmt: skip
        if layout.subtitle_lines:
            top_px -= len(layout.title_lines) * TITLE_PX * 1.25 + 8
            text(across(PAD_PX), up(top_px), "\n".join(layout.subtitle_lines),
                 _font(SUBTITLE_PX), MUTED, "left", "top", 1.2)  # fmt: skip

    if layout.card:
        header()
        first, *rest = spec.known
        below = height - layout.header_px - 20
        text(across(PAD_PX), up(below), first, _font(SUBTITLE_PX + 4, bold=True), INK, "left",
             "top")  # fmt: skip
        text(across(PAD_PX), up(below - (SUBTITLE_PX + 4) * 2),
             "\n".join(f"• {line}" for line in rest), _font(LABEL_PX + 2), INK, "left", "top",
             1.7)  # fmt: skip
        return paint

    left_px, bottom_px, right_px, top_px = layout.box
    top, bottom = down(top_px), down(bottom_px)
    # The axes, and the legend's handles: on an Agg band when there are lines to draw.
    target: Painter | _AggBand = paint
    legend_texts: list[tuple[float, float, str, FontProperties]] = []
    handles: list[tuple[list[float], list[float], dict[str, Any]]] = []
    if layout.lines:
        # The legend's handles: a short line, its marker in the middle.
        groups = ((layout.labels[:1], layout.lines[:1], _font(LABEL_PX, bold=True),
                   layout.legend_top),
                  (layout.labels[1:], layout.lines[1:], label_font,
                   layout.legend_top - _LEGEND_ROW_PX))  # fmt: skip
        lowest = layout.legend_top
        for labels, lines, font, legend_top in groups:
            if not labels:
                continue
            size = font.get_size_in_points() * DPI / 72
            for (x0, y0), label, one in zip(
                _legend_places(labels, font, across(PAD_PX), up(legend_top)), labels, lines,
                strict=True,
            ):  # fmt: skip
                handle_w = 2.2 * size
                mid = y0 + 0.35 * size
                style = _line_style(one)
                handles.append(([x0, x0 + handle_w], [mid, mid], {**style, "marker": "None"}))
                handles.append(([x0 + 0.5 * handle_w], [mid], {**style, "linestyle": "None"}))
                legend_texts.append((x0 + handle_w + 0.6 * size, y0, label, font))
                lowest = min(lowest, mid - 16)
        reach = 16  # more than a marker's half size, around what the band holds
        target = _AggBand(paint, math.floor(top) - reach, math.ceil(down(lowest)) + reach)

    # Grid lines (2 px, snapped like Agg's even-width lines, clipped to the axes).
    clip_left, clip_right = snap(left_px), snap(right_px)
    clip_top, clip_bottom = snap(top), snap(bottom)
    for tick in layout.ticks:
        line = snap(layout.x(tick))
        target.box(max(line - 1, clip_left), top, min(line + 1, clip_right), bottom, GRID)
    for percent in _DAY_YTICKS:
        line = snap(down(layout.y(percent)))
        target.box(left_px, max(line - 1, clip_top), right_px,
                   min(line + 1, clip_bottom), GRID)  # fmt: skip
    for tick in layout.ticks:  # tick marks under the axis
        line = snap(layout.x(tick))
        target.box(line - 1, bottom, line + 1, bottom + 6, INK)

    if isinstance(target, _AggBand):
        curves = [
            ([layout.x(x) for x in one.xs], [layout.y(y) for y in one.ys], _line_style(one))
            for one in layout.lines
        ]
        # The children's lines under the axis line, the unit's over it (their zorders); the
        # axis line drawn as its Patch is (0.8 pt, projecting caps).
        axis_line = (
            [layout.x(0), layout.x(layout.span)],
            [bottom_px, bottom_px],
            {"color": MUTED, "linewidth": 0.8, "solid_capstyle": "projecting"},
        )
        for xs, ys, style in [*curves[1:], axis_line, curves[0], *handles]:
            target.line(xs, ys, style)
        target.finish()
    else:
        # The axis line: odd width, so snapped to pixel centres; projecting caps.
        half = _SPINE_PX / 2
        centre = snap(bottom) + 0.5
        ends = snap(layout.x(0)) + 0.5, snap(layout.x(layout.span)) + 0.5
        paint.fill(ends[0] - half, centre - half, ends[1] + half, centre + half, MUTED)
        x, y = (right_px - left_px) * 0.5 + left_px, (top_px - bottom_px) * 0.5 + bottom_px
        placed = text_layout(NO_DATA_NOTE, label_font, "center", "center", 1.5, DPI)
        box_x, box_y, box_w, box_h = placed.box
        pad = _NOTE_PAD_PX
        paint.box(x + box_x - pad, down(y + box_y + box_h + pad), x + box_x + box_w + pad,
                  down(y + box_y - pad), "white")  # fmt: skip
        paint.text(x, y, placed, label_font, MUTED)

    if layout.key is not None:
        _paint_key_rows(paint, height, layout.key_top, [[layout.key]], text)
    header()
    for percent in _DAY_YTICKS:
        text(across(layout.left_px - 8), layout.y(percent), f"{percent}%", tick_font, INK,
             "right", "center_baseline")  # fmt: skip
    last = len(layout.ticks) - 1
    for index, (tick, label) in enumerate(zip(layout.ticks, layout.tick_labels, strict=True)):
        font = _font(TICK_PX, bold=True) if index == last else tick_font
        text(layout.x(tick), bottom_px - 20, label, font, INK, "center", "top")
    for x, y, label, font in legend_texts:
        text(x, y, label, font, _LEGEND_INK, "left", "baseline")
    return paint


_LEGEND_INK: Final = "#000000"  # a legend label's colour: matplotlib's default text colour


def _not_reported_list(measure: _Measure, names: Sequence[str]) -> str:
    """ "Chưa báo cáo: A, B, C +4": as many names as fit the width, then how many more."""
    font = _font(LABEL_PX)
    room = WIDTH_PX - 2 * PAD_PX - KEY_PATCH_PX[0] - 8
    shown = [_display(name) for name in names]
    for count in range(len(shown), 0, -1):
        more = len(shown) - count
        text = texts.CHART_NOT_REPORTED_LIST.format(names=", ".join(shown[:count]))
        if more:
            text += " " + MORE_UNITS_NOTE.format(count=vn_int(more))
        if measure.width(text, font) <= room or count == 1:
            return measure.shorten(text, font, room)
    return texts.CHART_NOT_REPORTED_LIST.format(names="")


# -- chart 3 (results night): candidates' share of the valid ballots ---------------------------

HALF_LINE_COLOUR: Final = RED
ELECTED_COLOUR: Final = GREEN
CANDIDATE_COLOUR: Final = UNIT_COLOUR
ELECTED_MARK: Final = "✓ "  # before an elected candidate's name: not by colour alone
CANDIDATE_TICKS: Final = (0, 25, 50, 75, 100)


def candidate_value(bar: CandidateBar) -> str:
    """The text at a candidate's bar: `76,92% · 950 phiếu`."""
    return results_texts.CHART_CANDIDATE_VALUE.format(
        percent=_percent_label(bar.percent), votes=vn_int(bar.votes)
    )


def _build_candidate_shares(spec: CandidateShares) -> Built:
    for bar in spec.bars:
        if bar.votes < 0 or not 0 <= bar.percent <= 100:
            raise ValueError(f"impossible share in {bar!r}")
    label_font = _font(LABEL_PX)
    bold_font = _font(LABEL_PX, bold=True)
    tick_font = _font(TICK_PX)

    measure = _Measure.shared()  # widths depend on the DPI only: no figure needed yet
    title_lines, subtitle_lines, header_px = _header_lines(measure, spec.title, spec.subtitle)
    names = []
    for bar in spec.bars:
        font = bold_font if bar.elected else label_font
        text = (ELECTED_MARK if bar.elected else "") + _display(bar.label)
        names.append("\n".join(measure.fit(text, font, BAR_LABEL_MAX_PX, 2)))
    name_px = max(
        (measure.width(line, bold_font) for n in names for line in n.split("\n")), default=0.0
    )
    key: list[KeyItem] = []
    if spec.complete:
        key.append(KeyItem(results_texts.CHART_KEY_ELECTED, ELECTED_COLOUR))
        key.append(KeyItem(results_texts.CHART_KEY_NOT_ELECTED, CANDIDATE_COLOUR))
    else:
        key.append(KeyItem(results_texts.CHART_KEY_INCOMPLETE, CANDIDATE_COLOUR))
    key.append(KeyItem(results_texts.CHART_KEY_HALF, HALF_LINE_COLOUR, line=True))
    key_rows = _key_rows(measure, key, WIDTH_PX - 2 * PAD_PX)
    key_px = len(key_rows) * KEY_ROW_PX + 8

    count = max(len(spec.bars), 1)
    row_px = BAR_ROW_WRAPPED_PX if any("\n" in name for name in names) else BAR_ROW_PX
    bottom_px = PAD_PX + TICK_PX * 1.2 + 20
    height_px = math.ceil(header_px + key_px + count * row_px + bottom_px)
    figure, measure = _new_figure(height_px)
    _draw_header(figure, height_px, title_lines, subtitle_lines)
    _draw_key(figure, measure, height_px, height_px - header_px + 12, key_rows)

    left_px = PAD_PX + name_px + 14
    # Room on the right for the longest value beside a full bar's end is not kept: a long
    # bar carries its value inside its end instead (as in chart 1).
    right_px = WIDTH_PX - PAD_PX - measure.width("100%", tick_font) / 2
    top_px = height_px - header_px - key_px
    axes = _place_axes(figure, height_px, left_px, right_px, bottom_px, top_px)
    _style_axes(axes)
    axes.set_xlim(0, 100)
    axes.set_ylim(count - 0.5, -0.5)
    _percent_axis(figure, axes, height_px, bottom_px, CANDIDATE_TICKS, tick_font)
    axes.set_yticks([])
    if not spec.bars:
        _note_in_axes(axes, [NO_DATA_NOTE])
    beside = blended_transform_factory(figure.transFigure, axes.transData)
    axes_px = right_px - left_px
    gap = 10 / axes_px * 100
    for index, (bar, name) in enumerate(zip(spec.bars, names, strict=True)):
        font = bold_font if bar.elected else label_font
        figure.text(
            (left_px - 8) / WIDTH_PX,
            index,
            name,
            transform=beside,
            fontproperties=font,
            color=ELECTED_COLOUR if bar.elected else INK,
            ha="right",
            va="center_baseline" if "\n" not in name else "center",
            parse_math=False,
            clip_on=False,
        )
        colour = ELECTED_COLOUR if bar.elected else CANDIDATE_COLOUR
        length = float(bar.percent)
        axes.add_artist(
            Rectangle(
                (0.0, index - BAR_FILL / 2),
                length,
                BAR_FILL,
                facecolor=colour,
                edgecolor="none",
                linewidth=0,
            )
        )
        value = candidate_value(bar)
        text_px = measure.width(value, font)
        end_px = length / 100 * axes_px
        if end_px + 10 + text_px <= axes_px:
            x, ha, ink, backdrop = length + gap, "left", INK, "white"
        else:
            x, ha, ink, backdrop = length - gap, "right", "white", colour
        label = axes.text(
            x,
            index,
            value,
            fontproperties=font,
            color=ink,
            ha=ha,
            va="center_baseline",
            parse_math=False,
            zorder=4,
        )
        label.set_bbox({"facecolor": backdrop, "edgecolor": "none", "pad": _pt(2)})
    # The line a candidate must pass (more than half of the valid ballots), over the bars.
    axes.axvline(
        50, color=HALF_LINE_COLOUR, linewidth=_pt(4), linestyle=(0, (2, 1)), zorder=3, gid="half"
    )
    plotted = tuple((bar.label, float(bar.percent)) for bar in spec.bars)
    marked = tuple(bar.label for bar in spec.bars if bar.elected)
    return figure, plotted, marked
