"""The channel port: what every channel adapter implements, and how answers reach people.

An adapter (in `handlers/`) receives its platform's events, stores each in the durable inbox
(keyed by its bot's name and the platform's own event id) before acknowledging it, turns it
into the core's plain values, and sends what the core answers with `send`, retrying passing
failures itself. It declares what it can do in `capabilities`. The `Switchboard` delivers an
answer: the replies to the chat the message came from, the other messages through the bot
each names (or any bot of the addressee's channel).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Iterator
from typing import Protocol

from bot.channel import Address, Capabilities
from bot.messaging.answers import Answer
from bot.messaging.content import Content, Outgoing

log = logging.getLogger(__name__)


class Channel(Protocol):
    """One bot of one platform, as the core sees it."""

    @property
    def name(self) -> str:
        """The bot's own identity, `channel:id` (one name wherever the bot is meant)."""
        ...

    @property
    def capabilities(self) -> Capabilities: ...

    async def open(self) -> None:
        """Get ready to send and to receive (log in, menus, what a crash left to handle)."""
        ...

    async def run(self, stop: asyncio.Event, ready: asyncio.Event | None = None) -> None:
        """Receive and handle messages until `stop` is set: each event is stored in the
        inbox before the platform is told it arrived, so none is lost to a crash."""
        ...

    async def send(self, to: Address, content: Content, *, automatic: bool = False) -> bool:
        """Send one message, retrying passing failures; False once it gave up (logged).
        `automatic`: a scheduled message (a summary), not an answer: a channel that must
        spare a quota may skip it (False, logged)."""
        ...

    async def close(self) -> None:
        """Finish what is queued, then stop."""
        ...


class Switchboard:
    """The channels of one process, by bot name and by channel."""

    def __init__(self, channels: Iterable[Channel] = ()) -> None:
        self._channels: dict[str, Channel] = {}
        for channel in channels:
            self.add(channel)

    def add(self, channel: Channel) -> None:
        self._channels[channel.name] = channel

    def __iter__(self) -> Iterator[Channel]:
        return iter(list(self._channels.values()))

    def for_message(self, to: Address, via: str | None) -> Channel | None:
        """The bot that reaches `to`: the one named, else the first of the address's channel."""
        if via is not None:
            return self._channels.get(via)
        same = (c for c in self._channels.values() if c.capabilities.channel == to.channel)
        return next(same, None)

    async def deliver(self, channel: Channel, chat: Address, answer: Answer) -> None:
        """The replies, in order, to the chat they answer; then the messages to other chats.
        A channel whose messages are tiny gets each reply's brief form, where it has one."""
        brief = channel.capabilities.brief_replies
        for reply in answer.replies:
            content = reply.brief if brief and reply.brief is not None else reply.content
            await channel.send(chat, content)
        await self.send_all(answer.sends, default=channel)

    async def send_all(self, messages: Iterable[Outgoing], default: Channel | None = None) -> None:
        for message in messages:
            channel = self.for_message(message.to, message.via)
            reaches = default is not None and default.capabilities.channel == message.to.channel
            if channel is None and reaches:
                channel = default
            if channel is None:
                log.warning(
                    "no channel reaches %s (via %s): message dropped", message.to.channel,
                    message.via,
                )  # fmt: skip
                continue
            await channel.send(message.to, message.content, automatic=message.automatic)
