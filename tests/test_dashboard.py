"""The live dashboard, server side (DASHBOARD.md "Access" and "Behaviour"): links, the routes
over real HTTP on loopback, their headers, the snapshot's content and order, and the event
stream, with the real core on a real database and the clock the test moves.

Streams are read event by event: a test waits for the event it expects (bounded only by
PATIENCE, so a broken server fails instead of hanging), never for a time to pass.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core import Core
from bot.messaging.answers import Refusal, Status
from bot.model import Unit
from bot.monitoring.dashboard import read_snapshot, snapshot_json
from bot.monitoring.dashboard_links import (
    TOKEN_PATTERN,
    find_link,
    issue_link,
    link_expiry,
    revoke_links,
)
from bot.monitoring.geo import GeoIndex, official_geo_index
from fieldtally.cli import _days
from handlers.dashboard.routes import SECURITY_HEADERS, Dashboard
from handlers.http_server import HttpServer
from handlers.memory import MemoryChannel, address
from handlers.run import run_bot
from storage.database import Database
from tests.harness import ADMIN_ID, PATIENCE, at, free_port
from tests.memory import (
    CHIEF_KV01,
    CHIEF_KV02,
    CHIEF_KV05,
    PHONES,
    SMALL_TREE,
    SUPERVISOR_X1,
    Day,
    open_day,
    settings_for,
)

GROUP = -100300
STRANGER = 999
UNIT_WORDS = ("LC", "MK", "X1", "X2", "KV0", "Pha Long", "Mường Khương", "Tả Ngải", "Lào Cai")
PHONE_DIGITS = re.compile(r"(?:\+84|0)9\d{2}[ .]?\d{3}[ .]?\d{3}")


@dataclass
class Served:
    day: Day
    dashboard: Dashboard
    base: str
    http: aiohttp.ClientSession

    async def link(self, code: str = "MK", days: float | None = None) -> str:
        """A new link's path (`/d/{token}`), as the admin's `/bangtin` would make it."""
        unit = self.day.core.db.units.get(code)
        assert unit is not None
        issued = await issue_link(
            self.day.core.db, self.day.core.settings, unit, ADMIN_ADDRESS, self.day.core.now(), days
        )
        return "/d/" + issued.url.rsplit("/d/", 1)[1]

    async def get(self, path: str) -> tuple[int, dict[str, str], bytes, aiohttp.ClientResponse]:
        async with self.http.get(self.base + path) as response:
            body = await response.read()
            return response.status, dict(response.headers), body, response

    async def data(self, path: str) -> dict[str, Any]:
        status, _, body, _ = await self.get(f"{path}/data")
        assert status == 200
        document: dict[str, Any] = json.loads(body)
        return document


ADMIN_ADDRESS = address(ADMIN_ID)


async def serve(day: Day, **options: Any) -> AsyncIterator[Served]:
    dashboard = Dashboard(day.core, **options)
    server = HttpServer([("127.0.0.1", 0)])
    dashboard.mount(server)
    await server.start()
    host, port = server.addresses[0]
    try:
        async with aiohttp.ClientSession() as http:
            yield Served(day, dashboard, f"http://{host}:{port}", http)
    finally:
        await dashboard.close()
        await server.stop()


@pytest.fixture
async def served(db_target: Path | str) -> AsyncIterator[Served]:
    """The small tree at 09:00, the chiefs of KV01 and KV02 and X1's supervisor registered;
    the dashboard served with a heartbeat every 50 ms and no settling delay."""
    async with open_day(db_target, start=at(9, 0)) as day:
        await day.register([CHIEF_KV01, CHIEF_KV02, SUPERVISOR_X1])
        async for running in serve(day, heartbeat=0.05, settle=0, poll=3600):
            yield running


class EventReader:
    """Server-sent events of one open stream, one at a time."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self.response = response

    async def next(self) -> dict[str, str]:
        """The next message: its `event`, `data`, `id`, and `comment` lines (joined)."""
        message: dict[str, str] = {}
        while True:
            raw = await asyncio.wait_for(self.response.content.readline(), PATIENCE)
            if not raw:
                message.setdefault("closed", "yes")
                return message
            line = raw.decode().rstrip("\n")
            if not line:
                if message:
                    return message
                continue
            field, _, value = line.partition(":")
            key = field or "comment"
            value = value[1:] if value.startswith(" ") else value
            message[key] = message.get(key, "") + value

    async def next_event(self, kind: str) -> dict[str, str]:
        """Skip to the next message of that event type (or the end of the stream)."""
        while True:
            message = await self.next()
            if message.get("event") == kind or "closed" in message:
                return message


async def say(day: Day, user: int, text: str) -> None:
    answer = await day.channel.say(user, text)
    assert answer.status is Status.ACCEPTED, answer


# -- links ------------------------------------------------------------------------------------


async def test_a_link_opens_the_page_data_and_stream_of_its_unit(served: Served) -> None:
    path = await served.link("X1")
    token = path.rsplit("/", 1)[1]
    assert len(token) >= 22 and re.fullmatch(r"[A-Za-z0-9_-]+", token)
    status, headers, body, _ = await served.get(path)
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert "Xã Pha Long (X1)" in body.decode()
    data = await served.data(path)
    assert data["unit"]["code"] == "X1"
    # The store keeps only a hash of the token.
    assert token not in str(await served.day.core.db.dashboard_links("X1"))


async def test_wrong_expired_and_revoked_links_get_404_saying_nothing(served: Served) -> None:
    expired = await served.link("MK", days=0)
    revoked = await served.link("MK")
    assert (await served.get(revoked))[0] == 200
    answer = await served.day.channel.say(ADMIN_ID, "/bangtin huy MK")
    assert answer.status is Status.ACCEPTED
    wrong = "/d/" + "A" * 32
    for path in (expired, revoked, wrong, "/d/short", "/d/" + "x" * 300):
        for suffix in ("", "/data", "/events"):
            status, _, body, _ = await served.get(path + suffix)
            assert status == 404, (path, suffix)
            text = body.decode()
            assert not any(word in text for word in UNIT_WORDS), text


async def test_expiry_is_the_end_of_the_second_day_after_the_election(served: Served) -> None:
    settings = served.day.core.settings
    now = at(9, 0)
    end = link_expiry(settings, now)
    assert end == dt.datetime(2021, 5, 26, 0, 0, tzinfo=settings.tz)
    assert link_expiry(settings, now, 0) == now
    assert link_expiry(settings, now, 1.5) == now + dt.timedelta(hours=36)
    # Still open on the second day after, closed the day after that.
    path = await served.link("MK")
    served.day.clock.now = dt.datetime(2021, 5, 25, 23, 59, tzinfo=settings.tz)
    assert (await served.get(path))[0] == 200
    served.day.clock.now = dt.datetime(2021, 5, 26, 0, 0, tzinfo=settings.tz)
    assert (await served.get(path))[0] == 404
    # From then on a new link would be dead on arrival: refused (the server's `--days` helps).
    late = await served.day.channel.say(ADMIN_ID, "/bangtin MK")
    assert late.reason == Refusal.ELECTION_OVER


# -- headers ----------------------------------------------------------------------------------


async def test_every_kind_of_response_carries_the_headers_and_no_cookie(served: Served) -> None:
    path = await served.link("MK")
    css = served.dashboard.assets.url("dashboard.css")
    responses: list[tuple[str, int, dict[str, str]]] = []
    for what in (
        path,
        f"{path}/data",
        css,
        css.split("?")[0],
        "/static/nothing.js",
        "/d/" + "B" * 30,
        "/d/" + "B" * 30 + "/more/than/routes",
        "/d/",
    ):
        status, headers, _, _ = await served.get(what)
        responses.append((what, status, headers))
    async with served.http.post(served.base + path) as response:  # read-only: 405
        responses.append(("POST", response.status, dict(response.headers)))
    async with served.http.get(served.base + f"{path}/events") as response:
        await EventReader(response).next_event("snapshot")
        responses.append(("events", response.status, dict(response.headers)))
    statuses = {what: status for what, status, _ in responses}
    assert statuses[path] == statuses[f"{path}/data"] == statuses[css] == 200
    assert statuses["events"] == 200 and statuses["POST"] == 405
    assert statuses["/static/nothing.js"] == statuses["/d/" + "B" * 30] == 404
    for what, _, headers in responses:
        for name, value in SECURITY_HEADERS.items():
            assert headers.get(name) == value, (what, name)
        assert "Set-Cookie" not in headers, what


async def test_static_files_are_cached_long_by_content_hash(served: Served) -> None:
    url = served.dashboard.assets.url("dashboard.js")
    assert re.fullmatch(r"/static/dashboard\.js\?v=[0-9a-f]{16}", url)
    _, headers, body, _ = await served.get(url)
    assert "immutable" in headers["Cache-Control"] and body.startswith(b"//")
    assert headers["Content-Type"].startswith("text/javascript")
    _, stale, _, _ = await served.get("/static/dashboard.js?v=0000")
    assert stale["Cache-Control"] == "no-cache"
    assets = served.dashboard.assets
    assert assets.find("../routes.py") is None and assets.find("/etc/passwd") is None


# -- /bangtin and the command line ------------------------------------------------------------

OK = "ok"
SUPERVISORS_ONLY, UNREGISTERED = Refusal.SUPERVISORS_ONLY, Refusal.NOT_REGISTERED
# command -> (chief of KV01, supervisor of X1, group member, admin, stranger)
MATRIX: dict[str, tuple[str, str, str, str, str]] = {
    "/bangtin": (SUPERVISORS_ONLY, OK, UNREGISTERED, OK, UNREGISTERED),
    "/bangtin X1": (SUPERVISORS_ONLY, OK, UNREGISTERED, OK, UNREGISTERED),
    "/bangtin KV02": (SUPERVISORS_ONLY, OK, UNREGISTERED, OK, UNREGISTERED),
    "/bangtin MK": (
        Refusal.SUPERVISORS_ONLY, Refusal.NOT_YOUR_UNIT, Refusal.NOT_REGISTERED, OK,
        Refusal.NOT_REGISTERED,
    ),
    "/bangtin ZZ": (
        Refusal.SUPERVISORS_ONLY, Refusal.UNKNOWN_UNIT, Refusal.NOT_REGISTERED,
        Refusal.UNKNOWN_UNIT, Refusal.NOT_REGISTERED,
    ),
    "/bangtin X1 X2": (
        Refusal.SUPERVISORS_ONLY, Refusal.USAGE, Refusal.NOT_REGISTERED, Refusal.USAGE,
        Refusal.NOT_REGISTERED,
    ),
    "/bangtin huy X1": (
        Refusal.SUPERVISORS_ONLY, OK, Refusal.NOT_REGISTERED, OK, Refusal.NOT_REGISTERED,
    ),
    "/dashboard huy X2": (
        Refusal.SUPERVISORS_ONLY, Refusal.NOT_YOUR_UNIT, Refusal.NOT_REGISTERED, OK,
        Refusal.NOT_REGISTERED,
    ),
}  # fmt: skip
ROLES = (CHIEF_KV01, SUPERVISOR_X1, 777, ADMIN_ID, STRANGER)


@pytest.mark.parametrize("role", range(len(ROLES)))
async def test_who_may_ask_for_a_link(served: Served, role: int) -> None:
    user = ROLES[role]
    in_group = user == 777
    wrong = []
    for command, cells in MATRIX.items():
        answer = await served.day.channel.say(user, command, group=GROUP if in_group else None)
        got = OK if answer.status is Status.ACCEPTED else answer.reason
        if got != cells[role]:
            wrong.append((command, cells[role], got))
        if got == OK and "huy" not in command:
            [url] = re.findall(r"http://\S+/d/[A-Za-z0-9_-]{22,}", answer.texts[0])
            status, _, _, _ = await served.get("/d/" + url.rsplit("/d/", 1)[1])
            assert status == 200, command
    assert wrong == []


async def test_links_name_the_public_origin_or_the_http_server(db_target: Path | str) -> None:
    base = settings_for(db_target)
    public = base.model_copy(update={"public_url": "https://bot.example.vn"})
    lan = base.model_copy(update={"http_listen": "192.168.1.20", "http_port": 8088})
    async with open_day(db_target) as day:
        unit = day.core.db.units.get("MK")
        assert unit is not None
        for settings, origin in (
            (public, "https://bot.example.vn/d/"),
            (lan, "http://192.168.1.20:8088/d/"),
        ):
            issued = await issue_link(day.core.db, settings, unit, ADMIN_ADDRESS, day.core.now())
            assert issued.url.startswith(origin), issued.url


# -- the snapshot -----------------------------------------------------------------------------


async def test_the_snapshot_orders_children_and_names_chiefs_never_phones(
    db_target: Path | str,
) -> None:
    async with open_day(db_target, start=at(10, 0)) as day:
        await day.register([CHIEF_KV01, CHIEF_KV02, CHIEF_KV05, SUPERVISOR_X1])
        await say(day, CHIEF_KV01, "160/320 9h")  # 50 %
        await say(day, CHIEF_KV02, "200/2000 9h30")  # 10 %
        unit = day.core.db.units.get("X1")
        assert unit is not None
        data = snapshot_json(await read_snapshot(day.core.db, unit, day.core.now()))
        # KV03 and KV04 (no report) first, flagged; then 10 %, then 50 %.
        rows = [
            (c["code"], c["reported"], c["turnout"], c["turnout_text"]) for c in data["children"]
        ]
        assert rows == [
            ("KV03", False, None, "chưa báo cáo"),
            ("KV04", False, None, "chưa báo cáo"),
            ("KV02", True, 10.0, "10,0%"),
            ("KV01", True, 50.0, "50,0%"),
        ]
        h = data["headline"]
        assert (h["voted"], h["registered"], h["voted_text"]) == (360, 3220, "360")
        assert (h["areas_reported"], h["areas_total"], h["areas_finished"]) == (2, 4, 0)
        assert h["last_report_time"] == "09:30" and h["as_of_text"] == "số liệu lúc 09:30"
        missing = data["missing"]
        areas = [(a["code"], a["chiefs"]) for g in missing["groups"] for a in g["areas"]]
        # KV03 and KV04 share a chief who has not registered: no name to show.
        assert missing["total"] == 2 and areas == [("KV03", []), ("KV04", [])]
        series = data["curve"]["series"]
        assert [s["code"] for s in series] == ["X1", "KV02", "KV01"]
        assert series[0]["points"][-1]["turnout"] == pytest.approx(11.2)
        assert data["curve"]["end"].startswith("2021-05-23T10:00")
        assert data["results"] is None and data["map"] is None
        # The district: X2's area has not reported, its chief is named under its commune.
        district = day.core.db.units.get("MK")
        assert district is not None
        data = snapshot_json(await read_snapshot(day.core.db, district, day.core.now()))
        assert [c["code"] for c in data["children"]] == ["X2", "X1"]
        groups = [(g["code"], [a["code"] for a in g["areas"]]) for g in data["missing"]["groups"]]
        assert groups == [("X1", ["KV03", "KV04"]), ("X2", ["KV05"])]
        assert data["missing"]["groups"][1]["areas"][0]["chiefs"] != []
        text = json.dumps(data, ensure_ascii=False)
        assert not PHONE_DIGITS.search(text)
        assert not any(phone in text for phone in PHONES.values())


async def test_no_phone_number_on_the_page_or_in_the_data(served: Served) -> None:
    path = await served.link("LC")
    for suffix in ("", "/data"):
        _, _, body, _ = await served.get(path + suffix)
        text = body.decode()
        assert not PHONE_DIGITS.search(text), suffix
        assert not any(phone in text for phone in PHONES.values())


@pytest.mark.parametrize(
    ("unit", "children", "expected"),
    [
        ("VN", ["01", "15", "79"], "provinces"),
        ("15", ["02761", "02752"], "communes/15_lao_cai.geojson"),
        ("01", ["00004"], "communes/01_ha_noi.geojson"),
        ("MK", ["X1", "X2"], None),  # codes of no map: no map, no error
        ("10", ["080", "081"], None),  # 2021's districts
    ],
)
def test_which_map_applies(unit: str, children: list[str], expected: str | None) -> None:
    def make(code: str) -> Unit:
        return Unit(code, None, "", code, 0, False, None, None, (), 0)

    geo: GeoIndex = official_geo_index()
    assert geo.map_for(make(unit), [make(c) for c in children]) == expected


# -- the event stream -------------------------------------------------------------------------


async def test_a_new_report_reaches_an_open_stream(served: Served) -> None:
    path = await served.link("X1")
    async with served.http.get(served.base + f"{path}/events") as response:
        assert response.headers["Content-Type"].startswith("text/event-stream")
        events = EventReader(response)
        first = json.loads((await events.next_event("snapshot"))["data"])
        assert first["headline"]["voted"] == 0
        await say(served.day, CHIEF_KV01, "100/320 9h")
        second = json.loads((await events.next_event("snapshot"))["data"])
        assert second["headline"]["voted"] == 100 and second["version"] > first["version"]
        assert [c["code"] for c in second["children"]][-1] == "KV01"


async def test_a_heartbeat_comes_while_nothing_changes(served: Served) -> None:
    path = await served.link("X1")
    async with served.http.get(served.base + f"{path}/events") as response:
        events = EventReader(response)
        await events.next_event("snapshot")
        beat = await events.next()
        assert beat["comment"] == "heartbeat" and beat["event"] == "heartbeat"


async def test_revoking_closes_the_stream_with_a_revoked_event(served: Served) -> None:
    path = await served.link("X1")
    async with served.http.get(served.base + f"{path}/events") as response:
        events = EventReader(response)
        await events.next_event("snapshot")
        answer = await served.day.channel.say(SUPERVISOR_X1, "/bangtin huy")
        assert answer.status is Status.ACCEPTED
        assert (await events.next_event("revoked"))["event"] == "revoked"
        assert "closed" in await events.next()
    assert served.dashboard.hub.open_streams == 0


async def test_a_link_revoked_by_another_process_is_seen_at_the_next_poll(served: Served) -> None:
    """The command line revokes through its own connection: the hub's poll sees it."""
    path = await served.link("X1")
    async with served.http.get(served.base + f"{path}/events") as response:
        events = EventReader(response)
        await events.next_event("snapshot")
        async with another_connection(served) as other:
            unit = other.units.get("X1")
            assert unit is not None
            await revoke_links(other, unit, ADMIN_ADDRESS, served.day.core.now())
        await served.dashboard.hub.refresh(polled=True)  # what the poll does every 5 s
        assert (await events.next_event("revoked"))["event"] == "revoked"


@asynccontextmanager
async def another_connection(served: Served) -> AsyncIterator[Database]:
    """Another connection to the same store (as the command line opens it)."""
    db = await Database.open(served.day.core.settings.database)
    try:
        yield db
    finally:
        await db.close()


async def test_one_snapshot_is_computed_for_many_viewers(served: Served) -> None:
    path = await served.link("X1")
    viewers = 20
    responses = [await served.http.get(served.base + f"{path}/events") for _ in range(viewers)]
    try:
        readers = [EventReader(r) for r in responses]
        for reader in readers:
            await reader.next_event("snapshot")
        before = served.dashboard.snapshots.computed
        pushes = served.dashboard.hub.pushes
        await say(served.day, CHIEF_KV01, "100/320 9h")
        seen = [json.loads((await r.next_event("snapshot"))["data"]) for r in readers]
        assert {data["headline"]["voted"] for data in seen} == {100}
        assert served.dashboard.snapshots.computed == before + 1
        assert served.dashboard.hub.pushes == pushes + 1
        # Pages opened now share the same snapshot: nothing computed for them.
        for _ in range(5):
            assert (await served.data(path))["headline"]["voted"] == 100
        assert served.dashboard.snapshots.computed == before + 1
    finally:
        for response in responses:
            response.close()


# -- the command line -------------------------------------------------------------------------


def fieldtally(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FIELDTALLY_", "TELEGRAM_"))}
    env.update(
        FIELDTALLY_DB=str(tmp_path / "cli.db"),
        FIELDTALLY_ELECTION_DATE="2021-05-23",
        FIELDTALLY_PUBLIC_URL="https://bot.example.vn",
    )
    return subprocess.run(
        [sys.executable, "-m", "fieldtally", *args],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=PATIENCE,
    )  # fmt: skip


async def test_the_command_line_prints_and_revokes_links(tmp_path: Path) -> None:
    imported = await asyncio.to_thread(fieldtally, tmp_path, "units", "import", str(SMALL_TREE))
    assert imported.returncode == 0, imported.stderr
    made = await asyncio.to_thread(fieldtally, tmp_path, "dashboard-link", "X1", "--days", "1,5")
    assert made.returncode == 0, made.stderr
    [url] = made.stdout.split()
    assert re.fullmatch(r"https://bot\.example\.vn/d/[A-Za-z0-9_-]{22,}", url)
    # The election (2021) is long past: a link to its end would be expired already.
    past = await asyncio.to_thread(fieldtally, tmp_path, "dashboard-link", "X1")
    assert past.returncode == 1 and past.stdout == "" and "--days" in past.stderr
    unknown = await asyncio.to_thread(fieldtally, tmp_path, "dashboard-link", "ZZ")
    assert unknown.returncode == 1 and unknown.stdout == ""
    db = await Database.open(tmp_path / "cli.db")
    try:
        [link] = await db.dashboard_links("X1")
        assert link.expires_at - link.created_at == 36 * 3600 and link.revoked_at is None
        token = url.rsplit("/", 1)[1]
        assert await find_link(db, token, time.time()) is not None
        expired = await asyncio.to_thread(
            fieldtally, tmp_path, "dashboard-link", "X1", "--days", "0"
        )
        gone = expired.stdout.split()[0].rsplit("/", 1)[1]
        assert await find_link(db, gone, time.time()) is None  # already expired
        revoked = await asyncio.to_thread(fieldtally, tmp_path, "dashboard-link", "X1", "--revoke")
        assert revoked.returncode == 0, revoked.stderr
        assert await find_link(db, token, time.time()) is None
        assert all(link.revoked_at is not None for link in await db.dashboard_links("X1"))
    finally:
        await db.close()


# -- in the bot's process ---------------------------------------------------------------------


async def test_the_bot_process_serves_the_links_it_gives(tmp_path: Path) -> None:
    """`run_bot` mounts the dashboard on its HTTP server; `/bangtin`'s link opens there; an
    open stream ends when the bot stops (it does not hold the stop)."""
    port = free_port()
    settings = settings_for(tmp_path / "run.db").model_copy(
        update={"metrics": True, "http_port": port}
    )
    stop, ready = asyncio.Event(), asyncio.Event()
    built: list[MemoryChannel] = []

    def memory(core: Core, stop: asyncio.Event, *, media: object) -> list[MemoryChannel]:
        built.append(MemoryChannel(core))
        return built

    # On election day (links made on a later day than the second after it are expired).
    run = asyncio.create_task(
        run_bot(settings, None, stop, ready=ready, channels=[memory], clock=lambda: at(9, 0))
    )
    waiting = asyncio.create_task(ready.wait())
    done, _ = await asyncio.wait({run, waiting}, return_when=asyncio.FIRST_COMPLETED)
    assert waiting in done, run.exception() if run.done() else "not ready"
    channel = built[0]
    data = await asyncio.to_thread(SMALL_TREE.read_bytes)
    assert (await channel.send_file(ADMIN_ID, SMALL_TREE.name, data)).status is Status.ACCEPTED
    answer = await channel.say(ADMIN_ID, "/bangtin MK")
    [url] = re.findall(rf"http://127\.0\.0\.1:{port}/d/[A-Za-z0-9_-]{{22,}}", answer.texts[0])
    async with aiohttp.ClientSession() as http:
        async with http.get(url) as page:
            assert page.status == 200 and "Huyện Mường Khương (MK)" in await page.text()
        async with http.get(f"{url}/events") as response:
            events = EventReader(response)
            await events.next_event("snapshot")
            stop.set()
            assert "closed" in await events.next_event("never")
    await run


async def test_a_chief_registering_shows_their_name_on_open_pages(served: Served) -> None:
    """Who is registered changes every view (chiefs' names): open pages get a new snapshot."""
    path = await served.link("MK")
    async with served.http.get(served.base + f"{path}/events") as response:
        events = EventReader(response)
        first = json.loads((await events.next_event("snapshot"))["data"])
        [kv05] = [a for g in first["missing"]["groups"] for a in g["areas"] if a["code"] == "KV05"]
        assert kv05["chiefs"] == []
        await served.day.register([CHIEF_KV05])
        second = json.loads((await events.next_event("snapshot"))["data"])
        [kv05] = [a for g in second["missing"]["groups"] for a in g["areas"] if a["code"] == "KV05"]
        assert len(kv05["chiefs"]) == 1 and not PHONE_DIGITS.search(kv05["chiefs_text"])


@given(st.text(max_size=12))
def test_days_on_the_command_line_are_a_decimal_from_0(text: str) -> None:
    try:
        value = float(text.replace(",", "."))
    except ValueError:
        value = None
    if value is not None and 0 <= value <= 3660:
        assert _days(text) == value
    else:
        with pytest.raises(argparse.ArgumentTypeError):
            _days(text)


@given(st.text(max_size=200))
def test_only_token_shaped_text_is_looked_up(text: str) -> None:
    shaped = TOKEN_PATTERN.fullmatch(text) is not None
    assert shaped == (
        22 <= len(text) <= 128 and all(c.isascii() and (c.isalnum() or c in "-_") for c in text)
    )
