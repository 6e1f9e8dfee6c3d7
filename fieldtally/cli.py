"""The `fieldtally` command: run the bot, import units, export, invitation codes, status, the
offline demo, and playing every person by hand (`try`)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import importlib.metadata
import json
import logging
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bot import texts
from bot.channel import COMMAND_LINE, Address
from bot.core import Core
from bot.messaging.directory import BotDirectory
from bot.messaging.marked import plain
from bot.model import Unit
from bot.monitoring.dashboard_links import issue_link, link_expiry, revoke_links
from bot.monitoring.export import export_rows, to_csv, to_xlsx
from bot.outage import status_facts
from bot.registration import invitation_files
from bot.registration.unit_import import import_units
from bot.results.imports import import_results
from bot.settings import Settings, SettingsError, load_settings
from fieldtally.logs import setup_logging
from handlers.channels import enabled_channels, missing_credentials
from handlers.directory import load_directory
from handlers.sms.settings import SMS, SmsSettings, load_sms_settings
from handlers.telegram.identity import TELEGRAM, bot_name, next_offset, telegram_id
from handlers.telegram.settings import TelegramSettings, load_telegram_settings
from handlers.zalo.settings import ZALO, ZaloSettings, load_zalo_settings
from storage.database import Database, StorageError, StoreHealth
from storage.schema import SCHEMA_VERSION
from storage.tree import UnitIndex

EXIT_OK, EXIT_FAILED, EXIT_BAD_SETTINGS = 0, 1, 2
NO_ADMINS_WARNING = (
    "fieldtally: warning: FIELDTALLY_ADMINS is empty, so nobody can import the unit list "
    "(/nhap), assign phones or subscribe groups. Set it to your Telegram user id (the bot's "
    "/start answer shows it) and restart."
)
STOP_DEADLINE = 9.0  # seconds from SIGTERM to exit, whatever the database or Telegram do


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fieldtally", description=__doc__)
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help: str) -> argparse.ArgumentParser:
        return commands.add_parser(name, help=help, description=help[0].upper() + help[1:] + ".")

    command("run", "run the bot (long polling, or webhook if configured)")
    demo = command("demo", "the offline election-day drill: sandbox, real bot, simulated chiefs")
    demo.add_argument(
        "--speed", type=float,
        help="simulated seconds per real second (default: the day in about half a minute)",
    )  # fmt: skip
    demo.add_argument(
        "--units", type=Path, help="unit list to replay, CSV or .xlsx (default: Mường Khương 2021)"
    )
    demo.add_argument(
        "--output", type=Path, help="where the charts, exports and transcript go (./demo-output)"
    )
    demo.add_argument("--seed", type=int, help="seed of the simulated day (default: fixed)")
    demo.add_argument(
        "--channel", choices=("telegram", "zalo", "sms"), default="telegram",
        help="the chiefs' channel: telegram, zalo through the Zalo sandbox (invitation codes), "
        "or sms through the SMS gateway sandbox",
    )  # fmt: skip
    try_it = command(
        "try", "play several people by hand: sandbox and real bot in one process, no token"
    )
    try_it.epilog = (
        "Then type as anyone: /as admin, /as chief <area>, /as supervisor <code>, "
        "/as group <name>; /try lists every command of the session. Lines may come from a pipe."
    )
    try_it.add_argument(
        "--units", type=Path, help="unit list the admin imports, CSV or .xlsx "
        "(default: Mường Khương 2021)",
    )  # fmt: skip
    try_it.add_argument(
        "--output", type=Path, help="where charts and files the bot sends go (./try-output)"
    )
    try_it.add_argument(
        "--at", metavar="HH:MM", default="07:00",
        help="simulated time of day to start at, on election day 23/05/2021 (default 07:00)",
    )  # fmt: skip
    units = command("units", "manage the unit list")
    units_commands = units.add_subparsers(dest="units_command", required=True, metavar="COMMAND")
    units_import = units_commands.add_parser(
        "import", help="import a units file, CSV or .xlsx (all or nothing)",
        description="Import a units file, CSV or .xlsx (all or nothing).",
    )  # fmt: skip
    units_import.add_argument("file", type=Path, help="the units file (.csv or .xlsx)")
    template = units_commands.add_parser(
        "template", help="a units file to fill in, from the official lists of a province/commune",
        description="Write a units file skeleton from the bundled official lists (2025 "
        "structure): the province (2-digit code) and its communes, or one commune (5-digit "
        "code), official codes as unit codes, and one example polling area per commune.",
    )  # fmt: skip
    template.add_argument("code", help="official code of a province (e.g. 15) or commune (02761)")
    template.add_argument(
        "-o", "--output", type=Path, help="write to FILE.xlsx or FILE.csv (default: CSV on stdout)"
    )
    ballots = command("ballots", "manage the ballots of results night")
    ballots_commands = ballots.add_subparsers(
        dest="ballots_command", required=True, metavar="COMMAND"
    )
    ballots_import = ballots_commands.add_parser(
        "import", help="import electoral units, candidates and area ballots (all or nothing)",
        description="Import the ballot files (all or nothing): electoral_units.csv, "
        "candidates.csv, area_ballots.csv (any of them, applied in that order), or one .xlsx "
        "with sheets of those names.",
    )  # fmt: skip
    ballots_import.add_argument(
        "files", type=Path, nargs="+", metavar="FILE", help="the files (.csv or .xlsx)"
    )
    export = command("export", "write the per-unit table (CSV, or XLSX) of a subtree")
    export.add_argument("code", nargs="?", help="unit code (default: the root)")
    export.add_argument(
        "-o", "--output", type=Path, help="write to this file (default: standard output)"
    )
    export.add_argument(
        "--format", choices=("csv", "xlsx"),
        help="file format (default: from the -o file's extension, else csv)",
    )  # fmt: skip
    invites = command(
        "invites", "new invitation codes for every phone of a subtree, to hand out "
        "(earlier unused codes of those phones stop working)",
    )  # fmt: skip
    invites.add_argument("code", nargs="?", help="unit code (default: the root)")
    invites.add_argument(
        "-o", "--output", type=Path,
        help="write to FILE.xlsx (to print: with the bot's link as a QR code) or FILE.csv "
        "(default: CSV on standard output)",
    )  # fmt: skip
    link = command("dashboard-link", "print a link to a unit's live dashboard, or revoke its links")
    link.add_argument("code", help="unit code: the link shows this unit and its subtree")
    link.add_argument(
        "--days", type=_days, metavar="N",
        help="valid N days from now (a decimal; 0: already expired), instead of until the "
        "end of the second day after the election date",
    )  # fmt: skip
    link.add_argument("--revoke", action="store_true", help="revoke every link of the unit instead")
    backup = command("backup", "copy the database safely, even while it runs")
    backup.add_argument("path", type=Path, help="where to write the copy")
    status = command(
        "status", "whether the database is reachable and current, and the inboxes' state"
    )
    status.add_argument("--json", action="store_true", help="one JSON object instead of lines")
    return parser


def _days(value: str) -> float:
    try:
        days = float(value.replace(",", "."))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of days: {value!r}") from None
    if not 0 <= days <= 3660:
        raise argparse.ArgumentTypeError("days must be between 0 and 3660")
    return days


def _version() -> str:
    try:
        return importlib.metadata.version("fieldtally")
    except importlib.metadata.PackageNotFoundError:  # run from a checkout, not installed
        return "unknown"


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "demo":  # needs no settings: it brings its own bot, sandbox and database
        from fieldtally import demo  # the sandbox and Telegram are loaded only here

        setup_logging(logging.WARNING)  # the progress bar and the summary, not INFO chatter
        return demo.main(args.units, args.output, args.speed, args.seed, args.channel)
    if args.command == "try":  # the same: its own bot, sandbox and database
        from fieldtally import playground

        setup_logging(logging.WARNING)
        return playground.main(args.units, args.output, args.at)
    if args.command == "units" and args.units_command == "template":  # reads only bundled data
        from fieldtally import templates

        return templates.main(args.code, args.output)
    try:
        settings = load_settings()
        telegram = load_telegram_settings()
        zalo = load_zalo_settings()
        sms = load_sms_settings()
        channels = enabled_channels(settings, telegram, zalo, sms)
    except SettingsError as error:
        print(f"fieldtally: bad setting {error}", file=sys.stderr)
        return EXIT_BAD_SETTINGS
    secrets = _secrets(settings, telegram) + zalo.secrets() + sms.secrets()
    setup_logging(secrets=secrets, json_lines=settings.log_format == "json")
    try:
        return _dispatch(args, settings, telegram, channels, zalo, sms)
    except StorageError as error:
        print(f"fieldtally: cannot use the database: {error}", file=sys.stderr)
        return EXIT_FAILED


def _dispatch(
    args: argparse.Namespace,
    settings: Settings,
    telegram: TelegramSettings,
    channels: frozenset[str],
    zalo: ZaloSettings,
    sms: SmsSettings,
) -> int:
    if args.command == "run":
        missing_setting = missing_credentials(channels, telegram, zalo, sms)
        if missing_setting is not None:
            print(f"fieldtally: bad setting {missing_setting}", file=sys.stderr)
            return EXIT_BAD_SETTINGS
        if not settings.admins:
            print(NO_ADMINS_WARNING, file=sys.stderr)
        return asyncio.run(_run(settings, telegram, channels, zalo, sms))
    if args.command == "status":
        return _status(settings, telegram, as_json=args.json, zalo=zalo)
    missing = _missing_database(settings)
    if missing and args.command in ("backup", "export", "invites", "dashboard-link"):
        print(f"fieldtally: {missing}", file=sys.stderr)
        return EXIT_FAILED
    if args.command == "dashboard-link":
        return asyncio.run(_dashboard_link(settings, args.code, args.days, revoke=args.revoke))
    if args.command == "backup":
        asyncio.run(_backup(settings, args.path))
        print(f"fieldtally: backup written to {args.path}")
        return EXIT_OK
    if args.command == "units":
        try:
            data = args.file.read_bytes()
        except OSError as error:
            print(f"fieldtally: cannot read {args.file}: {error.strerror}", file=sys.stderr)
            return EXIT_FAILED
        return asyncio.run(_import(settings, data, args.file.name))
    if args.command == "ballots":
        files = []
        for path in args.files:
            try:
                files.append((path.name, path.read_bytes()))
            except OSError as error:
                print(f"fieldtally: cannot read {path}: {error.strerror}", file=sys.stderr)
                return EXIT_FAILED
        return asyncio.run(_import_ballots(settings, files))
    if args.command == "export":
        as_xlsx = _export_format(args.format, args.output) == "xlsx"
        if as_xlsx and args.output is None and sys.stdout.isatty():
            print("fieldtally: XLSX is not for a terminal: use -o FILE.xlsx", file=sys.stderr)
            return EXIT_FAILED
        content = asyncio.run(_export(settings, args.code, as_xlsx=as_xlsx))
        if content is None:
            return EXIT_FAILED
        if args.output is None:
            sys.stdout.buffer.write(content)
        else:
            args.output.write_bytes(content)
        return EXIT_OK
    if args.command == "invites":
        as_xlsx = args.output is not None and args.output.suffix.lower() == ".xlsx"
        directory = load_directory(settings)  # checked at the start
        content = asyncio.run(_invites(settings, directory, args.code, as_xlsx=as_xlsx))
        if content is None:
            return EXIT_FAILED
        if args.output is None:
            sys.stdout.buffer.write(content)
        else:
            args.output.write_bytes(content)
        return EXIT_OK
    return EXIT_FAILED


async def _run(
    settings: Settings,
    telegram: TelegramSettings,
    channels: frozenset[str],
    zalo: ZaloSettings,
    sms: SmsSettings,
) -> int:
    from handlers.factory import ChannelFactory
    from handlers.run import run_bot  # channels are loaded only for the bot
    from handlers.sms.channel import sms_channels
    from handlers.zalo import zalo_channels

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    factories: list[ChannelFactory] = []
    if ZALO in channels:
        factories.append(zalo_channels(zalo))
    if SMS in channels:
        factories.append(sms_channels(sms))
    on_telegram = telegram if TELEGRAM in channels else None
    await run_bot(settings, on_telegram, stop, stop_deadline=STOP_DEADLINE, channels=factories)
    return EXIT_OK


def _secrets(settings: Settings, telegram: TelegramSettings) -> list[str]:
    """What the logs must never show: the token, the webhook secret, the database password."""
    secrets = telegram.secrets()
    if settings.uses_postgres:
        password = urlsplit(settings.database).password
        if password:
            secrets.append(password)
    return secrets


def _status(
    settings: Settings,
    telegram: TelegramSettings,
    *,
    as_json: bool,
    zalo: ZaloSettings | None = None,
) -> int:
    """One line per fact (or one JSON object); 0 only for a reachable, current database."""
    backend = "postgresql" if settings.uses_postgres else "sqlite"
    health: StoreHealth | None = None
    # The pool's warning per failed connection attempt would bury the one-line reason.
    logging.getLogger("psycopg.pool").setLevel(logging.ERROR)
    missing = _missing_database(settings)
    if missing:  # opening would create an empty database: a wrong path must not look healthy
        reason = missing
    else:
        try:
            health = asyncio.run(_health(settings, telegram.bot_id))
            reason = ""
        except (StorageError, OSError) as error:
            reason = f"cannot use the database: {error}"
    if health is not None and health.schema_version != SCHEMA_VERSION:
        reason = f"schema version {health.schema_version}, this program needs {SCHEMA_VERSION}"
    ours = {bot.name for bot in zalo.bots} if zalo is not None else set()
    if health is not None and not reason:
        reason = _other_bots_busy(telegram, health, ours)
    facts = _status_facts(settings, telegram, backend, health, reason)
    gateways = []
    if health is not None and health.schema_version == SCHEMA_VERSION:
        with contextlib.suppress(StorageError, OSError):
            gateways = asyncio.run(_sms_status(settings))
    if gateways:  # an SMS gateway has used this database
        facts["sms"] = gateways
    # the running bot's state
    facts.update(status_facts(settings.health_file(telegram.bot_id), settings.tz))
    if facts["degraded"] and not reason:
        reason = f"storage fault ({facts['fault']}) since {facts['degraded_since']}"
        facts.update(ok=False, reason=reason)
    if zalo is not None and zalo.bots:  # each Zalo bot: reachable, webhook, quota used
        facts["zalo"] = asyncio.run(_zalo_status(settings, zalo, with_database=bool(health)))
        problems = [
            f"zalo bot {b['bot_id']}: {b['problem']}" for b in facts["zalo"] if b["problem"]
        ]
        if problems and not reason:
            reason = problems[0]
            facts.update(ok=False, reason=reason)
    if as_json:
        print(json.dumps(facts, ensure_ascii=False))
    else:
        print(_status_text(facts))
        if reason:
            print(f"fieldtally: status: {reason}", file=sys.stderr)
    return EXIT_FAILED if reason else EXIT_OK


async def _sms_status(settings: Settings) -> list[dict[str, Any]]:
    """Each SMS gateway that used the database: its webhooks, its outbox, its latest
    failures (what `sms:failed` said)."""
    database = await Database.open(settings.database, verify=False, migrate=False)
    now = int(time.time())
    gateways = []
    try:
        for bot in await database.sms_bots():
            outbox = await database.outbox_status(bot, now)
            webhooks = await database.sms_webhooks(bot)
            failures = await database.sms_failures(bot, limit=5)
            gateways.append(
                {
                    "bot": bot,
                    "webhooks": [
                        {"event": w.event, "id": w.webhook_id, "url": w.url,
                         "registered_at": _moment(w.registered_at, settings)}
                        for w in webhooks
                    ],
                    "outbox_queued": outbox.queued,
                    "sent_last_minute": outbox.sent_last_minute,
                    "failed": outbox.failed,
                    "recent_failures": [
                        {"message_id": f.outbox_id, "phone": f.phone, "reason": f.reason,
                         "at": _moment(f.at, settings)}
                        for f in failures
                    ],
                }
            )  # fmt: skip
    finally:
        await database.close()
    return gateways


def _moment(epoch: int, settings: Settings) -> str:
    return dt.datetime.fromtimestamp(epoch, settings.tz).isoformat(timespec="seconds")


async def _health(settings: Settings, bot_id: int) -> StoreHealth:
    database = await Database.open(settings.database, verify=False, migrate=False)
    try:
        return await database.health(bot_name(bot_id))
    finally:
        await database.close()


async def _zalo_status(
    settings: Settings, zalo: ZaloSettings, *, with_database: bool
) -> list[dict[str, Any]]:
    from handlers.zalo.status import zalo_facts

    now = dt.datetime.now(settings.tz)
    if not with_database:
        return await zalo_facts(zalo, None, now)
    database = await Database.open(settings.database, verify=False, migrate=False)
    try:
        return await zalo_facts(zalo, database, now)
    finally:
        await database.close()


def _other_bots_busy(
    settings: TelegramSettings, health: StoreHealth, ours: set[str] | None = None
) -> str:
    """Why the status cannot call the store healthy when it speaks for no bot that uses the
    database (no token, or another bot's) while a bot that does has updates waiting: the
    inbox it reads is empty, the one that matters is not. Empty when there is no such case.

    With the token of a bot that uses the database, the others' inboxes are only shown:
    where several bots share a database, each one's status is its own."""
    busy = [
        (_bot_id(bot), waiting)
        for bot, waiting in health.other_bots
        if waiting and bot not in (ours or set())  # the Zalo bots' own are shown per bot
    ]
    if health.known or not busy:
        return ""
    whose = (
        "no TELEGRAM_BOT_TOKEN is set"
        if settings.bot_token is None
        else f"bot {settings.bot_id} (TELEGRAM_BOT_TOKEN) has never run on this database"
    )
    waiting = ", ".join(f"bot {bot}: {count}" for bot, count in busy)
    return (
        f"{whose}, and updates are waiting in the inbox of another bot ({waiting}): "
        "run status with that bot's token"
    )


def _bot_id(name: str) -> int | str:
    """A bot as `status` names it: a Telegram bot by its id (0: rows of no bot yet, from
    before schema 5), another channel's by its name."""
    if not name:
        return 0
    address = Address.parse(name)
    return telegram_id(address) if address.channel == TELEGRAM else name


def _status_facts(
    settings: Settings,
    telegram: TelegramSettings,
    backend: str,
    health: StoreHealth | None,
    reason: str,
) -> dict[str, Any]:
    last = None
    if health is not None and health.last_handled_at is not None:
        moment = dt.datetime.fromtimestamp(health.last_handled_at, settings.tz)
        last = moment.isoformat(timespec="seconds")
    return {
        "ok": not reason,
        "reason": reason or None,
        "backend": health.backend if health is not None else backend,
        "reachable": health is not None,
        "schema_version": health.schema_version if health is not None else None,
        "expected_schema_version": SCHEMA_VERSION,
        "pending_updates": health.pending_events if health is not None else None,
        "next_update_id": next_offset(health.cursor) if health is not None else None,
        "last_handled_at": last,
        "time_zone": settings.tz_name,
        "bot_id": telegram.bot_id,
        "other_bots": (
            [{"bot_id": _bot_id(bot), "pending_updates": n} for bot, n in health.other_bots]
            if health is not None
            else []
        ),
    }


def _status_text(facts: dict[str, Any]) -> str:
    reachable = "reachable" if facts["reachable"] else "unreachable"
    lines = [f"database: {reachable} ({facts['backend']})"]
    if facts["reachable"]:
        version, expected = facts["schema_version"], facts["expected_schema_version"]
        current = "current" if version == expected else f"this program needs {expected}"
        last = facts["last_handled_at"]
        lines += [
            f"schema version: {version} ({current})",
            f"inbox pending: {facts['pending_updates']}",
            f"next update id: {facts['next_update_id']}",
            "last update handled: "
            + (f"{last.replace('T', ' ')} ({facts['time_zone']})" if last else "never"),
        ]
        lines += [
            f"other bot {other['bot_id']}: inbox pending {other['pending_updates']}"
            for other in facts["other_bots"]
        ]
    if facts.get("zalo"):
        from handlers.zalo.status import zalo_lines

        lines += zalo_lines(facts["zalo"])
    for gateway in facts.get("sms") or []:
        lines += _sms_status_text(gateway)
    if facts.get("bot_running"):
        since = str(facts["degraded_since"]).replace("T", " ")
        lines.append(
            f"bot: paused by a storage fault ({facts['fault']}) since {since}"
            if facts["degraded"]
            else "bot: running, storage ok"
        )
    return "\n".join(lines)


def _sms_status_text(gateway: dict[str, Any]) -> list[str]:
    name = gateway["bot"]
    lines = [
        f"{name} webhook {w['event']}: {w['url']} (id {w['id']}, registered "
        f"{w['registered_at'].replace('T', ' ')})"
        for w in gateway["webhooks"]
    ] or [f"{name} webhooks: not registered yet"]
    lines.append(
        f"{name} outbox: {gateway['outbox_queued']} queued, {gateway['sent_last_minute']} sent"
        f" in the last minute, {gateway['failed']} failed"
    )
    lines += [
        f"{name} failed: {f['reason']} (to {f['phone']}, {f['at'].replace('T', ' ')})"
        for f in gateway["recent_failures"]
    ]
    return lines


async def _backup(settings: Settings, path: Path) -> None:
    database = await Database.open(settings.database)
    try:
        await database.backup(path)
    finally:
        await database.close()


async def _import(settings: Settings, data: bytes, filename: str) -> int:
    core = await Core.open(settings)
    try:
        ok, reply = await import_units(core.db, data, filename)
    finally:
        await core.close()
    print(plain(reply))
    return EXIT_OK if ok else EXIT_FAILED


async def _import_ballots(settings: Settings, files: list[tuple[str, bytes]]) -> int:
    core = await Core.open(settings)
    try:
        outcome = await import_results(core.db, files)
    finally:
        await core.close()
    print(plain(outcome.text))
    return EXIT_OK if outcome.stored else EXIT_FAILED


def _missing_database(settings: Settings) -> str | None:
    """Why there is no database to read, or None. Opening a missing SQLite file would create
    an empty one: a wrong folder or FIELDTALLY_DB must say so instead."""
    if settings.uses_postgres or settings.db_path.exists():
        return None
    return (
        f"no database file at {settings.db_path} (FIELDTALLY_DB): run this where the bot "
        "runs, or import a unit list first with `fieldtally units import FILE`"
    )


def _export_format(chosen: str | None, output: Path | None) -> str:
    if chosen is not None:
        return chosen
    if output is not None and output.suffix.lower() == ".xlsx":
        return "xlsx"
    return "csv"


def _chosen_unit(units: UnitIndex, code: str | None, command: str) -> Unit | None:
    """The unit named, else the only root; None after printing why there is none."""
    if code is None:
        roots = units.roots
        if len(roots) != 1:
            listed = [u.code for u in roots]
            message = texts.choose_unit(listed, command) if roots else texts.NO_UNITS_YET
            print(plain(message), file=sys.stderr)
            return None
        code = roots[0].code
    unit = units.get(code)
    if unit is None:
        print(plain(texts.unknown_unit(code)), file=sys.stderr)
    return unit


async def _invites(
    settings: Settings, directory: BotDirectory, code: str | None, *, as_xlsx: bool
) -> bytes | None:
    """New invitation codes for the subtree of `code` (default: the only root), as CSV or
    the printable XLSX; None after printing why not. The codes go only into the file."""
    core = await Core.open(settings)
    core.directory = directory
    try:
        unit = _chosen_unit(core.db.units, code, "moi")
        if unit is None:
            return None
        label = texts.unit_label(unit.code, unit.name)
        if not any(u.contact_phones for u in core.db.units.subtree(unit.code)):
            print(plain(texts.no_phones_to_invite(label)), file=sys.stderr)
            return None
        issued = await core.issue_invitations(unit.code, COMMAND_LINE)
        print(
            f"fieldtally: {len(issued.rows)} invitation codes for {unit.code}, valid until "
            f"{issued.valid_until:%Y-%m-%d}; earlier unused codes of these phones no longer work",
            file=sys.stderr,
        )
        if as_xlsx:
            return await asyncio.to_thread(
                invitation_files.to_xlsx, issued.rows, label, issued.valid_until
            )
        return invitation_files.to_csv(issued.rows)
    finally:
        await core.close()


async def _export(settings: Settings, code: str | None, *, as_xlsx: bool) -> bytes | None:
    """The CSV or XLSX of `code` (default: the only root), or None after printing why not."""
    core = await Core.open(settings)
    try:
        unit = _chosen_unit(core.db.units, code, "xuat")
        if unit is None:
            return None
        rows = await export_rows(core.db, unit.code, settings.tz)
        if as_xlsx:  # the same writer as /xuat … xlsx
            return await asyncio.to_thread(to_xlsx, rows, unit.code)
        return to_csv(rows)
    finally:
        await core.close()


async def _dashboard_link(
    settings: Settings, code: str, days: float | None, *, revoke: bool
) -> int:
    """`fieldtally dashboard-link CODE [--days N] [--revoke]`: what `/bangtin` does."""
    database = await Database.open(settings.database)
    try:
        unit = database.units.get(code)
        if unit is None:
            print(plain(texts.unknown_unit(code)), file=sys.stderr)
            return EXIT_FAILED
        now = dt.datetime.now(settings.tz)
        label = texts.unit_label(unit.code, unit.name)
        if revoke:
            count = await revoke_links(database, unit, COMMAND_LINE, now)
            print(plain(texts.dashboard_revoked(label, count)))
            return EXIT_OK
        if days is None and link_expiry(settings, now) <= now:
            print(
                "fieldtally: the election date is more than two days past: a link would be"
                " expired already; give --days N",
                file=sys.stderr,
            )
            return EXIT_FAILED
        issued = await issue_link(database, settings, unit, COMMAND_LINE, now, days)
        print(issued.url)
        print(f"{label}: until {issued.expires_at:%Y-%m-%d %H:%M %Z}", file=sys.stderr)
        return EXIT_OK
    finally:
        await database.close()


if __name__ == "__main__":
    raise SystemExit(main())
