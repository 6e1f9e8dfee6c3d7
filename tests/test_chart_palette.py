"""bot.monitoring.chart_canvas.FixedPalette: the palette every chart PNG is mapped to keeps the
charts' own colours exact and puts every other pixel close to its drawn colour."""

from __future__ import annotations

import io

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from bot.monitoring.chart_canvas import FixedPalette, encode_rgb
from bot.monitoring.charts import BLENDED_ON, EXACT_COLOURS, PALETTE


def rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def round_trip(pixels: np.ndarray, palette: FixedPalette) -> np.ndarray:
    png = encode_rgb(Image.fromarray(pixels.astype(np.uint8), "RGB"), palette)
    image = Image.open(io.BytesIO(png))
    assert image.mode == "P"
    assert "transparency" not in image.info
    return np.asarray(image.convert("RGB")).astype(int)


def test_the_charts_colours_stay_exact() -> None:
    colours = [rgb(c) for c in ("#FFFFFF", *EXACT_COLOURS)]
    pixels = np.array([colours], dtype=np.uint8)
    assert (round_trip(pixels, PALETTE) == pixels).all()
    assert len(PALETTE.colours) <= 256


blend = st.tuples(
    st.sampled_from([("#FFFFFF", c) for c in EXACT_COLOURS] + list(BLENDED_ON)),
    st.floats(0, 1),
)


@settings(deadline=None, max_examples=200)
@given(st.lists(blend, min_size=1, max_size=64))
def test_anti_aliased_edges_stay_close_to_their_colour(
    edges: list[tuple[tuple[str, str], float]],
) -> None:
    """A pixel part ink, part ground (an anti-aliased edge of any text, bar or line the charts
    draw) maps to a palette colour at most 16 units off in each channel (the octree palette of
    each image it replaces: up to 24)."""
    pixels = np.array(
        [
            [
                [round(i * a + g * (1 - a)) for i, g in zip(rgb(ink), rgb(ground), strict=True)]
                for (ground, ink), a in edges
            ]
        ]
    )
    assert np.abs(round_trip(pixels, PALETTE) - pixels).max() <= 16
