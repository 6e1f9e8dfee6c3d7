"""Every Vietnamese string of the live dashboard page (bảng theo dõi) and its snapshot."""

from __future__ import annotations

from bot.formatting import vn_int
from bot.results.outcome import UnitFlag

PAGE_TITLE = "Bảng theo dõi bầu cử"
NOT_REPORTED = "chưa báo cáo"
AS_OF = "số liệu lúc {time}"
NO_DATA_YET = "chưa có số liệu"
VOTERS = "Cử tri đã bỏ phiếu"
TURNOUT = "Tỷ lệ"
AREAS = "Khu vực bỏ phiếu"
AREAS_REPORTED = "đã báo cáo"
AREAS_FINISHED = "đã xong"
STAFF_TESTED = "Nhân sự đã xét nghiệm"
POSITIVES = "dương tính"
CHILDREN = "Các đơn vị trực thuộc"
CHILD_UNIT = "Đơn vị"
CURVE = "Tỷ lệ cử tri đi bầu theo giờ"
MISSING = "Khu vực chưa báo cáo"
NOTHING_MISSING = "Tất cả khu vực đã báo cáo."
NO_CHIEF = "chưa có tổ trưởng đăng ký"
CHIEFS = "Tổ trưởng"
RESULTS = "Kết quả bầu cử"
LIVE = "Đang cập nhật trực tiếp"
DISCONNECTED = "mất kết nối"
REVOKED = "liên kết đã bị thu hồi"
NOT_FOUND_TITLE = "Không tìm thấy"
NOT_FOUND = "Liên kết không đúng, đã hết hạn hoặc đã bị thu hồi."
NEEDS_SCRIPT = (
    "Trang tự cập nhật khi trình duyệt cho phép chạy JavaScript; nếu không, hãy tải lại trang."
)


def areas_text(reported: int, total: int, finished: int) -> str:
    """A child's areas, as the charts write them: `9/9 · xong 5`."""
    return f"{vn_int(reported)}/{vn_int(total)} · xong {vn_int(finished)}"


MORE_MISSING = "và {count} khu vực khác"


def more_missing(count: int) -> str:
    """The end of a cut list of areas not reported (the TV cuts it to what fits)."""
    return MORE_MISSING.format(count=vn_int(count))


def as_of(time: str) -> str:
    return AS_OF.format(time=time)


# -- results night (RESULTS.md) ----------------------------------------------------------------

RESULTS_TITLE = "Kết quả bầu cử (tạm tính)"
PROVISIONAL = "tạm tính"
INCOMPLETE = "chưa đủ biên bản"
ELECTED = "trúng cử"
UNITS_COMPLETE = "đơn vị bầu cử đủ biên bản"
VOTES = "phiếu"
HALF_LINE = "50% phiếu hợp lệ"
REVOTE = "bầu lại"
ADDITIONAL_VOTE = "bầu thêm"
ADDITIONAL_VOTE_QH = "đề nghị bầu thêm"


def seats_filled(filled: int, seats: int) -> str:
    """`bầu được 1.952/2.019`."""
    return f"bầu được {vn_int(filled)}/{vn_int(seats)}"


def record_areas(reported: int, mapped: int) -> str:
    """An electoral unit's areas with a record: `biên bản 3/4 KV`."""
    return f"biên bản {vn_int(reported)}/{vn_int(mapped)} KV"


def unit_flag(flag: UnitFlag, *, qh: bool) -> str:
    """A complete unit's flag as the page writes it."""
    if flag is UnitFlag.REVOTE:
        return REVOTE
    return ADDITIONAL_VOTE_QH if qh else ADDITIONAL_VOTE


def tally_flags(revotes: int, additional: int, *, qh: bool) -> str | None:
    """`bầu lại: 1; bầu thêm: 2`, or None when no unit is flagged."""
    flags = []
    if revotes:
        flags.append(f"{REVOTE}: {vn_int(revotes)}")
    if additional:
        flags.append(f"{ADDITIONAL_VOTE_QH if qh else ADDITIONAL_VOTE}: {vn_int(additional)}")
    return "; ".join(flags) if flags else None


MORE_ELECTORAL_UNITS = "và {count} đơn vị bầu cử khác"


def more_electoral_units(count: int) -> str:
    return MORE_ELECTORAL_UNITS.format(count=vn_int(count))
