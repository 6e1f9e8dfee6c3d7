"""Run the Bot API sandbox by hand: ``python -m sandbox --port 8081 --token 123:abc``.

Serves until Ctrl-C. Point the bot at it with TELEGRAM_API_URL=<printed url>. With
``--chat USER_ID`` every line typed on stdin is sent to the bot by that simulated user, and
whatever the bot sends is printed (``!contact PHONE``, ``!file PATH [caption]`` and
``!press MESSAGE_ID DATA`` simulate a shared contact, an uploaded file and a button press).
For a bot in webhook mode, ``--route-webhook https://bot.example.org http://127.0.0.1:8443``
delivers its posts locally (see ``BotApiSandbox.route_webhook``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shlex
import sys
import threading
from pathlib import Path

from sandbox.models import OutgoingRecord
from sandbox.server import BotApiSandbox


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081, help="0 picks a free port")
    parser.add_argument("--token", help="bot token to accept (default: a generated one)")
    parser.add_argument("--username", default="fieldtally_bot", help="the bot's @username")
    parser.add_argument("--chat", type=int, metavar="USER_ID", help="chat with the bot via stdin")
    parser.add_argument("--first-name", default="Tester", help="first name of the --chat user")
    parser.add_argument(
        "--route-webhook", nargs=2, action="append", default=[], metavar=("PUBLIC", "LOCAL"),
        help="deliver webhook posts for the PUBLIC https URL to the LOCAL one (repeatable)",
    )  # fmt: skip
    return parser.parse_args(argv)


def _print_record(token: str, record: OutgoingRecord) -> None:
    print(f"<< {record.summary()}", flush=True)
    for row in record.button_rows():
        print("   " + " | ".join(f"[{b.get('text')}]" for b in row), flush=True)


def _handle_line(sb: BotApiSandbox, token: str, user_id: int, line: str) -> None:
    """Turn one typed line into an incoming update; errors are printed, not fatal."""
    try:
        if line.startswith("!contact "):
            sb.send_contact(token, user_id, line.split(maxsplit=1)[1].strip())
        elif line.startswith("!file "):
            path, *caption = shlex.split(line[len("!file ") :])
            data = Path(path).read_bytes()
            sb.send_document(token, user_id, Path(path).name, data, " ".join(caption) or None)
        elif line.startswith("!press "):
            _, message_id, callback_data = line.split(maxsplit=2)
            sb.send_callback_query(token, user_id, int(message_id), callback_data)
        elif line:
            sb.send_text(token, user_id, line)
    except (OSError, ValueError, KeyError) as error:
        print(f"!! {error}", file=sys.stderr, flush=True)


async def _serve(args: argparse.Namespace) -> None:
    sb = BotApiSandbox(host=args.host, port=args.port)
    token = sb.create_bot(args.username, token=args.token)
    for public, local in args.route_webhook:
        sb.route_webhook(public, local)
    await sb.start()
    try:
        print(f"Bot API sandbox serving at {sb.url}", flush=True)
        print(f"  TELEGRAM_API_URL={sb.url}", flush=True)
        print(f"  token={token}  (@{args.username})", flush=True)
        print(f"  PTB: base_url={sb.base_url!r}, base_file_url={sb.base_file_url!r}", flush=True)
        if args.chat is not None:
            sb.make_user(args.chat, first_name=args.first_name)
            sb.add_listener(_print_record)
            loop = asyncio.get_running_loop()

            def read_stdin() -> None:
                # A daemon thread, so a blocked readline() never delays exit on Ctrl-C.
                for raw in sys.stdin:
                    loop.call_soon_threadsafe(_handle_line, sb, token, args.chat, raw.strip())

            threading.Thread(target=read_stdin, daemon=True).start()
            print(f"  typing as user {args.chat}; Ctrl-C to stop", flush=True)
        await asyncio.Event().wait()  # until cancelled by Ctrl-C
    finally:
        await sb.stop()


def main(argv: list[str] | None = None) -> None:
    args = _parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args))


if __name__ == "__main__":
    main()
