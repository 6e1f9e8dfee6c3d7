"""`fieldtally try`: play every person of election day by hand, with no token and no network.

One process runs the project's Bot-API sandbox and the real bot against it (as `fieldtally
demo` does, with the demo's unit list loader and simulated clock); an admin imports the unit
list, then each line read from standard input is sent to the bot by the person being played:

    /as admin                   the admin (in FIELDTALLY_ADMINS of this session)
    /as chief <area code>       the chief of an area (registers by sharing their phone)
    /as supervisor <code> [phone]  a supervisor of an inner unit (its first contact phone)
    /as group <name>            the same person, now writing in group <name>
    /contact [phone]            share your own contact (default: the person's phone)
    /file <path> [caption]      send a file, e.g. `/file units.csv /nhap`
    /edit <text>                edit the last message you sent in this chat
    /time HH:MM                 move the simulated clock forward
    /try                        this list
    /quit                       (or end of input) stop
    anything else               a message from the person played

The bot's answers are printed as a chat shows them (the
HTML markup rendered as plain text); charts and files it sends are written to the output
folder and their paths printed. Reading standard input makes a session scriptable: pipe a
file of lines into `fieldtally try` and every answer is printed in order.

Each line waits for all of the bot's answers: after it, the same person sends `/huongdan` in
the same chat, and the answer quoting that message is the barrier (the bot handles a chat's
updates in order, so every earlier answer has been sent). The barrier is not shown.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import re
import shlex
import sys
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final, TextIO

from bot.settings import Settings
from fieldtally.demo import (
    ELECTION_DAY,
    TZ,
    DemoError,
    SimClock,
    UnitList,
    _quoted,
    _started,
    load_unit_list,
)
from handlers.telegram.settings import TelegramSettings
from sandbox import BotApiSandbox, OutgoingRecord, SimUser

__all__ = ["DEFAULT_OUTPUT", "SESSION_HELP", "Playground", "main"]

SESSION_HELP: Final = (__doc__ or "").split("\n\n")[2]  # the commands of a session

DEFAULT_OUTPUT: Final = Path("try-output")
ADMIN_ID: Final = 1
ADMIN_NAME: Final = "Quản trị viên"
FIRST_PERSON_ID: Final = 1001
FIRST_GROUP_ID: Final = -1_001_700_000_001
ANSWER_TIMEOUT: Final = 60.0  # real seconds for all the answers to one line
BARRIER: Final = "/huongdan"


class TryError(Exception):
    """A line of the session the playground cannot carry out (shown, then it goes on)."""


@dataclass
class Person:
    label: str  # "admin", "chief 02752-01", "supervisor 02752"
    user: SimUser
    phone: str | None
    shared_contact: bool = False


class Playground:
    """The sandbox, the bot, the people played so far, and what the bot said."""

    def __init__(self, units: UnitList, output: Path, start: dt.datetime, out: TextIO) -> None:
        self.units = units
        self.output = output
        self.out = out
        self.clock = SimClock(start, speed=1.0)
        self.clock.start()
        self.sandbox = BotApiSandbox(clock=self.now)
        self.sandbox.add_listener(self._on_record)
        self.token = ""
        self.people: dict[str, Person] = {}
        self.groups: dict[str, int] = {}
        self.chat_labels: dict[int, str] = {}
        self.person = self._admin()
        self.chat: int | None = None  # None: the person's private chat with the bot
        self.last_sent: dict[tuple[int, int], int] = {}  # (user, chat) -> message id
        self._barriers: dict[tuple[int, int], asyncio.Event] = {}
        self.files: list[Path] = []
        self.on_terminal = sys.stdin.isatty()

    def now(self) -> dt.datetime:
        return self.clock.now()

    # -- people and chats -----------------------------------------------------------------

    def _make_person(self, key: str, name: str, phone: str | None) -> Person:
        if key not in self.people:
            user_id = ADMIN_ID if key == "admin" else FIRST_PERSON_ID + len(self.people)
            user = self.sandbox.make_user(user_id, first_name=name)
            self.people[key] = Person(key, user, phone)
            self.chat_labels[user_id] = key
        return self.people[key]

    def _admin(self) -> Person:
        return self._make_person("admin", ADMIN_NAME, None)

    def _unit(self, code: str, *, area: bool) -> tuple[str, str, tuple[str, ...]]:
        row = next((r for r in self.units.tree if r.code.lower() == code.lower()), None)
        if row is None:
            raise TryError(f"no unit {code!r} in {self.units.filename}")
        if self.units.tree.is_leaf(row.code) != area:
            what = "a polling area" if area else "an inner unit (commune, district…)"
            raise TryError(f"{row.code} is not {what}")
        return row.code, row.name, row.contact_phones

    async def play_as(self, args: list[str]) -> None:
        role, rest = (args[0].lower(), args[1:]) if args else ("", [])
        if role == "admin" and not rest:
            self.person, self.chat = self._admin(), None
        elif role == "chief" and len(rest) == 1:
            code, name, phones = self._unit(rest[0], area=True)
            self.person = self._make_person(f"chief {code}", f"Tổ trưởng {name}", phones[0])
            self.chat = None
        elif role == "supervisor" and len(rest) in (1, 2):
            code, name, phones = self._unit(rest[0], area=False)
            phone = rest[1] if len(rest) == 2 else (phones[0] if phones else None)
            if phone is None:
                raise TryError(
                    f"{code} has no contact phone: as admin, `/phancong {code} 0912345678`, "
                    f"then `/as supervisor {code} 0912345678`"
                )
            self.person = self._make_person(f"supervisor {code}", f"Giám sát {name}", phone)
            self.chat = None
        elif role == "group" and len(rest) >= 1:
            title = " ".join(rest)
            if title not in self.groups:
                chat_id = FIRST_GROUP_ID - len(self.groups)
                self.groups[title] = chat_id
                self.sandbox.make_group(chat_id, title)
                self.chat_labels[chat_id] = f"group {title}"
            self.chat = self.groups[title]
        else:
            raise TryError("/as admin | chief <area> | supervisor <code> [phone] | group <name>")
        self._say(f"now: {self.who}")
        person = self.person
        if self.chat is None and person.phone is not None and not person.shared_contact:
            person.shared_contact = True  # a new chief or supervisor registers first
            await self.exchange(f"[shares own contact {person.phone}]", contact=person.phone)

    def prompt(self) -> str:
        return f"[{self.now():%H:%M} {self.who}] › "

    @property
    def who(self) -> str:
        where = f" in {self.chat_labels[self.chat]}" if self.chat is not None else ""
        return f"{self.person.label}{where}"

    # -- talking to the bot ---------------------------------------------------------------

    async def exchange(
        self,
        shown: str,
        *,
        text: str | None = None,
        contact: str | None = None,
        document: tuple[str, bytes, str | None] | None = None,
        edit: str | None = None,
        typed: bool = False,
    ) -> None:
        """Send one message as the current person and print every answer to it (and what was
        sent, unless it is the line just typed on a terminal, already on the screen)."""
        user, chat = self.person.user, self.chat if self.chat is not None else self.person.user.id
        chat_arg = None if chat == user.id else chat
        moment = self.now().replace(microsecond=0)
        edited = self.last_sent.get((user.id, chat))
        if edit is not None and edited is None:
            raise TryError("nothing to edit: you have sent no text in this chat")
        if not (typed and self.on_terminal):
            self._say(f"» [{moment:%H:%M}] {self.who}: {shown}")
        if contact is not None:
            self.sandbox.send_contact(self.token, user, contact, chat_id=chat_arg, date=moment)
        elif document is not None:
            name, content, caption = document
            self.sandbox.send_document(
                self.token, user, name, content, caption=caption, chat_id=chat_arg, date=moment
            )
        elif edit is not None and edited is not None:
            self.sandbox.edit_text(self.token, user, chat_arg, edited, edit, edit_date=moment)
        else:
            assert text is not None
            sent = self.sandbox.send_text(self.token, user, text, chat_id=chat_arg, date=moment)
            self.last_sent[(user.id, chat)] = int(sent["message_id"])
        barrier = self.sandbox.send_text(self.token, user, BARRIER, chat_id=chat_arg, date=moment)
        done = self._barriers[(chat, int(barrier["message_id"]))] = asyncio.Event()
        try:
            await asyncio.wait_for(done.wait(), ANSWER_TIMEOUT)
        except TimeoutError:
            self._say(f"  (no answer within {ANSWER_TIMEOUT:g} s)")

    def _on_record(self, token: str, record: OutgoingRecord) -> None:
        quoted = _quoted(record)
        if quoted is not None and (record.chat_id, quoted) in self._barriers:
            self._barriers.pop((record.chat_id, quoted)).set()
            return
        current = self.chat if self.chat is not None else self.person.user.id
        to = "" if record.chat_id == current else f"[to {self._label(record.chat_id)}] "
        if record.photo is not None:
            path = self._keep(f"chart-{len(self.files) + 1:02d}.png", record.photo.content)
            body = f"[chart] {path}" + (f" {record.plain_text}" if record.plain_text else "")
        elif record.document is not None:
            name = record.document.filename or f"file-{len(self.files) + 1:02d}"
            path = self._keep(name, record.document.content)
            body = f"[file] {path}" + (f"\n{record.plain_text}" if record.plain_text else "")
        elif record.method not in ("sendMessage", "editMessageText"):
            return  # menus, chat actions: nothing a person reads
        else:
            body = record.plain_text or ""
        for row in record.button_rows():
            buttons = " ".join(f"[{b.get('text')}]" for b in row)
            body += f"\n{buttons} (/contact presses the phone button)"
        first, *rest = body.split("\n")
        self._say("\n".join([f"  « {to}{first}", *(f"    {line}" for line in rest)]))

    def _label(self, chat_id: int) -> str:
        return self.chat_labels.get(chat_id, str(chat_id))

    def _keep(self, name: str, content: bytes) -> Path:
        self.output.mkdir(parents=True, exist_ok=True)
        path = self.output / Path(name).name
        path.write_bytes(content)
        self.files.append(path)
        return path

    def _say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    # -- one line of input ----------------------------------------------------------------

    async def line(self, raw: str) -> bool:
        """Carry out one line; False to stop."""
        line = raw.strip()
        if not line:
            return True
        command, _, rest = line.partition(" ")
        try:
            match command.lower():
                case "/quit" | "/exit":
                    return False
                case "/as":
                    await self.play_as(rest.split())
                case "/contact":
                    phone = rest.strip() or self.person.phone
                    if not phone:
                        raise TryError("/contact <phone>: this person has no phone yet")
                    await self.exchange(f"[shares own contact {phone}]", contact=phone)
                case "/file":
                    path, *caption = shlex.split(rest) or [""]
                    content = await asyncio.to_thread(Path(path).read_bytes)
                    shown = f"[file {Path(path).name}] {' '.join(caption)}".rstrip()
                    document = (Path(path).name, content, " ".join(caption) or None)
                    await self.exchange(shown, document=document)
                case "/edit":
                    await self.exchange(f"[edits the last message] {rest}", edit=rest)
                case "/time":
                    self.set_time(rest.strip())
                case "/try" | "/?":
                    self._say(SESSION_HELP)
                case _:
                    await self.exchange(line, text=line, typed=True)
        except (TryError, OSError, ValueError) as error:
            self._say(f"  !! {error}")
        return True

    def set_time(self, text: str) -> None:
        found = re.fullmatch(r"(\d{1,2})(?:[:h](\d{2}))?h?", text.strip().lower())
        try:
            assert found is not None
            hour, minute = int(found[1]), int(found[2] or 0)
            moment = dt.datetime.combine(self.now().date(), dt.time(hour, minute), TZ)
        except (AssertionError, ValueError):
            raise TryError("/time HH:MM, e.g. /time 11:30") from None
        if moment < self.now():
            raise TryError(f"the clock only moves forward (it is {self.now():%H:%M})")
        self.clock = SimClock(moment, speed=1.0)
        self.clock.start()
        self._say(f"  (the time is now {moment:%H:%M})")

    # -- the session ----------------------------------------------------------------------

    def telegram_settings(self) -> TelegramSettings:
        values = {"TELEGRAM_BOT_TOKEN": self.token, "TELEGRAM_API_URL": self.sandbox.url}
        return TelegramSettings(_env_file=None, **values)  # type: ignore[arg-type]

    def settings(self, workdir: Path) -> Settings:
        values = {
            "FIELDTALLY_DB": str(workdir / "try.db"),
            "FIELDTALLY_ADMINS": str(ADMIN_ID),
            "FIELDTALLY_TZ": "Asia/Ho_Chi_Minh",
            "FIELDTALLY_ELECTION_DATE": ELECTION_DAY.isoformat(),
        }
        return Settings(_env_file=None, **values)  # type: ignore[arg-type]

    async def run(self, lines: _Input, workdir: Path) -> None:
        from handlers.run import (
            run_bot,  # Telegram is loaded only for the bot itself
        )

        await self.sandbox.start()
        try:
            self.token = self.sandbox.create_bot("fieldtally_bot")
            stop, ready = asyncio.Event(), asyncio.Event()
            bot = asyncio.create_task(
                run_bot(self.settings(workdir), self.telegram_settings(), stop, poll_timeout=1,
                        ready=ready, clock=self.now, chart_workers=1)
            )  # fmt: skip
            try:
                await _started(bot, ready)
                self._banner()
                name, content = self.units.filename, self.units.content
                await self.exchange(f"[file {name}] /nhap", document=(name, content, "/nhap"))
                while (raw := await lines.next()) is not None and await self.line(raw):
                    pass
            finally:
                stop.set()
                await asyncio.wait_for(bot, timeout=60)
        finally:
            await self.sandbox.stop()

    def _banner(self) -> None:
        tree = self.units.tree
        area = next(row for row in tree if tree.is_leaf(row.code))
        inner = tree.get(area.parent_code) if area.parent_code else None
        self._say(
            f"fieldtally try — election day {ELECTION_DAY:%d/%m/%Y}, simulated time "
            f"{self.now():%H:%M}; files the bot sends go to {self.output}/\n"
            f"You are the admin (Telegram user {ADMIN_ID}, in FIELDTALLY_ADMINS of this "
            "session; on a real server put your own Telegram user id there).\n"
            f"Try: /as chief {area.code} · 250/{area.registered_voters or 300} · "
            + (f"/as supervisor {inner.code} · /tonghop · " if inner is not None else "")
            + "/as group H1 · /as admin · /huongdan · /try (this help) · /quit"
        )


class _Input:
    """Standard input, a line at a time, read in a daemon thread (a blocked read never delays
    the exit); None at its end. On a terminal, the next line is asked for, with a prompt and
    line editing, only once the answers to the last one are printed."""

    def __init__(self, loop: asyncio.AbstractEventLoop, prompt: Callable[[], str]) -> None:
        self._loop = loop
        self._prompt = prompt
        self._lines: asyncio.Queue[str | None] = asyncio.Queue()
        self._wanted = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _put(self, line: str | None) -> None:
        self._loop.call_soon_threadsafe(self._lines.put_nowait, line)

    def _read(self) -> None:
        if not sys.stdin.isatty():
            for raw in sys.stdin:
                self._put(raw)
        else:
            import readline  # noqa: F401  -- line editing and history for input()

            while self._wanted.wait():
                self._wanted.clear()
                try:
                    self._put(input(self._prompt()))
                except EOFError:
                    break
        self._put(None)

    async def next(self) -> str | None:
        self._wanted.set()
        return await self._lines.get()


async def _session(units: Path | None, output: Path, at: str) -> Playground:
    try:
        start = dt.datetime.combine(ELECTION_DAY, dt.time.fromisoformat(at.zfill(5)), TZ)
    except ValueError:
        raise DemoError(f"--at {at!r}: expected HH:MM, e.g. 07:00") from None
    playground = Playground(load_unit_list(units), output, start, sys.stdout)
    lines = _Input(asyncio.get_running_loop(), playground.prompt)
    with tempfile.TemporaryDirectory(prefix="fieldtally-try-") as workdir:
        await playground.run(lines, Path(workdir))
    return playground


def main(units: Path | None = None, output: Path | None = None, at: str = "07:00") -> int:
    """`fieldtally try`: a session on standard input; 0 at its end."""
    output = DEFAULT_OUTPUT if output is None else output
    try:
        playground = asyncio.run(_session(units, output, at))
    except DemoError as error:
        print(f"fieldtally try: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    with contextlib.suppress(ValueError):
        if playground.files:
            print(f"{len(playground.files)} files in {output}/")
    return 0
