"""How Bot API calls travel over HTTP: decoding a request's parameters into their Bot API
types (``_Request``), the error answer (``ApiError``) and the JSON answers, as Telegram sends
them. No state and no behaviour of any method: `bot_api.py` uses these to answer calls.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from sandbox.models import JSONDict, Upload

_TOKEN_RE = re.compile(r"^[0-9]{1,20}:[A-Za-z0-9_-]{1,64}$")

# How form/query values are decoded. PTB sends every parameter as a form field whose value is
# the plain string for str values and json.dumps(value) for anything else, so the server has to
# know each parameter's type, like Telegram does.
_JSON_PARAMS = frozenset(
    {
        "reply_markup", "reply_parameters", "entities", "caption_entities", "commands",
        "scope", "allowed_updates", "link_preview_options", "media", "results",
        "message_ids", "reaction", "permissions", "menu_button", "rights",
    }
)  # fmt: skip
_INT_PARAMS = frozenset(
    {
        "message_id", "offset", "limit", "user_id", "reply_to_message_id",
        "message_thread_id", "cache_time", "max_connections", "until_date", "width", "height",
        "duration",
    }
)  # fmt: skip
_FLOAT_PARAMS = frozenset({"timeout"})
_CHAT_ID_PARAMS = frozenset({"chat_id", "from_chat_id"})
_BOOL_PARAMS = frozenset(
    {
        "disable_notification", "protect_content", "show_alert", "drop_pending_updates",
        "allow_sending_without_reply", "disable_web_page_preview", "has_spoiler",
        "disable_content_type_detection", "show_caption_above_media", "allow_paid_broadcast",
        "is_personal",
    }
)  # fmt: skip


class ApiError(Exception):
    """An error answer of the Bot API: HTTP status, description, optional ``parameters``."""

    def __init__(self, status: int, description: str, parameters: JSONDict | None = None):
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters


def _bad(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


_dumps = functools.partial(json.dumps, ensure_ascii=False)


def _ok_response(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result}, dumps=_dumps)


def _error_response(error: ApiError) -> web.Response:
    body: JSONDict = {"ok": False, "error_code": error.status, "description": error.description}
    if error.parameters:
        body["parameters"] = error.parameters
    return web.json_response(body, status=error.status, dumps=_dumps)


@dataclass
class _Request:
    """A decoded API request: typed parameters plus uploaded file parts."""

    method: str
    params: JSONDict
    files: dict[str, Upload]

    def get(self, name: str) -> Any:
        return self.params.get(name)

    def require(self, name: str) -> Any:
        value = self.params.get(name)
        if value is None or value == "":
            raise _bad(f"{name} is empty")
        return value

    def str_(self, name: str) -> str | None:
        value = self.params.get(name)
        if value is None:
            return None
        if not isinstance(value, str):
            raise _bad(f"{name} must be a string")
        return value

    def int_(self, name: str, default: int | None = None) -> int | None:
        value = self.params.get(name, default)
        if value is None or (isinstance(value, int) and not isinstance(value, bool)):
            return value
        raise _bad(f"invalid {name} specified")

    def bool_(self, name: str) -> bool:
        return bool(self.params.get(name, False))


async def _read_params(request: web.Request) -> tuple[JSONDict, dict[str, Upload]]:
    """Decode query string + body (urlencoded, multipart or JSON) into typed parameters."""
    raw: dict[str, Any] = dict(request.query)
    files: dict[str, Upload] = {}
    if request.can_read_body:
        content_type = request.content_type
        if content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise _bad("can't parse JSON encoded request body") from None
            if not isinstance(body, dict):
                raise _bad("request body must be a JSON object")
            raw.update(body)
        elif content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    files[key] = Upload(value.file.read(), value.filename, value.content_type)
                elif isinstance(value, bytes | bytearray):
                    raw[key] = bytes(value).decode("utf-8", "replace")
                else:
                    raw[key] = value
    return {key: _coerce(key, value) for key, value in raw.items()}, files


def _coerce(name: str, value: Any) -> Any:
    """Turn a form/query string into the parameter's Bot API type (JSON bodies pass mostly
    untouched: their values are typed already)."""
    if not isinstance(value, str):
        return value
    try:
        if name in _JSON_PARAMS:
            return json.loads(value)
        if name in _CHAT_ID_PARAMS:
            return int(value) if re.fullmatch(r"-?[0-9]+", value) else value
        if name in _INT_PARAMS:
            return int(value)
        if name in _FLOAT_PARAMS:
            return float(value)
    except ValueError:
        if name == "reply_markup":
            raise _bad("can't parse reply keyboard markup JSON object") from None
        raise _bad(f"can't parse {name}") from None
    if name in _BOOL_PARAMS:
        lowered = value.lower()
        if lowered in ("true", "1"):
            return True
        if lowered in ("false", "0", ""):
            return False
        raise _bad(f"can't parse {name}")
    return value
