"""Media over HTTPS (issue 15 §3, CHANNELS.md "Photos by URL only, no documents"), over real
HTTP on loopback: a chart the core drew and an export it wrote are published at
`/media/{id}?t={token}` and fetched back byte for byte with the right headers; a link stops
serving at its expiry on a clock the test moves (never a wait); a wrong, truncated or
missing token, an unknown id and the folder itself get one and the same empty 404; no
other method serves; expired items are deleted; a link given out by one process is served
by another sharing the database. On SQLite and, with FIELDTALLY_TEST_BACKEND=postgresql
(`db_target`) or always for the store (`store_target`), on PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image as PilImage

from bot.core import Core
from bot.messaging.answers import Status
from bot.messaging.content import Document, Image, Text
from bot.monitoring.charts import ChartRenderer
from bot.settings import (
    DEFAULT_EXPORT_LINK_TTL,
    DEFAULT_MEDIA_TTL,
    Settings,
    SettingsError,
    load_settings,
)
from handlers.http_server import HttpServer
from handlers.media import (
    CSV,
    PNG,
    XLSX,
    MediaLinks,
    content_disposition,
    content_type_for,
    safe_filename,
)
from storage.database import Database
from storage.media import StoredMedia
from tests.harness import ADMIN_ID, PATIENCE, free_port
from tests.memory import Day, open_day

START = 1_621_753_200.0  # 23/05/2021 14:00 in Vietnam, as epoch seconds


class EpochClock:
    """Wall-clock seconds the test moves."""

    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@dataclass
class Served:
    day: Day
    links: MediaLinks
    clock: EpochClock
    client: httpx.AsyncClient
    public_url: str


@pytest.fixture
async def served(db_target: Path | str) -> AsyncIterator[Served]:
    """The real core (the small tree imported) with its media routes on a real HTTP server."""
    port = free_port()
    public_url = f"http://127.0.0.1:{port}"
    clock = EpochClock()
    async with open_day(db_target) as day:
        links = MediaLinks(day.core, public_url, clock=clock)
        server = HttpServer([("127.0.0.1", port)])
        server.mount("media", links.routes())
        await server.start()
        try:
            async with httpx.AsyncClient(timeout=PATIENCE) as client:
                yield Served(day, links, clock, client, public_url)
        finally:
            await server.stop()


async def a_chart(day: Day) -> Image:
    """A chart the core drew for the admin's /tonghop (real PNG bytes from the renderer)."""
    answer = await day.channel.say(ADMIN_ID, "/tonghop")
    assert answer.status is Status.ACCEPTED, answer
    images = [reply.content for reply in answer.replies if isinstance(reply.content, Image)]
    assert images, answer
    return images[0]


async def an_export(day: Day, kind: str = "csv") -> Document:
    answer = await day.channel.say(ADMIN_ID, f"/xuat {kind}")
    assert answer.status is Status.ACCEPTED, answer
    [reply] = answer.replies
    assert isinstance(reply.content, Document), reply
    return reply.content


def link_in(text: Text, public_url: str) -> str:
    found = re.findall(re.escape(public_url) + r"/media/\S+", text.body)
    assert len(found) == 1, text
    return str(found[0])


def with_token(url: str, token: str | None) -> str:
    parts = urlsplit(url)
    base = f"{parts.scheme}://{parts.netloc}{parts.path}"
    return base if token is None else f"{base}?t={token}"


def token_of(url: str) -> str:
    [token] = parse_qs(urlsplit(url).query)["t"]
    return token


def assert_not_found(response: httpx.Response) -> None:
    assert response.status_code == 404
    assert response.content == b""
    assert response.headers["cache-control"] == "no-store"


# -- charts --------------------------------------------------------------------------------------


async def test_a_chart_url_serves_the_exact_png_until_its_ttl(served: Served) -> None:
    chart = await a_chart(served.day)
    url = await served.links.publish(
        chart.png, content_type=PNG, filename=chart.name, ttl=DEFAULT_MEDIA_TTL
    )
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == served.public_url
    assert re.fullmatch(r"/media/[A-Za-z0-9_-]{22,}", parts.path)
    assert len(token_of(url)) * 6 >= 128  # base64url: 6 bits a character

    response = await served.client.get(url)
    assert response.status_code == 200
    assert response.content == chart.png
    with PilImage.open(io.BytesIO(response.content)) as picture:
        picture.verify()
        assert picture.format == "PNG"
    headers = response.headers
    assert headers["content-type"] == "image/png"
    assert headers["cache-control"] == "no-store"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["content-disposition"].startswith("inline;")
    assert 'filename="chart1.png"' in headers["content-disposition"]

    served.clock.now = START + DEFAULT_MEDIA_TTL - 1
    assert (await served.client.get(url)).status_code == 200  # fetched twice within the TTL
    served.clock.now = START + DEFAULT_MEDIA_TTL
    assert_not_found(await served.client.get(url))
    # Read after its expiry: deleted from the store, not only refused.
    media_id = urlsplit(url).path.rsplit("/", 1)[1]
    assert await served.day.core.db.media.get(media_id) is None


async def test_a_chart_as_a_link_text_lasts_the_media_ttl(served: Served) -> None:
    chart = await a_chart(served.day)
    text = await served.links.as_link_text(chart)
    assert isinstance(text, Text)
    url = link_in(text, served.public_url)
    response = await served.client.get(url)
    assert response.status_code == 200 and response.content == chart.png
    served.clock.now = START + served.day.core.settings.media_ttl
    assert_not_found(await served.client.get(url))


async def test_every_link_that_does_not_serve_gets_the_same_empty_404(served: Served) -> None:
    chart = await a_chart(served.day)
    url = await served.links.publish(chart.png, content_type=PNG, filename="c.png", ttl=600)
    other = await served.links.publish(b"other", content_type=PNG, filename="o.png", ttl=600)
    token = token_of(url)
    wrong = ("A" if token[0] != "A" else "B") + token[1:]
    unknown_id = with_token(url, token).replace(urlsplit(url).path, "/media/" + "x" * 22)
    refused = [
        with_token(url, wrong),  # one character changed
        with_token(url, token[:-1]),  # truncated
        with_token(url, token[:22]),  # truncated to 128 bits
        with_token(url, token + "A"),  # too long
        with_token(url, None),  # missing
        with_token(url, ""),  # empty
        with_token(url, token_of(other)),  # another link's token
        unknown_id,
        url + "&t=" + token,  # the token twice
    ]
    bodies = set()
    for attempt in refused:
        response = await served.client.get(attempt)
        assert_not_found(response)
        bodies.add((response.content, response.headers.get("content-type")))
    assert len(bodies) == 1  # nothing tells one refusal from another
    # The right one still serves: the refusals consumed nothing.
    assert (await served.client.get(url)).content == chart.png


async def test_nothing_is_listed_and_no_other_method_serves(served: Served) -> None:
    url = await served.links.publish(b"\x89PNG data", content_type=PNG, filename="c.png", ttl=600)
    for path in ("/media", "/media/", "/media/a/b"):
        response = await served.client.get(served.public_url + path)
        assert response.status_code == 404 and response.content in (b"", b"404: Not Found")
        assert b"PNG" not in response.content
    for method in ("HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"):
        response = await served.client.request(method, url)
        assert response.status_code == 405, method
        assert b"PNG" not in response.content
    assert (await served.client.get(url)).status_code == 200  # and still there


# -- exports -------------------------------------------------------------------------------------


async def test_an_export_link_serves_the_file_for_24_hours(served: Served) -> None:
    export = await an_export(served.day, "csv")
    text = await served.links.as_link_text(export)
    url = link_in(text, served.public_url)
    assert export.filename in text.body
    assert export.caption in text.body
    # It says until when, in the election's time zone: 24 h after it was published.
    until = dt.datetime.fromtimestamp(START + DEFAULT_EXPORT_LINK_TTL, served.day.core.settings.tz)
    assert f"{until:%H:%M} ngày {until:%d/%m/%Y}" in text.body

    served.clock.now = START + DEFAULT_EXPORT_LINK_TTL - 1
    response = await served.client.get(url)
    assert response.status_code == 200
    assert response.content == export.content
    assert response.headers["content-type"] == CSV
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert f'filename="{export.filename}"' in disposition
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"

    served.clock.now = START + DEFAULT_EXPORT_LINK_TTL
    assert_not_found(await served.client.get(url))


async def test_a_spreadsheet_export_keeps_its_type(served: Served) -> None:
    export = await an_export(served.day, "xlsx")
    url = link_in(await served.links.as_link_text(export), served.public_url)
    response = await served.client.get(url)
    assert response.status_code == 200 and response.content == export.content
    assert response.headers["content-type"] == XLSX
    assert response.content[:2] == b"PK"  # a zip, as .xlsx is


async def test_a_file_name_is_offered_without_its_path(served: Served) -> None:
    url = await served.links.publish(
        b"a,b\n", content_type=CSV, filename="../../etc/Tổng hợp Đồng Văn.csv", ttl=60
    )
    disposition = (await served.client.get(url)).headers["content-disposition"]
    assert 'filename="Tong_hop_Dong_Van.csv"' in disposition
    [exact] = re.findall(r"filename\*=UTF-8''(\S+)", disposition)
    assert unquote(exact) == "Tổng hợp Đồng Văn.csv"


async def test_what_cannot_be_published_is_refused(served: Served) -> None:
    with pytest.raises(ValueError, match="lifetime"):
        await served.links.publish(b"x", content_type=PNG, filename="a.png", ttl=0)
    with pytest.raises(ValueError, match="content type"):
        await served.links.publish(
            b"x", content_type="text/html\r\nSet-Cookie: a=b", filename="a.html", ttl=60
        )


# -- expiry and several processes ----------------------------------------------------------------


async def test_expired_items_are_swept_and_live_ones_kept(served: Served) -> None:
    store = served.day.core.db.media
    short = await served.links.publish(b"short", content_type=PNG, filename="s.png", ttl=60)
    long = await served.links.publish(b"long", content_type=PNG, filename="l.png", ttl=3600)
    served.clock.now = START + 60
    assert await served.links.sweep() == 1
    assert await store.get(urlsplit(short).path.rsplit("/", 1)[1]) is None
    assert await store.get(urlsplit(long).path.rsplit("/", 1)[1]) is not None
    # A new item clears what has expired by then, in the same transaction.
    served.clock.now = START + 3600
    fresh = await served.links.publish(b"new", content_type=PNG, filename="n.png", ttl=60)
    assert await store.get(urlsplit(long).path.rsplit("/", 1)[1]) is None
    assert (await served.client.get(fresh)).content == b"new"


async def test_keep_sweeping_sweeps_at_once_and_ends_on_stop(served: Served) -> None:
    url = await served.links.publish(b"gone", content_type=PNG, filename="g.png", ttl=1)
    served.clock.now = START + 1
    stop = asyncio.Event()
    stop.set()  # already stopping: it still sweeps once, then returns
    await served.links.keep_sweeping(stop, every=3600)
    assert await served.day.core.db.media.get(urlsplit(url).path.rsplit("/", 1)[1]) is None


async def test_a_link_given_by_one_process_is_served_by_another(store_target: str) -> None:
    """Two processes on one database (two stores, two cores): either serves the other's."""
    settings = Settings(_env_file=None, FIELDTALLY_DB=store_target)
    first = await Database.open(store_target)
    second = await Database.open(store_target)
    port = free_port()
    public_url = f"http://127.0.0.1:{port}"
    clock = EpochClock()
    giving = MediaLinks(Core(first, settings, ChartRenderer(0)), public_url, clock=clock)
    serving = MediaLinks(Core(second, settings, ChartRenderer(0)), public_url, clock=clock)
    server = HttpServer([("127.0.0.1", port)])
    server.mount("media", serving.routes())
    await server.start()
    try:
        body = bytes(range(256)) * 40  # every byte value, NULs included
        url = await giving.publish(body, content_type=PNG, filename="c.png", ttl=600)
        async with httpx.AsyncClient(timeout=PATIENCE) as client:
            response = await client.get(url)
            assert response.status_code == 200 and response.content == body
            clock.now = START + 600
            assert_not_found(await client.get(url))
    finally:
        await server.stop()
        await first.close()
        await second.close()


async def test_the_store_keeps_bytes_and_forgets_what_expired(store_target: str) -> None:
    db = await Database.open(store_target)
    try:
        item = StoredMedia("id1", "ab" * 32, PNG, "c.png", b"\x00\x89PNG\xff", 100, 160)
        await db.media.put(item)
        assert await db.media.get("id1") == item
        assert await db.media.get("nope") is None
        assert not item.expired(159.9) and item.expired(160)
        assert await db.media.delete_expired(159.9) == 0
        assert await db.media.delete_expired(160) == 1
        assert await db.media.get("id1") is None
    finally:
        await db.close()


# -- settings and names --------------------------------------------------------------------------


def test_the_ttls_default_to_ten_minutes_and_a_day() -> None:
    settings = load_settings(_env_file=None)
    assert (settings.media_ttl, settings.export_link_ttl) == (600, 86400)
    assert (DEFAULT_MEDIA_TTL, DEFAULT_EXPORT_LINK_TTL) == (600, 86400)
    chosen = load_settings(
        _env_file=None, FIELDTALLY_MEDIA_TTL="120", FIELDTALLY_EXPORT_LINK_TTL=" 3600 "
    )
    assert (chosen.media_ttl, chosen.export_link_ttl) == (120, 3600)
    blank = load_settings(_env_file=None, FIELDTALLY_MEDIA_TTL="", FIELDTALLY_EXPORT_LINK_TTL="")
    assert (blank.media_ttl, blank.export_link_ttl) == (600, 86400)


@pytest.mark.parametrize("bad", ["0", "-5", "1.5", "10m", "abc", 0, -1])
@pytest.mark.parametrize("name", ["FIELDTALLY_MEDIA_TTL", "FIELDTALLY_EXPORT_LINK_TTL"])
def test_a_ttl_must_be_a_positive_whole_number(name: str, bad: object) -> None:
    with pytest.raises(SettingsError) as refused:
        load_settings(_env_file=None, **{name: bad})
    assert str(refused.value).startswith(f"{name}:")


def test_content_types_follow_the_file_name() -> None:
    assert content_type_for("tonghop_LC.csv") == CSV
    assert content_type_for("TONGHOP.XLSX") == XLSX
    assert content_type_for("chart1.png") == PNG
    assert content_type_for("notes") == "application/octet-stream"


@given(st.text(max_size=300))
def test_any_file_name_makes_a_safe_header(name: str) -> None:
    """Whatever a file is called, the name offered has no path or control character and the
    header is one line of ASCII whose `filename*` gives the name back."""
    safe = safe_filename(name)
    assert safe and "/" not in safe and "\\" not in safe and len(safe) <= 120
    assert all(ch.isprintable() for ch in safe)
    for inline in (True, False):
        header = content_disposition(safe, inline=inline)
        assert header.isascii() and "\r" not in header and "\n" not in header
        [exact] = re.findall(r"filename\*=UTF-8''(\S+)$", header)
        assert unquote(exact) == safe
