"""Writing what placement decided, inside the writer's transaction: a booking with its outbox
rows and audit row, a cancel, a move (the old booking cancelled and the new one made together).

Every function here runs inside a unit of work (BEGIN IMMEDIATE on SQLite; under the locks
``placement.place`` took on PostgreSQL).
"""

from __future__ import annotations

from datetime import datetime

from database.engine import Conn
from database.repo import accounts, approval, audit, bookings, clients, outbox, waitlist
from domain.actors import Actor
from domain.bookings import RESCHEDULED_REASON, Booking, BookingStatus
from domain.clients import Standing
from domain.outcomes import BookingResult, Outcome
from domain.rules import Rules
from services import holds
from services.placement import Placed, place


def standing(
    conn: Conn, rules: Rules, actor: Actor, client_id: int, now: datetime
) -> Standing | None:
    """For a client's own booking or move: whether they are blocked, and what decides whether
    it waits for approval. None for the staff's: they book a blocked client too, never pending.

    Read after the start was found bookable: the refusals (most attempts at a busy time) never
    pay for it."""
    if not actor.is_client:
        return None
    return approval.standing(conn, client_id, rules.no_shows_since(now))


def insert(
    conn: Conn,
    rules: Rules,
    client_id: int,
    placed: Placed,
    start: datetime,
    now: datetime,
    actor: Actor,
    rescheduled_from: int | None,
    client: Standing | None = None,
) -> Booking:
    """The booking, its outbox rows (reminders, and who is told of it) and its audit row.

    Pending (``Rules.needs_approval`` for the ``client``'s standing): it holds its time, the
    admin chat is asked, and the reminders and the specialist's card wait for the Approve
    (services/approvals.py)."""
    service = placed.service
    pending = client is not None and rules.needs_approval(client, service)
    clients.ensure(conn, client_id, now)
    booking = bookings.insert(
        conn,
        client_id=client_id,
        service=service,
        specialist_id=placed.specialist_id,
        start=start,
        now=now,
        rescheduled_from=rescheduled_from,
        outside_hours=placed.outside_hours,
        awaiting_approval=pending,
    )
    announce(conn, rules, booking, actor, now, pending=pending)
    audit.record(
        conn,
        actor=actor,
        action="booking.rescheduled" if rescheduled_from else "booking.created",
        entity="booking",
        entity_id=booking.id,
        now=now,
        start=start.isoformat(),
        service_id=service.id,
        specialist_id=placed.specialist_id,
        rescheduled_from=rescheduled_from,
        pending=pending,
    )
    return booking


def announce(
    conn: Conn, rules: Rules, booking: Booking, actor: Actor, now: datetime, *, pending: bool
) -> None:
    """The outbox rows of a booking made (or a hold taken): who is told of it; unless it is
    pending, its reminders and its specialist's card."""
    replaced = booking.rescheduled_from
    told = rules.notices_after_booking(actor, now, replaced, pending=pending)
    if not pending:
        told.extend(rules.outbox_rows(booking.start, booking.end, now))
        if accounts.account_of(conn, booking.specialist_id) is not None:
            told.append(rules.specialist_card(now, replaced=replaced))
    outbox.insert(conn, booking.id, told, now)


def refused(outcome: Outcome, booking: Booking | None) -> BookingResult:
    # NOT_FOUND carries nothing: another client's booking looks exactly like a missing one.
    return BookingResult(outcome, None if outcome is Outcome.NOT_FOUND else booking)


def cancel_in_tx(
    conn: Conn,
    booking: Booking,
    actor: Actor,
    reason: str | None,
    now: datetime,
    *,
    tell_specialist: bool = True,
) -> Booking | None:
    """The booking cancelled, its pending reminders voided, the audit row written, its
    specialist told if they have an account (a move to another time of theirs tells them of the
    move instead: ``tell_specialist``); None if it was no longer active (cancelled or moved
    meanwhile by another transaction)."""
    cancelled = bookings.set_status(
        conn,
        booking.id,
        BookingStatus.CANCELLED,
        now,
        only_from=(BookingStatus.ACTIVE,),
        actor=actor,
        reason=reason,
    )
    if cancelled is None:
        return None
    outbox.void_pending(conn, booking.id, f"booking cancelled ({reason or '-'})", now)
    if booking.held_until is not None:  # a hold the staff cancelled (a day off): that turn ends
        waitlist.end_turn(conn, booking.id, now)
    # A pending booking's specialist never heard of it (the row as it was cancelled: an Approve
    # may have landed since the caller read it).
    tell_specialist = tell_specialist and not cancelled.awaiting_approval
    if tell_specialist and accounts.account_of(conn, booking.specialist_id) is not None:
        outbox.insert(conn, booking.id, [Rules.specialist_card(now, cancelled=True)], now)
    audit.record(
        conn,
        actor=actor,
        action="booking.cancelled",
        entity="booking",
        entity_id=booking.id,
        now=now,
        reason=reason,
    )
    return cancelled


def cancel(
    conn: Conn,
    rules: Rules,
    booking_id: int,
    actor: Actor,
    reason: str | None,
    now: datetime,
) -> BookingResult:
    """Cancel if ``actor`` may (a client their own until the cutoff; staff any active one)."""
    booking = bookings.get(conn, booking_id)
    refusal = rules.change_refusal(booking, actor, now)
    if refusal is not None:
        return refused(refusal, booking)
    assert booking is not None
    cancelled = cancel_in_tx(conn, booking, actor, reason, now)
    if cancelled is None:
        return refused(Outcome.NOT_ACTIVE, bookings.get(conn, booking_id))
    outbox.insert(conn, booking_id, rules.notices_after_cancel(actor, reason, now), now)
    holds.offer_freed(conn, rules, now, [holds.freed_by(rules, cancelled)])
    return BookingResult(Outcome.CANCELLED, cancelled)


def reschedule(
    conn: Conn,
    rules: Rules,
    booking_id: int,
    new_start: datetime,
    actor: Actor,
    specialist_id: int | None,
    now: datetime,
    *,
    outside_hours: bool = False,
) -> BookingResult:
    """Move a booking: the old one is cancelled and the new one made together, or neither."""
    old = bookings.get(conn, booking_id)
    refusal = rules.change_refusal(old, actor, now)
    if refusal is Outcome.NOT_ACTIVE:
        assert old is not None
        # A repeated Confirm of this very move (a double click) is not an error.
        moved = bookings.active_at(conn, old.client_id, old.service_id, new_start)
        if moved is not None and moved.rescheduled_from == old.id:
            return BookingResult(Outcome.ALREADY_BOOKED, moved, old)
    if refusal is not None:
        return refused(refusal, old)
    assert old is not None
    if new_start == old.start and specialist_id in (None, old.specialist_id):
        return BookingResult(Outcome.SAME_TIME, old)
    placed = place(
        conn,
        rules,
        old.client_id,
        old.service_id,
        new_start,
        specialist_id,
        now,
        old,
        outside_hours=outside_hours,
    )
    if isinstance(placed, BookingResult):
        return placed
    client = standing(conn, rules, actor, old.client_id, now)
    if client is not None and client.blocked:
        return BookingResult(Outcome.BLOCKED)
    # The old specialist hears of a cancel when the booking goes to someone else; the new one of
    # the move (their card shows the old time).
    elsewhere = placed.specialist_id != old.specialist_id
    previous = cancel_in_tx(conn, old, actor, RESCHEDULED_REASON, now, tell_specialist=elsewhere)
    if previous is None:  # moved or cancelled by another transaction meanwhile
        return refused(Outcome.NOT_ACTIVE, bookings.get(conn, booking_id))
    # A client's move of a confirmed booking stays confirmed (waiting for approval, and being
    # declined, would lose the time they had); a pending one's move waits again.
    asks = client if old.awaiting_approval else None
    booking = insert(conn, rules, old.client_id, placed, new_start, now, actor, old.id, asks)
    holds.offer_freed(conn, rules, now, [holds.freed_by(rules, previous)])
    return BookingResult(Outcome.RESCHEDULED, booking, previous)
