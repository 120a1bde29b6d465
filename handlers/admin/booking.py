"""Staff booking for a client (/book: a phone call, a walk-in) and moving any booking (/move, the
Move button under a booking): the client's own steps (handlers/booking.py ``Walk``) under the
staff's rules, with every button carrying the client's id and checked again when pressed."""

from __future__ import annotations

from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.enums import ChatType
from aiogram.filters import CommandObject
from aiogram.types import CallbackQuery, Message

from domain.actors import Actor
from domain.clients import Client
from domain.notices import NoticeKind
from domain.outcomes import PICK_ANOTHER_TIME, Outcome
from domain.rules import Business
from handlers import booking as steps
from handlers.admin import booking_views as bv
from handlers.admin.book_args import ByPhone, ClientArg, Known, NewClient, parse_client
from handlers.admin.common import say, single_id, usage_error
from handlers.booking import Walk
from handlers.callback_data import (
    AdminBookingCb,
    StaffCalendarCb,
    StaffConfirmCb,
    StaffDayCb,
    StaffNavAction,
    StaffNavCb,
    StaffServiceCb,
    StaffTimeCb,
)
from handlers.common import alert, reply, show
from handlers.views import booking as views
from handlers.views.base import Screen, unpack_day, unpack_month
from services.catalog import CatalogService
from services.clients import ClientService
from services.notifier import Notifier, count_told
from services.staff import StaffService
from utils.formatting import esc
from utils.i18n import Translator
from utils.timeutil import from_ts

# ------------------------------------------------------------------ commands


async def _client_of(
    arg: ClientArg, clients: ClientService, actor: Actor
) -> tuple[Client | None, bool]:
    """The client the argument names (None: nobody), and whether they were just added."""
    if isinstance(arg, Known):
        return await clients.find(arg.query), False
    if isinstance(arg, ByPhone):
        return await clients.find_by_phone(arg.phone), False
    return await clients.add_offline(arg.name, arg.phone, actor)


async def book_command(
    message: Message,
    command: CommandObject,
    t: Translator,
    business: Business,
    clients: ClientService,
    catalog: CatalogService,
    actor: Actor,
) -> None:
    if not (command.args or "").strip() and message.chat.type == ChatType.PRIVATE:
        raise SkipHandler  # an admin's own /book in their private chat: the client's booking
    arg = parse_client(command.args)
    if arg is None:
        await usage_error(message, t, command)
        return
    client, added = await _client_of(arg, clients, actor)
    if client is None:
        await say(
            message, t("admin.book.no_client", query=esc(" ".join((command.args or "").split())))
        )
        return
    asked = arg.name if isinstance(arg, NewClient) else None
    screen = views.services_screen(t, business, await catalog.list_services(), client)
    found = bv.found_text(t, client, added=added, asked_name=asked)
    await reply(message, Screen(found + screen.text, screen.markup))


async def _move_screen(
    booking_id: int,
    t: Translator,
    business: Business,
    staff: StaffService,
    clients: ClientService,
    actor: Actor,
) -> Screen:
    """The staff's calendar for moving the booking, or why it cannot be moved."""
    details = await staff.get(booking_id)
    if details is None:
        return Screen(t("admin.booking.not_found", id=booking_id))
    b = details.booking
    client = await clients.get(b.client_id)
    if not b.is_active or client is None:
        return Screen(bv.not_movable(t, details))
    walk = Walk(t, business, staff.flow, client, actor)
    chosen = await steps.choose(walk, b.service_id, b.specialist_id, b.id)
    if isinstance(chosen, Screen):
        return chosen
    return await steps.month_screen(walk, chosen, None)


async def move_command(
    message: Message,
    command: CommandObject,
    t: Translator,
    business: Business,
    staff: StaffService,
    clients: ClientService,
    actor: Actor,
) -> None:
    booking_id = await single_id(message, command, t)
    if booking_id is not None:
        await reply(message, await _move_screen(booking_id, t, business, staff, clients, actor))


async def move_button(
    callback: CallbackQuery,
    callback_data: AdminBookingCb,
    t: Translator,
    business: Business,
    staff: StaffService,
    clients: ClientService,
    actor: Actor,
) -> None:
    """Under a card or an agenda: the calendar in a new message, the card stays as it is."""
    screen = await _move_screen(callback_data.booking, t, business, staff, clients, actor)
    if screen.markup is None:  # nothing to move: said in an alert, nothing else changes
        await alert(callback, screen.text)
        return
    await callback.answer()
    if isinstance(callback.message, Message):
        await reply(callback.message, screen)


# ------------------------------------------------------------------ the steps' buttons


async def _walk(
    callback: CallbackQuery,
    client_id: int,
    t: Translator,
    business: Business,
    staff: StaffService,
    clients: ClientService,
    actor: Actor,
) -> Walk | None:
    """The walk for the client a button names; None (after the stale alert) for nobody."""
    client = await clients.get(client_id)
    if client is None:
        await alert(callback, t("admin.alert.stale"))
        return None
    return Walk(t, business, staff.flow, client, actor)


async def chose_service(
    callback: CallbackQuery,
    callback_data: StaffServiceCb,
    t: Translator,
    business: Business,
    staff: StaffService,
    clients: ClientService,
    actor: Actor,
) -> None:
    cb = callback_data
    walk = await _walk(callback, cb.client, t, business, staff, clients, actor)
    if walk is not None and (sel := await steps.select(callback, walk, cb.service, 0, 0)):
        await steps.service_chosen(callback, walk, sel)


async def chose_month(
    callback: CallbackQuery,
    callback_data: StaffCalendarCb,
    t: Translator,
    business: Business,
    staff: StaffService,
    clients: ClientService,
    actor: Actor,
) -> None:
    cb = callback_data
    walk = await _walk(callback, cb.client, t, business, staff, clients, actor)
    if walk is None:
        return
    sel = await steps.select(callback, walk, cb.service, cb.specialist, cb.moving)
    if sel is not None:
        await steps.calendar(callback, walk, sel, unpack_month(cb.month))


async def chose_day(
    callback: CallbackQuery,
    callback_data: StaffDayCb,
    t: Translator,
    business: Business,
    staff: StaffService,
    clients: ClientService,
    actor: Actor,
) -> None:
    cb = callback_data
    walk = await _walk(callback, cb.client, t, business, staff, clients, actor)
    if walk is None:
        return
    day = steps.bookable(walk, unpack_day(cb.day))
    if day is None:
        await alert(callback, walk.stale())
        return
    sel = await steps.select(callback, walk, cb.service, cb.specialist, cb.moving, bool(cb.outside))
    if sel is not None:
        await steps.times(callback, walk, sel, day)


async def chose_time(
    callback: CallbackQuery,
    callback_data: StaffTimeCb,
    t: Translator,
    business: Business,
    staff: StaffService,
    clients: ClientService,
    actor: Actor,
) -> None:
    cb = callback_data
    walk = await _walk(callback, cb.client, t, business, staff, clients, actor)
    if walk is None:
        return
    sel = await steps.select(callback, walk, cb.service, cb.specialist, cb.moving, bool(cb.outside))
    if sel is not None:
        await steps.pick_time(callback, walk, sel, from_ts(cb.start))


async def confirm(
    callback: CallbackQuery,
    callback_data: StaffConfirmCb,
    t: Translator,
    business: Business,
    staff: StaffService,
    clients: ClientService,
    actor: Actor,
    notifier: Notifier,
) -> None:
    cb = callback_data
    walk = await _walk(callback, cb.client, t, business, staff, clients, actor)
    if walk is None:
        return
    if cb.moving:
        moving = await staff.get(cb.moving)
        if moving is None or moving.booking.client_id != walk.client.id:  # forged
            await alert(callback, walk.stale())
            return
    start, specialist = from_ts(cb.start), cb.specialist or None
    if cb.moving:
        result = await staff.reschedule(
            cb.moving, start, actor, specialist, outside_hours=bool(cb.outside)
        )
    else:
        result = await staff.book_for(
            walk.client.id, cb.service, start, actor, specialist, outside_hours=bool(cb.outside)
        )
    if result.outcome is Outcome.ALREADY_BOOKED:  # a double click: the first answer stays
        booked = result.booking.id if result.booking else 0
        await alert(callback, t("admin.book.already", id=booked))
        return
    if result.outcome in PICK_ANOTHER_TIME:
        sel = await steps.select(
            callback, walk, cb.service, cb.specialist, cb.moving, bool(cb.outside)
        )
        if sel is not None:
            await steps.after_refusal(callback, walk, sel, start, result.outcome)
        return
    if not result.ok or result.booking is None:
        screen = views.refusal_screen(
            t, business, result.outcome, moving=bool(cb.moving), for_client=walk.client
        )
        await show(callback, screen)
        return
    booking_id = result.booking.id
    # The client's news (with the .ics) and the admin chat's card go out first: the answer
    # says whether the client was told.
    told = count_told(await notifier.after(booking_id), NoticeKind.BOOKED_BY_STAFF) > 0
    details = await staff.get(booking_id)
    assert details is not None
    await show(callback, bv.booked_answer(t, business, details, moved=bool(cb.moving), told=told))


async def navigate(
    callback: CallbackQuery,
    callback_data: StaffNavCb,
    t: Translator,
    business: Business,
    staff: StaffService,
    clients: ClientService,
    catalog: CatalogService,
    actor: Actor,
) -> None:
    cb = callback_data
    walk = await _walk(callback, cb.client, t, business, staff, clients, actor)
    if walk is None:
        return
    if cb.to is StaffNavAction.CLOSE:
        await show(callback, bv.closed(t, walk.client, bool(cb.moving)))
        return
    services = await catalog.list_services()
    await show(callback, views.services_screen(t, business, services, walk.client))


STEP_BUTTONS = (
    (StaffServiceCb, chose_service),
    (StaffCalendarCb, chose_month),
    (StaffDayCb, chose_day),
    (StaffTimeCb, chose_time),
    (StaffConfirmCb, confirm),
    (StaffNavCb, navigate),
)
