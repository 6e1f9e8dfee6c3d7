"""Invitation codes: registration without a phone number, on any channel (issue 15).

A channel that never tells the bot a person's phone (Zalo) registers people by a code that
admins and supervisors hand out (`/moi`, `fieldtally invites`). The rules:

- a code is 8 characters of `ALPHABET` (no 0/O, 1/I/L to misread), drawn with `secrets`,
  read case-insensitively (spaces and dashes inside are ignored);
- it is bound to one (unit, phone): a phone listed on two units gets two codes; issuing a
  new code for a pair revokes that pair's unused code;
- it is valid until the later of the end of the day after the election date and 7 days
  after it was issued, and it is used once: registering with it makes the sender the
  phone's person, exactly as a shared contact of that phone would (`contacts.py`);
- it is stored only as a slow, salted hash (never the code, never logged): PBKDF2 with a
  fixed salt, so a code is found by its hash and a stolen database costs ~10⁴ hashes per
  guess of the 31⁸ ≈ 8.5·10¹¹ codes;
- five wrong codes from one identity within an hour lock that identity out of registration
  for an hour (stored: a restart does not lift it); a text that is not shaped like a code
  is refused without counting (it cannot guess anything);
- a code for a unit that another bot of the same channel serves (several Zalo bots, each
  for its subtree: `BotDirectory`) is refused with that bot's link, and stays unused.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum

from bot import texts
from bot.channel import Address
from bot.messaging.answers import Answer, Refusal, refused
from bot.messaging.directory import BotDirectory
from bot.model import Invitation, Person
from bot.registration.contacts import registration_reply
from storage.database import Database, Transaction
from storage.tree import UnitIndex

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 8
MIN_VALIDITY = dt.timedelta(days=7)
WRONG_CODES_ALLOWED = 5  # the fifth wrong code within the window locks the identity out
WRONG_CODE_WINDOW = 3600  # seconds
LOCKOUT = 3600  # seconds
# The channel whose bots an invitation's link opens (CHANNELS.md: registration by code is
# how people join on it; codes work on every channel).
LINK_CHANNEL = "zalo"

_SALT = b"fieldtally/invitation-code/v1"
_ITERATIONS = 20_000  # ~5 ms a code on one core
_CODE = re.compile(f"[{ALPHABET}]{{{CODE_LENGTH}}}")
_SEPARATORS = re.compile(r"[\s\-.]+")


def new_code() -> str:
    """A fresh random code."""
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def read_code(text: str) -> str | None:
    """The code a person typed (any case, spaces or dashes inside), or None when the text is
    not shaped like a code."""
    candidate = _SEPARATORS.sub("", text).upper()
    return candidate if _CODE.fullmatch(candidate) else None


def code_hash(code: str) -> str:
    """What is stored of a code (hex), from its canonical form (`read_code`)."""
    return hashlib.pbkdf2_hmac("sha256", code.encode("ascii"), _SALT, _ITERATIONS).hex()


def expires_at(issued: dt.datetime, election_date: dt.date) -> dt.datetime:
    """The later of the end of the day after the election (in `issued`'s time zone) and 7
    days after issue."""
    day_after_ends = dt.datetime.combine(
        election_date + dt.timedelta(days=2), dt.time(0, 0), issued.tzinfo
    )
    return max(day_after_ends, issued + MIN_VALIDITY)


@dataclass(frozen=True, slots=True)
class InvitationRow:
    """One line of the file `/moi` and `fieldtally invites` hand out."""

    unit_code: str
    unit_name: str
    phone: str  # `+84…`
    code: str
    bot_link: str  # empty when no bot of the link channel serves the unit


@dataclass(frozen=True, slots=True)
class IssuedInvitations:
    rows: list[InvitationRow]
    valid_until: dt.date  # the last day the first code is valid on (all share it, but for
    # a batch issued across midnight)


def invitation_link(directory: BotDirectory, units: UnitIndex, unit_code: str) -> str:
    entry = directory.serving(units, unit_code, LINK_CHANNEL)
    return "" if entry is None else entry.link


async def issue(
    db: Database,
    unit_code: str,
    directory: BotDirectory,
    *,
    now: dt.datetime,
    election_date: dt.date,
    by: Address,
) -> IssuedInvitations:
    """New codes for every (unit, phone) of the subtree of `unit_code` (revoking the pairs'
    unused codes), in the subtree's order; audited without the codes."""
    units = db.units
    pairs = [(unit, phone) for unit in units.subtree(unit_code) for phone in unit.contact_phones]
    expiry = expires_at(now, election_date)
    issued_at, until = int(now.timestamp()), int(expiry.timestamp())

    def draw() -> tuple[str, str]:
        code = new_code()
        return code, code_hash(code)

    drawn = await asyncio.to_thread(lambda: [draw() for _ in pairs])

    def store(tx: Transaction) -> list[str]:
        codes = []
        for (unit, phone), (code, hashed) in zip(pairs, drawn, strict=True):
            while not tx.add_invitation(Invitation(hashed, unit.code, phone, issued_at, until)):
                code, hashed = draw()  # taken by another code (~1 in 10⁶ per code issued)
            codes.append(code)
        tx.audit(by, "invite", texts.audit_invite_detail(unit_code, len(pairs)))
        return codes

    codes = await db.write(store)
    rows = [
        InvitationRow(
            unit.code, unit.name, phone, code, invitation_link(directory, units, unit.code)
        )
        for (unit, phone), code in zip(pairs, codes, strict=True)
    ]
    last_day = (expiry - dt.timedelta(seconds=1)).date()
    return IssuedInvitations(rows, last_day)


class _Verdict(Enum):
    REGISTERED = "registered"
    AGAIN = "again"  # the sender used this code before: registered already
    MALFORMED = "malformed"
    WRONG = "wrong"
    LOCKED = "locked"
    LOCKED_NOW = "locked_now"
    USED = "used"
    EXPIRED = "expired"
    REVOKED = "revoked"
    WRONG_BOT = "wrong_bot"


@dataclass(frozen=True, slots=True)
class _Result:
    verdict: _Verdict
    phone: str = ""
    unit_code: str = ""
    link: str = ""
    wrong_codes: int = 0
    locked_until: int = 0


async def redeem(
    db: Database,
    directory: BotDirectory,
    *,
    sender: Address,
    chat: Address,
    bot: str,
    text: str,
    now: dt.datetime,
    known_names: Mapping[Address, str] | None = None,
) -> Answer:
    """`dk CODE` from `sender` through `bot`: registered (the reply names their units, as a
    shared contact's), or refused with the reason."""
    code = read_code(text)
    hashed = None if code is None else await asyncio.to_thread(code_hash, code)
    moment = int(now.timestamp())
    fallback_name = (known_names or {}).get(sender, "").strip()

    def judge(tx: Transaction) -> _Result:
        locked = tx.registration_locked_until(sender, moment)
        if locked is not None:
            return _Result(_Verdict.LOCKED, locked_until=locked)
        if hashed is None:
            return _Result(_Verdict.MALFORMED)
        invitation = tx.invitation(hashed)
        if invitation is None:
            wrong = tx.add_registration_failure(sender, moment, WRONG_CODE_WINDOW)
            if wrong >= WRONG_CODES_ALLOWED:
                tx.lock_registration(sender, moment + LOCKOUT)
                return _Result(_Verdict.LOCKED_NOW, locked_until=moment + LOCKOUT)
            return _Result(_Verdict.WRONG, wrong_codes=wrong)
        phone, code_unit = invitation.phone, invitation.unit_code
        if invitation.used_at is not None:
            again = invitation.used_by == sender
            return _Result(_Verdict.AGAIN if again else _Verdict.USED, phone, code_unit)
        units = tx.unit_index()
        unit = units.get(code_unit)
        if invitation.revoked or unit is None or phone not in unit.contact_phones:
            return _Result(_Verdict.REVOKED, phone, code_unit)
        if moment >= invitation.expires_at:
            return _Result(_Verdict.EXPIRED, phone, code_unit)
        serving = directory.serving(units, unit.code, sender.channel)
        if serving is not None and serving.bot != bot:
            return _Result(_Verdict.WRONG_BOT, phone, unit.code, serving.link)
        if not tx.use_invitation(hashed, sender, moment):
            return _Result(_Verdict.USED, phone, code_unit)
        name = tx.name_of_phone(phone) or fallback_name
        name = name or texts.invited_name(unit.code, is_area=unit.is_area)
        tx.save_person(Person(sender, phone, name, chat))
        return _Result(_Verdict.REGISTERED, phone, unit.code)

    result = await db.write(judge)
    verdict = result.verdict
    if verdict in (_Verdict.REGISTERED, _Verdict.AGAIN):
        return registration_reply(db, await db.units_of_phone(result.phone))
    if verdict is _Verdict.MALFORMED:
        return refused(Refusal.INVITATION_UNKNOWN, texts.INVITATION_MALFORMED)
    if verdict is _Verdict.WRONG:
        left = WRONG_CODES_ALLOWED - result.wrong_codes
        return refused(Refusal.INVITATION_UNKNOWN, texts.invitation_wrong(left))
    if verdict in (_Verdict.LOCKED, _Verdict.LOCKED_NOW):
        until = dt.datetime.fromtimestamp(result.locked_until, now.tzinfo)
        body = texts.registration_locked(until, just_now=verdict is _Verdict.LOCKED_NOW)
        return refused(Refusal.REGISTRATION_LOCKED, body)
    if verdict is _Verdict.USED:
        return refused(Refusal.INVITATION_USED, texts.INVITATION_USED)
    if verdict is _Verdict.EXPIRED:
        return refused(Refusal.INVITATION_EXPIRED, texts.INVITATION_EXPIRED)
    if verdict is _Verdict.REVOKED:
        return refused(Refusal.INVITATION_EXPIRED, texts.INVITATION_REVOKED)
    unit = db.units.get(result.unit_code)
    label = texts.unit_label(unit.code, unit.name) if unit is not None else result.unit_code
    return refused(Refusal.WRONG_BOT, texts.invitation_wrong_bot(label, result.link))
