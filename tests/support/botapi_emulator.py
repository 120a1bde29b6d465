"""In-process fake of the Telegram Bot API for end-to-end tests.

The emulator is a real HTTP server, so the bot under test runs its unmodified aiogram
stack (session, serialisation, error mapping, polling loop) and only the base URL
changes::

    async with BotAPIEmulator() as api:
        bot = Bot(TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(api.base_url)))
        api.send_message(FakeUser(id=1, first_name="Ann"), "/start")
        call = await api.wait_for_message(1, contains="Welcome")

Flow tests skip HTTP altogether: ``call_api`` is the whole per-call logic (token
check, faults, dispatch, recording) and works without ``start()``; see
``tests/support/flow.py``.

Deliberate simplifications: one update queue shared by every token talking to the
same emulator, no file downloads, ``parse_mode`` is rendered for HTML only
(Markdown text is stored verbatim), and any positive chat id is treated as a private
chat the bot may write to.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import json
import logging
import mimetypes
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from html.parser import HTMLParser
from types import TracebackType
from typing import Any, Self

import aiohttp
from aiohttp import web
from aiohttp.web_request import FileField

__all__ = ["ApiCall", "BotAPIEmulator", "FakeUser", "UploadedFile", "form_params"]

logger = logging.getLogger(__name__)

JSON = dict[str, Any]

_TOKEN_RE = re.compile(r"\d+:[\w-]+")
_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")
_LANGUAGE_RE = re.compile(r"[a-z]{2}")

# aiogram JSON-encodes every non-string value in form data, so a bare "123" is
# ambiguous: it is an int for chat_id but must stay a string for text. Fields whose
# value is free text (or a file reference) are therefore never JSON-decoded.
_STRING_FIELDS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "callback_query_id",
        "inline_message_id",
        "url",
        "language_code",
        "action",
        "business_connection_id",
        "title",
        "description",
        "short_description",
        "name",
        "query",
        "secret_token",
        "ip_address",
        "phone_number",
        "first_name",
        "last_name",
        "vcard",
        "address",
        "emoji",
        "custom_title",
        "invite_link",
        "payload",
        "currency",
        "provider_token",
        "start_parameter",
        "file_id",
        "photo",
        "document",
        "video",
        "audio",
        "voice",
        "animation",
        "sticker",
        "video_note",
        "thumbnail",
        "certificate",
    }
)
_INT_FIELDS = frozenset(
    {
        "chat_id",
        "message_id",
        "from_chat_id",
        "user_id",
        "offset",
        "limit",
        "timeout",
        "message_thread_id",
        "cache_time",
        "max_connections",
    }
)
# Telegram's default when allowed_updates was never set.
_DEFAULT_UPDATE_TYPES = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "business_connection",
        "business_message",
        "edited_business_message",
        "deleted_business_messages",
        "inline_query",
        "chosen_inline_result",
        "callback_query",
        "shipping_query",
        "pre_checkout_query",
        "purchased_paid_media",
        "poll",
        "poll_answer",
        "my_chat_member",
        "chat_join_request",
        "chat_boost",
        "removed_chat_boost",
    }
)
_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_BUTTON_ACTIONS = frozenset(
    {
        "url",
        "callback_data",
        "web_app",
        "login_url",
        "switch_inline_query",
        "switch_inline_query_current_chat",
        "switch_inline_query_chosen_chat",
        "copy_text",
        "callback_game",
        "pay",
    }
)
# Calls that put a message on the user's screen; blocking a user makes them all fail.
_SEND_METHODS = frozenset(
    {
        "sendMessage",
        "sendDocument",
        "sendPhoto",
        "sendChatAction",
        "editMessageText",
        "editMessageReplyMarkup",
        "editMessageCaption",
    }
)
_MESSAGE_METHODS = frozenset(
    {"sendMessage", "sendDocument", "sendPhoto", "editMessageText", "editMessageCaption"}
)
_SHOWN_METHODS = _MESSAGE_METHODS | {"editMessageReplyMarkup"}
_MAX_TEXT = 4096
_MAX_CAPTION = 1024
_MAX_CALLBACK_DATA = 64
# Telegram accepts documents up to 50 MB; aiohttp's 1 MB default would reject them.
_MAX_UPLOAD = 52 * 1024 * 1024


@dataclass
class ApiCall:
    """One HTTP request the bot made, in arrival order.

    ``time`` comes from ``time.monotonic()`` so gaps between calls (throttling,
    retry_after back-off) can be measured; it is not comparable to message ``date``.
    ``result``/``error`` are filled in as soon as the emulator has answered (for
    getUpdates that is after the long poll ends).
    """

    method: str
    params: dict[str, Any]
    token: str
    time: float
    result: Any = None
    error: JSON | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.result is not None

    @property
    def chat_id(self) -> Any:
        return self.params.get("chat_id")


@dataclass(frozen=True)
class FakeUser:
    id: int
    first_name: str
    username: str | None = None
    language_code: str = "en"
    last_name: str | None = None

    def as_user(self) -> JSON:
        user: JSON = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name is not None:
            user["last_name"] = self.last_name
        if self.username is not None:
            user["username"] = self.username
        user["language_code"] = self.language_code
        return user


@dataclass(frozen=True)
class UploadedFile:
    """A file part of a multipart request, as the bot uploaded it.

    ``content_type`` is the part header the client sent (aiogram always sends
    application/octet-stream); ``mime_type`` is what Telegram would report,
    guessed from the file name like the real server does.
    """

    filename: str
    content: bytes
    content_type: str
    mime_type: str

    @property
    def size(self) -> int:
        return len(self.content)

    @classmethod
    def received(
        cls, filename: str, content: bytes, content_type: str = "application/octet-stream"
    ) -> UploadedFile:
        """The file as the server sees it, with Telegram's name-based MIME guess."""
        guessed, _ = mimetypes.guess_type(filename)
        return cls(filename, content, content_type, guessed or content_type)


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _png_size(content: bytes) -> tuple[int, int] | None:
    """(width, height) from a PNG's IHDR chunk; None for anything else."""
    if len(content) < 24 or not content.startswith(PNG_SIGNATURE) or content[12:16] != b"IHDR":
        return None
    return int.from_bytes(content[16:20], "big"), int.from_bytes(content[20:24], "big")


class _ApiError(Exception):
    def __init__(self, error_code: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.parameters = parameters

    def payload(self) -> JSON:
        body: JSON = {"ok": False, "error_code": self.error_code, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def _bad_request(detail: str) -> _ApiError:
    return _ApiError(400, f"Bad Request: {detail}")


@dataclass
class _Fault:
    method: str
    error: _ApiError
    times: int
    chat_id: int | str | None


def _utf16_len(text: str) -> int:
    # Telegram measures lengths and entity offsets in UTF-16 code units.
    return len(text.encode("utf-16-le")) // 2


_HTML_ENTITY_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "code": "code",
    "pre": "pre",
    "a": "text_link",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}


class _EntityParseError(Exception):
    pass


class _TelegramHTML(HTMLParser):
    """The subset of HTML Telegram accepts, rendered to plain text + entities."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.position = 0
        self.stack: list[tuple[str, JSON | None]] = []
        self.entities: list[JSON] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _HTML_ENTITY_TYPES:
            raise _EntityParseError(f'Unsupported start tag "{tag}"')
        attributes = dict(attrs)
        entity: JSON = {"type": _HTML_ENTITY_TYPES[tag], "offset": self.position}
        if tag == "span" and attributes.get("class") != "tg-spoiler":
            raise _EntityParseError('Tag "span" must have class "tg-spoiler"')
        if tag == "a":
            href = attributes.get("href")
            if not href:
                raise _EntityParseError('Tag "a" must have attribute "href"')
            entity["url"] = href
        if tag == "blockquote" and "expandable" in attributes:
            entity["type"] = "expandable_blockquote"
        if tag == "tg-emoji":
            entity["custom_emoji_id"] = attributes.get("emoji-id") or ""
        if tag == "code" and self.stack and self.stack[-1][0] == "pre":
            # <pre><code class="language-x"> is one pre entity with a language.
            pre = self.stack[-1][1]
            language = (attributes.get("class") or "").removeprefix("language-")
            if pre is not None and language:
                pre["language"] = language
            self.stack.append((tag, None))
            return
        self.stack.append((tag, entity))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        raise _EntityParseError(f'Unsupported start tag "{tag}"')

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1][0] != tag:
            raise _EntityParseError(f'Unmatched end tag "{tag}"')
        _, entity = self.stack.pop()
        if entity is not None and self.position > entity["offset"]:
            entity["length"] = self.position - entity["offset"]
            self.entities.append(entity)

    def handle_data(self, data: str) -> None:
        self.parts.append(data)
        self.position += _utf16_len(data)

    def render(self, markup: str) -> tuple[str, list[JSON]]:
        self.feed(markup)
        self.close()
        if self.stack:
            raise _EntityParseError(
                f'Can\'t find end tag corresponding to start tag "{self.stack[-1][0]}"'
            )
        self.entities.sort(key=lambda e: (e["offset"], -e["length"]))
        return "".join(self.parts), self.entities


def _strip_text(text: str, entities: list[JSON]) -> tuple[str, list[JSON]]:
    """Trim surrounding whitespace like Telegram does, keeping entities aligned."""
    stripped = text.strip()
    if stripped == text:
        return text, entities
    shift = _utf16_len(text[: len(text) - len(text.lstrip())])
    end = _utf16_len(stripped)
    kept: list[JSON] = []
    for entity in entities:
        start = max(entity["offset"] - shift, 0)
        stop = min(entity["offset"] + entity["length"] - shift, end)
        if stop > start:
            kept.append({**entity, "offset": start, "length": stop - start})
    return stripped, kept


def _command_entity(text: str) -> list[JSON]:
    if not text.startswith("/"):
        return []
    command = text.split(maxsplit=1)[0]
    return [{"type": "bot_command", "offset": 0, "length": _utf16_len(command)}]


def _decode_form_value(key: str, value: str) -> Any:
    if key in _STRING_FIELDS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _normalise_params(params: dict[str, Any]) -> dict[str, Any]:
    for key in _INT_FIELDS:
        value = params.get(key)
        if isinstance(value, str) and re.fullmatch(r"-?\d+", value):
            params[key] = int(value)
    return params


def form_params(
    fields: Mapping[str, str], uploads: Mapping[str, UploadedFile] | None = None
) -> dict[str, Any]:
    """Typed params from aiogram-style form fields and file parts.

    The one decoding both transports share: HTTP form bodies and flow tests' in-process
    session, so a value means the same thing whichever way it arrived.
    """
    params: dict[str, Any] = {key: _decode_form_value(key, value) for key, value in fields.items()}
    files = dict(uploads or {})
    # aiogram names file parts randomly and points at them with attach://<name>.
    for key, value in list(params.items()):
        if isinstance(value, str) and value.startswith("attach://"):
            name = value.removeprefix("attach://")
            if name in files:
                params[key] = files.pop(name)
    params.update(files)
    return _normalise_params(params)


def _buttons(message: Mapping[str, Any]) -> list[JSON]:
    markup = message.get("reply_markup") or {}
    return [button for row in markup.get("inline_keyboard", []) for button in row]


def _describe(index: int, call: ApiCall) -> str:
    details = []
    for key in ("chat_id", "message_id", "text", "caption", "callback_query_id"):
        if key in call.params:
            value = call.params[key]
            if isinstance(value, str) and len(value) > 60:
                value = value[:57] + "..."
            details.append(f"{key}={value!r}")
    if call.error is not None:
        outcome = f"{call.error['error_code']} {call.error['description']}"
    elif call.result is None:
        outcome = "pending"
    else:
        outcome = "ok"
    return f"  #{index} {call.method}({', '.join(details)}) -> {outcome}"


Handler = Callable[[ApiCall], Any]


class BotAPIEmulator:
    """A local Telegram Bot API server. One instance per test; nothing is shared."""

    def __init__(
        self,
        *,
        username: str = "test_booking_bot",
        first_name: str = "Test Booking Bot",
        tokens: Iterable[str] | None = None,
    ) -> None:
        self.username = username
        self.first_name = first_name
        # Lets a test prove the bot fails cleanly on a revoked but well-formed token.
        self._tokens = frozenset(tokens) if tokens is not None else None
        self.calls: list[ApiCall] = []
        self.commands: dict[tuple[str, str], list[JSON]] = {}
        self.menu_buttons: dict[int | None, JSON] = {}
        self.webhook_url = ""
        self.webhook_secret = ""
        self.send_delay = 0.0  # seconds every send waits before it is answered (a slow API)
        self.webhook_deliveries: list[tuple[int, int]] = []  # (update_id, HTTP status)
        self._deliverer: asyncio.Task[None] | None = None
        self._updates: list[JSON] = []
        self._update_ids = itertools.count(1)
        self._allowed_updates: frozenset[str] = _DEFAULT_UPDATE_TYPES
        self._messages: dict[int, dict[int, JSON]] = {}
        self._message_ids: dict[int, itertools.count[int]] = {}
        self._users: dict[int, FakeUser] = {}
        self._files: dict[str, UploadedFile] = {}
        self._file_ids = itertools.count(1)
        self._callback_ids = itertools.count(4_000_000_000_000_000_001)
        self._open_callbacks: set[str] = set()
        self._faults: list[_Fault] = []
        self._blocked: set[int] = set()
        self._stubs: dict[str, Any] = {}
        self._poll_generation: dict[str, int] = {}
        # Replaced on every change so waiters can grab the current one, re-check
        # state and sleep on it without missing a wake-up (single-threaded loop).
        self._calls_changed = asyncio.Event()
        self._updates_changed = asyncio.Event()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._handlers: dict[str, tuple[str, Handler]] = {
            name.lower(): (name, handler)
            for name, handler in {
                "getMe": self._get_me,
                "deleteWebhook": self._delete_webhook,
                "setWebhook": self._set_webhook,
                "getWebhookInfo": self._get_webhook_info,
                "sendMessage": self._send_message,
                "editMessageText": self._edit_message_text,
                "editMessageCaption": self._edit_message_caption,
                "editMessageReplyMarkup": self._edit_message_reply_markup,
                "answerCallbackQuery": self._answer_callback_query,
                "sendDocument": self._send_document,
                "sendPhoto": self._send_photo,
                "deleteMessage": self._delete_message,
                "setMyCommands": self._set_my_commands,
                "getMyCommands": self._get_my_commands,
                "deleteMyCommands": self._delete_my_commands,
                "sendChatAction": self._send_chat_action,
                "setChatMenuButton": self._set_chat_menu_button,
                "getChatMenuButton": self._get_chat_menu_button,
                "close": lambda call: True,
                "logOut": lambda call: True,
            }.items()
        }

    # -- lifecycle -------------------------------------------------------------------

    async def start(self) -> None:
        if self._runner is not None:
            raise RuntimeError("emulator already started")
        self._closing = False
        app = web.Application(client_max_size=_MAX_UPLOAD)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        # handler_cancellation: when aiogram abandons a long poll (stop_polling), the
        # waiting handler must die with the connection instead of lingering.
        runner = web.AppRunner(
            app, handler_cancellation=True, access_log=None, shutdown_timeout=2.0
        )
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self._runner = runner
        self._port = int(runner.addresses[0][1])
        self._deliverer = asyncio.create_task(self._deliver_webhooks())

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is None:
            return
        # Release long polls first, otherwise cleanup waits for them to time out.
        self._closing = True
        self._notify_updates()
        if self._deliverer is not None:
            self._deliverer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._deliverer
        await runner.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("emulator not started")
        return self._port

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- inspection ------------------------------------------------------------------

    def mark(self) -> int:
        """Index to pass as ``since=`` so later waits ignore what already happened."""
        return len(self.calls)

    def calls_of(self, method: str) -> list[ApiCall]:
        wanted = method.lower()
        return [call for call in self.calls if call.method.lower() == wanted]

    def sent_to(self, chat_id: int, since: int | None = None) -> list[JSON]:
        """Snapshots of every message the bot successfully sent or edited in a chat."""
        return [
            call.result
            for call in self.calls[since or 0 :]
            if call.method in _SHOWN_METHODS
            and call.ok
            and isinstance(call.result, dict)
            and call.result["chat"]["id"] == chat_id
        ]

    def message(self, chat_id: int, message_id: int) -> JSON:
        """Current state of a message (after edits), as the user would see it now."""
        try:
            return copy.deepcopy(self._messages[chat_id][message_id])
        except KeyError:
            raise AssertionError(
                f"no message {message_id} in chat {chat_id} (never sent or deleted)"
            ) from None

    def messages_in(self, chat_id: int) -> list[JSON]:
        """Current state of every message still in a chat (user's and bot's), oldest first."""
        stored = self._messages.get(chat_id, {})
        return [copy.deepcopy(stored[key]) for key in sorted(stored)]

    def file(self, file_id: str) -> UploadedFile:
        """The upload behind a file_id the emulator handed out."""
        try:
            return self._files[file_id]
        except KeyError:
            raise AssertionError(f"unknown file_id {file_id!r}") from None

    def commands_for(self, scope: JSON | None = None, language_code: str = "") -> list[JSON]:
        return copy.deepcopy(self.commands.get(self._scope_key(scope, language_code), []))

    @property
    def pending_updates(self) -> list[JSON]:
        return copy.deepcopy(self._updates)

    def take_updates(self, limit: int | None = None) -> list[JSON]:
        """Pop queued updates, oldest first, as a confirming getUpdates would.

        For in-process feeding; nothing is recorded in ``calls`` since the bot made no
        request. ``allowed_updates`` is ignored: the caller decides what to feed.
        """
        count = len(self._updates) if limit is None else max(limit, 0)
        taken, self._updates = self._updates[:count], self._updates[count:]
        return taken

    # -- waiting ---------------------------------------------------------------------

    async def wait_for(
        self,
        predicate: Callable[[ApiCall], bool],
        timeout: float = 5.0,  # noqa: ASYNC109 - a deadline for the emulator state, not I/O
        *,
        since: int | None = None,
    ) -> ApiCall:
        index = since or 0
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            changed = self._calls_changed
            while index < len(self.calls):
                call = self.calls[index]
                index += 1
                if predicate(call):
                    return call
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(self._timeout_report(timeout, since))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), remaining)

    async def wait_for_message(
        self,
        chat_id: int,
        contains: str | None = None,
        since: int | None = None,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109 - see wait_for
    ) -> ApiCall:
        """First successful send/edit shown in ``chat_id``.

        ``contains`` matches the rendered text/caption or the raw one the bot sent,
        so both ``"Booked"`` and ``"<b>Booked"`` work with parse_mode=HTML.
        """

        def matches(call: ApiCall) -> bool:
            if call.method not in _MESSAGE_METHODS or not call.ok:
                return False
            message = call.result
            if not isinstance(message, dict) or message["chat"]["id"] != chat_id:
                return False
            if contains is None:
                return True
            haystacks = (
                message.get("text"),
                message.get("caption"),
                call.params.get("text"),
                call.params.get("caption"),
            )
            return any(isinstance(h, str) and contains in h for h in haystacks)

        return await self.wait_for(matches, timeout, since=since)

    async def answers_to(
        self,
        callback_query_id: str,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109 - see wait_for
        since: int | None = None,
    ) -> ApiCall:
        """Wait for the bot's answerCallbackQuery for a click made with ``click``."""
        return await self.wait_for(
            lambda call: (
                call.method == "answerCallbackQuery"
                and call.params.get("callback_query_id") == callback_query_id
            ),
            timeout,
            since=since,
        )

    def _timeout_report(self, timeout: float, since: int | None) -> str:
        start = since or 0
        # Long polling adds a getUpdates every few seconds that buries the useful calls.
        recent = [
            (i, call)
            for i, call in enumerate(self.calls)
            if i >= start and call.method != "getUpdates"
        ][-15:]
        polls = sum(1 for call in self.calls[start:] if call.method == "getUpdates")
        lines = [
            f"no matching Bot API call within {timeout}s "
            f"({len(self.calls) - start} calls since #{start}, {polls} of them getUpdates)"
        ]
        lines.extend(_describe(i, call) for i, call in recent)
        return "\n".join(lines) if recent else lines[0] + "; no other calls"

    # -- simulating users ------------------------------------------------------------

    def send_message(self, user: FakeUser, text: str, chat_id: int | None = None) -> JSON:
        """Queue a text message from ``user``; returns the Message object queued."""
        message = self._user_message(user, chat_id)
        message["text"] = text
        if entities := _command_entity(text):
            message["entities"] = entities
        self._queue_update({"message": message})
        return copy.deepcopy(message)

    def send_contact(
        self,
        user: FakeUser,
        phone: str,
        chat_id: int | None = None,
        *,
        owner: FakeUser | None = None,
    ) -> JSON:
        """Queue the user sharing a contact: their own (the request_contact button flow), or
        ``owner``'s, as forwarding someone else's contact card does."""
        message = self._user_message(user, chat_id)
        person = owner or user
        contact: JSON = {"phone_number": phone, "first_name": person.first_name}
        if person.last_name is not None:
            contact["last_name"] = person.last_name
        contact["user_id"] = person.id
        message["contact"] = contact
        self._queue_update({"message": message})
        return copy.deepcopy(message)

    def click(
        self,
        user: FakeUser,
        message: Mapping[str, Any] | Any,
        callback_data: str | None = None,
        *,
        text: str | None = None,
    ) -> str:
        """Press an inline button on a message the bot sent; returns the query id.

        ``message`` may be a message dict (e.g. from ``sent_to``) or an aiogram
        Message. The button is looked up on the message's *current* markup, as a
        real client would see it after edits.
        """
        if callback_data is None and text is None:
            raise AssertionError("click() needs callback_data or text= to pick a button")
        chat_id, message_id = self._message_ref(message)
        current = self.message(chat_id, message_id)
        buttons = _buttons(current)
        chosen = [
            button
            for button in buttons
            if "callback_data" in button
            and (callback_data is None or button["callback_data"] == callback_data)
            and (text is None or button["text"] == text)
        ]
        if not chosen:
            available = (
                ", ".join(
                    f"{b['text']!r} -> {b.get('callback_data', '<no callback_data>')!r}"
                    for b in buttons
                )
                or "none"
            )
            wanted = f"callback_data={callback_data!r}" if callback_data is not None else ""
            if text is not None:
                wanted = f"{wanted} text={text!r}".strip()
            raise AssertionError(
                f"no inline button with {wanted} on message {message_id} in chat "
                f"{chat_id}; available buttons: {available}"
            )
        return self._queue_click(user, current, chosen[0]["callback_data"])

    def click_data(
        self, user: FakeUser, message: Mapping[str, Any] | Any, callback_data: str
    ) -> str:
        """Send a callback query with arbitrary data from a message; returns the query id.

        No button needs to carry ``callback_data``: this is a tampered client or a tap on
        a keyboard the bot has since replaced, which handlers must survive.
        """
        chat_id, message_id = self._message_ref(message)
        return self._queue_click(user, self.message(chat_id, message_id), callback_data)

    def _queue_click(self, user: FakeUser, message: JSON, data: str) -> str:
        self._users[user.id] = user
        query_id = str(next(self._callback_ids))
        self._open_callbacks.add(query_id)
        self._queue_update(
            {
                "callback_query": {
                    "id": query_id,
                    "from": user.as_user(),
                    "message": message,
                    "chat_instance": str(abs(message["chat"]["id"]) * 7919 + 13),
                    "data": data,
                }
            }
        )
        return query_id

    # -- fault injection -------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        *,
        error_code: int,
        description: str,
        retry_after: int | None = None,
        times: int = 1,
        chat_id: int | str | None = None,
    ) -> None:
        parameters = {"retry_after": retry_after} if retry_after is not None else None
        self._faults.append(
            _Fault(method.lower(), _ApiError(error_code, description, parameters), times, chat_id)
        )

    def block_user(self, chat_id: int) -> None:
        self._blocked.add(chat_id)

    def unblock_user(self, chat_id: int) -> None:
        self._blocked.discard(chat_id)

    def stub(self, method: str, result: Any) -> None:
        """Answer an otherwise unknown method with a fixed ``result``."""
        self._stubs[method.lower()] = result

    # -- HTTP plumbing ---------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        token, method = self._split_path(request.path)
        try:
            params = await self._read_params(request)
        except (ValueError, UnicodeDecodeError):
            error = _bad_request("can't parse request body").payload()
            self.calls.append(ApiCall(method, {}, token, time.monotonic(), error=error))
            self._notify_calls()
            return self._respond(error, 400)
        status, body = await self.call_api(token, method, params)
        return self._respond(body, status)

    async def call_api(self, token: str, method: str, params: dict[str, Any]) -> tuple[int, JSON]:
        """Run one Bot API call: returns the HTTP status and Telegram-shaped body.

        Everything but transport lives here (token check, injected faults, dispatch,
        recording the ApiCall, error shaping), so the HTTP server and the in-process
        flow session answer identically. Needs no ``start()``. ``params`` must already
        be decoded (see ``form_params``); the emulator keeps it as ``ApiCall.params``.
        """
        known = self._handlers.get(method.lower())
        call = ApiCall(known[0] if known else method, params, token, time.monotonic())
        self.calls.append(call)
        try:
            if not _TOKEN_RE.fullmatch(token) or (
                self._tokens is not None and token not in self._tokens
            ):
                raise _ApiError(401, "Unauthorized")
            if call.method == "getUpdates":
                self._apply_faults(call)
                # Tests wait for the poll to be in flight before queueing updates.
                self._notify_calls()
                result = await self._get_updates(call)
            elif known is not None:
                self._apply_faults(call)
                if self.send_delay and call.method in _SEND_METHODS:
                    await asyncio.sleep(self.send_delay)
                result = known[1](call)
            elif method.lower() in self._stubs:
                self._apply_faults(call)
                result = copy.deepcopy(self._stubs[method.lower()])
            else:
                raise _ApiError(404, "Not Found: method not found")
        except _ApiError as exc:
            call.error = exc.payload()
            self._notify_calls()
            return exc.error_code, copy.deepcopy(call.error)
        except Exception as exc:
            # Surface emulator bugs to the bot as a server error instead of a hang.
            logger.exception("Bot API emulator failed on %s", call.method)
            call.error = {
                "ok": False,
                "error_code": 500,
                "description": f"Internal Server Error: {type(exc).__name__}: {exc}",
            }
            self._notify_calls()
            return 500, copy.deepcopy(call.error)
        call.result = copy.deepcopy(result)
        self._notify_calls()
        return 200, {"ok": True, "result": result}

    @staticmethod
    def _respond(body: JSON, status: int) -> web.Response:
        return web.json_response(body, status=status)

    @staticmethod
    def _split_path(path: str) -> tuple[str, str]:
        head, _, method = path.lstrip("/").partition("/")
        if not head.startswith("bot") or not method or "/" in method:
            return "", method or head
        return head.removeprefix("bot"), method

    async def _read_params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = {
            key: _decode_form_value(key, value) for key, value in request.query.items()
        }
        if not request.can_read_body:
            return _normalise_params(params)
        if request.content_type == "application/json":
            body = await request.json()
            if not isinstance(body, dict):
                raise ValueError("JSON body must be an object")
            params.update(body)
            for key, value in body.items():
                # Some clients double-encode nested objects even in JSON bodies.
                if isinstance(value, str) and key not in _STRING_FIELDS:
                    params[key] = _decode_form_value(key, value)
            return _normalise_params(params)
        form = await request.post()
        fields: dict[str, str] = dict(request.query.items())
        uploads: dict[str, UploadedFile] = {}
        for key, value in form.items():
            if isinstance(value, FileField):
                uploads[key] = self._read_upload(value)
            else:
                fields[key] = value if isinstance(value, str) else bytes(value).decode()
        return form_params(fields, uploads)

    @staticmethod
    def _read_upload(part: FileField) -> UploadedFile:
        try:
            content = part.file.read()
        finally:
            part.file.close()
        return UploadedFile.received(part.filename, content, part.content_type)

    def _notify_calls(self) -> None:
        changed, self._calls_changed = self._calls_changed, asyncio.Event()
        changed.set()

    def _notify_updates(self) -> None:
        changed, self._updates_changed = self._updates_changed, asyncio.Event()
        changed.set()

    def _apply_faults(self, call: ApiCall) -> None:
        for fault in self._faults:
            if fault.method != call.method.lower():
                continue
            if fault.chat_id is not None and call.params.get("chat_id") != fault.chat_id:
                continue
            fault.times -= 1
            if fault.times <= 0:
                self._faults.remove(fault)
            raise fault.error
        if call.method in _SEND_METHODS and call.params.get("chat_id") in self._blocked:
            raise _ApiError(403, "Forbidden: bot was blocked by the user")

    # -- state helpers ---------------------------------------------------------------

    def _bot_user(self, token: str) -> JSON:
        return {
            "id": int(token.partition(":")[0]),
            "is_bot": True,
            "first_name": self.first_name,
            "username": self.username,
        }

    def _chat(self, chat_id: int) -> JSON:
        if chat_id < 0:
            return {"id": chat_id, "type": "supergroup", "title": f"Test group {chat_id}"}
        chat: JSON = {"id": chat_id, "type": "private"}
        user = self._users.get(chat_id)
        chat["first_name"] = user.first_name if user else "User"
        if user and user.last_name is not None:
            chat["last_name"] = user.last_name
        if user and user.username is not None:
            chat["username"] = user.username
        return chat

    def _next_message_id(self, chat_id: int) -> int:
        # Private chats share one id sequence between the user and the bot.
        counter = self._message_ids.setdefault(chat_id, itertools.count(1))
        return next(counter)

    def _user_message(self, user: FakeUser, chat_id: int | None) -> JSON:
        self._users[user.id] = user
        target = user.id if chat_id is None else chat_id
        message: JSON = {
            "message_id": self._next_message_id(target),
            "from": user.as_user(),
            "chat": self._chat(target),
            "date": int(time.time()),
        }
        self._messages.setdefault(target, {})[message["message_id"]] = message
        return message

    def _queue_update(self, payload: JSON) -> None:
        self._updates.append({"update_id": next(self._update_ids), **copy.deepcopy(payload)})
        self._notify_updates()

    @staticmethod
    def _message_ref(message: Mapping[str, Any] | Any) -> tuple[int, int]:
        if isinstance(message, Mapping):
            return int(message["chat"]["id"]), int(message["message_id"])
        return int(message.chat.id), int(message.message_id)

    @staticmethod
    def _scope_key(scope: JSON | None, language_code: str) -> tuple[str, str]:
        return json.dumps(scope or {"type": "default"}, sort_keys=True), language_code

    def _chat_id(self, call: ApiCall) -> int:
        chat_id = call.params.get("chat_id")
        if chat_id is None or chat_id == "":
            raise _bad_request("chat_id is empty")
        if not isinstance(chat_id, int) or isinstance(chat_id, bool):
            # Public @usernames would need a directory of channels we don't model.
            raise _bad_request("chat not found")
        return chat_id

    def _stored_message(self, call: ApiCall, *, action: str) -> JSON:
        if "inline_message_id" in call.params:
            raise _bad_request("MESSAGE_ID_INVALID")
        chat_id = self._chat_id(call)
        message_id = call.params.get("message_id")
        if not isinstance(message_id, int):
            raise _bad_request("message identifier is not specified")
        message = self._messages.get(chat_id, {}).get(message_id)
        if message is None:
            raise _bad_request(f"message to {action} not found")
        return message

    def _rendered(self, call: ApiCall, key: str, entities_key: str) -> tuple[str, list[JSON]]:
        raw = call.params.get(key)
        if raw is None or raw == "":
            return "", []
        text = str(raw)
        parse_mode = call.params.get("parse_mode")
        if parse_mode is None or parse_mode == "":
            entities = list(call.params.get(entities_key) or [])
        elif str(parse_mode).lower() == "html":
            try:
                text, entities = _TelegramHTML().render(text)
            except _EntityParseError as exc:
                raise _bad_request(f"can't parse entities: {exc}") from None
        elif str(parse_mode).lower() in {"markdown", "markdownv2"}:
            entities = []
        else:
            raise _bad_request("unsupported parse_mode")
        return _strip_text(text, entities)

    def _markup(self, call: ApiCall) -> JSON | None:
        """Validated inline keyboard to keep on the message, or None.

        Reply keyboards are accepted but, like on Telegram, never echoed back in the
        Message; tests can read them from the call's params.
        """
        markup = call.params.get("reply_markup")
        if not isinstance(markup, dict) or "inline_keyboard" not in markup:
            return None
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise _bad_request(
                'can\'t parse inline keyboard: field "inline_keyboard" must be array of arrays'
            )
        for button in (button for row in rows for button in row):
            if not isinstance(button, dict) or not button.get("text"):
                raise _bad_request("can't parse inline keyboard button: Text must be non-empty")
            actions = _BUTTON_ACTIONS.intersection(button)
            if not actions:
                raise _bad_request(
                    "can't parse inline keyboard button: "
                    "Text buttons are unallowed in the inline keyboard"
                )
            data = button.get("callback_data")
            if "callback_data" in button and (
                not isinstance(data, str) or not 1 <= len(data.encode()) <= _MAX_CALLBACK_DATA
            ):
                raise _bad_request("BUTTON_DATA_INVALID")
        if not any(rows):
            return None
        return {"inline_keyboard": rows}

    def _reply_to(self, call: ApiCall, chat_id: int) -> JSON | None:
        reply = call.params.get("reply_parameters")
        target = reply.get("message_id") if isinstance(reply, dict) else None
        target = target or call.params.get("reply_to_message_id")
        if not isinstance(target, int):
            return None
        original = self._messages.get(chat_id, {}).get(target)
        if original is None:
            return None
        quoted = copy.deepcopy(original)
        quoted.pop("reply_to_message", None)
        return quoted

    def _new_bot_message(self, call: ApiCall, chat_id: int) -> JSON:
        message: JSON = {
            "message_id": self._next_message_id(chat_id),
            "from": self._bot_user(call.token),
            "chat": self._chat(chat_id),
            "date": int(time.time()),
        }
        if (quoted := self._reply_to(call, chat_id)) is not None:
            message["reply_to_message"] = quoted
        return message

    def _store(self, message: JSON) -> JSON:
        self._messages.setdefault(message["chat"]["id"], {})[message["message_id"]] = message
        return copy.deepcopy(message)

    # -- methods ---------------------------------------------------------------------

    def _get_me(self, call: ApiCall) -> JSON:
        return {
            **self._bot_user(call.token),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _get_updates(self, call: ApiCall) -> list[JSON]:
        if self.webhook_url:
            raise _ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        params = call.params
        offset = params.get("offset")
        if isinstance(offset, int) and offset < 0:
            self._updates = self._updates[offset:]
        elif isinstance(offset, int):
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = frozenset(allowed) if allowed else _DEFAULT_UPDATE_TYPES
        limit = params.get("limit")
        limit = min(max(limit, 1), 100) if isinstance(limit, int) else 100
        timeout = params.get("timeout")
        timeout = max(float(timeout), 0.0) if isinstance(timeout, int | float) else 0.0

        # A newer getUpdates for the same token kicks out the one still waiting.
        generation = self._poll_generation.get(call.token, 0) + 1
        self._poll_generation[call.token] = generation
        self._notify_updates()

        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            changed = self._updates_changed
            if self._poll_generation.get(call.token) != generation:
                raise _ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; "
                    "make sure that only one bot instance is running",
                )
            ready = [
                update
                for update in self._updates
                if next(k for k in update if k != "update_id") in self._allowed_updates
            ][:limit]
            remaining = deadline - loop.time()
            if ready or self._closing or remaining <= 0:
                return copy.deepcopy(ready)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), remaining)

    def _delete_webhook(self, call: ApiCall) -> bool:
        self.webhook_url = ""
        self.webhook_secret = ""
        if call.params.get("drop_pending_updates") is True:
            self._updates.clear()
        return True

    def _set_webhook(self, call: ApiCall) -> bool:
        self.webhook_url = str(call.params.get("url") or "")
        self.webhook_secret = str(call.params.get("secret_token") or "")
        if call.params.get("drop_pending_updates") is True:
            self._updates.clear()
        self._notify_updates()
        return True

    async def _deliver_webhooks(self) -> None:
        """As Telegram does with a webhook set: POST each update to it (several at once),
        with the secret header; an update is gone once answered 2xx, and sent again later
        otherwise."""
        in_flight: set[int] = set()
        async with aiohttp.ClientSession() as session:

            async def post(update: JSON) -> None:
                status = 0
                try:
                    async with session.post(
                        self.webhook_url,
                        json=update,
                        headers={"X-Telegram-Bot-Api-Secret-Token": self.webhook_secret},
                        timeout=aiohttp.ClientTimeout(total=10),
                    ) as response:
                        status = response.status
                except (aiohttp.ClientError, TimeoutError):
                    status = 0
                self.webhook_deliveries.append((update["update_id"], status))
                if 200 <= status < 300:
                    self._updates = [u for u in self._updates if u is not update]
                    in_flight.discard(update["update_id"])
                    self._notify_calls()
                else:
                    await asyncio.sleep(0.2)  # then the loop offers it again
                    in_flight.discard(update["update_id"])
                    self._notify_updates()

            tasks: set[asyncio.Task[None]] = set()
            while True:
                changed = self._updates_changed
                if self.webhook_url:
                    for update in list(self._updates):
                        if update["update_id"] not in in_flight and len(in_flight) < 40:
                            in_flight.add(update["update_id"])
                            task = asyncio.create_task(post(update))
                            tasks.add(task)
                            task.add_done_callback(tasks.discard)
                await changed.wait()

    def _get_webhook_info(self, call: ApiCall) -> JSON:
        return {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }

    def _send_message(self, call: ApiCall) -> JSON:
        chat_id = self._chat_id(call)
        text, entities = self._rendered(call, "text", "entities")
        if not text:
            raise _bad_request("message text is empty")
        if _utf16_len(text) > _MAX_TEXT:
            raise _bad_request("message is too long")
        markup = self._markup(call)
        message = self._new_bot_message(call, chat_id)
        message["text"] = text
        if entities:
            message["entities"] = entities
        if markup is not None:
            message["reply_markup"] = markup
        return self._store(message)

    def _send_photo(self, call: ApiCall) -> JSON:
        """An uploaded PNG (the only kind this bot sends): Telegram reads its size and refuses
        what is not an image or is too large; the message carries the photo's sizes."""
        chat_id = self._chat_id(call)
        photo = call.params.get("photo")
        if not isinstance(photo, UploadedFile):
            raise _bad_request("there is no photo in the request")
        size = _png_size(photo.content)
        if size is None:
            raise _bad_request("IMAGE_PROCESS_FAILED")
        width, height = size
        if width + height > 10000 or max(width, height) > 20 * min(width, height):
            raise _bad_request("PHOTO_INVALID_DIMENSIONS")
        caption, caption_entities = self._rendered(call, "caption", "caption_entities")
        if _utf16_len(caption) > _MAX_CAPTION:
            raise _bad_request("message caption is too long")
        markup = self._markup(call)
        number = next(self._file_ids)
        file_id = f"AgACAgIAAxkDAAI{number:08d}"
        self._files[file_id] = photo
        message = self._new_bot_message(call, chat_id)
        message["photo"] = [
            {
                "file_id": file_id,
                "file_unique_id": f"AQAD{number:08d}",
                "width": width,
                "height": height,
                "file_size": photo.size,
            }
        ]
        return self._store_with_caption(message, caption, caption_entities, markup)

    def _store_with_caption(
        self, message: JSON, caption: str, caption_entities: list[JSON], markup: Any
    ) -> JSON:
        """A sent file's message, with what came along (a caption, its entities, buttons)."""
        if caption:
            message["caption"] = caption
        if caption_entities:
            message["caption_entities"] = caption_entities
        if markup is not None:
            message["reply_markup"] = markup
        return self._store(message)

    def _send_document(self, call: ApiCall) -> JSON:
        chat_id = self._chat_id(call)
        document = call.params.get("document")
        if isinstance(document, UploadedFile):
            upload = document
        elif isinstance(document, str) and document in self._files:
            upload = self._files[document]
        elif isinstance(document, str) and document.startswith(("http://", "https://")):
            name = document.rsplit("/", 1)[-1] or "file"
            mime = mimetypes.guess_type(name)[0] or "application/octet-stream"
            upload = UploadedFile(name, b"", mime, mime)
        elif document is None or document == "":
            raise _bad_request("there is no document in the request")
        else:
            raise _bad_request("wrong file identifier/HTTP URL specified")
        caption, caption_entities = self._rendered(call, "caption", "caption_entities")
        if _utf16_len(caption) > _MAX_CAPTION:
            raise _bad_request("message caption is too long")
        markup = self._markup(call)
        number = next(self._file_ids)
        file_id = f"BQACAgIAAxkDAAI{number:08d}"
        self._files[file_id] = upload
        message = self._new_bot_message(call, chat_id)
        message["document"] = {
            "file_id": file_id,
            "file_unique_id": f"AgAD{number:08d}",
            "file_name": upload.filename,
            "mime_type": upload.mime_type,
            "file_size": upload.size,
        }
        return self._store_with_caption(message, caption, caption_entities, markup)

    def _check_editable(self, call: ApiCall, message: JSON) -> None:
        if not message.get("from", {}).get("is_bot"):
            raise _bad_request("message can't be edited")

    def _apply_edit(self, message: JSON, changes: JSON) -> JSON:
        before = {key: message.get(key) for key in changes}
        if before == changes:
            raise _bad_request(
                "message is not modified: specified new message content and reply markup "
                "are exactly the same as a current content and reply markup of the message"
            )
        for key, value in changes.items():
            if value is None:
                message.pop(key, None)
            else:
                message[key] = value
        message["edit_date"] = int(time.time())
        return copy.deepcopy(message)

    def _edit_message_text(self, call: ApiCall) -> JSON:
        message = self._stored_message(call, action="edit")
        self._check_editable(call, message)
        if "text" not in message:
            raise _bad_request("there is no text in the message to edit")
        text, entities = self._rendered(call, "text", "entities")
        if not text:
            raise _bad_request("message text is empty")
        if _utf16_len(text) > _MAX_TEXT:
            raise _bad_request("message is too long")
        # Telegram drops the inline keyboard when an edit does not resend it.
        changes = {"text": text, "entities": entities or None, "reply_markup": self._markup(call)}
        return self._apply_edit(message, changes)

    def _edit_message_caption(self, call: ApiCall) -> JSON:
        message = self._stored_message(call, action="edit")
        self._check_editable(call, message)
        if "text" in message:
            raise _bad_request("there is no caption in the message to edit")
        caption, entities = self._rendered(call, "caption", "caption_entities")
        if _utf16_len(caption) > _MAX_CAPTION:
            raise _bad_request("message caption is too long")
        changes = {
            "caption": caption or None,
            "caption_entities": entities or None,
            "reply_markup": self._markup(call),
        }
        return self._apply_edit(message, changes)

    def _edit_message_reply_markup(self, call: ApiCall) -> JSON:
        message = self._stored_message(call, action="edit")
        self._check_editable(call, message)
        return self._apply_edit(message, {"reply_markup": self._markup(call)})

    def _delete_message(self, call: ApiCall) -> bool:
        message = self._stored_message(call, action="delete")
        del self._messages[message["chat"]["id"]][message["message_id"]]
        return True

    def _answer_callback_query(self, call: ApiCall) -> bool:
        query_id = call.params.get("callback_query_id")
        if query_id not in self._open_callbacks:
            raise _bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        self._open_callbacks.discard(str(query_id))
        return True

    def _commands_key(self, call: ApiCall) -> tuple[str, str]:
        scope = call.params.get("scope")
        language = call.params.get("language_code") or ""
        if language and not _LANGUAGE_RE.fullmatch(str(language)):
            raise _bad_request("invalid language code specified")
        return self._scope_key(scope if isinstance(scope, dict) else None, str(language))

    def _set_my_commands(self, call: ApiCall) -> bool:
        commands = call.params.get("commands")
        if not isinstance(commands, list):
            raise _bad_request('parameter "commands" is required')
        for command in commands:
            if not isinstance(command, dict) or not _COMMAND_RE.fullmatch(
                str(command.get("command", ""))
            ):
                raise _bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise _bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        self.commands[self._commands_key(call)] = copy.deepcopy(commands)
        return True

    def _get_my_commands(self, call: ApiCall) -> list[JSON]:
        return copy.deepcopy(self.commands.get(self._commands_key(call), []))

    def _delete_my_commands(self, call: ApiCall) -> bool:
        self.commands.pop(self._commands_key(call), None)
        return True

    def _send_chat_action(self, call: ApiCall) -> bool:
        self._chat_id(call)
        if call.params.get("action") not in _CHAT_ACTIONS:
            raise _bad_request("wrong parameter action in request")
        return True

    def _set_chat_menu_button(self, call: ApiCall) -> bool:
        chat_id = call.params.get("chat_id")
        button = call.params.get("menu_button")
        self.menu_buttons[chat_id if isinstance(chat_id, int) else None] = (
            button if isinstance(button, dict) else {"type": "default"}
        )
        return True

    def _get_chat_menu_button(self, call: ApiCall) -> JSON:
        chat_id = call.params.get("chat_id")
        key = chat_id if isinstance(chat_id, int) else None
        return copy.deepcopy(
            self.menu_buttons.get(key) or self.menu_buttons.get(None) or {"type": "commands"}
        )
