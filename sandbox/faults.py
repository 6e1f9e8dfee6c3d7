"""Injected trouble, for tests of what the bot does when Telegram misbehaves: answers
refused with an HTTP status (429 with ``retry_after``, 403, 5xx…), before or after the call
took effect; connections dropped without an answer; latency per method; and answers held
back until calls for several chats wait at once (``AnswerHold``: concurrency proved by
construction). ``FaultInjection`` is the test-facing part and the checks ``bot_api.py`` makes
before answering each call.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from sandbox.state import SandboxState
from sandbox.wire import ApiError

_STATUS_TEXT = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    420: "Flood",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


class AnswerHold:
    """Answers to one method held back until calls for `chats` different chats wait at once.

    Made by ``BotApiSandbox.hold_answers``. Each call of the method waits, unanswered, in the
    sandbox; as soon as calls for `chats` distinct chats are waiting together the hold opens:
    those calls and every later one are answered as usual. A bot that handles one chat at a
    time never has two chats' calls waiting, so for it the hold can never fill: concurrency
    proved by construction, however fast or slow the machine. With `chats=None` it holds
    every call until `release()` (e.g. to freeze a burst half answered).
    """

    def __init__(self, method: str, chats: int | None, token: str | None) -> None:
        self.name = method
        self.method = method.lower()
        self.chats = chats
        self.token = token
        self.filled = False  # True once `chats` chats had a call waiting at the same time
        self.most_waiting = 0  # the most distinct chats that had a call waiting at once
        self._waiting: dict[int | str | None, int] = {}  # chat -> calls held now
        self._open = asyncio.Event()

    @property
    def released(self) -> bool:
        """Whether calls go through now (the hold filled, or was released)."""
        return self._open.is_set()

    def release(self) -> None:
        """Answer every held call now, and every later one without holding it."""
        self._open.set()

    def covers(self, method: str, token: str) -> bool:
        return (
            not self._open.is_set()
            and self.method == method.lower()
            and self.token in (None, token)
        )

    async def hold(self, chat: int | str | None) -> None:
        """Hold one call for `chat` until the hold opens (it opens now if this fills it)."""
        self._waiting[chat] = self._waiting.get(chat, 0) + 1
        self.most_waiting = max(self.most_waiting, len(self._waiting))
        try:
            if self.chats is not None and len(self._waiting) >= self.chats:
                self.filled = True
                self._open.set()
            await self._open.wait()
        finally:
            self._waiting[chat] -= 1
            if not self._waiting[chat]:
                del self._waiting[chat]

    async def wait_filled(self, timeout: float = 120.0) -> None:  # noqa: ASYNC109
        """Return once calls for `chats` distinct chats have waited at the same time.

        `timeout` is only a guard against a hang: if the hold has not filled by then, every
        held call is released (so the bot can go on) and AssertionError says how many chats
        ever had a call waiting at once."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._open.wait(), timeout)
        if not self.filled:
            self.release()
            raise AssertionError(
                f"answers to {self.name} were held for {self.chats} chats waiting at once, "
                f"but at most {self.most_waiting} chat(s) ever had a call waiting together "
                f"(gave up after {timeout:g} s): the calls were not made concurrently"
            )


@dataclass
class _Fault:
    method: str | None  # lower-case method name, None = any
    token: str | None
    status: int
    remaining: int
    description: str
    retry_after: int | None
    after_execute: bool


@dataclass
class _Drop:
    method: str | None
    remaining: int


class FaultInjection(SandboxState):
    """Faults, dropped connections, latencies and held answers: set by tests, applied to calls."""

    # --- fault injection ------------------------------------------------------------------

    def set_latency(self, method: str | None, ms: float) -> None:
        """Delay answers to ``method`` (any spelling; None = every method without its own
        setting) by ``ms`` milliseconds; 0 removes the setting."""
        key = method.lower() if method is not None else None
        if ms <= 0:
            self._latency.pop(key, None)
        else:
            self._latency[key] = ms / 1000.0

    def inject_faults(
        self,
        method: str | None,
        status: int,
        count: int = 1,
        retry_after: int | None = None,
        *,
        description: str | None = None,
        after_execute: bool = False,
        token: str | None = None,
    ) -> None:
        """Answer the next ``count`` calls of ``method`` (None = any) with HTTP ``status``.

        429 carries ``parameters.retry_after`` (default 1 s), so PTB raises RetryAfter.
        The call is not executed, unless ``after_execute``: then it takes effect and only the
        answer is lost (the "did my message go out?" case behind duplicate sends).
        """
        if status == 429 and retry_after is None:
            retry_after = 1
        if description is None:
            description = _STATUS_TEXT.get(status, "Error")
            if status == 429:
                description = f"Too Many Requests: retry after {retry_after}"
            elif status == 403:
                description = "Forbidden: bot was blocked by the user"
            elif status == 400:
                description = "Bad Request: injected fault"
        self._faults.append(
            _Fault(
                method=method.lower() if method is not None else None,
                token=token,
                status=status,
                remaining=count,
                description=description,
                retry_after=retry_after,
                after_execute=after_execute,
            )
        )

    def drop_connections(self, count: int = 1, method: str | None = None) -> None:
        """Close the connection without any answer for the next ``count`` calls of ``method``
        (None = any); PTB sees a NetworkError. The call is not executed."""
        self._drops.append(_Drop(method.lower() if method is not None else None, count))

    def hold_answers(
        self, method: str, chats: int | None, *, token: str | None = None
    ) -> AnswerHold:
        """Hold the answers to ``method`` (any spelling; calls of ``token``'s bot, or of any bot
        if None) until calls for ``chats`` distinct chats wait at once (None: until released);
        see ``AnswerHold``. A call is visible to ``wait_for_call`` (``status is None``) while
        it is held. ``clear_faults`` and ``stop`` release every hold."""
        if chats is not None and chats < 1:
            raise ValueError("chats must be at least 1")
        hold = AnswerHold(method, chats, token)
        self._holds.append(hold)
        return hold

    def clear_faults(self) -> None:
        """Forget pending faults, dropped connections and latencies; release held answers."""
        self._faults.clear()
        self._drops.clear()
        self._latency.clear()
        for hold in self._holds:
            hold.release()
        self._holds.clear()

    async def _delay(self, method: str) -> None:
        seconds = self._latency.get(method.lower(), self._latency.get(None, 0.0))
        if seconds > 0 and self._closing is not None:
            # Waiting on the closing event, not sleeping, so stop() is never held up.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), seconds)

    async def _hold(self, method: str, token: str, chat_ref: Any) -> None:
        chat: int | str | None
        try:
            chat = int(chat_ref)
        except (TypeError, ValueError):
            chat = None if chat_ref is None else str(chat_ref)
        for hold in [h for h in self._holds if h.covers(method, token)]:
            await hold.hold(chat)
        self._holds = [h for h in self._holds if not h.released]

    def _take_drop(self, method: str) -> bool:
        for drop in self._drops:
            if drop.remaining > 0 and drop.method in (None, method.lower()):
                drop.remaining -= 1
                return True
        return False

    def _take_fault(self, method: str, token: str) -> _Fault | None:
        for fault in self._faults:
            if (
                fault.remaining > 0
                and fault.method in (None, method.lower())
                and fault.token in (None, token)
            ):
                fault.remaining -= 1
                return fault
        return None


def _fault_error(fault: _Fault) -> ApiError:
    parameters = {"retry_after": fault.retry_after} if fault.retry_after is not None else None
    return ApiError(fault.status, fault.description, parameters)


async def _drop(request: web.Request) -> web.StreamResponse:
    """Close the connection without answering, as a broken network path would."""
    if request.transport is not None:
        request.transport.abort()
    # aiohttp will find the transport closed and skip writing this response.
    return web.Response(status=500)
