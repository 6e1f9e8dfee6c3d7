"""The test-facing side of the Zalo sandbox: making bots, people and groups; people sending
texts, images, stickers and unsupported messages (each an event, kept for getUpdates or
POSTed to the webhook); redeliveries and hand-made webhook posts; reading what the bots did
(messages, photos with the fetched bytes, chat actions, deliveries, calls, quota); and waiting
for it on events, never on a fixed pause (``messages_to``, ``photos_to``,
``wait_for_delivery``, ``wait_for_call``).

A bot is named by its token or its id. A person is named by a key the test chooses ("lan");
each bot sees them under its own user id (``user_id(bot, key)``). A chat is named by a
person's key (their private chat), a group's key, or a chat id.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import enum
import secrets
from collections.abc import Callable, Sequence
from typing import Any, Literal, TypeVar

from sandbox.zalo.api import ZaloApi
from sandbox.zalo.models import (
    ApiCall,
    ChatAction,
    JSONDict,
    PayloadForm,
    PhotoFetch,
    SentMessage,
    SentPhoto,
    WebhookDelivery,
    ZaloEvent,
)
from sandbox.zalo.state import (
    DEFAULT_QUOTA,
    BotRef,
    Listener,
    _Group,
    _Person,
    _ZaloBot,
    millis,
    scoped_id,
)
from sandbox.zalo.wire import (
    IMAGE_EVENT,
    STICKER_EVENT,
    TEXT_EVENT,
    UNSUPPORTED_EVENT,
    EventName,
    ZaloChat,
    ZaloMessage,
    ZaloUpdate,
    ZaloUser,
)

DEFAULT_WAIT = 30.0  # seconds: only a guard against a hang; waits end on events
_R = TypeVar("_R", SentMessage, SentPhoto)


class Secret(enum.Enum):
    """``post_to_webhook``'s default: the secret the bot set with setWebhook."""

    OF_HOOK = "of-hook"


class ZaloDriver(ZaloApi):
    """Bots, people, groups and their events; what the bots did; waiting for it."""

    # --- bots, people, groups -------------------------------------------------------------

    def add_bot(
        self,
        account_name: str | None = None,
        *,
        bot_id: str | None = None,
        secret: str | None = None,
        can_join_groups: bool = False,
        quota: int = DEFAULT_QUOTA,
        account_type: str = "BASIC",
        lose_unpolled: bool | None = None,
    ) -> tuple[str, str]:
        """A new bot; returns ``(token, bot_id)``. The token is ``<bot id>:<secret>``; the id
        is numeric (a string). ``quota``: successful sends per month before every send
        answers 429. ``lose_unpolled`` overrides the sandbox's setting for this bot."""
        number = len(self._bots) + 1
        bot_id = bot_id or str(4_100_000_000_000_000_000 + number * 7_919)
        if not bot_id.isdigit():
            raise ValueError("a Zalo bot id is numeric")
        if bot_id in self._bots_by_id:
            raise ValueError(f"bot {bot_id} exists already")
        token = f"{bot_id}:{secret or secrets.token_urlsafe(32)}"
        bot = _ZaloBot(
            token=token,
            bot_id=bot_id,
            account_name=account_name or f"bot.fieldtally{number}",
            account_type=account_type,
            can_join_groups=can_join_groups,
            quota=quota,
            lose_unpolled=lose_unpolled,
        )
        self._bots[token] = bot
        self._bots_by_id[bot_id] = bot
        return token, bot_id

    def bot_profile(self, bot: BotRef) -> JSONDict:
        """What ``getMe`` answers for the bot."""
        return self._bot(bot).profile()

    def add_user(self, bot: BotRef, user: str, display_name: str | None = None) -> str:
        """The person ``user`` as ``bot`` knows them (made on first use); returns their id on
        that bot. It does not open their private chat: the bot can write to them only once
        they wrote to it."""
        return self._person(self._bot(bot), user, display_name).user_id

    def user_id(self, bot: BotRef, user: str) -> str:
        """The id ``bot`` knows the person ``user`` by (the same person differs per bot)."""
        return self._person(self._bot(bot), user, None).user_id

    def add_group(self, bot: BotRef, group: str, name: str | None = None) -> str:
        """Add the bot to the group ``group`` (made on first use); returns the group's chat id.
        A bot whose ``can_join_groups`` is false cannot be added: ValueError."""
        return self._group(self._bot(bot), group, name).chat_id

    def group_id(self, bot: BotRef, group: str) -> str:
        return self._group(self._bot(bot), group, None).chat_id

    def set_quota(self, bot: BotRef, quota: int) -> None:
        """The bot's monthly quota (messages it may send before every send answers 429)."""
        self._bot(bot).quota = quota

    def reset_quota(self, bot: BotRef) -> None:
        """A new month: nothing used yet."""
        self._bot(bot).used = 0

    def quota_used(self, bot: BotRef) -> int:
        """Successful sendMessage/sendPhoto calls since the last reset."""
        return self._bot(bot).used

    def set_webhook_form(self, bot: BotRef, form: PayloadForm) -> None:
        """How the bot's webhook posts look: ``"wrapped"`` ({"ok": true, "result": {...}},
        the default) or ``"bare"`` ({"event_name": ..., "message": ...})."""
        if form not in ("wrapped", "bare"):
            raise ValueError("form is 'wrapped' or 'bare'")
        self._bot(bot).webhook_form = form

    def webhook_url(self, bot: BotRef) -> str | None:
        """The webhook the bot set, if any."""
        hook = self._bot(bot).webhook
        return hook.url if hook else None

    # --- people write ---------------------------------------------------------------------

    def user_says(
        self,
        bot: BotRef,
        user: str,
        text: str,
        *,
        display_name: str | None = None,
        date: dt.datetime | None = None,
        deliver: bool = True,
    ) -> str:
        """``user`` writes ``text`` to the bot in private; returns the message id. With
        ``deliver=False`` the event is made (see ``events``) but not sent: for
        ``post_to_webhook``."""
        return self._private(bot, user, display_name, date, deliver, TEXT_EVENT, {"text": text})

    def user_sends_image(
        self,
        bot: BotRef,
        user: str,
        url: str,
        caption: str | None = None,
        *,
        date: dt.datetime | None = None,
        deliver: bool = True,
    ) -> str:
        """``user`` sends a photo (the platform gives bots its URL) with an optional caption."""
        fields = {"photo": url, "caption": caption}
        return self._private(bot, user, None, date, deliver, IMAGE_EVENT, fields)

    def user_sends_sticker(
        self,
        bot: BotRef,
        user: str,
        sticker: str = "d063f44dc80821567819",
        url: str | None = None,
        *,
        date: dt.datetime | None = None,
        deliver: bool = True,
    ) -> str:
        """``user`` sends a sticker (its id, and the URL of its picture)."""
        fields = {"sticker": sticker, "url": url or f"https://zalo.me/sticker/{sticker}.png"}
        return self._private(bot, user, None, date, deliver, STICKER_EVENT, fields)

    def user_sends_unsupported(
        self,
        bot: BotRef,
        user: str,
        *,
        date: dt.datetime | None = None,
        deliver: bool = True,
    ) -> str:
        """``user`` sends something bots are not given (a voice call, a file…)."""
        return self._private(bot, user, None, date, deliver, UNSUPPORTED_EVENT, {})

    def group_says(
        self,
        bot: BotRef,
        group: str,
        user: str,
        text: str,
        mention: bool = True,
        *,
        date: dt.datetime | None = None,
        deliver: bool = True,
    ) -> str:
        """``user`` writes in ``group`` (the bot is added if it is not yet; ValueError if it
        cannot join groups); returns the message id. The bot sees only messages that mention
        it: with ``mention`` the text arrives as ``"@<account_name> <text>"``; without, no
        event at all."""
        zbot = self._bot(bot)
        chat = self._group(zbot, group, None)
        person = self._person(zbot, user, None)
        if not mention:
            return zbot.next_message_id()  # written in the group, never shown to the bot
        fields = {"text": f"@{zbot.account_name} {text}"}
        event = self._emit(zbot, chat.chat_id, "GROUP", person, TEXT_EVENT, fields, date)
        if deliver:
            self._dispatch(zbot, event)
        return event.message_id

    def redeliver(self, bot: BotRef, message_id: str) -> None:
        """Send an earlier event again, unchanged (same ``message_id``): a duplicate."""
        zbot = self._bot(bot)
        original = self._event(zbot, message_id)
        copy = ZaloEvent(
            seq=len(zbot.events),
            bot_id=zbot.bot_id,
            event_name=original.event_name,
            chat_id=original.chat_id,
            message_id=original.message_id,
            update=original.update,
            duplicate=True,
        )
        zbot.events.append(copy)
        self._dispatch(zbot, copy)

    async def post_to_webhook(
        self,
        bot: BotRef,
        message_id: str | None = None,
        *,
        secret: str | Literal[Secret.OF_HOOK] | None = Secret.OF_HOOK,
        form: PayloadForm | None = None,
        body: bytes | None = None,
        url: str | None = None,
    ) -> WebhookDelivery:
        """POST one event (``message_id``; default the bot's latest) to the bot's webhook,
        once, without retries, and return the recorded delivery (its ``status`` is what the
        webhook answered). ``secret``: another value to send in ``X-Bot-Api-Secret-Token``,
        or None to leave the header out; ``form`` overrides the bot's payload form; ``body``
        sends those bytes instead of the event; ``url`` posts somewhere else (e.g. another
        bot id's path)."""
        zbot = self._bot(bot)
        hook = zbot.webhook
        if hook is None:
            raise RuntimeError("the bot has not set a webhook")
        if message_id is None:
            if not zbot.events:
                raise RuntimeError("the bot has no event yet")
            event = zbot.events[-1]
        else:
            event = self._event(zbot, message_id)
        return await self._post(
            zbot,
            hook,
            event,
            form=form or zbot.webhook_form,
            attempt=1,
            secret=None if secret is Secret.OF_HOOK else secret,
            use_hook_secret=secret is Secret.OF_HOOK,
            body=body,
            url=url,
        )

    # --- what happened --------------------------------------------------------------------

    def events(self, bot: BotRef) -> list[ZaloEvent]:
        """Every event made for the bot, duplicates included, oldest first."""
        return list(self._bot(bot).events)

    def pending_events(self, bot: BotRef) -> int:
        """Events waiting for a getUpdates."""
        return len(self._bot(bot).pending)

    def sent_messages(self, bot: BotRef, chat: str | None = None) -> list[SentMessage]:
        """Texts the bot sent (and the platform accepted), optionally to one chat."""
        zbot = self._bot(bot)
        return _in_chat(zbot.sent, self._chat_id(zbot, chat))

    def sent_photos(self, bot: BotRef, chat: str | None = None) -> list[SentPhoto]:
        """Photos the bot sent, with the bytes the sandbox fetched from their URLs."""
        zbot = self._bot(bot)
        return _in_chat(zbot.photos, self._chat_id(zbot, chat))

    def photo_fetches(self, bot: BotRef) -> list[PhotoFetch]:
        """Every fetch of a sendPhoto URL, failed ones included."""
        return list(self._bot(bot).fetches)

    def chat_actions(self, bot: BotRef) -> list[ChatAction]:
        return list(self._bot(bot).actions)

    def webhook_deliveries(self, bot: BotRef) -> list[WebhookDelivery]:
        """Every POST to the bot's webhook, oldest first."""
        return list(self._bot(bot).deliveries)

    def calls(self, method: str | None = None, *, bot: BotRef | None = None) -> list[ApiCall]:
        """API calls, oldest first: of one method (any spelling) and/or one bot."""
        bot_id = self._bot(bot).bot_id if bot is not None else None
        return [
            c
            for c in self._calls
            if (method is None or c.method.lower() == method.lower())
            and (bot_id is None or c.bot_id == bot_id)
        ]

    def next_seq(self, bot: BotRef) -> int:
        """The ``seq`` the bot's next message or photo will get (for ``since=``)."""
        return self._bot(bot).out_seq

    def add_listener(self, listener: Listener) -> None:
        """Call ``listener(bot_id, record)`` for every message or photo a bot sends."""
        self._listeners.append(listener)

    # --- waiting --------------------------------------------------------------------------

    async def messages_to(
        self,
        bot: BotRef,
        chat: str,
        count: int = 1,
        *,
        since: int = 0,
        timeout: float = DEFAULT_WAIT,  # noqa: ASYNC109 -- a guard; the wait ends on events
    ) -> list[SentMessage]:
        """Wait until the bot has sent ``count`` texts to ``chat`` (with ``seq >= since``);
        returns them all. TimeoutError lists what the bot did send and its failed calls."""
        zbot = self._bot(bot)
        chat_id = self._chat_id(zbot, chat)
        return await self._wait_sent(zbot, zbot.sent, chat_id, count, since, timeout)

    async def photos_to(
        self,
        bot: BotRef,
        chat: str,
        count: int = 1,
        *,
        since: int = 0,
        timeout: float = DEFAULT_WAIT,  # noqa: ASYNC109
    ) -> list[SentPhoto]:
        """Wait until the bot has sent ``count`` photos to ``chat``; returns them all."""
        zbot = self._bot(bot)
        chat_id = self._chat_id(zbot, chat)
        return await self._wait_sent(zbot, zbot.photos, chat_id, count, since, timeout)

    async def wait_for_delivery(
        self,
        bot: BotRef,
        predicate: Callable[[WebhookDelivery], bool] | None = None,
        *,
        count: int = 1,
        since: int = 0,
        timeout: float = DEFAULT_WAIT,  # noqa: ASYNC109
    ) -> list[WebhookDelivery]:
        """Wait until ``count`` webhook deliveries (from the ``since``-th on) match
        ``predicate`` (default: answered 2xx); returns the matching ones."""
        zbot = self._bot(bot)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            matching = [
                d for d in zbot.deliveries[since:] if (predicate(d) if predicate else d.delivered)
            ]
            if len(matching) >= count:
                return matching
            remaining = deadline - loop.time()
            if remaining <= 0 or self._closed():
                made = ", ".join(f"{d.message_id}->{d.status or d.error}" for d in zbot.deliveries)
                raise TimeoutError(
                    f"waited {timeout:g}s for {count} matching deliveries; all: {made or 'none'}"
                )
            await zbot.deliveries_signal.wait(remaining)

    async def wait_taken(
        self,
        bot: BotRef,
        message_id: str | None = None,
        *,
        timeout: float = DEFAULT_WAIT,  # noqa: ASYNC109
    ) -> ZaloEvent:
        """Wait until the event ``message_id`` (default: the bot's latest) reached the bot: a
        getUpdates returned it, or its webhook answered 2xx; returns the event. TimeoutError
        if it was lost or given up, or the guard ran out."""
        zbot = self._bot(bot)
        if message_id is None:
            if not zbot.events:
                raise RuntimeError("the bot has no event yet")
            message_id = zbot.events[-1].message_id
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            copies = [e for e in zbot.events if e.message_id == message_id]
            if not copies:
                raise KeyError(f"no event with message id {message_id}")
            for event in copies:
                if event.taken:
                    return event
            remaining = deadline - loop.time()
            if all(e.lost or e.given_up for e in copies) or remaining <= 0 or self._closed():
                state = ", ".join(
                    "lost" if e.lost else "given up" if e.given_up else "waiting" for e in copies
                )
                raise TimeoutError(f"event {message_id} did not reach the bot ({state})")
            await zbot.taken_signal.wait(remaining)

    async def wait_for_call(
        self,
        method: str,
        predicate: Callable[[ApiCall], bool] | None = None,
        *,
        bot: BotRef | None = None,
        since: int = 0,
        timeout: float = DEFAULT_WAIT,  # noqa: ASYNC109
    ) -> ApiCall:
        """Wait until a call of ``method`` (any spelling; ``seq >= since``; of ``bot`` if
        given) satisfies ``predicate``; returns it. A call is visible while under way
        (``http_status is None``): a long poll, a held call."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            for call in self.calls(method, bot=bot):
                if call.seq >= since and (predicate is None or predicate(call)):
                    return call
            remaining = deadline - loop.time()
            if remaining <= 0 or self._closed():
                made = ", ".join(f"{c.method}->{c.http_status}" for c in self._calls[-20:])
                raise TimeoutError(f"waited {timeout:g}s for a {method} call; last: {made}")
            await self._calls_signal.wait(remaining)

    # --- internals ------------------------------------------------------------------------

    def _person(self, bot: _ZaloBot, user: str, display_name: str | None) -> _Person:
        person = bot.people.get(user)
        if person is None:
            person = _Person(
                key=user,
                user_id=scoped_id("user", bot.bot_id, user),
                display_name=display_name or user,
            )
            bot.people[user] = person
            bot.people_by_id[person.user_id] = person
        elif display_name is not None:
            person.display_name = display_name
        return person

    def _group(self, bot: _ZaloBot, group: str, name: str | None) -> _Group:
        known = bot.groups.get(group)
        if known is not None:
            return known
        if not bot.can_join_groups:
            raise ValueError(f"bot {bot.bot_id} cannot be added to groups (can_join_groups)")
        made = _Group(group, scoped_id("group", bot.bot_id, group), name or group)
        bot.groups[group] = made
        bot.groups_by_id[made.chat_id] = made
        return made

    def _chat_id(self, bot: _ZaloBot, chat: str | None) -> str | None:
        if chat is None:
            return None
        if chat in bot.people:
            return bot.people[chat].user_id
        if chat in bot.groups:
            return bot.groups[chat].chat_id
        return chat

    def _event(self, bot: _ZaloBot, message_id: str) -> ZaloEvent:
        for event in bot.events:
            if event.message_id == message_id:
                return event
        raise KeyError(f"no event with message id {message_id}")

    def _private(
        self,
        bot: BotRef,
        user: str,
        display_name: str | None,
        date: dt.datetime | None,
        deliver: bool,
        event_name: EventName,
        fields: dict[str, Any],
    ) -> str:
        zbot = self._bot(bot)
        person = self._person(zbot, user, display_name)
        zbot.private_chats.add(person.user_id)
        event = self._emit(zbot, person.user_id, "PRIVATE", person, event_name, fields, date)
        if deliver:
            self._dispatch(zbot, event)
        return event.message_id

    def _emit(
        self,
        bot: _ZaloBot,
        chat_id: str,
        chat_type: Literal["PRIVATE", "GROUP"],
        person: _Person,
        event_name: EventName,
        fields: dict[str, Any],
        date: dt.datetime | None,
    ) -> ZaloEvent:
        message = ZaloMessage(
            sender=ZaloUser(id=person.user_id, display_name=person.display_name),
            chat=ZaloChat(id=chat_id, chat_type=chat_type),
            message_id=bot.next_message_id(),
            date=millis(date or self._clock()),
            **fields,
        )
        event = ZaloEvent(
            seq=len(bot.events),
            bot_id=bot.bot_id,
            event_name=event_name,
            chat_id=chat_id,
            message_id=message.message_id,
            update=ZaloUpdate(event_name=event_name, message=message).to_json(),
        )
        bot.events.append(event)
        return event

    def _dispatch(self, bot: _ZaloBot, event: ZaloEvent) -> None:
        """Hand an event on: to the webhook, else to the next getUpdates, else (when nobody
        polls and unpolled events are lost) nowhere."""
        lose = self.lose_unpolled if bot.lose_unpolled is None else bot.lose_unpolled
        if bot.webhook is not None:
            self._schedule_delivery(bot, event)
        elif lose and bot.pollers == 0:
            event.lost = True
        else:
            bot.pending.append(event)
            bot.event_signal.notify()

    async def _wait_sent(
        self,
        bot: _ZaloBot,
        records: Sequence[_R],
        chat_id: str | None,
        count: int,
        since: int,
        timeout: float,  # noqa: ASYNC109 -- a guard; the wait ends on events
    ) -> list[_R]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            found = [r for r in records if r.seq >= since and r.chat_id == chat_id]
            if len(found) >= count:
                return found
            remaining = deadline - loop.time()
            if remaining <= 0 or self._closed():
                raise TimeoutError(self._wait_report(bot, chat_id, count, len(found), timeout))
            await bot.sent_signal.wait(remaining)

    def _wait_report(
        self, bot: _ZaloBot, chat_id: str | None, count: int, found: int, timeout: float
    ) -> str:
        lines = [f"waited {timeout:g}s for {count} in chat {chat_id}; found {found}. Sent:"]
        lines += [f"  #{m.seq} -> {m.chat_id}: {m.text[:80]!r}" for m in bot.sent] or ["  -"]
        lines += [f"  #{p.seq} -> {p.chat_id}: photo {p.url}" for p in bot.photos]
        failed = [c for c in self._calls if c.bot_id == bot.bot_id and c.ok is False]
        lines += [f"  failed: {c.method} -> {c.error_code} {c.description}" for c in failed[-10:]]
        lines.append(f"  events waiting for getUpdates: {len(bot.pending)}")
        return "\n".join(lines)


def _in_chat(records: Sequence[_R], chat_id: str | None) -> list[_R]:
    return [r for r in records if chat_id is None or r.chat_id == chat_id]
