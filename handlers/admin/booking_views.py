"""The admin's screens of a booking staff make or move for a client (/book, /move): what the
admin is told, and the card the admin chat gets through the outbox. Pure, like views.py."""

from __future__ import annotations

from domain.bookings import BookingDetails
from domain.clients import Client
from domain.notices import Notice
from domain.rules import Business
from handlers.admin.views import booking_card, booking_line, card_keyboard, status_text, with_note
from handlers.views.base import Screen
from handlers.views.steps import for_line
from services.clients import has_telegram
from utils.formatting import esc
from utils.i18n import Translator


def found_text(t: Translator, client: Client, *, added: bool, asked_name: str | None) -> str:
    """Above the services list: a client just added, or the one a new name's phone led to."""
    if added:
        return t("admin.book.added") + "\n"
    if asked_name is not None and asked_name != (client.name or client.first_name):
        return t("admin.book.known_phone", name=esc(asked_name)) + "\n"
    return ""


def told_line(t: Translator, client_id: int, told: bool) -> str:
    if told:
        return t("admin.book.told")
    if not has_telegram(client_id):
        return t("admin.book.offline")
    return t("admin.book.untold")


def booked_answer(
    t: Translator, business: Business, details: BookingDetails, *, moved: bool, told: bool
) -> Screen:
    """The staff's booking (or move) made: who was told, and the booking's card."""
    b = details.booking
    head = t("admin.move.done", id=b.id) if moved else t("admin.book.done", id=b.id)
    card = booking_card(t, business, details)
    text = "\n".join([head, told_line(t, b.client_id, told), "", card.text])
    return Screen(text, card.markup)


def not_movable(t: Translator, details: BookingDetails) -> str:
    b = details.booking
    return t("admin.move.not_active", id=b.id, status=status_text(t, b.status))


def closed(t: Translator, client: Client, moving: bool) -> Screen:
    said = t("admin.move.closed") if moving else t("admin.book.closed")
    return Screen(for_line(t, client) + "\n" + said)


def staff_card(t: Translator, business: Business, notice: Notice) -> Screen:
    """The admin chat's card of a booking the staff made or moved (``notice.previous``)."""
    d = notice.details
    line = booking_line(t, business, d, with_day=True)
    if notice.previous is not None:
        was = booking_line(t, business, notice.previous, with_day=True)
        text = t("admin.card.staff_moved", id=d.booking.id, line=line, was=was)
    else:
        text = t("admin.card.staff_booked", id=d.booking.id, line=line)
    return Screen(with_note(t, text, d), card_keyboard(t, d.booking))
