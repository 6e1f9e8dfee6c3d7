"""The files invitation codes are handed out in: a CSV for programs, an XLSX to print.

CSV: a UTF-8 byte-order mark (Excel on Windows shows the diacritics), the contract's
columns `unit_code,unit_name,phone,invitation_code,bot_link`, phones as stored (`+84…`);
text a spreadsheet would run as a formula is prefixed with `'` (the phone is validated
digits and is written as it is).

XLSX, what a commune prints and hands out: a title, one line of instructions (send
`dk CODE` to the bot; valid until), Vietnamese headers, one row per (unit, phone) with
the unit's code and name, the phone in its national form, the code large in a monospace
font, the bot's link, and a QR code of the link (rendered by `segno` as a PNG anchored in
the row's last cell, the row tall enough for it); a landscape A4 page, fitted to its width,
headers repeated on every page. A row without a link has no QR code.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Sequence
from typing import Any

import segno
from openpyxl import Workbook
from openpyxl.drawing.image import Image as SheetImage
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter

from bot import texts
from bot.registration.invitations import InvitationRow

CSV_COLUMNS = ("unit_code", "unit_name", "phone", "invitation_code", "bot_link")
UTF8_BOM = "\ufeff".encode()
_FORMULA_STARTS = ("=", "+", "-", "@")
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")

# The QR code: error correction M (a printed sheet gets creased), 4 px a module, the
# standard 4-module quiet zone; `qr_png` is what the sheet holds, tests regenerate it.
QR_ERROR = "m"
QR_SCALE = 4
QR_BORDER = 4
HEADER_ROW = 4  # title, instructions, a blank row, then the headers
_COLUMN_WIDTHS = (14, 30, 16, 22, 34, 22)  # characters
_POINTS_PER_PIXEL = 0.75


def _text_cell(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def to_csv(rows: Sequence[InvitationRow]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerows(
        (_text_cell(r.unit_code), _text_cell(r.unit_name), r.phone, r.code, _text_cell(r.bot_link))
        for r in rows
    )
    return UTF8_BOM + buffer.getvalue().encode("utf-8")


def qr_png(link: str) -> bytes:
    """The QR code of `link` as a PNG (black on white)."""
    buffer = io.BytesIO()
    segno.make(link, error=QR_ERROR).save(
        buffer, kind="png", scale=QR_SCALE, border=QR_BORDER, dark="black", light="white"
    )
    return buffer.getvalue()


def national_phone(phone: str) -> str:
    """`+84912345678` as people write it: `0912 345 678` (a landline: `024 3825 1234`)."""
    if not phone.startswith("+84"):
        return phone
    digits = "0" + phone[3:]
    if len(digits) == 10 and digits[1] != "2":
        return f"{digits[:4]} {digits[4:7]} {digits[7:]}"
    return f"{digits[:-8]} {digits[-8:-4]} {digits[-4:]}"


def to_xlsx(rows: Sequence[InvitationRow], unit_label: str, valid_until: dt.date) -> bytes:
    """The printable sheet (see the module's docstring)."""
    workbook = Workbook()
    sheet: Any = workbook.active
    sheet.title = texts.INVITATION_SHEET_NAME
    for index, width in enumerate(_COLUMN_WIDTHS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    last = get_column_letter(len(_COLUMN_WIDTHS))

    sheet["A1"] = _clean(texts.invitation_sheet_title(unit_label))
    sheet["A1"].font = Font(bold=True, size=14)
    sheet["A2"] = _clean(texts.invitation_sheet_instructions(valid_until))
    sheet["A2"].alignment = Alignment(wrap_text=True, vertical="top")
    sheet.merge_cells(f"A2:{last}2")
    sheet.row_dimensions[2].height = 32

    thin = Side(style="thin", color="808080")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    for column, header in enumerate(texts.INVITATION_HEADERS_VI, start=1):
        cell = sheet.cell(row=HEADER_ROW, column=column, value=header)
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.border = box

    middle = Alignment(vertical="center", wrap_text=True)
    code_font = Font(name="Courier New", size=20, bold=True)
    link_font = Font(size=9)
    for offset, row in enumerate(rows, start=1):
        number = HEADER_ROW + offset
        values = (row.unit_code, row.unit_name, national_phone(row.phone), row.code, row.bot_link)
        for column, value in enumerate(values, start=1):
            cell = sheet.cell(row=number, column=column)
            cell.value = _clean(value)
            cell.data_type = "s"  # never a formula, whatever the text starts with
            cell.alignment = middle
            cell.border = box
        sheet.cell(row=number, column=4).font = code_font
        sheet.cell(row=number, column=5).font = link_font
        sheet.cell(row=number, column=6).border = box
        height_px = 40
        if row.bot_link:
            image = SheetImage(io.BytesIO(qr_png(row.bot_link)))
            image.anchor = f"F{number}"
            sheet.add_image(image)
            height_px = int(image.height) + 8
        sheet.row_dimensions[number].height = height_px * _POINTS_PER_PIXEL

    sheet.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    sheet.freeze_panes = f"A{HEADER_ROW + 1}"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = 9  # A4
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0  # as many pages down as it takes
    sheet.page_margins.left = sheet.page_margins.right = 0.4
    sheet.page_margins.top = sheet.page_margins.bottom = 0.5

    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _clean(value: str) -> str:
    """Text an XLSX cell can hold (control characters replaced)."""
    return _NOT_XML.sub("\ufffd", value)
