"""The results night's Vietnamese strings: ballot names and the import's messages.

Like `bot/texts.py`: functions here only format plain values into marked text.
"""

from __future__ import annotations

from bot.results.model import Ballot

# The ballot as a heading says it ("HĐND xã: bầu được 1.952/2.019").
BALLOT_LABELS: dict[Ballot, str] = {
    Ballot.QH: "Quốc hội",
    Ballot.TINH: "HĐND tỉnh",
    Ballot.HUYEN: "HĐND huyện",
    Ballot.XA: "HĐND xã",
}

# The ballot in full, as the official records name it.
BALLOT_FULL_NAMES: dict[Ballot, str] = {
    Ballot.QH: "đại biểu Quốc hội",
    Ballot.TINH: "đại biểu Hội đồng nhân dân tỉnh",
    Ballot.HUYEN: "đại biểu Hội đồng nhân dân huyện",
    Ballot.XA: "đại biểu Hội đồng nhân dân xã",
}


def ballot_label(ballot: Ballot) -> str:
    return BALLOT_LABELS[ballot]
