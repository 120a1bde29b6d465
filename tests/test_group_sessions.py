"""Group sessions on both engines: a service with a capacity takes several clients at one start,
seat by seat, and never more; what a client, the staff or an invariant would notice."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from pytz.tzinfo import BaseTzInfo

from database.db_retry import DatabaseBusyError, RetryPolicy
from database.engine import Conn, Database
from database.migrate import discover, migrate, migrate_postgres
from database.migrations.base import MigrationContext
from database.migrations.postgresql.m0010_group_sessions import VERSION as POSTGRES_GROUPS
from database.migrations.sqlite.m0013_group_sessions import VERSION as SQLITE_GROUPS
from database.sqlite import SqliteDatabase
from domain.catalog import Service
from domain.outcomes import Outcome
from domain.rules import Rules
from services.booking import ClientBookingService
from services.catalog import CatalogService
from services.staff import StaffService
from tests.conftest import ADMIN, AddService, OpenAnother, at, postgresql_only, sqlite_only
from tests.support.clock import FakeClock
from tests.support.pg import PgServer
from tests.test_booking_service import add_specialist

# What each engine raises when a unique index refuses a row.
UNIQUE_VIOLATION = (sqlite3.IntegrityError, psycopg.errors.UniqueViolation)
WED = date(2026, 12, 2)
THU = date(2026, 12, 3)


async def group(
    add_service: AddService, catalog: CatalogService, capacity: int, name: str = "Yoga"
) -> Service:
    service = await add_service(name, 60, 800)
    assert (await catalog.update(service.id, ADMIN, capacity=capacity)).value == "done"
    found = await catalog.get(service.id)
    assert found is not None and found.capacity == capacity
    return found


async def seats(db: Database, service_id: int, start_ts: int) -> list[tuple[int, int]]:
    """(client, seat) of the session's active bookings, by seat."""
    found = await db.read(
        lambda c: c.execute(
            "SELECT client_id, seat FROM bookings WHERE service_id = ? AND start_at = ?"
            " AND status = 'active' ORDER BY seat",
            (service_id, start_ts),
        ).fetchall()
    )
    return [(int(r[0]), int(r[1])) for r in found]


async def test_a_session_takes_clients_until_full_and_shows_the_seats_left(
    booking: ClientBookingService,
    add_service: AddService,
    catalog: CatalogService,
    db: Database,
    tz: BaseTzInfo,
) -> None:
    yoga = await group(add_service, catalog, 3)
    start = at(tz, WED, "10:00")
    shown = []
    for client in (101, 102, 103):
        shown.append((await booking.free_slots(yoga.id, WED))[start].seats_left)
        made = await booking.book(client, yoga.id, start)
        assert made.outcome is Outcome.BOOKED, made
    assert shown == [3, 2, 1]
    assert await seats(db, yoga.id, int(start.timestamp())) == [(101, 0), (102, 1), (103, 2)]

    # Full: not offered, not bookable, and the day's other times are untouched.
    free = await booking.free_slots(yoga.id, WED)
    assert start not in free
    assert free[at(tz, WED, "11:00")].seats_left == 3
    late = await booking.book(104, yoga.id, start)
    assert late.outcome is Outcome.SLOT_TAKEN
    assert len(await seats(db, yoga.id, int(start.timestamp()))) == 3

    # Each seat is a booking of its own, with its own reminders.
    reminders = await db.read(
        lambda c: c.execute(
            "SELECT count(DISTINCT booking_id) FROM reminders WHERE kind = 'reminder'"
        ).fetchone()[0]
    )
    assert reminders == 3


async def test_a_cancel_frees_exactly_one_seat(
    booking: ClientBookingService,
    add_service: AddService,
    catalog: CatalogService,
    db: Database,
    tz: BaseTzInfo,
) -> None:
    yoga = await group(add_service, catalog, 3)
    start = at(tz, WED, "10:00")
    made = [await booking.book(client, yoga.id, start) for client in (101, 102, 103)]
    middle = made[1].booking
    assert middle is not None

    assert (await booking.cancel(middle.id, 102)).outcome is Outcome.CANCELLED
    assert (await booking.free_slots(yoga.id, WED))[start].seats_left == 1
    again = await booking.book(201, yoga.id, start)
    assert again.outcome is Outcome.BOOKED and again.booking is not None
    assert again.booking.seat == 1  # the seat the cancel freed
    assert (await booking.book(202, yoga.id, start)).outcome is Outcome.SLOT_TAKEN
    assert [c for c, _ in await seats(db, yoga.id, int(start.timestamp()))] == [101, 201, 103]


async def test_one_client_never_holds_two_seats_of_a_session(
    booking: ClientBookingService,
    add_service: AddService,
    catalog: CatalogService,
    db: Database,
    tz: BaseTzInfo,
) -> None:
    yoga = await group(add_service, catalog, 5)
    start = at(tz, WED, "10:00")
    first = await booking.book(101, yoga.id, start)
    assert first.outcome is Outcome.BOOKED and first.booking is not None
    twice = await booking.book(101, yoga.id, start)
    assert twice.outcome is Outcome.ALREADY_BOOKED
    assert twice.booking is not None and twice.booking.id == first.booking.id
    assert (await booking.free_slots(yoga.id, WED))[start].seats_left == 4

    # The database itself refuses a second seat for the client, whatever code writes it.
    ts = int(start.timestamp())

    def second_seat(conn: Conn) -> None:
        conn.execute(
            "INSERT INTO bookings (client_id, service_id, specialist_id, start_at, end_at,"
            " busy_until, duration_minutes, created_at, updated_at, seat)"
            " VALUES (101, ?, 1, ?, ?, ?, 60, 0, 0, 3)",
            (yoga.id, ts, ts + 3600, ts + 3600),
        )

    with pytest.raises(UNIQUE_VIOLATION, match=r"start_at, (bookings\.)?client_id"):
        await db.write(second_seat)
    assert await seats(db, yoga.id, ts) == [(101, 0)]


async def test_the_database_never_gives_a_seat_twice(
    booking: ClientBookingService,
    add_service: AddService,
    catalog: CatalogService,
    db: Database,
    tz: BaseTzInfo,
) -> None:
    yoga = await group(add_service, catalog, 5)
    start = at(tz, WED, "10:00")
    assert (await booking.book(101, yoga.id, start)).ok
    ts = int(start.timestamp())

    def same_seat(conn: Conn) -> None:
        conn.execute("INSERT INTO clients (id, created_at, updated_at) VALUES (102, 0, 0)")
        conn.execute(
            "INSERT INTO bookings (client_id, service_id, specialist_id, start_at, end_at,"
            " busy_until, duration_minutes, created_at, updated_at, seat)"
            " VALUES (102, ?, 1, ?, ?, ?, 60, 0, 0, 0)",
            (yoga.id, ts, ts + 3600, ts + 3600),
        )

    with pytest.raises(UNIQUE_VIOLATION, match=r"start_at, (bookings\.)?seat"):
        await db.write(same_seat)
    assert await seats(db, yoga.id, ts) == [(101, 0)]


async def test_last_seat_raced_by_twenty_clients_goes_to_exactly_one(
    booking: ClientBookingService,
    add_service: AddService,
    catalog: CatalogService,
    db: Database,
    tz: BaseTzInfo,
) -> None:
    yoga = await group(add_service, catalog, 5)
    start = at(tz, WED, "10:00")
    for client in range(4):
        assert (await booking.book(100 + client, yoga.id, start)).ok
    results = await asyncio.gather(*(booking.book(500 + i, yoga.id, start) for i in range(20)))
    outcomes = [r.outcome for r in results]
    assert outcomes.count(Outcome.BOOKED) == 1
    assert outcomes.count(Outcome.SLOT_TAKEN) == 19
    taken = await seats(db, yoga.id, int(start.timestamp()))
    assert sorted(seat for _, seat in taken) == [0, 1, 2, 3, 4]
    assert start not in await booking.free_slots(yoga.id, WED)


async def test_last_seat_raced_over_twenty_connections_goes_to_exactly_one(
    add_service: AddService,
    catalog: CatalogService,
    engine: str,
    db: Database,
    db_path: Path,
    tz: BaseTzInfo,
    clock: FakeClock,
    another_db: OpenAnother,
) -> None:
    """Each racer on its own connection, as twenty replicas would be: the database's locks,
    not one process's writer queue, decide."""
    yoga = await group(add_service, catalog, 3)
    start = at(tz, WED, "10:00")
    first = ClientBookingService(db, Rules(tz), clock)
    for client in (100, 101):
        assert (await first.book(client, yoga.id, start)).ok
    databases: list[Database]
    if engine == "sqlite":
        databases = [
            SqliteDatabase(db_path, retry=RetryPolicy(max_retries=10, delay=0.01))
            for _ in range(20)
        ]
        await asyncio.gather(*(d.open() for d in databases))
    else:
        databases = [await another_db(pool_size=20)] * 20
    try:
        racers = [ClientBookingService(d, Rules(tz), clock) for d in databases]
        results = await asyncio.gather(
            *(r.book(600 + i, yoga.id, start) for i, r in enumerate(racers))
        )
    finally:
        if engine == "sqlite":
            await asyncio.gather(*(d.close() for d in databases))
    outcomes = [r.outcome for r in results]
    assert outcomes.count(Outcome.BOOKED) == 1
    assert outcomes.count(Outcome.SLOT_TAKEN) == 19
    assert sorted(s for _, s in await seats(db, yoga.id, int(start.timestamp()))) == [0, 1, 2]


async def test_a_session_blocks_other_services_and_overlapping_starts(
    booking: ClientBookingService,
    add_service: AddService,
    catalog: CatalogService,
    tz: BaseTzInfo,
) -> None:
    yoga = await group(add_service, catalog, 5)
    haircut = await add_service("Haircut", 60, 1500)
    ten, half_past = at(tz, WED, "10:00"), at(tz, WED, "10:30")
    assert (await booking.book(101, yoga.id, ten)).ok

    # Another service: neither the session's start nor an overlapping one.
    cut_times = await booking.free_times(haircut.id, WED)
    assert ten not in cut_times and half_past not in cut_times
    assert at(tz, WED, "11:00") in cut_times
    assert (await booking.book(102, haircut.id, ten)).outcome is Outcome.SLOT_TAKEN
    assert (await booking.book(102, haircut.id, half_past)).outcome is Outcome.SLOT_TAKEN

    # Another session of the same service may not overlap it either; joining it is fine.
    yoga_times = await booking.free_slots(yoga.id, WED)
    assert half_past not in yoga_times and yoga_times[ten].seats_left == 4
    assert (await booking.book(103, yoga.id, half_past)).outcome is Outcome.SLOT_TAKEN
    assert (await booking.book(103, yoga.id, ten)).outcome is Outcome.BOOKED

    # And a booking of another service blocks a session from opening over it.
    assert (await booking.book(104, haircut.id, at(tz, WED, "12:00"))).ok
    yoga_times = await booking.free_slots(yoga.id, WED)
    assert at(tz, WED, "11:30") not in yoga_times and at(tz, WED, "12:00") not in yoga_times
    assert yoga_times[at(tz, WED, "11:00")].seats_left == 5


@postgresql_only
async def test_postgresql_refuses_overlapping_sessions_but_not_seats_of_one(
    booking: ClientBookingService,
    add_service: AddService,
    catalog: CatalogService,
    db: Database,
    tz: BaseTzInfo,
) -> None:
    yoga = await group(add_service, catalog, 5)
    haircut = await add_service("Haircut", 60, 1500)
    ten = at(tz, WED, "10:00")
    assert (await booking.book(101, yoga.id, ten)).ok
    ts = int(ten.timestamp())

    def write(service_id: int, start: int, client: int, seat: int) -> Callable[[Conn], None]:
        def work(conn: Conn) -> None:
            conn.execute(
                "INSERT INTO clients (id, created_at, updated_at) VALUES (?, 0, 0)"
                " ON CONFLICT DO NOTHING",
                (client,),
            )
            conn.execute(
                "INSERT INTO bookings (client_id, service_id, specialist_id, start_at, end_at,"
                " busy_until, duration_minutes, created_at, updated_at, seat)"
                " VALUES (?, ?, 1, ?, ?, ?, 60, 0, 0, ?)",
                (client, service_id, start, start + 3600, start + 3600, seat),
            )

        return work

    # Retried whole (as any 23P01), then given up: still refused.
    for refused, constraint in (
        (write(haircut.id, ts, 201, 1), "one_session_per_start"),  # another service, same start
        (write(yoga.id, ts + 1800, 202, 0), "no_overlap"),  # another session of it, overlapping
    ):
        with pytest.raises(DatabaseBusyError) as error:
            await db.write(refused)
        assert isinstance(error.value.__cause__, psycopg.errors.ExclusionViolation)
        assert constraint in str(error.value.__cause__)
    await db.write(write(yoga.id, ts, 203, 1))  # a seat of the session itself: fine
    assert await seats(db, yoga.id, ts) == [(101, 0), (203, 1)]


@sqlite_only
async def test_sqlite_refuses_another_service_at_a_session_start(
    booking: ClientBookingService,
    add_service: AddService,
    catalog: CatalogService,
    db: Database,
    tz: BaseTzInfo,
) -> None:
    """Seats are numbered per session, so a booking of another service at the session's start
    takes seat 0 of its own and meets the session's seat 0 in the unique index."""
    yoga = await group(add_service, catalog, 5)
    haircut = await add_service("Haircut", 60, 1500)
    ten = at(tz, WED, "10:00")
    assert (await booking.book(101, yoga.id, ten)).ok

    def mixed(conn: Conn) -> None:
        from database.repo import bookings as repo

        conn.execute("INSERT INTO clients (id, created_at, updated_at) VALUES (202, 0, 0)")
        repo.insert(
            conn,
            client_id=202,
            service=haircut,
            specialist_id=1,
            start=ten,  # 60 minutes, no buffer: until 11:00
            now=ten,
        )

    with pytest.raises(sqlite3.IntegrityError, match=r"bookings\.seat"):
        await db.write(mixed)


async def test_capacity_one_is_a_booking_as_ever(
    booking: ClientBookingService, add_service: AddService, db: Database, tz: BaseTzInfo
) -> None:
    haircut = await add_service("Haircut", 60, 1500)
    assert haircut.capacity == 1
    start = at(tz, WED, "10:00")
    assert (await booking.free_slots(haircut.id, WED))[start].seats_left is None
    made = await booking.book(101, haircut.id, start)
    assert made.booking is not None and made.booking.seat == 0
    assert (await booking.book(102, haircut.id, start)).outcome is Outcome.SLOT_TAKEN
    assert start not in await booking.free_times(haircut.id, WED)


async def test_any_specialist_fills_a_started_session_before_opening_one(
    booking: ClientBookingService,
    add_service: AddService,
    catalog: CatalogService,
    db: Database,
    tz: BaseTzInfo,
) -> None:
    yoga = await group(add_service, catalog, 4)
    olga = await add_specialist(db, "Olga", [yoga.id])
    ten = at(tz, WED, "10:00")
    # Olga's session has someone; the first specialist has nothing all day (least loaded).
    assert (await booking.book(101, yoga.id, ten, specialist_id=olga)).ok
    assert (await booking.free_slots(yoga.id, WED))[ten].seats_left == 3
    joined = await booking.book(102, yoga.id, ten)
    assert joined.booking is not None and joined.booking.specialist_id == olga
    # Elsewhere in the day nobody has a session: the least loaded one, as before.
    fresh = await booking.book(103, yoga.id, at(tz, WED, "15:00"))
    assert fresh.booking is not None and fresh.booking.specialist_id == 1


async def test_a_day_with_seats_left_stays_open_in_the_calendar(
    booking: ClientBookingService,
    add_service: AddService,
    catalog: CatalogService,
    tz: BaseTzInfo,
) -> None:
    # Four hours: on a weekday only 10:00 (until 14:00) and 15:00 (until 19:00) fit.
    long = await add_service("Retreat", 240, 5000)
    await catalog.update(long.id, ADMIN, capacity=2)
    for start in ("10:00", "15:00"):
        assert (await booking.book(101, long.id, at(tz, THU, start))).ok
    assert THU in await booking.calendar(long.id, 2026, 12)
    for start in ("10:00", "15:00"):
        assert (await booking.book(102, long.id, at(tz, THU, start))).ok
    assert THU not in await booking.calendar(long.id, 2026, 12)
    assert WED in await booking.calendar(long.id, 2026, 12)


async def test_lowering_the_capacity_keeps_the_bookings_and_opens_no_seat_until_room(
    booking: ClientBookingService,
    add_service: AddService,
    catalog: CatalogService,
    db: Database,
    tz: BaseTzInfo,
) -> None:
    yoga = await group(add_service, catalog, 3)
    start = at(tz, WED, "10:00")
    made = [await booking.book(c, yoga.id, start) for c in (101, 102, 103)]
    await catalog.update(yoga.id, ADMIN, capacity=2)
    ts = int(start.timestamp())
    assert len(await seats(db, yoga.id, ts)) == 3  # nobody loses their seat
    assert (await booking.book(104, yoga.id, start)).outcome is Outcome.SLOT_TAKEN
    first, second = (m.booking for m in made[:2])
    assert first is not None and second is not None
    await booking.cancel(first.id, 101)
    assert start not in await booking.free_times(yoga.id, WED)  # two left, capacity two
    assert (await booking.book(104, yoga.id, start)).outcome is Outcome.SLOT_TAKEN
    await booking.cancel(second.id, 102)
    assert (await booking.free_slots(yoga.id, WED))[start].seats_left == 1
    assert (await booking.book(104, yoga.id, start)).outcome is Outcome.BOOKED


async def test_moving_a_seat_is_a_booking_into_the_other_session(
    booking: ClientBookingService,
    add_service: AddService,
    catalog: CatalogService,
    db: Database,
    tz: BaseTzInfo,
) -> None:
    yoga = await group(add_service, catalog, 2)
    ten, noon, three = at(tz, WED, "10:00"), at(tz, WED, "12:00"), at(tz, WED, "15:00")
    mine = await booking.book(101, yoga.id, ten)
    assert mine.booking is not None
    for client in (102, 103):
        assert (await booking.book(client, yoga.id, noon)).ok
    assert (await booking.book(104, yoga.id, three)).ok

    # The moving client's own seat does not count, the full session still refuses.
    assert noon not in await booking.free_times(yoga.id, WED, moving_id=mine.booking.id)
    full = await booking.reschedule(mine.booking.id, noon, 101)
    assert full.outcome is Outcome.SLOT_TAKEN
    moved = await booking.reschedule(mine.booking.id, three, 101)
    assert moved.outcome is Outcome.RESCHEDULED and moved.booking is not None
    assert moved.booking.seat == 1
    assert await seats(db, yoga.id, int(three.timestamp())) == [(104, 0), (101, 1)]
    assert (await booking.free_slots(yoga.id, WED))[ten].seats_left == 2  # the old seat freed


async def test_staff_book_into_a_session_by_the_same_rules(
    booking: ClientBookingService,
    staff: StaffService,
    add_service: AddService,
    catalog: CatalogService,
    tz: BaseTzInfo,
) -> None:
    yoga = await group(add_service, catalog, 2)
    ten = at(tz, WED, "10:00")
    assert (await booking.book(101, yoga.id, ten)).ok
    assert (await staff.flow.free_slots(yoga.id, WED))[ten].seats_left == 1
    assert (await staff.book_for(102, yoga.id, ten, ADMIN)).outcome is Outcome.BOOKED
    assert (await staff.book_for(103, yoga.id, ten, ADMIN)).outcome is Outcome.SLOT_TAKEN
    again = await staff.book_for(102, yoga.id, ten, ADMIN)
    assert again.outcome is Outcome.ALREADY_BOOKED


# ------------------------------------------------------------------ the migration

SESSION_ROWS = [  # id, client, specialist, start, status
    (1, 501, 1, 1_796_194_800, "active"),
    (2, 502, 1, 1_796_194_800, "cancelled"),
    (3, 503, 1, 1_796_202_000, "active"),
    (4, 501, 1, 1_796_280_000, "completed"),
]


def _old_rows(conn: Any, mark: str) -> None:
    """A service and bookings written by the layout before group sessions."""

    def q(sql: str) -> str:
        return sql.replace("?", mark)

    conn.execute(
        q(
            "INSERT INTO services (id, name, duration_minutes, created_at, updated_at)"
            " VALUES (1, 'Cut', 60, 0, 0)"
        )
    )
    for client in {r[1] for r in SESSION_ROWS}:
        conn.execute(
            q("INSERT INTO clients (id, created_at, updated_at) VALUES (?, 0, 0)"), (client,)
        )
    for booking_id, client, specialist, start, status in SESSION_ROWS:
        conn.execute(
            q(
                "INSERT INTO bookings (id, client_id, service_id, specialist_id, start_at,"
                " end_at, busy_until, duration_minutes, status, created_at, updated_at)"
                " VALUES (?, ?, 1, ?, ?, ?, ?, 60, ?, 0, 0)"
            ),
            (booking_id, client, specialist, start, start + 3600, start + 3600, status),
        )


def _after(conn: Any) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    found = conn.execute(
        "SELECT id, client_id, specialist_id, start_at, status, seat FROM bookings ORDER BY id"
    ).fetchall()
    services = conn.execute("SELECT id, capacity FROM services").fetchall()
    return [tuple(r) for r in found], [tuple(r) for r in services]


def test_the_sqlite_migration_keeps_every_booking_on_seat_zero(
    db_path: Path, tz: BaseTzInfo
) -> None:
    everything = discover()
    context = MigrationContext(tz=tz, now=datetime(2026, 12, 1, 5, 0, tzinfo=UTC))
    migrate(db_path, context, migrations=[m for m in everything if m.version < SQLITE_GROUPS])
    with sqlite3.connect(db_path) as conn:
        _old_rows(conn, "?")
    report = migrate(db_path, context)
    assert SQLITE_GROUPS in report.applied
    with sqlite3.connect(db_path) as conn:
        found, services = _after(conn)
        indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    assert found == [(*row[:4], row[4], 0) for row in SESSION_ROWS]
    assert services == [(1, 1)]
    assert {"ux_bookings_active_seat", "ux_bookings_active_client"} <= indexes
    assert "ux_bookings_active_start" not in indexes


def test_the_postgresql_migration_keeps_every_booking_on_seat_zero(
    pg_server: PgServer, tz: BaseTzInfo
) -> None:
    name, url = pg_server.empty()
    try:
        context = MigrationContext(tz=tz, now=datetime(2026, 12, 1, 5, 0, tzinfo=UTC))
        before = [m for m in discover("postgresql") if m.version < POSTGRES_GROUPS]
        migrate_postgres(url, context, migrations=before)
        with psycopg.connect(url) as conn:
            _old_rows(conn, "%s")
        report = migrate_postgres(url, context)
        assert POSTGRES_GROUPS in report.applied
        with psycopg.connect(url) as conn:
            found, services = _after(conn)
            constraints = {
                str(r[0])
                for r in conn.execute(
                    "SELECT conname FROM pg_constraint WHERE conrelid = 'bookings'::regclass"
                )
            }
        assert found == [(*row[:4], row[4], 0) for row in SESSION_ROWS]
        assert services == [(1, 1)]
        assert {"no_overlap", "one_session_per_start"} <= constraints
    finally:
        pg_server.drop(name)


async def test_a_session_counts_its_time_once_in_the_load(
    booking: ClientBookingService,
    add_service: AddService,
    catalog: CatalogService,
    db: Database,
    tz: BaseTzInfo,
) -> None:
    from services.stats import StatsService

    yoga = await group(add_service, catalog, 5)
    for client in (101, 102, 103):
        assert (await booking.book(client, yoga.id, at(tz, WED, "10:00"))).ok
    stats = await StatsService(db, tz).stats(WED, WED)
    assert stats.bookings == 3  # three clients booked
    assert sum(map(sum, stats.load.booked)) == 60  # one hour of the specialist's time
