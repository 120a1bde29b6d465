"""My bookings: the client's upcoming bookings, with cancel (after "are you sure?")."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from domain.clients import Client
from domain.outcomes import Outcome
from domain.rules import Business
from handlers.callback_data import BookingAction, BookingCb, Destination, Nav
from handlers.common import alert, reply, show
from handlers.views import my_bookings as views
from handlers.views.base import Screen
from handlers.views.booking import refusal_screen
from services.booking import ClientBookingService
from services.notifier import Notifier
from services.waitlist import WaitlistService
from utils.i18n import Translator


async def my_command(
    message: Message,
    client: Client,
    t: Translator,
    business: Business,
    booking: ClientBookingService,
    waitlist: WaitlistService,
    state: FSMContext,
) -> None:
    await state.clear()
    await reply(message, await mine_screen(t, business, booking, waitlist, client))


async def my_button(
    callback: CallbackQuery,
    client: Client,
    t: Translator,
    business: Business,
    booking: ClientBookingService,
    waitlist: WaitlistService,
) -> None:
    await show(callback, await mine_screen(t, business, booking, waitlist, client))


async def mine_screen(
    t: Translator,
    business: Business,
    booking: ClientBookingService,
    waitlist: WaitlistService,
    client: Client,
) -> Screen:
    upcoming = await booking.upcoming(client.id)
    return views.my_bookings_screen(t, business, upcoming, await waitlist.of_client(client.id))


async def ask_cancel(
    callback: CallbackQuery,
    callback_data: BookingCb,
    client: Client,
    t: Translator,
    business: Business,
    booking: ClientBookingService,
) -> None:
    check = await booking.changeable(callback_data.booking, client.id)
    details = await booking.get(callback_data.booking) if check.ok else None
    if details is None:
        await show(callback, refusal_screen(t, business, check.outcome, moving=True))
        return
    await show(callback, views.cancel_question(t, business, details))


async def cancel(
    callback: CallbackQuery,
    callback_data: BookingCb,
    client: Client,
    t: Translator,
    business: Business,
    booking: ClientBookingService,
    notifier: Notifier,
) -> None:
    result = await booking.cancel(callback_data.booking, client.id)
    if result.outcome is Outcome.NOT_ACTIVE:
        # A double click (or cancelled meanwhile): say so, and leave the screen as it is.
        await alert(callback, t("outcome.not_active"))
        return
    details = await booking.get(callback_data.booking) if result.ok else None
    if details is None:
        await show(callback, refusal_screen(t, business, result.outcome, moving=True))
        return
    try:
        await show(callback, views.cancelled_screen(t, business, details))
    finally:  # the cancellation stands: the staff hear of it whatever happened to the answer
        await notifier.after(details.booking.id)


def make_router() -> Router:
    """A fresh router each call: a Router can belong to only one Dispatcher."""
    router = Router(name="my_bookings")
    router.message.register(my_command, Command("my"), StateFilter("*"))
    router.callback_query.register(my_button, Nav.filter(F.to == Destination.MY))
    router.callback_query.register(ask_cancel, BookingCb.filter(F.action == BookingAction.CANCEL))
    router.callback_query.register(cancel, BookingCb.filter(F.action == BookingAction.CANCEL_YES))
    return router
