"""Offering freed time to the waitlist, inside the transaction that freed it.

A unit of work that frees time (a cancel, a move, a declined request, a hold declined or
expired, a day reopened, hours extended) ends with ``offer_freed`` for the specialists and days
it touched. Each waiter of those days, first in line first, gets the earliest start that suits
them (their service, their specialist or any, their part of the day) and that they may book
under the client's rules: the bot books it for them as a hold (a booking row with
``held_until``), written in this transaction, with the offer in the outbox. A hold is an active
booking, so nobody else is offered it or can book it, and the next waiter is offered another
start. Called at the end of the unit, after its own writes, so an offer never takes the time a
move in the same unit is about to use.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import date, datetime
from enum import Enum

from database.engine import Conn
from database.repo import audit, bookings, clients, locks, outbox, waitlist
from domain.actors import SYSTEM
from domain.bookings import Booking
from domain.notices import NoticeKind
from domain.outcomes import BookingResult
from domain.reminders import OutboxRow
from domain.rules import Rules
from domain.waitlist import DayPart, WaitEntry, WaitStatus
from services import placement
from services.slots import free_starts
from utils.timeutil import day_bounds_utc, to_local

logger = logging.getLogger(__name__)

# (specialist, local day) a unit freed time for; specialist None: every specialist.
Freed = tuple[int | None, date]


def freed_by(rules: Rules, booking: Booking) -> Freed:
    return booking.specialist_id, rules.local(booking.start).date()


def offer_freed(conn: Conn, rules: Rules, now: datetime, freed: Iterable[Freed]) -> list[int]:
    """Holds for the first waiters of the days freed; their ids. Placed under the client's
    rules (the lead time, the per-client limit) whoever freed the time: a staff move too."""
    rules = replace(rules, staff_booking=False)
    first, last = rules.bookable_days(now)
    wanted: dict[date, set[int | None]] = {}
    for specialist_id, day in freed:
        if first <= day <= last:
            wanted.setdefault(day, set()).add(specialist_id)
    held: list[int] = []
    for day, specialists in sorted(wanted.items()):
        scope = None if None in specialists or len(specialists) > 1 else next(iter(specialists))
        for entry in waitlist.waiting_on(conn, day, scope):
            booking = hold_for(conn, rules, entry, now)
            if booking is BUSY:
                # The waiter is booking right now (PostgreSQL): nobody behind them jumps the
                # line; the tick's sweep (``offer_waited``) offers the day again.
                break
            if isinstance(booking, Booking):
                held.append(booking.id)
    return held


def offer_waited(
    conn: Conn,
    rules: Rules,
    now: datetime,
    specialist_id: int | None,
    wanted: Callable[[date], bool],
) -> list[int]:
    """offer_freed() for the days someone waits for that a change touched (``wanted``): a day
    reopened, hours extended; every day waited for, on the tick's sweep (a time freed by
    anything else, or an offer put off while its waiter was busy)."""
    days = [d for d in waitlist.days_waited(conn, rules.today(now)) if wanted(d)]
    return offer_freed(conn, rules, now, [(specialist_id, d) for d in days])


def suitable_starts(
    conn: Conn,
    rules: Rules,
    service_id: int,
    specialist_id: int | None,
    day: date,
    part: DayPart | None,
    now: datetime,
) -> list[datetime] | None:
    """The day's free starts in the part of the day asked for, earliest first (what joining
    refuses when there is one, and what a hold is placed on); None if the service cannot be
    booked at all."""
    loaded = placement.load(conn, rules, service_id, specialist_id, day, day, now)
    if loaded is None:
        return None
    found = free_starts(day, loaded.schedules, loaded.exceptions, loaded.query)
    return [start for start in found if suits(rules, start, part)]


class Busy(Enum):
    BUSY = "busy"


# hold_for()'s answer when the waiter's or a specialist's lock is another transaction's.
BUSY = Busy.BUSY


def hold_for(conn: Conn, rules: Rules, entry: WaitEntry, now: datetime) -> Booking | Busy | None:
    """A hold on the earliest start of the entry's day that suits it, or None if there is none
    (or the client may not book one now: blocked, unreachable, at their limit, or booked that
    day already, which ends their wait).

    The unit offering already holds its own locks (PostgreSQL), so the waiter's are only tried:
    BUSY if another transaction holds one (that waiter booking at the same moment). Waiting
    for them could wait in a circle."""
    client = clients.get(conn, entry.client_id)
    if client is None or client.is_blocked or not client.is_reachable:
        return None
    offered = placement.offering(conn, rules, entry.service_id, entry.specialist_id, now)
    if offered is None:
        return None
    if not locks.try_for_booking(conn, entry.client_id, offered[0]):
        return BUSY
    start_of_day, end_of_day = day_bounds_utc(rules.tz, entry.day)
    if bookings.has_active(conn, entry.client_id, entry.service_id, start_of_day, end_of_day):
        waitlist.set_status(conn, entry.id, WaitStatus.BOOKED, now, only_from=(WaitStatus.WAITING,))
        return None
    starts = suitable_starts(
        conn, rules, entry.service_id, entry.specialist_id, entry.day, entry.part, now
    )
    for start in starts or []:
        placed = placement.place(
            conn, rules, entry.client_id, entry.service_id, start, entry.specialist_id, now, None
        )
        if isinstance(placed, BookingResult):
            # The start is free (listed just now), so the refusal is about the client (the
            # limit, a booking of theirs at that time): no other start will do either.
            return None
        # Claimed under the client's lock (PostgreSQL): another unit offering this day at the
        # same time has either offered this entry already or will find it claimed.
        if not waitlist.set_status(
            conn, entry.id, WaitStatus.OFFERED, now, only_from=(WaitStatus.WAITING,)
        ):
            return None
        return _hold(conn, rules, entry, placed, start, now)
    return None


def suits(rules: Rules, start: datetime, part: DayPart | None) -> bool:
    """Whether a start lies in the part of the day a waiter asked for (any, with None)."""
    local = to_local(rules.tz, start)
    return part is None or part.holds(local.hour * 60 + local.minute)


def _hold(
    conn: Conn,
    rules: Rules,
    entry: WaitEntry,
    placed: placement.Placed,
    start: datetime,
    now: datetime,
) -> Booking:
    booking = bookings.insert(
        conn,
        client_id=entry.client_id,
        service=placed.service,
        specialist_id=placed.specialist_id,
        start=start,
        now=now,
        held_until=rules.hold_until(now, start),
    )
    waitlist.attach_hold(conn, entry.id, booking.id)
    outbox.insert(conn, booking.id, [OutboxRow.notice(NoticeKind.WAITLIST_OFFER, now)], now)
    audit.record(
        conn,
        actor=SYSTEM,
        action="booking.held",
        entity="booking",
        entity_id=booking.id,
        now=now,
        waitlist_id=entry.id,
        start=start.isoformat(),
    )
    logger.info("waitlist %d: held booking %d", entry.id, booking.id)
    return booking
