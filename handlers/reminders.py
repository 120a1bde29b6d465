"""Reminders as the client sees them, "I'll come", and telling the staff about a blocked bot.

services/reminders.py decides what is due and records how each delivery ended; this module only
turns a due reminder into a Telegram message and Telegram's answers into the outbox's terms.
"""

from __future__ import annotations

import logging

from aiogram import F, Router
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import CallbackQuery, Message

from domain.clients import Client
from domain.outcomes import Outcome
from domain.reminders import (
    DueReminder,
    RecipientBlocked,
    ReminderKind,
    RetryLater,
    TransientError,
)
from handlers.callback_data import BookingCb, RateCb, VisitCb
from handlers.common import alert
from handlers.notify import TelegramOutput
from handlers.views.reminders import (
    feedback_keyboard,
    feedback_text,
    reminder_keyboard,
    reminder_text,
)
from services.visits import VisitService
from utils.formatting import esc
from utils.i18n import Translator

logger = logging.getLogger(__name__)


class TelegramReminders(TelegramOutput):
    """The outbox's ReminderChannel: one message per due row, in the client's language."""

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
        try:
            await self.bot.send_message(reminder.client_id, text, reply_markup=markup)
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
        except Exception:  # the staff notice is best effort; the reminder row has the reason
            logger.warning(
                "could not tell the admin chat that %s is unreachable", client_id, exc_info=True
            )


async def confirm_visit(
    callback: CallbackQuery,
    callback_data: VisitCb,
    client: Client,
    t: Translator,
    visits: VisitService,
) -> None:
    result = await visits.confirm_visit(callback_data.booking, client.id)
    if result.outcome is not Outcome.CONFIRMED:
        await alert(callback, t(f"outcome.{result.outcome.value}"))
        return
    message, line = callback.message, t("reminder.confirmed_line")
    if isinstance(message, Message) and message.text and not message.text.endswith(line):
        still = message.reply_markup is not None and any(
            BookingCb.__prefix__ in (b.callback_data or "")
            for row in message.reply_markup.inline_keyboard
            for b in row
        )
        await message.edit_text(
            message.html_text + "\n\n" + line,
            reply_markup=reminder_keyboard(
                t, callback_data.booking, confirmed=True, changeable=still
            ),
        )
    await callback.answer(t("reminder.thanks"))


async def rate(
    callback: CallbackQuery,
    callback_data: RateCb,
    client: Client,
    t: Translator,
    visits: VisitService,
) -> None:
    result = await visits.rate(callback_data.booking, client.id, callback_data.stars)
    if result.outcome is not Outcome.RATED:
        await alert(callback, t(f"outcome.{result.outcome.value}"))
        return
    stars = "★" * callback_data.stars + "☆" * (5 - callback_data.stars)
    if isinstance(callback.message, Message):
        await callback.message.edit_text(t("feedback.thanks", stars=stars))
    await callback.answer()


def make_router() -> Router:
    """A fresh router each call: a Router can belong to only one Dispatcher."""
    router = Router(name="reminders")
    router.callback_query.register(confirm_visit, VisitCb.filter(F.booking > 0))
    router.callback_query.register(rate, RateCb.filter())
    return router
