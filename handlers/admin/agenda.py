"""Agenda and bookings: the day's and week's bookings, one booking's card, cancelling, and the
buttons under them (one handler per action)."""

from __future__ import annotations

from datetime import date, timedelta

from aiogram.filters import CommandObject
from aiogram.types import CallbackQuery, Message

from domain.actors import Actor
from domain.bookings import BookingStatus
from domain.notices import NoticeKind
from domain.outcomes import Outcome
from domain.rules import Business
from handlers.admin import views as av
from handlers.admin.args import MAX_TEXT, clean_text, parse_day, parse_id, words
from handlers.admin.common import say, send, single_id, usage_error
from handlers.admin.waitlist_views import waiting_text
from handlers.callback_data import AdminBookingCb
from handlers.common import alert, reply, show
from handlers.views.base import Screen
from services.notifier import Notifier, count_told
from services.staff import StaffService
from utils.i18n import Translator


async def _agenda(
    message: Message, t: Translator, business: Business, staff: StaffService, days: list[date]
) -> None:
    screens: list[Screen] = []
    for day in days:
        bookings = await staff.agenda(day)
        waiting = await staff.waiting(day)
        if bookings or waiting or len(days) == 1:
            screens += av.agenda_screens(t, business, day, bookings)
        if waiting:
            screens.append(Screen(waiting_text(t, day, waiting)))
    if not screens:
        first, last = days[0], days[-1]
        screens = [
            Screen(
                t(
                    "admin.week.empty",
                    first=first,
                    last=last,
                )
            )
        ]
    await send(message, screens)


async def _no_args_agenda(
    message: Message,
    command: CommandObject,
    t: Translator,
    business: Business,
    staff: StaffService,
    first: int,
    count: int,
) -> None:
    if command.args and command.args.split():
        await usage_error(message, t, command)
        return
    today = staff.today()
    days = [today + timedelta(days=n) for n in range(first, first + count)]
    await _agenda(message, t, business, staff, days)


async def today_command(
    message: Message, command: CommandObject, t: Translator, business: Business, staff: StaffService
) -> None:
    await _no_args_agenda(message, command, t, business, staff, 0, 1)


async def tomorrow_command(
    message: Message, command: CommandObject, t: Translator, business: Business, staff: StaffService
) -> None:
    await _no_args_agenda(message, command, t, business, staff, 1, 1)


async def week_command(
    message: Message, command: CommandObject, t: Translator, business: Business, staff: StaffService
) -> None:
    await _no_args_agenda(message, command, t, business, staff, 0, 7)


async def day_command(
    message: Message, command: CommandObject, t: Translator, business: Business, staff: StaffService
) -> None:
    args = words(command.args)
    day = parse_day(args[0], staff.today()) if len(args) == 1 else None
    if day is None:
        await usage_error(message, t, command)
        return
    await _agenda(message, t, business, staff, [day])


async def booking_command(
    message: Message, command: CommandObject, t: Translator, business: Business, staff: StaffService
) -> None:
    booking_id = await single_id(message, command, t)
    if booking_id is None:
        return
    details = await staff.get(booking_id)
    if details is None:
        await say(message, t("admin.booking.not_found", id=booking_id))
        return
    await reply(message, av.booking_card(t, business, details))


async def cancel_command(
    message: Message,
    command: CommandObject,
    t: Translator,
    staff: StaffService,
    actor: Actor,
    notifier: Notifier,
) -> None:
    args = words(command.args)
    booking_id = parse_id(args[0]) if args else None
    reason = clean_text(" ".join(args[1:]), MAX_TEXT) if len(args) > 1 else ""
    if booking_id is None or reason is None:
        await usage_error(message, t, command)
        return
    await say(message, await _cancel(t, staff, actor, notifier, booking_id, reason))


async def _cancel(
    t: Translator,
    staff: StaffService,
    actor: Actor,
    notifier: Notifier,
    booking_id: int,
    reason: str,
) -> str:
    """Cancel as an admin and tell the client; the answer for the admin."""
    result = await staff.cancel(booking_id, actor, reason or None)
    if result.outcome is Outcome.NOT_FOUND:
        return t("admin.booking.not_found", id=booking_id)
    if result.outcome is Outcome.NOT_ACTIVE and result.booking is not None:
        return t(
            "admin.cancel.not_active",
            id=booking_id,
            status=av.status_text(t, result.booking.status),
        )
    if count_told(await notifier.after(booking_id), NoticeKind.CANCELLED_BY_ADMIN):
        return t("admin.cancel.done", id=booking_id)
    return t("admin.cancel.done_untold", id=booking_id)


# ------------------------------------------------------------------ buttons under a booking


def _message(callback: CallbackQuery) -> Message | None:
    return callback.message if isinstance(callback.message, Message) else None


async def ask_cancel_button(
    callback: CallbackQuery,
    callback_data: AdminBookingCb,
    t: Translator,
    business: Business,
    staff: StaffService,
) -> None:
    booking_id = callback_data.booking
    details = await staff.get(booking_id)
    if details is None:
        await alert(callback, t("admin.booking.not_found", id=booking_id))
        return
    if not details.booking.is_active:
        status = av.status_text(t, details.booking.status)
        await alert(callback, t("admin.cancel.not_active", id=booking_id, status=status))
        return
    await callback.answer()
    if (message := _message(callback)) is not None:
        await reply(message, av.cancel_question(t, business, details))


async def keep_button(
    callback: CallbackQuery, callback_data: AdminBookingCb, t: Translator, staff: StaffService
) -> None:
    booking_id = callback_data.booking
    if await staff.get(booking_id) is None:
        await alert(callback, t("admin.booking.not_found", id=booking_id))
        return
    await show(callback, Screen(t("admin.cancel.kept", id=booking_id)))


async def cancel_yes_button(
    callback: CallbackQuery,
    callback_data: AdminBookingCb,
    t: Translator,
    staff: StaffService,
    actor: Actor,
    notifier: Notifier,
) -> None:
    booking_id = callback_data.booking
    details = await staff.get(booking_id)
    if details is None:
        await alert(callback, t("admin.booking.not_found", id=booking_id))
        return
    if not details.booking.is_active:  # a second tap: the first one's answer stays on screen
        status = av.status_text(t, details.booking.status)
        await alert(callback, t("admin.cancel.not_active", id=booking_id, status=status))
        return
    text = await _cancel(t, staff, actor, notifier, booking_id, "")
    await show(callback, Screen(text))


async def _mark(
    callback: CallbackQuery,
    booking_id: int,
    status: BookingStatus,
    t: Translator,
    business: Business,
    staff: StaffService,
    actor: Actor,
) -> None:
    details = await staff.get(booking_id)
    if details is None:
        await alert(callback, t("admin.booking.not_found", id=booking_id))
        return
    result = await staff.mark(booking_id, status, actor)
    if result.outcome is Outcome.NOT_STARTED:
        await alert(callback, t("admin.mark.not_started", id=booking_id))
        return
    if result.outcome is not Outcome.MARKED:
        now = av.status_text(t, details.booking.status)
        await alert(callback, t("admin.cancel.not_active", id=booking_id, status=now))
        return
    await callback.answer(t("admin.mark.done", id=booking_id, status=av.status_text(t, status)))
    # Show the new status on the agenda the button was on (when it fits one message).
    day = business.local_day(details.booking.start)
    screens = av.agenda_screens(t, business, day, await staff.agenda(day))
    if (message := _message(callback)) is not None and len(screens) == 1:
        await message.edit_text(screens[0].text, reply_markup=screens[0].markup)


async def no_show_button(
    callback: CallbackQuery,
    callback_data: AdminBookingCb,
    t: Translator,
    business: Business,
    staff: StaffService,
    actor: Actor,
) -> None:
    await _mark(callback, callback_data.booking, BookingStatus.NO_SHOW, t, business, staff, actor)


async def done_button(
    callback: CallbackQuery,
    callback_data: AdminBookingCb,
    t: Translator,
    business: Business,
    staff: StaffService,
    actor: Actor,
) -> None:
    await _mark(callback, callback_data.booking, BookingStatus.COMPLETED, t, business, staff, actor)
