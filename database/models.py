"""Rows as dataclasses; instants are aware UTC datetimes, local dates are ``date``."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import NamedTuple

from utils.timeutil import from_ts


class BookingStatus(StrEnum):
    ACTIVE = "active"
    CANCELLED = "cancelled"
    COMPLETED = "completed"
    NO_SHOW = "no_show"


class Role(StrEnum):
    CLIENT = "client"
    ADMIN = "admin"
    SYSTEM = "system"


@dataclass(frozen=True)
class Actor:
    """Who does something: recorded on cancellations and in the audit log."""

    role: Role
    id: int | None = None

    @classmethod
    def client(cls, user_id: int) -> Actor:
        return cls(Role.CLIENT, user_id)

    @classmethod
    def admin(cls, user_id: int) -> Actor:
        return cls(Role.ADMIN, user_id)


SYSTEM = Actor(Role.SYSTEM)


@dataclass(frozen=True)
class Service:
    id: int
    name: str
    description: str
    duration_minutes: int
    price: int
    buffer_minutes: int
    is_active: bool
    sort_order: int

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Service:
        return cls(
            id=row["id"],
            name=row["name"],
            description=row["description"],
            duration_minutes=row["duration_minutes"],
            price=row["price"],
            buffer_minutes=row["buffer_minutes"],
            is_active=bool(row["is_active"]),
            sort_order=row["sort_order"],
        )


@dataclass(frozen=True)
class Specialist:
    id: int
    name: str
    is_active: bool
    sort_order: int

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Specialist:
        return cls(row["id"], row["name"], bool(row["is_active"]), row["sort_order"])


@dataclass(frozen=True)
class Client:
    id: int
    username: str | None
    first_name: str
    name: str | None
    phone: str | None
    language: str | None
    is_reachable: bool

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Client:
        return cls(
            id=row["id"],
            username=row["username"],
            first_name=row["first_name"],
            name=row["name"],
            phone=row["phone"],
            language=row["language"],
            is_reachable=bool(row["is_reachable"]),
        )


@dataclass(frozen=True)
class ScheduleException:
    """A date's override. ``hours`` None means closed; otherwise one custom interval."""

    id: int
    specialist_id: int | None
    day: date
    hours: tuple[int, int] | None
    reason: str

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> ScheduleException:
        hours = None if row["start_minute"] is None else (row["start_minute"], row["end_minute"])
        return cls(
            row["id"], row["specialist_id"], date.fromisoformat(row["day"]), hours, row["reason"]
        )


@dataclass(frozen=True)
class Booking:
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

    @property
    def is_active(self) -> bool:
        return self.status is BookingStatus.ACTIVE

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Booking:
        def opt_ts(value: int | None) -> datetime | None:
            return None if value is None else from_ts(value)

        role = row["cancelled_by_role"]
        return cls(
            id=row["id"],
            client_id=row["client_id"],
            service_id=row["service_id"],
            specialist_id=row["specialist_id"],
            start=from_ts(row["start_at"]),
            end=from_ts(row["end_at"]),
            busy_until=from_ts(row["busy_until"]),
            duration_minutes=row["duration_minutes"],
            buffer_minutes=row["buffer_minutes"],
            price=row["price"],
            status=BookingStatus(row["status"]),
            created_at=from_ts(row["created_at"]),
            updated_at=from_ts(row["updated_at"]),
            cancelled_at=opt_ts(row["cancelled_at"]),
            cancelled_by=row["cancelled_by"],
            cancelled_by_role=None if role is None else Role(role),
            cancel_reason=row["cancel_reason"],
            rescheduled_from=row["rescheduled_from"],
            confirmed_at=opt_ts(row["confirmed_at"]),
            rating=row["rating"],
        )


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

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> BookingDetails:
        return cls(
            booking=Booking.from_row(row),
            service_name=row["service_name"],
            specialist_name=row["specialist_name"],
            client_name=row["client_name"] or row["client_first_name"] or "",
            client_username=row["client_username"],
            client_phone=row["client_phone"],
            client_language=row["client_language"],
        )


# (specialist_id, start, busy_until, booking_id): the calendar reads thousands per request, so
# the repository hands them over as the plain tuples SQLite returns.
BusyRow = tuple[int, int, int, int]


class BusyInterval(NamedTuple):
    """The time a specialist is taken by one active booking: [start, busy_until), Unix seconds."""

    specialist_id: int
    start: int
    until: int
    booking_id: int
