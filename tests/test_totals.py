"""`Totals.minus` (bot/model.py) names every additive field: it is the field-wise difference
`dataclasses.fields` gives, with `last_report_at` kept from the minuend."""

from __future__ import annotations

from dataclasses import fields

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.model import ADDITIVE_TOTALS, Totals

_TOTALS = st.builds(
    Totals,
    **{name: st.integers(-(10**9), 10**9) for name in ADDITIVE_TOTALS},
    last_report_at=st.one_of(st.none(), st.integers(0, 2**31)),
)


@settings(max_examples=300, deadline=None)
@given(_TOTALS, _TOTALS)
def test_minus_is_the_field_wise_difference(a: Totals, b: Totals) -> None:
    expected = {f.name: getattr(a, f.name) - getattr(b, f.name) for f in fields(Totals)
                if f.name != "last_report_at"}  # fmt: skip
    assert a.minus(b) == Totals(**expected, last_report_at=a.last_report_at)
