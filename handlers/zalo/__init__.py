"""The Zalo channel (Zalo Bot Platform): everything Zalo, and nothing of it outside this folder.

`settings` holds `ZALO_*` (one token, or the bots file: one bot per commune, each serving its
subtree); `client` calls the Bot API on aiohttp and reads its envelope into typed errors;
`events` reads what Zalo posts; `webhook` takes it at `/zalo/{bot id}`; `render` writes the
core's marked text as plain text at Zalo's 2,000-unit limit; `identity` turns Zalo's string
ids into `zalo:<bot id>:<user id>` identities; `channel` is one bot on the channel port
(webhook or polling, the quota, the first-contact notice). `zalo_channels` is what the bot
process (`handlers/run.py`) builds them with.
"""

from __future__ import annotations

import asyncio

from bot.core import Core
from handlers.factory import ChannelFactory
from handlers.media import MediaLinks
from handlers.zalo.channel import PROBE_EVERY, ZaloChannel
from handlers.zalo.settings import ZaloSettings
from handlers.zalo.webhook import ZaloWebhook

__all__ = ["ZaloChannel", "ZaloSettings", "zalo_channels"]


def zalo_channels(
    zalo: ZaloSettings,
    *,
    poll_timeout: float = 10.0,
    retry_delay: float = 0.5,
    probe_every: float = PROBE_EVERY,
) -> ChannelFactory:
    """The factory `run_bot` calls with its core: one channel per bot, the bots in the core's
    directory, one webhook route for all of them; `media` (the process's, with
    FIELDTALLY_PUBLIC_URL) carries their charts and exports as links."""

    def build(core: Core, stop: asyncio.Event, *, media: MediaLinks | None) -> list[ZaloChannel]:
        zalo.fill(core.directory)
        webhook = ZaloWebhook()
        return [
            ZaloChannel(
                core,
                zalo,
                bot,
                stop,
                webhook=webhook,
                media=media,
                poll_timeout=poll_timeout,
                retry_delay=retry_delay,
                probe_every=probe_every,
            )
            for bot in zalo.bots
        ]

    return build
