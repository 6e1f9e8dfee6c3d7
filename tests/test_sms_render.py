"""Replies as SMS texts (handlers/sms/render.py, issue 16 §3): what the SMS channel can do,
the status words instead of ✅ ⚠️ ❌, GSM-7 or accented UCS-2, answers cut to three segments
with the dashboard's link, pictures as a link and files as nothing."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot import texts
from bot.channel import Markup, PhotoDelivery
from bot.messaging.content import ContactRequest, Document, Image, Text
from bot.messaging.marked import MARKERS, code, strong
from bot.model import Totals
from handlers.sms.gsm7 import is_gsm7
from handlers.sms.render import MAX_SEGMENTS, SMS_CAPABILITIES, segments, to_sms
from tests.harness import at

DASHBOARD = "https://bau-cu.example.vn/bang"


def test_what_the_sms_channel_can_do() -> None:
    caps = SMS_CAPABILITIES
    assert caps.channel == "sms"
    assert caps.markup is Markup.SMS
    assert caps.text_limit == 160
    assert caps.photos is PhotoDelivery.NONE
    assert caps.brief_replies
    assert not (caps.edits or caps.contact_button or caps.command_menu or caps.documents)
    assert not (caps.groups or caps.buttons or caps.numeric_ids)


@pytest.mark.parametrize(
    ("marked", "expected"),
    [
        ("Đã lưu KV05: 250/320 (78,1%) lúc 9:00", "Da luu KV05: 250/320 (78,1%) luc 9:00"),
        (f"{texts.OK} Đã lưu: {strong('KV05')}", "Da luu: KV05"),  # the word is there already
        (f"{texts.OK} Đã khóa báo cáo", "Da khoa bao cao"),
        (f"{texts.OK} Nhóm đã theo dõi X", "Da luu: Nhom da theo doi X"),
        (f"{texts.WARN} Lưu ý: đổi", "Luu y: doi"),
        (f"{texts.WARN} Không có ai để nhắc", "Luu y: Khong co ai de nhac"),
        ("⚠ Không có ai", "Luu y: Khong co ai"),  # without the variation selector
        (f"{texts.NO} Không có lệnh này.", "Chua luu: Khong co lenh nay."),
        (f"{texts.NO} Chưa có danh sách đơn vị.", "Chua co danh sach don vi."),
        (f"{texts.NO} Chưa lưu: giờ 22:00", "Chua luu: gio 22:00"),
        (f"Gõ {code('/huongdan')} – xem", "Go /huongdan - xem"),
        ("📊 Tổng hợp", "Tong hop"),
    ],
)
def test_status_words_instead_of_marks_and_no_accents(marked: str, expected: str) -> None:
    assert to_sms(Text(marked)) == expected


def test_accented_when_the_unicode_setting_asks() -> None:
    sent = to_sms(Text(f"{texts.OK} Đã lưu KV05 – 78,1%"), unicode=True)
    assert sent == "Đã lưu KV05 – 78,1%"
    assert segments("Đã lưu KV05 – 78,1%") == 1
    refusal = to_sms(Text(texts.ADMIN_ONLY), unicode=True)
    assert refusal == "Chưa lưu: Lệnh này chỉ dành cho quản trị viên."


def test_a_text_that_fits_one_segment_only_unaccented_goes_unaccented() -> None:
    text = "Đã lưu " + "x" * 100  # 107 characters: two UCS-2 segments, one GSM-7
    assert to_sms(Text(text), unicode=True) == "Da luu " + "x" * 100


def summary_text(children: int) -> str:
    totals = Totals(children, children, 1, 320 * children, 250 * children, 16, 16, 0, None)
    kids = [
        (f"Khu vực bỏ phiếu số {i} – Thôn Nậm Chảy (KV{i:02d})", totals) for i in range(children)
    ]
    return texts.summary(
        label="Xã Bản Lầu (02752)", is_area=False, totals=totals, children=kids, now=at(11, 0)
    )


@pytest.mark.parametrize("unicode", [False, True])
def test_a_long_answer_is_cut_to_three_segments_with_the_dashboard_link(unicode: bool) -> None:
    sent = to_sms(Text(summary_text(15)), unicode=unicode, dashboard_url=DASHBOARD)
    assert sent is not None
    assert segments(sent) <= MAX_SEGMENTS
    assert segments(sent + "x" * 70) > MAX_SEGMENTS  # the room was used, not wasted
    assert sent.endswith(f"...\n{DASHBOARD}")
    assert is_gsm7(sent) is not unicode
    whole = to_sms(Text(summary_text(15)), unicode=unicode)
    assert whole is not None and whole.endswith("...")
    kept = sent.removesuffix(f"...\n{DASHBOARD}")
    full = to_sms(Text(summary_text(15)), unicode=unicode) or ""
    assert full.startswith(kept)


def test_a_long_answer_is_cut_between_words() -> None:
    words = " ".join(f"tu{i:03d}" for i in range(200))  # 1,199 characters
    sent = to_sms(Text(words), dashboard_url=DASHBOARD)
    assert sent is not None and segments(sent) == MAX_SEGMENTS
    kept = sent.removesuffix(f"...\n{DASHBOARD}")
    assert words.startswith(kept) and words[len(kept)] == " "


def test_a_short_answer_is_not_cut_and_gets_no_link() -> None:
    assert to_sms(Text("Đã lưu KV05"), dashboard_url=DASHBOARD) == "Da luu KV05"


def test_a_link_that_cannot_fit_is_left_out() -> None:
    link = "https://example.vn/" + "a" * 500
    sent = to_sms(Text(summary_text(15)), dashboard_url=link)
    assert sent is not None and sent.endswith("...") and segments(sent) <= MAX_SEGMENTS


def test_a_link_outside_gsm7_is_percent_encoded() -> None:
    sent = to_sms(Text(summary_text(15)), dashboard_url="https://x.vn/`bảng`")
    assert sent is not None and sent.endswith("https://x.vn/%60b%E1%BA%A3ng%60")


def test_a_word_longer_than_three_segments_is_cut_inside() -> None:
    sent = to_sms(Text("x" * 1000), dashboard_url=DASHBOARD)
    assert sent == "x" * (459 - 4 - len(DASHBOARD)) + f"...\n{DASHBOARD}"


def test_pictures_become_the_dashboard_link_and_files_nothing() -> None:
    chart = Image(b"\x89PNG", "chart1.png")
    assert to_sms(chart) is None
    linked = to_sms(chart, dashboard_url=DASHBOARD)
    assert linked is not None and DASHBOARD in linked and "\n" not in linked
    assert is_gsm7(linked) and segments(linked) == 1
    assert to_sms(Document("tonghop.csv", b"a,b")) is None
    assert to_sms(Document("tonghop.csv", b"a,b"), dashboard_url=DASHBOARD) is None


def test_a_contact_request_is_its_text() -> None:
    assert to_sms(ContactRequest("Gửi số điện thoại", "📱 Gửi")) == "Gui so dien thoai"


def test_nothing_to_say_is_no_message() -> None:
    assert to_sms(Text("🎉")) is None
    assert to_sms(Text("  ")) is None


MARKED = st.text(
    alphabet=st.one_of(
        st.sampled_from(
            [*sorted(MARKERS), "\n", " ", "✅", "⚠", "\ufe0f", "❌", "đ", "ắ", "€", "{"]
        ),
        st.characters(exclude_categories=()),
    ),
    max_size=1200,
)


@settings(deadline=None, max_examples=300)
@given(MARKED, st.booleans(), st.sampled_from([None, DASHBOARD, "https://x.vn/{a}"]))
def test_any_text_is_at_most_three_segments(text: str, unicode: bool, link: str | None) -> None:
    sent = to_sms(Text(text), unicode=unicode, dashboard_url=link)
    if sent is None:
        return
    assert sent.strip() and segments(sent) <= MAX_SEGMENTS
    assert not MARKERS.intersection(sent)
    if not unicode:
        assert is_gsm7(sent)


def test_a_reminder_fits_the_limit_of_any_answer() -> None:
    labels = [f"Khu vực bỏ phiếu số {i} (KV{i:02d})" for i in range(30)]
    sent = to_sms(Text(texts.reminder(labels)))
    assert sent is not None and segments(sent) <= MAX_SEGMENTS
