"""A matplotlib Agg canvas that remembers text between charts, and a fast PNG encoder.

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

import io
import math
from collections.abc import Sequence
from typing import Any, Final

import numpy as np
from matplotlib.backend_bases import GraphicsContextBase
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg, get_hinting_flag
from matplotlib.font_manager import FontProperties
from matplotlib.ft2font import RenderMode
from matplotlib.text import Text
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


class TextCachingRenderer(RendererAgg):
    """RendererAgg with text metrics and text images remembered across figures."""

    def get_text_width_height_descent(self, s: str, prop: FontProperties, ismath: Any) -> _Metrics:
        if ismath is not False:
            return super().get_text_width_height_descent(s, prop, ismath)  # type: ignore[no-any-return]
        key = _key(s, prop, self.dpi)
        cached = _METRICS.get(key)
        if cached is None:
            cached = super().get_text_width_height_descent(s, prop, ismath)
            _remember(_METRICS, key, cached)
        return cached

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
        key = _key(s, prop, self.dpi)
        if key in _RASTERS:
            raster = _RASTERS[key]
        else:
            raster = self._rasterise(s, prop)
            _remember(_RASTERS, key, raster, _RASTER_LIMIT)
        if raster is None:  # only blanks
            return
        image, left, top = raster
        # The string's origin on a whole pixel; y is downwards from the top, FreeType's upwards.
        origin_x = math.floor(x + 0.5)
        origin_up = math.floor(self.height - y + 0.5)
        self._renderer.draw_text_image(
            image, origin_x + left, int(self.height) - (origin_up + top) + image.shape[0], 0, gc
        )

    def _rasterise(self, s: str, prop: FontProperties) -> _Raster | None:
        """The string drawn with its origin at (0, 0), as matplotlib would draw each glyph."""
        font = self._prepare_font(prop)
        size = prop.get_size_in_points()
        flags = get_hinting_flag()
        glyphs = []
        for item in font._layout(s, flags=flags):
            face = item.ft_object
            # Whole pixels of the glyph's offset move its bitmap; only the 1/64 fraction
            # changes how FreeType draws it, so glyphs are remembered per fraction.
            whole_x, frac_x = divmod(round(0x40 * item.x), 0x40)
            whole_y, frac_y = divmod(round(0x40 * item.y), 0x40)
            key = (face.fname, size, self.dpi, item.glyph_index, frac_x, frac_y)
            glyph = _GLYPHS.get(key)
            if glyph is None:
                face.set_size(size, self.dpi)
                face._set_transform(_IDENTITY, [frac_x, frac_y])
                bitmap = face._render_glyph(item.glyph_index, flags, RenderMode.NORMAL)
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
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


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
