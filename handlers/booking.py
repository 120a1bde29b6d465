"""The booking steps: service -> specialist -> day -> time -> confirm; also moving a booking.

The way in (Book, /book) and the registration before a first booking: handlers/registration.py.
"""

from __future__ import annotations

from datetime import date, datetime

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import (
    CallbackQuery,
    Message,
)

from domain.clients import Client
from domain.outcomes import PICK_ANOTHER_TIME, BookingResult, Outcome, Selection
from domain.rules import Business
from handlers.callback_data import (
    BookingAction,
    BookingCb,
    CalendarCb,
    ConfirmCb,
    DayCb,
    ServiceCb,
    TimeCb,
)
from handlers.common import alert, show
from handlers.registration import ask, registration_state
from handlers.views import booking as views
from handlers.views.base import pack_month, unpack_day, unpack_month
from services.booking import ClientBookingService
from services.notifier import Notifier
from utils.formatting import hhmm
from utils.i18n import Translator
from utils.timeutil import from_ts

# ------------------------------------------------------------------ steps


async def _select(
    callback: CallbackQuery,
    t: Translator,
    business: Business,
    booking: ClientBookingService,
    client: Client,
    service: int,
    specialist: int,
    moving: int,
) -> Selection | None:
    """The checked selection, or None after telling the client why not."""
    result = await booking.select(client.id, service, specialist, moving)
    if isinstance(result, BookingResult):
        await show(callback, views.refusal_screen(t, business, result.outcome, moving=bool(moving)))
        return None
    return result


async def _calendar(
    callback: CallbackQuery,
    t: Translator,
    business: Business,
    booking: ClientBookingService,
    sel: Selection,
    month: tuple[int, int] | None,
) -> None:
    first, last = booking.bookable_days()
    year, number = month or (first.year, first.month)
    if not (first.year, first.month) <= (year, number) <= (last.year, last.month):
        year, number = first.year, first.month  # a stale or forged month: start from today
    days = await booking.calendar(sel.service.id, year, number, sel.specialist_id, sel.moving_id)
    screen = views.calendar_screen(t, business, sel, year, number, days, (first, last))
    await show(callback, screen)


async def _free(booking: ClientBookingService, sel: Selection, day: date) -> list[datetime]:
    """Free starts of the day for the selection; a booking being moved frees its own time
    for the move, but its current start is not offered back."""
    times = await booking.free_times(sel.service.id, day, sel.specialist_id, sel.moving_id)
    return [start for start in times if not (sel.moving and start == sel.moving.start)]


async def _times(
    callback: CallbackQuery,
    t: Translator,
    business: Business,
    booking: ClientBookingService,
    sel: Selection,
    day: date,
    notice: str = "",
) -> None:
    times = await _free(booking, sel, day)
    await show(callback, views.times_screen(t, business, sel, day, times, notice))


async def chose_service(
    callback: CallbackQuery,
    callback_data: ServiceCb,
    t: Translator,
    business: Business,
    booking: ClientBookingService,
    client: Client,
) -> None:
    sel = await _select(callback, t, business, booking, client, callback_data.service, 0, 0)
    if sel is None:
        return
    if sel.offering > 1:
        specialists = await booking.specialists(sel.service.id)
        first, _ = booking.bookable_days()
        screen = views.specialists_screen(t, sel.service, specialists, pack_month(first))
        await show(callback, screen)
    else:
        await _calendar(callback, t, business, booking, sel, None)


async def chose_month(
    callback: CallbackQuery,
    callback_data: CalendarCb,
    t: Translator,
    business: Business,
    booking: ClientBookingService,
    client: Client,
) -> None:
    cb = callback_data
    sel = await _select(
        callback, t, business, booking, client, cb.service, cb.specialist, cb.moving
    )
    if sel is not None:
        await _calendar(callback, t, business, booking, sel, unpack_month(cb.month))


async def chose_day(
    callback: CallbackQuery,
    callback_data: DayCb,
    t: Translator,
    business: Business,
    booking: ClientBookingService,
    client: Client,
) -> None:
    cb = callback_data
    day = unpack_day(cb.day)
    first, last = booking.bookable_days()
    if day is None or not first <= day <= last:  # forged, or a calendar left from days ago
        await alert(callback, t("alert.stale"))
        return
    sel = await _select(
        callback, t, business, booking, client, cb.service, cb.specialist, cb.moving
    )
    if sel is not None:
        await _times(callback, t, business, booking, sel, day)


async def chose_time(
    callback: CallbackQuery,
    callback_data: TimeCb,
    t: Translator,
    business: Business,
    booking: ClientBookingService,
    client: Client,
) -> None:
    cb = callback_data
    sel = await _select(
        callback, t, business, booking, client, cb.service, cb.specialist, cb.moving
    )
    if sel is None:
        return
    start = from_ts(cb.start)
    day = business.local_day(start)
    if start not in await _free(booking, sel, day):
        await _times(callback, t, business, booking, sel, day, t("book.gone"))
        return
    await show(callback, views.confirm_screen(t, business, sel, start))


async def confirm(
    callback: CallbackQuery,
    callback_data: ConfirmCb,
    t: Translator,
    business: Business,
    booking: ClientBookingService,
    client: Client,
    notifier: Notifier,
    state: FSMContext,
) -> None:
    cb = callback_data
    missing = None if cb.moving else business.rules.missing_registration(client)
    if missing is not None:
        # Reached without the Book button (an old services list, forged data): register first.
        await state.set_state(registration_state(missing))
        await callback.answer()
        if isinstance(callback.message, Message):
            await ask(callback.message, client, t, state)
        return
    start = from_ts(cb.start)
    specialist = cb.specialist or None
    if cb.moving:
        result = await booking.reschedule(cb.moving, start, client.id, specialist)
    else:
        result = await booking.book(client.id, cb.service, start, specialist)
    if result.outcome is Outcome.ALREADY_BOOKED:
        # The second tap of a double click: the first one has already shown the result.
        await alert(callback, t("outcome.already_booked"))
        return
    if result.outcome in PICK_ANOTHER_TIME:
        # The time went (taken, too soon now, a day off since): that day's fresh times.
        sel = await _select(
            callback, t, business, booking, client, cb.service, cb.specialist, cb.moving
        )
        if sel is not None:
            if result.outcome is Outcome.SLOT_TAKEN:
                notice = t("book.taken", time=hhmm(business.local(start)))
            else:
                notice = views.outcome_text(t, business, result.outcome)
            await _times(callback, t, business, booking, sel, business.local_day(start), notice)
        return
    if not result.ok or result.booking is None:
        screen = views.refusal_screen(t, business, result.outcome, moving=bool(cb.moving))
        await show(callback, screen)
        return
    booking_id, answered = result.booking.id, False
    try:
        details = await booking.get(booking_id)
        assert details is not None
        await show(callback, views.booked_screen(t, business, details, moved=bool(cb.moving)))
        answered = True
        if isinstance(callback.message, Message):
            ics = views.ics_file(t, business, details)
            await callback.message.answer_document(ics, caption=t("book.ics_caption"))
    finally:
        # The booking is made: the admin chat's card goes out now, whatever happened to the
        # client's answer (after it otherwise, so the client is not kept waiting). If the answer
        # did not go out, the outbox sends the client their confirmation in a minute.
        await notifier.after(booking_id, answered=answered)


async def move(
    callback: CallbackQuery,
    callback_data: BookingCb,
    t: Translator,
    business: Business,
    booking: ClientBookingService,
    client: Client,
) -> None:
    check = await booking.changeable(callback_data.booking, client.id)
    if not check.ok or check.booking is None:
        await show(callback, views.refusal_screen(t, business, check.outcome, moving=True))
        return
    b = check.booking
    sel = await _select(callback, t, business, booking, client, b.service_id, b.specialist_id, b.id)
    if sel is not None:
        await _calendar(callback, t, business, booking, sel, None)


def make_router() -> Router:
    """A fresh router each call: a Router can belong to only one Dispatcher."""
    router = Router(name="booking")
    router.callback_query.register(chose_service, ServiceCb.filter())
    router.callback_query.register(chose_month, CalendarCb.filter())
    router.callback_query.register(chose_day, DayCb.filter())
    router.callback_query.register(chose_time, TimeCb.filter())
    router.callback_query.register(confirm, ConfirmCb.filter())
    router.callback_query.register(move, BookingCb.filter(F.action == BookingAction.MOVE))
    return router
