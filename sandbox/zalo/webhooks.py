"""Delivering events to a bot's webhook, as the platform does once ``setWebhook`` is called:
each event POSTed as JSON with ``X-Bot-Api-Secret-Token``, wrapped ``{"ok": true, "result":
...}`` or bare as the test chose; one chat's events in order, chats in parallel; a delivery
answered other than 2xx (or not answered) retried a few times with a short growing pause,
then given up (the platform does not keep it). Each attempt is a ``WebhookDelivery``.
"""

from __future__ import annotations

import asyncio

import aiohttp

from sandbox.zalo.faults import ZaloFaults
from sandbox.zalo.models import PayloadForm, SecretSent, WebhookDelivery, ZaloEvent
from sandbox.zalo.state import _Hook, _ZaloBot
from sandbox.zalo.wire import webhook_body

SECRET_HEADER = "X-Bot-Api-Secret-Token"
WEBHOOK_ATTEMPTS = 4  # the first try and three retries
_RETRY_FIRST, _RETRY_MAX = 0.02, 0.2  # seconds between attempts, doubling
_WEBHOOK_TIMEOUT = 30.0


class ZaloWebhooks(ZaloFaults):
    """The webhook side: scheduling deliveries and posting them."""

    def _schedule_delivery(self, bot: _ZaloBot, event: ZaloEvent) -> None:
        self._spawn(self._deliver(bot, event))

    async def _deliver(self, bot: _ZaloBot, event: ZaloEvent) -> None:
        """Post one event until the webhook answers 2xx, at most WEBHOOK_ATTEMPTS times; one
        chat's events wait for each other (a FIFO lock per chat keeps their order)."""
        lock = bot.chat_locks.setdefault(event.chat_id, asyncio.Lock())
        async with lock:
            pause = _RETRY_FIRST
            for attempt in range(1, WEBHOOK_ATTEMPTS + 1):
                hook = bot.webhook
                if hook is None:  # deleted meanwhile: the event waits for getUpdates
                    bot.pending.append(event)
                    bot.event_signal.notify()
                    return
                delivery = await self._post(
                    bot, hook, event, form=bot.webhook_form, attempt=attempt
                )
                if delivery.delivered:
                    bot.take(event)
                    return
                if attempt < WEBHOOK_ATTEMPTS:
                    await self._pause(pause)
                    pause = min(pause * 2, _RETRY_MAX)
                    if self._closed():
                        return
            event.given_up = True
            bot.taken_signal.notify()  # wakes wait_taken, which reports it

    async def _post(
        self,
        bot: _ZaloBot,
        hook: _Hook,
        event: ZaloEvent,
        *,
        form: PayloadForm,
        attempt: int,
        secret: str | None = None,
        use_hook_secret: bool = True,
        body: bytes | None = None,
        url: str | None = None,
    ) -> WebhookDelivery:
        """One POST of ``event`` (or of ``body`` as given) and its recorded outcome."""
        headers = {"Content-Type": "application/json"}
        sent_secret = hook.secret_token if use_hook_secret else secret
        if sent_secret is not None:
            headers[SECRET_HEADER] = sent_secret
        which: SecretSent = (
            "missing"
            if sent_secret is None
            else "right"
            if sent_secret == hook.secret_token
            else "wrong"
        )
        target_url = url or hook.url
        status, error = await self._send(
            target_url, body if body is not None else webhook_body(event.update, form), headers
        )
        delivery = WebhookDelivery(
            seq=len(bot.deliveries),
            bot_id=bot.bot_id,
            event_name=event.event_name,
            message_id=event.message_id,
            url=target_url,
            form=form,
            secret=which,
            attempt=attempt,
            status=status,
            error=error,
            duplicate=event.duplicate,
            time=self._clock(),
        )
        bot.deliveries.append(delivery)
        bot.deliveries_signal.notify()
        return delivery

    async def _send(
        self, url: str, body: bytes, headers: dict[str, str]
    ) -> tuple[int | None, str | None]:
        target = self._target(url)
        if target is None:
            return None, "cannot connect: not a loopback URL and no route_webhook() for it"
        if self._http is None:
            return None, "the sandbox is stopped"
        try:
            async with self._http.post(
                target,
                data=body,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=_WEBHOOK_TIMEOUT),
            ) as answer:
                await answer.read()
                if 200 <= answer.status < 300:
                    return answer.status, None
                return answer.status, f"the webhook answered HTTP {answer.status}"
        except TimeoutError:
            return None, "timed out"
        except aiohttp.ClientError as error:
            return None, f"connection failed: {type(error).__name__}"
