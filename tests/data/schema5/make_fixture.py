"""Makes `release_69f67f9.json`: a schema-5 database as the release before issue 13 (commit
69f67f9) filled it, and the figures that release showed, for tests/test_schema_upgrade.py.

Runs only against that release's code (its integer ids), not the current tree:

    git worktree add /tmp/rel 69f67f9
    cd /tmp/rel && PYTHONPATH=/tmp/rel /path/to/.venv/bin/python \
        /path/to/tests/data/schema5/make_fixture.py /path/to/tests/data/schema5/release_69f67f9.json
    git worktree remove /tmp/rel

Through the release's real Core on a SQLite file: the Mường Khương sample imported by an
admin (and once more from the command line), chiefs and a supervisor registered by their
shared contacts, turnout, COVID and completion reports (one edited, one corrected), two
groups subscribed (one of whose units finishes), a lock and an unlock, the durable inbox
with updates waiting and the polling offset; a report stored with no bot (bot 0).
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
import sqlite3
import sys
import tempfile
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.core import Core, Where
from bot.monitoring.export import export_rows
from bot.registration.unit_import import import_units
from bot.settings import load_settings
from bot.turnout.intake import InboundText

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
BOT_ID = 5550001
ADMIN = 42
SUPERVISOR = 2000
GROUP_COMMUNE = -1001000777
GROUP_OTHER = -1001000888
SAMPLE = Path("fieldtally/data/samples/muong_khuong_2021_units.csv")
AREAS = [f"02752-{n:02d}" for n in range(1, 10)]


def at(hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2021, 5, 23, hour, minute, tzinfo=TZ)


async def fill(path: Path, sample: bytes) -> dict[str, object]:
    env = dict(
        FIELDTALLY_DB=str(path),
        TELEGRAM_BOT_TOKEN=f"{BOT_ID}:TESTTOKENabcdef",
        FIELDTALLY_ADMINS=str(ADMIN),
    )
    settings = load_settings(**env)
    clock = [at(7)]
    core = await Core.open(settings, chart_workers=1, clock=lambda: clock[0])
    replies: list[str] = []
    try:
        replies.append(await core.import_units(ADMIN, sample, SAMPLE.name))
        # chiefs 1001.. of 02752-01..09 and 1010 of 02755-01; the supervisor of 02752
        csv = sample.decode().splitlines()
        phones = {line.split(",")[0]: line.split(",")[6] for line in csv[1:]}
        chiefs = {code: 1001 + i for i, code in enumerate([*AREAS, "02755-01"])}
        for code, user in chiefs.items():
            replies.append(
                await core.register(
                    sender_id=user, chat_id=user, contact_user_id=user,
                    phone=phones[code], name=f"Tổ trưởng {code}",
                )
            )  # fmt: skip
        replies.append(
            await core.register(
                sender_id=SUPERVISOR, chat_id=SUPERVISOR, contact_user_id=SUPERVISOR,
                phone=phones["02752"], name="Giám sát Pha Long",
            )
        )  # fmt: skip
        commune = Where(SUPERVISOR, GROUP_COMMUNE, True, "Pha Long")
        replies.append(await core.subscribe(commune, ["02752"]))
        replies.append(await core.subscribe(Where(ADMIN, GROUP_OTHER, True, "Huyện"), ["MK"]))

        message_id = 100

        async def say(user: int, text: str, when: dt.datetime, **edit: object) -> list[str]:
            nonlocal message_id
            clock[0] = when
            if not edit:
                message_id += 1
            inbound = InboundText(
                chat_id=user, message_id=int(edit.get("message_id", message_id)),  # type: ignore[call-overload]
                sender_id=user, text=text, sent_at=when,
                edited_at=edit.get("edited_at"),  # type: ignore[arg-type]
                edit_version=int(edit.get("edit_version", 0)),  # type: ignore[call-overload]
            )  # fmt: skip
            result = await core.report(inbound)
            return result.replies

        for i, code in enumerate(AREAS):
            chief = chiefs[code]
            listed = int(next(line for line in csv if line.startswith(code + ",")).split(",")[4])
            replies += await say(chief, f"{listed // 3}/{listed} 9h", at(9, 5))
            replies += await say(chief, f"xn {14 + i % 3}/16 am tinh", at(9, 10))
            replies += await say(chief, f"{listed // 2 + i}/{listed} 11h", at(11, 2))
        # an edit: the message's new version replaces what it said
        first = chiefs[AREAS[0]]
        replies += await say(first, "200/275 13h", at(13, 1))
        replies += await say(
            first, "210/275 13h", at(13, 1), message_id=message_id,
            edited_at=at(13, 3), edit_version=7001,
        )  # fmt: skip
        # a correction
        replies += await say(chiefs[AREAS[1]], "sửa 140/273 11h", at(11, 30))
        # completions: the commune finishes, its group hears of it once
        for code in AREAS:
            listed = int(next(line for line in csv if line.startswith(code + ",")).split(",")[4])
            replies += await say(chiefs[code], f"xong 16h {listed - 3}/{listed}", at(16, 5))
        replies += await say(chiefs["02755-01"], "100/291 9h", at(9, 30))
        # an admin reports for an area with its prefix
        replies += await say(ADMIN, "02755-02: 120/298 10h", at(10, 1))
        replies.append(await core.set_lock(ADMIN, ["02758"], True))
        replies.append(await core.set_lock(ADMIN, ["02758"], False))
        # the inbox: updates stored, two handled, three waiting; the offset past them
        payloads = [(9001 + n, json.dumps({"update_id": 9001 + n, "n": n})) for n in range(5)]
        await core.inbox.store(payloads)
        core.inbox.done(9001)
        core.inbox.done(9002)
        await core.inbox.flush()
        replies += [json.dumps(r) for r in await core.inbox.pending()]
    finally:
        await core.close()

    # the command line imports the same list again (audit by user 0), and a core without a
    # token (bot 0) stores one report
    cli = load_settings(FIELDTALLY_DB=str(path), FIELDTALLY_ADMINS=str(ADMIN))
    core = await Core.open(cli, chart_workers=1, clock=lambda: at(10, 30))
    try:
        _, reply = await import_units(core.db, sample, SAMPLE.name, by_user=0)
        replies.append(reply)
        result = await core.report(
            InboundText(chat_id=ADMIN, message_id=1, sender_id=ADMIN,
                        text="02758-01: 90/283 10h", sent_at=at(10, 25))
        )  # fmt: skip
        replies += result.replies
        figures = await figures_of(core)
    finally:
        await core.close()
    return {"replies": replies, **figures}


async def figures_of(core: Core) -> dict[str, object]:
    db = core.db
    units = [unit.code for unit in db.units]
    totals = await db.totals_of(units)
    export = await export_rows(db, "LC", TZ)
    history = {}
    for code in [*AREAS, "02755-01", "02755-02", "02758-01"]:
        reports = await db.area_reports(code, include_replaced=True)
        history[code] = [dataclasses.asdict(r) for r in reports]
    return {
        "totals": {code: dataclasses.asdict(t) for code, t in totals.items()},
        "export": [
            dataclasses.asdict(row) if dataclasses.is_dataclass(row) else row for row in export
        ],
        "reports": history,
    }


def dump(path: Path) -> dict[str, object]:
    connection = sqlite3.connect(path)
    assert connection.execute("PRAGMA user_version").fetchone()[0] == 5
    tables = {}
    for (name,) in connection.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
    ):
        cursor = connection.execute(f"SELECT * FROM {name}")
        columns = [c[0] for c in cursor.description]
        tables[name] = {"columns": columns, "rows": [list(r) for r in cursor]}
    return tables


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "release.db"
        expected = asyncio.run(fill(path, SAMPLE.read_bytes()))
        tables = dump(path)
    out = {"release": "69f67f9", "schema_version": 5, "tables": tables, "expected": expected}
    Path(sys.argv[1]).write_text(json.dumps(out, ensure_ascii=False, indent=1, default=str) + "\n")


if __name__ == "__main__":
    main()
