"""Admin chat screens and texts: pure functions, no I/O (like handlers/views/)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from domain.actors import Role
from domain.bookings import Booking, BookingDetails, BookingStatus, Session, sessions
from domain.catalog import Service, ServiceInfo, SpecialistInfo
from domain.rules import Business
from handlers.callback_data import AdminAction, AdminBookingCb
from handlers.views.base import Screen, button, keyboard
from services.specialists import Removal, RemovalResult
from utils.formatting import day_short, esc, hhmm, money
from utils.i18n import Translator

# Bookings per agenda message: keeps each under Telegram's 4096 characters and 100 buttons.
AGENDA_CHUNK = 15


def usage(t: Translator, command: str) -> str:
    """The usage line (with an example) of one admin command: ``admin.usage.<command>``."""
    return t(f"admin.usage.{command}")


def help_text(t: Translator, commands: Sequence[str]) -> str:
    return "\n".join([t("admin.help.title"), *(usage(t, c) for c in commands)])


def bad_args(t: Translator, command: str) -> str:
    return t("admin.bad_args", usage=usage(t, command))


def status_text(
    t: Translator, status: BookingStatus, *, pending: bool = False, held: bool = False
) -> str:
    if held and status is BookingStatus.ACTIVE:
        return t("admin.status.held")
    if pending and status is BookingStatus.ACTIVE:
        return t("admin.status.pending")
    return {
        BookingStatus.ACTIVE: t("admin.status.active"),
        BookingStatus.CANCELLED: t("admin.status.cancelled"),
        BookingStatus.COMPLETED: t("admin.status.completed"),
        BookingStatus.NO_SHOW: t("admin.status.no_show"),
    }[status]


def client_label(name: str, username: str | None) -> str:
    label = esc(name) or "—"
    return f"{label} @{esc(username)}" if username else label


def phone_text(t: Translator, phone: str | None) -> str:
    return esc(phone) if phone else t("admin.no_phone")


def booking_line(
    t: Translator, business: Business, d: BookingDetails, *, with_day: bool = False
) -> str:
    b = d.booking
    start = business.local(b.start)
    when = f"{day_short(start.date(), t.language)} {hhmm(start)}" if with_day else hhmm(start)
    return t(
        "admin.agenda.line",
        id=b.id,
        time=when,
        client=client_label(d.client_name, d.client_username),
        phone=phone_text(t, d.client_phone),
        service=esc(d.service_name),
        specialist=esc(d.specialist_name),
        status=status_text(t, b.status, pending=b.is_pending, held=b.is_held),
        confirmed=t("admin.confirmed.yes") if b.confirmed_at else t("admin.confirmed.no"),
    )


def _move(t: Translator, booking_id: int) -> InlineKeyboardButton:
    return button(
        t("admin.button.move", id=booking_id),
        AdminBookingCb(action=AdminAction.MOVE, booking=booking_id),
    )


def _decision(t: Translator, booking_id: int) -> list[InlineKeyboardButton]:
    return [
        button(
            t("admin.button.approve", id=booking_id),
            AdminBookingCb(action=AdminAction.APPROVE, booking=booking_id),
        ),
        button(
            t("admin.button.decline", id=booking_id),
            AdminBookingCb(action=AdminAction.DECLINE, booking=booking_id),
        ),
    ]


def card_keyboard(t: Translator, booking: Booking) -> InlineKeyboardMarkup | None:
    """Under a card in the admin chat: Approve and Decline while it is pending; Cancel and
    Move while the booking is active."""
    if booking.is_pending:
        return keyboard(_decision(t, booking.id))
    if not booking.is_active or booking.is_held:  # a hold is the waiter's to take or decline
        return None
    cancel = button(
        t("admin.button.cancel", id=booking.id),
        AdminBookingCb(action=AdminAction.CANCEL, booking=booking.id),
    )
    return keyboard([cancel, _move(t, booking.id)])


def booking_buttons(t: Translator, booking: Booking) -> list[InlineKeyboardButton]:
    """Pending: Approve / Decline / Move. Active: Cancel / No-show / Done / Move. Completed
    (bookings close by themselves when they end): No-show, so a client who did not come is
    still recorded as such. Otherwise none."""
    booking_id = booking.id
    if booking.is_held:  # the waiter's to take or decline
        return []
    if booking.is_pending:
        return [*_decision(t, booking_id), _move(t, booking_id)]
    no_show = button(
        t("admin.button.no_show", id=booking_id),
        AdminBookingCb(action=AdminAction.NO_SHOW, booking=booking_id),
    )
    if booking.status is BookingStatus.COMPLETED:
        return [no_show]
    if not booking.is_active:
        return []
    return [
        button(
            t("admin.button.cancel", id=booking_id),
            AdminBookingCb(action=AdminAction.CANCEL, booking=booking_id),
        ),
        no_show,
        button(
            t("admin.button.done", id=booking_id),
            AdminBookingCb(action=AdminAction.DONE, booking=booking_id),
        ),
        _move(t, booking_id),
    ]


def agenda_screens(
    t: Translator, business: Business, day: date, bookings: Sequence[BookingDetails]
) -> list[Screen]:
    """The day's bookings in time order, each with the buttons its status allows; a group
    session once, with its attendees under it (its heading repeated on the next message when
    it runs over one)."""
    if not bookings:
        return [Screen(t("admin.agenda.empty", day=day))]
    items = [(s, n, d) for s in sessions(bookings) for n, d in enumerate(s.bookings)]
    screens = []
    for first in range(0, len(items), AGENDA_CHUNK):
        chunk = items[first : first + AGENDA_CHUNK]
        lines = [t("admin.agenda.title", day=day, count=len(bookings)), ""]
        for i, (session, n, d) in enumerate(chunk):
            if not session.is_group:
                lines.append(booking_line(t, business, d))
                continue
            if n == 0 or i == 0:
                lines.append(session_heading(t, business, session, more=n > 0))
            lines.append(attendee_line(t, d))
        rows = [r for r in (booking_buttons(t, d.booking) for _, _, d in chunk) if r]
        screens.append(Screen("\n".join(lines), keyboard(*rows) if rows else None))
    return screens


def agenda_lines(t: Translator, business: Business, found: Sequence[BookingDetails]) -> list[str]:
    """The bookings' lines, a group session once with its attendees (no buttons)."""
    lines = []
    for session in sessions(found):
        if session.is_group:
            lines.append(session_heading(t, business, session))
            lines += [attendee_line(t, d) for d in session.bookings]
        else:
            lines.append(booking_line(t, business, session.first))
    return lines


def session_heading(
    t: Translator, business: Business, session: Session, *, more: bool = False
) -> str:
    d = session.first
    names = {
        "time": hhmm(business.local(d.booking.start)),
        "service": esc(d.service_name),
        "specialist": esc(d.specialist_name),
    }
    if more:
        return t("admin.agenda.session_more", **names)
    return t("admin.agenda.session", taken=session.taken, capacity=d.service_capacity, **names)


def attendee_line(t: Translator, d: BookingDetails) -> str:
    b = d.booking
    return t(
        "admin.agenda.attendee",
        id=b.id,
        client=client_label(d.client_name, d.client_username),
        phone=phone_text(t, d.client_phone),
        status=status_text(t, b.status, pending=b.is_pending, held=b.is_held),
        confirmed=t("admin.confirmed.yes") if b.confirmed_at else t("admin.confirmed.no"),
    )


def booking_card(t: Translator, business: Business, d: BookingDetails) -> Screen:
    b = d.booking
    start, end = business.local(b.start), business.local(b.end)
    text = t(
        "admin.booking.card",
        id=b.id,
        day=start.date(),
        time=hhmm(start),
        end=hhmm(end),
        duration=b.duration_minutes,
        service=esc(d.service_name),
        specialist=esc(d.specialist_name),
        client=client_label(d.client_name, d.client_username),
        client_id=b.client_id,
        phone=phone_text(t, d.client_phone),
        price=money(b.price, business.currency, t.language),
        status=status_text(t, b.status, pending=b.is_pending, held=b.is_held),
        confirmed=t("admin.confirmed.yes") if b.confirmed_at else t("admin.confirmed.no"),
    )
    if b.status is BookingStatus.CANCELLED:
        who = {
            Role.CLIENT: t("admin.who.client"),
            Role.ADMIN: t("admin.who.admin"),
            Role.SYSTEM: t("admin.who.admin"),
        }[b.cancelled_by_role or Role.SYSTEM]
        text += "\n" + t("admin.booking.cancelled_by", who=who, reason=esc(b.cancel_reason or "—"))
    text = with_note(t, text, d)
    buttons = booking_buttons(t, b)
    return Screen(text, keyboard(buttons) if buttons else None)


def cancel_question(t: Translator, business: Business, d: BookingDetails) -> Screen:
    booking_id = d.booking.id
    return Screen(
        t("admin.cancel.ask", id=booking_id, line=booking_line(t, business, d, with_day=True)),
        keyboard(
            [
                button(
                    t("admin.button.cancel_yes"),
                    AdminBookingCb(action=AdminAction.CANCEL_YES, booking=booking_id),
                ),
                button(
                    t("admin.button.keep"),
                    AdminBookingCb(action=AdminAction.KEEP, booking=booking_id),
                ),
            ]
        ),
    )


def services_text(t: Translator, business: Business, services: Sequence[ServiceInfo]) -> str:
    """Every service; one that no active specialist offers is marked: clients do not see it."""
    if not services:
        return t("admin.services.empty")
    lines = [t("admin.services.title")]
    for info in services:
        s = info.service
        line = t(
            "admin.services.item",
            id=s.id,
            name=esc(s.name),
            duration=s.duration_minutes,
            buffer=s.buffer_minutes,
            price=money(s.price, business.currency, t.language),
            state=t("admin.state.on") if s.is_active else t("admin.state.off"),
        )
        if s.is_group:
            line += " · " + t("admin.services.capacity", count=s.capacity)
        if info.offered_by == 0:
            line += " · " + t("admin.services.nobody")
        lines.append(line)
        if s.description:
            lines.append(f"<i>{esc(s.description)}</i>")
    return "\n".join(lines)


def specialists_text(
    t: Translator, specialists: Sequence[SpecialistInfo], services: Sequence[Service]
) -> str:
    names = {s.id: s.name for s in services}
    lines = [t("admin.specialists.title")]
    for info in specialists:
        sp = info.specialist
        offered = ", ".join(f"#{sid} {esc(names.get(sid, ''))}" for sid in info.service_ids)
        lines.append(
            t(
                "admin.specialists.item",
                id=sp.id,
                name=esc(sp.name),
                state=t("admin.state.on") if sp.is_active else t("admin.state.off"),
                services=offered or t("admin.specialists.no_services"),
            )
        )
    return "\n".join(lines)


def removal_text(t: Translator, specialist_id: int, removed: RemovalResult) -> str:
    """/specialist_delete's answer; a refusal says what to do instead."""
    name = esc(removed.name)
    return {
        Removal.DONE: lambda: t("admin.specialist.deleted", id=specialist_id, name=name),
        Removal.NOT_FOUND: lambda: t("admin.specialist.not_found", id=specialist_id),
        Removal.IN_USE: lambda: t(
            "admin.specialist.in_use", id=specialist_id, name=name, count=removed.bookings
        ),
        Removal.LAST: lambda: t("admin.specialist.last", id=specialist_id, name=name),
    }[removed.outcome]()


def with_note(t: Translator, text: str, d: BookingDetails) -> str:
    """A booking card for the staff, with their latest note about the client."""
    if d.client_note is None:
        return text
    return text + "\n" + t("admin.card.note", note=esc(d.client_note))
