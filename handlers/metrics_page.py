"""`GET /metrics` in Prometheus' text format, mounted on the HTTP server (FIELDTALLY_METRICS)."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from bot.core import Core

log = logging.getLogger(__name__)

HEALTH_TIMEOUT = 2.0  # seconds for the inbox count read at each scrape


class MetricsPage:
    def __init__(self, core: Core) -> None:
        self._core = core

    async def render(self, request: web.Request) -> web.Response:
        metrics = self._core.metrics
        try:
            # Read at each scrape (every 15-60 s): one count, nothing on the update path.
            # Bounded: a stuck database (a pool exhausted by a lock) must not hang the scrape.
            health = await asyncio.wait_for(self._core.health(), timeout=HEALTH_TIMEOUT)
        except Exception as error:
            log.warning("metrics: the database could not be read (%s)", error)
            metrics.database_up.set(0)
        else:
            metrics.database_up.set(1)
            metrics.inbox_pending.set(health.pending_events)
        return web.Response(
            body=metrics.exposition(), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )


def metrics_routes(core: Core) -> list[web.RouteDef]:
    """The routes to mount: `GET /metrics`."""
    return [web.get("/metrics", MetricsPage(core).render)]
