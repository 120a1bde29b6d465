"""The waitlist and its holds at the services, on both engines: a time that frees up is held
for the first waiter (nobody else is offered it or can book it), passes down the line on No
thanks or expiry, opens to everyone after the last, and is never held twice, however many units
free, take, decline or expire at once.

Clock: Tue 2026-12-01 08:00 Moscow. Wednesday has one hour, 10:00-11:00 (custom hours), so one
booking fills it.
"""

from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import replace
from datetime import date

import pytest
from pytz.tzinfo import BaseTzInfo

from database.engine import Database
from domain.catalog import Service
from domain.outcomes import Outcome
from domain.rules import Rules
from domain.waitlist import DayPart, WaitOutcome
from services.booking import ClientBookingService
from services.clients import ClientService
from services.schedule import ScheduleService
from services.staff import StaffService
from services.waitlist import WaitlistService
from tests.conftest import ADMIN, AddService, OpenAnother, at, postgresql_only
from tests.support.clock import FakeClock

WED, THU = date(2026, 12, 2), date(2026, 12, 3)
ANN, BOB, CAROL, DAN = 111, 222, 333, 444


@pytest.fixture
def waitlist(db: Database, rules: Rules, clock: FakeClock) -> WaitlistService:
    return WaitlistService(db, rules, clock)


@pytest.fixture
def clients(db: Database, clock: FakeClock) -> ClientService:
    return ClientService(db, "ru", clock)


@pytest.fixture
async def full_wednesday(
    add_service: AddService,
    schedule: ScheduleService,
    booking: ClientBookingService,
    clients: ClientService,
    tz: BaseTzInfo,
) -> tuple[Service, int]:
    """Wednesday open 10:00-11:00 only, and Ann booked at 10:00: (the service, her booking)."""
    service = await add_service()
    await schedule.set_day(WED, [(600, 660)], ADMIN)
    for client in (ANN, BOB, CAROL, DAN):
        await clients.touch(client, None, f"client{client}", "en")
    made = await booking.book(ANN, service.id, at(tz, WED, "10:00"))
    assert made.booking is not None
    return service, made.booking.id


async def rows(db: Database, sql: str, *params: object) -> list[sqlite3.Row]:
    return await db.read(lambda c: list(c.execute(sql, params)))


async def live_holds(db: Database) -> list[tuple[int, int]]:
    """(client, start) of every live hold."""
    found = await rows(
        db,
        "SELECT client_id, start_at FROM bookings WHERE status = 'active'"
        " AND held_until IS NOT NULL ORDER BY id",
    )
    return [(r[0], r[1]) for r in found]


async def test_joining_only_a_day_without_free_time(
    waitlist: WaitlistService, full_wednesday: tuple[Service, int], tz: BaseTzInfo
) -> None:
    service, _ = full_wednesday
    assert await waitlist.join(BOB, service.id, None, WED, None) is WaitOutcome.JOINED
    assert await waitlist.join(BOB, service.id, None, WED, None) is WaitOutcome.ALREADY
    # Thursday has free times: book one instead.
    assert await waitlist.join(BOB, service.id, None, THU, None) is WaitOutcome.HAS_TIME
    # Outside today .. the horizon, or a service that is not there.
    far = date(2027, 3, 1)
    assert await waitlist.join(BOB, service.id, None, far, None) is WaitOutcome.NOT_BOOKABLE
    gone = await waitlist.join(BOB, 999, None, WED, None)
    assert gone is WaitOutcome.NOT_BOOKABLE
    [entry] = await waitlist.of_client(BOB)
    assert (entry.entry.day, entry.service_name, entry.entry.part) == (WED, "Haircut", None)
    assert [d.client_name for d in await waitlist.of_day(WED)] == ["client222"]


async def test_a_freed_time_is_held_for_the_first_waiter_only(
    waitlist: WaitlistService,
    booking: ClientBookingService,
    full_wednesday: tuple[Service, int],
    db: Database,
    tz: BaseTzInfo,
) -> None:
    service, ann_booking = full_wednesday
    await waitlist.join(BOB, service.id, None, WED, None)
    await waitlist.join(CAROL, service.id, None, WED, None)

    cancelled = await booking.cancel(ann_booking, ANN)

    assert cancelled.outcome is Outcome.CANCELLED
    ten = int(at(tz, WED, "10:00").timestamp())
    assert await live_holds(db) == [(BOB, ten)]
    # Nobody else is offered it or can book it while it is held.
    assert await booking.free_times(service.id, WED) == {}
    taken = await booking.book(DAN, service.id, at(tz, WED, "10:00"))
    assert taken.outcome is Outcome.SLOT_TAKEN
    [hold] = await rows(db, "SELECT id FROM bookings WHERE held_until IS NOT NULL")
    offer = await rows(db, "SELECT kind, status FROM reminders WHERE booking_id = ?", hold[0])
    assert [tuple(r) for r in offer] == [("waitlist_offer", "pending")]
    # Bob's hold is not a booking the client can cancel or move like one.
    assert (await booking.cancel(hold[0], BOB)).outcome is Outcome.NOT_ACTIVE

    accepted = await waitlist.accept(hold[0], BOB)

    assert accepted.outcome is Outcome.BOOKED and accepted.booking is not None
    assert not accepted.booking.is_held and accepted.booking.is_active
    kinds = await rows(
        db, "SELECT kind, offset_minutes, status FROM reminders WHERE booking_id = ?", hold[0]
    )
    # Made like any booking from here on: the card, the confirmation, its reminders.
    assert sorted(tuple(k) for k in kinds) == [
        ("card_booked", 0, "pending"),
        ("confirmation", 0, "pending"),
        ("reminder", 120, "pending"),
        ("reminder", 1440, "pending"),
        ("waitlist_offer", 0, "pending"),
    ]
    again = await waitlist.accept(hold[0], BOB)
    assert again.outcome is Outcome.ALREADY_BOOKED  # a double click
    assert (await waitlist.accept(hold[0], CAROL)).outcome is Outcome.NOT_FOUND
    assert [d.client_name for d in await waitlist.of_day(WED)] == ["client333"]


async def test_no_thanks_and_expiry_pass_it_down_the_line_then_open_it(
    waitlist: WaitlistService,
    booking: ClientBookingService,
    full_wednesday: tuple[Service, int],
    db: Database,
    clock: FakeClock,
    tz: BaseTzInfo,
) -> None:
    service, ann_booking = full_wednesday
    for client in (BOB, CAROL):
        await waitlist.join(client, service.id, None, WED, None)
    await booking.cancel(ann_booking, ANN)
    ten = int(at(tz, WED, "10:00").timestamp())
    [(bob_hold,)] = await rows(db, "SELECT id FROM bookings WHERE held_until IS NOT NULL")

    declined = await waitlist.decline(bob_hold, BOB)

    assert declined.outcome is Outcome.CANCELLED
    assert await live_holds(db) == [(CAROL, ten)]
    assert (await waitlist.accept(bob_hold, BOB)).outcome is Outcome.OFFER_GONE

    clock.advance(minutes=14)
    assert await waitlist.expire_holds() == []
    clock.advance(minutes=2)
    [carol_hold] = await waitlist.expire_holds()
    assert await waitlist.expire_holds() == []  # once

    assert await live_holds(db) == []  # after the last waiter: open to everyone
    assert list(await booking.free_times(service.id, WED)) == [at(tz, WED, "10:00")]
    assert (await waitlist.accept(carol_hold, CAROL)).outcome is Outcome.OFFER_GONE
    assert await waitlist.of_day(WED) == []
    # Neither hold counts as a booking or a cancellation in the reports.
    stats = await StaffService(db, booking.rules, clock).history(BOB)
    assert [d.booking.counted for d in stats] == [False]


async def test_part_of_the_day_specialist_and_blocked_waiters(
    waitlist: WaitlistService,
    booking: ClientBookingService,
    clients: ClientService,
    full_wednesday: tuple[Service, int],
    db: Database,
    tz: BaseTzInfo,
) -> None:
    service, ann_booking = full_wednesday
    await waitlist.join(BOB, service.id, None, WED, DayPart.EVENING)  # 10:00 is not evening
    await waitlist.join(CAROL, service.id, None, WED, None)
    await waitlist.join(DAN, service.id, None, WED, DayPart.MORNING)
    await clients.set_blocked(CAROL, ADMIN, blocked=True)

    await booking.cancel(ann_booking, ANN)

    assert await live_holds(db) == [(DAN, int(at(tz, WED, "10:00").timestamp()))]
    # A blocked client cannot join either.
    blocked = await waitlist.join(CAROL, service.id, None, THU, None)
    assert blocked is WaitOutcome.BLOCKED


async def test_a_reopened_day_and_a_move_offer_their_time(
    db: Database,
    rules: Rules,
    clock: FakeClock,
    waitlist: WaitlistService,
    booking: ClientBookingService,
    full_wednesday: tuple[Service, int],
    tz: BaseTzInfo,
) -> None:
    service, ann_booking = full_wednesday
    await waitlist.join(BOB, service.id, None, WED, None)
    schedule = ScheduleService(db, clock, rules=rules)

    await schedule.set_day(WED, [(600, 720)], ADMIN)  # hours extended to 12:00

    assert await live_holds(db) == [(BOB, int(at(tz, WED, "11:00").timestamp()))]
    await waitlist.join(CAROL, service.id, None, WED, None)
    moved = await booking.reschedule(ann_booking, at(tz, THU, "10:00"), ANN)
    assert moved.outcome is Outcome.RESCHEDULED
    assert sorted(await live_holds(db)) == sorted(
        [
            (BOB, int(at(tz, WED, "11:00").timestamp())),
            (CAROL, int(at(tz, WED, "10:00").timestamp())),
        ]
    )
    # Days already past have lapsed from the lists.
    clock.set(at(tz, THU, "08:00"))
    assert await waitlist.of_client(BOB) == []


async def test_a_hold_is_never_given_twice_and_expires_once(
    db: Database,
    rules: Rules,
    clock: FakeClock,
    booking: ClientBookingService,
    full_wednesday: tuple[Service, int],
    another_db: OpenAnother,
    tz: BaseTzInfo,
) -> None:
    """Twenty waiters; the freed time is held for one. When it expires, three processes run
    the expiry while the holder presses Book: exactly one of them wins, and the time is never
    held for two."""
    service, ann_booking = full_wednesday
    others = [WaitlistService(await another_db(), rules, clock) for _ in range(3)]
    waiters = [1000 + i for i in range(20)]
    clients = ClientService(db, "ru", clock)
    for client in waiters:
        await clients.touch(client, None, f"w{client}", "en")
    joined = await asyncio.gather(
        *(others[i % 3].join(c, service.id, None, WED, None) for i, c in enumerate(waiters))
    )
    assert set(joined) == {WaitOutcome.JOINED}
    await booking.cancel(ann_booking, ANN)
    [(first, _)] = await live_holds(db)
    [(hold,)] = await rows(db, "SELECT id FROM bookings WHERE held_until IS NOT NULL")

    clock.advance(minutes=16)
    accepted, expired = await asyncio.gather(
        others[0].accept(hold, first), asyncio.gather(*(o.expire_holds() for o in others))
    )

    took = accepted.outcome is Outcome.BOOKED
    assert int(took) + sum(len(e) for e in expired) == 1, (accepted.outcome, expired)
    held = await live_holds(db)
    # Expired: held at once for the next in line, and for nobody else.
    line = [r[0] for r in await rows(db, "SELECT client_id FROM waitlist ORDER BY id")]
    assert first == line[0]
    assert [client for client, _ in held] == ([] if took else [line[1]])
    active = await rows(
        db,
        "SELECT count(*) FROM bookings WHERE status = 'active' AND start_at = ?",
        int(at(tz, WED, "10:00").timestamp()),
    )
    assert active[0][0] == 1  # one booking or one hold of that time, never two


async def test_the_staff_cannot_cancel_a_hold_as_a_booking(
    db: Database,
    rules: Rules,
    clock: FakeClock,
    waitlist: WaitlistService,
    booking: ClientBookingService,
    full_wednesday: tuple[Service, int],
) -> None:
    service, ann_booking = full_wednesday
    await waitlist.join(BOB, service.id, None, WED, None)
    await booking.cancel(ann_booking, ANN)
    [(hold,)] = await rows(db, "SELECT id FROM bookings WHERE held_until IS NOT NULL")
    staff = StaffService(db, rules, clock)
    # A staff cancel of a hold is refused like any not-active booking: it is not a booking yet.
    refused = await staff.cancel(hold, ADMIN)
    assert refused.outcome is Outcome.NOT_ACTIVE
    assert await live_holds(db) != []


async def test_a_staff_move_offers_under_the_clients_rules(
    db: Database,
    rules: Rules,
    clock: FakeClock,
    waitlist: WaitlistService,
    full_wednesday: tuple[Service, int],
    tz: BaseTzInfo,
) -> None:
    """The staff may book a start half an hour away; a waiter is never held one: the time a
    staff move frees is offered under the client's lead time (60 minutes here)."""
    service, ann_booking = full_wednesday
    await waitlist.join(BOB, service.id, None, WED, None)
    clock.set(at(tz, WED, "09:30"))
    staff = StaffService(db, rules, clock)

    moved = await staff.reschedule(ann_booking, at(tz, THU, "10:00"), ADMIN)

    assert moved.outcome is Outcome.RESCHEDULED
    assert await live_holds(db) == []


async def test_no_offer_to_a_waiter_who_booked_the_day_or_left_after_the_hold_ran_out(
    db: Database,
    rules: Rules,
    clock: FakeClock,
    waitlist: WaitlistService,
    booking: ClientBookingService,
    schedule: ScheduleService,
    full_wednesday: tuple[Service, int],
    tz: BaseTzInfo,
) -> None:
    service, ann_booking = full_wednesday
    await waitlist.join(BOB, service.id, None, WED, None)
    await waitlist.join(CAROL, service.id, None, WED, None)
    # Bob books Wednesday himself once more hours open (with no waitlist offers: the hours
    # service here has no rules), so his wait is over.
    await schedule.set_day(WED, [(600, 720)], ADMIN)
    bobs = await booking.book(BOB, service.id, at(tz, WED, "11:00"))
    assert bobs.booking is not None

    await booking.cancel(ann_booking, ANN)

    ten = int(at(tz, WED, "10:00").timestamp())
    assert await live_holds(db) == [(CAROL, ten)]
    status = await rows(db, "SELECT client_id, status FROM waitlist ORDER BY id")
    assert [tuple(r) for r in status] == [(BOB, "booked"), (CAROL, "offered")]
    # Carol presses Book after her hold ran out but before the job came round: too late, and
    # the time goes on (nobody is left in line: open to everyone).
    [(hold,)] = await rows(db, "SELECT id FROM bookings WHERE held_until IS NOT NULL")
    clock.advance(minutes=15)
    assert (await waitlist.accept(hold, CAROL)).outcome is Outcome.OFFER_GONE
    assert await live_holds(db) == []
    assert at(tz, WED, "10:00") in await booking.free_times(service.id, WED)


async def test_a_hold_never_outlives_its_start(
    db: Database,
    rules: Rules,
    clock: FakeClock,
    full_wednesday: tuple[Service, int],
    tz: BaseTzInfo,
) -> None:
    """With no lead time, a 10:00 freed at 09:50 is held until 10:00, not 10:05."""
    service, ann_booking = full_wednesday
    eager = replace(rules, min_lead_minutes=0, cancel_cutoff_minutes=0)
    waitlist = WaitlistService(db, eager, clock)
    await waitlist.join(BOB, service.id, None, WED, None)
    clock.set(at(tz, WED, "09:50"))

    await ClientBookingService(db, eager, clock).cancel(ann_booking, ANN)

    [until] = await rows(db, "SELECT held_until FROM bookings WHERE held_until IS NOT NULL")
    assert until[0] == int(at(tz, WED, "10:00").timestamp())


@postgresql_only
async def test_an_offer_never_waits_for_a_busy_waiter(
    waitlist: WaitlistService,
    booking: ClientBookingService,
    full_wednesday: tuple[Service, int],
    db: Database,
    another_db: OpenAnother,
) -> None:
    """The unit that frees a time holds its own locks; waiting for the waiter's as well could
    wait in a circle. While Bob's lock is another transaction's (he is booking at that moment),
    the cancel goes through without an offer, nobody behind him jumps the line, and the tick's
    sweep offers it to him afterwards."""
    service, ann_booking = full_wednesday
    await waitlist.join(BOB, service.id, None, WED, None)
    await waitlist.join(CAROL, service.id, None, WED, None)
    other = await another_db(pool_size=1)
    lock = "SELECT pg_advisory_lock(?::bigint)"
    await other.write(lambda c: c.execute(lock, (BOB,)).fetchone())

    cancelled = await asyncio.wait_for(booking.cancel(ann_booking, ANN), timeout=30)

    assert cancelled.outcome is Outcome.CANCELLED
    assert await live_holds(db) == []
    unlock = "SELECT pg_advisory_unlock(?::bigint)"
    await other.write(lambda c: c.execute(unlock, (BOB,)).fetchone())
    assert len(await waitlist.sweep()) == 1
    assert [client for client, _ in await live_holds(db)] == [BOB]
    assert await waitlist.sweep() == []
