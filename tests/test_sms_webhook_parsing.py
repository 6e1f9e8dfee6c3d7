"""The SMS webhook's readers on anything: an event read back from the inbox is an SMS or None
(never an exception), a signature check is True only for the right key, body and timestamp,
and an SMS keeps one content key whatever envelope brings it."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from handlers.sms.webhook import content_key, parse_event, signature_ok
from sandbox.sms import sign

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=20,
)
payloads = st.fixed_dictionaries(
    {},
    optional={
        "message": st.text(max_size=200) | json_values,
        "sender": st.text(max_size=40) | json_values,
        "phoneNumber": st.text(max_size=40) | json_values,
        "receivedAt": st.sampled_from(
            ["2021-05-23T09:01:00.000+07:00", "2021-05-23T09:01:00", "yesterday", ""]
        )
        | json_values,
        "messageId": st.text(max_size=20),
    },
)
envelopes = st.fixed_dictionaries(
    {},
    optional={
        "id": st.text(max_size=40) | json_values,
        "event": st.sampled_from(["sms:received", "sms:failed", "sms:sent"]) | json_values,
        "deviceId": st.text(max_size=20),
        "webhookId": st.text(max_size=20),
        "payload": payloads | json_values,
    },
)


@settings(deadline=None, max_examples=300)
@given(envelope=envelopes | json_values)
def test_a_stored_event_reads_as_an_sms_or_none(envelope: Any) -> None:
    parsed = parse_event(json.dumps(envelope))
    if parsed is not None:
        read, sms = parsed
        assert read.event == "sms:received" and read.id
        assert isinstance(sms.message, str) and sms.received_at.year > 1


@settings(deadline=None, max_examples=200)
@given(text=st.text(max_size=300))
def test_any_text_reads_as_an_sms_or_none(text: str) -> None:
    assert parse_event(text) is None or text.lstrip().startswith("{")


@settings(deadline=None, max_examples=200)
@given(
    key=st.text(min_size=1, max_size=40),
    body=st.binary(max_size=200),
    stamp=st.integers(min_value=0, max_value=2**40).map(str),
    forged=st.text(max_size=80),
)
def test_only_the_right_signature_passes(key: str, body: bytes, stamp: str, forged: str) -> None:
    right = sign(key, body, stamp)
    assert signature_ok(key.encode(), body, stamp, right)
    assert signature_ok(key.encode(), body, stamp, right.upper())  # hex, case aside
    assert not signature_ok(key.encode(), body + b" ", stamp, right)
    assert not signature_ok(key.encode(), body, stamp + "0", right)
    assert forged.strip().lower() == right or not signature_ok(key.encode(), body, stamp, forged)


def test_an_sms_has_one_content_key() -> None:
    key = content_key("0912345001", "2021-05-23T09:01:00+07:00", "250/320 9h")
    assert key == content_key("0912345001", "2021-05-23T09:01:00+07:00", "250/320 9h")
    assert key != content_key("0912345001", "2021-05-23T09:02:00+07:00", "250/320 9h")
    assert key != content_key("0912345002", "2021-05-23T09:01:00+07:00", "250/320 9h")
    assert key != content_key("0912345001", "2021-05-23T09:01:00+07:00", "250/320 9h30")
