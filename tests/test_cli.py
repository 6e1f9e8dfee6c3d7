"""The `fieldtally` command as an operator runs it: settings, import/export, and a real run."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import json
import logging
import os
import signal
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.messaging.inbox import Inbox
from fieldtally.logs import setup_logging
from handlers.telegram.identity import bot_name
from sandbox import BotApiSandbox
from storage.database import Database
from storage.schema import SCHEMA_VERSION, SQLITE_MIGRATIONS
from tests.harness import ADMIN_ID, DATA, PATIENCE, SAMPLE, BotRun, at

SMALL = DATA / "small_tree.csv"


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FIELDTALLY_", "TELEGRAM_"))}
    env.update({"FIELDTALLY_DB": str(tmp_path / "cli.db"), "PYTHONUNBUFFERED": "1"})
    env.update(extra)
    return env


def run_env(tmp_path: Path, sandbox: BotApiSandbox, token: str) -> dict[str, str]:
    """The environment of a real `fieldtally run` against the sandbox."""
    return clean_env(
        tmp_path,
        TELEGRAM_BOT_TOKEN=token,
        TELEGRAM_API_URL=sandbox.url,
        FIELDTALLY_ADMINS=str(ADMIN_ID),
        FIELDTALLY_ELECTION_DATE="2021-05-23",
        FIELDTALLY_SCHEDULE="",  # no summary pushes on the wall clock mid-test
    )


def fieldtally(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fieldtally", *args],
        cwd=tmp_path,  # no stray .env from the developer's checkout
        env=clean_env(tmp_path, **env),
        capture_output=True,
        text=True,
        timeout=PATIENCE,
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("FIELDTALLY_TZ", "Mars/Olympus"),
        ("FIELDTALLY_ELECTION_DATE", "23/05/2021"),
        ("FIELDTALLY_ADMINS", "12,abc"),
        ("FIELDTALLY_ADMINS", "12,sms:0123"),  # an SMS identity must be a phone number
        ("FIELDTALLY_ADMINS", "12,:7"),
        ("FIELDTALLY_SCHEDULE", "9h,11h"),
        ("FIELDTALLY_SUMMARY_EVERY", "soon"),
        ("TELEGRAM_API_URL", "api.telegram.org"),
        ("TELEGRAM_BOT_TOKEN", "not-a-token-SECRETVALUE"),
    ],
)
def test_bad_setting_stops_the_start_with_one_line(tmp_path: Path, name: str, value: str) -> None:
    result = fieldtally(tmp_path, "run", **{name: value})
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and name in lines[0], result.stderr
    assert "SECRETVALUE" not in result.stderr + result.stdout


def test_run_without_token_names_the_setting(tmp_path: Path) -> None:
    result = fieldtally(tmp_path, "run")
    assert result.returncode != 0 and "TELEGRAM_BOT_TOKEN" in result.stderr


def test_units_import_and_export_on_the_server(tmp_path: Path) -> None:
    imported = fieldtally(tmp_path, "units", "import", str(SAMPLE))
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.startswith("✅") and "139 khu vực" in imported.stdout
    exported = fieldtally(tmp_path, "export")
    assert exported.returncode == 0, exported.stderr
    assert exported.stdout.startswith("\ufeffcode,")  # the BOM Excel needs for the diacritics
    rows = list(csv.DictReader(io.StringIO(exported.stdout.removeprefix("\ufeff"))))
    assert len(rows) == 157 and rows[0]["code"] == "LC"
    assert rows[0]["registered_voters"] == "38851" and rows[0]["areas_total"] == "139"
    commune = fieldtally(tmp_path, "export", "02752")
    rows = list(csv.DictReader(io.StringIO(commune.stdout.removeprefix("\ufeff"))))
    assert [r["code"] for r in rows] == ["02752", *(f"02752-{n:02d}" for n in range(1, 10))]
    missing = fieldtally(tmp_path, "export", "NOPE")
    assert missing.returncode != 0 and "NOPE" in missing.stderr


def test_units_import_refuses_a_bad_file_and_changes_nothing(tmp_path: Path) -> None:
    assert fieldtally(tmp_path, "units", "import", str(SMALL)).returncode == 0
    bad = tmp_path / "bad.csv"
    bad.write_text("code,parent_code,kind,name,registered_voters\nA,,tỉnh,A,\nB,Z,kv,B,x\n")
    result = fieldtally(tmp_path, "units", "import", str(bad))
    assert result.returncode != 0
    assert result.stdout.startswith("❌") and "dòng 3" in result.stdout
    exported = fieldtally(tmp_path, "export").stdout.removeprefix("\ufeff")
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert len(rows) == 9


@pytest.mark.parametrize("log_format", ["text", "json"])
async def test_token_never_appears_in_the_logs_of_a_full_run(
    tmp_path: Path, log_format: str
) -> None:
    async with BotApiSandbox() as sandbox:
        token = sandbox.create_bot()
        env = {**run_env(tmp_path, sandbox, token), "FIELDTALLY_LOG_FORMAT": log_format}
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "fieldtally",
            "run",
            cwd=tmp_path,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            admin = sandbox.make_user(ADMIN_ID, "Quản trị")
            chief = sandbox.make_user(101, "Lan")
            sandbox.send_document(token, admin, "units.csv", SMALL.read_bytes(), caption="/nhap")
            await sandbox.wait_for(token, 1, chat_id=ADMIN_ID, timeout=PATIENCE)
            sandbox.send_contact(token, chief, "0912345001")
            sandbox.send_text(token, chief, "250/320 9h", date=at(20))
            # A failing getUpdates makes the library log an error naming the request.
            sandbox.inject_faults("getUpdates", 502, count=1)
            sandbox.send_text(token, chief, "xn 16/16 am tinh", date=at(20))
            replies = await sandbox.wait_for(token, 3, chat_id=chief.id, timeout=PATIENCE)
            assert [r.text[0] for r in replies if r.text] == ["✅", "✅", "✅"]
        finally:
            process.send_signal(signal.SIGTERM)
            stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=PATIENCE)
    logs = stdout.decode() + stderr.decode()
    assert process.returncode == 0, logs
    assert "Application started" in logs  # the logs were captured: the check can fail
    assert "getUpdates" in logs or "502" in logs or "Bad Gateway" in logs, logs
    secret = token.split(":", 1)[1]
    assert token not in logs and secret not in logs
    if log_format == "json":  # every line an object, with the fields a collector expects
        records = [json.loads(line) for line in stderr.decode().splitlines()]
        assert all({"ts", "level", "logger", "message"} <= r.keys() for r in records)
        assert any(r["message"] == "Application started" for r in records)


def test_a_corrupt_database_is_refused_with_one_clear_line(tmp_path: Path) -> None:
    (tmp_path / "cli.db").write_bytes(b"this is not a database" * 100)
    result = fieldtally(tmp_path, "export")
    assert result.returncode != 0
    [line] = result.stderr.strip().splitlines()
    assert "cannot use the database" in line and "cli.db" in line


def test_a_newer_database_is_refused(tmp_path: Path) -> None:
    assert fieldtally(tmp_path, "units", "import", str(SMALL)).returncode == 0
    with sqlite3.connect(tmp_path / "cli.db") as db:
        db.execute("PRAGMA user_version = 999")
    result = fieldtally(tmp_path, "export")
    assert result.returncode != 0 and "newer" in result.stderr


async def test_backup_while_the_bot_runs(bot: BotRun, tmp_path: Path) -> None:
    await bot.import_units(SMALL.read_bytes())
    chief = bot.user(101)
    await bot.share_contact(chief, "0912345001")
    assert (await bot.texts_of(chief, "250/320 9h"))[0].startswith("✅")
    target = tmp_path / "backups" / "copy.db"
    env = {"FIELDTALLY_DB": str(bot.db_path)}
    result = await asyncio.to_thread(fieldtally, tmp_path, "backup", str(target), **env)
    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    with sqlite3.connect(target) as copy:
        assert copy.execute("SELECT voted FROM reports").fetchall() == [(250,)]
    assert (await bot.texts_of(chief, "260/320 10h"))[0].startswith("✅")  # still running


# --- status ---------------------------------------------------------------------------------


def status(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return fieldtally(tmp_path, "status", *args, **env)


def test_status_of_a_new_database(tmp_path: Path) -> None:
    assert fieldtally(tmp_path, "units", "import", str(SMALL)).returncode == 0
    result = status(tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "database: reachable (sqlite)",
        f"schema version: {SCHEMA_VERSION} (current)",
        "inbox pending: 0",
        "next update id: 0",
        "last update handled: never",
    ]
    as_json = status(tmp_path, "--json")
    assert as_json.returncode == 0
    assert json.loads(as_json.stdout) == {
        "ok": True,
        "reason": None,
        "backend": "sqlite",
        "reachable": True,
        "schema_version": SCHEMA_VERSION,
        "expected_schema_version": SCHEMA_VERSION,
        "pending_updates": 0,
        "next_update_id": 0,
        "last_handled_at": None,
        "time_zone": "Asia/Ho_Chi_Minh",
        "bot_id": 0,  # no token: the command line's own
        "other_bots": [],
        # No bot runs here: nothing to say of its storage state.
        "bot_running": False,
        "degraded": None,
        "degraded_since": None,
        "fault": None,
    }


async def test_status_shows_the_inbox_of_a_bot(bot: BotRun, tmp_path: Path) -> None:
    await bot.import_units(SMALL.read_bytes())
    handled = bot.sandbox.history(bot.token)[-1]["update_id"]
    await bot.stop()
    env = {"FIELDTALLY_DB": str(bot.db_path), "TELEGRAM_BOT_TOKEN": bot.token}
    after_run = json.loads((await asyncio.to_thread(status, tmp_path, "--json", **env)).stdout)
    assert after_run["pending_updates"] == 0 and after_run["next_update_id"] == handled + 1
    last = dt.datetime.fromisoformat(after_run["last_handled_at"])
    assert last.utcoffset() == dt.timedelta(hours=7)  # shown in FIELDTALLY_TZ
    assert abs((dt.datetime.now(dt.UTC) - last).total_seconds()) < 600
    # Two updates stored by a bot that then stopped before handling them:
    database = await Database.open(bot.db_path)
    assert bot.telegram is not None
    try:
        events = [(str(handled + 1), "{}"), (str(handled + 2), "{}")]
        await Inbox(database, bot_name(bot.telegram.bot_id)).store(events, cursor=str(handled + 3))
    finally:
        await database.close()
    result = await asyncio.to_thread(status, tmp_path, **env)
    assert result.returncode == 0, result.stderr
    assert "inbox pending: 2" in result.stdout.splitlines()
    assert f"next update id: {handled + 3}" in result.stdout.splitlines()
    assert "(Asia/Ho_Chi_Minh)" in result.stdout


def test_status_of_a_missing_database_fails_without_creating_it(tmp_path: Path) -> None:
    result = status(tmp_path)
    assert result.returncode != 0
    assert result.stdout.splitlines() == ["database: unreachable (sqlite)"]
    [reason] = result.stderr.strip().splitlines()
    assert "no database file" in reason and "cli.db" in reason
    assert not (tmp_path / "cli.db").exists()
    as_json = json.loads(status(tmp_path, "--json").stdout)
    assert as_json["ok"] is False and as_json["reachable"] is False
    assert "no database file" in as_json["reason"]


def test_status_of_a_newer_database_fails(tmp_path: Path) -> None:
    assert fieldtally(tmp_path, "units", "import", str(SMALL)).returncode == 0
    with sqlite3.connect(tmp_path / "cli.db") as db:
        db.execute("PRAGMA user_version = 999")
    result = status(tmp_path)
    assert result.returncode != 0
    [reason] = result.stderr.strip().splitlines()
    assert "newer" in reason


def test_status_reports_an_older_database_without_upgrading_it(tmp_path: Path) -> None:
    path = tmp_path / "cli.db"
    with sqlite3.connect(path) as db:
        for migration in SQLITE_MIGRATIONS[:4]:
            db.executescript(migration)
        db.execute("PRAGMA user_version = 4")
    result = status(tmp_path)
    assert result.returncode != 0
    [reason] = result.stderr.strip().splitlines()
    assert "older" in reason and "fieldtally run" in reason
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 4  # left as it was


def test_backup_of_a_postgresql_database_points_to_pg_dump(
    tmp_path: Path, postgres_url: str
) -> None:
    result = fieldtally(tmp_path, "backup", str(tmp_path / "b.db"), FIELDTALLY_DB=postgres_url)
    assert result.returncode != 0
    [reason] = result.stderr.strip().splitlines()
    assert "pg_dump" in reason
    assert not (tmp_path / "b.db").exists()


# --- log format -----------------------------------------------------------------------------


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


TOKEN = "123456:AAsecret-TOKEN_value"


@pytest.mark.usefixtures("restore_logging")
def test_json_logs_are_one_object_per_line_and_never_show_the_token() -> None:
    stream = io.StringIO()
    setup_logging(secrets=[TOKEN], json_lines=True, stream=stream)
    log = logging.getLogger("fieldtally.test")
    log.info("calling %s/bot%s/getMe", "https://api.telegram.org", TOKEN)
    try:
        raise RuntimeError(f"request to /bot{TOKEN}/sendMessage failed")
    except RuntimeError:
        log.exception("sending failed", extra={"chat_id": 42, "url": f"/bot{TOKEN}/x"})
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert first["level"] == "INFO" and first["logger"] == "fieldtally.test"
    assert first["message"] == "calling https://api.telegram.org/bot<token>/getMe"
    assert dt.datetime.fromisoformat(first["ts"]).utcoffset() == dt.timedelta(0)
    assert second["level"] == "ERROR" and second["message"] == "sending failed"
    assert "RuntimeError: request to /bot<token>/sendMessage failed" in second["exception"]
    assert second["chat_id"] == 42 and second["url"] == "/bot<token>/x"
    assert TOKEN not in stream.getvalue() and "AAsecret" not in stream.getvalue()


@pytest.mark.usefixtures("restore_logging")
def test_text_logs_stay_one_line_per_record_and_redacted() -> None:
    stream = io.StringIO()
    setup_logging(secrets=[TOKEN], stream=stream)
    logging.getLogger("fieldtally.test").warning("token %s", TOKEN, extra={"x": TOKEN})
    [line] = stream.getvalue().splitlines()
    assert line.endswith("WARNING fieldtally.test: token <token>")
