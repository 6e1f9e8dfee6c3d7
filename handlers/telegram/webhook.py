"""Webhook mode: Telegram POSTs each update to us; we store it durably, then answer 200.

Mounted on the process's HTTP server (`handlers/http_server.py`) at the path of the public
URL. Only a request carrying the secret token given to setWebhook is believed (403 otherwise,
before anything is read or stored). An update is answered 200 only once it is in the inbox
and queued for handling, so an update Telegram has forgotten survives a crash (it is handled
at the next start), and one not yet answered is sent again by Telegram. While the bot is
saturated, queueing waits, and Telegram with it.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import re

from aiohttp import web
from telegram import Bot, Update

from bot.metrics import Metrics
from handlers.http_server import MAX_BODY_BYTES
from handlers.telegram.polling import UpdateFeed
from storage.faults import is_storage_fault

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_UPDATE_BYTES = MAX_BODY_BYTES  # an update is a few KB; Telegram sends nothing near this
MAX_JSON_DEPTH = 64  # a real update nests about 8 deep (reply_to_message adds a few)
BODY_TIMEOUT = 10.0  # seconds to receive a body once its headers have arrived

_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"')
_NOT_BRACKETS = re.compile(r"[^\[\]{}]+")


def json_depth(payload: str) -> int:
    """How deeply the JSON text nests arrays and objects (strings do not count)."""
    depth = deepest = 0
    for ch in _NOT_BRACKETS.sub("", _STRINGS.sub("", payload)):
        depth += 1 if ch in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


class WebhookReceiver:
    """The POST handler: check the secret, read the update, store and queue it."""

    def __init__(self, bot: Bot, feed: UpdateFeed, secret: str, metrics: Metrics) -> None:
        self._bot = bot
        self._feed = feed
        self._secret = secret.encode()
        self._metrics = metrics
        self._failed_store = False

    def _answer(self, answer: str, status: int) -> web.Response:
        self._metrics.webhook_requests.labels(answer).inc()
        return web.Response(status=status)

    async def receive(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode("utf-8", "surrogateescape")
        if not hmac.compare_digest(given, self._secret):
            log.warning("webhook: refused a request without the right secret token")
            return self._answer("forbidden", 403)
        received = await self._read(request)
        if received is None:
            return self._answer("bad_request", 400)
        outage = self._feed.outage
        try:
            await self._feed.accept([received])
        except Exception as error:
            # Not stored: Telegram sends it again after the error answer.
            if not is_storage_fault(error):
                log.exception("webhook: storing update %s failed", received[0].update_id)
            else:
                outage.failed(error)
                self._failed_store = True
            return self._answer("failed", 503)
        if self._failed_store:
            self._failed_store = False
            outage.recovered()
        return self._answer("accepted", 200)

    async def _read(self, request: web.Request) -> tuple[Update, str] | None:
        try:
            # A body sent slowly is given up on (Telegram sends its updates at once).
            payload = await asyncio.wait_for(request.text(), timeout=BODY_TIMEOUT)
        except (TimeoutError, UnicodeDecodeError, web.HTTPRequestEntityTooLarge):
            return None
        if json_depth(payload) > MAX_JSON_DEPTH:  # json.loads would recurse, and fail, on it
            log.warning("webhook: refused a body nested deeper than %d", MAX_JSON_DEPTH)
            return None
        try:
            data = json.loads(payload)
        except (ValueError, RecursionError):
            return None
        if not isinstance(data, dict):
            return None
        update_id = data.get("update_id")
        if not isinstance(update_id, int) or isinstance(update_id, bool):
            return None
        try:
            update = Update.de_json(data, self._bot)
        except Exception:  # fields of the wrong shape
            log.warning("webhook: update %s could not be read", update_id)
            return None
        return update, payload


def webhook_routes(
    bot: Bot, feed: UpdateFeed, metrics: Metrics, *, path: str, secret: str
) -> list[web.RouteDef]:
    """The routes to mount: Telegram's POST at `path` (that of FIELDTALLY_WEBHOOK_URL)."""
    return [web.post(path, WebhookReceiver(bot, feed, secret, metrics).receive)]
