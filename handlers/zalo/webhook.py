"""Zalo's webhook: `POST /zalo/{bot id}` on the process's HTTP server, for every Zalo bot.

A request for a bot this process does not run is answered 404; one without the bot's secret
(`X-Bot-Api-Secret-Token`, compared in constant time) 403, before the body is read and with
nothing stored; a body that is not JSON, or not an event (wrapped in the API's envelope or
bare), 400. An event is answered 200 only once it is in the bot's inbox, so one Zalo has
forgotten survives a crash; a duplicate (the same event name and message id within 7 days)
is answered 200 and changes nothing. A storage fault is answered 503: Zalo sends it again.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from handlers.http_server import HttpServer
from handlers.zalo.events import Event, read_events
from storage.faults import is_storage_fault

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Bot-Api-Secret-Token"
PATH = "/zalo/{bot_id}"
BODY_TIMEOUT = 10.0  # seconds to receive a body once its headers have arrived
MAX_EVENT_BYTES = 64 * 1024  # an event is well under a few KB
MAX_JSON_DEPTH = 32

Accept = Callable[[list[tuple[Event, str]]], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class _Bot:
    secret: bytes
    accept: Accept  # stores (event, payload) pairs durably, then queues them


def _depth(payload: str) -> int:
    """How deeply the JSON text nests (strings ignored roughly: brackets inside strings
    only make a body look deeper, never shallower, than it is)."""
    depth = deepest = 0
    for ch in payload:
        if ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


class ZaloWebhook:
    """The one route every Zalo bot of the process is reached at."""

    def __init__(self) -> None:
        self._bots: dict[str, _Bot] = {}
        self._servers: list[HttpServer] = []

    def add(self, bot_id: str, secret: str, accept: Accept) -> None:
        self._bots[bot_id] = _Bot(secret.encode(), accept)

    def routes(self) -> list[web.RouteDef]:
        return [web.post(PATH, self.receive)]

    def mount_on(self, server: HttpServer) -> None:
        """The route on `server`, once however many bots share it."""
        if not any(mounted is server for mounted in self._servers):
            server.mount("zalo webhook", self.routes())
            self._servers.append(server)

    async def receive(self, request: web.Request) -> web.Response:
        bot = self._bots.get(request.match_info.get("bot_id", ""))
        if bot is None:
            return web.Response(status=404)
        given = request.headers.get(SECRET_HEADER, "").encode("utf-8", "surrogateescape")
        if not hmac.compare_digest(given, bot.secret):
            log.warning("zalo webhook: refused a request without the right secret token")
            return web.Response(status=403)
        if request.content_length is not None and request.content_length > MAX_EVENT_BYTES:
            return web.Response(status=400)
        try:
            raw = await asyncio.wait_for(request.read(), timeout=BODY_TIMEOUT)
            payload = raw.decode("utf-8")
        except (TimeoutError, UnicodeDecodeError, web.HTTPRequestEntityTooLarge):
            return web.Response(status=400)
        if len(raw) > MAX_EVENT_BYTES or _depth(payload) > MAX_JSON_DEPTH:
            return web.Response(status=400)
        try:
            data = json.loads(payload)
        except (ValueError, RecursionError):
            return web.Response(status=400)
        events = read_events(data)
        if events is None:
            return web.Response(status=400)
        try:
            # Each event is stored as sent bare, whatever the form it came in.
            await bot.accept([(e, e.model_dump_json(by_alias=True)) for e in events])
        except Exception as error:
            if not is_storage_fault(error):
                log.exception("zalo webhook: storing an event failed")
            return web.Response(status=503)  # not stored: Zalo sends it again
        return web.Response(status=200, content_type="application/json", text='{"ok":true}')
