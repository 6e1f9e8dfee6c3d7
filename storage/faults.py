"""Which errors are the store's passing faults, not the program's bugs.

A full disk, a lock held by another process, a read-only file, a lost connection, a pool
that gave up waiting: the database may work again in a minute, so whoever meets one of
these keeps the work (an update stays in the inbox) and tries again later. Anything else
(a constraint violated, a bug) is final for the work at hand.
"""

from __future__ import annotations

import errno
import sqlite3

import psycopg
import psycopg.errors

from storage.engine import StorageError

_DISK_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EIO, errno.EACCES})


def is_storage_fault(error: BaseException | None) -> bool:
    """Whether `error` (or what it was raised from) is a passing fault of the database."""
    seen = 0
    while error is not None and seen < 8:
        seen += 1
        if isinstance(error, psycopg.errors.PipelineAborted) or (
            isinstance(error, StorageError) and error.__cause__ is not None
        ):
            # Not the fault itself: what aborted the pipeline, or what the engine wrapped.
            error = error.__cause__ or error.__context__
            continue
        if isinstance(error, StorageError | sqlite3.OperationalError):
            return True
        if isinstance(error, psycopg.OperationalError | psycopg.InterfaceError):
            return True
        if isinstance(error, OSError) and error.errno in _DISK_ERRNOS:
            return True
        if isinstance(error, psycopg.Error | sqlite3.Error):
            return False  # the database refused this work (a constraint, a trigger): final
        error = error.__cause__ or error.__context__
    return False


def fault_reason(error: BaseException) -> str:
    """One line saying what went wrong (never a connection string: engines strip those)."""
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0]}" if text else type(error).__name__


def fault_kind(error: BaseException) -> str:
    """The fault's kind, for people: disk_full, locked, read_only, unreachable or other."""
    text = ""
    current: BaseException | None = error
    for _ in range(8):
        if current is None:
            break
        if isinstance(current, OSError) and current.errno in (errno.ENOSPC, errno.EDQUOT):
            return "disk_full"
        text += " " + str(current).lower()
        current = current.__cause__ or current.__context__
    if "full" in text or "no space" in text:
        return "disk_full"
    if any(word in text for word in ("lock", "timeout", "couldn't get a connection")):
        return "locked"
    if "readonly" in text or "read-only" in text or "read only" in text:
        return "read_only"
    if any(word in text for word in ("connect", "terminat", "closed", "shutdown", "reach")):
        return "unreachable"
    return "other"
