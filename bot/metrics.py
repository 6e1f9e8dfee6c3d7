"""The bot's Prometheus metrics: report verdicts, updates handled and how long they took, and
how full the update queue and the inbox are.

Each `Metrics` has its own registry (not prometheus_client's global one), so several bots in
one process — the tests, the demo — keep separate counts.
"""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from bot.turnout.rules import Outcome

# Every report line gets one answer; a line refused before judging (unreadable, unknown
# area, unregistered sender) counts as rejected, a batch whose commit failed as failed.
REPORT_OUTCOMES = (*(o.value for o in Outcome), "failed")
WEBHOOK_ANSWERS = ("accepted", "forbidden", "bad_request", "failed")
# Handling includes the replies, which wait their turn under the channel's send limits.
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.reports = Counter(
            "fieldtally_reports",
            "Report lines answered, by verdict (accepted ✅, warned ⚠️, repeat, rejected ❌)",
            ["outcome"],
            registry=self.registry,
        )
        # present (at 0) before the first report; the children are kept, since `labels()`
        # costs a lock and a tuple per call: a few µs per report at thousands a second
        self._report_counters = {o: self.reports.labels(o) for o in REPORT_OUTCOMES}
        self.updates_handled = Counter(
            "fieldtally_updates_handled",
            "Incoming channel events whose handling has finished",
            registry=self.registry,
        )
        self.update_seconds = Histogram(
            "fieldtally_update_handling_seconds",
            "Seconds from an update reaching the bot to the end of its handling",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.updates_waiting = Gauge(
            "fieldtally_update_queue_waiting",
            "Updates stored and waiting in the bounded update queue",
            registry=self.registry,
        )
        self.updates_in_flight = Gauge(
            "fieldtally_updates_in_flight",
            "Updates taken from the queue and not yet handled",
            registry=self.registry,
        )
        self.inbox_pending = Gauge(
            "fieldtally_inbox_pending",
            "Updates in the durable inbox not yet marked handled (read at each scrape)",
            registry=self.registry,
        )
        self.database_up = Gauge(
            "fieldtally_database_up",
            "1 when the last scrape could read the database, else 0",
            registry=self.registry,
        )
        self.webhook_requests = Counter(
            "fieldtally_webhook_requests",
            "Requests to the webhook, by answer (forbidden: wrong or missing secret token)",
            ["answer"],
            registry=self.registry,
        )
        for answer in WEBHOOK_ANSWERS:
            self.webhook_requests.labels(answer)
        self.store_degraded = Gauge(
            "fieldtally_store_degraded",
            "1 while a storage fault pauses the intake (disk full, lock, connection lost)",
            registry=self.registry,
        )
        self.store_degraded_since = Gauge(
            "fieldtally_store_degraded_since_seconds",
            "Epoch seconds the current storage outage started (0: none)",
            registry=self.registry,
        )
        self.store_faults = Counter(
            "fieldtally_store_faults",
            "Storage faults met (each failed attempt; the work is kept and retried)",
            registry=self.registry,
        )

    def reports_answered(self, outcomes: tuple[str, ...]) -> None:
        counters = self._report_counters
        for outcome in outcomes:
            counter = counters.get(outcome)
            if counter is None:
                counter = counters[outcome] = self.reports.labels(outcome)
            counter.inc()

    def update_handled(self, seconds: float) -> None:
        self.updates_handled.inc()
        self.update_seconds.observe(seconds)

    def watch_update_queue(self, waiting: Callable[[], int], in_flight: Callable[[], int]) -> None:
        """Read the queue's depth at each scrape (no bookkeeping on the update path)."""
        self.updates_waiting.set_function(waiting)
        self.updates_in_flight.set_function(in_flight)

    def exposition(self) -> bytes:
        """Everything, in Prometheus' text format."""
        return generate_latest(self.registry)
