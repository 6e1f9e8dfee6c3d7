"""The dashboard's screenshots in docs/dashboard/: the TV (1920×1080) and phone (360 px) layouts
of Huyện Mường Khương in the morning (09:05) and at noon (12:05) of 23/05/2021, the country's
page with its map at noon, and a province of the 2025 structure (30 communes of Lào Cai) with
its communes' map in the morning; and results night (RESULTS.md) for Mường Khương: the
sample's ballot files (`fieldtally.demo.night.load_sample_ballots`) imported after the day and
seeded records stored for most areas (two communes still counting), at 22:30.

The real bot: a core on a throwaway database, the units imported by an admin, every chief
registered by sharing their phone (synthetic names), reports sent hour by hour by the chiefs
through the in-memory channel on a simulated clock (seeded: the same pictures every run), the
dashboard's real routes on loopback, Debian's chromium through Playwright.

    .venv/bin/python docs/dashboard/make_screenshots.py [--output docs/dashboard] [--only NAME]

The Mường Khương split of voters and the country's figures are synthetic (see
fieldtally/data/SOURCES.md); the commune names and codes are real.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import datetime as dt
import io
import random
import sys
import tempfile
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from playwright.async_api import async_playwright  # noqa: E402

from bot.channel import Address  # noqa: E402
from bot.core import Core  # noqa: E402
from bot.monitoring.dashboard_links import issue_link  # noqa: E402
from bot.results.imports import import_results  # noqa: E402
from bot.results.model import ResultRecord  # noqa: E402
from bot.settings import Settings  # noqa: E402
from fieldtally.demo.night import load_sample_ballots  # noqa: E402
from handlers.dashboard.routes import Dashboard  # noqa: E402
from handlers.http_server import HttpServer  # noqa: E402
from handlers.memory import MemoryChannel, address  # noqa: E402
from storage.database import Transaction  # noqa: E402

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
DAY = dt.date(2021, 5, 23)
ADMIN = 1
SAMPLE = ROOT / "fieldtally" / "data" / "samples" / "muong_khuong_2021_units.csv"
OFFICIAL = ROOT / "fieldtally" / "data" / "vn_units_2025"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
PHONE_NIGHT_CLIP = {"x": 0, "y": 0, "width": 360, "height": 3200}
SURNAMES = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Giàng", "Lò", "Vàng", "Sùng")
MIDDLE = ("Văn", "Thị", "Seo", "A", "Đức", "Minh")
GIVEN = ("An", "Bình", "Chiến", "Dung", "Hoa", "Khánh", "Lâm", "Mai", "Páo", "Sính", "Tú", "Vân")


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime.combine(DAY, dt.time(6, 30), TZ)

    def __call__(self) -> dt.datetime:
        return self.now


def units_csv(
    root: tuple[str, str, str], children: list[tuple[str, str, str]], areas: int
) -> bytes:
    """A units file: the root, its children (code, kind, name), `areas` areas under each
    (synthetic sizes and phones)."""
    rng = random.Random(len(children))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["code", "parent_code", "kind", "name", "registered_voters", "staff",
                     "contact_phones"])  # fmt: skip
    writer.writerow([root[0], "", root[1], root[2], "", "", ""])
    serial = 0
    for code, kind, name in children:
        writer.writerow([code, root[0], kind, name, "", "", ""])
        for n in range(1, areas + 1):
            serial += 1
            writer.writerow([f"{code}-{n:02d}", code, "khu vực bỏ phiếu",
                             f"Khu vực bỏ phiếu số {n} – {name}", rng.randint(600, 1400), 12,
                             f"0915{serial:06d}"])  # fmt: skip
    return out.getvalue().encode()


def official(name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO((OFFICIAL / name).read_text(encoding="utf-8-sig"))))


def country_units() -> bytes:
    """The country and its 34 provinces (2025 codes), four areas in each."""
    children = [(r["province_code"], r["province_type"].lower(), r["province_full_name"])
                for r in official("provinces.csv")]  # fmt: skip
    return units_csv(("VN", "quốc gia", "Việt Nam"), children, 4)


def province_units() -> bytes:
    """Tỉnh Lào Cai (2025 code 15) with 30 of its communes, three areas in each."""
    rows = [r for r in official("communes.csv") if r["province_code"] == "15"][:30]
    children = [(r["commune_code"], r["commune_type"].lower(), r["commune_full_name"])
                for r in rows]  # fmt: skip
    return units_csv(("15", "tỉnh", "Tỉnh Lào Cai"), children, 3)


def areas_of(data: bytes) -> list[dict[str, str]]:
    rows = csv.DictReader(io.StringIO(data.decode("utf-8-sig")))
    return [r for r in rows if r["kind"] == "khu vực bỏ phiếu"]


async def play_day(channel: MemoryChannel, clock: Clock, data: bytes, until: int) -> None:
    """Every chief registers, then reports on the hour from 08:00 to `until` (some late)."""
    rng = random.Random(2021)
    areas = areas_of(data)
    for index, area in enumerate(areas):
        name = f"{rng.choice(SURNAMES)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"
        phone = area["contact_phones"].split(";")[0]
        await channel.share_contact(1000 + index, phone, name)
    plans = []
    late = sorted({area["parent_code"] for area in areas})[-2:]  # two units silent until 10:00
    for index, area in enumerate(areas):
        final = rng.uniform(0.82, 1.0)
        first = 8 + (2 if rng.random() < 0.3 else 0) + (3 if rng.random() < 0.06 else 0)
        if area["parent_code"] in late:
            first = max(first, 10)
        plans.append((index, int(area["registered_voters"]), final, first, rng.uniform(0.9, 1.2)))
    for hour in range(8, until + 1):
        clock.now = dt.datetime.combine(DAY, dt.time(hour, 5), TZ)
        for index, voters, final, first, pace in plans:
            if hour < first:
                continue
            share = min(1.0, pace * (hour - 7) / 4.5)
            voted = max(1, int(voters * final * share))
            text = f"{voted}/{voters} {hour}h"
            if share >= 1.0 and hour >= 11:
                text = f"xong {hour}h {voted}/{voters}"
            answer = await channel.say(1000 + index, text)
            if answer.status.name != "ACCEPTED":  # a finished area: nothing more to say
                continue


async def play_night(core: Core, clock: Clock, still_counting: int = 2) -> None:
    """The sample's ballot files imported, then a record per area and ballot (seeded numbers
    that add up), except in the last `still_counting` communes: results night at 22:30."""
    ballots = load_sample_ballots()
    imported = await import_results(core.db, list(ballots.files))
    assert imported.stored, imported.text
    rng = random.Random(523)
    communes = sorted({a.parent_code for a in core.db.units.areas_under("MK") if a.parent_code})
    waiting = set(communes[-still_counting:])
    clock.now = dt.datetime.combine(DAY, dt.time(22, 30), TZ)
    records: list[ResultRecord] = []
    strength = {  # each candidate's share of the valid ballots, the same in every area
        (code, c.number): rng.uniform(0.25, 0.92)
        for code, candidates in ballots.candidates.items()
        for c in candidates
    }
    for area_code, ballot, code, listed_of in ballots.mappings:
        area = core.db.units.get(area_code)
        assert area is not None
        if area.parent_code in waiting:
            continue
        listed = listed_of or area.registered_voters or 500
        voted = int(listed * rng.uniform(0.9, 0.99))
        invalid = rng.randint(0, max(1, voted // 60))
        valid = voted - invalid
        seats = ballots.units[code].seats
        votes = [
            int(valid * min(1.0, strength[(code, c.number)] + rng.uniform(-0.04, 0.04)))
            for c in ballots.candidates[code]
        ]
        if sum(votes) > valid * seats:  # nobody marks more names than there are seats
            votes = [v * valid * seats // sum(votes) for v in votes]
        records.append(
            ResultRecord(
                area_code=area_code, ballot=ballot, electoral_unit=code, registered_voters=listed,
                voted=voted, issued=voted, returned=voted, valid=valid, invalid=invalid,
                votes=tuple(votes), entered_by=Address("memory", "1000"),
                entered_at=int(clock.now.timestamp()), text="kq",
            )
        )  # fmt: skip

    def store(tx: Transaction) -> None:
        for record in records:
            tx.results.add_record(record)

    await core.db.write(store)


async def shoot(url: str, out: Path, name: str) -> None:
    async with async_playwright() as driver:
        browser = await driver.chromium.launch(executable_path="/usr/bin/chromium",
                                               args=CHROMIUM_ARGS)  # fmt: skip
        for layout, viewport, full in (
            ("tv", {"width": 1920, "height": 1080}, False),
            ("phone", {"width": 360, "height": 780}, True),
        ):
            page = await browser.new_page(viewport=viewport, device_scale_factor=1)
            await page.goto(url)
            await page.wait_for_function("() => document.body.dataset.rendered")
            await page.wait_for_function(
                "() => document.getElementById('map').hidden ||"
                " document.querySelectorAll('#map path').length > 0"
            )
            path = out / f"{layout}-{name}.png"
            if full and name == "results-night":  # the first screens: headline, results
                await page.screenshot(path=str(path), full_page=True, clip=PHONE_NIGHT_CLIP)
            else:
                await page.screenshot(path=str(path), full_page=full)
            print(path)
            await page.close()
        await browser.close()


async def scenario(
    out: Path, name: str, units: bytes, filename: str, code: str, until: int, night: bool = False
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(
            _env_file=None,
            FIELDTALLY_DB=str(Path(folder) / "fieldtally.db"),
            FIELDTALLY_ADMINS=f"memory:{ADMIN}",
            FIELDTALLY_ELECTION_DATE=DAY.isoformat(),
        )
        clock = Clock()
        core = await Core.open(settings, chart_workers=0, clock=clock)
        try:
            channel = MemoryChannel(core, clock)
            imported = await channel.send_file(ADMIN, filename, units)
            assert imported.status.name == "ACCEPTED", imported
            await play_day(channel, clock, units, until)
            if night:
                await play_night(core, clock)
            dashboard = Dashboard(core, settle=0)
            server = HttpServer([("127.0.0.1", 0)])
            dashboard.mount(server)
            await server.start()
            try:
                unit = core.db.units.get(code)
                assert unit is not None
                issued = await issue_link(core.db, settings, unit, address(ADMIN), clock())
                port = server.addresses[0][1]
                await shoot(f"http://127.0.0.1:{port}/d/{issued.url.rsplit('/d/', 1)[1]}", out,
                            name)  # fmt: skip
            finally:
                await dashboard.close()
                await server.stop()
        finally:
            await core.close()


async def main_async(out: Path, only: str | None = None) -> None:
    await asyncio.to_thread(out.mkdir, parents=True, exist_ok=True)
    sample = await asyncio.to_thread(SAMPLE.read_bytes)
    scenes = {
        "morning": (sample, SAMPLE.name, "MK", 9, False),
        "noon": (sample, SAMPLE.name, "MK", 12, False),
        "country-noon": (country_units(), "vn_2025.csv", "VN", 12, False),
        "province-morning": (province_units(), "lao_cai_2025.csv", "15", 9, False),
        "results-night": (sample, SAMPLE.name, "MK", 17, True),
    }
    for name, (units, filename, code, until, night) in scenes.items():
        if only is None or name == only:
            await scenario(out, name, units, filename, code, until, night)


def main() -> int:
    parser = argparse.ArgumentParser(description="the dashboard's screenshots")
    parser.add_argument("--output", type=Path, default=Path(__file__).parent)
    parser.add_argument("--only", help="one scene: morning, noon, …, results-night")
    args = parser.parse_args()
    asyncio.run(main_async(args.output, args.only))
    return 0


if __name__ == "__main__":
    sys.exit(main())
