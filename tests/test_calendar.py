"""The month calendar a client sees is kept between reads (services/calendar.py): every change of
anyone's free time, made by this process or another, shows on the next read, and the clock
alone moves it too. Each read is compared with a calendar computed from nothing."""

from __future__ import annotations

from datetime import date

from database.engine import Database
from domain.rules import Rules
from services.booking import ClientBookingService
from services.calendar import MonthCache
from services.schedule import ScheduleService
from services.staff import StaffService
from tests.conftest import ADMIN, AddService, OpenAnother, at
from tests.support.clock import FakeClock

ALICE, BOB = 111, 222
THU, FRI, MON, TUE, WED = (date(2026, 12, d) for d in (3, 4, 7, 8, 9))
ONE_HOUR = [(600, 660)]  # 10:00-11:00: one booking of an hour fills the day


class Watch:
    """The kept calendar of one process, checked against a fresh one on every read."""

    def __init__(self, db: Database, rules: Rules, clock: FakeClock, service_id: int) -> None:
        self.db, self.rules, self.clock, self.service_id = db, rules, clock, service_id
        self.kept = ClientBookingService(db, rules, clock)

    async def days(self, specialist_id: int | None = None) -> set[date]:
        got = await self.kept.calendar(self.service_id, 2026, 12, specialist_id)
        fresh = ClientBookingService(self.db, self.rules, self.clock)
        assert got == await fresh.calendar(self.service_id, 2026, 12, specialist_id)
        return got

    @property
    def misses(self) -> int:
        return self.kept.months.misses


async def test_every_change_of_free_time_shows_at_once_from_any_process(
    db: Database,
    another_db: OpenAnother,
    rules: Rules,
    clock: FakeClock,
    add_service: AddService,
    schedule: ScheduleService,
) -> None:
    service = await add_service()
    watch = Watch(db, rules, clock, service.id)
    other_db = await another_db()  # a second replica, with calendars of its own
    other = ClientBookingService(other_db, rules, clock)
    other_staff = StaffService(other_db, rules, clock)
    other_schedule = ScheduleService(other_db, clock)

    await schedule.set_day(THU, ONE_HOUR, ADMIN)
    await schedule.set_day(FRI, ONE_HOUR, ADMIN)
    assert {THU, FRI} <= await watch.days()
    misses = watch.misses
    assert {THU, FRI} <= await watch.days()
    assert watch.misses == misses, "nothing changed: the kept month was used"

    booked = await other.book(ALICE, service.id, at(rules.tz, THU, "10:00"))
    assert booked.booking is not None
    assert THU not in await watch.days()

    assert (await other.cancel(booked.booking.id, ALICE)).booking is not None
    assert THU in await watch.days()

    moved = await watch.kept.book(BOB, service.id, at(rules.tz, THU, "10:00"))
    assert moved.booking is not None and THU not in await watch.days()
    moved = await other_staff.reschedule(moved.booking.id, at(rules.tz, FRI, "10:00"), ADMIN)
    assert moved.booking is not None
    moved_id = moved.booking.id
    days = await watch.days()
    assert THU in days and FRI not in days

    await other_schedule.set_day(MON, None, ADMIN)  # the whole business closed
    assert MON not in await watch.days()
    await other_schedule.reopen_day(MON, ADMIN)
    assert MON in await watch.days()

    await other_schedule.set_day(TUE, None, ADMIN, specialist_id=1)  # one specialist's day off
    assert TUE not in await watch.days(specialist_id=1)

    await other_schedule.set_weekday(1, WED.weekday(), [], ADMIN)  # no more Wednesdays
    assert not {d for d in await watch.days() if d.weekday() == WED.weekday()}

    # A change no code path of ours makes still shows: the triggers see every write.
    await other_db.write(
        lambda c: c.execute("UPDATE bookings SET status = 'cancelled' WHERE id = ?", (moved_id,))
    )
    assert FRI in await watch.days()

    # What does not move anyone's time keeps the month.
    misses = watch.misses
    await other_db.write(
        lambda c: c.execute("UPDATE bookings SET rating = 5 WHERE id = ?", (moved_id,))
    )
    await watch.days()
    assert watch.misses == misses


async def test_the_clock_alone_closes_today_without_a_recomputation(
    db: Database, rules: Rules, clock: FakeClock, add_service: AddService
) -> None:
    service = await add_service()
    watch = Watch(db, rules, clock, service.id)
    today = date(2026, 12, 1)  # Tuesday, open until 19:00; the last start is 18:00
    assert today in await watch.days()
    misses = watch.misses

    clock.set(at(rules.tz, today, "16:59"))  # 18:00 is still an hour and a minute away
    assert today in await watch.days()
    clock.set(at(rules.tz, today, "17:01"))  # the minimum notice (60 min) has passed 18:00
    assert today not in await watch.days()
    clock.set(at(rules.tz, date(2026, 12, 31), "12:00"))  # the horizon moved with the clock
    days = await watch.days()
    assert min(days) == date(2026, 12, 31)
    assert watch.misses == misses


async def test_a_small_cache_drops_months_but_never_answers_wrong(
    db: Database, rules: Rules, clock: FakeClock, add_service: AddService
) -> None:
    short = await add_service("Trim", duration=30)
    long = await add_service("Colour", duration=180)
    watch = Watch(db, rules, clock, short.id)
    watch.kept.months = MonthCache(size=1)
    await watch.kept.book(ALICE, long.id, at(rules.tz, THU, "10:00"))
    for _ in range(3):
        assert THU in await watch.days()
        watch.service_id = long.id if watch.service_id == short.id else short.id
    assert len(watch.kept.months) == 1
