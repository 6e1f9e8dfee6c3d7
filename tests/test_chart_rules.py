"""The contract's chart rules, one by one, on the small pure functions that carry them, then on
real PNGs and on a real database:

* order — Vietnamese alphabetical order (`Tả Gia Khâu` before `Tung Chung Phố`, đ after d) and
  natural numbers (`số 4` before `số 10`);
* names — shortened without repeating the parent's name;
* no report — a child without any report is marked as such, never drawn as 0 %;
* axis end — the time axis ends at the time of the data;
* before turnout — what is known (registrations, COVID tallies, list sizes), not zeros;
* a colour key, and finished areas beside reported ones.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from matplotlib.figure import Figure

from bot.channel import Address
from bot.core import Core, Where
from bot.messaging.answers import Status
from bot.model import Totals, Unit
from bot.monitoring.charts import (
    DaySeries,
    TurnoutByChild,
    TurnoutOverDay,
    UnitBar,
    areas_cell,
    build_figure,
    order_bars,
    readiness_cell,
    render,
    time_ticks,
)
from bot.monitoring.names import collation_key, name_order_key, short_name, without_kind_word
from bot.monitoring.summary import Overview, before_turnout, chart_by_child, day_axis
from bot.monitoring.views import Summary
from bot.registration.unit_import import import_units
from bot.settings import Settings
from bot.turnout.intake import InboundText
from tests.harness import ADMIN_ID, DATA, at
from tests.test_charts import check_legible, check_png, visible_texts

# -- order ----------------------------------------------------------------------------------------


def ordered(names: list[str]) -> list[str]:
    return sorted(names, key=name_order_key)


def test_vietnamese_letters_sort_in_alphabet_order() -> None:
    # Code points put "ả" (U+1EA3) after "u": Python's own sort gets this wrong.
    assert sorted(["Tung Chung Phố", "Tả Gia Khâu"]) == ["Tung Chung Phố", "Tả Gia Khâu"]
    assert ordered(["Tung Chung Phố", "Tả Gia Khâu"]) == ["Tả Gia Khâu", "Tung Chung Phố"]
    # The alphabet: a ă â b c d đ e ê … o ô ơ … u ư; đ after every d.
    assert ordered(["Đông", "Dương", "Ân", "Ăn", "An", "Ba"]) == [
        "An",
        "Ăn",
        "Ân",
        "Ba",
        "Dương",
        "Đông",
    ]
    assert ordered(["Ơn", "Ôn", "On", "Ưng", "Ung"]) == ["On", "Ôn", "Ơn", "Ung", "Ưng"]
    # Tones break ties only: ngang, huyền, hỏi, ngã, sắc, nặng; case is ignored.
    assert ordered(["mạ", "má", "mã", "mả", "mà", "ma"]) == ["ma", "mà", "mả", "mã", "má", "mạ"]
    assert ordered(["Nấm Lư", "Nậm Chảy"]) == ["Nậm Chảy", "Nấm Lư"]  # letters before tones
    assert collation_key("xã pha long")[:2] == collation_key("Xã Pha Long")[:2]
    # Decomposed input (some phone keyboards) sorts as the precomposed letters.
    assert collation_key("Ta\u0309 Gia")[:2] == collation_key("Tả Gia")[:2]


def test_numbers_sort_naturally() -> None:
    areas = ["KVBP số 10", "KVBP số 4", "KVBP số 1", "KVBP số 2", "KVBP số 11"]
    assert ordered(areas) == ["KVBP số 1", "KVBP số 2", "KVBP số 4", "KVBP số 10", "KVBP số 11"]
    assert ordered(["Tổ 10", "Tổ 9a", "Tổ 9"]) == ["Tổ 9", "Tổ 9a", "Tổ 10"]


def test_names_sort_after_their_kind_word() -> None:
    # "Thị trấn Mường Khương" sits among the M's, where people look for it.
    communes = ["Xã Pha Long", "Thị trấn Mường Khương", "Xã Bản Lầu", "Phường Đông Hà"]
    assert ordered(communes) == [
        "Xã Bản Lầu",
        "Phường Đông Hà",
        "Thị trấn Mường Khương",
        "Xã Pha Long",
    ]
    assert without_kind_word("Thị trấn Mường Khương") == "Mường Khương"
    assert without_kind_word("Xã") == "Xã"  # nothing after it: the name stays


def test_bars_are_drawn_in_name_order_not_by_turnout() -> None:
    bars = [
        UnitBar("Xã Tung Chung Phố", 90, 100, 1, 1),
        UnitBar("Xã Tả Gia Khâu", 10, 100, 1, 1),
        UnitBar("Xã Bản Lầu", 50, 100, 1, 1),
    ]
    drawn, hidden = order_bars(bars)
    assert [bar.label for bar in drawn] == ["Xã Bản Lầu", "Xã Tả Gia Khâu", "Xã Tung Chung Phố"]
    assert hidden == 0


def test_capped_bars_keep_the_unreported_and_lowest_then_name_order() -> None:
    bars = [
        UnitBar("Xã C", 90, 100, 1, 1),
        UnitBar("Xã A", 80, 100, 1, 1),
        UnitBar("Xã D", 0, 100, 0, 1),  # no report: always among the drawn
        UnitBar("Xã B", 20, 100, 1, 1),
    ]
    drawn, hidden = order_bars(bars, limit=2)
    assert [bar.label for bar in drawn] == ["Xã B", "Xã D"] and hidden == 2


# -- names ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "parent", "shown"),
    [
        ("KVBP số 3 Thị trấn Mường Khương", "Thị trấn Mường Khương", "KVBP số 3"),
        ("Khu vực bỏ phiếu số 3 – Mường Khương", "Thị trấn Mường Khương", "KVBP số 3"),
        ("Khu vực bỏ phiếu số 1 – Pha Long", "Xã Pha Long", "KVBP số 1"),
        ("Khu vực bỏ phiếu số 2, xã Bản Lầu", "Xã Bản Lầu", "KVBP số 2"),
        ("Khu vực bỏ phiếu số 1", "Xã Pha Long", "KVBP số 1"),
        # Only a kind word would be left: the name stays whole.
        ("Thị trấn Mường Khương", "Huyện Mường Khương", "Thị trấn Mường Khương"),
        ("Phường Lào Cai", "Tỉnh Lào Cai", "Phường Lào Cai"),
        ("Xã Pha Long", "Huyện Mường Khương", "Xã Pha Long"),
        # A name that merely contains the parent's name inside a word is left alone.
        ("Xã Long Phước", "Xã Long", "Xã Long Phước"),
        ("Xã Pha Long", None, "Xã Pha Long"),
    ],
)
def test_short_names_do_not_repeat_the_parent(name: str, parent: str | None, shown: str) -> None:
    assert short_name(name, parent) == shown


# -- no report ------------------------------------------------------------------------------------


def test_the_right_column_gives_reported_and_finished_areas() -> None:
    assert areas_cell(UnitBar("Xã A", 50, 100, 5, 9, 2)) == "5/9 · xong 2"
    assert areas_cell(UnitBar("Xã A", 0, 100, 0, 9)) == "0/9 · xong 0"


def test_no_report_row_is_marked_and_a_reported_zero_is_still_a_bar() -> None:
    spec = TurnoutByChild(
        "Tỷ lệ cử tri đi bầu – Xã Pha Long",
        "Cập nhật 09:39",
        (
            UnitBar("KVBP số 1", 0, 300, 1, 1),  # reported, and nobody has voted yet: 0,0 %
            UnitBar("KVBP số 2", 0, 300, 0, 1),  # never reported
        ),
    )
    image = render(spec)
    check_png(image)
    assert image.not_reported == ("KVBP số 2",)
    shown = [text.get_text() for text in visible_texts(build_figure(spec))]
    assert shown.count("0,0%") == 1  # the reported area's, not the silent one's
    assert "chưa báo cáo" in shown
    check_legible(build_figure(spec))


# -- axis end -------------------------------------------------------------------------------------


def test_day_axis_ends_at_the_time_of_the_data() -> None:
    assert day_axis(at(12, 33), at(7, 5)) == (at(7), at(12, 33))
    assert day_axis(at(9, 39), at(6, 40)) == (at(6), at(9, 39))  # an area that opened early
    assert day_axis(at(7, 9), None) == (at(6), at(7, 9))  # at least an hour long
    assert day_axis(at(23, 0), at(7, 0)) == (at(7), at(21))  # not past the end of voting
    assert day_axis(at(5, 10), None) == (at(5), at(6))


def test_time_ticks_end_on_the_time_of_the_data() -> None:
    positions, labels = time_ticks(at(7), at(12, 33))
    assert labels == ["07:00", "08:00", "09:00", "10:00", "11:00", "12:00", "12:33"]
    assert positions[-1] == pytest.approx(5.55)
    # A whole hour too close to the end gives way to it.
    assert time_ticks(at(7), at(12, 10), min_gap_hours=0.3)[1][-2:] == ["11:00", "12:10"]
    assert time_ticks(at(5), at(21))[1] == [f"{h:02d}:00" for h in range(5, 22, 2)]


def over_day_axes(figure: Figure) -> tuple[float, list[str]]:
    (axes,) = figure.axes
    figure.draw_without_rendering()
    return axes.get_xlim()[1], [label.get_text() for label in axes.get_xticklabels()]


def test_over_day_chart_ends_at_the_data_and_names_the_silent_children() -> None:
    spec = TurnoutOverDay(
        "Cử tri đi bầu trong ngày – Huyện Mường Khương",
        "Cập nhật 09:39 ngày 23/05/2021",
        (
            DaySeries("Huyện Mường Khương", ((at(7), 0.0), (at(8), 13.1), (at(9, 39), 44.7))),
            DaySeries("Xã Lùng Khấu Nhin", ((at(7), 0.0), (at(9, 39), 19.0))),
        ),
        at(7),
        at(9, 39),
        unit_note="xong 0/139 KV",
        not_reported=("Xã Nậm Chảy", "Xã Tả Thàng"),
    )
    figure = build_figure(spec)
    end, labels = over_day_axes(figure)
    assert end == pytest.approx(2.65) and labels[-1] == "09:39"
    assert "21:00" not in labels
    shown = [text.get_text() for text in visible_texts(figure)]
    assert "Chưa báo cáo: Xã Nậm Chảy, Xã Tả Thàng" in shown
    assert "Huyện Mường Khương · 44,7% · xong 0/139 KV" in shown  # finished areas, in the key
    check_legible(figure)
    image = render(spec)
    check_png(image)
    assert image.not_reported == ("Xã Nậm Chảy", "Xã Tả Thàng")


# -- before turnout -------------------------------------------------------------------------------


def unit(code: str, parent: str | None, name: str, depth: int, position: int) -> Unit:
    return Unit(code, parent, "xã", name, depth, False, None, None, (), position)


def test_before_any_turnout_the_bars_show_registrations_tests_and_lists() -> None:
    parent = unit("MK", None, "Huyện Mường Khương", 0, 0)
    tga = Totals(areas_total=9, registered_voters=2_558, staff_total=145, staff_tested=144)
    tcp = Totals(
        areas_total=7, registered_voters=2_442, staff_total=105, staff_tested=96, positives=1
    )
    view = Overview(
        parent,
        Totals(areas_total=16, registered_voters=5_000, staff_total=250, staff_tested=240),
        (
            (unit("X2", "MK", "Xã Tả Gia Khâu", 1, 2), tga),
            (unit("X1", "MK", "Xã Tung Chung Phố", 1, 1), tcp),
        ),
    )
    assert before_turnout(view.totals)
    spec = chart_by_child(view, at(7, 9), {"MK": 12, "X1": 5, "X2": 7})
    assert spec.before_turnout and spec.title == "Chuẩn bị bầu cử – Huyện Mường Khương"
    assert [(b.label, b.chiefs_registered) for b in spec.bars] == [
        ("Xã Tả Gia Khâu", 7),
        ("Xã Tung Chung Phố", 5),
    ]
    assert readiness_cell(spec.bars[0]) == "2.558 · XN 144/145"
    assert readiness_cell(spec.bars[1]) == "2.442 · XN 96/105 · 1 dương tính"
    figure = build_figure(spec)
    shown = [text.get_text() for text in visible_texts(figure)]
    assert "7/9 KV" in shown and "5/7 KV" in shown
    assert "KV có tổ trưởng đã đăng ký" in shown  # the key
    assert not any(text.endswith("%") and text.startswith("0,0") for text in shown)  # no zeros
    check_legible(figure)
    image = render(spec)
    check_png(image)
    assert image.plotted == (("Xã Tả Gia Khâu", 77.8), ("Xã Tung Chung Phố", 71.4))


def test_before_any_turnout_the_day_chart_is_a_card_of_what_is_known() -> None:
    known = (
        "Chưa có báo cáo số cử tri đi bầu",
        "Cử tri trong danh sách: 38.851 · 139 KV",
        "Xét nghiệm tổ bầu cử: 2.093/2.157 · dương tính: 0",
        "Tổ trưởng đã đăng ký: 139/139 KV",
    )
    spec = TurnoutOverDay(
        "Cử tri đi bầu trong ngày – Huyện Mường Khương",
        "Cập nhật 07:09",
        (),
        at(6),
        at(7, 9),
        known=known,
    )
    figure = build_figure(spec)
    shown = "\n".join(text.get_text() for text in visible_texts(figure))
    assert all(line in shown for line in known)
    assert "0%" not in shown  # no empty grid of zeros
    check_legible(figure)
    check_png(render(spec))


# -- the rules end to end, on a real database -----------------------------------------------------


async def test_summary_charts_on_a_real_store(tmp_path: Path) -> None:
    """Small tree (Pha Long: 4 areas; Tả Ngải Chồ: 1): first before any turnout, then with
    Pha Long reporting and Tả Ngải Chồ silent, at 09:39."""
    now = [at(7, 9)]
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        FIELDTALLY_DB=str(tmp_path / "rules.db"),
        FIELDTALLY_ADMINS=str(ADMIN_ID),
        FIELDTALLY_ELECTION_DATE="2021-05-23",
        FIELDTALLY_TZ="Asia/Ho_Chi_Minh",
    )
    core = await Core.open(settings, chart_workers=0, clock=lambda: now[0])
    try:
        ok, _ = await import_units(core.db, (DATA / "small_tree.csv").read_bytes())
        assert ok
        chief = Address("telegram", "501")
        registered = await core.register(
            sender=chief, chat=chief, contact_owner=chief, phone="0912345001", name="Tổ trưởng"
        )
        assert registered.status is Status.ACCEPTED
        admin = Address("telegram", str(ADMIN_ID))
        where = Where(admin, admin)

        early = await core.view_summary(where, ["MK"])
        assert isinstance(early, Summary) and len(early.charts) == 2
        bars, card = early.chart_values
        # Before turnout: the share of areas with a registered chief (1 of Pha Long's 4).
        assert bars == (("Xã Pha Long", 25.0), ("Xã Tả Ngải Chồ", 0.0))
        assert card == ()  # no lines of zeros

        message = InboundText(chief, "1", chief, "250/320 9h", at(9, 5))
        result = await core.report(message)
        assert result.status is Status.ACCEPTED, result
        now[0] = at(9, 39)
        later = await core.view_summary(where, ["MK"])
        assert isinstance(later, Summary)
        bars, lines = later.chart_values
        assert bars == (("Xã Pha Long", 7.8), ("Xã Tả Ngải Chồ", 0.0))  # 250 of 3.220
        # Over the day: the district and Pha Long; silent Tả Ngải Chồ is named, not a line at 0.
        assert [label for label, _ in lines] == ["Huyện Mường Khương", "Xã Pha Long"]
        assert later.not_reported == (("Xã Tả Ngải Chồ",), ("Xã Tả Ngải Chồ",))
        assert early.not_reported == ((), ())  # before turnout nobody is "late" yet
        day = await core.view_summary(where, ["X1"])
        assert isinstance(day, Summary)
        # Under Xã Pha Long, its areas are named shortly, in natural order.
        assert [label for label, _ in day.chart_values[0]] == [f"KVBP số {n}" for n in (1, 2, 3, 4)]
    finally:
        await core.close()
