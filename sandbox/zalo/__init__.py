"""A local Zalo-Bot-Platform-compatible server for the Zalo end-to-end tests and the offline
drill, as ``sandbox`` is for Telegram: an aiohttp app on a loopback port that answers
``POST /bot{token}/{method}`` as bot-api.zaloplatforms.com does, plus a driver API that plays
Zalo's users and shows what the bots did. Nothing leaves loopback.

The API (what a bot sees)
    Answers ``{"ok": true, "result": ...}``, or ``{"ok": false, "error_code": N,
    "description": ...}`` with HTTP 200 as Zalo does, except quota (HTTP 429) and server
    trouble (HTTP 5xx), which carry their status too. Tokens are ``<numeric bot id>:<secret>``;
    an unknown one → error_code 401. Methods (JSON body; a GET's query is read too):

    - ``getMe`` → ``{"id", "account_name", "account_type", "can_join_groups"}``
    - ``getUpdates`` (``timeout`` seconds, number or string) → ONE bare event, or error 408
      after the timeout; no offsets. Error 409 while a webhook is set.
    - ``setWebhook`` (``url``: https, or http on loopback; ``secret_token``: 8–256
      characters) → ``{"url", "updated_at"}``; ``deleteWebhook`` → ``{"url": "",
      "updated_at"}``; ``getWebhookInfo`` → ``{"url", "updated_at"}`` (ms).
    - ``sendMessage`` (``chat_id``, ``text`` ≤ 2000 UTF-16 units, else error 400) and
      ``sendPhoto`` (``chat_id``, ``photo`` = a URL the sandbox FETCHES at once, ``caption``;
      a failed fetch → error 400) → ``{"message_id", "date"}``; each success counts against
      the bot's monthly quota; once spent every send → HTTP 429 / error_code 429.
      A chat the bot may write to: a person who wrote to it in private, or its group;
      another → error 400 "chat not found". Ids are strings: a number → error 400.
    - ``sendChatAction`` (``chat_id``, ``action``: typing | upload_photo) → ``true``; free.

Events (``ZaloUpdate``: ``{"event_name", "message": {"from": {"id", "display_name",
"is_bot"}, "chat": {"id", "chat_type": "PRIVATE"|"GROUP"}, "message_id", "date" (ms), ...}}``)
    ``message.text.received`` (``text``), ``message.image.received`` (``photo``: its URL,
    ``caption``), ``message.sticker.received`` (``sticker``: its id, ``url``),
    ``message.unsupported.received``. Ids are strings. With no webhook an event waits for the
    next getUpdates; with ``lose_unpolled=True`` (sandbox or bot) what arrives while no
    getUpdates is under way is lost, as on the real platform. With a webhook, each event is
    POSTed with ``X-Bot-Api-Secret-Token``, wrapped (``{"ok": true, "result": ...}``) or bare
    as the driver chose; a chat's events in order; a non-2xx answer (or none) is retried up
    to ``WEBHOOK_ATTEMPTS`` times in all, then the event is given up.

The driver (``ZaloSandbox``; a bot is named by token or id, a person by the test's key, a
chat by a person's key, a group's key or a chat id). Stable since "Zalo sandbox ready:";
only additions after it.
    lifecycle       ``async with ZaloSandbox(clock=..., lose_unpolled=False) as zs``;
                    ``start()``, ``stop()``, ``url`` (= ZALO_API_URL), ``port``;
                    ``python -m sandbox.zalo --port N`` by hand
    bots            ``add_bot(account_name=None, *, bot_id=None, secret=None,
                    can_join_groups=False, quota=3000, account_type="BASIC",
                    lose_unpolled=None) -> (token, bot_id)``; ``bot_profile(bot)``
    people, groups  ``add_user(bot, user, display_name=None) -> user id``;
                    ``user_id(bot, user)`` (differs per bot); ``add_group(bot, group) -> chat
                    id`` (ValueError without can_join_groups); ``group_id(bot, group)``
    people write    ``user_says(bot, user, text) -> message_id``; ``user_sends_image(bot,
                    user, url, caption=None)``; ``user_sends_sticker(bot, user)``;
                    ``user_sends_unsupported(bot, user)``; ``group_says(bot, group, user,
                    text, mention=True)`` (text arrives as ``"@<account_name> <text>"``;
                    without mention the bot gets nothing); all take ``date=`` (aware) and
                    ``deliver=False`` (made, not sent); ``redeliver(bot, message_id)``
                    (a duplicate: same event again)
    webhook         ``set_webhook_form(bot, "wrapped"|"bare")``; ``webhook_url(bot)``;
                    ``await post_to_webhook(bot, message_id=None, *, secret=..., form=None,
                    body=None, url=None) -> WebhookDelivery`` (one POST, no retry: a wrong
                    secret, none (``secret=None``), a non-JSON body, another path);
                    ``route_webhook(public_url, local_url)`` (https URLs served locally)
    what happened   ``events(bot)``, ``pending_events(bot)``, ``sent_messages(bot,
                    chat=None)``, ``sent_photos(bot, chat=None)`` (with the fetched bytes),
                    ``photo_fetches(bot)``, ``chat_actions(bot)``, ``webhook_deliveries(bot)``,
                    ``calls(method=None, *, bot=None)``, ``quota_used(bot)``,
                    ``next_seq(bot)``, ``add_listener(fn)``
    waiting         ``await messages_to(bot, chat, count=1, *, since=0)``, ``await
                    photos_to(...)``, ``await wait_for_delivery(bot, predicate=None, *,
                    count=1)``, ``await wait_for_call(method, predicate=None, *, bot=None)``,
                    ``await wait_taken(bot, message_id=None) -> ZaloEvent`` (the event reached
                    the bot: polled, or its webhook answered 2xx): on events; ``timeout`` is
                    only a guard against a hang
    quota           ``set_quota(bot, n)``, ``reset_quota(bot)``, ``quota_used(bot)``
    faults          ``fail_next(method, count=1, status=500, *, http_status=None,
                    after_execute=False, bot=None)`` (429 on demand too; ``http_status=200``:
                    only the envelope tells); ``drop_next(method=None, count=1)`` (network
                    drop); ``set_outage(True/False)`` (every call 503); ``hold(method, *,
                    bot=None) -> ZaloHold`` (``await hold.wait_held(n)``, ``hold.release()``);
                    ``clear_faults()``

What could not be confirmed from public sources, and what the sandbox does instead:
    - how a mention looks in a group message's text: ``"@<account_name> "`` is put in front;
    - getMe's exact fields beyond id/account_name/account_type/can_join_groups (a
      ``display_name`` may exist: not sent);
    - the error codes and descriptions of each refusal (text too long, chat not found, a
      photo URL that cannot be fetched, getUpdates while a webhook is set: 400/400/400/409
      here), and the HTTP status of ordinary errors (200 here);
    - setWebhook/deleteWebhook/getWebhookInfo results beyond ``url`` and ``updated_at``, and
      sendChatAction's result (``true`` here);
    - the webhook's retry policy (here: ``WEBHOOK_ATTEMPTS`` tries, a short growing pause);
    - the size limit of a photo (here 10 MB) and whether its content type is checked (here:
      it must be ``image/*``);
    - event fields confirmed by SDKs (python-zalo-bot, go-zalo-bot, zalo-bot-java-sdk):
      ``photo`` as a URL string, ``sticker`` as an id with ``url``; the real platform may add
      fields the sandbox does not send.
"""

from sandbox.zalo.faults import ZaloHold
from sandbox.zalo.models import (
    ApiCall,
    ChatAction,
    PhotoFetch,
    SentMessage,
    SentPhoto,
    WebhookDelivery,
    ZaloEvent,
)
from sandbox.zalo.server import DEFAULT_WAIT, ZaloSandbox
from sandbox.zalo.webhooks import SECRET_HEADER, WEBHOOK_ATTEMPTS
from sandbox.zalo.wire import MAX_TEXT, ZaloUpdate

__all__ = [
    "DEFAULT_WAIT",
    "MAX_TEXT",
    "SECRET_HEADER",
    "WEBHOOK_ATTEMPTS",
    "ApiCall",
    "ChatAction",
    "PhotoFetch",
    "SentMessage",
    "SentPhoto",
    "WebhookDelivery",
    "ZaloEvent",
    "ZaloHold",
    "ZaloSandbox",
    "ZaloUpdate",
]
