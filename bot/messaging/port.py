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
from collections.abc import AsyncIterable, Iterable, Iterator
from typing import Protocol, runtime_checkable

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


@runtime_checkable
class Metered(Protocol):
    """A channel whose platform counts its messages (a monthly quota): it may decline to
    start what the bot sends on its own initiative (`Outgoing.automatic`), so that replies
    keep going out."""

    def room_for_automatic(self) -> bool:
        """Whether automatic messages (summaries) may start now."""
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
        """The bot that reaches `to`: the one named; else, for an identity that belongs to
        one bot (`channel:<bot id>:<user id>`), that bot; else the first of its channel."""
        if via is not None:
            return self._channels.get(via)
        head, sep, _ = to.id.partition(":")
        if sep and f"{to.channel}:{head}" in self._channels:
            return self._channels[f"{to.channel}:{head}"]
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
        """Each message through the bot that reaches it. Automatic ones are not started on a
        metered bot short of room (asked once per bot per call: a summary goes out whole,
        or not at all)."""
        await self._send_each(messages, default, {})

    async def send_stream(self, batches: AsyncIterable[Iterable[Outgoing]]) -> int:
        """Each batch as `send_all` would send it, as soon as it comes (a push: each unit's
        summary to its chats, the moment it is rendered), holding none once sent. A metered
        bot is asked once for the whole stream whether automatic messages may start, as
        `send_all` asks once for a whole push. Returns how many batches came."""
        room: dict[str, bool] = {}
        count = 0
        async for batch in batches:
            await self._send_each(batch, None, room)
            count += 1
        return count

    async def _send_each(
        self, messages: Iterable[Outgoing], default: Channel | None, room: dict[str, bool]
    ) -> None:
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
            if message.automatic and isinstance(channel, Metered):
                if channel.name not in room:
                    room[channel.name] = channel.room_for_automatic()
                    if not room[channel.name]:
                        log.warning("%s: automatic summaries not started (quota)", channel.name)
                if not room[channel.name]:
                    continue
            await channel.send(message.to, message.content, automatic=message.automatic)


@runtime_checkable
class Relays(Protocol):
    """A channel that sends what its answers cause in other chats (reminders, notices, the
    admins' alerts) through the process's switchboard, which the wiring gives it."""

    switchboard: Switchboard
