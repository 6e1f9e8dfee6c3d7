"""deploy/: what an IT officer installs, checked on a machine without Docker or a running systemd.

The Dockerfile is linted with hadolint, the compose file validated against the compose-spec
schema (both from the dev extra), `.env.example` is held to `bot.settings.Settings`, the systemd
units go through `systemd-analyze verify` and the nginx snippet through `nginx -t` and a real
proxied request — those two only where the tools are installed.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import re
import shlex
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar, NamedTuple

import pytest

from bot.registration.identities import Admins
from bot.settings import DEFAULT_HTTP_PORT, DEFAULT_SCHEDULE, Settings, SettingsError, load_settings
from fieldtally import cli
from handlers.sms.settings import SmsSettings, load_sms_settings
from handlers.telegram.settings import TelegramSettings, load_telegram_settings
from handlers.zalo.settings import ZaloSettings

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
VENV_BIN = Path(sys.executable).parent
STATE = "/var/lib/fieldtally"
INSTALLED_CLI = "/opt/fieldtally/.venv/bin/fieldtally"
# Read by docker compose (deploy/.env doubles as its variables file), not by the bot.
COMPOSE_ONLY = {"POSTGRES_PASSWORD"}
# The core's settings and the channels', read from the same environment.
ALIASES = {
    field.alias or name: (kind, name)
    for kind in (Settings, TelegramSettings, ZaloSettings, SmsSettings)
    for name, field in kind.model_fields.items()
}
UNITS = ("fieldtally.service", "fieldtally@.service", "fieldtally-backup.service")
# A value every reader of an env file (systemd, docker, python-dotenv, sh) reads the same way.
PLAIN_VALUE = re.compile(r"[A-Za-z0-9_.,:/@+=%-]*")


def tool(name: str) -> str:
    """A linter from the dev extra: next to this Python first, then on PATH."""
    found = shutil.which(name, path=str(VENV_BIN)) or shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is missing: pip install -e '.[dev]' installs it")
    return found


def run(*args: str, cwd: Path | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, cwd=cwd, env={**os.environ, **env}, capture_output=True, text=True, timeout=120
    )


# -- Dockerfile ------------------------------------------------------------------------------


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of deploy/Dockerfile, continuation lines joined."""
    text = re.sub(r"\\\n", " ", (DEPLOY / "Dockerfile").read_text(encoding="utf-8"))
    result = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            result.append((keyword.upper(), " ".join(rest.split())))
    return result


def test_dockerfile_passes_hadolint(tmp_path: Path) -> None:
    # In an empty directory with its own XDG config: no stray .hadolint.yaml applies.
    result = run(
        tool("hadolint"), "--no-color", "--format", "json", str(DEPLOY / "Dockerfile"),
        cwd=tmp_path, XDG_CONFIG_HOME=str(tmp_path),
    )  # fmt: skip
    assert result.stdout.strip(), result.stderr
    findings = json.loads(result.stdout)
    serious = [f for f in findings if f["level"] in ("error", "warning")]
    assert not serious, "\n".join(
        f"Dockerfile:{f['line']} {f['code']} {f['level']}: {f['message']}" for f in serious
    )


def test_dockerfile_contract() -> None:
    instructions = dockerfile_instructions()
    by_keyword: dict[str, list[str]] = {}
    for keyword, args in instructions:
        by_keyword.setdefault(keyword, []).append(args)
    froms = by_keyword["FROM"]
    assert all(f.startswith("python:3.11-slim") for f in froms), froms
    # The last stage is what runs: an unprivileged user, the state volume, the healthcheck.
    final = instructions[max(i for i, (k, _) in enumerate(instructions) if k == "FROM") :]
    users = [args for keyword, args in final if keyword == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0"), users
    assert ("VOLUME", STATE) in final
    env = " ".join(args for keyword, args in final if keyword == "ENV")
    assert f"FIELDTALLY_DB={STATE}/fieldtally.db" in env.split()
    assert ("CMD", '["fieldtally", "run"]') in final
    healthchecks = [args for keyword, args in final if keyword == "HEALTHCHECK"]
    assert len(healthchecks) == 1 and healthchecks[0].endswith('CMD ["fieldtally", "status"]')
    exposed = {int(p) for args in by_keyword["EXPOSE"] for p in args.split()}
    assert exposed == {DEFAULT_HTTP_PORT}  # the one HTTP server: webhook, /metrics, /healthz
    installs = [args for keyword, args in instructions if keyword == "RUN" and "pip" in args]
    assert installs and not any("[dev]" in args or " -e " in args for args in installs)


def dockerignore_excludes(path: str, patterns: list[str]) -> bool:
    """Docker's .dockerignore matching (context-relative, `**` any depth, `!` re-includes),
    applied to the path and each of its parent directories."""
    excluded = False
    for raw in patterns:
        negate = raw.startswith("!")
        pattern = raw[1:] if negate else raw
        pattern = pattern.strip("/")
        regex = ""
        i = 0
        while i < len(pattern):
            if pattern.startswith("**/", i):
                regex, i = regex + "(?:.*/)?", i + 3
            elif pattern.startswith("**", i):
                regex, i = regex + ".*", i + 2
            elif pattern[i] == "*":
                regex, i = regex + "[^/]*", i + 1
            elif pattern[i] == "?":
                regex, i = regex + "[^/]", i + 1
            elif pattern[i] == "[":
                end = pattern.index("]", i)
                regex, i = regex + pattern[i : end + 1], end + 1
            else:
                regex, i = regex + re.escape(pattern[i]), i + 1
        parts = path.split("/")
        prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
        if any(re.fullmatch(regex, prefix) for prefix in prefixes):
            excluded = not negate
    return excluded


def test_dockerignore_keeps_what_the_build_needs() -> None:
    lines = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    patterns = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    packages = ("bot", "handlers", "storage", "sandbox", "fieldtally")
    sources = [
        path.relative_to(ROOT).as_posix()
        for package in packages
        for path in (ROOT / package).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    ]
    needed = ["pyproject.toml", "README.md", *sources]
    assert len(needed) > 20
    lost = [p for p in needed if dockerignore_excludes(p, patterns)]
    assert not lost, f".dockerignore drops files the image needs: {lost}"
    for unwanted in (
        ".venv/bin/python", ".git/HEAD", "demo-output/transcript.txt", "data/fieldtally.db",
        "bot/__pycache__/core.cpython-311.pyc", ".mypy_cache/x", ".pytest_cache/x",
        ".ruff_cache/x", "tests/test_cli.py", "deploy/.env", ".env",
    ):  # fmt: skip
        assert dockerignore_excludes(unwanted, patterns), unwanted


# -- compose ---------------------------------------------------------------------------------


def test_compose_file_matches_the_compose_spec_schema() -> None:
    # check-jsonschema ships the compose-spec schema: no network needed.
    result = run(
        tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec",
        str(DEPLOY / "compose.yaml"),
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def interpolate(value: str, variables: dict[str, str]) -> str:
    """Compose's ${NAME}, ${NAME:?message} and ${NAME:-default}."""

    def one(match: re.Match[str]) -> str:
        name, op, arg = match[1], match[2] or "", match[3] or ""
        if variables.get(name):
            return variables[name]
        assert op != ":?", f"compose would stop: {arg}"
        return arg if op == ":-" else ""

    return re.sub(r"\$\{(\w+)(?:(:[?-])([^}]*))?\}", one, value)


def test_compose_contract(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from ruamel.yaml import YAML  # installed with check-jsonschema

    compose: dict[str, Any] = YAML(typ="safe").load((DEPLOY / "compose.yaml").read_text("utf-8"))
    bot, postgres = compose["services"]["bot"], compose["services"]["postgres"]

    assert (DEPLOY / bot["build"]["context"] / bot["build"]["dockerfile"]).resolve() == (
        DEPLOY / "Dockerfile"
    )
    assert bot["env_file"] == ".env" and bot["restart"] == "unless-stopped"
    assert bot["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert any(volume.endswith(f":{STATE}") for volume in bot["volumes"])
    assert all(port.startswith("127.0.0.1:") for port in bot.get("ports", [])), bot["ports"]

    assert postgres["image"] == "postgres:15"
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    assert any(":/var/lib/postgresql/data" in volume for volume in postgres["volumes"])
    assert set(compose["volumes"]) >= {
        v.split(":")[0] for v in bot["volumes"] + postgres["volumes"]
    }

    # The bot's settings as the container gets them parse, and point at the postgres service.
    variables = {"POSTGRES_PASSWORD": "0123456789abcdef"}
    env = {name: interpolate(str(value), variables) for name, value in bot["environment"].items()}
    assert set(env) <= set(ALIASES), set(env) - set(ALIASES)
    settings = settings_from(monkeypatch, tmp_path, env)
    assert settings.uses_postgres
    assert "@postgres:5432/" in settings.database
    pg_env = postgres["environment"]
    assert settings.database.endswith("/" + pg_env["POSTGRES_DB"])
    assert settings.database.startswith(f"postgresql://{pg_env['POSTGRES_USER']}:")
    assert interpolate(pg_env["POSTGRES_PASSWORD"], variables) == variables["POSTGRES_PASSWORD"]
    with pytest.raises(AssertionError, match="compose would stop"):
        interpolate(pg_env["POSTGRES_PASSWORD"], {})


# -- .env.example ----------------------------------------------------------------------------


def env_example() -> tuple[str, dict[str, str], list[tuple[str, str]]]:
    """The text, the assignments in force, and the commented-out examples (in order)."""
    text = (DEPLOY / ".env.example").read_text(encoding="utf-8")
    active: dict[str, str] = {}
    examples: list[tuple[str, str]] = []
    for number, line in enumerate(text.splitlines(), 1):
        if match := re.fullmatch(r"([A-Za-z_]\w*)=(.*)", line):
            assert match[1] not in active, f".env.example:{number}: {match[1]} set twice"
            active[match[1]] = match[2]
        elif match := re.fullmatch(r"# ?([A-Z][A-Z0-9_]*)=(.*)", line):
            examples.append((match[1], match[2]))
        else:
            assert not line.strip() or line.startswith("#"), f".env.example:{number}: {line!r}"
    return text, active, examples


@contextlib.contextmanager
def clean_environment(monkeypatch: pytest.MonkeyPatch, where: Path) -> Iterator[None]:
    """No setting from the developer's environment or a stray .env file."""
    with monkeypatch.context() as patch:
        for name in list(os.environ):
            if name.startswith(("FIELDTALLY_", "TELEGRAM_", "SMS_")):
                patch.delenv(name)
        patch.chdir(where)
        yield


def settings_from(monkeypatch: pytest.MonkeyPatch, where: Path, values: dict[str, str]) -> Settings:
    """The core's settings; the Telegram channel's are read too, so a bad one fails here."""
    with clean_environment(monkeypatch, where):
        load_telegram_settings(**values)
        load_sms_settings(**values)
        return load_settings(**values)


def test_env_example_documents_every_setting() -> None:
    text, active, examples = env_example()
    mentioned = set(active) | {name for name, _ in examples}
    missing = sorted(set(ALIASES) - mentioned)
    assert not missing, f"deploy/.env.example does not document {missing}"
    unknown = sorted(mentioned - set(ALIASES) - COMPOSE_ONLY)
    assert not unknown, f"deploy/.env.example sets what no setting reads: {unknown}"
    assert not set(active) & COMPOSE_ONLY, "compose-only variables stay commented out"

    blocks = text.split("\n\n")
    for alias, (kind, name) in ALIASES.items():
        block = next(b for b in blocks if re.search(rf"^#? ?{alias}=", b, re.MULTILINE))
        assert "Example" in block, alias
        default = kind.model_fields[name].default
        shown = re.search(r"Default: (\S+)", block)
        assert shown, f"{alias}: no 'Default:' in its block"
        if default is None or default == frozenset() or default == Admins():
            assert shown[1] in ("none", "not", "today"), f"{alias}: default shown as {shown[1]!r}"
        else:
            expected = DEFAULT_SCHEDULE if name == "schedule" else str(default)
            if isinstance(default, float):  # "30" for 30.0
                expected = f"{default:g}"
            if isinstance(default, bool):
                expected = str(default).lower()
            assert shown[1] == expected, f"{alias}: default shown as {shown[1]!r}"


def test_env_example_values_are_plain() -> None:
    _, active, examples = env_example()
    for name, value in [*active.items(), *examples]:
        assert PLAIN_VALUE.fullmatch(value), f"{name}={value}: quotes, spaces, $, # or & inside"


def test_env_example_as_installed_is_valid(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The file as copied, read the way the bot reads a .env file."""
    _, active, _ = env_example()
    shutil.copy(DEPLOY / ".env.example", tmp_path / ".env")
    with clean_environment(monkeypatch, tmp_path):
        settings = load_settings()
        telegram = load_telegram_settings()
    assert settings.database == f"{STATE}/fieldtally.db"
    assert telegram.bot_token is None  # to be filled in: `fieldtally run` asks for it
    assert set(active) >= {"TELEGRAM_BOT_TOKEN", "FIELDTALLY_DB", "FIELDTALLY_ADMINS"}


def test_env_example_examples_are_valid(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Every commented-out example, uncommented, is accepted: all together (the webhook URL
    needs its secret) and each one on top of that."""
    _, active, examples = env_example()
    bot_examples = [(name, value) for name, value in examples if name in ALIASES]
    together = {**active, **dict(bot_examples)}
    settings_from(monkeypatch, tmp_path, together)
    for name, value in bot_examples:
        try:
            settings_from(monkeypatch, tmp_path, {**together, name: value})
        except SettingsError as error:
            pytest.fail(f"deploy/.env.example: {name}={value} is refused: {error}")


def test_deploy_files_name_only_real_settings() -> None:
    names: set[str] = set()
    for path in DEPLOY.iterdir():
        if path.is_file():
            names |= set(
                re.findall(r"\b(?:FIELDTALLY|TELEGRAM|SMS)_[A-Z_]+\b", path.read_text("utf-8"))
            )
    unknown = sorted(names - set(ALIASES))
    assert not unknown, f"deploy/ names settings that do not exist: {unknown}"


def test_env_example_reads_the_same_in_sh(tmp_path: Path) -> None:
    """fieldtally-cli.sh sources the env file with sh: every value, examples uncommented, comes
    out as written."""
    text = (DEPLOY / ".env.example").read_text("utf-8")
    uncommented = re.sub(r"^# ?([A-Z][A-Z0-9_]*=)", r"\1", text, flags=re.MULTILINE)
    expected = dict(re.findall(r"^([A-Z][A-Z0-9_]*)=(.*)$", uncommented, re.MULTILINE))
    assert len(expected) >= len(ALIASES)
    (tmp_path / "env").write_text(uncommented, "utf-8")
    script = 'set -a; . "$1"; set +a; exec env -0'
    result = run("sh", "-c", script, "sh", str(tmp_path / "env"))
    assert result.returncode == 0, result.stderr
    seen = dict(item.split("=", 1) for item in result.stdout.split("\0") if "=" in item)
    assert {name: seen.get(name) for name in expected} == expected


def test_cli_wrapper_passes_shellcheck() -> None:
    script = DEPLOY / "fieldtally-cli.sh"
    assert os.access(script, os.X_OK), "fieldtally-cli.sh is installed with mode 755"
    result = run(tool("shellcheck"), "--severity=style", "--shell=sh", str(script))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{INSTALLED_CLI} " in script.read_text("utf-8")


# -- the fieldtally commands the deploy files run ------------------------------------------


class Invocation(NamedTuple):
    source: str
    argv: list[str]
    complete: bool  # a command line, not a command named in a sentence


def invocations() -> list[Invocation]:
    """Every `fieldtally …` that the units, the Dockerfile and the README's code run, with
    placeholders such as FILE kept as words and [optional] parts included."""
    found: list[Invocation] = []

    def add(source: str, command: str, complete: bool) -> None:
        command = re.split(r";|&&|\|| #|\s[<>]", command)[0]
        words = shlex.split(command.replace("[", "").replace("]", "").replace("…", ""))
        if words and words[0].startswith("@"):
            words = words[1:]  # the wrapper's instance prefix
        if words:
            found.append(Invocation(source, words, complete))

    def scan(snippet: str, complete: bool) -> None:
        for match in re.finditer(
            r"(?:^|[\s(]|bin/)fieldtally ((?:@\w+ )?(?!fieldtally )[a-z][^\n]*)", snippet
        ):
            add("README.md", match[1], complete)

    readme = (DEPLOY / "README.md").read_text("utf-8")
    for block in re.findall(r"```[a-z]*\n(.*?)```", readme, re.DOTALL):
        scan(block, complete=True)
    for span in re.findall(r"`([^`\n]+)`", re.sub(r"```.*?```", "", readme, flags=re.DOTALL)):
        scan(span, complete=False)
    for name in UNITS:
        for line in (DEPLOY / name).read_text("utf-8").splitlines():
            if line.startswith("ExecStart=") and INSTALLED_CLI in line:
                rest = line.split(INSTALLED_CLI, 1)[1].rstrip("'")
                add(name, rest.replace("$$", "$").replace("%%", "%"), complete=True)
    for keyword, args in dockerfile_instructions():
        if keyword in ("CMD", "HEALTHCHECK"):
            argv = json.loads(args[args.index("[") :])
            assert argv[0] == "fieldtally"
            found.append(Invocation("Dockerfile", argv[1:], complete=True))
    return found


def parses(argv: list[str]) -> bool:
    try:
        cli._parser().parse_args(argv)
    except SystemExit:
        return False
    return True


def known_commands() -> set[str]:
    actions = cli._parser()._actions
    return {c for a in actions if isinstance(a, argparse._SubParsersAction) for c in a.choices}


def test_deploy_files_run_real_fieldtally_commands(capsys: pytest.CaptureFixture[str]) -> None:
    found = invocations()
    used = {call.argv[0] for call in found}
    assert used >= {"run", "status", "backup", "units", "export"}, used
    commands = known_commands() | {"status"}  # status: test_status_command_exists
    bad = [call for call in found if call.argv[0] not in commands]
    bad += [call for call in found if call.complete and call.argv[0] != "status"
            and not parses(call.argv)]  # fmt: skip
    assert not bad, f"not a fieldtally command line: {bad}\n{capsys.readouterr().err}"


def test_status_command_exists() -> None:
    """The Docker healthcheck and the README use `fieldtally status`."""
    if "status" not in known_commands():
        pytest.skip("`fieldtally status` is not in fieldtally/cli.py yet")
    assert parses(["status"])


# -- systemd ---------------------------------------------------------------------------------


def unit_settings(name: str) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    for line in (DEPLOY / name).read_text("utf-8").splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, _, value = line.partition("=")
            values.setdefault(key, []).append(value)
    return values


def test_service_unit_contract() -> None:
    unit = unit_settings("fieldtally.service")
    expected = {
        "Type": ["simple"], "User": ["fieldtally"], "Group": ["fieldtally"],
        "ExecStart": [f"{INSTALLED_CLI} run"], "Restart": ["on-failure"],
        "StateDirectory": ["fieldtally"], "WorkingDirectory": [STATE],
        "EnvironmentFile": ["/etc/fieldtally/fieldtally.env"], "KillSignal": ["SIGTERM"],
        "NoNewPrivileges": ["yes"], "ProtectSystem": ["strict"], "ProtectHome": ["yes"],
        "PrivateTmp": ["yes"], "ReadWritePaths": [STATE],
    }  # fmt: skip
    for key, value in expected.items():
        assert unit.get(key) == value, (key, unit.get(key))
    for key in ("RestartSec", "TimeoutStopSec"):
        assert key in unit
    # fieldtally run's exit status for a bad setting: no restart loop on it.
    assert unit["RestartPreventExitStatus"] == [str(cli.EXIT_BAD_SETTINGS)]


def test_template_unit_is_the_service_unit_per_instance() -> None:
    def body(name: str) -> list[str]:
        text = (DEPLOY / name).read_text("utf-8")
        return [line for line in text.splitlines() if line and not line.startswith("#")]

    single = body("fieldtally.service")
    template = [
        line.replace("%i.env", "fieldtally.env").replace("/%i", "").replace(" (%i)", "")
        for line in body("fieldtally@.service")
    ]
    assert template == single


def test_backup_units() -> None:
    service = unit_settings("fieldtally-backup.service")
    assert service["Type"] == ["oneshot"] and service["User"] == ["fieldtally"]
    assert service["EnvironmentFile"] == unit_settings("fieldtally.service")["EnvironmentFile"]
    (start,) = service["ExecStart"]
    assert f"{INSTALLED_CLI} backup" in start and f"{STATE}/backups/fieldtally-" in start
    timer = unit_settings("fieldtally-backup.timer")
    assert timer["OnCalendar"] == ["hourly"] and timer["Persistent"] == ["true"]


@pytest.fixture
def units_for_verify(tmp_path: Path) -> Path:
    """The unit files, with the installed CLI's path pointed at this checkout's (verify checks
    that the program exists)."""
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed: the units are not verified here")
    here = shutil.which("fieldtally", path=str(VENV_BIN))
    assert here is not None
    for name in (*UNITS, "fieldtally-backup.timer"):
        text = (DEPLOY / name).read_text("utf-8")
        (tmp_path / name).write_text(text.replace(INSTALLED_CLI, here), "utf-8")
    return tmp_path


def test_systemd_analyze_verify(units_for_verify: Path) -> None:
    names = ["fieldtally.service", "fieldtally@province.service", "fieldtally-backup.service",
             "fieldtally-backup.timer"]  # fmt: skip
    result = run("systemd-analyze", "verify", *(str(units_for_verify / n) for n in names))
    output = (result.stdout + result.stderr).strip()
    # Unknown keys and bad values are warnings with exit status 0: any line about ours fails.
    ours = [line for line in output.splitlines() if "fieldtally" in line]
    assert result.returncode == 0 and not ours, output


@pytest.mark.parametrize("name", ["fieldtally.service", "fieldtally@province.service",
                                  "fieldtally-backup.service"])  # fmt: skip
def test_systemd_security_exposure(units_for_verify: Path, name: str) -> None:
    result = run(
        "systemd-analyze", "security", "--offline=true", "--threshold=20", "--no-pager",
        str(units_for_verify / name),
    )  # fmt: skip
    if "--offline" in result.stderr and "unrecognized" in result.stderr:
        pytest.skip("this systemd-analyze has no offline security check (systemd < 252)")
    summary = result.stdout.strip().splitlines()[-1:] or [result.stderr]
    assert result.returncode == 0, f"exposure above 2.0 (OK): {summary}"


# -- nginx -----------------------------------------------------------------------------------

CERT = "/etc/letsencrypt/live/bot.example.vn/fullchain.pem"
KEY = "/etc/letsencrypt/live/bot.example.vn/privkey.pem"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Nginx(NamedTuple):
    binary: str
    conf: Path
    port: int  # nginx's (443 in the snippet)
    backend: int  # the bot's (8443 in the snippet)


@pytest.fixture
def nginx(tmp_path: Path) -> Nginx:
    """The snippet in a minimal nginx.conf: a throwaway certificate, logs and temporary files
    in tmp_path, nginx on a free port, the bot's address replaced by another free port."""
    binary = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")
    if binary is None:
        pytest.skip("nginx is not installed: the snippet is not checked with nginx -t here")
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed: no certificate for nginx -t")
    made = run(
        "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        "-subj", "/CN=bot.example.vn", "-keyout", str(tmp_path / "key.pem"),
        "-out", str(tmp_path / "cert.pem"),
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    snippet = (DEPLOY / "nginx-fieldtally.conf").read_text("utf-8")
    port, backend = free_port(), free_port()
    for old, new in [
        (CERT, str(tmp_path / "cert.pem")), (KEY, str(tmp_path / "key.pem")),
        ("/var/log/nginx/", f"{tmp_path}/"), ("listen 443 ssl;", f"listen 127.0.0.1:{port} ssl;"),
        ("http://127.0.0.1:8443;", f"http://127.0.0.1:{backend};"),
    ]:  # fmt: skip
        assert old in snippet, old
        snippet = snippet.replace(old, new)
    (tmp_path / "site.conf").write_text(snippet, "utf-8")
    temp = "\n".join(
        f"    {kind}_temp_path {tmp_path}/{kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    conf = tmp_path / "nginx.conf"
    conf.write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log stderr;\nevents {{}}\n"
        f"http {{\n{temp}\n    include {tmp_path}/site.conf;\n}}\n",
        "utf-8",
    )
    return Nginx(binary, conf, port, backend)


def test_nginx_snippet_passes_nginx_t(nginx: Nginx) -> None:
    result = run(nginx.binary, "-t", "-p", str(nginx.conf.parent), "-c", str(nginx.conf),
                 "-e", "stderr")  # fmt: skip
    assert result.returncode == 0, result.stderr


class Recorder(BaseHTTPRequestHandler):
    """The bot's webhook listener stand-in: records what nginx passes on."""

    seen: ClassVar[list[tuple[str, str, str | None]]] = []

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        self.rfile.read(length)
        self.seen.append((self.command, self.path, self.headers.get(SECRET_HEADER)))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


def test_nginx_snippet_passes_webhooks_on(nginx: Nginx) -> None:
    port = nginx.port
    server = ThreadingHTTPServer(("127.0.0.1", nginx.backend), Recorder)
    Recorder.seen.clear()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    proxy = subprocess.Popen(
        [nginx.binary, "-p", str(nginx.conf.parent), "-c", str(nginx.conf), "-e", "stderr",
         "-g", "daemon off;"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120  # a guard against a hang, not a speed test
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            assert proxy.poll() is None, proxy.stderr.read() if proxy.stderr else ""
            assert time.monotonic() < deadline, "nginx did not start"
            time.sleep(0.05)

        tls = ssl.create_default_context()
        tls.check_hostname, tls.verify_mode = False, ssl.CERT_NONE

        def request(method: str, path: str, body: bytes | None = None) -> int:
            req = urllib.request.Request(
                f"https://127.0.0.1:{port}{path}", data=body, method=method,
                headers={SECRET_HEADER: "s3cret-s3cret-s3cret", "Host": "bot.example.vn",
                         "Content-Type": "application/json"},
            )  # fmt: skip
            try:
                with urllib.request.urlopen(req, context=tls, timeout=120) as answer:
                    status: int = answer.status
                    return status
            except urllib.error.HTTPError as error:
                return error.code

        update = b'{"update_id": 1, "message": {"text": "250/320 9h"}}'
        assert request("POST", "/telegram/fieldtally", update) == 200
        assert Recorder.seen == [("POST", "/telegram/fieldtally", "s3cret-s3cret-s3cret")]
        assert request("GET", "/telegram/fieldtally") == 403
        assert request("POST", "/elsewhere", update) == 404
        # More than client_max_body_size: refused on the announced length alone.
        big = http.client.HTTPSConnection("127.0.0.1", port, timeout=120, context=tls)
        big.putrequest("POST", "/telegram/fieldtally")
        big.putheader("Content-Length", str(2 << 20))
        big.endheaders()
        assert big.getresponse().status == 413
        big.close()
        assert len(Recorder.seen) == 1
    finally:
        proxy.terminate()
        proxy.wait(timeout=120)
        server.shutdown()
        server.server_close()
