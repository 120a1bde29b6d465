"""BookingService: book, cancel, reschedule and close bookings, each in one transaction.

Every decision about whether a time can be booked is made inside the writer's BEGIN IMMEDIATE
transaction, from what the database holds at that moment, by the same slot engine that lists
free times to clients. Results are values (``BookingResult``); handlers translate the outcome to
text in one place.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum

from pytz.tzinfo import BaseTzInfo

from database import repository as repo
from database.connection import Database
from database.models import (
    SYSTEM,
    Actor,
    Booking,
    BookingDetails,
    BookingStatus,
    Role,
    ScheduleException,
    Service,
    Specialist,
)
from services.slots import (
    SlotQuery,
    SlotRules,
    SpecialistSchedule,
    available_days,
    busy_by_specialist,
    free_starts,
    hours_for_day,
    is_candidate,
    month_days,
)
from utils.timeutil import Clock, day_bounds_utc, system_clock, to_local


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


# The reason recorded on the old booking of a reschedule (the new one carries rescheduled_from).
RESCHEDULED_REASON = "rescheduled"

SUCCESS = frozenset(
    {
        Outcome.BOOKED,
        Outcome.CANCELLED,
        Outcome.RESCHEDULED,
        Outcome.MARKED,
        Outcome.CHANGEABLE,
        Outcome.CONFIRMED,
        Outcome.RATED,
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
class BookingRules:
    slots: SlotRules = field(default_factory=SlotRules)
    max_active_per_client: int = 3
    cancel_cutoff_minutes: int = 120
    reminder_offsets: Sequence[int] = (1440, 120)
    feedback_delay_minutes: int = 0  # ask for a rating this long after the end; 0: never


@dataclass(frozen=True)
class Selection:
    """What a client has picked so far in the booking flow, checked against the database."""

    service: Service
    specialist: Specialist | None  # None: any specialist
    offering: int  # how many active specialists offer the service
    moving: Booking | None = None  # the booking being rescheduled


@dataclass(frozen=True)
class _Placement:
    service: Service
    specialist_id: int


class BookingService:
    def __init__(
        self,
        db: Database,
        tz: BaseTzInfo,
        rules: BookingRules | None = None,
        clock: Clock = system_clock,
    ) -> None:
        self.db = db
        self.tz = tz
        self.rules = rules or BookingRules()
        self.clock = clock

    # ------------------------------------------------------------ commands

    async def book(
        self,
        client_id: int,
        service_id: int,
        start: datetime,
        specialist_id: int | None = None,
    ) -> BookingResult:
        """Book ``start`` for the client; ``specialist_id`` None means any free specialist."""
        now = self.clock()
        actor = Actor.client(client_id)

        def work(conn: sqlite3.Connection) -> BookingResult:
            placed = self._place(conn, client_id, service_id, start, specialist_id, now, None)
            if isinstance(placed, BookingResult):
                return placed
            booking = self._insert(conn, client_id, placed, start, now, actor, None)
            return BookingResult(Outcome.BOOKED, booking)

        return await self.db.write(work, "book")

    async def cancel(
        self, booking_id: int, actor: Actor, reason: str | None = None
    ) -> BookingResult:
        """A client may cancel their own booking until the cutoff; an admin, any active one."""
        now = self.clock()

        def work(conn: sqlite3.Connection) -> BookingResult:
            booking = repo.get_booking(conn, booking_id)
            refusal = self._refuse_change(booking, actor, now)
            if refusal is not None:
                return refusal
            assert booking is not None
            cancelled = self._cancel_in_tx(conn, booking, actor, reason, now)
            return BookingResult(Outcome.CANCELLED, cancelled)

        return await self.db.write(work, "cancel")

    async def reschedule(
        self,
        booking_id: int,
        new_start: datetime,
        actor: Actor,
        specialist_id: int | None = None,
    ) -> BookingResult:
        """Move a booking: the old one is cancelled and the new one made together, or neither."""
        now = self.clock()

        def work(conn: sqlite3.Connection) -> BookingResult:
            old = repo.get_booking(conn, booking_id)
            refusal = self._refuse_change(old, actor, now)
            if refusal is not None and refusal.outcome is Outcome.NOT_ACTIVE:
                assert old is not None
                # A repeated Confirm of this very move (a double click) is not an error.
                moved = repo.active_booking_at(conn, old.client_id, old.service_id, new_start)
                if moved is not None and moved.rescheduled_from == old.id:
                    return BookingResult(Outcome.ALREADY_BOOKED, moved, old)
            if refusal is not None:
                return refusal
            assert old is not None
            if new_start == old.start and specialist_id in (None, old.specialist_id):
                return BookingResult(Outcome.SAME_TIME, old)
            placed = self._place(
                conn, old.client_id, old.service_id, new_start, specialist_id, now, old
            )
            if isinstance(placed, BookingResult):
                return placed
            previous = self._cancel_in_tx(conn, old, actor, RESCHEDULED_REASON, now)
            booking = self._insert(conn, old.client_id, placed, new_start, now, actor, old.id)
            return BookingResult(Outcome.RESCHEDULED, booking, previous)

        return await self.db.write(work, "reschedule")

    async def mark(self, booking_id: int, status: BookingStatus, actor: Actor) -> BookingResult:
        """Admin: record that a booking took place (completed) or the client did not come."""
        if status not in (BookingStatus.COMPLETED, BookingStatus.NO_SHOW):
            raise ValueError(f"cannot mark a booking {status}")
        now = self.clock()

        def work(conn: sqlite3.Connection) -> BookingResult:
            booking = repo.get_booking(conn, booking_id)
            if booking is None:
                return BookingResult(Outcome.NOT_FOUND)
            changeable = booking.is_active or (
                booking.status is BookingStatus.COMPLETED and status is BookingStatus.NO_SHOW
            )
            if not changeable:
                return BookingResult(Outcome.NOT_ACTIVE, booking)
            if booking.start > now:
                return BookingResult(Outcome.NOT_STARTED, booking)
            marked = repo.set_booking_status(conn, booking.id, status, now)
            # A visit that took place still gets its rating request; a no-show gets nothing.
            kinds = ("reminder",) if status is BookingStatus.COMPLETED else ("reminder", "feedback")
            repo.void_pending_reminders(conn, booking.id, f"booking {status}", now, kinds)
            repo.audit(
                conn,
                actor=actor,
                action=f"booking.{status}",
                entity="booking",
                entity_id=booking.id,
                now=now,
                previous_status=booking.status.value,
            )
            return BookingResult(Outcome.MARKED, marked)

        return await self.db.write(work, "mark")

    async def confirm_visit(self, booking_id: int, client_id: int) -> BookingResult:
        """The client answered a reminder with "I'll come"; the admin agenda shows it."""
        now = self.clock()
        actor = Actor.client(client_id)

        def work(conn: sqlite3.Connection) -> BookingResult:
            booking = repo.get_booking(conn, booking_id)
            if booking is None or booking.client_id != client_id:
                return BookingResult(Outcome.NOT_FOUND)
            if not booking.is_active or booking.start <= now:
                return BookingResult(Outcome.NOT_ACTIVE, booking)
            if repo.confirm_visit(conn, booking_id, now):
                repo.audit(
                    conn,
                    actor=actor,
                    action="booking.confirmed_by_client",
                    entity="booking",
                    entity_id=booking_id,
                    now=now,
                )
            return BookingResult(Outcome.CONFIRMED, repo.get_booking(conn, booking_id))

        return await self.db.write(work, "confirm_visit")

    async def rate(self, booking_id: int, client_id: int, stars: int) -> BookingResult:
        """The client's 1-5 rating of a visit that took place (pressing again changes it)."""
        now = self.clock()

        def work(conn: sqlite3.Connection) -> BookingResult:
            booking = repo.get_booking(conn, booking_id)
            if booking is None or booking.client_id != client_id or not 1 <= stars <= 5:
                return BookingResult(Outcome.NOT_FOUND)
            if booking.status is not BookingStatus.COMPLETED:
                return BookingResult(Outcome.NOT_ACTIVE, booking)
            repo.rate_booking(conn, booking_id, stars, now)
            repo.audit(
                conn,
                actor=Actor.client(client_id),
                action="booking.rated",
                entity="booking",
                entity_id=booking_id,
                now=now,
                stars=stars,
            )
            return BookingResult(Outcome.RATED, repo.get_booking(conn, booking_id))

        return await self.db.write(work, "rate")

    async def backfill_outbox(self) -> int:
        """Reminder rows for future bookings that have none (those imported from the older
        layout, which had no reminders): every booking is reminded the same way."""
        now = self.clock()

        def work(conn: sqlite3.Connection) -> int:
            missing = repo.active_without_outbox(conn, now)
            for booking in missing:
                rows = self._outbox_rows(booking.start, booking.end, now)
                repo.insert_reminders(conn, booking.id, rows, now)
            return len(missing)

        return await self.db.write(work, "backfill_outbox")

    async def complete_past(self, limit: int = 500) -> int:
        """Active bookings whose end has passed become completed (admins may still mark no-show)."""
        now = self.clock()

        def work(conn: sqlite3.Connection) -> int:
            ended = repo.active_ended_before(conn, now, limit)
            for booking_id in ended:
                repo.set_booking_status(conn, booking_id, BookingStatus.COMPLETED, now)
                repo.audit(
                    conn,
                    actor=SYSTEM,
                    action="booking.completed",
                    entity="booking",
                    entity_id=booking_id,
                    now=now,
                    automatic=True,
                )
            return len(ended)

        return await self.db.write(work, "complete_past")

    async def cancel_day(self, day: date, actor: Actor, reason: str) -> list[BookingDetails]:
        """Admin: cancel every active booking starting on the local day, in one transaction.

        Returns the cancelled bookings (with the names to tell each client).
        """
        start, end = day_bounds_utc(self.tz, day)
        now = self.clock()

        def work(conn: sqlite3.Connection) -> list[BookingDetails]:
            cancelled: list[BookingDetails] = []
            for details in repo.bookings_between(conn, start, end):
                if details.booking.is_active:
                    self._cancel_in_tx(conn, details.booking, actor, reason, now)
                    after = repo.booking_details(conn, details.booking.id)
                    assert after is not None
                    cancelled.append(after)
            return cancelled

        return await self.db.write(work, "cancel_day")

    # ------------------------------------------------------------ queries

    async def select(
        self, client_id: int, service_id: int, specialist_id: int = 0, moving_id: int = 0
    ) -> Selection | BookingResult:
        """Validate a step of the flow (ids come from buttons, so they may be stale or forged)."""
        now = self.clock()
        actor = Actor.client(client_id)

        def work(conn: sqlite3.Connection) -> Selection | BookingResult:
            service = repo.get_service(conn, service_id)
            if service is None or not service.is_active:
                return BookingResult(Outcome.SERVICE_INACTIVE)
            offering = repo.specialists_for_service(conn, service_id)
            specialist = next((s for s in offering if s.id == specialist_id), None)
            if specialist_id and specialist is None:
                return BookingResult(Outcome.UNKNOWN_SPECIALIST)
            if specialist is None and len(offering) == 1:
                # Nobody to choose between: the card names who will do it.
                specialist = offering[0]
            moving = None
            if moving_id:
                moving = repo.get_booking(conn, moving_id)
                refusal = self._refuse_change(moving, actor, now)
                if refusal is not None:
                    return refusal
                assert moving is not None
                if moving.service_id != service_id:
                    return BookingResult(Outcome.NOT_FOUND)
            elif repo.count_future_active(conn, client_id, now) >= self.rules.max_active_per_client:
                # Told before walking the calendar; book() checks again at Confirm.
                return BookingResult(Outcome.LIMIT_REACHED)
            return Selection(service, specialist, len(offering), moving)

        return await self.db.read(work, "select")

    async def specialists(self, service_id: int) -> list[Specialist]:
        """Active specialists offering the service, in display order."""
        return await self.db.read(lambda c: repo.specialists_for_service(c, service_id))

    def bookable_days(self) -> tuple[date, date]:
        """The first and last local dates a client may book now (today .. today + horizon)."""
        now = self.clock()
        return to_local(self.tz, now).date(), self.rules.slots.last_bookable_day(self.tz, now)

    async def changeable(self, booking_id: int, actor: Actor) -> BookingResult:
        """CHANGEABLE (with the booking) if ``actor`` may cancel or move it now, else why not.

        Lets a client be told before walking the calendar; cancel and reschedule check again.
        """
        now = self.clock()

        def work(conn: sqlite3.Connection) -> BookingResult:
            booking = repo.get_booking(conn, booking_id)
            refusal = self._refuse_change(booking, actor, now)
            return refusal or BookingResult(Outcome.CHANGEABLE, booking)

        return await self.db.read(work, "changeable")

    async def free_times(
        self,
        service_id: int,
        day: date,
        specialist_id: int | None = None,
        moving_id: int | None = None,
    ) -> dict[datetime, list[int]]:
        """Free starts on a local day, each with the specialists free then (empty if none).

        ``moving_id``: the booking being rescheduled, whose own time does not block its move.
        """
        now = self.clock()

        def work(conn: sqlite3.Connection) -> dict[datetime, list[int]]:
            loaded = self._load(conn, service_id, specialist_id, day, day, now, moving_id)
            if loaded is None:
                return {}
            schedules, exceptions, query = loaded
            return free_starts(day, schedules, exceptions, query)

        return await self.db.read(work, "free_times")

    async def calendar(
        self,
        service_id: int,
        year: int,
        month: int,
        specialist_id: int | None = None,
        moving_id: int | None = None,
    ) -> set[date]:
        """Days of the month with at least one free start; bookings come from one query."""
        now = self.clock()
        days = month_days(year, month)

        def work(conn: sqlite3.Connection) -> set[date]:
            loaded = self._load(conn, service_id, specialist_id, days[0], days[-1], now, moving_id)
            if loaded is None:
                return set()
            schedules, exceptions, query = loaded
            return available_days(year, month, schedules, exceptions, query)

        return await self.db.read(work, "calendar")

    async def get(self, booking_id: int) -> BookingDetails | None:
        return await self.db.read(lambda c: repo.booking_details(c, booking_id), "get_booking")

    async def upcoming(self, client_id: int) -> list[BookingDetails]:
        now = self.clock()
        return await self.db.read(lambda c: repo.upcoming_for_client(c, client_id, now), "upcoming")

    async def agenda(self, day: date) -> list[BookingDetails]:
        """Every booking starting on the local day, in time order, whatever its status."""
        start, end = day_bounds_utc(self.tz, day)
        return await self.db.read(lambda c: repo.bookings_between(c, start, end), "agenda")

    async def active_on(self, day: date) -> list[BookingDetails]:
        """The active bookings starting on the local day, in time order."""
        return [d for d in await self.agenda(day) if d.booking.is_active]

    async def history(self, client_id: int) -> list[BookingDetails]:
        """Every booking of the client, any status, newest first."""
        return await self.db.read(lambda c: repo.bookings_of_client(c, client_id), "history")

    def today(self) -> date:
        """The business's local date now."""
        return to_local(self.tz, self.clock()).date()

    # ------------------------------------------------------------ inside transactions

    def _query(self, service: Service, now: datetime) -> SlotQuery:
        return SlotQuery(
            tz=self.tz,
            duration_minutes=service.duration_minutes,
            buffer_minutes=service.buffer_minutes,
            now=now,
            rules=self.rules.slots,
        )

    def _schedules(
        self,
        conn: sqlite3.Connection,
        specialist_ids: Sequence[int],
        first: date,
        last: date,
        exclude_booking: int | None = None,
    ) -> tuple[list[SpecialistSchedule], list[ScheduleException]]:
        start, _ = day_bounds_utc(self.tz, first)
        _, end = day_bounds_utc(self.tz, last)
        # A late start's service and buffer can run past midnight into the next day's first
        # booking (round-the-clock hours): look a day beyond the range too.
        busy = repo.busy_intervals(conn, start, end + timedelta(days=1), specialist_ids)
        if exclude_booking is not None:
            busy = [b for b in busy if b[3] != exclude_booking]
        index = busy_by_specialist(busy, specialist_ids)
        weekly = repo.weekly_hours(conn, specialist_ids)
        schedules = [SpecialistSchedule(sid, weekly[sid], index[sid]) for sid in specialist_ids]
        return schedules, repo.exceptions_between(conn, first, last)

    def _load(
        self,
        conn: sqlite3.Connection,
        service_id: int,
        specialist_id: int | None,
        first: date,
        last: date,
        now: datetime,
        exclude_booking: int | None = None,
    ) -> tuple[list[SpecialistSchedule], list[ScheduleException], SlotQuery] | None:
        service = repo.get_service(conn, service_id)
        if service is None or not service.is_active:
            return None
        offering = [s.id for s in repo.specialists_for_service(conn, service_id)]
        ids = offering if specialist_id is None else [i for i in offering if i == specialist_id]
        schedules, exceptions = self._schedules(conn, ids, first, last, exclude_booking)
        return schedules, exceptions, self._query(service, now)

    def _place(
        self,
        conn: sqlite3.Connection,
        client_id: int,
        service_id: int,
        start: datetime,
        specialist_id: int | None,
        now: datetime,
        replacing: Booking | None,
    ) -> BookingResult | _Placement:
        """Decide whether ``start`` can be booked and by whom; the refusal otherwise."""
        service = repo.get_service(conn, service_id)
        if service is None:
            return BookingResult(Outcome.UNKNOWN_SERVICE)
        if not service.is_active:
            return BookingResult(Outcome.SERVICE_INACTIVE)
        # A double click on Confirm (or a retried request) must not read as "taken by someone".
        mine = repo.active_booking_at(conn, client_id, service_id, start)
        if mine is not None and (replacing is None or mine.id != replacing.id):
            return BookingResult(Outcome.ALREADY_BOOKED, mine)
        rules = self.rules.slots
        if start < rules.earliest_start(now):
            return BookingResult(Outcome.TOO_SOON)
        day = to_local(self.tz, start).date()
        if day > rules.last_bookable_day(self.tz, now):
            return BookingResult(Outcome.TOO_FAR)
        exclude = replacing.id if replacing else None
        active = repo.count_future_active(conn, client_id, now, exclude_booking=exclude)
        if active >= self.rules.max_active_per_client:
            return BookingResult(Outcome.LIMIT_REACHED)

        offering = [s.id for s in repo.specialists_for_service(conn, service_id)]
        if specialist_id is not None:
            if specialist_id not in offering:
                return BookingResult(Outcome.UNKNOWN_SPECIALIST)
            offering = [specialist_id]
        schedules, exceptions = self._schedules(conn, offering, day, day, exclude)
        query = self._query(service, now)

        # Lead time and horizon were checked above; what is left is the one start itself.
        working = [
            s
            for s in schedules
            if is_candidate(
                start,
                day,
                self.tz,
                hours_for_day(day, s.specialist_id, s.weekly, exceptions),
                service.duration_minutes,
                rules.step_minutes,
            )
        ]
        if not working:
            return BookingResult(Outcome.OUTSIDE_HOURS)
        free = [s for s in working if query.is_free(start, s.busy)]
        if not free:
            return BookingResult(Outcome.SLOT_TAKEN)
        return _Placement(service, self._least_loaded(conn, free, day))

    def _least_loaded(
        self, conn: sqlite3.Connection, free: Sequence[SpecialistSchedule], day: date
    ) -> int:
        """Among free specialists (in display order), the one with the fewest bookings that day."""
        if len(free) == 1:
            return free[0].specialist_id
        start, end = day_bounds_utc(self.tz, day)
        ids = [s.specialist_id for s in free]
        load = Counter(b[0] for b in repo.busy_intervals(conn, start, end, ids))
        return min(ids, key=lambda sid: load[sid])

    def _insert(
        self,
        conn: sqlite3.Connection,
        client_id: int,
        placed: _Placement,
        start: datetime,
        now: datetime,
        actor: Actor,
        rescheduled_from: int | None,
    ) -> Booking:
        service = placed.service
        end = start + timedelta(minutes=service.duration_minutes)
        repo.ensure_client(conn, client_id, now)
        booking = repo.insert_booking(
            conn,
            client_id=client_id,
            service=service,
            specialist_id=placed.specialist_id,
            start=start,
            end=end,
            busy_until=end + timedelta(minutes=service.buffer_minutes),
            now=now,
            rescheduled_from=rescheduled_from,
        )
        repo.insert_reminders(conn, booking.id, self._outbox_rows(start, end, now), now)
        repo.audit(
            conn,
            actor=actor,
            action="booking.rescheduled" if rescheduled_from else "booking.created",
            entity="booking",
            entity_id=booking.id,
            now=now,
            start=start.isoformat(),
            service_id=service.id,
            specialist_id=placed.specialist_id,
            rescheduled_from=rescheduled_from,
        )
        return booking

    def _outbox_rows(
        self, start: datetime, end: datetime, now: datetime
    ) -> list[tuple[str, int, datetime, str, str | None]]:
        """Reminders (offset minutes before the start) and the rating request (after the end,
        stored with a negative offset)."""
        rows: list[tuple[str, int, datetime, str, str | None]] = []
        for offset in self.rules.reminder_offsets:
            due = start - timedelta(minutes=offset)
            if due <= now:
                rows.append(
                    ("reminder", offset, due, "skipped", "offset already passed at booking time")
                )
            else:
                rows.append(("reminder", offset, due, "pending", None))
        delay = self.rules.feedback_delay_minutes
        if delay > 0:
            rows.append(("feedback", -delay, end + timedelta(minutes=delay), "pending", None))
        return rows

    def _refuse_change(
        self, booking: Booking | None, actor: Actor, now: datetime
    ) -> BookingResult | None:
        """Why ``actor`` may not cancel or move ``booking`` now, or None if they may."""
        is_client = actor.role is Role.CLIENT
        # Another client's booking looks exactly like a missing one: no data leaks either way.
        if booking is None or (is_client and booking.client_id != actor.id):
            return BookingResult(Outcome.NOT_FOUND)
        if not booking.is_active:
            return BookingResult(Outcome.NOT_ACTIVE, booking)
        cutoff = timedelta(minutes=self.rules.cancel_cutoff_minutes)
        if is_client and booking.start - now < cutoff:
            return BookingResult(Outcome.TOO_LATE, booking)
        return None

    def _cancel_in_tx(
        self,
        conn: sqlite3.Connection,
        booking: Booking,
        actor: Actor,
        reason: str | None,
        now: datetime,
    ) -> Booking:
        cancelled = repo.set_booking_status(
            conn, booking.id, BookingStatus.CANCELLED, now, actor=actor, reason=reason
        )
        repo.void_pending_reminders(conn, booking.id, f"booking cancelled ({reason or '-'})", now)
        repo.audit(
            conn,
            actor=actor,
            action="booking.cancelled",
            entity="booking",
            entity_id=booking.id,
            now=now,
            reason=reason,
        )
        return cancelled
