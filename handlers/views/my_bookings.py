"""My bookings: the client's upcoming bookings, and cancelling one."""

from __future__ import annotations

from collections.abc import Sequence

from domain.bookings import BookingDetails
from domain.rules import Business
from domain.waitlist import WaitDetails
from handlers.callback_data import BookingAction, BookingCb, Destination, Nav
from handlers.views.base import Screen, button, keyboard
from handlers.views.waitlist import offer_buttons, waiting_lines
from utils.formatting import esc, hhmm
from utils.i18n import Translator


def my_bookings_screen(
    t: Translator,
    business: Business,
    bookings: Sequence[BookingDetails],
    waiting: Sequence[WaitDetails] = (),
) -> Screen:
    """The client's upcoming bookings with Move and Cancel (a time held for them from the
    waitlist with Book and No thanks), then the days they wait for with Leave."""
    if not bookings and not waiting:
        return Screen(
            t("my.empty"),
            keyboard(
                [
                    button(t("menu.book"), Nav(to=Destination.BOOK)),
                    button(t("nav.back"), Nav(to=Destination.HOME)),
                ]
            ),
        )
    lines = [t("my.title"), ""]
    rows = []
    for n, d in enumerate(bookings, 1):
        local = business.local(d.booking.start)
        item = t(
            "my.item",
            n=n,
            day=local.date(),
            time=hhmm(local),
            service=esc(d.service_name),
            specialist=esc(d.specialist_name),
        )
        if d.booking.held_until is not None:
            until = hhmm(business.local(d.booking.held_until))
            lines.append(item + t("wait.my_held", until=until))
            rows.append(offer_buttons(t, d.booking.id, n))
            continue
        lines.append(item + t("my.pending") if d.booking.is_pending else item)
        rows.append(
            [
                button(
                    t("my.move", n=n), BookingCb(action=BookingAction.MOVE, booking=d.booking.id)
                ),
                button(
                    t("my.cancel", n=n),
                    BookingCb(action=BookingAction.CANCEL, booking=d.booking.id),
                ),
            ]
        )
    if waiting:
        waits, leave = waiting_lines(t, list(waiting), len(bookings) + 1)
        lines += ["", t("wait.my_title"), *waits]
        rows += leave
    rows.append(
        [
            button(t("menu.book"), Nav(to=Destination.BOOK)),
            button(t("nav.back"), Nav(to=Destination.HOME)),
        ]
    )
    return Screen("\n".join(lines), keyboard(*rows))


def cancel_question(t: Translator, business: Business, details: BookingDetails) -> Screen:
    local = business.local(details.booking.start)
    return Screen(
        t(
            "my.cancel_ask",
            service=esc(details.service_name),
            day=local.date(),
            time=hhmm(local),
        ),
        keyboard(
            [
                button(
                    t("my.cancel_yes"),
                    BookingCb(action=BookingAction.CANCEL_YES, booking=details.booking.id),
                ),
                button(t("my.cancel_no"), Nav(to=Destination.MY)),
            ]
        ),
    )


def cancelled_screen(t: Translator, business: Business, details: BookingDetails) -> Screen:
    local = business.local(details.booking.start)
    return Screen(
        t(
            "my.cancelled",
            service=esc(details.service_name),
            day=local.date(),
            time=hhmm(local),
        ),
        keyboard(
            [
                button(t("my.book_again"), Nav(to=Destination.BOOK)),
                button(t("menu.my"), Nav(to=Destination.MY)),
            ]
        ),
    )
