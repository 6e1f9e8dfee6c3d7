"""The Zalo Bot API on the wire: the events the platform sends (pydantic models, dumped with
the platform's field names), the parameters of each method the sandbox answers (pydantic,
validated as the platform would refuse them), and the answer envelopes
``{"ok": true, "result": ...}`` / ``{"ok": false, "error_code": N, "description": ...}``."""

from __future__ import annotations

import functools
import json
import re
from typing import Any, Literal, TypeVar

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sandbox.zalo.models import JSONDict

EventName = Literal[
    "message.text.received",
    "message.image.received",
    "message.sticker.received",
    "message.unsupported.received",
]
TEXT_EVENT: EventName = "message.text.received"
IMAGE_EVENT: EventName = "message.image.received"
STICKER_EVENT: EventName = "message.sticker.received"
UNSUPPORTED_EVENT: EventName = "message.unsupported.received"

MAX_TEXT = 2000  # UTF-16 code units, sendMessage's text and sendPhoto's caption
CHAT_ACTIONS = frozenset({"typing", "upload_photo"})
TOKEN_RE = re.compile(r"^(\d+):([A-Za-z0-9_-]+)$")

_dumps = functools.partial(json.dumps, ensure_ascii=False)


class ApiError(Exception):
    """An error answer. Zalo answers most errors with HTTP 200 and ``"ok": false``; quota
    (429) and server trouble (5xx) also carry that HTTP status."""

    def __init__(self, error_code: int, description: str, http_status: int = 200) -> None:
        super().__init__(f"{error_code} {description}")
        self.error_code = error_code
        self.description = description
        self.http_status = http_status


def bad_request(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


def check_text(text: str, what: str = "text", *, empty_ok: bool = False) -> None:
    """Refuse a text the platform would: empty (unless ``empty_ok``), or longer than
    ``MAX_TEXT`` UTF-16 code units (an emoji outside the BMP counts twice)."""
    if not text and not empty_ok:
        raise bad_request(f"{what} is empty")
    if len(text.encode("utf-16-le")) // 2 > MAX_TEXT:
        raise bad_request(f"{what} is too long (more than {MAX_TEXT} characters)")


def ok_response(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result}, dumps=_dumps)


def error_response(error: ApiError) -> web.Response:
    body = {"ok": False, "error_code": error.error_code, "description": error.description}
    return web.json_response(body, status=error.http_status, dumps=_dumps)


# --- events -------------------------------------------------------------------------------


class _Wire(BaseModel):
    model_config = ConfigDict(populate_by_name=True, frozen=True)

    def to_json(self) -> JSONDict:
        return self.model_dump(by_alias=True, exclude_none=True)


class ZaloUser(_Wire):
    """``message.from``: the sender. Its id is only meaningful to one bot."""

    id: str
    display_name: str
    is_bot: bool = False


class ZaloChat(_Wire):
    """``message.chat``: the user's own id for a private chat, the group's id for a group."""

    id: str
    chat_type: Literal["PRIVATE", "GROUP"]


class ZaloMessage(_Wire):
    """``message``: text for a text event; ``photo`` (a URL) and ``caption`` for an image;
    ``sticker`` (its id) and ``url`` for a sticker; nothing more for an unsupported one."""

    sender: ZaloUser = Field(alias="from")
    chat: ZaloChat
    message_id: str
    date: int  # milliseconds since the epoch
    text: str | None = None
    photo: str | None = None
    caption: str | None = None
    sticker: str | None = None
    url: str | None = None


class ZaloUpdate(_Wire):
    """One event, bare: what getUpdates returns as ``result``; a webhook gets it bare or
    wrapped in ``{"ok": true, "result": ...}``."""

    event_name: EventName
    message: ZaloMessage


def webhook_body(update: JSONDict, form: Literal["wrapped", "bare"]) -> bytes:
    payload = {"ok": True, "result": update} if form == "wrapped" else update
    return _dumps(payload).encode()


# --- method parameters --------------------------------------------------------------------


class _Params(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


_P = TypeVar("_P", bound=_Params)


class GetUpdatesParams(_Params):
    # Clients send it as a number or as a string ("30"): both are taken.
    timeout: float = Field(default=30.0, ge=0, le=3600)


class SetWebhookParams(_Params):
    url: str = Field(min_length=1)
    secret_token: str = Field(min_length=8, max_length=256)


class SendMessageParams(_Params):
    chat_id: str = Field(min_length=1)
    text: str


class SendPhotoParams(_Params):
    chat_id: str = Field(min_length=1)
    photo: str = Field(min_length=1)
    caption: str | None = None


class SendChatActionParams(_Params):
    chat_id: str = Field(min_length=1)
    action: str


def parse_params(model: type[_P], params: JSONDict) -> _P:
    """The method's parameters, or a 400 naming the first field the platform would refuse."""
    try:
        return model.model_validate(params)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "body"
        raise bad_request(f"{where}: {first['msg']}") from None


async def read_params(request: web.Request) -> JSONDict:
    """A call's parameters: the JSON body of a POST (empty body: none), else the query."""
    if request.method == "POST" and request.can_read_body:
        raw = await request.read()
        if raw.strip():
            try:
                data = json.loads(raw)
            except (UnicodeDecodeError, json.JSONDecodeError):
                raise bad_request("the body is not JSON") from None
            if not isinstance(data, dict):
                raise bad_request("the body must be a JSON object")
            return data
    return dict(request.query)
