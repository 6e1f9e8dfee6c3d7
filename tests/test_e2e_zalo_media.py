"""End to end on Zalo: charts and exports as expiring links (CHANNELS.md, "Photos by URL
only, no documents"), through the Zalo send path.

`/tonghop` on Zalo sends its charts as `sendPhoto` URLs under FIELDTALLY_PUBLIC_URL that the
platform fetches at once (valid PNGs); the same URL answers 404 once FIELDTALLY_MEDIA_TTL has
passed. `/xuat` answers with a `/media` link that downloads the CSV or the XLSX (with
`Cache-Control: no-store`), valid FIELDTALLY_EXPORT_LINK_TTL seconds and 404 after. The links
expire on a clock the test moves: nothing waits for time to pass."""

from __future__ import annotations

import csv
import io
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import openpyxl
import pytest

from bot.messaging.answers import Status
from sandbox.zalo import ZaloSandbox
from tests.zalo_harness import Observed, ZaloRun, at, prepare, zalo_identity

PNG = b"\x89PNG\r\n\x1a\n"
MEDIA_TTL, EXPORT_TTL = 120, 3600
_LINK = re.compile(r"https?://\S+/media/\S+")


class WallClock:
    """Epoch seconds the test moves."""

    def __init__(self) -> None:
        self.now = float(int(time.time()))

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def zs() -> AsyncIterator[ZaloSandbox]:
    async with ZaloSandbox() as sandbox:
        yield sandbox


async def fetch(url: str) -> tuple[int, bytes, dict[str, str]]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, await response.read(), dict(response.headers)


async def test_charts_and_exports_are_links_that_expire(
    zs: ZaloSandbox, db_target: Path | str
) -> None:
    token, bot_id = zs.add_bot("fieldtally.bot")
    admin = zalo_identity(bot_id, zs.add_user(token, "admin"))
    chief = zalo_identity(bot_id, zs.add_user(token, "chief"))
    await prepare(db_target, [(chief, "0912345001")])
    clock = WallClock()
    env = {
        "ZALO_BOT_TOKEN": token,
        "FIELDTALLY_ADMINS": str(admin),
        "FIELDTALLY_MEDIA_TTL": str(MEDIA_TTL),
        "FIELDTALLY_EXPORT_LINK_TTL": str(EXPORT_TTL),
    }
    async with ZaloRun(zs, db_target, env, media_clock=clock) as run:
        seen = Observed(run)

        async def says(user: str, text: str) -> Status:
            message_id = zs.user_says(token, user, text, date=at(10))
            return (await seen.of(bot_id, message_id)).status

        assert await says("chief", "250/320 9h") is Status.ACCEPTED
        origin = f"http://127.0.0.1:{run.port}/media/"

        # The charts of /tonghop: photo URLs the platform fetched at once, valid PNGs.
        since = zs.next_seq(token)
        assert await says("admin", "/tonghop X1") is Status.ACCEPTED
        photos = [p for p in zs.sent_photos(token, "admin") if p.seq >= since]
        assert photos and all(p.url.startswith(origin) for p in photos)
        assert all(p.content.startswith(PNG) and p.content_type == "image/png" for p in photos)
        fetched = [f for f in zs.photo_fetches(token) if f.url in {p.url for p in photos}]
        assert [f.status for f in fetched] == [200] * len(photos)

        # The exports: a text with a link each, which downloads the file.
        links = {}
        for kind in ("csv", "xlsx"):
            since = zs.next_seq(token)
            assert await says("admin", f"/xuat X1 {kind}") is Status.ACCEPTED
            [text] = [m.text for m in zs.sent_messages(token, "admin") if m.seq >= since]
            found = _LINK.search(text)
            assert found is not None and found.group(0).startswith(origin)
            links[kind] = found.group(0)
        status, body, headers = await fetch(links["csv"])
        assert status == 200 and headers["Cache-Control"] == "no-store"
        assert headers["Content-Type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
        assert {r["code"].lstrip("'"): r["voted"] for r in rows}["KV01"] == "250"
        status, body, _ = await fetch(links["xlsx"])
        assert status == 200
        assert openpyxl.load_workbook(io.BytesIO(body), read_only=True).worksheets

        # A chart's URL lives FIELDTALLY_MEDIA_TTL seconds; an export link much longer.
        clock.now += MEDIA_TTL - 1
        assert (await fetch(photos[0].url))[0] == 200
        clock.now += 1
        assert [(await fetch(p.url))[0] for p in photos] == [404] * len(photos)
        assert (await fetch(links["csv"]))[0] == 200
        clock.now += EXPORT_TTL - MEDIA_TTL - 1
        assert (await fetch(links["xlsx"]))[0] == 200
        clock.now += 1
        assert [(await fetch(links[k]))[0] for k in ("csv", "xlsx")] == [404, 404]
