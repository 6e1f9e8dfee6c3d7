"""`fieldtally invites` (issue 15 §2): the CSV with exactly the contract's columns, and the XLSX a
commune prints, whose QR codes are the bot's link (no QR decoder is installed here: each image
is read back module by module and compared with the symbol `segno` makes of the link).
Real processes on a real SQLite file; the codes written work for registering.
"""

from __future__ import annotations

import asyncio
import csv
import io
from pathlib import Path

import openpyxl
import pytest
import segno
from PIL import Image as PilImage

from bot import texts
from bot.core import Core
from bot.messaging.answers import Status
from bot.registration.invitation_files import (
    CSV_COLUMNS,
    HEADER_ROW,
    QR_BORDER,
    QR_ERROR,
    QR_SCALE,
    national_phone,
)
from bot.registration.invitations import read_code
from bot.settings import Settings
from handlers.directory import load_directory
from handlers.memory import MemoryChannel
from tests.harness import ADMIN_ID, DATA, ELECTION_DAY, at
from tests.test_cli import fieldtally

TOKEN = "3141592653589793:Zalo-secret-token_value"
LINK = "https://zalo.me/3141592653589793"
PAIRS = 7  # (unit, phone) pairs of the small tree: KV03 and KV04 share a phone


@pytest.fixture
def imported(tmp_path: Path) -> Path:
    done = fieldtally(tmp_path, "units", "import", str(DATA / "small_tree.csv"))
    assert done.returncode == 0, done.stderr
    return tmp_path


def read_csv(data: bytes) -> tuple[list[str], list[dict[str, str]]]:
    assert data.startswith(b"\xef\xbb\xbf")  # Excel on Windows reads the diacritics
    reader = csv.DictReader(io.StringIO(data.decode("utf-8-sig")))
    rows = list(reader)
    return list(reader.fieldnames or []), rows


def test_the_csv_has_exactly_the_contracts_columns(imported: Path) -> None:
    done = fieldtally(imported, "invites", "X1", "-o", "codes.csv", ZALO_BOT_TOKEN=TOKEN)
    assert done.returncode == 0, done.stderr
    header, rows = read_csv((imported / "codes.csv").read_bytes())
    assert header == list(CSV_COLUMNS) == [
        "unit_code", "unit_name", "phone", "invitation_code", "bot_link",
    ]  # fmt: skip
    assert [(r["unit_code"], r["phone"]) for r in rows] == [
        ("X1", "+84912000002"), ("KV01", "+84912345001"), ("KV02", "+84912345002"),
        ("KV03", "+84912345003"), ("KV04", "+84912345003"),
    ]  # fmt: skip
    assert rows[1]["unit_name"] == "Khu vực bỏ phiếu số 1 – Pha Long"
    assert all(read_code(r["invitation_code"]) == r["invitation_code"] for r in rows)
    assert {r["bot_link"] for r in rows} == {LINK}
    # the codes are in the file only: not in what the command prints, nor the token
    for row in rows:
        assert row["invitation_code"] not in done.stderr + done.stdout
    assert TOKEN not in done.stderr + done.stdout


def test_without_a_zalo_bot_the_link_is_empty_and_stdout_gets_the_csv(imported: Path) -> None:
    done = fieldtally(imported, "invites")
    assert done.returncode == 0, done.stderr
    _, rows = read_csv(done.stdout.encode("utf-8"))
    assert len(rows) == PAIRS and {r["bot_link"] for r in rows} == {""}


def module_matrix(png: bytes, modules: int) -> list[list[int]]:
    """The QR symbol a PNG shows, read at the centre of each module (1: dark)."""
    picture = PilImage.open(io.BytesIO(png)).convert("L")
    side = (modules + 2 * QR_BORDER) * QR_SCALE
    assert picture.size == (side, side)

    def dark(x: int, y: int) -> int:
        middle = QR_SCALE // 2
        value = picture.getpixel(
            ((QR_BORDER + x) * QR_SCALE + middle, (QR_BORDER + y) * QR_SCALE + middle)
        )
        assert isinstance(value, int)
        return int(value < 128)

    return [[dark(x, y) for x in range(modules)] for y in range(modules)]


def test_the_printable_sheet_with_a_qr_code_of_the_link_per_row(imported: Path) -> None:
    done = fieldtally(imported, "invites", "-o", "codes.xlsx", ZALO_BOT_TOKEN=TOKEN)
    assert done.returncode == 0, done.stderr
    book = openpyxl.load_workbook(imported / "codes.xlsx")
    sheet = book.active
    assert sheet is not None
    assert sheet["A1"].value == texts.invitation_sheet_title("Tỉnh Lào Cai (LC)")
    headers = [sheet.cell(HEADER_ROW, c).value for c in range(1, 7)]
    assert tuple(headers) == texts.INVITATION_HEADERS_VI
    rows = list(sheet.iter_rows(min_row=HEADER_ROW + 1, max_col=5, values_only=True))
    assert len(rows) == PAIRS
    assert rows[0][:3] == ("MK", "Huyện Mường Khương", "0912 000 001")
    assert all(read_code(str(row[3])) == row[3] and row[4] == LINK for row in rows)
    code_cell = sheet.cell(HEADER_ROW + 1, 4)
    assert code_cell.font.name == "Courier New" and code_cell.font.sz >= 16  # large, monospace
    # printed: landscape, one page wide, the headers on every page
    assert sheet.page_setup.orientation == "landscape"
    assert sheet.sheet_properties.pageSetUpPr.fitToPage and sheet.page_setup.fitToWidth == 1
    assert sheet.print_title_rows == f"${HEADER_ROW}:${HEADER_ROW}"
    # one QR image per row, in the row's last column, the row tall enough for it
    images = sheet._images  # openpyxl keeps the sheet's pictures here
    assert sorted(image.anchor._from.row + 1 for image in images) == [
        HEADER_ROW + i for i in range(1, PAIRS + 1)
    ]
    expected = segno.make(LINK, error=QR_ERROR)
    want = [list(row) for row in expected.matrix]
    for image in images:
        assert image.anchor._from.col == 5  # column F
        row = image.anchor._from.row + 1
        assert sheet.row_dimensions[row].height >= image.height * 0.75
        assert module_matrix(image._data(), len(want)) == want, row


def test_the_codes_written_register_and_a_new_run_revokes_them(imported: Path) -> None:
    first = fieldtally(imported, "invites", "KV01", "-o", "a.csv")
    assert first.returncode == 0, first.stderr
    [row] = read_csv((imported / "a.csv").read_bytes())[1]
    second = fieldtally(imported, "invites", "KV01", "-o", "b.csv")
    assert second.returncode == 0, second.stderr
    [new] = read_csv((imported / "b.csv").read_bytes())[1]

    async def register() -> tuple[str | None, str | None]:
        settings = Settings(
            _env_file=None,
            FIELDTALLY_DB=str(imported / "cli.db"),
            FIELDTALLY_ADMINS=f"memory:{ADMIN_ID}",
            FIELDTALLY_ELECTION_DATE=ELECTION_DAY.isoformat(),
        )
        core = await Core.open(settings, chart_workers=0, clock=lambda: at(8, 0))
        try:
            channel = MemoryChannel(core)
            old = await channel.say(401, f"dk {row['invitation_code']}")
            fresh = await channel.say(401, f"dk {new['invitation_code']}")
            assert fresh.status is Status.ACCEPTED, fresh
            return old.reason, fresh.reason
        finally:
            await core.close()

    assert asyncio.run(register()) == ("invitation_expired", None)


def test_a_malformed_zalo_token_stops_with_one_line_naming_it(imported: Path) -> None:
    done = fieldtally(imported, "invites", ZALO_BOT_TOKEN="not-a-token-SECRETVALUE")
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "ZALO_BOT_TOKEN" in done.stderr
    assert "SECRETVALUE" not in done.stderr + done.stdout


def test_without_a_database_it_says_so(tmp_path: Path) -> None:
    done = fieldtally(tmp_path, "invites")
    assert done.returncode == 1 and "no database file" in done.stderr
    assert not (tmp_path / "cli.db").exists()


def test_the_directory_of_one_zalo_bot() -> None:
    settings = Settings(_env_file=None)
    [entry] = load_directory(settings, ZALO_BOT_TOKEN=TOKEN, _env_file=None)
    assert (entry.bot, entry.channel, entry.unit_code, entry.link) == (
        "zalo:3141592653589793", "zalo", None, LINK,
    )  # fmt: skip
    assert len(load_directory(settings, ZALO_BOT_TOKEN="", _env_file=None)) == 0


@pytest.mark.parametrize(
    ("stored", "shown"),
    [("+84912345678", "0912 345 678"), ("+842438251234", "024 3825 1234")],
)
def test_phones_are_printed_as_people_write_them(stored: str, shown: str) -> None:
    assert national_phone(stored) == shown
