"""The `fieldtally` command: run the bot, import units, export, and the offline demo."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from bot import texts
from bot.core import Core
from bot.export import export_rows, to_csv
from bot.settings import Settings, SettingsError, load_settings
from bot.unit_import import import_units
from fieldtally.logs import setup_logging
from storage.database import Database, StorageError

EXIT_OK, EXIT_FAILED, EXIT_BAD_SETTINGS = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fieldtally", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="run the bot (long polling)")
    demo = commands.add_parser(
        "demo", help="the offline election-day drill: sandbox, real bot, simulated chiefs"
    )
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
    units = commands.add_parser("units", help="manage the unit list")
    units_commands = units.add_subparsers(dest="units_command", required=True)
    units_import = units_commands.add_parser("import", help="import a units CSV file")
    units_import.add_argument("file", type=Path)
    export = commands.add_parser("export", help="write the per-unit CSV to standard output")
    export.add_argument("code", nargs="?", help="unit code (default: the root)")
    export.add_argument("-o", "--output", type=Path, help="write to this file instead")
    backup = commands.add_parser("backup", help="copy the database safely, even while it runs")
    backup.add_argument("path", type=Path)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "demo":  # needs no settings: it brings its own bot, sandbox and database
        from fieldtally import demo  # the sandbox and Telegram are loaded only here

        setup_logging(logging.WARNING)  # the progress bar and the summary, not INFO chatter
        return demo.main(args.units, args.output, args.speed, args.seed)
    try:
        settings = load_settings()
    except SettingsError as error:
        print(f"fieldtally: bad setting {error}", file=sys.stderr)
        return EXIT_BAD_SETTINGS
    token = settings.bot_token.get_secret_value() if settings.bot_token else ""
    setup_logging(secrets=[token])
    try:
        return _dispatch(args, settings)
    except StorageError as error:
        print(f"fieldtally: cannot use the database: {error}", file=sys.stderr)
        return EXIT_FAILED


def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "run":
        if settings.bot_token is None:
            print("fieldtally: bad setting TELEGRAM_BOT_TOKEN: required for run", file=sys.stderr)
            return EXIT_BAD_SETTINGS
        return asyncio.run(_run(settings))
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
    if args.command == "export":
        content = asyncio.run(_export(settings, args.code))
        if content is None:
            return EXIT_FAILED
        if args.output is None:
            sys.stdout.buffer.write(content)
        else:
            args.output.write_bytes(content)
        return EXIT_OK
    return EXIT_FAILED


async def _run(settings: Settings) -> int:
    from handlers.application import run_bot  # Telegram is loaded only for the bot itself

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    await run_bot(settings, stop)
    return EXIT_OK


async def _backup(settings: Settings, path: Path) -> None:
    database = await Database.open(settings.db_path)
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
    print(texts.as_plain_text(reply))
    return EXIT_OK if ok else EXIT_FAILED


async def _export(settings: Settings, code: str | None) -> bytes | None:
    """The CSV of `code` (default: the only root), or None after printing why not."""
    core = await Core.open(settings)
    try:
        units = core.db.units
        if code is None:
            roots = units.roots
            if len(roots) != 1:
                message = texts.NO_UNITS_YET if not roots else texts.choose_unit(
                    [u.code for u in roots], "xuat"
                )
                print(texts.as_plain_text(message), file=sys.stderr)
                return None
            code = roots[0].code
        unit = units.get(code)
        if unit is None:
            print(texts.as_plain_text(texts.unknown_unit(code)), file=sys.stderr)
            return None
        return to_csv(await export_rows(core.db, unit.code, settings.tz))
    finally:
        await core.close()


if __name__ == "__main__":
    raise SystemExit(main())
