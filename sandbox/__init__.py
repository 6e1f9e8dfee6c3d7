"""Local Bot-API-compatible sandbox: a fake api.telegram.org for end-to-end tests and demos."""

from sandbox.models import ApiCall, OutgoingRecord, SimUser, StoredFile, Upload, WebhookDelivery
from sandbox.server import AnswerHold, ApiError, BotApiSandbox

__all__ = [
    "AnswerHold",
    "ApiCall",
    "ApiError",
    "BotApiSandbox",
    "OutgoingRecord",
    "SimUser",
    "StoredFile",
    "Upload",
    "WebhookDelivery",
]
