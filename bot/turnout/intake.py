"""Report intake: a chief's message in, one Vietnamese reply per report line out.

Every line is parsed, tied to an area the sender may report for, judged against the
area's stored reports and, if accepted, stored with the area's running totals — all
lines of a message in one transaction. Replies are returned only after the commit, so a
✅ always means "durably stored". A message version already processed is answered with
the replies it got the first time and changes nothing.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from dataclasses import dataclass, replace
from functools import partial

from bot import texts
from bot.channel import Address
from bot.messaging.answers import Refusal
from bot.messaging.content import Outgoing, Text
from bot.messaging.directory import BotDirectory
from bot.messaging.marked import stored_reply
from bot.messaging.text_safety import has_bidi_controls, without_invisible
from bot.metrics import Metrics
from bot.model import MessageKey, NewReport, Report, Subscription, Totals, Unit
from bot.outage import StoreOutage
from bot.registration.access import Caller, identify
from bot.settings import Settings
from bot.turnout import phrasing
from bot.turnout.grammar import parse_message
from bot.turnout.lines import ParsedLine, ParsedReport, ReportKind, UnreadableLine, UnreadableReason
from bot.turnout.rules import Candidate, Outcome, Verdict, area_state, to_minute
from bot.turnout.steps import step_changes
from storage.database import Database, Transaction
from storage.engine import StorageError
from storage.faults import is_storage_fault
from storage.tree import UnitIndex

log = logging.getLogger(__name__)

# Reasons of the intake's own (besides `Refusal`, the rule engine's and the grammar's).
ASK_AFTERNOON = "ask_afternoon"  # "9h": morning or afternoon? the sender is asked
STORE_FAILED = "store_failed"

MAX_MESSAGE_CHARS = 2000  # a real message is a few lines; channels allow 2,000 or more
MAX_REPORTS_PER_MESSAGE = 30  # one chief with many areas, or a supervisor catching up

# Each verdict's outcome as a plain string (`IntakeResult.outcomes`), looked up once.
_OUTCOME_VALUE: dict[Outcome, str] = {outcome: outcome.value for outcome in Outcome}
_REJECTED = Outcome.REJECTED.value
_REPEAT = Outcome.REPEAT.value
_STORED_OUTCOMES = frozenset({Outcome.ACCEPTED, Outcome.WARNED})


@dataclass(frozen=True, slots=True)
class InboundText:
    """A text message as the core sees it, whatever the channel."""

    chat: Address
    message_ref: str  # the channel's id of the message within its chat
    sender: Address
    text: str
    sent_at: dt.datetime  # aware; the channel's time of the original message
    edited_at: dt.datetime | None = None  # set for an edited message
    # Which edit this is: 0 for the original; for an edit, a number that differs for every
    # edit of the message and is the same when one edit is delivered twice (the adapter
    # chooses it). Never the edit's time: two edits within one second have the same.
    revision: int = 0
    bot: str = ""  # the bot it came through (see `bot.model`)

    @property
    def key(self) -> MessageKey:
        if self.edited_at is None:
            return MessageKey(self.bot, self.chat, self.message_ref, 0)
        revision = self.revision or int(self.edited_at.timestamp())
        return MessageKey(self.bot, self.chat, self.message_ref, revision)


@dataclass(frozen=True, slots=True)
class IntakeResult:
    replies: list[str]  # to the sender: exactly one per report line
    notices: list[Outgoing]  # to subscribed groups
    # The verdict of each reply (an `Outcome` value, or "failed"); empty for a message
    # already answered before, so a redelivery is not counted twice.
    outcomes: tuple[str, ...] = ()
    # Why each reply is not a plain acceptance (a stable code: the rule engine's `Reason`,
    # an unreadable line's reason, a `Refusal`), None where it is; empty like `outcomes`.
    reasons: tuple[str | None, ...] = ()
    # Each reply in a few words (`Reply.brief`), parallel to `replies`; None where a reply has
    # none (one stored by a release before brief replies).
    briefs: tuple[str | None, ...] = ()


def _refusal(reason: str, reply: str, brief: str | None = None) -> IntakeResult:
    short = brief if brief is not None else texts.refusal_brief(reason)
    return IntakeResult([reply], [], (Outcome.REJECTED.value,), (reason,), (short,))


@dataclass(slots=True)
class _Job:
    """One message waiting for the next group commit."""

    message: InboundText
    caller: Caller
    lines: list[ParsedLine]
    done: asyncio.Future[IntakeResult]


def finished_notice(
    units: UnitIndex, subscription: Subscription, totals: Totals, now: dt.datetime
) -> Outgoing | None:
    """The group's notice that every area of its unit has finished (None: unit removed)."""
    unit = units.get(subscription.unit_code)
    if unit is None:
        return None
    label = texts.unit_label(unit.code, unit.name)
    return Outgoing(subscription.chat, Text(texts.all_finished(label, totals, now)))


class ReportIntake:
    """Group commit: messages that arrive while a batch is being written go in the next one.

    Parsing and identifying the sender happen on the event loop; judging and storing happen
    in the store's writer thread, for a whole batch in one transaction with batch-level SQL
    (a savepoint per message only when one of them fails), so one fsync covers many
    reports. Each message is answered only after the COMMIT that stored it.
    """

    MAX_BATCH = 500

    def __init__(
        self,
        db: Database,
        settings: Settings,
        metrics: Metrics | None = None,
        outage: StoreOutage | None = None,
    ) -> None:
        self._db = db
        self._outage = outage or StoreOutage()
        self.stop = asyncio.Event()  # the bot stops: during an outage, give up at once
        self._settings = settings
        self._metrics = metrics or Metrics()
        self._tz = settings.tz
        self._pending: list[_Job] = []
        self._flusher: asyncio.Task[None] | None = None
        # Which bot serves which subtree (the core's): a report about an area another bot
        # of the channel serves is refused with that bot's link.
        self.directory = BotDirectory()

    async def handle(self, message: InboundText) -> IntakeResult:
        """The replies to send, in order, and any group notices the reports caused."""
        refusal: IntakeResult | None = None
        lines: list[ParsedLine] = []
        original = message.text
        # Zero-width spaces and the like are removed, so what is stored is what shows; a
        # bidirectional control (it shows one number and says another) refuses the message.
        cleaned = without_invisible(original)
        if cleaned != original:
            message = replace(message, text=cleaned)
        if has_bidi_controls(original):
            refusal = _refusal(Refusal.HIDDEN_CONTROLS, texts.HIDDEN_CONTROLS)
        elif len(message.text) > MAX_MESSAGE_CHARS:
            refusal = _refusal(Refusal.MESSAGE_TOO_LONG, texts.message_too_long(MAX_MESSAGE_CHARS))
        else:
            lines = parse_message(message.text)
            if len(lines) > MAX_REPORTS_PER_MESSAGE:
                refusal = _refusal(
                    Refusal.TOO_MANY_REPORTS, texts.too_many_reports(MAX_REPORTS_PER_MESSAGE)
                )
        if refusal is not None:
            self._metrics.reports_answered(refusal.outcomes)
            return refusal
        caller = await identify(self._db, message.sender, self._settings.admins)
        # A greeting or a question beside a report gets no reply of its own; a message
        # with no report at all gets one pointer to /huongdan and to the unit's contact.
        reports = [line for line in lines if not _is_chatter(line)]
        if not reports:
            if caller.is_registered or caller.is_admin:
                refusal = _refusal(Refusal.NO_REPORT, texts.no_report(await self._contact(caller)))
            else:
                refusal = _refusal(Refusal.NOT_REGISTERED, texts.NOT_REGISTERED)
            self._metrics.reports_answered(refusal.outcomes)
            return refusal
        lines = reports
        job = _Job(message, caller, lines, asyncio.get_running_loop().create_future())
        self._pending.append(job)
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        return await job.done

    async def _flush(self) -> None:
        while self._pending:
            batch = self._pending[: self.MAX_BATCH]
            del self._pending[: self.MAX_BATCH]
            if self.stop.is_set() and self._outage.degraded:
                # Stopping during an outage: no more waiting on the database; the updates
                # stay in the inbox for the next start.
                stopping = StorageError("the bot is stopping during a storage outage")
                for job in batch:
                    if not job.done.done():
                        job.done.set_exception(stopping)
                continue
            try:
                results = await self._db.write(partial(self._write_batch, batch))
            except Exception as error:  # the commit itself failed: nothing of the batch is stored
                if is_storage_fault(error):
                    # A passing fault: no answer at all, the callers keep their updates and
                    # try again once the database works.
                    for job in batch:
                        if not job.done.done():
                            job.done.set_exception(error)
                    continue
                log.exception("storing a batch of %d messages failed", len(batch))
                results = [_store_failed(job) for job in batch]
            for job, result in zip(batch, results, strict=True):
                # Counted here, after the commit, even if the sender has stopped waiting.
                self._metrics.reports_answered(result.outcomes)
                if not job.done.done():
                    job.done.set_result(result)

    def _write_batch(self, batch: list[_Job], tx: Transaction) -> list[IntakeResult]:
        """Runs in the writer thread: the whole batch at once (its reads and writes batched
        by the store, see `Transaction.begin_report_batch`). If a message's work fails (a
        bug, a row the database refuses: not a storage fault), the batch is undone and
        done again one message at a time, each in its own savepoint, so that message alone
        fails."""
        if len(batch) == 1 and not self._db.shared:
            # One message (one at a time): its savepoint is the batch's, and SQLite's
            # cache already holds its area: batch-level SQL would only add statements.
            return [self._write_job(tx, batch[0])]
        try:
            with tx.savepoint():
                tx.begin_report_batch(
                    [job.message.key for job in batch],
                    self._batch_areas(batch),
                    sum(len(job.lines) for job in batch),
                )
                results = [self._answer(tx, job) for job in batch]
                tx.end_report_batch()
            return results
        except Exception as error:
            tx.abandon_report_batch()
            if is_storage_fault(error) or tx.conflict is not None:
                raise  # tried again later, or (a clash) run again at once by the engine
            log.info("a batch of %d messages failed; storing them one by one", len(batch))
        return [self._write_job(tx, job) for job in batch]

    def _batch_areas(self, batch: list[_Job]) -> set[str]:
        """The areas the batch's report lines are about (as `_area_for` finds them)."""
        units = self._db.units
        codes: set[str] = set()
        for job in batch:
            caller = job.caller
            if not caller.is_registered and not caller.is_admin:
                continue
            for line in job.lines:
                if isinstance(line, ParsedReport):
                    found = phrasing.resolve_area(
                        line.area_code, line.area_number, line.area_place, caller, units, line.text
                    )
                    if isinstance(found, Unit):
                        codes.add(found.code)
        return codes

    def _write_job(self, tx: Transaction, job: _Job) -> IntakeResult:
        """Runs in the writer thread. A failure undoes this message only."""
        message = job.message
        try:
            with tx.savepoint():
                return self._answer(tx, job)
        except Exception as error:
            if is_storage_fault(error):
                raise  # the whole batch is tried again later, not answered now
            log.exception(
                "storing reports failed: chat %s message %s", message.chat, message.message_ref
            )
            return _store_failed(job)

    def _answer(self, tx: Transaction, job: _Job) -> IntakeResult:
        """Judge and store one message's lines, and record its replies."""
        message = job.message
        notices: list[Outgoing] = []
        earlier = tx.message_answers(message.key)
        if earlier is not None:  # replies stored by the previous release are HTML
            return IntakeResult(
                [stored_reply(reply) for reply, _ in earlier],
                [],
                briefs=tuple(brief for _, brief in earlier),
            )
        origin: list[Report] = []
        if message.edited_at is not None:
            origin = tx.origin_reports(message.bot, message.chat, message.message_ref)
        answers = [
            self._one_line(tx, job.caller, message, line, origin, notices) for line in job.lines
        ]
        replies = [reply for reply, _, _, _ in answers]
        tx.record_message(message.key, replies, [brief for *_, brief in answers])
        return IntakeResult(
            replies,
            notices,
            tuple(outcome for _, outcome, _, _ in answers),
            tuple(reason for _, _, reason, _ in answers),
            tuple(brief for _, _, _, brief in answers),
        )

    def _one_line(
        self,
        tx: Transaction,
        caller: Caller,
        message: InboundText,
        line: ParsedReport | UnreadableLine,
        origin: list[Report],
        notices: list[Outgoing],
    ) -> tuple[str, str, str | None, str]:
        """The reply to one line, its verdict (an `Outcome` value), the reason (a code) and
        the reply in a few words."""
        rejected = _REJECTED
        if caller.person is None and not caller.is_admin:
            brief = texts.refusal_brief(Refusal.NOT_REGISTERED)
            return texts.NOT_REGISTERED, rejected, Refusal.NOT_REGISTERED, brief
        if isinstance(line, UnreadableLine):
            kind = phrasing.kind_of_text(line.text, line.reason.value)
            mine = self._example_area(caller, line)
            example = _example(kind, mine)
            reply = texts.unreadable_report(
                line.reason.value, line.detail, line.details, line.text, example
            )
            brief = texts.unreadable_brief(
                line.reason.value,
                line.detail,
                line.details,
                kind,
                mine.registered_voters if mine else None,
                mine.staff if mine else None,
            )
            return reply, rejected, line.reason.value, brief
        area_or_refusal = self._area_for(caller, line)
        if isinstance(area_or_refusal, tuple):
            reason, reply, brief = area_or_refusal
            return reply, rejected, reason, brief
        area = area_or_refusal
        label = texts.unit_label(area.code, area.name)
        if not self.directory.serves(message.bot, self._db.units, area.code):
            channel = message.bot.partition(":")[0]
            right = self.directory.serving(self._db.units, area.code, channel)
            reply = texts.wrong_bot(label, right.link if right is not None else None)
            brief = texts.refusal_brief(Refusal.WRONG_BOT, area.code)
            return reply, rejected, Refusal.WRONG_BOT, brief
        if message.edited_at is not None:  # an edit corrects what its line said before
            line = line.model_copy(update={"is_correction": True})
        current = tx.current_reports(area.code)
        completed = phrasing.complete_report(
            line,
            area,
            current,
            self._settings.election_day(message.sent_at),
            arrived=message.sent_at.astimezone(self._tz).date(),
        )
        if isinstance(completed, phrasing.Question):
            reply = texts.phrasing_question(label, completed.reason, completed.facts, line.text)
            brief = texts.phrasing_question_brief(area.code, completed.reason, completed.facts)
            return reply, rejected, completed.reason, brief
        line = completed
        at = self._place_in_time(line, message.sent_at)
        candidate = Candidate(
            report=line,
            at=at,
            received_at=message.edited_at or message.sent_at,
            same_origin=tuple(
                r.id for r in origin if r.line_index == line.index and r.kind == line.kind
            )
            if origin
            else (),
        )
        locked = self._db.units.is_locked(area.code)
        choice = phrasing.afternoon_reading(area, locked, current, candidate)
        if choice.ask is not None:
            morning, afternoon = choice.ask
            reply = texts.ask_afternoon(label, morning, afternoon, line.text)
            brief = texts.ask_afternoon_brief(area.code, morning, afternoon)
            return reply, rejected, ASK_AFTERNOON, brief
        candidate, verdict = choice.candidate, choice.verdict
        line, at = candidate.report, candidate.at
        outcome = verdict.outcome
        if outcome in _STORED_OUTCOMES:
            finished_now = self._store(tx, area, current, candidate, verdict, message)
            if finished_now:
                notices.extend(self._finished_notices(tx, area, message))
        why = verdict.reason.value if verdict.reason is not None else None
        if outcome is Outcome.REPEAT:
            why = _REPEAT
        reply, brief = self._reply(area, line, at, verdict, label)
        return reply, _OUTCOME_VALUE[outcome], why, brief

    def _finished_notices(
        self, tx: Transaction, area: Unit, message: InboundText
    ) -> list[Outgoing]:
        """Groups whose unit has just had its last area finish; each is told once."""
        done = []
        for code in [area.code, *self._db.units.ancestor_codes(area.code)]:
            totals = tx.area_state(code, settled=True)
            if totals.areas_finished == totals.areas_total:
                done.append((code, totals))
        claimed = tx.claim_finished_notices(message.bot, [code for code, _ in done])
        by_code = dict(done)
        now = (message.edited_at or message.sent_at).astimezone(self._tz)
        due = (finished_notice(tx.unit_index(), s, by_code[s.unit_code], now) for s in claimed)
        return [notice for notice in due if notice is not None]

    def _area_for(self, caller: Caller, line: ParsedReport) -> Unit | tuple[str, str, str]:
        """The area of the line (its code, or the area it names among the sender's own), or
        why not: (reason, reply, the reply in a few words)."""
        units = self._db.units
        found = phrasing.resolve_area(
            line.area_code, line.area_number, line.area_place, caller, units, line.text
        )
        if isinstance(found, Unit):
            return found
        example = _example(line.kind.value, self._example_area(caller, line))
        match found.reason:
            case "needs_prefix":
                reply = texts.needs_area_prefix(found.choices)
            case "needs_code":
                reply = texts.NEEDS_AREA_CODE
            case "not_an_area":
                reply = texts.not_an_area(found.code)
            case "not_your_unit":
                reply = texts.not_your_unit(found.code)
            case "unknown_unit":
                if caller.is_admin:
                    reply = texts.unknown_unit(found.code)
                else:
                    reply = texts.unknown_area_code(found.code, example)
            case _:
                reply = texts.area_not_settled(found.reason, found.code, found.choices, example)
        brief = texts.area_not_settled_brief(found.reason, found.code, found.choices)
        return found.reason, reply, brief

    def _example_area(self, caller: Caller, line: ParsedLine) -> Unit | None:
        """The area whose code and sizes an example takes: the line's, else the sender's."""
        units = self._db.units
        found = phrasing.resolve_area(
            line.area_code, line.area_number, line.area_place, caller, units
        )
        area = found if isinstance(found, Unit) else None
        if area is None and caller.areas:
            area = units.get(caller.areas[0])
        if area is None and caller.supervised:
            under = units.areas_under(caller.supervised[0])
            area = under[0] if under else None
        return area

    async def _contact(self, caller: Caller) -> str | None:
        """Whom the sender's unit lists as its contact: a name if registered, else a phone."""
        units = self._db.units
        codes = [*caller.areas, *caller.supervised]
        for code in codes[:1]:
            for upper in [code, *units.ancestor_codes(code)][1:]:
                unit = units.get(upper)
                if unit is None or not unit.contact_phones:
                    continue
                people = await self._db.people_with_phones(list(unit.contact_phones))
                for phone in unit.contact_phones:
                    person = people.get(phone)
                    if person is not None and person.name:
                        return f"{person.name} ({phone})"
                return unit.contact_phones[0]
        return None

    def _place_in_time(self, line: ParsedReport, sent_at: dt.datetime) -> dt.datetime:
        """The stated time on the election date, or the message's arrival time."""
        if line.time is None or line.kind == ReportKind.COVID:
            return to_minute(sent_at.astimezone(self._tz))  # an arrival counts as its minute
        day = self._settings.election_day(sent_at)
        return dt.datetime.combine(day, line.time, tzinfo=self._tz)

    def _store(
        self,
        tx: Transaction,
        area: Unit,
        current: list[Report],
        candidate: Candidate,
        verdict: Verdict,
        message: InboundText,
    ) -> bool:
        """Store the report and the area's new state; True when the area has just finished."""
        line = candidate.report
        new = NewReport(
            area_code=area.code,
            kind=line.kind.value,
            at=int(candidate.at.timestamp()),
            time_stated=line.time is not None and line.kind != ReportKind.COVID,
            received_at=int(candidate.received_at.timestamp()),
            sender=message.sender,
            chat=message.chat,
            message_ref=message.message_ref,
            bot=message.bot,
            line_index=line.index,
            text=line.text,
            is_correction=line.is_correction,
            voted=verdict.voted,
            list_size=verdict.list_size if line.kind != ReportKind.COVID else None,
            staff_tested=line.staff_tested,
            staff_total=line.staff_total,
            positives=line.positives,
        )
        stored = tx.add_report(new)
        tx.mark_replaced(area.code, verdict.replaces, stored.id)
        kept = [r for r in current if r.id not in verdict.replaces]
        before = area_state(area, current)  # equals the stored row: the totals' invariant
        after = area_state(area, [*kept, stored])
        tx.update_area(area.code, before, after)
        tx.update_steps(area.code, step_changes(current, [*kept, stored]))
        return before.areas_finished == 0 and after.areas_finished == 1

    def _reply(
        self,
        area: Unit,
        line: ParsedReport,
        at: dt.datetime,
        verdict: Verdict,
        label: str | None = None,
    ) -> tuple[str, str]:
        """The reply to a judged report, and the same in a few words (`label`: the area's
        `texts.unit_label`, when the caller has it already)."""
        if label is None:
            label = texts.unit_label(area.code, area.name)
        if verdict.outcome is Outcome.REJECTED:
            assert verdict.reason is not None
            facts: dict[str, object] = dict(verdict.facts)
            return (
                texts.refused(label, verdict.reason.value, facts, self._tz),
                texts.refused_brief(area.code, verdict.reason.value, facts, self._tz),
            )
        if line.kind == ReportKind.COVID:
            assert line.staff_tested is not None and line.staff_total is not None
            tested, total, positives = line.staff_tested, line.staff_total, line.positives or 0
            stored = texts.covid_stored(label, tested, total, positives)
            brief = texts.covid_stored_brief(area.code, tested, total, positives)
        else:
            assert verdict.voted is not None and verdict.list_size is not None
            completion = line.kind == ReportKind.COMPLETION
            render = texts.completion_stored if completion else texts.turnout_stored
            shorten = texts.completion_stored_brief if completion else texts.turnout_stored_brief
            corrected = line.is_correction and bool(verdict.replaces)  # nothing replaced: new
            stored = render(label, verdict.voted, verdict.list_size, at, corrected)
            brief = shorten(area.code, verdict.voted, verdict.list_size, at, corrected)
        if verdict.outcome is Outcome.REPEAT:
            return texts.repeated(stored), texts.repeated_brief(brief)
        if verdict.outcome is Outcome.WARNED:
            before = verdict.facts.get("previous_list", 0)
            assert isinstance(before, int) and verdict.list_size is not None
            imported = area.registered_voters or 0
            return (
                texts.list_size_changed(stored, label, before, verdict.list_size, imported),
                texts.list_size_changed_brief(
                    area.code,
                    line.kind == ReportKind.COMPLETION,
                    verdict.voted or 0,
                    verdict.list_size,
                    before,
                    at,
                ),
            )
        return stored, brief


def _is_chatter(line: ParsedLine) -> bool:
    return isinstance(line, UnreadableLine) and line.reason is UnreadableReason.NO_REPORT


def _example(kind: str, area: Unit | None) -> str:
    """A correct report of `kind` in the sender's own terms: their area code and sizes."""
    if area is None:
        return texts.report_example(kind, None, None, None)
    return texts.report_example(kind, area.code, area.registered_voters, area.staff)


def _store_failed(job: _Job) -> IntakeResult:
    count = len(job.lines)
    return IntakeResult(
        [texts.STORE_FAILED] * count,
        [],
        ("failed",) * count,
        (STORE_FAILED,) * count,
        (texts.STORE_FAILED_BRIEF,) * count,
    )
