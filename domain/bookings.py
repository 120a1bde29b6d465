"""Bookings: one client, one service, one specialist, one interval of time."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import NamedTuple

from domain.actors import Role


class BookingStatus(StrEnum):
    ACTIVE = "active"
    CANCELLED = "cancelled"
    COMPLETED = "completed"
    NO_SHOW = "no_show"


# The reason recorded on the old booking of a reschedule (the new one carries rescheduled_from).
RESCHEDULED_REASON = "rescheduled"
# Recorded on a booking the staff cancelled because the hours no longer include it: a day off
# given without a reason, or changed hours.
DAY_OFF_REASON = "day off"
OUTSIDE_HOURS_REASON = "outside working hours"
# Recorded on a pending booking the staff declined, or that waited too long for an answer.
DECLINED_REASON = "declined"
APPROVAL_TIMEOUT_REASON = "not approved in time"
# Recorded on a hold the waiter declined, or that expired (domain/waitlist.py).
HOLD_DECLINED_REASON = "offer declined"
HOLD_EXPIRED_REASON = "offer expired"
HOLD_REASONS = frozenset({HOLD_DECLINED_REASON, HOLD_EXPIRED_REASON})


@dataclass(frozen=True)
class Booking:
    """Instants are aware UTC datetimes."""

    id: int
    client_id: int
    service_id: int
    specialist_id: int
    start: datetime
    end: datetime
    busy_until: datetime
    duration_minutes: int
    buffer_minutes: int
    price: int
    status: BookingStatus
    created_at: datetime
    updated_at: datetime
    cancelled_at: datetime | None
    cancelled_by: int | None
    cancelled_by_role: Role | None
    cancel_reason: str | None
    rescheduled_from: int | None
    confirmed_at: datetime | None
    rating: int | None = None
    outside_hours: bool = False  # placed outside the working hours on purpose (staff override)
    seat: int = 0  # its seat in its session (0 .. capacity - 1); always 0 with capacity 1
    # Pending: active (it holds its time) until the staff approve it or decline it.
    awaiting_approval: bool = False
    # A hold (domain/waitlist.py): the bot made it for a waiter, whose until then to take it.
    held_until: datetime | None = None

    @property
    def is_active(self) -> bool:
        return self.status is BookingStatus.ACTIVE

    @property
    def is_pending(self) -> bool:
        return self.is_active and self.awaiting_approval

    @property
    def is_held(self) -> bool:
        return self.is_active and self.held_until is not None

    @property
    def counted(self) -> bool:
        """A booking of its own in counts and reports: not the old half of a move, nor a hold
        offered to a waiter that was never taken (live, declined or expired)."""
        return not (
            self.replaced_by_reschedule
            or self.held_until is not None
            or self.cancel_reason in HOLD_REASONS
        )

    @property
    def replaced_by_reschedule(self) -> bool:
        """The old half of a move: not a booking of its own in counts and reports."""
        return self.status is BookingStatus.CANCELLED and self.cancel_reason == RESCHEDULED_REASON


@dataclass(frozen=True)
class BookingDetails:
    """A booking with the names a person reads: for lists, cards and the agenda."""

    booking: Booking
    service_name: str
    specialist_name: str
    client_name: str
    client_username: str | None
    client_phone: str | None
    client_language: str | None
    client_note: str | None = None  # the staff's latest note about the client: staff only
    service_capacity: int = 1  # the service's capacity now: more than 1 is a group session


class BusyInterval(NamedTuple):
    """The time a specialist is taken by one active booking: [start, until), Unix seconds.

    A tuple: the calendar reads thousands per request, and the slot engine indexes them.
    ``service_id`` tells a group session's seats (same service, same start) from the rest.
    """

    specialist_id: int
    start: int
    until: int
    booking_id: int
    service_id: int = 0


@dataclass(frozen=True)
class Session:
    """What an agenda lists as one item: a group session (one specialist, one group service,
    one start) with its attendees in seat order, or a booking of its own."""

    bookings: list[BookingDetails]

    @property
    def first(self) -> BookingDetails:
        return self.bookings[0]

    @property
    def is_group(self) -> bool:
        return self.first.service_capacity > 1

    @property
    def taken(self) -> int:
        """Seats taken: the attendees not cancelled (a completed visit kept its seat)."""
        return sum(d.booking.status is not BookingStatus.CANCELLED for d in self.bookings)


def sessions(found: Sequence[BookingDetails]) -> list[Session]:
    """The bookings (in time order) as agenda items: a group service's bookings of one
    specialist and start together, at the place of the first; any other booking alone."""
    grouped: dict[tuple[int, ...], list[BookingDetails]] = {}
    for d in found:
        b = d.booking
        key = (b.specialist_id, b.service_id, int(b.start.timestamp()))
        grouped.setdefault(key if d.service_capacity > 1 else (b.id,), []).append(d)
    return [
        Session(sorted(items, key=lambda d: (not d.booking.is_active, d.booking.seat)))
        for items in grouped.values()
    ]
