"""The SMS gateway sandbox speaks the gateway's API as its Python client uses it, signs its
webhooks as the gateway does, and fails on demand (the backbone of the SMS tests)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from handlers.sms.gateway import GatewayClient, GatewayError, Handover
from handlers.sms.settings import SmsSettings
from handlers.sms.webhook import signature_ok
from sandbox.sms import SmsGatewaySandbox


@pytest.fixture
async def gateway() -> AsyncIterator[SmsGatewaySandbox]:
    async with SmsGatewaySandbox(retry_delay=0.01) as sandbox:
        yield sandbox


def settings(url: str, password: str = "sms-password") -> SmsSettings:
    return SmsSettings(
        _env_file=None,
        SMS_GATEWAY_URL=url, SMS_GATEWAY_USER="sms", SMS_GATEWAY_PASSWORD=password,
    )  # fmt: skip


@pytest.fixture
async def client(gateway: SmsGatewaySandbox) -> AsyncIterator[GatewayClient]:
    api = GatewayClient(settings(gateway.url))
    await api.open()
    yield api
    await api.close()


class Receiver:
    """A webhook endpoint that answers the statuses it is given, in turn, then 200."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = statuses
        self.requests: list[tuple[bytes, dict[str, str]]] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.requests.append((await request.read(), dict(request.headers)))
        return web.Response(status=self.statuses.pop(0) if self.statuses else 200)


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[Receiver, str]]:
    target = Receiver([])
    app = web.Application()
    app.router.add_post("/sms/webhook", target.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield target, f"http://127.0.0.1:{port}/sms/webhook"
    await runner.cleanup()


async def test_a_message_is_sent_once_per_id(
    gateway: SmsGatewaySandbox, client: GatewayClient
) -> None:
    first = await client.send("ft-1", "+84912345678", "Da luu KV05")
    again = await client.send("ft-1", "+84912345678", "Da luu KV05")
    assert (first.outcome, again.outcome) == (Handover.ACCEPTED, Handover.ALREADY)
    assert gateway.sent_to("+84912345678") == ["Da luu KV05"]
    assert gateway.conflicts == 1


async def test_the_cloud_root_serves_the_same_api(gateway: SmsGatewaySandbox) -> None:
    api = GatewayClient(settings(gateway.cloud_url))
    await api.open()
    try:
        assert (await api.send("ft-2", "+84912345678", "xin chao")).outcome is Handover.ACCEPTED
    finally:
        await api.close()
    assert gateway.sent_to("+84912345678") == ["xin chao"]


async def test_a_number_without_country_code_is_refused_for_good(client: GatewayClient) -> None:
    result = await client.send("ft-3", "0912345678", "x")
    assert result.outcome is Handover.REFUSED
    assert result.reason.startswith("HTTP 400")


async def test_wrong_credentials_are_retried_not_dropped(gateway: SmsGatewaySandbox) -> None:
    api = GatewayClient(settings(gateway.url, password="wrong"))
    await api.open()
    try:
        result = await api.send("ft-4", "+84912345678", "x")
    finally:
        await api.close()
    assert (result.outcome, result.reason.split(":")[0]) == (Handover.RETRY, "HTTP 401")
    assert gateway.sent() == []


@pytest.mark.parametrize(
    ("outage", "reason"),
    [("unreachable", "unreachable"), ("error", "HTTP 500"), ("queue_full", "HTTP 503")],
)
async def test_an_outage_asks_for_a_retry(
    gateway: SmsGatewaySandbox, client: GatewayClient, outage: Any, reason: str
) -> None:
    gateway.outage = outage
    result = await client.send("ft-5", "+84912345678", "x")
    assert result.outcome is Handover.RETRY
    assert result.reason.startswith(reason)
    assert gateway.refused_sends == 1
    gateway.outage = None
    assert (await client.send("ft-5", "+84912345678", "x")).outcome is Handover.ACCEPTED
    assert gateway.sent_to("+84912345678") == ["x"]


async def test_a_lost_answer_then_a_retry_sends_one_sms(
    gateway: SmsGatewaySandbox, client: GatewayClient
) -> None:
    gateway.lose_answers = 1
    lost = await client.send("ft-6", "+84912345678", "x")
    retried = await client.send("ft-6", "+84912345678", "x")
    assert (lost.outcome, retried.outcome) == (Handover.RETRY, Handover.ALREADY)
    assert gateway.sent_to("+84912345678") == ["x"]


async def test_a_webhook_registered_again_under_its_id_replaces_it(
    gateway: SmsGatewaySandbox, client: GatewayClient
) -> None:
    await client.register_webhook("fieldtally-sms-received", "https://a.example/x", "sms:received")
    await client.register_webhook("fieldtally-sms-received", "https://b.example/x", "sms:received")
    await client.register_webhook("fieldtally-sms-failed", "https://b.example/x", "sms:failed")
    assert gateway.webhooks == {
        "fieldtally-sms-received": {
            "id": "fieldtally-sms-received", "url": "https://b.example/x", "event": "sms:received",
        },
        "fieldtally-sms-failed": {
            "id": "fieldtally-sms-failed", "url": "https://b.example/x", "event": "sms:failed",
        },
    }  # fmt: skip


async def test_registering_while_the_gateway_is_down_fails(
    gateway: SmsGatewaySandbox, client: GatewayClient
) -> None:
    gateway.outage = "queue_full"
    with pytest.raises(GatewayError, match="HTTP 503"):
        await client.register_webhook("w", "https://a.example/x", "sms:received")


async def test_an_sms_from_a_phone_is_posted_signed_and_retried_until_2xx(
    gateway: SmsGatewaySandbox,
    client: GatewayClient,
    receiver: tuple[Receiver, str],
) -> None:
    target, url = receiver
    await client.register_webhook("in", url, "sms:received")
    target.statuses = [500, 503]
    [delivery] = gateway.receive(
        "0912345678", "250/320 9h", received_at="2021-05-23T09:01:00+07:00"
    )
    await gateway.delivered([delivery])
    assert delivery.attempts == [500, 503, 200]
    bodies = {body for body, _ in target.requests}
    assert len(bodies) == 1  # the same envelope, the same id, every time
    body, headers = target.requests[-1]
    assert signature_ok(b"sms-signing-key", body, headers["X-Timestamp"], headers["X-Signature"])
    envelope = json.loads(body)
    assert envelope["event"] == "sms:received"
    assert envelope["webhookId"] == "in"
    assert envelope["payload"]["sender"] == "0912345678"
    assert envelope["payload"]["message"] == "250/320 9h"
    assert envelope["payload"]["receivedAt"] == "2021-05-23T09:01:00+07:00"


async def test_a_failure_is_posted_on_demand(
    gateway: SmsGatewaySandbox, client: GatewayClient, receiver: tuple[Receiver, str]
) -> None:
    target, url = receiver
    await client.register_webhook("failed", url, "sms:failed")
    await client.send("ft-7", "+84912345678", "x")
    deliveries = gateway.fail("ft-7", "RESULT_ERROR_NO_SERVICE")
    await gateway.delivered(deliveries)
    payload = json.loads(target.requests[0][0])["payload"]
    assert payload == payload | {
        "messageId": "ft-7", "phoneNumber": "+84912345678", "reason": "RESULT_ERROR_NO_SERVICE",
    }  # fmt: skip


async def test_waiting_for_sends_wakes_on_the_send(
    gateway: SmsGatewaySandbox, client: GatewayClient
) -> None:
    waiting = asyncio.create_task(gateway.wait_sent("+84912345678", 2))
    await client.send("a", "+84912345678", "one")
    assert not waiting.done()
    await client.send("b", "+84912345678", "two")
    assert await waiting == ["one", "two"]
