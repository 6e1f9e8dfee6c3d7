"""The Telegram channel: everything python-telegram-bot, and nothing of it outside this folder.

`application` builds the PTB Application and runs it (long polling or the webhook); `callbacks`
turns updates into the core's requests and its answers into Telegram messages; `render` writes
the core's marked text as Telegram HTML at Telegram's limits; `polling` keeps every update in
the inbox before Telegram forgets it, and paces sends; `updates` runs chats concurrently, each
in order; `webhook` receives updates on the bot's HTTP server; `menus` sets the command menus;
`http_client` is PTB's transport on aiohttp; `settings` holds `TELEGRAM_*` and the rest of
Telegram's settings.
"""
