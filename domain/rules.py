"""The business's rules, and the business as clients see it: built once from Settings
(``services.container.rules_from`` / ``business_from``), read by services and views alike.

Each rule is decided here and nowhere else: what a client may book (lead time, horizon, the
per-client limit), which bookings wait for the staff's approval, until when they may cancel or
move, which reminders a booking gets, what a client must tell us before booking, and who may
change a booking's status.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from enum import StrEnum

from pytz.tzinfo import BaseTzInfo

from domain.actors import Actor
from domain.bookings import Booking, BookingStatus
from domain.catalog import Service
from domain.clients import Client, RegistrationStep, Standing
from domain.notices import CONFIRMATION_GRACE, CardVerdict, NoticeKind
from domain.outcomes import Outcome
from domain.reminders import OutboxRow, ReminderKind, ReminderStatus
from utils.timeutil import local_today, to_local

# Cancel and Reschedule under a reminder are offered only while a client could still use them:
# the cutoff plus this much time to read the message and decide (the 2-hour reminder with a
# 2-hour cutoff has none, and a button that can only say "too late" is worse than none).
REMINDER_CHANGE_MARGIN = timedelta(minutes=10)


class Approval(StrEnum):
    """APPROVAL: which clients' bookings wait for the staff's Approve."""

    OFF = "off"
    NEW_CLIENTS = "new_clients"  # clients without a completed visit yet
    ALL = "all"


@dataclass(frozen=True)
class Rules:
    tz: BaseTzInfo  # the business's time zone: "today", opening hours, what clients read
    step_minutes: int = 30  # offered starts lie this far apart from the start of working hours
    min_lead_minutes: int = 60  # a booking starts at least this long after it is made
    horizon_days: int = 30  # clients book local dates from today to today + horizon
    max_active_per_client: int = 3  # future active bookings a client may hold
    cancel_cutoff_minutes: int = 120  # a client may cancel or move until this long before
    reminder_offsets: tuple[int, ...] = (1440, 120)  # minutes before the start
    feedback_delay_minutes: int = 0  # ask for a rating this long after the end; 0: never
    require_phone: bool = False  # a client shares their phone before their first booking
    admin_cards: bool = True  # the staff have an admin chat (ADMIN_CHAT_ID) to get cards in
    # Cards about one client's changes per hour (CARDS_WINDOW); 0: no cap.
    admin_cards_per_client_hour: int = 0
    # The rules staff book a client under (/book, /move): no lead time (a start not yet begun)
    # and no per-client limit. Overlaps and the horizon stay; the working hours too, unless an
    # admin explicitly books outside them (services/placement.py, ``outside_hours``).
    staff_booking: bool = False
    approval: Approval = Approval.OFF
    approval_timeout_minutes: int = 120  # a pending booking is declined after this long
    no_show_limit: int = 2  # this many no-shows within the window: approval whatever; 0: never
    no_show_window_days: int = 180
    waitlist_hold_minutes: int = 15  # a time offered to a waiter is held for them this long

    def for_staff(self) -> Rules:
        return replace(self, staff_booking=True)

    # ------------------------------------------------------------ time

    def today(self, now: datetime) -> date:
        return local_today(self.tz, now)

    def local(self, moment: datetime) -> datetime:
        return to_local(self.tz, moment)

    # ------------------------------------------------------------ what a client may book

    def earliest_start(self, now: datetime) -> datetime:
        if self.staff_booking:
            return now
        return now + timedelta(minutes=self.min_lead_minutes)

    def last_bookable_day(self, now: datetime) -> date:
        """Clients may book from today up to and including this local date."""
        return self.today(now) + timedelta(days=self.horizon_days)

    def bookable_days(self, now: datetime) -> tuple[date, date]:
        return self.today(now), self.last_bookable_day(now)

    def limit_reached(self, future_active: int) -> bool:
        """Whether a client holding ``future_active`` bookings may not make another."""
        return not self.staff_booking and future_active >= self.max_active_per_client

    def no_shows_since(self, now: datetime) -> datetime:
        return now - timedelta(days=self.no_show_window_days)

    def needs_approval(self, standing: Standing, service: Service) -> bool:
        """Whether a client's new booking (or move) waits for the staff's Approve: after
        NO_SHOW_LIMIT recent no-shows always; otherwise the service's own say, else APPROVAL.
        What the staff book never does."""
        if self.staff_booking:
            return False
        if self.no_show_limit and standing.recent_no_shows >= self.no_show_limit:
            return True
        if service.approval is not None:
            return service.approval
        if self.approval is Approval.ALL:
            return True
        return self.approval is Approval.NEW_CLIENTS and not standing.visited

    def hold_until(self, now: datetime, start: datetime) -> datetime:
        """Until when a time offered to a waiter now is theirs alone: never past its start."""
        return min(now + timedelta(minutes=self.waitlist_hold_minutes), start)

    def approval_overdue_before(self, now: datetime) -> datetime:
        """Pending bookings made before this are declined by themselves (so are those whose
        start has come)."""
        return now - timedelta(minutes=self.approval_timeout_minutes)

    def missing_registration(self, client: Client) -> RegistrationStep | None:
        """What a client must still tell us before booking: their name, then (if required) a
        phone."""
        if client.name is None:
            return RegistrationStep.NAME
        if self.require_phone and not client.phone:
            return RegistrationStep.PHONE
        return None

    # ------------------------------------------------------------ changing a booking

    def client_may_change(self, start: datetime, now: datetime) -> bool:
        """Whether a client may still cancel or move a booking starting at ``start``."""
        return start - now >= timedelta(minutes=self.cancel_cutoff_minutes)

    def offer_change_in_reminder(self, start: datetime, now: datetime) -> bool:
        return self.client_may_change(start - REMINDER_CHANGE_MARGIN, now)

    def change_refusal(
        self, booking: Booking | None, actor: Actor, now: datetime
    ) -> Outcome | None:
        """Why ``actor`` may not cancel or move ``booking`` now, or None if they may.

        Staff may change any active booking; a client only their own, until the cutoff.
        Another client's booking looks exactly like a missing one: no data leaks either way.
        """
        if booking is None or (actor.is_client and booking.client_id != actor.id):
            return Outcome.NOT_FOUND
        # A hold is not a booking yet: the waiter takes it or declines it (services/waitlist.py),
        # or it expires.
        if not booking.is_active or booking.is_held:
            return Outcome.NOT_ACTIVE
        if actor.is_client and not self.client_may_change(booking.start, now):
            return Outcome.TOO_LATE
        return None

    @staticmethod
    def markable_from(status: BookingStatus) -> tuple[BookingStatus, ...]:
        """The statuses a booking may be marked ``status`` (completed / no-show) from: an active
        one; and a completed visit may still turn out a no-show."""
        if status is BookingStatus.NO_SHOW:
            return (BookingStatus.ACTIVE, BookingStatus.COMPLETED)
        return (BookingStatus.ACTIVE,)

    @classmethod
    def mark_refusal(
        cls, booking: Booking | None, status: BookingStatus, now: datetime
    ) -> Outcome | None:
        """Why a booking cannot be marked ``status`` now, or None: only after its start, and
        only from markable_from()."""
        if booking is None:
            return Outcome.NOT_FOUND
        if booking.status not in cls.markable_from(status):
            return Outcome.NOT_ACTIVE
        if booking.start > now:
            return Outcome.NOT_STARTED
        return None

    # ------------------------------------------------------------ the outbox

    def card_verdict(self, cards_this_hour: int) -> CardVerdict:
        """What becomes of a card about a client's change, given how many cards about that
        client went out within the last hour: it goes out; it goes out as the summary that
        pauses the rest; or it is skipped (the flood of one client's changes)."""
        cap = self.admin_cards_per_client_hour
        if not cap or cards_this_hour < cap:
            return CardVerdict.SEND
        return CardVerdict.PAUSE if cards_this_hour == cap else CardVerdict.SKIP

    def notices_after_booking(
        self, actor: Actor, now: datetime, replaced: int | None = None, *, pending: bool = False
    ) -> list[OutboxRow]:
        """Who hears of a booking (or a move): the admin chat gets a card; the client who made
        it gets their confirmation from the outbox only if the chat's answer did not go out.
        One the staff made: the client is told at once (the outbox skips a client it cannot
        reach: one without Telegram, or who blocked the bot), and the admin chat gets a card.
        A pending one: the admin chat's card asks for Approve or Decline."""
        if pending:
            told = [
                OutboxRow.notice(
                    NoticeKind.CONFIRMATION, now + CONFIRMATION_GRACE, previous_id=replaced
                )
            ]
            if self.admin_cards:
                told.append(OutboxRow.notice(NoticeKind.APPROVAL_CARD, now, previous_id=replaced))
            return told
        if not actor.is_client:
            news = [OutboxRow.notice(NoticeKind.BOOKED_BY_STAFF, now, previous_id=replaced)]
            if self.admin_cards:
                news.append(OutboxRow.notice(NoticeKind.STAFF_CARD, now, previous_id=replaced))
            return news
        told = [
            OutboxRow.notice(
                NoticeKind.CONFIRMATION, now + CONFIRMATION_GRACE, previous_id=replaced
            )
        ]
        if self.admin_cards:
            card = NoticeKind.RESCHEDULED if replaced else NoticeKind.BOOKED
            told.append(OutboxRow.notice(card, now, previous_id=replaced))
        return told

    def notices_after_cancel(
        self, actor: Actor, reason: str | None, now: datetime, *, day_off: bool = False
    ) -> list[OutboxRow]:
        """A client's cancel: a card to the admin chat. The business's: the client is told why."""
        if actor.is_client:
            return [OutboxRow.notice(NoticeKind.CLIENT_CANCELLED, now)] if self.admin_cards else []
        kind = NoticeKind.DAY_OFF if day_off else NoticeKind.CANCELLED_BY_ADMIN
        return [OutboxRow.notice(kind, now, note=reason or None)]

    @staticmethod
    def notices_after_decision(
        now: datetime, *, approved: bool, reason: str | None = None
    ) -> list[OutboxRow]:
        """The client's answer to their pending booking: approved (with the .ics), or declined
        (by the staff, or by the timeout: ``reason``)."""
        if approved:
            return [OutboxRow.notice(NoticeKind.APPROVED, now)]
        return [OutboxRow.notice(NoticeKind.DECLINED, now, note=reason or None)]

    @staticmethod
    def specialist_card(
        now: datetime, *, replaced: int | None = None, cancelled: bool = False
    ) -> OutboxRow:
        """What a linked specialist is told of their booking, its move or its cancel (written
        only when the specialist has an account: services/changes.py)."""
        if cancelled:
            return OutboxRow.notice(NoticeKind.SPECIALIST_CANCELLED, now)
        kind = NoticeKind.SPECIALIST_MOVED if replaced else NoticeKind.SPECIALIST_BOOKED
        return OutboxRow.notice(kind, now, previous_id=replaced)

    def outbox_rows(self, start: datetime, end: datetime, now: datetime) -> list[OutboxRow]:
        """The reminders (offset minutes before the start) and the rating request (after the
        end, stored with a negative offset) a booking gets when it is made."""
        rows: list[OutboxRow] = []
        for offset in self.reminder_offsets:
            due = start - timedelta(minutes=offset)
            if due <= now:
                rows.append(
                    OutboxRow(
                        ReminderKind.REMINDER,
                        offset,
                        due,
                        ReminderStatus.SKIPPED,
                        "offset already passed at booking time",
                    )
                )
            else:
                rows.append(OutboxRow(ReminderKind.REMINDER, offset, due, ReminderStatus.PENDING))
        delay = self.feedback_delay_minutes
        if delay > 0:
            due = end + timedelta(minutes=delay)
            rows.append(OutboxRow(ReminderKind.FEEDBACK, -delay, due, ReminderStatus.PENDING))
        return rows


@dataclass(frozen=True)
class Business:
    """The business as clients see it, with its rules."""

    name: str
    address: str
    phone: str
    currency: str
    rules: Rules

    def local(self, moment: datetime) -> datetime:
        return self.rules.local(moment)

    def local_day(self, moment: datetime) -> date:
        return self.rules.local(moment).date()
