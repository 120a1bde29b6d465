"""The booking steps: service -> specialist -> day -> time -> confirm; also moving a booking.

The way in (Book, /book) and the registration before a first booking: handlers/registration.py.
The steps themselves (``Walk`` and the functions taking one) serve the staff booking for a client
too (handlers/admin/booking.py): the same checks, screens and free times, under the staff's rules.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import (
    CallbackQuery,
    Message,
)

from domain.actors import Actor
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
from handlers.views.base import Screen, pack_month, unpack_day, unpack_month
from services.booking import ClientBookingService
from services.notifier import Notifier
from utils.formatting import hhmm
from utils.i18n import Translator
from utils.timeutil import from_ts

# ------------------------------------------------------------------ steps


@dataclass(frozen=True)
class Walk:
    """One walk through the steps: whose booking, in which words, under which rules. ``staff``:
    an admin walking it for the client (``booking`` is then ``StaffService.flow``)."""

    t: Translator
    business: Business
    booking: ClientBookingService
    client: Client
    staff: Actor | None = None

    @property
    def for_client(self) -> Client | None:
        return self.client if self.staff else None

    def stale(self) -> str:
        t = self.t
        return t("admin.alert.stale") if self.staff else t("alert.stale")


async def choose(
    walk: Walk, service: int, specialist: int, moving: int, outside: bool = False
) -> Selection | Screen:
    """The checked selection, or the screen that says why not."""
    if walk.client.is_blocked and walk.staff is None:  # Confirm checks again, in its transaction
        return views.refusal_screen(walk.t, walk.business, Outcome.BLOCKED, moving=bool(moving))
    result = await walk.booking.select(walk.client.id, service, specialist, moving, by=walk.staff)
    if isinstance(result, BookingResult):
        return views.refusal_screen(
            walk.t,
            walk.business,
            result.outcome,
            moving=bool(moving),
            for_client=walk.for_client,
        )
    return replace(result, for_client=walk.for_client, outside_hours=outside and bool(walk.staff))


async def select(
    callback: CallbackQuery,
    walk: Walk,
    service: int,
    specialist: int,
    moving: int,
    outside: bool = False,
) -> Selection | None:
    """The checked selection, or None after telling the walker why not."""
    chosen = await choose(walk, service, specialist, moving, outside)
    if isinstance(chosen, Screen):
        await show(callback, chosen)
        return None
    return chosen


async def service_chosen(callback: CallbackQuery, walk: Walk, sel: Selection) -> None:
    """The specialists to choose from, or (only one offers it) the calendar."""
    if sel.offering > 1:
        specialists = await walk.booking.specialists(sel.service.id)
        first, _ = walk.booking.bookable_days()
        screen = views.specialists_screen(
            walk.t, sel.service, specialists, pack_month(first), walk.for_client
        )
        await show(callback, screen)
    else:
        await calendar(callback, walk, sel, None)


async def month_screen(walk: Walk, sel: Selection, month: tuple[int, int] | None) -> Screen:
    booking = walk.booking
    first, last = booking.bookable_days()
    year, number = month or (first.year, first.month)
    if not (first.year, first.month) <= (year, number) <= (last.year, last.month):
        year, number = first.year, first.month  # a stale or forged month: start from today
    days, full = await booking.month(
        sel.service.id,
        year,
        number,
        sel.specialist_id,
        sel.moving_id,
        full=walk.staff is None and sel.moving is None,  # a client's new booking may wait
    )
    return views.calendar_screen(
        walk.t, walk.business, sel, year, number, days, (first, last), full
    )


async def calendar(
    callback: CallbackQuery, walk: Walk, sel: Selection, month: tuple[int, int] | None
) -> None:
    await show(callback, await month_screen(walk, sel, month))


def bookable(walk: Walk, day: date | None) -> date | None:
    """The day, if it may be booked now (not forged, nor a calendar left from days ago)."""
    first, last = walk.booking.bookable_days()
    return day if day is not None and first <= day <= last else None


async def _free(
    booking: ClientBookingService, sel: Selection, day: date
) -> dict[datetime, int | None]:
    """Free starts of the day for the selection, each with the seats left (a group service;
    None otherwise); a booking being moved frees its own time for the move, but its current
    start is not offered back."""
    found = await booking.free_slots(
        sel.service.id, day, sel.specialist_id, sel.moving_id, outside_hours=sel.outside_hours
    )
    return {
        start: free.seats_left
        for start, free in found.items()
        if not (sel.moving and start == sel.moving.start)
    }


async def times(
    callback: CallbackQuery, walk: Walk, sel: Selection, day: date, notice: str = ""
) -> None:
    starts = await _free(walk.booking, sel, day)
    await show(callback, views.times_screen(walk.t, walk.business, sel, day, starts, notice))


async def pick_time(callback: CallbackQuery, walk: Walk, sel: Selection, start: datetime) -> None:
    """The confirmation card, if the time is still free; the day's fresh times otherwise."""
    t, day = walk.t, walk.business.local_day(start)
    free = await _free(walk.booking, sel, day)
    if start not in free:
        await times(callback, walk, sel, day, t("book.gone"))
        return
    await show(callback, views.confirm_screen(walk.t, walk.business, sel, start, free[start]))


async def after_refusal(
    callback: CallbackQuery, walk: Walk, sel: Selection, start: datetime, outcome: Outcome
) -> None:
    """A refusal at Confirm about the time (taken, too soon now, a day off since): that day's
    fresh times, with the reason on top."""
    t, business = walk.t, walk.business
    if outcome is Outcome.SLOT_TAKEN and sel.service.is_group:
        notice = t("book.session_full", time=hhmm(business.local(start)))
    elif outcome is Outcome.SLOT_TAKEN:
        notice = t("book.taken", time=hhmm(business.local(start)))
    else:
        notice = views.outcome_text(t, business, outcome, staff=walk.staff is not None)
    await times(callback, walk, sel, business.local_day(start), notice)


# ------------------------------------------------------------------ the client's buttons


async def chose_service(
    callback: CallbackQuery,
    callback_data: ServiceCb,
    t: Translator,
    business: Business,
    booking: ClientBookingService,
    client: Client,
) -> None:
    walk = Walk(t, business, booking, client)
    sel = await select(callback, walk, callback_data.service, 0, 0)
    if sel is not None:
        await service_chosen(callback, walk, sel)


async def chose_month(
    callback: CallbackQuery,
    callback_data: CalendarCb,
    t: Translator,
    business: Business,
    booking: ClientBookingService,
    client: Client,
) -> None:
    cb, walk = callback_data, Walk(t, business, booking, client)
    sel = await select(callback, walk, cb.service, cb.specialist, cb.moving)
    if sel is not None:
        await calendar(callback, walk, sel, unpack_month(cb.month))


async def chose_day(
    callback: CallbackQuery,
    callback_data: DayCb,
    t: Translator,
    business: Business,
    booking: ClientBookingService,
    client: Client,
) -> None:
    cb, walk = callback_data, Walk(t, business, booking, client)
    day = bookable(walk, unpack_day(cb.day))
    if day is None:
        await alert(callback, walk.stale())
        return
    sel = await select(callback, walk, cb.service, cb.specialist, cb.moving)
    if sel is not None:
        await times(callback, walk, sel, day)


async def chose_time(
    callback: CallbackQuery,
    callback_data: TimeCb,
    t: Translator,
    business: Business,
    booking: ClientBookingService,
    client: Client,
) -> None:
    cb, walk = callback_data, Walk(t, business, booking, client)
    sel = await select(callback, walk, cb.service, cb.specialist, cb.moving)
    if sel is not None:
        await pick_time(callback, walk, sel, from_ts(cb.start))


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
        walk = Walk(t, business, booking, client)
        sel = await select(callback, walk, cb.service, cb.specialist, cb.moving)
        if sel is not None:
            await after_refusal(callback, walk, sel, start, result.outcome)
        return
    if not result.ok or result.booking is None:
        screen = views.refusal_screen(t, business, result.outcome, moving=bool(cb.moving))
        await show(callback, screen)
        return
    walk = Walk(t, business, booking, client)
    await answer_booked(callback, walk, notifier, result.booking.id, moved=bool(cb.moving))


async def answer_booked(
    callback: CallbackQuery, walk: Walk, notifier: Notifier, booking_id: int, *, moved: bool
) -> None:
    """The booked card (and the .ics) in place of the pressed message, then the change's
    notices (Confirm, and Book under a waitlist offer)."""
    t, business, answered = walk.t, walk.business, False
    try:
        details = await walk.booking.get(booking_id)
        assert details is not None
        await show(callback, views.booked_screen(t, business, details, moved=moved))
        answered = True
        # A pending booking gets its calendar file with the staff's Approve.
        if isinstance(callback.message, Message) and not details.booking.is_pending:
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
    b, walk = check.booking, Walk(t, business, booking, client)
    sel = await select(callback, walk, b.service_id, b.specialist_id, b.id)
    if sel is not None:
        await calendar(callback, walk, sel, None)


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
