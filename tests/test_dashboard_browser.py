"""The live dashboard in a real headless browser (DASHBOARD.md, issue 18's acceptance): Debian's
chromium driven by Playwright, against the real core on a real database and the real routes over
HTTP on loopback.

The page's numbers equal the exported CSV; a new report appears without a reload; the page says
`mất kết nối` when the server goes away and comes back with the current numbers; no request
leaves the bot's origin; the security headers on everything the browser loaded; wrong and
revoked links; the TV layout (1920×1080, 30 children, no scroll, every text ≥ 16 px) and the
phone layout (360 px, no sideways scroll); the first load of a national page, map included,
under 1,000,000 bytes.

Every wait is for an event in the page (`wait_for_function`), bounded only by a generous
PATIENCE so a broken page fails instead of hanging; no test sleeps. Without chromium (apt-get
install chromium) or Playwright the tests are skipped, saying so.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bot.formatting import vn_int
from bot.messaging.answers import Status
from bot.monitoring import dashboard_texts as texts
from bot.monitoring.dashboard_links import issue_link, revoke_links
from bot.monitoring.geo import MAP_ATTRIBUTION
from handlers.dashboard.routes import SECURITY_HEADERS, Dashboard
from handlers.http_server import HttpServer
from handlers.memory import address
from tests.harness import ADMIN_ID, SAMPLE, at
from tests.memory import CHIEF_KV01, CHIEF_KV02, CHIEF_KV03_KV04, SUPERVISOR_X1, Day, open_day

playwright_api = pytest.importorskip(
    "playwright.async_api", reason="Playwright for Python is not installed (pip install -e .[dev])"
)
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
if not Path(CHROMIUM).exists():
    pytest.skip(
        "the browser tests need Debian's chromium: apt-get install -y --no-install-recommends"
        " chromium",
        allow_module_level=True,
    )

CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
WAIT_MS = 60_000  # a generous bound on every wait for the page (it fails instead of hanging)
TV = {"width": 1920, "height": 1080}
PHONE = {"width": 360, "height": 740}
OFFICIAL = Path(__file__).parents[1] / "fieldtally" / "data" / "vn_units_2025"
PHONE_DIGITS = re.compile(r"(?:\+84|0)9\d{2}[ .]?\d{3}[ .]?\d{3}")
UNITS_HEADER = ["code", "parent_code", "kind", "name", "registered_voters", "staff",
                "contact_phones"]  # fmt: skip


@dataclass
class Site:
    """The core's dashboard on an HTTP server on loopback, which a test can stop and restart
    on the same port."""

    day: Day
    port: int = 0
    server: HttpServer | None = None
    dashboard: Dashboard | None = None
    requests: list[str] = field(default_factory=list)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self.dashboard = Dashboard(self.day.core, heartbeat=1.0, settle=0, poll=3600)
        self.server = HttpServer([("127.0.0.1", self.port)])
        self.dashboard.mount(self.server)
        await self.server.start()
        self.port = self.server.addresses[0][1]

    async def stop(self) -> None:
        if self.dashboard is not None:
            await self.dashboard.close()
        if self.server is not None:
            await self.server.stop()
        self.server = self.dashboard = None

    async def link(self, code: str) -> str:
        unit = self.day.core.db.units.get(code)
        assert unit is not None
        issued = await issue_link(
            self.day.core.db, self.day.core.settings, unit, address(ADMIN_ID), self.day.core.now()
        )
        return self.base + "/d/" + issued.url.rsplit("/d/", 1)[1]


async def say(day: Day, user: int, text: str) -> None:
    answer = await day.channel.say(user, text)
    assert answer.status is Status.ACCEPTED, answer


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    async with playwright_api.async_playwright() as driver:
        launched = await driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            await launched.close()


@asynccontextmanager
async def site_of(day: Day) -> AsyncIterator[Site]:
    site = Site(day)
    await site.start()
    try:
        yield site
    finally:
        await site.stop()


@pytest.fixture
async def small(db_target: Path | str) -> AsyncIterator[Site]:
    """The small tree at 09:30: KV01 and KV02 reported, X1's chiefs and supervisor registered,
    X2 (KV05) silent."""
    async with open_day(db_target, start=at(9, 30)) as day:
        await day.register([CHIEF_KV01, CHIEF_KV02, CHIEF_KV03_KV04, SUPERVISOR_X1])
        await say(day, CHIEF_KV01, "160/320 9h")
        await say(day, CHIEF_KV02, "700/2000 9h15")
        async with site_of(day) as site:
            yield site


def official_rows(name: str) -> list[dict[str, str]]:
    text = (OFFICIAL / name).read_text(encoding="utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def units_file(path: Path, root: tuple[str, str, str], children: list[tuple[str, str, str]],
               areas_each: int) -> Path:  # fmt: skip
    """A units CSV: the root, its children (code, kind, name), `areas_each` areas under each."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(UNITS_HEADER)
    writer.writerow([root[0], "", root[1], root[2], "", "", ""])
    serial = 0
    for code, kind, name in children:
        writer.writerow([code, root[0], kind, name, "", "", ""])
        for n in range(1, areas_each + 1):
            serial += 1
            writer.writerow([f"{code}-{n:02d}", code, "khu vực bỏ phiếu",
                             f"Khu vực bỏ phiếu số {n} – {name}", 300 + 37 * (serial % 23), 12,
                             f"0913{serial:06d}"])  # fmt: skip
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def lao_cai_2025(tmp_path: Path, communes: int = 30) -> Path:
    """Tỉnh Lào Cai (2025 code 15) with `communes` of its communes, three areas each."""
    rows = [r for r in official_rows("communes.csv") if r["province_code"] == "15"][:communes]
    children = [
        (r["commune_code"], r["commune_type"].lower(), r["commune_full_name"]) for r in rows
    ]
    return units_file(tmp_path / "lao_cai_2025.csv", ("15", "tỉnh", "Tỉnh Lào Cai"), children, 3)


def the_country(tmp_path: Path) -> Path:
    """The country and its 34 provinces (2025 codes), one area each."""
    rows = official_rows("provinces.csv")
    children = [(r["province_code"], "tỉnh", r["province_full_name"]) for r in rows]
    return units_file(tmp_path / "vn_2025.csv", ("VN", "quốc gia", "Việt Nam"), children, 1)


async def report_some(day: Day, codes: list[str], every: int = 2) -> None:
    """The admin reports the first area of every `every`-th child, at varied turnouts."""
    for index, code in enumerate(codes):
        if index % every == 0:
            unit = day.core.db.units.get(f"{code}-01")
            assert unit is not None
            voted = unit.registered_voters * (20 + (index * 7) % 75) // 100
            await say(day, ADMIN_ID, f"{code}-01: {voted}/{unit.registered_voters} 9h")


async def open_page(browser: Any, url: str, viewport: dict[str, int] = TV) -> Any:
    page = await browser.new_page(viewport=viewport)
    await page.goto(url)
    await page.wait_for_function("() => document.body.dataset.rendered", timeout=WAIT_MS)
    return page


def percent_of(text: str) -> float:
    return float(text.rstrip("%").replace(",", "."))


STATUS_IS = "s => document.getElementById('status').textContent === s"


# -- what it shows ----------------------------------------------------------------------------


async def test_the_numbers_on_the_page_are_the_exported_ones(small: Site, browser: Any) -> None:
    page = await open_page(browser, await small.link("MK"))
    exported = await small.day.export("MK")
    mk = exported["MK"]
    field = "s => document.querySelector(`[data-field='${s}']`).textContent"
    assert await page.evaluate(field, "voted_text") == vn_int(int(mk["voted"]))
    assert await page.evaluate(field, "registered_text") == vn_int(int(mk["registered_voters"]))
    assert percent_of(await page.evaluate(field, "turnout_text")) == round(
        float(mk["turnout_percent"]), 1
    )
    assert await page.evaluate(field, "areas_reported_text") == mk["areas_reported"]
    assert await page.evaluate(field, "areas_total_text") == mk["areas_total"]
    assert await page.evaluate(field, "areas_finished_text") == mk["areas_finished"]
    rows = await page.eval_on_selector_all(
        "#children li.child",
        """rows => rows.map(r => ({code: r.dataset.code, notReported:
            r.classList.contains('not-reported'), pct: r.querySelector('.pct').textContent,
            votes: r.querySelector('.votes').textContent,
            areas: r.querySelector('.areas').textContent}))""",
    )
    # X2 has not reported: first, in words, never 0 %; then X1 with its numbers.
    assert [r["code"] for r in rows] == ["X2", "X1"]
    assert rows[0]["notReported"] and rows[0]["pct"] == texts.NOT_REPORTED
    x1 = exported["X1"]
    assert not rows[1]["notReported"]
    assert percent_of(rows[1]["pct"]) == round(float(x1["turnout_percent"]), 1)
    assert rows[1]["votes"] == f"{vn_int(int(x1['voted']))}/{vn_int(int(x1['registered_voters']))}"
    assert rows[1]["areas"].startswith(f"{x1['areas_reported']}/{x1['areas_total']}")
    # The areas not reported, with the registered chief's name, never a phone number.
    missing = await page.eval_on_selector_all(
        "#missing li.area", "items => items.map(i => [i.dataset.code, i.textContent])"
    )
    assert [code for code, _ in missing] == ["KV03", "KV04", "KV05"]
    assert texts.NO_CHIEF not in missing[0][1]
    assert texts.NO_CHIEF in missing[2][1]  # KV05's chief has not registered
    body = await page.inner_text("body")
    assert not PHONE_DIGITS.search(body) and not PHONE_DIGITS.search(await page.content())
    # The curve's end value is text on the page too.
    end = f"{round(float(mk['turnout_percent']), 1)}%".replace(".", ",")
    assert end in await page.inner_text("#curve")


async def test_a_new_report_appears_without_a_reload(small: Site, browser: Any) -> None:
    page = await open_page(browser, await small.link("MK"))
    await page.evaluate("window.stillTheSamePage = true")
    await say(small.day, ADMIN_ID, "KV05: 125/250 9h20")
    await page.wait_for_function(
        "() => document.querySelector(\"li.child[data-code='X2'] .pct\").textContent === '50,0%'",
        timeout=WAIT_MS,
    )
    assert await page.evaluate("window.stillTheSamePage === true")
    exported = await small.day.export("MK")
    voted = await page.text_content("[data-field='voted_text']")
    assert voted == vn_int(int(exported["MK"]["voted"]))
    codes = await page.eval_on_selector_all("#missing li.area", "i => i.map(x => x.dataset.code)")
    assert codes == ["KV03", "KV04"]


async def test_the_page_says_disconnected_and_comes_back_with_current_numbers(
    small: Site, browser: Any
) -> None:
    page = await open_page(browser, await small.link("MK"))
    await small.stop()
    # A request of the page fails: what it hears from here on is the server gone (a poll
    # answered while the server was still stopping may have shown the numbers once more).
    async with page.expect_event(
        "requestfailed", lambda request: request.url.startswith(small.base), timeout=WAIT_MS
    ):
        pass
    await page.wait_for_function(STATUS_IS, arg=texts.DISCONNECTED, timeout=WAIT_MS)
    assert await page.evaluate("document.body.classList.contains('offline')")
    await say(small.day, ADMIN_ID, "KV05: 200/250 9h25")  # while the page cannot hear
    await small.start()  # the same port
    await page.wait_for_function(STATUS_IS, arg=texts.LIVE, timeout=WAIT_MS)
    await page.wait_for_function(
        "() => document.querySelector(\"li.child[data-code='X2'] .pct\").textContent === '80,0%'",
        timeout=WAIT_MS,
    )
    assert not await page.evaluate("document.body.classList.contains('offline')")


async def test_a_revoked_link_stops_the_open_page_and_404s(small: Site, browser: Any) -> None:
    url = await small.link("MK")
    page = await open_page(browser, url)
    unit = small.day.core.db.units.get("MK")
    assert unit is not None
    await revoke_links(small.day.core.db, unit, address(ADMIN_ID), small.day.core.now())
    await page.wait_for_function(STATUS_IS, arg=texts.REVOKED, timeout=WAIT_MS)
    again = await browser.new_page()
    response = await again.goto(url)
    assert response.status == 404
    assert "Mường Khương" not in await again.content()
    wrong = await again.goto(small.base + "/d/" + "A" * 22)
    assert wrong.status == 404
    assert "MK" not in await again.inner_text("body")


# -- what it loads ----------------------------------------------------------------------------


async def test_the_national_page_loads_under_a_megabyte_all_from_the_bot(
    db_target: Path | str, tmp_path: Path, browser: Any
) -> None:
    async with open_day(db_target, the_country(tmp_path), start=at(10, 0)) as day:
        codes = [r["province_code"] for r in official_rows("provinces.csv")]
        await report_some(day, codes)
        async with site_of(day) as site:
            url = await site.link("VN")
            context = await browser.new_context(viewport=TV)
            elsewhere: list[str] = []
            seen: list[Any] = []
            blocked: list[str] = []

            async def only_the_bot(route: Any) -> None:
                if route.request.url.startswith(site.base + "/"):
                    await route.continue_()
                else:
                    elsewhere.append(route.request.url)
                    await route.abort()

            await context.route("**/*", only_the_bot)
            page = await context.new_page()
            cdp = await context.new_cdp_session(page)
            await cdp.send("Network.enable")
            received: list[int] = []
            cdp.on("Network.dataReceived", lambda e: received.append(int(e["dataLength"])))
            headers: list[int] = []
            cdp.on(
                "Network.responseReceived",
                lambda e: headers.append(sum(len(k) + len(str(v)) + 4
                                             for k, v in e["response"]["headers"].items())),
            )  # fmt: skip
            page.on("response", lambda response: seen.append(response))
            page.on("console", lambda m: blocked.append(m.text) if "Security Policy" in m.text
                    else None)  # fmt: skip
            await page.goto(url)
            await page.wait_for_function(
                "() => document.querySelectorAll('#map path.region').length === 34", timeout=WAIT_MS
            )
            transferred = sum(received) + sum(headers)
            assert 0 < transferred < 1_000_000, transferred
            assert not elsewhere
            assert all(r.url.startswith(site.base + "/") for r in seen)
            # The contract's headers on everything the browser loaded; no cookie; nothing the
            # policy had to block (no inline script or style).
            for response in seen:
                got = await response.all_headers()
                for name, value in SECURITY_HEADERS.items():
                    assert got.get(name.lower()) == value, (response.url, name)
                assert "set-cookie" not in got, response.url
            assert await context.cookies() == []
            assert not blocked, blocked
            # The map: Hoàng Sa and Trường Sa named, the attribution as the sources ask,
            # the provinces without a report hatched, a legend.
            map_text = await page.inner_text("#map")
            assert "Quần đảo Hoàng Sa" in map_text and "Quần đảo Trường Sa" in map_text
            assert MAP_ATTRIBUTION in map_text
            hatched = await page.eval_on_selector_all("#map path.region.nr", "p => p.length")
            assert hatched == 17  # every other province reported
            islands = await page.eval_on_selector_all("#map path.islands", "p => p.length")
            assert islands == 2  # Đà Nẵng's Hoàng Sa, Khánh Hòa's Trường Sa
            assert texts.NOT_REPORTED in await page.inner_text("#map .legend")
            await context.close()


# -- the layouts ------------------------------------------------------------------------------

SMALL_TEXTS = """() => {
  const small = [];
  for (const node of document.querySelectorAll('body *')) {
    const own = Array.from(node.childNodes).some(n => n.nodeType === 3 && n.textContent.trim());
    const box = node.getBoundingClientRect();
    if (!own || box.width === 0 || box.height === 0) continue;
    const size = parseFloat(getComputedStyle(node).fontSize);
    if (size < 16) small.push([node.tagName, node.textContent.slice(0, 30), size]);
  }
  return small;
}"""
SCROLLS = """() => [document.documentElement.scrollWidth, innerWidth,
                   document.documentElement.scrollHeight, innerHeight]"""


async def test_the_tv_layout_fits_30_children_on_one_screen_in_big_text(
    db_target: Path | str, tmp_path: Path, browser: Any
) -> None:
    async with open_day(db_target, lao_cai_2025(tmp_path), start=at(10, 0)) as day:
        codes = [u.code for u in day.core.db.units.children("15")]
        assert len(codes) == 30
        await report_some(day, codes, every=3)
        async with site_of(day) as site:
            page = await open_page(browser, await site.link("15"), TV)
            await page.wait_for_function(
                "() => document.querySelectorAll('#map path.region').length > 0", timeout=WAIT_MS
            )
            width, inner_width, height, inner_height = await page.evaluate(SCROLLS)
            assert width <= inner_width and height <= inner_height
            assert await page.evaluate(SMALL_TEXTS) == []
            rows = await page.eval_on_selector_all(
                "#children li.child", "rows => rows.map(r => r.getBoundingClientRect().bottom)"
            )
            assert len(rows) == 30 and max(rows) <= TV["height"]
            # The areas not reported, cut to what fits, ending with "và N khu vực khác".
            shown = await page.eval_on_selector_all("#missing li.area", "i => i.length")
            more = await page.text_content("#missing li.more")
            total = 90 - 10  # the first area of every third commune reported
            assert more == texts.more_missing(total - shown) and 0 < shown < total


async def test_the_phone_layout_never_scrolls_sideways_and_lists_every_area(
    db_target: Path | str, tmp_path: Path, browser: Any
) -> None:
    async with open_day(db_target, lao_cai_2025(tmp_path), start=at(10, 0)) as day:
        codes = [u.code for u in day.core.db.units.children("15")]
        await report_some(day, codes, every=3)
        async with site_of(day) as site:
            page = await open_page(browser, await site.link("15"), PHONE)
            await page.wait_for_function(
                "() => document.querySelectorAll('#map path.region').length > 0", timeout=WAIT_MS
            )
            width, inner_width, _, _ = await page.evaluate(SCROLLS)
            assert width <= inner_width == PHONE["width"]
            assert await page.eval_on_selector_all("#missing li.area", "i => i.length") == 80
            assert await page.query_selector("#missing li.more") is None


async def test_no_map_when_the_codes_are_not_the_2025_ones(
    db_target: Path | str, browser: Any
) -> None:
    # Mường Khương 2021: a few of its communes' codes are reused by 2025 communes of other
    # names (02761 was Thị trấn Mường Khương, is now Xã Mường Khương): not a map of it.
    async with open_day(db_target, SAMPLE, start=at(10, 0)) as day, site_of(day) as site:
        page = await open_page(browser, await site.link("MK"), TV)
        await page.wait_for_function(
            "() => document.querySelector('main').className === 'no-map'", timeout=WAIT_MS
        )
        assert await page.evaluate("document.getElementById('map').hidden")
        width, inner_width, height, inner_height = await page.evaluate(SCROLLS)
        assert width <= inner_width and height <= inner_height


async def test_thirty_seconds_of_silence_is_disconnected_and_polling_brings_it_back(
    small: Site, browser: Any
) -> None:
    """A stream that stays open but says nothing (a proxy holding it) while `/data` cannot be
    reached either: after 30 s the page says `mất kết nối`; once `/data` answers, polling
    removes the notice. The page's clock is the test's (Playwright's clock): no waiting."""
    await small.stop()
    small.dashboard = Dashboard(small.day.core, heartbeat=3600, settle=0, poll=3600)
    small.server = HttpServer([("127.0.0.1", small.port)])
    small.dashboard.mount(small.server)
    await small.server.start()
    page = await browser.new_page(viewport=TV)
    await page.clock.install()
    await page.goto(await small.link("MK"))
    await page.wait_for_function("() => document.body.dataset.rendered", timeout=WAIT_MS)

    async def unreachable(route: Any) -> None:
        await route.abort()

    held: list[Any] = []

    async def hold(route: Any) -> None:  # a new stream that never answers
        held.append(route)

    await page.route("**/data", unreachable)
    await page.route("**/events", hold)
    await page.clock.run_for(31_000)
    await page.wait_for_function(STATUS_IS, arg=texts.DISCONNECTED, timeout=WAIT_MS)
    await page.unroute("**/data", unreachable)
    async with page.expect_request(lambda r: r.url.endswith("/data"), timeout=WAIT_MS):
        await page.clock.run_for(6_000)  # the next poll
    await page.wait_for_function(STATUS_IS, arg=texts.LIVE, timeout=WAIT_MS)
    assert held  # the stream was retried meanwhile, and never answered


# -- results night (DASHBOARD.md "On results night…") -----------------------------------------


@asynccontextmanager
async def results_night(db_target: Path | str, lines: int) -> AsyncIterator[Site]:
    """The small tree at 21:00 with the ballots of tests/test_results_views.py and the first
    `lines` of its night's records stored."""
    from bot.results.imports import import_results
    from tests.test_results_views import AREA_BALLOTS, CANDIDATES, ELECTORAL_UNITS, NIGHT, store

    async with open_day(db_target, start=at(21, 0)) as day:
        imported = await import_results(
            day.core.db,
            [
                ("electoral_units.csv", ELECTORAL_UNITS.encode()),
                ("candidates.csv", CANDIDATES.encode()),
                ("area_ballots.csv", AREA_BALLOTS.encode()),
            ],
        )
        assert imported.stored, imported.text
        if lines:
            await store(day, *NIGHT[:lines])
        async with site_of(day) as site:
            yield site


async def exported_units(day: Day, code: str) -> list[dict[str, str]]:
    """`/xuat kq <code>`'s results_units.csv, as dicts."""
    answer = await day.channel.say(ADMIN_ID, f"/xuat kq {code}")
    assert answer.status is Status.ACCEPTED, answer
    for reply in answer.replies:
        document = reply.content
        if getattr(document, "filename", "").startswith("results_units_"):
            text = document.content.decode("utf-8-sig")  # type: ignore[union-attr]
            return list(csv.DictReader(io.StringIO(text)))
    raise AssertionError("no results_units file")


CANDIDATE_ROWS = """rows => rows.map(r => ({unit: r.closest('article').dataset.code,
    number: r.dataset.number, elected: r.classList.contains('elected'),
    name: r.querySelector('.c-name').textContent, pct: r.querySelector('.c-pct').textContent,
    votes: r.querySelector('.c-votes').textContent,
    bold: getComputedStyle(r.querySelector('.c-name')).fontWeight}))"""


def page_rows(rows: list[dict[str, str]]) -> dict[tuple[str, str], dict[str, str]]:
    return {(r["unit"], r["number"]): r for r in rows}


async def test_results_on_the_page_are_the_exported_ones_and_arrive_live(
    db_target: Path | str, browser: Any
) -> None:
    async with results_night(db_target, lines=9) as site:  # X2-1 (KV05) still waits
        page = await open_page(browser, await site.link("LC"), TV)
        await page.evaluate("window.stillTheSamePage = true")
        exported = await exported_units(site.day, "LC")
        shown = page_rows(await page.eval_on_selector_all("#results li.cand", CANDIDATE_ROWS))
        assert len(shown) == len(exported) == 11
        for row in exported:
            mine = shown[(row["electoral_unit"], row["candidate_number"])]
            assert mine["pct"] == row["percent_of_valid"].replace(".", ",") + "%"
            assert mine["votes"].split(" ")[0] == vn_int(int(row["votes"]))
            assert mine["elected"] == (row["outcome"] == "elected")
            assert mine["name"].endswith(row["candidate_name"])
            assert mine["name"].startswith("✓") == mine["elected"]  # not by colour only
            if mine["elected"]:
                assert int(mine["bold"]) >= 700
        ballots = await page.eval_on_selector_all(
            "#results li.ballot", "b => b.map(x => [x.dataset.ballot, x.textContent])"
        )
        assert [b for b, _ in ballots] == ["qh", "xa"]
        assert "bầu được 1/2" in ballots[0][1] and "đề nghị bầu thêm: 1" in ballots[0][1]
        assert "bầu được 2/4" in ballots[1][1] and "2/3" in ballots[1][1]
        flags = await page.eval_on_selector_all(
            "#results article",
            "a => a.map(x => [x.dataset.code, x.querySelector('.flag')"
            " ? x.querySelector('.flag').textContent : null])",
        )
        assert flags == [
            ["QH-1", "đề nghị bầu thêm"], ["X1-1", None], ["X1-2", "bầu thêm"], ["X2-1", None],
        ]  # fmt: skip
        # The last record, confirmed: the page shows it without a reload.
        from tests.test_results_views import NIGHT, store

        await store(site.day, NIGHT[9])
        await page.wait_for_function(
            "() => { const f = document.querySelector(\"article[data-code='X2-1'] .flag\");"
            " return f && f.textContent === 'bầu lại'; }",
            timeout=WAIT_MS,
        )
        assert await page.evaluate("window.stillTheSamePage === true")
        exported = await exported_units(site.day, "LC")
        shown = page_rows(await page.eval_on_selector_all("#results li.cand", CANDIDATE_ROWS))
        for row in exported:
            mine = shown[(row["electoral_unit"], row["candidate_number"])]
            assert mine["pct"] == row["percent_of_valid"].replace(".", ",") + "%"


async def test_no_results_panel_before_the_first_record(
    db_target: Path | str, browser: Any
) -> None:
    async with results_night(db_target, lines=0) as site:
        page = await open_page(browser, await site.link("LC"), TV)
        assert await page.is_hidden("#results")
        assert await page.is_visible("#curve")


@pytest.mark.parametrize(("viewport", "tv"), [(TV, True), (PHONE, False)])
async def test_results_night_layouts(
    db_target: Path | str, browser: Any, viewport: dict[str, int], tv: bool
) -> None:
    async with results_night(db_target, lines=10) as site:
        page = await open_page(browser, await site.link("LC"), viewport)
        assert await page.is_visible("#results")
        width, inner_width, height, inner_height = await page.evaluate(SCROLLS)
        assert width <= inner_width
        if tv:  # one screen, every text at least 16 px, the turnout curve gives way
            assert height <= inner_height
            assert await page.evaluate(SMALL_TEXTS) == []
            assert await page.is_hidden("#curve")
            bottoms = await page.eval_on_selector_all(
                "#results article:not([hidden])",
                "a => a.map(x => x.getBoundingClientRect().bottom)",
            )
            assert bottoms and max(bottoms) <= TV["height"]
        else:
            assert await page.eval_on_selector_all("#results article", "a => a.length") == 4
