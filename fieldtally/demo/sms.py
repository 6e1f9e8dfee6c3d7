"""The drill with the chiefs on SMS (`fieldtally demo --channel sms`): the same day, the same
people, the same checks, but every chief writes from a phone through the project's SMS
gateway sandbox (signed webhooks, the outbox, pacing), while the admin and the district's
group stay on Telegram. One process serves both channels on one database, so an SMS report
finishes the area and the Telegram group hears of it.

On SMS a chief's number registers by its first message (no shared contact), there are no
edits (a correction is retyped, with `sửa` where the first version was stored), and answers
are read by their type (accepted, refused) since an SMS is plain text. At the end every reply
must have gone out through the gateway exactly once.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import itertools
import socket
from collections.abc import Sequence
from pathlib import Path

from bot.core import Core
from bot.messaging.answers import Answer, Status
from bot.messaging.port import Channel
from bot.registration.phones import normalize_phone
from fieldtally.demo.constants import NO, OK, REPLY_TIMEOUT, DemoError
from fieldtally.demo.drill import DemoOptions, Drill, _started, status_matches
from fieldtally.demo.script import Action, Chief, Plan, Step
from fieldtally.demo.units import UnitList
from handlers.media import MediaLinks
from handlers.run import run_bot
from handlers.sms.channel import SmsChannel, reply_text, sms_channels
from handlers.sms.settings import SmsSettings
from sandbox.sms import SmsGatewaySandbox

SIGNING_KEY = "demo-signing-key"
SMS_PER_MINUTE = 60  # simulated minutes: the district office phone, its limit raised


class SimTime:
    """The drill's simulated clock as the SMS outbox reads time (epoch seconds; a wait of
    `seconds` simulated seconds lasts `seconds / speed` real ones, or until woken)."""

    def __init__(self, drill: Drill) -> None:
        self._clock = drill.clock

    def time(self) -> float:
        return self._clock.now().timestamp()

    async def sleep(self, seconds: float, wake: asyncio.Event) -> None:
        real = max(seconds / self._clock.speed, 0.001)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), timeout=real)


def sms_steps(chief: Chief) -> list[Step]:
    """A chief's script as SMS: no shared contact (the first SMS registers the number, so a
    report the script sends before registering is taken); an edit becomes a retyped report,
    `sửa` when the edited version had been stored."""
    steps: list[Step] = []
    for index, step in enumerate(chief.steps):
        if step.action == Action.CONTACT:
            continue
        if step.action == Action.EDIT:
            assert step.edits is not None
            edited = chief.steps[step.edits]
            text = step.text if NO in edited.expect else f"sửa {step.text}"
            step = dataclasses.replace(step, action=Action.TEXT, text=text, edits=None)
        elif chief.quirk == "unregistered" and index == 0:
            step = dataclasses.replace(step, expect=(OK,))  # the number registers itself
        steps.append(step)
    return steps


class SmsDrill(Drill):
    """The drill with every chief on SMS (see the module's doc)."""

    def __init__(self, units: UnitList, plan: Plan, options: DemoOptions, workdir: Path) -> None:
        super().__init__(units, plan, options, workdir)
        self.gateway = SmsGatewaySandbox(signing_key=SIGNING_KEY, retry_delay=0.05)
        self.gateway.clock = lambda: self.clock.now().timestamp()
        self._envelopes = itertools.count(1)
        self.sms_answers: dict[int, list[Status]] = {}
        self.steps = {chief.user_id: sms_steps(chief) for chief in self.plan.chiefs}
        self._channel: SmsChannel | None = None

    async def run(self) -> None:
        port = _free_port()
        await self.sandbox.start()
        await self.gateway.start()
        try:
            self.token = self.sandbox.create_bot("fieldtally_bot")
            values = {
                "SMS_GATEWAY_URL": self.gateway.url,
                "SMS_GATEWAY_USER": self.gateway.user,
                "SMS_GATEWAY_PASSWORD": self.gateway.password,
                "SMS_WEBHOOK_SIGNING_KEY": SIGNING_KEY,
                "SMS_PER_MINUTE": str(SMS_PER_MINUTE),
                "FIELDTALLY_PUBLIC_URL": f"http://127.0.0.1:{port}",
            }
            sms = SmsSettings(_env_file=None, **values)  # type: ignore[arg-type]
            factory = sms_channels(sms, SimTime(self))
            settings = self.settings().model_copy(update={"http_port": port})

            def build(
                core: Core, stop: asyncio.Event, *, media: MediaLinks | None
            ) -> Sequence[Channel]:
                built = list(factory(core, stop, media=media))
                assert isinstance(built[0], SmsChannel)
                self._channel = built[0]
                return built

            stop, ready = asyncio.Event(), asyncio.Event()
            bot = asyncio.create_task(
                run_bot(
                    settings, self.telegram_settings(), stop, poll_timeout=1, ready=ready,
                    clock=self.clock.now, channels=[build],
                )
            )  # fmt: skip
            try:
                await _started(bot, ready)
                await asyncio.wait_for(self.channel.webhooks_registered.wait(), REPLY_TIMEOUT)
                await self._play_day()
                await asyncio.wait_for(self.channel.outbox.wait_idle(), REPLY_TIMEOUT)
            finally:
                stop.set()
                await asyncio.wait_for(bot, timeout=REPLY_TIMEOUT)
        finally:
            await self.gateway.stop()
            await self.sandbox.stop()

    @property
    def channel(self) -> SmsChannel:
        assert self._channel is not None
        return self._channel

    def booked_moments(self) -> list[dt.datetime]:
        """Each chief's SMS steps (the SMS drill has no night)."""
        return [step.at for steps in self.steps.values() for step in steps]

    async def _chief(self, chief: Chief) -> None:
        phone = chief.phone
        refused = False
        for step in self.steps[chief.user_id]:
            await self.clock.sleep_until(step.at)
            statuses = await self._sms(chief, phone, step)
            if step.finishes and statuses and statuses[-1] is Status.ACCEPTED:
                self.finished += 1
            if NO in step.expect:
                refused = True
            elif refused and all(expected == OK for expected in step.expect):
                self.refused_then_fixed += 1
                refused = False

    async def _sms(self, chief: Chief, phone: str, step: Step) -> list[Status]:
        """One SMS from the chief's phone, and its typed answers once handled."""
        moment = self.clock.now().replace(microsecond=0)
        hold = self.clock.hold(moment, booked=step.at)  # every SMS is a booked step
        envelope = f"demo-{next(self._envelopes)}"
        who = f"{chief.label} (SMS {phone})"
        try:
            self.sent += 1
            self.talk.said(moment, who, step.text)
            deliveries = self.gateway.receive(
                phone, step.text, received_at=moment.isoformat(), envelope_id=envelope
            )
            try:
                await self.gateway.delivered(deliveries, REPLY_TIMEOUT)
                answer = await self.channel.answer_to(envelope, REPLY_TIMEOUT)
            except TimeoutError:
                raise DemoError(self._sms_surprise(who, step, moment, None, "no answer")) from None
        finally:
            self.clock.release(hold)
        statuses = [reply.status for reply in answer.replies]
        self._transcribe(chief, moment, answer)
        self.sms_answers.setdefault(chief.user_id, []).extend(statuses)
        self.answered += len(statuses)
        wanted = step.expect
        if len(statuses) != len(wanted) or not all(map(status_matches, statuses, wanted)):
            raise DemoError(self._sms_surprise(who, step, moment, answer, "unexpected answer"))
        return statuses

    def _transcribe(self, chief: Chief, moment: dt.datetime, answer: Answer) -> None:
        e164 = normalize_phone(chief.phone) or chief.phone
        for reply in answer.replies:
            text = reply_text(reply, unicode=False, dashboard_url=None)
            if text is not None:
                self.talk.said(moment, f"bot → {chief.label} (SMS {e164})", text)

    def _sms_surprise(
        self, who: str, step: Step, moment: dt.datetime, answer: Answer | None, what: str
    ) -> str:
        got = "    (nothing)"
        if answer is not None:
            got = "\n".join(
                f"    {reply.status} {reply.reason or ''}".rstrip() for reply in answer.replies
            )
        return (
            f"the bot did not answer as the drill expects ({what}):\n"
            f"  {moment:%H:%M:%S} {who}: {step.text!r}\n"
            f"  expected answers: {' '.join(step.expect)}\n"
            f"  got:\n{got}"
        )

    def check_answers(self) -> None:
        """Every chief got exactly the answers expected, each reply went out through the
        gateway once, and the group got exactly one 🎉."""
        total = 0
        for chief in self.plan.chiefs:
            wanted = sum(len(s.expect) for s in self.steps[chief.user_id])
            got = len(self.sms_answers.get(chief.user_id, []))
            if got != wanted:
                raise DemoError(f"{chief.label}: {got} answers from the bot, {wanted} expected")
            total += got
        sent = self.gateway.sent()
        if len(sent) != total or len({m.id for m in sent}) != total:
            raise DemoError(f"{len(sent)} SMS went out through the gateway, {total} expected")
        chiefs = {chief.user_id for chief in self.plan.chiefs}
        assert all(user in chiefs for user in self.sms_answers)
        self._check_group_notice()

    def reply_kinds(self) -> dict[str, int]:
        kinds = {OK: 0, NO: 0, "other": 0}
        for statuses in self.sms_answers.values():
            for status in statuses:
                key = OK if status is Status.ACCEPTED else NO if status is Status.REFUSED else ""
                kinds[key or "other"] += 1
        return kinds


def _free_port() -> int:
    """A loopback port for the bot's HTTP server (the gateway posts its webhooks there)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
