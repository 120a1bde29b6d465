"""What an action came to: values that services return and handlers turn into text."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from domain.bookings import Booking, BookingDetails
from domain.catalog import Service, Specialist
from domain.clients import Client
from domain.schedule import HoursScope


class Outcome(StrEnum):
    BOOKED = "booked"
    CANCELLED = "cancelled"
    RESCHEDULED = "rescheduled"
    MARKED = "marked"
    SLOT_TAKEN = "slot_taken"
    LIMIT_REACHED = "limit_reached"
    TOO_SOON = "too_soon"
    TOO_FAR = "too_far"
    OUTSIDE_HOURS = "outside_hours"
    SERVICE_INACTIVE = "service_inactive"
    UNKNOWN_SERVICE = "unknown_service"
    UNKNOWN_SPECIALIST = "unknown_specialist"
    NOT_FOUND = "not_found"
    NOT_ACTIVE = "not_active"
    TOO_LATE = "too_late"
    SAME_TIME = "same_time"
    NOT_STARTED = "not_started"
    CHANGEABLE = "changeable"  # the answer of changeable(): the actor may cancel or move it now
    CONFIRMED = "confirmed"  # the client said they will come
    RATED = "rated"
    ALREADY_BOOKED = "already_booked"  # the same client, service and start: a repeated Confirm
    BLOCKED = "blocked"  # the client is blocked (/block): only the staff book for them
    APPROVED = "approved"
    DECLINED = "declined"
    NOT_PENDING = "not_pending"  # approved, declined or cancelled already
    OFFER_GONE = "offer_gone"  # a waitlist offer taken, declined or expired already


SUCCESS = frozenset(
    {
        Outcome.BOOKED,
        Outcome.CANCELLED,
        Outcome.RESCHEDULED,
        Outcome.MARKED,
        Outcome.CHANGEABLE,
        Outcome.CONFIRMED,
        Outcome.RATED,
        Outcome.APPROVED,
        Outcome.DECLINED,
    }
)

# Refusals about the service or specialist chosen: the way on is choosing again.
CHOOSE_AGAIN = frozenset(
    {Outcome.SERVICE_INACTIVE, Outcome.UNKNOWN_SERVICE, Outcome.UNKNOWN_SPECIALIST}
)

# Refusals at Confirm that only concern the chosen time: the client picks another one that day.
PICK_ANOTHER_TIME = frozenset(
    {
        Outcome.SLOT_TAKEN,
        Outcome.TOO_SOON,
        Outcome.TOO_FAR,
        Outcome.OUTSIDE_HOURS,
        Outcome.SAME_TIME,
    }
)


@dataclass(frozen=True)
class BookingResult:
    outcome: Outcome
    booking: Booking | None = None
    previous: Booking | None = None  # the booking a reschedule replaced

    @property
    def ok(self) -> bool:
        return self.outcome in SUCCESS


@dataclass(frozen=True)
class Selection:
    """What a client (or staff, for a client) has picked so far in the booking flow, checked
    against the database."""

    service: Service
    specialist: Specialist | None  # None: any specialist
    offering: int  # how many active specialists offer the service
    moving: Booking | None = None  # the booking being rescheduled
    for_client: Client | None = None  # staff booking for this client; None: the client's own
    outside_hours: bool = False  # staff looking at times outside the working hours

    @property
    def specialist_id(self) -> int | None:
        return self.specialist.id if self.specialist else None

    @property
    def moving_id(self) -> int | None:
        return self.moving.id if self.moving else None


class CatalogOutcome(StrEnum):
    DONE = "done"
    NOT_FOUND = "not_found"
    IN_USE = "in_use"


class SpecialistOutcome(StrEnum):
    DONE = "done"
    NOT_FOUND = "not_found"
    UNKNOWN_SERVICE = "unknown_service"


@dataclass(frozen=True)
class SpecialistChange:
    outcome: SpecialistOutcome
    upcoming: int = 0  # future active bookings of the specialist (they stay when switched off)
    unknown: tuple[int, ...] = ()


@dataclass(frozen=True)
class OutsideHours:
    """The upcoming active bookings of a scope that fall outside the working hours, as of
    ``asked``: what the admin is asked about after a change of hours (or a day off)."""

    scope: HoursScope
    bookings: list[BookingDetails]
    asked: datetime


class HoursCancelOutcome(StrEnum):
    CANCELLED = "cancelled"
    # Nothing left to cancel because staff cancelled them since the question was asked: a
    # repeated press of "Cancel them all" (the first press's answer stands).
    ALREADY_CANCELLED = "already_cancelled"
    # Nothing left outside the hours, and nothing cancelled since the question: the hours (or
    # the bookings) changed back meanwhile.
    NONE_OUTSIDE = "none_outside"


@dataclass(frozen=True)
class HoursCancel:
    outcome: HoursCancelOutcome
    cancelled: list[BookingDetails] = field(default_factory=list)
