"""One incoming message from any channel, handled by the same rules everywhere.

The flood guard first, then: a slash command is looked up in the command table (in a group,
only commands that work there, and unknown ones are ignored as other bots' commands); in a
private chat, a command typed as words (`dk CODE`) is run as its slash command; a counting
record of results night, its confirmation or a photo of it is results night's
(`Core.results_message`), and any other message drops the sender's record awaiting
confirmation; any other text in a private chat is a report. A channel whose platform routes
commands itself uses the same pieces: `admit`, the command table, `not_text`.
"""

from __future__ import annotations

from collections.abc import Mapping

from bot import texts
from bot.channel import Address, Capabilities
from bot.core import Core, Where
from bot.messaging.answers import Answer, Refusal, Reply, refused
from bot.messaging.commands import (
    Attachment,
    Request,
    find,
    parse_command,
    parse_text_command,
)
from bot.messaging.flood import Admission
from bot.messaging.text_safety import without_invisible
from bot.turnout.intake import InboundText

NOTHING = Answer(())  # nothing to say: ignored, or already answered


class Conversation:
    def __init__(self, core: Core) -> None:
        self.core = core

    def admit(self, sender: Address, text: str) -> Answer | None:
        """None: handle the message; else the answer instead (once a polite refusal to a
        sender who floods, then nothing)."""
        match self.core.admit(sender, text):
            case Admission.ADMIT:
                return None
            case Admission.REFUSE:
                return refused(Refusal.SLOW_DOWN, texts.SLOW_DOWN)
            case _:
                return NOTHING

    async def handle(
        self,
        message: InboundText,
        where: Where,
        capabilities: Capabilities,
        attachment: Attachment | None = None,
        known_names: Mapping[Address, str] | None = None,
    ) -> Answer:
        """The answer to a text (a file's caption counts as its text)."""
        instead = self.admit(where.sender, message.text)
        if instead is not None:
            return instead
        parsed = parse_command(message.text)
        if parsed is None and not where.in_group:
            parsed = parse_text_command(message.text)  # `dk CODE`: before any report
        dropped: Reply | None = None
        if not where.in_group:  # results night first: a counting record, `đúng`, a photo
            routed = await self.core.results_message(
                message,
                capabilities,
                is_command=parsed is not None,
                photo=attachment.fetch if attachment is not None else None,
            )
            if routed.answer is not None:
                return routed.answer
            dropped = routed.dropped
        answer = await self._usual(message, where, capabilities, parsed, attachment, known_names)
        if dropped is None:
            return answer
        return Answer((dropped, *answer.replies), answer.sends)

    async def _usual(
        self,
        message: InboundText,
        where: Where,
        capabilities: Capabilities,
        parsed: tuple[str, list[str]] | None,
        attachment: Attachment | None,
        known_names: Mapping[Address, str] | None,
    ) -> Answer:
        """A command, a report, or a file, as on election day."""
        if parsed is None:
            if where.in_group:
                return NOTHING  # groups read summaries; reports are sent privately
            if not message.text.strip() and attachment is not None:
                return self.not_text(where, has_file=True)
            return await self.core.report(message)
        if message.edited_at is not None:
            return NOTHING  # an edited command is not run again
        name, raw_args = parsed
        command = find(name)
        if command is None:
            if where.in_group:
                return NOTHING  # another bot's command
            return self.unknown_command()
        if command.private_only and where.in_group:
            return NOTHING
        args = [arg for arg in map(without_invisible, raw_args) if arg]
        request = Request(where, args, capabilities, attachment, known_names or {})
        return await command.run(self.core, request)

    def unknown_command(self) -> Answer:
        return refused(Refusal.UNKNOWN_COMMAND, texts.UNKNOWN_COMMAND)

    def not_text(self, where: Where, *, has_file: bool) -> Answer:
        """A picture, a sticker, a voice message…; or a file sent without `/nhap`."""
        if has_file and self.core.is_admin(where.sender):
            return refused(Refusal.IMPORT_NEEDS_CAPTION, texts.IMPORT_NEEDS_CAPTION)
        return refused(Refusal.TEXT_ONLY, texts.TEXT_ONLY)
