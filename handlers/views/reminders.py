"""Reminders and rating requests as the client receives them."""

from __future__ import annotations

from aiogram.types import InlineKeyboardMarkup

from domain.reminders import DueReminder
from domain.rules import Business
from handlers.callback_data import BookingAction, BookingCb, RateCb, VisitCb
from handlers.views.base import button, keyboard
from utils.formatting import esc, hhmm
from utils.i18n import Translator


def reminder_text(t: Translator, business: Business, reminder: DueReminder) -> str:
    local = business.local(reminder.start)
    lines = [
        t("reminder.title"),
        "",
        f"<b>{esc(reminder.service_name)}</b>",
        t("card.specialist", name=esc(reminder.specialist_name)),
        t("card.date", day=local.date()),
        t("card.time", time=hhmm(local)),
    ]
    if business.address:
        lines.append(t("contacts.address", address=esc(business.address)))
    return "\n".join(lines)


def reminder_keyboard(
    t: Translator, booking_id: int, *, confirmed: bool, changeable: bool = True
) -> InlineKeyboardMarkup:
    """I'll come (until pressed); Reschedule / Cancel while the client may still use them."""
    lines = [] if confirmed else [[button(t("reminder.come"), VisitCb(booking=booking_id))]]
    if changeable:
        lines.append(
            [
                button(
                    t("reminder.move"), BookingCb(action=BookingAction.MOVE, booking=booking_id)
                ),
                button(
                    t("reminder.cancel"),
                    BookingCb(action=BookingAction.CANCEL, booking=booking_id),
                ),
            ]
        )
    return keyboard(*lines)


def feedback_text(t: Translator, business: Business, reminder: DueReminder) -> str:
    local = business.local(reminder.start)
    return t(
        "feedback.ask",
        service=esc(reminder.service_name),
        specialist=esc(reminder.specialist_name),
        day=local.date(),
    )


def feedback_keyboard(booking_id: int) -> InlineKeyboardMarkup:
    return keyboard([button(f"{n}★", RateCb(booking=booking_id, stars=n)) for n in range(1, 6)])
