"""The Prometheus page of a running bot: report verdicts, updates handled, their latency and
the queue's depth move by exactly what the bot did."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from sandbox import BotApiSandbox
from tests.harness import (
    DATA,
    BotRun,
    Samples,
    free_port,
    make_run,
    metrics_env,
    scrape,
    scrape_until,
)

SMALL = (DATA / "small_tree.csv").read_bytes()
REPORTS = "fieldtally_reports_total"
HANDLED = "fieldtally_updates_handled_total"
LATENCY_COUNT = "fieldtally_update_handling_seconds_count"
LATENCY_SUM = "fieldtally_update_handling_seconds_sum"


def reports(samples: Samples, outcome: str) -> float:
    return samples[(REPORTS, (("outcome", outcome),))]


def value(samples: Samples, name: str) -> float:
    return samples[(name, ())]


@pytest.fixture
async def measured(sandbox: BotApiSandbox, tmp_path: Path) -> AsyncIterator[BotRun]:
    token = sandbox.create_bot(username="fieldtally_bot")
    extra = metrics_env(free_port())  # /metrics on the one HTTP server
    run = make_run(sandbox, token, tmp_path / "m.db", **extra)
    await run.start()
    try:
        yield run
    finally:
        await run.stop()


async def test_metrics_count_what_the_bot_did(measured: BotRun) -> None:
    port = measured.http_port
    assert (await measured.import_units(SMALL)).startswith("✅")
    chief = measured.user(101, "Lan")
    assert (await measured.share_contact(chief, "0912345001"))[0].startswith("✅")
    updates_so_far = len(measured.sandbox.history(measured.token))
    before = await scrape_until(port, lambda s: value(s, HANDLED) == updates_so_far)

    [good] = await measured.texts_of(chief, "250/320 9h")
    [bad] = await measured.texts_of(chief, "400/320 10h")  # more voters than on the list
    assert good.startswith("✅") and bad.startswith("❌")
    # two reports and the harness's two /huongdan barriers
    after = await scrape_until(
        port,
        lambda s: (
            value(s, HANDLED) == updates_so_far + 4 and value(s, "fieldtally_inbox_pending") == 0
        ),  # done marks are written shortly after
    )

    assert reports(after, "accepted") - reports(before, "accepted") == 1
    assert reports(after, "rejected") - reports(before, "rejected") == 1
    for outcome in ("warned", "repeat", "failed"):
        assert reports(after, outcome) == reports(before, outcome) == 0
    assert value(after, LATENCY_COUNT) - value(before, LATENCY_COUNT) == 4
    assert value(after, LATENCY_SUM) > value(before, LATENCY_SUM)
    assert value(after, "fieldtally_updates_in_flight") == 0
    assert value(after, "fieldtally_update_queue_waiting") == 0
    assert value(after, "fieldtally_database_up") == 1

    # The same message delivered again is answered again, but not counted again.
    measured.sandbox.redeliver(
        measured.token, measured.sandbox.history(measured.token)[-4]["update_id"]
    )
    again = await scrape_until(port, lambda s: value(s, HANDLED) == updates_so_far + 5)
    assert reports(again, "accepted") == reports(after, "accepted")


async def test_each_bot_has_its_own_metrics(measured: BotRun, tmp_path: Path) -> None:
    sandbox = measured.sandbox
    token = sandbox.create_bot(username="other_bot")
    # The deprecated name still enables /metrics, served on that port.
    extra = {"FIELDTALLY_METRICS_PORT": str(free_port())}
    other = make_run(sandbox, token, tmp_path / "o.db", **extra)
    await other.start()
    try:
        assert (await other.import_units(SMALL)).startswith("✅")
        assert other.settings.metrics_port is not None
        mine = await scrape_until(other.settings.metrics_port, lambda s: value(s, HANDLED) == 2)
    finally:
        await other.stop()
    theirs = await scrape(measured.http_port)
    assert value(theirs, HANDLED) == 0 and value(mine, HANDLED) == 2
    async with httpx.AsyncClient() as client:
        answer = await client.get(f"http://127.0.0.1:{measured.http_port}/healthz")
    assert answer.status_code == 200
