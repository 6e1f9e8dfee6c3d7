"""Secrets never reach the output: the real `fieldtally run` and `fieldtally status` run as
processes against the sandbox, and everything they print (stdout and stderr) is searched
for the token and the database password."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

from sandbox import BotApiSandbox
from tests.test_cli import clean_env, fieldtally

PASSWORD = "Pw-s3cret-tail"


def output(done: subprocess.CompletedProcess[str]) -> str:
    return done.stdout + done.stderr


async def test_a_rejected_token_is_never_printed(tmp_path: Path) -> None:
    async with BotApiSandbox() as sandbox:
        token = "123456:ThisTokenIsNotKnown_to_the_sandbox"  # Telegram answers 401
        for log_format in ("text", "json"):
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "fieldtally", "run", cwd=tmp_path,
                env=clean_env(tmp_path, TELEGRAM_BOT_TOKEN=token, TELEGRAM_API_URL=sandbox.url,
                              FIELDTALLY_LOG_FORMAT=log_format),
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            )  # fmt: skip
            stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
            everything = (stdout + stderr).decode()
            assert process.returncode == 1
            assert "rejected the bot token" in everything
            assert token not in everything and "ThisTokenIsNotKnown" not in everything
            assert "Traceback" not in everything


def test_an_unencoded_at_in_the_password_stops_with_one_line(tmp_path: Path) -> None:
    url = f"postgresql://fieldtally:p@{PASSWORD}@127.0.0.1:1/ft"
    for command in (["run"], ["status"]):
        done = fieldtally(tmp_path, *command, FIELDTALLY_DB=url, TELEGRAM_BOT_TOKEN="1:abc")
        assert done.returncode == 2
        assert done.stderr.strip().count("\n") == 0  # one line
        assert "FIELDTALLY_DB" in done.stderr and "%40" in done.stderr
        assert PASSWORD not in output(done) and "s3cret" not in output(done)


def test_a_malformed_url_stops_with_one_line(tmp_path: Path) -> None:
    url = f"postgresql://fieldtally:{PASSWORD}@[::1/ft"
    for command in (["run"], ["status"]):
        done = fieldtally(tmp_path, *command, FIELDTALLY_DB=url, TELEGRAM_BOT_TOKEN="1:abc")
        assert done.returncode == 2, output(done)
        assert done.stderr.strip().count("\n") == 0 and "Traceback" not in output(done)
        assert "FIELDTALLY_DB" in done.stderr
        assert PASSWORD not in output(done)


def test_a_missing_database_is_named_by_status(tmp_path: Path, postgres_admin_url: str) -> None:
    server = postgres_admin_url.rsplit("/", 1)[0].replace("fieldtally@", "")
    url = server.replace("postgresql://", f"postgresql://fieldtally:{PASSWORD}@") + "/no_such_db"
    done = fieldtally(tmp_path, "status", FIELDTALLY_DB=url)
    assert done.returncode == 1
    assert 'database "no_such_db" does not exist' in done.stderr
    assert "pool initialization" not in output(done)
    assert PASSWORD not in output(done)
