"""The booking steps: service -> specialist -> calendar -> times -> confirm -> booked, and the
refusals met on the way (also used when moving a booking, and when staff book or move for a
client: ``Selection.for_client``, whose buttons carry the client and stay in the admin's
router; there a day without free time can still be opened, for times outside the hours)."""

from __future__ import annotations

import calendar as pycalendar
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import replace
from datetime import date, datetime

from aiogram.filters.callback_data import CallbackData
from aiogram.types import BufferedInputFile, InlineKeyboardButton
from aiogram.utils.keyboard import InlineKeyboardBuilder

from domain.bookings import BookingDetails
from domain.catalog import Service, Specialist
from domain.clients import Client
from domain.outcomes import CHOOSE_AGAIN, Outcome, Selection
from domain.rules import Business
from handlers.callback_data import (
    CalendarCb,
    Destination,
    Label,
    Nav,
    Noop,
    ServiceCb,
    StaffCalendarCb,
    StaffNavAction,
    StaffNavCb,
    StaffServiceCb,
)
from handlers.views import steps, waitlist
from handlers.views.base import Screen, button, keyboard, pack_month
from handlers.views.menu import contacts_line
from services.ics import appointment_ics
from utils.formatting import esc, hhmm, money, month_title, weekday_names
from utils.i18n import Translator


def services_screen(
    t: Translator,
    business: Business,
    services: Sequence[Service],
    for_client: Client | None = None,
) -> Screen:
    if for_client is None:
        back = button(t("nav.back"), Nav(to=Destination.HOME))
    else:
        close = StaffNavCb(to=StaffNavAction.CLOSE, client=for_client.id)
        back = button(t("nav.cancel"), close)
    if not services:
        return Screen(steps.for_prefix(t, for_client) + t("book.no_services"), keyboard([back]))
    buttons = [
        [
            button(
                t(
                    "book.service_button",
                    name=s.name,
                    duration=s.duration_minutes,
                    price=money(s.price, business.currency, t.language),
                ),
                ServiceCb(service=s.id)
                if for_client is None
                else StaffServiceCb(client=for_client.id, service=s.id),
            )
        ]
        for s in services
    ]
    return Screen(
        steps.for_prefix(t, for_client) + t("book.choose_service"),
        keyboard(*buttons, [back]),
    )


def specialists_screen(
    t: Translator,
    service: Service,
    specialists: Sequence[Specialist],
    month: int,
    for_client: Client | None = None,
) -> Screen:
    def pick(specialist: int) -> CallbackData:
        if for_client is None:
            return CalendarCb(service=service.id, specialist=specialist, month=month)
        return StaffCalendarCb(
            client=for_client.id, service=service.id, specialist=specialist, month=month
        )

    rows = [[button(t("book.any_specialist"), pick(0))]]
    rows += [[button(sp.name, pick(sp.id))] for sp in specialists]
    back: CallbackData = Nav(to=Destination.BOOK)
    if for_client is not None:
        back = StaffNavCb(to=StaffNavAction.SERVICES, client=for_client.id)
    return Screen(
        steps.for_prefix(t, for_client) + t("book.choose_specialist", service=esc(service.name)),
        keyboard(*rows, [button(t("nav.back"), back)]),
    )


def _header(t: Translator, business: Business, sel: Selection) -> str:
    if sel.moving:
        start = business.local(sel.moving.start)
        head = t(
            "move.header",
            service=esc(sel.service.name),
            day=start.date(),
            time=hhmm(start),
        )
    else:
        head = f"<b>{esc(sel.service.name)}</b>"
    if sel.specialist and sel.offering > 1:  # with one specialist there was no choice
        head += "\n" + t("book.specialist_line", name=esc(sel.specialist.name))
    return steps.for_prefix(t, sel.for_client) + head


def calendar_screen(
    t: Translator,
    business: Business,
    sel: Selection,
    year: int,
    month: int,
    open_days: set[date],
    bookable: tuple[date, date],
    full_days: AbstractSet[date] = frozenset(),
) -> Screen:
    """The month: open days pressable; a full day (someone works, nothing is free) pressable
    for the waitlist (``full_days``: a client's new booking only); the rest crossed out."""
    first, last = bookable
    rows: list[list[InlineKeyboardButton]] = [
        [button(month_title(year, month, t.language), Noop(why=Label.MONTH))],
        [button(name, Noop(why=Label.WEEKDAY)) for name in weekday_names(t.language)],
    ]
    for week in pycalendar.Calendar(firstweekday=0).monthdatescalendar(year, month):
        row = []
        for day in week:
            if day.month != month:
                row.append(button(" ", Noop(why=Label.BLANK)))
            elif day in open_days:
                row.append(button(str(day.day), steps.day_cb(sel, day)))
            else:
                # U+0336 strikes the number through: visibly closed, still readable. Staff may
                # still open it, for the times outside the working hours.
                # A client may ask to be told when a time of a bookable day frees up.
                closed: CallbackData = Noop(why=Label.CLOSED_DAY)
                if sel.for_client is not None:
                    closed = steps.day_cb(sel, day)
                elif day in full_days and first <= day <= last:
                    closed = waitlist.wait_cb(sel, day)
                row.append(button("\u0336".join(str(day.day)) + "\u0336", closed))
        rows.append(row)
    nav = []
    shown = date(year, month, 1)
    if pack_month(shown) > pack_month(first):
        prev_month = date(year - (month == 1), 12 if month == 1 else month - 1, 1)
        nav.append(button("◀", steps.month_cb(sel, pack_month(prev_month))))
    next_month = date(year + (month == 12), 1 if month == 12 else month + 1, 1)
    if next_month <= last:
        nav.append(button("▶", steps.month_cb(sel, pack_month(next_month))))
    text = _header(t, business, sel) + "\n\n" + t("book.choose_day")
    if not open_days:
        text += "\n" + t("book.no_days_this_month")
    rows.append(nav)
    rows.append(
        [
            button(t("nav.back"), steps.back_from_calendar(sel)),
            button(t("nav.cancel"), steps.leave(sel)),
        ]
    )
    return Screen(text, keyboard(*rows))


def times_screen(
    t: Translator,
    business: Business,
    sel: Selection,
    day: date,
    starts: Mapping[datetime, int | None],
    notice: str = "",
) -> Screen:
    """The day's free times; a group service's each with the seats left in its session."""
    builder = InlineKeyboardBuilder()
    for start, left in starts.items():
        label = hhmm(business.local(start))
        if left is not None:
            label = t("book.time_seats", time=label, count=left)
        builder.add(button(label, steps.time_cb(sel, start)))
    builder.adjust(2 if sel.service.is_group else 4)
    rows = list(builder.export())
    if sel.outside_hours:  # back to the day's times within the hours
        back = steps.day_cb(replace(sel, outside_hours=False), day)
        if starts:
            body = t("admin.book.outside_times", day=day)
        else:
            body = t("admin.book.no_outside", day=day)
    else:
        back = steps.month_cb(sel, pack_month(day))
        body = t("book.choose_time", day=day) if starts else t("book.no_times", day=day)
        if starts and sel.service.is_group:
            body += "\n" + t("book.group_times", count=sel.service.capacity)
        if sel.for_client is not None:  # the explicit way to the times outside the hours
            outside = steps.day_cb(replace(sel, outside_hours=True), day)
            rows.append([button(t("admin.book.outside_button"), outside)])
        elif not starts and sel.moving is None:  # a client may wait for a time to free up
            rows.append([waitlist.notify_button(t, sel, day)])
    rows.append([button(t("nav.back"), back), button(t("nav.cancel"), steps.leave(sel))])
    text = _header(t, business, sel) + "\n\n" + (notice + "\n\n" if notice else "") + body
    return Screen(text, keyboard(*rows))


def _card(
    t: Translator,
    business: Business,
    service: Service | str,
    specialist: str,
    start: datetime,
    duration: int,
    price: int,
) -> str:
    local = business.local(start)
    name = service.name if isinstance(service, Service) else service
    lines = [
        f"<b>{esc(name)}</b>",
        t("card.specialist", name=esc(specialist)),
        t("card.date", day=local.date()),
        t("card.time", time=hhmm(local)),
        t("card.duration", minutes=duration),
        t("card.price", price=money(price, business.currency, t.language)),
    ]
    if business.address:
        lines.append(t("contacts.address", address=esc(business.address)))
    return "\n".join(lines)


def confirm_screen(
    t: Translator,
    business: Business,
    sel: Selection,
    start: datetime,
    seats_left: int | None = None,
) -> Screen:
    """The card to confirm; a group session's says how many seats are left in it."""
    specialist = sel.specialist.name if sel.specialist else t("book.any_specialist")
    card = _card(
        t,
        business,
        sel.service,
        specialist,
        start,
        sel.service.duration_minutes,
        sel.service.price,
    )
    if seats_left is not None:
        card += "\n" + t("card.seats_left", count=seats_left)
    title = t("move.check") if sel.moving else t("book.check")
    confirm = t("book.confirm")
    if sel.for_client is not None:
        title = steps.for_line(t, sel.for_client) + "\n" + title
        if sel.outside_hours:  # the admin's explicit override, said on the button itself
            title += "\n" + t("admin.book.outside_warning")
            if sel.moving:
                confirm = t("admin.move.confirm_outside")
            else:
                confirm = t("admin.book.confirm_outside")
    day = business.local(start).date()
    return Screen(
        title + "\n\n" + card,
        keyboard(
            [button(confirm, steps.confirm_cb(sel, start))],
            [
                button(t("nav.back"), steps.day_cb(sel, day)),
                button(t("nav.cancel"), steps.leave(sel)),
            ],
        ),
    )


def booked_screen(
    t: Translator,
    business: Business,
    details: BookingDetails,
    moved: bool,
    *,
    by_staff: bool = False,
    approved: bool = False,
) -> Screen:
    """The booked card; ``by_staff``: the client's news of what the staff booked or moved;
    ``approved``: the news that the staff approved a pending one. A pending booking's card says
    that the time is held until the staff answer."""
    b = details.booking
    card = _card(
        t,
        business,
        details.service_name,
        details.specialist_name,
        b.start,
        b.duration_minutes,
        b.price,
    )
    if details.service_capacity > 1:
        card += "\n" + t("card.group", count=details.service_capacity)
    title = t("move.done") if moved else t("book.done")
    if b.is_pending:
        title = t("move.pending") if moved else t("book.pending")
    elif approved:
        title = t("book.approved", business=esc(business.name))
    elif by_staff:
        name = esc(business.name)
        if moved:
            title = t("move.done_by_staff", business=name)
        else:
            title = t("book.done_by_staff", business=name)
    return Screen(
        title + "\n\n" + card,
        keyboard(
            [
                button(t("menu.my"), Nav(to=Destination.MY)),
                button(t("nav.home"), Nav(to=Destination.HOME)),
            ]
        ),
    )


def ics_file(t: Translator, business: Business, details: BookingDetails) -> BufferedInputFile:
    """The booking as a calendar file, sent after the booked card."""
    b = details.booking
    ics = appointment_ics(
        uid=f"booking-{b.id}@booking-bot",
        start=b.start,
        end=b.end,
        summary=f"{details.service_name} — {business.name}",
        location=business.address,
        description=t("card.specialist", name=details.specialist_name),
        stamp=b.updated_at,
    )
    return BufferedInputFile(ics, filename=f"booking-{b.id}.ics")


def refusal_screen(
    t: Translator,
    business: Business,
    outcome: Outcome,
    *,
    moving: bool,
    for_client: Client | None = None,
) -> Screen:
    """Why not, and the ways on: back to the services (for a new booking that can pick
    another), the client's bookings (to cancel one, or see what is there), the main menu.
    Staff booking for a client: back to the services, or close."""
    if for_client is not None:
        staff_rows = []
        if outcome in CHOOSE_AGAIN and not moving:
            back = StaffNavCb(to=StaffNavAction.SERVICES, client=for_client.id)
            staff_rows.append([button(t("nav.back"), back)])
        close = StaffNavCb(to=StaffNavAction.CLOSE, client=for_client.id)
        staff_rows.append([button(t("nav.cancel"), close)])
        return Screen(outcome_text(t, business, outcome, staff=True), keyboard(*staff_rows))
    rows = []
    if outcome in CHOOSE_AGAIN and not moving:
        rows.append([button(t("nav.back"), Nav(to=Destination.BOOK))])
    rows.append(
        [
            button(t("menu.my"), Nav(to=Destination.MY)),
            button(t("nav.home"), Nav(to=Destination.HOME)),
        ]
    )
    return Screen(outcome_text(t, business, outcome), keyboard(*rows))


def outcome_text(
    t: Translator, business: Business, outcome: Outcome, *, staff: bool = False
) -> str:
    """Every refusal a client (or staff, for a client) can meet, in one place."""
    if staff and outcome is Outcome.TOO_SOON:  # staff have no lead time: only the past is late
        return t("admin.book.too_soon")
    values: dict[Outcome, dict[str, object]] = {
        Outcome.LIMIT_REACHED: {"limit": business.rules.max_active_per_client},
        Outcome.TOO_SOON: {"minutes": business.rules.min_lead_minutes},
        Outcome.TOO_FAR: {"days": business.rules.horizon_days},
        Outcome.TOO_LATE: {
            "minutes": business.rules.cancel_cutoff_minutes,
            "contacts": contacts_line(t, business),
        },
        Outcome.BLOCKED: {"contacts": contacts_line(t, business)},
    }
    return t(f"outcome.{outcome.value}", **values.get(outcome, {}))
