"""Bookings a change of hours leaves outside them, and services nobody can do: the services on
both engines (the ``db`` fixture). The admin chat's side is in tests/test_admin_flow.py.

Clock: Tue 2026-12-01 08:00 Moscow; hours mon-fri 10-14, 15-19, sat 11-16; horizon 30 days.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from datetime import date, datetime

from pytz.tzinfo import BaseTzInfo

from database.engine import Conn, Database
from database.repo import locks
from database.repo import schedule as hours_repo
from domain.outcomes import BookingResult, HoursCancelOutcome, Outcome
from domain.schedule import HoursScope
from services.booking import ClientBookingService
from services.catalog import CatalogService
from services.schedule import ScheduleService
from services.specialists import SpecialistService
from services.staff import StaffService
from tests.conftest import ADMIN, AddService, OpenAnother, at
from tests.support.clock import FakeClock

TUE, WED, THU = date(2026, 12, 1), date(2026, 12, 2), date(2026, 12, 3)
WEDNESDAY = 2


async def book(booking: ClientBookingService, client: int, service: int, moment: datetime) -> int:
    result = await booking.book(client, service, moment)
    assert result.booking is not None, result.outcome
    return result.booking.id


async def outbox_kinds(db: Database, booking_id: int) -> list[tuple[str, str | None]]:
    rows = await db.read(
        lambda c: c.execute(
            "SELECT kind, note FROM reminders WHERE booking_id = ? AND kind LIKE 'notice%'"
            " ORDER BY id",
            (booking_id,),
        ).fetchall()
    )
    return [(r[0], r[1]) for r in rows]


async def test_the_weekday_scope_covers_that_weekday_within_the_horizon(
    staff: StaffService,
) -> None:
    scope = staff.weekday_scope(WEDNESDAY, None)
    assert (scope.first, scope.last) == (TUE, date(2026, 12, 31))
    assert scope.days() == [date(2026, 12, d) for d in (2, 9, 16, 23, 30)]
    assert scope.covers(WED, 7) and not scope.covers(THU, 7)
    mine = staff.weekday_scope(WEDNESDAY, 2)
    assert mine.covers(WED, 2) and not mine.covers(WED, 1)
    assert HoursScope.day(WED).days() == [WED]


async def test_outside_hours_lists_upcoming_active_bookings_in_scope_only(
    booking: ClientBookingService,
    staff: StaffService,
    schedule: ScheduleService,
    add_service: AddService,
    tz: BaseTzInfo,
    clock: FakeClock,
) -> None:
    cut = await add_service()
    early = await book(booking, 1, cut.id, at(tz, WED, "10:00"))
    fits = await book(booking, 2, cut.id, at(tz, WED, "12:00"))
    late = await book(booking, 3, cut.id, at(tz, date(2026, 12, 9), "16:30"))
    thursday = await book(booking, 4, cut.id, at(tz, THU, "10:00"))
    gone = await book(booking, 5, cut.id, at(tz, WED, "18:00"))
    assert (await staff.cancel(gone, ADMIN)).ok

    assert await schedule.set_weekday(None, WEDNESDAY, [(660, 1020)], ADMIN)  # 11:00-17:00
    found = await staff.outside_hours(staff.weekday_scope(WEDNESDAY, None))

    assert [d.booking.id for d in found.bookings] == [early, late]
    assert found.asked == clock()
    assert fits and thursday  # in the hours, or another weekday: not listed
    # Already started (or over) is not upcoming: never listed, never cancelled.
    clock.set(at(tz, WED, "10:30"))
    later = await staff.outside_hours(staff.weekday_scope(WEDNESDAY, None))
    assert [d.booking.id for d in later.bookings] == [late]


async def test_a_closed_day_is_outside_hours_and_its_clients_get_the_day_off_notice(
    db: Database,
    booking: ClientBookingService,
    staff: StaffService,
    schedule: ScheduleService,
    add_service: AddService,
    tz: BaseTzInfo,
) -> None:
    cut = await add_service()
    ids = [await book(booking, c, cut.id, at(tz, WED, h)) for c, h in ((1, "10:00"), (2, "18:00"))]
    other = await book(booking, 3, cut.id, at(tz, THU, "10:00"))
    await schedule.set_day(WED, None, ADMIN, "plumbing")

    found = await staff.outside_hours(HoursScope.day(WED))
    assert [d.booking.id for d in found.bookings] == ids
    result = await staff.cancel_outside_hours(HoursScope.day(WED), ADMIN, found.asked)

    assert result.outcome is HoursCancelOutcome.CANCELLED
    assert [d.booking.id for d in result.cancelled] == ids
    assert all(not d.booking.is_active for d in result.cancelled)
    assert [d.booking.id for d in await staff.active_on(THU)] == [other]
    for booking_id in ids:
        assert await outbox_kinds(db, booking_id) == [("notice_day_off", "plumbing")]
    reasons = await db.read(
        lambda c: c.execute(
            "SELECT details FROM audit_log WHERE action = 'booking.cancelled' ORDER BY id"
        ).fetchall()
    )
    assert [json.loads(r[0])["reason"] for r in reasons] == ["plumbing", "plumbing"]


async def test_cancel_checks_each_booking_again_and_a_repeat_cancels_nothing(
    db: Database,
    booking: ClientBookingService,
    staff: StaffService,
    schedule: ScheduleService,
    add_service: AddService,
    tz: BaseTzInfo,
    clock: FakeClock,
) -> None:
    cut = await add_service()
    ten = await book(booking, 1, cut.id, at(tz, WED, "10:00"))
    eleven = await book(booking, 2, cut.id, at(tz, WED, "11:00"))
    scope = staff.weekday_scope(WEDNESDAY, None)
    await schedule.set_weekday(None, WEDNESDAY, [(720, 1140)], ADMIN)  # 12:00-19:00
    asked = (await staff.outside_hours(scope)).asked
    await schedule.set_weekday(None, WEDNESDAY, [(660, 1140)], ADMIN)  # 11:00 fits again
    clock.advance(seconds=30)

    result = await staff.cancel_outside_hours(scope, ADMIN, asked)

    assert result.outcome is HoursCancelOutcome.CANCELLED
    assert [d.booking.id for d in result.cancelled] == [ten]
    assert (await staff.get(eleven)).booking.is_active  # type: ignore[union-attr]
    # The hours' news, not a day off's: nobody closed the day.
    assert await outbox_kinds(db, ten) == [("notice_cancelled", None)]
    assert await outbox_kinds(db, eleven) == []

    clock.advance(seconds=5)
    again = await staff.cancel_outside_hours(scope, ADMIN, asked)
    assert again.outcome is HoursCancelOutcome.ALREADY_CANCELLED and again.cancelled == []
    assert await outbox_kinds(db, ten) == [("notice_cancelled", None)]
    # Asked after that cancel: nothing of this question was cancelled, nothing is outside.
    fresh = await staff.cancel_outside_hours(scope, ADMIN, clock())
    assert fresh.outcome is HoursCancelOutcome.NONE_OUTSIDE


async def test_hours_changed_back_cancel_nothing(
    booking: ClientBookingService,
    staff: StaffService,
    schedule: ScheduleService,
    add_service: AddService,
    tz: BaseTzInfo,
) -> None:
    cut = await add_service()
    ten = await book(booking, 1, cut.id, at(tz, WED, "10:00"))
    await schedule.set_day(WED, [(720, 960)], ADMIN)
    found = await staff.outside_hours(HoursScope.day(WED))
    assert [d.booking.id for d in found.bookings] == [ten]
    await schedule.reopen_day(WED, ADMIN)

    result = await staff.cancel_outside_hours(HoursScope.day(WED), ADMIN, found.asked)

    assert result.outcome is HoursCancelOutcome.NONE_OUTSIDE
    assert (await staff.get(ten)).booking.is_active  # type: ignore[union-attr]


async def test_a_service_no_active_specialist_offers_is_not_bookable(
    db: Database,
    booking: ClientBookingService,
    catalog: CatalogService,
    add_service: AddService,
    clock: FakeClock,
    tz: BaseTzInfo,
) -> None:
    cut = await add_service()
    beard = await add_service("Beard", 30, 700)
    specialists = SpecialistService(db, clock)
    anna = await specialists.add("Anna", ADMIN)
    await specialists.set_services(anna.id, [beard.id], ADMIN)
    await specialists.set_services(1, [cut.id], ADMIN)
    assert [s.id for s in await catalog.list_services()] == [cut.id, beard.id]

    await specialists.set_active(anna.id, False, ADMIN)

    assert [s.id for s in await catalog.list_services()] == [cut.id]
    overview = {i.service.id: i.offered_by for i in await catalog.overview()}
    assert overview == {cut.id: 1, beard.id: 0}
    assert [s.id for s in await catalog.list_services(bookable_only=False)] == [cut.id, beard.id]
    refused = await booking.select(1, beard.id)
    assert refused == BookingResult(Outcome.SERVICE_INACTIVE)
    # Confirm on a stale card says the same, for any specialist or the one who went away.
    start = at(tz, THU, "12:00")
    for who in (None, anna.id):
        made = await booking.book(1, beard.id, start, specialist_id=who)
        assert made.outcome is Outcome.SERVICE_INACTIVE


async def test_the_cancel_waits_for_a_change_of_hours_in_flight(
    db: Database,
    another_db: OpenAnother,
    booking: ClientBookingService,
    staff: StaffService,
    schedule: ScheduleService,
    add_service: AddService,
    tz: BaseTzInfo,
) -> None:
    cut = await add_service()
    ten = await book(booking, 1, cut.id, at(tz, WED, "10:00"))
    scope = staff.weekday_scope(WEDNESDAY, None)
    await schedule.set_weekday(None, WEDNESDAY, [(720, 1140)], ADMIN)  # 12:00-19:00
    asked = (await staff.outside_hours(scope)).asked
    changing = threading.Event()

    def change_back(conn: Conn) -> None:
        """Another process puts the hours back, and has not committed yet when the cancel
        starts."""
        locks.for_hours(conn)
        hours_repo.replace_weekday_hours(conn, 1, WEDNESDAY, [(600, 840), (900, 1140)])
        changing.set()
        time.sleep(0.5)

    other = await another_db()
    change = asyncio.create_task(other.write(change_back))
    await asyncio.to_thread(changing.wait, 10)

    result = await staff.cancel_outside_hours(scope, ADMIN, asked)

    await change
    assert result.outcome is HoursCancelOutcome.NONE_OUTSIDE
    assert (await staff.get(ten)).booking.is_active  # type: ignore[union-attr]
