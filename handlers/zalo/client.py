"""A small client of the Zalo Bot API on aiohttp: `POST {api}/bot{token}/{method}` with JSON.

Zalo answers `{"ok": true, "result": …}`, or `{"ok": false, "error_code": N, "description":
…}`, often with HTTP 200: the envelope is read, not only the status. Each failure becomes a
typed error the channel acts on:

* `Unauthorized` (401): the token is revoked or mistyped; the bot stops with one line;
* `QuotaSpent` (429, as the status or the error code): the bot's monthly quota is spent;
  never retried in a loop (the channel stops sending on that bot and probes now and then);
* `NoUpdate` (408 from `getUpdates`): nothing arrived within the timeout;
* `Unavailable` (5xx, a network error, a timeout, an unreadable answer): passing, retried
  with a growing pause by `call_patiently` until it works or the bot stops;
* `Refused` (any other error): final, for the caller to log.

The token is in every request's path, so no URL is ever logged or put in an error: network
errors are named by their class only, and whatever the API says back is scrubbed of the token.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

import aiohttp
from pydantic import SecretStr

log = logging.getLogger(__name__)

MAX_BACKOFF = 30.0  # seconds between retries during a long outage
FIRST_BACKOFF = 0.5
REQUEST_TIMEOUT = 15.0  # seconds for one call (getUpdates: its own timeout more)


class ZaloApiError(Exception):
    """A call that did not succeed: the method, Zalo's error code (or HTTP status), and
    what Zalo said (never the token)."""

    def __init__(self, method: str, code: int | None, description: str) -> None:
        self.method = method
        self.code = code
        self.description = description
        shown = f"error {code}" if code is not None else "error"
        super().__init__(
            f"{method}: {shown}: {description}" if description else f"{method}: {shown}"
        )


class Unauthorized(ZaloApiError):
    """401: the bot token is not (or no longer) valid."""


class QuotaSpent(ZaloApiError):
    """429: the bot's monthly quota of messages is spent."""


class NoUpdate(ZaloApiError):
    """408 from getUpdates: no update within the timeout."""


class Unavailable(ZaloApiError):
    """5xx, a network failure or a timeout: worth trying again later."""


class Refused(ZaloApiError):
    """Any other error: final (a bad chat id, a text Zalo does not take)."""


def classify(method: str, status: int, code: int | None, description: str) -> ZaloApiError:
    """The typed error for an HTTP status and the envelope's error code."""
    codes = {status, code}
    if 401 in codes:
        return Unauthorized(method, 401, description)
    if 429 in codes:
        return QuotaSpent(method, 429, description)
    if 408 in codes and method == "getUpdates":
        return NoUpdate(method, 408, description)
    if status >= 500 or (code is not None and code >= 500) or 408 in codes:
        return Unavailable(method, code if code is not None else status, description)
    return Refused(method, code if code is not None else status, description)


MAX_PHOTO_BYTES = 10 * 1024 * 1024  # a phone's photo of a signed record is a few MB


class ZaloClient:
    """One bot's calls, on one aiohttp session (`open` before, `close` after)."""

    def __init__(self, api_url: str, token: SecretStr, *, timeout: float = REQUEST_TIMEOUT) -> None:
        self._api_url = api_url.rstrip("/")
        self._token = token
        self._timeout = timeout
        self._session: aiohttp.ClientSession | None = None

    async def open(self) -> None:
        if self._session is None or self._session.closed:
            # No raise_for_status (its errors quote the URL); no trace configs (nothing logs
            # requests); the pool small: a bot sends a few messages a second at most.
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=8), headers={"User-Agent": "fieldtally"}
            )

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    def _scrub(self, text: str) -> str:
        token = self._token.get_secret_value()
        return text.replace(token, "<token>") if token else text

    async def call(
        self, method: str, params: dict[str, Any] | None = None, *, seconds: float | None = None
    ) -> Any:
        """One call: its `result`, or a typed `ZaloApiError` (`seconds`: how long to wait
        for the answer, if not the client's default)."""
        if self._session is None or self._session.closed:
            raise RuntimeError("the Zalo client is not open")
        url = f"{self._api_url}/bot{self._token.get_secret_value()}/{method}"
        allowed = aiohttp.ClientTimeout(total=seconds or self._timeout)
        try:
            async with self._session.post(url, json=params or {}, timeout=allowed) as response:
                status = response.status
                body = await response.read()
        except TimeoutError:
            raise Unavailable(method, None, "no answer in time") from None
        except aiohttp.ClientError as error:  # named by class only: its text may quote the URL
            raise Unavailable(method, None, f"network error ({type(error).__name__})") from None
        try:
            envelope = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            envelope = None
        if not isinstance(envelope, dict):
            raise classify(method, status if status >= 400 else 502, None, "unreadable answer")
        if envelope.get("ok") is True and status < 400:
            return envelope.get("result")
        raw_code = envelope.get("error_code")
        code = raw_code if isinstance(raw_code, int) and not isinstance(raw_code, bool) else None
        description = self._scrub(str(envelope.get("description") or ""))[:200]
        raise classify(method, status, code, description)

    async def download(self, url: str, *, limit: int = MAX_PHOTO_BYTES) -> bytes:
        """The bytes at `url` (a photo a user sent: the platform gives bots its URL), at most
        `limit`; a typed `ZaloApiError` when it cannot be had."""
        if self._session is None or self._session.closed:
            raise RuntimeError("the Zalo client is not open")
        allowed = aiohttp.ClientTimeout(total=self._timeout)
        try:
            async with self._session.get(url, timeout=allowed) as response:
                if response.status >= 400:
                    raise classify("download", response.status, None, "the photo is gone")
                body = await response.content.read(limit + 1)
        except TimeoutError:
            raise Unavailable("download", None, "no answer in time") from None
        except aiohttp.ClientError as error:
            raise Unavailable("download", None, f"network error ({type(error).__name__})") from None
        if len(body) > limit:
            raise classify("download", 413, None, "the photo is too large")
        return body

    async def get_me(self) -> dict[str, Any]:
        result = await self.call("getMe")
        if not isinstance(result, dict):
            raise Unavailable("getMe", None, "unreadable answer")
        return result

    async def get_updates(self, wait: float) -> Any:
        """One update (or a list of them), or NoUpdate after `wait` seconds."""
        return await self.call("getUpdates", {"timeout": int(wait)}, seconds=wait + self._timeout)

    async def set_webhook(self, url: str, secret: str) -> Any:
        return await self.call("setWebhook", {"url": url, "secret_token": secret})

    async def delete_webhook(self) -> Any:
        return await self.call("deleteWebhook")

    async def send_chat_action(self, chat_id: str, action: str = "typing") -> Any:
        return await self.call("sendChatAction", {"chat_id": chat_id, "action": action})

    async def get_webhook_info(self) -> dict[str, Any]:
        result = await self.call("getWebhookInfo")
        return result if isinstance(result, dict) else {}


async def call_patiently(
    client: ZaloClient,
    method: str,
    params: dict[str, Any] | None,
    stop: asyncio.Event,
    *,
    first_delay: float = FIRST_BACKOFF,
) -> Any:
    """`client.call`, with `Unavailable` answers retried after a growing pause (up to
    MAX_BACKOFF) until the call works or `stop` is set (then the last error is raised).
    Every other error is raised at once."""
    delay = first_delay
    while True:
        try:
            return await client.call(method, params)
        except Unavailable as error:
            if stop.is_set():
                raise
            log.warning("%s failed (%s); retrying in %.1f s", method, error.description, delay)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=delay)
            delay = min(delay * 2, MAX_BACKOFF)
