"""The SMS channel on the port: SMS Gateway for Android sends our replies and posts the SMS it
receives to our webhook.

A person is their phone number (`sms:+84…`, normalised as everywhere: `0912…` = `+84912…`):
the carrier vouches for it. A number listed in a unit's `contact_phones` is registered by its
first SMS, which is then handled; any other Vietnamese number gets at most one refusal per
calendar day (in FIELDTALLY_TZ, remembered in the store), however often it writes; a
sender that is a name (a carrier's notice) or a foreign number is never answered. Each SMS
is stored in the inbox before the gateway hears 200, then handled in arrival order through
the shared `Conversation`; the replies go to the durable, paced outbox with ids derived
from the event, so handling an event again after a crash queues nothing twice. At start the
webhooks for `sms:received` and `sms:failed` are registered with fixed ids, so a restart
replaces them instead of adding more.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
import uuid
import zlib
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from functools import partial

from bot import texts
from bot.channel import Address, Capabilities
from bot.core import Core, Where
from bot.messaging.answers import Answer, Refusal, Reply, refused
from bot.messaging.content import Content, Outgoing
from bot.messaging.conversation import NOTHING, Conversation
from bot.messaging.port import Channel
from bot.registration.phones import normalize_phone
from bot.turnout.intake import InboundText
from handlers.factory import ChannelFactory
from handlers.http_server import HttpServer
from handlers.media import MediaLinks
from handlers.sms.clock import Clock, WallClock
from handlers.sms.gateway import GatewayClient, GatewayError
from handlers.sms.outbox import SmsOutbox
from handlers.sms.render import SMS_CAPABILITIES, to_sms
from handlers.sms.settings import SMS, SmsSettings
from handlers.sms.webhook import FAILED, RECEIVED, SmsWebhook, parse_event
from storage.database import Transaction
from storage.sms import OutboxMessage, WebhookRegistration

log = logging.getLogger(__name__)

SMS_BOT = f"{SMS}:gateway"  # the bot's name: one gateway (one phone, or one cloud account)
WEBHOOK_IDS = {RECEIVED: "fieldtally-sms-received", FAILED: "fieldtally-sms-failed"}
REGISTER_RETRY_FIRST = 5.0  # seconds before registering the webhooks again after a failure
REGISTER_RETRY_MAX = 300.0
WORKERS = 8  # senders handled at once
ANSWERS_KEPT = 10_000  # typed answers kept for `answer_to`

Deliver = Callable[[Iterable[Outgoing]], Awaitable[None]]


class SmsChannel:
    """One gateway, bound to the core it serves."""

    def __init__(self, core: Core, settings: SmsSettings, *, clock: Clock | None = None) -> None:
        missing = settings.missing()
        if missing is not None:
            raise ValueError(missing)
        assert settings.signing_key is not None
        self.core = core
        self.settings = settings
        self.clock = clock or WallClock()
        self.inbox = core.inbox_for(SMS_BOT)
        self.gateway = GatewayClient(settings)
        self.outbox = SmsOutbox(core.db, SMS_BOT, self.gateway, settings.per_minute, self.clock)
        self.conversation = Conversation(core)
        self.webhook = SmsWebhook(
            signing_key=settings.signing_key.get_secret_value(), inbox=self.inbox, db=core.db,
            clock=self.clock, handle=self._arrived,
        )  # fmt: skip
        self.elsewhere: Deliver | None = None  # how messages to other chats go out (wiring)
        # Where a long answer or a chart points instead (the dashboard, when one is served).
        self.dashboard_url: str | None = None
        self.webhooks_registered = asyncio.Event()
        # Senders are handled concurrently, each sender's SMS in arrival order.
        self._queues: list[asyncio.Queue[tuple[str, str]]] = [
            asyncio.Queue() for _ in range(WORKERS)
        ]
        self._handled = 0
        # The latest answers, typed, by sender (what tests and drills read: an SMS is text).
        self.answers: deque[tuple[Address, Answer]] = deque(maxlen=200)
        self._answer_of: dict[str, Answer] = {}  # by event id, the latest ANSWERS_KEPT
        self._handled_changed = asyncio.Condition()

    @property
    def name(self) -> str:
        return SMS_BOT

    @property
    def capabilities(self) -> Capabilities:
        return SMS_CAPABILITIES

    async def open(self) -> None:
        """Ready the gateway's client; queue what a crash left in the inbox."""
        await self.gateway.open()
        for event_id, payload in await self.inbox.left_over():
            await self._arrived(event_id, payload)

    def mount(self, server: HttpServer) -> None:
        server.mount("sms webhook", self.webhook.routes())

    async def run(self, stop: asyncio.Event, ready: asyncio.Event | None = None) -> None:
        """Register the webhooks, hand the outbox over and handle SMS until `stop`."""
        tasks = [
            asyncio.create_task(self.outbox.run(stop)),
            *(asyncio.create_task(self._handle_events(queue, stop)) for queue in self._queues),
            asyncio.create_task(self._keep_registering(stop)),
        ]
        if ready is not None:
            ready.set()
        try:
            await stop.wait()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def close(self) -> None:
        """Write the marks of handled events; close the gateway's client. What the outbox
        holds stays stored and goes out after the next start."""
        await self.inbox.close()
        await self.gateway.close()

    async def send(self, to: Address, content: Content, *, automatic: bool = False) -> bool:
        """Queue one SMS (stored before it goes out); True once stored. The gateway has no
        quota to spare: scheduled messages (`automatic`) go out like answers."""
        if to.channel != SMS:
            log.warning("sms: cannot send to %s", to)
            return False
        body = to_sms(content, unicode=self.settings.unicode, dashboard_url=self.dashboard_url)
        if body is None:
            return True  # nothing an SMS can carry (a chart): the text said it all
        message = OutboxMessage(uuid.uuid4().hex, SMS_BOT, to.id, body, int(self.clock.time()))
        await self.outbox.add([message])
        return True

    # -- receiving -------------------------------------------------------------------------

    async def _arrived(self, event_id: str, payload: str) -> None:
        parsed = parse_event(payload)
        sender = parsed[1].from_ if parsed is not None else ""
        queue = self._queues[zlib.crc32(sender.encode()) % len(self._queues)]
        await queue.put((event_id, payload))

    async def _handle_events(
        self, queue: asyncio.Queue[tuple[str, str]], stop: asyncio.Event
    ) -> None:
        while not stop.is_set():
            event_id, payload = await queue.get()
            try:
                answer = await self.handle(event_id, payload)
            except Exception:
                # Left in the inbox: handled again at the next start.
                log.exception("sms: handling event %s failed", event_id)
                continue
            self.inbox.done(event_id)
            self._answer_of[event_id] = answer
            while len(self._answer_of) > ANSWERS_KEPT:
                self._answer_of.pop(next(iter(self._answer_of)))
            async with self._handled_changed:
                self._handled += 1
                self._handled_changed.notify_all()

    async def wait_handled(self, count: int, patience: float = 60.0) -> None:
        """Until `count` events have been handled since the start (tests, drills)."""
        async with self._handled_changed:
            await asyncio.wait_for(
                self._handled_changed.wait_for(lambda: self._handled >= count), patience
            )

    @property
    def handled(self) -> int:
        return self._handled

    async def answer_to(self, event_id: str, patience: float = 60.0) -> Answer:
        """The typed answer to an SMS once it is handled (drills; the SMS itself is text)."""
        async with self._handled_changed:
            await asyncio.wait_for(
                self._handled_changed.wait_for(lambda: event_id in self._answer_of), patience
            )
        return self._answer_of[event_id]

    async def handle(self, event_id: str, payload: str) -> Answer:
        """One stored SMS: answered (the replies queued in the outbox), or ignored."""
        parsed = parse_event(payload)
        if parsed is None:
            log.warning("sms: stored event %s is not a readable SMS; dropped", event_id)
            return NOTHING
        envelope, sms = parsed
        sender = sms.from_
        phone = normalize_phone(sender)
        if phone is None:
            kind = "a named sender" if any(c.isalpha() for c in sender) else "a foreign number"
            log.info("sms: an SMS from %s (%s) is not answered", kind, sender[:32])
            return NOTHING
        who = Address(SMS, phone)
        answer = await self._answer(who, phone, envelope.id, sms.message, sms.received_at)
        self.answers.append((who, answer))
        stem = hashlib.sha256(f"{SMS_BOT}\x1f{event_id}".encode()).hexdigest()[:24]
        now = int(self.clock.time())
        messages = []
        for index, reply in enumerate(answer.replies):
            body = reply_text(
                reply, unicode=self.settings.unicode, dashboard_url=self.dashboard_url
            )
            if body is not None:
                messages.append(OutboxMessage(f"ft{stem}-{index}", SMS_BOT, phone, body, now))
        await self.outbox.add(messages)
        if answer.sends:
            if self.elsewhere is not None:
                await self.elsewhere(answer.sends)
            else:
                for message in answer.sends:
                    await self.send(message.to, message.content)
        return answer

    async def _answer(
        self, who: Address, phone: str, ref: str, text: str, received_at: dt.datetime
    ) -> Answer:
        caller = await self.core.caller(who)
        if not caller.is_registered and not caller.is_admin:
            if await self.core.db.units_of_phone(phone):
                # The carrier vouches for the number: registered, then the SMS handled.
                registered = await self.core.register(
                    sender=who, chat=who, contact_owner=who, phone=phone, name=phone
                )
                if not registered.ok:
                    return registered
            else:
                day = self.core.now().date().isoformat()
                due = await self.core.db.write(lambda tx: tx.sms_refusal_due(SMS_BOT, phone, day))
                if not due:
                    return NOTHING  # refused once today already
                return refused(Refusal.UNKNOWN_PHONE, texts.unknown_phone(phone))
        if received_at.tzinfo is None:
            received_at = received_at.replace(tzinfo=self.core.settings.tz)
        message = InboundText(
            chat=who, message_ref=ref, sender=who, text=text, sent_at=received_at, bot=SMS_BOT
        )
        return await self.conversation.handle(message, Where(who, who, SMS_BOT), SMS_CAPABILITIES)

    # -- the gateway's webhooks ------------------------------------------------------------

    async def _keep_registering(self, stop: asyncio.Event) -> None:
        """Register both webhooks; while the gateway cannot be reached, try again later."""
        url = self.settings.webhook_url
        assert url is not None
        pause = REGISTER_RETRY_FIRST
        while not stop.is_set():
            try:
                for event, webhook_id in WEBHOOK_IDS.items():
                    await self.gateway.register_webhook(webhook_id, url, event)
                    registration = WebhookRegistration(
                        event, webhook_id, url, int(self.clock.time())
                    )
                    await self.core.db.write(partial(_keep_registration, registration))
            except Exception as error:
                if isinstance(error, GatewayError):
                    log.warning("sms: registering the webhooks with the gateway failed (%s); "
                                "trying again in %.0f s", error, pause)  # fmt: skip
                else:
                    log.exception("sms: registering the webhooks failed; trying again later")
                await self.clock.sleep(pause, stop)
                pause = min(pause * 2, REGISTER_RETRY_MAX)
                continue
            log.info("sms: webhooks registered with the gateway for %s",
                     ", ".join(WEBHOOK_IDS))  # fmt: skip
            self.webhooks_registered.set()
            return


def _keep_registration(registration: WebhookRegistration, tx: Transaction) -> None:
    tx.sms_webhook_registered(SMS_BOT, registration)


def reply_text(reply: Reply, *, unicode: bool, dashboard_url: str | None) -> str | None:
    """The SMS that carries a reply: its brief form where it has one (an acknowledgement, a
    refusal: one segment), else its whole content (a summary: at most three segments)."""
    content = reply.brief if reply.brief is not None else reply.content
    return to_sms(content, unicode=unicode, dashboard_url=dashboard_url)


def sms_channels(settings: SmsSettings, clock: Clock | None = None) -> ChannelFactory:
    """The factory `run_bot` takes: the one SMS channel (one gateway) of the process."""

    def build(core: Core, stop: asyncio.Event, *, media: MediaLinks | None) -> list[Channel]:
        return [SmsChannel(core, settings, clock=clock)]  # no pictures, no files: no media

    return build
