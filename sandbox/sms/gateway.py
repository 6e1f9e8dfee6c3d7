"""A fake SMS Gateway for Android on loopback: its HTTP API as the `android-sms-gateway` client
uses it, and the phone's side (SMS arriving from people, posted as signed webhooks).

The API, under both of the gateway's roots (the phone's local server `/` and the cloud or
private server `/3rdparty/v1`), with basic auth:

* `POST /message` or `/messages`: an SMS to send; a client-given `id` already known gets
  409 (so a retry after a lost answer sends nothing twice); a number that is not E.164 gets
  400 (the gateway's server reads a number without `+` as another country's);
* `GET /message/{id}` or `/messages/{id}`: the message's state;
* `GET`, `POST /webhooks`, `DELETE /webhooks/{id}`: the registrations; a POST with an `id`
  already registered replaces it.

An SMS from a phone (`receive`) becomes a webhook POST to every registration of
`sms:received`, signed as the gateway signs (`X-Signature`: lower-case hex HMAC-SHA256 of the
raw body followed by `X-Timestamp`, Unix seconds, with the signing key) and retried while the
answer is not 2xx. `fail` posts an `sms:failed` event. Faults: `outage` ("unreachable": the
connection is dropped; "error": 500; "queue_full": 503) and `lose_answers` (the message is
accepted, the answer never arrives). Every event a test may wait for wakes `changed`.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import itertools
import json
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Literal

import aiohttp
from aiohttp import web

Outage = Literal["unreachable", "error", "queue_full"]
CLOUD_ROOT = "/3rdparty/v1"
DEFAULT_WAIT = 30.0  # seconds a wait may take before it fails (a guard against hangs only)
_E164 = re.compile(r"\+[1-9][0-9]{7,14}")


@dataclass
class SentSms:
    """A message the gateway accepted (sent by the phone)."""

    id: str
    phone: str
    text: str
    with_delivery_report: bool
    seq: int


@dataclass
class Delivery:
    """One webhook event and every attempt to post it (the HTTP statuses, or 0 for a
    connection that failed)."""

    envelope: dict[str, Any]
    url: str
    attempts: list[int] = field(default_factory=list)
    done: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def delivered(self) -> bool:
        return any(200 <= status < 300 for status in self.attempts)


def sign(key: str, body: bytes, timestamp: str) -> str:
    """The gateway's webhook signature: hex HMAC-SHA256(key, body + timestamp)."""
    return hmac.new(key.encode(), body + timestamp.encode(), hashlib.sha256).hexdigest()


class SmsGatewaySandbox:
    """The fake gateway. `async with SmsGatewaySandbox(...) as gw:` then `gw.url` (the local
    server's root) or `gw.cloud_url` (the cloud server's)."""

    def __init__(
        self,
        *,
        user: str = "sms",
        password: str = "sms-password",
        signing_key: str = "sms-signing-key",
        device_id: str = "sandbox-phone",
        retries: int = 5,
        retry_delay: float = 0.05,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.user = user
        self.password = password
        self.signing_key = signing_key
        self.device_id = device_id
        self.retries = retries  # webhook posts after the first while the answer is not 2xx
        self.retry_delay = retry_delay  # the gateway's pause between them (its own schedule)
        self.clock = clock  # what X-Timestamp says
        self.messages: dict[str, SentSms] = {}
        self.webhooks: dict[str, dict[str, str]] = {}
        self.deliveries: list[Delivery] = []
        self.outage: Outage | None = None
        self.lose_answers = 0  # accept the next N messages but drop the answer
        self.refused_sends = 0  # POSTs refused by an outage
        self.conflicts = 0  # POSTs of an id already known (409)
        self.changed = asyncio.Condition()
        self._seq = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self._port = 0
        self._session: aiohttp.ClientSession | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    # --- lifecycle -------------------------------------------------------------------------

    async def __aenter__(self) -> SmsGatewaySandbox:
        await self.start()
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        app = web.Application()
        for root in ("", CLOUD_ROOT):
            for path in ("/message", "/messages"):
                app.router.add_post(root + path, self._send)
                app.router.add_get(root + path + "/{id}", self._state)
            app.router.add_get(root + "/webhooks", self._list_webhooks)
            app.router.add_post(root + "/webhooks", self._add_webhook)
            app.router.add_delete(root + "/webhooks/{id}", self._delete_webhook)
            app.router.add_get(root + "/health", self._health)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        self._port = int(server.sockets[0].getsockname()[1])  # type: ignore[attr-defined]
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def url(self) -> str:
        """The local server's API root (`http://<phone>:8080` on a real phone)."""
        return f"http://127.0.0.1:{self._port}"

    @property
    def cloud_url(self) -> str:
        """The cloud or private server's API root."""
        return self.url + CLOUD_ROOT

    # --- the API ---------------------------------------------------------------------------

    def _authorized(self, request: web.Request) -> bool:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return False
        try:
            given = base64.b64decode(header[6:], validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return False
        return hmac.compare_digest(given, f"{self.user}:{self.password}")

    async def _guard(self, request: web.Request) -> web.Response | None:
        """The answer an outage or missing credentials give instead, if any."""
        if self.outage == "unreachable":
            self.refused_sends += request.method == "POST"
            await self._notify()
            assert request.transport is not None
            request.transport.abort()  # the client sees the connection fail
            raise asyncio.CancelledError
        if self.outage is not None:
            self.refused_sends += request.method == "POST"
            await self._notify()
            status = 503 if self.outage == "queue_full" else 500
            return web.json_response({"message": f"sandbox outage: {self.outage}"}, status=status)
        if not self._authorized(request):
            return web.json_response({"message": "unauthorized"}, status=401)
        return None

    async def _send(self, request: web.Request) -> web.Response:
        refused = await self._guard(request)
        if refused is not None:
            return refused
        try:
            body = await request.json()
        except ValueError:
            return web.json_response({"message": "not JSON"}, status=400)
        text = (body.get("textMessage") or {}).get("text") or body.get("message")
        phones = body.get("phoneNumbers")
        if not isinstance(text, str) or not isinstance(phones, list) or not phones:
            return web.json_response({"message": "textMessage and phoneNumbers"}, status=400)
        skip = request.query.get("skipPhoneValidation") == "true"
        if not skip and not all(isinstance(p, str) and _E164.fullmatch(p) for p in phones):
            return web.json_response({"message": "phone numbers must be E.164"}, status=400)
        message_id = body.get("id") or uuid.uuid4().hex
        if message_id in self.messages:
            self.conflicts += 1
            await self._notify()
            return web.json_response({"message": "message already exists"}, status=409)
        for phone in phones:
            sms = SentSms(message_id, phone, text, bool(body.get("withDeliveryReport", True)),
                          next(self._seq))  # fmt: skip
            self.messages[message_id] = sms
        await self._notify()
        if self.lose_answers > 0:
            self.lose_answers -= 1
            assert request.transport is not None
            request.transport.abort()  # accepted, but the answer is lost
            raise asyncio.CancelledError
        return web.json_response(self._state_of(message_id), status=202)

    def _state_of(self, message_id: str) -> dict[str, Any]:
        sms = self.messages[message_id]
        return {
            "id": message_id,
            "deviceId": self.device_id,
            "state": "Sent",
            "isHashed": False,
            "isEncrypted": False,
            "recipients": [{"phoneNumber": sms.phone, "state": "Sent"}],
        }

    async def _state(self, request: web.Request) -> web.Response:
        refused = await self._guard(request)
        if refused is not None:
            return refused
        message_id = request.match_info["id"]
        if message_id not in self.messages:
            return web.json_response({"message": "not found"}, status=404)
        return web.json_response(self._state_of(message_id))

    async def _list_webhooks(self, request: web.Request) -> web.Response:
        refused = await self._guard(request)
        if refused is not None:
            return refused
        return web.json_response(list(self.webhooks.values()))

    async def _add_webhook(self, request: web.Request) -> web.Response:
        refused = await self._guard(request)
        if refused is not None:
            return refused
        body = await request.json()
        if not isinstance(body.get("url"), str) or not isinstance(body.get("event"), str):
            return web.json_response({"message": "url and event"}, status=400)
        webhook_id = body.get("id") or uuid.uuid4().hex
        self.webhooks[webhook_id] = {"id": webhook_id, "url": body["url"], "event": body["event"]}
        await self._notify()
        return web.json_response(self.webhooks[webhook_id], status=201)

    async def _delete_webhook(self, request: web.Request) -> web.Response:
        refused = await self._guard(request)
        if refused is not None:
            return refused
        self.webhooks.pop(request.match_info["id"], None)
        return web.Response(status=204)

    async def _health(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "pass"})

    # --- the phone's side -------------------------------------------------------------------

    def receive(
        self,
        phone: str,
        text: str,
        *,
        received_at: str | None = None,
        envelope_id: str | None = None,
        legacy: bool = False,
    ) -> list[Delivery]:
        """An SMS arrives from `phone`: posted to every `sms:received` webhook (retried while
        the answer is not 2xx). `legacy`: the sender as an older gateway names it
        (`phoneNumber` only). Returns the deliveries; wait on their `done`."""
        moment = received_at or time.strftime("%Y-%m-%dT%H:%M:%S.000+07:00")
        payload: dict[str, Any] = {
            "messageId": hashlib.sha256(f"{phone}{text}".encode()).hexdigest()[:16],
            "message": text,
            "phoneNumber": phone,
            "receivedAt": moment,
            "simNumber": 1,
        }
        if not legacy:
            payload["sender"] = phone
        return self._emit("sms:received", payload, envelope_id)

    def fail(self, message_id: str, reason: str = "RESULT_ERROR_GENERIC_FAILURE") -> list[Delivery]:
        """The phone could not send a message it accepted: an `sms:failed` event."""
        sms = self.messages.get(message_id)
        payload = {
            "messageId": message_id,
            "phoneNumber": sms.phone if sms else "",
            "reason": reason,
            "failedAt": time.strftime("%Y-%m-%dT%H:%M:%S.000+07:00"),
        }
        return self._emit("sms:failed", payload, None)

    def envelope(
        self, event: str, payload: dict[str, Any], envelope_id: str | None = None
    ) -> dict[str, Any]:
        webhook_id = next((w["id"] for w in self.webhooks.values() if w["event"] == event), "")
        return {
            "deviceId": self.device_id,
            "event": event,
            "id": envelope_id or uuid.uuid4().hex,
            "payload": payload,
            "webhookId": webhook_id,
        }

    def _emit(self, event: str, payload: dict[str, Any], envelope_id: str | None) -> list[Delivery]:
        envelope = self.envelope(event, payload, envelope_id)
        deliveries = []
        for webhook in self.webhooks.values():
            if webhook["event"] != event:
                continue
            delivery = Delivery(dict(envelope, webhookId=webhook["id"]), webhook["url"])
            self.deliveries.append(delivery)
            deliveries.append(delivery)
            task = asyncio.get_running_loop().create_task(self._deliver(delivery))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return deliveries

    def signed_headers(
        self, body: bytes, *, timestamp: int | None = None, key: str | None = None
    ) -> dict[str, str]:
        stamp = str(int(self.clock()) if timestamp is None else timestamp)
        return {
            "Content-Type": "application/json",
            "X-Timestamp": stamp,
            "X-Signature": sign(self.signing_key if key is None else key, body, stamp),
        }

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        """One raw POST to a webhook URL (a test's forged or stale request): its status."""
        assert self._session is not None
        try:
            async with self._session.post(url, data=body, headers=headers) as response:
                await response.read()
                return response.status
        except aiohttp.ClientError:
            return 0

    async def _deliver(self, delivery: Delivery) -> None:
        body = json.dumps(delivery.envelope, ensure_ascii=False).encode()
        for attempt in range(self.retries + 1):
            if attempt:
                await asyncio.sleep(self.retry_delay * 2 ** (attempt - 1))  # the gateway's own
            status = await self.post(delivery.url, body, self.signed_headers(body))
            delivery.attempts.append(status)
            await self._notify()
            if 200 <= status < 300:
                break
        delivery.done.set()
        await self._notify()

    # --- what tests read and wait for --------------------------------------------------------

    async def _notify(self) -> None:
        async with self.changed:
            self.changed.notify_all()

    def sent_to(self, phone: str) -> list[str]:
        """The texts sent to `phone`, in order."""
        return [m.text for m in sorted(self.messages.values(), key=lambda m: m.seq)
                if m.phone == phone]  # fmt: skip

    def sent(self) -> list[SentSms]:
        return sorted(self.messages.values(), key=lambda m: m.seq)

    async def wait_until(
        self, predicate: Callable[[], bool], patience: float = DEFAULT_WAIT
    ) -> None:
        """Until `predicate()` holds (checked at each change); TimeoutError after `timeout`."""
        async with self.changed:
            await asyncio.wait_for(self.changed.wait_for(predicate), patience)

    async def wait_sent(self, phone: str, count: int, patience: float = DEFAULT_WAIT) -> list[str]:
        """Until `count` messages have been sent to `phone`; returns them."""
        await self.wait_until(lambda: len(self.sent_to(phone)) >= count, patience)
        return self.sent_to(phone)

    async def delivered(self, deliveries: list[Delivery], patience: float = DEFAULT_WAIT) -> None:
        """Until every delivery is over (delivered, or its retries spent)."""
        await self.wait_until(lambda: all(d.done.is_set() for d in deliveries), patience)
