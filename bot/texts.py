"""Every user-facing Vietnamese string of fieldtally, in one place for review.

Replies start with ✅ (stored), ⚠️ (stored, with a warning) or ❌ (refused, nothing changed),
as the product contract requires. Functions here only format: they take plain values.

Texts are marked text (`bot.messaging.marked`): emphasis is `strong(…)`, `em(…)` or `code(…)`,
never a
channel's markup, and values from outside (names, codes, the sender's own words) are quoted
as they are, without the emphasis characters (`without_markers`); each channel renders and
escapes. A text that depends on what a channel can do takes that as a parameter.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from bot.formatting import hhmm, vn_int, vn_percent
from bot.messaging import marked
from bot.messaging.marked import code, em, strong, without_markers
from bot.messaging.text_safety import without_invisible
from bot.model import Totals

OK = "✅"
WARN = "⚠️"
NO = "❌"

# What a channel without pictures writes instead of the marks (the start of a brief reply).
STORED = "Đã lưu"
NOTE = "Lưu ý"
NOT_STORED = "Chưa lưu"
STATUS_WORDS = {OK: STORED, WARN: NOTE, NO: NOT_STORED}


def chart_seen_at(caption: str, url: str) -> str:
    """A chart on a channel without pictures: where to see it."""
    what = without_markers(caption).strip() or "Biểu đồ"
    return f"{what}: xem tại {url}"


# -- examples and help ---------------------------------------------------------------------------

REPORT_EXAMPLES = (
    f"• Số cử tri đã bầu: {code('250/320 9h')} (hoặc {code('9h30 ct 250/320')}, "
    f"{code('Cử tri: 1.250/2.000 lúc 11 giờ')}, {code('250 lúc 9:30')})\n"
    f"• Kết thúc bỏ phiếu: {code('xong 12h30')} hoặc {code('Hoàn thành 320/320 lúc 12h30')}\n"
    f"• Xét nghiệm COVID tổ bầu cử: {code('XN 16/16 âm tính')} hoặc "
    f"{code('xn 15/16 dương tính 1')}\n"
    f"• Sửa số đã báo: {code('sửa 245/320 9h')} (hoặc sửa lại chính tin nhắn đã gửi)\n"
    f"• Phụ trách nhiều khu vực: ghi mã trước, ví dụ {code('KV05: 250/320 9h')}\n"
    "Có thể gửi nhiều báo cáo trong một tin, mỗi báo cáo một dòng hoặc cách nhau bằng dấu ;. "
    f"Không dấu cũng được ({code('xet nghiem')}), số có thể viết {code('1.250')}."
)

SHARE_CONTACT_BUTTON = "📱 Gửi số điện thoại của tôi"
_REGISTER_BY_BUTTON = (
    f"Tổ trưởng tổ bầu cử: bấm nút {strong('«Gửi số điện thoại của tôi»')} bên dưới để đăng ký "
    "khu vực bỏ phiếu của mình (số điện thoại phải trùng với số trong danh sách của "
    f"Ban bầu cử). Ai được cấp mã mời thì gửi {code('dk <mã mời>')}."
)
# A channel without a button that shares a verified number (the Zalo and SMS issues refine it).
_REGISTER_WITHOUT_BUTTON = (
    "Tổ trưởng tổ bầu cử đăng ký khu vực bỏ phiếu của mình bằng mã mời do cán bộ phụ trách "
    f"cấp: gửi {code('dk <mã mời>')}, ví dụ {code('dk K7M2QX9P')}; hoặc bằng số điện thoại của "
    "mình có trong danh sách của Ban bầu cử."
)


def start(contact_button: bool) -> str:
    """`/start` for a newcomer: how to register (by the channel's contact button, where it has
    one) and how to report."""
    return (
        f"Chào đồng chí! Đây là hệ thống tổng hợp kết quả bầu cử {strong('fieldtally')}.\n\n"
        + (_REGISTER_BY_BUTTON if contact_button else _REGISTER_WITHOUT_BUTTON)
        + "\n\nSau khi đăng ký, báo cáo bằng tin nhắn ngắn:\n"
        + REPORT_EXAMPLES
        + "\n\nGõ /huongdan để xem lại hướng dẫn."
    )


HELP = (
    f"{strong('Hướng dẫn báo cáo')}\n" + REPORT_EXAMPLES + "\n\n"
    "Mỗi báo cáo được trả lời một tin: ✅ đã lưu, ⚠️ đã lưu nhưng cần lưu ý, "
    "❌ chưa lưu (làm theo hướng dẫn trong tin trả lời rồi gửi lại).\n\n"
    f"{strong('Lệnh')}\n"
    "/start – cách đăng ký\n"
    "/huongdan – hướng dẫn này\n"
    "/tonghop [mã] – tổng hợp và biểu đồ (cán bộ giám sát, nhóm, quản trị)\n"
    "/chuabaocao [mã] – khu vực chưa báo cáo; /nhacnho [mã] – nhắc các tổ trưởng đó\n"
    "/lichsu <mã khu vực> – lịch sử báo cáo của một khu vực\n"
    "/xuat [mã] [csv|xlsx] – xuất bảng tổng hợp (cán bộ giám sát, quản trị)\n"
    "/bangtin [mã] – liên kết bảng theo dõi trực tiếp; /bangtin huy [mã] – thu hồi liên kết "
    "(cán bộ giám sát, quản trị)\n"
    "/ketqua [mã] [cấp], /chuakq [mã] [cấp] – kết quả bầu cử tạm tính; khu vực chưa có biên "
    "bản kết quả (cán bộ giám sát, nhóm, quản trị); /xuat kq [mã] [csv|xlsx] – xuất kết quả\n"
    "/theodoi <mã>, /huytheodoi – nhận / dừng nhận tổng hợp tự động (trong nhóm, hoặc "
    "cán bộ giám sát trong cuộc trò chuyện riêng)\n"
    "/dangky <mã mời> (hoặc dk <mã mời>) – đăng ký bằng mã mời\n"
    "/moi [mã] [csv|xlsx] – cấp mã mời đăng ký cho các số điện thoại phụ trách "
    "(cán bộ giám sát, quản trị)\n"
    "/phancong <mã> <số điện thoại> – phân công người phụ trách (quản trị)\n"
    "/khoa [mã], /mokhoa [mã] – dừng / mở lại nhận báo cáo của một đơn vị (quản trị)\n"
    "/nhatky – nhật ký các thao tác quản trị (quản trị)\n"
    "Gửi tệp danh sách đơn vị (CSV hoặc Excel) kèm chú thích /nhap – nhập danh sách (quản trị)"
)

# -- registration --------------------------------------------------------------------------------


SUPERVISOR_COMMANDS = (
    "/tonghop [mã] – tổng hợp và biểu đồ của đơn vị\n"
    "/chuabaocao [mã] – các khu vực chưa báo cáo, kèm số điện thoại tổ trưởng\n"
    "/nhacnho [mã] – nhắc các tổ trưởng chưa báo cáo\n"
    "/lichsu <mã khu vực> – lịch sử báo cáo của một khu vực\n"
    "/xuat [mã] [csv|xlsx] – xuất bảng tổng hợp\n"
    "/bangtin [mã] – liên kết bảng theo dõi trực tiếp (màn hình, điện thoại)\n"
    "/ketqua [mã] [cấp] – kết quả bầu cử tạm tính; /chuakq [mã] [cấp] – khu vực chưa có "
    "biên bản kết quả; /xuat kq [mã] [csv|xlsx] – xuất kết quả\n"
    "/moi [mã] [csv|xlsx] – cấp mã mời đăng ký cho các số điện thoại phụ trách\n"
    "/theodoi <mã> – nhận tổng hợp tự động (trong nhóm, hoặc tại cuộc trò chuyện này); "
    "/huytheodoi – dừng"
)
CHIEF_HOWTO = f"Báo cáo bằng tin nhắn, ví dụ {code('250/320 9h')}. Gõ /huongdan để xem hướng dẫn."


def _your_units(areas: Sequence[str], supervised: Sequence[str]) -> str:
    parts = []
    if areas:
        listed = "\n".join(f"• {label}" for label in areas)
        parts.append(f"{strong('Tổ trưởng tổ bầu cử')}, phụ trách:\n{listed}\n{CHIEF_HOWTO}")
    if supervised:
        listed = "\n".join(f"• {label}" for label in supervised)
        parts.append(
            f"{strong('Cán bộ giám sát')} của:\n{listed}\nCác lệnh dành cho cán bộ giám sát:\n"
            + SUPERVISOR_COMMANDS
        )
    return "\n\n".join(parts)


def registered(areas: Sequence[str], supervised: Sequence[str] = ()) -> str:
    """After a shared contact: a chief is told how to report, a supervisor what to ask."""
    return f"{OK} Đăng ký thành công. Đồng chí là\n" + _your_units(areas, supervised)


def start_registered(name: str, areas: Sequence[str], supervised: Sequence[str]) -> str:
    """`/start` by someone already registered: who they are, not the registration pitch."""
    return (
        f"Chào đồng chí {without_markers(name)}, đồng chí đã đăng ký. Đồng chí là\n"
        + _your_units(areas, supervised)
    )


START_ADMIN = (
    f"Chào đồng chí, đồng chí là {strong('quản trị viên')} của fieldtally.\n\n"
    "Gửi tệp CSV hoặc Excel (.xlsx) kèm chú thích /nhap – nhập danh sách đơn vị\n"
    "/phancong <mã> <số điện thoại> – phân công người phụ trách\n"
    "/khoa [mã], /mokhoa [mã] – dừng / mở lại nhận báo cáo\n"
    "/nhatky – nhật ký các thao tác quản trị\n" + SUPERVISOR_COMMANDS + "\n\n"
    "Quản trị viên gửi báo cáo thay tổ trưởng thì ghi mã khu vực trước, ví dụ "
    f"{code('KV05: 250/320 9h')}."
)


def no_admins_yet(identity: str) -> str:
    """Appended to /start while FIELDTALLY_ADMINS is empty: the identity to put there."""
    return (
        f"\n\nHệ thống chưa có quản trị viên. Mã định danh của đồng chí: {code(identity)} "
        "(người cài đặt ghi mã này vào FIELDTALLY_ADMINS để làm quản trị viên)."
    )


NOT_OWN_CONTACT = (
    f"{NO} Chỉ đăng ký được bằng số điện thoại của chính mình. "
    "Hãy bấm nút «Gửi số điện thoại của tôi» thay vì gửi danh bạ của người khác."
)
BAD_CONTACT_PHONE = f"{NO} Số điện thoại không hợp lệ. Hãy bấm nút «Gửi số điện thoại của tôi»."
BAD_PHONE = f"{NO} Số điện thoại không hợp lệ."


def unknown_phone(phone: str) -> str:
    return (
        f"{NO} Số {phone} chưa có trong danh sách phân công của Ban bầu cử. "
        "Đề nghị liên hệ cán bộ phụ trách để được thêm vào danh sách, rồi gửi lại."
    )


# -- registration by invitation code (issue 15) --------------------------------------------------

REGISTER_USAGE = (
    f"{NO} Cách đăng ký bằng mã mời: gửi {code('dk <mã mời>')} (hoặc {code('đăng ký <mã mời>')}), "
    f"ví dụ {code('dk K7M2QX9P')}. Mã mời gồm 8 chữ và số, do cán bộ phụ trách cấp."
)
INVITATION_MALFORMED = (
    f"{NO} Đây không phải là một mã mời: mã mời gồm 8 ký tự, là chữ cái và chữ số (không có "
    f"chữ O, I, L và số 0, 1), ví dụ {code('dk K7M2QX9P')}. Kiểm tra lại rồi gửi lại."
)


def invitation_wrong(attempts_left: int) -> str:
    return (
        f"{NO} Mã mời không đúng. Kiểm tra lại mã (8 ký tự) rồi gửi lại. Còn {attempts_left} "
        "lần thử: nhập sai 5 lần trong một giờ sẽ bị tạm khóa đăng ký một giờ."
    )


def registration_locked(until: dt.datetime, *, just_now: bool) -> str:
    if just_now:
        return (
            f"{NO} Mã mời không đúng. Đồng chí đã nhập sai mã 5 lần trong một giờ nên tạm thời "
            f"bị khóa đăng ký đến {hhmm(until)} ngày {until:%d/%m/%Y}. Đề nghị liên hệ cán bộ "
            "phụ trách để kiểm tra lại mã."
        )
    return (
        f"{NO} Đồng chí đang tạm thời bị khóa đăng ký (đã nhập sai mã mời 5 lần trong một giờ) "
        f"đến {hhmm(until)} ngày {until:%d/%m/%Y}. Sau thời điểm đó hãy gửi lại mã."
    )


INVITATION_USED = (
    f"{NO} Mã mời này đã được dùng để đăng ký. Mỗi mã chỉ dùng được một lần; đề nghị liên hệ "
    "cán bộ phụ trách để được cấp mã mới."
)
INVITATION_EXPIRED = (
    f"{NO} Mã mời này đã hết hạn. Đề nghị liên hệ cán bộ phụ trách để được cấp mã mới."
)
INVITATION_REVOKED = (
    f"{NO} Mã mời này không còn hiệu lực (đã được thay bằng mã mới, hoặc phân công đã thay "
    "đổi). Đề nghị dùng mã mới nhất do cán bộ phụ trách cấp."
)


def invitation_wrong_bot(unit_label: str, link: str) -> str:
    return (
        f"{NO} Mã mời của {unit_label} phải gửi cho bot phụ trách đơn vị đó, không phải bot "
        f"này. Mở {without_markers(link)} rồi gửi lại tin nhắn đăng ký ở đó."
    )


def invited_name(unit_code: str, *, is_area: bool) -> str:
    """The name of someone registered by code whose name nobody gave (no contact shared)."""
    role = "Tổ trưởng" if is_area else "Cán bộ giám sát"
    return f"{role} {without_markers(unit_code)}"


INVITE_USAGE = f"{NO} Cách dùng: {code('/moi [mã đơn vị] [csv|xlsx]')}."


def no_phones_to_invite(unit_label: str) -> str:
    return (
        f"{NO} {unit_label} chưa có số điện thoại phụ trách nào, nên không có mã mời để cấp. "
        "Thêm số bằng /phancong hoặc cột contact_phones của danh sách đơn vị."
    )


def invitations_caption(unit_label: str, codes: int, valid_until: dt.date) -> str:
    return (
        f"{OK} {vn_int(codes)} mã mời của {unit_label}, dùng được đến hết ngày "
        f"{valid_until:%d/%m/%Y}. Các mã cấp trước đó mà chưa dùng đã bị hủy. Mỗi người gửi "
        f"{code('dk <mã mời>')} cho bot ghi bên cạnh mã của mình để đăng ký."
    )


INVITATION_HEADERS_VI = (
    "Mã đơn vị", "Tên đơn vị", "Số điện thoại", "Mã mời", "Đường dẫn bot", "Mã QR",
)  # fmt: skip
INVITATION_SHEET_NAME = "Mã mời"


def invitation_sheet_title(unit_label: str) -> str:
    return f"Mã mời đăng ký hệ thống tổng hợp bầu cử – {unit_label}"


def invitation_sheet_instructions(valid_until: dt.date) -> str:
    return (
        "Mở đường dẫn (hoặc quét mã QR bằng điện thoại) để nhắn tin với bot, rồi gửi: "
        f"dk <mã mời>. Mỗi mã chỉ dùng một lần, cho người có số điện thoại ghi cùng dòng; "
        f"dùng được đến hết ngày {valid_until:%d/%m/%Y}."
    )


def audit_invite_detail(unit_code: str, codes: int) -> str:
    return f"{unit_code}: {vn_int(codes)} mã mời"


# -- who may do what -----------------------------------------------------------------------------

# Said on every channel (it is stored with the message): /start tells how to register there.
NOT_REGISTERED = (
    f"{NO} Đồng chí chưa đăng ký nên báo cáo chưa được lưu. Gõ /start để xem cách đăng ký, "
    "sau đó gửi lại báo cáo."
)
ADMIN_ONLY = f"{NO} Lệnh này chỉ dành cho quản trị viên."
SUPERVISORS_ONLY = f"{NO} Lệnh này chỉ dành cho cán bộ giám sát và quản trị viên."


def unknown_unit(code: str) -> str:
    code = without_markers(code)
    return f"{NO} Không có đơn vị mã «{code}». Kiểm tra lại mã (xem trong danh sách đơn vị)."


def not_your_unit(code: str) -> str:
    code = without_markers(code)
    return f"{NO} Đồng chí không phụ trách đơn vị «{code}», nên không thể thao tác với đơn vị này."


def not_an_area(code: str) -> str:
    code = without_markers(code)
    return (
        f"{NO} «{code}» không phải là khu vực bỏ phiếu. "
        f"Báo cáo phải ghi mã của một khu vực bỏ phiếu, ví dụ {marked.code('KV05: 250/320 9h')}."
    )


def needs_area_prefix(codes: Sequence[str]) -> str:
    listed = ", ".join(codes[:10]) + (" …" if len(codes) > 10 else "")
    example = codes[0] if codes else "KV05"
    return (
        f"{NO} Đồng chí phụ trách nhiều khu vực, hãy ghi mã khu vực trước báo cáo, "
        f"ví dụ {code(f'{example}: 250/320 9h')}. Khu vực của đồng chí: {listed}"
    )


NEEDS_AREA_CODE = (
    f"{NO} Hãy ghi mã khu vực bỏ phiếu trước báo cáo, ví dụ {code('KV05: 250/320 9h')}."
)


def choose_unit(codes: Sequence[str], command: str) -> str:
    return (
        f"{NO} Có nhiều đơn vị, hãy ghi mã: {code(f'/{command} <mã>')}. "
        f"Ví dụ: {', '.join(codes[:10])}"
    )


# -- unreadable lines ----------------------------------------------------------------------------

_UNREADABLE = {
    "unreadable": "Không đọc được báo cáo",
    "unknown_words": "Không hiểu từ «{detail}»",
    "bad_time": "Giờ «{detail}» không hợp lệ (giờ 0–23, phút 0–59)",
    "missing_count": "Thiếu số cử tri đã bầu",
    "too_many_numbers": "Có nhiều hơn một số cử tri hoặc một giờ trong cùng một báo cáo",
    "covid_missing_fraction": "Báo cáo xét nghiệm cần ghi số người đã xét nghiệm/tổng số",
    "covid_missing_result": "Báo cáo xét nghiệm cần ghi kết quả: «âm tính» hoặc «dương tính N»",
    "covid_contradiction": "Báo cáo xét nghiệm vừa ghi «âm tính» vừa ghi có người dương tính",
    "zero_list": "Tổng số cử tri trong danh sách không thể bằng 0",
}

_UNREADABLE_EXAMPLE = {
    "covid_missing_fraction": code("XN 16/16 âm tính"),
    "covid_missing_result": f"{code('XN 16/16 âm tính')} hoặc {code('xn 15/16 dương tính 1')}",
    "covid_contradiction": code("xn 15/16 dương tính 1"),
}


def unreadable(reason: str, detail: str | None, line: str) -> str:
    what = _UNREADABLE.get(reason, _UNREADABLE["unreadable"]).format(
        detail=without_markers(detail or "")
    )
    if reason == "unreadable" and detail:  # e.g. digits that can be read two ways
        spot = without_markers(detail)
        what += f" ở chỗ «{spot}» (viết số liền hoặc dùng dấu chấm: 1.250)"
    example = _UNREADABLE_EXAMPLE.get(reason, f"{code('250/320 9h')} hoặc {code('xong 12h30')}")
    return f"{NO} «{_clip(line)}»: {what}. Báo cáo chưa được lưu. Viết đúng mẫu, ví dụ {example}."


def _clip(text: str, limit: int = 60) -> str:
    text = " ".join(without_invisible(text).split())  # never echo a bidi control
    return text if len(text) <= limit else text[: limit - 1] + "…"


# -- verdicts on reports ---------------------------------------------------------------------------


def turnout_stored(area: str, voted: int, voters: int, at: dt.datetime, correction: bool) -> str:
    head = "Đã sửa" if correction else "Đã lưu"
    return (
        f"{OK} {head}: {area} – {vn_int(voted)}/{vn_int(voters)} cử tri đã bầu "
        f"({vn_percent(voted, voters)}) lúc {hhmm(at)}."
    )


def completion_stored(area: str, voted: int, voters: int, at: dt.datetime, correction: bool) -> str:
    head = "Đã sửa kết thúc" if correction else "Đã lưu kết thúc bỏ phiếu"
    return (
        f"{OK} {head}: {area} – hoàn thành lúc {hhmm(at)}, "
        f"{vn_int(voted)}/{vn_int(voters)} cử tri đã bầu ({vn_percent(voted, voters)})."
    )


def covid_stored(area: str, tested: int, total: int, positives: int) -> str:
    result = "tất cả âm tính" if positives == 0 else f"{vn_int(positives)} dương tính"
    return (
        f"{OK} Đã lưu xét nghiệm: {area} – {vn_int(tested)}/{vn_int(total)} "
        f"thành viên tổ bầu cử đã xét nghiệm, {result}."
    )


def repeated(stored_reply: str) -> str:
    return f"{stored_reply} (Báo cáo này đã có, không tính thêm lần nữa.)"


def list_size_changed(stored_reply: str, area: str, before: int, now: int, imported: int) -> str:
    body = stored_reply.removeprefix(OK).strip()
    return (
        f"{WARN} {body}\nLưu ý: số cử tri trong danh sách của {area} đổi từ {vn_int(before)} "
        f"thành {vn_int(now)} (danh sách ban đầu: {vn_int(imported)}). Nếu nhầm, gửi "
        f"{code('sửa')} với số đúng."
    )


def _fact_time(facts: dict[str, object], key: str, tz: dt.tzinfo) -> dt.datetime:
    """A time among a refusal's facts (epoch seconds or a datetime), in `tz`."""
    value = facts[key]
    if isinstance(value, int):
        value = dt.datetime.fromtimestamp(value, tz)
    assert isinstance(value, dt.datetime)
    return value.astimezone(tz)


def _fact_count(facts: dict[str, object], key: str) -> int:
    value = facts[key]
    assert isinstance(value, int)
    return value


def refused(area: str, reason: str, facts: dict[str, object], tz: dt.tzinfo) -> str:
    """The ❌ answer for a report the rules refuse: what is wrong and how to fix it."""

    def at(key: str) -> str:
        return hhmm(_fact_time(facts, key, tz))

    def num(key: str) -> str:
        return vn_int(_fact_count(facts, key))

    match reason:
        case "locked":
            why = f"{area} đang bị khóa báo cáo. Liên hệ Ban bầu cử nếu cần báo cáo."
        case "outside_hours":
            why = f"giờ {at('at')} nằm ngoài thời gian bỏ phiếu (05:00–21:00). Kiểm tra lại giờ."
        case "in_future":
            why = f"giờ {at('at')} chưa tới. Kiểm tra lại giờ báo cáo."
        case "list_size_off":
            why = (
                f"sổ cử tri của {area} có {num('imported')} người, không phải "
                f"{num('stated')}. Kiểm tra lại số sau dấu /."
            )
        case "voted_over_list":
            why = f"số đã bầu {num('voted')} lớn hơn số cử tri trong danh sách ({num('list')})."
        case "completion_needs_count":
            why = (
                f"{area} chưa có báo cáo số cử tri nào. Hãy ghi số, ví dụ "
                f"{code('xong 12h30 320/320')}."
            )
        case "after_completion":
            why = (
                f"{area} đã báo kết thúc bỏ phiếu lúc {at('finished_at')} "
                f"({num('other_voted')} cử tri). Nếu cần sửa, gửi {code('sửa …')}, "
                f"ví dụ {code('sửa xong 12h30 320/320')}."
            )
        case "same_time_different_count":
            why = (
                f"{area} đã có báo cáo {num('other_voted')} cử tri vào giờ này. Nếu muốn "
                f"sửa, gửi {code('sửa')} trước báo cáo, ví dụ {code('sửa 245/320 9h')}."
            )
        case "lower_than_earlier":
            why = (
                f"số của {area} thấp hơn báo cáo lúc {at('other_at')} ({num('other_voted')} "
                f"cử tri). Nếu số trước bị nhầm, gửi {code('sửa')} cho báo cáo đó."
            )
        case "higher_than_later":
            why = (
                f"số của {area} cao hơn báo cáo lúc {at('other_at')} ({num('other_voted')} "
                f"cử tri). Nếu số sau bị nhầm, gửi {code('sửa')} cho báo cáo đó."
            )
        case "after_finish_time":
            why = (
                f"{area} đã kết thúc bỏ phiếu lúc {at('finished_at')}, nên không thể có báo cáo "
                "muộn hơn. Kiểm tra lại giờ; nếu giờ kết thúc bị nhầm, gửi "
                f"{code('sửa xong …')} trước."
            )
        case "completion_before_last":
            why = f"giờ kết thúc sớm hơn báo cáo lúc {at('other_at')}. Kiểm tra lại giờ kết thúc."
        case "tested_over_staff":
            why = f"số đã xét nghiệm lớn hơn tổng số thành viên ({num('total')})."
        case "staff_mismatch":
            why = (
                f"tổ bầu cử của {area} có {num('staff')} thành viên. "
                f"Ghi {code('XN …/' + num('staff'))}."
            )
        case "positives_over_tested":
            why = f"số dương tính lớn hơn số đã xét nghiệm ({num('tested')})."
        case _:
            why = "báo cáo không hợp lệ."
    return f"{NO} Chưa lưu: {why}"


STORE_FAILED = (
    f"{NO} Lỗi hệ thống: báo cáo CHƯA được lưu. Đề nghị gửi lại sau ít phút; "
    "nếu vẫn lỗi, báo cáo qua điện thoại cho cán bộ phụ trách."
)
HIDDEN_CONTROLS = (
    f"{NO} Tin nhắn có ký tự điều khiển ẩn (đảo chiều chữ) nên số hiển thị có thể khác số "
    "thực gửi; báo cáo chưa được lưu. Đề nghị gõ lại báo cáo bằng bàn phím, không dán."
)


def stored_figures(
    kind: str, voted: int | None, list_size: int | None, tested: int | None, total: int | None,
    positives: int | None,
) -> str:  # fmt: skip
    """What a stored report says, in numbers (for `/lichsu`)."""
    if kind == "covid":
        return f"XN {vn_int(tested or 0)}/{vn_int(total or 0)}, dương tính {vn_int(positives or 0)}"
    count = f"{vn_int(voted or 0)}/{vn_int(list_size or 0)}"
    return f"kết thúc {count}" if kind == "completion" else count


SLOW_DOWN = (
    f"{NO} Đồng chí gửi quá nhiều tin trong thời gian ngắn; các tin vừa gửi CHƯA được xử lý. "
    "Đợi một phút rồi gửi lại (gửi lại đúng tin cũ cũng được, không bị tính hai lần)."
)


def message_too_long(limit: int) -> str:
    return (
        f"{NO} Tin nhắn quá dài (tối đa {vn_int(limit)} ký tự), chưa được lưu. "
        "Chia thành nhiều tin ngắn, mỗi báo cáo một dòng."
    )


def too_many_reports(limit: int) -> str:
    return (
        f"{NO} Một tin chỉ được tối đa {limit} báo cáo; tin này chưa được lưu. "
        "Chia thành nhiều tin."
    )


def import_too_many_rows(limit: int) -> str:
    return (
        f"{NO} Tệp có quá nhiều dòng (tối đa {vn_int(limit)}). "
        "Danh sách chưa được nhập, không có gì thay đổi."
    )


TEXT_ONLY = f"{NO} Bot chỉ nhận báo cáo bằng tin nhắn chữ. Gõ /huongdan để xem mẫu báo cáo."
BUTTON_NOT_VALID = "❌ Nút này không còn hiệu lực. Gõ /huongdan để xem các lệnh."
UNKNOWN_COMMAND = f"{NO} Không có lệnh này. Gõ /huongdan để xem các lệnh."

# -- units import ------------------------------------------------------------------------------

IMPORT_NEEDS_CAPTION = (
    f"{NO} Tệp chưa được nhập. Để nhập danh sách đơn vị, gửi lại tệp và ghi chú thích "
    f"(caption) {code('/nhap')} khi gửi."
)
IMPORT_NEEDS_FILE = (
    f"{NO} Hãy gửi tệp danh sách đơn vị (CSV, UTF-8) dưới dạng tài liệu, "
    f"kèm chú thích {code('/nhap')}."
)
NO_UNITS_YET = f"{NO} Chưa có danh sách đơn vị. Quản trị viên gửi tệp CSV kèm chú thích /nhap."


def import_too_large(limit: int) -> str:
    return (
        f"{NO} Tệp quá lớn (tối đa {limit // (1024 * 1024)} MB). "
        "Danh sách chưa được nhập, không có gì thay đổi."
    )


IMPORT_NOT_CSV = (
    f"{NO} Tệp phải là CSV (.csv) hoặc Excel (.xlsx). Danh sách chưa được nhập, "
    "không có gì thay đổi."
)

_IMPORT_ISSUES = {
    "not_utf8": "tệp không phải văn bản UTF-8 (hãy lưu lại dưới dạng «CSV UTF-8»)",
    "empty_file": "tệp trống",
    "no_units": "tệp chỉ có dòng tiêu đề, không có đơn vị nào",
    "malformed_csv": "không đọc được tệp CSV từ dòng này",
    "wrong_delimiter": "các cột phải cách nhau bằng dấu phẩy, không phải «{value}»",
    "missing_column": "thiếu cột bắt buộc",
    "duplicate_column": "cột bị lặp lại",
    "too_many_fields": "dòng có nhiều cột hơn dòng tiêu đề",
    "empty_value": "thiếu giá trị",
    "bad_code": "mã «{value}» không hợp lệ (chỉ dùng chữ, số, - _ .)",
    "duplicate_code": "mã «{value}» bị trùng{related}",
    "unknown_parent": "không có đơn vị cha mã «{value}»",
    "cycle": "đơn vị cha tạo thành vòng lặp{related}",
    "missing_voters": "khu vực bỏ phiếu (đơn vị không có đơn vị con) thiếu số cử tri",
    "bad_number": "«{value}» không phải số nguyên",
    "negative_number": "«{value}» là số âm",
    "number_too_large": "«{value}» quá lớn",
    "bad_phone": "số điện thoại «{value}» không hợp lệ",
}


_WHOLE_FILE_PROBLEMS = {
    "xlsx_unreadable": "không đọc được tệp Excel (.xlsx): tệp hỏng hoặc không phải .xlsx",
    "xlsx_too_large": "tệp Excel quá lớn (tối đa 200.000 dòng, 50 cột)",
}


def import_issue_text(kind: str, value: str | None, related: Sequence[int] = ()) -> str:
    """What is wrong, for the problems the units file shares with other imports (None: a
    kind it does not know)."""
    others = ", ".join(str(n) for n in related)
    return _IMPORT_ISSUES.get(kind, kind).format(
        value=without_markers(value or ""),
        related=f" (xem dòng {others})" if others else "",
    )


def import_issue(
    line: int, column: str | None, kind: str, value: str | None, related: Sequence[int] = ()
) -> str:
    if kind == "malformed_csv" and value is not None and value in _WHOLE_FILE_PROBLEMS:
        return f"• {_WHOLE_FILE_PROBLEMS[value]}"
    if kind == "malformed_csv" and value is not None and value.startswith("."):
        return f"• tệp «{without_markers(value)}» không được hỗ trợ: chỉ nhận .csv, .xlsx"
    text = import_issue_text(kind, value, related)
    where = f"dòng {line}" + (f", cột «{without_markers(column)}»" if column else "")
    return f"• {where}: {text}"


def import_failed(issue_lines: Sequence[str], limit: int = 40) -> str:
    shown = list(issue_lines[:limit])
    more = len(issue_lines) - len(shown)
    tail = f"\n… và {more} lỗi khác." if more > 0 else ""
    return (
        f"{NO} Danh sách chưa được nhập, không có gì thay đổi. Có {len(issue_lines)} lỗi:\n"
        + "\n".join(shown)
        + tail
        + "\nSửa tệp rồi gửi lại."
    )


def import_removes_reported(codes: Sequence[str]) -> str:
    listed = ", ".join(codes[:20]) + (" …" if len(codes) > 20 else "")
    return (
        f"{NO} Danh sách chưa được nhập, không có gì thay đổi: tệp mới bỏ đi {len(codes)} "
        f"đơn vị đã có báo cáo ({listed}). Giữ các đơn vị này trong tệp rồi gửi lại."
    )


def import_done(units: int, areas: int, voters: int, added: int, updated: int, removed: int) -> str:
    return (
        f"{OK} Đã nhập danh sách: {vn_int(units)} đơn vị, {vn_int(areas)} khu vực bỏ phiếu, "
        f"{vn_int(voters)} cử tri. (Thêm mới {vn_int(added)}, cập nhật {vn_int(updated)}, "
        f"bỏ {vn_int(removed)}.)"
    )


# -- assignment and export -----------------------------------------------------------------------

ASSIGN_USAGE = (
    f"{NO} Cách dùng: {code('/phancong <mã đơn vị> <số điện thoại>')}, "
    f"ví dụ {code('/phancong 02752-01 0912345678')}."
)


def assigned(unit_label: str, phone: str, already_registered: bool) -> str:
    after = (
        "Người này đã đăng ký nên có thể báo cáo ngay."
        if already_registered
        else "Người này gửi /start cho bot để đăng ký rồi bắt đầu báo cáo."
    )
    return f"{OK} Đã phân công {phone} phụ trách {unit_label}. {after}"


def lock_usage(locked: bool) -> str:
    command = "khoa" if locked else "mokhoa"
    return f"{NO} Cách dùng: {code(f'/{command} [mã đơn vị]')}."


def locked(unit_label: str) -> str:
    return f"{OK} Đã khóa báo cáo của {unit_label} và mọi đơn vị trực thuộc."


def unlocked(unit_label: str) -> str:
    return f"{OK} Đã mở khóa báo cáo của {unit_label}."


EXPORT_USAGE = f"{NO} Cách dùng: {code('/xuat [mã đơn vị] [csv|xlsx]')}."


def export_caption(unit_label: str, rows: int) -> str:
    return f"{OK} Bảng tổng hợp {unit_label}: {vn_int(rows)} đơn vị."


def chart_link(caption: str, url: str, until: dt.datetime) -> str:
    """A chart sent as a link to it (a channel that shows pictures only by URL, or none)."""
    head = f"{caption}\n" if caption else ""
    return f"{head}📊 Xem biểu đồ: {url}\n(Liên kết có hiệu lực đến {_when(until)}.)"


def file_link(caption: str, filename: str, url: str, until: dt.datetime) -> str:
    """A file (an export) sent as a download link (a channel that takes no documents)."""
    head = f"{caption}\n" if caption else ""
    return (
        f"{head}📎 Tải tệp {strong(filename)}: {url}\n"
        f"Liên kết có hiệu lực đến {_when(until)}; khi hết hạn, hãy gửi lại lệnh để nhận "
        "liên kết mới."
    )


DASHBOARD_USAGE = (
    f"{NO} Cách dùng: {code('/bangtin [mã đơn vị]')} để lấy liên kết bảng theo dõi, "
    f"{code('/bangtin huy [mã đơn vị]')} để thu hồi mọi liên kết của đơn vị."
)


DASHBOARD_ELECTION_OVER = (
    f"{NO} Đã quá hai ngày sau ngày bầu cử: liên kết bảng theo dõi hết hạn ngay khi tạo. "
    f"Trên máy chủ, quản trị viên có thể tạo liên kết có thời hạn bằng "
    f"{code('fieldtally dashboard-link <mã> --days N')}."
)


def dashboard_link(unit_label: str, url: str, expires: dt.datetime) -> str:
    """The answer to /bangtin: the link (whoever has it sees the unit's numbers)."""
    return (
        f"{OK} Bảng theo dõi trực tiếp của {unit_label}:\n{url}\n"
        f"Liên kết dùng được đến {expires:%H:%M} ngày {expires:%d/%m/%Y}. Ai có liên kết "
        "đều xem được số liệu của đơn vị (không có số điện thoại): chỉ gửi cho người cần xem. "
        f"Thu hồi: {code('/bangtin huy')}."
    )


def dashboard_revoked(unit_label: str, count: int) -> str:
    if not count:
        return f"{OK} {unit_label} không có liên kết bảng theo dõi nào đang dùng."
    return (
        f"{OK} Đã thu hồi {vn_int(count)} liên kết bảng theo dõi của {unit_label}; "
        "các trang đang mở sẽ dừng cập nhật."
    )


def unit_label(code: str, name: str) -> str:
    return without_markers(f"{name} ({code})")


# -- summaries and charts --------------------------------------------------------------------------

SUMMARY_CHILDREN_SHOWN = 15


def _when(now: dt.datetime) -> str:
    return now.strftime("%H:%M ngày %d/%m/%Y")


def summary(
    *,
    label: str,
    is_area: bool,
    totals: Totals,
    children: Sequence[tuple[str, Totals]],
    now: dt.datetime,
) -> str:
    """The /tonghop text: the unit's figures, then its children slowest first."""
    t = totals
    lines = [f"📊 {strong(label)}", f"Lúc {_when(now)}"]
    lines.append(
        f"• Cử tri đã bầu: {vn_int(t.voted)}/{vn_int(t.registered_voters)} "
        f"({vn_percent(t.voted, t.registered_voters)})"
    )
    if is_area:
        state = (
            "đã kết thúc bỏ phiếu"
            if t.areas_finished
            else ("đang bỏ phiếu" if t.areas_reported else "chưa báo cáo")
        )
        lines.append(f"• Tình trạng: {state}")
    else:
        lines.append(
            f"• Khu vực đã báo cáo: {vn_int(t.areas_reported)}/{vn_int(t.areas_total)} · "
            f"đã xong: {vn_int(t.areas_finished)}/{vn_int(t.areas_total)}"
        )
    lines.append(
        f"• Xét nghiệm tổ bầu cử: {vn_int(t.staff_tested)}/{vn_int(t.staff_total)} · "
        f"dương tính: {vn_int(t.positives)}"
    )
    if t.last_report_at is not None:
        last = dt.datetime.fromtimestamp(t.last_report_at, now.tzinfo)
        lines.append(f"• Báo cáo gần nhất: {hhmm(last)}")
    if children:
        lines.append(strong("Chậm nhất trước"))
        for number, (child, c) in enumerate(children[:SUMMARY_CHILDREN_SHOWN], start=1):
            progress = (
                f"{vn_int(c.areas_reported)}/{vn_int(c.areas_total)} KV báo cáo · "
                f"{vn_int(c.areas_finished)}/{vn_int(c.areas_total)} xong"
            )
            if c.areas_total == 1:  # a child that is itself an area
                progress = (
                    "đã xong"
                    if c.areas_finished
                    else ("đã báo cáo" if c.areas_reported else "chưa báo cáo")
                )
            lines.append(
                f"{number}. {child}: {vn_percent(c.voted, c.registered_voters)} "
                f"({vn_int(c.voted)}/{vn_int(c.registered_voters)}) · {progress}"
            )
        hidden = len(children) - SUMMARY_CHILDREN_SHOWN
        if hidden > 0:
            lines.append(f"… và {vn_int(hidden)} đơn vị khác.")
    return "\n".join(lines)


def chart_by_child_title(name: str) -> str:
    return f"Tỷ lệ cử tri đi bầu – {name}"


def chart_over_day_title(name: str) -> str:
    return f"Cử tri đi bầu trong ngày – {name}"


def chart_subtitle(totals: Totals, now: dt.datetime) -> str:
    return (
        f"Cập nhật {_when(now)} · {vn_int(totals.voted)}/{vn_int(totals.registered_voters)} "
        f"cử tri ({vn_percent(totals.voted, totals.registered_voters)})"
    )


# -- missing areas, reminders, history, groups ----------------------------------------------------

GROUP_NOT_SUBSCRIBED = (
    f"{NO} Nhóm này chưa theo dõi đơn vị nào. Quản trị viên hoặc cán bộ giám sát gõ "
    f"{code('/theodoi <mã đơn vị>')} trong nhóm."
)
GROUP_ONLY = f"{NO} Lệnh này chỉ dùng trong nhóm (group) của đơn vị."


def nothing_missing(unit_label: str) -> str:
    return f"{OK} Tất cả khu vực của {unit_label} đã báo cáo."


def missing_header(unit_label: str, missing: int, total: int) -> str:
    return f"📋 {strong(f'Khu vực chưa báo cáo – {unit_label}')}: {vn_int(missing)}/{vn_int(total)}"


def missing_group(parent_label: str) -> str:
    return f"\n{strong(parent_label)}"


def missing_area(area_label: str, contacts: Sequence[tuple[str | None, str]]) -> str:
    if not contacts:
        return f"• {area_label}: chưa có số điện thoại phụ trách"
    people = ", ".join(
        f"{without_markers(name)} {phone}" if name else f"{phone} (chưa đăng ký)"
        for name, phone in contacts
    )
    return f"• {area_label}: {people}"


def reminder(area_labels: Sequence[str]) -> str:
    areas = ", ".join(area_labels)
    return (
        f"⏰ Nhắc báo cáo: {areas} chưa có báo cáo số cử tri đã bầu. Đề nghị đồng chí gửi "
        f"ngay, ví dụ {code('250/320 9h')}."
    )


def reminders_sent(unit_label: str, people: int, areas: int, nobody: Sequence[str]) -> str:
    if areas == 0:
        return f"{OK} Không cần nhắc ai: tất cả khu vực của {unit_label} đã báo cáo."
    listed = ", ".join(nobody[:30]) + (" …" if len(nobody) > 30 else "")
    if people == 0:
        return (
            f"{WARN} Không có ai để nhắc: {vn_int(areas)} khu vực của {unit_label} chưa báo cáo "
            f"nhưng chưa có tổ trưởng nào đăng ký, cần gọi điện: {listed}"
        )
    text = (
        f"{OK} Đã gửi nhắc nhở tới {vn_int(people)} tổ trưởng của {unit_label} "
        f"({vn_int(areas)} khu vực chưa báo cáo)."
    )
    if nobody:
        text += f"\n{vn_int(len(nobody))} khu vực chưa có ai đăng ký, cần gọi điện: {listed}"
    return text


def history_empty(area_label: str) -> str:
    return f"🗂 {area_label}: chưa có báo cáo nào."


def history_header(area_label: str, imported_voters: int) -> str:
    return (
        f"🗂 {strong(f'Lịch sử báo cáo – {area_label}')}\n"
        f"Danh sách cử tri ban đầu: {vn_int(imported_voters)}"
    )


def history_line(
    *,
    report_id: int,
    text: str,
    at: dt.datetime,
    received: dt.datetime,
    sender: str,
    replaced_by: int | None,
    correction: bool,
    stored: str,
) -> str:
    """One report in `/lichsu`: what the chief wrote, and what was stored from it."""
    status = f" · {em(f'đã bị thay bằng #{replaced_by}')}" if replaced_by else ""
    kind = " (sửa)" if correction else ""
    return (
        f"#{report_id} {hhmm(at)}{kind}: «{_clip(text, 80)}» → đã lưu {stored} — "
        f"{without_markers(sender)}, nhận lúc {hhmm(received)}{status}"
    )


def subscribed(unit_label: str) -> str:
    return (
        f"{OK} Nhóm đã theo dõi {unit_label}: sẽ nhận tổng hợp tự động và thông báo khi "
        "tất cả khu vực kết thúc bỏ phiếu. Gõ /tonghop để xem ngay."
    )


def subscribed_private(unit_label: str) -> str:
    return (
        f"{OK} Đồng chí đã theo dõi {unit_label} tại cuộc trò chuyện này: sẽ nhận tổng hợp tự "
        "động và thông báo khi tất cả khu vực kết thúc bỏ phiếu. Gõ /huytheodoi để dừng."
    )


UNSUBSCRIBED = f"{OK} Nhóm đã dừng theo dõi, sẽ không nhận tổng hợp tự động nữa."
UNSUBSCRIBED_PRIVATE = (
    f"{OK} Đã dừng theo dõi: cuộc trò chuyện này sẽ không nhận tổng hợp tự động nữa."
)
NOT_SUBSCRIBED = f"{NO} Nhóm này đang không theo dõi đơn vị nào."
NOT_SUBSCRIBED_PRIVATE = f"{NO} Cuộc trò chuyện này đang không theo dõi đơn vị nào."
SUBSCRIBE_USAGE = (
    f"{NO} Cách dùng: {code('/theodoi <mã đơn vị>')} (trong nhóm, hoặc trong cuộc trò chuyện "
    "riêng với bot để tự nhận tổng hợp)."
)
SUBSCRIBE_WHO = f"{NO} Chỉ quản trị viên hoặc cán bộ giám sát của đơn vị mới đổi được theo dõi."
HISTORY_USAGE = f"{NO} Cách dùng: {code('/lichsu <mã khu vực>')}."


def all_finished(unit_label: str, totals: Totals, now: dt.datetime) -> str:
    percent = vn_percent(totals.voted, totals.registered_voters)
    return (
        f"🎉 Tất cả {vn_int(totals.areas_total)} khu vực bỏ phiếu của {unit_label} đã kết thúc "
        f"bỏ phiếu (lúc {hhmm(now)}). Cử tri đã bầu: {vn_int(totals.voted)}/"
        f"{vn_int(totals.registered_voters)} ({percent})."
    )


_AUDIT_ACTIONS = {
    "import": "nhập danh sách",
    "assign": "phân công",
    "lock": "khóa",
    "unlock": "mở khóa",
    "subscribe": "nhóm theo dõi",
    "unsubscribe": "nhóm dừng theo dõi",
    "invite": "cấp mã mời",
    "dashboard_link": "tạo liên kết bảng theo dõi",
    "dashboard_revoke": "thu hồi liên kết bảng theo dõi",
}
AUDIT_COMMAND_LINE = "máy chủ (dòng lệnh)"


def audit_someone(identity: str) -> str:
    """Who did it, when their name is not known (an admin who never registered a phone and
    has not written to the bot since it started)."""
    return f"quản trị viên mã {identity}"


def audit_import_detail(filename: str, units: int, added: int, updated: int, removed: int) -> str:
    return (
        f"{filename}: {vn_int(units)} đơn vị (thêm {vn_int(added)}, cập nhật {vn_int(updated)}, "
        f"bỏ {vn_int(removed)})"
    )


def audit_group_detail(code: str, chat_title: str, subscribed: bool) -> str:
    arrow = "→" if subscribed else "✕"
    return f"{code} {arrow} nhóm «{chat_title}»" if chat_title else f"{code} {arrow} nhóm không tên"


def audit_private_detail(code: str, subscribed: bool) -> str:
    """A subscription of someone's own private chat, in the audit log."""
    return f"{code} {'→' if subscribed else '✕'} trò chuyện riêng"


def audit_log(entries: Sequence[tuple[dt.datetime, str, str, str]]) -> str:
    if not entries:
        return "🗒 Nhật ký quản trị: chưa có thao tác nào."
    lines = [f"🗒 {strong('Nhật ký quản trị')} (mới nhất trước)"]
    for when, who, action, detail in entries:
        what = _AUDIT_ACTIONS.get(action, action)
        lines.append(
            f"{when:%d/%m %H:%M} · {without_markers(who)} · {what}: {without_markers(detail)}"
        )
    return "\n".join(lines)


# -- command menus (what a channel with a command menu shows by the text box), per scope ------

MENU_CHIEF: list[tuple[str, str]] = [
    ("start", "Đăng ký bằng số điện thoại"),
    ("huongdan", "Hướng dẫn báo cáo"),
    ("tonghop", "Tình hình khu vực của tôi"),
]

MENU_GROUP: list[tuple[str, str]] = [
    ("tonghop", "Tổng hợp và biểu đồ của đơn vị"),
    ("chuabaocao", "Khu vực chưa báo cáo"),
    ("ketqua", "Kết quả bầu cử (tạm tính)"),
    ("chuakq", "Khu vực chưa có biên bản kết quả"),
    ("theodoi", "Theo dõi một đơn vị (quản trị, giám sát)"),
    ("huytheodoi", "Dừng theo dõi"),
    ("huongdan", "Hướng dẫn"),
]

MENU_SUPERVISOR: list[tuple[str, str]] = [
    ("tonghop", "Tổng hợp và biểu đồ"),
    ("chuabaocao", "Khu vực chưa báo cáo"),
    ("nhacnho", "Nhắc tổ trưởng chưa báo cáo"),
    ("lichsu", "Lịch sử báo cáo của một khu vực"),
    ("xuat", "Xuất bảng tổng hợp (csv, xlsx)"),
    ("ketqua", "Kết quả bầu cử (tạm tính)"),
    ("chuakq", "Khu vực chưa có biên bản kết quả"),
    ("moi", "Cấp mã mời đăng ký"),
    ("theodoi", "Nhận tổng hợp tự động tại đây"),
    ("bangtin", "Liên kết bảng theo dõi trực tiếp"),
    ("huongdan", "Hướng dẫn"),
]

MENU_ADMIN: list[tuple[str, str]] = [
    *MENU_SUPERVISOR[:-1],
    ("phancong", "Phân công số điện thoại cho đơn vị"),
    ("khoa", "Khóa báo cáo của một đơn vị"),
    ("mokhoa", "Mở khóa báo cáo"),
    ("nhap", "Nhập danh sách đơn vị (gửi tệp kèm /nhap)"),
    ("nhatky", "Nhật ký thao tác quản trị"),
    ("huongdan", "Hướng dẫn"),
]


# == outputs: the .xlsx export and the charts (issue 11 §3) ===============================

# One block, to ease merging: the column headers and title of the spreadsheet for people, and
# every word drawn on a chart (bot.monitoring.charts takes them from here).

EXPORT_HEADERS_VI = {
    "code": "Mã đơn vị",
    "parent_code": "Mã đơn vị cấp trên",
    "kind": "Loại đơn vị",
    "name": "Tên đơn vị",
    "areas_total": "Số khu vực bỏ phiếu",
    "areas_reported": "Số khu vực đã báo cáo",
    "areas_finished": "Số khu vực đã kết thúc",
    "registered_voters": "Số cử tri trong danh sách",
    "voted": "Số cử tri đã bỏ phiếu",
    "turnout_percent": "Tỷ lệ cử tri đã bỏ phiếu",
    "staff_total": "Số thành viên tổ bầu cử",
    "staff_tested": "Số thành viên đã xét nghiệm",
    "positives": "Số ca dương tính",
    "last_report_at": "Báo cáo gần nhất lúc",
}


def export_sheet_title(name: str, code: str, as_of: dt.datetime | None) -> str:
    """Row 1 of the .xlsx: the unit and the time of the data (plain text, no markup)."""
    when = f"số liệu lúc {_when(as_of)}" if as_of is not None else "chưa có báo cáo"
    return f"Tổng hợp báo cáo bầu cử – {name} ({code}) – {when}"


CHART_AREAS = "KV"  # khu vực bỏ phiếu, as in "9/9 KV"
CHART_MORE_UNITS = "+{count} đơn vị khác"  # appended to the subtitle when bars are capped
CHART_LOWEST_SHOWN = "{count} đơn vị thấp nhất"  # which bars are drawn when capped
CHART_NO_DATA = "Chưa có số liệu"
CHART_NOT_REPORTED = "chưa báo cáo"
CHART_FINISHED = "xong"
CHART_AREAS_COLUMN = "KV báo cáo · xong"  # over the column "9/9 · xong 5"
CHART_KEY_LOW = "dưới 50%"
CHART_KEY_MID = "50–80%"
CHART_KEY_HIGH = "từ 80%"
CHART_KEY_NOT_REPORTED = "chưa báo cáo"
CHART_KEY_REGISTERED = "KV có tổ trưởng đã đăng ký"
CHART_TESTED = "XN {tested}/{total}"  # COVID staff tests
CHART_POSITIVE = "{count} dương tính"
CHART_VOTERS = "{count} cử tri"
CHART_READINESS_COLUMN = "Cử tri · xét nghiệm"  # over "2.874 · XN 140/144"
CHART_NOT_REPORTED_LIST = "Chưa báo cáo: {names}"
CHART_NO_TURNOUT_YET = "Chưa có báo cáo số cử tri đi bầu"
CHART_KNOWN_REGISTERED = "Tổ trưởng đã đăng ký: {registered}/{total} KV"
CHART_KNOWN_TESTED = "Xét nghiệm tổ bầu cử: {tested}/{total} · dương tính: {positives}"
CHART_KNOWN_VOTERS = "Cử tri trong danh sách: {voters} · {areas} KV"
CHART_UNIT_FINISHED = "xong {finished}/{total} KV"
# Words that name a unit's kind at the start of its name: left out when sorting by name.
UNIT_KIND_WORDS = (
    "khu vực bỏ phiếu", "tổ bầu cử", "thành phố", "thị trấn", "thị xã", "đặc khu", "phường",
    "huyện", "quận", "tỉnh", "xã", "kvbp",
)  # fmt: skip
AREA_NAME_ABBREVIATIONS = (("khu vực bỏ phiếu", "KVBP"),)


def chart_readiness_title(name: str) -> str:
    return f"Chuẩn bị bầu cử – {name}"


# == end of the outputs block =====================================================================

# == natural phrasing (issue 14) — owned by the phrasing work; keep other changes outside ==========


def report_example(kind: str, code: str | None, list_size: int | None, staff: int | None) -> str:
    """A correct example of the same kind of report, in the sender's own terms."""
    prefix = f"{without_markers(code)}: " if code else ""
    if kind == "covid":
        total = staff or 16
        return marked.code(f"{prefix}XN {total}/{total} âm tính")
    size = list_size or 320
    voted = size * 78 // 100
    if kind == "completion":
        return marked.code(f"{prefix}xong 17h {size}/{size}")
    return marked.code(f"{prefix}{vn_int(voted)}/{vn_int(size)} 9h")


_UNREADABLE_NATURAL = {
    "negative_number": "số «{detail}» là số âm",
    "percent_only": "«{detail}» là tỷ lệ phần trăm, không phải số cử tri đã bầu. "
    "Hãy ghi số người đã bầu/số cử tri trong danh sách",
    "unplaced_number": "không rõ số ở chỗ {details} là số gì (số gần đúng, số chưa bầu "
    "hay số khác), nên không lưu để tránh nhầm",
    "unclear_digits": "không rõ cách viết số «{detail}» (dấu phẩy, «k», «nghìn» hay số "
    "thập phân). Hãy viết số liền hoặc dùng dấu chấm: 1.250",
    "too_many_numbers": "có nhiều hơn một số cử tri hoặc một giờ trong cùng một báo cáo "
    "(ở chỗ {details}). Mỗi báo cáo ghi một giờ và một số",
    "unknown_words": "không hiểu {details}",
}


def unreadable_report(
    reason: str,
    detail: str | None,
    details: Sequence[str],
    line: str,
    example: str,
) -> str:
    """The ❌ for a line the grammar could not read: everything not understood at once,
    and an example of the same kind of report with the sender's own area code."""
    items = list(details) or ([detail] if detail else [])
    quoted = ", ".join(f"«{without_markers(item)}»" for item in items)
    template = _UNREADABLE_NATURAL.get(reason)
    if template is None:
        what = _UNREADABLE.get(reason, _UNREADABLE["unreadable"]).format(
            detail=without_markers(detail or "")
        )
        if reason == "unreadable" and detail:
            spot = without_markers(detail)
            what += f" ở chỗ «{spot}» (viết số liền hoặc dùng dấu chấm: 1.250)"
    else:
        what = template.format(detail=without_markers(detail or ""), details=quoted)
    others = [item for item in items if item != detail and f"«{item}»" not in what]
    if others and "{details}" not in (template or ""):
        what += ". Chưa rõ cả: " + ", ".join(f"«{without_markers(i)}»" for i in others)
    return (
        f"{NO} «{_clip(line)}»: {what}. Báo cáo chưa được lưu. Gửi lại theo mẫu, ví dụ {example}."
    )


def no_report(contact: str | None) -> str:
    """A question or a message with no report: where to look, and whom to ask."""
    who = (
        f" Cần hỏi thêm, đồng chí liên hệ {without_markers(contact)}."
        if contact
        else " Cần hỏi thêm, đồng chí liên hệ cán bộ phụ trách của xã/phường."
    )
    return (
        f"{NO} Tin nhắn này không có báo cáo nào nên chưa có gì được lưu. Gõ /huongdan để xem "
        f"cách báo cáo (ví dụ {code('250/320 9h')}).{who}"
    )


def ask_afternoon(area: str, morning: dt.datetime, afternoon: dt.datetime, line: str) -> str:
    return (
        f"{NO} «{_clip(line)}» ({area}): {morning.hour}h sáng hay {afternoon.hour}h? "
        f"Báo cáo chưa được lưu. Gửi lại và ghi rõ giờ, ví dụ {code(hhmm(afternoon))} "
        f"hoặc {code(f'{morning.hour}h sáng')}."
    )


def _vn_decimal(value: float) -> str:
    text = f"{value:.1f}".rstrip("0").rstrip(".")
    return text.replace(".", ",")


def phrasing_question(area: str, reason: str, facts: dict[str, object], line: str) -> str:
    """The ❌ for a report whose percentage, date or COVID total does not fit."""
    match reason:
        case "percent_mismatch":
            voted, size, stated = facts["voted"], facts["list"], facts["stated"]
            assert isinstance(voted, int) and isinstance(size, int)
            assert isinstance(stated, float | int)
            why = (
                f"{vn_int(voted)}/{vn_int(size)} là {vn_percent(voted, size)}, không phải "
                f"{_vn_decimal(float(stated))}%. Kiểm tra lại số người đã bầu hoặc tỷ lệ rồi "
                "gửi lại (có thể chỉ ghi số, không cần tỷ lệ)"
            )
        case "arrived_off_day":
            arrived, election = facts["arrived"], facts["election"]
            assert isinstance(arrived, dt.date) and isinstance(election, dt.date)
            why = (
                f"tin nhắn gửi ngày {arrived:%d/%m/%Y}, không phải ngày bầu cử "
                f"({election:%d/%m/%Y}), nên không lấy giờ gửi làm giờ báo cáo. Nếu là số "
                f"của ngày bầu cử, ghi rõ giờ, ví dụ {code('250/320 17h')}"
            )
        case "wrong_date":
            day, month, year = facts["day"], facts["month"], facts["year"]
            election = facts["election"]
            assert isinstance(election, dt.date)
            stated = f"{day}/{month}" + (f"/{year}" if year else "")
            why = (
                f"ngày {stated} không phải ngày bầu cử ({election:%d/%m/%Y}). Báo cáo chỉ "
                "nhận số của ngày bầu cử; kiểm tra lại ngày"
            )
        case "covid_needs_total":
            why = "cần ghi tổng số thành viên tổ bầu cử, ví dụ " + code(
                f"XN {facts['tested']}/16 âm tính"
            )
        case _:
            why = f"cần ghi số người đã bầu/số cử tri trong danh sách, ví dụ {code('320/320')}"
    return f"{NO} «{_clip(line)}» ({area}): {why}. Báo cáo chưa được lưu."


def area_not_settled(reason: str, code: str, choices: Sequence[str], example: str) -> str:
    """The ❌ when a named area is not one of the sender's, or could be several."""
    code = without_markers(code)
    listed = ", ".join(choices[:10]) + (" …" if len(choices) > 10 else "")
    if reason == "named_ambiguous":
        return (
            f"{NO} Có nhiều khu vực «{code}» trong các khu vực đồng chí phụ trách ({listed}). "
            f"Hãy ghi mã khu vực trước báo cáo, ví dụ {example}. Báo cáo chưa được lưu."
        )
    mine = f" Khu vực của đồng chí: {listed}." if listed else ""
    return (
        f"{NO} Khu vực «{code}» không thuộc các khu vực đồng chí phụ trách, nên báo cáo "
        f"chưa được lưu.{mine} Ví dụ báo cáo đúng: {example}."
    )


def unknown_area_code(code: str, example: str) -> str:
    code = without_markers(code)
    return (
        f"{NO} Không có khu vực mã «{code}» trong các khu vực đồng chí phụ trách. Báo cáo "
        f"chưa được lưu. Ghi đúng mã khu vực hoặc bỏ mã đi, ví dụ {example}."
    )


# == end of natural phrasing (issue 14) ============================================================
# -- store outages (to admins) ------------------------------------------------------------------

_FAULT_KINDS = {
    "disk_full": "ổ đĩa của cơ sở dữ liệu đã đầy (hoặc sắp đầy)",
    "locked": "cơ sở dữ liệu đang bị khóa hoặc quá tải",
    "read_only": "cơ sở dữ liệu chỉ cho đọc, không ghi được",
    "unreachable": "không kết nối được cơ sở dữ liệu",
    "other": "cơ sở dữ liệu gặp lỗi",
}


def store_outage_started(kind: str, since: dt.datetime) -> str:
    """To every admin, once, when the store stops working."""
    what = _FAULT_KINDS.get(kind, _FAULT_KINDS["other"])
    return (
        f"{WARN} {strong('Sự cố lưu trữ')} từ {_when(since)}: {what}.\n"
        "Bot tạm dừng nhận báo cáo; các tin nhắn đã nhận được giữ lại và sẽ được xử lý, trả lời "
        "khi cơ sở dữ liệu hoạt động trở lại. Không có báo cáo nào bị xác nhận sai."
    )


def store_outage_ended(since: dt.datetime, until: dt.datetime) -> str:
    """To every admin, once, when the store works again."""
    minutes = max(1, round((until - since).total_seconds() / 60))
    return (
        f"{OK} {strong('Hết sự cố lưu trữ')} lúc {_when(until)} (kéo dài khoảng {minutes} phút). "
        "Bot đã tiếp tục nhận và trả lời báo cáo, kể cả các tin nhắn gửi trong lúc sự cố."
    )


# -- several bots of one channel, metered channels, pictures on text-only channels -------------

# Before the first reply to someone new on a channel whose terms ask for it.
AUTOMATED_SYSTEM = (
    "ℹ️ Đây là hệ thống tự động tiếp nhận báo cáo bầu cử: tin nhắn do máy đọc và trả lời, "
    "không có người trực. Cần hỗ trợ, đồng chí liên hệ cán bộ phụ trách của đơn vị."
)
IMAGE_NOT_READ = (
    f"{NO} Bot không đọc được ảnh. Đồng chí gõ báo cáo bằng chữ, ví dụ {code('250/320 9h')}; "
    "gõ /huongdan để xem mẫu báo cáo."
)
STICKER_NOT_READ = (
    f"{NO} Bot chỉ đọc tin nhắn chữ, nhãn dán không được xử lý. Gõ /huongdan để xem mẫu báo cáo."
)
UNSUPPORTED_MESSAGE = (
    f"{NO} Bot chưa đọc được loại tin nhắn này. Đồng chí gõ báo cáo bằng chữ; "
    "gõ /huongdan để xem mẫu báo cáo."
)
# A picture or a file the channel cannot carry (no public address to link it from).
CHART_NOT_SENT = "(Biểu đồ không gửi được qua kênh này; xem bằng lệnh /tonghop trên kênh khác.)"
EXPORT_NOT_SENT = (
    f"{NO} Kênh này không gửi được tệp. Đồng chí dùng lệnh /xuat trên kênh khác, hoặc nhờ quản "
    "trị viên xuất bảng tổng hợp trên máy chủ."
)
WHOLE_TREE = "toàn bộ địa bàn"


def wrong_bot(label: str, link: str | None) -> str:
    """A report sent to a bot that does not serve its area: nothing stored; the right bot's
    link (None: no bot of this channel serves it)."""
    head = (
        f"{NO} Báo cáo của {without_markers(label)} CHƯA được lưu: khu vực này do bot khác "
        "phụ trách."
    )
    if link is None:
        return head + " Đồng chí liên hệ cán bộ phụ trách để biết cách gửi báo cáo."
    return head + f" Đồng chí gửi lại báo cáo cho bot đó: {without_markers(link)}"


def quota_passed(bot_label: str, share: int, used: int, quota: int) -> str:
    """To admins, once per threshold and month: a bot has used `share`% of its quota."""
    return (
        f"{WARN} {strong('Hạn mức tin nhắn')}: bot phụ trách {without_markers(bot_label)} đã "
        f"gửi {vn_int(used)}/{vn_int(quota)} tin trong tháng ({share}%). Khi còn dưới 10% hạn "
        "mức, bot ngừng gửi tổng hợp tự động; trả lời báo cáo vẫn được gửi."
    )


def quota_spent(bot_label: str) -> str:
    """To admins: the platform refuses the bot's messages (its monthly quota is spent)."""
    return (
        f"{NO} {strong('Hết hạn mức tin nhắn')}: nền tảng từ chối tin nhắn của bot phụ trách "
        f"{without_markers(bot_label)}. Bot vẫn nhận và lưu báo cáo nhưng không trả lời được "
        "cho đến khi có hạn mức mới; đồng chí báo các tổ trưởng rằng báo cáo vẫn được ghi nhận."
    )


# == brief replies (issue 16 §3) ===================================================================

# The same replies in a few words, for channels whose messages are tiny (a text message): an
# acknowledgement starts with `STORED`, a warning with `NOTE`, a refused report with
# `NOT_STORED`; a command refused says only why. No explanations, no quoted message: the area
# by its code, values the sender typed clipped short, and at most one example.

_BRIEF_QUOTE = 12  # characters of the sender's own words a brief reply quotes, at most


def _quote(value: str, limit: int = _BRIEF_QUOTE) -> str:
    """The sender's words, clipped, in «»."""
    return f"«{_clip(without_markers(value), limit)}»"


def _quotes(values: Sequence[str]) -> str:
    shown = [_quote(v) for v in values[:2]]
    return ", ".join(shown) + (" …" if len(values) > 2 else "")


def _short_time(moment: dt.datetime | dt.time) -> str:
    """`9:00`, `12:30`: a time as a brief reply writes it."""
    return f"{moment.hour}:{moment.minute:02d}"


def _brief_example(kind: str, list_size: int | None, staff: int | None) -> str:
    """A correct report of `kind`, without an area prefix (a brief reply's one example)."""
    return without_markers(report_example(kind, None, list_size, staff))


def turnout_stored_brief(
    code: str, voted: int, voters: int, at: dt.datetime, correction: bool
) -> str:
    """`Đã lưu KV05: 250/320 (78,1%) lúc 9:00`."""
    fixed = "sửa thành " if correction else ""
    return (
        f"{STORED} {code}: {fixed}{vn_int(voted)}/{vn_int(voters)} "
        f"({vn_percent(voted, voters)}) lúc {_short_time(at)}"
    )


def completion_stored_brief(
    code: str, voted: int, voters: int, at: dt.datetime, correction: bool
) -> str:
    fixed = "sửa " if correction else ""
    return (
        f"{STORED} {code}: {fixed}kết thúc lúc {_short_time(at)}, "
        f"{vn_int(voted)}/{vn_int(voters)} ({vn_percent(voted, voters)})"
    )


def covid_stored_brief(code: str, tested: int, total: int, positives: int) -> str:
    result = "tất cả âm tính" if positives == 0 else f"{vn_int(positives)} dương tính"
    return f"{STORED} {code}: xét nghiệm {vn_int(tested)}/{vn_int(total)}, {result}"


def repeated_brief(stored_brief: str) -> str:
    return f"{stored_brief} (đã có từ trước)"


def list_size_changed_brief(
    code: str, completion: bool, voted: int, now: int, before: int, at: dt.datetime
) -> str:
    """The warning: stored, and the list's size changed (`Lưu ý KV05: đã lưu 250/330 9:00
    (danh sách cũ 320). Sai thì gửi sửa`)."""
    what = "kết thúc " if completion else ""
    return (
        f"{NOTE} {code}: đã lưu {what}{vn_int(voted)}/{vn_int(now)} {_short_time(at)} "
        f"(danh sách cũ {vn_int(before)}). Sai thì gửi sửa"
    )


def refused_brief(code: str, reason: str, facts: dict[str, object], tz: dt.tzinfo) -> str:
    """A report the rules refuse, in a few words: what to check."""

    def at(key: str) -> str:
        return _short_time(_fact_time(facts, key, tz))

    def num(key: str) -> str:
        return vn_int(_fact_count(facts, key))

    match reason:
        case "locked":
            why = "khu vực đang bị khóa báo cáo"
        case "outside_hours":
            why = f"giờ {at('at')} ngoài giờ bỏ phiếu (5:00–21:00)"
        case "in_future":
            why = f"giờ {at('at')} chưa tới, kiểm tra lại giờ"
        case "list_size_off":
            why = f"danh sách có {num('imported')} cử tri, không phải {num('stated')}"
        case "voted_over_list":
            why = f"số đã bầu {num('voted')} lớn hơn số cử tri ({num('list')})"
        case "completion_needs_count":
            why = "chưa có số cử tri, gửi như: xong 12h30 320/320"
        case "after_completion":
            why = f"đã kết thúc lúc {at('finished_at')}. Sửa thì gửi: sửa xong …"
        case "same_time_different_count":
            why = f"giờ này đã có số {num('other_voted')}. Sửa thì gửi: sửa 245/320 9h"
        case "lower_than_earlier":
            why = f"số thấp hơn báo cáo lúc {at('other_at')} ({num('other_voted')} cử tri)"
        case "higher_than_later":
            why = f"số cao hơn báo cáo lúc {at('other_at')} ({num('other_voted')} cử tri)"
        case "after_finish_time":
            why = f"báo cáo muộn hơn giờ kết thúc {at('finished_at')}, kiểm tra lại giờ"
        case "completion_before_last":
            why = f"giờ kết thúc sớm hơn báo cáo lúc {at('other_at')}"
        case "tested_over_staff":
            why = f"số đã xét nghiệm lớn hơn tổng số ({num('total')})"
        case "staff_mismatch":
            why = f"tổ có {num('staff')} thành viên, ghi: XN …/{num('staff')}"
        case "positives_over_tested":
            why = f"số dương tính lớn hơn số đã xét nghiệm ({num('tested')})"
        case _:
            why = "báo cáo không hợp lệ"
    return f"{NOT_STORED} {code}: {why}"


_UNREADABLE_BRIEF = {
    "unreadable": "không đọc được báo cáo",
    "unknown_words": "không hiểu {details}",
    "bad_time": "giờ {detail} không hợp lệ",
    "missing_count": "thiếu số cử tri đã bầu",
    "too_many_numbers": "mỗi báo cáo chỉ ghi một số và một giờ",
    "covid_missing_fraction": "ghi số đã xét nghiệm/tổng số",
    "covid_missing_result": "ghi kết quả xét nghiệm",
    "covid_contradiction": "vừa âm tính vừa dương tính",
    "zero_list": "tổng số cử tri không thể bằng 0",
    "negative_number": "số {detail} là số âm",
    "percent_only": "cần số người đã bầu, không phải tỷ lệ",
    "unplaced_number": "không rõ số {details} là số gì",
    "unclear_digits": "không rõ số {detail}. Viết liền hoặc dùng dấu chấm: 1.250",
}


_UNREADABLE_BRIEF_WITHOUT_EXAMPLE = frozenset({"unclear_digits"})  # it shows how already


def unreadable_brief(
    reason: str,
    detail: str | None,
    details: Sequence[str],
    kind: str,
    list_size: int | None,
    staff: int | None,
) -> str:
    """A line the grammar could not read: what was not understood, and one example of the
    same kind of report (`kind`, with the sender's list size or staff)."""
    items = list(details) or ([detail] if detail else [])
    template = _UNREADABLE_BRIEF.get(reason, _UNREADABLE_BRIEF["unreadable"])
    if not items and "{" in template:
        template = _UNREADABLE_BRIEF["unreadable"]
    what = template.format(
        detail=_quote(detail or (items[0] if items else "")), details=_quotes(items)
    )
    if reason in _UNREADABLE_BRIEF_WITHOUT_EXAMPLE:
        return f"{NOT_STORED}: {what}"
    return f"{NOT_STORED}: {what}. Gửi như: {_brief_example(kind, list_size, staff)}"


def area_not_settled_brief(reason: str, code: str, choices: Sequence[str]) -> str:
    """The line's area is not one the sender may report for, or could be several."""
    example = f"{choices[0]}: 250/320 9h" if choices else "KV05: 250/320 9h"
    match reason:
        case "needs_prefix" | "needs_code":
            return f"{NOT_STORED}: ghi mã khu vực trước, như: {example}"
        case "not_an_area":
            return f"{NOT_STORED}: {_quote(code, 32)} không phải khu vực bỏ phiếu"
        case "not_your_unit":
            return f"{NOT_STORED}: đồng chí không phụ trách {_quote(code, 32)}"
        case "named_ambiguous":
            return f"{NOT_STORED}: có nhiều khu vực {_quote(code)}, ghi mã, như: {example}"
        case "named_not_yours":
            return f"{NOT_STORED}: khu vực {_quote(code)} không phải của đồng chí"
        case _:  # unknown_unit
            return f"{NOT_STORED}: không có khu vực mã {_quote(code, 20)}"


def ask_afternoon_brief(code: str, morning: dt.datetime, afternoon: dt.datetime) -> str:
    return (
        f"{NOT_STORED} {code}: {morning.hour}h sáng hay {afternoon.hour}h? Gửi lại, ghi rõ "
        f"{_short_time(afternoon)} hoặc {morning.hour}h sáng"
    )


def phrasing_question_brief(code: str, reason: str, facts: dict[str, object]) -> str:
    """A report whose percentage, date or COVID total does not fit, in a few words."""
    match reason:
        case "percent_mismatch":
            voted, size, stated = facts["voted"], facts["list"], facts["stated"]
            assert isinstance(voted, int) and isinstance(size, int)
            assert isinstance(stated, float | int)
            said = _clip(_vn_decimal(float(stated)), 8)
            why = f"{vn_int(voted)}/{vn_int(size)} là {vn_percent(voted, size)}, không phải {said}%"
        case "arrived_off_day":
            arrived = facts["arrived"]
            assert isinstance(arrived, dt.date)
            why = f"tin gửi ngày {arrived:%d/%m}, không phải ngày bầu cử; ghi rõ giờ"
        case "wrong_date":
            election = facts["election"]
            assert isinstance(election, dt.date)
            why = f"chỉ nhận số của ngày bầu cử {election:%d/%m}, kiểm tra lại ngày"
        case "covid_needs_total":
            why = f"ghi tổng số thành viên, như: XN {facts['tested']}/16 âm tính"
        case _:
            why = "ghi số đã bầu/số cử tri, như: 320/320"
    return f"{NOT_STORED} {code}: {why}"


STORE_FAILED_BRIEF = f"{NOT_STORED}: lỗi hệ thống. Gửi lại sau ít phút"

# Each command refusal (`Refusal`) in a few words; `{code}` where the refusal names a unit.
_REFUSAL_BRIEF = {
    "admin_only": "Lệnh này chỉ dành cho quản trị viên.",
    "supervisors_only": "Lệnh này chỉ dành cho cán bộ giám sát và quản trị viên.",
    "not_registered": f"{NOT_STORED}: đồng chí chưa đăng ký. Gửi /start để xem cách đăng ký.",
    "usage": "Lệnh chưa đúng cách dùng. Gửi /huongdan để xem.",
    "unknown_unit": "Không có đơn vị mã {code}.",
    "not_your_unit": "Đồng chí không phụ trách đơn vị {code}.",
    "not_an_area": "{code} không phải khu vực bỏ phiếu.",
    "no_units_yet": "Chưa có danh sách đơn vị.",
    "choose_unit": "Có nhiều đơn vị, hãy ghi mã sau lệnh.",
    "group_only": "Lệnh này chỉ dùng trong nhóm.",
    "group_not_subscribed": "Nhóm này chưa theo dõi đơn vị nào.",
    "not_subscribed": "Nhóm này đang không theo dõi đơn vị nào.",
    "subscribe_who": "Chỉ quản trị viên hoặc cán bộ giám sát của đơn vị mới đổi được theo dõi.",
    "not_own_contact": "Chỉ đăng ký được bằng số điện thoại của chính mình.",
    "bad_phone": "Số điện thoại không hợp lệ.",
    "unknown_phone": "Số điện thoại chưa có trong danh sách phân công.",
    "import_needs_file": "Gửi tệp danh sách đơn vị kèm chú thích /nhap.",
    "import_needs_caption": "Tệp chưa được nhập: gửi lại kèm chú thích /nhap.",
    "import_not_csv": "Tệp phải là .csv hoặc .xlsx; danh sách chưa được nhập.",
    "import_too_large": "Tệp quá lớn; danh sách chưa được nhập.",
    "import_too_many_rows": "Tệp quá nhiều dòng; danh sách chưa được nhập.",
    "import_invalid": "Tệp có lỗi; danh sách chưa được nhập, không có gì thay đổi.",
    "no_report": f"{NOT_STORED}: tin không có báo cáo. Gửi như: 250/320 9h, hoặc /huongdan",
    "text_only": "Chỉ nhận báo cáo bằng tin nhắn chữ.",
    "unknown_command": "Không có lệnh này. Gửi /huongdan để xem các lệnh.",
    "slow_down": f"{NOT_STORED}: gửi quá nhiều tin. Đợi một phút rồi gửi lại.",
    "message_too_long": f"{NOT_STORED}: tin quá dài. Chia thành nhiều tin ngắn.",
    "too_many_reports": f"{NOT_STORED}: quá nhiều báo cáo trong một tin. Chia thành nhiều tin.",
    "hidden_controls": f"{NOT_STORED}: tin có ký tự ẩn. Gõ lại báo cáo, không dán.",
    "wrong_bot": f"{NOT_STORED}: {{code}} do bot khác phụ trách.",
    "invitation_unknown": "Mã mời không đúng. Kiểm tra lại mã.",
    "invitation_used": "Mã mời này đã được dùng.",
    "invitation_expired": "Mã mời đã hết hạn hoặc bị thu hồi.",
    "registration_locked": "Nhập sai mã quá nhiều lần. Thử lại sau 1 giờ.",
    "no_phones": "Đơn vị {code} chưa có số điện thoại liên hệ.",
}


def refusal_brief(reason: str, code: str | None = None) -> str:
    """A command refused, in a few words (`code`: the unit it names, if any)."""
    template = _REFUSAL_BRIEF.get(reason, "Chưa thực hiện được.")
    named = _quote(code, 32) if code else "này"
    if not code and template.startswith("{code}"):
        return "Mã này không phải khu vực bỏ phiếu."
    return template.format(code=named)


# == end of brief replies ==========================================================================
