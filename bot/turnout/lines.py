"""What the report grammar produces: one parsed line per report of a chief's message.

These are the boundary models between the grammar (text in) and the validation
rules (judgement against stored state). They carry no chat platform's notions.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class ReportKind(StrEnum):
    TURNOUT = "turnout"  # voters who have voted / voters on the list, at a time
    COMPLETION = "completion"  # the area finished voting, with its final count
    COVID = "covid"  # staff tested / staff total, positives


class UnreadableReason(StrEnum):
    """Why a line could not be read; texts.py turns each into a Vietnamese answer."""

    UNREADABLE = "unreadable"  # nothing recognisable as a report
    UNKNOWN_WORDS = "unknown_words"  # numbers found, but words we cannot interpret
    BAD_TIME = "bad_time"  # a time with hour > 23 or minute > 59
    MISSING_COUNT = "missing_count"  # turnout keyword / time but no count of voters
    TOO_MANY_NUMBERS = "too_many_numbers"  # two counts or two times in one report
    COVID_MISSING_FRACTION = "covid_missing_fraction"  # `xn` without tested/total
    COVID_MISSING_RESULT = "covid_missing_result"  # no `âm tính` / `dương tính N`
    COVID_CONTRADICTION = "covid_contradiction"  # both `âm tính` and `dương tính N>0`
    ZERO_LIST = "zero_list"  # `a/0`
    # Natural phrasing (issue 14): the bot asks rather than guess.
    NO_REPORT = "no_report"  # a greeting, a question: no report in the line at all
    UNPLACED_NUMBER = "unplaced_number"  # a number that is not a count, time, date, …
    NEGATIVE_NUMBER = "negative_number"  # `-5/320`
    PERCENT_ONLY = "percent_only"  # `đạt 78%`, `đạt 85`: a percentage, not a count
    UNCLEAR_DIGITS = "unclear_digits"  # `1,234`, `9.75`, `1.2k`: digits read two ways


class _Line(BaseModel):
    model_config = ConfigDict(frozen=True)

    index: int  # position of the line within the message, from 0
    text: str  # the original text of the line (stripped), for replies
    area_code: str | None  # the area prefix in force for this line (carried over), as typed
    # An area named in the text (`Khu vực 5`, `Tổ 6 TT Mường Khương`), carried over like
    # the prefix; resolved against the sender's own areas by the intake (bot/turnout/phrasing.py).
    area_number: int | None = None
    area_place: str | None = None  # folded commune / ward name given with the number


class StatedDate(BaseModel):
    """A date written in the report (`23/5`, `ngày 23-5`, `15.3.2026`); never a count."""

    model_config = ConfigDict(frozen=True)

    day: int
    month: int
    year: int | None = None


class ParsedReport(_Line):
    kind: ReportKind
    is_correction: bool = False  # `sửa …`
    voted: int | None = None  # turnout / completion count; None for `xong` without a count
    list_size: int | None = None  # the `/N` of a turnout or completion, when given
    time: dt.time | None = None  # stated time of day; None means "the arrival time"
    staff_tested: int | None = None  # COVID only
    staff_total: int | None = None  # COVID only
    positives: int | None = None  # COVID only
    # Natural phrasing (issue 14), all checked by the intake, never stored as counts:
    afternoon_possible: bool = False  # an hour 1–11 typed without sáng/chiều and without 0
    percent: float | None = None  # a stated percentage, checked against the count
    whole_list: bool = False  # `xong 100%`: the count is the whole current list
    date: StatedDate | None = None  # a stated date: must be the election date


class UnreadableLine(_Line):
    reason: UnreadableReason
    detail: str | None = None  # the offending token, when there is one
    details: tuple[str, ...] = ()  # every offending token, when there are several


ParsedLine = ParsedReport | UnreadableLine
