"""Database rows -> domain records. Instants are stored as Unix seconds, local dates as text."""

from __future__ import annotations

from datetime import date, datetime

from database.engine import Row
from domain.actors import Role
from domain.bookings import Booking, BookingDetails, BookingStatus
from domain.catalog import Service, Specialist
from domain.clients import Client
from domain.schedule import ScheduleException
from utils.timeutil import from_ts


def _opt_ts(value: int | None) -> datetime | None:
    return None if value is None else from_ts(value)


def service(row: Row) -> Service:
    return Service(
        id=row["id"],
        name=row["name"],
        description=row["description"],
        duration_minutes=row["duration_minutes"],
        price=row["price"],
        buffer_minutes=row["buffer_minutes"],
        is_active=bool(row["is_active"]),
        sort_order=row["sort_order"],
        approval=None if row["approval"] is None else row["approval"] == "on",
        capacity=row["capacity"],
    )


def specialist(row: Row) -> Specialist:
    return Specialist(row["id"], row["name"], bool(row["is_active"]), row["sort_order"])


def client(row: Row) -> Client:
    return Client(
        id=row["id"],
        username=row["username"],
        first_name=row["first_name"],
        name=row["name"],
        phone=row["phone"],
        language=row["language"],
        is_reachable=bool(row["is_reachable"]),
        blocked_at=_opt_ts(row["blocked_at"]),
        block_reason=row["block_reason"],
    )


def schedule_exception(row: Row) -> ScheduleException:
    hours = None if row["start_minute"] is None else (row["start_minute"], row["end_minute"])
    return ScheduleException(
        row["id"], row["specialist_id"], date.fromisoformat(row["day"]), hours, row["reason"]
    )


def booking(row: Row) -> Booking:
    role = row["cancelled_by_role"]
    return Booking(
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
        cancelled_at=_opt_ts(row["cancelled_at"]),
        cancelled_by=row["cancelled_by"],
        cancelled_by_role=None if role is None else Role(role),
        cancel_reason=row["cancel_reason"],
        rescheduled_from=row["rescheduled_from"],
        confirmed_at=_opt_ts(row["confirmed_at"]),
        rating=row["rating"],
        outside_hours=bool(row["outside_hours"]),
        awaiting_approval=bool(row["awaiting_approval"]),
        held_until=_opt_ts(row["held_until"]),
        seat=row["seat"],
    )


def booking_details(row: Row) -> BookingDetails:
    return BookingDetails(
        booking=booking(row),
        service_name=row["service_name"],
        specialist_name=row["specialist_name"],
        client_name=row["client_name"] or row["client_first_name"] or "",
        client_username=row["client_username"],
        client_phone=row["client_phone"],
        client_language=row["client_language"],
        client_note=row["client_note"],
        service_capacity=row["service_capacity"],
    )
