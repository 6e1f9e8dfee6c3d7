"""The test-facing side: what tests, the demo and the playground call to play Telegram's
users and to watch the bot. Making bots, users and groups; users sending texts, contacts,
documents, photos, edits and button presses (each queued as an update); reading what the bot
did (outgoing messages, API calls, webhook deliveries); and waiting for it, on events, never
on a fixed pause (``wait_for``, ``wait_for_call``, ``wait_for_delivery``).
"""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
import mimetypes
import secrets
from collections.abc import Callable
from typing import Literal

from sandbox.models import ApiCall, JSONDict, OutgoingRecord, SimUser, StoredFile, WebhookDelivery
from sandbox.state import Listener, SandboxState, _BotState, _scope_key, _timestamp
from sandbox.text import command_entities, image_size
from sandbox.wire import _TOKEN_RE

Predicate = Callable[[OutgoingRecord], bool]

# How long the wait_for* helpers wait by default: only a guard against a hang, never a
# measure of speed, so generous enough for a machine whose cores are busy with other work.
DEFAULT_WAIT = 60.0


class Driver(SandboxState):
    """Simulated users and the test-side view of what the bot did."""

    # --- people, chats, bots --------------------------------------------------------------

    def create_bot(
        self,
        username: str = "fieldtally_bot",
        *,
        first_name: str | None = None,
        token: str | None = None,
    ) -> str:
        """Register a bot and return its token (``token`` may be given, e.g. "123:abc")."""
        if token is None:
            self._bot_counter += 1
            bot_id = 7_000_000_000 + self._bot_counter
            token = f"{bot_id}:AA{secrets.token_urlsafe(33)[:33]}"
        elif not _TOKEN_RE.match(token):
            raise ValueError(f"not a Bot API token: {token!r} (expected '<digits>:<secret>')")
        if token in self._bots:
            raise ValueError("a bot with this token already exists")
        user: JSONDict = {
            "id": int(token.split(":", 1)[0]),
            "is_bot": True,
            "first_name": first_name or username.removesuffix("_bot").removesuffix("bot"),
            "username": username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }
        self._bots[token] = _BotState(token=token, user=user)
        return token

    def bot_user(self, token: str) -> JSONDict:
        """The bot's ``User`` object, as getMe returns it."""
        return copy.deepcopy(self._bot(token).user)

    def make_user(
        self,
        user_id: int,
        first_name: str | None = None,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
    ) -> SimUser:
        """Create (or replace) a simulated user; their private chat becomes known to bots."""
        if user_id <= 0:
            raise ValueError("user ids are positive")
        user = SimUser(user_id, first_name or f"User{user_id}", last_name, username, language_code)
        self._users[user_id] = user
        self._chats[user_id] = user.private_chat()
        return user

    def make_group(self, chat_id: int, title: str | None = None) -> JSONDict:
        """Register a group chat (negative id; ids below -10**12 are supergroups)."""
        if chat_id >= 0:
            raise ValueError("group chat ids are negative")
        kind = "supergroup" if chat_id <= -1_000_000_000_000 else "group"
        chat: JSONDict = {"id": chat_id, "type": kind, "title": title or f"Group {-chat_id}"}
        self._chats[chat_id] = chat
        return dict(chat)

    def set_blocked(self, token: str, user_id: int, blocked: bool = True) -> None:
        """Make ``user_id`` block (or unblock) the bot: sends to them then fail with 403."""
        bot = self._bot(token)
        if blocked:
            bot.blocked_by.add(user_id)
        else:
            bot.blocked_by.discard(user_id)

    # --- simulated incoming traffic -------------------------------------------------------

    def send_text(
        self,
        token: str,
        user: SimUser | int,
        text: str,
        chat_id: int | None = None,
        date: dt.datetime | None = None,
        reply_to_message_id: int | None = None,
    ) -> JSONDict:
        """A user sends ``text``; returns the incoming Message (bot commands get entities)."""
        fields: JSONDict = {"text": text}
        entities = command_entities(text)
        if entities:
            fields["entities"] = entities
        return self._incoming(token, user, fields, chat_id, date, reply_to_message_id)

    def edit_text(
        self,
        token: str,
        user: SimUser | int,
        chat_id: int | None,
        message_id: int,
        text: str,
        edit_date: dt.datetime | None = None,
    ) -> JSONDict:
        """The user edits an earlier text message; pushes an ``edited_message`` update."""
        bot, sender = self._bot(token), self._user(user)
        chat_id = sender.id if chat_id is None else chat_id
        old = bot.messages.get((chat_id, message_id))
        if old is None or old.get("from", {}).get("id") != sender.id or "text" not in old:
            raise ValueError(f"no text message {message_id} from user {sender.id} in {chat_id}")
        edited = {k: v for k, v in old.items() if k != "entities"}
        edited["text"] = text
        edited["edit_date"] = _timestamp(edit_date or self._clock())
        entities = command_entities(text)
        if entities:
            edited["entities"] = entities
        bot.store_message(edited)
        self._queue(bot, {"edited_message": edited})
        return copy.deepcopy(edited)

    def send_contact(
        self,
        token: str,
        user: SimUser | int,
        phone_number: str,
        contact_user_id: int | Literal["sender"] | None = "sender",
        first_name: str | None = None,
        last_name: str | None = None,
        chat_id: int | None = None,
        date: dt.datetime | None = None,
    ) -> JSONDict:
        """The user shares a contact. Default: their own (``user_id`` = sender, as with a
        request_contact button); pass ``contact_user_id=None`` for a contact without account.
        ``phone_number`` is passed through verbatim (Telegram sends e.g. "84912345678")."""
        sender = self._user(user)
        contact: JSONDict = {
            "phone_number": phone_number,
            "first_name": first_name or sender.first_name,
        }
        last = last_name if first_name is not None else (last_name or sender.last_name)
        if last:
            contact["last_name"] = last
        if contact_user_id == "sender":
            contact["user_id"] = sender.id
        elif contact_user_id is not None:
            contact["user_id"] = contact_user_id
        return self._incoming(token, sender, {"contact": contact}, chat_id, date, None)

    def send_document(
        self,
        token: str,
        user: SimUser | int,
        filename: str,
        content: bytes,
        caption: str | None = None,
        mime_type: str | None = None,
        chat_id: int | None = None,
        date: dt.datetime | None = None,
    ) -> JSONDict:
        """The user sends a file; the bot can getFile + download it. A caption "/cmd ..." gets
        ``caption_entities`` like text does."""
        bot = self._bot(token)
        mime = mime_type or mimetypes.guess_type(filename)[0] or "application/octet-stream"
        stored = self._store_file(bot, "document", content, filename, mime)
        fields: JSONDict = {"document": stored.document_dict()}
        fields.update(self._caption_fields(caption))
        return self._incoming(token, user, fields, chat_id, date, None)

    def send_photo(
        self,
        token: str,
        user: SimUser | int,
        content: bytes,
        caption: str | None = None,
        chat_id: int | None = None,
        date: dt.datetime | None = None,
    ) -> JSONDict:
        """The user sends a photo (PNG/JPEG/GIF/WebP bytes)."""
        bot = self._bot(token)
        size = image_size(content)
        if size is None:
            raise ValueError("not an image the sandbox recognises (PNG, JPEG, GIF, WebP)")
        stored = self._store_file(bot, "photo", content, None, "image/jpeg", size)
        fields: JSONDict = {"photo": stored.photo_sizes()}
        fields.update(self._caption_fields(caption))
        return self._incoming(token, user, fields, chat_id, date, None)

    def send_callback_query(
        self,
        token: str,
        user: SimUser | int,
        message_id: int,
        data: str,
        chat_id: int | None = None,
    ) -> str:
        """The user presses an inline button of a bot message; returns the query id."""
        bot, sender = self._bot(token), self._user(user)
        chat_id = sender.id if chat_id is None else chat_id
        message = bot.messages.get((chat_id, message_id))
        if message is None:
            raise ValueError(f"no message {message_id} in chat {chat_id}")
        query_id = str(secrets.randbelow(10**18) + 10**18)
        bot.callback_queries[query_id] = False
        self._queue(
            bot,
            {
                "callback_query": {
                    "id": query_id,
                    "from": sender.to_dict(),
                    "message": message,
                    "chat_instance": str(abs(hash((bot.id, chat_id)))),
                    "data": data,
                }
            },
        )
        return query_id

    def push_raw_update(self, token: str, update: JSONDict) -> int:
        """Queue any update payload (its ``update_id`` is assigned here); returns the id."""
        bot = self._bot(token)
        payload = {k: v for k, v in update.items() if k != "update_id"}
        # Make what the update mentions usable by the bot's answers, as on Telegram: the chat
        # can be written to, the message replied to, the callback query answered.
        for key in ("message", "edited_message", "channel_post"):
            message = payload.get(key)
            if isinstance(message, dict) and isinstance(message.get("chat"), dict):
                self._chats.setdefault(int(message["chat"]["id"]), copy.deepcopy(message["chat"]))
                bot.store_message(copy.deepcopy(message))
        query = payload.get("callback_query")
        if isinstance(query, dict) and "id" in query:
            bot.callback_queries.setdefault(str(query["id"]), False)
        return self._queue(bot, payload)

    def redeliver(self, token: str, update_id: int) -> int:
        """Deliver an earlier update again under a new update_id (Telegram does this when a
        delivery is not confirmed in time); returns the new id."""
        bot = self._bot(token)
        if update_id not in bot.history:
            raise KeyError(f"no update {update_id} for this bot")
        payload = {k: v for k, v in bot.history[update_id].items() if k != "update_id"}
        return self._queue(bot, payload)

    # --- what the bot did -----------------------------------------------------------------

    def outgoing(self, token: str, chat_id: int | None = None) -> list[OutgoingRecord]:
        """Messages the bot sent, edited or deleted, oldest first (optionally for one chat)."""
        records = self._bot(token).outgoing
        return [r for r in records if chat_id is None or r.chat_id == chat_id]

    def calls(self, token: str, method: str | None = None) -> list[ApiCall]:
        """Every API call the bot made (optionally only one method, any spelling)."""
        calls = self._bot(token).calls
        if method is None:
            return list(calls)
        return [c for c in calls if c.method.lower() == method.lower()]

    def pending_updates(self, token: str) -> int:
        """Updates queued but not yet confirmed by a getUpdates ``offset``."""
        return len(self._bot(token).updates)

    def history(self, token: str) -> list[JSONDict]:
        """Every update ever queued for the bot, confirmed or not, in update_id order."""
        return [copy.deepcopy(u) for u in self._bot(token).history.values()]

    def messages(self, token: str, chat_id: int) -> list[JSONDict]:
        """The chat as it stands now (both directions, edits applied, deletions gone)."""
        bot = self._bot(token)
        return [
            copy.deepcopy(bot.messages[(chat_id, mid)])
            for mid in bot.chat_order.get(chat_id, [])
            if (chat_id, mid) in bot.messages
        ]

    def commands(
        self, token: str, scope: JSONDict | None = None, language_code: str = ""
    ) -> list[JSONDict]:
        """Commands the bot set for this scope (default scope if None) and language."""
        key = (_scope_key(scope), language_code)
        return copy.deepcopy(self._bot(token).commands.get(key, []))

    def file(self, token: str, file_id: str) -> StoredFile:
        """A file known to the bot (uploaded by it or sent to it)."""
        return self._bot(token).files[file_id]

    def webhook_deliveries(self, token: str) -> list[WebhookDelivery]:
        """Every attempt to post an update to the bot's webhook, oldest first."""
        return list(self._bot(token).deliveries)

    def add_listener(self, listener: Listener) -> None:
        """Call ``listener(token, record)`` for every new outgoing record (e.g. a demo log)."""
        self._listeners.append(listener)

    async def wait_for(
        self,
        token: str,
        what: int | Predicate = 1,
        *,
        chat_id: int | None = None,
        since: int = 0,
        timeout: float = DEFAULT_WAIT,  # noqa: ASYNC109 -- the test-facing API reads best this way
    ) -> list[OutgoingRecord]:
        """Wait until the bot has produced ``what`` outgoing records (an int), or one matching
        ``what`` (a predicate), counting records with ``seq >= since`` in ``chat_id`` (any chat
        if None). Returns all such records (only the matching ones for a predicate).
        Raises TimeoutError listing what the bot did send, and its failed API calls."""
        bot = self._bot(token)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            records = [r for r in bot.outgoing[since:] if chat_id is None or r.chat_id == chat_id]
            if isinstance(what, int):
                if len(records) >= what:
                    return records
            else:
                matching = [r for r in records if what(r)]
                if matching:
                    return matching
            remaining = deadline - loop.time()
            if remaining <= 0 or (self._closing is not None and self._closing.is_set()):
                raise TimeoutError(self._wait_report(bot, what, chat_id, since, timeout, records))
            await bot.outgoing_signal.wait(remaining)

    async def wait_for_call(
        self,
        token: str,
        method: str,
        predicate: Callable[[ApiCall], bool] | None = None,
        *,
        since: int = 0,
        timeout: float = DEFAULT_WAIT,  # noqa: ASYNC109 -- same shape as wait_for
    ) -> ApiCall:
        """Wait until the bot has called ``method`` (any spelling; calls with ``seq >= since``)
        and, if given, ``predicate(call)`` holds; returns that call. A call is visible while
        still in progress (``status is None``), e.g. a long-polling getUpdates."""
        bot = self._bot(token)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            for call in bot.calls[since:]:
                if call.method.lower() == method.lower() and (predicate is None or predicate(call)):
                    return call
            remaining = deadline - loop.time()
            if remaining <= 0 or (self._closing is not None and self._closing.is_set()):
                made = ", ".join(f"{c.method}->{c.status}" for c in bot.calls[since:][-20:])
                raise TimeoutError(
                    f"waited {timeout:g}s for a {method} call; calls since #{since}: "
                    f"{made or '(none)'}"
                )
            await bot.calls_signal.wait(remaining)

    async def wait_for_delivery(
        self,
        token: str,
        predicate: Callable[[WebhookDelivery], bool] | None = None,
        *,
        count: int = 1,
        since: int = 0,
        timeout: float = DEFAULT_WAIT,  # noqa: ASYNC109 -- same shape as wait_for
    ) -> list[WebhookDelivery]:
        """Wait until ``count`` webhook delivery attempts (from the ``since``-th on) match
        ``predicate`` (default: answered 2xx); returns the matching ones."""
        bot = self._bot(token)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            matching = [
                d for d in bot.deliveries[since:] if (predicate(d) if predicate else d.delivered)
            ]
            if len(matching) >= count:
                return matching
            remaining = deadline - loop.time()
            if remaining <= 0 or (self._closing is not None and self._closing.is_set()):
                made = ", ".join(
                    f"{d.update_id}->{d.status or d.error}" for d in bot.deliveries[since:][-20:]
                )
                raise TimeoutError(
                    f"waited {timeout:g}s for {count} matching webhook deliveries; "
                    f"attempts since #{since}: {made or '(none)'}"
                )
            await bot.deliveries_signal.wait(remaining)

    def _caption_fields(self, caption: str | None) -> JSONDict:
        if not caption:
            return {}
        fields: JSONDict = {"caption": caption}
        entities = command_entities(caption)
        if entities:
            fields["caption_entities"] = entities
        return fields

    def _incoming(
        self,
        token: str,
        user: SimUser | int,
        fields: JSONDict,
        chat_id: int | None,
        date: dt.datetime | None,
        reply_to_message_id: int | None,
    ) -> JSONDict:
        """Build, store and queue a message a simulated user sends."""
        bot, sender = self._bot(token), self._user(user)
        if chat_id is None or chat_id == sender.id:
            chat = self._chats[sender.id]
        elif chat_id < 0:
            chat = self._chats.get(chat_id) or self.make_group(chat_id)
        else:
            raise ValueError(f"user {sender.id} cannot write in another user's private chat")
        message: JSONDict = {
            "message_id": bot.next_message_id(int(chat["id"])),
            "from": sender.to_dict(),
            "chat": chat,
            "date": _timestamp(date or self._clock()),
        }
        if reply_to_message_id is not None:
            target = bot.messages.get((int(chat["id"]), reply_to_message_id))
            if target is None:
                raise ValueError(f"no message {reply_to_message_id} to reply to")
            message["reply_to_message"] = {
                k: v for k, v in target.items() if k != "reply_to_message"
            }
        message.update(fields)
        bot.store_message(message)
        self._queue(bot, {"message": message})
        return copy.deepcopy(message)

    def _wait_report(
        self,
        bot: _BotState,
        what: int | Predicate,
        chat_id: int | None,
        since: int,
        timeout: float,
        records: list[OutgoingRecord],
    ) -> str:
        wanted = f"{what} record(s)" if isinstance(what, int) else "a record matching predicate"
        where = "any chat" if chat_id is None else f"chat {chat_id}"
        lines = [
            f"waited {timeout:g}s for {wanted} in {where} (seq >= {since}); "
            f"found {len(records)}. Everything the bot sent:"
        ]
        lines += [f"  {r.summary()}" for r in bot.outgoing] or ["  (nothing)"]
        failed = [c for c in bot.calls if c.status is not None and c.status != 200]
        if failed:
            lines.append("Failed API calls:")
            lines += [f"  {c.method} -> {c.status} {c.description}" for c in failed[-10:]]
        lines.append(f"Updates not yet fetched/confirmed by the bot: {len(bot.updates)}")
        return "\n".join(lines)
