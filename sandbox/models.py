"""Plain records the sandbox hands to tests: simulated people, stored files, and logs of what a
bot did (API calls, messages sent or edited) and of webhook deliveries to it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ApiCall", "OutgoingRecord", "SimUser", "StoredFile", "Upload", "WebhookDelivery"]

JSONDict = dict[str, Any]


@dataclass(frozen=True)
class SimUser:
    """A simulated Telegram user. Their private chat with any bot has ``chat_id == id``."""

    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None

    def to_dict(self) -> JSONDict:
        """The Bot API ``User`` object (optional fields left out when unset, as Telegram does)."""
        data: JSONDict = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name is not None:
            data["last_name"] = self.last_name
        if self.username is not None:
            data["username"] = self.username
        if self.language_code is not None:
            data["language_code"] = self.language_code
        return data

    def private_chat(self) -> JSONDict:
        """The Bot API ``Chat`` object of this user's private chat with a bot."""
        data: JSONDict = {"id": self.id, "type": "private", "first_name": self.first_name}
        if self.last_name is not None:
            data["last_name"] = self.last_name
        if self.username is not None:
            data["username"] = self.username
        return data


@dataclass(frozen=True)
class StoredFile:
    """A file known to the sandbox: uploaded by a bot or sent by a simulated user."""

    file_id: str
    file_unique_id: str
    file_path: str
    kind: str  # "document" or "photo": decides the shape of the Message field
    content: bytes = field(repr=False)
    filename: str | None = None
    mime_type: str | None = None
    width: int | None = None  # photos only
    height: int | None = None

    @property
    def size(self) -> int:
        return len(self.content)

    def document_dict(self) -> JSONDict:
        """The Bot API ``Document`` object."""
        data: JSONDict = {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.size,
        }
        if self.filename is not None:
            data["file_name"] = self.filename
        if self.mime_type is not None:
            data["mime_type"] = self.mime_type
        return data

    def photo_sizes(self) -> list[JSONDict]:
        """The Bot API ``PhotoSize`` array. The sandbox keeps one size: the uploaded image."""
        return [
            {
                "file_id": self.file_id,
                "file_unique_id": self.file_unique_id,
                "file_size": self.size,
                "width": self.width or 0,
                "height": self.height or 0,
            }
        ]

    def file_dict(self) -> JSONDict:
        """The Bot API ``File`` object returned by getFile."""
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.size,
            "file_path": self.file_path,
        }


@dataclass(frozen=True)
class Upload:
    """One file part of a multipart request, as the bot sent it."""

    content: bytes = field(repr=False)
    filename: str | None
    content_type: str | None

    @property
    def size(self) -> int:
        return len(self.content)


@dataclass
class ApiCall:
    """One HTTP call a bot made to the sandbox, with its parameters decoded to Python values.

    ``status`` and ``description`` are filled in when the answer is sent, so a long-polling
    getUpdates shows ``status=None`` while it waits; ``status=0`` means the connection was
    dropped on purpose (``drop_connections``) and no answer was sent.
    """

    seq: int
    method: str  # canonical spelling, e.g. "sendMessage", even if the URL said "sendmessage"
    params: JSONDict
    files: dict[str, Upload]  # multipart parts that carried a file, by part name
    http_method: str
    time: dt.datetime
    status: int | None = None
    description: str | None = None  # error description when status != 200


@dataclass(frozen=True)
class WebhookDelivery:
    """One attempt to POST an update to a bot's webhook.

    ``status`` is the HTTP status the webhook answered, or None when there was no answer
    (connection refused or reset, timeout, no route); ``error`` is then what getWebhookInfo
    shows as ``last_error_message``. Only a 2xx removes the update from the bot's queue.
    """

    update_id: int
    url: str  # the public URL given to setWebhook
    status: int | None
    error: str | None
    time: dt.datetime

    @property
    def delivered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass(frozen=True)
class OutgoingRecord:
    """Something a bot did to a chat: a message sent, edited or deleted.

    ``text`` is exactly what the bot sent (markup included when a parse_mode was used);
    ``message`` is the Message object the sandbox answered with (None for deleteMessage and for
    edits of inline messages), where ``text``/``caption`` are the plain text Telegram would show.
    """

    seq: int
    method: str
    chat_id: int
    message_id: int | None
    time: dt.datetime
    text: str | None = None
    caption: str | None = None
    parse_mode: str | None = None
    reply_markup: JSONDict | None = None
    reply_parameters: JSONDict | None = None
    document: StoredFile | None = None
    photo: StoredFile | None = None
    params: JSONDict = field(default_factory=dict, repr=False)
    message: JSONDict | None = field(default=None, repr=False)

    @property
    def plain_text(self) -> str | None:
        """Text (or caption) as the user would read it, i.e. with markup removed."""
        if self.message is not None:
            value = self.message.get("text", self.message.get("caption"))
            if isinstance(value, str):
                return value
        return self.text if self.text is not None else self.caption

    def button_rows(self) -> list[list[JSONDict]]:
        """Buttons of the attached keyboard (inline or reply), row by row; [] if none."""
        if not self.reply_markup:
            return []
        rows = self.reply_markup.get("inline_keyboard") or self.reply_markup.get("keyboard")
        if not isinstance(rows, list):
            return []
        return [
            [b if isinstance(b, dict) else {"text": str(b)} for b in row]
            for row in rows
            if isinstance(row, list)
        ]

    def summary(self) -> str:
        """One line for error messages: what was sent where."""
        body = self.text if self.text is not None else self.caption
        if self.document is not None:
            body = f"[document {self.document.filename!r}, {self.document.size} B] {body or ''}"
        elif self.photo is not None:
            body = f"[photo {self.photo.size} B] {body or ''}"
        shown = (body or "").replace("\n", "\\n")
        if len(shown) > 120:
            shown = shown[:117] + "..."
        return f"#{self.seq} {self.method} chat={self.chat_id} msg={self.message_id}: {shown}"
