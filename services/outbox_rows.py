"""What the outbox's claims share (services/outbox.py): the rows a process holds, the report of
how rows ended (counted by kind in the metrics), and why a due row is skipped."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from database.engine import Conn
from database.repo import clients
from database.repo import outbox as queue
from domain.notices import Notice
from domain.reminders import DueEntry, DueNotice, DueReminder, ReminderKind, ReminderStatus
from services.clients import has_telegram
from utils.metrics import OUTBOX


@dataclass(frozen=True)
class Claimed:
    """A row this process holds: what to send, and whom a "blocked" answer is about."""

    outbox_id: int
    attempts: int  # counting this one
    item: DueReminder | Notice
    client_id: int | None  # None: the admin chat

    @property
    def kind(self) -> str:
        return self.item.kind.value

    @property
    def booking_id(self) -> int:
        item = self.item
        return item.booking_id if isinstance(item, DueReminder) else item.details.booking.id


@dataclass
class DispatchReport:
    """Row ids by how they ended, counted by kind in the metrics. A claim notes into a report
    of its own (``live=False``), merged once its transaction committed: a claim run again after
    a conflict counts once."""

    sent: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    postponed: list[int] = field(default_factory=list)
    live: bool = True
    counts: Counter[tuple[str, str]] = field(default_factory=Counter)

    def note(self, status: str, row_id: int, kind: str) -> None:
        getattr(self, status).append(row_id)
        self.counts[(kind, status)] += 1
        if self.live:
            OUTBOX.labels(kind, status).inc()

    def merge(self, part: DispatchReport) -> None:
        for status in ("sent", "skipped", "failed", "postponed"):
            getattr(self, status).extend(getattr(part, status))
        self.counts.update(part.counts)
        for (kind, status), count in part.counts.items():
            OUTBOX.labels(kind, status).inc(count)


def noting(
    claim: Callable[[Conn, DispatchReport], tuple[list[Claimed], int]],
) -> Callable[[Conn], tuple[list[Claimed], int, DispatchReport]]:
    """The claim as a unit of work noting into a report of its own (see DispatchReport)."""

    def unit(conn: Conn) -> tuple[list[Claimed], int, DispatchReport]:
        part = DispatchReport(live=False)
        claimed, looked_at = claim(conn, part)
        return claimed, looked_at, part

    return unit


def skip(
    conn: Conn, report: DispatchReport, entry: DueEntry | DueNotice, reason: str, now: datetime
) -> None:
    queue.set_status(conn, entry.reminder_id, ReminderStatus.SKIPPED, now, reason=reason)
    report.note("skipped", entry.reminder_id, entry.kind)


def skip_reason(entry: DueEntry, now: datetime) -> str | None:
    """Why a due row is not worth sending (None: send it)."""
    wanted = "completed" if entry.kind is ReminderKind.FEEDBACK else "active"
    if entry.booking_status != wanted:
        return f"booking {entry.booking_status}"
    if entry.kind is ReminderKind.REMINDER and entry.start <= now:
        return "the appointment had already started"
    if not entry.client_reachable:
        return unreachable_reason(entry.client_id)
    return None


def unreachable_reason(client_id: int) -> str:
    if not has_telegram(client_id):
        return "client unreachable (no Telegram)"
    return "client unreachable (blocked the bot)"


def reachable(conn: Conn, client_id: int) -> bool:
    client = clients.get(conn, client_id)
    return client is not None and client.is_reachable and has_telegram(client_id)
