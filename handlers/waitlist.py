"""The waitlist in the client's chat: "Notify me" on a day without free time (the part of the
day), the offer of a held time (Book, No thanks), leaving from My bookings.

Registered on the booking router (``register``): no router level of its own to walk.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import CallbackQuery

from domain.clients import Client
from domain.outcomes import Outcome
from domain.rules import Business
from domain.waitlist import WaitOutcome
from handlers.booking import Walk, answer_booked, bookable, select, times
from handlers.callback_data import JoinCb, LeaveCb, OfferAction, OfferCb, WaitCb
from handlers.common import alert, show
from handlers.my_bookings import mine_screen
from handlers.views import booking as booking_views
from handlers.views import waitlist as views
from handlers.views.base import unpack_day
from services.booking import ClientBookingService
from services.notifier import Notifier
from services.waitlist import WaitlistService
from utils.i18n import Translator


async def ask(
    callback: CallbackQuery,
    callback_data: WaitCb,
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
    sel = await select(callback, walk, cb.service, cb.specialist, 0)
    if sel is not None:
        await show(callback, views.ask_screen(t, business, sel, day))


async def join(
    callback: CallbackQuery,
    callback_data: JoinCb,
    t: Translator,
    business: Business,
    booking: ClientBookingService,
    waitlist: WaitlistService,
    client: Client,
) -> None:
    cb, walk = callback_data, Walk(t, business, booking, client)
    day = bookable(walk, unpack_day(cb.day))
    if day is None:
        await alert(callback, walk.stale())
        return
    sel = await select(callback, walk, cb.service, cb.specialist, 0)
    if sel is None:
        return
    part = views.PARTS[cb.part]
    outcome = await waitlist.join(client.id, cb.service, cb.specialist or None, day, part)
    if outcome is WaitOutcome.HAS_TIME:  # a time is free after all: book it
        await times(callback, walk, sel, day, t("wait.has_time"))
    elif outcome is WaitOutcome.BLOCKED:
        screen = booking_views.refusal_screen(t, business, Outcome.BLOCKED, moving=False)
        await show(callback, screen)
    elif outcome is WaitOutcome.NOT_BOOKABLE:
        await alert(callback, walk.stale())
    else:
        await show(callback, views.joined_screen(t, business, outcome, day, part))


async def book_offer(
    callback: CallbackQuery,
    callback_data: OfferCb,
    t: Translator,
    business: Business,
    booking: ClientBookingService,
    waitlist: WaitlistService,
    client: Client,
    notifier: Notifier,
) -> None:
    booking_id = callback_data.booking
    result = await waitlist.accept(booking_id, client.id)
    if result.outcome is Outcome.BLOCKED:
        screen = booking_views.refusal_screen(t, business, Outcome.BLOCKED, moving=False)
        await show(callback, screen)
        return
    if result.outcome is not Outcome.BOOKED:
        await alert(callback, _why(t, result.outcome))
        return
    walk = Walk(t, business, booking, client)
    await answer_booked(callback, walk, notifier, booking_id, moved=False)


async def no_thanks(
    callback: CallbackQuery,
    callback_data: OfferCb,
    t: Translator,
    waitlist: WaitlistService,
    client: Client,
    notifier: Notifier,
) -> None:
    result = await waitlist.decline(callback_data.booking, client.id)
    if result.outcome is not Outcome.CANCELLED:
        await alert(callback, _why(t, result.outcome))
        return
    await show(callback, views.declined_screen(t))
    await notifier.after()  # the time, held now for the next in line: their offer


async def leave(
    callback: CallbackQuery,
    callback_data: LeaveCb,
    t: Translator,
    business: Business,
    booking: ClientBookingService,
    waitlist: WaitlistService,
    client: Client,
) -> None:
    if await waitlist.leave(callback_data.entry, client.id) is not WaitOutcome.LEFT:
        await alert(callback, t("alert.stale"))
        return
    screen = await mine_screen(t, business, booking, waitlist, client)
    await show(callback, screen, t("wait.left"))


def _why(t: Translator, outcome: Outcome) -> str:
    if outcome is Outcome.ALREADY_BOOKED:
        return t("outcome.already_booked")
    if outcome is Outcome.OFFER_GONE:
        return t("outcome.offer_gone")
    return t("alert.stale")  # not theirs, or not there


def register(router: Router) -> None:
    router.callback_query.register(ask, WaitCb.filter())
    router.callback_query.register(join, JoinCb.filter())
    router.callback_query.register(book_offer, OfferCb.filter(F.action == OfferAction.BOOK))
    router.callback_query.register(no_thanks, OfferCb.filter(F.action == OfferAction.NO))
    router.callback_query.register(leave, LeaveCb.filter())
