"""Messages the bot sends on its own: cards to the admin chat, news to clients.

Services and handlers say *what* happened (a Notice); how it is rendered and sent to Telegram
lives in handlers/notify.py, injected here as an async ``deliver`` function, so this module does
not import aiogram. A notice that cannot be delivered (the client blocked the bot, the admin
chat is gone, the network failed) is logged and never breaks the action that caused it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum

from domain.bookings import BookingDetails

logger = logging.getLogger(__name__)


class NoticeKind(StrEnum):
    # to the admin chat
    BOOKED = "booked"
    CLIENT_CANCELLED = "client_cancelled"
    RESCHEDULED = "rescheduled"
    # to the client
    CANCELLED_BY_ADMIN = "cancelled_by_admin"
    DAY_OFF = "day_off"


TO_ADMINS = frozenset({NoticeKind.BOOKED, NoticeKind.CLIENT_CANCELLED, NoticeKind.RESCHEDULED})


@dataclass(frozen=True)
class Notice:
    kind: NoticeKind
    details: BookingDetails
    previous: BookingDetails | None = None  # the booking a reschedule replaced
    reason: str = ""

    @property
    def to_admins(self) -> bool:
        return self.kind in TO_ADMINS


Deliver = Callable[[Notice], Awaitable[None]]


class Notifier:
    def __init__(self, deliver: Deliver) -> None:
        self._deliver = deliver

    async def notify(self, notice: Notice) -> bool:
        """Deliver the notice; False (and a log line) if it could not be."""
        try:
            await self._deliver(notice)
        except Exception:
            logger.warning(
                "could not deliver the %s notice of booking %s",
                notice.kind,
                notice.details.booking.id,
                exc_info=True,
            )
            return False
        return True

    async def booked(self, details: BookingDetails) -> bool:
        return await self.notify(Notice(NoticeKind.BOOKED, details))

    async def client_cancelled(self, details: BookingDetails) -> bool:
        return await self.notify(Notice(NoticeKind.CLIENT_CANCELLED, details))

    async def rescheduled(self, details: BookingDetails, previous: BookingDetails | None) -> bool:
        return await self.notify(Notice(NoticeKind.RESCHEDULED, details, previous))

    async def cancelled_by_admin(self, details: BookingDetails, reason: str = "") -> bool:
        return await self.notify(Notice(NoticeKind.CANCELLED_BY_ADMIN, details, reason=reason))

    async def day_off(self, details: BookingDetails, reason: str = "") -> bool:
        return await self.notify(Notice(NoticeKind.DAY_OFF, details, reason=reason))
