"""The drill with everyone on Zalo (`fieldtally demo --channel zalo`): the same day, the same
people, the same script and checks, through the project's Zalo sandbox (webhook deliveries
with the secret, plain text, photos by URL, links instead of files), one Zalo bot and no
Telegram at all.

What differs from the Telegram drill is only how people talk:

* Zalo takes no documents, so the unit list is imported on the server (what
  `fieldtally units import` does) before the bot starts;
* the admin, on Zalo, asks `/moi <code>` (for each root of the list): the bot answers with a
  download link (the invitation file, served under FIELDTALLY_PUBLIC_URL); the drill
  downloads it and hands each chief the code of their phone, as a commune hands out the
  printed sheet;
* a chief registers with `dk <code>` where the Telegram chief shares a contact (a few mistype
  the code first and are refused, then send it right); a message cannot be edited on Zalo, so
  an edit becomes the message retyped (with `sửa` where the first version was stored);
* a Zalo bot of the Basic plan is not let into groups, so the admin subscribes their own
  private chat (`/theodoi <district>`): the automatic summaries, with their charts as photo
  URLs the platform fetches, and the 🎉 notice arrive there;
* answers are read by their type (accepted, refused), since every chat's first reply also
  carries Zalo's automated-system notice; the exports at the end are links, downloaded.

Everything else (the plan, the clock, the export's check against the seed's figures, the
outputs) is the Telegram drill's.
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import random
import re
import socket
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import aiohttp

from bot.core import Core
from bot.messaging.answers import Answer, Status
from bot.registration.invitations import ALPHABET
from bot.registration.unit_import import import_units
from bot.settings import Settings
from fieldtally.demo.constants import (
    ADMIN_NAME,
    NO,
    OK,
    REPLY_TIMEOUT,
    TZ,
    DemoError,
)
from fieldtally.demo.drill import DemoOptions, Drill, _safe, _started, status_matches
from fieldtally.demo.script import Action, Chief, Plan, Step, without_edits
from fieldtally.demo.units import UnitList
from handlers.media import MediaLinks
from handlers.run import run_bot
from handlers.zalo import ZaloChannel, zalo_channels
from handlers.zalo.settings import ZaloSettings
from sandbox.zalo import SentMessage, SentPhoto, ZaloSandbox

WEBHOOK_SECRET = "demo-zalo-webhook-secret"
ADMIN = "admin"  # the admin's key in the Zalo sandbox
TEXT_EVENT = "message.text.received"
# One bot for the whole list: a district's day is more than the Basic plan's 3,000 messages a
# month (a real district runs a bot per commune, ZALO_BOTS_FILE); the drill's bot has room.
QUOTA = 1_000_000
WRONG_CODE_EVERY = 25  # about one chief in this many mistypes their code once
_LINK = re.compile(r"https?://\S+/media/\S+")
_LINK_TOKEN = re.compile(r"\?t=[\w-]+")  # a link's token: not written to the transcript


def registration_steps(
    chief: Chief, code: str, wrong_code: str | None, rng: random.Random
) -> list[Step]:
    """A chief's script on Zalo: `dk <code>` where the Telegram chief shares a contact (after
    `wrong_code`, refused, if given), no edits."""
    steps: list[Step] = []
    for step in without_edits(chief.steps):
        if step.action != Action.CONTACT:
            steps.append(step)
            continue
        if wrong_code is not None:
            mistyped = step.at - dt.timedelta(seconds=rng.randint(40, 90))
            steps.append(Step(mistyped, Action.TEXT, f"dk {wrong_code}", (NO,)))
        word = rng.choice(("dk", "DK", "đăng ký", "dang ky", "/dangky"))
        shown = code if rng.random() < 0.7 else code.lower()
        steps.append(replace(step, action=Action.TEXT, text=f"{word} {shown}"))
    return steps


def mistyped(code: str, taken: set[str], rng: random.Random) -> str:
    """`code` with one character typed wrong, not another person's code."""
    while True:
        at = rng.randrange(len(code))
        wrong = code[:at] + rng.choice(ALPHABET.replace(code[at], "")) + code[at + 1 :]
        if wrong not in taken:
            return wrong


def _masked(text: str) -> str:
    """A registration message as the transcript shows it: the code's last half hidden (as
    a link's token, the transcript keeps no secret)."""
    words = text.rsplit(" ", 1)
    if len(words) == 2 and len(words[1]) == 8 and text.lower().lstrip("/")[:1] in "dđ":
        return f"{words[0]} {words[1][:4]}····"
    return text


class ZaloDrill(Drill):
    """The drill with everyone on Zalo (see the module's doc)."""

    def __init__(self, units: UnitList, plan: Plan, options: DemoOptions, workdir: Path) -> None:
        super().__init__(units, plan, options, workdir)
        self.zalo = ZaloSandbox(clock=self.clock.now)
        self.zalo.add_listener(self._on_sent)
        self.subscriber_label = "the admin's private Zalo chat"
        self.steps: dict[int, list[Step]] = {}
        self.statuses: dict[int, list[Status]] = {}
        self.bot_id = ""
        self._labels: dict[str, str] = {}  # chat id -> who, for the transcript
        self._channel: ZaloChannel | None = None
        self._answers: dict[str, asyncio.Future[Answer]] = {}
        self._charts: list[tuple[str, bytes]] = []
        self._charts_in_chat = 0
        self._summary = ""
        self._automatic = 0
        self._notices = 0
        self._admin_busy = False  # the admin's own command is being answered
        self._signal = asyncio.Event()
        self._port = _free_port()

    # -- the run -----------------------------------------------------------------------------

    async def run(self) -> None:
        await self.zalo.start()
        try:
            self.token, self.bot_id = self.zalo.add_bot("fieldtally.bot", quota=QUOTA)
            admin_id = self.zalo.add_user(self.token, ADMIN, ADMIN_NAME)
            self._labels[admin_id] = "admin"
            public = f"http://127.0.0.1:{self._port}"
            settings = self.settings(
                FIELDTALLY_ADMINS=f"zalo:{self.bot_id}:{admin_id}",
                FIELDTALLY_PUBLIC_URL=public,
                FIELDTALLY_HTTP_PORT=str(self._port),
            )
            await self._import_units(settings)
            values = {
                "ZALO_BOT_TOKEN": self.token,
                "ZALO_API_URL": self.zalo.url,
                "ZALO_WEBHOOK_SECRET": WEBHOOK_SECRET,
                "ZALO_MONTHLY_QUOTA": str(QUOTA),
                "FIELDTALLY_PUBLIC_URL": public,
            }
            zalo = ZaloSettings(_env_file=None, **values)  # type: ignore[arg-type]
            factory = zalo_channels(zalo, poll_timeout=1, retry_delay=0.05)

            def build(
                core: Core, stop: asyncio.Event, *, media: MediaLinks | None
            ) -> Sequence[ZaloChannel]:
                built = [c for c in factory(core, stop, media=media) if isinstance(c, ZaloChannel)]
                self._channel = built[0]
                built[0].observers.append(self._observed)
                return built

            stop, ready = asyncio.Event(), asyncio.Event()
            bot = asyncio.create_task(
                run_bot(
                    settings, None, stop, poll_timeout=1, ready=ready, clock=self.clock.now,
                    channels=[build],
                )
            )  # fmt: skip
            try:
                await _started(bot, ready)
                await self._play_day()
            finally:
                stop.set()
                await asyncio.wait_for(bot, timeout=REPLY_TIMEOUT)
        finally:
            await self.zalo.stop()

    async def _import_units(self, settings: Settings) -> None:
        """What `fieldtally units import FILE` does, before the bot starts (Zalo takes no
        files)."""
        core = await Core.open(settings)
        try:
            ok, reply = await import_units(core.db, self.units.content, self.units.filename)
        finally:
            await core.close()
        moment = self.clock.now()
        self.talk.said(moment, "server", f"fieldtally units import {self.units.filename}")
        if not ok:
            raise DemoError(f"the unit list was not imported:\n{reply}")
        self.talk.said(moment, "server", reply.split("\n", 1)[0])

    async def _day(self) -> None:
        focus = self.focus.code
        codes: dict[str, str] = {}
        for root in self.units.tree.roots:  # every area's phone gets its code
            link = await self._admin_link(f"/moi {root.code}")
            codes.update(_codes(await self._download(link, f"the invitations of {root.code}")))
        await self._admin_says(f"/theodoi {focus}")
        rng = random.Random(self.options.seed)
        taken = set(codes.values())
        for chief in self.plan.chiefs:
            self._labels[self.zalo.add_user(self.token, _key(chief), chief.name)] = chief.label
            code = codes.get(chief.areas[0].code)
            if code is None:
                raise DemoError(f"the invitation file has no code for {chief.areas[0].code}")
            first = chief.steps[0].action == Action.CONTACT
            wrong = (
                mistyped(code, taken, rng)
                if first and rng.randrange(WRONG_CODE_EVERY) == 0
                else None
            )
            self.steps[chief.user_id] = registration_steps(chief, code, wrong, rng)
            # The mistyped code's moment, not booked at the start (see `booked_moments`).
            drawn = Counter(step.at for step in self.steps[chief.user_id])
            drawn.subtract(step.at for step in without_edits(chief.steps))
            self.clock.book(drawn.elements())
        async with asyncio.TaskGroup() as chiefs:
            for chief in self.plan.chiefs:
                chiefs.create_task(self._chief(chief))
        await self._wait(lambda: self._notices >= 1, "the admin got no 🎉 notice")
        # As in the Telegram drill: at least one automatic summary is shown (an event).
        await self._wait(
            lambda: self._automatic >= 1,
            "no automatic summary",
            max(REPLY_TIMEOUT, 4 * self.summary_every),
        )
        await self._admin_says(f"/tonghop {focus}", summary=True)
        for root in self.units.tree.roots:
            for kind in ("csv", "xlsx"):
                link = await self._admin_link(f"/xuat {root.code} {kind}")
                name = f"tonghop_{_safe(root.code)}.{kind}"
                self.exports[name] = await self._download(link, name)
        self.ended_at = self.clock.now()

    # -- people ------------------------------------------------------------------------------

    async def _admin_says(self, text: str, *, summary: bool = False) -> list[SentMessage]:
        """The admin sends `text`; it must be accepted; the texts it was answered with."""
        since = self.zalo.next_seq(self.token)
        self._admin_busy = True
        try:
            answer = await self._says(
                ADMIN, "admin", Step(self.clock.now(), Action.TEXT, text, (OK,))
            )
        finally:
            self._admin_busy = False
        if answer.status is not Status.ACCEPTED:
            raise DemoError(self._surprise_of("admin", text, answer))
        sent = [m for m in self.zalo.sent_messages(self.token, ADMIN) if m.seq >= since]
        if summary:
            [self._summary] = [m.text for m in sent if "📊" in m.text[:80]][:1] or [""]
        return sent

    async def _admin_link(self, text: str) -> str:
        for message in await self._admin_says(text):
            found = _LINK.search(message.text)
            if found is not None:
                return found.group(0)
        raise DemoError(f"the admin's {text!r} was not answered with a download link")

    async def _download(self, url: str, what: str) -> bytes:
        """What a person gets by opening a link the bot sent."""
        async with aiohttp.ClientSession() as session, session.get(url) as response:
            if response.status != 200:
                raise DemoError(f"{what}: the link answered {response.status}")
            body = await response.read()
        self.talk.said(self.clock.now(), "admin", f"[opens the link: {what}, {len(body)} bytes]")
        return body

    def booked_moments(self) -> list[dt.datetime]:
        """The chiefs' scripts without edits (Zalo has none): each contact becomes `dk
        <code>` at the same moment; a mistyped code before it is booked once drawn."""
        return [step.at for chief in self.plan.chiefs for step in without_edits(chief.steps)]

    async def _chief(self, chief: Chief) -> None:
        refused = False
        for step in self.steps[chief.user_id]:
            await self.clock.sleep_until(step.at)
            answer = await self._says(_key(chief), chief.label, step, booked=True)
            statuses = [reply.status for reply in answer.replies]
            self.statuses.setdefault(chief.user_id, []).extend(statuses)
            self.answered += len(statuses)
            if len(statuses) != len(step.expect) or not all(
                map(status_matches, statuses, step.expect)
            ):
                raise DemoError(self._surprise_of(chief.label, step.text, answer, step.expect))
            if step.finishes and statuses[-1] is Status.ACCEPTED:
                self.finished += 1
            if NO in step.expect and not step.text.lower().startswith(("dk ", "/dangky")):
                refused = True
            elif refused and all(expected == OK for expected in step.expect):
                self.refused_then_fixed += 1
                refused = False

    async def _says(self, user: str, who: str, step: Step, *, booked: bool = False) -> Answer:
        """One message to the bot over the sandbox (the webhook), and its typed answer once
        it was delivered (`booked`: a step of the script, sent at its booked `step.at`)."""
        moment = self.clock.now().replace(microsecond=0)
        hold = self.clock.hold(moment, booked=step.at if booked else None)
        try:
            self.sent += 1
            self.talk.said(moment, who, _masked(step.text))
            message_id = self.zalo.user_says(self.token, user, step.text, date=moment)
            waiting = self._answers.setdefault(
                f"{TEXT_EVENT}:{message_id}", asyncio.get_running_loop().create_future()
            )
            try:
                return await asyncio.wait_for(waiting, REPLY_TIMEOUT)
            except TimeoutError:
                raise DemoError(
                    self._surprise_of(who, step.text, None, step.expect, f"{moment:%H:%M:%S}")
                ) from None
        finally:
            self.clock.release(hold)

    def _observed(self, event_key: str, answer: Answer) -> None:
        waiting = self._answers.setdefault(event_key, asyncio.get_running_loop().create_future())
        if not waiting.done():
            waiting.set_result(answer)

    def _on_sent(self, bot_id: str, record: SentMessage | SentPhoto) -> None:
        """The transcript's line for what the bot sent; the admin chat's summaries, charts
        and notices counted."""
        where = self._labels.get(record.chat_id, record.chat_id)
        moment = record.date.astimezone(TZ)
        to_admin = where == "admin"
        if isinstance(record, SentPhoto):
            self._charts_in_chat += 1
            name = (
                f"chart-{len(self._charts) + 1:02d}-{moment:%H%M}-admin-{self._charts_in_chat}.png"
            )
            self._charts.append((name, record.content))
            self.talk.said(
                moment, f"bot → {where}", f"[photo {name}] {record.caption or ''}".rstrip()
            )
        else:
            self.talk.said(moment, f"bot → {where}", _LINK_TOKEN.sub("?t=…", record.text))
            if to_admin and "📊" in record.text[:80]:
                self._charts_in_chat = 0
                self._automatic += not self._admin_busy
            if to_admin and record.text.startswith("🎉"):
                self._notices += 1
        self._signal.set()

    async def _wait(
        self,
        done: Callable[[], bool],
        what: str,
        timeout: float = REPLY_TIMEOUT,  # noqa: ASYNC109 -- a guard against a hang
    ) -> None:
        async def until() -> None:
            while not done():
                self._signal.clear()
                await self._signal.wait()

        try:
            await asyncio.wait_for(until(), timeout)
        except TimeoutError:
            raise DemoError(what) from None

    def _surprise_of(
        self,
        who: str,
        text: str,
        answer: Answer | None,
        expect: Sequence[str] = (OK,),
        what: str = "",
    ) -> str:
        got = "    (nothing)"
        if answer is not None:
            got = (
                "\n".join(
                    f"    {reply.status} {reply.reason or ''}".rstrip() for reply in answer.replies
                )
                or got
            )
        none = " (no answer)" if answer is None else ""
        return (
            f"the bot did not answer as the drill expects{none}:\n"
            f"  {what or f'{self.clock.now():%H:%M:%S}'} {who}: {_masked(text)!r}\n"
            f"  expected answers: {' '.join(expect)}\n"
            f"  got:\n{got}"
        )

    # -- what run_demo asks ------------------------------------------------------------------

    def check_answers(self) -> None:
        """Every chief got exactly the answers expected; the admin exactly one 🎉."""
        for chief in self.plan.chiefs:
            wanted = sum(len(s.expect) for s in self.steps[chief.user_id])
            got = len(self.statuses.get(chief.user_id, []))
            if got != wanted:
                raise DemoError(f"{chief.label}: {got} answers from the bot, {wanted} expected")
        if self._notices != 1:
            raise DemoError(f"the admin got {self._notices} 🎉 notices, not one")

    def reply_kinds(self) -> dict[str, int]:
        kinds = {OK: 0, NO: 0, "other": 0}
        for statuses in self.statuses.values():
            for status in statuses:
                key = OK if status is Status.ACCEPTED else NO if status is Status.REFUSED else ""
                kinds[key or "other"] += 1
        return kinds

    def final_summary(self) -> str:
        return self._summary

    def automatic_summaries(self) -> int:
        return self._automatic

    def charts(self) -> list[tuple[str, bytes]]:
        return list(self._charts)


def _key(chief: Chief) -> str:
    return f"chief-{chief.user_id}"


def _codes(content: bytes) -> dict[str, str]:
    """Unit code -> invitation code, from the file `/moi` gives."""
    rows = csv.DictReader(io.StringIO(content.decode("utf-8-sig")))
    return {row["unit_code"]: row["invitation_code"] for row in rows}


def _free_port() -> int:
    """A loopback port for the bot's HTTP server (Zalo's webhooks and the media links)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
