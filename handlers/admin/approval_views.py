"""Screens of pending bookings and blocked clients for the staff: pure, like the other views."""

from __future__ import annotations

from collections.abc import Sequence

from aiogram.types import InlineKeyboardMarkup

from domain.bookings import BookingDetails
from domain.clients import Client
from domain.rules import Business
from handlers.admin.views import AGENDA_CHUNK, booking_buttons, booking_line, client_label
from handlers.callback_data import AdminAction, AdminBookingCb
from handlers.views.base import Screen, keyboard
from utils.formatting import esc
from utils.i18n import Translator


def listing(
    t: Translator, business: Business, title: str, bookings: Sequence[BookingDetails]
) -> list[Screen]:
    """Bookings of any days (/pending, /block) with the buttons their status allows, in
    messages that fit."""
    screens = []
    for first in range(0, len(bookings), AGENDA_CHUNK):
        chunk = bookings[first : first + AGENDA_CHUNK]
        lines = [title, ""]
        lines += [booking_line(t, business, d, with_day=True) for d in chunk]
        rows = [r for r in (booking_buttons(t, d.booking) for d in chunk) if r]
        screens.append(Screen("\n".join(lines), keyboard(*rows) if rows else None))
    return screens


def pending_screens(
    t: Translator, business: Business, bookings: Sequence[BookingDetails]
) -> list[Screen]:
    if not bookings:
        return [Screen(t("admin.pending.empty"))]
    title = t("admin.pending.title", count=len(bookings))
    return listing(t, business, title, bookings)


def name_of(client: Client) -> str:
    return client_label(client.name or client.first_name, client.username)


def blocked_screens(
    t: Translator, business: Business, client: Client, active: Sequence[BookingDetails]
) -> list[Screen]:
    """The answer to /block: done, and the client's active bookings for the staff to decide."""
    done = t("admin.block.done", client=name_of(client), id=client.id)
    if client.block_reason:
        done += "\n" + t("admin.block.reason", reason=esc(client.block_reason))
    if not active:
        return [Screen(done + "\n\n" + t("admin.block.no_bookings"))]
    title = t("admin.block.bookings", count=len(active))
    return [Screen(done), *listing(t, business, title, active)]


def without_decision(
    markup: InlineKeyboardMarkup | None, booking_id: int
) -> InlineKeyboardMarkup | None:
    """The keyboard a decision was pressed on, less the Approve and Decline of that booking
    (the rest of an agenda or a list keeps its buttons)."""
    if markup is None:
        return None
    gone = {
        AdminBookingCb(action=action, booking=booking_id).pack()
        for action in (AdminAction.APPROVE, AdminAction.DECLINE)
    }
    rows = [[b for b in row if b.callback_data not in gone] for row in markup.inline_keyboard]
    kept = [row for row in rows if row]
    return InlineKeyboardMarkup(inline_keyboard=kept) if kept else None
