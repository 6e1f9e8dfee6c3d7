"""Logging set-up that can never print the bot token, as text lines or as JSON lines.

httpx logs every request URL at INFO, and Telegram URLs contain the token: httpx and
httpcore are held at WARNING, and every record is scrubbed of the token as a second line
of defence (exception texts included). With FIELDTALLY_LOG_FORMAT=json each record is one
JSON object per line, for a log collector; the scrubbing applies to the finished line, so a
secret passed in an `extra` field is caught too.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from typing import Any, TextIO

QUIET_LOGGERS = ("httpx", "httpcore", "apscheduler", "aiosqlite")
REDACTED = "<token>"
# Attributes every LogRecord has; anything else on a record came from `extra`.
_STANDARD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", logging.INFO, "", 0, "", None, None)))
_STANDARD_ATTRIBUTES |= {"message", "asctime"}


class RedactSecrets(logging.Filter):
    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self._secrets = [s for s in secrets if s]

    def scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._secrets:
            return True
        record.msg = self.scrub(record.getMessage())
        record.args = None
        if record.exc_info:
            record.exc_text = self.scrub(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        if record.stack_info:
            record.stack_info = self.scrub(record.stack_info)
        return True


class JsonLines(logging.Formatter):
    """One JSON object per record: ts (ISO 8601, UTC), level, logger, message, exception and
    stack when present, and the record's `extra` fields."""

    def format(self, record: logging.LogRecord) -> str:
        moment = dt.datetime.fromtimestamp(record.created, dt.UTC)
        entry: dict[str, Any] = {
            "ts": moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRIBUTES and key not in entry:
                entry[key] = value
        return json.dumps(entry, ensure_ascii=False, default=str)


class _ScrubbedHandler(logging.StreamHandler[TextIO]):
    """Scrubs the finished line: whatever the formatter added (extra fields) is covered."""

    def __init__(self, stream: TextIO, redact: RedactSecrets) -> None:
        super().__init__(stream)
        self._redact = redact
        self.addFilter(redact)

    def format(self, record: logging.LogRecord) -> str:
        return self._redact.scrub(super().format(record))


def _log_uncaught(kind: type[BaseException], error: BaseException, tb: Any) -> None:
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, error, tb)
        return
    logging.getLogger("fieldtally").critical("stopped by an error", exc_info=(kind, error, tb))


def setup_logging(
    level: int = logging.INFO,
    secrets: list[str] | None = None,
    *,
    json_lines: bool = False,
    stream: TextIO | None = None,
) -> None:
    handler = _ScrubbedHandler(stream or sys.stderr, RedactSecrets(secrets or []))
    if json_lines:
        handler.setFormatter(JsonLines())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    # A traceback nobody caught goes through the same scrubbing (a library's exception text
    # may hold the token, as python-telegram-bot's InvalidToken does).
    sys.excepthook = _log_uncaught
    root.setLevel(level)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
