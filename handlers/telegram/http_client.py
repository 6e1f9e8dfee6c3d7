"""python-telegram-bot's HTTP requests over aiohttp instead of httpx.

With many requests in flight, httpx's connection pool (httpcore 1.0) re-examines every
connection for every request it queues or finishes, and one of those checks counts the idle
connections once per connection and asks the kernel whether each socket is readable. At 64
connections that bookkeeping was most of the bot's CPU at 50 ms of API latency
(`benchmarks/end_to_end.py --profile`, docs/PERFORMANCE.md). aiohttp, already a dependency
for the listeners, keeps its pool in constant time per request.
"""

from __future__ import annotations

from typing import Any

import aiohttp
from telegram._utils.defaultvalue import DefaultValue  # PTB's own "not given" marker
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

ODVFloat = Any  # a float, None, or PTB's DEFAULT_NONE: "use this request's own default"


class AiohttpRequest(BaseRequest):
    """A `BaseRequest` on one aiohttp session with a pool of `connection_pool_size`."""

    def __init__(
        self,
        connection_pool_size: int = 1,
        *,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
    ) -> None:
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._pool_size, limit_per_host=0)
            self._session = aiohttp.ClientSession(
                connector=connector, headers={"User-Agent": self.USER_AGENT}
            )

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVFloat = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVFloat = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVFloat = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVFloat = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        has_files = request_data is not None and request_data.contains_files
        default_write = self._media_write_timeout if has_files else self._write_timeout
        read = self._read_timeout if isinstance(read_timeout, DefaultValue) else read_timeout
        write = default_write if isinstance(write_timeout, DefaultValue) else write_timeout
        connect = (
            self._connect_timeout if isinstance(connect_timeout, DefaultValue) else connect_timeout
        )
        pool = self._pool_timeout if isinstance(pool_timeout, DefaultValue) else pool_timeout
        # aiohttp has no separate write timeout: a request's send and its answer share the
        # read allowance, so the total is their sum (None: no limit).
        total = None if read is None or write is None else read + write
        timeout = aiohttp.ClientTimeout(
            total=None if total is None else total + (pool or 0) + (connect or 0),
            connect=pool,  # aiohttp's "connect" is the wait for a pool slot plus connecting
            sock_connect=connect,
            sock_read=read,
        )
        try:
            async with self._session.request(
                method, url, data=_body(request_data), timeout=timeout
            ) as response:
                return response.status, await response.read()
        except TimeoutError as error:
            raise TimedOut from error
        except aiohttp.ClientError as error:
            raise NetworkError(f"aiohttp.{type(error).__name__}: {error}") from error


def _body(request_data: RequestData | None) -> aiohttp.FormData | dict[str, str] | None:
    """The body as PTB sends it: form fields of JSON values, multipart when there are files."""
    if request_data is None:
        return None
    fields = request_data.json_parameters
    if not request_data.contains_files:
        return fields
    form = aiohttp.FormData(fields, quote_fields=False)
    for name, (filename, content, mimetype) in request_data.multipart_data.items():
        form.add_field(name, content, filename=filename, content_type=mimetype)
    return form
