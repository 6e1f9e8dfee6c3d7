"""One run of the drill (``Drill``): the sandbox, the real bot started against it, and the
people of the script acting on the simulated clock: the admin imports the list and subscribes
the group, every chief plays their steps, each answer is awaited and checked (a surprise is a
``DemoError`` with the exchange that caused it).
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from bot.messaging.answers import Status
from bot.registration.units_file import UnitRow
from bot.settings import Settings
from fieldtally.demo.clock import SimClock
from fieldtally.demo.constants import (
    ADMIN_ID,
    ADMIN_NAME,
    ANY,
    DEFAULT_OUTPUT,
    DEFAULT_SEED,
    DEFAULT_SPEED,
    DOCUMENT,
    ELECTION_DAY,
    GROUP_ID,
    MIN_SUMMARY_EVERY_S,
    NIGHT_GROUP_ID,
    NO,
    OK,
    PHOTO,
    REPLY_TIMEOUT,
    SUMMARY_SIM_INTERVAL,
    WARN,
    DemoError,
)
from fieldtally.demo.conversation import Conversation, Line, _matches, _quoted
from fieldtally.demo.night import BallotFiles, NightPlan, signed_record_photo
from fieldtally.demo.script import Action, Chief, Plan, Step
from fieldtally.demo.units import UnitList
from handlers.telegram.settings import TelegramSettings
from sandbox import BotApiSandbox, OutgoingRecord, SimUser


@dataclass(frozen=True, slots=True)
class DemoOptions:
    units: Path | None = None  # None: the bundled Mường Khương 2021 sample
    output: Path = DEFAULT_OUTPUT
    speed: float = DEFAULT_SPEED
    seed: int = DEFAULT_SEED
    progress: TextIO | None = None  # where the progress bar goes (stderr in the command)
    channel: str = "telegram"  # the chiefs' channel: telegram, zalo or sms (fieldtally/demo/)


@dataclass(frozen=True, slots=True)
class NightResult:
    """How the night went: records kept, electoral units complete, when the last closed."""

    records: int
    corrections: int
    photos: int
    units_complete: int
    units_total: int
    last_closed: dt.datetime
    results_text: str  # the final /ketqua of the district, plain text
    group_notices: int  # the group's notices of a complete electoral unit or ballot


@dataclass(frozen=True, slots=True)
class DemoResult:
    summary_text: str  # the final /tonghop, plain text
    export_rows: tuple[dict[str, str], ...]  # the CSV export(s), every root's subtree
    files: tuple[Path, ...]
    messages_sent: int
    replies: dict[str, int]  # by how they start: ✅, ❌, other
    refused_then_fixed: int
    group_summaries: int
    real_seconds: float
    sim_end: dt.datetime
    transcript: tuple[Line, ...]  # what transcript.txt shows
    night: NightResult | None = None  # the bundled sample's results night


class Drill:
    """One run: the sandbox, the bot, and the people of the plan."""

    def __init__(
        self,
        units: UnitList,
        plan: Plan,
        options: DemoOptions,
        workdir: Path,
        night: tuple[BallotFiles, NightPlan] | None = None,
    ) -> None:
        self.units = units
        self.plan = plan
        self.night = night
        self.closed: dict[str, dt.datetime] = {}  # "area/ballot" -> when its record was kept
        self.night_result: NightResult | None = None
        self.options = options
        self.clock = SimClock(plan.start, options.speed)
        self.sandbox = BotApiSandbox(clock=self.clock.now)
        self.focus = units.focus()
        self.group_title = _board_name(self.focus)
        labels = {ADMIN_ID: "admin", GROUP_ID: f"group «{self.group_title}»"}
        labels.update({c.user_id: c.label for c in plan.chiefs})
        self.talk = Conversation(labels)
        self.sandbox.add_listener(self.talk.on_record)
        self.workdir = workdir
        self.token = ""
        self.people: dict[int, SimUser] = {}
        self.sent = 0
        self.answered = 0
        self.finished = 0
        self.refused_then_fixed = 0
        self.summary_record: OutgoingRecord | None = None
        self.exports: dict[str, bytes] = {}
        self.ended_at = plan.end
        # Who gets the automatic summaries, as the outputs name it.
        self.subscriber_label = f"group «{self.group_title}»"

    @property
    def summary_every(self) -> int:
        every = SUMMARY_SIM_INTERVAL.total_seconds() / self.options.speed
        return max(MIN_SUMMARY_EVERY_S, round(every))

    def telegram_settings(self) -> TelegramSettings:
        values = {"TELEGRAM_BOT_TOKEN": self.token, "TELEGRAM_API_URL": self.sandbox.url}
        return TelegramSettings(_env_file=None, **values)  # type: ignore[arg-type]

    def settings(self, **extra: str) -> Settings:
        """The bot's settings for the drill (`extra`: more of them, by environment name)."""
        values: dict[str, Any] = {
            "FIELDTALLY_DB": str(self.workdir / "demo.db"),
            "FIELDTALLY_ADMINS": str(ADMIN_ID),
            "FIELDTALLY_TZ": "Asia/Ho_Chi_Minh",
            "FIELDTALLY_ELECTION_DATE": ELECTION_DAY.isoformat(),
            "FIELDTALLY_SUMMARY_EVERY": f"{self.summary_every}s",
            **extra,
        }
        return Settings(_env_file=None, **values)

    async def run(self) -> None:
        from handlers.run import (
            run_bot,  # Telegram is loaded only for the bot itself
        )

        await self.sandbox.start()
        try:
            self.token = self.sandbox.create_bot("fieldtally_bot")
            stop, ready = asyncio.Event(), asyncio.Event()
            bot = asyncio.create_task(
                run_bot(
                    self.settings(),
                    self.telegram_settings(),
                    stop,
                    poll_timeout=1,
                    ready=ready,
                    clock=self.clock.now,
                )
            )
            try:
                await _started(bot, ready)
                await self._play_day()
            finally:
                stop.set()
                await asyncio.wait_for(bot, timeout=REPLY_TIMEOUT)
        finally:
            await self.sandbox.stop()

    async def _play_day(self) -> None:
        """The chiefs' day: every scripted moment booked on the clock before it starts (the
        clock never runs past a moment until its message is sent), then played."""
        self.clock.book(self.booked_moments())
        self.clock.start()
        await self._day()

    def booked_moments(self) -> list[dt.datetime]:
        """The moment of every message the chiefs' scripts send, day and night: the clock
        stops at each until it is sent (`SimClock.book`)."""
        moments = [step.at for chief in self.plan.chiefs for step in chief.steps]
        if self.night is not None:
            night = self.night[1].steps
            for chief in self.plan.chiefs:
                moments.extend(step.at for step in night.get(chief.user_id, ()))
        return moments

    async def _day(self) -> None:
        self.people[ADMIN_ID] = self.sandbox.make_user(ADMIN_ID, first_name=ADMIN_NAME)
        for chief in self.plan.chiefs:
            self.people[chief.user_id] = self.sandbox.make_user(chief.user_id, chief.name)
        self.sandbox.make_group(GROUP_ID, self.group_title)

        await self._admin(
            Action.TEXT, "/nhap", (OK,), document=(self.units.filename, self.units.content)
        )
        await self._admin(Action.TEXT, f"/theodoi {self.focus.code}", (OK,), chat_id=GROUP_ID)
        async with asyncio.TaskGroup() as chiefs:
            for chief in self.plan.chiefs:
                chiefs.create_task(self._chief(chief))
        await self._all_finished_notice()
        # The drill shows the group's automatic summaries: a fast machine may finish the day
        # before the first one is due, so wait for it (an event) rather than end without one.
        await self.sandbox.wait_for(
            self.token,
            lambda r: (r.plain_text or "").startswith("📊"),
            chat_id=GROUP_ID,
            timeout=max(REPLY_TIMEOUT, 4 * self.summary_every),
        )
        charts = 2 if self.units.tree.children(self.focus.code) else 1
        [self.summary_record, *_] = await self._admin(
            Action.TEXT, f"/tonghop {self.focus.code}", ("📊", *([PHOTO] * charts))
        )
        for root in self.units.tree.roots:
            for kind in ("csv", "xlsx"):
                [record] = await self._admin(Action.TEXT, f"/xuat {root.code} {kind}", (DOCUMENT,))
                assert record.document is not None
                self.exports[f"tonghop_{_safe(root.code)}.{kind}"] = record.document.content
        if self.night is not None:
            await self._night(*self.night)
        self.ended_at = self.clock.now()

    async def _night(self, ballots: BallotFiles, plan: NightPlan) -> None:
        """Results night: the ballot files, every team's records, then the answers."""
        for name, content in ballots.files:
            [reply] = await self._admin(Action.TEXT, "/nhap", (ANY,), document=(name, content))
            if not (reply.plain_text or "").startswith((OK, WARN)):
                raise DemoError(f"the ballot file {name} was refused:\n{reply.plain_text}")
        # The district's group stops following: its board reads /ketqua. A commune's group
        # follows the night instead, told as each of its electoral units completes. (Every
        # notice of a district's 125 units would queue behind Telegram's 20 messages a minute
        # to a group on a night played 900 times faster than real.)
        await self._admin(Action.TEXT, "/huytheodoi", (OK,), chat_id=GROUP_ID)
        commune = self._night_commune()
        self.sandbox.make_group(NIGHT_GROUP_ID, self.night_group_title)
        self.talk.labels[NIGHT_GROUP_ID] = f"group «{self.night_group_title}»"
        followed = f"/theodoi {commune.code}"
        await self._admin(Action.TEXT, followed, (OK,), chat_id=NIGHT_GROUP_ID)
        async with asyncio.TaskGroup() as chiefs:
            for chief in self.plan.chiefs:
                if chief.user_id in plan.steps:
                    chiefs.create_task(self._night_chief(chief, plan.steps[chief.user_id]))
        root = self.units.tree.roots[0].code
        await self._admin(Action.TEXT, f"/ketqua {self.focus.code}", (ANY,))
        [shown] = await self._admin(Action.TEXT, f"/ketqua {root}", (ANY,))  # every ballot
        first = next(iter(ballots.units))
        await self._admin(Action.TEXT, f"/ketqua {first}", (ANY, PHOTO))
        await self._admin(Action.TEXT, f"/chuakq {root}", (OK,))  # nothing missing
        tables = await self._admin(Action.TEXT, f"/xuat kq {root} csv", (DOCUMENT, DOCUMENT))
        units_rows: list[dict[str, str]] = []
        for record in tables:
            assert record.document is not None
            name = record.document.filename or "results.csv"
            kind = "areas" if name.startswith("results_areas") else "units"
            self.exports[f"results_{kind}_{_safe(root)}.csv"] = record.document.content
            if kind == "units":
                text = record.document.content.decode("utf-8-sig")
                units_rows = list(csv.DictReader(io.StringIO(text)))
        self.night_result = self._night_result(ballots, plan, shown, units_rows)

    def _night_result(
        self,
        ballots: BallotFiles,
        plan: NightPlan,
        shown: OutgoingRecord,
        units_rows: Sequence[dict[str, str]],
    ) -> NightResult:
        """Every electoral unit complete (the export says so), and when the last closed: the
        latest of its areas' first kept record."""
        complete = {
            row["electoral_unit"]
            for row in units_rows
            if row["outcome"] != "incomplete" and row["areas_reported"] == row["areas_total"]
        }
        if len(self.closed) != plan.records or complete != set(ballots.units):
            missing = sorted(set(ballots.units) - complete)[:10]
            raise DemoError(
                f"the night ended with {len(self.closed)}/{plan.records} records kept and "
                f"electoral units not complete: {missing}"
            )
        closing: dict[str, dt.datetime] = {}
        for area, ballot, unit, _ in ballots.mappings:
            moment = self.closed[f"{area}/{ballot.value}"]
            closing[unit] = max(closing.get(unit, moment), moment)
        group = [r.plain_text or "" for r in self.talk.answers.get(NIGHT_GROUP_ID, [])]
        quirks = list(plan.quirks.values())
        return NightResult(
            records=len(self.closed),
            corrections=quirks.count("correction"),
            photos=quirks.count("photo"),
            units_complete=len(complete),
            units_total=len(ballots.units),
            last_closed=max(closing.values()),
            results_text=shown.plain_text or "",
            group_notices=sum(text.startswith("🗳️") for text in group),
        )

    def _night_commune(self) -> UnitRow:
        """The commune whose group follows the night: the district's town, else its first."""
        children = self.units.tree.children(self.focus.code) or [self.focus]
        return next((c for c in children if c.kind.lower() == "thị trấn"), children[0])

    @property
    def night_group_title(self) -> str:
        return _board_name(self._night_commune())

    async def _night_chief(self, chief: Chief, steps: Sequence[Step]) -> None:
        refused = False
        for step in steps:
            await self.clock.sleep_until(step.at)
            answers = await self._exchange(chief.user_id, chief.label, step, [], booked=True)
            text = answers[-1].plain_text or ""
            if step.finishes and text.startswith(OK) and step.finishes not in self.closed:
                self.closed[step.finishes] = answers[-1].time
            if NO in step.expect:
                refused = True
            elif refused and OK in step.expect:
                self.refused_then_fixed += 1
                refused = False

    async def _admin(
        self,
        action: Action,
        text: str,
        expect: tuple[str, ...],
        chat_id: int = ADMIN_ID,
        document: tuple[str, bytes] | None = None,
    ) -> list[OutgoingRecord]:
        title = self.night_group_title if chat_id == NIGHT_GROUP_ID else self.group_title
        where = "admin" if chat_id == ADMIN_ID else f"admin in group «{title}»"
        step = Step(self.clock.now(), action, text, expect)
        return await self._exchange(ADMIN_ID, where, step, [], chat_id=chat_id, document=document)

    async def _chief(self, chief: Chief) -> None:
        message_ids: list[int] = []
        refused = False
        for step in chief.steps:
            await self.clock.sleep_until(step.at)
            answers = await self._exchange(
                chief.user_id, chief.label, step, message_ids, booked=True
            )
            if step.finishes and answers[-1].plain_text and answers[-1].plain_text.startswith(OK):
                self.finished += 1
            if NO in step.expect:
                refused = True
            elif refused and all(expected == OK for expected in step.expect):
                self.refused_then_fixed += 1
                refused = False

    async def _exchange(
        self,
        sender_id: int,
        who: str,
        step: Step,
        message_ids: list[int],
        *,
        chat_id: int | None = None,
        document: tuple[str, bytes] | None = None,
        booked: bool = False,
    ) -> list[OutgoingRecord]:
        """Send one message and wait for exactly the answers the script expects (`booked`:
        a step of the script, sent at its booked moment, `step.at`)."""
        chat = sender_id if chat_id is None else chat_id
        before = len(self.talk.answers.get(chat, []))
        moment = self.clock.now().replace(microsecond=0)  # Telegram dates are whole seconds
        hold = self.clock.hold(moment, booked=step.at if booked else None)
        try:
            message_id = self._send(sender_id, who, step, message_ids, chat, moment, document)
            message_ids.append(message_id)

            def answers_this(record: OutgoingRecord) -> bool:
                # A group also gets automatic summaries: there, only what quotes the message.
                return chat > 0 or _quoted(record) == message_id

            try:
                answers = await self.talk.answers_in(
                    chat, before, len(step.expect), REPLY_TIMEOUT, answers_this
                )
            except TimeoutError:
                got = self.talk.answers.get(chat, [])[before:]
                raise DemoError(
                    self._surprise(who, step, moment, got, f"waited {REPLY_TIMEOUT:g} s")
                ) from None
        finally:
            self.clock.release(hold)
        self.answered += len(answers)
        for record, expected in zip(answers, step.expect, strict=True):
            if not _matches(record, expected):
                raise DemoError(self._surprise(who, step, moment, answers, "unexpected answer"))
        return answers

    def _send(
        self,
        sender_id: int,
        who: str,
        step: Step,
        message_ids: list[int],
        chat: int,
        moment: dt.datetime,
        document: tuple[str, bytes] | None,
    ) -> int:
        user = self.people[sender_id]
        chat_arg = None if chat == sender_id else chat
        self.sent += 1
        if document is not None:
            filename, content = document
            self.talk.said(moment, who, f"[document {filename}] {step.text}")
            message = self.sandbox.send_document(
                self.token, user, filename, content, caption=step.text, chat_id=chat_arg,
                date=moment,
            )  # fmt: skip
        elif step.action == Action.PHOTO:
            self.talk.said(moment, who, f"[photo of the signed record] {step.text}")
            message = self.sandbox.send_photo(
                self.token, user, signed_record_photo(), caption=step.text, date=moment
            )
        elif step.action == Action.CONTACT:
            self.talk.said(moment, who, f"[shares own contact {step.text}]")
            message = self.sandbox.send_contact(self.token, user, step.text, date=moment)
        elif step.action == Action.EDIT:
            assert step.edits is not None
            edited = message_ids[step.edits]
            self.talk.said(moment, who, f"[edits message #{edited}] {step.text}")
            message = self.sandbox.edit_text(
                self.token, user, chat_arg, edited, step.text, edit_date=moment
            )
        else:
            self.talk.said(moment, who, step.text)
            message = self.sandbox.send_text(
                self.token, user, step.text, chat_id=chat_arg, date=moment
            )
        return int(message["message_id"])

    def _surprise(
        self,
        who: str,
        step: Step,
        moment: dt.datetime,
        answers: Sequence[OutgoingRecord],
        what: str,
    ) -> str:
        got = "\n".join(f"    {r.summary()}" for r in answers) or "    (nothing)"
        return (
            f"the bot did not answer as the drill expects ({what}):\n"
            f"  {moment:%H:%M:%S} {who}: {step.text!r}\n"
            f"  expected answers starting with: {' '.join(step.expect)}\n"
            f"  got:\n{got}"
        )

    async def _all_finished_notice(self) -> None:
        try:
            await self.talk.answers_in(
                GROUP_ID, 0, 1, REPLY_TIMEOUT, lambda r: (r.plain_text or "").startswith("🎉")
            )
        except TimeoutError:
            raise DemoError(
                f"every area finished but group «{self.group_title}» got no 🎉 notice"
            ) from None

    def check_answers(self) -> None:
        """Every chat got exactly its expected answers, the group exactly one 🎉."""
        night = self.night[1].steps if self.night is not None else {}
        for chief in self.plan.chiefs:
            wanted = sum(len(s.expect) for s in (*chief.steps, *night.get(chief.user_id, ())))
            got = len(self.talk.answers.get(chief.user_id, []))
            if got != wanted:
                raise DemoError(f"{chief.label}: {got} answers from the bot, {wanted} expected")
        self._check_group_notice()

    def _check_group_notice(self) -> None:
        group = [r.plain_text or "" for r in self.talk.answers.get(GROUP_ID, [])]
        notices = sum(text.startswith("🎉") for text in group)
        if notices != 1:
            raise DemoError(f"group «{self.group_title}» got {notices} 🎉 notices, not one")

    def reply_kinds(self) -> dict[str, int]:
        """The chiefs' answers by how they start: ✅, ❌, other."""
        kinds = {OK: 0, NO: 0, "other": 0}
        for chief in self.plan.chiefs:
            for record in self.talk.answers.get(chief.user_id, []):
                text = record.plain_text or ""
                kinds[text[:1] if text[:1] in kinds else "other"] += 1
        return kinds

    def final_summary(self) -> str:
        """The admin's final `/tonghop`, as the chat shows it."""
        assert self.summary_record is not None
        return self.summary_record.plain_text or ""

    def automatic_summaries(self) -> int:
        """How many automatic summaries the subscribed chat received."""
        return sum(
            (r.plain_text or "").startswith("📊") for r in self.talk.answers.get(GROUP_ID, [])
        )

    def charts(self) -> list[tuple[str, bytes]]:
        """The charts the bot sent, with the file names they get in the outputs."""
        named = []
        for record in self.sandbox.outgoing(self.token):
            name = self.talk.photo_names.get(record.seq)
            if record.photo is not None and name is not None:
                named.append((name, record.photo.content))
        return named


def _board_name(unit: UnitRow) -> str:
    """`Huyện Mường Khương` -> `Ban bầu cử huyện Mường Khương`."""
    name = unit.name
    if name.lower().startswith(unit.kind.lower()) and name:
        name = name[0].lower() + name[1:]
    return f"Ban bầu cử {name}"


def _safe(code: str) -> str:
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in code)


def status_matches(status: Status, expected: str) -> bool:
    """Whether an answer's status is what a step expects (`ANY`, `OK` or `NO`): the SMS and
    Zalo drills, which see the core's answers rather than a chat's messages."""
    if expected == ANY:
        return True
    if expected == OK:
        return status is Status.ACCEPTED
    if expected == NO:
        return status is Status.REFUSED
    return False


async def _started(bot: asyncio.Task[None], ready: asyncio.Event) -> None:
    waiter = asyncio.ensure_future(ready.wait())
    done, _ = await asyncio.wait(
        {bot, waiter}, timeout=REPLY_TIMEOUT, return_when=asyncio.FIRST_COMPLETED
    )
    if bot in done:
        waiter.cancel()
        bot.result()  # raises the bot's start-up error
        raise DemoError("the bot stopped before it was ready")
    if waiter not in done:
        waiter.cancel()
        raise DemoError(f"the bot did not start (say it was ready) within {REPLY_TIMEOUT:g} s")
