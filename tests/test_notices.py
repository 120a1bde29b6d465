"""Notices through the outbox, on both engines: the admin chat's cards and the client's news are
written with the change that calls for them, delivered at once by the handler (``flush``) and
otherwise by the background dispatch; a booking whose chat answer never went out gets its
confirmation from the outbox; nothing is lost to a crash, and nothing moot is sent."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import date

from pytz.tzinfo import BaseTzInfo

from database.engine import Database
from domain.bookings import BookingStatus
from domain.notices import NoticeKind
from domain.reminders import TransientError
from domain.rules import Rules
from domain.schedule import HoursScope
from services.booking import ClientBookingService
from services.outbox import MAX_ATTEMPTS, DispatchReport, OutboxService
from services.schedule import ScheduleService
from services.staff import StaffService
from tests.conftest import ADMIN, AddService, OpenAnother, at
from tests.support.clock import FakeClock
from tests.support.outbox import Recorder

WED = date(2026, 12, 2)
ALICE, BOB = 111, 222


async def notice_rows(db: Database, booking_id: int) -> dict[str, tuple[str, str | None]]:
    """kind → (status, reason) of a booking's notices."""
    rows = await db.read(
        lambda c: c.execute(
            "SELECT kind, status, reason FROM reminders"
            " WHERE booking_id = ? AND kind NOT IN ('reminder', 'feedback')",
            (booking_id,),
        ).fetchall()
    )
    return {r[0]: (r[1], r[2]) for r in rows}


async def book(booking: ClientBookingService, add_service: AddService, tz: BaseTzInfo) -> int:
    service = await add_service()
    made = await booking.book(ALICE, service.id, at(tz, WED, "10:00"))
    assert made.booking is not None
    return made.booking.id


def outbox_of(db: Database, rules: Rules, clock: FakeClock) -> OutboxService:
    return OutboxService(db, rules, clock=clock, sleep=Recorder().sleep)


async def test_the_handler_delivers_the_card_at_once_and_no_confirmation_follows(
    db: Database,
    rules: Rules,
    clock: FakeClock,
    tz: BaseTzInfo,
    booking: ClientBookingService,
    add_service: AddService,
) -> None:
    booking_id = await book(booking, add_service, tz)
    channel = Recorder()
    delivered = await outbox_of(db, rules, clock).flush(channel, [booking_id], answered=True)

    assert [(n.kind, ok) for n, ok in delivered] == [(NoticeKind.BOOKED, True)]
    card = channel.notices[0]
    assert card.details.booking.id == booking_id and card.details.service_name == "Haircut"
    clock.advance(minutes=5)
    assert (await outbox_of(db, rules, clock).dispatch_due(channel)).sent == []
    assert await notice_rows(db, booking_id) == {
        "card_booked": ("sent", None),
        "confirmation": ("skipped", "answered in the chat"),
    }


async def test_after_a_crash_right_after_the_commit_the_outbox_sends_the_card_and_confirmation(
    db: Database,
    rules: Rules,
    clock: FakeClock,
    tz: BaseTzInfo,
    booking: ClientBookingService,
    add_service: AddService,
    another_db: OpenAnother,
) -> None:
    booking_id = await book(booking, add_service, tz)  # ...and the process died: no flush
    channel = Recorder()
    restarted = outbox_of(await another_db(), rules, clock)

    await restarted.dispatch_due(channel)  # the card at once
    assert [n.kind for n in channel.notices] == [NoticeKind.BOOKED]
    clock.advance(seconds=59)
    await restarted.dispatch_due(channel)  # the chat's answer may still be on its way
    assert len(channel.notices) == 1
    clock.advance(seconds=1)
    await restarted.dispatch_due(channel)
    confirmation = channel.notices[-1]
    assert confirmation.kind is NoticeKind.CONFIRMATION
    assert confirmation.details.booking.client_id == ALICE
    assert confirmation.details.booking.id == booking_id
    assert {s for s, _ in (await notice_rows(db, booking_id)).values()} == {"sent"}


async def test_a_card_that_cannot_go_out_now_goes_with_a_later_poll(
    db: Database,
    rules: Rules,
    clock: FakeClock,
    tz: BaseTzInfo,
    booking: ClientBookingService,
    add_service: AddService,
) -> None:
    booking_id = await book(booking, add_service, tz)
    channel = Recorder()
    channel.failures = [TransientError("502")] * 3  # the try and both retries
    outbox = outbox_of(db, rules, clock)

    delivered = await outbox.flush(channel, [booking_id], answered=True)

    assert [(n.kind, ok) for n, ok in delivered] == [(NoticeKind.BOOKED, False)]
    assert (await notice_rows(db, booking_id))["card_booked"][0] == "pending"
    report = await outbox.dispatch_due(channel)
    assert len(report.sent) == 1 and [n.kind for n in channel.notices] == [NoticeKind.BOOKED]


async def test_news_of_a_booking_already_cancelled_is_not_sent_but_the_cancel_card_is(
    db: Database,
    rules: Rules,
    clock: FakeClock,
    tz: BaseTzInfo,
    booking: ClientBookingService,
    add_service: AddService,
) -> None:
    booking_id = await book(booking, add_service, tz)
    assert (await booking.cancel(booking_id, ALICE)).ok  # before any notice went out
    clock.advance(minutes=2)
    channel = Recorder()
    await outbox_of(db, rules, clock).dispatch_due(channel)

    assert [n.kind for n in channel.notices] == [NoticeKind.CLIENT_CANCELLED]
    assert channel.notices[0].details.booking.status is BookingStatus.CANCELLED
    rows = await notice_rows(db, booking_id)
    assert rows["card_booked"] == ("skipped", "booking cancelled")
    assert rows["confirmation"] == ("skipped", "booking cancelled")


async def test_the_reschedule_card_says_what_the_booking_was(
    db: Database,
    rules: Rules,
    clock: FakeClock,
    tz: BaseTzInfo,
    booking: ClientBookingService,
    add_service: AddService,
) -> None:
    old_id = await book(booking, add_service, tz)
    moved = await booking.reschedule(old_id, at(tz, WED, "15:00"), ALICE)
    assert moved.booking is not None
    channel = Recorder()
    outbox = outbox_of(db, rules, clock)
    await outbox.flush(channel, [old_id, moved.booking.id], answered=True)

    # The first booking's card is moot (it was moved before it went out); the move's card says
    # both times.
    (card,) = channel.notices
    assert card.kind is NoticeKind.RESCHEDULED
    assert card.details.booking.start == at(tz, WED, "15:00")
    assert card.previous is not None and card.previous.booking.start == at(tz, WED, "10:00")


async def test_the_client_is_told_of_an_admin_cancel_and_of_a_day_off_with_the_reason(
    db: Database,
    rules: Rules,
    clock: FakeClock,
    tz: BaseTzInfo,
    booking: ClientBookingService,
    staff: StaffService,
    add_service: AddService,
) -> None:
    service = await add_service()
    made = [
        await booking.book(c, service.id, at(tz, WED, h))
        for c, h in ((ALICE, "10:00"), (BOB, "12:00"))
    ]
    alice, bob = (m.booking.id for m in made if m.booking is not None)
    outbox = outbox_of(db, rules, clock)
    await outbox.flush(Recorder(), [alice, bob], answered=True)  # the booking cards

    assert (await staff.cancel(alice, ADMIN, "the master is ill")).ok
    channel = Recorder()
    (told,) = await outbox.flush(channel, [alice])
    assert told[1] and told[0].kind is NoticeKind.CANCELLED_BY_ADMIN
    assert told[0].reason == "the master is ill" and told[0].details.booking.client_id == ALICE

    await ScheduleService(db, clock).set_day(WED, None, ADMIN)  # a day off, no reason given
    cancelled = (await staff.cancel_outside_hours(HoursScope.day(WED), ADMIN, clock())).cancelled
    assert [d.booking.id for d in cancelled] == [bob]
    (told,) = await outbox.flush(channel, [bob])
    assert told[0].kind is NoticeKind.DAY_OFF and told[0].reason == ""  # no reason was given
    audit = await db.read(
        lambda c: c.execute("SELECT cancel_reason FROM bookings WHERE id = ?", (bob,)).fetchone()[0]
    )
    assert audit == "day off"


async def test_without_an_admin_chat_no_card_is_written(
    db: Database,
    rules: Rules,
    clock: FakeClock,
    tz: BaseTzInfo,
    add_service: AddService,
) -> None:
    no_chat = ClientBookingService(db, replace(rules, admin_cards=False), clock)
    booking_id = await book(no_chat, add_service, tz)
    assert (await no_chat.cancel(booking_id, ALICE)).ok
    assert list(await notice_rows(db, booking_id)) == ["confirmation"]


async def test_a_notice_interrupted_mid_send_is_sent_again_after_its_lease(
    db: Database,
    rules: Rules,
    clock: FakeClock,
    tz: BaseTzInfo,
    booking: ClientBookingService,
    add_service: AddService,
    another_db: OpenAnother,
) -> None:
    booking_id = await book(booking, add_service, tz)
    # A handler's flush claimed the card and started sending it; then the process was killed.
    crashed = outbox_of(db, rules, clock)
    claimed, _ = await db.write(
        lambda c: crashed._claim_notices(c, DispatchReport(), [booking_id], started=True)
    )
    assert len(claimed) == 1
    restarted = outbox_of(await another_db(), rules, clock)
    channel = Recorder()

    await restarted.dispatch_due(channel)
    assert channel.notices == []  # the dead process's lease still holds
    clock.advance(seconds=61)
    await restarted.dispatch_due(channel)
    # Whether it had left is unknown: a card may come twice, never not at all.
    assert [n.kind for n in channel.notices] == [NoticeKind.BOOKED, NoticeKind.CONFIRMATION]
    assert (await notice_rows(db, booking_id))["card_booked"][0] == "sent"


async def test_a_notice_interrupted_again_and_again_is_given_up(
    db: Database,
    rules: Rules,
    clock: FakeClock,
    tz: BaseTzInfo,
    booking: ClientBookingService,
    add_service: AddService,
) -> None:
    booking_id = await book(booking, add_service, tz)
    # Every try so far killed the process mid-send: the card itself is the suspect.
    await db.write(
        lambda c: c.execute(
            "UPDATE reminders SET attempts = ? WHERE booking_id = ? AND kind = 'card_booked'",
            (MAX_ATTEMPTS, booking_id),
        )
    )
    channel = Recorder()
    report = await outbox_of(db, rules, clock).dispatch_due(channel)
    assert channel.notices == [] and len(report.failed) == 1
    status, reason = (await notice_rows(db, booking_id))["card_booked"]
    assert status == "failed" and f"gave up after {MAX_ATTEMPTS}" in (reason or "")


async def test_a_handler_and_two_dispatchers_deliver_each_notice_once(
    db: Database,
    rules: Rules,
    clock: FakeClock,
    tz: BaseTzInfo,
    booking: ClientBookingService,
    add_service: AddService,
    another_db: OpenAnother,
) -> None:
    service = await add_service()
    ids = []
    for n, hhmm in enumerate(["10:00", "11:00", "12:00", "13:00", "15:00", "16:00"]):
        made = await booking.book(1000 + n, service.id, at(tz, WED, hhmm))
        assert made.booking is not None
        ids.append(made.booking.id)
    clock.advance(minutes=2)  # the confirmations are due too
    channels = [Recorder(), Recorder(), Recorder()]
    databases = [db, await another_db(), await another_db()]
    outboxes = [outbox_of(d, rules, clock) for d in databases]
    await asyncio.gather(
        outboxes[0].flush(channels[0], ids),
        outboxes[1].dispatch_due(channels[1]),
        outboxes[2].dispatch_due(channels[2]),
    )
    sent = [(n.kind, n.details.booking.id) for c in channels for n in c.notices]
    assert len(sent) == len(set(sent)) == 2 * len(ids)  # a card and a confirmation each
