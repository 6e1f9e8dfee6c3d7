"""What `fieldtally status` says of each Zalo bot: reachable (`getMe`), its webhook as Zalo
has it (`getWebhookInfo`, against the URL it should be), and its messages this month against
ZALO_MONTHLY_QUOTA. Never a token: errors are Zalo's own descriptions, scrubbed."""

from __future__ import annotations

import datetime as dt
from typing import Any

from handlers.zalo.client import Unauthorized, ZaloApiError, ZaloClient
from handlers.zalo.settings import ZaloBot, ZaloSettings
from storage.database import Database

STATUS_TIMEOUT = 10.0  # seconds per call: status must answer even when Zalo does not


async def bot_facts(
    zalo: ZaloSettings, bot: ZaloBot, database: Database | None, month: str
) -> dict[str, Any]:
    """One bot's facts; `problem` is None when it is healthy."""
    client = ZaloClient(zalo.api_url, bot.token, timeout=STATUS_TIMEOUT)
    reachable, registered_url, problem = False, None, None
    await client.open()
    try:
        await client.get_me()
        reachable = True
        info = await client.get_webhook_info()
        registered_url = str(info.get("url") or "") or None
    except Unauthorized:
        problem = "token rejected by Zalo"
    except ZaloApiError as error:
        problem = f"unreachable ({error.description or error.code})"
    finally:
        await client.close()
    expected = zalo.webhook_url(bot) if zalo.uses_webhook else None
    registered = reachable and registered_url == expected
    if problem is None and not registered:
        problem = (
            f"webhook not registered at {expected} (run the bot once)"
            if expected is not None
            else "a webhook is set while the bot polls (run the bot once)"
        )
    sent = await database.sends_in_month(bot.name, month) if database is not None else None
    return {
        "bot": bot.name,
        "bot_id": bot.bot_id,
        "unit_code": bot.unit_code,
        "link": bot.link,
        "reachable": reachable,
        "mode": "webhook" if expected is not None else "polling",
        "webhook_registered": registered,
        "sent_this_month": sent,
        "monthly_quota": zalo.monthly_quota,
        "problem": problem,
    }


async def zalo_facts(
    zalo: ZaloSettings, database: Database | None, now: dt.datetime
) -> list[dict[str, Any]]:
    month = now.strftime("%Y-%m")
    return [await bot_facts(zalo, bot, database, month) for bot in zalo.bots]


def zalo_lines(facts: list[dict[str, Any]]) -> list[str]:
    """The facts as `status` prints them, one line per bot."""
    lines = []
    for bot in facts:
        where = f" ({bot['unit_code']})" if bot["unit_code"] else ""
        state = "reachable" if bot["reachable"] else "unreachable"
        if bot["mode"] == "polling":
            hook = "polling"
        else:
            hook = "webhook registered" if bot["webhook_registered"] else "webhook NOT registered"
        sent = "?" if bot["sent_this_month"] is None else bot["sent_this_month"]
        lines.append(
            f"zalo bot {bot['bot_id']}{where}: {state}, {hook}, "
            f"{sent}/{bot['monthly_quota']} messages this month"
        )
    return lines
