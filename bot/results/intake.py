"""The counting record's flow in the chat (RESULTS.md, "The counting record, in the chat"),
on any channel.

A private message that `parse_record` recognises is a counting record: it is tied to an
area the sender may report for, checked (`bot/results/checks.py`) against the area's
electoral unit, candidates, imported list and last turnout report, and then either refused
with every blocking error (nothing kept) or read back and kept as the sender's *pending*
record (one per sender, durably: `pending_records`). Only `đúng` (`dung`, `ok`, `xác nhận`,
or the button) stores it, after reading and checking it again against what is stored then
(the lock, a record stored meanwhile); any other message, `hủy`, or 30 minutes of silence
drops it, and the sender is told. Corrections (`sửa kq …`) replace the area's record and
keep the old one; with double entry a second registered person's same numbers check it.
A photo whose caption starts `kq <ballot>` is kept with its SHA-256.

When a confirmation completes an electoral unit, the chats that follow a unit whose subtree
holds the unit's organizing unit are told (with the provisional winners), and once more
when every electoral unit of the ballot in their subtree is complete; each chat is told
each thing once (`results_notices`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

from bot import texts
from bot.channel import Address
from bot.messaging.answers import Answer, Refusal, Reply, Status
from bot.messaging.content import Choice, Outgoing, Text
from bot.messaging.text_safety import without_invisible
from bot.model import Subscription, Unit
from bot.registration.access import Caller, identify
from bot.results import chat_texts as t
from bot.results import texts as rt
from bot.results.checks import Findings, check, to_result_record
from bot.results.grammar import ParsedRecord, UnreadableRecord, is_confirmation, parse_record
from bot.results.model import (
    PENDING_SECONDS,
    Ballot,
    Candidate,
    ElectoralUnit,
    PendingRecord,
    RecordPhoto,
    ResultRecord,
    SecondEntry,
    UnitTotals,
)
from bot.results.outcome import ballot_tallies, outcome
from bot.settings import Settings
from bot.turnout.grammar import fold
from bot.turnout.intake import InboundText
from storage.database import Database, Transaction

__all__ = ["RecordIntake", "RecordReason", "Routed"]

# How often, before any electoral unit is imported, the intake looks again whether results
# night has begun (until then every message skips the look for a pending record).
_NIGHT_CHECK_SECONDS = 60


class RecordReason(StrEnum):
    """The flow's reasons (`Reply.reason`), besides the grammar's `UnreadableReason` and the
    checks' `CheckReason` (a blocking error's refusal carries the first error's reason)."""

    AWAITING_CONFIRMATION = "awaiting_confirmation"  # read back: `đúng` stores it
    PENDING_REPLACED = "pending_replaced"  # a new record replaced the one waiting
    PENDING_DROPPED = "pending_dropped"  # another message dropped the one waiting
    PENDING_CANCELLED = "pending_cancelled"  # `hủy`
    PENDING_EXPIRED = "pending_expired"  # 30 minutes of silence
    NOTHING_TO_CONFIRM = "nothing_to_confirm"
    AREA_NEEDED = "area_needed"  # several areas (or a supervisor): name one
    UNKNOWN_AREA = "unknown_area"
    NOT_AN_AREA = "not_an_area"
    NOT_YOUR_AREA = "not_your_area"
    UNIT_LOCKED = "results_locked"  # `/khoa kq`: entry ended for the electoral unit
    ALREADY_RECORDED = "already_recorded"  # the area has its record: `sửa kq` to correct
    STORED = "record_stored"
    AWAITING_SECOND_ENTRY = "awaiting_second_entry"  # stored, double entry: not checked yet
    SECOND_ENTRY_MATCHED = "second_entry_matched"
    SECOND_ENTRY_DIFFERS = "second_entry_differs"
    PHOTO_KEPT = "photo_kept"  # with its record
    PHOTO_WAITING = "photo_waiting"  # kept, waiting for its record
    RESULTS_LOCKED = "results_lock_set"
    RESULTS_UNLOCKED = "results_lock_lifted"
    UNKNOWN_ELECTORAL_UNIT = "unknown_electoral_unit"


_CANCEL_WORDS = frozenset({"huy", "huy bo", "khong", "sai"})
# The fields two entries of one record are compared on, in the order the differences are told.
_COMPARED = ("registered_voters", "voted", "issued", "returned", "valid", "invalid", "votes")


@dataclass(frozen=True, slots=True)
class Routed:
    """What the flow made of a private message: its whole answer, or None to handle it as
    usual, with `dropped` (the word that the sender's pending record was dropped) first."""

    answer: Answer | None = None
    dropped: Reply | None = None


@dataclass(frozen=True, slots=True)
class _Judged:
    """A readable record tied to its area and electoral unit, with what `check` found."""

    record: ParsedRecord
    area: Unit
    unit: ElectoralUnit
    candidates: tuple[Candidate, ...]
    imported_list: int | None
    findings: Findings
    current: ResultRecord | None
    second_entry: bool  # double entry: this is the second person's entry of `current`


@dataclass(frozen=True, slots=True)
class _Stored:
    record: ResultRecord | None = None  # stored (None: a second entry, or refused)
    entry: SecondEntry | None = None
    refusal: RecordReason | None = None
    totals: UnitTotals | None = None


def _reply(
    body: str, brief: str, status: Status = Status.ACCEPTED, reason: str | None = None
) -> Reply:
    return Reply(Text(body), status, reason, Text(brief))


def _refused(body: str, brief: str, reason: str) -> Answer:
    return Answer((_reply(body, brief, Status.REFUSED, reason),))


def _epoch(moment: dt.datetime) -> int:
    return int(moment.timestamp())


def _is_cancel(text: str) -> bool:
    return " ".join(fold(text).text.replace(".", " ").replace("!", " ").split()) in _CANCEL_WORDS


def differing_fields(first: ResultRecord, second: ResultRecord) -> tuple[str, ...]:
    """The fields on which two entries of an area's record differ (`_COMPARED` order)."""
    return tuple(name for name in _COMPARED if getattr(first, name) != getattr(second, name))


class RecordIntake:
    """The flow's use cases; `Core` owns one and routes private messages through `route`."""

    def __init__(self, db: Database, settings: Settings, now: Callable[[], dt.datetime]) -> None:
        self._db = db
        self._settings = settings
        self._now = now
        self._night: bool = False  # a counting record was sent (checked until true)
        self._night_checked_at: int | None = None

    # -- routing -----------------------------------------------------------------------------

    async def night_has_begun(self, *, fresh: bool = False) -> bool:
        """Whether counting has begun: a record was read back or stored (through any
        process). Until then a private message costs this flow nothing but a look at its
        words: the store is asked at most once a minute (`fresh`: now)."""
        if self._night:
            return True
        now = _epoch(self._now())
        if (
            not fresh
            and self._night_checked_at is not None
            and now - self._night_checked_at < (_NIGHT_CHECK_SECONDS)
        ):
            return False
        self._night_checked_at = now
        self._night = await self._db.results_intake.counting_started()
        return self._night

    async def route(
        self,
        message: InboundText,
        *,
        buttons: bool,
        is_command: bool,
        photo: Callable[[], Awaitable[bytes]] | None = None,
        bots: Sequence[str] = (),
    ) -> Routed:
        """A private message: a record, a confirmation, a cancel or a record photo is this
        flow's; anything else drops the sender's pending record (and is handled as usual)."""
        text = without_invisible(message.text)
        parsed = None if is_command else parse_record(text)
        if photo is not None and parsed is not None and parsed.ballot is not None:
            return Routed(await self.photo(message, parsed, await photo()))
        if parsed is not None:
            return Routed(await self.record(message, parsed, buttons=buttons))
        confirming = not is_command and is_confirmation(text)
        if not await self.night_has_begun(fresh=confirming):  # a word that only a night uses
            return Routed()
        if confirming:
            return Routed(await self.confirm(message, bots=bots))
        pending = await self._db.results_intake.pending(message.sender)
        if pending is None:
            return Routed()
        if not is_command and _is_cancel(text):
            await self._drop(message.sender)
            body = t.pending_cancelled(pending.ballot, pending.area_code)
            brief = t.pending_cancelled_brief(pending.ballot, pending.area_code)
            return Routed(Answer((_reply(body, brief, reason=RecordReason.PENDING_CANCELLED),)))
        if await self._drop(message.sender) is None:
            return Routed()
        body = t.pending_dropped(pending.ballot, pending.area_code)
        brief = t.pending_dropped_brief(pending.ballot, pending.area_code)
        return Routed(dropped=_reply(body, brief, reason=RecordReason.PENDING_DROPPED))

    async def _drop(self, sender: Address) -> PendingRecord | None:
        def drop(tx: Transaction) -> PendingRecord | None:
            return tx.results_intake.drop_pending(sender)

        return await self._db.write(drop)

    # -- a record ----------------------------------------------------------------------------

    async def record(
        self, message: InboundText, parsed: ParsedRecord | UnreadableRecord, *, buttons: bool
    ) -> Answer:
        """A counting record: refused (nothing kept), or read back and kept pending."""
        self._night = True if parsed.ballot is not None else self._night
        caller = await identify(self._db, message.sender, self._settings.admins)
        if not caller.is_registered and not caller.is_admin:
            return _refused(
                texts.NOT_REGISTERED,
                texts.refusal_brief(Refusal.NOT_REGISTERED),
                Refusal.NOT_REGISTERED,
            )
        if isinstance(parsed, UnreadableRecord):
            return _refused(
                rt.record_unreadable(parsed),
                t.unreadable_brief(parsed.reason.value),
                parsed.reason.value,
            )
        judged = await self._judge(caller, parsed)
        if isinstance(judged, Answer):
            return judged
        area = judged.area.code
        if judged.findings.blocked:
            return self._blocked(judged)
        pending = PendingRecord(
            sender=message.sender,
            chat=message.chat,
            area_code=area,
            ballot=parsed.ballot,
            text=without_invisible(message.text),
            created_at=_epoch(self._now()),
            bot=message.bot,
        )

        def keep(tx: Transaction) -> PendingRecord | None:
            return tx.results_intake.put_pending(pending)

        replaced = await self._db.write(keep)
        body = rt.record_read_back(
            parsed,
            judged.findings,
            area=area,
            unit=judged.unit,
            candidates=judged.candidates,
            imported_list=judged.imported_list,
            button=buttons,
        )
        status = Status.WARNED if judged.findings.warnings else Status.ACCEPTED
        content = Choice(body, (t.CONFIRM_CHOICE, t.CANCEL_CHOICE)) if buttons else Text(body)
        brief = t.read_back_brief(parsed, area, len(judged.findings.warnings))
        read_back = Reply(content, status, RecordReason.AWAITING_CONFIRMATION, Text(brief))
        if replaced is None:
            return Answer((read_back,))
        note = _reply(
            t.pending_replaced(replaced.ballot, replaced.area_code),
            t.pending_replaced_brief(replaced.ballot, replaced.area_code),
            reason=RecordReason.PENDING_REPLACED,
        )
        return Answer((note, read_back))

    def _blocked(self, judged: _Judged) -> Answer:
        """❌ every blocking error, with its numbers; nothing kept."""
        first = judged.findings.errors[0]
        record, area = judged.record, judged.area.code
        return _refused(
            rt.record_refused(
                record,
                judged.findings,
                area=area,
                unit_name=judged.unit.name,
                seats=judged.unit.seats,
                candidates=judged.candidates,
            ),
            t.refused_brief(record.ballot, area, first.reason, first.left, first.right),
            first.reason.value,
        )

    async def _area(self, caller: Caller, parsed: ParsedRecord) -> Unit | Answer:
        """The area the record is for: the one it names, else the sender's only area."""
        units = self._db.units
        if parsed.area_code is not None:
            area = units.get(parsed.area_code)
            if area is None:
                reason = RecordReason.UNKNOWN_AREA
                return _refused(
                    t.unknown_area(parsed.area_code),
                    t.area_brief(reason, parsed.area_code),
                    reason,
                )
            if not area.is_area:
                reason = RecordReason.NOT_AN_AREA
                return _refused(
                    f"{texts.NO} {texts.not_an_area(area.code)}",
                    t.area_brief(reason, area.code),
                    reason,
                )
            if not caller.may_report_for(units, area):
                reason = RecordReason.NOT_YOUR_AREA
                return _refused(t.not_your_area(area.code), t.area_brief(reason, area.code), reason)
            return area
        if len(caller.areas) == 1:
            area = units.get(caller.areas[0])
            if area is not None:
                return area
        choices = list(caller.areas)
        if not choices:
            for code in caller.supervised:
                choices += [a.code for a in units.areas_under(code)[:10]]
        return _refused(
            t.area_needed(parsed.ballot, choices),
            t.area_needed_brief(parsed.ballot),
            RecordReason.AREA_NEEDED,
        )

    async def _judge(self, caller: Caller, parsed: ParsedRecord) -> _Judged | Answer:
        """Tie the record to its area and electoral unit and check it (see `check`)."""
        area = await self._area(caller, parsed)
        if isinstance(area, Answer):
            return area
        results = self._db.results
        ballots = await self._db.results_intake.ballots()
        mapping = next(
            (m for m in await results.area_ballots(area.code) if m.ballot is parsed.ballot), None
        )
        unit = None if mapping is None else await results.electoral_unit(mapping.electoral_unit)
        candidates = tuple(await results.candidates(unit.code)) if unit is not None else ()
        imported = None
        if mapping is not None:
            imported = (
                mapping.registered_voters
                if mapping.registered_voters is not None
                else area.registered_voters
            )
        findings = check(
            parsed,
            ballots=ballots,
            unit=unit,
            candidates=candidates,
            imported_list=imported,
            last_turnout=await self._last_turnout(area.code),
        )
        if unit is None:  # not in this election, or the area not mapped: blocking
            first = findings.errors[0]
            return _refused(
                rt.record_refused(parsed, findings, area=area.code),
                t.refused_brief(parsed.ballot, area.code, first.reason, 0, 0),
                first.reason.value,
            )
        if unit.locked:
            return _refused(
                t.unit_locked(parsed.ballot, area.code, unit.name, unit.code),
                t.unit_locked_brief(parsed.ballot, area.code),
                RecordReason.UNIT_LOCKED,
            )
        current = next(iter(await results.records_of_area(area.code, parsed.ballot)), None)
        second = False
        if current is not None and not parsed.is_correction:
            second = self._is_second_entry(current, caller.identity)
            if not second:
                return _refused(
                    t.already_recorded(parsed.ballot, area.code, current.id),
                    t.already_recorded_brief(parsed.ballot, area.code),
                    RecordReason.ALREADY_RECORDED,
                )
        return _Judged(parsed, area, unit, candidates, imported, findings, current, second)

    def _is_second_entry(self, current: ResultRecord, sender: Address) -> bool:
        return (
            self._settings.results_double_entry
            and not current.checked
            and current.entered_by != sender
        )

    async def _last_turnout(self, area_code: str) -> int | None:
        """The count of the area's latest turnout report in force, if any."""
        reports = [r for r in await self._db.area_reports(area_code) if r.voted is not None]
        if not reports:
            return None
        return max(reports, key=lambda r: (r.at, r.id)).voted

    # -- the confirmation --------------------------------------------------------------------

    async def confirm(self, message: InboundText, *, bots: Sequence[str] = ()) -> Answer:
        """`đúng`: the sender's pending record, read and checked again, stored."""
        sender = message.sender
        pending = await self._db.results_intake.pending(sender)
        if pending is None:
            return _refused(
                t.NOTHING_TO_CONFIRM, t.NOTHING_TO_CONFIRM_BRIEF, RecordReason.NOTHING_TO_CONFIRM
            )
        now = _epoch(self._now())
        if pending.expired(now):
            await self._drop(sender)
            return _refused(
                t.pending_expired(pending.ballot, pending.area_code),
                t.pending_expired_brief(pending.ballot, pending.area_code),
                RecordReason.PENDING_EXPIRED,
            )
        caller = await identify(self._db, sender, self._settings.admins)
        parsed = parse_record(pending.text)
        if not isinstance(parsed, ParsedRecord):  # cannot happen: it was read before
            await self._drop(sender)
            return _refused(
                t.NOTHING_TO_CONFIRM, t.NOTHING_TO_CONFIRM_BRIEF, RecordReason.NOTHING_TO_CONFIRM
            )
        judged = await self._judge(caller, parsed)
        if isinstance(judged, Answer):  # the area or its unit changed meanwhile (a lock)
            await self._drop(sender)
            return judged
        if judged.findings.blocked:  # the imported list or candidates changed meanwhile
            await self._drop(sender)
            return self._blocked(judged)
        record = to_result_record(
            parsed,
            area_code=judged.area.code,
            unit=judged.unit,
            imported_list=judged.imported_list,
            entered_by=sender,
            entered_at=now,
            text=pending.text,
        )
        record = replace(
            record,
            chat=message.chat,
            bot=message.bot,
            checked=not self._settings.results_double_entry,
        )
        warnings = [m.reason.value for m in judged.findings.warnings]
        stored = await self._db.write(
            lambda tx: self._store(tx, pending, record, judged.second_entry, warnings)
        )
        ballot, area = parsed.ballot, judged.area.code
        if stored.refusal is RecordReason.UNIT_LOCKED:
            return _refused(
                t.unit_locked(ballot, area, judged.unit.name, judged.unit.code),
                t.unit_locked_brief(ballot, area),
                RecordReason.UNIT_LOCKED,
            )
        if stored.refusal is RecordReason.ALREADY_RECORDED:
            current = next(iter(await self._db.results.records_of_area(area, ballot)), None)
            return _refused(
                t.already_recorded(ballot, area, current.id if current else 0),
                t.already_recorded_brief(ballot, area),
                RecordReason.ALREADY_RECORDED,
            )
        if stored.refusal is not None:
            return _refused(
                t.NOTHING_TO_CONFIRM, t.NOTHING_TO_CONFIRM_BRIEF, RecordReason.NOTHING_TO_CONFIRM
            )
        if stored.entry is not None:
            return self._second_entry_answer(stored.entry, judged)
        assert stored.record is not None
        awaiting = not stored.record.checked
        body = t.stored(
            ballot,
            area,
            stored.record.id,
            replaces=stored.record.replaces,
            warnings=len(warnings),
            awaiting_second=awaiting,
        )
        brief = t.stored_brief(ballot, area, stored.record.id, awaiting_second=awaiting)
        reason = RecordReason.AWAITING_SECOND_ENTRY if awaiting else RecordReason.STORED
        sends: list[Outgoing] = []
        if stored.totals is not None and stored.totals.complete:
            sends = await self._completion_notices(judged.unit, stored.totals, bots, message.bot)
        return Answer((_reply(body, brief, reason=reason),), tuple(sends))

    def _store(
        self,
        tx: Transaction,
        pending: PendingRecord,
        record: ResultRecord,
        second_entry: bool,
        warnings: Sequence[str],
    ) -> _Stored:
        """In one transaction: the pending record still there, the unit not locked, the
        area's record as judged; then stored (or, a second entry, compared)."""
        mine = tx.results_intake.drop_pending(pending.sender)
        if mine is None or mine.created_at != pending.created_at:
            return _Stored(refusal=RecordReason.NOTHING_TO_CONFIRM)
        unit = tx.results.electoral_unit(record.electoral_unit)
        if unit is None or unit.locked:
            return _Stored(refusal=RecordReason.UNIT_LOCKED)
        current = tx.results.current_record(record.area_code, record.ballot)
        correction = parse_record(pending.text)
        is_correction = isinstance(correction, ParsedRecord) and correction.is_correction
        if current is not None and not is_correction:
            if not second_entry or not self._is_second_entry(current, record.entered_by):
                return _Stored(refusal=RecordReason.ALREADY_RECORDED)
            differing = differing_fields(current, record)
            entry = tx.results_intake.add_second_entry(
                SecondEntry(
                    record_id=current.id,
                    area_code=record.area_code,
                    ballot=record.ballot,
                    entered_by=record.entered_by,
                    entered_at=record.entered_at,
                    text=record.text,
                    differing=differing,
                )
            )
            if not differing:
                tx.results.mark_checked(current.id)
            return _Stored(record=current, entry=entry)
        stored = tx.results.add_record(record)
        tx.results_intake.keep_warnings(stored.id, warnings)
        totals = tx.results.totals(stored.electoral_unit, settled=True)
        # Told once: a correction of a complete unit changes numbers, not completeness.
        complete_now = totals is not None and totals.complete and current is None
        return _Stored(record=stored, totals=totals if complete_now else None)

    def _second_entry_answer(self, entry: SecondEntry, judged: _Judged) -> Answer:
        ballot, area = entry.ballot, entry.area_code
        if entry.matches:
            return Answer(
                (
                    _reply(
                        t.second_entry_matched(ballot, area, entry.record_id),
                        t.second_entry_matched_brief(ballot, area, entry.record_id),
                        reason=RecordReason.SECOND_ENTRY_MATCHED,
                    ),
                )
            )
        body = t.second_entry_differs(ballot, area, entry.record_id, entry.differing)
        brief = t.second_entry_differs_brief(ballot, area, entry.differing)
        first = judged.current
        sends: tuple[Outgoing, ...] = ()
        if first is not None and first.chat is not None:
            sends = (Outgoing(first.chat, Text(body), first.bot or None),)
        return Answer(
            (_reply(body, brief, Status.WARNED, RecordReason.SECOND_ENTRY_DIFFERS),), sends
        )

    # -- notices -----------------------------------------------------------------------------

    async def _completion_notices(
        self, unit: ElectoralUnit, totals: UnitTotals, bots: Sequence[str], bot: str
    ) -> list[Outgoing]:
        """The notices a just-completed electoral unit owes to the chats that follow a unit
        whose subtree holds its organizing unit: the unit's outcome, and the ballot's when
        every electoral unit of the ballot in their subtree is complete. Each once."""
        units = self._db.units
        followers: list[Subscription] = []
        for name in dict.fromkeys([*bots, bot]):
            followers += await self._db.subscriptions(name)
        followers = [s for s in followers if units.is_within(unit.organizing_unit, s.unit_code)]
        if not followers:
            return []
        results = self._db.results
        candidates = await results.candidates(unit.code)
        unit_text = t.unit_complete_notice(rt.unit_outcome(outcome(unit, candidates, totals)))
        ballot_texts: dict[str, str | None] = {}
        for s in followers:
            if s.unit_code not in ballot_texts:
                ballot_texts[s.unit_code] = await self._ballot_complete(unit.ballot, s.unit_code)
        at = _epoch(self._now())

        def claim(tx: Transaction) -> list[Outgoing]:
            sends: list[Outgoing] = []
            for s in followers:
                claims = tx.results_intake.claim_notice
                if claims(s.bot, s.chat, f"unit:{unit.code}", at):
                    sends.append(Outgoing(s.chat, Text(unit_text), s.bot or None))
                ballot_text = ballot_texts[s.unit_code]
                subject = f"ballot:{unit.ballot.value}:{s.unit_code}"
                if ballot_text is not None and claims(s.bot, s.chat, subject, at):
                    sends.append(Outgoing(s.chat, Text(ballot_text), s.bot or None))
            return sends

        return await self._db.write(claim)

    async def _ballot_complete(self, ballot: Ballot, followed: str) -> str | None:
        """The ballot's notice for a chat following `followed`, when every electoral unit of
        the ballot organized in its subtree is complete (else None)."""
        results = self._db.results
        within = await results.electoral_units_within(followed, ballot)
        if not within:
            return None
        totals = await results.totals_of([u.code for u in within])
        if not all(totals.get(u.code) is not None and totals[u.code].complete for u in within):
            return None
        outcomes = [outcome(u, await results.candidates(u.code), totals[u.code]) for u in within]
        tally = "\n".join(rt.ballot_tally(x) for x in ballot_tallies(outcomes))
        place = self._db.units.get(followed)
        where = place.name if place is not None else followed
        return t.ballot_complete_notice(ballot, len(within), where, tally)

    # -- expiry ------------------------------------------------------------------------------

    async def expire(self) -> list[Outgoing]:
        """Drop every record read back 30 minutes ago or more, with a word to each sender."""
        if not await self.night_has_begun():
            return []
        before = _epoch(self._now()) - PENDING_SECONDS

        def take(tx: Transaction) -> list[PendingRecord]:
            return tx.results_intake.take_expired(before)

        expired = await self._db.write(take)
        return [
            Outgoing(p.chat, Text(t.pending_expired(p.ballot, p.area_code)), p.bot or None)
            for p in expired
        ]

    # -- photos ------------------------------------------------------------------------------

    async def photo(
        self, message: InboundText, parsed: ParsedRecord | UnreadableRecord, data: bytes
    ) -> Answer:
        """A photo of the signed record (its caption `kq <ballot> [area]`): kept with the
        area's record of the ballot, or waiting for it; it never changes a number."""
        assert parsed.ballot is not None
        ballot = parsed.ballot
        caller = await identify(self._db, message.sender, self._settings.admins)
        if not caller.is_registered and not caller.is_admin:
            return _refused(
                texts.NOT_REGISTERED,
                texts.refusal_brief(Refusal.NOT_REGISTERED),
                Refusal.NOT_REGISTERED,
            )
        header = ParsedRecord(
            ballot=ballot, voted=0, issued=0, returned=0, valid=0, invalid=0, votes=(),
            area_code=parsed.area_code,
        )  # fmt: skip
        area = await self._area(caller, header)
        if isinstance(area, Answer):
            return area
        photo = RecordPhoto(
            area_code=area.code,
            ballot=ballot,
            sha256=hashlib.sha256(data).hexdigest(),
            sent_by=message.sender,
            sent_at=_epoch(self._now()),
            file_ref=f"{message.bot}/{message.chat}/{message.message_ref}",
            chat=message.chat,
            bot=message.bot,
        )

        def keep(tx: Transaction) -> RecordPhoto:
            return tx.results.add_photo(photo)

        kept = await self._db.write(keep)
        reason = RecordReason.PHOTO_KEPT if kept.record_id else RecordReason.PHOTO_WAITING
        return Answer(
            (
                _reply(
                    t.photo_kept(ballot, area.code, kept.sha256, kept.record_id),
                    t.photo_kept_brief(ballot, area.code, kept.record_id),
                    reason=reason,
                ),
            )
        )

    # -- the lock and the history ------------------------------------------------------------

    async def set_lock(self, caller: Caller, args: Sequence[str], locked: bool) -> Answer:
        """`/khoa kq <electoral unit>` / `/mokhoa kq <electoral unit>`: admins, or the
        supervisors of the unit's organizing unit."""
        if len(args) != 1:
            return _refused(t.RESULTS_LOCK_USAGE, t.RESULTS_LOCK_USAGE_BRIEF, Refusal.USAGE)
        unit = await self._db.results.electoral_unit(args[0])
        if unit is None:
            return _refused(
                t.unknown_electoral_unit(args[0]),
                t.unknown_electoral_unit_brief(args[0]),
                RecordReason.UNKNOWN_ELECTORAL_UNIT,
            )
        organizer = self._db.units.get(unit.organizing_unit)
        if not caller.is_admin and (
            organizer is None or not caller.may_see(self._db.units, organizer)
        ):
            return _refused(
                texts.SUPERVISORS_ONLY,
                texts.refusal_brief(Refusal.SUPERVISORS_ONLY),
                Refusal.SUPERVISORS_ONLY,
            )
        code = unit.code

        def write(tx: Transaction) -> None:
            tx.results.set_locked([code], locked)
            tx.audit(caller.identity, "results lock" if locked else "results unlock", code)

        await self._db.write(write)
        reason = RecordReason.RESULTS_LOCKED if locked else RecordReason.RESULTS_UNLOCKED
        return Answer(
            (
                _reply(
                    t.results_locked(unit.name, unit.code, locked),
                    t.results_locked_brief(unit.code, locked),
                    reason=reason,
                ),
            )
        )

    async def history(self, area: Unit, tz: dt.tzinfo) -> str:
        """`/lichsu kq <area>`: the area's records (replaced ones too), second entries and
        photos."""
        results = self._db.results
        records = await results.records_of_area(area.code, include_replaced=True)
        photos = await results.photos(area.code)
        entries = await self._db.results_intake.second_entries_of_area(area.code)
        who = {r.entered_by for r in records} | {e.entered_by for e in entries}
        people = await self._db.people_by_identity(sorted(who))
        names = {str(identity): person.name for identity, person in people.items()}
        return t.results_history(area.code, records, photos, entries, names, tz)
