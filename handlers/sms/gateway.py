"""The gateway's HTTP API through its maintained client (`android-sms-gateway`, async, on an
aiohttp session of our own): hand one SMS over, register a webhook.

A hand-over's outcome is typed: accepted; already accepted (409: the id is known, a retry
after a lost answer); to retry (unreachable, 5xx, 503 "queue full", 429, wrong credentials:
nothing is dropped while an admin fixes them); refused for good (any other 4xx: a number the
gateway will not take). Error texts never hold the password (basic auth travels in a
header, and the client's errors name only the URL and the status).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import aiohttp
from android_sms_gateway import AsyncAPIClient, Message, TextMessage, Webhook
from android_sms_gateway.ahttp import AiohttpAsyncHttpClient
from android_sms_gateway.enums import WebhookEvent
from android_sms_gateway.errors import APIError

from handlers.sms.settings import SmsSettings

log = logging.getLogger(__name__)

REQUEST_TIMEOUT = 20.0  # seconds for one API call (a phone on a slow network answers slowly)


class Handover(StrEnum):
    ACCEPTED = "accepted"
    ALREADY = "already"  # 409: the gateway has this id already (a retry of an accepted one)
    RETRY = "retry"  # a passing failure: try again later
    REFUSED = "refused"  # for good: kept as failed, with the reason


@dataclass(frozen=True, slots=True)
class HandoverResult:
    outcome: Handover
    reason: str = ""


class GatewayError(Exception):
    """A call other than a hand-over failed (the reason: unreachable, an HTTP status)."""


class GatewayClient:
    """One gateway (its API root and credentials), open between `open` and `close`."""

    def __init__(self, settings: SmsSettings) -> None:
        assert settings.gateway_url is not None and settings.password is not None
        self._url = settings.gateway_url
        self._user = settings.user
        self._password = settings.password
        self._session: aiohttp.ClientSession | None = None
        self._client: Any = None  # AsyncAPIClient (the package ships no type information)

    @property
    def url(self) -> str:
        return self._url

    async def open(self) -> None:
        timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
        self._session = aiohttp.ClientSession(timeout=timeout)
        self._client = AsyncAPIClient(
            self._user, self._password.get_secret_value(), base_url=self._url,
            http_client=AiohttpAsyncHttpClient(self._session),
        )  # fmt: skip

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def send(self, message_id: str, phone: str, text: str) -> HandoverResult:
        """Hand one SMS to the gateway under `message_id` (stable: a retry cannot send twice)."""
        message = Message(phone_numbers=[phone], text_message=TextMessage(text), id=message_id)
        try:
            await self._client.send(message)
        except APIError as error:
            return _judge(error)
        except (aiohttp.ClientError, TimeoutError, OSError) as error:
            return HandoverResult(Handover.RETRY, f"unreachable ({type(error).__name__})")
        except (KeyError, ValueError, TypeError):
            # A 2xx answer of a shape the client does not read: the gateway took it.
            return HandoverResult(Handover.ACCEPTED)
        return HandoverResult(Handover.ACCEPTED)

    async def register_webhook(self, webhook_id: str, url: str, event: str) -> None:
        """Register (or, with the same id, replace) the webhook for `event`."""
        try:
            await self._client.create_webhook(
                Webhook(id=webhook_id, url=url, event=WebhookEvent(event))
            )
        except APIError as error:
            raise GatewayError(f"HTTP {error.status_code}") from None
        except (aiohttp.ClientError, TimeoutError, OSError) as error:
            raise GatewayError(f"unreachable ({type(error).__name__})") from None


def _judge(error: APIError) -> HandoverResult:
    status = error.status_code or 0
    if status == 409:
        return HandoverResult(Handover.ALREADY)
    detail = ""
    if isinstance(error.response, dict) and isinstance(error.response.get("message"), str):
        detail = ": " + error.response["message"][:200]
    reason = f"HTTP {status}{detail}"
    if status >= 500 or status in (401, 403, 408, 429) or status == 0:
        return HandoverResult(Handover.RETRY, reason)
    return HandoverResult(Handover.REFUSED, reason)
