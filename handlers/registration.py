"""The way into booking (Book, /book), and the registration before a client's first booking:
their name, then (if REQUIRE_PHONE) their phone, asked with FSM state."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import (
    CallbackQuery,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)

from domain.clients import Client, NameProblem, RegistrationStep, clean_name
from domain.outcomes import Outcome
from domain.rules import Business
from handlers.callback_data import Destination, Nav
from handlers.common import reply, show
from handlers.filters import inline
from handlers.views import booking as views
from handlers.views.base import Screen
from services.catalog import CatalogService
from services.clients import ClientService
from utils.formatting import esc
from utils.i18n import Translator


class Registration(StatesGroup):
    """Asked once, before a client's first booking."""

    name = State()
    phone = State()


def registration_state(step: RegistrationStep) -> State:
    return {RegistrationStep.NAME: Registration.name, RegistrationStep.PHONE: Registration.phone}[
        step
    ]


async def _next_step(
    client: Client,
    t: Translator,
    business: Business,
    catalog: CatalogService,
    state: FSMContext,
) -> Screen | None:
    """The services list, or None after asking for what is still missing (name, phone); a
    blocked client is given the business's contacts instead."""
    if client.is_blocked:
        await state.clear()
        return views.refusal_screen(t, business, Outcome.BLOCKED, moving=False)
    missing = business.rules.missing_registration(client)
    if missing is not None:
        await state.set_state(registration_state(missing))
        return None
    await state.clear()
    return views.services_screen(t, business, await catalog.list_services())


async def ask(message: Message, client: Client, t: Translator, state: FSMContext) -> None:
    current = await state.get_state()
    if current == Registration.name.state:
        keyboard = ReplyKeyboardMarkup(
            keyboard=[[KeyboardButton(text=client.first_name or "")]] if client.first_name else [],
            resize_keyboard=True,
            one_time_keyboard=True,
        )
        await message.answer(t("reg.ask_name"), reply_markup=keyboard)
    elif current == Registration.phone.state:
        keyboard = ReplyKeyboardMarkup(
            keyboard=[[KeyboardButton(text=t("reg.share_phone"), request_contact=True)]],
            resize_keyboard=True,
            one_time_keyboard=True,
        )
        await message.answer(t("reg.ask_phone"), reply_markup=keyboard)


async def book_command(
    message: Message,
    client: Client,
    t: Translator,
    business: Business,
    catalog: CatalogService,
    state: FSMContext,
) -> None:
    screen = await _next_step(client, t, business, catalog, state)
    if screen is None:
        await ask(message, client, t, state)
    else:
        await reply(message, screen)


async def book_button(
    callback: CallbackQuery,
    client: Client,
    t: Translator,
    business: Business,
    catalog: CatalogService,
    state: FSMContext,
) -> None:
    screen = await _next_step(client, t, business, catalog, state)
    if screen is not None:
        await show(callback, screen)
        return
    await callback.answer()
    if isinstance(callback.message, Message):
        await ask(callback.message, client, t, state)


async def got_name(
    message: Message,
    client: Client,
    clients: ClientService,
    t: Translator,
    business: Business,
    catalog: CatalogService,
    state: FSMContext,
) -> None:
    name = clean_name(message.text or "")
    if name is NameProblem.EMPTY or (isinstance(name, str) and name.startswith("/")):
        await message.answer(t("reg.bad_name_empty"))
        return
    if name is NameProblem.TOO_LONG:
        await message.answer(t("reg.bad_name_long", max=64))
        return
    client = await clients.set_name(client.id, str(name))
    await _continue(message, client, t, business, catalog, state)


async def got_phone(
    message: Message,
    client: Client,
    clients: ClientService,
    t: Translator,
    business: Business,
    catalog: CatalogService,
    state: FSMContext,
) -> None:
    contact = message.contact
    assert contact is not None
    if contact.user_id != client.id:
        await message.answer(t("reg.phone_button_only"))
        return
    client = await clients.set_phone(client.id, contact.phone_number)
    await _continue(message, client, t, business, catalog, state)


async def registration_other(
    message: Message, client: Client, t: Translator, state: FSMContext
) -> None:
    if await state.get_state() == Registration.name.state:
        await message.answer(t("reg.bad_name_empty"))
    else:
        await message.answer(t("reg.phone_button_only"))
    await ask(message, client, t, state)


async def _continue(
    message: Message,
    client: Client,
    t: Translator,
    business: Business,
    catalog: CatalogService,
    state: FSMContext,
) -> None:
    screen = await _next_step(client, t, business, catalog, state)
    if screen is None:
        await ask(message, client, t, state)
        return
    await message.answer(t("reg.thanks", name=esc(client.name)), reply_markup=ReplyKeyboardRemove())
    await reply(message, screen)


def make_router() -> Router:
    """A fresh router each call: a Router can belong to only one Dispatcher."""
    router = Router(name="registration")
    router.message.register(book_command, Command("book"), StateFilter("*"))
    router.callback_query.register(book_button, Nav.filter(F.to == Destination.BOOK))
    # Commands pass through registration: /my, /help, /start... work (and leave it) as always.
    not_command = inline(~F.text.startswith("/"))
    router.message.register(got_name, StateFilter(Registration.name), inline(F.text), not_command)
    router.message.register(got_phone, StateFilter(Registration.phone), inline(F.contact))
    registering = StateFilter(Registration.name, Registration.phone)
    router.message.register(registration_other, registering, not_command)
    return router
