"""Staff booking for a client and moving any booking (StaffService.book_for / reschedule), and
clients without Telegram, on SQLite and PostgreSQL: what staff, clients and the outbox notice.

The clock: Tue 2026-12-01 08:00 Moscow; hours mon-fri 10-14, 15-19; sat 11-16; Sundays closed;
MIN_LEAD_MINUTES 60, at most 3 active bookings per client.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from datetime import date, timedelta

import pytest
from pytz.tzinfo import BaseTzInfo

from database.engine import Database
from database.migrations.base import with_kinds
from database.migrations.sqlite.m0010_staff_notices import NEW_KINDS
from domain.actors import Actor
from domain.bookings import BookingStatus
from domain.outcomes import BookingResult, Outcome, Selection
from domain.schedule import HoursScope
from services.booking import ClientBookingService
from services.clients import ClientService
from services.schedule import ScheduleService
from services.staff import StaffService
from tests.conftest import AddService, at
from tests.support.clock import FakeClock
from tests.support.faults import database_error, fail_inserts, stop_failing
from tests.support.outbox import Recorder

TUE, WED, SUN = date(2026, 12, 1), date(2026, 12, 2), date(2026, 12, 6)
ALICE = 111
OLGA = Actor.admin(42)


async def rows(db: Database, sql: str, *params: object) -> list[sqlite3.Row]:
    return await db.read(lambda c: list(c.execute(sql, params)))


async def outbox_of(db: Database, booking_id: int) -> dict[str, str]:
    found = await rows(
        db,
        "SELECT kind, status FROM reminders WHERE booking_id = ? AND offset_minutes = 0",
        booking_id,
    )
    return {r[0]: r[1] for r in found}


async def test_staff_skip_the_lead_time_but_not_the_past(
    staff: StaffService,
    booking: ClientBookingService,
    add_service: AddService,
    clock: FakeClock,
    tz: BaseTzInfo,
) -> None:
    service = await add_service()
    clock.set(at(tz, TUE, "09:45"))  # 10:00 is 15 minutes away: too soon for a client
    start = at(tz, TUE, "10:00")
    assert (await booking.book(ALICE, service.id, start)).outcome is Outcome.TOO_SOON

    # The staff's steps offer 10:00; the client's do not.
    assert start in await staff.flow.free_times(service.id, TUE)
    assert start not in await booking.free_times(service.id, TUE)

    made = await staff.book_for(ALICE, service.id, start, OLGA)

    assert made.outcome is Outcome.BOOKED and made.booking is not None
    assert made.booking.start == start and made.booking.client_id == ALICE
    clock.set(at(tz, TUE, "10:31"))  # a start that has begun is not bookable even by staff
    late = await staff.book_for(ALICE, service.id, at(tz, TUE, "10:30"), OLGA)
    assert late.outcome is Outcome.TOO_SOON


async def test_staff_skip_the_limit_but_never_an_overlap(
    staff: StaffService,
    booking: ClientBookingService,
    add_service: AddService,
    db: Database,
    tz: BaseTzInfo,
) -> None:
    service = await add_service()
    for hhmm in ("10:00", "11:00", "12:00"):
        assert (await booking.book(ALICE, service.id, at(tz, WED, hhmm))).ok
    assert (await booking.book(ALICE, service.id, at(tz, WED, "15:00"))).outcome is (
        Outcome.LIMIT_REACHED
    )
    # The client is told of the limit when picking a service; the staff are not.
    refused = await booking.select(ALICE, service.id)
    assert isinstance(refused, BookingResult) and refused.outcome is Outcome.LIMIT_REACHED
    assert isinstance(await staff.flow.select(ALICE, service.id, by=OLGA), Selection)

    fourth = await staff.book_for(ALICE, service.id, at(tz, WED, "15:00"), OLGA)
    assert fourth.outcome is Outcome.BOOKED

    taken = await staff.book_for(222, service.id, at(tz, WED, "10:30"), OLGA)  # 10:00-11:00
    assert taken.outcome is Outcome.SLOT_TAKEN
    # Not even with the hours set aside: only the hours are, never another booking.
    forced = await staff.book_for(222, service.id, at(tz, WED, "10:30"), OLGA, outside_hours=True)
    assert forced.outcome is Outcome.SLOT_TAKEN
    actives = await rows(db, "SELECT count(*) FROM bookings WHERE status = 'active'")
    assert actives[0][0] == 4


async def test_outside_the_hours_only_with_the_explicit_override(
    staff: StaffService, add_service: AddService, db: Database, tz: BaseTzInfo
) -> None:
    service = await add_service()
    early, sunday = at(tz, WED, "08:00"), at(tz, SUN, "12:00")

    assert (await staff.book_for(ALICE, service.id, early, OLGA)).outcome is Outcome.OUTSIDE_HOURS
    assert (await staff.book_for(ALICE, service.id, sunday, OLGA)).outcome is (
        Outcome.OUTSIDE_HOURS
    )
    assert await rows(db, "SELECT id FROM bookings") == []

    # The override lists only the times the hours do not offer, and books them.
    outside = await staff.flow.free_times(service.id, WED, outside_hours=True)
    assert early in outside and at(tz, WED, "10:00") not in outside
    assert at(tz, WED, "14:00") in outside  # the lunch break
    assert (await staff.book_for(ALICE, service.id, early, OLGA, outside_hours=True)).ok
    assert (await staff.book_for(ALICE, service.id, sunday, OLGA, outside_hours=True)).ok
    assert early not in await staff.flow.free_times(service.id, WED, outside_hours=True)


async def test_a_staff_booking_tells_the_client_and_the_admin_chat_and_names_the_admin(
    staff: StaffService, add_service: AddService, db: Database, tz: BaseTzInfo
) -> None:
    service = await add_service()
    made = await staff.book_for(ALICE, service.id, at(tz, WED, "10:00"), OLGA)
    assert made.booking is not None

    assert await outbox_of(db, made.booking.id) == {
        "notice_booked": "pending",  # the client's news, with the .ics
        "card_staff": "pending",  # the admin chat's card
    }
    reminders = await rows(
        db,
        "SELECT offset_minutes FROM reminders WHERE kind = 'reminder' AND booking_id = ?",
        made.booking.id,
    )
    assert sorted(r[0] for r in reminders) == [120, 1440]
    (audit,) = await rows(
        db, "SELECT actor_id, actor_role, details FROM audit_log WHERE action = 'booking.created'"
    )
    assert (audit[0], audit[1]) == (42, "admin")
    assert json.loads(audit[2])["service_id"] == service.id


async def test_a_staff_move_changes_old_and_new_together(
    staff: StaffService,
    booking: ClientBookingService,
    add_service: AddService,
    db: Database,
    clock: FakeClock,
    tz: BaseTzInfo,
) -> None:
    service = await add_service()
    mine = await booking.book(ALICE, service.id, at(tz, TUE, "15:00"))
    assert mine.booking is not None
    clock.set(at(tz, TUE, "14:30"))  # inside the client's cutoff and lead time

    await fail_inserts(db, "reminders", "disk says no")
    try:
        with pytest.raises(database_error(db)):
            await staff.reschedule(mine.booking.id, at(tz, TUE, "15:30"), OLGA)
    finally:
        await stop_failing(db, "reminders")
    # Nothing changed: the old booking is still active, there is no new one.
    assert [(r[0], r[1]) for r in await rows(db, "SELECT id, status FROM bookings")] == [
        (mine.booking.id, "active")
    ]

    moved = await staff.reschedule(mine.booking.id, at(tz, TUE, "15:30"), OLGA)

    assert moved.outcome is Outcome.RESCHEDULED and moved.booking is not None
    assert moved.previous is not None and moved.previous.status is BookingStatus.CANCELLED
    assert moved.booking.rescheduled_from == mine.booking.id
    assert moved.previous.cancelled_by_role is not None
    assert moved.previous.cancelled_by_role.value == "admin"
    assert await outbox_of(db, moved.booking.id) == {
        "notice_booked": "pending",
        "card_staff": "pending",
    }
    again = await staff.reschedule(mine.booking.id, at(tz, TUE, "15:30"), OLGA)
    assert again.outcome is Outcome.ALREADY_BOOKED  # a double click


async def test_clients_without_telegram_get_negative_ids_and_are_found_by_phone(
    db: Database, clock: FakeClock
) -> None:
    clients = ClientService(db, "ru", clock, remember=False)
    await clients.touch(ALICE, "alice", "Alice", "en")
    await clients.set_phone(ALICE, "+7 (999) 000-11-22")

    anna, added = await clients.add_offline("Anna Petrova", "+7 999 123-45-67", OLGA)
    assert added and anna.id == -1 and not anna.is_reachable
    assert (anna.name, anna.phone) == ("Anna Petrova", "+7 999 123-45-67")
    same, added_again = await clients.add_offline("A. Petrova", "79991234567", OLGA)
    assert not added_again and same.id == anna.id  # one phone, one client
    bob, _ = await clients.add_offline("Bob", "+44 20 7946 0958", OLGA)
    assert bob.id == -2
    alice, _ = await clients.add_offline("Alice again", "8 999 000 11 22", OLGA)
    assert alice.id == -3  # 8... and +7... are different digits
    known, _ = await clients.add_offline("Alice", "7 999 000 11 22", OLGA)
    assert known.id == ALICE  # the Telegram client with that phone

    found = await clients.find_by_phone("+7 (999) 123 45 67")
    assert found is not None and found.id == anna.id
    assert await clients.find_by_phone("+7 999 123-45-60") is None
    added_rows = await rows(
        db, "SELECT actor_id, entity_id FROM audit_log WHERE action = ?", "client.added"
    )
    assert [(r[0], r[1]) for r in added_rows] == [(42, -1), (42, -2), (42, -3)]


async def test_two_admins_adding_one_phone_at_once_make_one_client(
    db: Database, clock: FakeClock
) -> None:
    clients = ClientService(db, "ru", clock, remember=False)
    results = await asyncio.gather(
        *(clients.add_offline(f"Anna {n}", "+7 999 123-45-67", OLGA) for n in range(4)),
        *(clients.add_offline(f"Other {n}", f"+7 999 000-00-0{n}", OLGA) for n in range(4)),
    )
    ids = {client.id for client, _ in results[:4]}
    assert len(ids) == 1 and sum(added for _, added in results[:4]) == 1
    others = [client.id for client, _ in results[4:]]
    assert len(set(others)) == 4 and all(i < 0 for i in others)
    count = await rows(db, "SELECT count(*) FROM clients")
    assert count[0][0] == 5


async def test_a_client_without_telegram_is_never_written_to(
    staff: StaffService, add_service: AddService, db: Database, clock: FakeClock, tz: BaseTzInfo
) -> None:
    service = await add_service()
    clients = ClientService(db, "ru", clock, remember=False)
    anna, _ = await clients.add_offline("Anna", "+7 999 123-45-67", OLGA)
    made = await staff.book_for(anna.id, service.id, at(tz, WED, "10:00"), OLGA)
    assert made.booking is not None
    recorder = Recorder()
    outbox = recorder.service(db, clock)

    report = await outbox.dispatch_due()

    assert [n.kind.value for n in recorder.notices] == ["card_staff"]  # the admin chat only
    assert recorder.delivered == [] and recorder.unreachable_ids == []
    assert await outbox_of(db, made.booking.id) == {
        "card_staff": "sent",
        "notice_booked": "skipped",
    }
    for hours_before in (24, 2):  # each reminder's time comes, and passes unsent
        clock.set(at(tz, WED, "10:00") - timedelta(hours=hours_before))
        report = await outbox.dispatch_due()
        assert report.sent == [] and len(report.skipped) == 1
    assert recorder.delivered == []
    reasons = await rows(db, "SELECT DISTINCT reason FROM reminders WHERE status = 'skipped'")
    assert {r[0] for r in reasons} == {"client unreachable (no Telegram)"}


def test_the_outbox_keeps_the_kinds_it_had_and_gains_the_staff_ones() -> None:
    table = (
        'CREATE TABLE "reminders" (id INTEGER PRIMARY KEY,'
        " kind TEXT NOT NULL CHECK (kind IN ('reminder', 'card_other')), note TEXT)"
    )
    widened = with_kinds(table, NEW_KINDS)
    assert "CHECK (kind IN ('reminder', 'card_other', 'card_staff', 'notice_booked'))" in widened
    assert with_kinds(widened, NEW_KINDS) == widened  # applied twice, listed once


async def test_the_rebuilt_sqlite_outbox_keeps_its_indexes(sqlite_db: Database) -> None:
    indexes = await sqlite_db.read(
        lambda c: {row[1] for row in c.execute("PRAGMA index_list(reminders)")}
    )
    assert {"ix_reminders_pending_due", "ix_reminders_booking"} <= indexes


async def test_a_booking_placed_outside_the_hours_on_purpose_is_not_a_mistake_later(
    staff: StaffService, add_service: AddService, schedule: ScheduleService, tz: BaseTzInfo
) -> None:
    """A change of hours does not offer to cancel it as "left outside the hours"; a day off
    still does."""
    service = await add_service()
    evening = at(tz, WED, "20:00")  # Wednesday's hours end at 19:00
    placed = await staff.book_for(ALICE, service.id, evening, OLGA, outside_hours=True)
    assert placed.booking is not None and placed.booking.outside_hours
    ordinary = await staff.book_for(222, service.id, at(tz, WED, "16:00"), OLGA)
    assert ordinary.booking is not None and not ordinary.booking.outside_hours

    await schedule.set_day(WED, [(600, 900)], OLGA)  # 10:00-15:00 now
    found = await staff.outside_hours(HoursScope.day(WED))
    assert [d.booking.id for d in found.bookings] == [ordinary.booking.id]

    await schedule.set_day(WED, None, OLGA, "holiday")
    found = await staff.outside_hours(HoursScope.day(WED))
    assert sorted(d.booking.id for d in found.bookings) == sorted(
        [placed.booking.id, ordinary.booking.id]
    )
