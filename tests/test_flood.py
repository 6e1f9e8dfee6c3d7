"""Flood control: bursts allowed, floods refused once per cooldown, resends free."""

from __future__ import annotations

from bot.channel import Address
from bot.messaging.flood import BURST, COOLDOWN_SECONDS, REFILL_PER_SECOND, Admission, FloodGuard


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


P1, P2, P7 = (Address("telegram", str(n)) for n in (1, 2, 7))


def test_a_burst_is_admitted_then_one_refusal_then_silence() -> None:
    clock = Clock()
    guard = FloodGuard(clock)
    assert [guard.admit(P1, f"{n}/320 9h") for n in range(BURST)] == [Admission.ADMIT] * BURST
    assert guard.admit(P1, "x1") is Admission.REFUSE
    assert guard.admit(P1, "x2") is Admission.IGNORE
    assert guard.admit(P2, "other person") is Admission.ADMIT  # per person
    clock.now += 1 / REFILL_PER_SECOND
    assert guard.admit(P1, "x3") is Admission.ADMIT  # refilled one
    assert guard.admit(P1, "x4") is Admission.IGNORE  # still within the cooldown
    clock.now += COOLDOWN_SECONDS
    assert guard.admit(P1, "y0") is Admission.ADMIT


def test_a_phone_resending_the_same_text_is_not_punished() -> None:
    guard = FloodGuard(Clock())
    for _ in range(BURST * 3):
        assert guard.admit(P7, "250/320 9h") is Admission.ADMIT
