"""A channel that lives in memory: tests talk to the real core through it, as people would on
any platform, and read what the bot sent as typed values.

It implements the channel port like every adapter (a name, capabilities, `send`), and plays
the people: `say` is a message typed by someone, `share_contact` a verified phone number,
`send_file` a document with a caption. Each returns the core's typed `Answer`; everything
sent (replies, group notices, reminders) is also kept per chat in `sent`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.channel import Address, Capabilities, Markup, PhotoDelivery
from bot.core import Core, Where
from bot.messaging.answers import Answer
from bot.messaging.commands import Attachment
from bot.messaging.content import Content, Text
from bot.messaging.conversation import Conversation
from bot.messaging.port import Switchboard
from bot.turnout.intake import InboundText

MEMORY = "memory"

CAPABILITIES = Capabilities(
    channel=MEMORY,
    text_limit=4096,
    markup=Markup.PLAIN,
    edits=True,
    contact_button=True,
    command_menu=False,
    photos=PhotoDelivery.UPLOAD,
    documents=True,
    groups=True,
    buttons=True,
    numeric_ids=True,
)


@dataclass
class _Sent:
    by_chat: dict[Address, list[Content]] = field(default_factory=lambda: defaultdict(list))

    def texts(self, chat: Address) -> list[str]:
        return [c.body for c in self.by_chat.get(chat, []) if isinstance(c, Text)]


class MemoryChannel:
    """The in-memory channel, bound to one core. `clock` gives each message's time."""

    def __init__(self, core: Core, clock: Callable[[], dt.datetime] | None = None) -> None:
        self.core = core
        self.conversation = Conversation(core)
        self.switchboard = Switchboard([self])
        self._clock = clock or core.now
        self._message_ids = itertools.count(1)
        self._sent = _Sent()

    @property
    def name(self) -> str:
        return f"{MEMORY}:bot"

    @property
    def capabilities(self) -> Capabilities:
        return CAPABILITIES

    async def open(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def run(self, stop: asyncio.Event, ready: asyncio.Event | None = None) -> None:
        if ready is not None:
            ready.set()
        await stop.wait()

    async def send(self, to: Address, content: Content, *, automatic: bool = False) -> bool:
        self._sent.by_chat[to].append(content)
        return True

    # -- what tests read -------------------------------------------------------------------

    def sent_to(self, chat: int) -> list[Content]:
        """Everything the bot sent to a chat (a person's private chat has the person's id)."""
        return list(self._sent.by_chat.get(address(chat), []))

    def texts_to(self, chat: int) -> list[str]:
        return self._sent.texts(address(chat))

    # -- what people do --------------------------------------------------------------------

    async def say(
        self,
        sender: int,
        text: str,
        *,
        group: int | None = None,
        group_title: str = "Nhóm",
        at: dt.datetime | None = None,
        edits: int | None = None,
        edited_at: dt.datetime | None = None,
        revision: int = 0,
    ) -> Answer:
        """`sender` types `text` in their private chat, or in `group`. `edits`: the message id
        this one edits (returned by `last_message_id` when it was sent)."""
        chat = group if group is not None else sender
        message_id = edits if edits is not None else next(self._message_ids)
        self.last_message_id = message_id
        sent_at = at or self._clock()
        message = InboundText(
            chat=address(chat),
            message_ref=str(message_id),
            sender=address(sender),
            text=text,
            sent_at=sent_at,
            edited_at=(edited_at or sent_at) if edits is not None else None,
            revision=revision if edits is not None else 0,
            bot=self.name,
        )
        title = group_title if group is not None else ""
        where = Where(address(sender), address(chat), self.name, group is not None, title)
        answer = await self.conversation.handle(message, where, CAPABILITIES)
        await self.switchboard.deliver(self, address(chat), answer)
        return answer

    async def share_contact(
        self, sender: int, phone: str, name: str = "Tổ trưởng", *, owner: int | None = None
    ) -> Answer:
        """`sender` shares a verified phone number (their own unless `owner` says whose)."""
        answer = await self.core.register(
            sender=address(sender),
            chat=address(sender),
            contact_owner=address(sender if owner is None else owner),
            phone=phone,
            name=name,
        )
        await self.switchboard.deliver(self, address(sender), answer)
        return answer

    async def send_file(
        self, sender: int, filename: str, data: bytes, caption: str = "/nhap"
    ) -> Answer:
        """`sender` sends a document with a caption (a units list with `/nhap`)."""

        async def fetch() -> bytes:
            return data

        message = InboundText(
            chat=address(sender),
            message_ref=str(next(self._message_ids)),
            sender=address(sender),
            text=caption,
            sent_at=self._clock(),
            bot=self.name,
        )
        where = Where(address(sender), address(sender), self.name)
        attachment = Attachment(filename, len(data), fetch)
        answer = await self.conversation.handle(message, where, CAPABILITIES, attachment)
        await self.switchboard.deliver(self, address(sender), answer)
        return answer


def address(number: int) -> Address:
    """A person or a chat of the in-memory channel, by number (a group's is negative)."""
    return Address(MEMORY, str(number))
