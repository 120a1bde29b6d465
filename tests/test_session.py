"""The Bot's session (handlers/session.py) sends exactly what aiogram's own would."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramAPIError
from aiogram.methods import (
    AnswerCallbackQuery,
    EditMessageText,
    SendDocument,
    SendMessage,
    SetMyCommands,
    TelegramMethod,
)
from aiogram.types import (
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    LinkPreviewOptions,
    MessageEntity,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from aiohttp import FormData
from aiohttp.payload import BytesPayload

from domain.rules import Business, Rules
from handlers.callback_data import Destination, Nav
from handlers.session import BotSession
from handlers.views.base import Screen, fixed_keyboard
from handlers.views.menu import language_screen, main_menu
from tests.support.botapi_emulator import BotAPIEmulator
from utils.i18n import Translations

TOKEN = "123456:AAHsessionSessionSessionSession0123"
MARKUP = InlineKeyboardMarkup(
    inline_keyboard=[
        [InlineKeyboardButton(text="Book", callback_data=Nav(to=Destination.BOOK).pack())],
        [InlineKeyboardButton(text="Site", url="https://example.com/?a=1&b=2")],
    ]
)


def _methods() -> list[TelegramMethod[Any]]:
    t = Translations()("ru")
    return [
        SendMessage(chat_id=5, text="<b>Привет</b> & <i>hi</i> 100%"),
        SendMessage(chat_id=-100123, text="x", reply_markup=MARKUP, disable_notification=False),
        SendMessage(chat_id=5, text="menu", reply_markup=language_screen(t).markup),
        SendMessage(
            chat_id=5,
            text="name?",
            reply_markup=ReplyKeyboardMarkup(
                keyboard=[[KeyboardButton(text="Ann", request_contact=True)]],
                resize_keyboard=True,
                one_time_keyboard=True,
            ),
        ),
        SendMessage(chat_id=5, text="thanks", reply_markup=ReplyKeyboardRemove()),
        SendMessage(
            chat_id=5,
            text="plain",
            parse_mode=None,
            entities=[MessageEntity(type="bold", offset=0, length=5)],
            link_preview_options=LinkPreviewOptions(is_disabled=True),
        ),
        EditMessageText(chat_id=5, message_id=7, text="edited", reply_markup=MARKUP),
        AnswerCallbackQuery(callback_query_id="5:1", text="Out of date", show_alert=True),
        AnswerCallbackQuery(callback_query_id="5:2"),
        SetMyCommands(
            commands=[BotCommand(command="start", description="Меню")],
            scope=BotCommandScopeAllPrivateChats(),
            language_code="ru",
        ),
        SetMyCommands(commands=[], scope=BotCommandScopeAllPrivateChats()),
    ]


def _fields(form: FormData) -> list[tuple[Any, Any]]:
    # FormData keeps (type options, headers, value) per field; the options name the field.
    return [(dict(options), value) for options, _headers, value in form._fields]


@pytest.mark.parametrize("method", _methods(), ids=lambda m: type(m).__name__)
def test_the_form_is_aiogram_s_byte_for_byte(method: TelegramMethod[Any]) -> None:
    bot = Bot(TOKEN, default=DefaultBotProperties(parse_mode="HTML"))
    ours = BotSession().multipart(bot, method)
    theirs = AiohttpSession().build_form_data(bot, method)
    assert _fields(ours) == _fields(theirs)
    assert ours().decode() == theirs().decode()


@pytest.mark.parametrize("method", _methods(), ids=lambda m: type(m).__name__)
async def test_a_json_body_carries_what_aiogram_s_form_carries(
    method: TelegramMethod[Any],
) -> None:
    """Over HTTP to the Bot API emulator: our JSON body and aiogram's url-encoded form arrive
    as the same parameters, and both sessions get the same answer (or the same error)."""
    async with BotAPIEmulator() as api:
        server = TelegramAPIServer.from_base(api.base_url)
        answers = []
        for session in (BotSession(api=server), AiohttpSession(api=server)):
            bot = Bot(TOKEN, session=session, default=DefaultBotProperties(parse_mode="HTML"))
            try:
                answers.append(await bot(method))
            except TelegramAPIError as exc:
                answers.append(type(exc))
            finally:
                await session.close()
    ours, theirs = api.calls
    body = BotSession().build_form_data(bot, method)  # sent as JSON, not as a form
    assert isinstance(body, BytesPayload) and body.content_type == "application/json"
    assert (ours.method, ours.params) == (theirs.method, theirs.params)
    assert type(answers[0]) is type(answers[1])


def test_false_and_zero_are_sent_and_unset_fields_are_not() -> None:
    bot = Bot(TOKEN, default=DefaultBotProperties(parse_mode="HTML"))
    method = SendMessage(chat_id=5, text="x", disable_notification=False, message_thread_id=0)
    assert BotSession().build_json(bot, method) == {
        "chat_id": 5,
        "text": "x",
        "parse_mode": "HTML",
        "disable_notification": False,
        "message_thread_id": 0,
    }


def test_a_file_is_attached_as_aiogram_attaches_it(monkeypatch: pytest.MonkeyPatch) -> None:
    names = itertools.count()
    monkeypatch.setattr(
        "aiogram.client.session.base.secrets.token_urlsafe", lambda _n: f"file{next(names)}"
    )
    bot = Bot(TOKEN, default=DefaultBotProperties(parse_mode="HTML"))
    method = SendDocument(
        chat_id=5,
        document=BufferedInputFile(b"BEGIN:VCALENDAR", filename="visit.ics"),
        caption="Add it <b>to your calendar</b>",
        reply_markup=MARKUP,
    )
    ours = _fields(BotSession().multipart(bot, method))
    names = itertools.count()
    theirs = _fields(AiohttpSession().build_form_data(bot, method))
    # The file's content is a generator read at send time: compare what names it.
    assert [(o, v if isinstance(v, str) else None) for o, v in ours] == [
        (o, v if isinstance(v, str) else None) for o, v in theirs
    ]
    assert ours[-1][0]["filename"] == "visit.ics"
    assert isinstance(BotSession().build_form_data(bot, method), FormData)  # a file: multipart


def test_fixed_keyboards_follow_the_language_and_are_built_once(rules: Rules) -> None:
    translations = Translations()
    ru, en = translations("ru"), translations("en")
    business = Business(name="Studio", address="", phone="", currency="RUB", rules=rules)
    assert language_screen(ru).markup is language_screen(ru).markup  # built once, shared
    ann, bob = main_menu(ru, business, "Ann"), main_menu(ru, business, "Bob")
    assert ann.markup is bob.markup and "Ann" in ann.text and "Bob" in bob.text
    for t in (ru, en):  # each language its own keyboard, in its own words
        labels = [b.text for row in _rows(main_menu(t, business, "Ann")) for b in row]
        assert labels == [t(k) for k in MENU_KEYS]
    assert main_menu(en, business, "Ann").markup is not ann.markup
    # The same keyboard as one built button by button, as every other screen is.
    assert fixed_keyboard((("A", "nav:home"),)) == InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="A", callback_data="nav:home")]]
    )


MENU_KEYS = ("menu.book", "menu.my", "menu.services", "menu.contacts", "menu.language")


def _rows(screen: Screen) -> list[list[InlineKeyboardButton]]:
    assert screen.markup is not None
    return screen.markup.inline_keyboard
