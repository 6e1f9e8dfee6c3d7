"""Telegram update callbacks: read the update, call the core, send what it answers.

Kept thin on purpose: no rules here, only translation between Telegram objects and the
core's plain values.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any

from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyParameters,
    Update,
)
from telegram.constants import ChatType, ParseMode
from telegram.error import NetworkError, TelegramError
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot import texts
from bot.channel import Address
from bot.core import Core, Where
from bot.messaging.answers import Answer, Reply
from bot.messaging.commands import Attachment, Command, Request, find, parse_text_command
from bot.messaging.content import (
    Choice,
    ContactRequest,
    Content,
    Document,
    Image,
    Outgoing,
    Text,
)
from bot.messaging.conversation import Conversation
from bot.messaging.marked import plain
from bot.messaging.text_safety import without_invisible
from bot.results.chat_texts import CANCEL_CHOICE, CONFIRM_CHOICE
from bot.turnout.intake import InboundText
from handlers.telegram.identity import event_id, telegram_address, telegram_id
from handlers.telegram.menus import set_supervisor_menu
from handlers.telegram.render import TELEGRAM_CAPABILITIES, html_messages, to_html
from storage.faults import fault_reason, is_storage_fault

log = logging.getLogger(__name__)

Context = ContextTypes.DEFAULT_TYPE


def _args(context: Context) -> list[str]:
    """A command's arguments without invisible format characters (never echoed back)."""
    cleaned = (without_invisible(arg) for arg in context.args or [])
    return [arg for arg in cleaned if arg]


def _sender(update: Update) -> Address:
    assert update.effective_user is not None
    return telegram_address(update.effective_user.id)


def _where(update: Update, core: Core) -> Where:
    chat = update.effective_chat
    assert chat is not None
    in_group = chat.type in (ChatType.GROUP, ChatType.SUPERGROUP)
    title = without_invisible(chat.title or "")
    return Where(_sender(update), telegram_address(chat.id), core.bot, in_group, title)


class Uploads:
    """Pictures uploaded lately, by their bytes: a push sends one chart to many groups, and
    it is uploaded once and then sent by Telegram's file id. The last `keep` are remembered
    (the bytes are kept with their file id, so a new picture can never take an old id)."""

    def __init__(self, keep: int = 32) -> None:
        self._file_ids: OrderedDict[int, tuple[bytes, str]] = OrderedDict()
        self._keep = keep

    def get(self, png: bytes) -> str | None:
        known = self._file_ids.get(id(png))
        return known[1] if known is not None and known[0] is png else None

    def remember(self, png: bytes, file_id: str) -> None:
        self._file_ids[id(png)] = (png, file_id)
        while len(self._file_ids) > self._keep:
            self._file_ids.popitem(last=False)


async def send_content(
    bot: Bot,
    chat_id: int,
    content: Content,
    uploads: Uploads | None = None,
    reply_to: Message | None = None,
) -> None:
    """One message of the core's, as Telegram shows it (a reply to `reply_to` if given)."""
    match content:
        case Text(body=body):
            quote = ReplyParameters(reply_to.message_id) if reply_to is not None else None
            for part in html_messages(body):  # a long answer in as many messages as it takes
                await bot.send_message(
                    chat_id, part, parse_mode=ParseMode.HTML, reply_parameters=quote
                )
        case ContactRequest(body=body, button=button):
            keyboard = ReplyKeyboardMarkup(
                [[KeyboardButton(button, request_contact=True)]],
                resize_keyboard=True,
                one_time_keyboard=True,
            )
            *first, last = html_messages(body)
            for part in first:
                await bot.send_message(chat_id, part, parse_mode=ParseMode.HTML)
            await bot.send_message(chat_id, last, parse_mode=ParseMode.HTML, reply_markup=keyboard)
        case Choice(body=body, options=options):
            # Inline buttons whose press comes back as the option's text (`TelegramCallbacks.
            # button`), as if typed.
            buttons = InlineKeyboardMarkup(
                [[InlineKeyboardButton(o, callback_data=o.lower()[:64]) for o in options]]
            )
            *first, last = html_messages(body)
            for part in first:
                await bot.send_message(chat_id, part, parse_mode=ParseMode.HTML)
            await bot.send_message(chat_id, last, parse_mode=ParseMode.HTML, reply_markup=buttons)
        case Image(png=png, name=name, caption=caption):
            known = uploads.get(png) if uploads is not None else None
            sent = await bot.send_photo(
                chat_id, known or InputFile(png, filename=name), caption=to_html(caption) or None,
                parse_mode=ParseMode.HTML,
            )  # fmt: skip
            if uploads is not None and known is None and sent.photo:
                uploads.remember(png, sent.photo[-1].file_id)
        case Document(filename=filename, content=data, caption=caption):
            await bot.send_document(
                chat_id, InputFile(data, filename=filename), caption=to_html(caption) or None,
                parse_mode=ParseMode.HTML,
            )  # fmt: skip


class TelegramCallbacks:
    """One instance per Application, bound to the core it serves."""

    def __init__(self, core: Core) -> None:
        self.core = core
        self.conversation = Conversation(core)  # the rules every channel shares
        # How messages to other chats leave: through the switchboard once the bot process
        # has wired the channels (a reminder may go to a chief on another channel), else
        # through this bot.
        self.elsewhere: Callable[[Sequence[Outgoing]], Awaitable[None]] | None = None
        # The name each sender last showed, for /nhatky: admins have no registered name.
        self.names: dict[Address, str] = {}

    async def deliver(self, bot: Bot, message: Message, answer: Answer) -> None:
        """The replies to the message's chat, in order, then the messages to other chats."""
        for reply in answer.replies:
            await send_content(bot, message.chat_id, reply.content, reply_to=message)
        if self.elsewhere is not None:
            await self.elsewhere(answer.sends)
        else:
            await _send_all(bot, answer.sends)

    async def flood_gate(self, update: Update, context: Context) -> None:
        """Runs before every other handler: a person who floods is refused once, then ignored.

        While the bot stops, an update not yet started is left in the inbox for the next
        start (stopping stays prompt whatever the database does). A retry after a storage
        fault is not counted again."""
        feed = context.application.bot_data.get("feed")
        if feed is not None and feed.stop.is_set():
            self.core.outage.keep_for_later(event_id(update.update_id))
            raise ApplicationHandlerStop
        if feed is not None and feed.is_retry(update):
            return
        message = update.effective_message
        if message is None or update.effective_user is None:
            return
        user = update.effective_user
        sender = telegram_address(user.id)
        if self.core.is_admin(sender):
            self.names[sender] = without_invisible(user.full_name)
        instead = self.conversation.admit(sender, message.text or message.caption or "")
        if instead is None:
            return
        await self.deliver(context.bot, message, instead)  # once a refusal, then nothing
        log.info("flood: ignoring a message of user %s", update.effective_user.id)
        raise ApplicationHandlerStop

    async def stale_button(self, update: Update, context: Context) -> None:
        """A callback that is no read-back's button is stale or forged: refused."""
        query = update.callback_query
        if query is not None:
            await query.answer(plain(texts.BUTTON_NOT_VALID), show_alert=True)

    def command(self, command: Command) -> Callable[[Update, Context], Coroutine[Any, Any, None]]:
        """The handler of one entry of the command table."""

        async def run(update: Update, context: Context) -> None:
            message = update.effective_message
            if message is None:
                return
            request = Request(
                _where(update, self.core), _args(context), TELEGRAM_CAPABILITIES,
                _attachment(message),
                self._names_with_sender(update),
            )  # fmt: skip
            dropped = None
            if not request.where.in_group:  # any other message drops a pending record
                inbound = InboundText(
                    chat=request.where.chat,
                    message_ref=str(message.message_id),
                    sender=request.where.sender,
                    text=message.text or message.caption or "",
                    sent_at=message.date,
                    bot=self.core.bot,
                )
                routed = await self.core.results_message(
                    inbound, TELEGRAM_CAPABILITIES, is_command=True
                )
                dropped = routed.dropped
            answer = await command.run(self.core, request)
            await self.deliver(context.bot, message, _after(dropped, answer))

        return run

    async def contact(self, update: Update, context: Context) -> None:
        message = update.effective_message
        if message is None or message.contact is None:
            return
        contact = message.contact
        name = " ".join(p for p in (contact.first_name, contact.last_name) if p)
        answer = await self.core.register(
            sender=_sender(update),
            chat=telegram_address(message.chat_id),
            contact_owner=None if contact.user_id is None else telegram_address(contact.user_id),
            phone=contact.phone_number,
            name=name,
        )
        await self.deliver(context.bot, message, answer)
        if answer.ok:
            await set_supervisor_menu(context.bot, self.core, _sender(update), message.chat_id)

    async def report(self, update: Update, context: Context) -> None:
        message = update.effective_message
        if message is None or message.text is None:
            return
        typed = parse_text_command(message.text)  # `dk <code>`: a command, not a report
        if typed is not None:
            if update.edited_message is None:  # an edited command is not run again
                await self.text_command(update, context, *typed)
            return
        inbound = InboundText(
            chat=telegram_address(message.chat_id),
            message_ref=str(message.message_id),
            sender=_sender(update),
            text=message.text,
            sent_at=message.date,
            edited_at=message.edit_date if update.edited_message is not None else None,
            # an edit's update id: unique per edit, the same when one edit comes twice
            revision=update.update_id if update.edited_message is not None else 0,
            bot=self.core.bot,
        )
        await self.deliver(context.bot, message, await self._results_first(inbound))

    async def _results_first(
        self, inbound: InboundText, *, photo: Callable[[], Awaitable[bytes]] | None = None
    ) -> Answer:
        """Results night's flow first (a counting record, `đúng`, a record photo); anything
        else drops the sender's pending record and is a report."""
        routed = await self.core.results_message(
            inbound, TELEGRAM_CAPABILITIES, is_command=False, photo=photo
        )
        if routed.answer is not None:
            return routed.answer
        return _after(routed.dropped, await self.core.report(inbound))

    async def button(self, update: Update, context: Context) -> None:
        """A press on a read-back's button (`Đúng` / `Hủy`): its text, as if typed; any
        other callback is stale or forged."""
        query = update.callback_query
        if query is None:
            return
        message = query.message
        data = query.data or ""
        if not isinstance(message, Message) or data not in _BUTTON_TEXTS:
            await self.stale_button(update, context)
            return
        await query.answer()
        inbound = InboundText(
            chat=telegram_address(message.chat_id),
            message_ref=f"button:{query.id}",
            sender=_sender(update),
            text=data,
            sent_at=message.date,
            bot=self.core.bot,
        )
        routed = await self.core.results_message(inbound, TELEGRAM_CAPABILITIES, is_command=False)
        answer = routed.answer
        if answer is None:  # `Hủy` with nothing waiting
            answer = await self.core.records.confirm(inbound)
        await self.deliver(context.bot, message, answer)

    def _names_with_sender(self, update: Update) -> dict[Address, str]:
        """The names admins last showed, and the sender's (a person registering by code is
        named as Telegram shows them)."""
        user = update.effective_user
        if user is None:
            return self.names
        return {**self.names, _sender(update): without_invisible(user.full_name)}

    async def text_command(
        self, update: Update, context: Context, name: str, args: list[str]
    ) -> None:
        """A command typed as words (`dk <code>`), run as its entry of the command table;
        a registration refreshes the menu as a shared contact does."""
        message = update.effective_message
        command = find(name)
        if message is None or command is None:
            return
        where, names = _where(update, self.core), self._names_with_sender(update)
        request = Request(where, args, TELEGRAM_CAPABILITIES, None, names)
        answer = await command.run(self.core, request)
        await self.deliver(context.bot, message, answer)
        if answer.ok:
            await set_supervisor_menu(context.bot, self.core, _sender(update), message.chat_id)

    async def not_text(self, update: Update, context: Context) -> None:
        message = update.effective_message
        if message is None:
            return
        if message.photo and message.caption:  # a photo of a signed record: `kq <ballot>`
            largest = message.photo[-1]

            async def fetch() -> bytes:
                file = await largest.get_file()
                return bytes(await file.download_as_bytearray())

            inbound = InboundText(
                chat=telegram_address(message.chat_id),
                message_ref=str(message.message_id),
                sender=_sender(update),
                text=message.caption,
                sent_at=message.date,
                bot=self.core.bot,
            )
            routed = await self.core.results_message(
                inbound, TELEGRAM_CAPABILITIES, is_command=False, photo=fetch
            )
            if routed.answer is not None:
                await self.deliver(context.bot, message, routed.answer)
                return
        answer = self.conversation.not_text(
            _where(update, self.core), has_file=message.document is not None
        )
        await self.deliver(context.bot, message, answer)

    async def unknown_command(self, update: Update, context: Context) -> None:
        if update.effective_message is not None:
            answer = self.conversation.unknown_command()
            await self.deliver(context.bot, update.effective_message, answer)

    async def error(self, update: object, context: Context) -> None:
        # Only the exception's type and text: never the request, whose URL holds the token.
        error = context.error
        feed = context.application.bot_data.get("feed")
        if isinstance(error, NetworkError) and feed is not None and feed.stop.is_set():
            # Stopping while Telegram cannot be reached: the update stays in the inbox and
            # is answered after the next start (what it stored is answered the same way).
            self.core.outage.keep_for_later(
                event_id(update.update_id if isinstance(update, Update) else 0)
            )
            return
        if error is not None and is_storage_fault(error):
            # A passing fault: nothing was answered; the update is handled again later.
            update_id = _event_id(update)
            if update_id is None:  # a job (the inbox leases): it runs again at its time
                log.warning("a job met a storage fault: %s", fault_reason(error))
                return
            self.core.outage.failed(error, update_id)
            log.debug("update %s waits for the database: %s", update_id, fault_reason(error))
            return
        log.error("update %s failed: %s: %s", _event_id(update), type(error).__name__, error)


async def _send_all(bot: Bot, messages: Sequence[Outgoing]) -> None:
    """Messages to other chats (group notices, reminders): the rate limiter spaces them out
    within Telegram's limits; one chat's failure does not stop the others."""
    for message in messages:
        try:
            await send_content(bot, telegram_id(message.to), message.content)
        except (TelegramError, ValueError) as error:  # e.g. a chief who never opened the bot
            log.warning("message to chat %s failed: %s", message.to.id, error)


_BUTTON_TEXTS = frozenset(o.lower() for o in (CONFIRM_CHOICE, CANCEL_CHOICE))


def _after(first: Reply | None, answer: Answer) -> Answer:
    """`answer` with `first` (a pending record dropped) before its replies."""
    if first is None:
        return answer
    return Answer((first, *answer.replies), answer.sends)


def _attachment(message: Message) -> Attachment | None:
    """The document sent with a command (`/nhap` as its caption), fetched on demand."""
    document = message.document
    if document is None:
        return None

    async def fetch() -> bytes:
        file = await document.get_file()
        return bytes(await file.download_as_bytearray())

    return Attachment(document.file_name, document.file_size, fetch)


def _event_id(update: object) -> str | None:
    return event_id(update.update_id) if isinstance(update, Update) else None
