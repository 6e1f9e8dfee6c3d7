"""Telegram update callbacks: read the update, call the core, send what it answers.

Kept thin on purpose: no rules here, only translation between Telegram objects and the
core's plain values.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from telegram import (
    Bot,
    InputFile,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    Update,
)
from telegram.constants import ChatType, ParseMode
from telegram.error import NetworkError, TelegramError
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot import texts
from bot.channel import Address
from bot.core import Core, OutgoingFile, Where
from bot.flood import Admission
from bot.intake import InboundText, Notice
from bot.monitoring import Summary
from bot.text_safety import without_invisible
from handlers.identity import event_id, telegram_address, telegram_id
from handlers.menus import set_supervisor_menu
from storage.faults import fault_reason, is_storage_fault

log = logging.getLogger(__name__)

Context = ContextTypes.DEFAULT_TYPE


async def _answer(message: Message, text: str) -> None:
    await message.reply_text(text, parse_mode=ParseMode.HTML, do_quote=True)


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
    return Where(_sender(update), telegram_address(chat.id), core.bot, in_group, chat.title or "")


async def send_summary(bot: Bot, chats: list[Address], summary: Summary) -> None:
    """Text then charts to each chat; each chart is uploaded once and reused by file_id."""
    file_ids: list[str | None] = [None] * len(summary.charts)
    for chat in chats:
        chat_id = telegram_id(chat)
        try:
            await bot.send_message(chat_id, summary.text, parse_mode=ParseMode.HTML)
            for index, png in enumerate(summary.charts):
                photo = file_ids[index] or InputFile(png, filename=f"chart{index + 1}.png")
                sent = await bot.send_photo(chat_id, photo)
                if file_ids[index] is None and sent.photo:
                    file_ids[index] = sent.photo[-1].file_id
        except TelegramError as error:  # one group's failure must not stop the others
            log.warning("summary to chat %s failed: %s", chat_id, error)


class TelegramCallbacks:
    """One instance per Application, bound to the core it serves."""

    def __init__(self, core: Core) -> None:
        self.core = core
        # The name each sender last showed, for /nhatky: admins have no registered name.
        self.names: dict[Address, str] = {}

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
            self.names[sender] = user.full_name
        verdict = self.core.admit(sender, message.text or message.caption or "")
        if verdict is Admission.ADMIT:
            return
        if verdict is Admission.REFUSE:
            await _answer(message, texts.SLOW_DOWN)
        log.info("flood: ignoring a message of user %s", update.effective_user.id)
        raise ApplicationHandlerStop

    async def stale_button(self, update: Update, context: Context) -> None:
        """fieldtally sends no inline buttons: any callback is stale or forged. Refuse it."""
        query = update.callback_query
        if query is not None:
            await query.answer(texts.BUTTON_NOT_VALID, show_alert=True)

    async def start(self, update: Update, context: Context) -> None:
        message = update.effective_message
        if message is None:
            return
        text, offer_button = await self.core.start(_sender(update))
        if not offer_button:  # an admin or a registered person: no registration pitch
            await _answer(message, text)
            return
        keyboard = ReplyKeyboardMarkup(
            [[KeyboardButton(texts.SHARE_CONTACT_BUTTON, request_contact=True)]],
            resize_keyboard=True,
            one_time_keyboard=True,
        )
        await message.reply_text(text, parse_mode=ParseMode.HTML, reply_markup=keyboard)

    async def help(self, update: Update, context: Context) -> None:
        if update.effective_message is not None:
            await _answer(update.effective_message, texts.HELP)

    async def contact(self, update: Update, context: Context) -> None:
        message = update.effective_message
        if message is None or message.contact is None:
            return
        contact = message.contact
        name = " ".join(p for p in (contact.first_name, contact.last_name) if p)
        reply = await self.core.register(
            sender=_sender(update),
            chat=telegram_address(message.chat_id),
            contact_owner=None if contact.user_id is None else telegram_address(contact.user_id),
            phone=contact.phone_number,
            name=name,
        )
        await _answer(message, reply)
        if reply.startswith(texts.OK):
            await set_supervisor_menu(context.bot, self.core, _sender(update), message.chat_id)

    async def report(self, update: Update, context: Context) -> None:
        message = update.effective_message
        if message is None or message.text is None:
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
        result = await self.core.report(inbound)
        for reply in result.replies:
            await _answer(message, reply)
        await _send_notices(context.bot, result.notices)

    async def import_units(self, update: Update, context: Context) -> None:
        message = update.effective_message
        if message is None:
            return
        document = message.document
        if document is None:
            admin = self.core.is_admin(_sender(update))
            await _answer(message, texts.IMPORT_NEEDS_FILE if admin else texts.ADMIN_ONLY)
            return
        refusal = self.core.may_import(_sender(update), document.file_name, document.file_size)
        if refusal is not None:
            await _answer(message, refusal)
            return
        file = await document.get_file()
        data = bytes(await file.download_as_bytearray())
        reply = await self.core.import_units(_sender(update), data, document.file_name or "")
        await _answer(message, reply)

    async def assign(self, update: Update, context: Context) -> None:
        if update.effective_message is None:
            return
        reply = await self.core.assign(_sender(update), _args(context))
        await _answer(update.effective_message, reply)

    async def audit_log(self, update: Update, context: Context) -> None:
        if update.effective_message is not None:
            reply = await self.core.audit_log(_sender(update), _args(context), self.names)
            await _answer(update.effective_message, reply)

    async def lock(self, update: Update, context: Context) -> None:
        await self._set_lock(update, context, locked=True)

    async def unlock(self, update: Update, context: Context) -> None:
        await self._set_lock(update, context, locked=False)

    async def _set_lock(self, update: Update, context: Context, *, locked: bool) -> None:
        if update.effective_message is None:
            return
        reply = await self.core.set_lock(_sender(update), _args(context), locked)
        await _answer(update.effective_message, reply)

    async def export(self, update: Update, context: Context) -> None:
        message = update.effective_message
        if message is None:
            return
        result = await self.core.export(_sender(update), _args(context))
        if isinstance(result, OutgoingFile):
            await message.reply_document(
                InputFile(result.content, filename=result.filename),
                caption=result.caption,
                parse_mode=ParseMode.HTML,
            )
        else:
            await _answer(message, result)

    async def summary(self, update: Update, context: Context) -> None:
        message = update.effective_message
        if message is None:
            return
        result = await self.core.summary(_where(update, self.core), _args(context))
        if isinstance(result, str):
            await _answer(message, result)
        else:
            await send_summary(context.bot, [telegram_address(message.chat_id)], result)

    async def missing(self, update: Update, context: Context) -> None:
        message = update.effective_message
        if message is None:
            return
        for part in await self.core.missing(_where(update, self.core), _args(context)):
            await _answer(message, part)

    async def remind(self, update: Update, context: Context) -> None:
        message = update.effective_message
        if message is None:
            return
        notes, answer = await self.core.remind(_where(update, self.core), _args(context))
        for note in notes:  # the rate limiter spaces these out within Telegram's limits
            try:
                await context.bot.send_message(
                    telegram_id(note.chat), note.text, parse_mode=ParseMode.HTML
                )
            except (TelegramError, ValueError) as error:
                log.warning("reminder to chat %s failed: %s", note.chat, error)
        await _answer(message, answer)

    async def history(self, update: Update, context: Context) -> None:
        message = update.effective_message
        if message is None:
            return
        for part in await self.core.history(_where(update, self.core), _args(context)):
            await _answer(message, part)

    async def subscribe(self, update: Update, context: Context) -> None:
        if update.effective_message is not None:
            reply = await self.core.subscribe(_where(update, self.core), _args(context))
            await _answer(update.effective_message, reply)

    async def unsubscribe(self, update: Update, context: Context) -> None:
        if update.effective_message is not None:
            reply = await self.core.unsubscribe(_where(update, self.core))
            await _answer(update.effective_message, reply)

    async def shared_store_sweep(self, context: Context) -> None:
        """Where other processes share the database: their unit imports, and groups of ours
        whose unit was finished by a report stored through another bot."""
        await _send_notices(context.bot, await self.core.catch_up_with_other_processes())

    async def scheduled_push(self, context: Context) -> None:
        for chats, summary in await self.core.scheduled_summaries():
            await send_summary(context.bot, chats, summary)

    async def not_text(self, update: Update, context: Context) -> None:
        message = update.effective_message
        if message is None:
            return
        if message.document is not None and self.core.is_admin(_sender(update)):
            await _answer(message, texts.IMPORT_NEEDS_CAPTION)  # a list sent without /nhap
        else:
            await _answer(message, texts.TEXT_ONLY)

    async def unknown_command(self, update: Update, context: Context) -> None:
        if update.effective_message is not None:
            await _answer(update.effective_message, texts.UNKNOWN_COMMAND)

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
            if update_id is None:  # a job (a scheduled summary): it runs again at its time
                log.warning("a job met a storage fault: %s", fault_reason(error))
                return
            self.core.outage.failed(error, update_id)
            log.debug("update %s waits for the database: %s", update_id, fault_reason(error))
            return
        log.error("update %s failed: %s: %s", _event_id(update), type(error).__name__, error)


async def _send_notices(bot: Bot, notices: Sequence[Notice]) -> None:
    for notice in notices:
        try:
            await bot.send_message(telegram_id(notice.chat), notice.text, parse_mode=ParseMode.HTML)
        except (TelegramError, ValueError) as error:
            log.warning("notice to chat %s failed: %s", notice.chat, error)


def _event_id(update: object) -> str | None:
    return event_id(update.update_id) if isinstance(update, Update) else None
