"""Admin services on a real SQLite file: stats, the CSV export, specialists, day cancels, audit."""

from __future__ import annotations

import csv
import io
import json
from datetime import date

from pytz.tzinfo import BaseTzInfo

from database.engine import Database
from domain.bookings import BookingStatus
from domain.outcomes import SpecialistOutcome
from domain.schedule import HoursScope
from services.booking import ClientBookingService
from services.export import ExportService
from services.schedule import ScheduleService
from services.specialists import SpecialistService
from services.staff import StaffService
from services.stats import StatsService, client_summary
from tests.conftest import ADMIN, AddService, at
from tests.support.clock import FakeClock

WED, THU = date(2026, 12, 2), date(2026, 12, 3)


async def audit_rows(db: Database) -> list[tuple[int | None, str, str, str]]:
    rows = await db.read(
        lambda c: c.execute(
            "SELECT actor_id, actor_role, action, details FROM audit_log ORDER BY id"
        ).fetchall()
    )
    return [(r[0], r[1], r[2], r[3]) for r in rows]


async def test_stats_count_what_happened(
    db: Database,
    booking: ClientBookingService,
    add_service: AddService,
    tz: BaseTzInfo,
    clock: FakeClock,
    staff: StaffService,
) -> None:
    cut = await add_service("Стрижка", 60, 1500)
    nails = await add_service("Nails", 30, 800)
    made = []
    for client, (day, hhmm, service) in enumerate(
        [(WED, "10:00", cut), (WED, "11:00", cut), (WED, "15:00", nails), (THU, "10:00", cut)],
        start=1,
    ):
        result = await booking.book(client, service.id, at(tz, day, hhmm))
        assert result.booking is not None
        made.append(result.booking.id)
    await booking.cancel(made[0], 1)
    await staff.cancel(made[1], ADMIN, "ill")
    moved = await booking.reschedule(made[3], at(tz, THU, "12:00"), 4)
    assert moved.booking is not None
    clock.set(at(tz, WED, "16:00"))
    await staff.mark(made[2], BookingStatus.NO_SHOW, ADMIN)

    stats = await StatsService(db, tz).stats(WED, THU)

    assert stats.bookings == 4  # the old half of the reschedule is not counted
    assert (stats.cancelled_by_client, stats.cancelled_by_admin) == (1, 1)
    assert (stats.no_shows, stats.active, stats.completed) == (1, 1, 0)
    assert stats.revenue == 1500  # the active one; no-shows and cancellations earn nothing
    assert stats.services == [("Nails", 1), ("Стрижка", 1)]
    assert stats.weekdays == [(2, 1), (3, 1)]
    assert stats.hours == [(12, 1), (15, 1)]
    only_wed = await StatsService(db, tz).stats(WED, WED)
    assert only_wed.bookings == 3
    summary = client_summary(await staff.history(4))
    assert (summary.bookings, summary.upcoming, summary.cancelled_by_client) == (1, 1, 0)


async def test_export_is_utf8_with_bom_and_keeps_cyrillic(
    db: Database, booking: ClientBookingService, add_service: AddService, tz: BaseTzInfo
) -> None:
    cut = await add_service("Стрижка «Каре»", 60, 1500)
    await db.write(
        lambda c: c.execute(
            "INSERT INTO clients (id, username, first_name, name, phone, created_at, updated_at)"
            " VALUES (7, 'olya', 'Оля', '=HYPERLINK(\"x\")', '=1+1', 0, 0)"
        )
    )
    result = await booking.book(7, cut.id, at(tz, WED, "10:00"))
    assert result.booking is not None

    data, count = await ExportService(StatsService(db, tz), tz, delimiter=";").csv(WED, WED)

    assert count == 1
    assert data.startswith(b"\xef\xbb\xbf")
    # Excel in Russian locales reads ";" as the column separator.
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:4] == ["id", "date", "time", "duration_minutes"]
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["service"] == "Стрижка «Каре»"
    assert row["date"] == "2026-12-02" and row["time"] == "10:00"  # local time
    assert row["client"] == '\'=HYPERLINK("x")'  # never a formula
    assert row["phone"] == "'=1+1"  # a phone field is typed by people too
    assert row["status"] == "active" and row["price"] == "1500"
    empty, none = await ExportService(StatsService(db, tz), tz, delimiter=",").csv(THU, THU)
    assert none == 0 and empty.decode("utf-8-sig").count("\n") == 1


async def test_specialists_are_audited_with_the_admin_id(
    db: Database, booking: ClientBookingService, add_service: AddService, clock: FakeClock
) -> None:
    cut = await add_service()
    specialists = SpecialistService(db, clock)
    anna = await specialists.add("Анна", ADMIN)
    assert (
        await specialists.set_services(anna.id, [cut.id], ADMIN)
    ).outcome is SpecialistOutcome.DONE
    refused = await specialists.set_services(anna.id, [cut.id, 99], ADMIN)
    assert refused.outcome is SpecialistOutcome.UNKNOWN_SERVICE and refused.unknown == (99,)
    assert (await specialists.set_active(anna.id, False, ADMIN)).outcome is SpecialistOutcome.DONE
    assert (await specialists.set_active(77, False, ADMIN)).outcome is SpecialistOutcome.NOT_FOUND
    listed = {i.specialist.name: i for i in await specialists.list()}
    assert listed["Анна"].service_ids == [cut.id] and not listed["Анна"].specialist.is_active
    audited = [(a[0], a[1], a[2]) for a in await audit_rows(db) if a[2].startswith("specialist")]
    assert audited == [
        (ADMIN.id, "admin", "specialist.created"),
        (ADMIN.id, "admin", "specialist.services"),
        (ADMIN.id, "admin", "specialist.off"),
    ]


async def test_cancel_day_cancels_only_that_days_active_bookings_in_one_go(
    db: Database,
    booking: ClientBookingService,
    add_service: AddService,
    tz: BaseTzInfo,
    staff: StaffService,
    schedule: ScheduleService,
    clock: FakeClock,
) -> None:
    cut = await add_service()
    ids = []
    for client, (day, hhmm) in enumerate([(WED, "10:00"), (WED, "18:00"), (THU, "10:00")], 1):
        result = await booking.book(client, cut.id, at(tz, day, hhmm))
        assert result.booking is not None
        ids.append(result.booking.id)
    await schedule.set_day(WED, None, ADMIN, "closed")

    cancelled = (await staff.cancel_outside_hours(HoursScope.day(WED), ADMIN, clock())).cancelled

    assert [d.booking.id for d in cancelled] == ids[:2]
    assert all(d.booking.status is BookingStatus.CANCELLED for d in cancelled)
    assert [d.booking.id for d in await staff.active_on(THU)] == [ids[2]]
    cancels = [a for a in await audit_rows(db) if a[2] == "booking.cancelled"]
    assert [(a[0], json.loads(a[3])["reason"]) for a in cancels] == [(ADMIN.id, "closed")] * 2
    again = await staff.cancel_outside_hours(HoursScope.day(WED), ADMIN, clock())
    assert again.cancelled == []
