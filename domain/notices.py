"""Messages that follow a committed change: cards to the admin chat, news to a client, and the
client's own confirmation. They are outbox rows (the ``reminders`` table), written in the same
transaction as the change, so a crash right after it delays them and never loses them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import Enum, StrEnum

from domain.bookings import BookingDetails


class NoticeKind(StrEnum):
    # to the admin chat
    BOOKED = "card_booked"
    CLIENT_CANCELLED = "card_cancelled"
    RESCHEDULED = "card_rescheduled"
    # to the client
    CANCELLED_BY_ADMIN = "notice_cancelled"
    DAY_OFF = "notice_day_off"
    # the client's booked (or moved) card, in case the answer to their Confirm never went out
    CONFIRMATION = "confirmation"
    # A booking (or a move: previous_id set) the staff made for a client (/book, /move): the
    # admin chat's card, and the client's news with the .ics.
    STAFF_CARD = "card_staff"
    BOOKED_BY_STAFF = "notice_booked"
    # To the specialist's own chat (a linked account, domain/accounts.py): their booking, its
    # cancellation, its move (previous_id set).
    SPECIALIST_BOOKED = "specialist_booked"
    SPECIALIST_CANCELLED = "specialist_cancelled"
    SPECIALIST_MOVED = "specialist_moved"
    # A pending booking (domain/rules.py, ``needs_approval``): the admin chat's card with
    # Approve and Decline, and the client's answer either way.
    APPROVAL_CARD = "card_approval"
    APPROVED = "notice_approved"
    DECLINED = "notice_declined"
    # A time that freed up, held for the first waiter (domain/waitlist.py): Book or No thanks.
    WAITLIST_OFFER = "waitlist_offer"
    # Not a row of its own: the card of a client's change that reached the hourly cap of cards
    # is delivered as this summary; the cards after it that hour are skipped.
    CARDS_PAUSED = "cards_paused"


CARDS = frozenset({NoticeKind.BOOKED, NoticeKind.CLIENT_CANCELLED, NoticeKind.RESCHEDULED})
# Cards about the staff's own changes, and the approval cards (they need an answer), are not
# counted against a client's hourly cap.
TO_ADMINS = CARDS | {NoticeKind.CARDS_PAUSED, NoticeKind.STAFF_CARD, NoticeKind.APPROVAL_CARD}
TO_SPECIALIST = frozenset(
    {NoticeKind.SPECIALIST_BOOKED, NoticeKind.SPECIALIST_CANCELLED, NoticeKind.SPECIALIST_MOVED}
)
# Notices to the staff: whether the client can be reached does not matter.
TO_STAFF = TO_ADMINS | TO_SPECIALIST
# What a client is told when the business cancels their booking.
CANCEL_NEWS = frozenset({NoticeKind.CANCELLED_BY_ADMIN, NoticeKind.DAY_OFF})
# News of a booking that is moot once it is cancelled or moved before the notice went out (the
# cancellation's own card or notice says what matters).
OF_AN_ACTIVE_BOOKING = frozenset(
    {
        NoticeKind.BOOKED,
        NoticeKind.RESCHEDULED,
        NoticeKind.CONFIRMATION,
        NoticeKind.STAFF_CARD,
        NoticeKind.BOOKED_BY_STAFF,
        NoticeKind.SPECIALIST_BOOKED,
        NoticeKind.SPECIALIST_MOVED,
        NoticeKind.APPROVED,
    }
)
# A question about a pending booking: moot once it is approved, declined or cancelled.
OF_A_PENDING_BOOKING = frozenset({NoticeKind.APPROVAL_CARD})
# An offer to a waiter: moot once the hold is taken, declined or expired.
OF_A_HOLD = frozenset({NoticeKind.WAITLIST_OFFER})

# The handler answers a Confirm within a second; only if it has not done so by then (the process
# died on the way) is the confirmation sent from the outbox instead.
CONFIRMATION_GRACE = timedelta(seconds=60)

# The window of ADMIN_CARDS_PER_CLIENT_HOUR.
CARDS_WINDOW = timedelta(hours=1)


class CardVerdict(Enum):
    SEND = "send"
    PAUSE = "pause"  # the one that reaches the cap: sent as the CARDS_PAUSED summary
    SKIP = "skip"


@dataclass(frozen=True)
class Notice:
    kind: NoticeKind
    details: BookingDetails
    previous: BookingDetails | None = None  # the booking a reschedule replaced
    reason: str = ""
    outbox_id: int = 0
    recipient: int | None = None  # a specialist's notice: their Telegram account, at the claim

    @property
    def to_admins(self) -> bool:
        return self.kind in TO_ADMINS

    @property
    def to_specialist(self) -> bool:
        return self.kind in TO_SPECIALIST
