"""What the client flow and the staff share inside a transaction: deciding whether a start can
be booked and by whom, and what the slot engine needs to list free times (the writes that follow
a decision are services/changes.py).

Every function here runs inside the writer's BEGIN IMMEDIATE transaction (a unit of work), so
the decision and the write see the same database state. The decision itself is the slot
engine's (services/slots.py), the same functions that list free times to clients.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from database.engine import Conn
from database.repo import bookings, catalog, locks, schedule
from domain.bookings import Booking
from domain.catalog import Service, ServiceInfo
from domain.outcomes import BookingResult, Outcome
from domain.rules import Rules
from domain.schedule import ScheduleException
from services.sessions import filling
from services.slots import (
    SlotQuery,
    SpecialistSchedule,
    busy_by_specialist,
    hours_for_day,
    is_candidate,
)
from utils.hours import WeeklyHours
from utils.timeutil import day_bounds_utc

# An admin's explicit "outside the working hours": every day open round the clock, so only the
# overlaps (and the horizon, and a start not yet begun) still decide.
ROUND_THE_CLOCK: WeeklyHours = {weekday: [(0, 24 * 60)] for weekday in range(7)}


@dataclass(frozen=True)
class Placed:
    """A start found bookable: the service as it is now and the specialist who takes it."""

    service: Service
    specialist_id: int
    outside_hours: bool = False  # placed through the staff's explicit override of the hours


@dataclass(frozen=True)
class Loaded:
    """What the slot engine needs for a service over a range of days."""

    schedules: list[SpecialistSchedule]
    exceptions: list[ScheduleException]
    query: SlotQuery


def hours(
    conn: Conn,
    specialist_ids: Sequence[int],
    first: date,
    last: date,
    *,
    outside_hours: bool = False,
) -> tuple[dict[int, WeeklyHours], list[ScheduleException]]:
    """Weekly hours of the specialists, and the date exceptions of the range; round the clock
    with no exceptions when an admin books ``outside_hours`` (the one place that override is
    decided, for the times listed and the start booked alike)."""
    if outside_hours:
        return {sid: ROUND_THE_CLOCK for sid in specialist_ids}, []
    return schedule.hours_between(conn, specialist_ids, first, last)


def busy_window(rules: Rules, first: date, last: date) -> tuple[datetime, datetime]:
    """The instants whose bookings matter for starts on the local days first..last: a late
    start's service and buffer can run past midnight into the next day's first booking
    (round-the-clock hours), so a day beyond the range too."""
    start, _ = day_bounds_utc(rules.tz, first)
    _, end = day_bounds_utc(rules.tz, last)
    return start, end + timedelta(days=1)


def schedules(
    conn: Conn,
    rules: Rules,
    specialist_ids: Sequence[int],
    first: date,
    last: date,
    exclude_booking: int | None = None,
    *,
    outside_hours: bool = False,
    query: SlotQuery | None = None,
) -> tuple[list[SpecialistSchedule], list[ScheduleException]]:
    """The specialists' hours and busy times; with ``query`` of a group service, their time as
    its sessions see it."""
    start, end = busy_window(rules, first, last)
    busy = bookings.busy_intervals(
        conn, start, end, specialist_ids, exclude_booking=exclude_booking
    )
    index = busy_by_specialist(busy, specialist_ids, query)
    weekly, exceptions = hours(conn, specialist_ids, first, last, outside_hours=outside_hours)
    found = [SpecialistSchedule(sid, weekly[sid], index[sid]) for sid in specialist_ids]
    return found, exceptions


def load(
    conn: Conn,
    rules: Rules,
    service_id: int,
    specialist_id: int | None,
    first: date,
    last: date,
    now: datetime,
    exclude_booking: int | None = None,
    *,
    outside_hours: bool = False,
) -> Loaded | None:
    """None when the service cannot be booked at all (gone, switched off, or nobody does it)."""
    offered = offering(conn, rules, service_id, specialist_id, now)
    if offered is None:
        return None
    ids, query = offered
    found, exceptions = schedules(
        conn, rules, ids, first, last, exclude_booking, outside_hours=outside_hours, query=query
    )
    return Loaded(found, exceptions, query)


def offering(
    conn: Conn, rules: Rules, service_id: int, specialist_id: int | None, now: datetime
) -> tuple[list[int], SlotQuery] | None:
    """Who may take the service (all who offer it, or the one asked for if they do), and the
    query for it; None when it cannot be booked at all (gone, switched off, nobody does it)."""
    service, specialists = catalog.service_and_specialists(conn, service_id)
    if service is None or not ServiceInfo(service, len(specialists)).bookable:
        return None
    ids = [s.id for s in specialists if specialist_id in (None, s.id)]
    return ids, SlotQuery.of(rules, service, now)


def place(
    conn: Conn,
    rules: Rules,
    client_id: int,
    service_id: int,
    start: datetime,
    specialist_id: int | None,
    now: datetime,
    replacing: Booking | None,
    *,
    outside_hours: bool = False,
) -> BookingResult | Placed:
    """Decide whether ``start`` can be booked and by whom; the refusal otherwise.

    Under ``rules.for_staff()`` the lead time and the per-client limit do not apply;
    ``outside_hours`` (an admin's explicit choice) sets the working hours aside, never the
    overlaps. A group service's start can be booked while its session has a seat left
    (services/sessions.py); "any specialist" then joins the fullest session that has people.

    What other bookings cannot change (the service, who offers it, their hours) is read first,
    then what they can: the client's bookings and the busy times. A refusal read from committed
    data stands (the time was taken, the limit reached, at that moment). A yes is decided again
    under the locks of the client and the specialists concerned (PostgreSQL,
    database/repo/locks.py; on SQLite the unit already holds the file's write lock), from what
    is read once they are held: the bookings refused outright never wait in that line.
    """
    found, specialists = catalog.service_and_specialists(conn, service_id)
    if found is None:
        return BookingResult(Outcome.UNKNOWN_SERVICE)
    if not ServiceInfo(found, len(specialists)).bookable:  # off, or nobody active does it
        return BookingResult(Outcome.SERVICE_INACTIVE)
    service: Service = found
    offering = [s.id for s in specialists]
    known = specialist_id is None or specialist_id in offering
    candidates = offering if specialist_id is None else [specialist_id] if known else []
    day = rules.local(start).date()
    known_hours = hours(conn, candidates, day, day, outside_hours=outside_hours)
    exclude = replacing.id if replacing else None
    # Only the bookings that overlap the time this one would take can make it busy.
    busy_from = start
    busy_to = start + timedelta(minutes=service.duration_minutes + service.buffer_minutes)

    def decide() -> BookingResult | tuple[Service, list[int]]:
        facts = bookings.placement_facts(
            conn,
            client_id=client_id,
            service_id=service_id,
            start=start,
            now=now,
            busy_from=busy_from,
            busy_to=busy_to,
            specialist_ids=candidates,
            exclude_booking=exclude,
        )
        # A double click on Confirm (or a retried request) must not read as "taken by someone".
        if facts.mine is not None and (replacing is None or facts.mine != replacing.id):
            return BookingResult(Outcome.ALREADY_BOOKED, bookings.get(conn, facts.mine))
        if start < rules.earliest_start(now):
            return BookingResult(Outcome.TOO_SOON)
        if day > rules.last_bookable_day(now):
            return BookingResult(Outcome.TOO_FAR)
        if rules.limit_reached(facts.future_active):
            return BookingResult(Outcome.LIMIT_REACHED)
        if not known:
            return BookingResult(Outcome.UNKNOWN_SPECIALIST)
        query = SlotQuery.of(rules, service, now)
        index = busy_by_specialist(facts.busy, candidates, query)
        weekly, exceptions = known_hours
        # Lead time and horizon were checked above; what is left is the one start itself.
        working = [
            sid
            for sid in candidates
            if is_candidate(
                start,
                day,
                rules.tz,
                hours_for_day(day, sid, weekly[sid], exceptions),
                service.duration_minutes,
                rules.step_minutes,
            )
        ]
        if not working:
            return BookingResult(Outcome.OUTSIDE_HOURS)
        free = [sid for sid in working if query.is_free(start, index[sid])]
        if not free:
            return BookingResult(Outcome.SLOT_TAKEN)
        return service, filling(start, free, index)

    decided = decide()
    if isinstance(decided, BookingResult):
        return decided
    moved_from = [replacing.specialist_id] if replacing else []
    if locks.for_booking(conn, client_id, [*candidates, *moved_from]):
        decided = decide()  # others may have booked before the locks were ours
        if isinstance(decided, BookingResult):
            return decided
    _, free = decided
    return Placed(service, least_loaded(conn, rules, free, day), outside_hours)


def least_loaded(conn: Conn, rules: Rules, free: Sequence[int], day: date) -> int:
    """Among free specialists (in display order), the one with the fewest bookings that day."""
    if len(free) == 1:
        return free[0]
    start, end = day_bounds_utc(rules.tz, day)
    load = bookings.load_by_specialist(conn, start, end, free)
    return min(free, key=lambda sid: load.get(sid, 0))
