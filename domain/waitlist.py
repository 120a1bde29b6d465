"""The waitlist: clients waiting for a time on a day that has none free, and the holds the bot
offers them (services/waitlist.py decides; a hold is a booking row with ``held_until`` set)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum


class DayPart(StrEnum):
    """The part of the day a waiter asked for (local wall time of the start)."""

    MORNING = "morning"  # before 12:00
    AFTERNOON = "afternoon"  # 12:00-17:00
    EVENING = "evening"  # from 17:00

    def holds(self, minute_of_day: int) -> bool:
        first, last = PART_MINUTES[self]
        return first <= minute_of_day < last


PART_MINUTES: dict[DayPart, tuple[int, int]] = {
    DayPart.MORNING: (0, 12 * 60),
    DayPart.AFTERNOON: (12 * 60, 17 * 60),
    DayPart.EVENING: (17 * 60, 24 * 60),
}


class WaitStatus(StrEnum):
    WAITING = "waiting"
    OFFERED = "offered"  # a hold is theirs now (``WaitEntry.booking_id``)
    BOOKED = "booked"  # they took it
    PASSED = "passed"  # they said no thanks, or the hold expired: their turn is over
    LEFT = "left"  # they left the waitlist


LIVE = (WaitStatus.WAITING, WaitStatus.OFFERED)


@dataclass(frozen=True)
class WaitEntry:
    id: int
    client_id: int
    service_id: int
    specialist_id: int | None  # None: any specialist
    day: date
    part: DayPart | None  # None: any time of the day
    status: WaitStatus
    booking_id: int | None  # the hold offered (OFFERED), or the booking it became (BOOKED)
    created_at: datetime


@dataclass(frozen=True)
class WaitDetails:
    """An entry with the names a person reads."""

    entry: WaitEntry
    service_name: str
    specialist_name: str | None
    client_name: str


class WaitOutcome(StrEnum):
    JOINED = "joined"
    ALREADY = "already"  # already waiting for that service and day
    HAS_TIME = "has_time"  # the day has free times now: book one instead
    NOT_BOOKABLE = "not_bookable"  # a day outside today .. the horizon, or a service gone
    BLOCKED = "blocked"
    LEFT = "left"
    NOT_FOUND = "not_found"  # not theirs, or no longer waiting
