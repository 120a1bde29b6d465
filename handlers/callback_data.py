"""Typed callback data. Only short ids travel in buttons (Telegram allows 64 bytes); everything
else is read again from the database when the button is pressed, so a stale or forged button can
never act on data it should not."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from aiogram.filters.callback_data import CallbackData
from pydantic import Field

# Bounds turn forged numbers into a failed filter (the "out of date" alert) instead of an
# OverflowError in SQLite or in datetime: ids fit SQLite's and Telegram's integers, instants
# lie in the years 2000 to 2100, as every date the bot shows and reads does.
Id = Annotated[int, Field(ge=0, le=2**53)]
Instant = Annotated[int, Field(ge=946_684_800, le=4_102_444_800)]
Month = Annotated[int, Field(ge=200001, le=210012)]  # YYYYMM
Day = Annotated[int, Field(ge=20000101, le=21001231)]  # YYYYMMDD
# A client: their Telegram id, or a negative id for one the staff added without Telegram.
ClientRef = Annotated[int, Field(ge=-(2**53), le=2**53)]
Flag = Annotated[int, Field(ge=0, le=1)]


# Actions are enums: data with any other value fails the filter and ends at the "out of date"
# alert, and each action has its own handler.


class Destination(StrEnum):
    HOME = "home"
    BOOK = "book"
    MY = "my"
    SERVICES = "services"
    CONTACTS = "contacts"
    LANGUAGE = "language"


class Nav(CallbackData, prefix="nav"):
    """Top-level screens."""

    to: Destination


class ServiceCb(CallbackData, prefix="svc"):
    service: Id


class CalendarCb(CallbackData, prefix="cal"):
    service: Id
    specialist: Id
    month: Month
    moving: Id = 0  # id of the booking being rescheduled, 0 for a new booking


class DayCb(CallbackData, prefix="day"):
    service: Id
    specialist: Id
    day: Day
    moving: Id = 0


class TimeCb(CallbackData, prefix="tm"):
    service: Id
    specialist: Id
    start: Instant  # Unix seconds
    moving: Id = 0


class ConfirmCb(CallbackData, prefix="ok"):
    service: Id
    specialist: Id
    start: Instant
    moving: Id = 0


class BookingAction(StrEnum):
    CANCEL = "cancel"  # asks "are you sure?"
    CANCEL_YES = "cancel_yes"
    MOVE = "move"


class BookingCb(CallbackData, prefix="bk"):
    """An action on one of the client's bookings."""

    action: BookingAction
    booking: Id


class VisitCb(CallbackData, prefix="come"):
    """ "I'll come", pressed under a reminder."""

    booking: Id


class RateCb(CallbackData, prefix="rate"):
    """A 1-5 rating of a visit, pressed under the rating request."""

    booking: Id
    stars: Annotated[int, Field(ge=1, le=5)]


class LanguageCb(CallbackData, prefix="lang"):
    code: str


class Label(StrEnum):
    MONTH = "month"
    WEEKDAY = "weekday"
    BLANK = "blank"
    CLOSED_DAY = "day"


class Noop(CallbackData, prefix="no"):
    """A button that only explains itself (a day without free time, a header)."""

    why: Label


class AdminAction(StrEnum):
    CANCEL = "cancel"  # asks first
    CANCEL_YES = "cancel_yes"
    KEEP = "keep"
    NO_SHOW = "no_show"
    DONE = "done"
    MOVE = "move"  # opens the staff's calendar for the booking
    APPROVE = "approve"  # a pending booking (domain/rules.py, needs_approval)
    DECLINE = "decline"


class AdminBookingCb(CallbackData, prefix="ab"):
    """A staff action on a booking."""

    action: AdminAction
    booking: Id


class DayOffAction(StrEnum):
    CANCEL_ALL = "cancel_all"
    KEEP = "keep"


class DayOffCb(CallbackData, prefix="ad"):
    """The choice about the bookings a day off or a change of hours left outside the hours
    (/dayoff, /hours_on, /hours_set). Which ones is a scope (domain.schedule.HoursScope), read
    again when pressed: the dates ``day``..``last`` (0: ``day`` only), those on ``weekday``
    (7: every day), of ``specialist`` (0: all). ``asked`` (when the question was asked; 0:
    unknown) tells a repeated press from hours changed back. At most 61 bytes."""

    action: DayOffAction
    day: Day
    last: Annotated[int, Field(ge=0, le=21001231)] = 0
    weekday: Annotated[int, Field(ge=0, le=7)] = 7
    specialist: Id = 0
    asked: Annotated[int, Field(ge=0, le=4_102_444_800)] = 0


# The booking steps as staff walk them for a client (/book, /move, Move under a booking): the
# client's steps with the client's id in every button, and ``outside`` when the admin chose to
# see (and book) times outside the working hours. Each is checked again when pressed.


class StaffServiceCb(CallbackData, prefix="fsv"):
    client: ClientRef
    service: Id


class StaffCalendarCb(CallbackData, prefix="fcal"):
    client: ClientRef
    service: Id
    specialist: Id
    month: Month
    moving: Id = 0


class StaffDayCb(CallbackData, prefix="fday"):
    client: ClientRef
    service: Id
    specialist: Id
    day: Day
    moving: Id = 0
    outside: Flag = 0


class StaffTimeCb(CallbackData, prefix="ftm"):
    client: ClientRef
    service: Id
    specialist: Id
    start: Instant
    moving: Id = 0
    outside: Flag = 0


class StaffConfirmCb(CallbackData, prefix="fok"):
    client: ClientRef
    service: Id
    specialist: Id
    start: Instant
    moving: Id = 0
    outside: Flag = 0


class StaffNavAction(StrEnum):
    SERVICES = "services"  # back to the services, for the same client
    CLOSE = "close"  # leave the flow: nothing booked or moved


class StaffNavCb(CallbackData, prefix="fnav"):
    to: StaffNavAction
    client: ClientRef
    moving: Id = 0


STAFF_FLOW = (
    StaffServiceCb,
    StaffCalendarCb,
    StaffDayCb,
    StaffTimeCb,
    StaffConfirmCb,
    StaffNavCb,
)


# The waitlist (domain/waitlist.py): a day without free time, the part of the day asked for, the
# offer of a held time, leaving.


class WaitCb(CallbackData, prefix="wt"):
    """Asks whether to be told when a time of ``day`` frees up."""

    service: Id
    specialist: Id
    day: Day


class WaitPart(StrEnum):
    ANY = "any"
    MORNING = "morning"
    AFTERNOON = "afternoon"
    EVENING = "evening"


class JoinCb(CallbackData, prefix="wj"):
    service: Id
    specialist: Id
    day: Day
    part: WaitPart


class OfferAction(StrEnum):
    BOOK = "book"
    NO = "no"


class OfferCb(CallbackData, prefix="of"):
    """Under a held time offered to a waiter."""

    action: OfferAction
    booking: Id


class LeaveCb(CallbackData, prefix="wl"):
    """Leave the waitlist (an entry of My bookings)."""

    entry: Id
