"""My bookings: the client's upcoming bookings, with cancel (after "are you sure?")."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from database.models import Actor, Client
from handlers import views
from handlers.callback_data import BookingCb, Nav
from handlers.common import alert, reply, show
from handlers.views import Shop
from services.booking import Outcome
from services.container import Services
from services.notifier import Notifier
from utils.i18n import Translator


async def my_command(
    message: Message,
    client: Client,
    t: Translator,
    shop: Shop,
    services: Services,
    state: FSMContext,
) -> None:
    await state.clear()
    await reply(
        message, views.my_bookings_screen(t, shop, await services.booking.upcoming(client.id))
    )


async def my_button(
    callback: CallbackQuery, client: Client, t: Translator, shop: Shop, services: Services
) -> None:
    await show(
        callback, views.my_bookings_screen(t, shop, await services.booking.upcoming(client.id))
    )


async def ask_cancel(
    callback: CallbackQuery,
    callback_data: BookingCb,
    client: Client,
    t: Translator,
    shop: Shop,
    services: Services,
) -> None:
    check = await services.booking.changeable(callback_data.booking, Actor.client(client.id))
    details = await services.booking.get(callback_data.booking) if check.ok else None
    if details is None:
        await show(callback, views.refusal_screen(t, shop, check.outcome, moving=True))
        return
    await show(callback, views.cancel_question(t, shop, details))


async def cancel(
    callback: CallbackQuery,
    callback_data: BookingCb,
    client: Client,
    t: Translator,
    shop: Shop,
    services: Services,
    notifier: Notifier,
) -> None:
    result = await services.booking.cancel(callback_data.booking, Actor.client(client.id))
    if result.outcome is Outcome.NOT_ACTIVE:
        # A double click (or cancelled meanwhile): say so, and leave the screen as it is.
        await alert(callback, t("outcome.not_active"))
        return
    details = await services.booking.get(callback_data.booking) if result.ok else None
    if details is None:
        await show(callback, views.refusal_screen(t, shop, result.outcome, moving=True))
        return
    try:
        await show(callback, views.cancelled_screen(t, shop, details))
    finally:  # the cancellation stands: the staff hear of it whatever happened to the answer
        await notifier.client_cancelled(details)


def make_router() -> Router:
    """A fresh router each call: a Router can belong to only one Dispatcher."""
    router = Router(name="my_bookings")
    router.message.register(my_command, Command("my"), StateFilter("*"))
    router.callback_query.register(my_button, Nav.filter(F.to == "my"))
    router.callback_query.register(ask_cancel, BookingCb.filter(F.action == "cancel"))
    router.callback_query.register(cancel, BookingCb.filter(F.action == "cancel_yes"))
    return router
