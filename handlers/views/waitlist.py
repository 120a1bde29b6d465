"""The waitlist's screens for clients: the question on a day without free time, the answer to
joining, the offer of a held time, and their lines in My bookings. Pure, like the other views."""

from __future__ import annotations

from datetime import date

from aiogram.types import InlineKeyboardButton

from domain.bookings import BookingDetails
from domain.outcomes import Selection
from domain.rules import Business
from domain.waitlist import DayPart, WaitDetails, WaitOutcome
from handlers.callback_data import (
    Destination,
    JoinCb,
    LeaveCb,
    Nav,
    OfferAction,
    OfferCb,
    WaitCb,
    WaitPart,
)
from handlers.views import steps
from handlers.views.base import Screen, button, keyboard, pack_day, pack_month
from utils.formatting import esc, hhmm
from utils.i18n import Translator

PARTS: dict[WaitPart, DayPart | None] = {
    WaitPart.ANY: None,
    WaitPart.MORNING: DayPart.MORNING,
    WaitPart.AFTERNOON: DayPart.AFTERNOON,
    WaitPart.EVENING: DayPart.EVENING,
}


def wait_cb(sel: Selection, day: date) -> WaitCb:
    specialist = sel.specialist.id if sel.specialist else 0
    return WaitCb(service=sel.service.id, specialist=specialist, day=pack_day(day))


def notify_button(t: Translator, sel: Selection, day: date) -> InlineKeyboardButton:
    return button(t("wait.notify_me"), wait_cb(sel, day))


def part_text(t: Translator, part: DayPart | None) -> str:
    return {
        None: t("wait.part.any"),
        DayPart.MORNING: t("wait.part.morning"),
        DayPart.AFTERNOON: t("wait.part.afternoon"),
        DayPart.EVENING: t("wait.part.evening"),
    }[part]


def ask_screen(t: Translator, business: Business, sel: Selection, day: date) -> Screen:
    """Whether (and for which part of the day) to be told when a time of ``day`` frees up."""
    ids = {"service": sel.service.id, "specialist": sel.specialist.id if sel.specialist else 0}

    def join(part: WaitPart) -> InlineKeyboardButton:
        return button(part_text(t, PARTS[part]), JoinCb(day=pack_day(day), part=part, **ids))

    text = t(
        "wait.ask",
        service=esc(sel.service.name),
        day=day,
        minutes=business.rules.waitlist_hold_minutes,
    )
    return Screen(
        text,
        keyboard(
            [join(WaitPart.ANY)],
            [join(WaitPart.MORNING), join(WaitPart.AFTERNOON), join(WaitPart.EVENING)],
            [
                button(t("nav.back"), steps.month_cb(sel, pack_month(day))),
                button(t("nav.cancel"), steps.leave(sel)),
            ],
        ),
    )


def joined_screen(
    t: Translator, business: Business, outcome: WaitOutcome, day: date, part: DayPart | None
) -> Screen:
    if outcome is WaitOutcome.JOINED:
        text = t(
            "wait.joined",
            day=day,
            part=part_text(t, part),
            minutes=business.rules.waitlist_hold_minutes,
        )
    else:
        text = t("wait.already", day=day)
    return Screen(
        text,
        keyboard(
            [
                button(t("menu.my"), Nav(to=Destination.MY)),
                button(t("nav.home"), Nav(to=Destination.HOME)),
            ]
        ),
    )


def offer_screen(t: Translator, business: Business, details: BookingDetails) -> Screen:
    """The time held for a waiter: Book or No thanks."""
    b = details.booking
    assert b.held_until is not None
    start = business.local(b.start)
    text = t(
        "wait.offer",
        service=esc(details.service_name),
        specialist=esc(details.specialist_name),
        day=start.date(),
        time=hhmm(start),
        until=hhmm(business.local(b.held_until)),
    )
    return Screen(text, keyboard(offer_buttons(t, b.id)))


def offer_buttons(
    t: Translator, booking_id: int, n: int | None = None
) -> list[InlineKeyboardButton]:
    book = t("wait.book") if n is None else t("wait.book_n", n=n)
    no = t("wait.no_thanks") if n is None else t("wait.no_thanks_n", n=n)
    return [
        button(book, OfferCb(action=OfferAction.BOOK, booking=booking_id)),
        button(no, OfferCb(action=OfferAction.NO, booking=booking_id)),
    ]


def declined_screen(t: Translator) -> Screen:
    return Screen(
        t("wait.declined"),
        keyboard(
            [
                button(t("menu.my"), Nav(to=Destination.MY)),
                button(t("nav.home"), Nav(to=Destination.HOME)),
            ]
        ),
    )


def waiting_lines(
    t: Translator, waiting: list[WaitDetails], first_n: int
) -> tuple[list[str], list[list[InlineKeyboardButton]]]:
    """My bookings' part about the waitlist: a line and a Leave button per entry."""
    lines: list[str] = []
    rows: list[list[InlineKeyboardButton]] = []
    for n, w in enumerate(waiting, first_n):
        lines.append(
            t(
                "wait.my_item",
                n=n,
                service=esc(w.service_name),
                day=w.entry.day,
                part=part_text(t, w.entry.part),
            )
        )
        if w.entry.booking_id is None:  # an entry with an offer in hand is answered there
            rows.append([button(t("wait.leave", n=n), LeaveCb(entry=w.entry.id))])
    return lines, rows
