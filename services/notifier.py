"""What a handler does after a change it committed: deliver at once the notices the change
wrote to the outbox (cards to the admin chat, news to a client), with the bot handling the
update, and say when the client's own answer went out. What cannot be delivered now stays in
the outbox for the background dispatch; nothing here breaks the action that caused it."""

from __future__ import annotations

import logging

from domain.notices import Notice, NoticeKind
from domain.reminders import ReminderChannel
from services.outbox import OutboxService

logger = logging.getLogger(__name__)


class Notifier:
    def __init__(self, outbox: OutboxService, channel: ReminderChannel) -> None:
        self.outbox = outbox
        self.channel = channel

    async def after(self, *booking_ids: int, answered: bool = False) -> list[tuple[Notice, bool]]:
        """The notices due for these bookings, delivered now: each with whether it went out.
        ``answered``: the client's chat shows their booked card (no confirmation is due)."""
        try:
            return await self.outbox.flush(self.channel, booking_ids, answered=answered)
        except Exception:  # the change stands; the background dispatch delivers them
            logger.warning("notices of bookings %s wait in the outbox", booking_ids, exc_info=True)
            return []


def count_told(delivered: list[tuple[Notice, bool]], kind: NoticeKind) -> int:
    """How many notices of ``kind`` went out."""
    return sum(1 for notice, ok in delivered if ok and notice.kind is kind)
