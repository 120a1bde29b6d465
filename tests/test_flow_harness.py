"""The flow harness must behave like the bot in production: real Dispatcher and routers,
the emulator's answers and errors, and aiogram's own exception mapping."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiogram import Dispatcher, F, Router
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.filters import Command, CommandStart
from aiogram.methods import SendMessage
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    FSInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)

from tests.support.botapi_emulator import BotAPIEmulator, FakeUser
from tests.support.flow import TOKEN, Answer, FlowClient, FlowHarness

ANN = FakeUser(id=1001, first_name="Ann", username="ann")
BOB = FakeUser(id=1002, first_name="Bob")
CSV = b"name,slot\nAnn,10:00\n"


def keyboard(*buttons: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=t, callback_data=d) for t, d in buttons]]
    )


def build_router() -> Router:
    router = Router()

    @router.message(CommandStart())
    async def start(message: Message) -> None:
        await message.answer(
            "<b>Pick</b> one", reply_markup=keyboard(("A", "pick:A"), ("B", "pick:B"))
        )

    @router.callback_query(F.data.startswith("pick:"))
    async def pick(query: CallbackQuery) -> None:
        assert query.data is not None
        assert isinstance(query.message, Message)
        choice = query.data.removeprefix("pick:")
        if choice not in {"A", "B"}:
            await query.answer("Unknown option", show_alert=True)
            return
        await query.message.edit_text(f"chose {choice}")
        if choice == "A":
            await query.answer("ok", show_alert=True)
        else:
            await query.answer()

    @router.message(Command("export"))
    async def export(message: Message) -> None:
        await message.answer_document(BufferedInputFile(CSV, "bookings.csv"), caption="Export")

    @router.message(Command("missing"))
    async def missing(message: Message, bot_note: str) -> None:
        try:
            await message.bot.edit_message_text(  # type: ignore[union-attr]
                "nope", chat_id=message.chat.id, message_id=999
            )
        except TelegramBadRequest as exc:
            await message.answer(f"{bot_note}: {exc.message}")

    @router.message(Command("long"))
    async def long_data(message: Message) -> None:
        await message.answer("too long", reply_markup=keyboard(("X", "x" * 65)))

    @router.message(Command("notify"))
    async def notify(message: Message) -> None:
        try:
            await message.answer("reminder")
        except TelegramForbiddenError as exc:
            await message.answer(f"blocked: {exc.message}")

    @router.message(Command("phone"))
    async def phone(message: Message) -> None:
        share = KeyboardButton(text="Share phone", request_contact=True)
        await message.answer(
            "Your phone?",
            reply_markup=ReplyKeyboardMarkup(keyboard=[[share]], resize_keyboard=True),
        )

    @router.message(F.contact)
    async def contact(message: Message) -> None:
        assert message.contact is not None
        await message.answer(
            f"got {message.contact.phone_number}", reply_markup=ReplyKeyboardRemove()
        )

    @router.message(Command("ping"))
    async def ping(message: Message) -> SendMessage:
        # Webhook-style answer: polling executes the returned method, so must the harness.
        return message.answer("pong")

    return router


@pytest.fixture
async def flow() -> AsyncIterator[FlowHarness]:
    dp = Dispatcher()
    dp.include_router(build_router())
    async with FlowHarness(dp, data={"bot_note": "edit failed"}) as harness:
        yield harness


@pytest.fixture
def ann(flow: FlowHarness) -> FlowClient:
    return flow.client(ANN)


def methods(client: FlowClient) -> list[str]:
    return [call.method for call in client.calls_since_last_action]


async def test_call_api_needs_no_server() -> None:
    api = BotAPIEmulator()

    status, body = await api.call_api(TOKEN, "getMe", {})
    bad_status, bad_body = await api.call_api("nonsense", "getMe", {})
    missing_status, _ = await api.call_api(TOKEN, "sendTeleport", {})

    assert status == 200
    assert body["result"]["username"] == "test_booking_bot"
    assert (bad_status, bad_body["description"]) == (401, "Unauthorized")
    assert missing_status == 404
    assert [call.method for call in api.calls] == ["getMe", "getMe", "sendTeleport"]
    with pytest.raises(RuntimeError, match="not started"):
        _ = api.port


async def test_send_and_click(flow: FlowHarness, ann: FlowClient) -> None:
    shown = await ann.send("/start")

    assert shown is not None
    assert shown["text"] == "Pick one"
    assert shown["entities"][0]["type"] == "bold"
    assert methods(ann) == ["sendMessage"]
    assert ann.calls_since_last_action[0].params["parse_mode"] == "HTML"
    assert ann.buttons() == ["A", "B"]
    assert not ann.answered

    edited = await ann.click("A")

    assert methods(ann) == ["editMessageText", "answerCallbackQuery"]
    assert edited is not None
    assert edited["text"] == "chose A"
    assert edited["message_id"] == shown["message_id"]
    assert ann.last_message == ann.messages[-1]
    assert ann.last_message is not None
    assert ann.last_message["text"] == "chose A"
    # Telegram drops a keyboard that the edit does not resend.
    assert ann.buttons() == []
    assert ann.last_answer == Answer("ok", show_alert=True)
    assert ann.alerts == [Answer("ok", show_alert=True)]
    assert flow.emulator.pending_updates == []
    with pytest.raises(AssertionError, match="no bot message with an inline keyboard"):
        await ann.click("B")


async def test_answer_without_text_and_explicit_message(ann: FlowClient) -> None:
    first = await ann.send("/start")
    await ann.send("/start")
    assert first is not None

    await ann.click("B", message=first)

    assert ann.answered
    assert ann.last_answer is None
    assert [m["text"] for m in ann.messages] == ["chose B", "Pick one"]
    assert ann.buttons(first) == []
    assert ann.buttons() == ["A", "B"]


async def test_click_data_sends_forged_and_stale_data(ann: FlowClient) -> None:
    await ann.send("/start")

    await ann.click_data("pick:Z")
    assert ann.last_answer == Answer("Unknown option", show_alert=True)
    assert methods(ann) == ["answerCallbackQuery"]

    await ann.click("A")
    stale = ann.last_message
    assert stale is not None
    # The keyboard is gone, but an old client can still deliver the old data.
    with pytest.raises(AssertionError, match="available buttons: none"):
        await ann.click("B", message=stale)
    await ann.click_data("pick:B", message=stale)

    assert ann.last_message is not None
    assert ann.last_message["text"] == "chose B"
    assert ann.alerts == [Answer("Unknown option", show_alert=True), Answer("ok", show_alert=True)]


async def test_documents_reach_the_chat(flow: FlowHarness, ann: FlowClient, tmp_path: Path) -> None:
    shown = await ann.send("/export")

    assert shown is not None
    assert shown["document"]["file_name"] == "bookings.csv"
    assert shown["caption"] == "Export"
    assert methods(ann) == ["sendDocument"]
    assert [(d.filename, d.content, d.mime_type) for d in ann.documents] == [
        ("bookings.csv", CSV, "text/csv")
    ]
    # Files read from disk go through InputFile.read(bot) too.
    path = tmp_path / "report.txt"
    path.write_bytes(b"report")
    await flow.bot.send_document(ANN.id, FSInputFile(path))
    assert [d.content for d in ann.documents] == [CSV, b"report"]
    assert flow.client(BOB).documents == []


async def test_bad_request_is_caught_inside_the_handler(ann: FlowClient) -> None:
    shown = await ann.send("/missing")

    assert shown is not None
    assert shown["text"] == "edit failed: Bad Request: message to edit not found"
    assert methods(ann) == ["editMessageText", "sendMessage"]
    assert not ann.calls_since_last_action[0].ok


async def test_callback_data_over_64_bytes_is_refused(flow: FlowHarness, ann: FlowClient) -> None:
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await ann.send("/long")

    assert methods(ann) == ["sendMessage"]
    assert ann.calls_since_last_action[0].error is not None
    assert ann.messages == []
    assert flow.emulator.pending_updates == []


async def test_forbidden_reaches_the_handler_as_aiogram_error(
    flow: FlowHarness, ann: FlowClient
) -> None:
    flow.emulator.fail_next(
        "sendMessage", error_code=403, description="Forbidden: bot was blocked by the user"
    )

    shown = await ann.send("/notify")

    assert shown is not None
    assert shown["text"] == "blocked: Forbidden: bot was blocked by the user"
    assert methods(ann) == ["sendMessage", "sendMessage"]
    assert [call.ok for call in ann.calls_since_last_action] == [False, True]


async def test_reply_keyboard_and_contact(ann: FlowClient) -> None:
    asked = await ann.send("/phone")
    assert ann.reply_buttons() == ["Share phone"]

    shown = await ann.send_contact("+15550001")

    assert shown is not None
    assert shown["text"] == "got +15550001"
    assert ann.reply_buttons() == []
    assert asked is not None
    assert ann.reply_buttons(asked) == ["Share phone"]


async def test_returned_method_is_executed_like_polling(ann: FlowClient) -> None:
    shown = await ann.send("/ping")

    assert shown is not None
    assert shown["text"] == "pong"
    assert methods(ann) == ["sendMessage"]


async def test_clients_have_separate_chats(flow: FlowHarness, ann: FlowClient) -> None:
    bob = flow.client(BOB)

    await ann.send("/start")
    nothing = await bob.send("hello")

    assert nothing is None
    assert bob.calls_since_last_action == []
    assert bob.messages == []
    assert [m["chat"]["id"] for m in ann.messages] == [ANN.id]
    assert flow.client(ANN) is ann
    assert [call.method for call in flow.calls] == ["sendMessage"]
