"""Flow tests: the real Dispatcher and routers, fed in-process, answered by the emulator.

End-to-end tests run the bot as a subprocess over HTTP, which is faithful but slow and
timing-dependent. Flow tests keep aiogram's whole update pipeline (filters, middlewares,
FSM, error mapping) but call ``dp.feed_update`` directly, and the bot's Bot API calls go
to ``BotAPIEmulator.call_api`` without HTTP, so both kinds of test get the same answers
and errors. Nothing sleeps or runs in the background: when an action returns, every
handler it triggered has finished::

    async with FlowHarness(dp) as flow:
        ann = flow.client(FakeUser(id=1, first_name="Ann"))
        await ann.send("/start")
        await ann.click("Book")
        assert ann.last_message["text"] == "Pick a day"
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self, cast

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.base import BaseSession
from aiogram.methods import TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import InputFile, Update

from tests.support.botapi_emulator import (
    ApiCall,
    BotAPIEmulator,
    FakeUser,
    UploadedFile,
    form_params,
)

__all__ = ["TOKEN", "Answer", "EmulatorSession", "FlowClient", "FlowHarness"]

JSON = dict[str, Any]

TOKEN = "123456:FLOW-test_token"


class EmulatorSession(BaseSession):
    """An aiogram session that hands each call to the emulator instead of HTTP.

    Params are built exactly like ``AiohttpSession.build_form_data`` and decoded with
    the emulator's own form decoding, and the answer goes through
    ``check_response``, so handlers see the same values and the same exceptions
    (TelegramBadRequest, TelegramRetryAfter, TelegramForbiddenError...) as in production.
    """

    def __init__(self, emulator: BotAPIEmulator) -> None:
        super().__init__()
        self.emulator = emulator

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        timeout: int | None = None,  # noqa: ASYNC109 - BaseSession signature; no I/O to bound
    ) -> TelegramType:
        params = await self.build_params(bot, method)
        status, body = await self.emulator.call_api(bot.token, method.__api_method__, params)
        response = self.check_response(
            bot=bot, method=method, status_code=status, content=self.json_dumps(body)
        )
        return cast(TelegramType, response.result)

    async def build_params(self, bot: Bot, method: TelegramMethod[Any]) -> dict[str, Any]:
        """The params the emulator would decode from aiogram's multipart form."""
        files: dict[str, InputFile] = {}
        fields: dict[str, str] = {}
        for key, value in method.model_dump(warnings=False).items():
            prepared = self.prepare_value(value, bot=bot, files=files)
            if not prepared:  # AiohttpSession drops empty fields too.
                continue
            fields[key] = str(prepared)
        uploads: dict[str, UploadedFile] = {}
        for key, file in files.items():
            content = b"".join([chunk async for chunk in file.read(bot)])
            uploads[key] = UploadedFile.received(file.filename or key, content)
        return form_params(fields, uploads)

    async def stream_content(
        self,
        url: str,
        headers: dict[str, Any] | None = None,
        timeout: int = 30,  # noqa: ASYNC109 - BaseSession signature
        chunk_size: int = 65536,
        raise_for_status: bool = True,
    ) -> AsyncGenerator[bytes, None]:
        raise NotImplementedError("the emulator serves no file downloads")
        yield b""  # type: ignore[unreachable]  # an async generator, like the base method

    async def close(self) -> None:
        """Nothing to release: there is no connection."""


@dataclass(frozen=True)
class Answer:
    """What the user saw after a click: a toast, or a popup when ``show_alert``."""

    text: str
    show_alert: bool = False


class FlowHarness:
    """A Dispatcher wired to a fresh emulator; one per test.

    ``data`` is passed to every ``feed_update`` as extra handler/middleware kwargs
    (services, clock...), on top of the dispatcher's own data and its services. The emulator's
    HTTP server is never started.
    """

    def __init__(
        self,
        dp: Dispatcher,
        *,
        token: str = TOKEN,
        emulator: BotAPIEmulator | None = None,
        data: Mapping[str, Any] | None = None,
    ) -> None:
        self.dp = dp
        self.emulator = emulator if emulator is not None else BotAPIEmulator()
        self.bot = Bot(
            token,
            session=EmulatorSession(self.emulator),
            default=DefaultBotProperties(parse_mode="HTML"),
        )
        self.data = dict(data or {})
        self._clients: dict[int, FlowClient] = {}

    @property
    def calls(self) -> list[ApiCall]:
        """Every Bot API call the bot made, in order (the emulator's record)."""
        return self.emulator.calls

    def client(self, user: FakeUser) -> FlowClient:
        """The user's private chat with the bot (same object for the same user id).

        Passing a changed FakeUser with a known id (say, a new language_code) keeps the
        chat and makes later actions come from the changed profile.
        """
        client = self._clients.get(user.id)
        if client is None:
            client = self._clients[user.id] = FlowClient(self, user)
        client.user = user
        return client

    async def feed_pending(self) -> None:
        """Run every queued update through the dispatcher, one at a time, in order.

        Like polling, a handler's returned TelegramMethod (webhook-style answer) is
        executed with API errors only logged. Unlike polling, a handler exception
        propagates so the test fails; updates after it stay queued.
        """
        while batch := self.emulator.take_updates(limit=1):
            update = Update.model_validate(batch[0], context={"bot": self.bot})
            response = await self.dp.feed_update(self.bot, update, **self.data)
            if isinstance(response, TelegramMethod):
                await self.dp.silent_call_request(bot=self.bot, result=response)

    async def aclose(self) -> None:
        await self.bot.session.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


def _is_bot(message: Mapping[str, Any]) -> bool:
    return bool(message.get("from", {}).get("is_bot"))


def _inline_texts(message: Mapping[str, Any]) -> list[str]:
    markup = message.get("reply_markup") or {}
    return [button["text"] for row in markup.get("inline_keyboard", []) for button in row]


def _keyboard_texts(markup: Any) -> list[str] | None:
    """Reply keyboard texts; [] when removed; None when the markup leaves it alone."""
    if not isinstance(markup, dict):
        return None
    if markup.get("remove_keyboard"):
        return []
    if "keyboard" not in markup:
        return None
    return [
        button if isinstance(button, str) else button["text"]
        for row in markup["keyboard"]
        for button in row
    ]


class FlowClient:
    """One user acting in their private chat (chat id == user id).

    ``send``/``click`` return only after the bot has finished reacting, with the last
    message the bot sent or edited in this chat during that action (as right after that
    call), or None if it showed nothing here.
    """

    def __init__(self, harness: FlowHarness, user: FakeUser) -> None:
        self.harness = harness
        self.user = user
        self.chat_id = user.id
        #: The Bot API calls the last send/click produced, in order, to any chat.
        self.calls_since_last_action: list[ApiCall] = []
        self._query_ids: list[str] = []

    @property
    def _api(self) -> BotAPIEmulator:
        return self.harness.emulator

    # -- actions ---------------------------------------------------------------------

    async def send(self, text: str) -> JSON | None:
        return await self._act(lambda: self._api.send_message(self.user, text))

    async def send_contact(self, phone: str, *, owner: FakeUser | None = None) -> JSON | None:
        """Share the user's own contact, as a request_contact reply button does, or
        ``owner``'s contact card (someone else's number)."""
        return await self._act(lambda: self._api.send_contact(self.user, phone, owner=owner))

    async def click(self, button_text: str, *, message: JSON | None = None) -> JSON | None:
        """Press the inline button with exactly this visible text.

        ``message`` defaults to the newest bot message here that has an inline keyboard;
        the button is looked up on its current markup, as the user sees it now.
        """
        target = message if message is not None else self._keyboard_message()
        return await self._act(
            lambda: self._clicked(self._api.click(self.user, target, text=button_text))
        )

    async def click_data(self, callback_data: str, *, message: JSON | None = None) -> JSON | None:
        """Send a callback query with any data, button or not: forged or stale clicks."""
        target = message if message is not None else self._keyboard_message()
        return await self._act(
            lambda: self._clicked(self._api.click_data(self.user, target, callback_data))
        )

    # -- what the user sees ----------------------------------------------------------

    @property
    def messages(self) -> list[JSON]:
        """Current state of every bot message still in the chat, oldest first."""
        return [m for m in self._api.messages_in(self.chat_id) if _is_bot(m)]

    @property
    def last_message(self) -> JSON | None:
        """Current state of the newest bot message in the chat."""
        messages = self.messages
        return messages[-1] if messages else None

    def buttons(self, message: JSON | None = None) -> list[str]:
        """Inline button texts, row by row, on the message as it is now (default: last)."""
        target = self._current(message) if message is not None else self.last_message
        return _inline_texts(target) if target is not None else []

    def reply_buttons(self, message: JSON | None = None) -> list[str]:
        """Reply keyboard texts ([] if none).

        With ``message``: the keyboard sent with it. Default: the keyboard the user has
        now, i.e. the last one sent here unless a later message removed it
        (one_time_keyboard hiding is not modelled). Telegram never echoes reply
        keyboards in the Message, so this reads what the bot sent.
        """
        shown: list[str] = []
        for call in self._sent_here(("sendMessage", "sendDocument")):
            texts = _keyboard_texts(call.params.get("reply_markup"))
            if message is not None:
                if call.result["message_id"] == message["message_id"]:
                    return texts or []
            elif texts is not None:
                shown = texts
        return shown

    @property
    def answered(self) -> bool:
        """Whether the bot answered the last click (the client's spinner stopped)."""
        return self._answer_call() is not None

    @property
    def last_answer(self) -> Answer | None:
        """The answer to the last click; None if unanswered or answered without text."""
        call = self._answer_call()
        return self._answer(call) if call is not None else None

    @property
    def alerts(self) -> list[Answer]:
        """Every toast or popup this user got from their clicks, in order."""
        mine = set(self._query_ids)
        answers = (
            self._answer(call)
            for call in self.harness.calls
            if call.method == "answerCallbackQuery"
            and call.ok
            and call.params.get("callback_query_id") in mine
        )
        return [answer for answer in answers if answer is not None]

    @property
    def documents(self) -> list[UploadedFile]:
        """Files the bot sent to this chat, in order (re-sends by file_id included)."""
        return [
            self._api.file(call.result["document"]["file_id"])
            for call in self._sent_here(("sendDocument",))
        ]

    # -- plumbing --------------------------------------------------------------------

    async def _act(self, queue: Callable[[], object]) -> JSON | None:
        mark = len(self.harness.calls)
        queue()
        self.calls_since_last_action = []
        try:
            await self.harness.feed_pending()
        finally:
            self.calls_since_last_action = self.harness.calls[mark:]
        shown = self._api.sent_to(self.chat_id, since=mark)
        return shown[-1] if shown else None

    def _clicked(self, query_id: str) -> None:
        self._query_ids.append(query_id)

    def _keyboard_message(self) -> JSON:
        for message in reversed(self.messages):
            if _inline_texts(message):
                return message
        raise AssertionError(
            f"no bot message with an inline keyboard in chat {self.chat_id}; "
            f"bot messages: {[m.get('text', m.get('caption')) for m in self.messages]}"
        )

    def _current(self, message: JSON) -> JSON:
        return self._api.message(int(message["chat"]["id"]), int(message["message_id"]))

    def _sent_here(self, methods: tuple[str, ...]) -> list[ApiCall]:
        return [
            call
            for call in self.harness.calls
            if call.method in methods
            and call.ok
            and isinstance(call.result, dict)
            and call.result["chat"]["id"] == self.chat_id
        ]

    def _answer_call(self) -> ApiCall | None:
        if not self._query_ids:
            return None
        last = self._query_ids[-1]
        for call in self.harness.calls:
            if (
                call.method == "answerCallbackQuery"
                and call.ok
                and call.params.get("callback_query_id") == last
            ):
                return call
        return None

    @staticmethod
    def _answer(call: ApiCall) -> Answer | None:
        text = call.params.get("text")
        if not text:
            return None
        return Answer(str(text), bool(call.params.get("show_alert")))
