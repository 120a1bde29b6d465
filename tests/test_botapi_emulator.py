"""The emulator is only useful if real aiogram accepts its answers, so every test
drives it through an unmodified aiogram Bot over HTTP."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiogram import Bot, Dispatcher, Router
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)
from aiogram.types import (
    BotCommand,
    BotCommandScopeChat,
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)

from tests.support.botapi_emulator import BotAPIEmulator, FakeUser, UploadedFile

TOKEN = "123456:TEST-token_abc"
ANN = FakeUser(id=1001, first_name="Ann", username="ann")
BOB = FakeUser(id=1002, first_name="Bob", language_code="de")


def make_bot(
    emulator: BotAPIEmulator, token: str = TOKEN, default: DefaultBotProperties | None = None
) -> Bot:
    session = AiohttpSession(api=TelegramAPIServer.from_base(emulator.base_url))
    return Bot(token, session=session, default=default)


def keyboard(*buttons: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=t, callback_data=d)] for t, d in buttons]
    )


@pytest.fixture
async def emulator() -> AsyncIterator[BotAPIEmulator]:
    async with BotAPIEmulator() as api:
        yield api


@pytest.fixture
async def bot(emulator: BotAPIEmulator) -> AsyncIterator[Bot]:
    bot = make_bot(emulator)
    yield bot
    await bot.session.close()


async def test_get_me(bot: Bot, emulator: BotAPIEmulator) -> None:
    me = await bot.get_me()

    assert me.id == 123456
    assert me.is_bot
    assert me.username == "test_booking_bot"
    assert emulator.base_url.startswith("http://127.0.0.1:")
    assert [call.method for call in emulator.calls] == ["getMe"]
    assert emulator.calls[0].token == TOKEN


async def test_send_and_edit_keep_message_state(bot: Bot, emulator: BotAPIEmulator) -> None:
    sent = await bot.send_message(ANN.id, "Pick a slot", reply_markup=keyboard(("10:00", "s:10")))
    edited = await bot.edit_message_text(
        "Pick a slot (updated)",
        chat_id=ANN.id,
        message_id=sent.message_id,
        reply_markup=keyboard(("11:00", "s:11")),
    )
    assert isinstance(edited, Message)
    await bot.edit_message_reply_markup(
        chat_id=ANN.id, message_id=sent.message_id, reply_markup=keyboard(("12:00", "s:12"))
    )

    assert sent.chat.type == "private"
    assert sent.from_user is not None
    assert sent.from_user.is_bot
    assert abs(sent.date.timestamp() - time.time()) < 5
    assert edited.text == "Pick a slot (updated)"
    # aiogram decoded the form-encoded values back into typed params.
    call = emulator.calls_of("sendMessage")[0]
    assert call.params["chat_id"] == ANN.id
    assert call.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "s:10"
    current = emulator.message(ANN.id, sent.message_id)
    assert current["text"] == "Pick a slot (updated)"
    assert current["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "s:12"
    history = emulator.sent_to(ANN.id)
    assert [m["reply_markup"]["inline_keyboard"][0][0]["text"] for m in history] == [
        "10:00",
        "11:00",
        "12:00",
    ]
    second = await bot.send_message(ANN.id, "next")
    assert second.message_id == sent.message_id + 1


async def test_edit_errors_match_telegram(bot: Bot, emulator: BotAPIEmulator) -> None:
    sent = await bot.send_message(ANN.id, "Hello")

    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text("Hello", chat_id=ANN.id, message_id=sent.message_id)
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("Hi", chat_id=ANN.id, message_id=999)
    assert await bot.delete_message(ANN.id, sent.message_id)
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(ANN.id, sent.message_id)
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(ANN.id, "x", reply_markup=keyboard(("too long", "x" * 65)))


async def test_html_parse_mode_renders_entities(emulator: BotAPIEmulator) -> None:
    bot = make_bot(emulator, default=DefaultBotProperties(parse_mode="HTML"))
    try:
        sent = await bot.send_message(ANN.id, "<b>Booked</b> for 10:00 &amp; <i>paid</i>")
        with pytest.raises(TelegramBadRequest, match="can't parse entities"):
            await bot.send_message(ANN.id, "<b>unclosed")
    finally:
        await bot.session.close()

    assert sent.text == "Booked for 10:00 & paid"
    assert sent.entities is not None
    assert [(e.type, e.offset, e.length) for e in sent.entities] == [
        ("bold", 0, 6),
        ("italic", 19, 4),
    ]
    found = await emulator.wait_for_message(ANN.id, contains="Booked for")
    assert found.params["parse_mode"] == "HTML"


async def test_send_document_arrives_with_bytes(bot: Bot, emulator: BotAPIEmulator) -> None:
    payload = b"name,slot\nAnn,10:00\n"

    sent = await bot.send_document(
        ANN.id, BufferedInputFile(payload, filename="bookings.csv"), caption="Export"
    )

    assert sent.document is not None
    assert sent.document.file_name == "bookings.csv"
    assert sent.document.file_size == len(payload)
    assert sent.caption == "Export"
    call = emulator.calls_of("sendDocument")[0]
    upload = call.params["document"]
    assert isinstance(upload, UploadedFile)
    assert upload.content == payload
    assert upload.filename == "bookings.csv"
    assert upload.mime_type == "text/csv"
    assert call.params["caption"] == "Export"
    # Re-sending by file_id is how bots avoid re-uploading.
    again = await bot.send_document(BOB.id, sent.document.file_id)
    assert again.document is not None
    assert again.document.file_name == "bookings.csv"


async def test_get_updates_returns_early_when_message_arrives(
    bot: Bot, emulator: BotAPIEmulator
) -> None:
    started = time.monotonic()
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await emulator.wait_for(lambda call: call.method == "getUpdates")

    emulator.send_message(ANN, "/start promo")
    updates = await poll

    assert time.monotonic() - started < 2
    assert len(updates) == 1
    message = updates[0].message
    assert message is not None
    assert message.text == "/start promo"
    assert message.from_user is not None
    assert message.from_user.username == "ann"
    assert message.chat.type == "private"
    assert message.entities is not None
    assert (message.entities[0].type, message.entities[0].length) == ("bot_command", 6)


async def test_get_updates_times_out_empty(bot: Bot) -> None:
    started = time.monotonic()

    assert await bot.get_updates(timeout=1) == []
    assert 0.9 < time.monotonic() - started < 2


async def test_offset_confirms_updates(bot: Bot, emulator: BotAPIEmulator) -> None:
    emulator.send_message(ANN, "one")
    emulator.send_message(BOB, "two")
    emulator.send_contact(ANN, "+15550001")
    emulator.send_message(BOB, "in group", chat_id=-100777)

    first = await bot.get_updates(limit=2)
    rest = await bot.get_updates(offset=first[-1].update_id + 1)
    again = await bot.get_updates(offset=rest[-1].update_id + 1)

    assert [u.message.text for u in first if u.message] == ["one", "two"]
    assert len(rest) == 2
    contact = rest[0].message
    assert contact is not None
    assert contact.contact is not None
    assert contact.contact.phone_number == "+15550001"
    assert contact.contact.user_id == ANN.id
    group = rest[1].message
    assert group is not None
    assert group.chat.type == "supergroup"
    assert group.chat.id == -100777
    assert again == []
    assert emulator.pending_updates == []


async def test_click_by_text_produces_callback_query(bot: Bot, emulator: BotAPIEmulator) -> None:
    sent = await bot.send_message(
        ANN.id, "When?", reply_markup=keyboard(("Monday", "day:1"), ("Tuesday", "day:2"))
    )

    query_id = emulator.click(ANN, emulator.sent_to(ANN.id)[-1], text="Tuesday")
    updates = await bot.get_updates()
    await bot.answer_callback_query(query_id, text="Saved")
    answer = await emulator.answers_to(query_id)

    query = updates[0].callback_query
    assert query is not None
    assert query.id == query_id
    assert query.data == "day:2"
    assert query.from_user.id == ANN.id
    assert isinstance(query.message, Message)
    assert query.message.message_id == sent.message_id
    assert answer.params["text"] == "Saved"
    with pytest.raises(AssertionError, match=r"'Monday' -> 'day:1', 'Tuesday' -> 'day:2'"):
        emulator.click(ANN, sent, text="Wednesday")
    # Each query can be answered once, like on Telegram.
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query(query_id)


async def test_fail_next_raises_retry_after(bot: Bot, emulator: BotAPIEmulator) -> None:
    emulator.fail_next(
        "sendMessage",
        error_code=429,
        description="Too Many Requests: retry after 3",
        retry_after=3,
    )

    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(ANN.id, "hi")
    retried = await bot.send_message(ANN.id, "hi")

    assert caught.value.retry_after == 3
    assert retried.text == "hi"
    assert [call.ok for call in emulator.calls_of("sendMessage")] == [False, True]


async def test_block_user_is_forbidden(bot: Bot, emulator: BotAPIEmulator) -> None:
    emulator.block_user(BOB.id)

    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(BOB.id, "reminder")
    assert (await bot.send_message(ANN.id, "reminder")).text == "reminder"
    assert emulator.sent_to(BOB.id) == []


async def test_commands_are_kept_per_scope_and_language(bot: Bot, emulator: BotAPIEmulator) -> None:
    await bot.set_my_commands([BotCommand(command="book", description="Book a slot")])
    await bot.set_my_commands(
        [BotCommand(command="buchen", description="Termin buchen")],
        scope=BotCommandScopeChat(chat_id=BOB.id),
        language_code="de",
    )

    default = await bot.get_my_commands()
    german = await bot.get_my_commands(
        scope=BotCommandScopeChat(chat_id=BOB.id), language_code="de"
    )

    assert [c.command for c in default] == ["book"]
    assert [c.command for c in german] == ["buchen"]
    assert emulator.commands_for({"type": "chat", "chat_id": BOB.id}, "de")[0]["command"] == (
        "buchen"
    )
    assert await bot.delete_my_commands()
    assert await bot.get_my_commands() == []


async def test_unknown_method_and_bad_token(emulator: BotAPIEmulator) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{emulator.base_url}/bot{TOKEN}/sendTeleport") as resp:
            assert resp.status == 404
            assert await resp.json() == {
                "ok": False,
                "error_code": 404,
                "description": "Not Found: method not found",
            }
        # Plain JSON bodies are accepted too, not only aiogram's form encoding.
        async with http.post(
            f"{emulator.base_url}/bot{TOKEN}/sendMessage", json={"chat_id": 5, "text": "42"}
        ) as resp:
            assert (await resp.json())["result"]["text"] == "42"

    # aiogram's own token check only wants digits:anything, so this reaches the server.
    bad = make_bot(emulator, token="42:not.a.token")
    try:
        with pytest.raises(TelegramUnauthorizedError, match="Unauthorized"):
            await bad.get_me()
    finally:
        await bad.session.close()


async def test_wait_for_times_out_with_summary(bot: Bot, emulator: BotAPIEmulator) -> None:
    await bot.send_message(ANN.id, "hello there")

    with pytest.raises(TimeoutError, match=r"sendMessage\(chat_id=1001, text='hello there'\)"):
        await emulator.wait_for_message(ANN.id, contains="never", timeout=0.1)


async def test_emulators_are_independent() -> None:
    async with BotAPIEmulator() as first, BotAPIEmulator(username="other_bot") as second:
        assert first.port != second.port
        bot = make_bot(second)
        try:
            assert (await bot.get_me()).username == "other_bot"
        finally:
            await bot.session.close()
        assert first.calls == []


async def test_dispatcher_polling_echo(emulator: BotAPIEmulator) -> None:
    router = Router()

    @router.message()
    async def echo(message: Message) -> None:
        await message.answer(f"echo: {message.text}")

    dp = Dispatcher()
    dp.include_router(router)
    bot = make_bot(emulator)
    polling = asyncio.create_task(dp.start_polling(bot, handle_signals=False))
    try:
        await emulator.wait_for(lambda call: call.method == "getUpdates")
        emulator.send_message(ANN, "hello")

        reply = await emulator.wait_for_message(ANN.id, contains="echo: hello")

        assert reply.result["chat"]["id"] == ANN.id
        poll = emulator.calls_of("getUpdates")[0]
        assert poll.params["allowed_updates"] == ["message"]
    finally:
        await dp.stop_polling()
        await polling
        await bot.session.close()
