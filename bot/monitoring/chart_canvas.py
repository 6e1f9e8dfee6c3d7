"""A matplotlib Agg canvas that remembers text between charts, a painter that draws like Agg
without a Figure, and a fast PNG encoder.

Issue 19's profile: laying out and rasterising text glyph by glyph was most of a chart's render
time, and most strings recur from chart to chart ("0%", "9/9 · xong 5", the key, the column
header, the title). :class:`TextCachingRenderer` keeps, per (string, font file, size):

* its metrics (width, height, descent), which matplotlib otherwise recomputes for every new
  figure (its own cache is per renderer);
* its rasterised image: FreeType renders each glyph once, at the glyph's subpixel offset from
  the string's origin, and the glyphs are composited into one grey image. Drawing the string
  again is then a single ``draw_text_image`` call. The only difference from matplotlib's own
  drawing is that the string's origin is rounded to a whole pixel (≤ ½ px), which no reader
  can see, so that the same image serves every position.

Glyph positions and text metrics are composed from remembered glyphs (pair distances, glyph
boxes and advances: :func:`glyph_layout`, ``_glyph_metrics``), and :func:`text_layout` is
``Text._get_layout``'s arithmetic for unrotated text, so a new string ("48,3%") costs no
FreeType call. :class:`Painter` draws rectangles, hatches and these texts into a Pillow image
as Agg would draw the same artists: the by-child chart is drawn with it, not with a Figure.

Rotated text, mathtext and unantialiased text go through matplotlib unchanged (the charts use
none of them). The caches are bounded (about 30 MB at most), for a long-lived worker that
sees many labels.

:func:`encode_png` turns the drawn canvas into a palette PNG: a chart has a few hundred
colours (a dozen fills and their anti-aliased edges against white), which map to a
:class:`FixedPalette` of the chart's colours and their blends, built once, without visible
change — the fills keep their exact colours — and a palette image is a third the bytes of RGB
to deflate and to send. (Mapping to a fixed palette costs about a tenth of building an octree
palette for every image.)
"""

# matplotlib.backends.backend_agg has no type annotations: every call into it is untyped.
# mypy: disable-error-code="no-untyped-call"

from __future__ import annotations

import dataclasses
import io
import math
from collections.abc import Sequence
from typing import Any, Final, Literal

import numpy as np
from matplotlib.backend_bases import GraphicsContextBase
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg, get_hinting_flag
from matplotlib.font_manager import FontProperties, fontManager, get_font
from matplotlib.ft2font import RenderMode
from matplotlib.text import Text
from matplotlib.transforms import IdentityTransform
from PIL import Image

# Entries kept before a cache starts again empty. A string's image is a few kB (a 300 x 30 px
# name: 9 kB), a glyph's a few hundred bytes: at most ~20 + ~10 MB a worker.
_CACHE_LIMIT: Final = 20_000
_RASTER_LIMIT: Final = 4_000

_Metrics = tuple[float, float, float]
# (grey image, left edge and top edge of the image relative to the string's origin, upwards)
_Raster = tuple[Any, int, int]

_METRICS: dict[tuple[str, str, float, float], _Metrics] = {}
_GLYPHS: dict[tuple[Any, ...], tuple[Any, int, int]] = {}
_IDENTITY: Final = (np.array([[1, 0], [0, 1]]) * 0x10000).astype(int)
_RASTERS: dict[tuple[str, str, float, float], _Raster | None] = {}


def _key(s: str, prop: FontProperties, dpi: float) -> tuple[str, str, float, float]:
    return (s, str(prop.get_file() or prop.get_name()), prop.get_size_in_points(), dpi)


def _remember(cache: dict[Any, Any], key: Any, value: Any, limit: int = _CACHE_LIMIT) -> None:
    if len(cache) >= limit:
        cache.clear()
    cache[key] = value


# Glyph positions: a character's glyph in the font itself (None: not one glyph of it), and the
# distance from one character's origin to the next one's (advance and kerning), per font
# file, size and DPI. No FT2Font object is kept: matplotlib gives each thread its own.
_CHARS: dict[tuple[Any, ...], int | None] = {}
_PAIRS: dict[tuple[Any, ...], float | None] = {}
_Placed = tuple[float, float, int, Any]  # x, y of the glyph's origin; glyph index; face
# A glyph's hinted outline box (x min, y min, x max, y max) and advance, in 1/64 px.
_BOXES: dict[tuple[Any, ...], tuple[int, int, int, int, int]] = {}


def glyph_layout(font: Any, s: str, size: float, dpi: float, flags: Any) -> list[_Placed]:
    """Where FreeType's layout (``FT2Font._layout``) puts each glyph of ``s``, composed from
    remembered characters and pairs: a glyph's x is the sum of the pair distances before it
    (advances and kerning add up; ``tests/test_chart_drawing.py`` checks it against
    ``_layout``). Strings the composition cannot describe (a character that is not one
    glyph of ``font``, a pair whose layout is not two glyphs) go to ``_layout`` itself."""
    font_key = (font.fname, size, dpi)
    placed: list[_Placed] = []
    x = 0.0
    previous = ""
    for char in s:
        key = (*font_key, char)
        if key not in _CHARS:
            items = font._layout(char, flags=flags)
            one = len(items) == 1 and items[0].ft_object.fname == font.fname
            _remember(_CHARS, key, items[0].glyph_index if one else None)
        found = _CHARS[key]
        if found is None:  # from a fallback font (a missing glyph), or not one glyph
            return _exact_layout(font, s, flags)
        if previous:
            pair_key = (*font_key, previous, char)
            if pair_key not in _PAIRS:
                items = font._layout(previous + char, flags=flags)
                _remember(_PAIRS, pair_key, float(items[1].x) if len(items) == 2 else None)
            step = _PAIRS[pair_key]
            if step is None:
                return _exact_layout(font, s, flags)
            x += step
        placed.append((x, 0.0, found, font))
        previous = char
    return placed


def _exact_layout(font: Any, s: str, flags: Any) -> list[_Placed]:
    return [
        (item.x, item.y, item.glyph_index, item.ft_object) for item in font._layout(s, flags=flags)
    ]


class TextCachingRenderer(RendererAgg):
    """RendererAgg with text metrics and text images remembered across figures."""

    def get_text_width_height_descent(self, s: str, prop: FontProperties, ismath: Any) -> _Metrics:
        if ismath is not False:
            return super().get_text_width_height_descent(s, prop, ismath)  # type: ignore[no-any-return]
        key = _key(s, prop, self.dpi)
        cached = _METRICS.get(key)
        if cached is None:
            cached = self._glyph_metrics(s, prop)
            if cached is None:
                cached = super().get_text_width_height_descent(s, prop, ismath)
            _remember(_METRICS, key, cached)
        return cached

    def _glyph_metrics(self, s: str, prop: FontProperties) -> _Metrics | None:
        """What ``FT2Font.set_text`` measures (the pen's end after the last glyph's advance;
        the glyphs' extent up and down), from remembered glyphs: set_text loads and hints
        every glyph again, about 30 µs each. None for a string without glyphs or with one
        missing from the font (matplotlib measures it itself, and warns)."""
        font = self._prepare_font(prop)
        size = prop.get_size_in_points()
        flags = get_hinting_flag()
        placed = glyph_layout(font, s, size, self.dpi, flags)
        if any(face.fname != font.fname for _, _, _, face in placed):
            # A character the font lacks (drawn from a fallback font, say LastResort's
            # box): set_text measures it and warns about it, as the charts' checks expect.
            return None
        top = bottom = 0
        seen = False
        for _, _, glyph_index, face in placed:
            key = (face.fname, size, self.dpi, glyph_index)
            box = _BOXES.get(key)
            if box is None:
                face.set_size(size, self.dpi)
                glyph = face.load_glyph(glyph_index, flags=flags)
                box = (*glyph.bbox, glyph.horiAdvance)
                _remember(_BOXES, key, box)
            # Every glyph counts, a blank one too (its box is a point on the baseline).
            top, bottom = (box[3], box[1]) if not seen else (max(top, box[3]), min(bottom, box[1]))
            seen = True
        if not seen:
            return None
        last_x = placed[-1][0]
        last = _BOXES[(placed[-1][3].fname, size, self.dpi, placed[-1][2])]
        width = round(last_x * 0x40) + last[4]
        return width / 64.0, (top - bottom) / 64.0, -bottom / 64.0

    def draw_text(
        self,
        gc: GraphicsContextBase,
        x: float,
        y: float,
        s: str,
        prop: FontProperties,
        angle: float,
        ismath: Any = False,
        mtext: Text | None = None,
    ) -> None:
        if ismath or angle or not gc.get_antialiased():
            super().draw_text(gc, x, y, s, prop, angle, ismath, mtext)
            return
        raster = self.raster(s, prop)
        if raster is None:  # only blanks
            return
        image, left, top = raster
        # The string's origin on a whole pixel; y is downwards from the top, FreeType's upwards.
        origin_x = math.floor(x + 0.5)
        origin_up = math.floor(self.height - y + 0.5)
        self._renderer.draw_text_image(
            image, origin_x + left, int(self.height) - (origin_up + top) + image.shape[0], 0, gc
        )

    def raster(self, s: str, prop: FontProperties) -> _Raster | None:
        """``s`` as a grey image with its origin (``_rasterise``), remembered."""
        key = _key(s, prop, self.dpi)
        if key in _RASTERS:
            return _RASTERS[key]
        raster = self._rasterise(s, prop)
        _remember(_RASTERS, key, raster, _RASTER_LIMIT)
        return raster

    def _rasterise(self, s: str, prop: FontProperties) -> _Raster | None:
        """The string drawn with its origin at (0, 0), as matplotlib would draw each glyph."""
        font = self._prepare_font(prop)
        size = prop.get_size_in_points()
        flags = get_hinting_flag()
        glyphs = []
        for item_x, item_y, glyph_index, face in glyph_layout(font, s, size, self.dpi, flags):
            # Whole pixels of the glyph's offset move its bitmap; only the 1/64 fraction
            # changes how FreeType draws it, so glyphs are remembered per fraction.
            whole_x, frac_x = divmod(round(0x40 * item_x), 0x40)
            whole_y, frac_y = divmod(round(0x40 * item_y), 0x40)
            key = (face.fname, size, self.dpi, glyph_index, frac_x, frac_y)
            glyph = _GLYPHS.get(key)
            if glyph is None:
                face.set_size(size, self.dpi)
                face._set_transform(_IDENTITY, [frac_x, frac_y])
                bitmap = face._render_glyph(glyph_index, flags, RenderMode.NORMAL)
                glyph = (np.asarray(bitmap.buffer).copy(), int(bitmap.left), int(bitmap.top))
                _remember(_GLYPHS, key, glyph)
            buffer, g_left, g_top = glyph
            if buffer.size:
                glyphs.append((buffer, g_left + whole_x, g_top + whole_y))
        if not glyphs:
            return None
        left = min(g_left for _, g_left, _ in glyphs)
        top = max(g_top for _, _, g_top in glyphs)
        right = max(g_left + b.shape[1] for b, g_left, _ in glyphs)
        bottom = min(g_top - b.shape[0] for b, _, g_top in glyphs)
        image = np.zeros((top - bottom, right - left), dtype=np.uint8)
        for buffer, g_left, g_top in glyphs:
            rows, cols = buffer.shape
            y0, x0 = top - g_top, g_left - left
            np.maximum(
                image[y0 : y0 + rows, x0 : x0 + cols],
                buffer,
                out=image[y0 : y0 + rows, x0 : x0 + cols],
            )
        return image, left, top


class TextCachingCanvas(FigureCanvasAgg):
    """FigureCanvasAgg drawing with a :class:`TextCachingRenderer`."""

    def get_renderer(self) -> TextCachingRenderer:
        w, h = self.get_width_height(physical=True)
        key = w, h, self.figure.dpi
        if self._lastKey != key or not isinstance(self.renderer, TextCachingRenderer):
            self.renderer = TextCachingRenderer(w, h, self.figure.dpi)
            self._lastKey = key
        return self.renderer


def _rgb(colour: str) -> tuple[int, int, int]:
    if colour == "white":
        return 255, 255, 255
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def rgb(colour: str) -> tuple[int, int, int]:
    """A chart colour ("#RRGGBB" or "white") as 0..255 components."""
    return _rgb(colour)


def _blends(
    ink: tuple[int, int, int], ground: tuple[int, int, int], steps: int
) -> list[tuple[int, int, int]]:
    """The colours between ``ink`` and ``ground`` at ``steps`` even steps of coverage, ends
    excluded: the anti-aliased edge of one drawn over the other."""
    return [
        tuple(round(i * k / steps + g * (1 - k / steps)) for i, g in zip(ink, ground, strict=True))  # type: ignore[misc]
        for k in range(1, steps)
    ]


def _quantise(image: Image.Image, palette: Image.Image) -> Image.Image:
    return image.quantize(palette=palette, dither=Image.Dither.NONE)


class FixedPalette:
    """A palette PNG's colours chosen once for every chart, not per image: the chart's own
    colours (``exact``, ``#RRGGBB``), which keep their exact values, and the anti-aliased
    blends of each with white and of each (ink, ground) pair in ``pairs``.

    Pillow maps a pixel to its palette entry through a cache of 8 x 8 x 8 colour cells (it
    finds the entry nearest the cell, not the pixel), so an entry sharing a cell with an exact
    colour could take that colour's pixels: such blends are left out, and the exact colours are
    checked to map to themselves when the palette is built. Every other pixel takes the entry
    nearest its cell: a few units off on an edge pixel, no visible change.
    """

    def __init__(
        self, exact: Sequence[str], pairs: Sequence[tuple[str, str]] = (), steps: int = 12
    ) -> None:
        white = (255, 255, 255)
        fixed = list(dict.fromkeys([white, *map(_rgb, exact)]))
        blends: list[tuple[int, int, int]] = []
        for colour in fixed[1:]:
            blends += _blends(colour, white, steps)
        for ink, ground in pairs:
            blends += _blends(_rgb(ink), _rgb(ground), steps)
        cells = {tuple(v >> 3 for v in colour) for colour in fixed}
        blends = [
            b
            for b in dict.fromkeys(blends)
            if b not in fixed and tuple(v >> 3 for v in b) not in cells
        ]
        probe = Image.new("RGB", (len(fixed), 1))
        probe.putdata(fixed)
        while True:
            entries = fixed + blends
            if len(entries) > 256:
                raise ValueError(f"{len(entries)} palette colours: at most 256")
            self.image = Image.new("P", (1, 1))
            self.image.putpalette(bytes(v for entry in entries for v in entry), "RGB")
            indices = np.asarray(_quantise(probe, self.image))[0]
            mapped = [entries[int(i)] for i in indices]
            wrong = {got for want, got in zip(fixed, mapped, strict=True) if got != want}
            if wrong & set(fixed):
                raise ValueError("two exact palette colours share a colour cell")
            if not wrong:
                break
            blends = [b for b in blends if b not in wrong]
        self.colours: tuple[tuple[int, int, int], ...] = tuple(entries)


def encode_png(canvas: FigureCanvasAgg, palette: FixedPalette) -> bytes:
    """The drawn canvas as a palette PNG of ``palette``'s colours (zlib level 1), with no
    metadata chunks."""
    rgba = np.asarray(canvas.buffer_rgba())
    return encode_rgb(
        Image.frombuffer("RGBA", (rgba.shape[1], rgba.shape[0]), rgba, "raw", "RGBA", 0, 1).convert(
            "RGB"
        ),
        palette,
    )


def encode_rgb(image: Image.Image, palette: FixedPalette) -> bytes:
    """An RGB image as a palette PNG of ``palette``'s colours, not dithered (zlib level 1)."""
    quantised = _quantise(image, palette.image)
    quantised.info.pop("transparency", None)
    buffer = io.BytesIO()
    quantised.save(buffer, format="png", compress_level=1)
    return buffer.getvalue()


# -- drawing without a Figure ----------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class TextLayout:
    """Where matplotlib puts a text relative to its anchor (rotation 0), in pixels, y upwards:
    each line's origin, the text's box (for a backdrop) and its extent (for checks)."""

    lines: tuple[tuple[str, float, float], ...]  # (line, x, y of its origin)
    box: tuple[float, float, float, float]  # x, y of the lower-left corner; width, height
    extent: tuple[float, float, float, float]  # x0, y0, x1, y1


HAlign = Literal["left", "center", "right"]
VAlign = Literal["bottom", "baseline", "center", "center_baseline", "top"]
LineSpacing = Literal["normal"] | float

_LAYOUTS: dict[tuple[Any, ...], TextLayout] = {}
_LAYOUT_TEXT: dict[float, tuple[Text, RendererAgg]] = {}


def _layout_text(dpi: float) -> tuple[Text, TextCachingRenderer]:
    """One Text artist on a tiny figure, per DPI, used only to ask matplotlib's layout."""
    if dpi not in _LAYOUT_TEXT:
        from matplotlib.figure import Figure  # only the painter needs it

        figure = Figure(figsize=(1, 1), dpi=dpi)
        canvas = TextCachingCanvas(figure)
        text = Text(0, 0, "", figure=figure, parse_math=False)
        text.set_transform(IdentityTransform())
        _LAYOUT_TEXT[dpi] = (text, canvas.get_renderer())
    found = _LAYOUT_TEXT[dpi]
    assert isinstance(found[1], TextCachingRenderer)
    return found[0], found[1]


def measuring_renderer(dpi: float) -> TextCachingRenderer:
    """A renderer kept for the process, for text metrics and text images at ``dpi``."""
    return _layout_text(dpi)[1]


_HEIGHTS: dict[tuple[str, float, float], tuple[float, float, float]] = {}


def _font_heights(prop: FontProperties, dpi: float) -> tuple[float, float, float]:
    """(ascent, descent, line gap) of the font, in pixels, as ``Text._get_layout`` reads them
    (the OS/2 table, else hhea)."""
    key = (str(prop.get_file()), prop.get_size_in_points(), dpi)
    if key not in _HEIGHTS:
        font = get_font(fontManager._find_fonts_by_props(prop))
        found = (0.0, 0.0, 0.0)
        for table_name, gap_key, ascent_key, descent_key in (
            ("OS/2", "sTypoLineGap", "sTypoAscender", "sTypoDescender"),
            ("hhea", "lineGap", "ascent", "descent"),
        ):
            table: Any = font.get_sfnt_table(table_name)  # type: ignore[call-overload]
            if table is None:
                continue
            head: Any = font.get_sfnt_table("head")
            units_per_em = head["unitsPerEm"]
            scale = 1 / units_per_em * prop.get_size_in_points() * dpi / 72
            found = (table[ascent_key] * scale, -table[descent_key] * scale, table[gap_key] * scale)
            break
        else:
            raise ValueError(f"no OS/2 or hhea table in {prop.get_file()!r}")
        _HEIGHTS[key] = found
    return _HEIGHTS[key]


def text_layout(
    s: str, prop: FontProperties, ha: HAlign, va: VAlign, linespacing: LineSpacing, dpi: float
) -> TextLayout:
    """Where matplotlib puts the lines of ``s`` around its anchor: ``Text._get_layout``'s
    arithmetic for unrotated plain text, remembered (it depends only on the string, the font
    and the alignment, not on where the text goes). ``tests/test_chart_drawing.py`` checks it
    against ``Text._get_layout``."""
    key = (s, str(prop.get_file()), prop.get_size_in_points(), ha, va, linespacing, dpi)
    cached = _LAYOUTS.get(key)
    if cached is None:
        cached = _text_layout(s, prop, ha, va, linespacing, dpi)
        _remember(_LAYOUTS, key, cached)
    return cached


def _text_layout(
    s: str, prop: FontProperties, ha: HAlign, va: VAlign, linespacing: LineSpacing, dpi: float
) -> TextLayout:
    renderer = measuring_renderer(dpi)
    lines = s.split("\n")
    min_ascent, min_descent, line_gap = _font_heights(prop, dpi)
    if len(lines) == 1:
        line_gap = 0
    this_y = 0.0
    wads: list[tuple[float, float, float]] = []
    ys: list[float] = []
    baseline = descent = 0.0
    for line in lines:
        w, h, d = renderer.get_text_width_height_descent(line, prop, False) if line else (0, 0, 0)
        a = h - d
        if linespacing == "normal":
            a = max(a, min_ascent) + line_gap / 2
            d = max(d, min_descent) + line_gap / 2
        else:
            assert not isinstance(linespacing, str)
            leading = linespacing * (min_ascent + min_descent) - (a + d)
            a += leading / 2
            d += leading / 2
        baseline = a - this_y
        this_y -= a
        wads.append((w, a, d))
        ys.append(this_y)
        this_y -= d
        descent = d
    width = max(w for w, _, _ in wads)
    y_min = ys[-1] - descent
    height = 0 - y_min
    if ha == "left":
        xs = [0.0] * len(lines)
    elif ha == "center":
        xs = [width / 2 - w / 2 for w, _, _ in wads]
    else:
        xs = [width - w for w, _, _ in wads]
    offset_x = 0.0 if ha == "left" else width if ha == "right" else width / 2
    offset_y = {
        "bottom": y_min,
        "top": 0.0,
        "center": (y_min + 0.0) / 2,
        "baseline": y_min + descent,
        "center_baseline": y_min + height - baseline / 2,
    }[va]
    return TextLayout(
        lines=tuple(
            (line, x - offset_x, y - offset_y) for line, x, y in zip(lines, xs, ys, strict=True)
        ),
        box=(0 - offset_x, y_min - offset_y, width, height),
        # As Bbox.from_bounds computes the far corner: origin + size.
        extent=(
            0 - offset_x,
            y_min - offset_y,
            (0 - offset_x) + width,
            (y_min - offset_y) + height,
        ),
    )


def matplotlib_text_layout(
    s: str, prop: FontProperties, ha: HAlign, va: VAlign, linespacing: LineSpacing, dpi: float
) -> TextLayout:
    """:func:`text_layout` as matplotlib's ``Text._get_layout`` gives it (for the tests)."""
    if True:
        text, renderer = _layout_text(dpi)
        text.set_text(s)
        text.set_fontproperties(prop)
        text.set_horizontalalignment(ha)
        text.set_verticalalignment(va)
        text.set_linespacing(linespacing)
        bbox, info, ((box_x, box_y), (box_w, box_h)) = text._get_layout(renderer)  # type: ignore[attr-defined]
        cached = TextLayout(
            lines=tuple((line, float(x), float(y)) for line, _, (x, y) in info),
            box=(float(box_x), float(box_y), float(box_w), float(box_h)),
            extent=(float(bbox.x0), float(bbox.y0), float(bbox.x1), float(bbox.y1)),
        )
    return cached


def _colour(colour: str) -> np.ndarray[Any, np.dtype[np.float32]]:
    return np.array(_rgb(colour), dtype=np.float32)


def _cover(start: float, end: float, size: int) -> tuple[int, np.ndarray[Any, Any]]:
    """(first pixel, coverage of each pixel) of the span start..end on a line of ``size``."""
    first = max(math.floor(start), 0)
    last = min(math.ceil(end), size)
    edges = np.arange(first, last + 1, dtype=np.float32)
    cover = np.minimum(edges[1:], end) - np.maximum(edges[:-1], start)
    return first, np.clip(cover, 0, 1)


def snap(value: float) -> int:
    """Agg's snapping of a filled rectilinear path's vertex to the pixel grid."""
    return math.floor(value + 0.5)


# Text images as Pillow masks, for pasting (same keys as the raster cache).
_MASKS: dict[tuple[str, str, float, float], tuple[Image.Image, int, int] | None] = {}


class Painter:
    """An RGB image drawn like matplotlib's Agg draws the same artists, without a Figure:
    snapped rectangles, anti-aliased rectangles and rings, a hatch pattern, and texts from the
    :class:`TextCachingRenderer`'s cached images at matplotlib's own text layout. Pillow
    does the pixel work (fills, and pastes through a text's grey image as its mask).

    Coordinates are pixels with y downwards from the image's top (device coordinates), except
    :meth:`text`, which takes matplotlib's y upwards from the bottom like the figure does.
    """

    def __init__(self, width: int, height: int, dpi: float) -> None:
        self.width, self.height, self.dpi = width, height, dpi
        self.image = Image.new("RGB", (width, height), (255, 255, 255))
        self._renderer = measuring_renderer(dpi)
        # Every text drawn: (string, colour, extent x0, y0, x1, y1 in pixels, y upwards).
        self.texts: list[tuple[str, str, tuple[float, float, float, float]]] = []

    def box(self, x0: float, y0: float, x1: float, y1: float, colour: str) -> None:
        """A filled rectangle without an edge: corners snapped to whole pixels, as Agg does."""
        top, bottom = sorted((snap(y0), snap(y1)))
        left, right = sorted((snap(x0), snap(x1)))
        left, top = max(left, 0), max(top, 0)
        right, bottom = min(right, self.width), min(bottom, self.height)
        if left < right and top < bottom:
            self.image.paste(_rgb(colour), (left, top, right, bottom))

    def _cover(self, x0: float, y0: float, x1: float, y1: float) -> tuple[int, int, Any]:
        """(left, top, coverage) of the exact rectangle x0..x1, y0..y1."""
        left, across = _cover(x0, x1, self.width)
        top, down = _cover(y0, y1, self.height)
        return left, top, np.outer(down, across)

    def _blend(self, left: int, top: int, alpha: Any, colour: str) -> None:
        if alpha.size:
            mask = Image.fromarray(np.rint(alpha * 255).astype(np.uint8), "L")
            self.image.paste(_rgb(colour), (left, top), mask)

    def fill(self, x0: float, y0: float, x1: float, y1: float, colour: str) -> None:
        """An anti-aliased rectangle at exact (not snapped) corners."""
        self._blend(*self._cover(x0, y0, x1, y1), colour)

    def ring(self, x0: float, y0: float, x1: float, y1: float, width: float, colour: str) -> None:
        """A rectangle's stroke of ``width``, centred on its edges (anti-aliased)."""
        h = width / 2
        left, top, outer = self._cover(x0 - h, y0 - h, x1 + h, y1 + h)
        i_left, i_top, inner = self._cover(x0 + h, y0 + h, x1 - h, y1 - h)
        rows, cols = inner.shape
        outer[i_top - top : i_top - top + rows, i_left - left : i_left - left + cols] -= inner
        self._blend(left, top, outer, colour)

    def pattern(self, left: int, top: int, right: int, bottom: int, tile: Any) -> None:
        """A repeating pattern, anchored at the image's top-left as Agg's hatches are."""
        if left >= right or top >= bottom:
            return
        rows = np.arange(top, bottom) % tile.shape[0]
        cols = np.arange(left, right) % tile.shape[1]
        self.image.paste(Image.fromarray(tile[rows[:, None], cols[None, :]], "RGB"), (left, top))

    def text(
        self, x: float, y: float, layout: TextLayout, prop: FontProperties, colour: str
    ) -> None:
        """A text anchored at (x, y upwards), laid out by :func:`text_layout`."""
        rgb = _rgb(colour)
        x0, y0, x1, y1 = layout.extent
        self.texts.append(
            (
                "\n".join(line for line, _, _ in layout.lines),
                colour,
                (x + x0, y + y0, x + x1, y + y1),
            )
        )
        for line, dx, dy in layout.lines:
            key = _key(line, prop, self.dpi)
            if key in _MASKS:
                mask = _MASKS[key]
            else:
                raster = self._renderer.raster(line, prop)
                mask = None
                if raster is not None:
                    mask = (Image.fromarray(raster[0], "L"), raster[1], raster[2])
                _remember(_MASKS, key, mask, _RASTER_LIMIT)
            if mask is None:
                continue
            image, left, top = mask
            # As Text.draw and TextCachingRenderer.draw_text compute it, flipping y down and
            # back up (the same floating-point steps): the line's origin on a whole pixel.
            down = self.height - (y + dy)
            origin_x = math.floor(x + dx + 0.5)
            origin_up = math.floor(self.height - down + 0.5)
            self.image.paste(rgb, (origin_x + left, self.height - (origin_up + top)), image)
