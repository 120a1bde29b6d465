"""A minimal Telegram Bot API for load tests: updates out through long polling, replies in.

Not the test emulator (tests/support/botapi_emulator.py): this one does as little as a Bot API
can while aiogram still parses every answer, so that its own CPU (it shares the machine with the
bot it measures) stays small. What it adds is the stopwatch:

* ``release(...)`` makes updates available to ``getUpdates`` and notes the time (the arrival);
* the first reply call (sendMessage, editMessageText, answerCallbackQuery, sendDocument, ...)
  for that user's chat after the arrival stops the clock for that update.

``getUpdates`` follows Telegram's long-poll semantics: ``offset`` acknowledges (forgets) every
update below it, ``limit`` caps the answer (1-100, default 100), ``timeout`` waits up to that many
seconds for an update when none is pending, and an update that arrives meanwhile is answered at
once.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from time import perf_counter
from typing import Any

from aiohttp import web

BOT_ID = 123456789
BOT_TOKEN = f"{BOT_ID}:AAHbenchBenchBenchBenchBenchBench0123"  # shaped like @BotFather's
BOT_USER: dict[str, Any] = {
    "id": BOT_ID,
    "is_bot": True,
    "first_name": "Bench",
    "username": "bench_pipeline_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}

# Calls that a user sees as the bot's answer (sendChatAction is not one).
REPLY_PREFIXES = ("send", "edit", "answer", "copyMessage", "forwardMessage")
NOT_REPLIES = frozenset({"sendChatAction"})
# A send, edit, forward or copy returns a Message; copyMessage a MessageId.
MESSAGE_PREFIXES = ("send", "edit", "forwardMessage")

_UPDATE = (
    '{{"update_id":{update_id},"message":{{"message_id":{message_id},"date":{date},'
    '"chat":{{"id":{user},"type":"private","first_name":"User{user}","username":"user{user}"}},'
    '"from":{{"id":{user},"is_bot":false,"first_name":"User{user}","username":"user{user}",'
    '"language_code":"en"}},"text":{text},"entities":[{{"type":"bot_command","offset":0,'
    '"length":{command_length}}}]}}}}'
)


def command_update(update_id: int, user: int, text: str = "/start") -> bytes:
    """A private-chat message from ``user`` (a command: it must start with /)."""
    command = text.split(maxsplit=1)[0]
    return _UPDATE.format(
        update_id=update_id,
        message_id=update_id,
        date=int(time.time()),
        user=user,
        text=json.dumps(text),
        command_length=len(command),
    ).encode()


@dataclass
class Batch:
    """The updates of one measured run (a mode): arrival and first-reply times, per update."""

    name: str
    arrivals: list[float] = field(default_factory=list)
    replies: list[float] = field(default_factory=list)
    answered: int = 0
    expected: int = 0
    sample: str = ""  # one reply's text, to show what the bot answered
    done: asyncio.Event = field(default_factory=asyncio.Event)

    def add(self, arrival: float) -> int:
        self.arrivals.append(arrival)
        self.replies.append(math.nan)
        return len(self.arrivals) - 1

    def answer(self, index: int, at: float) -> None:
        self.replies[index] = at
        self.answered += 1
        if self.expected and self.answered >= self.expected:
            self.done.set()

    def latencies(self) -> list[float]:
        """Seconds from arrival to first reply, for the updates answered."""
        return [r - a for a, r in zip(self.arrivals, self.replies, strict=True) if r == r]

    def answered_by(self, moment: float) -> int:
        return sum(1 for r in self.replies if r == r and r <= moment)


class Sink:
    """The Bot API on 127.0.0.1 (a free port), for one bot token."""

    def __init__(self, token: str = BOT_TOKEN) -> None:
        self.token = token
        self._queue: deque[tuple[int, bytes]] = deque()  # released, not yet acknowledged
        self._arrived = asyncio.Event()
        self._next_update_id = 1
        self._next_message_id = 1_000_000
        # chat id -> the updates waiting for their first reply (batch, index), oldest first
        self._waiting: dict[int, deque[tuple[Batch, int]]] = {}
        self._runner: web.AppRunner | None = None
        self.base_url = ""
        self.polling = asyncio.Event()  # set by the first getUpdates: the bot is up
        self.released = 0
        self.delivered_up_to = 0  # the highest update_id handed out by getUpdates
        self.calls: dict[str, int] = {}
        self.unmatched_replies = 0
        self.get_updates_calls = 0
        self.get_updates_empty = 0

    # ------------------------------------------------------------ server

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None and server.sockets  # type: ignore[attr-defined]
        port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        self.base_url = f"http://127.0.0.1:{port}"
        self._runner = runner

    async def close(self) -> None:
        self._arrived.set()  # long polls answer now
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # ------------------------------------------------------------ load

    def release(self, batch: Batch, users: Iterable[int], text: str = "/start") -> float:
        """Make one update per user available now; returns the arrival time."""
        now = perf_counter()
        for user in users:
            update_id = self._next_update_id
            self._next_update_id += 1
            self._queue.append((update_id, command_update(update_id, user, text)))
            index = batch.add(now)
            self._waiting.setdefault(user, deque()).append((batch, index))
            self.released += 1
        self._arrived.set()
        self._arrived = asyncio.Event()
        return now

    def pending_fetch(self) -> int:
        """Released updates the bot has not fetched yet."""
        return self._next_update_id - 1 - self.delivered_up_to

    # ------------------------------------------------------------ the API

    async def _handle(self, request: web.Request) -> web.Response:
        now = perf_counter()
        method = request.match_info["method"]
        self.calls[method] = self.calls.get(method, 0) + 1
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        params = await _params(request)
        if method == "getUpdates":
            return await self._get_updates(params)
        if method.startswith(REPLY_PREFIXES) and method not in NOT_REPLIES:
            self._reply(method, params, now)
        return _ok(self._result(method, params))

    async def _get_updates(self, params: Any) -> web.Response:
        self.get_updates_calls += 1
        self.polling.set()
        offset = _int(params.get("offset"), 0)
        limit = min(max(_int(params.get("limit"), 100), 1), 100)
        timeout = max(_int(params.get("timeout"), 0), 0)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            while self._queue and self._queue[0][0] < offset:  # acknowledged
                self._queue.popleft()
            if self._queue:
                break
            remaining = deadline - loop.time()
            if remaining <= 0 or self._runner is None:
                break
            try:
                await asyncio.wait_for(self._arrived.wait(), remaining)
            except TimeoutError:
                break
        if not self._queue:
            self.get_updates_empty += 1
        taken = [self._queue[i] for i in range(min(limit, len(self._queue)))]
        if taken:
            self.delivered_up_to = max(self.delivered_up_to, taken[-1][0])
        body = b'{"ok":true,"result":[' + b",".join(raw for _, raw in taken) + b"]}"
        return web.Response(body=body, content_type="application/json")

    def _reply(self, method: str, params: Any, now: float) -> None:
        chat = _int(params.get("chat_id"), 0)
        if not chat and method == "answerCallbackQuery":  # ids are "<user>:<n>" here
            chat = _int(str(params.get("callback_query_id", "")).split(":", 1)[0], 0)
        waiting = self._waiting.get(chat)
        if not waiting:
            self.unmatched_replies += 1
            return
        batch, index = waiting.popleft()
        if not waiting:
            del self._waiting[chat]
        batch.answer(index, now)
        if not batch.sample:
            text = params.get("text") or params.get("caption") or method
            batch.sample = text[:120] if isinstance(text, str) else method

    def _result(self, method: str, params: Any) -> Any:
        if method == "getMe":
            return BOT_USER
        if method == "getWebhookInfo":
            return {"url": "", "has_custom_certificate": False, "pending_update_count": 0}
        if method == "copyMessage":
            return {"message_id": self._message_id()}
        if method.startswith(MESSAGE_PREFIXES) and method not in NOT_REPLIES:
            if method.startswith("edit") and params.get("inline_message_id"):
                return True
            return self._message(method, params)
        if method == "getChat":
            chat = _int(params.get("chat_id"), 0)
            return {"id": chat, "type": "private" if chat > 0 else "supergroup"}
        return True  # deleteWebhook, setMyCommands, answerCallbackQuery, deleteMessage, ...

    def _message(self, method: str, params: Any) -> dict[str, Any]:
        chat = _int(params.get("chat_id"), 0)
        message: dict[str, Any] = {
            "message_id": _int(params.get("message_id"), 0) or self._message_id(),
            "date": int(time.time()),
            "chat": {"id": chat, "type": "private" if chat > 0 else "supergroup"},
            "from": BOT_USER,
        }
        if method == "sendDocument":
            message["document"] = {"file_id": "doc", "file_unique_id": "doc"}
            caption = params.get("caption")
            if isinstance(caption, str):
                message["caption"] = caption
        else:
            text = params.get("text")
            message["text"] = text if isinstance(text, str) else ""
        return message

    def _message_id(self) -> int:
        self._next_message_id += 1
        return self._next_message_id


async def _params(request: web.Request) -> Any:
    """A call's fields: a JSON body (the bot's calls without a file) or a form (aiogram's)."""
    if not request.can_read_body:
        return {}
    if request.content_type == "application/json":
        body = await request.json()
        return body if isinstance(body, dict) else {}
    return await request.post()


def _int(value: object, default: int) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            return default
    return default


def _ok(result: Any) -> web.Response:
    return web.Response(
        body=json.dumps({"ok": True, "result": result}).encode(), content_type="application/json"
    )


def _error(code: int, description: str) -> web.Response:
    body = {"ok": False, "error_code": code, "description": description}
    return web.Response(
        body=json.dumps(body).encode(), status=code, content_type="application/json"
    )
