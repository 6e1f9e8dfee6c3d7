"""The Vietnamese words of the counting record's flow in the chat (bot/results/intake.py):
which area and electoral unit a record is for, the read-back's choices, confirmation,
drops and expiry, corrections, second entry, the lock, photos, `/lichsu kq` and the notices
to subscribed chats. Each reply has a brief form for text messages (one 160-character
segment; the read-back's brief may take three).

Functions here only format plain values into marked text (see `bot/texts.py`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from bot.formatting import vn_int
from bot.messaging.marked import code, strong, without_markers
from bot.results.checks import CheckReason
from bot.results.grammar import ParsedRecord
from bot.results.model import Ballot, RecordPhoto, ResultRecord, SecondEntry
from bot.results.texts import BALLOT_LABELS, RECORD_EXAMPLE
from bot.texts import NO, OK, WARN

# The read-back's choices (a button each where the channel has buttons): pressing one sends
# its text, as if typed.
CONFIRM_CHOICE = "Đúng"
CANCEL_CHOICE = "Hủy"

# Short ballot names for brief replies (typed as the grammar reads them).
BALLOT_SHORT: dict[Ballot, str] = {
    Ballot.QH: "QH",
    Ballot.TINH: "tinh",
    Ballot.HUYEN: "huyen",
    Ballot.XA: "xa",
}

FIELD_LABELS: dict[str, str] = {
    "registered_voters": "cử tri trong danh sách",
    "voted": "cử tri đã bầu",
    "issued": "phiếu phát ra",
    "returned": "phiếu thu vào",
    "valid": "phiếu hợp lệ",
    "invalid": "phiếu không hợp lệ",
    "votes": "số phiếu bầu của người ứng cử",
    "loai": "số phiếu theo loại",
}
_FIELD_SHORT = {
    "registered_voters": "ct",
    "voted": "bp",
    "issued": "pr",
    "returned": "tv",
    "valid": "hl",
    "invalid": "khl",
    "votes": "phieu bau",
    "loai": "loai",
}


def _what(ballot: Ballot, area: str) -> str:
    return f"biên bản {BALLOT_LABELS[ballot]} của khu vực {without_markers(area)}"


def _short(ballot: Ballot, area: str) -> str:
    return f"KQ {BALLOT_SHORT[ballot]} {without_markers(area)[:16]}"


def record_number(record_id: int) -> str:
    """The short number a stored record is known by (`#123`)."""
    return f"#{record_id}"


# -- which area ----------------------------------------------------------------------------------


def area_needed(ballot: Ballot, choices: Sequence[str]) -> str:
    listed = ", ".join(without_markers(c) for c in choices[:10])
    more = f" (đồng chí phụ trách: {listed})" if listed else ""
    example = choices[0] if choices else "KV05"
    return (
        f"{NO} Chưa lưu: chưa rõ biên bản của khu vực nào{more}. Ghi mã khu vực sau cấp bầu "
        f"cử, ví dụ {code(f'KQ {BALLOT_SHORT[ballot]} {example}: …')}, rồi gửi lại cả biên bản."
    )


def area_needed_brief(ballot: Ballot) -> str:
    return f"Chua luu: ghi ma khu vuc, vd: KQ {BALLOT_SHORT[ballot]} KV05: ... roi gui lai."


def unknown_area(area: str) -> str:
    return f"{NO} Chưa lưu: không có khu vực bỏ phiếu mã {strong(without_markers(area))}."


def not_your_area(area: str) -> str:
    return (
        f"{NO} Chưa lưu: đồng chí không phụ trách khu vực {strong(without_markers(area))}, "
        "không gửi được biên bản của khu vực này."
    )


def area_brief(reason: str, area: str) -> str:
    if reason == "unknown_area":
        return f"Chua luu: khong co khu vuc {without_markers(area)[:20]}."
    if reason == "not_an_area":
        return f"Chua luu: {without_markers(area)[:20]} khong phai khu vuc bo phieu."
    return f"Chua luu: dong chi khong phu trach khu vuc {without_markers(area)[:20]}."


# -- refusals and the read-back ------------------------------------------------------------------


def unit_locked(ballot: Ballot, area: str, unit_name: str, unit_code: str) -> str:
    return (
        f"{NO} Chưa lưu {_what(ballot, area)}: {without_markers(unit_name)} "
        f"({without_markers(unit_code)}) đã khóa nhập kết quả. Đồng chí liên hệ Ban bầu cử."
    )


def unit_locked_brief(ballot: Ballot, area: str) -> str:
    return f"Chua luu {_short(ballot, area)}: don vi bau cu da khoa nhap ket qua."


def already_recorded(ballot: Ballot, area: str, record_id: int) -> str:
    return (
        f"{NO} Chưa lưu: khu vực {strong(without_markers(area))} đã có biên bản "
        f"{BALLOT_LABELS[ballot]} (số {record_number(record_id)}). Nếu cần sửa, gửi "
        f"{code(f'sửa kq {BALLOT_SHORT[ballot]} …')} kèm cả biên bản."
    )


def already_recorded_brief(ballot: Ballot, area: str) -> str:
    return (
        f"Chua luu: {_short(ballot, area)} da co bien ban. Sua: gui "
        f"'sua kq {BALLOT_SHORT[ballot]} ...' kem ca bien ban."
    )


def unreadable_brief(reason: str) -> str:
    return (
        f"Chua doc duoc bien ban ({reason}). Mau: KQ QH, bp, pr, tv, hl, khl, roi so phieu "
        "tung nguoi."
    )


def refused_brief(ballot: Ballot, area: str, reason: CheckReason, left: int, right: int) -> str:
    return (
        f"Chua luu {_short(ballot, area)}: so lieu chua khop ({reason.value}: {left} va {right})."
        " Kiem tra, gui lai ca bien ban."
    )


def read_back_brief(record: ParsedRecord, area: str, warnings: int) -> str:
    """The read-back in a text message (at most three segments)."""
    parts = [
        f"{_short(record.ballot, area)}{' (sua)' if record.is_correction else ''}:",
        f"bp {record.voted} pr {record.issued} tv {record.returned}"
        f" hl {record.valid} khl {record.invalid};",
        " ".join(f"{n}){v}" for n, v in enumerate(record.votes, start=1)) + ".",
    ]
    if warnings:
        parts.append(f"{warnings} diem can xem lai.")
    parts.append("Dung thi tra loi DUNG de luu; sai thi gui lai ca bien ban.")
    return " ".join(parts)


def pending_replaced(ballot: Ballot, area: str) -> str:
    return (
        f"{WARN} {_what(ballot, area).capitalize()} đang chờ xác nhận đã được thay bằng "
        "biên bản mới dưới đây (biên bản cũ chưa lưu)."
    )


def pending_replaced_brief(ballot: Ballot, area: str) -> str:
    return f"{_short(ballot, area)} dang cho xac nhan da duoc thay bang bien ban moi."


# -- confirmation --------------------------------------------------------------------------------

NOTHING_TO_CONFIRM = (
    f"{NO} Không có biên bản nào đang chờ xác nhận. Gửi biên bản kết quả kiểm phiếu trước, "
    f"theo mẫu:\n{code(RECORD_EXAMPLE)}"
)
NOTHING_TO_CONFIRM_BRIEF = (
    "Khong co bien ban nao cho xac nhan. Gui bien ban truoc, roi tra loi DUNG."
)


def stored(
    ballot: Ballot,
    area: str,
    record_id: int,
    *,
    replaces: int | None,
    warnings: int,
    awaiting_second: bool,
) -> str:
    what = "biên bản sửa lại" if replaces is not None else "biên bản"
    text = (
        f"{OK} Đã lưu {what} {BALLOT_LABELS[ballot]} của khu vực "
        f"{strong(without_markers(area))}, số {strong(record_number(record_id))}"
    )
    if replaces is not None:
        text += f" (thay biên bản số {record_number(replaces)}, biên bản cũ vẫn được giữ)"
    text += "."
    if warnings:
        text += f"\nĐã ghi nhận {vn_int(warnings)} điểm cần xem lại mà đồng chí đã xác nhận."
    if awaiting_second:
        text += (
            "\nChờ nhập lần 2: biên bản được tính là đã kiểm tra khi người thứ hai của khu vực "
            "(thư ký tổ bầu cử) nhập đúng các số này."
        )
    return text


def stored_brief(ballot: Ballot, area: str, record_id: int, *, awaiting_second: bool) -> str:
    tail = " Cho nhap lan 2." if awaiting_second else ""
    return f"Da luu {_short(ballot, area)}, so {record_number(record_id)}.{tail}"


def second_entry_matched(ballot: Ballot, area: str, record_id: int) -> str:
    return (
        f"{OK} Nhập lần 2 khớp với biên bản số {strong(record_number(record_id))}: "
        f"{_what(ballot, area)} đã được kiểm tra."
    )


def second_entry_matched_brief(ballot: Ballot, area: str, record_id: int) -> str:
    return f"Nhap lan 2 khop: {_short(ballot, area)} so {record_number(record_id)} da kiem tra."


def _fields(differing: Sequence[str]) -> str:
    return ", ".join(FIELD_LABELS.get(f, f) for f in differing)


def second_entry_differs(
    ballot: Ballot, area: str, record_id: int, differing: Sequence[str]
) -> str:
    return (
        f"{WARN} Nhập lần 2 {_what(ballot, area)} chưa khớp với biên bản số "
        f"{strong(record_number(record_id))}: khác nhau ở {_fields(differing)}. Hai người "
        "nhập đối chiếu lại biên bản giấy; nếu lần nhập đầu sai, gửi «sửa kq …» kèm cả "
        "biên bản đúng."
    )


def second_entry_differs_brief(ballot: Ballot, area: str, differing: Sequence[str]) -> str:
    fields = ", ".join(_FIELD_SHORT.get(f, f) for f in differing)
    return f"Nhap lan 2 {_short(ballot, area)} chua khop: {fields}. Doi chieu lai bien ban."


# -- drops ---------------------------------------------------------------------------------------


def pending_dropped(ballot: Ballot, area: str) -> str:
    return (
        f"{WARN} {_what(ballot, area).capitalize()} chưa được xác nhận nên đã hủy, chưa lưu. "
        "Nếu cần, gửi lại cả biên bản rồi trả lời «đúng»."
    )


def pending_dropped_brief(ballot: Ballot, area: str) -> str:
    return f"{_short(ballot, area)} chua xac nhan nen da huy, chua luu."


def pending_cancelled(ballot: Ballot, area: str) -> str:
    return f"Đã hủy {_what(ballot, area)}, chưa lưu."


def pending_cancelled_brief(ballot: Ballot, area: str) -> str:
    return f"Da huy {_short(ballot, area)}, chua luu."


def pending_expired(ballot: Ballot, area: str) -> str:
    return (
        f"{WARN} Sau 30 phút chưa nhận được xác nhận, {_what(ballot, area)} đã hủy, chưa "
        "lưu. Đồng chí gửi lại cả biên bản rồi trả lời «đúng»."
    )


def pending_expired_brief(ballot: Ballot, area: str) -> str:
    return f"{_short(ballot, area)}: qua 30 phut chua xac nhan, da huy, chua luu. Gui lai."


# -- photos --------------------------------------------------------------------------------------


def photo_kept(ballot: Ballot, area: str, sha256: str, record_id: int | None) -> str:
    where = (
        f", kèm biên bản số {record_number(record_id)}"
        if record_id is not None
        else "; ảnh sẽ được gắn với biên bản khi biên bản được gửi và xác nhận"
    )
    return (
        f"{OK} Đã lưu ảnh biên bản {BALLOT_LABELS[ballot]} của khu vực "
        f"{strong(without_markers(area))} (SHA-256 {code(sha256[:16])}…){where}. Ảnh không "
        "thay đổi số liệu nào."
    )


def photo_kept_brief(ballot: Ballot, area: str, record_id: int | None) -> str:
    tail = f" kem so {record_number(record_id)}" if record_id is not None else ", cho bien ban"
    return f"Da luu anh bien ban {_short(ballot, area)}{tail}."


# -- the lock ------------------------------------------------------------------------------------

RESULTS_LOCK_USAGE = (
    "Cách dùng: /khoa kq <mã đơn vị bầu cử> (kết thúc nhập kết quả), /mokhoa kq <mã đơn vị "
    "bầu cử> (mở lại)."
)
RESULTS_LOCK_USAGE_BRIEF = "Cach dung: /khoa kq <ma don vi bau cu>, /mokhoa kq <ma>."


def unknown_electoral_unit(unit_code: str) -> str:
    return f"{NO} Không có đơn vị bầu cử mã {strong(without_markers(unit_code))}."


def unknown_electoral_unit_brief(unit_code: str) -> str:
    return f"Khong co don vi bau cu {without_markers(unit_code)[:24]}."


def results_locked(name: str, unit_code: str, locked: bool) -> str:
    label = f"{without_markers(name)} ({without_markers(unit_code)})"
    if locked:
        return (
            f"{OK} Đã khóa nhập kết quả {label}: biên bản và biên bản sửa lại của đơn vị bầu "
            "cử này không được nhận nữa (mở lại: /mokhoa kq)."
        )
    return f"{OK} Đã mở lại việc nhập kết quả {label}."


def results_locked_brief(unit_code: str, locked: bool) -> str:
    what = "Da khoa" if locked else "Da mo lai"
    return f"{what} nhap ket qua {without_markers(unit_code)[:24]}."


# -- /lichsu kq ----------------------------------------------------------------------------------

HISTORY_USAGE = "Cách dùng: /lichsu kq <mã khu vực>."


def _time(at: int, tz: dt.tzinfo) -> str:
    return dt.datetime.fromtimestamp(at, tz).strftime("%H:%M %d/%m")


def results_history(
    area: str,
    records: Sequence[ResultRecord],
    photos: Sequence[RecordPhoto],
    entries: Sequence[SecondEntry],
    names: dict[str, str],
    tz: dt.tzinfo,
) -> str:
    """Every record of the area (replaced ones too), its second entries, and the photos."""
    lines = [f"Biên bản kết quả của khu vực {strong(without_markers(area))}:"]
    if not records:
        lines.append("Chưa có biên bản nào.")
    by_record: dict[int, list[SecondEntry]] = {}
    for entry in entries:
        by_record.setdefault(entry.record_id, []).append(entry)
    for record in records:
        state = (
            f"đã thay bằng số {record_number(record.replaced_by)}"
            if record.replaced_by is not None
            else ("đang dùng" if record.checked else "đang dùng, chờ nhập lần 2")
        )
        who = without_markers(names.get(str(record.entered_by), str(record.entered_by)))
        votes = " ".join(f"{n}) {vn_int(v)}" for n, v in enumerate(record.votes, start=1))
        lines.append(
            f"• {record_number(record.id)} {BALLOT_LABELS[record.ballot]}, "
            f"{_time(record.entered_at, tz)}, {who} ({state}): bầu {vn_int(record.voted)}, "
            f"phát {vn_int(record.issued)}, thu {vn_int(record.returned)}, hợp lệ "
            f"{vn_int(record.valid)}, không hợp lệ {vn_int(record.invalid)}; {votes}"
        )
        for entry in by_record.get(record.id, []):
            result = "khớp" if entry.matches else f"{WARN} chưa khớp ({_fields(entry.differing)})"
            entered = without_markers(names.get(str(entry.entered_by), str(entry.entered_by)))
            lines.append(f"   nhập lần 2 lúc {_time(entry.entered_at, tz)}, {entered}: {result}")
    if photos:
        lines.append("Ảnh biên bản:")
        for photo in photos:
            joined = (
                f"kèm số {record_number(photo.record_id)}"
                if photo.record_id is not None
                else "chờ biên bản"
            )
            lines.append(
                f"• {BALLOT_LABELS[photo.ballot]}, {_time(photo.sent_at, tz)}, SHA-256 "
                f"{code(photo.sha256)} ({joined})"
            )
    return "\n".join(lines)


# -- notices -------------------------------------------------------------------------------------


def unit_complete_notice(outcome_text: str) -> str:
    return f"🗳️ Đơn vị bầu cử đã đủ biên bản kết quả (tạm tính):\n{outcome_text}"


def ballot_complete_notice(ballot: Ballot, units: int, where: str, tally: str) -> str:
    return (
        f"🗳️ Tất cả {vn_int(units)} đơn vị bầu cử {BALLOT_LABELS[ballot]} của "
        f"{without_markers(where)} đã đủ biên bản kết quả (tạm tính).\n{tally}"
    )
