"""A corpus of realistic chief messages with the outcome each must have (issue 14).

Written for fieldtally, not taken from any real group: the way chiefs and commune staff write
in Zalo groups — with and without diacritics, typos, Telex leftovers, voice-typing output —
for the 2021 structure (huyện → xã → khu vực, election day 23/5/2021) and the 2026 one
(xã/phường → khu vực, 15/3/2026).

Each case: the message, its arrival time, earlier reports of the area (`before`), and the
expected outcome (see `benchmarks/phrasing.py`, `Case`): the stored reports ("T voted/list
HH:MM", "C …" for a completion, "X tested/total positives"), "ask" (nothing stored, the reply
asks or refuses) or "none" (no report: a pointer to /huongdan). By default the sender is the
chief of area 5 of Xã Bản Lầu (320 voters, 16 staff); `role="multi"` is the chief of areas 5
and 6 (6 has 306 voters), `role="sup"` the commune's supervisor (areas 1–6; area n has 300+n
voters, except area 5).
"""

from __future__ import annotations

from typing import Any

CASES: list[dict[str, Any]] = []


def doc(text: str, sent: str, expect: str, **kw: Any) -> None:
    """A documented form (the contract's table)."""
    CASES.append({"form": "doc", "text": text, "sent": sent, "expect": expect, **kw})


def nat(text: str, sent: str, expect: str, **kw: Any) -> None:
    """Natural phrasing."""
    CASES.append({"form": "nat", "text": text, "sent": sent, "expect": expect, **kw})


AT9 = (("9h 200/320", "09:02"),)  # an earlier report: 200 at 09:00
AT16 = (("9h 200/320", "09:02"), ("16h 300/320", "16:01"))

# ------------------------------------------------------------------ documented forms
doc("250/320 9h", "09:03", "T 250/320 09:00")
doc("9h30 ct 250/320", "09:31", "T 250/320 09:30")
doc("Cử tri: 250/320 lúc 11 giờ", "11:02", "T 250/320 11:00")
doc("250 lúc 9:30", "09:35", "T 250/320 09:30")
doc("xong 12h30", "12:31", "C 200/320 12:30", before=AT9)
doc("Hoàn thành 320/320 lúc 12h30", "12:33", "C 320/320 12:30")
doc("kết thúc 17h 318/320", "17:02", "C 318/320 17:00")
doc("XN 16/16 âm tính", "07:00", "X 16/16 0")
doc("xét nghiệm 15/16 dương tính 1", "07:10", "X 15/16 1")
doc("xn 15/16 dt 0", "06:40", "X 15/16 0")
doc("sửa 245/320 9h", "09:20", "T 245/320 09:00", before=(("9h 254/320", "09:05"),))
doc("sua 245/320 9h", "09:21", "T 245/320 09:00", before=(("9h 254/320", "09:05"),))
doc("KV05: 250/320 9h", "09:04", "T 250/320 09:00", role="multi")
doc("09:30 ct 250/320", "09:40", "T 250/320 09:30")
doc("250/320 9h30'", "09:33", "T 250/320 09:30")
doc("250/320 lúc 9h", "09:10", "T 250/320 09:00")
doc("250/320 9 giờ 30", "09:31", "T 250/320 09:30")
doc("ct 250 9h", "09:01", "T 250/320 09:00")
doc("xet nghiem 16/16 am tinh", "06:30", "X 16/16 0")
doc("hoan thanh 320/320 luc 15h", "15:04", "C 320/320 15:00")
doc("ket thuc 16h 310/320", "16:03", "C 310/320 16:00")
doc("250/320", "09:17", "T 250/320 09:17")
doc("ct 100/320 07h", "07:05", "T 100/320 07:00")
doc("07:15 ct 80/320", "07:16", "T 80/320 07:15")
doc("xn 16/16 dương tính 0", "-1 16:00", "X 16/16 0")
doc("sửa xong 12h30 320/320", "12:50", "C 320/320 12:30", before=(("xong 12h30 318/320", "12:31"),))
doc("KV06: 100/306 8h", "08:05", "T 100/306 08:00", role="multi")
doc("kv06: xong 15h 306/306", "15:05", "C 306/306 15:00", role="multi")
doc("KV05: 120/320 8h\nKV06: 100/306 8h", "08:10", "T 120/320 08:00; T 100/306 08:00", role="multi")
doc("250/320 9h; xn 16/16 âm tính", "09:05", "T 250/320 09:00; X 16/16 0")
doc("1.250/2.000 lúc 11 giờ", "11:05", "T 1250/2000 11:00", voters=2000)
doc("Cử tri: 1.250/2.000 lúc 11 giờ", "11:02", "T 1250/2000 11:00", voters=2000)
doc("1 250/2 000 10h", "10:02", "T 1250/2000 10:00", voters=2000)
doc("19 giờ 1.643/2.000", "19:01", "T 1643/2000 19:00", voters=2000)
doc("xong", "16:30", "C 300/320 16:30", before=AT16)
doc("Xong 17h", "17:02", "C 300/320 17:00", before=AT16)
doc("250/320 9h", "21:30", "ask")  # 09:00 and 21:00 both valid: asked
doc("ct 250", "09:40", "T 250/320 09:40")
doc("XN 16/16 âm tính", "-1 15:00", "X 16/16 0")
doc("xn 14/16 dt 2", "07:30", "X 14/16 2")
doc("250/320 10h", "10:01", "T 250/320 10:00", structure=2026, commune="Phường Xuân Hương")
doc("xong 16h 315/320", "16:05", "C 315/320 16:00", structure=2026, commune="Xã Sa Pa")
doc("XN 16/16 âm tính", "06:50", "X 16/16 0", structure=2026, commune="Phường Lào Cai")
doc(
    "sửa 260/320 10h",
    "10:30",
    "T 260/320 10:00",
    before=(("10h 250/320", "10:02"),),
    structure=2026,
    commune="Xã Bắc Hà",
)
doc("9:45 ct 260/320", "09:50", "T 260/320 09:45", structure=2026, commune="Xã Si Ma Cai")
doc("250/320 9h", "09:03", "T 250/320 09:00", structure=2026, commune="Đặc khu Bạch Long Vĩ")

# ------------------------------------------------------------------ the area by name or number
nat("Tổ 5 xã Bản Lầu: 250/320 lúc 9h", "09:05", "T 250/320 09:00")
nat("KV 5 xã Bản Lầu báo cáo: 250/320 9h", "09:06", "T 250/320 09:00")
nat("KVBP số 5: 250/320 9h", "09:04", "T 250/320 09:00")
nat("Khu vực 5 250/320 9h", "09:02", "T 250/320 09:00")
nat("Khu vực bỏ phiếu số 5: 250/320 lúc 9h", "09:02", "T 250/320 09:00")
nat("Tổ bầu cử số 5 báo cáo 250/320 9h", "09:08", "T 250/320 09:00")
nat("KV05 250/320 9h", "09:01", "T 250/320 09:00")
nat("Kv5: 250/320 9h", "09:01", "T 250/320 09:00")
nat("KV 05: 250/320 9h", "09:01", "T 250/320 09:00")
nat("kv5 250/320 9h", "09:01", "T 250/320 09:00")
nat("KVBP5: 250/320 9h", "09:01", "T 250/320 09:00")
nat("Tổ 5 TT Mường Khương: 250/320 9h", "09:07", "T 250/320 09:00", commune="Thị trấn Mường Khương")
nat("Tổ 6 TT Mường Khương: 250/306 9h", "09:07", "ask", commune="Thị trấn Mường Khương")
nat("Khu vực 5 xã Pha Long: 250/320 9h", "09:07", "ask")  # not the sender's commune
nat("Khu vực 6: 100/306 8h", "08:05", "T 100/306 08:00", role="multi")
nat("KVBP số 6 báo cáo 100/306 lúc 8h", "08:05", "T 100/306 08:00", role="multi")
nat(
    "Khu vực 5 250/320 9h\nKhu vực 6 200/306 9h",
    "09:10",
    "T 250/320 09:00; T 200/306 09:00",
    role="multi",
)
nat("250/320 9h", "09:05", "ask", role="multi")  # which area?
nat("Khu vực 3: 150/303 9h", "09:05", "T 150/303 09:00", role="sup")
nat("KV 2 xã Bản Lầu: 160/302 lúc 9h", "09:06", "T 160/302 09:00", role="sup")
nat("Tổ 4: xong 16h 300/304", "16:05", "C 300/304 16:00", role="sup")
nat("250/320 9h", "09:05", "ask", role="sup")
nat("Khu vực 9: 100/320 9h", "09:05", "ask", role="sup")
nat(
    "Phường Xuân Hương - KVBP số 5: 250/320",
    "09:12",
    "T 250/320 09:12",
    commune="Phường Xuân Hương",
    structure=2026,
)
nat(
    "P. Xuân Hương KV5: 250/320 9h",
    "09:12",
    "T 250/320 09:00",
    commune="Phường Xuân Hương",
    structure=2026,
)
nat(
    "KVBP số 5 phường Lào Cai: 250/320 9h",
    "09:12",
    "T 250/320 09:00",
    commune="Phường Lào Cai",
    structure=2026,
)
nat(
    "Khu vực 5 xã Sa Pa 250/320 lúc 9h",
    "09:12",
    "T 250/320 09:00",
    commune="Xã Sa Pa",
    structure=2026,
)
nat("Khu vực 5 xã Bắc Hà 250/320 lúc 9h", "09:12", "ask", commune="Xã Sa Pa", structure=2026)
nat("khu vuc 5 xa ban lau: 250/320 luc 9h", "09:12", "T 250/320 09:00")
nat("To 5 Ban Lau bao cao 250/320 9h", "09:12", "T 250/320 09:00")
nat("KV5 Bản Lầu: 250/320 9h", "09:12", "T 250/320 09:00")
nat("KV 5 - 250/320 - 9h", "09:12", "T 250/320 09:00")
nat("Tổ 5: XN 16/16 âm tính", "07:00", "X 16/16 0")
nat("Khu vực 6: xn 15/15 âm tính", "07:00", "X 15/15 0", role="multi")
nat("KV 5: Xong rồi", "16:40", "C 300/320 16:40", before=AT16)
nat("Tổ 3 xã Bản Lầu, đến 10h: 200/303", "10:05", "T 200/303 10:00", role="sup")
nat(
    "Khu vực 1 Bản Lầu 9h 100/301\nKhu vực 2 Bản Lầu 9h 110/302",
    "09:20",
    "T 100/301 09:00; T 110/302 09:00",
    role="sup",
)
nat("KV05 XN nhanh 16 thành viên âm tính", "07:00", "X 16/16 0")
nat("Kv 05 250/320 9h", "09:03", "T 250/320 09:00", structure=2026, commune="Xã Bắc Hà")
nat(
    "KVBP số 05 - Phường Sa Pa: 250/320 (9h)",
    "09:05",
    "T 250/320 09:00",
    structure=2026,
    commune="Phường Sa Pa",
)

# ------------------------------------------------------------------ words around the numbers
nat("Kính gửi BCĐ xã, KV5 báo cáo: đến 9h có 250/320 cử tri đi bầu", "09:05", "T 250/320 09:00")
nat("Báo cáo nhanh: 9h 250/320", "09:03", "T 250/320 09:00")
nat("Dạ em báo cáo 9h 250/320 ạ", "09:03", "T 250/320 09:00")
nat("Em báo cáo: tính đến 9h đã có 250 cử tri đi bầu", "09:10", "T 250/320 09:00")
nat("Tính đến 9h, 250/320 cử tri đã tham gia bỏ phiếu", "09:05", "T 250/320 09:00")
nat("Đến 9h: 250/320", "09:02", "T 250/320 09:00")
nat("Tới 9h 250/320 nhé", "09:02", "T 250/320 09:00")
nat("Lúc 9h có 250/320 cử tri đi bầu", "09:02", "T 250/320 09:00")
nat("9h đã có 250 người đi bầu trên tổng số 320", "09:05", "T 250/320 09:00")
nat("9h: 250 trên 320", "09:05", "T 250/320 09:00")
nat("9h: 250 người/320 người", "09:05", "T 250/320 09:00")
nat("9h: 250/ tổng 320", "09:05", "T 250/320 09:00")
nat("9h có 250 trong tổng số 320 cử tri đi bầu", "09:05", "T 250/320 09:00")
nat("CT đi bầu 250/320 lúc 9h", "09:05", "T 250/320 09:00")
nat("c.tri 250/320 lúc 9h", "09:05", "T 250/320 09:00")
nat("BC 9h: 250/320", "09:05", "T 250/320 09:00")
nat("KVBP 5 BC 9h 250/320", "09:05", "T 250/320 09:00")
nat("9h 250/320 🇻🇳🇻🇳", "09:05", "T 250/320 09:00")
nat("✅ 9h: 250/320 👍", "09:05", "T 250/320 09:00")
nat("Mưa to nhưng cử tri vẫn đi bầu đông. 9h: 250/320", "09:05", "T 250/320 09:00")
nat("Không khí phấn khởi, 9h đã có 250/320 cử tri đi bầu", "09:05", "T 250/320 09:00")
nat("Anh ơi 9h bên em 250/320 rồi nhé", "09:05", "T 250/320 09:00")
nat("Chị ơi, em báo cáo 250/320 lúc 9h ạ", "09:05", "T 250/320 09:00")
nat("9h: 250/320. Em cảm ơn", "09:05", "T 250/320 09:00")
nat("9h 250/320. Trân trọng!", "09:05", "T 250/320 09:00")
nat("Đồng chí ơi, 10 giờ: 280/320", "10:05", "T 280/320 10:00")
nat("Số cử tri đi bầu đến 10h là 280/320", "10:05", "T 280/320 10:00")
nat("Số liệu 10h: 280/320", "10:05", "T 280/320 10:00")
nat("Cập nhật 10h: 280/320 cử tri", "10:05", "T 280/320 10:00")
nat("10h có 280 người đi bầu", "10:05", "T 280/320 10:00")
nat("10h đã có 280 cử tri tham gia bỏ phiếu", "10:05", "T 280/320 10:00")
nat("Dạ tính đến 10 giờ thì được 280/320 ạ", "10:06", "T 280/320 10:00")
nat("Hiện tại 280/320", "10:06", "T 280/320 10:06")
nat("280/320 rồi a", "10:06", "T 280/320 10:06")
nat("Kính gửi BCĐ\nKV5 báo cáo\n10h: 280/320", "10:06", "T 280/320 10:00")
nat("Chào anh!\n10h: 280/320\nEm cảm ơn", "10:06", "T 280/320 10:00")
nat("Tình hình bầu cử tại KV5 tốt, an toàn. 10h: 280/320", "10:06", "T 280/320 10:00")
nat("Tổ 5 báo cáo kết quả 10h: 280/320 cử tri đã bỏ phiếu", "10:06", "T 280/320 10:00")
nat("Tổng số cử tri đã bỏ phiếu đến 10h: 280/320", "10:06", "T 280/320 10:00")
nat("10h, 280 cử tri đi bầu, trên tổng số 320", "10:06", "T 280/320 10:00")
nat("Đến 10h: 280 cử tri/320 cử tri", "10:06", "T 280/320 10:00")
nat("dạ 10h 280/320 ạ", "10:06", "T 280/320 10:00")
nat("10h 280/320 nha anh", "10:06", "T 280/320 10:00")
nat("e bc 10h 280/320", "10:06", "T 280/320 10:00")
nat("Tổ 5 xin báo cáo: 10h đạt 280/320", "10:06", "T 280/320 10:00")

# ------------------------------------------------------------------ times
nat("9.30: 255/320", "09:35", "T 255/320 09:30")
nat("9.30 255/320", "09:35", "T 255/320 09:30")
nat("9h30ph: 255/320", "09:35", "T 255/320 09:30")
nat("9 rưỡi 255/320", "09:35", "T 255/320 09:30")
nat("9h rưỡi: 255/320", "09:35", "T 255/320 09:30")
nat("9 giờ sáng: 255/320", "09:35", "T 255/320 09:00")
nat("9h sáng 255/320", "21:30", "T 255/320 09:00")
nat("2h chiều: 300/320", "14:05", "T 300/320 14:00")
nat("2 giờ chiều 300/320", "14:05", "T 300/320 14:00")
nat("3h chiều 305/320", "15:02", "T 305/320 15:00")
nat("7 giờ tối 310/320", "19:05", "T 310/320 19:00")
nat("12h trưa: 290/320", "12:10", "T 290/320 12:00")
nat("12h: 290/320", "12:10", "T 290/320 12:00")
nat("15h: 300/320", "15:05", "T 300/320 15:00")
nat("15 giờ 30 phút: 300/320", "15:35", "T 300/320 15:30")
nat("6h: 316/320", "18:06", "ask")  # 06:00 or 18:00, the area has no other report
nat("6h: 316/320", "18:06", "T 316/320 18:00", before=AT16)  # 06:00 would be above 09:00's
nat("5h: 310/320", "17:08", "T 310/320 17:00", before=AT16)
nat("3h: 305/320", "15:10", "T 305/320 15:00")  # 03:00 is before the polls open
nat("4h chiều: 305/320", "16:10", "T 305/320 16:00")
nat("9h: 250/320", "09:02", "T 250/320 09:00")  # 21:00 is in the future
nat("8h: 150/320", "20:30", "ask")
nat("08h: 150/320", "20:30", "T 150/320 08:00")
nat("8h sáng: 150/320", "20:30", "T 150/320 08:00")
nat("7h30: 90/320", "07:35", "T 90/320 07:30")
nat("7h30 sáng 90/320", "07:35", "T 90/320 07:30")
nat("Lúc 7 giờ 90/320", "07:10", "T 90/320 07:00")
nat("luc 7 gio 30 phut 90/320", "07:40", "T 90/320 07:30")
nat("11h45: 300/320", "11:50", "T 300/320 11:45")
nat("10g30 280/320", "10:31", "T 280/320 10:30")
nat("10:30: 280/320", "10:31", "T 280/320 10:30")
nat("10h30p 280/320", "10:31", "T 280/320 10:30")
nat("chín giờ 250/320", "09:05", "ask")  # a time in words: not guessed
nat("9h 250/320", "09:00", "T 250/320 09:00")
nat("10h: 250/320", "09:30", "ask")  # in the future
nat("16h30: 300/320", "16:31", "T 300/320 16:30")

# ------------------------------------------------------------------ percentages
nat("9h: 250/320 đạt 78,1%", "09:05", "T 250/320 09:00")
nat("9h: 250/320 (78,1%)", "09:05", "T 250/320 09:00")
nat("9h: 250/320 (78%)", "09:05", "T 250/320 09:00")
nat("9h: 250/320 tỷ lệ 78,1%", "09:05", "T 250/320 09:00")
nat("9h: 250/320 đạt tỷ lệ 78.1%", "09:05", "T 250/320 09:00")
nat("9h: 250/320 (77,7%)", "09:05", "T 250/320 09:00")  # within 0,5 point of 78,1%
nat("9h: 250/320 đạt 85%", "09:05", "ask")  # mismatch: both numbers named
nat("9h: 250/320 (87,5%)", "09:05", "ask")
nat("Đến 10h đạt 85", "10:05", "ask")  # a percentage with its % dropped
nat("Đến 10h đạt 85%", "10:05", "ask")
nat("10h đạt 88%", "10:05", "ask")
nat("Tỷ lệ cử tri đi bầu lúc 10h: 88%", "10:05", "ask")
nat("10h đạt 282 cử tri", "10:05", "T 282/320 10:00")
nat("10h đạt 95 cử tri", "10:05", "T 95/320 10:00")
nat("10h đạt 95 người", "10:05", "T 95/320 10:00")
nat("10h: 282 cử tri đi bầu, đạt 88,1%", "10:05", "T 282/320 10:00")
nat("10h: 282 cử tri đi bầu, đạt 95%", "10:05", "ask")
nat("Hoàn thành 100%", "16:30", "C 320/320 16:30", before=AT16)
nat("Hoàn thành 100% lúc 16h20", "16:30", "C 320/320 16:20", before=AT16)
nat("xong 100% lúc 11h40", "11:45", "C 320/320 11:40", before=(("10h 310/320", "10:01"),))
nat("Kết thúc bỏ phiếu, đạt 100%", "16:30", "C 320/320 16:30", before=AT16)
nat("Đã hoàn thành 100% cử tri đi bầu lúc 16h", "16:30", "C 320/320 16:00", before=AT16)
nat("xong 318/320 100%", "16:30", "ask", before=AT16)
nat("Xong, đạt 99,4%", "16:30", "ask", before=AT16)
nat("Hoàn thành 320/320 đạt 100% lúc 16h", "16:30", "C 320/320 16:00", before=AT16)

# ------------------------------------------------------------------ dates
nat("BC 23/5 lúc 9h: 250/320", "09:05", "T 250/320 09:00")
nat("Ngày 23/5: 9h 250/320", "09:05", "T 250/320 09:00")
nat("23/5/2021 - 9h: 250/320", "09:05", "T 250/320 09:00")
nat("Ngày 23-5, 9h 250/320", "09:05", "T 250/320 09:00")
nat("BC 23/5", "09:05", "none")
nat("23/5 lúc 9h", "09:05", "ask")
nat("Ngày 22/5: 9h 250/320", "09:05", "ask")  # not the election date
nat("24/5 9h 250/320", "09:05", "ask")
nat("BC ngày 23.5: 9h 250/320", "09:05", "T 250/320 09:00")
nat(
    "15.3.2026 9h: 250/320", "09:05", "T 250/320 09:00", structure=2026, commune="Phường Xuân Hương"
)
nat(
    "Ngày 15/3/2026, 9h: 250/320",
    "09:05",
    "T 250/320 09:00",
    structure=2026,
    commune="Phường Xuân Hương",
)
nat("Ngày 15/3: 250/320 9h", "09:05", "T 250/320 09:00", structure=2026, commune="Xã Sa Pa")
nat("Ngày 15/3/2021: 250/320 9h", "09:05", "ask", structure=2026, commune="Xã Sa Pa")
nat("14/3 XN 16/16 âm tính", "-1 16:00", "X 16/16 0", structure=2026, commune="Xã Sa Pa")
nat("Ngày 22/5 test nhanh 16/16 âm tính", "-1 15:00", "X 16/16 0")
nat("Ngày 20/5 XN 16/16 âm tính", "07:00", "ask")
nat("Ngày 23/5/2021", "07:00", "none")
nat("23/5 9h30 255/320", "09:35", "T 255/320 09:30")
nat("Hôm nay 23/5, đến 10h: 280/320 cử tri", "10:05", "T 280/320 10:00")

# ------------------------------------------------------------------ COVID in words
nat("Test nhanh 16/16 âm tính", "07:00", "X 16/16 0")
nat("XN nhanh 16 thành viên âm tính", "07:00", "X 16/16 0")
nat("Đã test nhanh 16/16 thành viên, không có ca dương tính", "07:00", "X 16/16 0")
nat("16/16 âm tính", "07:00", "X 16/16 0")
nat("xn 16/16 AT", "07:00", "X 16/16 0")
nat("Đã xong XN 16/16 âm tính", "07:00", "X 16/16 0")
nat("Tổ bầu cử đã test covid 16/16, tất cả âm tính", "-1 17:00", "X 16/16 0")
nat("XN 16/16, dt 0", "07:00", "X 16/16 0")
nat("Xét nghiệm nhanh 16/16 thành viên: âm tính", "07:00", "X 16/16 0")
nat("test 16/16 am tinh", "07:00", "X 16/16 0")
nat("xn 15/16 có 1 ca dương tính", "07:00", "X 15/16 1")
nat("XN 16/16, 1 dương tính", "07:00", "X 16/16 1")
nat("Đã XN 16/16 thành viên tổ bầu cử, kết quả âm tính", "07:00", "X 16/16 0")
nat("XN nhanh 16 thành viên âm tính", "07:00", "ask", staff=None)  # the total is unknown
nat("XN nhanh 15 thành viên âm tính", "07:00", "X 15/16 0")
nat("XN 16 âm tính", "07:00", "X 16/16 0")
nat("Test nhanh covid toàn bộ 16 thành viên tổ: âm tính", "07:00", "X 16/16 0")
nat("xn 12/12 âm tính", "07:00", "ask")  # the area has 16 staff
nat("XN 16/16 âm tính, 9h 250/320", "09:05", "X 16/16 0; T 250/320 09:00")
nat("XN 16/16 âm tính\n9h 250/320", "09:05", "X 16/16 0; T 250/320 09:00")
nat("Đã XN: 16/16 âm tính nhé", "07:00", "X 16/16 0")
nat("xet nghiem nhanh 16/16 thanh vien am tinh", "07:00", "X 16/16 0")
nat("XN 16/16 dương tính", "07:00", "ask")
nat("XN 16/16", "07:00", "ask")
nat("Test nhanh 16/16 âm tính", "07:00", "X 16/16 0", structure=2026, commune="Xã Sa Pa")
nat("XN 16/16 ko có ca dương tính", "07:00", "X 16/16 0")
nat("Không có ca dương tính, XN 16/16", "07:00", "X 16/16 0")
nat("xn 16/16 âm tính 100%", "07:00", "X 16/16 0")

# ------------------------------------------------------------------ completion and correction
nat("Xong rồi", "16:40", "C 300/320 16:40", before=AT16)
nat("Đã xong rồi ạ", "16:40", "C 300/320 16:40", before=AT16)
nat("Kết thúc bầu cử lúc 17h", "17:05", "C 300/320 17:00", before=AT16)
nat("Kết thúc bỏ phiếu lúc 16h45, 318/320", "16:50", "C 318/320 16:45", before=AT16)
nat("Xong lúc 11h45, 320/320", "11:50", "C 320/320 11:45")
nat("Xong lúc 5h, 320/320", "17:08", "C 320/320 17:00", before=AT16)
nat(
    "Tổ 5 đã hoàn thành bầu cử lúc 16h30 với 320/320 cử tri",
    "16:35",
    "C 320/320 16:30",
    before=AT16,
)
nat("KV5 hoàn thành 16h, 320/320 cử tri đi bầu", "16:35", "C 320/320 16:00", before=AT9)
nat("Đã kết thúc, 315/320", "16:35", "C 315/320 16:35", before=AT16)
nat("Xong", "09:30", "ask")  # no earlier count
nat("Xin sửa lại: 9h là 245/320", "09:20", "T 245/320 09:00", before=(("9h 254/320", "09:05"),))
nat(
    "Em nhầm, 9h là 245/320 chứ không phải 254",
    "09:20",
    "T 245/320 09:00",
    before=(("9h 254/320", "09:05"),),
)
nat("Sửa lại 9h: 245/320", "09:20", "T 245/320 09:00", before=(("9h 254/320", "09:05"),))
nat("Xin lỗi, sửa 9h 245/320", "09:20", "T 245/320 09:00", before=(("9h 254/320", "09:05"),))
nat("báo nhầm 321", "09:20", "ask", before=(("9h 254/320", "09:05"),))
nat("Điều chỉnh 9h: 245/320", "09:20", "T 245/320 09:00", before=(("9h 254/320", "09:05"),))
nat("9h: 245/320", "09:20", "ask", before=(("9h 254/320", "09:05"),))  # use "sửa"
nat(
    "Sửa xong lúc 16h30 320/320",
    "16:50",
    "C 320/320 16:30",
    before=(("9h 200/320", "09:02"), ("xong 16h30 318/320", "16:31")),
)
nat(
    "sua lai: ket thuc 16h30, 320/320",
    "16:50",
    "C 320/320 16:30",
    before=(("9h 200/320", "09:02"), ("xong 16h30 318/320", "16:31")),
)
nat("17h: 320/320", "17:05", "ask", before=(("xong 16h 320/320", "16:01"),))  # after completion
nat("Kết thúc 16h", "16:05", "C 300/320 16:00", before=AT16)
nat("hoàn tất bỏ phiếu 16h30", "16:35", "C 300/320 16:30", before=AT16)
nat("Đã xong. 320/320", "16:35", "C 320/320 16:35", before=AT16)

# ------------------------------------------------------------------ several reports on one line
nat("9h 250/320, 10h 290/320", "10:05", "T 250/320 09:00; T 290/320 10:00")
nat("9h: 250/320 - 10h: 290/320", "10:05", "T 250/320 09:00; T 290/320 10:00")
nat("9h 250/320. 10h 290/320", "10:05", "T 250/320 09:00; T 290/320 10:00")
nat(
    "7h 80/320, 8h 150/320, 9h 250/320", "09:05", "T 80/320 07:00; T 150/320 08:00; T 250/320 09:00"
)
nat("Báo cáo: 8h 150/320, 9h 250/320 ạ", "09:05", "T 150/320 08:00; T 250/320 09:00")
nat("KV5: 9h 250/320, KV6: 9h 200/306", "09:05", "T 250/320 09:00; T 200/306 09:00", role="multi")
nat("8h 150/320, 250/320", "09:05", "T 150/320 08:00; T 250/320 09:05")
nat("Xong lúc 16h45, 320/320", "16:50", "C 320/320 16:45", before=AT16)
nat("XN 16/16, dt 0", "07:00", "X 16/16 0")
nat("9h 250/320; 10h 290/320", "10:05", "T 250/320 09:00; T 290/320 10:00")
nat("9h 250/320 10h 290/320", "10:05", "ask")  # no separator: which time goes with which?

# ------------------------------------------------------------------ no report, questions, mixes
nat("Cho hỏi bao giờ phải báo cáo?", "07:00", "none")
nat("Anh ơi em gửi báo cáo kiểu gì ạ?", "07:00", "none")
nat("Kính gửi BCĐ", "07:00", "none")
nat("Dạ em báo cáo", "07:00", "none")
nat("Mưa to nhưng cử tri vẫn đi bầu đông", "10:00", "none")
nat("Em cảm ơn anh ạ 🙏", "10:00", "none")
nat("Ok a", "10:00", "none")
nat("👍👍", "10:00", "none")
nat("Đã nhận", "10:00", "none")
nat("Khu vực 5 khai mạc đúng giờ", "07:00", "none")
nat("Sđt em 0913 555 666", "07:00", "none")
nat("Có cần báo cáo số xét nghiệm không ạ?", "07:00", "none")
nat("Bao giờ thì kết thúc ạ?", "15:00", "none")
nat("Kính gửi BCĐ xã Bản Lầu\nTổ 5 báo cáo\n9h: 250/320\nTrân trọng", "09:05", "T 250/320 09:00")
nat("Chào anh\nXN 16/16 âm tính", "07:00", "X 16/16 0")
nat("Dạ em báo cáo\nĐến 10h: 280/320 cử tri\nEm cảm ơn ạ", "10:05", "T 280/320 10:00")
nat("Khu vực 5:\n10h 280/320", "10:05", "T 280/320 10:00")
nat(
    "Tổ 5 TT Mường Khương:\n10h: 280/320",
    "10:05",
    "T 280/320 10:00",
    commune="Thị trấn Mường Khương",
)
nat("Tính đến 10h:\n280/320 cử tri", "10:05", "T 280/320 10:00")
nat("Báo cáo KV5\n- 9h: 250/320\n- 10h: 280/320", "10:05", "T 250/320 09:00; T 280/320 10:00")

# ------------------------------------------------------------------ numbers that cannot be placed
nat("9h: -5/320", "09:05", "ask")
nat("9h -250/320", "09:05", "ask")
nat("9h: 250/320, còn 70 chưa bầu", "09:05", "ask")
nat("9h 250/320, 2 cử tri ốm", "09:05", "ask")
nat("Khoảng 250 cử tri lúc 9h", "09:05", "ask")
nat("9h: hơn 250/320", "09:05", "ask")
nat("gần 250 người lúc 9h", "09:05", "ask")
nat("9h được tầm 250 cử tri", "09:05", "ask")
nat("9h: 1.2k cử tri", "09:05", "ask", voters=2000)
nat("9h: 1,2 nghìn cử tri", "09:05", "ask", voters=2000)
nat("9h: 1,234/2,000", "09:05", "ask", voters=2000)
nat("hai trăm năm mươi trên ba trăm hai mươi lúc 9h", "09:05", "ask")
nat("9h: 250/320, vắng 70", "09:05", "ask")
nat("9h 250/320 còn 3 người ốm tại nhà", "09:05", "ask")
nat("Đến 9h đã bầu 250, chưa bầu 70", "09:05", "ask")
nat("9h 250 320", "09:05", "ask")
nat("250", "09:05", "ask")
nat("9.75: 250/320", "09:05", "ask")
nat("9h: 250/320, thêm 5 cử tri bầu bằng giấy chứng nhận", "09:05", "ask")
nat("9h 250/320 người, 12 hòm phiếu phụ", "09:05", "ask")
nat("9h 325/320", "09:05", "ask")  # more voted than listed
nat("9h 250/400", "09:05", "ask")  # list size far from 320
nat("9h: 250/330", "09:05", "T 250/330 09:00")  # within 10%: stored with a warning

# ------------------------------------------------------------------ no diacritics, typos, Telex
nat("kinh gui bcd, kv5 bao cao 9h 250/320", "09:05", "T 250/320 09:00")
nat("den 9h co 250/320 cu tri di bau", "09:05", "T 250/320 09:00")
nat("tinh den 10h: 280/320 cu tri", "10:05", "T 280/320 10:00")
nat("xong roi", "16:40", "C 300/320 16:40", before=AT16)
nat("da xong roi a", "16:40", "C 300/320 16:40", before=AT16)
nat("ket thuc bau cu luc 17h", "17:05", "C 300/320 17:00", before=AT16)
nat("hoan thanh 100%", "16:40", "C 320/320 16:40", before=AT16)
nat("xn nhanh 16/16 am tinh", "07:00", "X 16/16 0")
nat("test nhanh 16/16 AT", "07:00", "X 16/16 0")
nat("khong co ca duong tinh, xn 16/16", "07:00", "X 16/16 0")
nat(
    "em nham, 9h la 245/320 chu khong phai 254",
    "09:20",
    "T 245/320 09:00",
    before=(("9h 254/320", "09:05"),),
)
nat("xin sua lai: 9h la 245/320", "09:20", "T 245/320 09:00", before=(("9h 254/320", "09:05"),))
nat("2h chieu 300/320", "14:05", "T 300/320 14:00")
nat("7 gio toi 310/320", "19:05", "T 310/320 19:00")
nat("9 ruoi 255/320", "09:35", "T 255/320 09:30")
nat("9h30ph 255/320", "09:35", "T 255/320 09:30")
nat("dat 85", "10:05", "ask")
nat("cho hoi bao gio phai bao cao?", "07:00", "none")
nat("9h: 250 tren 320", "09:05", "T 250/320 09:00")
nat("9h 250 nguoi/320 nguoi", "09:05", "T 250/320 09:00")
nat("kv05 250/320 9h", "09:05", "T 250/320 09:00")
nat("khu vuc 6: 100/306 8h", "08:05", "T 100/306 08:00", role="multi")
nat("to 5 tt muong khuong: 250/320 9h", "09:05", "T 250/320 09:00", commune="Thị trấn Mường Khương")
nat("cu tri 250/320 luc 9h", "09:05", "T 250/320 09:00")
nat("cur tri 250/320 luc 9h", "09:05", "T 250/320 09:00")  # Telex: "cử" half typed
nat("ddax xong", "16:40", "C 300/320 16:40", before=AT16)  # Telex "đã" left raw
nat("hoafn thanhf 320/320 luc 16h", "16:40", "C 320/320 16:00", before=AT16)  # Telex
nat("9h 250/320 nhes", "09:05", "T 250/320 09:00")
nat("9h 250/3200", "09:05", "ask")  # a typo in the list size
nat("9h 2500/320", "09:05", "ask")
nat("9h 250//320", "09:05", "T 250/320 09:00")
nat("9h 250 / 320", "09:05", "T 250/320 09:00")
nat("9 h 250/320", "09:05", "T 250/320 09:00")
nat("9H 250/320", "09:05", "T 250/320 09:00")
nat("9h:250/320", "09:05", "T 250/320 09:00")
nat("9h-250/320", "09:05", "T 250/320 09:00")  # the dash after "9h" is a separator
nat("9h , 250/320", "09:05", "T 250/320 09:00")
nat("9h..250/320", "09:05", "T 250/320 09:00")
nat("Ðến 9h 250/320", "09:05", "T 250/320 09:00")  # Icelandic eth for Đ
nat("ĐẾN 9H: 250/320 CỬ TRI", "09:05", "T 250/320 09:00")

# ------------------------------------------------------------------ voice typing
nat(
    "Báo cáo khu vực số 5 đến 9 giờ sáng đã có 250 trên 320 cử tri đi bầu",
    "09:05",
    "T 250/320 09:00",
)
nat("9 giờ 30 phút có 255 cử tri đi bầu trên tổng số 320 cử tri", "09:35", "T 255/320 09:30")
nat("Tính đến 10 giờ có 280 trên 320 cử tri đi bầu đạt 87,5%", "10:05", "T 280/320 10:00")
nat(
    "Khu vực bỏ phiếu số 5 đã hoàn thành bầu cử lúc 16 giờ 30 phút với 320 trên 320 cử tri",
    "16:35",
    "C 320/320 16:30",
    before=AT16,
)
nat("Tổ bầu cử số 5 xét nghiệm nhanh 16 trên 16 thành viên âm tính", "07:00", "X 16/16 0")
nat("Em xin báo cáo lúc 11 giờ có 300 trên 320 cử tri đi bầu ạ", "11:05", "T 300/320 11:00")
nat("Đến 2 giờ chiều có 305 trên 320 cử tri đi bầu", "14:05", "T 305/320 14:00")
nat("Khoảng 9 giờ có 250 cử tri", "09:05", "ask")
nat("Chín giờ hai trăm năm mươi cử tri", "09:05", "ask")
nat("Đến 9 giờ có 250 chấm 320", "09:05", "ask")
nat("Lúc 9 giờ 250 cử tri đi bầu", "09:05", "T 250/320 09:00")
nat("Đến 3 giờ chiều đã có 310 trên 320 cử tri đi bầu", "15:05", "T 310/320 15:00")
nat("Báo cáo tổ bầu cử số 5 kết thúc bỏ phiếu lúc 17 giờ", "17:05", "C 300/320 17:00", before=AT16)

# ------------------------------------------------------------------ 2026 structure, mixed
nat(
    "Kính gửi UBBC phường, KVBP số 5 báo cáo: 9h có 250/320 cử tri đi bầu",
    "09:05",
    "T 250/320 09:00",
    structure=2026,
    commune="Phường Xuân Hương",
)
nat(
    "Đến 10h: 280/320 (87,5%)", "10:05", "T 280/320 10:00", structure=2026, commune="Phường Lào Cai"
)
nat("Đến 10h đạt 87,5%", "10:05", "ask", structure=2026, commune="Phường Lào Cai")
nat(
    "Tổ 5 xã Sa Pa: xong 16h 318/320",
    "16:05",
    "C 318/320 16:00",
    structure=2026,
    commune="Xã Sa Pa",
)
nat("6h: 316/320", "18:06", "ask", structure=2026, commune="Xã Sa Pa")
nat(
    "Khu vực 6: 280/306 10h",
    "10:05",
    "T 280/306 10:00",
    role="multi",
    structure=2026,
    commune="Phường Sa Pa",
)
nat(
    "KV 3: 200/303 10h",
    "10:05",
    "T 200/303 10:00",
    role="sup",
    structure=2026,
    commune="Phường Sa Pa",
)
nat(
    "Tổ 2 phường Sa Pa đến 10h được 200/302",
    "10:05",
    "T 200/302 10:00",
    role="sup",
    structure=2026,
    commune="Phường Sa Pa",
)
nat(
    "Ngày 15/3, tổ 5 test nhanh 16/16 âm tính",
    "06:30",
    "X 16/16 0",
    structure=2026,
    commune="Xã Bắc Hà",
)
nat(
    "Xin sửa lại: 10h là 270/320 chứ không phải 280",
    "10:20",
    "T 270/320 10:00",
    before=(("10h 280/320", "10:02"),),
    structure=2026,
    commune="Xã Bắc Hà",
)
nat("15/3 lúc 10h 280/320", "10:05", "T 280/320 10:00", structure=2026, commune="Xã Bắc Hà")
nat("BC 15/3", "10:05", "none", structure=2026, commune="Xã Bắc Hà")
nat(
    "Đặc khu Bạch Long Vĩ KV5: 250/320 9h",
    "09:05",
    "T 250/320 09:00",
    structure=2026,
    commune="Đặc khu Bạch Long Vĩ",
)
nat(
    "Xong 100% lúc 16h",
    "16:05",
    "C 320/320 16:00",
    before=AT16,
    structure=2026,
    commune="Phường Lào Cai",
)
nat(
    "9h 250/320, 10h 285/320",
    "10:05",
    "T 250/320 09:00; T 285/320 10:00",
    structure=2026,
    commune="Phường Lào Cai",
)

# ------------------------------------------------------------------ more shapes seen in groups
nat("Khu vực bỏ phiếu số 05 thôn Na Lốc: 9h có 250/320", "09:05", "T 250/320 09:00")
nat("KVBP số 5 (thôn Bản Lầu): 250/320 lúc 9h", "09:05", "T 250/320 09:00")
nat("KV5-Bản Lầu: 9h 250/320", "09:05", "T 250/320 09:00")
nat("BL05: 250/320 9h", "09:05", "T 250/320 09:00")
nat("Tổ BC số 5: 250/320 9h", "09:05", "T 250/320 09:00")
nat("9h: Số cử tri đã bỏ phiếu 250, tổng số cử tri 320", "09:05", "T 250/320 09:00")
nat("Đến 9h: 250 cử tri đi bầu/tổng 320 cử tri", "09:05", "T 250/320 09:00")
nat("9h - 250/320 - 78,13%", "09:05", "T 250/320 09:00")
nat("Lúc 9h00: 250/320 CT", "09:05", "T 250/320 09:00")
nat("[9h] 250/320", "09:05", "T 250/320 09:00")
nat("*9h: 250/320*", "09:05", "T 250/320 09:00")
nat("9h: 250 / 320 ( 78,1% )", "09:05", "T 250/320 09:00")
nat("9h: 250/320 đạt 78,1 phần trăm", "09:05", "T 250/320 09:00")
nat("10h:280/320(87,5%)", "10:05", "T 280/320 10:00")
nat("10h có 280/320 cử tri đi bầu.Đạt 87,5%", "10:05", "T 280/320 10:00")
nat("Đến 10 giờ 00 phút: 280/320", "10:05", "T 280/320 10:00")
nat("280/320 cử tri đã đi bầu tính đến 10h", "10:05", "T 280/320 10:00")
nat("Tổng số cử tri đi bầu: 250, tổng số cử tri: 320", "09:05", "T 250/320 09:05")
nat(
    "KV5: Kết thúc bỏ phiếu lúc 16 giờ 30 phút, tổng số cử tri đi bầu 318/320 đạt 99,38%",
    "16:35",
    "C 318/320 16:30",
    before=AT9,
)
nat("Đã kết thúc bỏ phiếu 16h30. Tổng số: 318/320", "16:35", "C 318/320 16:30", before=AT9)
nat("Tổ 5 xong rồi nhé anh", "16:35", "C 300/320 16:35", before=AT16)
nat("KV5: XN nhanh cho 16/16 thành viên tổ bầu cử, kết quả 16/16 âm tính", "07:05", "X 16/16 0")
nat("Xét nghiệm COVID-19: 16/16 âm tính", "07:05", "X 16/16 0")
nat("XN SARS-CoV-2: 16/16 âm tính", "07:05", "X 16/16 0")
nat("Test nhanh: 16 người, âm tính cả", "07:05", "X 16/16 0")
nat("Xét nghiệm: 16/16 (Âm tính 16, Dương tính 0)", "07:05", "X 16/16 0")
nat("XN 16/16: 15 âm tính, 1 dương tính", "07:05", "X 16/16 1")
nat("xn 16/16: 14 âm tính, 1 dương tính", "07:05", "ask")  # 14 + 1 is not 16
nat("Sửa: 9h 245/320 (báo nhầm 254)", "09:25", "T 245/320 09:00", before=(("9h 254/320", "09:05"),))
nat("Đính chính: 9h là 245/320", "09:25", "T 245/320 09:00", before=(("9h 254/320", "09:05"),))
nat(
    "Nhầm ạ, 245/320 lúc 9h mới đúng", "09:25", "T 245/320 09:00", before=(("9h 254/320", "09:05"),)
)
nat("11h 290/320 + 12h 300/320", "12:05", "T 290/320 11:00; T 300/320 12:00")
nat("11h: 290; 12h: 300", "12:05", "T 290/320 11:00; T 300/320 12:00")
nat("11h, 12h: 290/320, 300/320", "12:05", "ask")
nat("Bầu cử 2021: 9h 250/320", "09:05", "T 250/320 09:00")
nat("Xong 5 phút trước", "16:35", "ask", before=AT16)
nat("9h 250 lá phiếu", "09:05", "ask")
nat("2:30 PM 305/320", "14:35", "T 305/320 14:30")
nat("18 giờ 10: 316/320", "18:10", "T 316/320 18:10")
nat("6 giờ chiều: 316/320", "18:10", "T 316/320 18:00")
nat("KV5 9h 250/320 KV6 9h 200/306", "09:05", "ask", role="multi")
nat("Khu vực 1, 2, 3 đã xong", "16:05", "ask", role="sup")
nat("KV1: 100/301 9h, KV2: 120/302 9h", "09:05", "T 100/301 09:00; T 120/302 09:00", role="sup")

# ------------------------------------------------------------------ a third probe
nat(
    "Em chào anh chị, KV5 Bản Lầu báo cáo số liệu lúc 9h: 250/320 cử tri đã đi bầu, đạt 78,1%. "
    "Em cảm ơn!",
    "09:05",
    "T 250/320 09:00",
)
nat("9h kv5 có 250 người trên 320 người đạt 78%", "09:05", "T 250/320 09:00")
nat("KV5 9h: CT đi bầu 250; tổng CT 320", "09:05", "T 250/320 09:00")  # "tổng CT 320" asked
nat("9h: 250/320\nKhông có gì bất thường", "09:05", "T 250/320 09:00")
nat("9h: Đã có 250 cử tri đi bầu (trong danh sách 320)", "09:05", "T 250/320 09:00")
nat("9h có 250 cử tri đi bầu trong danh sách 320 cử tri", "09:05", "T 250/320 09:00")
nat("10h30: 280/320, 87.5%", "10:35", "T 280/320 10:30")
nat("10.30 280/320", "10:35", "T 280/320 10:30")
nat("KV5 lúc 10h30 được 280 ng/320 ng", "10:35", "T 280/320 10:30")
nat("10h30 - 280 - 320", "10:35", "ask")
nat("7h30 khai mạc, 7h35 bắt đầu bỏ phiếu", "07:40", "ask")
nat("KV5 kết thúc lúc 16h30 100%", "16:35", "C 320/320 16:30", before=AT9)
nat("16h30 hết cử tri, xong 320/320", "16:35", "C 320/320 16:30", before=AT9)
nat("Kết thúc lúc 16h30, đạt 100% (320/320)", "16:35", "C 320/320 16:30", before=AT9)
nat("kết thúc 16:30 đi bầu 320/320 cử tri, đạt 100 %", "16:35", "C 320/320 16:30", before=AT9)
nat("Kết quả xét nghiệm tổ bầu cử: 16/16 âm tính", "07:05", "X 16/16 0")
nat("XN nhanh 16/16 tv, âm tính hết ạ", "07:05", "X 16/16 0")
nat("16/16 thành viên âm tính với covid", "07:05", "X 16/16 0")
nat("Xét nghiệm covid 16 người âm tính cả 16", "07:05", "X 16/16 0")
nat("XN 16/16 ÂT", "07:05", "X 16/16 0")
nat("Test 16/16 âm", "07:05", "ask")
nat(
    "Sửa lại số liệu 9h là 245/320 (không phải 254/320)",
    "09:25",
    "T 245/320 09:00",
    before=(("9h 254/320", "09:05"),),
)
nat(
    "Xin lỗi báo cáo nhầm. Số đúng 9h: 245/320",
    "09:25",
    "T 245/320 09:00",
    before=(("9h 254/320", "09:05"),),
)
nat("2h: 305/320", "14:05", "T 305/320 14:00")
nat("14g 305/320", "14:05", "T 305/320 14:00")
nat("5h: 315/320", "17:05", "ask")
nat("7h: 318/320", "19:05", "T 318/320 19:00", before=AT9)

nat("KV5 báo cáo:\nTổng số cử tri: 320\nĐã bầu: 250\nLúc 9h", "09:05", "T 250/320 09:00")
nat("Đã bầu: 250\nLúc 9h", "09:05", "T 250/320 09:00")
nat("Còn 70 chưa bầu\n9h", "09:05", "ask")
nat("9h: 250/320 tổng 330", "09:05", "ask")
nat(
    "Tổ 5\nSố cử tri trong danh sách: 320\nSố cử tri đã bầu đến 10h: 280",
    "10:05",
    "T 280/320 10:00",
)

# ------------------------------------------------------------------ unaccented twins
# Chiefs switch between typing with and without diacritics; every natural report above whose
# text has diacritics is also sent without them (same outcome).
_TWINS = [c for c in CASES if c["form"] == "nat" and not c["text"].isascii()][:60]


def _unaccent(text: str) -> str:
    import unicodedata

    out = "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")
    return out.replace("đ", "d").replace("Đ", "D")


for _case in _TWINS:
    _twin = dict(_case)
    _twin["text"] = _unaccent(_case["text"])
    if _twin["text"] != _case["text"] and _twin["text"] not in {c["text"] for c in CASES}:
        CASES.append(_twin)


# ------------------------------------------------------------------ an independent probe
# Written from the contract's rules by someone who had not read the cases above, and run once
# before being added: all came out as the contract says (two expectations first written
# wrong were corrected: `KV05` names area 5 of the commune; `7h` at 18:40 can only be 07:00).
B9 = (("9h 200/320", "09:02"),)
# documented
doc("KV05: 250/320 9h", "09:04", "T 250/320 09:00")  # the area by its number in the commune
doc("270 lúc 9:45", "09:50", "T 270/320 09:45")
doc("Hoàn thành 318/320 lúc 12h30", "12:35", "C 318/320 12:30")
doc("kết thúc 17h 318/320", "17:02", "C 318/320 17:00")
doc("xét nghiệm 15/16 dương tính 1", "06:30", "X 15/16 1")
doc("xn 16/16 dt 0", "06:30", "X 16/16 0")
doc("sửa 245/320 9h", "09:30", "T 245/320 09:00", before=B9)
# natural
nat("Dạ em báo cáo KV 5 lúc 9h30 đã có 240/320 cử tri đi bầu ạ", "09:33", "T 240/320 09:30")
nat(
    "Báo cáo nhanh: tính đến 10 giờ, 260 trên tổng số 320 cử tri đã tham gia bỏ phiếu",
    "10:05",
    "T 260/320 10:00",
)
nat("Tới 10h30 được 270 người / tổng 320", "10:31", "T 270/320 10:30")
nat("Khu vực 5 xã Bản Lầu: 11h 290/320 (90,6%)", "11:02", "T 290/320 11:00")
nat("11h: 290/320 đạt 95%", "11:02", "ask")
nat("đến 11h đạt 91%", "11:03", "ask")
nat("9h rưỡi 230/320", "09:35", "T 230/320 09:30")
nat("2h chiều 305/320 nhé", "14:02", "T 305/320 14:00", before=B9)
nat("3h 305/320", "15:05", "T 305/320 15:00", before=B9)
nat("7h 120/320", "18:40", "T 120/320 07:00")  # 19:00 would be in the future
nat("07h 120/320", "18:40", "T 120/320 07:00")
nat("Xong rồi ạ", "12:40", "C 200/320 12:40", before=B9)
nat("Đã hoàn thành 100% lúc 12h", "12:05", "C 320/320 12:00", before=B9)
nat("xong 100% 318/320", "12:05", "ask", before=B9)
nat("Kết thúc bầu cử lúc 16h30, tổng 320/320", "16:32", "C 320/320 16:30", before=B9)
nat("Em nhầm, 9h là 210/320 chứ không phải 200", "09:20", "T 210/320 09:00", before=B9)
nat("Xin sửa lại: 9h là 195/320", "09:20", "T 195/320 09:00", before=B9)
nat("Test nhanh 16/16 âm tính", "-1 16:00", "X 16/16 0")
nat("XN nhanh 16 thành viên tổ bầu cử đều âm tính", "06:10", "X 16/16 0")
nat("xn 16/16 AT", "06:10", "X 16/16 0")
nat("Tổ 5 đã test 16/16, không có ca dương tính", "06:10", "X 16/16 0")
nat("8h 150/320, 9h 200/320", "09:05", "T 150/320 08:00; T 200/320 09:00")
nat("8h 150/320 - 9h 200/320", "09:05", "T 150/320 08:00; T 200/320 09:00")
nat("Xong lúc 11h45, 320/320", "11:50", "C 320/320 11:45")
nat("Cho hỏi mấy giờ phải báo cáo ạ?", "08:00", "none")
nat("Mưa to nhưng bà con vẫn đi bầu đông\n10h 255/320", "10:03", "T 255/320 10:00")
nat("23/5 lúc 9h 240/320", "09:10", "T 240/320 09:00")
nat("ngày 24/5 9h 240/320", "09:10", "ask")
nat("BC 23/5", "09:10", "none")
nat("9h: -5/320", "09:10", "ask")
nat("còn 70 chưa bầu", "10:10", "ask")
nat("khoảng 250/320 lúc 10h", "10:10", "ask")
nat("10h 1,2 nghìn/2000", "10:10", "ask")
nat("9.30 ct 230/320", "09:35", "T 230/320 09:30")
nat("Lúc 9h30ph có 230/320", "09:35", "T 230/320 09:30")
nat("12h trưa 310/320", "12:02", "T 310/320 12:00")
nat("7 giờ tối 318/320", "19:02", "T 318/320 19:00", before=B9)
nat("9 giờ sáng 200/320", "09:02", "T 200/320 09:00")
nat("KVBP số 5: 9h 200/320", "09:02", "T 200/320 09:00")
nat("Tổ bầu cử số 5 báo cáo 9h có 200/320", "09:02", "T 200/320 09:00")
nat("Kv5: 9h 200/320", "09:02", "T 200/320 09:00")
nat("KV 05: 9h 200/320", "09:02", "T 200/320 09:00")
nat("KV 3 xã Bản Lầu: 9h 200/320", "09:02", "ask")
nat("Khu vực 5 xã Lùng Vai: 9h 200/320", "09:02", "ask")
nat("9h 200 nguoi/320 nguoi", "09:02", "T 200/320 09:00")
nat("cu tri di bau den 9h la 200/320", "09:02", "T 200/320 09:00")
nat("tinh den 9 gio 30 co 230 tren 320 cu tri", "09:35", "T 230/320 09:30")
nat("xong roi", "12:02", "C 200/320 12:02", before=B9)
nat("Kính gửi BCĐ, KV5 10h đạt 260/320 (81,3%) ạ. Trân trọng!", "10:03", "T 260/320 10:00")
nat("10h đạt 260/320 (85%)", "10:03", "ask")
nat("đạt 95 cử tri lúc 7h", "07:05", "T 95/320 07:00")
nat("đạt 85 lúc 7h", "07:05", "ask")
nat("2 cử tri ốm, 9h 200/320", "09:05", "ask")
nat("hai trăm năm mươi trên ba trăm hai mươi lúc 10 giờ", "10:05", "ask")
nat(
    "Khu vực 5: 9h 200/320\nKhu vực 6: 9h 250/306",
    "09:05",
    "T 200/320 09:00; T 250/306 09:00",
    role="multi",
)
nat("9h 200/320", "09:05", "ask", role="multi")
nat("15.3.2026 9h 200/320", "09:05", "T 200/320 09:00", structure=2026, commune="Phường Xuân Hương")
nat(
    "Phường Xuân Hương - KVBP số 5: 250/320 lúc 10h",
    "10:05",
    "T 250/320 10:00",
    structure=2026,
    commune="Phường Xuân Hương",
)
