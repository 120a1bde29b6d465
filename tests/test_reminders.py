"""The reminder outbox on a real database file, a moved clock, and a recording delivery."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from pytz.tzinfo import BaseTzInfo

from database.engine import Database
from database.repo import outbox as outbox_repo
from domain.bookings import BookingStatus
from domain.outcomes import Outcome
from domain.reminders import DueReminder, RecipientBlocked, RetryLater, TransientError
from domain.rules import Rules
from services.booking import ClientBookingService
from services.catalog import CatalogService
from services.clients import ClientService
from services.jobs import JobsService
from services.outbox import DispatchReport, OutboxService
from services.schedule import ScheduleService
from services.staff import StaffService
from services.visits import VisitService
from tests.conftest import ADMIN, AddService, OpenAnother, at
from tests.support.clock import FakeClock
from tests.support.outbox import Recorder
from utils.hours import parse_weekly
from utils.timeutil import get_tz, to_ts

WED = date(2026, 12, 2)
ALICE, BOB = 111, 222


async def statuses(db: Database, booking_id: int) -> dict[int, tuple[str, str | None]]:
    rows = await db.read(
        lambda c: list(
            c.execute(
                "SELECT offset_minutes, status, reason FROM reminders"
                " WHERE booking_id = ? AND kind IN ('reminder', 'feedback')",
                (booking_id,),
            )
        )
    )
    return {r[0]: (r[1], r[2]) for r in rows}


@pytest.fixture
def outbox() -> Recorder:
    return Recorder()


async def handled(booking: ClientBookingService, *booking_ids: int) -> None:
    """What the handler does right after a client's change: the admin chat's card goes out and
    the client's answer is in their chat (no confirmation from the outbox). What is left in the
    outbox is the reminders."""
    service = OutboxService(booking.db, booking.rules, clock=booking.clock)
    await service.flush(Recorder(), booking_ids, answered=True)


async def book(
    booking: ClientBookingService,
    add_service: AddService,
    tz: BaseTzInfo,
    client: int = ALICE,
    hhmm: str = "10:00",
) -> int:
    service = await add_service()
    result = await booking.book(client, service.id, at(tz, WED, hhmm))
    assert result.booking is not None
    await handled(booking, result.booking.id)
    return result.booking.id


async def test_each_reminder_goes_once_at_its_time(
    booking: ClientBookingService,
    add_service: AddService,
    db: Database,
    tz: BaseTzInfo,
    clock: FakeClock,
    outbox: Recorder,
) -> None:
    booking_id = await book(booking, add_service, tz)
    reminders = outbox.service(db, clock)

    assert (await reminders.dispatch_due()).sent == []  # Tue 08:00: nothing due yet
    clock.set(at(tz, date(2026, 12, 1), "09:59"))
    assert (await reminders.dispatch_due()).sent == []
    clock.set(at(tz, date(2026, 12, 1), "10:00"))  # 24 hours before
    assert len((await reminders.dispatch_due()).sent) == 1
    assert len((await reminders.dispatch_due()).sent) == 0  # never twice
    clock.set(at(tz, WED, "08:00"))  # 2 hours before
    assert len((await reminders.dispatch_due()).sent) == 1
    assert [r.offset_minutes for r in outbox.delivered] == [1440, 120]
    assert outbox.delivered[0].start == at(tz, WED, "10:00")
    assert outbox.delivered[0].service_name == "Haircut"
    assert {s for s, _ in (await statuses(db, booking_id)).values()} == {"sent"}


async def test_cancelled_or_rescheduled_bookings_get_none_and_the_new_one_gets_its_own(
    booking: ClientBookingService,
    add_service: AddService,
    db: Database,
    tz: BaseTzInfo,
    clock: FakeClock,
    outbox: Recorder,
) -> None:
    cancelled = await book(booking, add_service, tz, ALICE, "10:00")
    moved = await book(booking, add_service, tz, BOB, "12:00")
    assert (await booking.cancel(cancelled, ALICE)).ok
    result = await booking.reschedule(moved, at(tz, WED, "15:00"), BOB)
    assert result.booking is not None
    await handled(booking, cancelled, moved, result.booking.id)
    reminders = outbox.service(db, clock)

    clock.set(at(tz, WED, "09:00"))
    await reminders.dispatch_due()
    clock.set(at(tz, WED, "13:00"))  # the new booking's 2-hour reminder
    await reminders.dispatch_due()
    # The new booking's 24-hour reminder was due on Tuesday 15:00: still useful on Wednesday 09:00.
    assert [(r.booking_id, r.offset_minutes) for r in outbox.delivered] == [
        (result.booking.id, 1440),
        (result.booking.id, 120),
    ]
    assert all(s == "skipped" for s, _ in (await statuses(db, cancelled)).values())
    assert all(s == "skipped" for s, _ in (await statuses(db, moved)).values())


async def test_after_downtime_the_latest_due_reminder_goes_if_still_useful(
    booking: ClientBookingService,
    add_service: AddService,
    db: Database,
    tz: BaseTzInfo,
    clock: FakeClock,
    outbox: Recorder,
) -> None:
    early = await book(booking, add_service, tz, ALICE, "10:00")
    late = await book(booking, add_service, tz, BOB, "18:00")
    clock.set(at(tz, WED, "16:30"))  # the bot was down since Tuesday morning
    report = await outbox.service(db, clock).dispatch_due()
    # Alice's appointment has started: nothing for her. Bob's both reminders are due: only the
    # 2-hour one goes (one message, not two at once).
    assert [(r.booking_id, r.offset_minutes) for r in outbox.delivered] == [(late, 120)]
    assert len(report.skipped) == 3
    early_rows = await statuses(db, early)
    assert early_rows[120] == ("skipped", "the appointment had already started")
    assert (await statuses(db, late))[1440][0] == "skipped"


async def test_a_fresh_process_sends_what_is_pending_once_and_never_resends_an_interrupted_one(
    booking: ClientBookingService,
    add_service: AddService,
    db: Database,
    another_db: OpenAnother,
    tz: BaseTzInfo,
    clock: FakeClock,
    outbox: Recorder,
) -> None:
    first = await book(booking, add_service, tz, ALICE, "10:00")
    second = await book(booking, add_service, tz, BOB, "15:00")
    clock.set(at(tz, date(2026, 12, 1), "10:00"))
    # A process was sending Alice's reminder and died before recording the result.
    await db.write(
        lambda c: c.execute(
            "UPDATE reminders SET status = 'sending', claimed_at = ?, attempt_started_at = ?,"
            " claimed_by = 'dead', lease_until = ? WHERE booking_id = ? AND offset_minutes = 1440",
            (to_ts(clock()), to_ts(clock()), to_ts(clock()) + 60, first),
        )
    )
    clock.set(at(tz, date(2026, 12, 1), "15:00"))  # restarted five hours later
    restarted = await another_db()
    await outbox.service(restarted, clock).dispatch_due()
    await outbox.service(restarted, clock).dispatch_due()
    assert [(r.booking_id, r.offset_minutes) for r in outbox.delivered] == [(second, 1440)]
    assert (await statuses(db, first))[1440][0] == "failed"


async def test_three_dispatchers_on_one_database_send_no_duplicate(
    add_service: AddService,
    db: Database,
    another_db: OpenAnother,
    tz: BaseTzInfo,
    clock: FakeClock,
    booking: ClientBookingService,
) -> None:
    service = await add_service()
    ids = []
    for n, hhmm in enumerate(["10:00", "11:00", "12:00", "13:00", "15:00", "16:00"]):
        for client in (1000 + n, 2000 + n):
            result = await booking.book(
                client, service.id, at(tz, date(2026, 12, 2 + (client > 1999)), hhmm)
            )
            assert result.booking is not None
            ids.append(result.booking.id)
    await handled(booking, *ids)
    clock.set(at(tz, date(2026, 12, 3), "09:00"))
    outboxes = [Recorder(), Recorder(), Recorder()]
    databases = [await another_db() for _ in outboxes]  # three processes, say
    for _ in range(3):
        await asyncio.gather(
            *(
                o.service(d, clock, batch=5).dispatch_due()
                for o, d in zip(outboxes, databases, strict=True)
            )
        )
    delivered = [(r.booking_id, r.offset_minutes) for o in outboxes for r in o.delivered]
    assert len(delivered) == len(set(delivered))
    sent = await db.read(
        lambda c: c.execute(
            "SELECT count(*) FROM reminders WHERE status = 'sent' AND kind = 'reminder'"
        ).fetchone()[0]
    )
    assert sent == len(delivered) > 0


async def test_blocked_client_is_marked_unreachable_and_the_staff_told_once(
    booking: ClientBookingService,
    add_service: AddService,
    db: Database,
    tz: BaseTzInfo,
    clock: FakeClock,
    outbox: Recorder,
) -> None:
    service = await add_service()
    first = await booking.book(ALICE, service.id, at(tz, WED, "10:00"))
    second = await booking.book(ALICE, service.id, at(tz, WED, "15:00"))
    assert first.booking is not None and second.booking is not None
    await handled(booking, first.booking.id, second.booking.id)
    clients = ClientService(db, "en", clock)
    told: list[int] = []

    class Channel(Recorder):
        async def unreachable(self, client_id: int) -> None:
            if await clients.mark_unreachable(client_id):
                told.append(client_id)

    channel = Channel()
    channel.failures = [RecipientBlocked("Forbidden: bot was blocked by the user")]
    reminders = channel.service(db, clock)
    clock.set(at(tz, date(2026, 12, 1), "10:00"))
    report = await reminders.dispatch_due()
    assert len(report.failed) == 1
    clock.set(at(tz, date(2026, 12, 1), "15:00"))
    report = await reminders.dispatch_due()
    assert report.skipped and not report.sent  # unreachable: not even tried
    assert told == [ALICE]
    client = await clients.get(ALICE)
    assert client is not None and not client.is_reachable
    reason = (await statuses(db, first.booking.id))[1440]
    assert reason[0] == "failed" and "blocked" in (reason[1] or "")
    # Writing to the bot again makes the client reachable again.
    again = await clients.touch(ALICE, None, "", "en")
    assert again.is_reachable


async def test_flood_control_is_waited_out(
    booking: ClientBookingService,
    add_service: AddService,
    db: Database,
    tz: BaseTzInfo,
    clock: FakeClock,
    outbox: Recorder,
) -> None:
    booking_id = await book(booking, add_service, tz)
    outbox.failures = [RetryLater(3), RetryLater(5)]
    clock.set(at(tz, date(2026, 12, 1), "10:00"))
    report = await outbox.service(db, clock).dispatch_due()
    assert len(report.sent) == 1
    assert outbox.waits == [3, 5]
    assert (await statuses(db, booking_id))[1440][0] == "sent"


async def test_network_errors_retry_with_backoff_then_later_then_give_up(
    booking: ClientBookingService,
    add_service: AddService,
    db: Database,
    tz: BaseTzInfo,
    clock: FakeClock,
    outbox: Recorder,
) -> None:
    booking_id = await book(booking, add_service, tz)
    clock.set(at(tz, date(2026, 12, 1), "10:00"))
    reminders = outbox.service(db, clock)

    outbox.failures = [TransientError("timeout"), TransientError("502")]
    assert len((await reminders.dispatch_due()).sent) == 1  # third try within the dispatch
    assert outbox.waits == [1.0, 2.0]

    clock.set(at(tz, WED, "08:00"))
    outbox.failures = [TransientError("down")] * 3
    report = await reminders.dispatch_due()
    assert report.postponed and not report.sent
    assert (await statuses(db, booking_id))[120][0] == "pending"  # the next poll tries again
    outbox.failures = [TransientError("down")] * 100
    for _ in range(10):
        await reminders.dispatch_due()
    status, reason = (await statuses(db, booking_id))[120]
    assert status == "failed"
    assert "gave up after 5 tries" in (reason or "")


async def test_reminders_of_a_booking_across_the_berlin_dst_change(
    db: Database, rules: Rules, outbox: Recorder
) -> None:
    berlin = get_tz("Europe/Berlin")
    clock = FakeClock(datetime(2026, 3, 27, 11, 0, tzinfo=UTC))  # Fri 12:00 CET
    await ScheduleService(db, clock).seed_weekly_hours(parse_weekly("mon-sun 10:00-18:00"))
    service = await CatalogService(db, clock).add(ADMIN, name="Cut", duration_minutes=60, price=10)
    booking = ClientBookingService(db, replace(rules, tz=berlin), clock)
    made = await booking.book(ALICE, service.id, at(berlin, date(2026, 3, 30), "10:00"))
    assert made.booking is not None
    await handled(booking, made.booking.id)
    reminders = outbox.service(db, clock)
    # Sunday 09:59 CEST is 07:59 UTC: one minute early, nothing.
    clock.set(datetime(2026, 3, 29, 7, 59, tzinfo=UTC))
    assert not (await reminders.dispatch_due()).sent
    clock.set(datetime(2026, 3, 29, 8, 0, tzinfo=UTC))  # Sunday 10:00 CEST: 24 h before
    assert len((await reminders.dispatch_due()).sent) == 1
    clock.set(datetime(2026, 3, 30, 6, 0, tzinfo=UTC))  # Monday 08:00 CEST: 2 h before
    assert len((await reminders.dispatch_due()).sent) == 1
    assert outbox.delivered[0].start.astimezone(berlin).strftime("%H:%M %Z") == "10:00 CEST"
    assert timedelta(0) < outbox.delivered[1].start - clock() == timedelta(hours=2)


async def test_rating_request_after_the_visit_and_never_for_a_no_show_or_a_cancel(
    db: Database,
    tz: BaseTzInfo,
    clock: FakeClock,
    add_service: AddService,
    outbox: Recorder,
    jobs: JobsService,
    staff: StaffService,
    visits: VisitService,
) -> None:
    rules = Rules(tz, reminder_offsets=(), feedback_delay_minutes=120)
    booking = ClientBookingService(db, rules, clock)
    service = await add_service()
    made_for = {}
    for client, hhmm in ((ALICE, "10:00"), (BOB, "12:00"), (333, "15:00")):
        made = await booking.book(client, service.id, at(tz, WED, hhmm))
        assert made.booking is not None
        made_for[client] = made.booking.id
    assert (await staff.cancel(made_for[333], ADMIN)).ok
    await handled(booking, *made_for.values())
    reminders = outbox.service(db, clock)

    clock.set(at(tz, WED, "12:59"))  # Alice's visit ended at 11:00: not yet
    await jobs.complete_past()
    assert (await reminders.dispatch_due()).sent == []
    clock.set(at(tz, WED, "13:00"))
    await jobs.complete_past()
    assert (await staff.mark(made_for[BOB], BookingStatus.NO_SHOW, ADMIN)).ok
    await reminders.dispatch_due()
    clock.set(at(tz, WED, "19:00"))
    await jobs.complete_past()
    await reminders.dispatch_due()

    assert [(r.booking_id, r.kind) for r in outbox.delivered] == [(made_for[ALICE], "feedback")]
    assert (await visits.rate(made_for[ALICE], ALICE, 4)).outcome is Outcome.RATED
    assert (await visits.rate(made_for[ALICE], BOB, 5)).outcome is Outcome.NOT_FOUND
    assert (await visits.rate(made_for[BOB], BOB, 5)).outcome is Outcome.NOT_ACTIVE
    rated = await booking.get(made_for[ALICE])
    assert rated is not None and rated.booking.rating == 4


async def test_no_rating_request_when_switched_off(
    booking: ClientBookingService, add_service: AddService, db: Database, tz: BaseTzInfo
) -> None:
    booking_id = await book(booking, add_service, tz)
    kinds = await db.read(
        lambda c: [
            r[0]
            for r in c.execute(
                "SELECT kind FROM reminders"
                " WHERE booking_id = ? AND kind IN ('reminder', 'feedback')",
                (booking_id,),
            )
        ]
    )
    assert sorted(kinds) == ["reminder", "reminder"]


async def test_after_downtime_a_small_batch_never_sends_two_reminders_of_one_booking(
    booking: ClientBookingService,
    add_service: AddService,
    db: Database,
    tz: BaseTzInfo,
    clock: FakeClock,
    outbox: Recorder,
) -> None:
    first = await book(booking, add_service, tz, ALICE, "15:00")
    second = await book(booking, add_service, tz, BOB, "16:00")
    clock.set(at(tz, WED, "14:00"))  # both reminders of both bookings are due
    reminders = outbox.service(db, clock, batch=1)
    for _ in range(4):
        await reminders.dispatch_due()
    sent = sorted((r.booking_id, r.offset_minutes) for r in outbox.delivered)
    assert sent == [(first, 120), (second, 120)]


THU = date(2026, 12, 3)
THU_HOURS = ("10:00", "11:00", "12:00", "13:00", "15:00", "16:00", "17:00", "18:00")


async def eight_due(db: Database, rules: Rules, clock: FakeClock, add_service: AddService) -> None:
    """Eight bookings on Thursday, each with one reminder a day before: all due at Thu 09:00."""
    service = await add_service()
    one_reminder = ClientBookingService(db, replace(rules, reminder_offsets=(1440,)), clock)
    for n, hhmm in enumerate(THU_HOURS):
        made = await one_reminder.book(4000 + n, service.id, at(rules.tz, THU, hhmm))
        assert made.booking is not None
        await handled(one_reminder, made.booking.id)
    clock.set(at(rules.tz, THU, "09:00"))


async def reminder_states(db: Database) -> list[str]:
    found = await db.read(
        lambda c: c.execute(
            "SELECT status FROM reminders WHERE kind = 'reminder' ORDER BY id"
        ).fetchall()
    )
    return [r[0] for r in found]


async def test_a_stop_mid_batch_sends_nothing_twice_and_leaves_nothing_behind(
    db: Database, rules: Rules, clock: FakeClock, add_service: AddService, another_db: OpenAnother
) -> None:
    await eight_due(db, rules, clock, add_service)
    bound = Recorder().service(db, clock)

    class StopAfterThree(Recorder):
        async def deliver(self, reminder: DueReminder) -> None:
            await super().deliver(reminder)
            if len(self.delivered) == 3:
                bound.service.stop()  # SIGTERM arrives while the third is being sent

    channel = StopAfterThree()
    bound.channel = channel
    report = await bound.dispatch_due()

    assert len(report.sent) == len(channel.delivered) == 3
    # Claimed but never tried: pending again at once, not failed, not waiting for a lease.
    assert sorted(await reminder_states(db)) == ["pending"] * 5 + ["sent"] * 3
    after = Recorder()
    await after.service(await another_db(), clock).dispatch_due()  # the next process
    sent = [r.reminder_id for r in channel.delivered + after.delivered]
    assert len(sent) == len(set(sent)) == 8
    assert await reminder_states(db) == ["sent"] * 8


async def test_after_a_crash_untried_rows_wait_for_their_lease_and_only_the_one_in_flight_fails(
    db: Database, rules: Rules, clock: FakeClock, add_service: AddService, another_db: OpenAnother
) -> None:
    await eight_due(db, rules, clock, add_service)
    crashed = OutboxService(db, rules, clock=clock, batch=8)
    claimed, _ = await db.write(lambda c: crashed._claim_reminders(c, DispatchReport()))
    assert len(claimed) == 8
    first = claimed[0].outbox_id
    now = clock()
    # It started sending the first one, then the process was killed.
    assert await db.write(lambda c: outbox_repo.start_attempt(c, first, crashed.owner, now))

    later = Recorder()
    restarted = later.service(await another_db(), clock)
    await restarted.dispatch_due()
    assert later.delivered == []  # within the dead process's lease nothing is touched
    clock.advance(seconds=61)  # the lease is over
    await restarted.dispatch_due()
    assert sorted(r.reminder_id for r in later.delivered) == sorted(
        r.outbox_id for r in claimed[1:]
    )
    assert (await reminder_states(db)).count("sending") == 1  # the one in flight, unknown
    clock.advance(minutes=10)
    await restarted.dispatch_due()
    states = await reminder_states(db)
    assert states.count("failed") == 1 and states.count("sent") == 7
    assert first not in [r.reminder_id for r in later.delivered]  # never sent twice
