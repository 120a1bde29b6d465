"""A ReminderService bound to the channel it delivers through, as bot.py's tick calls it."""

from __future__ import annotations

from domain.reminders import ReminderChannel
from services.reminders import DispatchReport, ReminderService


class BoundReminders:
    def __init__(self, service: ReminderService, channel: ReminderChannel) -> None:
        self.service = service
        self.channel = channel

    async def dispatch_due(self) -> DispatchReport:
        return await self.service.dispatch_due(self.channel)
