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

from bot.core import Core

CHIEF = [
    BotCommand("start", "Đăng ký bằng số điện thoại"),
    BotCommand("huongdan", "Hướng dẫn báo cáo"),
    BotCommand("tonghop", "Tình hình khu vực của tôi"),
]
GROUP = [
    BotCommand("tonghop", "Tổng hợp và biểu đồ của đơn vị"),
    BotCommand("chuabaocao", "Khu vực chưa báo cáo"),
    BotCommand("theodoi", "Theo dõi một đơn vị (quản trị, giám sát)"),
    BotCommand("huytheodoi", "Dừng theo dõi"),
    BotCommand("huongdan", "Hướng dẫn"),
]
SUPERVISOR = [
    BotCommand("tonghop", "Tổng hợp và biểu đồ"),
    BotCommand("chuabaocao", "Khu vực chưa báo cáo"),
    BotCommand("nhacnho", "Nhắc tổ trưởng chưa báo cáo"),
    BotCommand("lichsu", "Lịch sử báo cáo của một khu vực"),
    BotCommand("xuat", "Xuất bảng tổng hợp (csv, xlsx)"),
    BotCommand("huongdan", "Hướng dẫn"),
]
ADMIN = [
    *SUPERVISOR[:-1],
    BotCommand("phancong", "Phân công số điện thoại cho đơn vị"),
    BotCommand("khoa", "Khóa báo cáo của một đơn vị"),
    BotCommand("mokhoa", "Mở khóa báo cáo"),
    BotCommand("nhap", "Nhập danh sách đơn vị (gửi tệp kèm /nhap)"),
    BotCommand("nhatky", "Nhật ký thao tác quản trị"),
    BotCommand("huongdan", "Hướng dẫn"),
]


async def set_menus(bot: Bot, core: Core) -> None:
    await bot.set_my_commands(CHIEF, scope=BotCommandScopeAllPrivateChats())
    await bot.set_my_commands(GROUP, scope=BotCommandScopeAllGroupChats())
    for admin in core.settings.admins:
        with contextlib.suppress(TelegramError):  # an admin who never opened the bot
            await bot.set_my_commands(ADMIN, scope=BotCommandScopeChat(admin))


async def set_supervisor_menu(bot: Bot, core: Core, user_id: int, chat_id: int) -> None:
    caller = await core.caller(user_id)
    if caller.is_supervisor and not caller.is_admin:
        await bot.set_my_commands(SUPERVISOR, scope=BotCommandScopeChat(chat_id))
