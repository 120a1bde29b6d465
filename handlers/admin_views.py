"""Admin chat screens and notice texts: pure functions, no I/O (like views.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from aiogram.types import InlineKeyboardButton

from database.models import Booking, BookingDetails, BookingStatus, Client, Role, Service
from handlers.callback_data import AdminBookingCb, DayOffCb, Nav
from handlers.views import Screen, Shop, _button, _rows, _ymd
from services.notifier import Notice, NoticeKind
from services.specialists import SpecialistInfo
from services.stats import ClientSummary, Stats
from utils.formatting import day_long, day_short, esc, hhmm, money
from utils.hours import WEEKDAYS, WeeklyHours, format_intervals
from utils.i18n import Translator
from utils.timeutil import to_local

# Bookings per agenda message: keeps each under Telegram's 4096 characters and 100 buttons.
AGENDA_CHUNK = 15
COMMANDS = (
    "today",
    "tomorrow",
    "day",
    "week",
    "booking",
    "cancel",
    "services",
    "service_add",
    "service_edit",
    "service_on",
    "service_off",
    "service_delete",
    "specialists",
    "specialist_add",
    "specialist_services",
    "specialist_off",
    "specialist_on",
    "hours",
    "hours_set",
    "dayoff",
    "dayon",
    "hours_on",
    "client",
    "stats",
    "export",
)


def usage(t: Translator, command: str) -> str:
    """The usage line (with an example) of one admin command."""
    lines = {
        "today": t("admin.usage.today"),
        "tomorrow": t("admin.usage.tomorrow"),
        "day": t("admin.usage.day"),
        "week": t("admin.usage.week"),
        "booking": t("admin.usage.booking"),
        "cancel": t("admin.usage.cancel"),
        "services": t("admin.usage.services"),
        "service_add": t("admin.usage.service_add"),
        "service_edit": t("admin.usage.service_edit"),
        "service_on": t("admin.usage.service_on"),
        "service_off": t("admin.usage.service_off"),
        "service_delete": t("admin.usage.service_delete"),
        "specialists": t("admin.usage.specialists"),
        "specialist_add": t("admin.usage.specialist_add"),
        "specialist_services": t("admin.usage.specialist_services"),
        "specialist_off": t("admin.usage.specialist_off"),
        "specialist_on": t("admin.usage.specialist_on"),
        "hours": t("admin.usage.hours"),
        "hours_set": t("admin.usage.hours_set"),
        "dayoff": t("admin.usage.dayoff"),
        "dayon": t("admin.usage.dayon"),
        "hours_on": t("admin.usage.hours_on"),
        "client": t("admin.usage.client"),
        "stats": t("admin.usage.stats"),
        "export": t("admin.usage.export"),
    }
    return lines[command]


def help_text(t: Translator) -> str:
    return "\n".join([t("admin.help.title"), *(usage(t, c) for c in COMMANDS)])


def bad_args(t: Translator, command: str) -> str:
    return t("admin.bad_args", usage=usage(t, command))


def status_text(t: Translator, status: BookingStatus) -> str:
    return {
        BookingStatus.ACTIVE: t("admin.status.active"),
        BookingStatus.CANCELLED: t("admin.status.cancelled"),
        BookingStatus.COMPLETED: t("admin.status.completed"),
        BookingStatus.NO_SHOW: t("admin.status.no_show"),
    }[status]


def client_label(name: str, username: str | None) -> str:
    label = esc(name) or "—"
    return f"{label} @{esc(username)}" if username else label


def _phone(t: Translator, phone: str | None) -> str:
    return esc(phone) if phone else t("admin.no_phone")


def booking_line(t: Translator, shop: Shop, d: BookingDetails, *, with_day: bool = False) -> str:
    b = d.booking
    start = to_local(shop.tz, b.start)
    when = f"{day_short(start.date(), t.language)} {hhmm(start)}" if with_day else hhmm(start)
    return t(
        "admin.agenda.line",
        id=b.id,
        time=when,
        client=client_label(d.client_name, d.client_username),
        phone=_phone(t, d.client_phone),
        service=esc(d.service_name),
        specialist=esc(d.specialist_name),
        status=status_text(t, b.status),
        confirmed=t("admin.confirmed.yes") if b.confirmed_at else t("admin.confirmed.no"),
    )


def booking_buttons(t: Translator, booking: Booking) -> list[InlineKeyboardButton]:
    """Active: Cancel / No-show / Done. Completed (bookings close by themselves when they end):
    No-show, so a client who did not come is still recorded as such. Otherwise none."""
    booking_id = booking.id
    no_show = _button(
        t("admin.button.no_show", id=booking_id),
        AdminBookingCb(action="no_show", booking=booking_id),
    )
    if booking.status is BookingStatus.COMPLETED:
        return [no_show]
    if not booking.is_active:
        return []
    return [
        _button(
            t("admin.button.cancel", id=booking_id),
            AdminBookingCb(action="cancel", booking=booking_id),
        ),
        no_show,
        _button(
            t("admin.button.done", id=booking_id), AdminBookingCb(action="done", booking=booking_id)
        ),
    ]


def agenda_screens(
    t: Translator, shop: Shop, day: date, bookings: Sequence[BookingDetails]
) -> list[Screen]:
    """The day's bookings in time order, each with the buttons its status allows."""
    title = day_long(day, t.language)
    if not bookings:
        return [Screen(t("admin.agenda.empty", day=title))]
    screens = []
    for first in range(0, len(bookings), AGENDA_CHUNK):
        chunk = bookings[first : first + AGENDA_CHUNK]
        lines = [t("admin.agenda.title", day=title, count=len(bookings)), ""]
        lines += [booking_line(t, shop, d) for d in chunk]
        rows = [r for r in (booking_buttons(t, d.booking) for d in chunk) if r]
        screens.append(Screen("\n".join(lines), _rows(*rows) if rows else None))
    return screens


def booking_card(t: Translator, shop: Shop, d: BookingDetails) -> Screen:
    b = d.booking
    start, end = to_local(shop.tz, b.start), to_local(shop.tz, b.end)
    text = t(
        "admin.booking.card",
        id=b.id,
        day=day_long(start.date(), t.language),
        time=hhmm(start),
        end=hhmm(end),
        duration=b.duration_minutes,
        service=esc(d.service_name),
        specialist=esc(d.specialist_name),
        client=client_label(d.client_name, d.client_username),
        client_id=b.client_id,
        phone=_phone(t, d.client_phone),
        price=money(b.price, shop.currency, t.language),
        status=status_text(t, b.status),
        confirmed=t("admin.confirmed.yes") if b.confirmed_at else t("admin.confirmed.no"),
    )
    if b.status is BookingStatus.CANCELLED:
        who = {
            Role.CLIENT: t("admin.who.client"),
            Role.ADMIN: t("admin.who.admin"),
            Role.SYSTEM: t("admin.who.admin"),
        }[b.cancelled_by_role or Role.SYSTEM]
        text += "\n" + t("admin.booking.cancelled_by", who=who, reason=esc(b.cancel_reason or "—"))
    buttons = booking_buttons(t, b)
    return Screen(text, _rows(buttons) if buttons else None)


def cancel_question(t: Translator, shop: Shop, d: BookingDetails) -> Screen:
    booking_id = d.booking.id
    return Screen(
        t("admin.cancel.ask", id=booking_id, line=booking_line(t, shop, d, with_day=True)),
        _rows(
            [
                _button(
                    t("admin.button.cancel_yes"),
                    AdminBookingCb(action="cancel_yes", booking=booking_id),
                ),
                _button(t("admin.button.keep"), AdminBookingCb(action="keep", booking=booking_id)),
            ]
        ),
    )


def services_text(t: Translator, shop: Shop, services: Sequence[Service]) -> str:
    if not services:
        return t("admin.services.empty")
    lines = [t("admin.services.title")]
    for s in services:
        lines.append(
            t(
                "admin.services.item",
                id=s.id,
                name=esc(s.name),
                duration=s.duration_minutes,
                buffer=s.buffer_minutes,
                price=money(s.price, shop.currency, t.language),
                state=t("admin.state.on") if s.is_active else t("admin.state.off"),
            )
        )
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


def hours_text(
    t: Translator, specialists: Sequence[SpecialistInfo], weekly: dict[int, WeeklyHours]
) -> str:
    blocks = []
    for info in specialists:
        sp = info.specialist
        lines = [t("admin.hours.title", id=sp.id, name=esc(sp.name))]
        hours = weekly.get(sp.id, {})
        for day in range(7):
            intervals = hours.get(day, [])
            shown = format_intervals(intervals) if intervals else t("admin.hours.off")
            lines.append(f"{WEEKDAYS[day]}: {shown}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def dayoff_question(
    t: Translator, shop: Shop, day: date, bookings: Sequence[BookingDetails]
) -> Screen:
    lines = [booking_line(t, shop, d) for d in bookings]
    return Screen(
        t("admin.dayoff.bookings", day=day_long(day, t.language), lines="\n".join(lines)),
        _rows(
            [_button(t("admin.button.cancel_all"), DayOffCb(action="cancel_all", day=_ymd(day)))],
            [_button(t("admin.button.keep_all"), DayOffCb(action="keep", day=_ymd(day)))],
        ),
    )


def client_text(
    t: Translator,
    shop: Shop,
    client: Client,
    summary: ClientSummary,
    history: Sequence[BookingDetails],
) -> str:
    lines = [
        t(
            "admin.client.card",
            name=esc(client.name or client.first_name) or "—",
            username=f"@{esc(client.username)}" if client.username else "",
            id=client.id,
            phone=_phone(t, client.phone),
            language=client.language or "—",
            bookings=summary.bookings,
            upcoming=summary.upcoming,
            completed=summary.completed,
            no_shows=summary.no_shows,
            by_client=summary.cancelled_by_client,
            by_admin=summary.cancelled_by_admin,
        )
    ]
    lines.append(ratings_line(t, summary.ratings, summary.rating_average))
    if not client.is_reachable:
        lines.append(t("admin.client.blocked"))
    if history:
        lines += ["", t("admin.client.recent")]
        lines += [booking_line(t, shop, d, with_day=True) for d in history[:10]]
    return "\n".join(lines)


def ratings_line(t: Translator, count: int, average: float | None) -> str:
    if average is None:
        return t("admin.ratings.none")
    return t("admin.ratings.line", count=count, average=f"{average:.1f}")


def stats_text(t: Translator, shop: Shop, stats: Stats) -> str:
    def top(items: Sequence[tuple[str, int]]) -> str:
        return ", ".join(f"{esc(name)} ({count})" for name, count in items) or "—"

    text = t(
        "admin.stats.text",
        first=stats.first.isoformat(),
        last=stats.last.isoformat(),
        bookings=stats.bookings,
        active=stats.active,
        completed=stats.completed,
        no_shows=stats.no_shows,
        by_client=stats.cancelled_by_client,
        by_admin=stats.cancelled_by_admin,
        revenue=money(stats.revenue, shop.currency, t.language),
        services=top(stats.services),
        weekdays=top([(WEEKDAYS[d], n) for d, n in stats.weekdays]),
        hours=top([(f"{h:02d}:00", n) for h, n in stats.hours]),
    )
    return text + "\n" + ratings_line(t, stats.ratings, stats.rating_average)


# ------------------------------------------------------------------ notices


def admin_card(t: Translator, shop: Shop, notice: Notice) -> Screen:
    d = notice.details
    line = booking_line(t, shop, d, with_day=True)
    if notice.kind is NoticeKind.BOOKED:
        text = t("admin.card.booked", id=d.booking.id, line=line)
    elif notice.kind is NoticeKind.CLIENT_CANCELLED:
        text = t("admin.card.cancelled", id=d.booking.id, line=line)
    else:
        was = ""
        if notice.previous is not None:
            was = booking_line(t, shop, notice.previous, with_day=True)
        text = t("admin.card.rescheduled", id=d.booking.id, line=line, was=was)
    markup = None
    if d.booking.is_active:
        markup = _rows(
            [
                _button(
                    t("admin.button.cancel", id=d.booking.id),
                    AdminBookingCb(action="cancel", booking=d.booking.id),
                )
            ]
        )
    return Screen(text, markup)


def client_notice(t: Translator, shop: Shop, notice: Notice) -> Screen:
    """In the client's language: their booking was cancelled by the business."""
    d = notice.details
    start = to_local(shop.tz, d.booking.start)
    values = {
        "business": esc(shop.name),
        "service": esc(d.service_name),
        "day": day_long(start.date(), t.language),
        "time": hhmm(start),
    }
    if notice.kind is NoticeKind.DAY_OFF:
        text = t("notice.day_off", **values)
    else:
        text = t("notice.cancelled", **values)
    if notice.reason:
        text += "\n" + t("notice.reason", reason=esc(notice.reason))
    return Screen(text, _rows([_button(t("my.book_again"), Nav(to="book"))]))
