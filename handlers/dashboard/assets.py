"""The dashboard's static files (`handlers/dashboard/static/`), served by the bot itself.

Every file is addressed as `/static/{path}?v={hash of its content}`: a request carrying the
current hash is cached by the browser for a year (`immutable`), any other gets `no-cache` with
an ETag, so a new release is picked up at once. Paths outside the folder are not served.
"""

from __future__ import annotations

import hashlib
import mimetypes
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from aiohttp import web

STATIC_ROOT = Path(__file__).parent / "static"
LONG_CACHE = "public, max-age=31536000, immutable"
_TYPES = {
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".css": "text/css",
    ".json": "application/json",
    ".geojson": "application/geo+json",
    ".svg": "image/svg+xml",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
    ".png": "image/png",
    ".txt": "text/plain",
    ".html": "text/html",
}
_TEXT = {".js", ".mjs", ".css", ".json", ".geojson", ".svg", ".txt", ".html"}


@dataclass(frozen=True, slots=True)
class Asset:
    path: Path
    digest: str  # the first 16 hex digits of its SHA-256
    content_type: str
    charset: str | None


class Assets:
    """The files under `root`, hashed once at start."""

    def __init__(self, root: Path = STATIC_ROOT) -> None:
        self._root = root.resolve()
        self._files: dict[str, Asset] = {}
        if self._root.is_dir():
            for path in sorted(self._root.rglob("*")):
                if path.is_file() and not path.name.startswith("."):
                    name = path.relative_to(self._root).as_posix()
                    suffix = path.suffix.lower()
                    kind = _TYPES.get(suffix) or mimetypes.guess_type(path.name)[0]
                    self._files[name] = Asset(
                        path,
                        hashlib.sha256(path.read_bytes()).hexdigest()[:16],
                        kind or "application/octet-stream",
                        "utf-8" if suffix in _TEXT else None,
                    )

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._files)

    def url(self, name: str) -> str:
        """`/static/{name}?v={hash}`: what a page links to."""
        asset = self._files[name]
        return f"/static/{name}?v={asset.digest}"

    def find(self, name: str) -> Asset | None:
        if PurePosixPath(name).is_absolute() or ".." in PurePosixPath(name).parts:
            return None
        return self._files.get(name)

    async def serve(self, request: web.Request) -> web.StreamResponse:
        asset = self.find(request.match_info.get("path", ""))
        if asset is None:
            raise web.HTTPNotFound()
        current = request.query.get("v") == asset.digest
        etag = f'"{asset.digest}"'
        headers = {"Cache-Control": LONG_CACHE if current else "no-cache", "ETag": etag}
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers=headers)
        return web.Response(
            body=asset.path.read_bytes(),
            content_type=asset.content_type,
            charset=asset.charset,
            headers=headers,
        )
