"""What the bot process (`handlers/run.py`) asks of a channel's folder: a factory that builds
its channels once the core is open."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Protocol

from bot.core import Core
from bot.messaging.port import Channel
from handlers.media import MediaLinks


class ChannelFactory(Protocol):
    """Builds the channels of one platform for the opened core (a Zalo factory builds one
    channel per bot of its tokens file); each channel stores its events in
    `core.inbox_for(channel.name)`. `media`: where pictures and files are published as links
    (`handlers/media.py`), for a channel that sends them by URL; None without
    FIELDTALLY_PUBLIC_URL."""

    def __call__(
        self, core: Core, stop: asyncio.Event, *, media: MediaLinks | None
    ) -> Sequence[Channel]: ...
