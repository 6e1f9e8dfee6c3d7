"""What was said during the drill, in order (``Conversation``, one ``Line`` each): what people
send and what the bot sends (the sandbox's listener), with each chat's answers for whoever
waits on them; and how an answer is matched against what the script expects.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from fieldtally.demo.constants import ANY, DOCUMENT, PHOTO, TZ
from sandbox import OutgoingRecord


@dataclass(frozen=True, slots=True)
class Line:
    """One line of the transcript."""

    at: dt.datetime
    who: str
    text: str


class Conversation:
    """Everything said, in order: what people send (logged as sent) and what the bot sends
    (the sandbox's listener). Also each chat's answers, for whoever waits on them."""

    def __init__(self, labels: dict[int, str]) -> None:
        self.lines: list[Line] = []
        self.labels = labels
        self.answers: dict[int, list[OutgoingRecord]] = {}
        self._signals: dict[int, asyncio.Event] = {}
        self.photo_names: dict[int, str] = {}  # record seq -> file name
        self._charts_in_chat: dict[int, int] = {}

    def said(self, moment: dt.datetime, who: str, text: str) -> None:
        self.lines.append(Line(moment, who, text))

    def on_record(self, token: str, record: OutgoingRecord) -> None:
        self.answers.setdefault(record.chat_id, []).append(record)
        signal = self._signals.get(record.chat_id)
        if signal is not None:
            signal.set()
        where = self.labels.get(record.chat_id, str(record.chat_id))
        moment = record.time.astimezone(TZ)
        text = record.plain_text or ""
        if text.startswith("📊"):
            self._charts_in_chat[record.chat_id] = 0
        if record.photo is not None:
            number = self._charts_in_chat.get(record.chat_id, 0) + 1
            self._charts_in_chat[record.chat_id] = number
            chat = "group" if record.chat_id < 0 else "admin"
            name = f"chart-{len(self.photo_names) + 1:02d}-{moment:%H%M}-{chat}-{number}.png"
            self.photo_names[record.seq] = name
            text = f"[photo {name}] {text}".rstrip()
        elif record.document is not None:
            text = f"[document {record.document.filename}] {text}".rstrip()
        elif record.method != "sendMessage":
            text = f"[{record.method}] {text}".rstrip()
        self.said(moment, f"bot → {where}", text)

    async def answers_in(
        self,
        chat_id: int,
        since: int,
        count: int,
        timeout: float,  # noqa: ASYNC109 -- a deadline per call reads best here
        accept: Callable[[OutgoingRecord], bool] = lambda _: True,
    ) -> list[OutgoingRecord]:
        """The first `count` accepted answers in the chat from its `since`-th on; TimeoutError
        when they have not all come within `timeout` real seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            records = [r for r in self.answers.get(chat_id, [])[since:] if accept(r)]
            if len(records) >= count:
                return records[:count]
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError
            signal = self._signals.setdefault(chat_id, asyncio.Event())
            signal.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(signal.wait(), remaining)


def _quoted(record: OutgoingRecord) -> int | None:
    """The message an answer quotes, if it quotes one."""
    reply = record.reply_parameters or {}
    message_id = reply.get("message_id", record.params.get("reply_to_message_id"))
    return message_id if isinstance(message_id, int) else None


def _matches(record: OutgoingRecord, expected: str) -> bool:
    if expected == PHOTO:
        return record.photo is not None
    if expected == DOCUMENT:
        return record.document is not None
    text = record.plain_text or ""
    return (
        record.photo is None
        and record.document is None
        and (expected == ANY or text.startswith(expected))
    )
