"""The outbox in service tests: a channel that records what would have gone to Telegram, and an
OutboxService bound to its channel, as bot.py's tick calls it."""

from __future__ import annotations

from database.engine import Database
from domain.notices import Notice
from domain.reminders import DueReminder, ReminderChannel
from domain.rules import Rules
from services.outbox import DispatchReport, OutboxService
from tests.support.clock import FakeClock
from utils.timeutil import get_tz

RULES = Rules(get_tz("Europe/Moscow"))  # the reminders' offer of Cancel/Reschedule: 120 min


class BoundReminders:
    def __init__(self, service: OutboxService, channel: ReminderChannel) -> None:
        self.service = service
        self.channel = channel

    async def dispatch_due(self) -> DispatchReport:
        return await self.service.dispatch_due(self.channel)


class Recorder:
    """A delivery that records what would have gone to Telegram, or fails as told."""

    def __init__(self) -> None:
        self.delivered: list[DueReminder] = []
        self.notices: list[Notice] = []
        self.failures: list[Exception] = []
        self.unreachable_ids: list[int] = []
        self.waits: list[float] = []

    async def deliver(self, reminder: DueReminder) -> None:
        if self.failures:
            raise self.failures.pop(0)
        self.delivered.append(reminder)

    async def deliver_notice(self, notice: Notice) -> None:
        if self.failures:
            raise self.failures.pop(0)
        self.notices.append(notice)

    async def unreachable(self, client_id: int) -> None:
        self.unreachable_ids.append(client_id)

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)

    def service(
        self, db: Database, clock: FakeClock, batch: int = 50, rules: Rules = RULES
    ) -> BoundReminders:
        service = OutboxService(db, rules, clock=clock, sleep=self.sleep, backoff=1.0, batch=batch)
        return BoundReminders(service, self)
