"""The reminder outbox: claim due rows atomically, deliver them, record how each one ended.

Rows are written with the booking and voided with a cancel or reschedule (services/booking.py).
Here, an interval job (bot.py, APScheduler) calls ``dispatch_due``:

1. In one BEGIN IMMEDIATE transaction, due ``pending`` rows are claimed (``sending``), or
   skipped with the reason when their booking is no longer active, has already started, or the
   client cannot be reached. Two processes polling one file never claim the same row.
2. Each claimed row is delivered outside any transaction (a network call). It ends ``sent``;
   ``failed`` with the reason (the client blocked the bot: the client is marked unreachable and
   the admin chat told, once); or, after transient errors, ``pending`` again for the next poll,
   until MAX_ATTEMPTS. Flood control (retry_after) is waited out within the same dispatch.
3. A row left ``sending`` by a process that died mid-delivery is failed, never resent: whether
   the message left is unknown, and a reminder must not arrive twice.

Delivery itself (texts, buttons, Telegram) is injected: services do not speak Telegram.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from database import repository as repo
from database.connection import Database
from utils.timeutil import Clock, from_ts, system_clock

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5  # deliveries tried, over several polls, before a row is failed
STALE_SENDING = timedelta(minutes=10)
MAX_FLOOD_WAIT = 60.0  # seconds; a longer retry_after postpones the row to a later poll
MAX_FLOOD_WAITS = 3


@dataclass(frozen=True)
class DueReminder:
    """A due row of the outbox: a reminder before the visit, or ("feedback") a rating request
    after it."""

    reminder_id: int
    booking_id: int
    client_id: int
    offset_minutes: int
    start: datetime
    service_name: str
    specialist_name: str
    language: str | None
    attempts: int
    kind: str = "reminder"


class RecipientBlocked(Exception):
    """The client blocked the bot or deleted the account: delivering again is pointless."""


class RetryLater(Exception):
    """Telegram asked to wait (flood control): ``seconds`` before trying the same message."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"retry after {seconds}s")
        self.seconds = seconds


class TransientError(Exception):
    """Network trouble or a 5xx: trying again later may work."""


Deliver = Callable[[DueReminder], Awaitable[None]]
ClientUnreachable = Callable[[int], Awaitable[None]]


@dataclass
class DispatchReport:
    sent: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    postponed: list[int] = field(default_factory=list)


class ReminderService:
    def __init__(
        self,
        db: Database,
        deliver: Deliver,
        on_unreachable: ClientUnreachable,
        *,
        clock: Clock = system_clock,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        batch: int = 50,
        network_retries: int = 2,
        backoff: float = 1.0,
    ) -> None:
        self.db = db
        self.deliver = deliver
        self.on_unreachable = on_unreachable
        self.clock = clock
        self.sleep = sleep
        self.batch = batch
        self.network_retries = network_retries
        self.backoff = backoff

    async def dispatch_due(self) -> DispatchReport:
        report = DispatchReport()
        claimed = await self.db.write(lambda c: self._claim(c, report), "reminders.claim")
        for reminder in claimed:
            await self._deliver(reminder, report)
        if claimed or report.skipped:
            logger.info(
                "reminders: %d sent, %d skipped, %d failed, %d postponed",
                len(report.sent),
                len(report.skipped),
                len(report.failed),
                len(report.postponed),
            )
        return report

    def _claim(self, conn: sqlite3.Connection, report: DispatchReport) -> list[DueReminder]:
        now = self.clock()
        repo.abandon_stale_sending(conn, now - STALE_SENDING, now)
        report.skipped.extend(repo.skip_superseded(conn, now))
        claimed: list[DueReminder] = []
        rows = repo.due_reminders(conn, now, self.batch)
        for row in rows:
            start = from_ts(row["start_at"])
            status = row["booking_status"]
            reason = None
            if row["kind"] == "feedback" and status == "active":
                continue  # not closed yet (complete_past runs first): ask on a later poll
            elif status != ("completed" if row["kind"] == "feedback" else "active"):
                reason = f"booking {status}"
            elif row["kind"] == "reminder" and start <= now:
                reason = "the appointment had already started"
            elif not row["client_reachable"]:
                reason = "client unreachable (blocked the bot)"
            if reason is not None:
                repo.set_reminder_status(conn, row["reminder_id"], "skipped", now, reason=reason)
                report.skipped.append(row["reminder_id"])
                continue
            repo.set_reminder_status(conn, row["reminder_id"], "sending", now)
            claimed.append(
                DueReminder(
                    reminder_id=row["reminder_id"],
                    booking_id=row["booking_id"],
                    client_id=row["client_id"],
                    offset_minutes=row["offset_minutes"],
                    start=start,
                    service_name=row["service_name"],
                    specialist_name=row["specialist_name"],
                    language=row["client_language"],
                    attempts=row["attempts"] + 1,
                    kind=row["kind"],
                )
            )
        return claimed

    async def _deliver(self, reminder: DueReminder, report: DispatchReport) -> None:
        network_failures = flood_waits = 0
        while True:
            try:
                await self.deliver(reminder)
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
                await self._finish(reminder, "failed", f"recipient blocked the bot: {exc}")
                report.failed.append(reminder.reminder_id)
                await self.on_unreachable(reminder.client_id)
                return
            except Exception as exc:  # a bug or a 400: record it, never loop on it
                logger.exception("reminder %d could not be delivered", reminder.reminder_id)
                await self._finish(reminder, "failed", f"{type(exc).__name__}: {exc}")
                report.failed.append(reminder.reminder_id)
                return
            await self._finish(reminder, "sent", None)
            report.sent.append(reminder.reminder_id)
            return

    async def _postpone(self, reminder: DueReminder, reason: str, report: DispatchReport) -> None:
        if reminder.attempts >= MAX_ATTEMPTS:
            await self._finish(
                reminder, "failed", f"gave up after {reminder.attempts} tries: {reason}"
            )
            report.failed.append(reminder.reminder_id)
        else:
            await self._finish(reminder, "pending", f"try {reminder.attempts} failed: {reason}")
            report.postponed.append(reminder.reminder_id)

    async def _finish(self, reminder: DueReminder, status: str, reason: str | None) -> None:
        now = self.clock()
        await self.db.write(
            lambda c: repo.set_reminder_status(
                c, reminder.reminder_id, status, now, reason=reason, expect="sending"
            ),
            "reminders.finish",
        )
