"""The Zalo Bot API client (handlers/zalo/client.py) against the Zalo sandbox over loopback:
the envelope is read, not only the HTTP status (Zalo answers errors with 200 and `"ok":
false`), each failure is a typed error (401 fatal, 429 the quota, 408 no update, 5xx and
network drops passing, the rest final), passing failures are retried until they work or the
bot stops, and no error ever carries the token."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from pydantic import SecretStr

from handlers.zalo.client import (
    NoUpdate,
    QuotaSpent,
    Refused,
    Unauthorized,
    Unavailable,
    ZaloApiError,
    ZaloClient,
    call_patiently,
    classify,
)
from sandbox.zalo import ZaloSandbox


@pytest.fixture
async def zs() -> AsyncIterator[ZaloSandbox]:
    async with ZaloSandbox() as sandbox:
        yield sandbox


@pytest.fixture
async def bot(zs: ZaloSandbox) -> AsyncIterator[tuple[ZaloClient, str, str]]:
    token, bot_id = zs.add_bot("bot.phalong", can_join_groups=True)
    client = ZaloClient(zs.url, SecretStr(token), timeout=10)
    await client.open()
    try:
        yield client, token, bot_id
    finally:
        await client.close()


@pytest.mark.parametrize(
    ("status", "code", "method", "kind"),
    [
        (200, 401, "getMe", Unauthorized),
        (401, None, "sendMessage", Unauthorized),
        (200, 429, "sendMessage", QuotaSpent),
        (429, 429, "sendPhoto", QuotaSpent),
        (200, 408, "getUpdates", NoUpdate),
        (200, 408, "sendMessage", Unavailable),  # a timeout elsewhere: passing
        (502, None, "sendMessage", Unavailable),
        (200, 503, "sendMessage", Unavailable),
        (200, 400, "sendMessage", Refused),
        (403, 403, "sendMessage", Refused),
    ],
)
def test_each_answer_is_a_typed_error(
    status: int, code: int | None, method: str, kind: type[ZaloApiError]
) -> None:
    assert type(classify(method, status, code, "")) is kind


async def test_getme_reads_the_result(bot: tuple[ZaloClient, str, str]) -> None:
    client, _, bot_id = bot
    me = await client.get_me()
    assert (str(me["id"]), me["can_join_groups"]) == (bot_id, True)


async def test_errors_in_a_200_envelope_are_read(
    zs: ZaloSandbox, bot: tuple[ZaloClient, str, str]
) -> None:
    client, token, _ = bot
    zs.fail_next("sendMessage", 1, status=429, http_status=200)
    with pytest.raises(QuotaSpent):
        await client.call("sendMessage", {"chat_id": "x", "text": "a"})
    with pytest.raises(Refused) as refused:  # nobody wrote to the bot: no such chat
        await client.call("sendMessage", {"chat_id": "nobody", "text": "a"})
    assert refused.value.code == 400 and token not in str(refused.value)


async def test_a_token_zalo_does_not_know_is_unauthorized_without_the_token(
    zs: ZaloSandbox,
) -> None:
    _, bot_id = zs.add_bot("bot.other")
    client = ZaloClient(zs.url, SecretStr(f"{bot_id}:wrong-secret-value"))
    await client.open()
    try:
        with pytest.raises(Unauthorized) as rejected:
            await client.get_me()
    finally:
        await client.close()
    assert "wrong-secret-value" not in str(rejected.value)


async def test_no_update_is_408(bot: tuple[ZaloClient, str, str]) -> None:
    client, _, _ = bot
    with pytest.raises(NoUpdate):
        await client.get_updates(0)


async def test_drops_and_server_errors_are_retried_until_they_work(
    zs: ZaloSandbox, bot: tuple[ZaloClient, str, str]
) -> None:
    client, token, _ = bot
    zs.drop_next("getMe", 1)
    zs.fail_next("getMe", 2, status=503)
    me = await call_patiently(client, "getMe", None, asyncio.Event(), first_delay=0.01)
    assert me["account_name"] == "bot.phalong"
    assert [c.http_status for c in zs.calls("getMe", bot=token)][-3:] == [503, 503, 200]


async def test_retries_give_up_when_the_bot_stops(
    zs: ZaloSandbox, bot: tuple[ZaloClient, str, str]
) -> None:
    client, _, _ = bot
    zs.set_outage(True)
    stop = asyncio.Event()
    stop.set()
    with pytest.raises(Unavailable) as gave_up:
        await call_patiently(client, "getMe", None, stop, first_delay=0.01)
    assert gave_up.value.code == 503


async def test_a_network_error_names_no_url(zs: ZaloSandbox) -> None:
    secret = "s3cr3t-in-the-path"
    client = ZaloClient("http://127.0.0.1:9", SecretStr(f"123:{secret}"), timeout=5)
    await client.open()
    try:
        with pytest.raises(Unavailable) as failed:
            await client.get_me()
    finally:
        await client.close()
    assert secret not in str(failed.value) and "network error" in str(failed.value)
