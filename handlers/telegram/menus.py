"""Bot command menus per scope: short for chiefs, fuller for supervisors, groups and admins."""

from __future__ import annotations

import contextlib

from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
)
from telegram.error import TelegramError

from bot import texts
from bot.channel import Address
from bot.core import Core
from handlers.telegram.identity import TELEGRAM, telegram_id


def _commands(menu: list[tuple[str, str]]) -> list[BotCommand]:
    return [BotCommand(command, description) for command, description in menu]


CHIEF = _commands(texts.MENU_CHIEF)
GROUP = _commands(texts.MENU_GROUP)
SUPERVISOR = _commands(texts.MENU_SUPERVISOR)
ADMIN = _commands(texts.MENU_ADMIN)


async def set_menus(bot: Bot, core: Core) -> None:
    await bot.set_my_commands(CHIEF, scope=BotCommandScopeAllPrivateChats())
    await bot.set_my_commands(GROUP, scope=BotCommandScopeAllGroupChats())
    for admin in core.settings.admins.on(TELEGRAM, numbered=True):
        if admin.channel != TELEGRAM:  # an admin on another channel
            continue
        with contextlib.suppress(TelegramError):  # an admin who never opened the bot
            await bot.set_my_commands(ADMIN, scope=BotCommandScopeChat(telegram_id(admin)))


async def set_supervisor_menu(bot: Bot, core: Core, user: Address, chat_id: int) -> None:
    caller = await core.caller(user)
    if caller.is_supervisor and not caller.is_admin:
        await bot.set_my_commands(SUPERVISOR, scope=BotCommandScopeChat(chat_id))
