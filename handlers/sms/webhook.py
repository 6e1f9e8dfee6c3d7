"""The gateway's webhooks at `/sms/webhook`: signature and freshness checked, each event stored
before the 2xx, each SMS taken once.

The gateway signs every POST: `X-Signature` is the lower-case hex HMAC-SHA256, with
SMS_WEBHOOK_SIGNING_KEY, of the raw body followed by the `X-Timestamp` value (Unix seconds).
A missing or wrong signature, or a timestamp more than 300 s from now, gets 403 before the
body is read as JSON, and nothing is stored. The gateway retries any answer that is not 2xx,
so 200 is given once the event is stored (or known already). An SMS is the same event when
the envelope's `id` is (the gateway's retries) or, failing that, when the sender,
`receivedAt` and text are (the payload's `messageId` is derived from the content, not
unique). An `sms:failed` event is logged with its reason and kept for `fieldtally status`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.messaging.inbox import Inbox
from handlers.http_server import MAX_BODY_BYTES
from handlers.sms.clock import Clock
from handlers.sms.settings import WEBHOOK_PATH
from storage.database import Database, Transaction
from storage.faults import is_storage_fault
from storage.sms import SmsFailure

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Signature"
TIMESTAMP_HEADER = "X-Timestamp"
MAX_SKEW = 300  # seconds a timestamp may be from now
BODY_TIMEOUT = 10.0
RECEIVED = "sms:received"
FAILED = "sms:failed"


class Envelope(BaseModel):
    """What the gateway posts for every event."""

    model_config = ConfigDict(extra="ignore")

    id: str = Field(min_length=1, max_length=200)
    event: str
    device_id: str | None = Field(default=None, alias="deviceId")
    webhook_id: str | None = Field(default=None, alias="webhookId")
    payload: dict[str, Any]


class ReceivedSms(BaseModel):
    """The payload of `sms:received`: the sender is `sender` (older gateways:
    `phoneNumber`), in national or international form, or a name (a carrier's notice)."""

    model_config = ConfigDict(extra="ignore")

    message: str = Field(max_length=10_000)
    sender: str | None = Field(default=None, max_length=64)
    phone_number: str | None = Field(default=None, alias="phoneNumber", max_length=64)
    received_at: dt.datetime = Field(alias="receivedAt")

    @property
    def from_(self) -> str:
        return (self.sender or self.phone_number or "").strip()


class FailedSms(BaseModel):
    model_config = ConfigDict(extra="ignore")

    message_id: str = Field(alias="messageId", max_length=200)
    phone_number: str = Field(default="", alias="phoneNumber", max_length=64)
    reason: str = Field(default="", max_length=500)


def signature_ok(key: bytes, body: bytes, timestamp: str, signature: str) -> bool:
    """Whether `signature` (hex, any case) is the gateway's for `body` and `timestamp`; any
    text (a forged header may hold anything) is compared as bytes, in constant time."""
    expected = hmac.new(key, body + timestamp.encode(), hashlib.sha256).hexdigest().encode()
    given = signature.strip().lower().encode("utf-8", "surrogateescape")
    return hmac.compare_digest(expected, given)


def content_key(sender: str, received_at: str, text: str) -> str:
    """An SMS named by what it is, whatever envelope brings it."""
    digest = hashlib.sha256("\x1f".join((sender, received_at, text)).encode()).hexdigest()
    return "sms:" + digest[:40]


class SmsWebhook:
    """The POST handler; `handle(event_id, payload)` is called for each SMS newly stored."""

    def __init__(
        self,
        *,
        signing_key: str,
        inbox: Inbox,
        db: Database,
        clock: Clock,
        handle: Callable[[str, str], Awaitable[None]],
    ) -> None:
        self._key = signing_key.encode()
        self._inbox = inbox
        self._db = db
        self._clock = clock
        self._handle = handle

    def routes(self) -> list[web.RouteDef]:
        return [web.post(WEBHOOK_PATH, self.receive)]

    async def receive(self, request: web.Request) -> web.Response:
        try:
            body = await asyncio.wait_for(request.read(), timeout=BODY_TIMEOUT)
        except (TimeoutError, web.HTTPRequestEntityTooLarge):
            return web.Response(status=400)
        if len(body) > MAX_BODY_BYTES:
            return web.Response(status=400)
        if not self._authentic(request, body):
            return web.Response(status=403)
        try:
            envelope = Envelope.model_validate_json(body)
        except ValidationError:
            log.warning("sms webhook: a signed body that is not a gateway event (400)")
            return web.Response(status=400)
        try:
            if envelope.event == RECEIVED:
                return await self._received(envelope, body)
            if envelope.event == FAILED:
                return await self._failed(envelope)
        except Exception as error:
            if not is_storage_fault(error):
                log.exception("sms webhook: storing event %s failed", envelope.id)
            return web.Response(status=503)  # the gateway sends it again
        return web.Response(status=200)  # an event we did not ask for: nothing to do

    def _authentic(self, request: web.Request, body: bytes) -> bool:
        signature = request.headers.get(SIGNATURE_HEADER)
        stamp = request.headers.get(TIMESTAMP_HEADER)
        if not signature or not stamp or not stamp.isascii() or not stamp.strip().isdigit():
            log.warning("sms webhook: refused a request without signature or timestamp")
            return False
        if not signature_ok(self._key, body, stamp, signature):
            log.warning("sms webhook: refused a request with a wrong signature")
            return False
        skew = int(self._clock.time()) - int(stamp)
        if abs(skew) > MAX_SKEW:
            log.warning("sms webhook: refused a request whose timestamp is %d s off", skew)
            return False
        return True

    async def _received(self, envelope: Envelope, body: bytes) -> web.Response:
        try:
            sms = ReceivedSms.model_validate(envelope.payload)
        except ValidationError:
            log.warning("sms webhook: event %s has no readable SMS (400)", envelope.id)
            return web.Response(status=400)
        raw_received = str(envelope.payload.get("receivedAt", ""))
        keys = ["id:" + envelope.id, content_key(sms.from_, raw_received, sms.message)]
        event_id = envelope.id
        stored = await self._inbox.store_unseen(event_id, body.decode("utf-8", "replace"), keys)
        if stored:
            await self._handle(event_id, body.decode("utf-8", "replace"))
        else:
            log.info("sms webhook: event %s delivered again; taken once", envelope.id)
        return web.Response(status=200)

    async def _failed(self, envelope: Envelope) -> web.Response:
        try:
            failed = FailedSms.model_validate(envelope.payload)
        except ValidationError:
            return web.Response(status=400)
        failure = SmsFailure(
            failed.message_id, failed.phone_number, failed.reason or "unknown",
            int(self._clock.time()),
        )  # fmt: skip
        bot = self._inbox.bot
        now = int(self._clock.time())

        def keep(tx: Transaction) -> bool:
            if not tx.first_sighting(bot, ["id:" + envelope.id], now):
                return False
            tx.sms_failure(bot, failure)
            return True

        if await self._db.write(keep):
            log.warning("sms: the gateway could not send message %s to %s: %s",
                        failure.outbox_id, failure.phone, failure.reason)  # fmt: skip
        return web.Response(status=200)


def parse_event(payload: str) -> tuple[Envelope, ReceivedSms] | None:
    """A stored `sms:received` event read back (None: not one, or unreadable)."""
    try:
        envelope = Envelope.model_validate(json.loads(payload))
        if envelope.event != RECEIVED:
            return None
        return envelope, ReceivedSms.model_validate(envelope.payload)
    except (ValueError, ValidationError):
        return None
