"""The core's front door: one object that owns the store and offers every use case.

Chat frontends (one adapter per channel) and the CLI call these methods with plain
values and get plain values back; nothing here knows about any chat platform.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import gc
import itertools
import re
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import partial

from bot import texts
from bot.channel import COMMAND_LINE, Address, Capabilities
from bot.messaging.answers import Answer, Refusal, Reply, Status, accepted, refused, replying
from bot.messaging.content import ContactRequest, Content, Document, Image, Outgoing, Text
from bot.messaging.directory import BotDirectory
from bot.messaging.flood import Admission, FloodGuard
from bot.messaging.inbox import Inbox
from bot.metrics import Metrics
from bot.model import Person, Subscription, Totals, Unit
from bot.monitoring.charts import ChartRenderer
from bot.monitoring.dashboard_links import issue_link, link_expiry, revoke_links
from bot.monitoring.export import export_rows, to_csv, to_xlsx
from bot.monitoring.views import (
    Summary,
    build_summary,
    history,
    missing_report,
    reminders,
    resolve_unit,
)
from bot.outage import StoreOutage
from bot.registration import invitation_files, invitations
from bot.registration.access import Caller, Viewer, identify
from bot.registration.contacts import assign, greeting, register_by_contact
from bot.registration.unit_import import import_units
from bot.results import export as results_export
from bot.results import texts as results_texts
from bot.results import views as results_views
from bot.results.imports import IMPORT_WARNED, import_results, is_results_file
from bot.results.intake import RecordIntake, Routed
from bot.results.views import ResultsView
from bot.settings import Settings
from bot.turnout.intake import InboundText, ReportIntake, finished_notice
from bot.turnout.rules import Outcome
from storage.database import Database, StoreHealth, Transaction

MAX_IMPORT_BYTES = 10 * 1024 * 1024  # a national list is ~8 MB of CSV
MAX_IMPORT_ROWS = 200_000  # ~85,000 areas plus their communes, districts and provinces
# A push builds this many summaries per chart worker at once (each has two charts): the
# workers always have the next chart queued while summaries read their data.
SUMMARIES_IN_FLIGHT_PER_WORKER = 2


@dataclass(frozen=True, slots=True)
class Where:
    """Who asks, from which chat, through which bot (its name: see `bot.model`)."""

    sender: Address
    chat: Address
    bot: str = ""
    in_group: bool = False
    chat_title: str = ""


Clock = Callable[[], dt.datetime]


# Young-generation collections every 20,000 allocations instead of 700 (gen 1 and 2 in
# proportion): measured on benchmarks/core_ingest.py, the default thresholds cost ~20% of the
# CPU of an ingest burst, rescanning thousands of live messages, tasks and futures.
GC_THRESHOLDS = (20_000, 20, 20)


def settle_memory() -> None:
    """For a long-running bot process, once its store is open: what exists now (the unit
    tree, settings, imported modules) lives as long as the process, so it is moved out of
    the collector's sight (`gc.freeze`), and collections run less often. Objects stay
    freed by reference counting as before; only cyclic garbage waits a little longer.
    Frozen once per process: a process that runs the bot again (tests) freezes nothing more."""
    if gc.get_freeze_count() == 0:
        gc.collect()
        gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


class Core:
    def __init__(
        self,
        db: Database,
        settings: Settings,
        renderer: ChartRenderer,
        clock: Clock | None = None,
        bot: str = "",
        *,
        summaries_in_flight: int = 2,
    ) -> None:
        self.db = db
        self.bot = bot  # the bot whose inbox, groups and health this core serves
        self.settings = settings
        self.metrics = Metrics()
        self.outage = StoreOutage(self.metrics)
        self.intake = ReportIntake(db, settings, self.metrics, self.outage)
        # One durable inbox per bot this process serves (its events keyed by the bot's name).
        self._inboxes: dict[str, Inbox] = {}
        self.flood = FloodGuard()
        self.renderer = renderer
        self._clock = clock
        self.directory = BotDirectory()
        self.records = RecordIntake(db, settings, self.now)  # results night's counting records
        # Summaries a push builds at once (`scheduled_summary_stream`): enough to keep every
        # chart worker busy while the next ones read their data, few enough to hold little.
        self.summaries_in_flight = summaries_in_flight

    @classmethod
    async def open(
        cls,
        settings: Settings,
        chart_workers: int = 2,
        clock: Clock | None = None,
        bot: str = "",
    ) -> Core:
        """`bot`: the name of the bot this process runs (empty: none, as on the command
        line); it adopts what a release before schema 5 stored under no bot."""
        database = await Database.open(settings.database)
        if bot:
            await database.adopt_rows_without_bot(bot)
        # Charts remembered by their data (up to 64 MB of PNGs): groups that follow one unit
        # share its render, and a chart asked for again with the same data is not redrawn. A
        # push's charts carry its time, so a later push draws them again (docs/PERFORMANCE.md,
        # "the national push": why, and what reusing them across pushes would take).
        renderer = ChartRenderer(chart_workers, cache_bytes=64 * 1024 * 1024)
        in_flight = max(2, SUMMARIES_IN_FLIGHT_PER_WORKER * chart_workers)
        return cls(database, settings, renderer, clock, bot, summaries_in_flight=in_flight)

    async def close(self) -> None:
        self.renderer.close()
        await self.db.close()

    @property
    def directory(self) -> BotDirectory:
        """The bots of channels that run several (each serving a subtree), with their links;
        the wiring fills it. The report intake refuses a report sent to the wrong bot."""
        return self.intake.directory

    @directory.setter
    def directory(self, directory: BotDirectory) -> None:
        self.intake.directory = directory

    @property
    def inbox(self) -> Inbox:
        """The first bot's inbox (the bot `Core.open` was given)."""
        return self.inbox_for(self.bot)

    def inbox_for(self, bot: str) -> Inbox:
        """The durable inbox of one bot of this process (made on first use)."""
        inbox = self._inboxes.get(bot)
        if inbox is None:
            inbox = self._inboxes[bot] = Inbox(self.db, bot, self.outage)
        return inbox

    @property
    def inboxes(self) -> list[Inbox]:
        return list(self._inboxes.values())

    async def close_inboxes(self) -> None:
        """Write what every inbox still holds (the marks of handled events)."""
        for inbox in self.inboxes:
            await inbox.close()

    def now(self) -> dt.datetime:
        """Wall-clock time in the election's time zone (a drill passes its simulated clock)."""
        moment = self._clock() if self._clock is not None else dt.datetime.now(self.settings.tz)
        return moment.astimezone(self.settings.tz)

    async def caller(self, identity: Address) -> Caller:
        return await identify(self.db, identity, self.settings.admins)

    def is_admin(self, identity: Address) -> bool:
        return identity in self.settings.admins

    def admit(self, identity: Address, text: str) -> Admission:
        """Whether to handle a person's message now (admins are never throttled)."""
        if self.is_admin(identity):
            return Admission.ADMIT
        return self.flood.admit(identity, text)

    # -- use cases -------------------------------------------------------------------------------

    async def report(self, message: InboundText) -> Answer:
        """A chief's message: one reply per report line, each with its outcome and reason,
        and the notices to groups whose unit has just finished."""
        result = await self.intake.handle(message)
        briefs = [Text(b) if b else None for b in result.briefs] or [None] * len(result.replies)
        if not result.outcomes:  # answered before: the same replies, nothing done now
            again = tuple(
                Reply(Text(text), reason=ALREADY_ANSWERED, brief=brief)
                for text, brief in zip(result.replies, briefs, strict=True)
            )
            return Answer(again)
        outcomes, reasons = result.outcomes, result.reasons
        replies = tuple(
            Reply(Text(text), _STATUS_OF_OUTCOME[outcome], reason, brief)
            for text, outcome, reason, brief in zip(
                result.replies, outcomes, reasons, briefs, strict=True
            )
        )
        return Answer(replies, tuple(result.notices))

    async def start(self, identity: Address, capabilities: Capabilities) -> Answer:
        """`/start` on a channel that can do `capabilities`: who the sender is, or for a
        newcomer how to register (with the button that shares the phone number, where the
        channel has one)."""
        known = greeting(await self.caller(identity), self.db.units)
        if known is not None:
            return accepted(known)
        pitch = texts.start(contact_button=capabilities.contact_button)
        if not self.settings.admins:  # setting up: the id to put in FIELDTALLY_ADMINS
            pitch += texts.no_admins_yet(str(identity))
        if capabilities.contact_button:
            return replying(ContactRequest(pitch, texts.SHARE_CONTACT_BUTTON))
        return accepted(pitch)

    def help(self) -> Answer:
        return accepted(texts.HELP)

    async def register(
        self,
        *,
        sender: Address,
        chat: Address,
        contact_owner: Address | None,
        phone: str,
        name: str,
    ) -> Answer:
        return await register_by_contact(
            self.db,
            sender=sender,
            chat=chat,
            contact_owner=contact_owner,
            phone=phone,
            name=name,
        )

    async def register_by_code(
        self, where: Where, args: list[str], known_names: Mapping[Address, str] | None = None
    ) -> Answer:
        """`dk CODE` (`/dangky CODE`): registration by an invitation code, on any
        channel; the rules are in `bot.registration.invitations`."""
        if not args:
            return refused(Refusal.USAGE, texts.REGISTER_USAGE)
        return await invitations.redeem(
            self.db,
            self.directory,
            sender=where.sender,
            chat=where.chat,
            bot=where.bot,
            text="".join(args),
            now=self.now(),
            known_names=known_names,
        )

    async def invite(self, identity: Address, args: list[str]) -> Answer:
        """`/moi [code] [csv|xlsx]`: new invitation codes for every phone of the subtree
        (admins; supervisors for their subtree), as a file; earlier unused codes of those
        phones are revoked."""
        caller = await self.caller(identity)
        if not caller.is_admin and not caller.is_supervisor:
            return refused(Refusal.SUPERVISORS_ONLY, texts.SUPERVISORS_ONLY)
        formats = [a for a in args if a.lower() in ("csv", "xlsx")]
        codes = [a for a in args if a.lower() not in ("csv", "xlsx")]
        if len(codes) > 1 or len(formats) > 1:
            return refused(Refusal.USAGE, texts.INVITE_USAGE)
        unit = self._unit_for(caller, codes[0] if codes else None, "moi")
        if isinstance(unit, Answer):
            return unit
        label = texts.unit_label(unit.code, unit.name)
        if not any(u.contact_phones for u in self.db.units.subtree(unit.code)):
            return refused(Refusal.NO_PHONES, texts.no_phones_to_invite(label))
        issued = await self.issue_invitations(unit.code, identity)
        as_xlsx = bool(formats) and formats[0].lower() == "xlsx"
        content = (
            await asyncio.to_thread(
                invitation_files.to_xlsx, issued.rows, label, issued.valid_until
            )
            if as_xlsx
            else invitation_files.to_csv(issued.rows)
        )
        safe_code = re.sub(r"[^A-Za-z0-9._-]", "_", unit.code)
        stamp = self.now().strftime("%Y%m%d-%H%M")
        return replying(
            Document(
                filename=f"mamoi_{safe_code}_{stamp}.{'xlsx' if as_xlsx else 'csv'}",
                content=content,
                caption=texts.invitations_caption(label, len(issued.rows), issued.valid_until),
            )
        )

    async def issue_invitations(self, unit_code: str, by: Address) -> invitations.IssuedInvitations:
        """New codes for every (unit, phone) of the subtree (the command line's too)."""
        now = self.now()
        return await invitations.issue(
            self.db,
            unit_code,
            self.directory,
            now=now,
            election_date=self.settings.election_day(now),
            by=by,
        )

    async def assign(self, identity: Address, args: list[str]) -> Answer:
        return await assign(self.db, actor=identity, is_admin=self.is_admin(identity), args=args)

    def may_import(
        self, identity: Address, filename: str | None, size: int | None
    ) -> Answer | None:
        """A refusal to give before fetching the file, or None when it may proceed."""
        if not self.is_admin(identity):
            return refused(Refusal.ADMIN_ONLY, texts.ADMIN_ONLY)
        if not (filename or "").lower().endswith((".csv", ".xlsx")):
            return refused(Refusal.IMPORT_NOT_CSV, texts.IMPORT_NOT_CSV)
        if size is not None and size > MAX_IMPORT_BYTES:
            return refused(Refusal.IMPORT_TOO_LARGE, texts.import_too_large(MAX_IMPORT_BYTES))
        return None

    async def import_units(self, identity: Address, data: bytes, filename: str) -> Answer:
        if not self.is_admin(identity):
            return refused(Refusal.ADMIN_ONLY, texts.ADMIN_ONLY)
        if len(data) > MAX_IMPORT_BYTES:
            return refused(Refusal.IMPORT_TOO_LARGE, texts.import_too_large(MAX_IMPORT_BYTES))
        if data.count(b"\n") > MAX_IMPORT_ROWS:
            reply = texts.import_too_many_rows(MAX_IMPORT_ROWS)
            return refused(Refusal.IMPORT_TOO_MANY_ROWS, reply)
        if is_results_file(filename, data):  # the ballot files of results night
            outcome = await import_results(self.db, [(filename, data)], by=identity)
            if not outcome.stored:
                return refused(Refusal.IMPORT_INVALID, outcome.text)
            if outcome.warnings:
                return Answer((Reply(Text(outcome.text), Status.WARNED, IMPORT_WARNED),))
            return accepted(outcome.text)
        stored, reply = await import_units(self.db, data, filename, by=identity)
        return accepted(reply) if stored else refused(Refusal.IMPORT_INVALID, reply)

    async def export(self, identity: Address, args: list[str]) -> Answer:
        """`/xuat [code] [csv|xlsx]`: the subtree's table, for admins and the unit's supervisors;
        `/xuat kq …` (`/export results …`) is results night's export."""
        if args and args[0].lower() in RESULTS_EXPORT_WORDS:
            return await self.export_results(identity, args[1:])
        caller = await self.caller(identity)
        if not caller.is_admin and not caller.is_supervisor:
            return refused(Refusal.SUPERVISORS_ONLY, texts.SUPERVISORS_ONLY)
        formats = [a for a in args if a.lower() in ("csv", "xlsx")]
        codes = [a for a in args if a.lower() not in ("csv", "xlsx")]
        if len(codes) > 1 or len(formats) > 1:
            return refused(Refusal.USAGE, texts.EXPORT_USAGE)
        as_xlsx = bool(formats) and formats[0].lower() == "xlsx"
        unit = self._unit_for(caller, codes[0] if codes else None, "xuat")
        if isinstance(unit, Answer):
            return unit
        rows = await export_rows(self.db, unit.code, self.settings.tz)
        stamp = self.now().strftime("%Y%m%d-%H%M")
        safe_code = re.sub(r"[^A-Za-z0-9._-]", "_", unit.code)
        return replying(
            Document(
                filename=f"tonghop_{safe_code}_{stamp}.{'xlsx' if as_xlsx else 'csv'}",
                content=(
                    await asyncio.to_thread(partial(to_xlsx, rows, unit.code, as_of=self.now()))
                    if as_xlsx
                    else to_csv(rows)
                ),
                caption=texts.export_caption(texts.unit_label(unit.code, unit.name), len(rows)),
            )
        )

    # -- results night's reads (RESULTS.md: /ketqua, /chuakq, /xuat kq) ----------------------

    @property
    def results_double_entry(self) -> bool:
        """FIELDTALLY_RESULTS_DOUBLE_ENTRY: a record counts as checked only after a second,
        matching entry."""
        return self.settings.results_double_entry

    async def view_results(self, where: Where, args: list[str]) -> ResultsView | Answer:
        """What `/ketqua [code] [ballot]` shows (supervisors, admins, subscribed chats), or
        the refusal."""
        viewer = await self.viewer(where)
        if not viewer.may_supervise:
            if not viewer.caller.is_registered and not where.in_group:
                return refused(Refusal.NOT_REGISTERED, texts.NOT_REGISTERED)
            return refused(Refusal.SUPERVISORS_ONLY, texts.SUPERVISORS_ONLY)
        target = await results_views.resolve(self.db, viewer, args, "ketqua")
        if isinstance(target, Answer):
            return target
        return await results_views.results_view(self.db, self.renderer, target, self.now())

    async def results(self, where: Where, args: list[str]) -> Answer:
        """`/ketqua [code] [ballot]`: an electoral unit's standing and chart, or an
        administrative unit's per-ballot line (`HĐND xã: bầu được 1.952/2.019`)."""
        view = await self.view_results(where, args)
        if isinstance(view, Answer):
            return view
        if view.chart is None:
            return accepted(view.text)
        return replying(Text(view.text), Image(view.chart, "ketqua.png"))

    async def missing_results(self, where: Where, args: list[str]) -> Answer:
        """`/chuakq [code] [ballot]`: areas without a record, by electoral unit, with whom
        to call."""
        viewer = await self.viewer(where)
        if not viewer.may_supervise:
            return refused(Refusal.SUPERVISORS_ONLY, texts.SUPERVISORS_ONLY)
        target = await results_views.resolve(self.db, viewer, args, "chuakq")
        if isinstance(target, Answer):
            return target
        double = self.results_double_entry
        return accepted(
            await results_views.missing_results(self.db, viewer, target, double_entry=double)
        )

    async def export_results(self, identity: Address, args: list[str]) -> Answer:
        """`/xuat kq [code] [csv|xlsx]`: records per area and totals per electoral unit, as two
        CSV files or one .xlsx with two sheets (supervisors for their subtree, admins)."""
        caller = await self.caller(identity)
        if not caller.is_admin and not caller.is_supervisor:
            return refused(Refusal.SUPERVISORS_ONLY, texts.SUPERVISORS_ONLY)
        formats = [a for a in args if a.lower() in ("csv", "xlsx")]
        rest = [a for a in args if a.lower() not in ("csv", "xlsx")]
        if len(formats) > 1:
            return refused(
                Refusal.USAGE,
                results_texts.EXPORT_RESULTS_USAGE,
                results_texts.EXPORT_RESULTS_USAGE_BRIEF,
            )
        target = await results_views.resolve(self.db, Viewer(caller), rest, "xuat kq")
        if isinstance(target, Answer):
            return target
        tables = await results_views.results_tables(
            self.db, target, self.settings.tz, double_entry=self.results_double_entry
        )
        now = self.now()
        stamp = now.strftime("%Y%m%d-%H%M")
        safe_code = re.sub(r"[^A-Za-z0-9._-]", "_", target.code)
        if target.ballot is not None and target.electoral_unit is None:
            safe_code += f"_{target.ballot.value}"
        caption = results_texts.results_export_caption(
            target.label, len(tables.areas), len(tables.units)
        )
        if formats and formats[0].lower() == "xlsx":
            content = await asyncio.to_thread(
                results_export.to_xlsx, tables.areas, tables.units, target.label, now
            )
            name = f"results_{safe_code}_{stamp}.xlsx"
            return replying(Document(filename=name, content=content, caption=caption))
        return replying(
            Document(
                filename=f"results_areas_{safe_code}_{stamp}.csv",
                content=results_export.to_csv(results_export.RESULTS_AREAS_COLUMNS, tables.areas),
            ),
            Document(
                filename=f"results_units_{safe_code}_{stamp}.csv",
                content=results_export.to_csv(results_export.RESULTS_UNITS_COLUMNS, tables.units),
                caption=caption,
            ),
        )

    async def set_lock(self, identity: Address, args: list[str], locked: bool) -> Answer:
        """`/khoa [code]` and `/mokhoa [code]`: stop or resume reports for a subtree (admins);
        `/khoa kq <electoral unit>`: end (or resume) entry of its counting records."""
        caller = await self.caller(identity)
        if args and args[0].lower() == "kq":
            return await self.records.set_lock(caller, args[1:], locked)
        if not caller.is_admin:
            return refused(Refusal.ADMIN_ONLY, texts.ADMIN_ONLY)
        if len(args) > 1:
            return refused(Refusal.USAGE, texts.lock_usage(locked))
        unit = self._unit_for(caller, args[0] if args else None, "khoa" if locked else "mokhoa")
        if isinstance(unit, Answer):
            return unit
        code = unit.code

        def set_lock(tx: Transaction) -> None:
            tx.set_locked([code], locked)
            tx.audit(identity, "lock" if locked else "unlock", code)

        await self.db.write(set_lock)
        label = texts.unit_label(unit.code, unit.name)
        return accepted(texts.locked(label) if locked else texts.unlocked(label))

    async def audit_log(
        self, identity: Address, args: list[str], known_names: Mapping[Address, str] | None = None
    ) -> Answer:
        """`/nhatky [n]`: the latest admin actions (admins only), by name: a registered
        person's, else the name the chat frontend last saw (`known_names`)."""
        if not self.is_admin(identity):
            return refused(Refusal.ADMIN_ONLY, texts.ADMIN_ONLY)
        limit = int(args[0]) if args and args[0].isdigit() and 0 < int(args[0]) <= 200 else 30
        entries = await self.db.audit_entries(limit)
        people = await self.db.people_by_identity(sorted({e.actor for e in entries}))
        return accepted(
            texts.audit_log(
                [
                    (
                        dt.datetime.fromtimestamp(e.at, self.settings.tz),
                        _actor(e.actor, people, known_names or {}),
                        e.action,
                        e.detail,
                    )
                    for e in entries
                ]
            )
        )

    async def viewer(self, where: Where) -> Viewer:
        caller = await self.caller(where.sender)
        if not where.in_group:
            return Viewer(caller)
        subscription = await self.db.subscription(where.bot, where.chat)
        return Viewer(caller, subscription.unit_code if subscription else None, in_group=True)

    async def summary(self, where: Where, args: list[str]) -> Answer:
        """`/tonghop [code]`: text and charts of a unit the chat may see."""
        summary = await self.view_summary(where, args)
        if isinstance(summary, Answer):
            return summary
        return replying(*summary_contents(summary))

    async def view_summary(self, where: Where, args: list[str]) -> Summary | Answer:
        """The summary `/tonghop` would show (with what its charts drew), or the refusal."""
        viewer = await self.viewer(where)
        if not viewer.may_supervise and not viewer.caller.areas:
            if not viewer.caller.is_registered:
                return refused(Refusal.NOT_REGISTERED, texts.NOT_REGISTERED)
            return refused(Refusal.SUPERVISORS_ONLY, texts.SUPERVISORS_ONLY)
        unit = resolve_unit(self.db, viewer, args[:1], "tonghop")
        if isinstance(unit, Answer):
            return unit
        return await build_summary(self.db, self.renderer, unit, self.now())

    async def missing(self, where: Where, args: list[str]) -> Answer:
        """`/chuabaocao [code]`: areas with no report, grouped, with whom to call."""
        viewer = await self.viewer(where)
        if not viewer.may_supervise:
            return refused(Refusal.SUPERVISORS_ONLY, texts.SUPERVISORS_ONLY)
        unit = resolve_unit(self.db, viewer, args[:1], "chuabaocao")
        if isinstance(unit, Answer):
            return unit
        return accepted(await missing_report(self.db, unit))

    async def remind(self, where: Where, args: list[str]) -> Answer:
        """`/nhacnho [code]`: reminders to the chiefs of unreported areas, and the answer."""
        viewer = Viewer(await self.caller(where.sender))
        if not viewer.caller.is_admin and not viewer.caller.is_supervisor:
            return refused(Refusal.SUPERVISORS_ONLY, texts.SUPERVISORS_ONLY)
        unit = resolve_unit(self.db, viewer, args[:1], "nhacnho")
        if isinstance(unit, Answer):
            return unit
        notes, answer, unreported = await reminders(self.db, unit)
        if unreported and not notes:  # areas to call, and nobody registered to remind
            return Answer((Reply(Text(answer), Status.WARNED, NOBODY_TO_REMIND),))
        return accepted(answer, sends=notes)

    async def history(self, where: Where, args: list[str]) -> Answer:
        """`/lichsu <area>`: every report of the area, replaced ones included; `/lichsu kq
        <area>`: its counting records, second entries and record photos."""
        viewer = Viewer(await self.caller(where.sender))
        if not viewer.caller.is_admin and not viewer.caller.is_supervisor:
            return refused(Refusal.SUPERVISORS_ONLY, texts.SUPERVISORS_ONLY)
        results = bool(args) and args[0].lower() == "kq"
        if results:
            args = args[1:]
        if len(args) != 1:
            return refused(Refusal.USAGE, texts.HISTORY_USAGE)
        unit = resolve_unit(self.db, viewer, args, "lichsu")
        if isinstance(unit, Answer):
            return unit
        if not unit.is_area:
            return refused(Refusal.NOT_AN_AREA, texts.not_an_area(unit.code), naming=unit.code)
        if results:
            return accepted(await self.records.history(unit, self.settings.tz))
        return accepted(await history(self.db, unit, self.settings.tz))

    async def dashboard(self, where: Where, args: list[str]) -> Answer:
        """`/bangtin [code]`: a link to the unit's live dashboard; `/bangtin huy [code]`:
        revoke every link of the unit. For admins and the unit's supervisors."""
        caller = await self.caller(where.sender)
        if not caller.is_admin and not caller.is_supervisor:
            if not caller.is_registered:
                return refused(Refusal.NOT_REGISTERED, texts.NOT_REGISTERED)
            return refused(Refusal.SUPERVISORS_ONLY, texts.SUPERVISORS_ONLY)
        revoke = bool(args) and args[0].lower() in DASHBOARD_REVOKE_WORDS
        rest = args[1:] if revoke else args
        if len(rest) > 1:
            return refused(Refusal.USAGE, texts.DASHBOARD_USAGE)
        unit = self._unit_for(caller, rest[0] if rest else None, "bangtin")
        if isinstance(unit, Answer):
            return unit
        label = texts.unit_label(unit.code, unit.name)
        if revoke:
            count = await revoke_links(self.db, unit, caller.identity, self.now())
            return accepted(texts.dashboard_revoked(label, count))
        now = self.now()
        if link_expiry(self.settings, now) <= now:  # more than two days after the election
            return refused(Refusal.ELECTION_OVER, texts.DASHBOARD_ELECTION_OVER)
        issued = await issue_link(self.db, self.settings, unit, caller.identity, now)
        return accepted(texts.dashboard_link(label, issued.url, issued.expires_at))

    async def results_message(
        self,
        message: InboundText,
        capabilities: Capabilities,
        *,
        is_command: bool,
        photo: Callable[[], Awaitable[bytes]] | None = None,
    ) -> Routed:
        """A private message as results night sees it first: a counting record, its
        confirmation or cancel, a record photo (`photo`: the attached picture's bytes, fetched
        only for a caption `kq <ballot>`), or anything else, which drops the sender's pending
        record (see `bot.results.intake`)."""
        return await self.records.route(
            message,
            buttons=capabilities.buttons,
            is_command=is_command,
            photo=photo,
            bots=[self.bot],
        )

    async def expire_pending_records(self) -> list[Outgoing]:
        """Counting records read back 30 minutes ago and never confirmed: dropped, and a word
        to each sender (a schedule of the wiring)."""
        return await self.records.expire()

    async def subscribe(self, where: Where, args: list[str]) -> Answer:
        """`/theodoi CODE` by an admin or a supervisor of that unit: in a group, the group
        follows the unit; in a private chat, the sender's own chat does (the same automatic
        summaries and notices)."""
        caller = await self.caller(where.sender)
        if not caller.is_admin and not caller.is_supervisor:
            return refused(Refusal.SUBSCRIBE_WHO, texts.SUBSCRIBE_WHO)
        if len(args) != 1:
            return refused(Refusal.USAGE, texts.SUBSCRIBE_USAGE)
        unit = self.db.units.get(args[0])
        if unit is None:
            return refused(Refusal.UNKNOWN_UNIT, texts.unknown_unit(args[0]), naming=args[0])
        if not caller.may_see(self.db.units, unit):
            return refused(Refusal.SUBSCRIBE_WHO, texts.SUBSCRIBE_WHO)
        subscription = Subscription(
            where.chat, where.bot, unit.code, where.chat_title, caller.identity
        )
        in_group = where.in_group

        def subscribe(tx: Transaction) -> None:
            tx.subscribe(subscription)
            detail = (
                texts.audit_group_detail(unit.code, where.chat_title, subscribed=True)
                if in_group
                else texts.audit_private_detail(unit.code, subscribed=True)
            )
            tx.audit(caller.identity, "subscribe", detail)

        await self.db.write(subscribe)
        label = texts.unit_label(unit.code, unit.name)
        return accepted(texts.subscribed(label) if in_group else texts.subscribed_private(label))

    async def unsubscribe(self, where: Where) -> Answer:
        """`/huytheodoi`: the group (by an admin or the unit's supervisor), or one's own
        private chat, stops following its unit."""
        caller = await self.caller(where.sender)
        subscription = await self.db.subscription(where.bot, where.chat)
        if subscription is None:
            return refused(
                Refusal.NOT_SUBSCRIBED,
                texts.NOT_SUBSCRIBED if where.in_group else texts.NOT_SUBSCRIBED_PRIVATE,
            )
        unit = self.db.units.get(subscription.unit_code)
        if (
            where.in_group
            and not caller.is_admin
            and (unit is None or not caller.may_see(self.db.units, unit))
        ):
            return refused(Refusal.SUBSCRIBE_WHO, texts.SUBSCRIBE_WHO)
        in_group = where.in_group

        def unsubscribe(tx: Transaction) -> None:
            tx.unsubscribe(where.bot, where.chat)
            if in_group:
                title = subscription.title or where.chat_title
                detail = texts.audit_group_detail(subscription.unit_code, title, subscribed=False)
            else:
                detail = texts.audit_private_detail(subscription.unit_code, subscribed=False)
            tx.audit(caller.identity, "unsubscribe", detail)

        await self.db.write(unsubscribe)
        return accepted(texts.UNSUBSCRIBED if in_group else texts.UNSUBSCRIBED_PRIVATE)

    async def scheduled_summaries(
        self, bots: Iterable[str] | None = None
    ) -> list[tuple[list[Subscription], Summary]]:
        """One summary per subscribed unit (rendered once), with the chats of `bots` (default:
        the first bot) that follow it: groups, and the private chats of supervisors who
        follow a unit. All of them at once, in the order of the subscriptions; a push streams
        them instead (`scheduled_summary_stream`), so that nothing waits for the last."""
        rendered = [item async for item in self._rendered_summaries(bots)]
        rendered.sort(key=lambda item: item[0])
        return [(subscriptions, summary) for _, subscriptions, summary in rendered]

    async def scheduled_summary_stream(
        self, bots: Iterable[str] | None = None, in_flight: int | None = None
    ) -> AsyncGenerator[tuple[list[Subscription], Summary], None]:
        """The summaries of `scheduled_summaries`, each as soon as it is rendered (so not in
        the subscriptions' order): `in_flight` (default `summaries_in_flight`) are built at
        once, both charts of each in the chart pool together, so every worker has work; a
        summary is handed over as soon as it is done and the next one started, and none is
        kept here once handed over. Close it (`contextlib.aclosing`) to stop early: the
        summaries still being built are cancelled."""
        async with contextlib.aclosing(self._rendered_summaries(bots, in_flight)) as rendered:
            async for _, subscriptions, summary in rendered:
                yield subscriptions, summary

    async def scheduled_push_stream(
        self, bots: Iterable[str] | None = None, in_flight: int | None = None
    ) -> AsyncGenerator[list[Outgoing], None]:
        """The automatic summaries as a stream: for each subscribed unit, as soon as its
        summary is rendered, its messages to every chat of `bots` that follows it (each
        chat's in order: the text, then the charts). `Switchboard.send_stream` sends them."""
        stream = self.scheduled_summary_stream(bots, in_flight)
        async with contextlib.aclosing(stream) as summaries:
            async for subscriptions, summary in summaries:
                yield push_messages(subscriptions, summary)

    async def scheduled_pushes(self, bots: Iterable[str] | None = None) -> list[Outgoing]:
        """The automatic summaries: each subscribed unit's (rendered once) to every chat of
        `bots` that follows it, through the bot it subscribed with. All of them at once (the
        schedule streams them: `scheduled_push_stream`)."""
        pushes = []
        for subscriptions, summary in await self.scheduled_summaries(bots):
            pushes += push_messages(subscriptions, summary)
        return pushes

    async def _followers(self, bots: Iterable[str] | None) -> dict[str, list[Subscription]]:
        """The chats of `bots` that follow each unit, by unit code, in subscription order."""
        followers: dict[str, list[Subscription]] = {}
        for bot in self._bots(bots):
            for subscription in await self.db.subscriptions(bot):
                followers.setdefault(subscription.unit_code, []).append(subscription)
        return followers

    async def _rendered_summaries(
        self, bots: Iterable[str] | None, in_flight: int | None = None
    ) -> AsyncGenerator[tuple[int, list[Subscription], Summary], None]:
        """(position among the followed units, followers, summary) as each is rendered, at
        most `in_flight` being built at a time; the first finished first."""
        followers = await self._followers(bots)
        now = self.now()
        units = self.db.units
        waiting = (
            (position, unit, subscriptions)
            for position, (unit, subscriptions) in enumerate(
                (units.get(code), subscriptions) for code, subscriptions in followers.items()
            )
            if unit is not None
        )
        limit = max(1, self.summaries_in_flight if in_flight is None else in_flight)
        building: dict[asyncio.Future[Summary], tuple[int, list[Subscription]]] = {}
        finished: list[tuple[int, list[Subscription], asyncio.Future[Summary]]] = []

        def start_more() -> None:
            for position, unit, subscriptions in itertools.islice(
                waiting, max(0, limit - len(building))
            ):
                task = asyncio.ensure_future(build_summary(self.db, self.renderer, unit, now))
                building[task] = (position, subscriptions)

        try:
            start_more()
            while building:
                done, _ = await asyncio.wait(building, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    position, subscriptions = building.pop(task)
                    finished.append((position, subscriptions, task))
                finished.sort(key=lambda item: item[0])
                start_more()  # before handing over: the pool works while the caller sends
                while finished:
                    position, subscriptions, task = finished.pop(0)
                    yield position, subscriptions, task.result()
        finally:
            left = [*building, *(task for _, _, task in finished)]
            for task in left:
                task.cancel()
            if left:
                await asyncio.gather(*left, return_exceptions=True)

    def _bots(self, bots: Iterable[str] | None) -> list[str]:
        return [self.bot] if bots is None else list(dict.fromkeys(bots))

    @property
    def shares_database(self) -> bool:
        """Whether other bot processes write the same database (PostgreSQL)."""
        return self.db.shared

    async def health(self, bot: str | None = None) -> StoreHealth:
        return await self.db.health(self.bot if bot is None else bot)

    async def catch_up_with_other_processes(
        self, bots: Iterable[str] | None = None
    ) -> list[Outgoing]:
        """Where the database is shared: see a unit import done through another process, and
        return the "all finished" notices due to the chats of `bots` (default: the first
        bot) whose unit's last area was finished through another bot or process (each chat
        told once)."""
        await self.db.refresh_units()
        now = self.now()
        notices = []
        for bot in self._bots(bots):
            claimed = await self.db.write(partial(_finished_unclaimed, bot=bot))
            due = (finished_notice(self.db.units, s, totals, now) for s, totals in claimed)
            notices += [notice for notice in due if notice is not None]
        return notices

    def _unit_for(self, caller: Caller, code: str | None, command: str) -> Unit | Answer:
        """The unit a command works on: the one named, else the caller's own."""
        units = self.db.units
        if code is not None:
            unit = units.get(code)
            if unit is None:
                return refused(Refusal.UNKNOWN_UNIT, texts.unknown_unit(code), naming=code)
            if not caller.may_see(units, unit):
                return refused(
                    Refusal.NOT_YOUR_UNIT, texts.not_your_unit(unit.code), naming=unit.code
                )
            return unit
        home = caller.home_units(units)
        if not home:
            return refused(Refusal.NO_UNITS_YET, texts.NO_UNITS_YET)
        if len(home) > 1:
            return refused(Refusal.CHOOSE_UNIT, texts.choose_unit([u.code for u in home], command))
        return home[0]


DASHBOARD_REVOKE_WORDS = ("huy", "hủy", "revoke")  # `/bangtin huy [code]`
RESULTS_EXPORT_WORDS = ("kq", "ketqua", "results")  # `/xuat kq`, `/export results`
ALREADY_ANSWERED = "already_answered"  # a message delivered again: its first replies
NOBODY_TO_REMIND = "nobody_to_remind"  # unreported areas whose chiefs are not registered

_STATUS_OF_OUTCOME = {
    Outcome.ACCEPTED.value: Status.ACCEPTED,
    Outcome.REPEAT.value: Status.ACCEPTED,  # stored before: its reason says "repeat"
    Outcome.WARNED.value: Status.WARNED,
    Outcome.REJECTED.value: Status.REFUSED,
    "failed": Status.FAILED,
}


def _finished_unclaimed(tx: Transaction, *, bot: str) -> list[tuple[Subscription, Totals]]:
    return tx.finished_unclaimed(bot)


def push_messages(subscriptions: Iterable[Subscription], summary: Summary) -> list[Outgoing]:
    """A summary as the automatic messages to each chat that follows its unit, through the
    bot it subscribed with: each chat's text, then its charts (the same images for all)."""
    contents = summary_contents(summary)
    return [
        Outgoing(s.chat, c, s.bot or None, automatic=True) for s in subscriptions for c in contents
    ]


def summary_contents(summary: Summary) -> list[Content]:
    """A summary as messages: its text, then its charts."""
    charts = [Image(png, f"chart{i + 1}.png") for i, png in enumerate(summary.charts)]
    return [Text(summary.text), *charts]


def _actor(
    actor: Address, people: Mapping[Address, Person], known_names: Mapping[Address, str]
) -> str:
    """Who an audit entry names: a person, someone the frontend saw, or the command line."""
    if actor == COMMAND_LINE:
        return texts.AUDIT_COMMAND_LINE
    if actor in people:
        return people[actor].name
    return known_names.get(actor) or texts.audit_someone(str(actor))
