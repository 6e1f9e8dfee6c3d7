"""Run the Zalo sandbox by hand: ``python -m sandbox.zalo --port 8082``.

Serves until Ctrl-C with one bot (``--token`` to choose it) and prints what to set:
ZALO_API_URL and ZALO_BOT_TOKEN. With ``--chat NAME`` every line typed on stdin is sent to
the bot by that simulated person, and whatever the bot sends is printed (``!image URL
[caption]`` and ``!sticker`` send the other kinds of message). For a bot in webhook mode,
``--route-webhook https://bot.example.org http://127.0.0.1:8080`` delivers its posts locally.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import threading

from sandbox.zalo.models import SentMessage, SentPhoto
from sandbox.zalo.server import ZaloSandbox
from sandbox.zalo.wire import TOKEN_RE


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m sandbox.zalo", description=(__doc__ or "").split("\n")[0]
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8082, help="0 picks a free port")
    parser.add_argument("--token", help="the bot's token, <numeric id>:<secret>")
    parser.add_argument("--account-name", default="bot.fieldtally", help="getMe's account_name")
    parser.add_argument("--can-join-groups", action="store_true")
    parser.add_argument("--quota", type=int, default=3000, help="messages per month")
    parser.add_argument("--lose-unpolled", action="store_true", help="as the real platform")
    parser.add_argument("--chat", metavar="NAME", help="chat with the bot via stdin as NAME")
    parser.add_argument(
        "--route-webhook", nargs=2, action="append", default=[], metavar=("PUBLIC", "LOCAL"),
        help="deliver webhook posts for the PUBLIC URL to the LOCAL one (repeatable)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if args.token is not None and not TOKEN_RE.match(args.token):
        parser.error("--token must look like <numeric bot id>:<secret>")
    return args


def _print_record(bot_id: str, record: SentMessage | SentPhoto) -> None:
    if isinstance(record, SentMessage):
        print(f"<< {record.text}", flush=True)
    else:
        caption = f" {record.caption}" if record.caption else ""
        print(f"<< [photo {record.url}, {len(record.content)} bytes]{caption}", flush=True)


def _handle_line(zs: ZaloSandbox, token: str, name: str, line: str) -> None:
    """One typed line as a message of ``name``; errors are printed, not fatal."""
    try:
        if line.startswith("!image "):
            url, _, caption = line[len("!image ") :].strip().partition(" ")
            zs.user_sends_image(token, name, url, caption or None)
        elif line.strip() == "!sticker":
            zs.user_sends_sticker(token, name)
        elif line:
            zs.user_says(token, name, line)
    except (KeyError, ValueError) as error:
        print(f"!! {error}", file=sys.stderr, flush=True)


async def _serve(args: argparse.Namespace) -> None:
    zs = ZaloSandbox(host=args.host, port=args.port, lose_unpolled=args.lose_unpolled)
    bot_id, secret = (args.token.split(":", 1)) if args.token else (None, None)
    token, bot_id = zs.add_bot(
        args.account_name,
        bot_id=bot_id,
        secret=secret,
        can_join_groups=args.can_join_groups,
        quota=args.quota,
    )
    for public, local in args.route_webhook:
        zs.route_webhook(public, local)
    await zs.start()
    try:
        print(f"Zalo Bot API sandbox serving at {zs.url}", flush=True)
        print(f"  ZALO_API_URL={zs.url}", flush=True)
        print(f"  ZALO_BOT_TOKEN={token}  (bot id {bot_id}, {args.account_name})", flush=True)
        if args.chat is not None:
            zs.add_listener(_print_record)
            loop = asyncio.get_running_loop()

            def read_stdin() -> None:
                # A daemon thread, so a blocked readline() never delays exit on Ctrl-C.
                for raw in sys.stdin:
                    loop.call_soon_threadsafe(_handle_line, zs, token, args.chat, raw.strip())

            threading.Thread(target=read_stdin, daemon=True).start()
            print(f"  typing as {args.chat}; Ctrl-C to stop", flush=True)
        await asyncio.Event().wait()  # until cancelled by Ctrl-C
    finally:
        await zs.stop()


def main(argv: list[str] | None = None) -> None:
    args = _parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args))


if __name__ == "__main__":
    main()
