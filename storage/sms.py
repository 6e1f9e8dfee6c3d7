"""What the SMS channel keeps in the store: its outbox, the gateway's failures, its webhook
registrations and the numbers refused today; and, for any channel, the keys of the events
already received (an event redelivered under a new id is recognised by its content).

The write half (`SmsWrites`) is part of `Transaction`, the read half (`SmsReads`) part of
`Database`; both speak the SQL that SQLite and PostgreSQL share.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from storage.engine import Engine, Row, WriteConnection

OUTBOX_QUEUED = "queued"
OUTBOX_SENT = "sent"
OUTBOX_FAILED = "failed"


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    """One SMS to send: `id` is the message id the gateway is given (a second hand-over of
    the same id is refused by the gateway with 409, so it can never go out twice)."""

    id: str
    bot: str
    phone: str  # E.164
    body: str
    queued_at: int  # epoch seconds
    state: str = OUTBOX_QUEUED
    sent_at: int | None = None
    attempts: int = 0
    last_error: str | None = None


@dataclass(frozen=True, slots=True)
class OutboxStatus:
    queued: int  # waiting to be handed to the gateway
    sent_last_minute: int  # handed over in the 60 s before the moment asked about
    failed: int  # refused by the gateway, or reported failed by it (sms:failed)


@dataclass(frozen=True, slots=True)
class SmsFailure:
    """An `sms:failed` event of the gateway: which message, to whom, why."""

    outbox_id: str
    phone: str
    reason: str
    at: int


@dataclass(frozen=True, slots=True)
class WebhookRegistration:
    event: str  # `sms:received`, `sms:failed`
    webhook_id: str
    url: str
    registered_at: int


def _outbox(row: Row) -> OutboxMessage:
    return OutboxMessage(
        id=str(row[0]), bot=str(row[1]), phone=str(row[2]), body=str(row[3]),
        queued_at=int(row[4]), state=str(row[5]),
        sent_at=None if row[6] is None else int(row[6]), attempts=int(row[7]),
        last_error=None if row[8] is None else str(row[8]),
    )  # fmt: skip


_OUTBOX_COLUMNS = "id, bot, phone, body, queued_at, state, sent_at, attempts, last_error"


class SmsWrites:
    """The writes, as methods of `Transaction` (its writer connection is `_db`)."""

    _db: WriteConnection

    def first_sighting(self, bot: str, keys: Sequence[str], now: int) -> bool:
        """Whether an event named by `keys` (its id, its content…) is new to `bot`: True when
        none of the keys was seen before. Every key is remembered either way."""
        known = False
        for key in keys:
            row = self._db.execute(
                "INSERT INTO inbox_seen (bot, key, seen_at) VALUES (?, ?, ?)"
                " ON CONFLICT DO NOTHING RETURNING 1",
                (bot, key, now),
            ).fetchone()
            known = known or row is None
        return not known

    def outbox_add(self, messages: Sequence[OutboxMessage]) -> None:
        """Queue messages; one whose id is already there (a reply to an event handled again
        after a crash) is kept as it is."""
        self._db.executemany(
            "INSERT INTO sms_outbox (id, bot, phone, body, queued_at, state)"
            " VALUES (?, ?, ?, ?, ?, 'queued') ON CONFLICT (id) DO NOTHING",
            [(m.id, m.bot, m.phone, m.body, m.queued_at) for m in messages],
        )

    def outbox_sent(self, outbox_id: str, at: int) -> None:
        """The gateway accepted it (or said it already had it)."""
        self._db.execute(
            "UPDATE sms_outbox SET state = 'sent', sent_at = ?, attempts = attempts + 1,"
            " last_error = NULL WHERE id = ?",
            (at, outbox_id),
        )

    def outbox_attempt_failed(self, outbox_id: str, error: str) -> None:
        """A passing failure: still queued, tried again later."""
        self._db.execute(
            "UPDATE sms_outbox SET attempts = attempts + 1, last_error = ? WHERE id = ?",
            (error, outbox_id),
        )

    def outbox_failed(self, outbox_id: str, error: str) -> None:
        """Refused for good (a number the gateway will not take): kept, with why."""
        self._db.execute(
            "UPDATE sms_outbox SET state = 'failed', attempts = attempts + 1, last_error = ?"
            " WHERE id = ?",
            (error, outbox_id),
        )

    def sms_failure(self, bot: str, failure: SmsFailure) -> None:
        """An `sms:failed` event: kept for `fieldtally status`; its message marked failed."""
        self._db.execute(
            "INSERT INTO sms_failures (bot, outbox_id, phone, reason, at) VALUES (?, ?, ?, ?, ?)",
            (bot, failure.outbox_id, failure.phone, failure.reason, failure.at),
        )
        self._db.execute(
            "UPDATE sms_outbox SET state = 'failed', last_error = ? WHERE id = ? AND bot = ?",
            (failure.reason, failure.outbox_id, bot),
        )

    def sms_webhook_registered(self, bot: str, registration: WebhookRegistration) -> None:
        self._db.execute(
            "INSERT INTO sms_webhooks (bot, event, webhook_id, url, registered_at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (bot, event) DO UPDATE SET"
            " webhook_id = excluded.webhook_id, url = excluded.url,"
            " registered_at = excluded.registered_at",
            (bot, registration.event, registration.webhook_id, registration.url,
             registration.registered_at),
        )  # fmt: skip

    def sms_refusal_due(self, bot: str, phone: str, day: str) -> bool:
        """Whether `phone` may get its refusal of `day` (the first time only: remembered)."""
        row = self._db.execute(
            "INSERT INTO sms_refusals (bot, phone, day) VALUES (?, ?, ?)"
            " ON CONFLICT DO NOTHING RETURNING 1",
            (bot, phone, day),
        ).fetchone()
        return row is not None


class SmsReads:
    """The reads, as methods of `Database` (its engine is `_engine`)."""

    _engine: Engine

    async def outbox_queued(self, bot: str, limit: int = 100) -> list[OutboxMessage]:
        """The messages waiting, oldest first."""
        rows = await self._engine.read(
            f"SELECT {_OUTBOX_COLUMNS} FROM sms_outbox WHERE bot = ? AND state = 'queued'"
            " ORDER BY seq LIMIT ?",
            (bot, limit),
        )
        return [_outbox(row) for row in rows]

    async def outbox_messages(self, bot: str) -> list[OutboxMessage]:
        """Every message of the outbox, in queue order."""
        rows = await self._engine.read(
            f"SELECT {_OUTBOX_COLUMNS} FROM sms_outbox WHERE bot = ? ORDER BY seq", (bot,)
        )
        return [_outbox(row) for row in rows]

    async def outbox_sent_since(self, bot: str, since: int) -> list[int]:
        """When each message handed over at or after `since` was handed over, oldest first."""
        rows = await self._engine.read(
            "SELECT sent_at FROM sms_outbox WHERE bot = ? AND sent_at >= ? ORDER BY sent_at",
            (bot, since),
        )
        return [int(row[0]) for row in rows]

    async def outbox_status(self, bot: str, now: int) -> OutboxStatus:
        rows = await self._engine.read(
            "SELECT state, count(*) FROM sms_outbox WHERE bot = ? GROUP BY state", (bot,)
        )
        counts = {str(row[0]): int(row[1]) for row in rows}
        recent = await self.outbox_sent_since(bot, now - 59)
        return OutboxStatus(counts.get(OUTBOX_QUEUED, 0), len(recent), counts.get(OUTBOX_FAILED, 0))

    async def sms_failures(self, bot: str, limit: int = 10) -> list[SmsFailure]:
        """The latest `sms:failed` events, newest first."""
        rows = await self._engine.read(
            "SELECT outbox_id, phone, reason, at FROM sms_failures WHERE bot = ?"
            " ORDER BY seq DESC LIMIT ?",
            (bot, limit),
        )
        return [SmsFailure(str(r[0]), str(r[1]), str(r[2]), int(r[3])) for r in rows]

    async def sms_webhooks(self, bot: str) -> list[WebhookRegistration]:
        rows = await self._engine.read(
            "SELECT event, webhook_id, url, registered_at FROM sms_webhooks WHERE bot = ?"
            " ORDER BY event",
            (bot,),
        )
        return [WebhookRegistration(str(r[0]), str(r[1]), str(r[2]), int(r[3])) for r in rows]

    async def sms_bots(self) -> list[str]:
        """The SMS bots that have used this database (for `fieldtally status`)."""
        rows = await self._engine.read(
            "SELECT bot FROM sms_webhooks UNION SELECT bot FROM sms_outbox ORDER BY 1"
        )
        return [str(row[0]) for row in rows]
