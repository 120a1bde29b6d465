"""The booking flow: service -> specialist -> day -> time -> confirm; also moving a booking."""

from __future__ import annotations

from datetime import date, datetime

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)

from config import Settings
from database.models import Actor, BookingDetails, Client
from handlers import views
from handlers.callback_data import BookingCb, CalendarCb, ConfirmCb, DayCb, Nav, ServiceCb, TimeCb
from handlers.common import alert, reply, show
from handlers.states import Registration
from handlers.views import Screen, Shop
from services.booking import BookingResult, Outcome, Selection
from services.clients import ClientService, NameProblem, clean_name
from services.container import Services
from services.ics import appointment_ics
from services.notifier import Notifier
from utils.formatting import esc, hhmm
from utils.i18n import Translator
from utils.timeutil import from_ts, to_local

# Refusals at Confirm that only concern the chosen time: the client picks another one that day.
PICK_ANOTHER_TIME = frozenset(
    {
        Outcome.SLOT_TAKEN,
        Outcome.TOO_SOON,
        Outcome.TOO_FAR,
        Outcome.OUTSIDE_HOURS,
        Outcome.SAME_TIME,
    }
)


# ------------------------------------------------------------------ entry and registration


def missing_registration(client: Client, settings: Settings) -> State | None:
    """What a client must still tell us before booking: their name, then (if required) a phone."""
    if client.name is None:
        return Registration.name
    if settings.require_phone and not client.phone:
        return Registration.phone
    return None


async def _next_step(
    client: Client,
    t: Translator,
    shop: Shop,
    services: Services,
    settings: Settings,
    state: FSMContext,
) -> Screen | None:
    """The services list, or None after asking for what is still missing (name, phone)."""
    missing = missing_registration(client, settings)
    if missing is not None:
        await state.set_state(missing)
        return None
    await state.clear()
    return views.services_screen(t, shop, await services.catalog.services())


async def _ask(message: Message, client: Client, t: Translator, state: FSMContext) -> None:
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
    shop: Shop,
    services: Services,
    settings: Settings,
    state: FSMContext,
) -> None:
    screen = await _next_step(client, t, shop, services, settings, state)
    if screen is None:
        await _ask(message, client, t, state)
    else:
        await reply(message, screen)


async def book_button(
    callback: CallbackQuery,
    client: Client,
    t: Translator,
    shop: Shop,
    services: Services,
    settings: Settings,
    state: FSMContext,
) -> None:
    screen = await _next_step(client, t, shop, services, settings, state)
    if screen is not None:
        await show(callback, screen)
        return
    await callback.answer()
    if isinstance(callback.message, Message):
        await _ask(callback.message, client, t, state)


async def got_name(
    message: Message,
    client: Client,
    clients: ClientService,
    t: Translator,
    shop: Shop,
    services: Services,
    settings: Settings,
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
    await _continue(message, client, t, shop, services, settings, state)


async def got_phone(
    message: Message,
    client: Client,
    clients: ClientService,
    t: Translator,
    shop: Shop,
    services: Services,
    settings: Settings,
    state: FSMContext,
) -> None:
    contact = message.contact
    assert contact is not None
    if contact.user_id != client.id:
        await message.answer(t("reg.phone_button_only"))
        return
    client = await clients.set_phone(client.id, contact.phone_number)
    await _continue(message, client, t, shop, services, settings, state)


async def registration_other(
    message: Message, client: Client, t: Translator, state: FSMContext
) -> None:
    if await state.get_state() == Registration.name.state:
        await message.answer(t("reg.bad_name_empty"))
    else:
        await message.answer(t("reg.phone_button_only"))
    await _ask(message, client, t, state)


async def _continue(
    message: Message,
    client: Client,
    t: Translator,
    shop: Shop,
    services: Services,
    settings: Settings,
    state: FSMContext,
) -> None:
    screen = await _next_step(client, t, shop, services, settings, state)
    if screen is None:
        await _ask(message, client, t, state)
        return
    await message.answer(t("reg.thanks", name=esc(client.name)), reply_markup=ReplyKeyboardRemove())
    await reply(message, screen)


# ------------------------------------------------------------------ steps


async def _select(
    callback: CallbackQuery,
    t: Translator,
    shop: Shop,
    services: Services,
    client: Client,
    service: int,
    specialist: int,
    moving: int,
) -> Selection | None:
    """The checked selection, or None after telling the client why not."""
    result = await services.booking.select(client.id, service, specialist, moving)
    if isinstance(result, BookingResult):
        await show(callback, views.refusal_screen(t, shop, result.outcome, moving=bool(moving)))
        return None
    return result


async def _calendar(
    callback: CallbackQuery,
    t: Translator,
    shop: Shop,
    services: Services,
    sel: Selection,
    month: tuple[int, int] | None,
) -> None:
    first, last = services.booking.bookable_days()
    year, number = month or (first.year, first.month)
    if not (first.year, first.month) <= (year, number) <= (last.year, last.month):
        year, number = first.year, first.month  # a stale or forged month: start from today
    specialist = sel.specialist.id if sel.specialist else None
    moving = sel.moving.id if sel.moving else None
    days = await services.booking.calendar(sel.service.id, year, number, specialist, moving)
    await show(callback, views.calendar_screen(t, shop, sel, year, number, days, (first, last)))


async def _free(services: Services, sel: Selection, day: date) -> list[datetime]:
    """Free starts of the day for the selection; a booking being moved frees its own time
    for the move, but its current start is not offered back."""
    specialist = sel.specialist.id if sel.specialist else None
    moving = sel.moving.id if sel.moving else None
    times = await services.booking.free_times(sel.service.id, day, specialist, moving)
    return [start for start in times if not (sel.moving and start == sel.moving.start)]


async def _times(
    callback: CallbackQuery,
    t: Translator,
    shop: Shop,
    services: Services,
    sel: Selection,
    day: date,
    notice: str = "",
) -> None:
    times = await _free(services, sel, day)
    await show(callback, views.times_screen(t, shop, sel, day, times, notice))


async def chose_service(
    callback: CallbackQuery,
    callback_data: ServiceCb,
    t: Translator,
    shop: Shop,
    services: Services,
    client: Client,
) -> None:
    sel = await _select(callback, t, shop, services, client, callback_data.service, 0, 0)
    if sel is None:
        return
    if sel.offering > 1:
        specialists = await services.booking.specialists(sel.service.id)
        first, _ = services.booking.bookable_days()
        month = first.year * 100 + first.month
        await show(callback, views.specialists_screen(t, sel.service, specialists, month))
    else:
        await _calendar(callback, t, shop, services, sel, None)


async def chose_month(
    callback: CallbackQuery,
    callback_data: CalendarCb,
    t: Translator,
    shop: Shop,
    services: Services,
    client: Client,
) -> None:
    cb = callback_data
    sel = await _select(callback, t, shop, services, client, cb.service, cb.specialist, cb.moving)
    if sel is not None:
        await _calendar(callback, t, shop, services, sel, views.parse_ym(cb.month))


async def chose_day(
    callback: CallbackQuery,
    callback_data: DayCb,
    t: Translator,
    shop: Shop,
    services: Services,
    client: Client,
) -> None:
    cb = callback_data
    day = views.parse_ymd(cb.day)
    first, last = services.booking.bookable_days()
    if day is None or not first <= day <= last:  # forged, or a calendar left from days ago
        await alert(callback, t("alert.stale"))
        return
    sel = await _select(callback, t, shop, services, client, cb.service, cb.specialist, cb.moving)
    if sel is not None:
        await _times(callback, t, shop, services, sel, day)


async def chose_time(
    callback: CallbackQuery,
    callback_data: TimeCb,
    t: Translator,
    shop: Shop,
    services: Services,
    client: Client,
) -> None:
    cb = callback_data
    sel = await _select(callback, t, shop, services, client, cb.service, cb.specialist, cb.moving)
    if sel is None:
        return
    start = from_ts(cb.start)
    day = views.local_day(shop, start)
    if start not in await _free(services, sel, day):
        await _times(callback, t, shop, services, sel, day, t("book.gone"))
        return
    await show(callback, views.confirm_screen(t, shop, sel, start))


async def confirm(
    callback: CallbackQuery,
    callback_data: ConfirmCb,
    t: Translator,
    shop: Shop,
    services: Services,
    client: Client,
    notifier: Notifier,
    settings: Settings,
    state: FSMContext,
) -> None:
    cb = callback_data
    missing = None if cb.moving else missing_registration(client, settings)
    if missing is not None:
        # Reached without the Book button (an old services list, forged data): register first.
        await state.set_state(missing)
        await callback.answer()
        if isinstance(callback.message, Message):
            await _ask(callback.message, client, t, state)
        return
    start = from_ts(cb.start)
    specialist = cb.specialist or None
    if cb.moving:
        result = await services.booking.reschedule(
            cb.moving, start, Actor.client(client.id), specialist
        )
    else:
        result = await services.booking.book(client.id, cb.service, start, specialist)
    if result.outcome is Outcome.ALREADY_BOOKED:
        # The second tap of a double click: the first one has already shown the result.
        await alert(callback, t("outcome.already_booked"))
        return
    if result.outcome in PICK_ANOTHER_TIME:
        # The time went (taken, too soon now, a day off since): that day's fresh times.
        sel = await _select(
            callback, t, shop, services, client, cb.service, cb.specialist, cb.moving
        )
        if sel is not None:
            if result.outcome is Outcome.SLOT_TAKEN:
                notice = t("book.taken", time=hhmm(to_local(shop.tz, start)))
            else:
                notice = views.outcome_text(t, shop, result.outcome)
            await _times(callback, t, shop, services, sel, views.local_day(shop, start), notice)
        return
    if not result.ok or result.booking is None:
        screen = views.refusal_screen(t, shop, result.outcome, moving=bool(cb.moving))
        await show(callback, screen)
        return
    details = await services.booking.get(result.booking.id)
    assert details is not None
    try:
        await show(callback, views.booked_screen(t, shop, details, moved=bool(cb.moving)))
        if isinstance(callback.message, Message):
            await _send_ics(callback.message, t, shop, details)
    finally:
        # The booking is made: the staff hear of it even if the client's answer failed to go
        # out (after it otherwise, so the client is not kept waiting). Its failure is only logged.
        if cb.moving:
            await notifier.rescheduled(details, await services.booking.get(cb.moving))
        else:
            await notifier.booked(details)


async def _send_ics(message: Message, t: Translator, shop: Shop, details: BookingDetails) -> None:
    b = details.booking
    ics = appointment_ics(
        uid=f"booking-{b.id}@booking-bot",
        start=b.start,
        end=b.end,
        summary=f"{details.service_name} — {shop.name}",
        location=shop.address,
        description=t("card.specialist", name=details.specialist_name),
        stamp=b.updated_at,
    )
    await message.answer_document(
        BufferedInputFile(ics, filename=f"booking-{b.id}.ics"), caption=t("book.ics_caption")
    )


async def move(
    callback: CallbackQuery,
    callback_data: BookingCb,
    t: Translator,
    shop: Shop,
    services: Services,
    client: Client,
) -> None:
    check = await services.booking.changeable(callback_data.booking, Actor.client(client.id))
    if not check.ok or check.booking is None:
        await show(callback, views.refusal_screen(t, shop, check.outcome, moving=True))
        return
    b = check.booking
    sel = await _select(callback, t, shop, services, client, b.service_id, b.specialist_id, b.id)
    if sel is not None:
        await _calendar(callback, t, shop, services, sel, None)


def make_router() -> Router:
    """A fresh router each call: a Router can belong to only one Dispatcher."""
    router = Router(name="booking")
    router.message.register(book_command, Command("book"), StateFilter("*"))
    router.callback_query.register(book_button, Nav.filter(F.to == "book"))
    # Commands pass through registration: /my, /help, /start... work (and leave it) as always.
    not_command = ~F.text.startswith("/")
    router.message.register(got_name, Registration.name, F.text, not_command)
    router.message.register(got_phone, Registration.phone, F.contact)
    registering = StateFilter(Registration.name, Registration.phone)
    router.message.register(registration_other, registering, not_command)
    router.callback_query.register(chose_service, ServiceCb.filter())
    router.callback_query.register(chose_month, CalendarCb.filter())
    router.callback_query.register(chose_day, DayCb.filter())
    router.callback_query.register(chose_time, TimeCb.filter())
    router.callback_query.register(confirm, ConfirmCb.filter())
    router.callback_query.register(move, BookingCb.filter(F.action == "move"))
    return router
