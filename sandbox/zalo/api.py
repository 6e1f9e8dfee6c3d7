"""The Zalo Bot API as a bot sees it: ``POST /bot{token}/{method}`` with a JSON body, and the
methods the sandbox answers (getMe, getUpdates, setWebhook, deleteWebhook, getWebhookInfo,
sendMessage, sendPhoto, sendChatAction) with the platform's checks: the token, the 2,000
UTF-16 unit text limit, the monthly quota, a photo URL fetched at once. Each call is recorded
(``ApiCall``); before a method runs, the faults of `faults.py` apply.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

from sandbox.zalo.faults import fault_error
from sandbox.zalo.models import ApiCall, ChatAction, JSONDict, PhotoFetch, SentMessage, SentPhoto
from sandbox.zalo.state import _Hook, _is_loopback, _ZaloBot
from sandbox.zalo.webhooks import ZaloWebhooks
from sandbox.zalo.wire import (
    CHAT_ACTIONS,
    TOKEN_RE,
    ApiError,
    GetUpdatesParams,
    SendChatActionParams,
    SendMessageParams,
    SendPhotoParams,
    SetWebhookParams,
    bad_request,
    check_text,
    error_response,
    ok_response,
    parse_params,
    read_params,
)

Method = Callable[[_ZaloBot, JSONDict], Awaitable[Any]]
_MAX_PHOTO = 10 * 1024 * 1024  # bytes the sandbox reads from a photo URL before refusing it
_PHOTO_FETCH_TIMEOUT = 30.0


class ZaloApi(ZaloWebhooks):
    """The API methods and the HTTP handler that routes calls to them."""

    def _methods(self) -> dict[str, tuple[str, Method]]:
        """The methods by lower-case name: (the platform's spelling, handler)."""
        table: dict[str, Method] = {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "sendMessage": self._send_message,
            "sendPhoto": self._send_photo,
            "sendChatAction": self._send_chat_action,
        }
        return {name.lower(): (name, handler) for name, handler in table.items()}

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        token = request.match_info["token"]
        entry = self._methods().get(request.match_info["method"].lower())
        name = entry[0] if entry else request.match_info["method"]
        bot = self._bots.get(token)
        call = ApiCall(
            seq=len(self._calls),
            bot_id=bot.bot_id if bot else None,
            method=name,
            params={},
            time=self._clock(),
        )
        self._calls.append(call)
        self._calls_signal.notify()
        try:
            result = await self._answer(request, bot, entry, call)
        except ApiError as error:
            call.http_status, call.ok = error.http_status, False
            call.error_code, call.description = error.error_code, error.description
            return error_response(error)
        except _Dropped:
            if request.transport is not None:
                request.transport.abort()
            call.http_status, call.ok, call.description = 0, False, "connection dropped"
            return web.Response(status=500)  # never written: the transport is gone
        finally:
            self._calls_signal.notify()
        call.http_status, call.ok = 200, True
        return ok_response(result)

    async def _answer(
        self,
        request: web.Request,
        bot: _ZaloBot | None,
        entry: tuple[str, Method] | None,
        call: ApiCall,
    ) -> Any:
        call.params = await read_params(request)
        bot_id = bot.bot_id if bot else None
        if self._outage:
            raise ApiError(503, "Service Unavailable", 503)
        if self._take_drop(call.method):
            raise _Dropped
        await self._apply_holds(call.method, bot_id)
        if self._closed():
            raise ApiError(503, "Service Unavailable: the sandbox is stopping", 503)
        fault = self._take_fault(call.method, bot_id)
        if fault is not None and not fault.after_execute:
            raise fault_error(fault)
        if bot is None:
            if TOKEN_RE.match(request.match_info["token"]):
                raise ApiError(401, "Unauthorized")
            raise ApiError(404, "Not Found")
        if entry is None:
            raise ApiError(404, f"Not Found: method {call.method}")
        result = await entry[1](bot, call.params)
        if fault is not None:
            raise fault_error(fault)
        return result

    # --- methods --------------------------------------------------------------------------

    async def _get_me(self, bot: _ZaloBot, params: JSONDict) -> Any:
        return bot.profile()

    async def _get_updates(self, bot: _ZaloBot, params: JSONDict) -> Any:
        """One event, or error 408 once ``timeout`` seconds passed without any."""
        timeout = parse_params(GetUpdatesParams, params).timeout
        if bot.webhook is not None:
            raise ApiError(409, "Conflict: a webhook is set; call deleteWebhook to poll")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        bot.pollers += 1
        try:
            while True:
                if bot.pending:
                    event = bot.pending.popleft()
                    bot.take(event)
                    return event.update
                remaining = deadline - loop.time()
                if remaining <= 0 or self._closed():
                    raise ApiError(408, "Request timeout: no update")
                await bot.event_signal.wait(remaining)
        finally:
            bot.pollers -= 1

    async def _set_webhook(self, bot: _ZaloBot, params: JSONDict) -> Any:
        given = parse_params(SetWebhookParams, params)
        if not _webhook_url_allowed(given.url):
            raise bad_request("url must be an https:// URL")
        updated_at = self._now_ms()
        bot.webhook = _Hook(given.url, given.secret_token, updated_at)
        bot.webhook_updated_at = updated_at
        # What waited for a poller now goes to the webhook.
        while bot.pending:
            self._schedule_delivery(bot, bot.pending.popleft())
        return {"url": given.url, "updated_at": updated_at}

    async def _delete_webhook(self, bot: _ZaloBot, params: JSONDict) -> Any:
        bot.webhook = None
        bot.webhook_updated_at = self._now_ms()
        return {"url": "", "updated_at": bot.webhook_updated_at}

    async def _get_webhook_info(self, bot: _ZaloBot, params: JSONDict) -> Any:
        url = bot.webhook.url if bot.webhook else ""
        return {"url": url, "updated_at": bot.webhook_updated_at}

    async def _send_message(self, bot: _ZaloBot, params: JSONDict) -> Any:
        given = parse_params(SendMessageParams, params)
        self._check_chat(bot, given.chat_id)
        check_text(given.text)
        self._check_quota(bot)
        record = SentMessage(
            seq=self._next_out(bot),
            bot_id=bot.bot_id,
            chat_id=given.chat_id,
            message_id=bot.next_message_id(),
            text=given.text,
            date=self._clock(),
        )
        bot.sent.append(record)
        self._after_send(bot, record)
        return {"message_id": record.message_id, "date": self._now_ms()}

    async def _send_photo(self, bot: _ZaloBot, params: JSONDict) -> Any:
        """The platform fetches the photo's URL when it is sent: so does the sandbox."""
        given = parse_params(SendPhotoParams, params)
        self._check_chat(bot, given.chat_id)
        if given.caption is not None:
            check_text(given.caption, "caption", empty_ok=True)
        self._check_quota(bot)
        fetch, content = await self._fetch_photo(bot, given.photo)
        bot.fetches.append(fetch)
        if fetch.error is not None:
            raise bad_request(f"cannot get the photo: {fetch.error}")
        record = SentPhoto(
            seq=self._next_out(bot),
            bot_id=bot.bot_id,
            chat_id=given.chat_id,
            message_id=bot.next_message_id(),
            url=given.photo,
            caption=given.caption,
            content=content,
            content_type=fetch.content_type,
            date=self._clock(),
        )
        bot.photos.append(record)
        self._after_send(bot, record)
        return {"message_id": record.message_id, "date": self._now_ms()}

    async def _send_chat_action(self, bot: _ZaloBot, params: JSONDict) -> Any:
        given = parse_params(SendChatActionParams, params)
        self._check_chat(bot, given.chat_id)
        if given.action not in CHAT_ACTIONS:
            raise bad_request(f"action must be one of {', '.join(sorted(CHAT_ACTIONS))}")
        bot.actions.append(ChatAction(bot.bot_id, given.chat_id, given.action, self._clock()))
        return True

    # --- helpers --------------------------------------------------------------------------

    def _check_chat(self, bot: _ZaloBot, chat_id: str) -> None:
        if not bot.chat_known(chat_id):
            raise bad_request("chat not found")

    def _check_quota(self, bot: _ZaloBot) -> None:
        if bot.used >= bot.quota:
            raise ApiError(429, "Too Many Requests: the monthly message quota is used up", 429)

    def _next_out(self, bot: _ZaloBot) -> int:
        bot.out_seq += 1
        return bot.out_seq - 1

    def _after_send(self, bot: _ZaloBot, record: SentMessage | SentPhoto) -> None:
        bot.used += 1
        bot.sent_signal.notify()
        for listener in self._listeners:
            listener(bot.bot_id, record)

    async def _fetch_photo(self, bot: _ZaloBot, url: str) -> tuple[PhotoFetch, bytes]:
        """GET the photo as the platform would; a failure is a PhotoFetch with its error."""

        def outcome(
            status: int | None, content_type: str | None, content: bytes, error: str | None
        ) -> tuple[PhotoFetch, bytes]:
            fetch = PhotoFetch(
                bot.bot_id, url, status, content_type, len(content), error, self._clock()
            )
            return fetch, content

        target = self._target(url)
        if target is None:
            return outcome(None, None, b"", "cannot connect (not loopback, no route)")
        if self._http is None:
            return outcome(None, None, b"", "the sandbox is stopped")
        try:
            async with self._http.get(
                target, timeout=aiohttp.ClientTimeout(total=_PHOTO_FETCH_TIMEOUT)
            ) as answer:
                content = await answer.content.read(_MAX_PHOTO + 1)
                content_type = answer.content_type
                if answer.status != 200:
                    return outcome(answer.status, content_type, b"", f"HTTP {answer.status}")
                if len(content) > _MAX_PHOTO:
                    return outcome(answer.status, content_type, b"", "the photo is too big")
                if not content_type.startswith("image/"):
                    return outcome(
                        answer.status, content_type, b"", f"not an image: {content_type}"
                    )
                return outcome(answer.status, content_type, content, None)
        except TimeoutError:
            return outcome(None, None, b"", "timed out")
        except aiohttp.ClientError as error:
            return outcome(None, None, b"", f"connection failed: {type(error).__name__}")


class _Dropped(Exception):
    """The call's connection is to be closed without an answer."""


def _webhook_url_allowed(url: str) -> bool:
    """Zalo takes only https webhooks; the sandbox also takes http on loopback (tests)."""
    parts = urlsplit(url)
    if parts.scheme == "https":
        return bool(parts.hostname)
    return parts.scheme == "http" and _is_loopback(parts.hostname)
