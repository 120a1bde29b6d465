"""The outbox's way to Telegram (services/outbox.py says what and when): reminders and rating
requests, cards to the admin chat, news and confirmations to clients. Telegram's answers come
back in the outbox's terms (RecipientBlocked, RetryLater, TransientError)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import InlineKeyboardMarkup

from config import Settings
from domain.notices import Notice, NoticeKind
from domain.reminders import (
    DueReminder,
    RecipientBlocked,
    ReminderKind,
    RetryLater,
    TransientError,
)
from domain.rules import Business
from handlers.admin.booking_views import staff_card
from handlers.admin.notices import admin_card, client_notice, specialist_card
from handlers.views.booking import booked_screen, ics_file
from handlers.views.reminders import (
    feedback_keyboard,
    feedback_text,
    reminder_keyboard,
    reminder_text,
)
from handlers.views.waitlist import offer_screen
from services.clients import ClientService
from utils.formatting import esc
from utils.i18n import Translations

logger = logging.getLogger(__name__)

# The client's booked card (and the .ics): their own confirmation, what the staff booked or moved
# for them, the staff's Approve of a pending one.
BOOKED_CARDS = frozenset({NoticeKind.CONFIRMATION, NoticeKind.BOOKED_BY_STAFF, NoticeKind.APPROVED})


@asynccontextmanager
async def in_outbox_terms() -> AsyncIterator[None]:
    """Telegram's errors as the outbox knows them."""
    try:
        yield
    except TelegramForbiddenError as exc:
        raise RecipientBlocked(exc.message) from exc
    except TelegramBadRequest as exc:
        if "chat not found" in exc.message.lower():  # the account is gone
            raise RecipientBlocked(exc.message) from exc
        raise
    except TelegramRetryAfter as exc:
        raise RetryLater(exc.retry_after) from exc
    except (TelegramNetworkError, TelegramServerError) as exc:
        raise TransientError(str(exc)) from exc


class TelegramOutbox:
    """The outbox's ReminderChannel: one message per row, in its reader's language (the client's;
    the admin chat's is DEFAULT_LANGUAGE)."""

    def __init__(
        self,
        bot: Bot,
        translations: Translations,
        business: Business,
        clients: ClientService,
        settings: Settings,
    ) -> None:
        self.bot = bot
        self.translations = translations
        self.business = business
        self.clients = clients
        self.admin_chat_id = settings.admin_chat_id
        self.default_language = settings.default_language

    async def _send(
        self, chat_id: int, text: str, markup: InlineKeyboardMarkup | None = None
    ) -> None:
        async with in_outbox_terms():
            await self.bot.send_message(chat_id, text, reply_markup=markup)

    async def deliver(self, reminder: DueReminder) -> None:
        t = self.translations(reminder.language, self.default_language)
        if reminder.kind is ReminderKind.FEEDBACK:
            text = feedback_text(t, self.business, reminder)
            markup = feedback_keyboard(reminder.booking_id)
        else:
            text = reminder_text(t, self.business, reminder)
            markup = reminder_keyboard(
                t, reminder.booking_id, confirmed=False, changeable=reminder.changeable
            )
        await self._send(reminder.client_id, text, markup)

    async def deliver_notice(self, notice: Notice) -> None:
        if notice.to_specialist:
            assert notice.recipient is not None  # the claim found the account
            reader = await self.clients.get(notice.recipient)
            t = self.translations(reader.language if reader else None, self.default_language)
            screen = specialist_card(t, self.business, notice)
            await self._send(notice.recipient, screen.text)
            return
        if notice.to_admins:
            if self.admin_chat_id is None:  # unset since the card was written
                raise RecipientBlocked("no ADMIN_CHAT_ID")
            t = self.translations(self.default_language)
            if notice.kind is NoticeKind.STAFF_CARD:
                screen = staff_card(t, self.business, notice)
            else:
                screen = admin_card(t, self.business, notice)
            await self._send(self.admin_chat_id, screen.text, screen.markup)
            return
        details = notice.details
        t = self.translations(details.client_language, self.default_language)
        client_id = details.booking.client_id
        if notice.kind is NoticeKind.WAITLIST_OFFER:
            screen = offer_screen(t, self.business, details)
            await self._send(client_id, screen.text, screen.markup)
            return
        if notice.kind not in BOOKED_CARDS:
            screen = client_notice(t, self.business, notice)
            await self._send(client_id, screen.text, screen.markup)
            return
        # The booked card (the client's own, or what the staff booked or moved for them).
        screen = booked_screen(
            t,
            self.business,
            details,
            moved=notice.previous is not None,
            by_staff=notice.kind is NoticeKind.BOOKED_BY_STAFF,
            approved=notice.kind is NoticeKind.APPROVED,
        )
        await self._send(client_id, screen.text, screen.markup)
        if details.booking.is_pending:  # no calendar file until the time is confirmed
            return
        try:  # the card is the confirmation; the file is a courtesy, never a reason to resend it
            ics = ics_file(t, self.business, details)
            await self.bot.send_document(client_id, ics, caption=t("book.ics_caption"))
        except Exception:
            logger.warning("booking %d: the .ics did not go out", details.booking.id, exc_info=True)

    async def unreachable(self, client_id: int) -> None:
        """Mark the client unreachable and tell the admin chat, once per change."""
        if not await self.clients.mark_unreachable(client_id) or self.admin_chat_id is None:
            return
        client = await self.clients.get(client_id)
        t = self.translations(self.default_language)
        name = (client.name or client.first_name) if client else ""
        username = f" @{client.username}" if client and client.username else ""
        try:
            await self.bot.send_message(
                self.admin_chat_id,
                t("reminder.client_blocked", name=esc(name), username=esc(username), id=client_id),
            )
        except Exception:  # the staff notice is best effort; the outbox row has the reason
            logger.warning(
                "could not tell the admin chat that %s is unreachable", client_id, exc_info=True
            )
