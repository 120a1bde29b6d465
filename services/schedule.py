"""Working hours and date exceptions (days off, custom hours).

Every change of hours takes the hours' lock first (database/repo/locks.py), as does the cancel
of the bookings a change left outside them (services/staff.py), so that cancel's check that a
booking is still outside the hours cannot interleave with a change of them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime

from database.engine import Conn, Database
from database.repo import audit, catalog, locks, schedule
from domain.actors import SYSTEM, Actor
from domain.rules import Rules
from domain.schedule import TimeOff, dates, group_time_off
from services import holds
from utils.hours import Interval, WeeklyHours, format_intervals
from utils.timeutil import Clock, system_clock

SEEDED_KEY = "working_hours_seeded"
DIGEST_KEY = "digest_sent_on"


class ScheduleService:
    def __init__(
        self,
        db: Database,
        clock: Clock = system_clock,
        first_specialist_name: str | None = None,
        rules: Rules | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        # The business's rules, for offering the time a change opens to the waitlist (none in
        # tests of the hours alone).
        self.rules = rules
        # The name the migration's specialist takes at the first start (DEFAULT_LANGUAGE's).
        self.first_specialist_name = first_specialist_name

    async def seed_weekly_hours(self, weekly: WeeklyHours) -> bool:
        """On the very first start, give every specialist the WORKING_HOURS schedule, and the
        specialist the migration created its name in DEFAULT_LANGUAGE.

        Runs once per database: later changes are made from the admin chat and are never
        overwritten by the setting, even if an admin clears every hour. A database that has
        started before keeps its specialist's name, whatever it is.
        """
        now = self.clock()

        def work(conn: Conn) -> bool:
            locks.for_hours(conn)
            if audit.get_state(conn, SEEDED_KEY) is not None:
                return False
            if self.first_specialist_name:
                self._name_first_specialist(conn, self.first_specialist_name, now)
            for specialist in catalog.list_specialists(conn, active_only=False):
                for weekday in range(7):
                    schedule.replace_weekday_hours(
                        conn, specialist.id, weekday, weekly.get(weekday, [])
                    )
            audit.set_state(conn, SEEDED_KEY, str(now.isoformat()))
            audit.record(
                conn,
                actor=SYSTEM,
                action="hours.seeded",
                entity="working_hours",
                entity_id=None,
                now=now,
                hours={day: format_intervals(iv) for day, iv in sorted(weekly.items())},
            )
            return True

        return await self.db.write(work, "hours.seed")

    @staticmethod
    def _name_first_specialist(conn: Conn, name: str, now: datetime) -> None:
        specialist_id = catalog.name_placeholder_specialist(conn, name)
        if specialist_id is not None and name != catalog.PLACEHOLDER_SPECIALIST_NAME:
            audit.record(
                conn,
                actor=SYSTEM,
                action="specialist.renamed",
                entity="specialist",
                entity_id=specialist_id,
                now=now,
                name=name,
                was=catalog.PLACEHOLDER_SPECIALIST_NAME,
            )

    async def claim_digest(self, day: date, specialist_id: int | None = None) -> bool:
        """True once per local day (for the admin chat, or for one specialist's own chat): the
        caller sends that day's digest. Survives restarts, so a restart after the digest time
        can catch up without a second digest the same day."""
        key = DIGEST_KEY if specialist_id is None else f"{DIGEST_KEY}:specialist:{specialist_id}"
        return await self.db.write(
            lambda conn: audit.claim_state(conn, key, day.isoformat()), "digest.claim"
        )

    async def weekly(self, specialist_id: int) -> WeeklyHours:
        result = await self.db.read(lambda c: schedule.weekly_hours(c, [specialist_id]))
        return result[specialist_id]

    async def weekly_all(self) -> dict[int, WeeklyHours]:
        """Weekly hours of every specialist (active or not), by specialist id."""

        def work(conn: Conn) -> dict[int, WeeklyHours]:
            ids = [s.id for s in catalog.list_specialists(conn, active_only=False)]
            return schedule.weekly_hours(conn, ids)

        return await self.db.read(work, "hours.all")

    async def set_weekday(
        self, specialist_id: int | None, weekday: int, intervals: Sequence[Interval], actor: Actor
    ) -> bool:
        """Set one weekday's hours of a specialist, or of every specialist (``None``)."""
        now = self.clock()

        def work(conn: Conn) -> bool:
            locks.for_hours(conn)
            if specialist_id is None:
                ids = [s.id for s in catalog.list_specialists(conn, active_only=False)]
            elif catalog.get_specialist(conn, specialist_id) is None:
                return False
            else:
                ids = [specialist_id]
            for sid in ids:
                schedule.replace_weekday_hours(conn, sid, weekday, intervals)
                audit.record(
                    conn,
                    actor=actor,
                    action="hours.set",
                    entity="specialist",
                    entity_id=sid,
                    now=now,
                    weekday=weekday,
                    hours=format_intervals(list(intervals)),
                )
            self._offer(conn, now, specialist_id, lambda day: day.weekday() == weekday)
            return True

        return await self.db.write(work, "hours.set")

    async def set_day(
        self,
        day: date,
        intervals: Sequence[Interval] | None,
        actor: Actor,
        reason: str = "",
        specialist_id: int | None = None,
    ) -> bool:
        """set_days() of one date."""
        return await self.set_days(day, day, intervals, actor, reason, specialist_id)

    async def set_days(
        self,
        first: date,
        last: date,
        intervals: Sequence[Interval] | None,
        actor: Actor,
        reason: str = "",
        specialist_id: int | None = None,
    ) -> bool:
        """Override the dates first..last, for one specialist or (None) the whole business: None
        closes them (a day off, a vacation), a list sets custom hours (replacing earlier
        overrides of the same scope). False, and nothing changed, for an unknown specialist."""
        now = self.clock()

        def work(conn: Conn) -> bool:
            locks.for_hours(conn)
            if specialist_id is not None and catalog.get_specialist(conn, specialist_id) is None:
                return False
            for day in dates(first, last):
                schedule.clear_exceptions(conn, day, specialist_id)
                for hours in intervals if intervals is not None else [None]:
                    schedule.add_exception(
                        conn,
                        day=day,
                        specialist_id=specialist_id,
                        hours=hours,
                        reason=reason,
                        actor=actor,
                        now=now,
                    )
            audit.record(
                conn,
                actor=actor,
                action="day.closed" if intervals is None else "day.custom_hours",
                entity="day",
                entity_id=None,
                now=now,
                day=first.isoformat(),
                last=last.isoformat(),
                specialist_id=specialist_id,
                hours=None if intervals is None else format_intervals(list(intervals)),
                reason=reason,
            )
            if intervals is not None:  # custom hours may open time a day lacked
                self._offer(conn, now, specialist_id, lambda day: first <= day <= last)
            return True

        return await self.db.write(work, "day.set")

    async def reopen_day(self, day: date, actor: Actor, specialist_id: int | None = None) -> int:
        """reopen_days() of one date; an unknown specialist has nothing to reopen (0)."""
        return await self.reopen_days(day, day, actor, specialist_id) or 0

    async def reopen_days(
        self, first: date, last: date, actor: Actor, specialist_id: int | None = None
    ) -> int | None:
        """Drop the overrides of the dates first..last in the scope (one specialist's, or the
        business's): the weekly hours apply again. How many went; None for an unknown
        specialist."""
        now = self.clock()

        def work(conn: Conn) -> int | None:
            locks.for_hours(conn)
            if specialist_id is not None and catalog.get_specialist(conn, specialist_id) is None:
                return None
            removed = sum(
                schedule.clear_exceptions(conn, day, specialist_id) for day in dates(first, last)
            )
            audit.record(
                conn,
                actor=actor,
                action="day.reopened",
                entity="day",
                entity_id=None,
                now=now,
                day=first.isoformat(),
                last=last.isoformat(),
                specialist_id=specialist_id,
            )
            self._offer(conn, now, specialist_id, lambda day: first <= day <= last)
            return removed

        return await self.db.write(work, "day.reopen")

    def _offer(
        self, conn: Conn, now: datetime, specialist_id: int | None, days: Callable[[date], bool]
    ) -> None:
        """The time the change opened, offered to those waiting for those days."""
        if self.rules is not None:
            holds.offer_waited(conn, self.rules, now, specialist_id, days)

    async def time_off(self, today: date) -> list[TimeOff]:
        """The closures and custom hours from today on, as ranges (/timeoff)."""

        def work(conn: Conn) -> list[TimeOff]:
            names = {s.id: s.name for s in catalog.list_specialists(conn, active_only=False)}
            found = schedule.exceptions_from(conn, today)
            return group_time_off(found, names)

        return await self.db.read(work, "time_off")
