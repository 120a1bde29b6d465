"""The outbox of messages sent on a schedule: reminders before a visit, a rating request after.

Rows are written in the same transaction as the booking and voided in the same transaction as
its cancellation; services/reminders.py claims and delivers the due ones through a
``ReminderChannel`` (Telegram, in handlers/reminders.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol


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

    kind: ReminderKind
    offset_minutes: int
    due: datetime
    status: ReminderStatus
    reason: str | None = None


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


class ReminderChannel(Protocol):
    """How due reminders reach clients. Raises the errors above, in the outbox's terms."""

    async def deliver(self, reminder: DueReminder) -> None: ...

    async def unreachable(self, client_id: int) -> None:
        """The client blocked the bot: remember it and tell the staff (once)."""
