"""The command line as a newcomer meets it (issue 11 §4): help and version, exports in the
format asked for, no database conjured up by a wrong folder, a status that tells the truth
about every bot's inbox, a units template from the official lists that imports as it is,
and `fieldtally try`, driven through its standard input."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from bot import texts
from bot.messaging.inbox import Inbox
from bot.messaging.marked import plain
from fieldtally.cli import NO_ADMINS_WARNING, _parser
from fieldtally.templates import template_rows
from sandbox import BotApiSandbox
from storage.database import Database
from tests.test_cli import SMALL, clean_env, fieldtally, run_env


def imported(tmp_path: Path, file: Path = SMALL) -> None:
    result = fieldtally(tmp_path, "units", "import", str(file))
    assert result.returncode == 0, result.stdout + result.stderr


# --- help and version -----------------------------------------------------------------------


def test_version(tmp_path: Path) -> None:
    result = fieldtally(tmp_path, "--version")
    assert result.returncode == 0 and result.stdout.strip() == "fieldtally 0.1.0"


def test_every_subcommand_has_a_help_line(tmp_path: Path) -> None:
    def subcommands(parser: object) -> dict[str, object]:
        actions = getattr(parser, "_subparsers")._group_actions  # noqa: B009
        [action] = actions
        helps = {choice.dest: choice.help for choice in action._choices_actions}
        return {name: (helps.get(name), sub) for name, sub in action.choices.items()}

    top = subcommands(_parser())
    assert set(top) == {
        "run", "demo", "try", "units", "ballots", "export", "invites", "backup", "status",
        "dashboard-link",
    }  # fmt: skip
    units = subcommands(top["units"][1])
    assert set(units) == {"import", "template"}
    ballots = subcommands(top["ballots"][1])
    assert set(ballots) == {"import"}
    for name, (help_line, _) in [*top.items(), *units.items(), *ballots.items()]:
        assert help_line, f"{name} has no help line"
    assert "xlsx" in str(units["import"][0]).lower()
    shown = fieldtally(tmp_path, "--help").stdout
    assert all(name in shown for name in top)
    assert "xlsx" in fieldtally(tmp_path, "units", "--help").stdout


# --- export ----------------------------------------------------------------------------------


def test_export_to_an_xlsx_file_writes_xlsx(tmp_path: Path) -> None:
    imported(tmp_path)
    result = fieldtally(tmp_path, "export", "X1", "-o", "x1.xlsx")
    assert result.returncode == 0, result.stderr
    data = (tmp_path / "x1.xlsx").read_bytes()
    assert data[:2] == b"PK"  # a zip, as XLSX is; not CSV text
    sheet = openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]
    values = [[cell for cell in row] for row in sheet.iter_rows(values_only=True)]
    codes = [row[0] for row in values]
    assert "X1" in codes and "KV04" in codes and "KV05" not in codes
    x1 = next(row for row in values if row[0] == "X1")
    assert 3220 in x1  # the commune's voters, a number
    forced = fieldtally(tmp_path, "export", "--format", "xlsx", "-o", "table.dat")
    assert forced.returncode == 0 and (tmp_path / "table.dat").read_bytes()[:2] == b"PK"
    as_csv = fieldtally(tmp_path, "export", "--format", "csv", "-o", "t.xlsx")
    assert as_csv.returncode == 0
    rows = list(csv.DictReader(io.StringIO((tmp_path / "t.xlsx").read_text("utf-8-sig"))))
    assert rows[0]["code"] == "LC"


@pytest.mark.parametrize("command", [["export"], ["export", "-o", "x.xlsx"], ["backup", "b.db"]])
def test_reading_commands_in_a_folder_without_a_database_say_so(
    tmp_path: Path, command: list[str]
) -> None:
    result = fieldtally(tmp_path, *command)
    assert result.returncode != 0
    [line] = result.stderr.strip().splitlines()
    assert "no database file" in line and "cli.db" in line and "units import" in line
    assert result.stdout == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # nothing created


# --- status: the truth about every bot's inbox --------------------------------------------------


async def store_updates(target: Path | str, bot_id: int, update_ids: list[int]) -> None:
    """Updates a bot stored and has not handled yet (it is busy, or stopped)."""
    database = await Database.open(target)
    try:
        events = [(str(u), "{}") for u in update_ids]
        await Inbox(database, f"telegram:{bot_id}").store(events, cursor=str(max(update_ids) + 1))
    finally:
        await database.close()


async def test_status_without_the_busy_bots_token_is_not_ok(
    tmp_path: Path, store_target: str
) -> None:
    db = {"FIELDTALLY_DB": store_target}
    imported = await asyncio.to_thread(fieldtally, tmp_path, "units", "import", str(SMALL), **db)
    assert imported.returncode == 0, imported.stderr
    await store_updates(store_target, 777, [10, 11])
    for env in ({}, {"TELEGRAM_BOT_TOKEN": "555:another-bots-token"}):
        result = await asyncio.to_thread(fieldtally, tmp_path, "status", **db, **env)
        assert result.returncode != 0, (env, result.stdout)
        assert "other bot 777: inbox pending 2" in result.stdout.splitlines()
        [reason] = result.stderr.strip().splitlines()
        assert "bot 777: 2" in reason and "token" in reason
        facts = json.loads(
            (await asyncio.to_thread(fieldtally, tmp_path, "status", "--json", **db, **env)).stdout
        )
        assert facts["ok"] is False and facts["pending_updates"] == 0
        assert facts["other_bots"] == [{"bot_id": 777, "pending_updates": 2}]
    # With the busy bot's own token: its inbox, and a healthy store.
    own = await asyncio.to_thread(
        fieldtally, tmp_path, "status", "--json", **db, TELEGRAM_BOT_TOKEN="777:its-own-token"
    )
    facts = json.loads(own.stdout)
    assert own.returncode == 0 and facts["ok"] is True and facts["pending_updates"] == 2
    assert facts["bot_id"] == 777 and facts["other_bots"] == []


async def test_status_of_a_shared_database_with_a_bots_own_token_is_its_own(
    tmp_path: Path,
) -> None:
    """Where bots share a database, another bot's waiting updates are shown, and a bot that
    has run here is judged on its own inbox."""
    await asyncio.to_thread(imported, tmp_path)
    await store_updates(tmp_path / "cli.db", 777, [10])
    database = await Database.open(tmp_path / "cli.db")  # bot 888 ran here too:
    try:
        inbox = Inbox(database, "telegram:888")
        await inbox.store([("5", "{}")], cursor="6")
        inbox.done("5")  # it handled what it received
        await inbox.flush()
    finally:
        await database.close()
    result = await asyncio.to_thread(
        fieldtally, tmp_path, "status", "--json", TELEGRAM_BOT_TOKEN="888:token"
    )
    facts = json.loads(result.stdout)
    assert facts["ok"] is True and result.returncode == 0, result.stderr
    assert facts["pending_updates"] == 0 and facts["next_update_id"] == 6
    assert facts["other_bots"] == [{"bot_id": 777, "pending_updates": 1}]


# --- units template ----------------------------------------------------------------------------


def test_units_template_of_a_province_imports_as_it_is(tmp_path: Path) -> None:
    result = fieldtally(tmp_path, "units", "template", "15", "-o", "lao_cai.xlsx")
    assert result.returncode == 0, result.stderr
    assert "99 communes" in result.stdout
    sheet = openpyxl.load_workbook(tmp_path / "lao_cai.xlsx").worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:4] == ("code", "parent_code", "kind", "name")
    assert rows[1][:4] == ("15", None, "tỉnh", "Tỉnh Lào Cai")
    assert ("02761", "15", "xã", "Xã Mường Khương") in [r[:4] for r in rows]
    assert ("02761-01", "02761", "khu vực bỏ phiếu") in [r[:3] for r in rows]
    imported(tmp_path, tmp_path / "lao_cai.xlsx")
    exported = fieldtally(tmp_path, "export")
    table = list(csv.DictReader(io.StringIO(exported.stdout.removeprefix("\ufeff"))))
    assert len(table) == 1 + 99 + 99 and table[0]["code"] == "15"
    assert table[0]["areas_total"] == "99"
    communes = [r for r in table if r["parent_code"] == "15"]
    assert all(len(r["code"]) == 5 and r["code"].isdigit() for r in communes)  # official codes


def test_units_template_of_a_commune_as_csv_on_stdout_imports(tmp_path: Path) -> None:
    result = fieldtally(tmp_path, "units", "template", "02761")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("\ufeffcode,")  # a BOM, for Excel
    (tmp_path / "x.csv").write_text(result.stdout, encoding="utf-8")
    imported(tmp_path, tmp_path / "x.csv")
    rows = list(
        csv.DictReader(io.StringIO(fieldtally(tmp_path, "export").stdout.removeprefix("\ufeff")))
    )
    assert [r["code"] for r in rows] == ["02761", "02761-01"]


def test_units_template_follows_the_2026_changes_and_refuses_unknown_codes(
    tmp_path: Path,
) -> None:
    dong_nai = template_rows("75")
    assert dong_nai[0][2:4] == ("thành phố", "Thành phố Đồng Nai")
    assert ("25270", "75", "phường", "Phường Lộc Ninh") in [row[:4] for row in dong_nai]
    result = fieldtally(tmp_path, "units", "template", "99")
    assert result.returncode != 0 and "'99'" in result.stderr


# --- run and try ------------------------------------------------------------------------------


async def test_run_warns_when_there_is_no_admin(tmp_path: Path) -> None:
    async with BotApiSandbox() as sandbox:
        token = sandbox.create_bot()
        env = run_env(tmp_path, sandbox, token)
        del env["FIELDTALLY_ADMINS"]
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "fieldtally", "run", cwd=tmp_path, env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:
            user = sandbox.make_user(4242, "Người cài đặt")
            sandbox.send_text(token, user, "/start")
            [pitch] = await sandbox.wait_for(token, 1, chat_id=user.id, timeout=30)
        finally:
            process.send_signal(signal.SIGTERM)
            _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    assert NO_ADMINS_WARNING in stderr.decode()
    # the identity to put in FIELDTALLY_ADMINS, as it is to be written there
    assert pitch.text is not None and "<code>telegram:4242</code>" in pitch.text


SCRIPT = """\
/as chief 02752-01
ct 100/275
/start
/as supervisor 02752
/tonghop
/nhacnho
/as admin
/file small.csv
/xuat 02752 xlsx
/as chief 02752-01
/time 10:00
/edit ct 120/275
/as group H1
/theodoi 02752
/as supervisor 02752
/as group H1
/theodoi 02752
/quit
"""


def test_try_plays_several_people_from_standard_input(tmp_path: Path) -> None:
    (tmp_path / "small.csv").write_bytes(SMALL.read_bytes())
    result = subprocess.run(
        [sys.executable, "-m", "fieldtally", "try", "--at", "09:30", "--output", "out"],
        cwd=tmp_path, env=clean_env(tmp_path), input=SCRIPT, capture_output=True, text=True,
        timeout=180,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    blocks = out.split("» ")  # one block per line sent: what was said, then every answer

    def answers_to(said: str) -> str:
        [block] = [b for b in blocks if b.split("\n", 1)[0].endswith(said)]
        return block

    assert "« ✅ Đã nhập danh sách: 157 đơn vị" in answers_to("/nhap")
    registration = answers_to("chief 02752-01: [shares own contact +84912001000]")
    assert "« ✅ Đăng ký thành công" in registration and "(02752-01)" in registration
    assert "« ✅ Đã lưu" in answers_to("ct 100/275") and "100/275" in answers_to("ct 100/275")
    assert "đã đăng ký" in answers_to("chief 02752-01: /start")
    supervisor = answers_to("supervisor 02752: [shares own contact +84912000752]")
    assert "Cán bộ giám sát" in supervisor and "/chuabaocao" in supervisor
    summary = answers_to("supervisor 02752: /tonghop")
    assert "« 📊 Xã Pha Long (02752)" in summary and "100/2.489" in summary
    charts = [line.split("[chart] ", 1)[1] for line in summary.splitlines() if "[chart]" in line]
    assert len(charts) == 2
    assert all((tmp_path / c).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for c in charts)
    assert "Không có ai để nhắc" in answers_to("supervisor 02752: /nhacnho")
    [export] = [
        line.split("[file] ", 1)[1]
        for line in answers_to("/xuat 02752 xlsx").splitlines()
        if "[file]" in line
    ]
    assert export.endswith(".xlsx") and (tmp_path / export).read_bytes()[:2] == b"PK"
    assert "/nhap" in answers_to("admin: [file small.csv]").split("« ❌", 1)[1]  # no caption
    edited = answers_to("[10:00] chief 02752-01: [edits the last message] ct 120/275")
    assert "« ✅" in edited and "120/275" in edited
    refused = answers_to("chief 02752-01 in group H1: /theodoi 02752")  # a chief may not
    assert "« ❌" in refused and "cán bộ giám sát" in refused
    assert "« ✅ Nhóm đã theo dõi" in answers_to("supervisor 02752 in group H1: /theodoi 02752")
    assert "<b>" not in out and "<code>" not in out  # rendered for a terminal
    assert plain(texts.HELP) not in out  # the barrier is not shown
    assert os.path.isdir(tmp_path / "out")
