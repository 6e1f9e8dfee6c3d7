"""The grammar's fast path (bot/turnout/grammar.py `_fast_parse`) against the full grammar
(`_parse_full`): on every line the fast path reads, both read exactly the same — generated
lines of its shapes, near misses of them, and every message of the phrasing corpus."""

from __future__ import annotations

import datetime as dt
import re

from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.turnout.grammar import _fast_parse, _parse_full, parse_message
from bot.turnout.lines import ParsedLine, ParsedReport, ReportKind
from tests.data.phrasing_corpus import CASES


def _same(text: str) -> bool:
    """Whether the fast path declined `text`; fails when it read it otherwise than the full
    grammar does (the same values, the same fields set, the same types)."""
    fast = _fast_parse(text)
    if fast is None:
        return False
    full = _parse_full(text)
    assert fast == full, (text, fast, full)
    assert [type(line) for line in fast] == [type(line) for line in full]
    assert [line.model_fields_set for line in fast] == [line.model_fields_set for line in full]
    return True


_SPACES = st.sampled_from(["", " ", "  ", "\t", "\u00a0"])
_CODES = st.one_of(
    st.sampled_from(["A000001", "KV05", "kv05", "02752-01", "12345", "h1", "a", "9h", "9.30",
                     "xong", "xn", "A.1", "to5", "KV", "1", "23"]),
    st.from_regex(re.compile(r"[A-Za-z0-9][A-Za-z0-9._\-]{0,8}"), fullmatch=True),
)  # fmt: skip
_GLUED = st.builds(
    "{}{}{}".format,
    st.sampled_from(["kv", "KV", "kvbp", "tbc", "to", "To", "khu", "t", "kvb"]),
    st.sampled_from(["", "0", "00"]),
    st.integers(0, 1200).map(str),
)
_WORDS = st.sampled_from(
    ["", "xong ", "Xong ", "XONG ", "sua ", "Sua ", "sửa ", "xn ", "XN ", "da xong ", "xong  ",
     "xn:", "test ", "sua xong ", "ct "]
)  # fmt: skip
_NUMBERS = st.one_of(
    st.integers(0, 1_200_000).map(str),
    st.sampled_from(["0", "00", "0250", "1.250", "1 250", "23", "5", "12", "13", "31"]),
)
_TIMES = st.one_of(
    st.just(""),
    st.builds(
        "{} {}{}{}".format,
        st.sampled_from(["", " "]),
        st.sampled_from(
            ["0", "00", "7", "07", "9", "09", "11", "12", "13", "23", "24", "99", "123"]
        ),
        st.sampled_from(["h", "H", ":", "g", "h ", " h", "gio"]),
        st.sampled_from(["", "0", "00", "05", "30", "59", "60", "99", "5", "300", "30p", "30'"]),
    ),
)  # fmt: skip
_TAILS = st.sampled_from(
    ["", " am tinh", " Am Tinh", "  am  tinh", " âm tính", " duong tinh 1", " am tinh 9h", ".",
     " ", "%", "?", " cu tri", "/320", ";", "\n250/320 9h"]
)  # fmt: skip


@st.composite
def _lines(draw: st.DrawFn) -> str:
    head = draw(
        st.one_of(
            st.just(""),
            st.builds("{}{}:{}".format, _CODES, _SPACES, _SPACES),
            st.builds("{} ".format, _GLUED),
        )
    )
    body = f"{draw(_WORDS)}{draw(_NUMBERS)}{draw(st.sampled_from(['/', ' / ', '//']))}"
    body += draw(_NUMBERS)
    tail = draw(_TAILS)
    time = draw(_TIMES)
    order = draw(st.booleans())
    return f"{draw(_SPACES)}{head}{body}{tail + time if order else time + tail}{draw(_SPACES)}"


@st.composite
def _shapes(draw: st.DrawFn) -> str:
    """Lines of the fast path's own shapes, with values at and around its limits."""
    head = draw(
        st.sampled_from(["", "", "A000001: ", "KV05:", "kv5 ", "KVBP005 ", "to12 ", "tbc3 ",
                         "02752-01: ", "12345: ", "9h: ", "xong: ", "a: ", "kv0 ", "KV999 "])
    )  # fmt: skip
    word = draw(st.sampled_from(["", "", "xong ", "Xong ", "sua ", "SUA ", "xn "]))
    num = draw(st.integers(0, 2000))
    den = draw(st.one_of(st.integers(1, 40), st.integers(100, 999_999)))
    negative = draw(st.sampled_from(["", "", " am tinh", " AM TINH"]))
    time = draw(
        st.one_of(
            st.just(""),
            st.builds(
                " {}{}{}".format,
                st.sampled_from(["0", "00", "1", "7", "07", "9", "11", "12", "13", "23", "24"]),
                st.sampled_from(["h", "H", ":"]),
                st.sampled_from(["", "00", "05", "30", "59", "60"]),
            ),
        )
    )
    return f"{head}{word}{num}/{den}{negative}{time}{draw(st.sampled_from(['', ' ']))}"


@settings(max_examples=3000, deadline=None)
@given(_shapes())
def test_fast_path_reads_its_shapes_as_the_full_grammar(text: str) -> None:
    _same(text)


@settings(max_examples=3000, deadline=None)
@given(_lines())
@example("A000001: 250/900 07h")
@example("KV05 250/320 9h")
@example("kv05 xong 300/320 11h30")
@example("02752-01: xn 15/15 am tinh 9h")
@example("12345:250/320")
@example("23/5 9h")
def test_fast_path_on_near_misses(text: str) -> None:
    _same(text)


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="0123456789/:hkvxongsuatim .-", max_size=30))
def test_fast_path_on_arbitrary_short_text(text: str) -> None:
    _same(text)


def test_fast_path_reads_the_common_shapes() -> None:
    """Not vacuous: the shapes chiefs send most are read by the fast path, and right."""
    expected: dict[str, ParsedLine] = {
        "A000001: 250/900 07h": ParsedReport(
            index=0, text="A000001: 250/900 07h", area_code="A000001",
            kind=ReportKind.TURNOUT, voted=250, list_size=900, time=dt.time(7, 0),
        ),
        "KV05 250/320 9h30": ParsedReport(
            index=0, text="KV05 250/320 9h30", area_code="KV05", area_number=5,
            kind=ReportKind.TURNOUT, voted=250, list_size=320, time=dt.time(9, 30),
            afternoon_possible=True,
        ),
        "xong 320/320": ParsedReport(
            index=0, text="xong 320/320", area_code=None, kind=ReportKind.COMPLETION,
            voted=320, list_size=320,
        ),
        "sua 250/320 14:00": ParsedReport(
            index=0, text="sua 250/320 14:00", area_code=None, kind=ReportKind.TURNOUT,
            is_correction=True, voted=250, list_size=320, time=dt.time(14, 0),
        ),
        "xn 16/16 am tinh": ParsedReport(
            index=0, text="xn 16/16 am tinh", area_code=None, kind=ReportKind.COVID,
            staff_tested=16, staff_total=16, positives=0,
        ),
    }  # fmt: skip
    for text, line in expected.items():
        assert _same(text), text
        assert parse_message(text) == [line]


def test_fast_path_on_the_phrasing_corpus() -> None:
    """Every message of the corpus (and each of its lines) reads the same either way."""
    accepted = 0
    for case in CASES:
        text = case["text"]
        for piece in [text, *text.splitlines()]:
            accepted += _same(piece)
    assert accepted > 0
