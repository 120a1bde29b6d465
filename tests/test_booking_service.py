"""ClientBookingService on a real SQLite file: what a client or the business would notice."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from pytz.tzinfo import BaseTzInfo

from database.engine import Conn, Database
from domain.actors import Role
from domain.bookings import BookingStatus
from domain.outcomes import CatalogOutcome, Outcome
from domain.rules import Rules
from services.booking import ClientBookingService
from services.catalog import CatalogService
from services.schedule import ScheduleService
from services.staff import StaffService
from tests.conftest import ADMIN, AddService, at
from tests.support.clock import FakeClock
from tests.support.faults import database_error, fail_inserts, stop_failing
from utils.hours import parse_weekly
from utils.timeutil import get_tz

WED = date(2026, 12, 2)
ALICE, BOB = 111, 222


async def rows(db: Database, sql: str, *params: object) -> list[sqlite3.Row]:
    return await db.read(lambda c: list(c.execute(sql, params)))


async def add_specialist(db: Database, name: str, service_ids: list[int]) -> int:
    def work(conn: Conn) -> int:
        cur = conn.execute(
            "INSERT INTO specialists (name, created_at) VALUES (?, 0) RETURNING id", (name,)
        )
        sid = int(cur.fetchone()[0])
        conn.execute(
            "INSERT INTO working_hours (specialist_id, weekday, start_minute, end_minute)"
            " SELECT ?, weekday, start_minute, end_minute FROM working_hours"
            " WHERE specialist_id = 1",
            (sid,),
        )
        conn.executemany(
            "INSERT INTO specialist_services VALUES (?, ?)", [(sid, s) for s in service_ids]
        )
        return sid

    return await db.write(work)


async def test_booking_success_stores_booking_reminders_and_audit(
    booking: ClientBookingService, add_service: AddService, db: Database, tz: BaseTzInfo
) -> None:
    service = await add_service("Haircut", 60, 1500)
    start = at(tz, WED, "10:00")

    result = await booking.book(ALICE, service.id, start)

    assert result.outcome is Outcome.BOOKED
    assert result.booking is not None
    b = result.booking
    assert (b.client_id, b.service_id, b.specialist_id) == (ALICE, service.id, 1)
    assert b.start == start and b.end - b.start == timedelta(minutes=60)
    assert b.start.isoformat() == "2026-12-02T07:00:00+00:00"  # Moscow is UTC+3
    assert (b.price, b.duration_minutes, b.status) == (1500, 60, BookingStatus.ACTIVE)
    outbox = await rows(db, "SELECT * FROM reminders WHERE booking_id = ?", b.id)
    assert sorted((r["kind"], r["offset_minutes"], r["status"]) for r in outbox) == [
        ("card_booked", 0, "pending"),  # to the admin chat, at once
        ("confirmation", 0, "pending"),  # to Alice, only if the chat's answer did not go out
        ("reminder", 120, "pending"),
        ("reminder", 1440, "pending"),
    ]
    due = {(r["kind"], r["offset_minutes"]): r["due_at"] for r in outbox}
    assert due["reminder", 120] == int((start - timedelta(minutes=120)).timestamp())
    now = int(datetime(2026, 12, 1, 5, 0, tzinfo=UTC).timestamp())  # Tue 08:00 in Moscow
    assert due["card_booked", 0] == now and due["confirmation", 0] == now + 60
    audit = await rows(db, "SELECT * FROM audit_log WHERE entity = 'booking'")
    assert [(a["action"], a["actor_id"], a["entity_id"]) for a in audit] == [
        ("booking.created", ALICE, b.id)
    ]
    assert start not in await booking.free_times(service.id, WED)
    upcoming = await booking.upcoming(ALICE)
    assert [(d.booking.id, d.service_name) for d in upcoming] == [(b.id, "Haircut")]


async def test_offset_already_passed_at_booking_time_is_skipped(
    booking: ClientBookingService, add_service: AddService, db: Database, tz: BaseTzInfo
) -> None:
    service = await add_service()
    # Now is Tue 08:00; Tue 15:00 is 7 hours ahead: the 24h reminder can no longer be useful.
    result = await booking.book(ALICE, service.id, at(tz, date(2026, 12, 1), "15:00"))
    assert result.booking is not None
    reminders = await rows(
        db,
        "SELECT offset_minutes, status FROM reminders WHERE booking_id = ? AND kind = 'reminder'",
        result.booking.id,
    )
    assert sorted(tuple(r) for r in reminders) == [(120, "pending"), (1440, "skipped")]


async def test_overlap_with_different_durations(
    booking: ClientBookingService, add_service: AddService, tz: BaseTzInfo
) -> None:
    long = await add_service("Colouring", 60, 3000)
    short = await add_service("Fringe", 30, 500)
    assert (await booking.book(ALICE, long.id, at(tz, WED, "10:00"))).ok

    taken = await booking.book(BOB, short.id, at(tz, WED, "10:30"))
    assert taken.outcome is Outcome.SLOT_TAKEN
    # The 60-minute booking also blocks a 60-minute one starting inside it...
    assert (await booking.book(BOB, long.id, at(tz, WED, "10:30"))).outcome is Outcome.SLOT_TAKEN
    # ...and a booking ending inside it.
    early = await booking.book(BOB, long.id, at(tz, WED, "11:00") - timedelta(hours=1, minutes=30))
    assert early.outcome is Outcome.OUTSIDE_HOURS  # 09:30 is before opening
    assert (await booking.book(BOB, short.id, at(tz, WED, "11:00"))).outcome is Outcome.BOOKED
    free = await booking.free_times(short.id, WED)
    assert at(tz, WED, "10:30") not in free
    assert at(tz, WED, "11:00") not in free
    assert at(tz, WED, "11:30") in free


async def test_buffer_after_a_service_blocks_the_next_start(
    booking: ClientBookingService, add_service: AddService, tz: BaseTzInfo
) -> None:
    with_buffer = await add_service("Massage", 60, 4000, buffer=30)
    short = await add_service("Consultation", 30, 0)
    assert (await booking.book(ALICE, with_buffer.id, at(tz, WED, "10:00"))).ok
    # 10:00-11:00 plus 30 minutes of cleaning: 11:00 is taken, 11:30 is free.
    assert (await booking.book(BOB, short.id, at(tz, WED, "11:00"))).outcome is Outcome.SLOT_TAKEN
    assert (await booking.book(BOB, short.id, at(tz, WED, "11:30"))).outcome is Outcome.BOOKED
    # The service must end by the 14:00 break, but its buffer may run into the break.
    assert (await booking.book(333, with_buffer.id, at(tz, WED, "13:00"))).ok
    assert at(tz, WED, "13:30") not in await booking.free_times(with_buffer.id, WED)


async def test_limit_counts_only_future_active_bookings(
    booking: ClientBookingService, add_service: AddService, tz: BaseTzInfo, clock: FakeClock
) -> None:
    service = await add_service()
    first = await booking.book(ALICE, service.id, at(tz, date(2026, 12, 1), "15:00"))
    assert first.ok
    for hhmm in ("10:00", "11:00"):
        assert (await booking.book(ALICE, service.id, at(tz, WED, hhmm))).ok

    refused = await booking.book(ALICE, service.id, at(tz, WED, "12:00"))
    assert refused.outcome is Outcome.LIMIT_REACHED
    # Another client is not affected by Alice's limit.
    assert (await booking.book(BOB, service.id, at(tz, WED, "12:00"))).ok

    # Once the first appointment is in the past, it no longer counts.
    clock.set(at(tz, date(2026, 12, 1), "16:30"))
    assert (await booking.book(ALICE, service.id, at(tz, WED, "13:00"))).ok
    # A cancelled booking frees a place too.
    assert (await booking.book(ALICE, service.id, at(tz, WED, "15:00"))).outcome is (
        Outcome.LIMIT_REACHED
    )
    upcoming = await booking.upcoming(ALICE)
    assert (await booking.cancel(upcoming[0].booking.id, ALICE)).ok
    assert (await booking.book(ALICE, service.id, at(tz, WED, "15:00"))).ok


async def test_rollback_when_a_step_after_the_insert_fails(
    booking: ClientBookingService, add_service: AddService, db: Database, tz: BaseTzInfo
) -> None:
    service = await add_service()
    # A real failure inside the transaction, after the booking row went in.
    await fail_inserts(db, "reminders", "disk says no")
    with pytest.raises(database_error(db), match="disk says no"):
        await booking.book(ALICE, service.id, at(tz, WED, "10:00"))

    for table in ("bookings", "reminders", "audit_log WHERE entity = 'booking'", "clients"):
        assert (await rows(db, f"SELECT count(*) FROM {table}"))[0][0] == 0, table
    assert at(tz, WED, "10:00") in await booking.free_times(service.id, WED)

    await stop_failing(db, "reminders")
    assert (await booking.book(ALICE, service.id, at(tz, WED, "10:00"))).ok


async def test_service_activation_and_deactivation(
    booking: ClientBookingService, catalog: CatalogService, add_service: AddService, tz: BaseTzInfo
) -> None:
    service = await add_service()
    assert await catalog.set_active(service.id, False, ADMIN) is CatalogOutcome.DONE
    assert [s.id for s in await catalog.list_services()] == []
    assert await booking.free_times(service.id, WED) == {}
    assert await booking.calendar(service.id, 2026, 12) == set()
    result = await booking.book(ALICE, service.id, at(tz, WED, "10:00"))
    assert result.outcome is Outcome.SERVICE_INACTIVE

    assert await catalog.set_active(service.id, True, ADMIN) is CatalogOutcome.DONE
    assert [s.id for s in await catalog.list_services()] == [service.id]
    assert (await booking.book(ALICE, service.id, at(tz, WED, "10:00"))).ok
    assert await catalog.set_active(999, True, ADMIN) is CatalogOutcome.NOT_FOUND


async def test_unknown_service(
    booking: ClientBookingService, add_service: AddService, tz: BaseTzInfo
):
    await add_service()
    result = await booking.book(ALICE, 999, at(tz, WED, "10:00"))
    assert result.outcome is Outcome.UNKNOWN_SERVICE
    assert await booking.free_times(999, WED) == {}


async def test_deleting_a_referenced_service_is_refused(
    booking: ClientBookingService,
    catalog: CatalogService,
    add_service: AddService,
    db: Database,
    tz: BaseTzInfo,
) -> None:
    used = await add_service("Used")
    unused = await add_service("Unused")
    result = await booking.book(ALICE, used.id, at(tz, WED, "10:00"))
    assert result.booking is not None
    assert (await booking.cancel(result.booking.id, ALICE)).ok

    # Even a cancelled booking keeps its service: history must stay readable.
    assert await catalog.delete(used.id, ADMIN) is CatalogOutcome.IN_USE
    # The database itself refuses too (ON DELETE RESTRICT), whatever code path asks.
    with pytest.raises(database_error(db), match=r"(?i)foreign key"):
        await db.write(lambda c: c.execute("DELETE FROM services WHERE id = ?", (used.id,)))
    assert await catalog.get(used.id) is not None

    assert await catalog.delete(unused.id, ADMIN) is CatalogOutcome.DONE
    assert await catalog.get(unused.id) is None
    assert await catalog.delete(unused.id, ADMIN) is CatalogOutcome.NOT_FOUND


async def test_too_soon_too_far_and_outside_hours(
    booking: ClientBookingService,
    add_service: AddService,
    tz: BaseTzInfo,
    clock: FakeClock,
    schedule: ScheduleService,
) -> None:
    service = await add_service()
    today = date(2026, 12, 1)
    # Now 08:00; minimum notice is 60 minutes.
    assert (await booking.book(ALICE, service.id, at(tz, today, "08:30"))).outcome is (
        Outcome.TOO_SOON
    )
    clock.set(at(tz, today, "09:30"))
    assert (await booking.book(ALICE, service.id, at(tz, today, "10:00"))).outcome is (
        Outcome.TOO_SOON
    )
    assert (await booking.book(ALICE, service.id, at(tz, today, "07:00"))).outcome is (
        Outcome.TOO_SOON
    )
    # The horizon is 30 days: 2026-12-31 is bookable, 2027-01-01 is not.
    assert (await booking.book(ALICE, service.id, at(tz, date(2026, 12, 31), "10:00"))).ok
    far = await booking.book(ALICE, service.id, at(tz, date(2027, 1, 4), "10:00"))
    assert far.outcome is Outcome.TOO_FAR
    # Outside hours: the lunch break, Sunday, off the 30-minute grid, a closed date.
    for moment in (
        at(tz, WED, "14:00"),
        at(tz, date(2026, 12, 6), "12:00"),
        at(tz, WED, "10:10"),
        at(tz, WED, "18:30"),  # 60 minutes from 18:30 runs past closing
    ):
        result = await booking.book(BOB, service.id, moment)
        assert result.outcome is Outcome.OUTSIDE_HOURS, moment
    await schedule.set_day(date(2026, 12, 3), None, ADMIN, reason="holiday")
    closed = await booking.book(BOB, service.id, at(tz, date(2026, 12, 3), "10:00"))
    assert closed.outcome is Outcome.OUTSIDE_HOURS
    assert date(2026, 12, 3) not in await booking.calendar(service.id, 2026, 12)


async def test_cancel_cutoff_for_clients_but_not_admins(
    booking: ClientBookingService,
    add_service: AddService,
    db: Database,
    tz: BaseTzInfo,
    clock: FakeClock,
    staff: StaffService,
) -> None:
    service = await add_service()
    made = await booking.book(ALICE, service.id, at(tz, WED, "10:00"))
    assert made.booking is not None
    booking_id = made.booking.id

    # Bob cannot cancel Alice's booking, and cannot tell it exists.
    assert (await booking.cancel(booking_id, BOB)).outcome is Outcome.NOT_FOUND
    assert (await booking.cancel(424242, ALICE)).outcome is Outcome.NOT_FOUND

    clock.set(at(tz, WED, "08:01"))  # 119 minutes before the start; cutoff is 120
    late = await booking.cancel(booking_id, ALICE)
    assert late.outcome is Outcome.TOO_LATE
    assert (await booking.get(booking_id)).booking.is_active  # type: ignore[union-attr]

    by_admin = await staff.cancel(booking_id, ADMIN, reason="master is ill")
    assert by_admin.outcome is Outcome.CANCELLED and by_admin.booking is not None
    cancelled = by_admin.booking
    assert cancelled.status is BookingStatus.CANCELLED
    assert (cancelled.cancelled_by, cancelled.cancelled_by_role) == (ADMIN.id, Role.ADMIN)
    assert cancelled.cancel_reason == "master is ill"
    reminders = await rows(
        db, "SELECT status FROM reminders WHERE booking_id = ? AND kind = 'reminder'", booking_id
    )
    assert {r["status"] for r in reminders} == {"skipped"}
    # Alice is told, with the reason, by the outbox (the same transaction wrote it).
    told = await rows(
        db,
        "SELECT status, note FROM reminders WHERE booking_id = ? AND kind = ?",
        booking_id,
        "notice_cancelled",
    )
    assert [tuple(r) for r in told] == [("pending", "master is ill")]
    again = await staff.cancel(booking_id, ADMIN)
    assert again.outcome is Outcome.NOT_ACTIVE
    # Nothing is deleted: the cancelled booking is still there, and the slot is free again.
    assert (await booking.get(booking_id)) is not None
    assert at(tz, WED, "10:00") in await booking.free_times(service.id, WED)


async def test_client_cancel_just_before_cutoff(
    booking: ClientBookingService, add_service: AddService, tz: BaseTzInfo, clock: FakeClock
) -> None:
    service = await add_service()
    made = await booking.book(ALICE, service.id, at(tz, WED, "10:00"))
    assert made.booking is not None
    clock.set(at(tz, WED, "08:00"))  # exactly 120 minutes before
    assert (await booking.cancel(made.booking.id, ALICE)).ok


async def test_reschedule_moves_booking_and_reminders_together(
    booking: ClientBookingService, add_service: AddService, db: Database, tz: BaseTzInfo
) -> None:
    service = await add_service()
    made = await booking.book(ALICE, service.id, at(tz, WED, "10:00"))
    assert made.booking is not None
    old_id = made.booking.id

    # Moving by half an hour overlaps the old booking itself; that must not count as taken.
    moved = await booking.reschedule(old_id, at(tz, WED, "10:30"), ALICE)
    assert moved.outcome is Outcome.RESCHEDULED
    assert moved.booking is not None and moved.previous is not None
    new = moved.booking
    assert new.start == at(tz, WED, "10:30") and new.rescheduled_from == old_id
    assert moved.previous.status is BookingStatus.CANCELLED
    assert moved.previous.cancel_reason == "rescheduled"
    query = "SELECT kind, status, previous_booking_id FROM reminders WHERE booking_id = ?"
    old_rem = await rows(db, query + " AND kind = 'reminder'", old_id)
    new_rem = await rows(db, query + " ORDER BY kind", new.id)
    assert {r["status"] for r in old_rem} == {"skipped"}
    assert [tuple(r) for r in new_rem] == [
        ("card_rescheduled", "pending", old_id),  # the admin card says what it was
        ("confirmation", "pending", old_id),
        ("reminder", "pending", None),
        ("reminder", "pending", None),
    ]
    assert [d.booking.id for d in await booking.upcoming(ALICE)] == [new.id]
    # The old time is free again.
    assert at(tz, WED, "10:00") not in await booking.free_times(service.id, WED)  # overlaps 10:30
    assert at(tz, WED, "11:30") in await booking.free_times(service.id, WED)


async def test_reschedule_to_a_taken_time_changes_nothing(
    booking: ClientBookingService, add_service: AddService, db: Database, tz: BaseTzInfo
) -> None:
    service = await add_service()
    mine = await booking.book(ALICE, service.id, at(tz, WED, "10:00"))
    assert (await booking.book(BOB, service.id, at(tz, WED, "12:00"))).ok
    assert mine.booking is not None

    refused = await booking.reschedule(mine.booking.id, at(tz, WED, "12:00"), ALICE)
    assert refused.outcome is Outcome.SLOT_TAKEN
    same = await booking.reschedule(mine.booking.id, at(tz, WED, "10:00"), ALICE)
    assert same.outcome is Outcome.SAME_TIME
    kept = await booking.get(mine.booking.id)
    assert kept is not None and kept.booking.is_active
    statuses = await rows(db, "SELECT status FROM reminders WHERE booking_id = ?", mine.booking.id)
    assert {r["status"] for r in statuses} == {"pending"}
    assert len(statuses) == 4  # two reminders, the card and the confirmation: nothing new
    assert (await rows(db, "SELECT count(*) FROM bookings"))[0][0] == 2


async def test_reschedule_is_atomic_when_the_insert_fails(
    booking: ClientBookingService, add_service: AddService, db: Database, tz: BaseTzInfo
) -> None:
    service = await add_service()
    mine = await booking.book(ALICE, service.id, at(tz, WED, "10:00"))
    assert mine.booking is not None
    await fail_inserts(db, "bookings", "crash mid-reschedule")
    with pytest.raises(database_error(db)):
        await booking.reschedule(mine.booking.id, at(tz, WED, "15:00"), ALICE)
    kept = await booking.get(mine.booking.id)
    assert kept is not None and kept.booking.is_active  # the cancel of the old one rolled back
    pending = await rows(db, "SELECT kind FROM reminders WHERE status = 'pending' ORDER BY kind")
    assert [r[0] for r in pending] == ["card_booked", "confirmation", "reminder", "reminder"]


async def test_reschedule_respects_cutoff_and_ownership(
    booking: ClientBookingService,
    add_service: AddService,
    tz: BaseTzInfo,
    clock: FakeClock,
    staff: StaffService,
) -> None:
    service = await add_service()
    mine = await booking.book(ALICE, service.id, at(tz, WED, "10:00"))
    assert mine.booking is not None
    stolen = await booking.reschedule(mine.booking.id, at(tz, WED, "15:00"), BOB)
    assert stolen.outcome is Outcome.NOT_FOUND
    clock.set(at(tz, WED, "09:00"))
    late = await booking.reschedule(mine.booking.id, at(tz, WED, "15:00"), ALICE)
    assert late.outcome is Outcome.TOO_LATE
    assert (await staff.reschedule(mine.booking.id, at(tz, WED, "15:00"), ADMIN)).ok


async def test_any_specialist_picks_a_free_one(
    booking: ClientBookingService, add_service: AddService, db: Database, tz: BaseTzInfo
) -> None:
    service = await add_service()
    second = await add_specialist(db, "Olga", [service.id])
    start = at(tz, WED, "10:00")
    assert (await booking.free_times(service.id, WED))[start] == [1, second]

    first = await booking.book(ALICE, service.id, start)
    other = await booking.book(BOB, service.id, start)
    third = await booking.book(333, service.id, start)
    assert first.booking is not None and other.booking is not None
    assert {first.booking.specialist_id, other.booking.specialist_id} == {1, second}
    assert third.outcome is Outcome.SLOT_TAKEN
    assert start not in await booking.free_times(service.id, WED)

    # Asking for a specialist who does not offer the service is refused.
    lonely = await add_service("Beard", 30, 700)
    await db.write(
        lambda c: c.execute(
            "DELETE FROM specialist_services WHERE specialist_id = ? AND service_id = ?",
            (second, lonely.id),
        )
    )
    wrong = await booking.book(444, lonely.id, at(tz, WED, "15:00"), specialist_id=second)
    assert wrong.outcome is Outcome.UNKNOWN_SPECIALIST


async def test_mark_completed_and_no_show(
    booking: ClientBookingService,
    add_service: AddService,
    tz: BaseTzInfo,
    clock: FakeClock,
    staff: StaffService,
) -> None:
    service = await add_service()
    made = await booking.book(ALICE, service.id, at(tz, WED, "10:00"))
    assert made.booking is not None
    early = await staff.mark(made.booking.id, BookingStatus.NO_SHOW, ADMIN)
    assert early.outcome is Outcome.NOT_STARTED
    clock.set(at(tz, WED, "11:05"))
    done = await staff.mark(made.booking.id, BookingStatus.COMPLETED, ADMIN)
    assert done.booking is not None and done.booking.status is BookingStatus.COMPLETED
    # Completed automatically or by mistake: an admin can still record a no-show.
    no_show = await staff.mark(made.booking.id, BookingStatus.NO_SHOW, ADMIN)
    assert no_show.booking is not None and no_show.booking.status is BookingStatus.NO_SHOW
    again = await staff.mark(made.booking.id, BookingStatus.COMPLETED, ADMIN)
    assert again.outcome is Outcome.NOT_ACTIVE


async def test_agenda_lists_the_local_day_in_order(
    booking: ClientBookingService, add_service: AddService, tz: BaseTzInfo, staff: StaffService
) -> None:
    service = await add_service()
    for client, hhmm in ((BOB, "15:00"), (ALICE, "10:00")):
        assert (await booking.book(client, service.id, at(tz, WED, hhmm))).ok
    assert (await booking.book(333, service.id, at(tz, date(2026, 12, 3), "10:00"))).ok
    agenda = await staff.agenda(WED)
    assert [(d.booking.client_id, d.service_name) for d in agenda] == [
        (ALICE, "Haircut"),
        (BOB, "Haircut"),
    ]


async def test_booking_across_the_dst_change_in_berlin(db: Database, rules: Rules) -> None:
    """Booked on Friday in winter time for Monday in summer time: right instants everywhere."""
    berlin = get_tz("Europe/Berlin")
    clock = FakeClock(datetime(2026, 3, 27, 11, 0, tzinfo=UTC))  # Fri 12:00 CET
    await ScheduleService(db, clock).seed_weekly_hours(parse_weekly("mon-sun 10:00-18:00"))
    service = await CatalogService(db, clock).add(ADMIN, name="Cut", duration_minutes=60, price=10)
    booking = ClientBookingService(db, replace(rules, tz=berlin), clock)

    sunday = await booking.free_times(service.id, date(2026, 3, 29))
    assert next(iter(sunday)) == datetime(2026, 3, 29, 8, 0, tzinfo=UTC)  # 10:00 CEST
    saturday = await booking.free_times(service.id, date(2026, 3, 28))
    assert next(iter(saturday)) == datetime(2026, 3, 28, 9, 0, tzinfo=UTC)  # 10:00 CET

    monday_10 = at(berlin, date(2026, 3, 30), "10:00")
    result = await booking.book(ALICE, service.id, monday_10)
    assert result.booking is not None
    assert result.booking.start == datetime(2026, 3, 30, 8, 0, tzinfo=UTC)
    shown = (await booking.upcoming(ALICE))[0].booking.start.astimezone(berlin)
    assert shown.strftime("%a %H:%M %Z") == "Mon 10:00 CEST"
    reminders = await rows(
        db, "SELECT offset_minutes, due_at FROM reminders WHERE booking_id = ?", result.booking.id
    )
    due = {r["offset_minutes"]: datetime.fromtimestamp(r["due_at"], UTC) for r in reminders}
    # 24 real hours before: Sunday 10:00 CEST; 2 hours before: Monday 08:00 CEST.
    assert due[1440] == datetime(2026, 3, 29, 8, 0, tzinfo=UTC)
    assert due[120] == datetime(2026, 3, 30, 6, 0, tzinfo=UTC)


async def test_a_repeated_confirm_is_already_booked_not_taken(
    booking: ClientBookingService, add_service: AddService, db: Database, tz: BaseTzInfo
) -> None:
    service = await add_service()
    start = at(tz, WED, "10:00")
    first = await booking.book(ALICE, service.id, start)
    second = await booking.book(ALICE, service.id, start)
    assert first.outcome is Outcome.BOOKED
    assert second.outcome is Outcome.ALREADY_BOOKED
    assert second.booking is not None and first.booking is not None
    assert second.booking.id == first.booking.id
    assert (await rows(db, "SELECT count(*) FROM bookings"))[0][0] == 1
    # Someone else still gets "taken".
    assert (await booking.book(BOB, service.id, start)).outcome is Outcome.SLOT_TAKEN


async def test_a_late_start_cannot_run_into_the_next_days_first_booking(
    db: Database, tz: BaseTzInfo, rules: Rules, clock: FakeClock
) -> None:
    await ScheduleService(db, clock).seed_weekly_hours(parse_weekly("mon-sun 00:00-24:00"))
    service = await CatalogService(db, clock).add(
        ADMIN, name="Night", duration_minutes=30, price=0, buffer_minutes=15
    )
    booking = ClientBookingService(db, rules, clock)
    assert (await booking.book(ALICE, service.id, at(tz, date(2026, 12, 3), "00:00"))).ok
    # 23:30 + 30 minutes + a 15-minute buffer reaches 00:15 on Thursday.
    late = await booking.book(BOB, service.id, at(tz, WED, "23:30"))
    assert late.outcome is Outcome.SLOT_TAKEN
    assert at(tz, WED, "23:30") not in await booking.free_times(service.id, WED)
    assert at(tz, WED, "23:00") in await booking.free_times(service.id, WED)


async def test_a_service_nobody_offers_any_more_cannot_be_booked(
    booking: ClientBookingService, add_service: AddService, db: Database, tz: BaseTzInfo
) -> None:
    service = await add_service()
    await db.write(lambda c: c.execute("UPDATE specialists SET is_active = 0"))
    refused = await booking.book(ALICE, service.id, at(tz, WED, "10:00"))
    assert refused.outcome is Outcome.SERVICE_INACTIVE
    named = await booking.book(ALICE, service.id, at(tz, WED, "10:00"), specialist_id=1)
    assert named.outcome is Outcome.SERVICE_INACTIVE
