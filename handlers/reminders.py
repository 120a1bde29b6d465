"""Reminders as the client sees them, "I'll come", and telling the staff about a blocked bot.

services/reminders.py decides what is due and records how each delivery ended; this module only
turns a due reminder into a Telegram message and Telegram's answers into the service's terms.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from aiogram import Bot, F, Router
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from config import Settings
from database.models import Client
from handlers.callback_data import BookingCb, RateCb, VisitCb
from handlers.common import alert
from handlers.views import Shop
from services.booking import Outcome
from services.clients import ClientService
from services.container import Services
from services.reminders import DueReminder, RecipientBlocked, RetryLater, TransientError
from utils.formatting import day_long, esc, hhmm
from utils.i18n import Translations, Translator
from utils.timeutil import Clock, system_clock, to_local

logger = logging.getLogger(__name__)


def reminder_text(t: Translator, shop: Shop, reminder: DueReminder) -> str:
    local = to_local(shop.tz, reminder.start)
    lines = [
        t("reminder.title"),
        "",
        f"<b>{esc(reminder.service_name)}</b>",
        t("card.specialist", name=esc(reminder.specialist_name)),
        t("card.date", day=day_long(local.date(), t.language)),
        t("card.time", time=hhmm(local)),
    ]
    if shop.address:
        lines.append(t("contacts.address", address=esc(shop.address)))
    return "\n".join(lines)


# Cancel and Reschedule are offered only while a client could still use them: the cutoff plus
# this much time to read the message and decide (the 2-hour reminder with a 2-hour cutoff has
# none, and a button that can only say "too late" would replace the reminder's text).
CHANGE_MARGIN = timedelta(minutes=10)


def reminder_keyboard(
    t: Translator, booking_id: int, *, confirmed: bool, changeable: bool = True
) -> InlineKeyboardMarkup:
    rows = [] if confirmed else [[_button(t("reminder.come"), VisitCb(booking=booking_id))]]
    if changeable:
        rows.append(
            [
                _button(t("reminder.move"), BookingCb(action="move", booking=booking_id)),
                _button(t("reminder.cancel"), BookingCb(action="cancel", booking=booking_id)),
            ]
        )
    return InlineKeyboardMarkup(inline_keyboard=rows)


def feedback_text(t: Translator, shop: Shop, reminder: DueReminder) -> str:
    local = to_local(shop.tz, reminder.start)
    return t(
        "feedback.ask",
        service=esc(reminder.service_name),
        specialist=esc(reminder.specialist_name),
        day=day_long(local.date(), t.language),
    )


def feedback_keyboard(booking_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [_button(f"{n}★", RateCb(booking=booking_id, stars=n)) for n in range(1, 6)]
        ]
    )


def _button(text: str, data: VisitCb | BookingCb | RateCb) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=data.pack())


def make_delivery(
    bot: Bot,
    translations: Translations,
    shop: Shop,
    settings: Settings,
    clock: Clock = system_clock,
) -> Callable[[DueReminder], Awaitable[None]]:
    """The ReminderService's ``deliver``: one message, Telegram's errors in the service's terms."""

    async def deliver(reminder: DueReminder) -> None:
        t = translations(reminder.language, settings.default_language)
        if reminder.kind == "feedback":
            text, markup = feedback_text(t, shop, reminder), feedback_keyboard(reminder.booking_id)
        else:
            text = reminder_text(t, shop, reminder)
            left = reminder.start - clock()
            changeable = left >= timedelta(minutes=shop.cancel_cutoff_minutes) + CHANGE_MARGIN
            markup = reminder_keyboard(
                t, reminder.booking_id, confirmed=False, changeable=changeable
            )
        try:
            await bot.send_message(reminder.client_id, text, reply_markup=markup)
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

    return deliver


def make_unreachable_alert(
    bot: Bot, clients: ClientService, translations: Translations, settings: Settings
) -> Callable[[int], Awaitable[None]]:
    """Mark the client unreachable and tell the admin chat, once per change."""

    async def on_unreachable(client_id: int) -> None:
        if not await clients.mark_unreachable(client_id) or settings.admin_chat_id is None:
            return
        client = await clients.get(client_id)
        t = translations(settings.default_language)
        name = (client.name or client.first_name) if client else ""
        username = f" @{client.username}" if client and client.username else ""
        try:
            await bot.send_message(
                settings.admin_chat_id,
                t("reminder.client_blocked", name=esc(name), username=esc(username), id=client_id),
            )
        except Exception:  # the staff notice is best effort; the reminder row has the reason
            logger.warning(
                "could not tell the admin chat that %s is unreachable", client_id, exc_info=True
            )

    return on_unreachable


async def confirm_visit(
    callback: CallbackQuery,
    callback_data: VisitCb,
    client: Client,
    t: Translator,
    services: Services,
) -> None:
    result = await services.booking.confirm_visit(callback_data.booking, client.id)
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
    services: Services,
) -> None:
    result = await services.booking.rate(callback_data.booking, client.id, callback_data.stars)
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
