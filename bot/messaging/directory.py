"""Which bot serves which part of the unit tree, and the link that opens a chat with it.

A deployment may run several bots of one channel (Zalo's Basic plan allows 50 users per bot,
so a district runs one Zalo bot per commune). Each bot serves the subtree of one unit; a bot
with no unit serves everything. Invitations carry the link of the bot that serves their
unit, and a report sent to a bot about an area outside its subtree is refused with the right
bot's link. A channel with a single bot, or a bot missing from the directory, serves
everything.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from bot.channel import Address
from storage.tree import UnitIndex


@dataclass(frozen=True, slots=True)
class BotEntry:
    bot: str  # the bot's name, `channel:id` (see `Channel.name`)
    channel: str  # the channel it belongs to (`zalo`)
    unit_code: str | None  # the subtree it serves; None: the whole tree
    link: str  # what opens a chat with it (`https://zalo.me/<bot id>`)


class BotDirectory:
    """The bots of every channel, each with the subtree it serves."""

    def __init__(self, entries: Iterable[BotEntry] = ()) -> None:
        self._entries = list(entries)
        self._by_bot = {entry.bot: entry for entry in self._entries}

    def __iter__(self) -> Iterator[BotEntry]:
        return iter(list(self._entries))

    def __len__(self) -> int:
        return len(self._entries)

    def add(self, entry: BotEntry) -> None:
        self._entries.append(entry)
        self._by_bot[entry.bot] = entry

    def entry(self, bot: str) -> BotEntry | None:
        return self._by_bot.get(bot)

    def on(self, channel: str) -> list[BotEntry]:
        return [entry for entry in self._entries if entry.channel == channel]

    def serving(self, units: UnitIndex, unit_code: str, channel: str) -> BotEntry | None:
        """The bot of `channel` that serves `unit_code`: the one whose unit is the nearest
        ancestor (or the unit itself), else one that serves the whole tree, else None."""
        entries = self.on(channel)
        by_unit = {e.unit_code.lower(): e for e in entries if e.unit_code is not None}
        for code in [unit_code, *units.ancestor_codes(unit_code)]:  # the nearest first
            if code.lower() in by_unit:
                return by_unit[code.lower()]
        return next((entry for entry in entries if entry.unit_code is None), None)

    def serves(self, bot: str, units: UnitIndex, unit_code: str) -> bool:
        """Whether `bot` may take messages about `unit_code`: a bot outside the directory
        or serving the whole tree serves everything; else the unit must be in its subtree."""
        entry = self._by_bot.get(bot)
        if entry is None or entry.unit_code is None:
            return True
        return units.is_within(unit_code, entry.unit_code)

    def bot_for(self, identity: Address) -> BotEntry | None:
        """The bot an identity belongs to, for channels whose ids are per bot
        (`zalo:<bot id>:<user id>` belongs to `zalo:<bot id>`)."""
        head, sep, _ = identity.id.partition(":")
        return self._by_bot.get(f"{identity.channel}:{head}") if sep else None
