"""The phrasing corpus (tests/data/phrasing_corpus.py) as a table test through the real intake:
every message must come out as its case says — the reports stored, or nothing stored and an
answer that asks — and no message may store a number or a time its sender did not mean."""

from __future__ import annotations

import asyncio
import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest

from bot.messaging.marked import Style, spans

ROOT = Path(__file__).parents[1]


def _benchmark() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "phrasing_bench", ROOT / "benchmarks" / "phrasing.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


BENCH = _benchmark()
CASES = BENCH.load_cases()


@pytest.fixture(scope="module")
def outcomes() -> dict[int, object]:
    return dict(enumerate(asyncio.run(BENCH.run(CASES))))


def test_the_corpus_is_large_and_covers_both_structures() -> None:
    assert len(CASES) >= 300
    assert {c.structure for c in CASES} == {2021, 2026}
    assert {c.form for c in CASES} == {"doc", "nat"}
    assert {c.expect for c in CASES} >= {"ask", "none"}
    assert len({c.text for c in CASES}) >= 300  # distinct messages


@pytest.mark.parametrize(
    "index", range(len(CASES)), ids=[f"{i}:{c.text[:40]}" for i, c in enumerate(CASES)]
)
def test_case(outcomes: dict[int, object], index: int) -> None:
    outcome = outcomes[index]
    assert outcome.setup_failed is None, outcome.setup_failed  # type: ignore[attr-defined]
    assert outcome.wrong == [], (outcome.stored, outcome.replies)  # type: ignore[attr-defined]
    assert outcome.right, (outcome.case, outcome.stored, outcome.replies)  # type: ignore[attr-defined]


def test_no_wrong_number_and_field_fit(outcomes: dict[int, object]) -> None:
    figures = BENCH.figures(list(outcomes.values()))
    assert figures.wrong_numbers == 0
    assert figures.read_right["doc"] >= 0.99 * figures.should_read["doc"]
    assert figures.read_right["nat"] >= 0.95 * figures.should_read["nat"]


def test_one_reply_per_report_greetings_get_none(outcomes: dict[int, object]) -> None:
    """A message that mixes reports with greetings, sign-offs or questions is answered once per
    report, and a message with no report once, with the pointer to /huongdan."""
    for outcome in outcomes.values():
        case = outcome.case  # type: ignore[attr-defined]
        replies = outcome.replies  # type: ignore[attr-defined]
        if case.expect == "none":
            assert len(replies) == 1 and "/huongdan" in replies[0], (case.text, replies)
        elif case.expect != "ask":
            assert len(replies) == len(outcome.expected), (case.text, replies)  # type: ignore[attr-defined]
            assert all(r.startswith(("✅", "⚠️")) for r in replies), (case.text, replies)


def test_refusals_show_an_example_in_the_senders_terms(outcomes: dict[int, object]) -> None:
    """Every ❌ about what the grammar could not read carries an example with the sender's own
    area code; a COVID message gets a COVID example."""
    for outcome in outcomes.values():
        case = outcome.case  # type: ignore[attr-defined]
        for reply in outcome.replies:  # type: ignore[attr-defined]
            if "Gửi lại theo mẫu" not in reply:
                continue
            examples = [s.text for s in spans(reply) if s.style is Style.CODE]
            assert any(re.match(r"2\d{4}-0\d: ", e) for e in examples), reply  # their area code
            covid = any(w in case.text.lower() for w in ("xn", "xét nghiệm", "test"))
            if covid:
                assert "XN " in reply, reply
