"""The outbox: messages the bot sends on its own, written in the same transaction as the change
that calls for them. Reminders before a visit and a rating request after it are due at their
time; cards to the admin chat and news to a client (domain/notices.py) are due at once.

Rows are voided in the same transaction as a cancellation; services/outbox.py claims and
delivers the due ones through a ``ReminderChannel`` (Telegram, in handlers/reminders.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from domain.notices import Notice, NoticeKind


class ReminderKind(StrEnum):
    REMINDER = "reminder"  # before the visit; offset minutes before the start
    FEEDBACK = "feedback"  # the rating request; stored with a negative offset, due after the end


class ReminderStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    SKIPPED = "skipped"
    FAILED = "failed"


@dataclass(frozen=True)
class OutboxRow:
    """A row to write with a booking."""

    kind: ReminderKind | NoticeKind
    offset_minutes: int
    due: datetime
    status: ReminderStatus
    reason: str | None = None
    previous_id: int | None = None  # a notice of a move: the booking it replaced
    note: str | None = None  # a notice's words (a cancellation's reason)

    @classmethod
    def notice(
        cls,
        kind: NoticeKind,
        due: datetime,
        *,
        previous_id: int | None = None,
        note: str | None = None,
    ) -> OutboxRow:
        return cls(kind, 0, due, ReminderStatus.PENDING, previous_id=previous_id, note=note)


@dataclass(frozen=True)
class DueEntry:
    """A due pending row with what the claim decides on (read inside the claim)."""

    reminder_id: int
    kind: ReminderKind
    offset_minutes: int
    attempts: int
    booking_id: int
    client_id: int
    start: datetime
    booking_status: str
    service_name: str
    specialist_name: str
    client_language: str | None
    client_reachable: bool


@dataclass(frozen=True)
class DueReminder:
    """A claimed row, ready to deliver: a reminder before the visit, or ("feedback") a rating
    request after it."""

    reminder_id: int
    booking_id: int
    client_id: int
    offset_minutes: int
    start: datetime
    service_name: str
    specialist_name: str
    language: str | None
    attempts: int
    kind: ReminderKind = ReminderKind.REMINDER
    changeable: bool = True  # whether the client may still cancel or move it from the message


class RecipientBlocked(Exception):
    """The client blocked the bot or deleted the account: delivering again is pointless."""


class RetryLater(Exception):
    """Telegram asked to wait (flood control): ``seconds`` before trying the same message."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"retry after {seconds}s")
        self.seconds = seconds


class TransientError(Exception):
    """Network trouble or a 5xx: trying again later may work."""


@dataclass(frozen=True)
class DueNotice:
    """A due pending notice row (read inside the claim)."""

    reminder_id: int
    kind: NoticeKind
    booking_id: int
    previous_id: int | None
    note: str | None
    attempts: int


class ReminderChannel(Protocol):
    """How the outbox reaches people. Raises the errors above, in the outbox's terms."""

    async def deliver(self, reminder: DueReminder) -> None: ...

    async def deliver_notice(self, notice: Notice) -> None: ...

    async def unreachable(self, client_id: int) -> None:
        """The client blocked the bot: remember it and tell the staff (once)."""
