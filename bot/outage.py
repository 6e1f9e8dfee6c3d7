"""The store's fault state: a storage fault is a state the bot lives through, not a crash.

Whoever meets a passing fault of the database (`storage.faults.is_storage_fault`) reports it
here and keeps its work: the poller keeps the batch the channel sent and asks again, an event
whose handling failed stays in the inbox and is handled again. All of them wait the same
growing pause between attempts, so a locked or full database is probed a few times a second
at first, then every few seconds, never hammered.

The state starts with the first fault and ends with the first success of work that had
failed; listeners (the admins' messages) hear of each start and end once. It is kept in
the metrics and in a small state file that `fieldtally status` reads (the bot's own memory
is the only place that knows "since when" while the database cannot be written).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from bot.metrics import Metrics
from storage.faults import fault_kind, fault_reason

log = logging.getLogger(__name__)

FIRST_PAUSE = 0.25  # seconds before the first retry
LONGEST_PAUSE = 5.0  # seconds between retries during a long outage
STILL_FAILING_LOG_EVERY = 60.0  # seconds between log lines during a long outage
# The state file is written in place within this size (a full disk): room for ~6,000 ids.
STATE_FILE_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class OutageChange:
    """A start (`until` None) or an end of an outage, in epoch seconds."""

    kind: str
    since: float
    until: float | None = None


Listener = Callable[[OutageChange], Awaitable[None]]


class StoreOutage:
    def __init__(self, metrics: Metrics | None = None) -> None:
        self._metrics = metrics
        self._state_file: Path | None = None
        self._current: OutageChange | None = None
        self._answered: dict[str, list[str]] = {}  # per bot (its inbox's name)
        # Each inbox's answered events whose marks are not written yet: kept in the state
        # file from the moment an outage starts, so a process ended during it (a stop
        # that cannot wait) does not answer them again at the next start.
        self._unmarked: dict[str, Callable[[], list[str]]] = {}
        self.since: float | None = None
        self.kind = ""
        self.reason = ""
        self._failed: set[str] = set()  # inbox events whose last handling met a fault
        self._pause = FIRST_PAUSE
        self._grown_at = 0.0
        self._logged_at = 0.0
        self._listeners: list[Listener] = []
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def degraded(self) -> bool:
        return self.since is not None

    def track_unmarked(self, bot: str, answered: Callable[[], list[str]]) -> None:
        """`answered()`: the events of `bot` answered whose marks are not written yet."""
        self._unmarked[bot] = answered

    def listen(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def failed(self, error: BaseException, inbox_id: str | None = None) -> None:
        """Work met a storage fault (`inbox_id`: the update whose handling it was)."""
        if inbox_id is not None:
            self._failed.add(inbox_id)
        if self._metrics is not None:
            self._metrics.store_faults.inc()
        now = time.time()
        self.reason = fault_reason(error)
        if self.since is None:
            self.since, self.kind, self._logged_at = now, fault_kind(error), now
            self._pause, self._grown_at = FIRST_PAUSE, now
            log.warning("storage fault: %s; intake paused, retrying", self.reason)
            self._changed(OutageChange(self.kind, now))
        elif now - self._grown_at >= self._pause:  # one more round of failed attempts
            self._pause = min(self._pause * 2, LONGEST_PAUSE)
            self._grown_at = now
            if now - self._logged_at >= STILL_FAILING_LOG_EVERY:
                self._logged_at = now
                log.warning("storage still failing after %.0f s: %s", now - self.since, self.reason)

    def recovered(self) -> None:
        """Work that had failed has now succeeded: the outage, if any, is over."""
        if self.since is None:
            return
        since, now = self.since, time.time()
        self.since = None
        log.warning("storage works again after %.1f s; intake resumed", now - since)
        self._changed(OutageChange(self.kind, since, now))

    def keep_for_later(self, inbox_id: str) -> None:
        """An update left unfinished (the bot stops): it stays in the inbox."""
        self._failed.add(inbox_id)

    def has_failed(self, inbox_id: str) -> bool:
        return inbox_id in self._failed

    def forget(self, inbox_id: str) -> None:
        self._failed.discard(inbox_id)

    async def pause(self, stop: asyncio.Event | None) -> bool:
        """Wait before the next attempt; False if `stop` was set meanwhile (give up)."""
        if stop is None:
            await asyncio.sleep(self._pause)
            return True
        if stop.is_set():
            return False
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=self._pause)
        return not stop.is_set()

    async def settled(self) -> None:
        """Wait until the listeners have heard every change so far (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def _changed(self, change: OutageChange) -> None:
        if self._metrics is not None:
            self._metrics.store_degraded.set(0 if change.until is not None else 1)
            self._metrics.store_degraded_since.set(0 if change.until is not None else change.since)
        self._current = change if change.until is None else None
        self._write_state()
        for listener in self._listeners:
            task = asyncio.get_running_loop().create_task(self._tell(listener, change))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _tell(self, listener: Listener, change: OutageChange) -> None:
        try:
            await listener(change)
        except Exception as error:  # a listener's failure must not stop the intake
            log.warning("telling of a storage outage failed: %s", fault_reason(error))

    # -- the state file, for `fieldtally status` ------------------------------------------------

    def keep_state_in(self, path: Path) -> None:
        """The running bot's state file; allocated now: rewriting it in place later needs no
        free space."""
        self._state_file = path
        try:
            self._state_file.parent.mkdir(parents=True, exist_ok=True)
            self._write_state()
        except OSError as error:
            log.warning("cannot write %s (%s): status will not show outages", path, error)
            self._state_file = None

    def answered_unmarked(self, inbox_ids: list[str], bot: str = "") -> None:
        """Events of `bot` answered whose done-marks the database cannot take now: kept in
        the state file, so that after a restart they are not handled, and answered, a second
        time (each bot's inbox keeps its own list: event ids mean something to one bot)."""
        if inbox_ids != self._answered.get(bot, []):
            if inbox_ids:
                self._answered[bot] = list(inbox_ids)
            else:
                self._answered.pop(bot, None)
            self._write_state()

    def _write_state(self) -> None:
        if self._state_file is None:
            return
        current = self._current
        state: dict[str, object] = {
            "pid": os.getpid(),
            "degraded": current is not None,
            "since": None if current is None else current.since,
            "kind": None if current is None else current.kind,
            "answered": [],
        }
        room = STATE_FILE_BYTES - len(json.dumps(state)) - 1
        kept = {bot: list(ids) for bot, ids in self._answered.items()}
        if current is not None:
            for bot, answered in self._unmarked.items():
                kept[bot] = list(dict.fromkeys([*kept.get(bot, []), *answered()]))
            kept = {bot: ids for bot, ids in kept.items() if ids}
        if len(json.dumps(kept)) > room:  # only the oldest fit: the others may be answered twice
            log.warning("too many unmarked updates for %s", self._state_file)
            while len(json.dumps(kept)) > room:
                longest = max(kept, key=lambda bot: len(kept[bot]))
                kept[longest].pop()
        state["answered"] = kept
        line = json.dumps(state).ljust(STATE_FILE_BYTES - 1) + "\n"
        try:
            fd = os.open(self._state_file, os.O_WRONLY | os.O_CREAT, 0o600)
            try:
                os.pwrite(fd, line.encode(), 0)
            finally:
                os.close(fd)
        except OSError as error:
            log.warning("cannot write %s: %s", self._state_file, error)

    def close(self) -> None:
        """The bot stops: the state file goes, unless it holds answered, unmarked updates."""
        if self._state_file is None:
            return
        if self._answered or self._current is not None:
            # For the next start: what it must not answer again, and an outage to report
            # as over once the database works.
            self._write_state()
            return
        with contextlib.suppress(OSError):
            self._state_file.unlink()


def answered_before(path: Path, bot: str = "") -> list[str]:
    """At start: the events of `bot` an earlier run answered but could not mark done (see
    `StoreOutage.answered_unmarked`)."""
    try:
        state = json.loads(path.read_text())
    except (OSError, ValueError):
        return []
    answered = state.get("answered") if isinstance(state, dict) else None
    # A file of a release with one bot per process holds a list: that bot's event ids.
    ids = answered.get(bot) if isinstance(answered, dict) else answered
    # Event ids; a file from before schema 6 held integers: the same ids, as text now.
    if not isinstance(ids, list):
        return []
    return [str(i) for i in ids if isinstance(i, str | int) and not isinstance(i, bool)]


def read_state_file(path: Path, *, alive_only: bool = True) -> dict[str, object] | None:
    """What a running bot wrote (None: no bot, or it has stopped or died; with
    `alive_only=False`, what the last one wrote whatever became of it)."""
    try:
        state = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(state, dict):
        return None
    if not alive_only:
        return state
    pid = state.get("pid")
    if not isinstance(pid, int):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass  # alive, another user's
    return state if isinstance(state, dict) else None


def status_facts(path: Path, tz: dt.tzinfo) -> dict[str, object]:
    """For `fieldtally status`: whether a running bot is paused by a storage fault, since
    when (ISO 8601 in `tz`) and of what kind; all None when no bot runs here."""
    state = read_state_file(path)
    if state is None:
        return {"bot_running": False, "degraded": None, "degraded_since": None, "fault": None}
    since = state.get("since")
    moment = (
        dt.datetime.fromtimestamp(since, tz).isoformat(timespec="seconds")
        if isinstance(since, int | float)
        else None
    )
    return {
        "bot_running": True,
        "degraded": bool(state.get("degraded")),
        "degraded_since": moment,
        "fault": state.get("kind"),
    }
