"""The directory of bots (`bot.messaging.directory.BotDirectory`) as the settings describe it.

The Zalo bots: `ZALO_BOT_TOKEN` (one bot serving the whole tree: its name `zalo:<bot id>`,
the bot id being the token's numeric prefix, and its link `https://zalo.me/<bot id>`) or
`ZALO_BOTS_FILE` (one bot per subtree, with an optional link of its own), as
`handlers/zalo/settings.py` reads them. The command line (`fieldtally invites`) and the bot
process fill `core.directory` from it; the tokens themselves are never kept or shown.
"""

from __future__ import annotations

from typing import Any

from bot.messaging.directory import BotDirectory
from bot.settings import Settings
from handlers.zalo.settings import load_zalo_settings


def load_directory(settings: Settings, **overrides: Any) -> BotDirectory:
    """The bots the settings name: the Zalo bot of ZALO_BOT_TOKEN, or one per row of
    ZALO_BOTS_FILE, each with the subtree it serves and its link. A bad setting is a
    SettingsError naming the setting, never quoting a token. `settings` is the core's."""
    del settings  # the Zalo settings are read from the environment, as `run` reads them
    directory = BotDirectory()
    load_zalo_settings(**overrides).fill(directory)
    return directory
