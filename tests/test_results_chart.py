"""The candidates' chart of an electoral unit (RESULTS.md: `/ketqua`'s chart), rule by rule on
real PNGs, in the style of tests/test_chart_rules.py:

* each candidate's bar is their % of the unit's valid ballots, in ballot order, labelled with
  the % (2 decimals, Vietnamese style) and the votes;
* the 50 % line a candidate must pass is drawn across the bars;
* the provisionally elected are marked by more than a colour (✓, bold), and only in a
  complete unit;
* it stays readable on a phone: 1080 px wide, every text ≥ 22 px, none overlapping.
"""

from __future__ import annotations

from decimal import Decimal

from matplotlib.lines import Line2D
from matplotlib.text import Text

from bot.monitoring.charts import (
    ELECTED_COLOUR,
    ELECTED_MARK,
    HALF_LINE_COLOUR,
    CandidateBar,
    CandidateShares,
    build_figure,
    candidate_value,
    render,
)
from bot.results.texts import CHART_KEY_ELECTED, CHART_KEY_HALF, CHART_KEY_INCOMPLETE
from tests.test_charts import check_legible, check_png, visible_texts

COMPLETE = CandidateShares(
    "Quốc hội – Đơn vị bầu cử số 1",
    "Tỷ lệ phiếu bầu trên 2.978 phiếu hợp lệ · bầu 2 đại biểu · tạm tính · 23:41 23/05",
    (
        CandidateBar("1. Hầu Ngọc Chúng", 1760, Decimal("59.10"), elected=True),
        CandidateBar("2. Tráng Văn Hoa", 1440, Decimal("48.35")),
        CandidateBar("3. Hầu Thị Mỷ Dế", 1370, Decimal("46.00")),
        CandidateBar("4. Nguyễn Minh Mẩy Hoàng Thị Phương Thảo", 1386, Decimal("46.54")),
    ),
)


def half_lines(spec: CandidateShares) -> list[Line2D]:
    (axes,) = build_figure(spec).axes
    return [line for line in axes.get_lines() if line.get_gid() == "half"]


def is_bold(text: Text) -> bool:
    return str(text.get_fontproperties().get_file()).endswith("-Bold.ttf")


def names(spec: CandidateShares) -> dict[str, Text]:
    """The candidates' names as drawn (a wrapped one joined back), by their text."""
    return {
        text.get_text().replace("\n", " "): text
        for text in visible_texts(build_figure(spec))
        if text.get_text()[:1].isdigit() or text.get_text().startswith(ELECTED_MARK)
    }


def test_bars_are_each_candidates_share_of_the_valid_ballots_in_ballot_order() -> None:
    image = render(COMPLETE)
    check_png(image)
    assert image.plotted == (
        ("1. Hầu Ngọc Chúng", 59.10),
        ("2. Tráng Văn Hoa", 48.35),
        ("3. Hầu Thị Mỷ Dế", 46.00),
        ("4. Nguyễn Minh Mẩy Hoàng Thị Phương Thảo", 46.54),
    )
    shown = [text.get_text() for text in visible_texts(build_figure(COMPLETE))]
    assert "59,10% · 1.760 phiếu" in shown and "46,00% · 1.370 phiếu" in shown
    assert candidate_value(COMPLETE.bars[1]) == "48,35% · 1.440 phiếu"


def test_the_half_line_is_drawn_at_fifty_percent_and_keyed() -> None:
    [line] = half_lines(COMPLETE)
    assert list(line.get_xdata()) == [50, 50]
    assert line.get_color() == HALF_LINE_COLOUR and line.get_linestyle() != "-"  # dashed
    shown = [text.get_text() for text in visible_texts(build_figure(COMPLETE))]
    assert CHART_KEY_HALF in shown and "50%" in shown  # the key, and a tick under the line


def test_the_elected_are_marked_beyond_colour() -> None:
    image = render(COMPLETE)
    assert image.marked == ("1. Hầu Ngọc Chúng",)
    drawn = names(COMPLETE)
    elected = drawn[f"{ELECTED_MARK}1. Hầu Ngọc Chúng"]
    assert is_bold(elected) and elected.get_color() == ELECTED_COLOUR
    assert not is_bold(drawn["2. Tráng Văn Hoa"])
    shown = [text.get_text() for text in visible_texts(build_figure(COMPLETE))]
    assert CHART_KEY_ELECTED in shown


def test_an_incomplete_unit_marks_nobody_and_says_so() -> None:
    spec = CandidateShares(
        "HĐND xã – Đơn vị bầu cử số 2",
        "chưa đủ biên bản (1/2 KV)",
        (CandidateBar("1. Vàng Văn Dũng", 220, Decimal("50.00")),
         CandidateBar("2. Sần Thị Lan", 220, Decimal("50.00"))),
        complete=False,
    )  # fmt: skip
    image = render(spec)
    check_png(image)
    assert image.marked == ()
    shown = [text.get_text() for text in visible_texts(build_figure(spec))]
    assert CHART_KEY_INCOMPLETE in shown and CHART_KEY_ELECTED not in shown
    assert not any(text.startswith(ELECTED_MARK) for text in shown)


def test_readable_on_a_phone_even_with_long_names_and_a_full_bar() -> None:
    spec = CandidateShares(
        "HĐND tỉnh – Đơn vị bầu cử số 11",
        "Tỷ lệ phiếu bầu trên 98.765 phiếu hợp lệ · bầu 3 đại biểu · tạm tính",
        tuple(
            CandidateBar(
                f"{n}. Người ứng cử có họ tên rất dài số {n}",
                98_765 if n == 1 else n * 1000,
                Decimal("100.00") if n == 1 else Decimal(n),
                elected=n <= 3,
            )
            for n in range(1, 7)
        ),
    )
    image = render(spec)
    check_png(image)
    assert image.height <= 2560
    check_legible(build_figure(spec))
    check_legible(build_figure(COMPLETE))


def test_no_candidates_says_there_is_no_data() -> None:
    spec = CandidateShares("HĐND xã – Đơn vị bầu cử số 9", "", ())
    check_png(render(spec))
    assert render(spec).plotted == ()
