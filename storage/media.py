"""Media kept for a while to be fetched by URL: a chart, an export file (the `media` table).

A channel that cannot upload a file (it sends photos by URL, or no documents at all) gives
out a link instead, served by the bot's own HTTP server; what the link serves is kept here,
in the database rather than in files, so every bot process sharing a PostgreSQL database
serves the links any of them gave out. Only a hash of each link's secret token is stored:
checking it is the caller's business (`handlers/media.py`). Times are epoch seconds; an item
is gone once `expires_at` is reached, whether or not `delete_expired` has run yet.
"""

from __future__ import annotations

from dataclasses import dataclass

from storage.engine import Engine, WriteConnection


@dataclass(frozen=True, slots=True)
class StoredMedia:
    id: str
    token_hash: str  # hex SHA-256 of the link's token
    content_type: str
    filename: str
    body: bytes
    created_at: int
    expires_at: int

    def expired(self, now: float) -> bool:
        return now >= self.expires_at


class MediaStore:
    """Put, get and forget media items, on either engine."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    async def put(self, item: StoredMedia, *, now: float | None = None) -> None:
        """Store `item` (its id must be new); with `now`, what has expired by then is
        deleted in the same transaction, so the table never grows with dead items."""

        def job(connection: WriteConnection) -> None:
            if now is not None:
                connection.execute("DELETE FROM media WHERE expires_at <= ?", (int(now),))
            connection.execute(
                "INSERT INTO media (id, token_hash, content_type, filename, body, created_at,"
                " expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    item.id,
                    item.token_hash,
                    item.content_type,
                    item.filename,
                    item.body,
                    item.created_at,
                    item.expires_at,
                ),
            )

        await self._engine.write(job)

    async def get(self, media_id: str) -> StoredMedia | None:
        """The item with this id, expired or not (None: no such item)."""
        rows = await self._engine.read(
            "SELECT id, token_hash, content_type, filename, body, created_at, expires_at"
            " FROM media WHERE id = ?",
            (media_id,),
        )
        if not rows:
            return None
        row = rows[0]
        return StoredMedia(
            id=str(row[0]),
            token_hash=str(row[1]),
            content_type=str(row[2]),
            filename=str(row[3]),
            body=bytes(row[4]),
            created_at=int(row[5]),
            expires_at=int(row[6]),
        )

    async def delete_expired(self, now: float) -> int:
        """Delete every item expired at `now`; how many were deleted."""

        def job(connection: WriteConnection) -> int:
            cursor = connection.execute(
                "DELETE FROM media WHERE expires_at <= ? RETURNING id", (int(now),)
            )
            return len(cursor.fetchall())

        return await self._engine.write(job)
