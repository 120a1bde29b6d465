"""The reminder outbox: claim due rows with a lease, deliver them, record how each one ended.

Rows are written with the booking and voided with a cancel or reschedule (services/placement.py).
Here, an interval job (bot.py, APScheduler) calls ``dispatch_due``:

1. In one transaction, a few due ``pending`` rows (what can be sent now) are claimed: ``sending``,
   with this process's name and a lease; or skipped with the reason when their booking is no
   longer active, has already started, or the client cannot be reached. Two processes never
   claim the same row (SQLite's write lock; PostgreSQL's SKIP LOCKED). It repeats while rows
   are due.
2. Just before a row is sent, its send is marked started (only while the lease holds). It ends
   ``sent``; ``failed`` with the reason (the client blocked the bot: the client is marked
   unreachable and the admin chat told, once); or, after transient errors, ``pending`` again
   for the next poll, until MAX_ATTEMPTS. Flood control (retry_after) is waited out.
3. At a stop (``stop`` then ``release``), rows claimed but never tried go back to ``pending``;
   after a crash they do when their lease ends. Only a row whose send had started and never
   ended is failed, never resent: whether the message left is unknown, and a reminder must not
   arrive twice (the one at-most-once case).

Delivery itself (texts, buttons, Telegram) is a ``ReminderChannel`` passed to each dispatch:
services do not speak Telegram.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from database.engine import Conn, Database
from database.repo import outbox
from domain.reminders import (
    DueEntry,
    DueReminder,
    RecipientBlocked,
    ReminderChannel,
    ReminderKind,
    ReminderStatus,
    RetryLater,
    TransientError,
)
from domain.rules import Rules
from utils.timeutil import Clock, system_clock

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5  # deliveries tried, over several polls, before a row is failed
STALE_SENDING = timedelta(minutes=10)  # a send started this long ago belongs to a dead process
LEASE = timedelta(seconds=60)  # how long claimed rows stay this process's before they are sent
CLAIM_BATCH = 10  # rows claimed at once: what can be sent within the lease
MAX_FLOOD_WAIT = 60.0  # seconds; a longer retry_after postpones the row to a later poll
MAX_FLOOD_WAITS = 3


@dataclass
class DispatchReport:
    sent: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    postponed: list[int] = field(default_factory=list)


def skip_reason(entry: DueEntry, now: datetime) -> str | None:
    """Why a due row is not worth sending (None: send it)."""
    wanted = "completed" if entry.kind is ReminderKind.FEEDBACK else "active"
    if entry.booking_status != wanted:
        return f"booking {entry.booking_status}"
    if entry.kind is ReminderKind.REMINDER and entry.start <= now:
        return "the appointment had already started"
    if not entry.client_reachable:
        return "client unreachable (blocked the bot)"
    return None


class ReminderService:
    def __init__(
        self,
        db: Database,
        rules: Rules,
        *,
        clock: Clock = system_clock,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        batch: int = CLAIM_BATCH,
        lease: timedelta = LEASE,
        network_retries: int = 2,
        backoff: float = 1.0,
    ) -> None:
        self.db = db
        self.rules = rules
        self.clock = clock
        self.sleep = sleep
        self.batch = batch
        self.lease = lease
        self.network_retries = network_retries
        self.backoff = backoff
        # Whose claims are whose, among every process on the database.
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._stopping = False

    def stopping(self) -> bool:
        return self._stopping

    def stop(self) -> None:
        """No new sends from now on; the one being sent finishes (bot.py, at SIGTERM)."""
        self._stopping = True

    async def release(self) -> int:
        """Rows this process claimed and never tried: pending again, for whoever runs next."""
        now = self.clock()
        released = await self.db.write(
            lambda c: outbox.release(c, self.owner, now), "reminders.release"
        )
        if released:
            logger.info("released %d claimed reminder(s) not tried before the stop", released)
        return released

    async def dispatch_due(self, channel: ReminderChannel) -> DispatchReport:
        report = DispatchReport()
        while not self.stopping():
            claimed, looked_at = await self.db.write(
                lambda c: self._claim(c, report), "reminders.claim"
            )
            for reminder in claimed:
                if self.stopping():  # a stop came while the previous one was being sent
                    break
                await self._attempt(channel, reminder, report)
            if looked_at < self.batch:
                break
        if self.stopping():
            await self.release()
        if report.sent or report.skipped or report.failed or report.postponed:
            logger.info(
                "reminders: %d sent, %d skipped, %d failed, %d postponed",
                len(report.sent),
                len(report.skipped),
                len(report.failed),
                len(report.postponed),
            )
        return report

    def _claim(self, conn: Conn, report: DispatchReport) -> tuple[list[DueReminder], int]:
        """(the rows claimed, how many due rows were looked at)."""
        now = self.clock()
        outbox.abandon_stale_sending(conn, now - STALE_SENDING, now)
        outbox.expire_leases(conn, now)
        report.skipped.extend(outbox.skip_superseded(conn, now))
        claimed: list[DueReminder] = []
        due = outbox.due(conn, now, self.batch)
        for entry in due:
            if entry.kind is ReminderKind.FEEDBACK and entry.booking_status == "active":
                continue  # not closed yet (complete_past runs first): ask on a later poll
            reason = skip_reason(entry, now)
            if reason is not None:
                outbox.set_status(
                    conn, entry.reminder_id, ReminderStatus.SKIPPED, now, reason=reason
                )
                report.skipped.append(entry.reminder_id)
                continue
            outbox.claim(conn, entry.reminder_id, now, self.owner, now + self.lease)
            claimed.append(
                DueReminder(
                    reminder_id=entry.reminder_id,
                    booking_id=entry.booking_id,
                    client_id=entry.client_id,
                    offset_minutes=entry.offset_minutes,
                    start=entry.start,
                    service_name=entry.service_name,
                    specialist_name=entry.specialist_name,
                    language=entry.client_language,
                    attempts=entry.attempts + 1,
                    kind=entry.kind,
                    changeable=self.rules.offer_change_in_reminder(entry.start, now),
                )
            )
        return claimed, len(due)

    async def _attempt(
        self, channel: ReminderChannel, reminder: DueReminder, report: DispatchReport
    ) -> None:
        now = self.clock()
        started = await self.db.write(
            lambda c: outbox.start_attempt(c, reminder.reminder_id, self.owner, now),
            "reminders.start",
        )
        if started:  # else the lease ran out: the row is pending again, for the next claim
            await self._deliver(channel, reminder, report)

    async def _deliver(
        self, channel: ReminderChannel, reminder: DueReminder, report: DispatchReport
    ) -> None:
        network_failures = flood_waits = 0
        while True:
            try:
                await channel.deliver(reminder)
            except RetryLater as exc:
                flood_waits += 1
                if exc.seconds > MAX_FLOOD_WAIT or flood_waits > MAX_FLOOD_WAITS:
                    await self._postpone(reminder, f"flood control ({exc.seconds}s)", report)
                    return
                logger.warning(
                    "reminder %d: flood control, waiting %ss", reminder.reminder_id, exc.seconds
                )
                await self.sleep(exc.seconds)
                continue
            except TransientError as exc:
                network_failures += 1
                if network_failures <= self.network_retries:
                    await self.sleep(self.backoff * 2 ** (network_failures - 1))
                    continue
                await self._postpone(reminder, str(exc), report)
                return
            except RecipientBlocked as exc:
                await self._finish(
                    reminder, ReminderStatus.FAILED, f"recipient blocked the bot: {exc}"
                )
                report.failed.append(reminder.reminder_id)
                await channel.unreachable(reminder.client_id)
                return
            except Exception as exc:  # a bug or a 400: record it, never loop on it
                logger.exception("reminder %d could not be delivered", reminder.reminder_id)
                await self._finish(reminder, ReminderStatus.FAILED, f"{type(exc).__name__}: {exc}")
                report.failed.append(reminder.reminder_id)
                return
            await self._finish(reminder, ReminderStatus.SENT, None)
            report.sent.append(reminder.reminder_id)
            return

    async def _postpone(self, reminder: DueReminder, reason: str, report: DispatchReport) -> None:
        if reminder.attempts >= MAX_ATTEMPTS:
            await self._finish(
                reminder,
                ReminderStatus.FAILED,
                f"gave up after {reminder.attempts} tries: {reason}",
            )
            report.failed.append(reminder.reminder_id)
        else:
            await self._finish(
                reminder, ReminderStatus.PENDING, f"try {reminder.attempts} failed: {reason}"
            )
            report.postponed.append(reminder.reminder_id)

    async def _finish(
        self, reminder: DueReminder, status: ReminderStatus, reason: str | None
    ) -> None:
        now = self.clock()
        await self.db.write(
            lambda c: outbox.finish(c, reminder.reminder_id, self.owner, status, now, reason),
            "reminders.finish",
        )
