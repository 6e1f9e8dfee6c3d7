"""The Vietnamese labels of the dashboard page's layout (bảng theo dõi): headings, the legend,
the map's captions. The snapshot's own texts (`chưa báo cáo`, `mất kết nối`, …) are in
`bot.monitoring.dashboard_texts`; the page's script takes every label from the page itself
(data attributes), so it holds no Vietnamese string of its own."""

from __future__ import annotations

PAGE_TITLE = "Bảng theo dõi bầu cử"
TURNOUT = "Tỷ lệ cử tri đi bầu"
VOTERS = "Cử tri đã bỏ phiếu"
AREAS = "Khu vực bỏ phiếu"
AREAS_REPORTED = "đã báo cáo"
AREAS_FINISHED = "đã xong"
STAFF = "Nhân sự xét nghiệm"
POSITIVES = "dương tính"
CHILDREN = "Các đơn vị trực thuộc"
CHILDREN_ORDER = "chưa báo cáo trước, rồi tỷ lệ thấp lên cao"
CURVE = "Tỷ lệ đi bầu theo giờ"
CURVE_CHILDREN = "các đơn vị trực thuộc có tỷ lệ thấp nhất"
MISSING = "Khu vực chưa báo cáo"
NOTHING_MISSING = "Tất cả khu vực đã báo cáo."
MORE_MISSING = "và {count} khu vực khác"
NO_CHIEF = "chưa có tổ trưởng đăng ký"
CHIEFS = "Tổ trưởng"
MAP = "Bản đồ tỷ lệ đi bầu"
MAP_OUTSIDE = "ngoài đơn vị"
RESULTS = "Kết quả bầu cử"
NOT_REPORTED = "chưa báo cáo"
LIVE = "Đang cập nhật trực tiếp"
DISCONNECTED = "mất kết nối"
REVOKED = "liên kết đã bị thu hồi"
NEEDS_SCRIPT = (
    "Trang tự cập nhật khi trình duyệt cho phép chạy JavaScript; nếu không, hãy tải lại trang."
)
# The map's colour classes: the lower bound of each (percent) and its legend label.
MAP_LEGEND = (
    (0, "dưới 50%"),
    (50, "50–70%"),
    (70, "70–85%"),
    (85, "85–95%"),
    (95, "từ 95%"),
)

# Results night's panel: the TV ends its cut list of electoral units with this (`{count}`).
MORE_ELECTORAL_UNITS = "và {count} đơn vị bầu cử khác"
