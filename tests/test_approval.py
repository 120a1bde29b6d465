"""Approval, the no-show rule and blocked clients, at the services, on both engines: a pending
booking holds its time and waits for one decision (the staff's Approve or Decline, or the
timeout), never two, however many press at once; what the client and the admin chat are told
goes through the outbox.

Clock: Tue 2026-12-01 08:00 Moscow; hours mon-fri 10-14, 15-19 (tests/conftest.py).
"""

from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import replace
from datetime import date

import pytest
from pytz.tzinfo import BaseTzInfo

from database.engine import Database
from domain.actors import Actor
from domain.bookings import BookingStatus
from domain.catalog import Service
from domain.clients import Standing
from domain.outcomes import Outcome
from domain.rules import Approval, Rules
from services.approvals import ApprovalService
from services.booking import ClientBookingService
from services.catalog import CatalogService
from services.clients import ClientService
from services.jobs import JobsService
from services.staff import StaffService
from tests.conftest import ADMIN, AddService, OpenAnother, at
from tests.support.clock import FakeClock

WED, THU = date(2026, 12, 2), date(2026, 12, 3)
ALICE, BOB, CAROL = 111, 222, 333
OLGA = ADMIN


@pytest.fixture
def strict(rules: Rules) -> Rules:
    """APPROVAL=all."""
    return replace(rules, approval=Approval.ALL)


@pytest.fixture
def approvals(db: Database, strict: Rules, clock: FakeClock) -> ApprovalService:
    return ApprovalService(db, strict, clock)


@pytest.fixture
def booking(db: Database, strict: Rules, clock: FakeClock) -> ClientBookingService:
    return ClientBookingService(db, strict, clock)


async def rows(db: Database, sql: str, *params: object) -> list[sqlite3.Row]:
    return await db.read(lambda c: list(c.execute(sql, params)))


async def outbox_of(db: Database, booking_id: int) -> list[tuple[str, int, str]]:
    found = await rows(
        db, "SELECT kind, offset_minutes, status FROM reminders WHERE booking_id = ?", booking_id
    )
    return sorted((r[0], r[1], r[2]) for r in found)


async def pending_booking(
    booking: ClientBookingService, service: Service, tz: BaseTzInfo, client: int = ALICE
) -> int:
    result = await booking.book(client, service.id, at(tz, WED, "10:00"))
    assert result.outcome is Outcome.BOOKED and result.booking is not None
    assert result.booking.is_pending
    return result.booking.id


# ------------------------------------------------------------------ the rule itself


def test_which_bookings_wait_for_approval(rules: Rules) -> None:
    new = Standing(blocked=False, visited=False, recent_no_shows=0)
    regular = Standing(blocked=False, visited=True, recent_no_shows=0)
    unreliable = Standing(blocked=False, visited=True, recent_no_shows=2)
    plain = Service(1, "Haircut", "", 60, 1500, 0, True, 1)
    always = replace(plain, approval=True)
    never = replace(plain, approval=False)

    off = rules  # APPROVAL=off
    assert not off.needs_approval(new, plain)
    assert off.needs_approval(new, always)  # the service's own say wins
    assert off.needs_approval(unreliable, plain)  # NO_SHOW_LIMIT (2) whatever APPROVAL says
    assert off.needs_approval(unreliable, never)
    assert not replace(off, no_show_limit=0).needs_approval(unreliable, plain)  # 0: never
    assert not replace(off, no_show_limit=3).needs_approval(unreliable, plain)

    newcomers = replace(rules, approval=Approval.NEW_CLIENTS)
    assert newcomers.needs_approval(new, plain)
    assert not newcomers.needs_approval(regular, plain)
    assert not newcomers.needs_approval(new, never)

    every = replace(rules, approval=Approval.ALL)
    assert every.needs_approval(regular, plain)
    assert not every.needs_approval(regular, never)
    # What the staff book is final at once, whatever the client's record.
    assert not every.for_staff().needs_approval(unreliable, always)


# ------------------------------------------------------------------ pending, approve, decline


async def test_a_pending_booking_holds_its_time_and_waits_for_the_staff(
    booking: ClientBookingService, add_service: AddService, db: Database, tz: BaseTzInfo
) -> None:
    service = await add_service()
    booking_id = await pending_booking(booking, service, tz)

    # Nobody else is offered or given that time while it waits.
    assert at(tz, WED, "10:00") not in await booking.free_times(service.id, WED)
    taken = await booking.book(BOB, service.id, at(tz, WED, "10:00"))
    assert taken.outcome is Outcome.SLOT_TAKEN
    # The client's confirmation (in case the answer did not go out) and the admin chat's
    # question; no reminders yet: they come with the Approve.
    assert await outbox_of(db, booking_id) == [
        ("card_approval", 0, "pending"),
        ("confirmation", 0, "pending"),
    ]
    [details] = await booking.upcoming(ALICE)
    assert details.booking.is_pending
    # A repeated Confirm is not a second booking.
    again = await booking.book(ALICE, service.id, at(tz, WED, "10:00"))
    assert again.outcome is Outcome.ALREADY_BOOKED


async def test_approve_makes_it_final_with_its_reminders_once(
    booking: ClientBookingService,
    approvals: ApprovalService,
    add_service: AddService,
    db: Database,
    tz: BaseTzInfo,
) -> None:
    booking_id = await pending_booking(booking, await add_service(), tz)

    result = await approvals.approve(booking_id, OLGA)

    assert result.outcome is Outcome.APPROVED and result.booking is not None
    assert not result.booking.is_pending and result.booking.is_active
    assert await outbox_of(db, booking_id) == [
        ("card_approval", 0, "pending"),  # skipped at the claim: no longer pending
        ("confirmation", 0, "pending"),
        ("notice_approved", 0, "pending"),
        ("reminder", 120, "pending"),
        ("reminder", 1440, "pending"),
    ]
    assert (await approvals.approve(booking_id, OLGA)).outcome is Outcome.NOT_PENDING
    assert (await approvals.decline(booking_id, OLGA)).outcome is Outcome.NOT_PENDING
    assert (await approvals.approve(9999, OLGA)).outcome is Outcome.NOT_FOUND
    actions = await rows(
        db, "SELECT action FROM audit_log WHERE entity = 'booking' AND entity_id = ?", booking_id
    )
    assert [a[0] for a in actions] == ["booking.created", "booking.approved"]
    assert await approvals.pending() == []


async def test_decline_frees_the_time_and_tells_the_client(
    booking: ClientBookingService,
    approvals: ApprovalService,
    add_service: AddService,
    db: Database,
    tz: BaseTzInfo,
) -> None:
    service = await add_service()
    booking_id = await pending_booking(booking, service, tz)
    assert [d.booking.id for d in await approvals.pending()] == [booking_id]

    result = await approvals.decline(booking_id, OLGA)

    assert result.outcome is Outcome.DECLINED and result.booking is not None
    assert result.booking.status is BookingStatus.CANCELLED
    assert result.booking.cancel_reason == "declined"
    # The question and the confirmation are skipped at their claim (the booking is cancelled).
    assert await outbox_of(db, booking_id) == [
        ("card_approval", 0, "pending"),
        ("confirmation", 0, "pending"),
        ("notice_declined", 0, "pending"),
    ]
    assert at(tz, WED, "10:00") in await booking.free_times(service.id, WED)
    assert (await booking.book(BOB, service.id, at(tz, WED, "10:00"))).outcome is Outcome.BOOKED
    assert (await approvals.approve(booking_id, OLGA)).outcome is Outcome.NOT_PENDING


async def test_of_many_decisions_at_once_exactly_one_wins(
    booking: ClientBookingService,
    add_service: AddService,
    db: Database,
    strict: Rules,
    clock: FakeClock,
    tz: BaseTzInfo,
    another_db: OpenAnother,
) -> None:
    """Ten admins (as other processes) press Approve or Decline on one booking at once, and the
    timeout's job runs too: one decision is taken, the rest are told it was made."""
    booking_id = await pending_booking(booking, await add_service(), tz)
    clock.advance(minutes=121)  # overdue: the job competes too
    others = [ApprovalService(await another_db(), strict, clock) for _ in range(3)]

    calls = []
    for i in range(10):
        service = others[i % 3]
        decide = service.approve if i % 2 else service.decline
        calls.append(decide(booking_id, Actor.admin(2000 + i)))
    pressed, timed_out = await asyncio.gather(
        asyncio.gather(*calls),
        asyncio.gather(others[0].decline_overdue(), others[1].decline_overdue()),
    )

    outcomes = sorted(r.outcome.value for r in pressed)
    by_timeout = [ids for ids in timed_out if ids]
    decided = [o for o in outcomes if o != Outcome.NOT_PENDING.value]
    assert len(decided) + len(by_timeout) == 1, (outcomes, timed_out)
    told = await rows(
        db,
        "SELECT count(*) FROM reminders WHERE booking_id = ?"
        " AND kind IN ('notice_approved', 'notice_declined')",
        booking_id,
    )
    assert told[0][0] == 1
    audited = await rows(
        db,
        "SELECT count(*) FROM audit_log WHERE entity_id = ?"
        " AND action IN ('booking.approved', 'booking.declined')",
        booking_id,
    )
    assert audited[0][0] == 1


async def test_the_timeout_declines_once_and_only_the_overdue(
    booking: ClientBookingService,
    approvals: ApprovalService,
    add_service: AddService,
    db: Database,
    clock: FakeClock,
    tz: BaseTzInfo,
) -> None:
    service = await add_service()
    early = await pending_booking(booking, service, tz)
    clock.advance(minutes=60)
    late = (await booking.book(BOB, service.id, at(tz, THU, "10:00"))).booking
    assert late is not None and late.is_pending

    clock.advance(minutes=59)  # 119 minutes after the first request
    assert await approvals.decline_overdue() == []
    clock.advance(minutes=2)
    assert await approvals.decline_overdue() == [early]
    assert await approvals.decline_overdue() == []  # once

    declined = await rows(db, "SELECT status, cancel_reason FROM bookings WHERE id = ?", early)
    assert tuple(declined[0]) == ("cancelled", "not approved in time")
    assert ("notice_declined", 0, "pending") in await outbox_of(db, early)
    assert [d.booking.id for d in await approvals.pending()] == [late.id]


async def test_a_pending_booking_whose_start_comes_is_declined_never_completed(
    db: Database,
    strict: Rules,
    add_service: AddService,
    clock: FakeClock,
    tz: BaseTzInfo,
) -> None:
    patient = replace(strict, approval_timeout_minutes=7 * 24 * 60)
    booking = ClientBookingService(db, patient, clock)
    approvals, jobs = ApprovalService(db, patient, clock), JobsService(db, patient, clock)
    booking_id = await pending_booking(booking, await add_service(), tz)

    clock.set(at(tz, WED, "09:59"))
    assert await approvals.decline_overdue() == []
    clock.set(at(tz, WED, "11:30"))  # past its end: the job would complete an active booking
    assert await approvals.decline_overdue() == [booking_id]
    assert await jobs.complete_past() == 0
    status = await rows(db, "SELECT status FROM bookings WHERE id = ?", booking_id)
    assert status[0][0] == "cancelled"


async def test_staff_bookings_and_moves_are_final_at_once(
    db: Database,
    strict: Rules,
    add_service: AddService,
    clock: FakeClock,
    tz: BaseTzInfo,
) -> None:
    staff = StaffService(db, strict, clock)
    service = await add_service()
    result = await staff.book_for(ALICE, service.id, at(tz, WED, "10:00"), OLGA)
    assert result.outcome is Outcome.BOOKED and result.booking is not None
    assert not result.booking.is_pending


# ------------------------------------------------------------------ the no-show rule


async def test_recent_no_shows_make_new_bookings_wait_whatever_approval_says(
    db: Database,
    rules: Rules,
    add_service: AddService,
    clock: FakeClock,
    tz: BaseTzInfo,
) -> None:
    booking, staff = ClientBookingService(db, rules, clock), StaffService(db, rules, clock)
    service = await add_service()

    async def visit_missed(day: date) -> None:
        clock.set(at(tz, day, "08:00"))
        made = await booking.book(ALICE, service.id, at(tz, day, "10:00"))
        assert made.booking is not None and not made.booking.is_pending
        clock.set(at(tz, day, "12:00"))
        marked = await staff.mark(made.booking.id, BookingStatus.NO_SHOW, OLGA)
        assert marked.outcome is Outcome.MARKED

    await visit_missed(WED)
    clock.set(at(tz, WED, "13:00"))
    one = await booking.book(ALICE, service.id, at(tz, THU, "10:00"))
    assert one.booking is not None and not one.booking.is_pending  # one no-show: trusted still
    await booking.cancel(one.booking.id, ALICE)

    await visit_missed(THU)
    clock.set(at(tz, THU, "13:00"))
    two = await booking.book(ALICE, service.id, at(tz, date(2026, 12, 7), "10:00"))
    assert two.booking is not None and two.booking.is_pending  # NO_SHOW_LIMIT=2 reached
    other = await booking.book(BOB, service.id, at(tz, date(2026, 12, 7), "11:00"))
    assert other.booking is not None and not other.booking.is_pending

    # 180 days later those no-shows no longer count.
    clock.set(at(tz, date(2027, 6, 1), "08:00"))
    later = await booking.book(ALICE, service.id, at(tz, date(2027, 6, 2), "10:00"))
    assert later.booking is not None and not later.booking.is_pending


# ------------------------------------------------------------------ blocked clients


async def test_a_blocked_client_cannot_book_or_move_but_the_staff_can_book_for_them(
    db: Database,
    rules: Rules,
    add_service: AddService,
    clock: FakeClock,
    tz: BaseTzInfo,
) -> None:
    booking, staff = ClientBookingService(db, rules, clock), StaffService(db, rules, clock)
    clients = ClientService(db, "ru", clock)
    service = await add_service()
    await clients.touch(ALICE, "alice", "Alice", "en")
    kept = await booking.book(ALICE, service.id, at(tz, WED, "10:00"))
    assert kept.booking is not None

    blocked = await clients.set_blocked(ALICE, OLGA, blocked=True, reason="rude")
    assert blocked is not None and blocked.is_blocked and blocked.block_reason == "rude"

    refused = await booking.book(ALICE, service.id, at(tz, THU, "10:00"))
    assert refused.outcome is Outcome.BLOCKED
    moved = await booking.reschedule(kept.booking.id, at(tz, THU, "11:00"), ALICE)
    assert moved.outcome is Outcome.BLOCKED
    before = await rows(db, "SELECT id, status FROM bookings ORDER BY id")
    assert [tuple(r) for r in before] == [(kept.booking.id, "active")]  # nothing changed
    # Cancelling their own booking is still theirs to do; the staff may book for them.
    by_staff = await staff.book_for(ALICE, service.id, at(tz, THU, "12:00"), OLGA)
    assert by_staff.outcome is Outcome.BOOKED

    assert await clients.set_blocked(ALICE, OLGA, blocked=False) is not None
    again = await booking.book(ALICE, service.id, at(tz, THU, "15:00"))
    assert again.outcome is Outcome.BOOKED
    assert await clients.set_blocked(9999, OLGA, blocked=True) is None
    audit = await rows(db, "SELECT action FROM audit_log WHERE entity = 'client' ORDER BY id")
    assert [a[0] for a in audit] == ["client.blocked", "client.unblocked"]


async def test_per_service_approval_is_stored_and_read(
    catalog: CatalogService,
    db: Database,
    rules: Rules,
    add_service: AddService,
    clock: FakeClock,
    tz: BaseTzInfo,
) -> None:
    booking = ClientBookingService(db, rules, clock)
    service = await add_service()
    await catalog.update(service.id, OLGA, approval="on")
    assert (await catalog.get(service.id)).approval is True  # type: ignore[union-attr]
    made = await booking.book(ALICE, service.id, at(tz, WED, "10:00"))
    assert made.booking is not None and made.booking.is_pending

    await catalog.update(service.id, OLGA, approval=None)
    assert (await catalog.get(service.id)).approval is None  # type: ignore[union-attr]
    plain = await booking.book(BOB, service.id, at(tz, WED, "11:00"))
    assert plain.booking is not None and not plain.booking.is_pending
    with pytest.raises(Exception, match=r"(?i)check"):  # only on / off / NULL are stored
        await catalog.update(service.id, OLGA, approval="maybe")


async def test_a_clients_move_keeps_a_confirmed_booking_confirmed(
    booking: ClientBookingService,
    approvals: ApprovalService,
    add_service: AddService,
    db: Database,
    tz: BaseTzInfo,
) -> None:
    """Under APPROVAL=all a confirmed booking moved by its client stays confirmed (a decline of
    the move would lose the time they had); a pending one's move waits again."""
    booking_id = await pending_booking(booking, await add_service(), tz)
    moved = await booking.reschedule(booking_id, at(tz, WED, "11:00"), ALICE)
    assert moved.booking is not None and moved.booking.is_pending
    assert (await approvals.approve(moved.booking.id, OLGA)).outcome is Outcome.APPROVED

    again = await booking.reschedule(moved.booking.id, at(tz, THU, "10:00"), ALICE)

    assert again.outcome is Outcome.RESCHEDULED and again.booking is not None
    assert not again.booking.is_pending
    kinds = await rows(db, "SELECT kind FROM reminders WHERE booking_id = ?", again.booking.id)
    assert "card_approval" not in {k[0] for k in kinds}
