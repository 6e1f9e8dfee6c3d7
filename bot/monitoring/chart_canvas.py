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
colours (a dozen fills and their anti-aliased edges against white), which Pillow's fast
octree quantiser maps to a palette without visible change — the fills keep their exact
colours — and a palette image is a third the bytes of RGB to deflate and to send.
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


def encode_png(canvas: FigureCanvasAgg, exact: Sequence[str] = ()) -> bytes:
    """The drawn canvas as a palette PNG (zlib level 1), with no metadata chunks.

    The octree quantiser gives each palette entry the mean of its cell, which can be a unit off
    the colour that fills most of it (white as 254, 254, 254); entries within a few units of a
    colour in ``exact`` (``#RRGGBB``, the chart's own colours) are set to that colour.
    """
    rgba = np.asarray(canvas.buffer_rgba())
    image = Image.frombuffer("RGBA", (rgba.shape[1], rgba.shape[0]), rgba, "raw", "RGBA", 0, 1)
    # Quantised straight from RGBA (the canvas is opaque): no RGB copy of the image first.
    palette = image.quantize(256, method=Image.Quantize.FASTOCTREE)
    entries = np.array(palette.getpalette("RGBA") or [255, 255, 255, 255], dtype=np.int16)
    colours = entries.reshape(-1, 4)[:, :3]
    if exact:
        targets = np.array(
            [[int(c[i : i + 2], 16) for i in (1, 3, 5)] for c in exact], dtype=np.int16
        )
        # distance of every palette entry to every exact colour: (entries, targets)
        distance = np.abs(colours[:, None, :] - targets[None, :, :]).max(axis=2)
        nearest = distance.argmin(axis=1)
        close = distance[np.arange(len(colours)), nearest] <= 3
        colours[close] = targets[nearest[close]]
    # An RGB palette: every entry opaque, no transparency chunk.
    palette.putpalette(colours.astype(np.uint8).tobytes(), "RGB")
    palette.info.pop("transparency", None)
    buffer = io.BytesIO()
    palette.save(buffer, format="png", compress_level=1)
    return buffer.getvalue()
