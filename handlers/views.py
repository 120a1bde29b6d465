"""Screens: text + keyboard for every step, built from service results. No I/O here."""

from __future__ import annotations

import calendar as pycalendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder
from pytz.tzinfo import BaseTzInfo

from database.models import BookingDetails, Service, Specialist
from handlers.callback_data import (
    BookingCb,
    CalendarCb,
    ConfirmCb,
    DayCb,
    LanguageCb,
    Nav,
    Noop,
    ServiceCb,
    TimeCb,
)
from services.booking import Outcome, Selection
from utils.formatting import day_long, esc, hhmm, money, month_title, weekday_names
from utils.i18n import Translator
from utils.timeutil import to_local


@dataclass(frozen=True)
class Shop:
    """The business as clients see it."""

    name: str
    address: str
    phone: str
    currency: str
    tz: BaseTzInfo
    max_active: int
    min_lead_minutes: int
    horizon_days: int
    cancel_cutoff_minutes: int


@dataclass(frozen=True)
class Screen:
    text: str
    markup: InlineKeyboardMarkup | None = None


def _button(text: str, data: CallbackData) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=data.pack())


def _rows(*rows: Sequence[InlineKeyboardButton]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[list(r) for r in rows if r])


def _ym(day: date) -> int:
    return day.year * 100 + day.month


def _ymd(day: date) -> int:
    return day.year * 10000 + day.month * 100 + day.day


def local_day(shop: Shop, moment: datetime) -> date:
    return to_local(shop.tz, moment).date()


def parse_ym(value: int) -> tuple[int, int] | None:
    year, month = divmod(value, 100)
    return (year, month) if 2000 <= year <= 2100 and 1 <= month <= 12 else None


def parse_ymd(value: int) -> date | None:
    year, rest = divmod(value, 10000)
    month, day = divmod(rest, 100)
    try:
        return date(year, month, day)
    except ValueError:
        return None


# ------------------------------------------------------------------ menus


def main_menu(t: Translator, shop: Shop, first_name: str) -> Screen:
    return Screen(
        t("menu.greeting", name=esc(first_name), business=esc(shop.name)),
        _rows(
            [_button(t("menu.book"), Nav(to="book")), _button(t("menu.my"), Nav(to="my"))],
            [
                _button(t("menu.services"), Nav(to="services")),
                _button(t("menu.contacts"), Nav(to="contacts")),
            ],
            [_button(t("menu.language"), Nav(to="language"))],
        ),
    )


def help_screen(t: Translator) -> Screen:
    return Screen(t("help.text"), _rows([_button(t("nav.home"), Nav(to="home"))]))


def language_screen(t: Translator) -> Screen:
    return Screen(
        t("lang.choose"),
        _rows(
            [
                _button("Русский", LanguageCb(code="ru")),
                _button("English", LanguageCb(code="en")),
            ],
            [_button(t("nav.back"), Nav(to="home"))],
        ),
    )


def contacts_screen(t: Translator, shop: Shop) -> Screen:
    lines = [f"<b>{esc(shop.name)}</b>"]
    if shop.address:
        lines.append(t("contacts.address", address=esc(shop.address)))
    if shop.phone:
        lines.append(t("contacts.phone", phone=esc(shop.phone)))
    if len(lines) == 1:
        lines.append(t("contacts.none"))
    return Screen("\n".join(lines), _rows([_button(t("nav.back"), Nav(to="home"))]))


def contacts_line(t: Translator, shop: Shop) -> str:
    parts = [p for p in (shop.phone, shop.address) if p]
    return esc(", ".join(parts)) if parts else t("contacts.none")


def price_list(t: Translator, shop: Shop, services: Sequence[Service]) -> Screen:
    if not services:
        return Screen(t("book.no_services"), _rows([_button(t("nav.back"), Nav(to="home"))]))
    lines = [t("services.title"), ""]
    for s in services:
        lines.append(
            t(
                "services.item",
                name=esc(s.name),
                duration=s.duration_minutes,
                price=money(s.price, shop.currency, t.language),
            )
        )
        if s.description:
            lines.append(f"<i>{esc(s.description)}</i>")
    return Screen(
        "\n".join(lines),
        _rows([_button(t("menu.book"), Nav(to="book")), _button(t("nav.back"), Nav(to="home"))]),
    )


# ------------------------------------------------------------------ booking steps


def services_screen(t: Translator, shop: Shop, services: Sequence[Service]) -> Screen:
    if not services:
        return Screen(t("book.no_services"), _rows([_button(t("nav.back"), Nav(to="home"))]))
    buttons = [
        [
            _button(
                t(
                    "book.service_button",
                    name=s.name,
                    duration=s.duration_minutes,
                    price=money(s.price, shop.currency, t.language),
                ),
                ServiceCb(service=s.id),
            )
        ]
        for s in services
    ]
    return Screen(
        t("book.choose_service"), _rows(*buttons, [_button(t("nav.back"), Nav(to="home"))])
    )


def specialists_screen(
    t: Translator, service: Service, specialists: Sequence[Specialist], month: int
) -> Screen:
    rows = [
        [
            _button(
                t("book.any_specialist"), CalendarCb(service=service.id, specialist=0, month=month)
            )
        ]
    ]
    rows += [
        [_button(sp.name, CalendarCb(service=service.id, specialist=sp.id, month=month))]
        for sp in specialists
    ]
    return Screen(
        t("book.choose_specialist", service=esc(service.name)),
        _rows(*rows, [_button(t("nav.back"), Nav(to="book"))]),
    )


def _ids(sel: Selection) -> dict[str, int]:
    """The fields every step's callback data carries."""
    return {
        "service": sel.service.id,
        "specialist": sel.specialist.id if sel.specialist else 0,
        "moving": sel.moving.id if sel.moving else 0,
    }


def _header(t: Translator, shop: Shop, sel: Selection) -> str:
    if sel.moving:
        start = to_local(shop.tz, sel.moving.start)
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
        return Nav(to="my")
    return ServiceCb(service=sel.service.id) if sel.offering > 1 else Nav(to="book")


def _leave(sel: Selection) -> Nav:
    return Nav(to="my" if sel.moving else "home")


def calendar_screen(
    t: Translator,
    shop: Shop,
    sel: Selection,
    year: int,
    month: int,
    open_days: set[date],
    bookable: tuple[date, date],
) -> Screen:
    first, last = bookable
    common = _ids(sel)
    rows: list[list[InlineKeyboardButton]] = [
        [_button(month_title(year, month, t.language), Noop(why="month"))],
        [_button(name, Noop(why="weekday")) for name in weekday_names(t.language)],
    ]
    for week in pycalendar.Calendar(firstweekday=0).monthdatescalendar(year, month):
        row = []
        for day in week:
            if day.month != month:
                row.append(_button(" ", Noop(why="blank")))
            elif day in open_days:
                row.append(_button(str(day.day), DayCb(day=_ymd(day), **common)))
            else:
                # U+0336 strikes the number through: visibly closed, still readable.
                row.append(_button("\u0336".join(str(day.day)) + "\u0336", Noop(why="day")))
        rows.append(row)
    nav = []
    shown = date(year, month, 1)
    if _ym(shown) > _ym(first):
        prev_month = date(year - (month == 1), 12 if month == 1 else month - 1, 1)
        nav.append(_button("◀", CalendarCb(month=_ym(prev_month), **common)))
    next_month = date(year + (month == 12), 1 if month == 12 else month + 1, 1)
    if next_month <= last:
        nav.append(_button("▶", CalendarCb(month=_ym(next_month), **common)))
    text = _header(t, shop, sel) + "\n\n" + t("book.choose_day")
    if not open_days:
        text += "\n" + t("book.no_days_this_month")
    rows.append(nav)
    rows.append(
        [
            _button(t("nav.back"), _back_from_calendar(sel)),
            _button(t("nav.cancel"), _leave(sel)),
        ]
    )
    return Screen(text, _rows(*rows))


def times_screen(
    t: Translator,
    shop: Shop,
    sel: Selection,
    day: date,
    starts: Sequence[datetime],
    notice: str = "",
) -> Screen:
    common = _ids(sel)
    builder = InlineKeyboardBuilder()
    for start in starts:
        label = hhmm(to_local(shop.tz, start))
        builder.add(_button(label, TimeCb(start=int(start.timestamp()), **common)))
    builder.adjust(4)
    rows = list(builder.export())
    back = CalendarCb(month=_ym(day), **common)
    rows.append([_button(t("nav.back"), back), _button(t("nav.cancel"), _leave(sel))])
    day_text = day_long(day, t.language)
    body = t("book.choose_time", day=day_text) if starts else t("book.no_times", day=day_text)
    text = _header(t, shop, sel) + "\n\n" + (notice + "\n\n" if notice else "") + body
    return Screen(text, _rows(*rows))


def _card(
    t: Translator,
    shop: Shop,
    service: Service | str,
    specialist: str,
    start: datetime,
    duration: int,
    price: int,
) -> str:
    local = to_local(shop.tz, start)
    name = service.name if isinstance(service, Service) else service
    lines = [
        f"<b>{esc(name)}</b>",
        t("card.specialist", name=esc(specialist)),
        t("card.date", day=day_long(local.date(), t.language)),
        t("card.time", time=hhmm(local)),
        t("card.duration", minutes=duration),
        t("card.price", price=money(price, shop.currency, t.language)),
    ]
    if shop.address:
        lines.append(t("contacts.address", address=esc(shop.address)))
    return "\n".join(lines)


def confirm_screen(t: Translator, shop: Shop, sel: Selection, start: datetime) -> Screen:
    common = _ids(sel)
    specialist = sel.specialist.name if sel.specialist else t("book.any_specialist")
    card = _card(
        t,
        shop,
        sel.service,
        specialist,
        start,
        sel.service.duration_minutes,
        sel.service.price,
    )
    title = t("move.check") if sel.moving else t("book.check")
    day = to_local(shop.tz, start).date()
    return Screen(
        title + "\n\n" + card,
        _rows(
            [_button(t("book.confirm"), ConfirmCb(start=int(start.timestamp()), **common))],
            [
                _button(t("nav.back"), DayCb(day=_ymd(day), **common)),
                _button(t("nav.cancel"), _leave(sel)),
            ],
        ),
    )


def booked_screen(t: Translator, shop: Shop, details: BookingDetails, moved: bool) -> Screen:
    b = details.booking
    card = _card(
        t, shop, details.service_name, details.specialist_name, b.start, b.duration_minutes, b.price
    )
    title = t("move.done") if moved else t("book.done")
    return Screen(
        title + "\n\n" + card,
        _rows([_button(t("menu.my"), Nav(to="my")), _button(t("nav.home"), Nav(to="home"))]),
    )


# Refusals about the service or specialist chosen: the way on is choosing again.
CHOOSE_AGAIN = frozenset(
    {Outcome.SERVICE_INACTIVE, Outcome.UNKNOWN_SERVICE, Outcome.UNKNOWN_SPECIALIST}
)


def refusal_screen(t: Translator, shop: Shop, outcome: Outcome, *, moving: bool) -> Screen:
    """Why not, and the ways on: back to the services (for a new booking that can pick
    another), the client's bookings (to cancel one, or see what is there), the main menu."""
    rows = []
    if outcome in CHOOSE_AGAIN and not moving:
        rows.append([_button(t("nav.back"), Nav(to="book"))])
    rows.append([_button(t("menu.my"), Nav(to="my")), _button(t("nav.home"), Nav(to="home"))])
    return Screen(outcome_text(t, shop, outcome), _rows(*rows))


def outcome_text(t: Translator, shop: Shop, outcome: Outcome) -> str:
    """Every refusal a client can meet, in one place."""
    values: dict[Outcome, dict[str, object]] = {
        Outcome.LIMIT_REACHED: {"limit": shop.max_active},
        Outcome.TOO_SOON: {"minutes": shop.min_lead_minutes},
        Outcome.TOO_FAR: {"days": shop.horizon_days},
        Outcome.TOO_LATE: {
            "minutes": shop.cancel_cutoff_minutes,
            "contacts": contacts_line(t, shop),
        },
    }
    return t(f"outcome.{outcome.value}", **values.get(outcome, {}))


# ------------------------------------------------------------------ my bookings


def my_bookings_screen(t: Translator, shop: Shop, bookings: Sequence[BookingDetails]) -> Screen:
    if not bookings:
        return Screen(
            t("my.empty"),
            _rows(
                [_button(t("menu.book"), Nav(to="book")), _button(t("nav.back"), Nav(to="home"))]
            ),
        )
    lines = [t("my.title"), ""]
    rows = []
    for n, d in enumerate(bookings, 1):
        local = to_local(shop.tz, d.booking.start)
        lines.append(
            t(
                "my.item",
                n=n,
                day=day_long(local.date(), t.language),
                time=hhmm(local),
                service=esc(d.service_name),
                specialist=esc(d.specialist_name),
            )
        )
        rows.append(
            [
                _button(t("my.move", n=n), BookingCb(action="move", booking=d.booking.id)),
                _button(t("my.cancel", n=n), BookingCb(action="cancel", booking=d.booking.id)),
            ]
        )
    rows.append([_button(t("menu.book"), Nav(to="book")), _button(t("nav.back"), Nav(to="home"))])
    return Screen("\n".join(lines), _rows(*rows))


def cancel_question(t: Translator, shop: Shop, details: BookingDetails) -> Screen:
    local = to_local(shop.tz, details.booking.start)
    return Screen(
        t(
            "my.cancel_ask",
            service=esc(details.service_name),
            day=day_long(local.date(), t.language),
            time=hhmm(local),
        ),
        _rows(
            [
                _button(
                    t("my.cancel_yes"), BookingCb(action="cancel_yes", booking=details.booking.id)
                ),
                _button(t("my.cancel_no"), Nav(to="my")),
            ]
        ),
    )


def cancelled_screen(t: Translator, shop: Shop, details: BookingDetails) -> Screen:
    local = to_local(shop.tz, details.booking.start)
    return Screen(
        t(
            "my.cancelled",
            service=esc(details.service_name),
            day=day_long(local.date(), t.language),
            time=hhmm(local),
        ),
        _rows([_button(t("my.book_again"), Nav(to="book")), _button(t("menu.my"), Nav(to="my"))]),
    )
