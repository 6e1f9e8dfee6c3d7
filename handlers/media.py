"""Media over HTTPS: charts and export files served by the bot's own HTTP server.

A channel that sends photos only by URL (Zalo) or takes no documents (Zalo, SMS) publishes
the bytes here and sends a link instead: `{FIELDTALLY_PUBLIC_URL}/media/{id}?t={token}`. The
id (128 bits) and the token (256 bits) come from `secrets`; only the token's SHA-256 is
stored (`storage/media.py`, in the database so every process sharing it serves every link)
and the token is compared in constant time. A link is valid `ttl` seconds: a chart
FIELDTALLY_MEDIA_TTL (the platform fetches it at once), an export FIELDTALLY_EXPORT_LINK_TTL.

What the route answers: `GET /media/{id}?t={token}` → 200 with the bytes, their type,
`Content-Disposition` (inline for a picture, attachment for a file), `Cache-Control:
no-store` and `X-Content-Type-Options: nosniff`; anything else under `/media` (an unknown
id, a wrong, truncated or missing token, an expired link, `/media/` itself) → the same 404
with an empty body; no other method. Expired items are deleted when read, with each new
item, and by `keep_sweeping`. Links expire on the wall clock (`clock`), also in a drill
that replays a past day. Neither tokens nor links are ever logged.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import logging
import re
import secrets
import time
import unicodedata
from collections.abc import Callable
from pathlib import PurePosixPath
from urllib.parse import quote

from aiohttp import web

from bot import texts
from bot.core import Core
from bot.messaging.content import Document, Image, Text
from bot.settings import check_public_url
from storage.faults import fault_reason, is_storage_fault
from storage.media import StoredMedia

log = logging.getLogger(__name__)

MEDIA_PATH = "/media"
ID_BYTES = 16  # 128 bits: the id alone opens nothing, but is not guessable either
TOKEN_BYTES = 32  # 256 bits (the contract asks at least 128)
_ID = re.compile(rf"[A-Za-z0-9_-]{{{len(secrets.token_urlsafe(ID_BYTES))}}}")
_TOKEN = re.compile(rf"[A-Za-z0-9_-]{{{len(secrets.token_urlsafe(TOKEN_BYTES))}}}")
SWEEP_EVERY = 600.0  # seconds between deletions of expired items

PNG = "image/png"
CSV = "text/csv; charset=utf-8"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
OCTET_STREAM = "application/octet-stream"
_TYPES_BY_SUFFIX = {".png": PNG, ".csv": CSV, ".xlsx": XLSX}
# A header value of printable ASCII (no CR/LF: nothing can be smuggled into the response).
_HEADER_VALUE = re.compile(r"[\x20-\x7e]{1,200}")
_MAX_FILENAME = 120

EpochClock = Callable[[], float]

# What every answer under /media carries.
_ALWAYS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex",
}


def content_type_for(filename: str) -> str:
    """The Content-Type of a file by its name (`.csv`, `.xlsx`, `.png`; else octet-stream)."""
    return _TYPES_BY_SUFFIX.get(PurePosixPath(filename.lower()).suffix, OCTET_STREAM)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def safe_filename(name: str) -> str:
    """A file name to offer for download: its last path part, printable characters only
    (any space a plain one), at most `_MAX_FILENAME` characters (an empty one becomes `tep`)."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(" " if c.isspace() else c for c in name if c.isprintable() or c.isspace())
    name = name.strip().strip(".").strip()
    if len(name) > _MAX_FILENAME:
        suffix = PurePosixPath(name).suffix[:10]
        name = name[: _MAX_FILENAME - len(suffix)] + suffix
    return name or "tep"


def _ascii_filename(name: str) -> str:
    """The name without diacritics, for clients that do not read `filename*`."""
    name = name.replace("đ", "d").replace("Đ", "D")
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Za-z0-9._-]+", "_", folded).strip("_") or "tep"


def content_disposition(filename: str, *, inline: bool) -> str:
    """RFC 6266: an ASCII `filename` and the exact UTF-8 `filename*`."""
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{_ascii_filename(filename)}\"; filename*=UTF-8''{quote(filename)}"


def _not_found() -> web.Response:
    """One answer for every link that does not serve: nothing tells why."""
    return web.Response(status=404, body=b"", headers=_ALWAYS)


class MediaLinks:
    """Publishes bytes at expiring, unguessable URLs and serves them (`routes`)."""

    def __init__(self, core: Core, public_url: str, *, clock: EpochClock = time.time) -> None:
        self._core = core
        self._public_url = check_public_url(public_url)  # an origin, no trailing slash
        self._clock = clock
        self._store = core.db.media

    async def publish(self, data: bytes, *, content_type: str, filename: str, ttl: float) -> str:
        """Keep `data` for `ttl` seconds; the absolute URL that serves it until then."""
        url, _ = await self._publish(data, content_type=content_type, filename=filename, ttl=ttl)
        return url

    async def as_link_text(self, content: Image | Document) -> Text:
        """A picture or a file as a text with a link to it: a chart valid
        FIELDTALLY_MEDIA_TTL, a file valid FIELDTALLY_EXPORT_LINK_TTL, each saying until when."""
        settings = self._core.settings
        match content:
            case Image(png=png, name=name, caption=caption):
                url, until = await self._publish(
                    png, content_type=PNG, filename=name, ttl=settings.media_ttl
                )
                return Text(texts.chart_link(caption, url, self._local(until)))
            case Document(filename=filename, content=data, caption=caption):
                url, until = await self._publish(
                    data,
                    content_type=content_type_for(filename),
                    filename=filename,
                    ttl=settings.export_link_ttl,
                )
                name = safe_filename(filename)
                return Text(texts.file_link(caption, name, url, self._local(until)))
        raise TypeError(f"not a picture or a file: {type(content).__name__}")

    def routes(self) -> list[web.AbstractRouteDef]:
        """`GET /media/{id}?t=…`, and the same 404 for anything else under /media."""
        return [
            web.get(MEDIA_PATH, self._nothing, allow_head=False),
            web.get(MEDIA_PATH + "/{id:.*}", self._serve, allow_head=False),
        ]

    async def sweep(self) -> int:
        """Delete every expired item now; how many."""
        return await self._store.delete_expired(self._clock())

    async def keep_sweeping(self, stop: asyncio.Event, every: float = SWEEP_EVERY) -> None:
        """Sweep now, then every `every` seconds until `stop` (a storage fault is logged and
        the next sweep tries again)."""
        while True:
            try:
                deleted = await self.sweep()
                if deleted:
                    log.debug("deleted %d expired media items", deleted)
            except Exception as error:
                if not is_storage_fault(error):
                    raise
                log.warning("media sweep met a storage fault: %s", fault_reason(error))
            try:
                await asyncio.wait_for(stop.wait(), timeout=every)
                return
            except TimeoutError:
                continue

    # -- inside ------------------------------------------------------------------------------

    async def _publish(
        self, data: bytes, *, content_type: str, filename: str, ttl: float
    ) -> tuple[str, int]:
        if not ttl > 0:
            raise ValueError("a link's lifetime must be positive")
        if not _HEADER_VALUE.fullmatch(content_type):
            raise ValueError("the content type must be a short line of printable ASCII")
        now = self._clock()
        media_id = secrets.token_urlsafe(ID_BYTES)
        token = secrets.token_urlsafe(TOKEN_BYTES)
        item = StoredMedia(
            id=media_id,
            token_hash=token_hash(token),
            content_type=content_type,
            filename=safe_filename(filename),
            body=bytes(data),
            created_at=int(now),
            expires_at=int(now + ttl),  # down to the second: never valid longer than asked
        )
        await self._store.put(item, now=now)
        return f"{self._public_url}{MEDIA_PATH}/{media_id}?t={token}", item.expires_at

    def _local(self, epoch: int) -> dt.datetime:
        return dt.datetime.fromtimestamp(epoch, self._core.settings.tz)

    async def _nothing(self, request: web.Request) -> web.Response:
        return _not_found()

    async def _serve(self, request: web.Request) -> web.Response:
        media_id = request.match_info["id"]
        tokens = request.query.getall("t", [])
        if len(tokens) != 1 or not _ID.fullmatch(media_id) or not _TOKEN.fullmatch(tokens[0]):
            return _not_found()
        try:
            item = await self._store.get(media_id)
            if item is not None and item.expired(self._clock()):
                await self.sweep()
                return _not_found()
        except Exception as error:
            if not is_storage_fault(error):
                raise
            log.warning("a media link could not be read: %s", fault_reason(error))
            return web.Response(status=503, body=b"", headers=_ALWAYS)
        given = token_hash(tokens[0])
        if item is None:
            hmac.compare_digest(given, token_hash(""))  # the same work as a wrong token
            return _not_found()
        if not hmac.compare_digest(given, item.token_hash):
            return _not_found()
        inline = item.content_type.startswith("image/")
        headers = {
            **_ALWAYS,
            "Content-Type": item.content_type,
            "Content-Disposition": content_disposition(item.filename, inline=inline),
            "Content-Security-Policy": "default-src 'none'; sandbox",
        }
        return web.Response(body=item.body, headers=headers)
