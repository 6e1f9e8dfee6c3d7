"""Delivering updates to a bot's webhook, as Telegram does once ``setWebhook`` is called:
POSTs in update_id order, up to ``max_connections`` at once but never two of one chat at once,
retried with a growing pause until the webhook answers 2xx, each attempt recorded as a
``WebhookDelivery``. The public https URL is served on loopback through ``route_webhook``.
"""

from __future__ import annotations

import asyncio
import contextlib
import re

import aiohttp

from sandbox.models import JSONDict, WebhookDelivery
from sandbox.state import SandboxState, _BotState, _timestamp, _Webhook
from sandbox.wire import _dumps

_SECRET_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# Webhook deliveries: Telegram's default and maximum connections; how long an answer is
# awaited; the pause before retrying a failed delivery, doubling up to the maximum (shorter
# than Telegram's, so that tests restarting a bot do not wait long).
_WEBHOOK_CONNECTIONS, _WEBHOOK_MAX_CONNECTIONS = 40, 100
_WEBHOOK_TIMEOUT = 60.0
_WEBHOOK_RETRY_FIRST, _WEBHOOK_RETRY_MAX = 0.05, 1.0
_IDLE_WAKE = 60.0  # seconds an idle webhook pusher sleeps between checks (it is woken anyway)


class Webhooks(SandboxState):
    """The webhook pusher of each bot, and where public webhook URLs are served locally."""

    def route_webhook(self, public_url: str, local_url: str) -> None:
        """Deliver webhook posts for ``public_url`` (or a URL under it) to ``local_url``.

        A bot's webhook must be a public https URL; the sandbox never connects outside
        loopback, so this plays the TLS-terminating proxy in front of the bot: e.g.
        ``route_webhook("https://bot.example.org", "http://127.0.0.1:8443")`` sends posts for
        ``https://bot.example.org/telegram/hook`` to ``http://127.0.0.1:8443/telegram/hook``.
        A webhook with no route fails every delivery, as an unreachable host would."""
        self._routes[public_url.rstrip("/")] = local_url.rstrip("/")

    # --- webhook deliveries ---------------------------------------------------------------

    async def _stop_pushing(self, bot: _BotState) -> None:
        """Forget the webhook; posts under way are abandoned (their updates stay queued)."""
        hook, bot.webhook = bot.webhook, None
        if hook is not None and hook.pusher is not None:
            hook.pusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await hook.pusher

    async def _push_updates(self, bot: _BotState, hook: _Webhook) -> None:
        """Post the bot's queued updates in update_id order: up to ``max_connections`` at once,
        never two of one chat at once (so each chat's updates arrive in order)."""
        deliveries: set[asyncio.Task[None]] = set()
        try:
            while True:
                for update in list(bot.updates):
                    if len(hook.delivering) >= hook.max_connections:
                        break
                    update_id, chat = int(update["update_id"]), _update_chat(update)
                    if update_id in hook.delivering or chat in hook.busy_chats:
                        continue
                    hook.delivering.add(update_id)
                    if chat is not None:
                        hook.busy_chats.add(chat)
                    task = asyncio.create_task(self._deliver(bot, hook, update, chat))
                    deliveries.add(task)
                    task.add_done_callback(deliveries.discard)
                await bot.update_signal.wait(_IDLE_WAKE)  # woken by new updates and finished posts
        finally:
            for task in list(deliveries):
                task.cancel()
            await asyncio.gather(*deliveries, return_exceptions=True)

    async def _deliver(
        self, bot: _BotState, hook: _Webhook, update: JSONDict, chat: int | None
    ) -> None:
        """Post one update until the webhook answers 2xx, pausing longer after each failure."""
        update_id = int(update["update_id"])
        pause = _WEBHOOK_RETRY_FIRST
        try:
            while True:
                status, error = await self._post(hook, update)
                delivery = WebhookDelivery(update_id, hook.url, status, error, self._clock())
                bot.deliveries.append(delivery)
                if delivery.delivered:
                    bot.updates = [u for u in bot.updates if u["update_id"] != update_id]
                bot.deliveries_signal.notify()
                if delivery.delivered:
                    return
                hook.last_error_date = _timestamp(self._clock())
                hook.last_error_message = error
                await asyncio.sleep(pause)
                pause = min(pause * 2, _WEBHOOK_RETRY_MAX)
        finally:
            hook.delivering.discard(update_id)
            if chat is not None:
                hook.busy_chats.discard(chat)
            bot.update_signal.notify()  # the pusher may start the next ones

    async def _post(self, hook: _Webhook, update: JSONDict) -> tuple[int | None, str | None]:
        """One POST: the webhook's HTTP status (None: no answer) and the error Telegram shows."""
        target = self._webhook_target(hook.url)
        if target is None:
            return None, "Failed to resolve host: no route_webhook() to a local server"
        if self._http is None:
            return None, "Connection refused"
        headers = {"Content-Type": "application/json"}
        if hook.secret_token is not None:
            headers[_SECRET_HEADER] = hook.secret_token
        try:
            async with self._http.post(target, data=_dumps(update), headers=headers) as answer:
                await answer.read()  # a method call in the answer is not executed here
                if 200 <= answer.status < 300:
                    return answer.status, None
                return answer.status, f"Wrong response from the webhook: {answer.status} " + (
                    answer.reason or ""
                )
        except TimeoutError:
            return None, "Read timeout expired"
        except aiohttp.ClientConnectorError:
            return None, "Connection refused"
        except aiohttp.ClientError as error:
            return None, f"Connection failed: {type(error).__name__}"

    def _webhook_target(self, url: str) -> str | None:
        """Where a public webhook URL is served locally: the longest route it falls under."""
        for public in sorted(self._routes, key=len, reverse=True):
            if url == public or url.startswith((public + "/", public + "?")):
                return self._routes[public] + url[len(public) :]
        return None


def _update_chat(update: JSONDict) -> int | None:
    """The chat an update belongs to (the user's, for a button press); None if neither."""
    for value in update.values():
        if isinstance(value, dict):
            chat = value.get("chat") or (value.get("message") or {}).get("chat")
            if isinstance(chat, dict) and isinstance(chat.get("id"), int):
                return int(chat["id"])
            sender = value.get("from")
            if isinstance(sender, dict) and isinstance(sender.get("id"), int):
                return int(sender["id"])
    return None
