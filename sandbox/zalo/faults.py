"""Trouble on demand, for tests of what a Zalo adapter does when the platform misbehaves:
the next N calls of a method refused with an HTTP status (5xx, 429…) and its ``error_code``,
or with HTTP 200 and only the envelope saying so; connections dropped without an answer; an
outage (every call 503); and calls held unanswered until the test releases them
(``ZaloHold``: retries and timeouts tested without timing). ``ZaloFaults`` is the test-facing
part and the checks `api.py` makes before answering each call.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from sandbox.state import _Signal
from sandbox.zalo.state import ZaloState
from sandbox.zalo.wire import ApiError

_DESCRIPTIONS = {
    400: "Bad Request: injected fault",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    429: "Too Many Requests: quota exceeded",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


class ZaloHold:
    """Calls of one method held unanswered until ``release()``; made by ``ZaloSandbox.hold``.

    A held call shows in ``calls()`` as under way (``http_status is None``). ``wait_held(n)``
    returns once ``n`` calls have been held (in all), so a test knows the bot is waiting on
    the platform without guessing how long that takes."""

    def __init__(self, method: str | None, bot_id: str | None) -> None:
        self.method = method.lower() if method is not None else None
        self.bot_id = bot_id
        self.held = 0  # calls held so far, released or not
        self._open = asyncio.Event()
        self._signal = _Signal()

    @property
    def released(self) -> bool:
        return self._open.is_set()

    def release(self) -> None:
        """Answer every held call now (as usual), and hold no more."""
        self._open.set()
        self._signal.notify()

    def covers(self, method: str, bot_id: str | None) -> bool:
        return (
            not self._open.is_set()
            and self.method in (None, method.lower())
            and self.bot_id in (None, bot_id)
        )

    async def hold(self) -> None:
        self.held += 1
        self._signal.notify()
        await self._open.wait()

    async def wait_held(self, count: int = 1, timeout: float = 30.0) -> None:  # noqa: ASYNC109
        """Return once ``count`` calls have been held; TimeoutError (and the hold released,
        so nothing stays stuck) if that has not happened within ``timeout`` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.held < count:
            remaining = deadline - loop.time()
            if remaining <= 0:
                self.release()
                raise TimeoutError(f"{self.held} call(s) held, waited for {count}")
            await self._signal.wait(remaining)


@dataclass
class _Fault:
    method: str | None  # lower-case; None = any method
    bot_id: str | None
    error_code: int
    http_status: int
    description: str
    remaining: int
    after_execute: bool


class ZaloFaults(ZaloState):
    """Faults, dropped connections, the outage switch and held calls."""

    def fail_next(
        self,
        method: str | None,
        count: int = 1,
        status: int = 500,
        *,
        http_status: int | None = None,
        description: str | None = None,
        after_execute: bool = False,
        bot: str | None = None,
    ) -> None:
        """Answer the next ``count`` calls of ``method`` (any spelling; None = any method; of
        ``bot`` only, by token or id, or of any bot) with ``error_code`` = ``status``.

        The HTTP status is ``status`` too, unless ``http_status`` says otherwise: pass 200 for
        an error only the envelope tells (``"ok": false``), as Zalo often answers. The call is
        not executed, unless ``after_execute``: then it takes effect (the message goes out,
        the quota counts it) and only the answer is lost."""
        bot_id = self._bot(bot).bot_id if bot is not None else None
        self._faults.append(
            _Fault(
                method=method.lower() if method is not None else None,
                bot_id=bot_id,
                error_code=status,
                http_status=status if http_status is None else http_status,
                description=description or _DESCRIPTIONS.get(status, "Error"),
                remaining=count,
                after_execute=after_execute,
            )
        )

    def drop_next(self, method: str | None = None, count: int = 1) -> None:
        """Close the connection without any answer for the next ``count`` calls of ``method``
        (None = any): a network drop. The call is not executed."""
        key = method.lower() if method is not None else None
        self._drops[key] = self._drops.get(key, 0) + count

    def set_outage(self, down: bool = True) -> None:
        """While down, every call (any bot, any method) answers HTTP 503 / error_code 503."""
        self._outage = down

    def hold(self, method: str | None, *, bot: str | None = None) -> ZaloHold:
        """Hold the calls of ``method`` (None = any; of ``bot`` only, or of any bot) until the
        returned hold is released. ``clear_faults()`` and ``stop()`` release every hold."""
        bot_id = self._bot(bot).bot_id if bot is not None else None
        hold = ZaloHold(method, bot_id)
        self._holds.append(hold)
        return hold

    def clear_faults(self) -> None:
        """Forget pending faults and drops, end the outage, release every hold."""
        self._faults.clear()
        self._drops.clear()
        self._outage = False
        for hold in self._holds:
            hold.release()
        self._holds.clear()

    # --- applied by api.py ----------------------------------------------------------------

    def _take_drop(self, method: str) -> bool:
        for key in (method.lower(), None):
            if self._drops.get(key, 0) > 0:
                self._drops[key] -= 1
                return True
        return False

    async def _apply_holds(self, method: str, bot_id: str | None) -> None:
        for hold in [h for h in self._holds if h.covers(method, bot_id)]:
            await hold.hold()
        self._holds = [h for h in self._holds if not h.released]

    def _take_fault(self, method: str, bot_id: str | None) -> _Fault | None:
        for fault in self._faults:
            if (
                fault.remaining > 0
                and fault.method in (None, method.lower())
                and fault.bot_id in (None, bot_id)
            ):
                fault.remaining -= 1
                return fault
        return None


def fault_error(fault: _Fault) -> ApiError:
    return ApiError(fault.error_code, fault.description, fault.http_status)
