"""The command table: every slash command once, for every channel.

A channel adapter reads a command's name and arguments from its platform's message, builds
a `Request` and runs the command; it wires each entry once (a platform that routes commands
itself registers a handler per entry; a text-only channel looks the name up with `find`).
Commands are named in Vietnamese first, then in English (`/tonghop`, `/summary`).

A few commands are also typed as words, the way people write them on a phone: `dk CODE`
and `đăng ký CODE` (diacritics optional) are `/dangky CODE`. `parse_text_command` reads
them, before a text is taken for a report.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

from bot import texts
from bot.channel import Address, Capabilities
from bot.core import Core, Where
from bot.messaging.answers import Answer, Refusal, refused


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file sent with a command, fetched only once the command has allowed it."""

    filename: str | None
    size: int | None  # bytes, when the platform says so before the download
    fetch: Callable[[], Awaitable[bytes]]


@dataclass(frozen=True, slots=True)
class Request:
    """One command as the core sees it: who, where, its arguments, and what the channel can do."""

    where: Where
    args: list[str]
    capabilities: Capabilities
    attachment: Attachment | None = None
    # The name each sender last showed the channel (admins have no registered name): for
    # the audit log.
    known_names: Mapping[Address, str] = field(default_factory=dict)


Run = Callable[[Core, Request], Awaitable[Answer]]


@dataclass(frozen=True, slots=True)
class Command:
    names: tuple[str, ...]  # Vietnamese first, then English
    run: Run
    private_only: bool = False  # answered in a private chat only


async def _start(core: Core, request: Request) -> Answer:
    return await core.start(request.where.sender, request.capabilities)


async def _help(core: Core, request: Request) -> Answer:
    return core.help()


async def _import(core: Core, request: Request) -> Answer:
    """`/nhap` with a CSV or XLSX file: checked before the file is fetched."""
    sender = request.where.sender
    file = request.attachment
    if file is None:
        if core.is_admin(sender):
            return refused(Refusal.IMPORT_NEEDS_FILE, texts.IMPORT_NEEDS_FILE)
        return refused(Refusal.ADMIN_ONLY, texts.ADMIN_ONLY)
    refusal = core.may_import(sender, file.filename, file.size)
    if refusal is not None:
        return refusal
    return await core.import_units(sender, await file.fetch(), file.filename or "")


async def _assign(core: Core, request: Request) -> Answer:
    return await core.assign(request.where.sender, request.args)


async def _export(core: Core, request: Request) -> Answer:
    return await core.export(request.where.sender, request.args)


async def _summary(core: Core, request: Request) -> Answer:
    return await core.summary(request.where, request.args)


async def _missing(core: Core, request: Request) -> Answer:
    return await core.missing(request.where, request.args)


async def _remind(core: Core, request: Request) -> Answer:
    return await core.remind(request.where, request.args)


async def _history(core: Core, request: Request) -> Answer:
    return await core.history(request.where, request.args)


async def _dashboard(core: Core, request: Request) -> Answer:
    return await core.dashboard(request.where, request.args)
async def _results(core: Core, request: Request) -> Answer:
    return await core.results(request.where, request.args)


async def _missing_results(core: Core, request: Request) -> Answer:
    return await core.missing_results(request.where, request.args)


async def _subscribe(core: Core, request: Request) -> Answer:
    return await core.subscribe(request.where, request.args)


async def _unsubscribe(core: Core, request: Request) -> Answer:
    return await core.unsubscribe(request.where)


async def _register(core: Core, request: Request) -> Answer:
    return await core.register_by_code(request.where, request.args, request.known_names)


async def _invite(core: Core, request: Request) -> Answer:
    return await core.invite(request.where.sender, request.args)


async def _lock(core: Core, request: Request) -> Answer:
    return await core.set_lock(request.where.sender, request.args, locked=True)


async def _unlock(core: Core, request: Request) -> Answer:
    return await core.set_lock(request.where.sender, request.args, locked=False)


async def _audit(core: Core, request: Request) -> Answer:
    return await core.audit_log(request.where.sender, request.args, request.known_names)


COMMANDS: tuple[Command, ...] = (
    Command(("start",), _start, private_only=True),
    Command(("huongdan", "help"), _help),
    Command(("nhap", "import"), _import, private_only=True),
    Command(("phancong", "assign"), _assign),
    Command(("xuat", "export"), _export),
    Command(("bangtin", "dashboard"), _dashboard),
    Command(("tonghop", "summary"), _summary),
    Command(("chuabaocao", "missing"), _missing),
    Command(("nhacnho", "remind"), _remind),
    Command(("lichsu", "history"), _history),
    Command(("ketqua", "results"), _results),
    Command(("chuakq", "missingresults"), _missing_results),
    Command(("theodoi", "subscribe"), _subscribe),
    # `botheodoi` ("bỏ theo dõi") and `bothteodoi` (as this round's brief spells it): the
    # words people use to stop following, in a private chat too
    Command(("huytheodoi", "unsubscribe", "botheodoi", "bothteodoi"), _unsubscribe),
    Command(("dangky", "register"), _register, private_only=True),
    Command(("moi", "invite"), _invite, private_only=True),  # codes never go to a group
    Command(("khoa", "lock"), _lock),
    Command(("mokhoa", "unlock"), _unlock),
    Command(("nhatky", "audit"), _audit),
)
_BY_NAME = {name: command for command in COMMANDS for name in command.names}
IMPORT = _BY_NAME["nhap"]
REGISTER = _BY_NAME["dangky"]

# `/name`, optionally `@botname`, then the arguments: what a text-only channel reads.
_COMMAND = re.compile(r"/([A-Za-z0-9_]{1,32})(?:@\w+)?(?=\s|$)")


def find(name: str) -> Command | None:
    """The command of that name (either language, any case), or None."""
    return _BY_NAME.get(name.lower())


def parse_command(text: str) -> tuple[str, list[str]] | None:
    """(name, arguments) when the text is a slash command, else None (a report)."""
    stripped = text.strip()
    found = _COMMAND.match(stripped)
    if found is None:
        return None
    return found.group(1).lower(), stripped[found.end() :].split()


# `dk K7M2QX9P`, `Đăng ký: k7m2-qx9p`, `dang ky K7M2QX9P` (folded: lower case, no diacritics,
# đ → d, punctuation as spaces): the words, then at most four short pieces of a code.
_REGISTER_WORDS = re.compile(r"(?:dk|dang ?ky)(?: ([a-z0-9]+(?: [a-z0-9]+){0,3}))?")
_MAX_CODE_TEXT = 16  # letters and digits: longer is a sentence, not a code


def _fold(text: str) -> str:
    out = []
    for char in unicodedata.normalize("NFD", text.lower()):
        if unicodedata.category(char) == "Mn":
            continue
        out.append("d" if char == "đ" else char)
    return " ".join(re.sub(r"[^a-z0-9]+", " ", "".join(out)).split())


def parse_text_command(text: str) -> tuple[str, list[str]] | None:
    """(name, arguments) when the text is a command typed as words (`dk CODE`), else
    None. Only a short text counts (the words, then a code-sized remainder), so a report
    or a sentence is never taken for one."""
    if len(text) > 64:
        return None
    found = _REGISTER_WORDS.fullmatch(_fold(text))
    if found is None:
        return None
    rest = (found.group(1) or "").replace(" ", "")
    if len(rest) > _MAX_CODE_TEXT:
        return None
    return REGISTER.names[0], [rest] if rest else []
