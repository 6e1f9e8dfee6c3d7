"""One Zalo bot on the channel port: events in (webhook or polling), the core's answers out.

`open` asks `getMe` (who the bot is, and whether Zalo lets it into groups) and handles what
a crash left in the inbox; `mount` puts the bot on the process's Zalo webhook route; `run`
registers the webhook (`setWebhook` with the secret) and waits, or without
FIELDTALLY_PUBLIC_URL polls `getUpdates` (with a warning: Zalo drops what arrives while
nobody polls); `send` delivers one message as plain text split at 2,000 UTF-16 units, a
picture as a photo URL and a file as a link (through the media publisher, when the process
serves media); `close` finishes what is being handled.

Events are stored in the bot's inbox before they are acknowledged, a duplicate (same event
name and message id within 7 days) takes effect once, and each chat's events are handled in
order through the shared `Conversation`. Texts are handled; pictures, stickers and other
messages get a short hint. The first reply to someone new says the bot is an automated
system (Zalo's terms), once per identity, remembered in the store.

The quota: each successful `sendMessage` / `sendPhoto` is counted per bot and calendar month
in FIELDTALLY_TZ; admins hear (on another bot or channel) when 80% and 95% are passed and
when Zalo answers 429 (the quota is spent: sending stops on this bot, with one probe every
`probe_every` seconds, never a retry loop); automatic summaries are not started with less
than 10% left (`room_for_automatic`, see `bot.messaging.port.Metered`). A 401 stops the
process with one line that names the bot, never its token.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any, Protocol

from bot import texts
from bot.channel import Address, Capabilities
from bot.core import Core, Where
from bot.messaging.answers import Answer, Refusal, Reply, refused
from bot.messaging.content import (
    Choice,
    ContactRequest,
    Content,
    Document,
    Image,
    Outgoing,
    Text,
)
from bot.messaging.conversation import NOTHING, Conversation
from bot.messaging.inbox import RENEW_EVERY, Inbox
from bot.messaging.port import Switchboard
from bot.turnout.intake import InboundText
from handlers.http_server import HttpServer
from handlers.zalo.client import (
    NoUpdate,
    QuotaSpent,
    Refused,
    Unauthorized,
    Unavailable,
    ZaloApiError,
    ZaloClient,
    call_patiently,
)
from handlers.zalo.events import Event, EventName, read_events
from handlers.zalo.identity import zalo_address, zalo_chat_id
from handlers.zalo.render import ZALO_CAPABILITIES, caption, plain_messages, with_groups
from handlers.zalo.settings import ZaloBot, ZaloSettings
from handlers.zalo.webhook import ZaloWebhook
from storage.faults import fault_reason, is_storage_fault

log = logging.getLogger(__name__)

REMEMBER_EVENTS = 7 * 24 * 3600.0  # seconds a received event is recognised when it comes again
PROBE_EVERY = 300.0  # seconds between tries on a bot whose quota Zalo says is spent
CONCURRENT_CHATS = 16  # chats handled at once (each chat in order)
QUOTA_WARNINGS = (80, 95)  # shares of the monthly quota that admins are told of
AUTOMATIC_FLOOR = 0.10  # automatic summaries need at least this share of the quota left
POLLING_WARNING = (
    "zalo bot %s: polling getUpdates (FIELDTALLY_PUBLIC_URL is not set): Zalo keeps no "
    "backlog, so messages sent while the bot is not polling are lost; set "
    "FIELDTALLY_PUBLIC_URL to receive them by webhook"
)


def rejected_token(bot_id: str) -> str:
    """The one line the process stops with when Zalo refuses a bot's token."""
    return (
        f"fieldtally: Zalo rejected the token of bot {bot_id} (ZALO_BOT_TOKEN or "
        "ZALO_BOTS_FILE): revoked or mistyped"
    )


class MediaPublisher(Protocol):
    """What serves pictures and files at expiring public URLs (`handlers/media.py`)."""

    async def publish(self, data: bytes, *, content_type: str, filename: str, ttl: float) -> str:
        """The absolute URL where `data` can be fetched for `ttl` seconds."""
        ...

    async def as_link_text(self, content: Image | Document) -> Text:
        """A text that offers the file as a download link."""
        ...


def admin_messages(switchboard: Switchboard, core: Core, text: str, not_via: str) -> list[Outgoing]:
    """`text` to every admin reachable through a bot other than `not_via`. An identity that
    belongs to one bot (`zalo:<bot id>:<user id>`) is reached through that bot only."""
    channels = list(switchboard)
    names = {channel.name for channel in channels}
    admins: dict[Address, None] = {}
    for channel in channels:
        kind = channel.capabilities
        admins.update(
            dict.fromkeys(core.settings.admins.on(kind.channel, numbered=kind.numeric_ids))
        )
    messages: list[Outgoing] = []
    for admin in admins:
        head, sep, _ = admin.id.partition(":")
        owner = f"{admin.channel}:{head}" if sep else None
        if owner is not None and owner in names:
            via: str | None = owner if owner != not_via else None
        else:
            same = [c.name for c in channels if c.capabilities.channel == admin.channel]
            via = next((name for name in same if name != not_via), None)
        if via is not None:
            messages.append(Outgoing(admin, Text(text), via))
    return messages


class ZaloChannel:
    """One Zalo bot (one token), bound to the core it serves."""

    def __init__(
        self,
        core: Core,
        settings: ZaloSettings,
        bot: ZaloBot,
        stop: asyncio.Event,
        *,
        webhook: ZaloWebhook | None = None,
        switchboard: Switchboard | None = None,
        media: MediaPublisher | None = None,
        poll_timeout: float = 10.0,
        retry_delay: float = 0.5,
        probe_every: float = PROBE_EVERY,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.core = core
        self.settings = settings
        self.bot = bot
        self._stop = stop
        self.client = ZaloClient(settings.api_url, bot.token)
        self.inbox: Inbox = core.inbox_for(bot.name)
        self.webhook = webhook if webhook is not None else ZaloWebhook()
        self.switchboard = switchboard if switchboard is not None else Switchboard([self])
        self.conversation = Conversation(core)
        self.media = media
        self.account_name = ""
        self._capabilities = ZALO_CAPABILITIES
        self._poll_timeout = poll_timeout
        self._retry_delay = retry_delay
        self._probe_every = probe_every
        self._monotonic = monotonic
        self._opened = False
        self._fatal: str | None = None
        self._fatal_event = asyncio.Event()
        self._tails: dict[str, asyncio.Future[None]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._slots = asyncio.Semaphore(CONCURRENT_CHATS)
        self._greeted: set[Address] = set()
        self._used: tuple[str, int] = ("", 0)  # (month, successful sends) as last counted
        self._spent_at: float | None = None  # when Zalo last said the quota is spent
        self._charts_unsent_logged = False
        # Told of every answer (the event's id and the typed answer), once it was delivered.
        self.observers: list[Callable[[str, Answer], None]] = []

    # -- the port ----------------------------------------------------------------------------

    @property
    def name(self) -> str:
        return self.bot.name

    @property
    def capabilities(self) -> Capabilities:
        return self._capabilities

    async def open(self) -> None:
        """Who the bot is (getMe: groups or not), its month's count, and what a crash left."""
        await self.client.open()
        try:
            me = await self._patiently("getMe", None)
        except Unauthorized:
            await self.client.close()
            raise SystemExit(rejected_token(self.bot.bot_id)) from None
        except Unavailable as error:
            if not self._stop.is_set():
                await self.client.close()
                raise
            log.info("zalo bot %s: stopped before Zalo answered (%s)", self.bot.bot_id, error)
            return
        if not isinstance(me, dict):
            me = {}
        if str(me.get("id", self.bot.bot_id)) != self.bot.bot_id:
            log.warning("zalo bot %s: getMe names another id", self.bot.bot_id)
        self.account_name = str(me.get("account_name") or me.get("display_name") or "")
        self._capabilities = with_groups(bool(me.get("can_join_groups")))
        month = self._month()
        self._used = (month, await self.core.db.sends_in_month(self.name, month))
        self.inbox.keep_flushing(self._stop)
        self._opened = True
        for event_id, payload in await self.inbox.left_over():
            try:
                event = Event.model_validate_json(payload)
            except ValueError:
                self.inbox.done(event_id)
                continue
            self._dispatch(event_id, event)

    def mount(self, server: HttpServer) -> None:
        """In webhook mode, this bot on the process's Zalo route (`/zalo/{bot id}`, shared
        by the Zalo bots given the same `webhook`, mounted once)."""
        if not self.settings.uses_webhook:
            return
        assert self.settings.webhook_secret is not None
        secret = self.settings.webhook_secret.get_secret_value()
        self.webhook.add(self.bot.bot_id, secret, self.accept)
        self.webhook.mount_on(server)

    async def run(self, stop: asyncio.Event, ready: asyncio.Event | None = None) -> None:
        """The webhook registered, or polling, until `stop` (or a rejected token)."""
        if not self._opened:
            return
        leases = None
        if self.core.shares_database:  # other processes of this bot: keep our events ours
            leases = asyncio.create_task(self._keep_leases(stop))
        try:
            if self.settings.uses_webhook:
                await self._keep_webhook(stop, ready)
            else:
                await self._poll(stop, ready)
        except Unauthorized:
            self._fatally()
        finally:
            if leases is not None:
                leases.cancel()
        if self._fatal is not None:
            stop.set()
            raise SystemExit(self._fatal)

    async def send(self, to: Address, content: Content, *, automatic: bool = False) -> bool:
        """One message (a long text: several), as Zalo takes it; False once it gave up.
        Whether an automatic summary starts at all is decided once per push, before its
        first message (`room_for_automatic`, asked by the switchboard), so a summary that
        has started goes out whole while Zalo takes messages."""
        try:
            chat_id = zalo_chat_id(to, self.bot.bot_id)
        except ValueError:
            log.warning("zalo bot %s cannot reach %s", self.bot.bot_id, to)
            return False
        for method, params in await self._calls(chat_id, content):
            if not await self._send_one(method, params, to):
                return False
        return True

    async def close(self) -> None:
        """Finish the events being handled, then close the client."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        await self.client.close()

    # -- the quota ---------------------------------------------------------------------------

    def room_for_automatic(self) -> bool:
        """Automatic summaries may start: Zalo takes messages and ≥10% of the quota is left."""
        if self._spent_at is not None:
            return False
        month, used = self._used
        if month != self._month():
            used = 0
        quota = self.settings.monthly_quota
        return quota - used >= quota * AUTOMATIC_FLOOR

    @property
    def sends_this_month(self) -> int:
        month, used = self._used
        return used if month == self._month() else 0

    def _month(self) -> str:
        return self.core.now().strftime("%Y-%m")

    def _label(self) -> str:
        code = self.bot.unit_code
        if code is None:
            return f"{texts.WHOLE_TREE} (bot {self.bot.bot_id})"
        unit = self.core.db.units.get(code)
        label = texts.unit_label(unit.code, unit.name) if unit is not None else code
        return f"{label} (bot {self.bot.bot_id})"

    def _may_send(self) -> bool:
        """False while the quota is spent, except for one probe every `probe_every`."""
        if self._spent_at is None:
            return True
        now = self._monotonic()
        if now - self._spent_at < self._probe_every:
            return False
        self._spent_at = now  # this send is the probe; others wait for the next
        return True

    async def _counted(self) -> None:
        """One more successful send: counted durably; admins told of a threshold passed."""
        quota = self.settings.monthly_quota
        month = self._month()
        at = [(share, math.ceil(quota * share / 100)) for share in QUOTA_WARNINGS]
        try:
            used, passed = await self.core.db.write(lambda tx: tx.count_send(self.name, month, at))
        except Exception as error:  # the message went out: a lost count is only logged
            log.warning("zalo bot %s: send not counted (%s)", self.bot.bot_id,
                        fault_reason(error))  # fmt: skip
            month, used = self._used
            self._used = (month, used + 1)
            return
        self._used = (month, used)
        for share in passed:
            await self._tell_admins(texts.quota_passed(self._label(), share, used, quota))

    async def _quota_spent(self) -> None:
        first = self._spent_at is None
        self._spent_at = self._monotonic()
        if first:
            log.warning(
                "zalo bot %s: Zalo says the monthly quota is spent; sending stopped, "
                "trying again every %.0f s", self.bot.bot_id, self._probe_every,
            )  # fmt: skip
            await self._tell_admins(texts.quota_spent(self._label()))

    async def _tell_admins(self, text: str) -> None:
        messages = admin_messages(self.switchboard, self.core, text, not_via=self.name)
        if not messages:
            log.warning("zalo bot %s: no admin reachable on another bot or channel",
                        self.bot.bot_id)  # fmt: skip
        await self.switchboard.send_all(messages)

    # -- sending -----------------------------------------------------------------------------

    async def _patiently(self, method: str, params: dict[str, Any] | None) -> Any:
        return await call_patiently(
            self.client, method, params, self._stop, first_delay=self._retry_delay
        )

    async def _calls(self, chat_id: str, content: Content) -> list[tuple[str, dict[str, Any]]]:
        """The API calls that deliver `content` to a chat."""
        if isinstance(content, Text | ContactRequest | Choice):  # no buttons: the text alone
            body = content.body
        elif isinstance(content, Image):
            if self.media is None:
                if not self._charts_unsent_logged:
                    self._charts_unsent_logged = True
                    log.warning("zalo bot %s: charts are not sent without FIELDTALLY_PUBLIC_URL",
                                self.bot.bot_id)  # fmt: skip
                return []
            url = await self.media.publish(
                content.png,
                content_type="image/png",
                filename=content.name,
                ttl=self.core.settings.media_ttl,
            )
            photo: dict[str, Any] = {"chat_id": chat_id, "photo": url}
            if content.caption:
                photo["caption"] = caption(content.caption)
            return [("sendPhoto", photo)]
        elif self.media is not None:  # a document: a download link
            body = (await self.media.as_link_text(content)).body
        else:
            body = texts.EXPORT_NOT_SENT
        return [
            ("sendMessage", {"chat_id": chat_id, "text": part}) for part in plain_messages(body)
        ]

    async def _send_one(self, method: str, params: dict[str, Any], to: Address) -> bool:
        if self._fatal is not None:
            return False
        if not self._may_send():
            log.info("zalo bot %s: %s to %s not sent (quota spent)", self.bot.bot_id, method, to)
            return False
        try:
            await self._patiently(method, params)
        except QuotaSpent:
            await self._quota_spent()
            return False
        except Unauthorized:
            self._fatally()
            return False
        except ZaloApiError as error:  # refused, or still failing while the bot stops
            log.warning("zalo bot %s: %s to %s failed: %s", self.bot.bot_id, method, to, error)
            return False
        if self._spent_at is not None:
            self._spent_at = None
            log.warning("zalo bot %s: Zalo takes messages again", self.bot.bot_id)
        await self._counted()
        return True

    def _fatally(self) -> None:
        if self._fatal is None:
            self._fatal = rejected_token(self.bot.bot_id)
            self._fatal_event.set()

    # -- receiving ---------------------------------------------------------------------------

    async def accept(self, events: list[tuple[Event, str]]) -> None:
        """Store (event, payload) pairs durably, then queue the new ones for handling (a
        duplicate is dropped here). Returns once they are stored (the webhook's 200)."""
        payloads = {event.key: (event, payload) for event, payload in events}
        stored = await self.inbox.store_new(
            [(key, payload) for key, (_, payload) in payloads.items()], remember=REMEMBER_EVENTS
        )
        for event_id, _ in stored:
            self._dispatch(event_id, payloads[event_id][0])

    def _dispatch(self, event_id: str, event: Event) -> None:
        """Handle the event after the earlier ones of its chat (chats run concurrently)."""
        key = event.message.chat.id
        previous = self._tails.get(key)
        finished: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._tails[key] = finished
        task = asyncio.create_task(self._in_turn(event_id, event, previous, finished, key))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _in_turn(
        self,
        event_id: str,
        event: Event,
        previous: asyncio.Future[None] | None,
        finished: asyncio.Future[None],
        key: str,
    ) -> None:
        try:
            if previous is not None:
                await previous
            async with self._slots:
                await self._handle_durably(event_id, event)
        finally:
            finished.set_result(None)
            if self._tails.get(key) is finished:
                del self._tails[key]

    async def _handle_durably(self, event_id: str, event: Event) -> None:
        """Handle the event; after a storage fault, again once the store works (it stays in
        the inbox if the bot stops first). Marked done once handled."""
        failed = False
        while True:
            try:
                await self.handle(event)
            except Exception as error:
                if not is_storage_fault(error):
                    log.exception("zalo bot %s: handling %s failed", self.bot.bot_id, event_id)
                    break
                self.core.outage.failed(error)
                failed = True
                if not await self.core.outage.pause(self._stop):
                    return  # left in the inbox for the next start
                continue
            if failed:
                self.core.outage.recovered()
            break
        self.inbox.done(event_id)

    async def handle(self, event: Event) -> Answer:
        """The answer to one event, delivered, then told to the observers; returned."""
        answer = await self._answer(event)
        if answer.replies or answer.sends:
            chat = zalo_address(self.bot.bot_id, event.message.chat.id)
            await self.switchboard.deliver(self, chat, answer)
        for observe in self.observers:
            observe(event.key, answer)
        return answer

    async def _answer(self, event: Event) -> Answer:
        message = event.message
        in_group = message.chat.is_group
        if message.sender.is_bot or (in_group and not self._capabilities.groups):
            return NOTHING  # a group Zalo has not let the bot into: not this bot's to serve
        sender = zalo_address(self.bot.bot_id, message.sender.id)
        chat = zalo_address(self.bot.bot_id, message.chat.id)
        where = Where(sender, chat, self.name, in_group, "")
        if event.event_name == EventName.TEXT:
            text = message.text or ""
            if in_group:
                addressed = self._addressed_to_me(text)
                if addressed is None:
                    return NOTHING
                text = addressed
            if not in_group and text.lstrip().startswith("/"):
                await self._typing(message.chat.id)  # a command may take a moment (charts)
            inbound = InboundText(
                chat=chat,
                message_ref=message.message_id,
                sender=sender,
                text=text,
                sent_at=message.sent_at(self.core.now()),
                bot=self.name,
            )
            answer = await self.conversation.handle(inbound, where, self._capabilities)
        elif in_group:
            return NOTHING  # groups read summaries: pictures there are the members' own
        else:
            answer = await self._record_photo(event, where) or self._hint(event.event_name, where)
        if not in_group:
            answer = await self._with_first_notice(sender, answer)
        return answer

    async def _record_photo(self, event: Event, where: Where) -> Answer | None:
        """A photo whose caption starts `kq <ballot>`: a signed counting record, kept by
        results night's flow (the image fetched from the URL the platform gives); None for
        any other picture."""
        message = event.message
        url = message.photo_url
        if event.event_name != EventName.IMAGE or not url or not message.caption:
            return None
        if self.conversation.admit(where.sender, message.caption) is not None:
            return None  # flooding: the hint's guard answers

        async def fetch() -> bytes:
            return await self.client.download(url)

        inbound = InboundText(
            chat=where.chat,
            message_ref=message.message_id,
            sender=where.sender,
            text=message.caption,
            sent_at=message.sent_at(self.core.now()),
            bot=self.name,
        )
        routed = await self.core.results_message(
            inbound, self._capabilities, is_command=False, photo=fetch
        )
        return routed.answer

    async def _typing(self, chat_id: str) -> None:
        """Shows typing in the chat (free: not in the quota); one try, failures ignored."""
        if self._fatal is not None or self._spent_at is not None:
            return
        try:
            await self.client.send_chat_action(chat_id)
        except ZaloApiError as error:
            log.debug("zalo bot %s: sendChatAction failed: %s", self.bot.bot_id, error)

    def _hint(self, event_name: str, where: Where) -> Answer:
        """A picture, a sticker, anything not text: a short hint (flood-guarded too)."""
        instead = self.conversation.admit(where.sender, "")
        if instead is not None:
            return instead
        match event_name:
            case EventName.IMAGE:
                return refused(Refusal.TEXT_ONLY, texts.IMAGE_NOT_READ)
            case EventName.STICKER:
                return refused(Refusal.TEXT_ONLY, texts.STICKER_NOT_READ)
            case _:
                return refused(Refusal.TEXT_ONLY, texts.UNSUPPORTED_MESSAGE)

    def _addressed_to_me(self, text: str) -> str | None:
        """A group message's text without the mention of this bot; None if it has none (in a
        group a command must mention the bot)."""
        if not self.account_name:
            return text if text.lstrip().startswith("/") else None
        mention = f"@{self.account_name}"
        lowered = text.lower()
        at = lowered.find(mention.lower())
        if at < 0:
            return None
        rest = (text[:at] + text[at + len(mention) :]).strip()
        return rest

    async def _with_first_notice(self, sender: Address, answer: Answer) -> Answer:
        """The answer, its first reply prefixed with the automated-system notice if this
        is the first reply to `sender` (remembered durably, once per identity)."""
        if not answer.replies or sender in self._greeted:
            return answer
        now = int(time.time())
        first = await self.core.db.write(lambda tx: tx.greet_first(sender, now))
        self._greeted.add(sender)
        if not first:
            return answer
        head = answer.replies[0]
        if isinstance(head.content, Text):
            body = f"{texts.AUTOMATED_SYSTEM}\n\n{head.content.body}"
            replies = (replace(head, content=Text(body)), *answer.replies[1:])
        else:
            replies = (Reply(Text(texts.AUTOMATED_SYSTEM)), *answer.replies)
        return replace(answer, replies=replies)

    # -- webhook or polling ------------------------------------------------------------------

    async def _keep_webhook(self, stop: asyncio.Event, ready: asyncio.Event | None) -> None:
        """Zalo posts to `/zalo/<bot id>`; it stays registered when we stop."""
        assert self.settings.webhook_secret is not None
        await self._patiently(
            "setWebhook",
            {
                "url": self.settings.webhook_url(self.bot),
                "secret_token": self.settings.webhook_secret.get_secret_value(),
            },
        )
        if ready is not None:
            ready.set()
        await _first_of(stop, self._fatal_event)

    async def _poll(self, stop: asyncio.Event, ready: asyncio.Event | None) -> None:
        """getUpdates, one update per call (408: none yet), until `stop`."""
        log.warning(POLLING_WARNING, self.bot.bot_id)
        await self._patiently("deleteWebhook", None)  # polling and a webhook exclude each other
        if ready is not None:
            ready.set()
        delay = self._retry_delay
        while not stop.is_set() and self._fatal is None:
            fetch = asyncio.ensure_future(self.client.get_updates(self._poll_timeout))
            stopping = asyncio.ensure_future(_first_of(stop, self._fatal_event))
            await asyncio.wait({fetch, stopping}, return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
            if not fetch.done():
                fetch.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await fetch
                return
            try:
                result = fetch.result()
            except NoUpdate:
                delay = self._retry_delay
                continue
            except (Unavailable, Refused, QuotaSpent) as error:
                log.warning("zalo bot %s: getUpdates failed (%s); retrying in %.1f s",
                            self.bot.bot_id, error.description, delay)  # fmt: skip
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=delay)
                delay = min(delay * 2, 30.0)
                continue
            delay = self._retry_delay
            events = read_events(result)
            if not events:
                log.warning("zalo bot %s: getUpdates gave something that is not an event",
                            self.bot.bot_id)  # fmt: skip
                continue
            await self._accept_polled(stop, events)

    async def _accept_polled(self, stop: asyncio.Event, events: list[Event]) -> None:
        """Store polled events (Zalo will not send them again): after a storage fault, again
        once the store works, while the bot runs."""
        pairs = [(event, event.model_dump_json(by_alias=True)) for event in events]
        while True:
            try:
                await self.accept(pairs)
                return
            except Exception as error:
                if not is_storage_fault(error):
                    raise
                self.core.outage.failed(error)
                if not await self.core.outage.pause(stop):
                    log.warning("zalo bot %s: stopped with %d polled events not stored",
                                self.bot.bot_id, len(pairs))  # fmt: skip
                    return

    async def _keep_leases(self, stop: asyncio.Event) -> None:
        """Where processes share the database: every RENEW_EVERY seconds, renew the leases
        of the events this process holds, and handle those a stopped process left."""
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=RENEW_EVERY)
            if stop.is_set():
                return
            try:
                claimed = await self.inbox.keep_and_claim()
            except Exception as error:
                log.warning("zalo bot %s: inbox leases not renewed (%s)", self.bot.bot_id,
                            fault_reason(error))  # fmt: skip
                continue
            for event_id, payload in claimed:
                try:
                    self._dispatch(event_id, Event.model_validate_json(payload))
                except ValueError:
                    self.inbox.done(event_id)


async def _first_of(*events: asyncio.Event) -> None:
    waits = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()
