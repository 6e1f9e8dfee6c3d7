"""`fieldtally demo`: the offline election-day drill (diễn tập) on one machine.

No token and no network beyond loopback: the project's Bot-API sandbox plays Telegram, the
real bot (`handlers.application.run_bot`, the code `fieldtally run` runs) talks to it over
HTTP, and simulated people replay election day against it on a simulated clock:

* an admin imports the unit list (`/nhap`) and subscribes the district's group (`/theodoi`);
* one chief per area phone registers by sharing their contact, reports the COVID staff tests
  early, then turnout through the morning in the forms real chiefs type, with a few typos the
  bot refuses (❌) and the chief corrects (a retyped report, `sửa …`, an edited message), and
  finally the completion — every area at 100%, as Mường Khương had in 2021;
* the group receives the automatic summaries with charts, and the "all finished" notice;
* at the end the admin asks `/tonghop` and `/xuat … csv|xlsx`.

Every answer is awaited and checked against what the script expects (the planned ❌ included):
a surprise stops the drill with the conversation that led to it. The outputs (charts, exports,
the transcript, a summary) go to `--output`.

Structure: the unit list (`load_unit_list`), the simulated clock (`SimClock`), the plan of the
day (`plan_day`, pure and seeded), the drill itself (`Drill`, `run_demo`), and the files it
writes. `main` is what the `fieldtally demo` command calls.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import dataclasses
import datetime as dt
import importlib.resources
import io
import math
import random
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Final, TextIO
from zoneinfo import ZoneInfo

import openpyxl

from bot import texts
from bot.formatting import turnout_percent, vn_int
from bot.grammar import parse_message
from bot.phones import normalize_phone
from bot.reports import ParsedReport, ReportKind
from bot.settings import Settings
from bot.spreadsheets import parse_units_file
from bot.units import UnitRow, UnitsFileError, UnitTree
from handlers.telegram_settings import TelegramSettings
from sandbox import BotApiSandbox, OutgoingRecord, SimUser

__all__ = [
    "DEFAULT_OUTPUT",
    "DEFAULT_SEED",
    "DEFAULT_SPEED",
    "DemoError",
    "DemoOptions",
    "DemoResult",
    "main",
    "run_demo",
]

ELECTION_DAY: Final = dt.date(2021, 5, 23)  # the 2021 election, when the seed district drilled
TZ: Final = ZoneInfo("Asia/Ho_Chi_Minh")
DAY_START: Final = dt.time(5, 0)  # the drill starts when reports may start
POLLS_OPEN: Final = dt.time(7, 0)
FIRST_FINISH: Final = dt.time(10, 30)  # Mường Khương's areas finished by 12:30
LAST_FINISH: Final = dt.time(12, 30)
REPORT_MARKS: Final = tuple(
    dt.time(h, m)
    for h, m in ((8, 0), (9, 0), (9, 30), (10, 0), (10, 30), (11, 0), (11, 30), (12, 0))
)

DEFAULT_SPEED: Final = 900.0  # simulated seconds per real second: 05:00–12:45 in about 31 s
DEFAULT_SEED: Final = 2021
DEFAULT_OUTPUT: Final = Path("demo-output")
# The simulated day pauses while the bot is more than this behind the oldest unanswered message.
CLOCK_LEAD: Final = dt.timedelta(minutes=2)
REPLY_TIMEOUT: Final = 60.0  # real seconds for one answer (the rate limiter queues bursts)
SUMMARY_SIM_INTERVAL: Final = dt.timedelta(hours=1)
# Each automatic summary is 3 messages (text, 2 charts); Telegram allows a group 20 a minute,
# which the bot's rate limiter enforces: 3 per 10 s never makes the group's notice wait.
MIN_SUMMARY_EVERY_S: Final = 10

ADMIN_ID: Final = 1_000_001
ADMIN_NAME: Final = "Ban bầu cử (quản trị)"
GROUP_ID: Final = -1_001_500_000_001
FIRST_CHIEF_ID: Final = 5_000_001

SAMPLE_NAME: Final = "muong_khuong_2021_units.csv"
# The seed report's figures for the sample (fieldtally/data/SOURCES.md): 139 areas, 38,851
# voters, 2,157 members of the polling teams of whom 2,123 were COVID-tested, all negative.
SAMPLE_FIGURES: Final = {
    "areas_total": 139,
    "areas_finished": 139,
    "registered_voters": 38_851,
    "voted": 38_851,
    "staff_total": 2_157,
    "staff_tested": 2_123,
    "positives": 0,
}
UNTESTED_SHARE: Final = (2_157 - 2_123) / 2_157  # the seed's untested share, for any list
_SYNTHETIC_PHONE_PREFIX: Final = "+84919"  # for areas without a phone; none in bundled data

OK, NO = texts.OK, texts.NO
ANY: Final = "*"  # expected reply: any text
PHOTO: Final = "[photo]"
DOCUMENT: Final = "[document]"


class DemoError(Exception):
    """The drill cannot run, or the bot did not answer as the script expected."""


# == the unit list ================================================================================


@dataclass(frozen=True, slots=True)
class Area:
    code: str
    name: str
    voters: int
    staff: int | None  # None: the area's COVID tally defines its staff
    phone: str  # `+84…`: the chief who reports (the first of the area's contact phones)


@dataclass(frozen=True, slots=True)
class UnitList:
    filename: str  # as sent to the bot
    content: bytes  # what the admin imports: the file, or the demo's copy with phones added
    tree: UnitTree
    areas: tuple[Area, ...]
    synthetic_phones: int  # areas that had no phone in the file
    is_sample: bool

    def focus(self) -> UnitRow:
        """The unit the group follows: the first root, then down while it has a single inner
        child (the sample's province LC holds one district, MK, whose board has the group)."""
        unit = self.tree.roots[0]
        while True:
            children = self.tree.children(unit.code)
            if len(children) != 1 or self.tree.is_leaf(children[0].code):
                return unit
            unit = children[0]


def load_unit_list(path: Path | None) -> UnitList:
    """Read and check the unit file (default: the bundled sample); raise DemoError."""
    if path is None:
        filename = SAMPLE_NAME
        resource = importlib.resources.files("fieldtally") / "data" / "samples" / SAMPLE_NAME
        data = resource.read_bytes()
    else:
        filename = path.name
        try:
            data = path.read_bytes()
        except OSError as error:
            raise DemoError(f"cannot read {path}: {error.strerror}") from None
    tree = _parse_units(filename, data)
    leaves = [row for row in tree if tree.is_leaf(row.code)]
    missing = [row.code for row in leaves if not row.contact_phones]
    if missing:
        used = {phone for row in tree for phone in row.contact_phones}
        phones = dict(zip(missing, _synthetic_phones(len(missing), used), strict=True))
        data = _with_phones(filename, data, phones)
        tree = _parse_units(filename, data)
        leaves = [row for row in tree if tree.is_leaf(row.code)]
    areas = tuple(
        Area(row.code, row.name, row.registered_voters or 0, row.staff, row.contact_phones[0])
        for row in leaves
    )
    return UnitList(filename, data, tree, areas, len(missing), path is None)


def _parse_units(filename: str, data: bytes) -> UnitTree:
    try:
        return parse_units_file(filename, data)
    except UnitsFileError as error:
        shown = [
            texts.as_plain_text(
                texts.import_issue(i.line, i.column, i.kind.value, i.value, i.related_lines)
            )
            for i in error.issues[:20]
        ]
        if len(error.issues) > len(shown):
            shown.append(f"… and {len(error.issues) - len(shown)} more")
        raise DemoError("\n".join([f"{filename} is not a valid unit list:", *shown])) from None


def _synthetic_phones(count: int, used: set[str]) -> list[str]:
    phones: list[str] = []
    number = 0
    while len(phones) < count:
        number += 1
        phone = f"{_SYNTHETIC_PHONE_PREFIX}{number:06d}"
        if phone not in used:
            phones.append(phone)
    return phones


def _with_phones(filename: str, data: bytes, phones: dict[str, str]) -> bytes:
    """The file with `phones` (area code -> phone) in its contact_phones column, same format."""
    wanted = {code.lower(): phone for code, phone in phones.items()}
    if filename.lower().endswith(".xlsx"):
        return _xlsx_with_phones(data, wanted)
    return _csv_with_phones(data, wanted)


def _column(header: Sequence[str], name: str) -> int | None:
    return next((i for i, cell in enumerate(header) if cell.strip().lower() == name), None)


def _csv_with_phones(data: bytes, phones: dict[str, str]) -> bytes:
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    start = next(i for i, row in enumerate(rows) if any(cell.strip() for cell in row))
    header = rows[start]
    code_at = _column(header, "code")
    assert code_at is not None  # the file parsed: the column is there
    phone_at = _column(header, "contact_phones")
    if phone_at is None:
        header.append("contact_phones")
        phone_at = len(header) - 1
    for row in rows[start + 1 :]:
        if len(row) > code_at and row[code_at].strip().lower() in phones:
            row.extend([""] * (len(header) - len(row)))
            row[phone_at] = phones[row[code_at].strip().lower()]
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue().encode("utf-8")


def _cell_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return "" if value is None else str(value).strip()


def _xlsx_with_phones(data: bytes, phones: dict[str, str]) -> bytes:
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    sheet = workbook.worksheets[0]
    rows = list(sheet.iter_rows())
    start = next(i for i, row in enumerate(rows) if any(_cell_text(c.value) for c in row))
    header = [_cell_text(cell.value) for cell in rows[start]]
    code_at = _column(header, "code")
    assert code_at is not None
    phone_at = _column(header, "contact_phones")
    if phone_at is None:
        phone_at = len(header)
        sheet.cell(row=start + 1, column=phone_at + 1, value="contact_phones")
    for number, row in enumerate(rows[start + 1 :], start=start + 2):  # openpyxl counts from 1
        if len(row) > code_at and _cell_text(row[code_at].value).lower() in phones:
            phone = phones[_cell_text(row[code_at].value).lower()]
            sheet.cell(row=number, column=phone_at + 1, value=phone)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


# == the simulated clock ==========================================================================


class SimClock:
    """The drill's time of day: `speed` simulated seconds per real second, from `start`.

    It never runs more than CLOCK_LEAD past the oldest message still waiting for its answers
    (`hold` / `release`): when a burst of nine o'clock reports queues up behind Telegram's rate
    limit, the day pauses until the bot has caught up, as if it had answered in time. It never
    runs backwards. The bot (summaries), the sandbox (the bot's message dates) and the
    simulated people all read it.
    """

    def __init__(
        self,
        start: dt.datetime,
        speed: float,
        lead: dt.timedelta = CLOCK_LEAD,
        real_time: Callable[[], float] = time.monotonic,
    ):
        """`real_time` reads real seconds (tests pass a clock they move by hand)."""
        if not speed > 0:
            raise ValueError("speed must be positive")
        self.speed = speed
        self._lead = lead
        self._real_time = real_time
        self._anchor_sim = start
        self._anchor_real = real_time()
        self._held: dict[int, dt.datetime] = {}
        self._next_hold = 0
        self._running = False

    def start(self) -> None:
        """Let the day run from its start time (the clock stands still until then)."""
        self._anchor_real = self._real_time()
        self._running = True

    def now(self) -> dt.datetime:
        if not self._running:
            return self._anchor_sim
        return self._at(self._real_time())

    def _at(self, real: float) -> dt.datetime:
        moment = self._anchor_sim + dt.timedelta(seconds=(real - self._anchor_real) * self.speed)
        if self._held:
            limit = max(min(self._held.values()) + self._lead, self._anchor_sim)
            if moment > limit:  # pause here until the bot catches up
                self._anchor_sim, self._anchor_real = limit, real
                return limit
        return moment

    def hold(self, sent_at: dt.datetime) -> int:
        if self._running:
            # Re-anchor at the present first: a message older than the last anchor then
            # stops the clock where it is, instead of sending it back to that anchor.
            real = self._real_time()
            self._anchor_sim, self._anchor_real = self._at(real), real
        self._next_hold += 1
        self._held[self._next_hold] = sent_at
        return self._next_hold

    def release(self, hold: int) -> None:
        self.now()  # re-anchor at the current time before the limit moves
        self._held.pop(hold, None)

    async def sleep_until(self, moment: dt.datetime) -> None:
        # Polling is right here: the moment comes when the clock says so, and it may pause.
        while (now := self.now()) < moment:  # noqa: ASYNC110
            await asyncio.sleep(max((moment - now).total_seconds() / self.speed, 0.005))


def at(moment: dt.time, day: dt.date = ELECTION_DAY) -> dt.datetime:
    return dt.datetime.combine(day, moment, tzinfo=TZ)


# == the plan of the day ==========================================================================


class Action(StrEnum):
    TEXT = "text"
    EDIT = "edit"  # edits the message of step `edits`
    CONTACT = "contact"  # shares the sender's own contact; `text` is the number


@dataclass(frozen=True, slots=True)
class Step:
    at: dt.datetime  # planned (simulated) send time
    action: Action
    text: str
    expect: tuple[str, ...]  # how each answer starts, in order: ✅, ❌, ANY…
    edits: int | None = None
    finishes: str | None = None  # the area this step completes, when answered ✅


@dataclass(slots=True)
class Chief:
    user_id: int
    name: str
    phone: str
    areas: tuple[Area, ...]
    steps: list[Step] = field(default_factory=list)
    quirk: str | None = None

    @property
    def label(self) -> str:
        return f"{self.name} · {', '.join(a.code for a in self.areas)}"


@dataclass(frozen=True, slots=True)
class AreaDay:
    """What one area does on the day: its tally, its counts over time, when it finishes."""

    area: Area
    staff_total: int  # the area's staff, or the total its tally states when it has none
    tested: int
    covid_at: dt.datetime
    reports: tuple[tuple[dt.datetime, int], ...]  # (stated time, voted), increasing
    finish: dt.datetime
    bare_finish: bool  # completion as `xong 12h30` (count: the last report, which is the list)


@dataclass(frozen=True, slots=True)
class Plan:
    chiefs: tuple[Chief, ...]
    days: tuple[AreaDay, ...]
    start: dt.datetime
    end: dt.datetime  # the last planned message

    @property
    def replies_expected(self) -> int:
        return sum(len(s.expect) for c in self.chiefs for s in c.steps)


# Names as in Mường Khương (H'Mông, Nùng, Dao, Kinh…); not real people.
_FAMILY = (
    "Vàng", "Giàng", "Lù", "Thào", "Sùng", "Lò", "Hoàng", "Nguyễn", "Lý", "Tẩn", "Chảo",
    "Trần", "Phạm", "Ma", "Nông", "Hầu", "Lồ", "Vũ",
)  # fmt: skip
_MEN = (("Seo", "A", "Văn", "Văn", "Đức"), (
    "Sử", "Páo", "Chiến", "Dín", "Pao", "Lềnh", "Hùng", "Thắng", "Chứ", "Sinh", "Phủ", "Chìn",
    "Tuấn", "Minh", "Hải", "Cường", "Lợi", "Vần", "Sơn",
))  # fmt: skip
_WOMEN = (("Thị",), (
    "Mai", "Hoa", "Dung", "Lan", "Thanh", "Mỷ", "Dợ", "Sính", "Hương", "Liên", "Chờ", "Nhung",
))  # fmt: skip


def _name(rng: random.Random) -> str:
    middle, given = _WOMEN if rng.random() < 0.35 else _MEN
    return f"{rng.choice(_FAMILY)} {rng.choice(middle)} {rng.choice(given)}"


# Each quirk is given to a few chiefs (with one area each), in this order; the first ones are
# what the drill must show even on a small list.
QUIRKS: Final = (
    "extra_zero",  # 2500/320 9h ❌ voted over list -> 250/320 9h ✅
    "sua",  # a wrong count ✅, then `sửa` with the right one ✅
    "edit",  # a wrong count ✅, then the Telegram message edited ✅
    "letter_o_edit",  # 25o/320 9h ❌ unreadable -> the message edited ✅
    "unregistered",  # a report before registering ❌ -> /start, contact, the report again ✅
    "same_time",  # a recount at the same time ❌ (use sửa) -> `sửa` ✅
    "list_typo",  # 250/3200 9h ❌ list size -> 250/320 9h ✅
    "wrong_hour",  # 250/320 19h at nine ❌ not yet -> 250/320 9h ✅
    "dropped_digit",  # 26/320 10h after 250 at 9h ❌ lower -> 265/320 10h ✅
    "covid_typo",  # XN 16/15 ❌ -> XN 15/16 ✅
    "duplicate",  # poor signal: the same report sent twice, both ✅, stored once
    "letter_o",  # 25o/320 9h ❌ -> retyped ✅
    "multi_line",  # the first count and the COVID tally in one message: two ✅
)
CHIEFS_PER_QUIRK_COPY: Final = 100  # one more copy of every quirk per this many chiefs


def plan_day(units: UnitList, rng: random.Random) -> Plan:
    """Every message of the day, seeded: same list and seed, same day."""
    start = at(DAY_START)
    days = _area_days(units.areas, rng)
    by_phone: dict[str, list[AreaDay]] = {}
    for day in days:
        by_phone.setdefault(day.area.phone, []).append(day)
    chiefs: list[Chief] = []
    for index, (phone, own) in enumerate(by_phone.items()):
        chief = Chief(FIRST_CHIEF_ID + index, _name(rng), phone, tuple(d.area for d in own))
        chiefs.append(chief)
    single = [c for c in chiefs if len(c.areas) == 1]
    quirks = _assign_quirks(single, rng)
    day_of = {d.area.code: d for d in days}
    for chief in chiefs:
        registered = start + dt.timedelta(minutes=rng.uniform(5, 90))
        if len(chief.areas) == 1:
            chief.quirk = quirks.get(chief.user_id)
            chief.steps = _single_area_steps(rng, chief, day_of[chief.areas[0].code], registered)
        else:
            chief.steps = _multi_area_steps(rng, chief, [day_of[a.code] for a in chief.areas])
            chief.steps.insert(0, _contact_step(registered, chief))
        _check_steps(chief)
    end = max(s.at for c in chiefs for s in c.steps)
    return Plan(tuple(chiefs), tuple(days), start, end)


def _area_days(areas: Sequence[Area], rng: random.Random) -> list[AreaDay]:
    totals = [a.staff if a.staff is not None else rng.randint(9, 15) for a in areas]
    untested = [0] * len(areas)
    left = round(sum(totals) * UNTESTED_SHARE)
    room = [max(0, min(2, total - 1)) for total in totals]  # at most 2 untested per team
    while left > 0 and any(room):
        index = rng.choice([i for i, r in enumerate(room) if r > 0])
        untested[index] += 1
        room[index] -= 1
        left -= 1
    first, last = at(FIRST_FINISH), at(LAST_FINISH)
    span = int((last - first).total_seconds() // 300)
    days = []
    for area, total, missing in zip(areas, totals, untested, strict=True):
        finish = first + dt.timedelta(minutes=5 * rng.randint(0, span))
        marks = [at(m) for m in REPORT_MARKS if at(m) <= finish - dt.timedelta(minutes=10)]
        count = min(len(marks), rng.choices((1, 2, 3), weights=(20, 55, 25))[0])
        chosen = sorted(rng.sample(marks, count))
        reports = _counts(rng, area.voters, chosen, finish)
        bare = rng.random() < 0.25 or area.voters == 0
        if bare and area.voters > 0:  # `xong` takes the last count: report the full list first
            last_report = reports[-1][0]
            full_at = finish - dt.timedelta(minutes=rng.choice((5, 10)))
            if full_at <= last_report:
                bare = False
            else:
                reports.append((full_at, area.voters))
        covid_at = at(DAY_START) + dt.timedelta(minutes=rng.uniform(30, 115))
        days.append(AreaDay(area, total, total - missing, covid_at, tuple(reports), finish, bare))
    return days


def _counts(
    rng: random.Random, voters: int, marks: Sequence[dt.datetime], finish: dt.datetime
) -> list[tuple[dt.datetime, int]]:
    """Cumulative voted at each mark: fast in the early morning, the whole list by `finish`."""
    opens = at(POLLS_OPEN)
    whole = (finish - opens).total_seconds() / 3600
    tau = rng.uniform(1.2, 2.2)  # hours: how quickly the area's voters come
    counts: list[tuple[dt.datetime, int]] = []
    previous = 0
    for mark in marks:
        hours = (mark - opens).total_seconds() / 3600
        share = (1 - math.exp(-hours / tau)) / (1 - math.exp(-whole / tau))
        count = int(voters * share * rng.uniform(0.94, 1.0))
        count = max(previous, min(count, voters - 1 if voters else 0))
        counts.append((mark, count))
        previous = count
    return counts


def _assign_quirks(chiefs: Sequence[Chief], rng: random.Random) -> dict[int, str]:
    """Chief -> quirk: every quirk once, then again per CHIEFS_PER_QUIRK_COPY chiefs."""
    eligible = [c for c in chiefs if c.areas[0].voters >= 20 and c.areas[0].staff != 0]
    rng.shuffle(eligible)
    copies = 1 + len(chiefs) // CHIEFS_PER_QUIRK_COPY
    wanted = [quirk for _ in range(copies) for quirk in QUIRKS]
    return {c.user_id: quirk for c, quirk in zip(eligible, wanted, strict=False)}


# -- the words chiefs type ---------------------------------------------------------------------


def _numbers(rng: random.Random, *values: int) -> list[str]:
    """Counts as one chief writes them: 1.250, 1 250 or 1250 (the same way in one message)."""
    separator = rng.choice((".", " ", ""))
    return [f"{value:,}".replace(",", separator) for value in values]


def _clock_words(rng: random.Random, moment: dt.datetime, luc: bool = True) -> str:
    """A time as chiefs write it: 9h, 9h30, 09:30, 9 giờ 30, 9g30, lúc 9h (when `luc`)."""
    h, m = moment.hour, moment.minute
    forms = [
        f"{h}h" if m == 0 else f"{h}h{m:02d}",
        f"{h}h" if m == 0 else f"{h}h{m:02d}",
        f"{h:02d}:{m:02d}",
        f"{h} giờ" if m == 0 else f"{h} giờ {m}",
        f"{h}g" if m == 0 else f"{h}g{m:02d}",
    ]
    if luc:
        forms.append(f"lúc {h}h" if m == 0 else f"lúc {h}h{m:02d}")
    return rng.choice(forms)


def _turnout_text(
    rng: random.Random, voted: int, voters: int, moment: dt.datetime, style: int | None = None
) -> str:
    c, v = _numbers(rng, voted, voters)
    if voters == 0:
        return f"{voted} lúc {moment.hour}:{moment.minute:02d}"
    h, m = moment.hour, moment.minute
    style = (
        rng.choices(range(8), weights=(30, 12, 10, 10, 8, 10, 10, 10))[0]
        if style is None
        else style
    )
    t = _clock_words(rng, moment, luc=False)
    match style:
        case 0:
            return f"{c}/{v} {_clock_words(rng, moment)}"
        case 1:
            return f"{t} ct {c}/{v}"
        case 2:
            return f"cu tri: {c}/{v} luc {h} gio" + (f" {m}" if m else "")
        case 3:
            return f"Cử tri: {c}/{v} lúc {t}"
        case 4:
            return f"{c} lúc {h}:{m:02d}"
        case 5:
            return f"Đã bầu {c}/{v} lúc {t}"
        case 6:
            return f"báo cáo {_clock_words(rng, moment)}: {c}/{v}"
        case _:
            return f"luc {h}h{m:02d} da bau {c}/{v}" if m else f"luc {h}h da bau {c}/{v}"


def _completion_text(rng: random.Random, voters: int, moment: dt.datetime, bare: bool) -> str:
    t = _clock_words(rng, moment, luc=False)
    if bare:
        return rng.choice((f"xong {t}", f"xong lúc {t}", f"hoan thanh {t}"))
    [v] = _numbers(rng, voters)
    return rng.choice(
        (
            f"Hoàn thành {v}/{v} lúc {t}",
            f"kết thúc {t} {v}/{v}",
            f"ket thuc luc {t.replace('giờ', 'gio')}. {v}/{v} cu tri",
            f"xong {t} {v}/{v}",
            f"Hoan thanh {t}, {v}/{v}",
            f"Kết thúc {t}: {v}/{v} cử tri",
        )
    )


def _covid_text(rng: random.Random, tested: int, total: int) -> str:
    return rng.choice(
        (
            f"xn {tested}/{total} am tinh",
            f"XN {tested}/{total} âm tính",
            f"Xét nghiệm {tested}/{total} âm tính",
            f"xn {tested}/{total} dt 0",
            f"xét nghiệm {tested}/{total} dương tính 0",
        )
    )


def _later(moment: dt.datetime, rng: random.Random, low: float, high: float) -> dt.datetime:
    """`moment` plus a random delay in minutes, to the second."""
    return (moment + dt.timedelta(minutes=rng.uniform(low, high))).replace(microsecond=0)


def _contact_step(moment: dt.datetime, chief: Chief) -> Step:
    phone = normalize_phone(chief.phone)
    assert phone is not None
    return Step(moment.replace(microsecond=0), Action.CONTACT, phone.removeprefix("+"), (OK,))


def _single_area_steps(
    rng: random.Random, chief: Chief, day: AreaDay, registered: dt.datetime
) -> list[Step]:
    """One area's day, with the chief's quirk if any."""
    area, quirk = day.area, chief.quirk
    steps: list[Step] = []

    def add(
        moment: dt.datetime,
        text: str,
        expect: tuple[str, ...] = (OK,),
        action: Action = Action.TEXT,
        edits: int | None = None,
        finishes: str | None = None,
    ) -> int:
        if steps and moment < steps[-1].at + dt.timedelta(seconds=20):
            moment = steps[-1].at + dt.timedelta(seconds=rng.randint(20, 50))
        steps.append(Step(moment, action, text, expect, edits, finishes))
        return len(steps) - 1

    covid = _covid_text(rng, day.tested, day.staff_total)
    if quirk == "unregistered":
        first = min(registered, day.covid_at)
        add(first, covid, (NO,))
        add(_later(first, rng, 1, 3), "/start", (ANY,))
        steps.append(_contact_step(_later(steps[-1].at, rng, 0.5, 1.5), chief))
        add(_later(steps[-1].at, rng, 0.5, 2), covid)
    else:
        steps.append(_contact_step(registered, chief))
        if quirk == "covid_typo":
            tested, total = str(day.tested), day.staff_total
            # 15 of 16 typed the wrong way round, or a double tap: 166 of 16.
            typo = f"{total}/{tested}" if day.tested < total else f"{tested}{tested[-1]}/{total}"
            add(max(day.covid_at, registered), f"XN {typo} âm tính", (NO,))
            add(_later(steps[-1].at, rng, 1, 4), covid)
        elif quirk != "multi_line" and day.staff_total > 0:  # a team of 0 has nothing to test
            add(max(day.covid_at, registered), covid)

    reports = list(day.reports)
    quirk_at = _quirk_report(rng, quirk, reports, area.voters)
    for index, (stated, voted) in enumerate(reports):
        sent = _later(stated, rng, 0.5, 12)
        next_stated = reports[index + 1][0] if index + 1 < len(reports) else day.finish
        # A report without a time is stored at its arrival: keep it well before the next one.
        style = None if next_stated - sent >= dt.timedelta(minutes=20) else 0
        if style is None and quirk is None and rng.random() < 0.12:
            text = "ct {}/{}".format(*_numbers(rng, voted, area.voters))
        else:
            text = _turnout_text(rng, voted, area.voters, stated, style)
        right = f"{voted}/{area.voters} {_clock_words(rng, stated)}"
        if index != quirk_at:
            if quirk == "multi_line" and index == 0:
                add(sent, f"{text}\n{covid}", (OK, OK))
            else:
                add(sent, text)
            continue
        previous = reports[index - 1][1] if index else 0
        following = reports[index + 1][1] if index + 1 < len(reports) else area.voters
        _add_quirk(rng, add, quirk, sent, stated, voted, previous, following, area, text, right)
    finish_sent = _later(day.finish, rng, 0.5, 6)
    text = _completion_text(rng, area.voters, day.finish, day.bare_finish)
    add(finish_sent, text, finishes=area.code)
    return steps


def _quirk_report(
    rng: random.Random, quirk: str | None, reports: Sequence[tuple[dt.datetime, int]], voters: int
) -> int | None:
    """Which report the quirk happens on (None: none fits; the chief has a plain day)."""
    fits = [i for i in range(len(reports)) if _fits(quirk, i, reports, voters)]
    if quirk in ("letter_o", "letter_o_edit"):  # `25o` rather than `l25` where a count allows
        fits = [i for i in fits if "0" in str(reports[i][1])] or fits
    return rng.choice(fits) if fits else None


def _fits(
    quirk: str | None, index: int, reports: Sequence[tuple[dt.datetime, int]], voters: int
) -> bool:
    stated, voted = reports[index]
    previous = reports[index - 1][1] if index else 0
    match quirk:
        case "extra_zero":
            return voted * 10 > voters
        case "letter_o" | "letter_o_edit":
            return "0" in str(voted) or "1" in str(voted)
        case "sua" | "edit":
            return _wrong_count(voted, previous, voters) is not None
        case "same_time":
            return index + 1 < len(reports) and reports[index + 1][1] > voted
        case "list_typo" | "duplicate":
            return True
        case "wrong_hour":
            return stated.hour <= 9
        case "dropped_digit":
            return index > 0 and voted >= 10 and voted // 10 < previous
    return False


def _wrong_count(voted: int, previous: int, voters: int) -> int | None:
    """A plausible slip of the thumb (two digits swapped) the bot cannot tell is wrong."""
    digits = str(voted)
    for i in range(len(digits) - 1):
        swapped = int(digits[:i] + digits[i + 1] + digits[i] + digits[i + 2 :])
        if swapped != voted and previous <= swapped < voters and len(str(swapped)) == len(digits):
            return swapped
    return None


def _add_quirk(
    rng: random.Random,
    add: Callable[..., int],
    quirk: str | None,
    sent: dt.datetime,
    stated: dt.datetime,
    voted: int,
    previous: int,
    following: int,
    area: Area,
    text: str,
    right: str,
) -> None:
    v = area.voters
    soon = _later(sent, rng, 1, 3)
    hour = _clock_words(rng, stated)
    if quirk == "extra_zero":
        add(sent, f"{voted}0/{v} {hour}", (NO,))
        add(soon, right)
    elif quirk in ("letter_o", "letter_o_edit"):
        digits = str(voted)
        typo = digits.replace("0", "o", 1) if "0" in digits else digits.replace("1", "l", 1)
        first = add(sent, f"{typo}/{v} {hour}", (NO,))
        if quirk == "letter_o":
            add(soon, right)
        else:
            add(soon, f"{voted}/{v} {hour}", action=Action.EDIT, edits=first)
    elif quirk in ("sua", "edit"):
        wrong = _wrong_count(voted, previous, v)
        assert wrong is not None
        first = add(sent, f"{wrong}/{v} {hour}")
        if quirk == "sua":
            sua = rng.choice(("sửa", "sua", "Sửa"))
            add(_later(sent, rng, 3, 8), f"{sua} {voted}/{v} {hour}")
        else:
            add(soon, f"{voted}/{v} {hour}", action=Action.EDIT, edits=first)
    elif quirk == "same_time":
        add(sent, right)
        recount = voted + max(1, (following - voted) // 3)
        again = f"{recount}/{v} {hour}"
        add(_later(sent, rng, 4, 8), again, (NO,))
        add(_later(sent, rng, 9, 11), f"sửa {again}")
    elif quirk == "list_typo":
        add(sent, f"{voted}/{v}0 {hour}", (NO,))
        add(soon, right)
    elif quirk == "wrong_hour":
        minute = f"h{stated.minute:02d}" if stated.minute else "h"
        add(sent, f"{voted}/{v} 1{stated.hour}{minute}", (NO,))
        add(soon, right)
    elif quirk == "dropped_digit":
        add(sent, f"{voted // 10}/{v} {hour}", (NO,))
        add(soon, right)
    elif quirk == "duplicate":
        add(sent, text)
        add(_later(sent, rng, 0.5, 1.5), text)
    else:
        add(sent, text)


def _multi_area_steps(rng: random.Random, chief: Chief, days: Sequence[AreaDay]) -> list[Step]:
    """A chief with several areas: every report prefixed with the area's code."""
    timed: list[tuple[dt.datetime, str, str | None]] = []
    for day in days:
        area, prefix = day.area, f"{day.area.code}: "
        if day.staff_total > 0:
            covid = _covid_text(rng, day.tested, day.staff_total)
            timed.append((day.covid_at, prefix + covid, None))
        for stated, voted in day.reports:
            text = _turnout_text(rng, voted, area.voters, stated, style=0)
            timed.append((_later(stated, rng, 0.5, 12), prefix + text, None))
        text = _completion_text(rng, area.voters, day.finish, day.bare_finish)
        timed.append((_later(day.finish, rng, 0.5, 6), prefix + text, area.code))
    timed.sort(key=lambda item: item[0])
    steps: list[Step] = []
    for moment, text, finishes in timed:
        if steps and moment <= steps[-1].at:
            moment = steps[-1].at + dt.timedelta(seconds=30)
        steps.append(Step(moment, Action.TEXT, text, (OK,), finishes=finishes))
    return steps


def _check_steps(chief: Chief) -> None:
    """Every message meant to be accepted reads as intended: a guard against a script that
    would make the bot look wrong."""
    for step in chief.steps:
        if step.action == Action.CONTACT or step.text == "/start" or NO in step.expect:
            continue
        lines = parse_message(step.text)
        if len(lines) != len(step.expect) or not all(isinstance(p, ParsedReport) for p in lines):
            raise AssertionError(f"the drill's script is unreadable: {step.text!r} -> {lines}")
        for line in lines:
            assert isinstance(line, ParsedReport)
            if line.kind == ReportKind.TURNOUT and line.voted is None:
                raise AssertionError(f"the drill's script has no count: {step.text!r}")


# == the drill ====================================================================================


@dataclass(frozen=True, slots=True)
class DemoOptions:
    units: Path | None = None  # None: the bundled Mường Khương 2021 sample
    output: Path = DEFAULT_OUTPUT
    speed: float = DEFAULT_SPEED
    seed: int = DEFAULT_SEED
    progress: TextIO | None = None  # where the progress bar goes (stderr in the command)


@dataclass(frozen=True, slots=True)
class DemoResult:
    summary_text: str  # the final /tonghop, plain text
    export_rows: tuple[dict[str, str], ...]  # the CSV export(s), every root's subtree
    files: tuple[Path, ...]
    messages_sent: int
    replies: dict[str, int]  # by how they start: ✅, ❌, other
    refused_then_fixed: int
    group_summaries: int
    real_seconds: float
    sim_end: dt.datetime
    transcript: tuple[Line, ...]  # what transcript.txt shows


@dataclass(frozen=True, slots=True)
class Line:
    """One line of the transcript."""

    at: dt.datetime
    who: str
    text: str


class Conversation:
    """Everything said, in order: what people send (logged as sent) and what the bot sends
    (the sandbox's listener). Also each chat's answers, for whoever waits on them."""

    def __init__(self, labels: dict[int, str]) -> None:
        self.lines: list[Line] = []
        self.labels = labels
        self.answers: dict[int, list[OutgoingRecord]] = {}
        self._signals: dict[int, asyncio.Event] = {}
        self.photo_names: dict[int, str] = {}  # record seq -> file name
        self._charts_in_chat: dict[int, int] = {}

    def said(self, moment: dt.datetime, who: str, text: str) -> None:
        self.lines.append(Line(moment, who, text))

    def on_record(self, token: str, record: OutgoingRecord) -> None:
        self.answers.setdefault(record.chat_id, []).append(record)
        signal = self._signals.get(record.chat_id)
        if signal is not None:
            signal.set()
        where = self.labels.get(record.chat_id, str(record.chat_id))
        moment = record.time.astimezone(TZ)
        text = record.plain_text or ""
        if text.startswith("📊"):
            self._charts_in_chat[record.chat_id] = 0
        if record.photo is not None:
            number = self._charts_in_chat.get(record.chat_id, 0) + 1
            self._charts_in_chat[record.chat_id] = number
            chat = "group" if record.chat_id < 0 else "admin"
            name = f"chart-{len(self.photo_names) + 1:02d}-{moment:%H%M}-{chat}-{number}.png"
            self.photo_names[record.seq] = name
            text = f"[photo {name}] {text}".rstrip()
        elif record.document is not None:
            text = f"[document {record.document.filename}] {text}".rstrip()
        elif record.method != "sendMessage":
            text = f"[{record.method}] {text}".rstrip()
        self.said(moment, f"bot → {where}", text)

    async def answers_in(
        self,
        chat_id: int,
        since: int,
        count: int,
        timeout: float,  # noqa: ASYNC109 -- a deadline per call reads best here
        accept: Callable[[OutgoingRecord], bool] = lambda _: True,
    ) -> list[OutgoingRecord]:
        """The first `count` accepted answers in the chat from its `since`-th on; TimeoutError
        when they have not all come within `timeout` real seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            records = [r for r in self.answers.get(chat_id, [])[since:] if accept(r)]
            if len(records) >= count:
                return records[:count]
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError
            signal = self._signals.setdefault(chat_id, asyncio.Event())
            signal.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(signal.wait(), remaining)


def _quoted(record: OutgoingRecord) -> int | None:
    """The message an answer quotes, if it quotes one."""
    reply = record.reply_parameters or {}
    message_id = reply.get("message_id", record.params.get("reply_to_message_id"))
    return message_id if isinstance(message_id, int) else None


def _matches(record: OutgoingRecord, expected: str) -> bool:
    if expected == PHOTO:
        return record.photo is not None
    if expected == DOCUMENT:
        return record.document is not None
    text = record.plain_text or ""
    return (
        record.photo is None
        and record.document is None
        and (expected == ANY or text.startswith(expected))
    )


class Drill:
    """One run: the sandbox, the bot, and the people of the plan."""

    def __init__(self, units: UnitList, plan: Plan, options: DemoOptions, workdir: Path) -> None:
        self.units = units
        self.plan = plan
        self.options = options
        self.clock = SimClock(plan.start, options.speed)
        self.sandbox = BotApiSandbox(clock=self.clock.now)
        self.focus = units.focus()
        self.group_title = _board_name(self.focus)
        labels = {ADMIN_ID: "admin", GROUP_ID: f"group «{self.group_title}»"}
        labels.update({c.user_id: c.label for c in plan.chiefs})
        self.talk = Conversation(labels)
        self.sandbox.add_listener(self.talk.on_record)
        self.workdir = workdir
        self.token = ""
        self.people: dict[int, SimUser] = {}
        self.sent = 0
        self.answered = 0
        self.finished = 0
        self.refused_then_fixed = 0
        self.summary_record: OutgoingRecord | None = None
        self.exports: dict[str, bytes] = {}
        self.ended_at = plan.end

    @property
    def summary_every(self) -> int:
        every = SUMMARY_SIM_INTERVAL.total_seconds() / self.options.speed
        return max(MIN_SUMMARY_EVERY_S, round(every))

    def telegram_settings(self) -> TelegramSettings:
        values = {"TELEGRAM_BOT_TOKEN": self.token, "TELEGRAM_API_URL": self.sandbox.url}
        return TelegramSettings(_env_file=None, **values)  # type: ignore[arg-type]

    def settings(self) -> Settings:
        values: dict[str, Any] = {
            "FIELDTALLY_DB": str(self.workdir / "demo.db"),
            "FIELDTALLY_ADMINS": str(ADMIN_ID),
            "FIELDTALLY_TZ": "Asia/Ho_Chi_Minh",
            "FIELDTALLY_ELECTION_DATE": ELECTION_DAY.isoformat(),
            "FIELDTALLY_SUMMARY_EVERY": f"{self.summary_every}s",
        }
        return Settings(_env_file=None, **values)

    async def run(self) -> None:
        from handlers.application import run_bot  # Telegram is loaded only for the bot itself

        await self.sandbox.start()
        try:
            self.token = self.sandbox.create_bot("fieldtally_bot")
            stop, ready = asyncio.Event(), asyncio.Event()
            bot = asyncio.create_task(
                run_bot(
                    self.settings(),
                    self.telegram_settings(),
                    stop,
                    poll_timeout=1,
                    ready=ready,
                    clock=self.clock.now,
                )
            )
            try:
                await _started(bot, ready)
                self.clock.start()
                await self._day()
            finally:
                stop.set()
                await asyncio.wait_for(bot, timeout=60)
        finally:
            await self.sandbox.stop()

    async def _day(self) -> None:
        self.people[ADMIN_ID] = self.sandbox.make_user(ADMIN_ID, first_name=ADMIN_NAME)
        for chief in self.plan.chiefs:
            self.people[chief.user_id] = self.sandbox.make_user(chief.user_id, chief.name)
        self.sandbox.make_group(GROUP_ID, self.group_title)

        await self._admin(
            Action.TEXT, "/nhap", (OK,), document=(self.units.filename, self.units.content)
        )
        await self._admin(Action.TEXT, f"/theodoi {self.focus.code}", (OK,), chat_id=GROUP_ID)
        async with asyncio.TaskGroup() as chiefs:
            for chief in self.plan.chiefs:
                chiefs.create_task(self._chief(chief))
        await self._all_finished_notice()
        # The drill shows the group's automatic summaries: a fast machine may finish the day
        # before the first one is due, so wait for it (an event) rather than end without one.
        await self.sandbox.wait_for(
            self.token,
            lambda r: (r.plain_text or "").startswith("📊"),
            chat_id=GROUP_ID,
            timeout=max(120, 4 * self.summary_every),
        )
        charts = 2 if self.units.tree.children(self.focus.code) else 1
        [self.summary_record, *_] = await self._admin(
            Action.TEXT, f"/tonghop {self.focus.code}", ("📊", *([PHOTO] * charts))
        )
        for root in self.units.tree.roots:
            for kind in ("csv", "xlsx"):
                [record] = await self._admin(Action.TEXT, f"/xuat {root.code} {kind}", (DOCUMENT,))
                assert record.document is not None
                self.exports[f"tonghop_{_safe(root.code)}.{kind}"] = record.document.content
        self.ended_at = self.clock.now()

    async def _admin(
        self,
        action: Action,
        text: str,
        expect: tuple[str, ...],
        chat_id: int = ADMIN_ID,
        document: tuple[str, bytes] | None = None,
    ) -> list[OutgoingRecord]:
        where = "admin" if chat_id == ADMIN_ID else f"admin in group «{self.group_title}»"
        step = Step(self.clock.now(), action, text, expect)
        return await self._exchange(ADMIN_ID, where, step, [], chat_id=chat_id, document=document)

    async def _chief(self, chief: Chief) -> None:
        message_ids: list[int] = []
        refused = False
        for step in chief.steps:
            await self.clock.sleep_until(step.at)
            answers = await self._exchange(chief.user_id, chief.label, step, message_ids)
            if step.finishes and answers[-1].plain_text and answers[-1].plain_text.startswith(OK):
                self.finished += 1
            if NO in step.expect:
                refused = True
            elif refused and all(expected == OK for expected in step.expect):
                self.refused_then_fixed += 1
                refused = False

    async def _exchange(
        self,
        sender_id: int,
        who: str,
        step: Step,
        message_ids: list[int],
        *,
        chat_id: int | None = None,
        document: tuple[str, bytes] | None = None,
    ) -> list[OutgoingRecord]:
        """Send one message and wait for exactly the answers the script expects."""
        chat = sender_id if chat_id is None else chat_id
        before = len(self.talk.answers.get(chat, []))
        moment = self.clock.now().replace(microsecond=0)  # Telegram dates are whole seconds
        hold = self.clock.hold(moment)
        try:
            message_id = self._send(sender_id, who, step, message_ids, chat, moment, document)
            message_ids.append(message_id)

            def answers_this(record: OutgoingRecord) -> bool:
                # A group also gets automatic summaries: there, only what quotes the message.
                return chat > 0 or _quoted(record) == message_id

            try:
                answers = await self.talk.answers_in(
                    chat, before, len(step.expect), REPLY_TIMEOUT, answers_this
                )
            except TimeoutError:
                got = self.talk.answers.get(chat, [])[before:]
                raise DemoError(
                    self._surprise(who, step, moment, got, f"waited {REPLY_TIMEOUT:g} s")
                ) from None
        finally:
            self.clock.release(hold)
        self.answered += len(answers)
        for record, expected in zip(answers, step.expect, strict=True):
            if not _matches(record, expected):
                raise DemoError(self._surprise(who, step, moment, answers, "unexpected answer"))
        return answers

    def _send(
        self,
        sender_id: int,
        who: str,
        step: Step,
        message_ids: list[int],
        chat: int,
        moment: dt.datetime,
        document: tuple[str, bytes] | None,
    ) -> int:
        user = self.people[sender_id]
        chat_arg = None if chat == sender_id else chat
        self.sent += 1
        if document is not None:
            filename, content = document
            self.talk.said(moment, who, f"[document {filename}] {step.text}")
            message = self.sandbox.send_document(
                self.token, user, filename, content, caption=step.text, chat_id=chat_arg,
                date=moment,
            )  # fmt: skip
        elif step.action == Action.CONTACT:
            self.talk.said(moment, who, f"[shares own contact {step.text}]")
            message = self.sandbox.send_contact(self.token, user, step.text, date=moment)
        elif step.action == Action.EDIT:
            assert step.edits is not None
            edited = message_ids[step.edits]
            self.talk.said(moment, who, f"[edits message #{edited}] {step.text}")
            message = self.sandbox.edit_text(
                self.token, user, chat_arg, edited, step.text, edit_date=moment
            )
        else:
            self.talk.said(moment, who, step.text)
            message = self.sandbox.send_text(
                self.token, user, step.text, chat_id=chat_arg, date=moment
            )
        return int(message["message_id"])

    def _surprise(
        self,
        who: str,
        step: Step,
        moment: dt.datetime,
        answers: Sequence[OutgoingRecord],
        what: str,
    ) -> str:
        got = "\n".join(f"    {r.summary()}" for r in answers) or "    (nothing)"
        return (
            f"the bot did not answer as the drill expects ({what}):\n"
            f"  {moment:%H:%M:%S} {who}: {step.text!r}\n"
            f"  expected answers starting with: {' '.join(step.expect)}\n"
            f"  got:\n{got}"
        )

    async def _all_finished_notice(self) -> None:
        try:
            await self.talk.answers_in(
                GROUP_ID, 0, 1, REPLY_TIMEOUT, lambda r: (r.plain_text or "").startswith("🎉")
            )
        except TimeoutError:
            raise DemoError(
                f"every area finished but group «{self.group_title}» got no 🎉 notice"
            ) from None

    def check_answers(self) -> None:
        """Every chat got exactly its expected answers, the group exactly one 🎉."""
        for chief in self.plan.chiefs:
            wanted = sum(len(s.expect) for s in chief.steps)
            got = len(self.talk.answers.get(chief.user_id, []))
            if got != wanted:
                raise DemoError(f"{chief.label}: {got} answers from the bot, {wanted} expected")
        group = [r.plain_text or "" for r in self.talk.answers.get(GROUP_ID, [])]
        notices = sum(text.startswith("🎉") for text in group)
        if notices != 1:
            raise DemoError(f"group «{self.group_title}» got {notices} 🎉 notices, not one")


def _board_name(unit: UnitRow) -> str:
    """`Huyện Mường Khương` -> `Ban bầu cử huyện Mường Khương`."""
    name = unit.name
    if name.lower().startswith(unit.kind.lower()) and name:
        name = name[0].lower() + name[1:]
    return f"Ban bầu cử {name}"


def _safe(code: str) -> str:
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in code)


async def _started(bot: asyncio.Task[None], ready: asyncio.Event) -> None:
    waiter = asyncio.ensure_future(ready.wait())
    done, _ = await asyncio.wait({bot, waiter}, timeout=60, return_when=asyncio.FIRST_COMPLETED)
    if bot in done:
        waiter.cancel()
        bot.result()  # raises the bot's start-up error
        raise DemoError("the bot stopped before it was ready")
    if waiter not in done:
        waiter.cancel()
        raise DemoError("the bot did not start within 60 s")


# == checking and writing the results =============================================================

_NUMBERS = (
    "areas_total", "areas_reported", "areas_finished", "registered_voters", "voted",
    "staff_total", "staff_tested", "positives",
)  # fmt: skip


def _expected_rows(units: UnitList, plan: Plan) -> dict[str, dict[str, int]]:
    """Every unit's figures at the end of the day, from the plan."""
    per_area = {
        d.area.code: {
            "areas_total": 1,
            "areas_reported": 1,
            "areas_finished": 1,
            "registered_voters": d.area.voters,
            "voted": d.area.voters,
            "staff_total": d.staff_total,
            "staff_tested": d.tested,
            "positives": 0,
        }
        for d in plan.days
    }
    tree = units.tree
    expected: dict[str, dict[str, int]] = {}

    def visit(row: UnitRow) -> dict[str, int]:
        if tree.is_leaf(row.code):
            figures = per_area[row.code]
        else:
            parts = [visit(child) for child in tree.children(row.code)]
            figures = {name: sum(p[name] for p in parts) for name in _NUMBERS}
        expected[row.code] = figures
        return figures

    for root in tree.roots:
        visit(root)
    return expected


def check_export(units: UnitList, plan: Plan, rows: Sequence[dict[str, str]]) -> None:
    """The export shows, for every unit, the day the plan played; the sample's, the seed's."""
    expected = _expected_rows(units, plan)
    seen = set()
    for row in rows:
        code = row["code"].lstrip("'")
        seen.add(code)
        want = expected.get(code)
        if want is None:
            raise DemoError(f"the export has a unit the list has not: {code}")
        got = {name: int(row[name]) for name in _NUMBERS}
        if got != want:
            diff = ", ".join(
                f"{n} {got[n]} (expected {want[n]})" for n in _NUMBERS if got[n] != want[n]
            )
            raise DemoError(f"the export's row {code} is wrong: {diff}")
    if seen != set(expected):
        raise DemoError(f"the export misses units: {sorted(set(expected) - seen)[:10]}")
    if units.is_sample:
        root = expected[units.tree.roots[0].code]
        for name, value in SAMPLE_FIGURES.items():
            if root[name] != value:
                raise DemoError(f"the sample's {name} is {root[name]}, the seed's is {value}")


def _read_export(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))


def _transcript(lines: Sequence[Line]) -> str:
    out = [
        f"fieldtally demo — election day {ELECTION_DAY:%d/%m/%Y}, simulated local times",
        "",
    ]
    width = min(max((len(line.who) for line in lines), default=10), 48)
    for line in lines:
        first, *rest = line.text.split("\n")
        out.append(f"{line.at:%H:%M:%S}  {line.who:<{width}}  {first}")
        out.extend(f"{'':10}{'':<{width}}  {more}" for more in rest)
    return "\n".join(out) + "\n"


def _write_outputs(drill: Drill, output: Path, result_text: str) -> list[Path]:
    output.mkdir(parents=True, exist_ok=True)
    for old in output.glob("chart-*.png"):  # charts of an earlier run
        old.unlink()
    written: list[Path] = []
    for record in drill.sandbox.outgoing(drill.token):
        name = drill.talk.photo_names.get(record.seq)
        if record.photo is not None and name is not None:
            path = output / name
            path.write_bytes(record.photo.content)
            written.append(path)
    for name, content in drill.exports.items():
        path = output / name
        path.write_bytes(content)
        written.append(path)
    transcript = output / "transcript.txt"
    transcript.write_text(_transcript(drill.talk.lines), encoding="utf-8")
    summary = output / "summary.txt"
    summary.write_text(result_text, encoding="utf-8")
    return [*written, transcript, summary]


def _summary_file(drill: Drill, result: DemoResult, rows: Sequence[dict[str, str]]) -> str:
    roots = [r for r in rows if not r["parent_code"]]
    root = {name: str(sum(int(r[name]) for r in roots)) for name in _NUMBERS}
    root["turnout_percent"] = str(
        turnout_percent(int(root["voted"]), int(root["registered_voters"]))
    )
    lines = [
        "fieldtally demo — the offline election-day drill",
        f"Unit list: {drill.units.filename} ({len(drill.units.areas)} areas"
        + (
            f", {drill.units.synthetic_phones} synthetic phones"
            if drill.units.synthetic_phones
            else ""
        )
        + ")",
        f"Seed {drill.options.seed}, speed {drill.options.speed:g}× "
        f"(simulated 05:00–{result.sim_end:%H:%M} in {result.real_seconds:.0f} s real time)",
        "",
        f"Areas finished: {vn_int(int(root['areas_finished']))}/{vn_int(int(root['areas_total']))}",
        f"Voters: {vn_int(int(root['voted']))}/{vn_int(int(root['registered_voters']))} "
        f"({root['turnout_percent'].replace('.', ',')}%)",
        f"Polling staff tested: {vn_int(int(root['staff_tested']))}/"
        f"{vn_int(int(root['staff_total']))}, positives: {vn_int(int(root['positives']))}",
        "",
        f"Messages sent to the bot: {result.messages_sent}; answers: "
        + ", ".join(f"{kind} {n}" for kind, n in result.replies.items()),
        f"Refused reports later corrected by the same chief: {result.refused_then_fixed}",
        f"Automatic summaries received by group «{drill.group_title}»: {result.group_summaries}",
        "",
        "Final summary (/tonghop):",
        result.summary_text,
    ]
    return "\n".join(lines) + "\n"


# == progress =====================================================================================


class Progress:
    """A one-line bar of the simulated day on a terminal; a line per hour otherwise."""

    def __init__(self, stream: TextIO | None, drill: Drill) -> None:
        self._stream = stream
        self._drill = drill
        self._tty = bool(stream is not None and stream.isatty())
        self._last_hour = -1

    def show(self, final: bool = False) -> None:
        if self._stream is None:
            return
        drill, plan = self._drill, self._drill.plan
        now = plan.end if final else min(drill.clock.now(), plan.end)
        share = (now - plan.start) / (plan.end - plan.start)
        width = 28
        done = round(width * share)
        line = (
            f"diễn tập {now:%H:%M} [{'#' * done}{'.' * (width - done)}] {share:4.0%}  "
            f"answers {drill.answered}  areas finished {drill.finished}/{len(drill.units.areas)}"
        )
        if self._tty:
            self._stream.write("\r" + line + ("\n" if final else ""))
            self._stream.flush()
        elif final or now.hour != self._last_hour:
            self._last_hour = now.hour
            self._stream.write(line + "\n")
            self._stream.flush()

    async def run(self) -> None:
        while True:
            self.show()
            await asyncio.sleep(0.2)


# == entry points =================================================================================


async def run_demo(options: DemoOptions) -> DemoResult:
    """Run the whole drill; raise DemoError when it cannot run or the bot surprises it."""
    if not options.speed > 0:
        raise DemoError("--speed must be a positive number")
    units = load_unit_list(options.units)
    plan = plan_day(units, random.Random(options.seed))
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="fieldtally-demo-") as workdir:
        drill = Drill(units, plan, options, Path(workdir))
        progress = Progress(options.progress, drill)
        ticker = asyncio.create_task(progress.run())
        try:
            await drill.run()
        except ExceptionGroup as errors:  # a chief's surprise cancels the other chiefs
            first = _first_demo_error(errors)
            if first is None:
                raise
            raise first from None
        finally:
            ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ticker
        progress.show(final=True)
    drill.check_answers()
    rows: list[dict[str, str]] = []
    for name, content in drill.exports.items():
        if name.endswith(".csv"):
            rows.extend(_read_export(content))
    check_export(units, plan, rows)
    assert drill.summary_record is not None
    group = drill.talk.answers.get(GROUP_ID, [])
    kinds = {OK: 0, NO: 0, "other": 0}
    for chief in plan.chiefs:
        for record in drill.talk.answers.get(chief.user_id, []):
            text = record.plain_text or ""
            kinds[text[:1] if text[:1] in kinds else "other"] += 1
    result = DemoResult(
        summary_text=drill.summary_record.plain_text or "",
        export_rows=tuple(rows),
        files=(),
        messages_sent=drill.sent,
        replies=kinds,
        refused_then_fixed=drill.refused_then_fixed,
        group_summaries=sum((r.plain_text or "").startswith("📊") for r in group),
        real_seconds=time.monotonic() - began,
        sim_end=drill.ended_at,
        transcript=tuple(drill.talk.lines),
    )
    files = _write_outputs(drill, options.output, _summary_file(drill, result, rows))
    return dataclasses.replace(result, files=tuple(files))


def _first_demo_error(group: BaseExceptionGroup[BaseException]) -> DemoError | None:
    for error in group.exceptions:
        if isinstance(error, DemoError):
            return error
        if isinstance(error, BaseExceptionGroup):
            found = _first_demo_error(error)
            if found is not None:
                return found
    return None


def main(
    units: Path | None = None,
    output: Path | None = None,
    speed: float | None = None,
    seed: int | None = None,
) -> int:
    """`fieldtally demo`: run the drill, print the final summary; 0 when all went as planned."""
    output = DEFAULT_OUTPUT if output is None else output
    options = DemoOptions(
        units=units,
        output=output,
        speed=DEFAULT_SPEED if speed is None else speed,
        seed=DEFAULT_SEED if seed is None else seed,
        progress=sys.stderr,
    )
    try:
        result = asyncio.run(run_demo(options))
    except DemoError as error:
        print(f"fieldtally demo: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("fieldtally demo: interrupted", file=sys.stderr)
        return 130
    print(result.summary_text)
    print()
    print(
        f"{len(result.files)} files in {output}/: charts (chart-*.png), exports (tonghop_*), "
        "transcript.txt, summary.txt"
    )
    return 0
