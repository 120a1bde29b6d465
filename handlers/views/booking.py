"""The booking steps: service -> specialist -> calendar -> times -> confirm -> booked, and the
refusals met on the way (also used when moving a booking)."""

from __future__ import annotations

import calendar as pycalendar
from collections.abc import Sequence
from datetime import date, datetime

from aiogram.filters.callback_data import CallbackData
from aiogram.types import BufferedInputFile, InlineKeyboardButton
from aiogram.utils.keyboard import InlineKeyboardBuilder

from domain.bookings import BookingDetails
from domain.catalog import Service, Specialist
from domain.outcomes import CHOOSE_AGAIN, Outcome, Selection
from domain.rules import Business
from handlers.callback_data import (
    CalendarCb,
    ConfirmCb,
    DayCb,
    Destination,
    Label,
    Nav,
    Noop,
    ServiceCb,
    TimeCb,
)
from handlers.views.base import Screen, button, keyboard, pack_day, pack_month
from handlers.views.menu import contacts_line
from services.ics import appointment_ics
from utils.formatting import day_long, esc, hhmm, money, month_title, weekday_names
from utils.i18n import Translator


def services_screen(t: Translator, business: Business, services: Sequence[Service]) -> Screen:
    if not services:
        return Screen(
            t("book.no_services"), keyboard([button(t("nav.back"), Nav(to=Destination.HOME))])
        )
    buttons = [
        [
            button(
                t(
                    "book.service_button",
                    name=s.name,
                    duration=s.duration_minutes,
                    price=money(s.price, business.currency, t.language),
                ),
                ServiceCb(service=s.id),
            )
        ]
        for s in services
    ]
    return Screen(
        t("book.choose_service"),
        keyboard(*buttons, [button(t("nav.back"), Nav(to=Destination.HOME))]),
    )


def specialists_screen(
    t: Translator, service: Service, specialists: Sequence[Specialist], month: int
) -> Screen:
    rows = [
        [
            button(
                t("book.any_specialist"), CalendarCb(service=service.id, specialist=0, month=month)
            )
        ]
    ]
    rows += [
        [button(sp.name, CalendarCb(service=service.id, specialist=sp.id, month=month))]
        for sp in specialists
    ]
    return Screen(
        t("book.choose_specialist", service=esc(service.name)),
        keyboard(*rows, [button(t("nav.back"), Nav(to=Destination.BOOK))]),
    )


def _ids(sel: Selection) -> dict[str, int]:
    """The fields every step's callback data carries."""
    return {
        "service": sel.service.id,
        "specialist": sel.specialist.id if sel.specialist else 0,
        "moving": sel.moving.id if sel.moving else 0,
    }


def _header(t: Translator, business: Business, sel: Selection) -> str:
    if sel.moving:
        start = business.local(sel.moving.start)
        head = t(
            "move.header",
            service=esc(sel.service.name),
            day=day_long(start.date(), t.language),
            time=hhmm(start),
        )
    else:
        head = f"<b>{esc(sel.service.name)}</b>"
    if sel.specialist and sel.offering > 1:  # with one specialist there was no choice
        head += "\n" + t("book.specialist_line", name=esc(sel.specialist.name))
    return head


def _back_from_calendar(sel: Selection) -> CallbackData:
    if sel.moving:
        return Nav(to=Destination.MY)
    return ServiceCb(service=sel.service.id) if sel.offering > 1 else Nav(to=Destination.BOOK)


def _leave(sel: Selection) -> Nav:
    return Nav(to=Destination.MY if sel.moving else Destination.HOME)


def calendar_screen(
    t: Translator,
    business: Business,
    sel: Selection,
    year: int,
    month: int,
    open_days: set[date],
    bookable: tuple[date, date],
) -> Screen:
    first, last = bookable
    common = _ids(sel)
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
                row.append(button(str(day.day), DayCb(day=pack_day(day), **common)))
            else:
                # U+0336 strikes the number through: visibly closed, still readable.
                row.append(
                    button("\u0336".join(str(day.day)) + "\u0336", Noop(why=Label.CLOSED_DAY))
                )
        rows.append(row)
    nav = []
    shown = date(year, month, 1)
    if pack_month(shown) > pack_month(first):
        prev_month = date(year - (month == 1), 12 if month == 1 else month - 1, 1)
        nav.append(button("◀", CalendarCb(month=pack_month(prev_month), **common)))
    next_month = date(year + (month == 12), 1 if month == 12 else month + 1, 1)
    if next_month <= last:
        nav.append(button("▶", CalendarCb(month=pack_month(next_month), **common)))
    text = _header(t, business, sel) + "\n\n" + t("book.choose_day")
    if not open_days:
        text += "\n" + t("book.no_days_this_month")
    rows.append(nav)
    rows.append(
        [
            button(t("nav.back"), _back_from_calendar(sel)),
            button(t("nav.cancel"), _leave(sel)),
        ]
    )
    return Screen(text, keyboard(*rows))


def times_screen(
    t: Translator,
    business: Business,
    sel: Selection,
    day: date,
    starts: Sequence[datetime],
    notice: str = "",
) -> Screen:
    common = _ids(sel)
    builder = InlineKeyboardBuilder()
    for start in starts:
        label = hhmm(business.local(start))
        builder.add(button(label, TimeCb(start=int(start.timestamp()), **common)))
    builder.adjust(4)
    rows = list(builder.export())
    back = CalendarCb(month=pack_month(day), **common)
    rows.append([button(t("nav.back"), back), button(t("nav.cancel"), _leave(sel))])
    day_text = day_long(day, t.language)
    body = t("book.choose_time", day=day_text) if starts else t("book.no_times", day=day_text)
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
        t("card.date", day=day_long(local.date(), t.language)),
        t("card.time", time=hhmm(local)),
        t("card.duration", minutes=duration),
        t("card.price", price=money(price, business.currency, t.language)),
    ]
    if business.address:
        lines.append(t("contacts.address", address=esc(business.address)))
    return "\n".join(lines)


def confirm_screen(t: Translator, business: Business, sel: Selection, start: datetime) -> Screen:
    common = _ids(sel)
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
    title = t("move.check") if sel.moving else t("book.check")
    day = business.local(start).date()
    return Screen(
        title + "\n\n" + card,
        keyboard(
            [button(t("book.confirm"), ConfirmCb(start=int(start.timestamp()), **common))],
            [
                button(t("nav.back"), DayCb(day=pack_day(day), **common)),
                button(t("nav.cancel"), _leave(sel)),
            ],
        ),
    )


def booked_screen(
    t: Translator, business: Business, details: BookingDetails, moved: bool
) -> Screen:
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
    title = t("move.done") if moved else t("book.done")
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


def refusal_screen(t: Translator, business: Business, outcome: Outcome, *, moving: bool) -> Screen:
    """Why not, and the ways on: back to the services (for a new booking that can pick
    another), the client's bookings (to cancel one, or see what is there), the main menu."""
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


def outcome_text(t: Translator, business: Business, outcome: Outcome) -> str:
    """Every refusal a client can meet, in one place."""
    values: dict[Outcome, dict[str, object]] = {
        Outcome.LIMIT_REACHED: {"limit": business.rules.max_active_per_client},
        Outcome.TOO_SOON: {"minutes": business.rules.min_lead_minutes},
        Outcome.TOO_FAR: {"days": business.rules.horizon_days},
        Outcome.TOO_LATE: {
            "minutes": business.rules.cancel_cutoff_minutes,
            "contacts": contacts_line(t, business),
        },
    }
    return t(f"outcome.{outcome.value}", **values.get(outcome, {}))
