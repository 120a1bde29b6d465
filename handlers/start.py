"""Main menu, help, contacts, price list and language."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandStart, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from domain.clients import Client
from domain.rules import Business
from handlers import specialist
from handlers.callback_data import Destination, LanguageCb, Nav
from handlers.common import show
from handlers.views import menu as views
from handlers.views.base import Screen
from services.accounts import AccountService
from services.catalog import CatalogService
from services.clients import ClientService
from utils.i18n import LANGUAGES, Translations, Translator


async def start(message: Message, t: Translator, business: Business, state: FSMContext) -> None:
    await state.clear()
    assert message.from_user is not None
    screen = views.main_menu(t, business, message.from_user.first_name)
    await message.answer(screen.text, reply_markup=screen.markup)


async def home(
    callback: CallbackQuery, t: Translator, business: Business, state: FSMContext
) -> None:
    await state.clear()  # left the registration: the next text is not taken for a name
    await show(callback, views.main_menu(t, business, callback.from_user.first_name))


async def help_command(message: Message, t: Translator, state: FSMContext) -> None:
    await state.clear()
    screen = views.help_screen(t)
    await message.answer(screen.text, reply_markup=screen.markup)


async def contacts(callback: CallbackQuery, t: Translator, business: Business) -> None:
    await show(callback, views.contacts_screen(t, business))


async def price_list(
    callback: CallbackQuery, t: Translator, business: Business, catalog: CatalogService
) -> None:
    await show(callback, views.price_list(t, business, await catalog.list_services()))


async def language_command(message: Message, t: Translator, state: FSMContext) -> None:
    await state.clear()
    screen = views.language_screen(t)
    await message.answer(screen.text, reply_markup=screen.markup)


async def language_menu(callback: CallbackQuery, t: Translator) -> None:
    await show(callback, views.language_screen(t))


async def set_language(
    callback: CallbackQuery,
    callback_data: LanguageCb,
    client: Client,
    clients: ClientService,
    translations: Translations,
    business: Business,
) -> None:
    updated = await clients.set_language(client.id, callback_data.code)  # type: ignore[arg-type]
    t = translations(updated.language)
    screen = views.main_menu(t, business, callback.from_user.first_name)
    await show(callback, Screen(t("lang.set") + "\n\n" + screen.text, screen.markup))


def make_router(accounts: AccountService) -> Router:
    """A fresh router each call: a Router can belong to only one Dispatcher. ``accounts``: who
    is a linked specialist, for their commands."""
    router = Router(name="start")
    specialist.register_link(router)  # a specialist's link, before the client's /start
    router.message.register(start, CommandStart(), StateFilter("*"))
    router.callback_query.register(home, Nav.filter(F.to == Destination.HOME))
    router.message.register(help_command, Command("help"), StateFilter("*"))
    router.callback_query.register(contacts, Nav.filter(F.to == Destination.CONTACTS))
    router.callback_query.register(price_list, Nav.filter(F.to == Destination.SERVICES))
    router.message.register(language_command, Command("language"), StateFilter("*"))
    router.callback_query.register(language_menu, Nav.filter(F.to == Destination.LANGUAGE))
    router.callback_query.register(set_language, LanguageCb.filter(F.code.in_(LANGUAGES)))
    # /today, /tomorrow, /week of a linked specialist
    specialist.register_commands(router, accounts)
    return router
