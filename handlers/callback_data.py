"""Typed callback data. Only short ids travel in buttons (Telegram allows 64 bytes); everything
else is read again from the database when the button is pressed, so a stale or forged button can
never act on data it should not."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData


class Nav(CallbackData, prefix="nav"):
    """Top-level screens: home, book, my, services, contacts, language."""

    to: str


class ServiceCb(CallbackData, prefix="svc"):
    service: int


class SpecialistCb(CallbackData, prefix="sp"):
    service: int
    specialist: int  # 0: any specialist


class CalendarCb(CallbackData, prefix="cal"):
    service: int
    specialist: int
    month: int  # YYYYMM
    moving: int = 0  # id of the booking being rescheduled, 0 for a new booking


class DayCb(CallbackData, prefix="day"):
    service: int
    specialist: int
    day: int  # YYYYMMDD
    moving: int = 0


class TimeCb(CallbackData, prefix="tm"):
    service: int
    specialist: int
    start: int  # Unix seconds
    moving: int = 0


class ConfirmCb(CallbackData, prefix="ok"):
    service: int
    specialist: int
    start: int
    moving: int = 0


class BookingCb(CallbackData, prefix="bk"):
    """Actions on one of the client's bookings: cancel, cancel_yes, move."""

    action: str
    booking: int


class LanguageCb(CallbackData, prefix="lang"):
    code: str


class Noop(CallbackData, prefix="no"):
    """A button that only explains itself (a day without free time, a header)."""

    why: str
