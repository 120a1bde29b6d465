"""The outbox: reminders, rating requests and notices (cards to the admin chat, news to a
client, a client's confirmation), each a row written in the same transaction as the change it
follows; here they are claimed with a lease, delivered, and how each one ended is recorded.

Rows are written with the booking and voided with a cancel or reschedule (services/changes.py).
Two ways deliver them:

- ``flush``: the handler that made a change, right after its answer, delivers that change's
  notices at once (claimed with their send already started, so a crash cannot make them vanish).
- ``dispatch_due``: an interval job (bot.py, APScheduler) delivers everything else that is due.

1. In one transaction, a few due ``pending`` rows (what can be sent now) are claimed: ``sending``,
   with this process's name and a lease; or skipped with the reason when their booking is no
   longer what the row is about, has already started, or the client cannot be reached. Two
   processes never claim the same row (SQLite's write lock; PostgreSQL's SKIP LOCKED). It repeats
   while rows are due.
2. Just before a row is sent, its send is marked started (only while the lease holds). It ends
   ``sent``; ``failed`` with the reason (the client blocked the bot: the client is marked
   unreachable and the admin chat told, once); or, after transient errors, ``pending`` again
   for the next poll, until MAX_ATTEMPTS. Flood control (retry_after) is waited out.
3. At a stop (``stop`` then ``release``), rows claimed but never tried go back to ``pending``;
   after a crash they do when their lease ends. A reminder or rating request whose send had
   started and never ended is failed, never resent: whether it left is unknown, and a reminder
   must not arrive twice (at most once). A notice in that state is sent again (at least once):
   a card or a confirmation twice beats none.

Delivery itself (texts, buttons, Telegram) is a ``ReminderChannel`` passed in: services do not
speak Telegram.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta

from database.engine import Conn, Database
from database.repo import accounts, bookings
from database.repo import outbox as queue
from domain.notices import (
    CARDS,
    CARDS_WINDOW,
    OF_A_HOLD,
    OF_A_PENDING_BOOKING,
    OF_AN_ACTIVE_BOOKING,
    TO_ADMINS,
    TO_SPECIALIST,
    TO_STAFF,
    CardVerdict,
    Notice,
    NoticeKind,
)
from domain.reminders import (
    DueReminder,
    RecipientBlocked,
    ReminderChannel,
    ReminderKind,
    ReminderStatus,
    RetryLater,
    TransientError,
)
from domain.rules import Rules
from services.outbox_rows import (
    Claimed,
    DispatchReport,
    noting,
    reachable,
    skip,
    skip_reason,
    unreachable_reason,
)
from utils.logging_setup import bound
from utils.metrics import OUTBOX_BACKLOG, REMINDER_LATENESS
from utils.timeutil import Clock, system_clock

logger = logging.getLogger(__name__)

OFFERS = (NoticeKind.WAITLIST_OFFER.value,)

__all__ = ["DispatchReport", "OutboxService", "skip_reason", "unreachable_reason"]

MAX_ATTEMPTS = 5  # deliveries tried, over several polls, before a row is failed
STALE_SENDING = timedelta(minutes=10)  # a send started this long ago belongs to a dead process
LEASE = timedelta(seconds=60)  # how long claimed rows stay this process's before they are sent
CLAIM_BATCH = 10  # rows claimed at once: what can be sent within the lease
MAX_FLOOD_WAIT = 60.0  # seconds; a longer retry_after postpones the row to a later poll
MAX_FLOOD_WAITS = 3


class OutboxService:
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
            lambda c: queue.release(c, self.owner, now), "reminders.release"
        )
        if released:
            logger.info("released %d claimed reminder(s) not tried before the stop", released)
        return released

    async def dispatch_due(self, channel: ReminderChannel) -> DispatchReport:
        """Everything due: reminders, then notices (those no handler delivered at once)."""
        report = DispatchReport()
        claims: list[Callable[[Conn, DispatchReport], tuple[list[Claimed], int]]] = [
            self._claim_reminders,
            lambda c, part: self._claim_notices(c, part, None),
        ]
        for claim in claims:
            while not self.stopping():
                claimed, looked_at, part = await self.db.write(noting(claim), "outbox.claim")
                report.merge(part)
                for row in claimed:
                    if self.stopping():  # a stop came while the previous one was being sent
                        break
                    await self._attempt(channel, row, report)
                if looked_at < self.batch:
                    break
        if self.stopping():
            await self.release()
        if report.sent or report.skipped or report.failed or report.postponed:
            logger.info(
                "outbox: %d sent, %d skipped, %d failed, %d postponed",
                len(report.sent),
                len(report.skipped),
                len(report.failed),
                len(report.postponed),
            )
        return report

    async def flush(
        self, channel: ReminderChannel, booking_ids: Sequence[int], *, answered: bool = False
    ) -> list[tuple[Notice, bool]]:
        """Deliver now the notices due for these bookings (a handler, right after the change
        and its answer), and every waitlist offer due (the time a change freed, held for
        someone waiting: services/holds.py): each with whether it went out. What fails stays
        in the outbox. ``answered``: the client's chat shows their booked card, so no
        confirmation is due."""
        report = DispatchReport()

        def claim(conn: Conn, part: DispatchReport) -> tuple[list[Claimed], int]:
            if answered:
                now = self.clock()
                for booking_id in booking_ids:
                    queue.confirmation_answered(conn, booking_id, now)
            mine, seen = self._claim_notices(conn, part, booking_ids, started=True)
            offers, more = self._claim_notices(conn, part, None, started=True, of_kinds=OFFERS)
            return mine + offers, seen + more

        claimed, _, part = await self.db.write(noting(claim), "outbox.flush")
        report.merge(part)
        delivered = []
        for row in claimed:
            assert isinstance(row.item, Notice)
            delivered.append((row.item, await self._deliver(channel, row, report)))
        return delivered

    async def measure_backlog(self) -> dict[str, int]:
        """Rows due and not delivered yet, by kind; also the metric's value (GET /metrics)."""
        now = self.clock()
        counts = await self.db.read(lambda c: queue.backlog(c, now), "outbox.backlog")
        for kind in (*ReminderKind, *NoticeKind):
            OUTBOX_BACKLOG.labels(kind.value).set(counts.get(kind.value, 0))
        return counts

    def _claim_reminders(self, conn: Conn, report: DispatchReport) -> tuple[list[Claimed], int]:
        """(the rows claimed, how many due rows were looked at)."""
        now = self.clock()
        queue.abandon_stale_sending(conn, now - STALE_SENDING, now)
        queue.expire_leases(conn, now)
        for row_id in queue.skip_superseded(conn, now):
            report.note("skipped", row_id, ReminderKind.REMINDER)
        claimed: list[Claimed] = []
        due = queue.due(conn, now, self.batch)
        for entry in due:
            if entry.kind is ReminderKind.FEEDBACK and entry.booking_status == "active":
                continue  # not closed yet (complete_past runs first): ask on a later poll
            reason = skip_reason(entry, now)
            if reason is not None:
                skip(conn, report, entry, reason, now)
                continue
            queue.claim(conn, entry.reminder_id, now, self.owner, now + self.lease)
            reminder = DueReminder(
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
            claimed.append(
                Claimed(entry.reminder_id, entry.attempts + 1, reminder, entry.client_id)
            )
        return claimed, len(due)

    def _claim_notices(
        self,
        conn: Conn,
        report: DispatchReport,
        booking_ids: Sequence[int] | None,
        *,
        started: bool = False,
        of_kinds: Sequence[str] = queue.NOTICE_KINDS,
    ) -> tuple[list[Claimed], int]:
        """Like _claim_reminders, for notices; ``started``: sent at once (the handler's flush)."""
        now = self.clock()
        claimed: list[Claimed] = []
        due = queue.due_notices(conn, now, self.batch, booking_ids, of_kinds)
        for entry in due:
            details = bookings.details(conn, entry.booking_id)
            assert details is not None  # rows go with their booking (ON DELETE CASCADE)
            if entry.kind in OF_AN_ACTIVE_BOOKING and not details.booking.is_active:
                reason = f"booking {details.booking.status}"
                skip(conn, report, entry, reason, now)
                continue
            if entry.kind in OF_A_PENDING_BOOKING and not details.booking.is_pending:
                skip(conn, report, entry, "the booking is no longer waiting for approval", now)
                continue
            if entry.kind in OF_A_HOLD and not details.booking.is_held:
                skip(conn, report, entry, "the offer was taken, declined or expired", now)
                continue
            about = details.booking.client_id
            recipient = None
            if entry.kind in TO_SPECIALIST:
                recipient = accounts.account_of(conn, details.booking.specialist_id)
                if recipient is None:  # unlinked since the notice was written
                    skip(conn, report, entry, "the specialist has no linked account", now)
                    continue
            elif entry.kind not in TO_ADMINS and not reachable(conn, about):
                # As for reminders: never to a client without Telegram, or who blocked the bot.
                skip(conn, report, entry, unreachable_reason(about), now)
                continue
            if entry.attempts >= MAX_ATTEMPTS:  # interrupted that often: the notice is the cause
                reason = f"gave up after {entry.attempts} interrupted tries"
                queue.set_status(conn, entry.reminder_id, ReminderStatus.FAILED, now, reason=reason)
                report.note("failed", entry.reminder_id, entry.kind)
                continue
            kind = entry.kind
            if kind in CARDS:
                recent = queue.cards_about_client(conn, about, now - CARDS_WINDOW)
                verdict = self.rules.card_verdict(recent)
                if verdict is CardVerdict.SKIP:
                    cap = self.rules.admin_cards_per_client_hour
                    reason = f"over the cap of {cap} cards an hour about one client"
                    skip(conn, report, entry, reason, now)
                    continue
                if verdict is CardVerdict.PAUSE:
                    kind = NoticeKind.CARDS_PAUSED
            previous = None
            if entry.previous_id is not None:
                previous = bookings.details(conn, entry.previous_id)
            notice = Notice(kind, details, previous, entry.note or "", entry.reminder_id, recipient)
            lease = now + self.lease
            queue.claim(conn, entry.reminder_id, now, self.owner, lease, started=started)
            client = None if kind in TO_STAFF else details.booking.client_id
            claimed.append(Claimed(entry.reminder_id, entry.attempts + 1, notice, client))
        return claimed, len(due)

    async def _attempt(
        self, channel: ReminderChannel, row: Claimed, report: DispatchReport
    ) -> bool:
        """True if it went out."""
        now = self.clock()
        started = await self.db.write(
            lambda c: queue.start_attempt(c, row.outbox_id, self.owner, now), "outbox.start"
        )
        if not started:  # the lease ran out: the row is pending again, for the next claim
            return False
        return await self._deliver(channel, row, report)

    async def _deliver(
        self, channel: ReminderChannel, row: Claimed, report: DispatchReport
    ) -> bool:
        with bound(booking_id=row.booking_id):
            return await self._deliver_row(channel, row, report)

    async def _deliver_row(
        self, channel: ReminderChannel, row: Claimed, report: DispatchReport
    ) -> bool:
        network_failures = flood_waits = 0
        while True:
            try:
                if isinstance(row.item, Notice):
                    await channel.deliver_notice(row.item)
                else:
                    await channel.deliver(row.item)
            except RetryLater as exc:
                flood_waits += 1
                if exc.seconds > MAX_FLOOD_WAIT or flood_waits > MAX_FLOOD_WAITS:
                    await self._postpone(row, f"flood control ({exc.seconds}s)", report)
                    return False
                logger.warning(
                    "outbox row %d: flood control, waiting %ss", row.outbox_id, exc.seconds
                )
                await self.sleep(exc.seconds)
                continue
            except TransientError as exc:
                network_failures += 1
                if network_failures <= self.network_retries:
                    await self.sleep(self.backoff * 2 ** (network_failures - 1))
                    continue
                await self._postpone(row, str(exc), report)
                return False
            except RecipientBlocked as exc:
                await self._finish(row, ReminderStatus.FAILED, f"recipient blocked the bot: {exc}")
                report.note("failed", row.outbox_id, row.kind)
                if row.client_id is not None:
                    await channel.unreachable(row.client_id)
                else:  # the admin chat (the bot removed, the chat gone), or a specialist's chat
                    where = "a specialist's chat" if row.kind in TO_SPECIALIST else "the admin chat"
                    logger.warning(
                        "outbox row %d: %s is out of reach: %s", row.outbox_id, where, exc
                    )
                return False
            except Exception as exc:  # a bug or a 400: record it, never loop on it
                logger.exception("outbox row %d could not be delivered", row.outbox_id)
                await self._finish(row, ReminderStatus.FAILED, f"{type(exc).__name__}: {exc}")
                report.note("failed", row.outbox_id, row.kind)
                return False
            await self._finish(row, ReminderStatus.SENT, None)
            report.note("sent", row.outbox_id, row.kind)
            if isinstance(row.item, DueReminder) and row.item.kind is ReminderKind.REMINDER:
                due = row.item.start - timedelta(minutes=row.item.offset_minutes)
                REMINDER_LATENESS.observe(max(0.0, (self.clock() - due).total_seconds()))
            return True

    async def _postpone(self, row: Claimed, reason: str, report: DispatchReport) -> None:
        if row.attempts >= MAX_ATTEMPTS:
            await self._finish(
                row, ReminderStatus.FAILED, f"gave up after {row.attempts} tries: {reason}"
            )
            report.note("failed", row.outbox_id, row.kind)
        else:
            await self._finish(row, ReminderStatus.PENDING, f"try {row.attempts} failed: {reason}")
            report.note("postponed", row.outbox_id, row.kind)

    async def _finish(self, row: Claimed, status: ReminderStatus, reason: str | None) -> None:
        now = self.clock()
        await self.db.write(
            lambda c: queue.finish(c, row.outbox_id, self.owner, status, now, reason),
            "outbox.finish",
        )
