"""End to end on Zalo: a counting record read back in plain text (Zalo has no buttons),
confirmed with a typed `đúng`, and a photo of the signed record kept with its SHA-256; the
bot fetches the photo from the URL the platform gives (here a loopback HTTP server), as
`message.image.received` carries it. The rules themselves are proven through the in-memory
channel (tests/test_results_flow.py)."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from bot.messaging.answers import Status
from bot.results.imports import import_results
from bot.results.intake import RecordReason
from sandbox.zalo import ZaloSandbox
from storage.database import Database
from tests.harness import SAMPLE, free_port
from tests.results_data import THREE_COMMUNES, files_of
from tests.test_e2e_zalo import Bot
from tests.zalo_harness import ZaloRun, at, prepare, zalo_identity

PHONE_02752_01 = "0912001000"
RECORD = "KQ QH\nbp 250, pr 250, tv 250\nhl 245, khl 5\n1) 200 2) 180 3) 150 4) 100 5) 90"
PHOTO = b"\xff\xd8\xff\xe0" + b"a signed counting record" * 40


@pytest.fixture
async def zs() -> AsyncIterator[ZaloSandbox]:
    async with ZaloSandbox() as sandbox:
        yield sandbox


@pytest.fixture
async def photo_url() -> AsyncIterator[str]:
    """Where the platform keeps the photo a user sent (a loopback server)."""

    async def serve(_: web.Request) -> web.Response:
        return web.Response(body=PHOTO, content_type="image/jpeg")

    app = web.Application()
    app.router.add_get("/photo.jpg", serve)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}/photo.jpg"
    finally:
        await runner.cleanup()


@pytest.fixture
async def bot(zs: ZaloSandbox, tmp_path: Path) -> AsyncIterator[Bot]:
    token, bot_id = zs.add_bot("fieldtally.bot")
    chief = zalo_identity(bot_id, zs.add_user(token, "chief"))
    db = tmp_path / "zalo.db"
    await prepare(db, [(chief, PHONE_02752_01)], units=SAMPLE)
    store = await Database.open(str(db))
    try:
        outcome = await import_results(store, files_of(THREE_COMMUNES))
        assert outcome.stored, outcome.text
    finally:
        await store.close()
    run = ZaloRun(zs, db, {"ZALO_BOT_TOKEN": token})
    await run.start()
    try:
        yield Bot(run, token, bot_id)
    finally:
        await run.stop()


async def test_a_record_is_confirmed_by_typing_and_its_photo_kept(bot: Bot, photo_url: str) -> None:
    zs = bot.run.zs
    read_back = await bot.answer(zs.user_says(bot.token, "chief", RECORD, date=at(21)))
    assert read_back.reason == RecordReason.AWAITING_CONFIRMATION
    sent = zs.sent_messages(bot.token)
    assert "trả lời «đúng»" in sent[-1].text  # no buttons on Zalo: the text says what to type
    stored = await bot.answer(zs.user_says(bot.token, "chief", "dung", date=at(21, 1)))
    assert (stored.status, stored.reason) == (Status.ACCEPTED, RecordReason.STORED)

    event = "message.image.received"
    message_id = zs.user_sends_image(bot.token, "chief", photo_url, "KQ QH", date=at(21, 2))
    kept = await bot.answer(message_id, event)
    assert kept.reason == RecordReason.PHOTO_KEPT
    assert zs.sent_messages(bot.token)[-1].text.startswith("✅ Đã lưu ảnh biên bản")
    store = await Database.open(str(bot.run.db))
    try:
        [photo] = await store.results.photos("02752-01")
        [record] = await store.results.records_of_area("02752-01")
    finally:
        await store.close()
    assert photo.sha256 == hashlib.sha256(PHOTO).hexdigest() and photo.record_id == record.id
