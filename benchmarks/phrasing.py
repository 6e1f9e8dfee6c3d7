"""Issue 14: how well the bot reads what officials actually type, and whether it ever stores a
wrong number.

Runs the corpus of tests/data/phrasing_corpus.py (realistic messages, each with its expected
outcome) through the real intake (`Core.report`, a real SQLite file): every case gets its own
commune and area in a tree that mixes the 2021 structure (tỉnh → huyện → xã → khu vực) and the
2026 one (tỉnh → xã/phường → khu vực), its own registered chief (or supervisor), the reports
that come before it, then the message at its arrival time. Prints:

- field fit: reports read right ÷ reports that should be read, for the documented forms and
  for natural phrasing;
- asked right: messages that must not be stored (ambiguous, refused, no report) that stored
  nothing and were answered ❌;
- wrong numbers stored: stored reports the sender did not mean (the target is 0);
- with `--speed`, the grammar's speed (lines/s) on the corpus.

    .venv/bin/python benchmarks/phrasing.py [--verbose] [--speed]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import importlib.util
import itertools
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.channel import Address  # noqa: E402
from bot.core import Core  # noqa: E402
from bot.messaging.answers import Refusal, Status  # noqa: E402
from bot.messaging.marked import plain  # noqa: E402
from bot.registration.unit_import import import_units  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.turnout.intake import InboundText  # noqa: E402

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
ELECTION_DAYS = {2021: dt.date(2021, 5, 23), 2026: dt.date(2026, 3, 15)}
CORPUS = ROOT / "tests" / "data" / "phrasing_corpus.py"
AREAS_PER_COMMUNE = 6


@dataclass(frozen=True)
class Case:
    """One message and what must come of it.

    `expect`: "ask" (nothing stored, the reply asks or refuses), "none" (no report: the
    reply points to /huongdan), or the stored reports, "; "-separated: "T 250/320 09:00"
    (turnout), "C 320/320 17:00" (completion), "X 16/16 0" (COVID: tested/total positives);
    "@" for the time means the arrival minute.
    """

    form: str  # "doc" (the contract's table) or "nat" (natural phrasing)
    text: str
    sent: str = "10:00"  # arrival, HH:MM on the election day ("-1 HH:MM": the day before)
    expect: str = "ask"
    before: tuple[tuple[str, str], ...] = ()  # earlier messages (text, sent), each stored
    area: int = 5  # the chief's area number within the commune
    commune: str = "Xã Bản Lầu"
    voters: int = 320
    staff: int | None = 16
    role: str = "chief"  # "chief" (one area), "multi" (areas 5 and 6), "sup" (the commune)
    structure: int = 2021  # 2021: tỉnh → huyện → xã → khu vực; 2026: tỉnh → xã → khu vực


@dataclass
class Outcome:
    case: Case
    replies: list[str]
    stored: list[str]
    expected: list[str]
    setup_failed: str | None = None
    wrong: list[str] = field(default_factory=list)
    # What each reply meant (`bot.messaging.answers.Status`) and why (a reason code, or None).
    statuses: list[Status] = field(default_factory=list)
    reasons: list[str | None] = field(default_factory=list)

    @property
    def should_store(self) -> bool:
        return self.case.expect not in ("ask", "none")

    @property
    def right(self) -> bool:
        if self.setup_failed is not None:
            return False
        if self.should_store:
            return sorted(self.stored) == sorted(self.expected)
        if self.stored:
            return False
        if self.case.expect == "none":  # no report at all: one pointer to /huongdan
            return self.reasons == [Refusal.NO_REPORT] and "/huongdan" in self.replies[0]
        return bool(self.statuses) and all(s is Status.REFUSED for s in self.statuses)


def load_cases(path: Path = CORPUS) -> list[Case]:
    spec = importlib.util.spec_from_file_location("phrasing_corpus", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return [Case(**entry) for entry in module.CASES]


def _moment(sent: str, structure: int) -> dt.datetime:
    day = ELECTION_DAYS[structure]
    if sent.startswith("-1 "):
        day, sent = day - dt.timedelta(days=1), sent[3:]
    hour, minute = (int(x) for x in sent.split(":"))
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=TZ)


def _commune_kind(name: str) -> str:
    for kind in ("Thị trấn", "Phường", "Xã", "Đặc khu"):
        if name.startswith(kind):
            return kind.lower()
    return "xã"


def _short(name: str) -> str:
    for kind in ("Thị trấn ", "Phường ", "Xã ", "Đặc khu "):
        name = name.removeprefix(kind)
    return name


def units_csv(cases: Sequence[Case]) -> str:
    rows = ["code,parent_code,kind,name,registered_voters,staff,contact_phones"]
    rows.append("10,,tỉnh,Tỉnh Lào Cai,,,")
    for i, case in enumerate(cases):
        commune = f"{27000 + i:05d}"
        parent = "10"
        if case.structure == 2021:
            parent = f"H{i:03d}"
            rows.append(f"{parent},10,huyện,Huyện Mường Khương,,,")
        sup = _phone("0914", i) if case.role == "sup" else ""
        rows.append(f"{commune},{parent},{_commune_kind(case.commune)},{case.commune},,,{sup}")
        for n in range(1, AREAS_PER_COMMUNE + 1):
            mine = n == case.area or (case.role == "multi" and n == case.area + 1)
            voters = case.voters if n == case.area else 300 + n
            staff = case.staff if n == case.area else 15
            phone = _phone("0913", i) if mine and case.role != "sup" else ""
            rows.append(
                f"{commune}-{n:02d},{commune},khu vực bỏ phiếu,"
                f"Khu vực bỏ phiếu số {n} – {_short(case.commune)},{voters},"
                f"{'' if staff is None else staff},{phone}"
            )
    return "\n".join(rows) + "\n"


def _phone(prefix: str, i: int) -> str:
    return f"{prefix}{i:06d}"


def _describe(kind: str, voted: int | None, size: int | None, at: dt.datetime, extra: str) -> str:
    if kind == "covid":
        return f"X {extra}"
    return f"{kind[0].upper()} {voted}/{size} {at:%H:%M}"


def _expected(case: Case) -> list[str]:
    if case.expect in ("ask", "none"):
        return []
    arrival = _moment(case.sent, case.structure).strftime("%H:%M")
    return [part.strip().replace("@", arrival) for part in case.expect.split(";")]


async def run(cases: Sequence[Case]) -> list[Outcome]:
    """Every case through `Core.report`: one SQLite file per election (2021 and 2026)."""
    outcomes: dict[int, Outcome] = {}
    for structure, day in ELECTION_DAYS.items():
        chosen = [(i, c) for i, c in enumerate(cases) if c.structure == structure]
        if chosen:
            done = await _run_election([c for _, c in chosen], day)
            outcomes.update((i, o) for (i, _), o in zip(chosen, done, strict=True))
    return [outcomes[i] for i in range(len(cases))]


async def _run_election(cases: Sequence[Case], day: dt.date) -> list[Outcome]:
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            FIELDTALLY_DB=str(Path(folder) / "phrasing.db"),
            FIELDTALLY_ELECTION_DATE=day.isoformat(),
        )
        core = await Core.open(settings)
        try:
            ok, problems = await import_units(core.db, units_csv(cases).encode())
            assert ok, problems
            for i, case in enumerate(cases):
                phone = _phone("0914" if case.role == "sup" else "0913", i)
                reply = await core.register(
                    sender=_user(i), chat=_user(i), contact_owner=_user(i),
                    phone=phone, name=f"Tổ trưởng {i}",
                )  # fmt: skip
                assert reply.ok, reply
            ids = itertools.count(1)
            return [await _one(core, i, case, ids) for i, case in enumerate(cases)]
        finally:
            await core.close()


def _user(i: int) -> Address:
    return Address("telegram", str(10_000 + i))


async def _one(core: Core, i: int, case: Case, ids: itertools.count[int]) -> Outcome:
    user = _user(i)
    setup_failed = None
    for text, sent in case.before:
        moment = _moment(sent, case.structure)
        result = await core.report(InboundText(user, str(next(ids)), user, text, moment))
        if not result.ok:
            setup_failed = f"{text!r}: {result.texts}"
    message_id = next(ids)
    moment = _moment(case.sent, case.structure)
    result = await core.report(InboundText(user, str(message_id), user, case.text, moment))
    stored = []
    commune = f"{27000 + i:05d}"
    for n in range(1, AREAS_PER_COMMUNE + 1):
        reports = await core.db.area_reports(f"{commune}-{n:02d}", include_replaced=True)
        for r in reports:
            if r.message_ref != str(message_id):
                continue
            at = dt.datetime.fromtimestamp(r.at, TZ)
            covid = f"{r.staff_tested}/{r.staff_total} {r.positives}"
            stored.append(_describe(r.kind, r.voted, r.list_size, at, covid))
    outcome = Outcome(
        case,
        result.texts,
        stored,
        _expected(case),
        setup_failed,
        statuses=[r.status for r in result.replies],
        reasons=[r.reason for r in result.replies],
    )
    outcome.wrong = [s for s in stored if s not in outcome.expected]
    return outcome


@dataclass(frozen=True)
class Figures:
    should_read: dict[str, int]
    read_right: dict[str, int]
    must_not_store: int
    asked_right: int
    wrong_numbers: int
    setup_failures: int


def figures(outcomes: Sequence[Outcome]) -> Figures:
    should: dict[str, int] = {"doc": 0, "nat": 0}
    right: dict[str, int] = {"doc": 0, "nat": 0}
    must_not = asked = 0
    for o in outcomes:
        if o.should_store:
            should[o.case.form] += 1
            right[o.case.form] += o.right
        else:
            must_not += 1
            asked += o.right
    return Figures(
        should, right, must_not, asked,
        wrong_numbers=sum(len(o.wrong) for o in outcomes),
        setup_failures=sum(o.setup_failed is not None for o in outcomes),
    )  # fmt: skip


def _speed(cases: Sequence[Case], seconds: float = 3.0) -> float:
    from bot.turnout.grammar import parse_message

    lines = [c.text for c in cases]
    done = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        for text in lines:
            parse_message(text)
        done += len(lines)
    return done / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--verbose", action="store_true", help="print every case read wrong")
    parser.add_argument("--speed", action="store_true", help="also time the grammar (lines/s)")
    args = parser.parse_args()
    cases = load_cases()
    outcomes = asyncio.run(run(cases))
    f = figures(outcomes)
    if args.verbose:
        for o in outcomes:
            if not o.right or o.wrong:
                print(f"✘ [{o.case.form}] {o.case.text!r} at {o.case.sent}")
                print(f"    expected {o.expected or o.case.expect}, stored {o.stored}")
                if o.setup_failed:
                    print(f"    setup failed: {o.setup_failed}")
                for reply in o.replies:
                    print(f"    → {plain(reply)}")
    print(f"corpus: {len(cases)} messages ({CORPUS.relative_to(ROOT)})")
    for form, label in (("doc", "documented forms"), ("nat", "natural phrasing")):
        n, ok = f.should_read[form], f.read_right[form]
        print(f"field fit, {label}: {ok}/{n} = {100 * ok / max(n, 1):.1f}%")
    total_n = sum(f.should_read.values())
    total_ok = sum(f.read_right.values())
    print(f"field fit, all reports: {total_ok}/{total_n} = {100 * total_ok / max(total_n, 1):.1f}%")
    print(
        f"asked or refused right (must not store): {f.asked_right}/{f.must_not_store} = "
        f"{100 * f.asked_right / max(f.must_not_store, 1):.1f}%"
    )
    print(f"wrong numbers stored: {f.wrong_numbers}")
    if f.setup_failures:
        print(f"cases whose earlier reports were refused: {f.setup_failures}")
    if args.speed:
        print(f"grammar speed on the corpus: {_speed(cases):,.0f} lines/s")


if __name__ == "__main__":
    main()
