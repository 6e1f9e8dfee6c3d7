"""The live dashboard's routes, mounted on the process's one HTTP server (DASHBOARD.md).

- `GET /d/{token}`: the page, server-rendered with the current numbers;
- `GET /d/{token}/data`: the snapshot as JSON (`bot.monitoring.dashboard` documents it);
- `GET /d/{token}/events`: server-sent events: `snapshot` at once and after every change,
  a heartbeat comment at least every `heartbeat` seconds, `revoked` (then the end) once the
  link is revoked or expired;
- `GET /static/{path}`: the page's own files (`handlers/dashboard/assets.py`).

A wrong, expired or revoked token gets 404 with a body that names no unit. Every response of
these paths (aiohttp's own 404 and 405 included) carries the contract's security headers and
never a cookie: `security_headers` runs for every response before its headers go out.
"""

from __future__ import annotations

import asyncio
import contextlib

from aiohttp import web

from bot.core import Core
from bot.model import DashboardLink
from bot.monitoring.dashboard import DashboardSnapshots
from bot.monitoring.dashboard_links import find_link
from bot.monitoring.geo import GeoIndex, official_geo_index
from handlers.dashboard.assets import Assets
from handlers.dashboard.live import HEARTBEAT, RETRY_MS, REVOKED_EVENT, LiveHub
from handlers.dashboard.page import render_not_found
from handlers.dashboard.template import render_page
from handlers.http_server import HttpServer

HEARTBEAT_SECONDS = 15.0  # the contract: something at least every 15 s
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; object-src 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
DASHBOARD_PATHS = ("/d/", "/static/")


def is_dashboard_path(path: str) -> bool:
    return path == "/d" or path.startswith(DASHBOARD_PATHS)


async def security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """The contract's headers on every dashboard response, and no cookie, ever."""
    if not is_dashboard_path(request.path):
        return
    response.headers.update(SECURITY_HEADERS)
    response.headers.popall("Set-Cookie", None)
    if response.status >= 400:
        response.headers["Cache-Control"] = "no-store"


class Dashboard:
    """The dashboard of one bot process: shared snapshots, the live hub, the routes."""

    def __init__(
        self,
        core: Core,
        *,
        heartbeat: float = HEARTBEAT_SECONDS,
        poll: float = 5.0,
        settle: float = 1.0,
        max_age: float = 60.0,
        geo: GeoIndex | None = None,
        assets: Assets | None = None,
    ) -> None:
        self._core = core
        self._heartbeat = heartbeat
        # Where other processes write too, a page read without an open stream (the polling
        # fallback) must not be served a snapshot older than the hub's poll.
        self.snapshots = DashboardSnapshots(
            core.db,
            core.now,
            official_geo_index() if geo is None else geo,
            max_age=min(max_age, poll) if core.db.shared else max_age,
        )
        self.hub = LiveHub(
            core.db, self.snapshots, lambda: core.now().timestamp(), poll=poll, settle=settle
        )
        self.assets = Assets() if assets is None else assets

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/d/{token}", self.page),
            web.get("/d/{token}/data", self.data),
            web.get("/d/{token}/events", self.events),
            web.get("/static/{path:.+}", self.assets.serve),
        ]

    def mount(self, server: HttpServer) -> None:
        server.mount("dashboard", self.routes(), on_prepare=security_headers)

    async def close(self) -> None:
        """End the open event streams (before the HTTP server stops), stop listening."""
        await self.hub.close()
        self.snapshots.close()

    async def _link(self, request: web.Request) -> DashboardLink | None:
        return await find_link(
            self._core.db, request.match_info["token"], self._core.now().timestamp()
        )

    @staticmethod
    def _not_found() -> web.Response:
        return web.Response(status=404, text=render_not_found(), content_type="text/html")

    async def page(self, request: web.Request) -> web.Response:
        link = await self._link(request)
        unit = None if link is None else self._core.db.units.get(link.unit_code)
        if unit is None:
            return self._not_found()
        payload = self.hub.payload(await self.snapshots.get(unit))
        base = f"/d/{request.match_info['token']}"
        html = render_page(payload.document, self.assets, f"{base}/events", f"{base}/data")
        return web.Response(
            text=html, content_type="text/html", headers={"Cache-Control": "no-store"}
        )

    async def data(self, request: web.Request) -> web.Response:
        link = await self._link(request)
        unit = None if link is None else self._core.db.units.get(link.unit_code)
        if unit is None:
            return self._not_found()
        payload = self.hub.payload(await self.snapshots.get(unit))
        return web.Response(
            body=payload.json,
            content_type="application/json",
            charset="utf-8",
            headers={"Cache-Control": "no-store"},
        )

    async def events(self, request: web.Request) -> web.StreamResponse:
        link = await self._link(request)
        unit = None if link is None else self._core.db.units.get(link.unit_code)
        if link is None or unit is None:
            return self._not_found()
        payload = self.hub.payload(await self.snapshots.get(unit))
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream; charset=utf-8",
                "Cache-Control": "no-store",
                "X-Accel-Buffering": "no",  # nginx in front: pass each event at once
            }
        )
        await response.prepare(request)
        stream = self.hub.subscribe(unit.code, link.token_hash, payload.version)
        try:
            await response.write(b"retry: %d\n\n" % RETRY_MS + payload.event)
            while True:
                try:
                    message = await asyncio.wait_for(stream.queue.get(), self._heartbeat)
                except TimeoutError:
                    await response.write(HEARTBEAT)
                    continue
                if not message:  # the server is stopping
                    break
                await response.write(message)
                if message is REVOKED_EVENT:
                    break
        except (ConnectionResetError, ConnectionError):
            pass  # the viewer went away
        finally:
            self.hub.unsubscribe(stream)
        with contextlib.suppress(ConnectionError):
            await response.write_eof()
        return response
