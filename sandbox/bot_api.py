"""The Bot API as a bot sees it: the HTTP routes (``/bot<token>/<method>`` and file
downloads) and every method the sandbox implements (getUpdates, setWebhook, sendMessage,
editMessageText, sendDocument, sendPhoto, getFile, setMyCommands…), with Telegram's checks,
limits and error texts. Each call is recorded (``ApiCall``); what the bot sends is recorded
as an ``OutgoingRecord``. Before a method runs, the injected faults of `faults.py` apply.
"""

from __future__ import annotations

import asyncio
import copy
import functools
import mimetypes
import re
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from sandbox.faults import FaultInjection, _drop, _fault_error
from sandbox.models import ApiCall, JSONDict, OutgoingRecord, StoredFile, Upload
from sandbox.state import _BotState, _scope_key, _timestamp, _Webhook
from sandbox.text import FormatError, image_size, plain_text, utf16_len
from sandbox.webhooks import (
    _SECRET_TOKEN_RE,
    _WEBHOOK_CONNECTIONS,
    _WEBHOOK_MAX_CONNECTIONS,
    Webhooks,
)
from sandbox.wire import (
    _TOKEN_RE,
    ApiError,
    _bad,
    _error_response,
    _ok_response,
    _read_params,
    _Request,
)

_COMMAND_NAME_RE = re.compile(r"^[a-z0-9_]{1,32}$")
_MAX_TEXT = 4096  # Telegram's limits, in UTF-16 units after entity parsing
_MAX_CAPTION = 1024
_MAX_DOWNLOAD = 20 * 1024 * 1024  # getFile refuses bigger files for bots on the public API
_MAX_UPLOAD = 50 * 1024 * 1024
_CHAT_ACTIONS = frozenset(
    {
        "typing", "upload_photo", "record_video", "upload_video", "record_voice",
        "upload_voice", "upload_document", "choose_sticker", "find_location",
        "record_video_note", "upload_video_note",
    }
)  # fmt: skip
_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)


class BotApi(Webhooks, FaultInjection):
    """The Bot API methods and the HTTP handlers that route calls to them."""

    @functools.cached_property
    def _handlers(
        self,
    ) -> dict[str, tuple[str, Callable[[_BotState, _Request], Awaitable[Any]]]]:
        """The methods the sandbox answers, by lower-case name: (Telegram's spelling, handler)."""
        return {
            name.lower(): (name, handler)
            for name, handler in {
                "getMe": self._get_me,
                "logOut": self._true,
                "close": self._true,
                "getUpdates": self._get_updates,
                "setWebhook": self._set_webhook,
                "deleteWebhook": self._delete_webhook,
                "getWebhookInfo": self._get_webhook_info,
                "sendMessage": self._send_message,
                "editMessageText": self._edit_message_text,
                "editMessageCaption": self._edit_message_caption,
                "editMessageReplyMarkup": self._edit_message_reply_markup,
                "deleteMessage": self._delete_message,
                "sendDocument": self._send_document,
                "sendPhoto": self._send_photo,
                "getFile": self._get_file,
                "setMyCommands": self._set_my_commands,
                "getMyCommands": self._get_my_commands,
                "deleteMyCommands": self._delete_my_commands,
                "answerCallbackQuery": self._answer_callback_query,
                "sendChatAction": self._send_chat_action,
            }.items()
        }

    # --- HTTP -----------------------------------------------------------------------------

    async def _handle_method(self, request: web.Request) -> web.StreamResponse:
        token = request.match_info["token"]
        bot = self._bots.get(token)
        if bot is None:
            # Telegram: a well-formed but unknown token is 401; anything else is 404.
            if _TOKEN_RE.match(token):
                return _error_response(ApiError(401, "Unauthorized"))
            return _error_response(ApiError(404, "Not Found"))
        entry = self._handlers.get(request.match_info["method"].lower())
        method_name = entry[0] if entry else request.match_info["method"]
        call = ApiCall(
            seq=len(bot.calls),
            method=method_name,
            params={},
            files={},
            http_method=request.method,
            time=self._clock(),
        )
        bot.calls.append(call)
        try:
            return await self._answer(bot, entry, call, request)
        finally:
            bot.calls_signal.notify()

    async def _answer(
        self,
        bot: _BotState,
        entry: tuple[str, Callable[[_BotState, _Request], Awaitable[Any]]] | None,
        call: ApiCall,
        request: web.Request,
    ) -> web.StreamResponse:
        method_name = call.method
        try:
            if entry is None:
                raise ApiError(404, "Not Found")
            call.params, call.files = await _read_params(request)
            bot.calls_signal.notify()  # visible to wait_for_call while still in progress
            await self._hold(method_name, bot.token, call.params.get("chat_id"))
            await self._delay(method_name)
            if self._take_drop(method_name):
                call.status, call.description = 0, "connection dropped (injected)"
                return await _drop(request)
            fault = self._take_fault(method_name, bot.token)
            if fault is not None and not fault.after_execute:
                raise _fault_error(fault)
            result = await entry[1](bot, _Request(method_name, call.params, call.files))
            if fault is not None:
                raise _fault_error(fault)
        except ApiError as error:
            call.status, call.description = error.status, error.description
            return _error_response(error)
        call.status = 200
        return _ok_response(result)

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        bot = self._bots.get(request.match_info["token"])
        stored = bot.files_by_path.get(request.match_info["path"]) if bot else None
        if stored is None:
            return _error_response(ApiError(404, "Not Found"))
        return web.Response(
            body=stored.content,
            content_type=stored.mime_type or "application/octet-stream",
        )

    # --- Bot API methods ------------------------------------------------------------------

    async def _true(self, bot: _BotState, req: _Request) -> bool:
        return True

    async def _get_me(self, bot: _BotState, req: _Request) -> JSONDict:
        return bot.user

    async def _get_updates(self, bot: _BotState, req: _Request) -> list[JSONDict]:
        if bot.webhook is not None:
            raise _webhook_conflict()
        offset = req.int_("offset", 0) or 0
        limit = min(max(req.int_("limit", 100) or 100, 1), 100)
        timeout = req.get("timeout") or 0
        if not isinstance(timeout, int | float):
            raise _bad("invalid timeout specified")
        allowed = req.get("allowed_updates")
        if isinstance(allowed, list):
            # Recorded only (Telegram remembers it); the sandbox delivers every update type.
            bot.allowed_updates = [str(a) for a in allowed]
        bot.confirm(offset)
        # Like Telegram, a newer getUpdates ends an older one still waiting with 409.
        bot.poll_generation += 1
        generation = bot.poll_generation
        bot.update_signal.notify()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + min(float(timeout), 50.0)
        while not bot.updates:
            remaining = deadline - loop.time()
            if remaining <= 0 or self._closing is None or self._closing.is_set():
                break
            await bot.update_signal.wait(remaining)
            if bot.webhook is not None:  # set while this call waited
                raise _webhook_conflict()
            if bot.poll_generation != generation:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; "
                    "make sure that only one bot instance is running",
                )
        return bot.updates[:limit]

    async def _set_webhook(self, bot: _BotState, req: _Request) -> bool:
        url = req.str_("url") or ""
        if not url:  # an empty URL removes the webhook, as deleteWebhook does
            return await self._delete_webhook(bot, req)
        if not url.startswith("https://"):
            raise _bad("bad webhook: An HTTPS URL must be provided for webhook")
        secret = req.str_("secret_token")
        if secret is not None and not _SECRET_TOKEN_RE.match(secret):
            raise _bad("secret token contains unallowed characters")
        connections = req.int_("max_connections", _WEBHOOK_CONNECTIONS) or _WEBHOOK_CONNECTIONS
        if not 1 <= connections <= _WEBHOOK_MAX_CONNECTIONS:
            raise _bad("bad webhook: max_connections must be between 1 and 100")
        allowed = req.get("allowed_updates")
        if isinstance(allowed, list):
            bot.allowed_updates = [str(a) for a in allowed]  # recorded; every type is sent
        await self._stop_pushing(bot)
        if req.bool_("drop_pending_updates"):
            bot.updates.clear()
        bot.webhook = _Webhook(url, secret or None, connections)
        bot.webhook.pusher = asyncio.create_task(self._push_updates(bot, bot.webhook))
        bot.update_signal.notify()  # a long poll still waiting ends with 409
        return True

    async def _delete_webhook(self, bot: _BotState, req: _Request) -> bool:
        await self._stop_pushing(bot)
        if req.bool_("drop_pending_updates"):
            bot.updates.clear()
        return True

    async def _get_webhook_info(self, bot: _BotState, req: _Request) -> JSONDict:
        hook = bot.webhook
        info: JSONDict = {
            "url": hook.url if hook is not None else "",
            "has_custom_certificate": False,
            "pending_update_count": len(bot.updates),
        }
        if hook is not None:
            info["max_connections"] = hook.max_connections
            if hook.last_error_date is not None:
                info["last_error_date"] = hook.last_error_date
                info["last_error_message"] = hook.last_error_message
        if bot.allowed_updates is not None:
            info["allowed_updates"] = bot.allowed_updates
        return info

    async def _send_message(self, bot: _BotState, req: _Request) -> JSONDict:
        chat = self._chat_for_send(bot, req.require("chat_id"))
        text = req.get("text")
        if not isinstance(text, str) or not text.strip():
            raise _bad("message text is empty")
        parse_mode = req.str_("parse_mode")
        shown = self._render(text, parse_mode).strip()
        if not shown:
            raise _bad("message text is empty")
        if utf16_len(shown) > _MAX_TEXT:
            raise _bad("message is too long")
        fields: JSONDict = {"text": shown}
        if isinstance(req.get("entities"), list):
            fields["entities"] = req.get("entities")
        message = self._bot_message(bot, chat, req, fields)
        self._record(bot, req, message, text=text, parse_mode=parse_mode)
        return message

    async def _send_document(self, bot: _BotState, req: _Request) -> JSONDict:
        return await self._send_file(bot, req, "document")

    async def _send_photo(self, bot: _BotState, req: _Request) -> JSONDict:
        return await self._send_file(bot, req, "photo")

    async def _send_file(self, bot: _BotState, req: _Request, kind: str) -> JSONDict:
        chat = self._chat_for_send(bot, req.require("chat_id"))
        stored = self._input_file(bot, req, kind)
        caption = req.str_("caption")
        parse_mode = req.str_("parse_mode")
        fields: JSONDict = (
            {"document": stored.document_dict()}
            if kind == "document"
            else {"photo": stored.photo_sizes()}
        )
        if caption:
            shown = self._render(caption, parse_mode).strip()
            if utf16_len(shown) > _MAX_CAPTION:
                raise _bad("message caption is too long")
            if shown:
                fields["caption"] = shown
            if isinstance(req.get("caption_entities"), list):
                fields["caption_entities"] = req.get("caption_entities")
        message = self._bot_message(bot, chat, req, fields)
        self._record(
            bot,
            req,
            message,
            caption=caption,
            parse_mode=parse_mode,
            document=stored if kind == "document" else None,
            photo=stored if kind == "photo" else None,
        )
        return message

    async def _edit_message_text(self, bot: _BotState, req: _Request) -> JSONDict | bool:
        text = req.get("text")
        if not isinstance(text, str) or not text.strip():
            raise _bad("message text is empty")
        parse_mode = req.str_("parse_mode")
        shown = self._render(text, parse_mode).strip()
        if utf16_len(shown) > _MAX_TEXT:
            raise _bad("MESSAGE_TOO_LONG")
        changes: JSONDict = {"text": shown, "entities": req.get("entities")}
        return self._edit(bot, req, "text", changes, text=text, parse_mode=parse_mode)

    async def _edit_message_caption(self, bot: _BotState, req: _Request) -> JSONDict | bool:
        caption = req.str_("caption") or ""
        parse_mode = req.str_("parse_mode")
        shown = self._render(caption, parse_mode).strip()
        if utf16_len(shown) > _MAX_CAPTION:
            raise _bad("message caption is too long")
        changes: JSONDict = {
            "caption": shown or None,
            "caption_entities": req.get("caption_entities"),
        }
        return self._edit(bot, req, "caption", changes, caption=caption, parse_mode=parse_mode)

    async def _edit_message_reply_markup(self, bot: _BotState, req: _Request) -> JSONDict | bool:
        return self._edit(bot, req, None, {})

    def _edit(
        self,
        bot: _BotState,
        req: _Request,
        content: str | None,
        changes: JSONDict,
        **record: Any,
    ) -> JSONDict | bool:
        """Shared part of editMessage*: find the bot's message, refuse no-op edits, store."""
        if req.get("inline_message_id") is not None:
            # Inline messages live in chats the sandbox does not model; accept and log.
            self._record(bot, req, None, chat_id=0, message_id=None, **record)
            return True
        chat_id = self._chat_for_send(bot, req.require("chat_id"))["id"]
        message_id = req.int_("message_id")
        if message_id is None:
            raise _bad("message identifier is not specified")
        old = bot.messages.get((chat_id, message_id))
        if old is None:
            raise _bad("message to edit not found")
        if old.get("from", {}).get("id") != bot.id:
            raise _bad("message can't be edited")
        if content == "text" and "text" not in old:
            raise _bad("there is no text in the message to edit")
        if content == "caption" and "text" in old:
            raise _bad("there is no caption in the message to edit")
        new = dict(old)
        for key, value in changes.items():
            if value is None:
                new.pop(key, None)
            else:
                new[key] = value
        # Like Telegram, an edit without reply_markup removes the inline keyboard.
        markup = _inline_markup(req.get("reply_markup"))
        if markup is None:
            new.pop("reply_markup", None)
        else:
            new["reply_markup"] = markup
        if all(new.get(k) == old.get(k) for k in ("text", "caption", "reply_markup")):
            raise ApiError(400, _NOT_MODIFIED)
        new["edit_date"] = _timestamp(self._clock())
        bot.store_message(new)
        self._record(bot, req, new, **record)
        return new

    async def _delete_message(self, bot: _BotState, req: _Request) -> bool:
        chat_id = self._chat_for_send(bot, req.require("chat_id"))["id"]
        message_id = req.int_("message_id")
        if message_id is None or bot.messages.pop((chat_id, message_id), None) is None:
            raise _bad("message to delete not found")
        self._record(bot, req, None, chat_id=chat_id, message_id=message_id)
        return True

    async def _get_file(self, bot: _BotState, req: _Request) -> JSONDict:
        file_id = req.get("file_id")
        stored = bot.files.get(file_id) if isinstance(file_id, str) else None
        if stored is None:
            raise _bad("invalid file_id")
        if stored.size > _MAX_DOWNLOAD:
            raise _bad("file is too big")
        return stored.file_dict()

    async def _set_my_commands(self, bot: _BotState, req: _Request) -> bool:
        commands = req.get("commands")
        if not isinstance(commands, list):
            raise _bad("can't parse commands JSON object")
        if len(commands) > 100:
            raise _bad("BOT_COMMANDS_TOO_MUCH")
        cleaned: list[JSONDict] = []
        for item in commands:
            name = item.get("command") if isinstance(item, dict) else None
            if not isinstance(name, str) or not _COMMAND_NAME_RE.match(name):
                raise _bad("BOT_COMMAND_INVALID")
            description = item.get("description")
            if not isinstance(description, str) or not 1 <= len(description.strip()) <= 256:
                raise _bad("BOT_COMMAND_DESCRIPTION_INVALID")
            cleaned.append({"command": name, "description": description})
        key = self._commands_key(req)
        if cleaned:
            bot.commands[key] = cleaned
        else:
            bot.commands.pop(key, None)
        return True

    async def _get_my_commands(self, bot: _BotState, req: _Request) -> list[JSONDict]:
        return bot.commands.get(self._commands_key(req), [])

    async def _delete_my_commands(self, bot: _BotState, req: _Request) -> bool:
        bot.commands.pop(self._commands_key(req), None)
        return True

    def _commands_key(self, req: _Request) -> tuple[str, str]:
        scope = req.get("scope")
        if scope is not None and (not isinstance(scope, dict) or "type" not in scope):
            raise _bad("can't parse BotCommandScope JSON object")
        return _scope_key(scope), req.str_("language_code") or ""

    async def _answer_callback_query(self, bot: _BotState, req: _Request) -> bool:
        query_id = str(req.require("callback_query_id"))
        if bot.callback_queries.get(query_id, True):
            raise _bad("query is too old and response timeout expired or query ID is invalid")
        bot.callback_queries[query_id] = True
        return True

    async def _send_chat_action(self, bot: _BotState, req: _Request) -> bool:
        self._chat_for_send(bot, req.require("chat_id"))
        if req.get("action") not in _CHAT_ACTIONS:
            raise _bad("wrong parameter action in request")
        return True

    def _chat_for_send(self, bot: _BotState, chat_ref: Any) -> JSONDict:
        """The chat a bot call targets; Telegram's errors for unknown or blocked chats."""
        chat: JSONDict | None = None
        if isinstance(chat_ref, int) and not isinstance(chat_ref, bool):
            chat = self._chats.get(chat_ref)
        elif isinstance(chat_ref, str) and chat_ref.startswith("@"):
            name = chat_ref[1:].lower()
            chat = next(
                (c for c in self._chats.values() if str(c.get("username", "")).lower() == name),
                None,
            )
        if chat is None:
            raise _bad("chat not found")
        if chat["type"] == "private" and chat["id"] in bot.blocked_by:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        return chat

    def _render(self, text: str, parse_mode: str | None) -> str:
        if not self.validate_formatting:
            return text
        try:
            return plain_text(text, parse_mode)
        except FormatError as error:
            raise _bad(f"can't parse entities: {error}") from None

    def _bot_message(
        self, bot: _BotState, chat: JSONDict, req: _Request, fields: JSONDict
    ) -> JSONDict:
        """Build, number and store a Message the bot sends to ``chat``."""
        message: JSONDict = {
            "message_id": 0,
            "from": bot.user,
            "chat": chat,
            "date": _timestamp(self._clock()),
        }
        message.update(self._reply_fields(bot, int(chat["id"]), req))
        message.update(fields)
        markup = _inline_markup(req.get("reply_markup"))
        if markup is not None:  # Telegram only echoes inline keyboards in the Message
            message["reply_markup"] = markup
        message["message_id"] = bot.next_message_id(int(chat["id"]))
        bot.store_message(message)
        return message

    def _reply_fields(self, bot: _BotState, chat_id: int, req: _Request) -> JSONDict:
        params = req.get("reply_parameters")
        if params is None and req.get("reply_to_message_id") is not None:
            params = {"message_id": req.get("reply_to_message_id")}
        if params is None:
            return {}
        if not isinstance(params, dict) or not isinstance(params.get("message_id"), int):
            raise _bad("can't parse reply parameters JSON object")
        target_chat = params.get("chat_id", chat_id)
        target = bot.messages.get((target_chat, params["message_id"]))
        if target is not None:
            return {
                "reply_to_message": {k: v for k, v in target.items() if k != "reply_to_message"}
            }
        if params.get("allow_sending_without_reply") or req.bool_("allow_sending_without_reply"):
            return {}
        raise _bad("message to be replied not found")

    def _input_file(self, bot: _BotState, req: _Request, kind: str) -> StoredFile:
        """Resolve an InputFile parameter: a multipart part, attach://name, or a file_id."""
        value = req.get(kind)
        part: Upload | None
        if value is None:
            part = req.files.get(kind)
            if part is None:
                raise _bad(f"there is no {kind} in the request")
        elif isinstance(value, str) and value.startswith("attach://"):
            part = req.files.get(value.removeprefix("attach://"))
            if part is None:
                raise _bad(f"file {value} not found")
        elif isinstance(value, str):
            existing = bot.files.get(value)
            if existing is None:
                raise _bad("wrong file identifier/HTTP URL specified")
            if existing.kind != kind:
                raise _bad(f"can't use file of type {existing.kind.title()} as {kind.title()}")
            return existing
        else:
            raise _bad(f"wrong type of the {kind} parameter")
        if not part.content:
            raise _bad("file must be non-empty")
        if kind == "photo":
            size = image_size(part.content)
            if size is None:
                raise _bad("IMAGE_PROCESS_FAILED")
            return self._store_file(bot, "photo", part.content, None, "image/jpeg", size)
        mime = part.content_type
        if not mime or mime == "application/octet-stream":
            mime = mimetypes.guess_type(part.filename or "")[0] or mime
        return self._store_file(bot, "document", part.content, part.filename, mime)

    def _record(
        self,
        bot: _BotState,
        req: _Request,
        message: JSONDict | None,
        *,
        chat_id: int | None = None,
        message_id: int | None = None,
        **fields: Any,
    ) -> None:
        markup = req.get("reply_markup")
        reply = req.get("reply_parameters")
        record = OutgoingRecord(
            seq=len(bot.outgoing),
            method=req.method,
            chat_id=int(message["chat"]["id"]) if message else (chat_id or 0),
            message_id=int(message["message_id"]) if message else message_id,
            time=self._clock(),
            reply_markup=copy.deepcopy(markup) if isinstance(markup, dict) else None,
            reply_parameters=copy.deepcopy(reply) if isinstance(reply, dict) else None,
            params=copy.deepcopy(req.params),
            message=copy.deepcopy(message),
            **fields,
        )
        bot.outgoing.append(record)
        bot.outgoing_signal.notify()
        for listener in self._listeners:
            listener(bot.token, record)


def _webhook_conflict() -> ApiError:
    return ApiError(
        409,
        "Conflict: can't use getUpdates method while webhook is active; "
        "use deleteWebhook to delete the webhook first",
    )


def _inline_markup(markup: Any) -> JSONDict | None:
    if isinstance(markup, dict) and "inline_keyboard" in markup:
        return copy.deepcopy(markup)
    return None
